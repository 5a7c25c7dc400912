#!/usr/bin/env bash
# vla3d.sh — the two quick-start commands:
#   ./vla3d.sh demo   install what is missing, then run the simulated robot with the node and the bundled model
#   ./vla3d.sh test   install what is missing, then run the whole test suite (what CI runs)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
# shellcheck source=scripts/env.sh
source scripts/env.sh
cmd="${1:-help}"; shift || true
case "$cmd" in
  install) bash scripts/install.sh ;;
  demo)
    bash scripts/install.sh
    exec bash scripts/demo.sh "$@" ;;
  test)
    bash scripts/install.sh
    go vet ./...
    unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))"
    if [ -n "$unformatted" ]; then echo "gofmt needed:"; echo "$unformatted"; exit 1; fi
    exec go test -count=1 -timeout 20m ./... "$@" ;;
  *) sed -n '2,4p' "$0"; exit 2 ;;
esac
