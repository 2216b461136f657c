"""Incremental rule matching off -> on: search seconds, seconds spent matching, same result.

For each bundled model: greedy (at most ``--steps`` rewrites) and OCGGS (budget ``--budget``, at
most ``--graphs`` graphs), no time limit, each run with ``incremental_match=False`` and then
``True`` (everything else at its default), back to back in one process after an untimed warm-up.
Prints the search seconds, the seconds spent in ``Expander.matches`` (all rules, all candidates the
search matched), the graphs built and the final cost, and checks that both runs applied the same
rewrites and reached the same cost (the incremental matches are exact, so they must). Searches
without a time limit build the same graphs either way, so the seconds compare like for like.

    python benchmarks/incremental_match.py --size tiny --models bert,squeezenet,inception_v3,nasrnn
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="bert,squeezenet,inception_v3,nasrnn")
    ap.add_argument("--size", default="tiny", choices=["tiny", "small", "base"])
    ap.add_argument("--strategies", default="greedy,ocggs")
    ap.add_argument("--steps", type=int, default=4, help="greedy: most rewrites (default 4)")
    ap.add_argument("--budget", type=int, default=3, help="OCGGS: K (default 3)")
    ap.add_argument("--graphs", type=int, default=200, help="OCGGS: most graphs built (default 200)")
    args = ap.parse_args(argv)

    import mlir_opt
    from mlir_opt.graph.search import GreedySearch, OCGGSSearch, common

    spent = {"s": 0.0}
    matches = common.Expander.matches

    def timed(self, cand):
        if cand.matches is not None:
            return cand.matches
        t = time.perf_counter()
        try:
            return matches(self, cand)
        finally:
            spent["s"] += time.perf_counter() - t

    common.Expander.matches = timed

    def make(strategy: str, on: bool):
        if strategy == "greedy":
            return GreedySearch(max_steps=args.steps, time_limit_s=1e9, verify=False, incremental_match=on)
        return OCGGSSearch(budget=args.budget, max_graphs=args.graphs, time_limit_s=1e9, verify=False,
                           incremental_match=on)

    print(f"size={args.size}; greedy <= {args.steps} steps, OCGGS K={args.budget} <= {args.graphs} graphs; "
          f"roofline cost; incremental matching off -> on")
    print(f"{'model':>13} {'strategy':>8} {'search s':>16} {'matching s':>16} {'graphs':>11} "
          f"{'cost (µs)':>20}  same result")
    bad = 0
    for name in [s.strip() for s in args.models.split(",") if s.strip()]:
        m = mlir_opt.load(name, size=args.size)
        GreedySearch(max_steps=1, verify=False).run(m.clone())  # warm-up: imports, caches
        for strategy in [s.strip() for s in args.strategies.split(",") if s.strip()]:
            res = {}
            for on in (False, True):
                spent["s"] = 0.0
                t0 = time.perf_counter()
                r = make(strategy, on).run(m.clone())
                res[on] = (time.perf_counter() - t0, spent["s"], r)
            (t_off, m_off, r_off), (t_on, m_on, r_on) = res[False], res[True]
            same = r_off.applied == r_on.applied and r_off.cost_after == r_on.cost_after
            bad += not same
            print(f"{name:>13} {strategy:>8} {t_off:7.2f} -> {t_on:6.2f} {m_off:7.2f} -> {m_on:6.2f} "
                  f"{r_off.stats['graphs_explored']:>4} -> {r_on.stats['graphs_explored']:<4} "
                  f"{r_off.cost_after:8.2f} -> {r_on.cost_after:8.2f}  {'yes' if same else 'NO'}", flush=True)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
