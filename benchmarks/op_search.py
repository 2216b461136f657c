"""Operator-level search: IREE default vs tuned vs torch (oneDNN), and search efficiency.

For each workload (sets: ``matmul`` = fp32 matmul 512³/1024³/2048³, ``bert`` = the matmuls of a
BERT-base layer, seq 128, ``resnet50`` = the 23 distinct convolutions of ResNet-50 at 224×224,
batch 1, NCHW as torch exports them, input extents after padding):

* IREE default, the best schedule each strategy found, the module-level alternative (data tiling
  for matmuls, the img2col pre-pass for convs), and torch (oneDNN) with the same threads — timed
  side by side in one run (single-op modules);
* search efficiency: trials (and seconds) each strategy needed to reach 95 % of the best schedule
  any strategy found, with the same budget and seed.

    python benchmarks/op_search.py                       # matmul + bert sets, budget 32 per strategy
    python benchmarks/op_search.py --set resnet50 --budget 32
    python benchmarks/op_search.py --set resnet50 --quick --budget 4   # 3 convs, a smoke run
    python benchmarks/op_search.py --set resnet50 --layout nhwc --sketch transform_script
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

SETS = {
    "matmul": [
        "matmul_512x512x512_f32xf32xf32",
        "matmul_1024x1024x1024_f32xf32xf32",
        "matmul_2048x2048x2048_f32xf32xf32",
    ],
    # BERT-base layer, seq 128 (IREE keeps torch's unit batch): QKV/out proj, FFN up, FFN down,
    # attention scores and context (12 heads).
    "bert": [
        "batch_matmul_1x128x768x768_f32xf32xf32",
        "batch_matmul_1x128x3072x768_f32xf32xf32",
        "batch_matmul_1x128x768x3072_f32xf32xf32",
        "batch_matmul_12x128x128x64_f32xf32xf32",
        "batch_matmul_12x128x64x128_f32xf32xf32",
    ],
    # ResNet-50 (torchvision, 224x224, batch 1): every distinct conv, N x H x W x C (padded input)
    # x KH x KW x F, in network order (stem, then layer1..layer4: 1x1 reduce, 3x3, 1x1 expand,
    # downsample).
    "resnet50": ["conv2d_nchw_fchw_" + s for s in (
        "1x230x230x3x7x7x64_s2_f32",
        "1x56x56x64x1x1x64_s1_f32", "1x58x58x64x3x3x64_s1_f32", "1x56x56x64x1x1x256_s1_f32",
        "1x56x56x256x1x1x64_s1_f32",
        "1x56x56x256x1x1x128_s1_f32", "1x58x58x128x3x3x128_s2_f32", "1x28x28x128x1x1x512_s1_f32",
        "1x56x56x256x1x1x512_s2_f32", "1x28x28x512x1x1x128_s1_f32", "1x30x30x128x3x3x128_s1_f32",
        "1x28x28x512x1x1x256_s1_f32", "1x30x30x256x3x3x256_s2_f32", "1x14x14x256x1x1x1024_s1_f32",
        "1x28x28x512x1x1x1024_s2_f32", "1x14x14x1024x1x1x256_s1_f32", "1x16x16x256x3x3x256_s1_f32",
        "1x14x14x1024x1x1x512_s1_f32", "1x16x16x512x3x3x512_s2_f32", "1x7x7x512x1x1x2048_s1_f32",
        "1x14x14x1024x1x1x2048_s2_f32", "1x7x7x2048x1x1x512_s1_f32", "1x9x9x512x3x3x512_s1_f32",
    )],
}
#: ``--quick`` subsets: for resnet50 the second conv is dominated by the first (reuse has a donor).
QUICK = {"matmul": SETS["matmul"][:1], "bert": SETS["bert"][3:],
         "resnet50": ["conv2d_nchw_fchw_1x56x56x256x1x1x128_s1_f32", "conv2d_nchw_fchw_1x56x56x64x1x1x64_s1_f32",
                      "conv2d_nchw_fchw_1x30x30x128x3x3x128_s1_f32"]}
DEFAULT_WORKLOADS = SETS["matmul"] + SETS["bert"]


def trials_to(curve: list[float], target: float) -> int | None:
    for i, v in enumerate(curve):
        if v <= target:
            return i + 1
    return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default=None, help="comma-separated workload keys (overrides --set)")
    ap.add_argument("--set", default="matmul,bert", help=f"comma-separated sets: {', '.join(SETS)}")
    ap.add_argument("--quick", action="store_true", help="a small subset of each set (smoke runs)")
    ap.add_argument("--layout", choices=["nchw", "nhwc"], default="nchw",
                    help="layout of the resnet50 convs (torch exports NCHW; NHWC enables the conv script form)")
    ap.add_argument("--sketch", default=None,
                    help="search this sketch where it applies (e.g. transform_script for f32 matmuls)")
    ap.add_argument("--strategies", default="random,evolutionary,reuse")
    ap.add_argument("--budget", type=int, default=32, help="trials per strategy and workload")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.workloads:
        keys = args.workloads.split(",")
    else:
        unknown = [x for x in args.set.split(",") if x not in SETS]
        if unknown:
            ap.error(f"unknown set(s) {', '.join(unknown)} (available: {', '.join(SETS)})")
        keys = [k for x in args.set.split(",") for k in (QUICK if args.quick else SETS)[x]]
    if args.layout == "nhwc":
        keys = [k.replace("conv2d_nchw_fchw_", "conv2d_nhwc_hwcf_") for k in keys]

    import torch
    from rich.console import Console
    from rich.table import Table

    from mlir_opt.backend import benchmark_many, compile_module, default_threads, time_callable
    from mlir_opt.db import Database
    from mlir_opt.ops.dispatches import ConvWorkload, Workload
    from mlir_opt.ops.space import IMG2COL_FLAG
    from mlir_opt.ops.transform_script import render_transform_library
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
    for key in keys:
        w = Workload.from_key(key)
        conv = isinstance(w, ConvWorkload)
        found = {}
        for strat in args.strategies.split(","):
            ev = Evaluator(db=reuse_db if strat == "reuse" else Database(":memory:"), reps=5, seed=args.seed)
            t0 = time.perf_counter()
            with console.status(f"{key}: {strat} search ({args.budget} trials)"):
                res, _ = tune_workloads({key: (w, 1.0)}, strategy=strat, budget=args.budget, seed=args.seed,
                                        evaluator=ev, sketch=args.sketch)
            ev.close()
            found[strat] = (res[key], time.perf_counter() - t0)
        # Side-by-side timing of the finalists in one interleaved run.
        vmfbs = {}
        with console.status(f"{key}: final timing"):
            src = w.single_op_module()
            vmfbs["iree_default"] = compile_module(src, "llvm-cpu", output=tmp / f"{key}_d.vmfb").vmfb
            # module-level alternative: data tiling (matmul) / the img2col pre-pass (conv)
            vmfbs["iree_data_tiling"] = compile_module(
                src, "llvm-cpu", output=tmp / f"{key}_dt.vmfb",
                flags=[IMG2COL_FLAG] if conv else ["--iree-opt-data-tiling"]).vmfb
            for strat, (r, _) in found.items():
                if r.best is not None:
                    flags = list(r.best.flags())
                    spec_text = render_tuning_spec([r.best])
                    if r.best.sketch == "transform_script":
                        lib = tmp / f"{key}_{strat}.lib.mlir"
                        lib.write_text(render_transform_library([r.best]))
                        flags.append(f"--iree-codegen-transform-dialect-library={lib}")
                    elif spec_text is not None:
                        spec = tmp / f"{key}_{strat}.spec.mlir"
                        spec.write_text(spec_text)
                        flags.append(f"--iree-codegen-tuning-spec-path={spec}")
                    vmfbs[f"tuned_{strat}"] = compile_module(
                        src, "llvm-cpu", output=tmp / f"{key}_{strat}.vmfb", flags=flags).vmfb
            rng = np.random.default_rng(0)
            shapes = [tuple(int(x) for x in t[len("tensor<"):-1].split("x")[:-1]) for t in w.operand_types[:2]]
            ins = [rng.standard_normal(s).astype(np.float32) for s in shapes]
            times = benchmark_many(vmfbs, ins, reps=9, rounds=3, threads=threads)
            ta, tb = (torch.from_numpy(x) for x in ins)
            if conv:  # oneDNN convolution in torch's NCHW; NHWC workloads are permuted once, outside timing
                if w.layout == "nhwc_hwcf":
                    ta = ta.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
                    tb = tb.permute(3, 2, 0, 1).contiguous()
                torch_t = time_callable(lambda: torch.nn.functional.conv2d(ta, tb, stride=w.strides,
                                                                           dilation=w.dilations), reps=9)
            else:
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
    cols = ["workload", "IREE default", "data tiling / img2col"] + [f"tuned ({s})" for s in strats] + \
           ["torch", "best/default", "best/torch"] + [f"trials→95% {s}" for s in strats]
    for c in cols:
        t.add_column(c, justify="right", no_wrap=c == "workload")
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
