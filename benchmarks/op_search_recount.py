"""Recount the search-efficiency figures of an ``op_search.py --json`` file with this checkout's rules.

The trial logs, reuse's donors and transferred records, the re-timed medians and the donor re-timing
costs are all in the file, so :func:`mlir_opt.ops.efficiency.efficiency` can be re-run on them when
the accounting rules change (no timing is repeated). Prints, per set of the file's workloads (or all
of them) and per metric / trials counted, the per-workload random and reuse figures and the ratio
summary (median / geometric mean / total, censored).

    python benchmarks/op_search_recount.py benchmarks/results/op-search-….json --sets bert,resnet50
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's mlir_opt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", type=Path)
    ap.add_argument("--sets", default="bert,resnet50", help="group the workloads by these op_search.py sets")
    args = ap.parse_args(argv)
    from benchmarks.op_search import SETS
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.efficiency import efficiency, ratio_summary
    from mlir_opt.ops.space import fixed_schedules

    data = json.loads(args.json.read_text())
    runs = data["logs"]
    keys = [r["workload"] for r in data["rows"]]
    budget = data["budget"]
    n_fixed = {k: 1 + len(fixed_schedules(Workload.from_key(k), searched=None)) for k in keys}
    searched = {k: next((sk for sk, _, _ in runs[k]["reuse"][0][n_fixed[k]:]), None) for k in keys}
    transferred = {d: [tuple(x) for x in v] for d, v in data.get("reuse_used", {}).items()}
    retimed = {k: {(sk, tuple(sorted(dec.items()))): ms for sk, dec, ms, _ in v} for k, v in data["retimed"].items()}
    groups = {g: [k for k in keys if k in SETS[g]] for g in args.sets.split(",")}
    for metric in ("retimed", "single"):
        for mode in ("all", "search"):
            eff = efficiency(runs, keys, n_fixed=n_fixed, searched=searched, donors=data.get("reuse_donors", {}),
                             transferred=transferred, search_only=mode == "search",
                             retimed=retimed if metric == "retimed" else None,
                             retime_cost=data.get("reuse_retime_cost", {}))
            for g, ks in groups.items():
                if not ks:
                    continue
                pairs = []
                for k in ks:
                    e = eff[k]
                    pairs.append((e.get("random_expected_trials_to_95"), e.get("reuse_charged_trials_to_95"),
                                  e.get("random_cap", budget + 1), e.get("reuse_trials", 0) + 1))
                    print(f"  {metric:7} {mode:6} {k[:44]:44} random {e.get('random_expected_trials_to_95')} "
                          f"reuse {e.get('reuse_trials_to_95')}+{e.get('reuse_donor_share')}"
                          f"{' (95 % at a fixed trial)' if e.get('reuse_reached_at_fixed_trial') else ''}")
                sm = ratio_summary(pairs)
                print(f"{g} {metric} {mode}: median {sm.median or 0:.2f}x, geomean {sm.geomean or 0:.2f}x, "
                      f"total {sm.total or 0:.2f}x, censored {sm.censored} of {sm.n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
