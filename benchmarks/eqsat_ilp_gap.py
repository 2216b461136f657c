"""eqsat's ILP objective against analyze()'s cost of the graph it extracts, per bundled model.

For each model and roofline preset: runs the e-graph part of ``EqSatSearch`` (saturate, extract,
realize; no layout stage) and prints the ILP objective, ``analyze()`` of the realized extraction, their
difference (µs and in launches of the preset), the applied rewrites and the search seconds.
``--roundtrip`` extracts with no rules (the input graph itself).

    PYTHONPATH=. python benchmarks/eqsat_ilp_gap.py --models bert,cnn,nasrnn --size tiny
    PYTHONPATH=. python benchmarks/eqsat_ilp_gap.py --size small --targets cuda,llvm-cpu
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from eqsat_speed import load  # noqa: E402  (the bytecode-cached zoo loader; benchmarks/ is sys.path[0])

ZOO = "bert,cnn,nasrnn,squeezenet,resnext50,inception_v3,vgg19,nasnet_a,mobilenet_v2"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=ZOO)
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--targets", default="cuda,llvm-cpu")
    ap.add_argument("--roundtrip", action="store_true", help="no rules: extract the input graph")
    args = ap.parse_args(argv)
    from mlir_opt.graph.cost import Roofline
    from mlir_opt.graph.search.eqsat import EqSatSearch

    print(f"# {' '.join(sys.argv)}")
    print(f"{'model':>13} {'target':>8} {'ilp us':>10} {'analyze us':>10} {'diff us':>9} {'launches':>8} "
          f"{'search s':>8}  rewrites")
    for name in args.models.split(","):
        m = load(name, args.size)
        for t in args.targets.split(","):
            rf = Roofline.for_target(t)
            s = EqSatSearch(rules=[] if args.roundtrip else None, roofline=rf)
            t0 = time.perf_counter()
            res = s._run_egraph(m, target=t)
            dt = time.perf_counter() - t0
            st = res.stats
            ilp, ana = st.get("ilp_objective_us"), st.get("extracted_cost")
            if ilp is None or ana is None:
                print(f"{name:>13} {t:>8} failed: {st.get('kept_input')}")
                continue
            rw = ", ".join(f"{k}×{v}" for k, v in sorted(Counter(res.applied).items()))
            print(f"{name:>13} {t:>8} {ilp:10.3f} {ana:10.3f} {ilp - ana:9.3f} {(ilp - ana) / rf.dispatch_us:8.2f} "
                  f"{dt:8.2f}  {rw}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
