"""Graph-level searches side by side: search time, modelled cost reduction, measured speedup.

For each bundled model (at the chosen size) and each strategy: the search's seconds, the rewrites it
applied, the roofline cost reduction, and the end-to-end latency of the rewritten graph against
IREE's default compile of the original, all timed interleaved in one run on this CPU. Every
rewritten graph is checked against the original first (a mismatch is reported, never timed).

    python benchmarks/graph_search.py                 # bert, cnn at base size
    python benchmarks/graph_search.py --size tiny     # quick
    python benchmarks/graph_search.py --search-only   # search seconds and modelled cost only (no IREE)

Published anchors (TENSAT, search s / cost reduction): BERT 1.4 s / 9.2 %, ResNeXt-50 0.7 s /
8.8 %, NasRNN 0.5 s / 68.9 %, Inception-v3 5.1 s / 10.0 %, SqueezeNet 0.3 s / 24.5 %.
The zoo models of issue #4 (ResNeXt-50, Inception-v3, SqueezeNet, NasRNN, NasNet-A) are not bundled yet.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="bert,cnn")
    ap.add_argument("--strategies", default="greedy,backtrack,ocggs,eqsat")
    ap.add_argument("--size", default="base", choices=["tiny", "small", "base"])
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--search-only", action="store_true",
                    help="skip compiling, checking and timing: search seconds and modelled cost only")
    args = ap.parse_args(argv)

    from rich.console import Console
    from rich.table import Table

    import mlir_opt
    from mlir_opt.backend import benchmark_many, compile_module, default_threads
    from mlir_opt.graph import optimize_graph
    from mlir_opt.pipeline import check_against_reference
    from mlir_opt.report import machine_info

    console = Console(stderr=True)
    tmp = Path(tempfile.mkdtemp(prefix="graph_search_"))
    rows = []
    for name in args.models.split(","):
        with console.status(f"{name}: import"):
            m = mlir_opt.load(name, size=args.size)
        if not args.search_only:
            vmfbs = {"original": compile_module(m.bytecode(), "llvm-cpu", output=tmp / f"{name}_orig.vmfb").vmfb}
        results = {}
        for strat in args.strategies.split(","):
            with console.status(f"{name}: {strat} search"):
                r = optimize_graph(m.clone(), strat)
            results[strat] = r
            if args.search_only:
                rows.append({"model": name, "strategy": strat, "search_s": r.stats.get("seconds"),
                             "graphs": r.stats.get("graphs_explored"), "applied": r.applied,
                             "cost_reduction": 1 - r.cost_after / r.cost_before if r.cost_before else 0.0,
                             "original_ms": float("nan"), "optimized_ms": float("nan"), "speedup": float("nan"),
                             "max_rel_error": float("nan"), "ok": True})
            elif r.applied:
                vmfbs[strat] = compile_module(r.model.bytecode(), "llvm-cpu", output=tmp / f"{name}_{strat}.vmfb").vmfb
        if args.search_only:
            continue
        with console.status(f"{name}: check and time"):
            chk = check_against_reference(m, vmfbs, reference_key="original", seeds=(0,))
            good = {k: v for k, v in vmfbs.items() if k == "original" or chk[k]["ok"]}
            times = benchmark_many(good, m.random_inputs(0), entry=m.entry, reps=args.reps, rounds=3)
        base = times["original"].median_ms
        for strat, r in results.items():
            key = strat if strat in good else "original"
            rows.append({"model": name, "strategy": strat, "search_s": r.stats.get("seconds"),
                         "graphs": r.stats.get("graphs_explored"), "applied": r.applied,
                         "cost_reduction": 1 - r.cost_after / r.cost_before if r.cost_before else 0.0,
                         "original_ms": base, "optimized_ms": times[key].median_ms,
                         "speedup": base / times[key].median_ms,
                         "max_rel_error": chk.get(strat, {}).get("max_rel_error", 0.0),
                         "ok": strat not in vmfbs or chk[strat]["ok"]})
    t = Table(title=f"Graph search, size={args.size}, {machine_info(default_threads())['cpu']}, "
                    f"{default_threads()} threads (median ms, interleaved)")
    for c in ("model", "strategy", "search s", "graphs", "rewrites", "cost red.", "original ms", "rewritten ms",
              "speedup", "rel.err"):
        t.add_column(c, justify="right")
    for r in rows:
        t.add_row(r["model"], r["strategy"], f"{r['search_s']:.2f}", str(r["graphs"]),
                  f"{len(r['applied'])} ({', '.join(sorted(set(r['applied'])))})" if r["applied"] else "0",
                  f"{100 * r['cost_reduction']:.1f} %", f"{r['original_ms']:.3f}", f"{r['optimized_ms']:.3f}",
                  f"{r['speedup']:.3f}×", f"{r['max_rel_error']:.1e}" + ("" if r["ok"] else " WRONG"))
    Console(width=200).print(t)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": machine_info(default_threads()),
                                         "size": args.size, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
