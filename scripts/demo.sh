#!/usr/bin/env bash
# demo.sh — the main job on embedded defaults, over ROS 2 (no ROS
# installation needed: both processes are DDS participants): the MuJoCo
# simulated robot (vla3d-sim node) and the policy node (vla3d-node) running
# the bundled 3DVLA model through ONNX Runtime, localhost only
# (ROS_LOCALHOST_ONLY=1: no DDS traffic leaves the machine). After DURATION
# seconds (default 60) it stops both with SIGINT (the node publishes a stop)
# and prints the command rate, one command, the node's diagnostics and the
# simulator's episodes: attempted and succeeded. Episodes start at SEED
# (default 200000: layouts the bundled model, trained on recordings from
# seed 0, never saw). The bundled model is the trained pick-and-place policy
# in models/pick_place (its README: how it was trained, what it scores).
# `./vla3d.sh demo ros1` runs the roslaunch version.
#
#   ./vla3d.sh demo                          # 60 s, pick-and-place, no perturbation
#   DURATION=60 TASK=stack SPLIT=camera ./vla3d.sh demo
#   MODEL=/path/model.onnx ./vla3d.sh demo
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
if [ "${1:-}" = ros1 ]; then shift; exec bash scripts/demo_ros1.sh "$@"; fi
DURATION="${DURATION:-60}"
# Episodes as long as vla3d-sim eval's (150 control steps), so the report
# compares with the measured success rate.
MAX_STEPS="${MAX_STEPS:-150}"
MODEL="${MODEL:-$VLA3D_ROOT/models/pick_place/model.onnx}"
SEED="${SEED:-200000}"
TASK="${TASK:-pick_place}"
SPLIT="${SPLIT:-none}"
HZ="${HZ:-10}"
NODE_ARGS="${NODE_ARGS:-}" # more vla3d-node flags, e.g. "--mode replan"

echo "[demo] building binaries into bin/" >&2
go build -o bin/ ./cmd/...

work="$(mktemp -d)"
export ROS_LOCALHOST_ONLY=1 ROS_AUTOMATIC_DISCOVERY_RANGE=LOCALHOST
export ROS_DOMAIN_ID="${ROS_DOMAIN_ID:-0}"
echo "[demo] ROS 2 (DDS, localhost only, domain $ROS_DOMAIN_ID): vla3d-sim node + vla3d-node (model $MODEL, ${DURATION}s)" >&2
bin/vla3d-sim node --transport ros2 --model "$MODEL" --task "$TASK" --split "$SPLIT" --seed "$SEED" --hz "$HZ" --max-steps "$MAX_STEPS" --auto-reset "$@" > "$work/sim.log" 2>&1 &
sim_pid=$!
bin/vla3d-node --transport ros2 --config launch/vla3d_node.yaml --model "$MODEL" --rate "$HZ" $NODE_ARGS > "$work/node.log" 2>&1 &
node_pid=$!
stop() {
  kill -INT "$node_pid" 2>/dev/null || true; wait "$node_pid" 2>/dev/null || true
  kill -INT "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true
}
trap stop EXIT

# Wait for the node's commands to flow, then measure their rate.
for _ in $(seq 1 30); do
  if bin/vla3d-topic hz --duration 1s /vla3d/command_pose geometry_msgs/PoseStamped >/dev/null 2>&1; then break; fi
done
echo "[demo] command rate (vla3d-topic hz /vla3d/command_pose, 5 s):" >&2
bin/vla3d-topic hz --duration 5s /vla3d/command_pose geometry_msgs/PoseStamped || echo "  no commands seen" >&2
echo "[demo] one command:" >&2
bin/vla3d-topic echo --duration 5s /vla3d/command_pose geometry_msgs/PoseStamped | sed -n '1,16p' || true
echo "[demo] node diagnostics:" >&2
bin/vla3d-topic echo --duration 5s /diagnostics diagnostic_msgs/DiagnosticArray \
  | grep -E '^ +(- )?(key|value): ' | sed -E 's/^ +(- )?(key|value): //' | paste -d' ' - - | sed -n '1,40p' || true

remaining=$((DURATION - 15)); [ "$remaining" -gt 0 ] && sleep "$remaining"
stop
trap - EXIT
echo "[demo] episodes reported by the simulator:" >&2
grep -iE 'episode' "$work/sim.log" | tail -10 || true
ended="$(grep -c 'episode ended' "$work/sim.log" || true)"
won="$(grep 'episode ended' "$work/sim.log" | grep -c '"success": true' || true)"
echo "[demo] episodes finished: $ended, succeeded: $won (seeds from $SEED, ${DURATION}s)" >&2
grep -i 'stop command' "$work/node.log" | tail -1 || true
echo "[demo] logs: $work/sim.log $work/node.log" >&2
