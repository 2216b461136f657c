"""Operator-level search: IREE default vs tuned vs torch (oneDNN), and search efficiency.

For each workload (fp32 matmul 512³/1024³/2048³ and the matmuls of a BERT-base layer, seq 128):

* IREE default, the best schedule each strategy found, data tiling (module flag), and torch's
  matmul with the same threads — timed side by side in one run (single-op modules);
* search efficiency: trials (and seconds) each strategy needed to reach 95 % of the best schedule
  any strategy found, with the same budget and seed.

    python benchmarks/op_search.py                       # all workloads, budget 32 per strategy
    python benchmarks/op_search.py --workloads matmul_512x512x512_f32xf32xf32 --budget 12

Random and evolutionary get a fresh in-memory database per workload. ``reuse`` (ETO-style) shares
one database across the workloads in the order given, so each workload can start from schedules of
the ones tuned before it whose extents dominate or are dominated by its own; the first workload of
a run has no donor and falls back to evolutionary search.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_WORKLOADS = [
    "matmul_512x512x512_f32xf32xf32",
    "matmul_1024x1024x1024_f32xf32xf32",
    "matmul_2048x2048x2048_f32xf32xf32",
    # BERT-base layer, seq 128 (IREE keeps torch's unit batch): QKV/out proj, FFN up, FFN down,
    # attention scores and context (12 heads).
    "batch_matmul_1x128x768x768_f32xf32xf32",
    "batch_matmul_1x128x3072x768_f32xf32xf32",
    "batch_matmul_1x128x768x3072_f32xf32xf32",
    "batch_matmul_12x128x128x64_f32xf32xf32",
    "batch_matmul_12x128x64x128_f32xf32xf32",
]


def trials_to(curve: list[float], target: float) -> int | None:
    for i, v in enumerate(curve):
        if v <= target:
            return i + 1
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS))
    ap.add_argument("--strategies", default="random,evolutionary,reuse")
    ap.add_argument("--budget", type=int, default=32, help="trials per strategy and workload")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import torch
    from rich.console import Console
    from rich.table import Table

    from mlir_opt.backend import benchmark_many, compile_module, default_threads, time_callable
    from mlir_opt.db import Database
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.evaluate import Evaluator
    from mlir_opt.ops.schedule import render_tuning_spec
    from mlir_opt.ops.tuner import tune_workloads
    from mlir_opt.report import machine_info

    threads = default_threads()
    torch.set_num_threads(threads)
    console = Console(stderr=True)
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="op_search_"))
    reuse_db = Database(":memory:")
    for key in args.workloads.split(","):
        w = Workload.from_key(key)
        found = {}
        for strat in args.strategies.split(","):
            ev = Evaluator(db=reuse_db if strat == "reuse" else Database(":memory:"), reps=5, seed=args.seed)
            t0 = time.perf_counter()
            with console.status(f"{key}: {strat} search ({args.budget} trials)"):
                res, _ = tune_workloads({key: (w, 1.0)}, strategy=strat, budget=args.budget, seed=args.seed,
                                        evaluator=ev)
            ev.close()
            found[strat] = (res[key], time.perf_counter() - t0)
        # Side-by-side timing of the finalists in one interleaved run.
        vmfbs = {}
        with console.status(f"{key}: final timing"):
            src = w.single_op_module()
            vmfbs["iree_default"] = compile_module(src, "llvm-cpu", output=tmp / f"{key}_d.vmfb").vmfb
            vmfbs["iree_data_tiling"] = compile_module(src, "llvm-cpu", output=tmp / f"{key}_dt.vmfb",
                                                       flags=["--iree-opt-data-tiling"]).vmfb
            for strat, (r, _) in found.items():
                if r.best is not None:
                    spec = tmp / f"{key}_{strat}.spec.mlir"
                    spec.write_text(render_tuning_spec([r.best]))
                    vmfbs[f"tuned_{strat}"] = compile_module(
                        src, "llvm-cpu", output=tmp / f"{key}_{strat}.vmfb",
                        flags=[f"--iree-codegen-tuning-spec-path={spec}"]).vmfb
            rng = np.random.default_rng(0)
            shapes = [tuple(int(x) for x in t[len("tensor<"):-1].split("x")[:-1]) for t in w.operand_types[:2]]
            ins = [rng.standard_normal(s).astype(np.float32) for s in shapes]
            times = benchmark_many(vmfbs, ins, reps=9, rounds=3, threads=threads)
            ta, tb = (torch.from_numpy(x) for x in ins)
            torch_t = time_callable(lambda: torch.matmul(ta, tb), reps=9)
        best_any = min(r.best_ms for r, _ in found.values() if r.best_ms)
        row = {"workload": key, "gflop": w.flops / 1e9, "torch_ms": torch_t.median_ms,
               **{f"{k}_ms": v.median_ms for k, v in times.items()}}
        for strat, (r, secs) in found.items():
            n95 = trials_to(r.best_so_far, best_any / 0.95)
            row[f"{strat}_trials_to_95"] = n95
            row[f"{strat}_seconds"] = secs
            row[f"{strat}_seconds_to_95"] = secs * n95 / max(1, len(r.best_so_far)) if n95 else None
            row[f"{strat}_best"] = r.best.describe() if r.best else None
            row[f"{strat}_failures"] = r.failures
        rows.append(row)
        console.print(f"{key}: " + ", ".join(f"{k} {v.median_ms:.3f} ms" for k, v in times.items())
                      + f", torch {torch_t.median_ms:.3f} ms")

    strats = args.strategies.split(",")
    t = Table(title=f"Operator-level search, fp32, {machine_info(threads)['cpu']}, {threads} threads, "
                    f"budget {args.budget}/strategy (median ms, side by side)")
    cols = ["workload", "IREE default", "data tiling"] + [f"tuned ({s})" for s in strats] + \
           ["torch", "best/default", "best/torch"] + [f"trials→95% {s}" for s in strats]
    for c in cols:
        t.add_column(c, justify="right")
    for r in rows:
        tuned = [r.get(f"iree_tuned_{s}_ms") or r.get(f"tuned_{s}_ms") for s in strats]
        best = min([x for x in tuned + [r["iree_default_ms"], r["iree_data_tiling_ms"]] if x])
        t.add_row(r["workload"], f"{r['iree_default_ms']:.3f}", f"{r['iree_data_tiling_ms']:.3f}",
                  *[f"{x:.3f}" if x else "-" for x in tuned], f"{r['torch_ms']:.3f}",
                  f"{r['iree_default_ms'] / best:.2f}×", f"{best / r['torch_ms']:.2f}×",
                  *[str(r[f"{s}_trials_to_95"] or "-") for s in strats])
    Console(width=220).print(t)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": machine_info(threads),
                                         "budget": args.budget, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
