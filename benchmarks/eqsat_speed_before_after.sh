#!/bin/bash
# eqsat search speed before / after, one run interleaved per model:
#   base commit (unpacked with `git archive`) with EqSatSearch(), then this checkout's paths
#   (benchmarks/eqsat_speed.py --paths "$PATHS", default old,fast; e.g. PATHS=whole,fast).
#   BASE=399fff3 MODELS="bert nasrnn inception_v3" SIZE=small benchmarks/eqsat_speed_before_after.sh
#   BASE=029903b PATHS=whole,fast MODELS="bert nasrnn" benchmarks/eqsat_speed_before_after.sh
set -e
cd "$(dirname "$0")/.."
BASE=${BASE:-399fff3}
dir=$(mktemp -d)
git archive "$BASE" | tar -x -C "$dir"
trap 'rm -rf "$dir"' EXIT
date -u; uptime
set +e
first=1
for m in ${MODELS:-bert nasrnn squeezenet resnext50 inception_v3 nasnet_a resnet50 mobilenet_v2 vgg19}; do
  if [ $first = 1 ]; then h=""; first=0; else h="--no-header"; fi
  nice python benchmarks/eqsat_speed.py --models "$m" --size "${SIZE:-small}" --only base --root="$dir" $h 2>&1 | grep -v "^eqsat: keeping"
  nice python benchmarks/eqsat_speed.py --models "$m" --size "${SIZE:-small}" --paths "${PATHS:-old,fast}" --no-header 2>&1
done
date -u; uptime
