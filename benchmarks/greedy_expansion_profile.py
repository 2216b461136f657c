"""Seconds per candidate graph of one greedy expansion (every rewrite of the input graph: clone,
rewrite, view, hash, roofline cost), optionally under cProfile.

    python benchmarks/greedy_expansion_profile.py resnet50 --size small
    python benchmarks/greedy_expansion_profile.py inception_v3 --size small --profile /tmp/inc.prof
    python benchmarks/greedy_expansion_profile.py resnet50 --off incremental_cost,fast_clone

Rule verification (IREE compiles on a cold cache, cached per rule source in ``$MLIR_OPT_CACHE_DIR``)
and the matching of the input graph are reported apart and left out of the per-candidate figure.
Run it from the checkout to measure (``PYTHONPATH=.``); run it from an older checkout for a before/after.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--size", default="small")
    ap.add_argument("--profile", help="write cProfile stats here (and print the top entries)")
    ap.add_argument("--off", default="", help="comma-separated speed switches to turn off")
    args = ap.parse_args()
    import mlir_opt
    from mlir_opt.graph.search import common
    from mlir_opt.graph.search.greedy import GreedySearch

    m = mlir_opt.load(args.model, size=args.size)
    off = {k: False for k in args.off.split(",") if k}
    search = GreedySearch(max_steps=1, time_limit_s=1e9, **off)
    t_match = [0.0]
    matches = common.Expander.matches

    def timed_matches(self, cand):  # the input graph's matching (and lazy rule verification)
        t = time.perf_counter()
        try:
            return matches(self, cand)
        finally:
            t_match[0] += time.perf_counter() - t

    common.Expander.matches = timed_matches
    prof = cProfile.Profile() if args.profile else None
    t0 = time.perf_counter()
    if prof:
        prof.enable()
    r = search.run(m)
    if prof:
        prof.disable()
    total = time.perf_counter() - t0
    n = r.stats["graphs_explored"] - 1
    per = (total - t_match[0]) / max(1, n)
    print(f"{args.model} {args.size}: {n} candidates, {total:.1f} s in all, matching+verification "
          f"{t_match[0]:.1f} s, {per:.3f} s per candidate; cost {r.cost_before!r} -> {r.cost_after!r} "
          f"{r.applied}{' (cProfile)' if prof else ''}")
    if prof:
        prof.dump_stats(args.profile)
        pstats.Stats(args.profile).sort_stats("cumulative").print_stats(30)


if __name__ == "__main__":
    main()
