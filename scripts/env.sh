# env.sh — environment shared by every vla3d script and test run (source it).
VLA3D_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export VLA3D_ROOT
# ONNX Runtime CPU library installed by scripts/install.sh (override to use a GPU build).
export VLA3D_ORT_LIB="${VLA3D_ORT_LIB:-$VLA3D_ROOT/.deps/onnxruntime/libonnxruntime.so.1}"
# GoMLX: the pure-Go backend with an unbounded worker pool (the bounded default deadlocks its parallel
# scheduler; policy/model/scheduler_note.md), for GoMLX tools that read it; vla3d-train takes -backend
# (same default).
export GOMLX_BACKEND="${GOMLX_BACKEND:-go:parallelism=-1}"
# MuJoCo offscreen rendering on the CPU.
export MUJOCO_GL="${MUJOCO_GL:-osmesa}"
export CGO_ENABLED=1
