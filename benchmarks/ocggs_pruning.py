"""OCGGS with and without the pruning of redundant sequences, searched to completion.

For each bundled model: OCGGS with budget K and no graph or time limit, first with pruning off,
then on (incremental hashing on in both), in one process. Prints the graphs built, the distinct
graphs visited, the rewrites pruned, the search seconds and the best cost, and checks that both
runs visited exactly the same set of distinct graphs (by structural hash) and found the same best
cost — the pruning must only remove redundant work.

    python benchmarks/ocggs_pruning.py --size tiny --models nasrnn,cnn,bert --budget 3
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="nasrnn,cnn,bert,squeezenet")
    ap.add_argument("--size", default="tiny", choices=["tiny", "small", "base"])
    ap.add_argument("--budget", type=int, default=3, help="K, the longest rewrite sequence (default 3)")
    args = ap.parse_args(argv)

    import mlir_opt
    from mlir_opt.graph.search import GreedySearch, OCGGSSearch

    print(f"OCGGS K={args.budget}, size={args.size}, no graph/time limit; pruning off -> on")
    print(f"{'model':>14} {'graphs built':>14} {'distinct':>11} {'pruned':>7} {'search s':>15} {'cost (µs)':>22}  same graphs")
    bad = 0
    for name in [s.strip() for s in args.models.split(",") if s.strip()]:
        m = mlir_opt.load(name, size=args.size)
        GreedySearch(max_steps=1).run(m.clone())  # warm-up: rule checks, imports
        res = {}
        for prune in (False, True):
            s = OCGGSSearch(budget=args.budget, prune=prune, max_graphs=10**9, time_limit_s=1e9)
            t0 = time.perf_counter()
            r = s.run(m.clone())
            res[prune] = (r, s.visited, time.perf_counter() - t0)
        (r0, v0, t0), (r1, v1, t1) = res[False], res[True]
        same = v0 == v1 and r0.cost_after == r1.cost_after
        bad += not same
        print(f"{name:>14} {r0.stats['graphs_explored']:>6} -> {r1.stats['graphs_explored']:<5} "
              f"{len(v0):>4} -> {len(v1):<4} {r1.stats['pruned_rewrites']:>7} {t0:>6.2f} -> {t1:<6.2f} "
              f"{r0.cost_after:>9.2f} -> {r1.cost_after:<9.2f}  {'yes' if same else 'NO'}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
