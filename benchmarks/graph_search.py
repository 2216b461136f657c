"""Graph-level searches side by side: search time, modelled cost reduction, measured speedup.

For each bundled model (at the chosen size) and each graph-search strategy (every entry of
``mlir_opt.graph.STRATEGIES`` but ``none``, unless ``--strategies`` names some): the search's
seconds, the rewrites it applied, the cost model's reduction, and the end-to-end latency of the
rewritten graph against IREE's default compile of the original graph, all timed interleaved in one
run on this CPU. Every rewritten graph is checked against the original first (a mismatch is
reported as WRONG, never timed). A model or strategy that fails is reported in its row; the others
still run.

    python benchmarks/graph_search.py                                  # the TENSAT set at base size
    python benchmarks/graph_search.py --size tiny --models all         # every bundled model, quick
    python benchmarks/graph_search.py --models resnext50,nasrnn --strategies greedy,ocggs --size small
    python benchmarks/graph_search.py --graph-cost measured            # IREE dispatches timed alone
    python benchmarks/graph_search.py --search-only                    # search s and modelled cost, no IREE
    python benchmarks/graph_search.py --search-only --ab --size tiny   # each search with the speed-ups off, then on
    python benchmarks/graph_search.py --search-only --ab --ab-off incremental_match --size tiny  # only that one

Published anchors (TENSAT, search s / cost reduction) are printed next to each model: BERT 1.4 s /
9.2 %, ResNeXt-50 0.7 s / 8.8 %, NasRNN 0.5 s / 68.9 %, Inception-v3 5.1 s / 10.0 %, SqueezeNet
0.3 s / 24.5 %, VGG-19 0.4 s / 8.9 %, NasNet-A 10.6 s / 7.3 %. They were measured on other
hardware with other cost models (TASO's cuDNN operator times); compare orders of magnitude.
With ``--graph-cost measured`` the search seconds include compiling and timing dispatches not yet
in the tuning database (``$MLIR_OPT_DB``), so a second run is much faster than the first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

# Use the package of this checkout (not another installed copy).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: TENSAT's figures (search seconds, cost reduction %) per bundled model name.
TENSAT = {"bert": (1.4, 9.2), "resnext50": (0.7, 8.8), "nasrnn": (0.5, 68.9), "inception_v3": (5.1, 10.0),
          "squeezenet": (0.3, 24.5), "vgg19": (0.4, 8.9), "nasnet_a": (10.6, 7.3)}
DEFAULT_MODELS = "bert,resnext50,inception_v3,squeezenet,vgg19,nasrnn,nasnet_a"


def _strategies(arg: str | None) -> list[str]:
    from mlir_opt.graph import STRATEGIES

    if not arg:
        return [s for s in STRATEGIES if s != "none"]
    names = [s.strip() for s in arg.split(",") if s.strip()]
    unknown = [s for s in names if s not in STRATEGIES]
    if unknown:
        raise SystemExit(f"error: unknown strategies {', '.join(unknown)} (available: {', '.join(STRATEGIES)})")
    return names


def _models(arg: str) -> list[str]:
    from mlir_opt.models import NAMES

    names = list(NAMES) if arg == "all" else [s.strip() for s in arg.split(",") if s.strip()]
    unknown = [s for s in names if s not in NAMES]
    if unknown:
        raise SystemExit(f"error: unknown models {', '.join(unknown)} (bundled: {', '.join(NAMES)})")
    return names


AB_OFF = " (off)"
#: the speed-up switches ``--ab`` turns off (``--ab-off`` picks some of them)
AB_SWITCHES = ("prune", "incremental", "incremental_match", "incremental_cost", "fast_clone")
_AB_CHOSEN: list[str] = list(AB_SWITCHES)


def _ab_kwargs(strat: str) -> dict:
    """Constructor arguments that switch a strategy's speed-ups off (those it accepts)."""
    import inspect

    from mlir_opt.graph import STRATEGIES

    params = inspect.signature(STRATEGIES[strat]).parameters
    return {k: False for k in _AB_CHOSEN if k in params}


def _search(label: str, cost):
    """A strategy name, or an instance with its speed-ups off for a label ending in ``AB_OFF``."""
    from mlir_opt.graph import STRATEGIES

    if not label.endswith(AB_OFF):
        return label
    strat = label[: -len(AB_OFF)]
    return STRATEGIES[strat](cost=cost, **_ab_kwargs(strat))


def run_model(name: str, strategies: list[str], args, tmp: Path, console) -> tuple[list[dict], dict]:
    """Search, check and time one model; returns its rows and its import/compile info."""
    import mlir_opt
    from mlir_opt.backend import benchmark_many, compile_module
    from mlir_opt.graph import optimize_graph
    from mlir_opt.graph.cost import CostModel
    from mlir_opt.pipeline import check_against_reference

    info: dict = {"model": name}
    with console.status(f"{name}: import"):
        t0 = time.perf_counter()
        m = mlir_opt.load(name, size=args.size)
        info["import_s"] = time.perf_counter() - t0
    vmfbs = {}
    if not args.search_only:
        with console.status(f"{name}: compile original"):
            orig = compile_module(m.bytecode(), "llvm-cpu", output=tmp / f"{name}_orig.vmfb")
            info["compile_s"] = orig.seconds
        vmfbs["original"] = orig.vmfb
    results, errors = {}, {}
    if getattr(args, "ab", False):  # paired: each search with its speed-ups off, then on, back to back
        strategies = [s for strat in strategies for s in ([f"{strat}{AB_OFF}"] if _ab_kwargs(strat) else []) + [strat]]
        from mlir_opt.graph.search import GreedySearch

        with console.status(f"{name}: warm-up"):  # one-time costs (rule checks, imports) out of the pairs
            optimize_graph(m.clone(), GreedySearch(max_steps=1))
    for strat in strategies:
        with console.status(f"{name}: {strat} search"):
            try:
                cost = None if args.graph_cost == "roofline" else CostModel(mode=args.graph_cost,
                                                                            threads=args.threads)
                r = optimize_graph(m.clone(), _search(strat, cost), cost=cost)
            except Exception as err:  # keep going: one failing strategy must not hide the others
                errors[strat] = f"{type(err).__name__}: {str(err).splitlines()[0][:120] if str(err) else ''}"
                continue
        results[strat] = r
        if r.applied and not args.search_only:
            with console.status(f"{name}: compile {strat} result"):
                res = compile_module(r.model.bytecode(), "llvm-cpu", output=tmp / f"{name}_{strat}.vmfb",
                                     raise_on_error=False)
            if res.ok:
                vmfbs[strat] = res.vmfb
            else:
                errors[strat] = f"rewritten graph does not compile: {res.error}"
    if args.search_only:  # no IREE: search seconds and modelled cost only
        nan = type("NaNTime", (), {"median_ms": float("nan")})()
        chk, good, times = {}, {}, {"original": nan}
    else:
        with console.status(f"{name}: check and time"):
            chk = check_against_reference(m, vmfbs, reference_key="original", seeds=(0,))
            good = {k: v for k, v in vmfbs.items() if k == "original" or chk[k]["ok"]}
            times = benchmark_many(good, m.random_inputs(0), entry=m.entry, reps=args.reps, rounds=3,
                                   threads=args.threads)
    base = times["original"].median_ms
    rows = []
    for strat in strategies:
        row = {"model": name, "strategy": strat, "original_ms": base, "anchor": TENSAT.get(name)}
        if strat in errors and strat not in results:
            rows.append({**row, "error": errors[strat]})
            continue
        r = results[strat]
        key = strat if strat in good else "original"
        row.update({"search_s": r.stats.get("seconds"), "graphs": r.stats.get("graphs_explored"),
                    "distinct_graphs": r.stats.get("distinct_graphs"), "pruned": r.stats.get("pruned_rewrites"),
                    "applied": r.applied, "cost_unit": r.stats.get("cost_unit"),
                    "cost_before": r.cost_before, "cost_after": r.cost_after,
                    "cost_reduction": 1 - r.cost_after / r.cost_before if r.cost_before else 0.0,
                    "optimized_ms": times[key].median_ms, "speedup": base / times[key].median_ms,
                    "max_rel_error": chk.get(strat, {}).get("max_rel_error", 0.0),
                    "ok": strat not in vmfbs or chk[strat]["ok"], "error": errors.get(strat)})
        rows.append(row)
    return rows, info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=DEFAULT_MODELS, help=f"comma-separated bundled models, or 'all' "
                                                             f"(default: {DEFAULT_MODELS})")
    ap.add_argument("--strategies", default=None,
                    help="comma-separated strategies (default: every one in mlir_opt.graph.STRATEGIES but none)")
    ap.add_argument("--size", default="base", choices=["tiny", "small", "base"])
    ap.add_argument("--graph-cost", default="roofline", choices=["roofline", "measured", "whole"],
                    help="the searches' cost model (default: roofline)")
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--search-only", action="store_true",
                    help="skip compiling, checking and timing: search seconds and modelled cost only")
    ap.add_argument("--ab", action="store_true",
                    help="run each search twice back to back, first with its speed-ups (pruning, incremental "
                         "hashing, incremental matching) switched off — rows labelled '(off)' — then as configured")
    ap.add_argument("--ab-off", default=",".join(AB_SWITCHES),
                    help=f"with --ab: which switches the '(off)' run turns off (comma-separated of "
                         f"{', '.join(AB_SWITCHES)}; default all)")
    args = ap.parse_args(argv)
    chosen = [k.strip() for k in args.ab_off.split(",") if k.strip()]
    if any(k not in AB_SWITCHES for k in chosen) or not chosen:
        raise SystemExit(f"error: --ab-off takes some of {', '.join(AB_SWITCHES)}")
    _AB_CHOSEN[:] = chosen
    strategies, models = _strategies(args.strategies), _models(args.models)

    from rich.console import Console
    from rich.table import Table

    from mlir_opt.backend import default_threads
    from mlir_opt.report import machine_info

    console = Console(stderr=True)
    tmp = Path(tempfile.mkdtemp(prefix="graph_search_"))
    rows, infos = [], []
    for name in models:
        try:
            r, info = run_model(name, strategies, args, tmp, console)
        except Exception as err:
            r, info = [{"model": name, "strategy": "-", "error": f"{type(err).__name__}: {err}"[:160]}], {"model": name}
        rows += r
        infos.append(info)
        console.print(f"{name}: import {info.get('import_s', float('nan')):.1f} s, "
                      f"IREE compile {info.get('compile_s', float('nan')):.1f} s")
    threads = args.threads or default_threads()
    t = Table(title=f"Graph search, size={args.size}, cost={args.graph_cost}, {machine_info(threads)['cpu']}, "
                    f"{threads} threads (median ms, interleaved)")
    for c in ("model", "strategy", "search s", "graphs", "rewrites", "cost red.", "original ms", "rewritten ms",
              "speedup", "rel.err", "TENSAT s / red."):
        t.add_column(c, justify="right")
    for r in rows:
        anchor = f"{r['anchor'][0]} / {r['anchor'][1]} %" if r.get("anchor") else "-"
        if "search_s" not in r:
            t.add_row(r["model"], r["strategy"], "-", "-", f"error: {r['error']}", "-",
                      f"{r['original_ms']:.3f}" if "original_ms" in r else "-", "-", "-", "-", anchor)
            continue
        rel = f"{r['max_rel_error']:.1e}" + ("" if r["ok"] else " WRONG") + (" (!)" if r.get("error") else "")
        t.add_row(r["model"], r["strategy"], f"{r['search_s']:.2f}", str(r["graphs"]),
                  f"{len(r['applied'])} ({', '.join(sorted(set(r['applied'])))})" if r["applied"] else "0",
                  f"{100 * r['cost_reduction']:.1f} %", f"{r['original_ms']:.3f}", f"{r['optimized_ms']:.3f}",
                  f"{r['speedup']:.3f}×", rel, anchor)
    Console(width=220).print(t)
    for r in rows:
        if r.get("error") and "search_s" in r:
            print(f"note: {r['model']}/{r['strategy']}: {r['error']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": machine_info(threads),
                                         "size": args.size, "graph_cost": args.graph_cost, "models": infos,
                                         "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
