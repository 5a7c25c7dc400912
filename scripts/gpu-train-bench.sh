#!/usr/bin/env bash
# gpu-train-bench.sh — training throughput on a CUDA machine through GoMLX's
# XLA backend, against the pure-Go backend on the same machine.
#
# No CUDA PJRT plugin can be downloaded here, so this uses the one a JAX
# installation ships (jax-cuda13-plugin: jax_plugins/xla_cuda13/xla_cuda_plugin.so)
# and the NVIDIA libraries installed beside it. Prepare on a build machine:
#   go build -tags xla -o .gpu/vla3d-train-xla ./cmd/vla3d-train
#   bin/vla3d-sim record -episodes 4 -width 96 -height 96 -compression lz4 -out .gpu/demos
# then run this script on the GPU machine from the repository root.
set -uo pipefail
B="${B:-.gpu/vla3d-train-xla}"
DATA="${DATA:-.gpu/demos}"
OUT="${OUT:-/tmp}"
nvidia-smi -L
SP=$(python3 -c 'import jax_plugins.xla_cuda13 as m,os;print(os.path.dirname(m.__file__))')
NV=$(dirname "$(dirname "$SP")")/nvidia
mkdir -p /tmp/pjrt-plugins
# go-xla finds plugins by file name pattern pjrt_c_api_<name>_plugin.so.
ln -sf "$SP/xla_cuda_plugin.so" /tmp/pjrt-plugins/pjrt_c_api_cuda_plugin.so
export PJRT_PLUGIN_LIBRARY_PATH=/tmp/pjrt-plugins GOMLX_NO_AUTO_INSTALL=1 GOPJRT_CUDA_CHECKS=0
LD_LIBRARY_PATH=$(ls -d "$NV"/*/lib | tr '\n' :)${LD_LIBRARY_PATH:-}
export LD_LIBRARY_PATH
NVCC="$NV/cuda_nvcc"; [ -d "$NVCC" ] || NVCC=/usr/local/cuda
export XLA_FLAGS="--xla_gpu_cuda_data_dir=$NVCC"
timeout 200 "$B" bench -data "$DATA" -out /tmp/gpu-bench -rows baseline,C -bench-steps 10 -batch 8 -backend xla:cuda 2>&1 \
  | grep '^{"row"' | tee "$OUT/gpu.txt"
timeout 150 "$B" bench -data "$DATA" -out /tmp/cpu-bench -rows baseline,C -bench-steps 3 -batch 8 -backend go:parallelism=-1 2>&1 \
  | grep '^{"row"' | tee "$OUT/cpu.txt"
