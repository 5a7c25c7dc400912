#!/usr/bin/env bash
# fault-injection.sh — break one input or peer at a time on a live vla3d node over a real roscore and
# print, per fault, the time until the node held and whether it recovered; fails if any command left
# the workspace or the speed limit, or the node did not exit when the master shut it down.
#   scripts/fault-injection.sh [SECONDS_PER_FAULT]     (default 3; CI runs it at 1.5 inside go test)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/env.sh
source scripts/env.sh
bash scripts/install.sh >&2
VLA3D_FAULT_SECONDS="${1:-3}" exec go test -count=1 -run '^TestFaultInjection$' -v ./node/
