#!/bin/bash
# A/B of the sequence searches' speed switches (incremental_cost, fast_clone) on big graphs, one
# model per process so that partial results survive; appends to $OUT (default: a dated file).
# Usage: bash benchmarks/seq_speed_ab.sh [size] [strategies] [models...]
SIZE=${1:-small}; STRATS=${2:-greedy}; shift 2 2>/dev/null
MODELS=${@:-bert nasrnn resnet50 resnext50 inception_v3}
OUT=${OUT:-benchmarks/results/graph-search-speed-$(date -u +%F).txt}
for m in $MODELS; do
  echo "=== $m $SIZE $STRATS (load: $(cut -d' ' -f1-3 /proc/loadavg)) $(date -u +%T)" >> "$OUT"
  PYTHONPATH=. COLUMNS=200 python benchmarks/graph_search.py --search-only --ab --ab-off incremental_cost,fast_clone \
    --strategies "$STRATS" --size "$SIZE" --models "$m" >> "$OUT" 2>&1
done
