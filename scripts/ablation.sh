#!/usr/bin/env bash
# ablation.sh — the paper's ablation as one command: records the scripted
# expert's demonstrations, trains (or, where a run already has its model,
# loads) every row, and evaluates them all closed loop on the same held-out
# seeds, printing the success table (markdown) and writing it with a bar
# chart to $OUT/table (ablation.md, ablation.json, ablation.png).
#
#   bash scripts/ablation.sh                      # the defaults below
#   ROWS="baseline baseline+anchors C+anchors" SPLITS=all EPISODES=50 bash scripts/ablation.sh
#
# Rows: baseline, A, B, C (the paper's rows), each with "+anchors" for the
# instance anchors (-anchors 2). Rows A–C start from the "baseline+anchors"
# run when it is among the rows (-init: the 3D modules are plugged into a
# trained base policy, as in the paper). Seeds: recordings 0..DEMOS-1,
# validation 100000.., evaluation EVAL_SEED.. — disjoint.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
OUT="${OUT:-runs/ablation}"
DEMOS="${DEMOS:-320}"
ROWS="${ROWS:-baseline baseline+anchors C+anchors}"
TASKS="${TASKS:-pick_place}"
SPLITS="${SPLITS:-none}"
EPISODES="${EPISODES:-50}"
EVAL_SEED="${EVAL_SEED:-200000}"
STEPS="${STEPS:-5000}"          # stage-1 steps of a row from scratch
RESTART_STEPS="${RESTART_STEPS:-10000}" # then a warm restart of the baseline rows (lr 5e-4; 0: none)
WARM_STEPS="${WARM_STEPS:-1000}" # per-stage steps of a warm-started row
go build -o bin/ ./cmd/...
mkdir -p "$OUT"
if [ ! -d "$OUT/demos" ]; then
  bin/vla3d-sim record -episodes "$DEMOS" -width 96 -height 96 -dart 0.007 -out "$OUT/demos" > "$OUT/record.json"
fi
models=""
for row in $ROWS; do
  dir="$OUT/${row//+/_}"
  if [ ! -f "$dir/model.onnx" ]; then
    base="${row%+anchors}"; anchors=0; [ "$base" != "$row" ] && anchors=2
    args=(-data "$OUT/demos" -out "$dir" -cache "$OUT/cache" -row "$base" -anchors "$anchors" -batch 8 -lr 1e-3 -min-lr 1e-5 -quiet)
    if [ "$base" = baseline ]; then
      args+=(-stage 1 -steps "$STEPS" -warmup 300)
    elif [[ " $ROWS " == *" baseline+anchors "* ]] && [ "$anchors" = 2 ]; then
      args+=(-init "$OUT/baseline_anchors" -steps "$WARM_STEPS" -warmup 100 -lr 5e-4)
    else
      args+=(-steps "$STEPS" -warmup 300)
    fi
    [ "$base" = A ] && args+=(-stage 1)
    if [ "$base" = baseline ] && [ "$RESTART_STEPS" -gt 0 ]; then
      # models/pick_place/README.md: 5,000 steps, then a warm restart for
      # 10,000 more took Baseline + anchors from 0/50 to 45/50.
      echo "[ablation] training $row: bin/vla3d-train ${args[*]} -out $dir.first" >&2
      bin/vla3d-train "${args[@]}" -out "$dir.first" 2> "$dir.first.log"
      args+=(-init "$dir.first" -steps "$RESTART_STEPS" -warmup 200 -lr 5e-4)
    fi
    echo "[ablation] training $row: bin/vla3d-train ${args[*]}" >&2
    bin/vla3d-train "${args[@]}" 2> "$dir.log"
    bin/vla3d-train export -out "$dir" >&2
  fi
  models="${models:+$models,}$row=$dir/model.onnx"
done
bin/vla3d-sim ablation -models "$models" -tasks "$TASKS" -splits "$SPLITS" -episodes "$EPISODES" -seed "$EVAL_SEED" -out "$OUT/table"
