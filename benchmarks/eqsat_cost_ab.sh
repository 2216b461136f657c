#!/bin/sh
# eqsat on the small zoo, this checkout against another (default: the base of branch eqcost, 68ec759),
# model by model, interleaved (BASE then this), default EqSatSearch() in each: search seconds, phases,
# ILP objective and the applied rewrites (benchmarks/eqsat_speed.py --only base).
#   BASE=/path/to/other/checkout sh benchmarks/eqsat_cost_ab.sh [models]
BASE=${BASE:-$MLIR_OPT_CACHE_DIR/base}
MODELS=${1:-bert,nasrnn,squeezenet,resnext50,inception_v3,vgg19,nasnet_a,mobilenet_v2,resnet50}
HERE=$(cd "$(dirname "$0")/.." && pwd)
for m in $(echo "$MODELS" | tr , ' '); do
  echo "== $m base ($BASE)"
  python "$HERE/benchmarks/eqsat_speed.py" --models "$m" --size small --only base --root="$BASE" --no-header
  echo "== $m this ($HERE)"
  python "$HERE/benchmarks/eqsat_speed.py" --models "$m" --size small --only base --root="$HERE" --no-header
done
