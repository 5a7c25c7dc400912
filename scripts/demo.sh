#!/usr/bin/env bash
# demo.sh — the main job on embedded defaults (filled in as the pieces land).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
echo "demo: not yet available" >&2
exit 1
