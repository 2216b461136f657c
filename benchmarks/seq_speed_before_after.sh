#!/bin/bash
# Sequence-search speed, an older revision against this checkout, back to back per model (one
# process each): benchmarks/graph_search.py --search-only for REV (extracted with git archive into a
# temporary folder) and then for the working tree. Appends to $OUT (default: a dated file).
# Usage: bash benchmarks/seq_speed_before_after.sh REV [size] [strategies] [models...]
REV=${1:?usage: seq_speed_before_after.sh REV [size] [strategies] [models...]}; SIZE=${2:-small}
STRATS=${3:-greedy}; shift 3 2>/dev/null
MODELS=${@:-nasrnn resnet50}
OUT=${OUT:-$PWD/benchmarks/results/graph-search-speed-$(date -u +%F).txt}
BASE=$(mktemp -d); trap 'rm -rf "$BASE"' EXIT
git archive "$REV" mlir_opt benchmarks | tar -x -C "$BASE"
for m in $MODELS; do
  for side in before after; do
    dir=$BASE; [ $side = after ] && dir=$PWD
    echo "=== $m $SIZE $STRATS $side ($([ $side = before ] && echo "$REV" || echo worktree)) (load: $(cut -d' ' -f1-3 /proc/loadavg)) $(date -u +%T)" >> "$OUT"
    (cd "$dir" && PYTHONPATH=. COLUMNS=200 python benchmarks/graph_search.py --search-only \
      --strategies "$STRATS" --size "$SIZE" --models "$m" >> "$OUT" 2>&1)
  done
done
