#!/usr/bin/env bash
# demo_ros1.sh — the demo over ROS 1 (./vla3d.sh demo ros1): roslaunch starts a ROS master,
# the MuJoCo simulated robot (vla3d-sim) and the policy node (vla3d-node)
# running the bundled trained 3DVLA model (models/pick_place/model.onnx) through
# ONNX Runtime; after DURATION seconds (default 60) it stops them with SIGINT
# (the node publishes a stop) and prints what the node reported.
#
#   ./vla3d.sh demo ros1                 # 60 s from held-out seed 200000, pick-and-place, no perturbation
#   DURATION=60 ./vla3d.sh demo ros1 task:=stack split:=camera
#   MODEL=/path/model.onnx ./vla3d.sh demo
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
DURATION="${DURATION:-60}"
SEED="${SEED:-200000}"      # held-out layouts, as the ROS 2 demo
MAX_STEPS="${MAX_STEPS:-150}" # vla3d-sim eval's episode length
MODEL="${MODEL:-$VLA3D_ROOT/models/pick_place/model.onnx}"

echo "[demo] building binaries into bin/" >&2
go build -o bin/ ./cmd/...

work="$(mktemp -d)"
port="$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export ROS_HOME="$work" ROS_LOG_DIR="$work/log" ROS_IP=127.0.0.1 ROS_MASTER_URI="http://127.0.0.1:$port"
export ROS_PACKAGE_PATH="$VLA3D_ROOT/launch${ROS_PACKAGE_PATH:+:$ROS_PACKAGE_PATH}"
export VLA3D_BIN_DIR="$VLA3D_ROOT/bin"

echo "[demo] roslaunch vla3d sim_with_node.launch (master on port $port, model $MODEL, ${DURATION}s)" >&2
/usr/bin/python3 "$(command -v roslaunch)" -p "$port" vla3d sim_with_node.launch model:="$MODEL" \
  sim_args:="--seed $SEED --max-steps $MAX_STEPS" "$@" \
  > "$work/launch.log" 2>&1 &
launch_pid=$!
trap 'kill -INT $launch_pid 2>/dev/null || true; wait $launch_pid 2>/dev/null || true' EXIT

# Wait for the node's commands to flow, then measure their rate with the real rostopic tool.
for _ in $(seq 1 60); do
  if rostopic list 2>/dev/null | grep -q '^/vla3d/command_pose$'; then break; fi
  sleep 1
done
sleep 3
echo "[demo] command rate (rostopic hz /vla3d/command_pose, 5 s):" >&2
hz="$(timeout 6 rostopic hz /vla3d/command_pose 2>&1 || true)"
grep -m1 'average rate' <<<"$hz" || echo "  no commands seen" >&2
echo "[demo] one command:" >&2
timeout 5 rostopic echo -n 1 /vla3d/command_pose 2>&1 | sed -n '1,16p' || true
echo "[demo] node diagnostics:" >&2
diag="$(timeout 5 rostopic echo -n 1 /diagnostics 2>&1 || true)"
grep -E '^ +(key|value): ' <<<"$diag" | sed -E 's/^ +(key|value): //' | paste -d' ' - - | sed -n '1,40p' || true

remaining=$((DURATION - 15)); [ "$remaining" -gt 0 ] && sleep "$remaining"
kill -INT "$launch_pid" 2>/dev/null || true
wait "$launch_pid" 2>/dev/null || true
trap - EXIT
echo "[demo] episodes reported by the simulator:" >&2
grep -iE 'episode|success' "$work/launch.log" | tail -10 || true
grep -i 'stop command' "$work/launch.log" | tail -1 || true
echo "[demo] full log: $work/launch.log" >&2
