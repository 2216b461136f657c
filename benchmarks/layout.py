"""NCHW vs NHWC on the CPU: IREE's default compile of a CNN against the same graph with its
convolutions converted to NHWC by the graph-level layout rules, timed interleaved.

Variants per model (each checked against the model's reference before it is timed):

* ``original``   — IREE's default compile of the imported (NCHW) graph (the baseline);
* ``fold``       — the batch-norm / scale-bias folds only (``fold-batchnorm-into-conv``,
  ``fold-chained-scale-bias``), to separate their effect from the layout's;
* ``nhwc``       — ``fold`` + the whole-graph layout pass (``to-nhwc``: every NCHW conv
  and pool converted, transposes propagated and cancelled);
* ``iree-cl``    — the original graph compiled with IREE's own preprocessing pass
  ``iree-preprocessing-convert-conv-to-channels-last`` (a reference point, not ours).

    python benchmarks/layout.py --size tiny --models resnet50,squeezenet
    python benchmarks/layout.py --size small --reps 12 --rounds 6 --keep out/vm      # reuse .vmfb on rerun
    python benchmarks/layout.py --size small --threads 1 --cpu-time                  # on a loaded machine

It prints, per model and variant, the number of transposes left in the graph, the median latency
(ms) and the speedup against ``original``. Figures taken while other jobs run are "under load".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

IREE_CL = ["--iree-preprocessing-pass-pipeline=builtin.module(util.func(iree-preprocessing-convert-conv-to-channels-last))"]
VARIANTS = ("original", "fold", "nhwc", "iree-cl")


def _count(model) -> dict:
    from mlir_opt.graph.nhwc import count_layout

    return count_layout(model)


def variant(model, name: str):
    """``(model, rewrite seconds, applied)`` of one variant (the IREE-flag variant is the original)."""
    from mlir_opt.graph import apply_rules
    from mlir_opt.graph.nhwc import to_nhwc

    t0 = time.perf_counter()
    if name in ("original", "iree-cl"):
        return model, 0.0, []
    r = apply_rules(model, ["fold-batchnorm-into-conv", "fold-chained-scale-bias"])
    applied = list(r.applied)
    m = r.model
    if name == "nhwc":
        m, n = to_nhwc(m)
        applied += ["to-nhwc"] * bool(n)
    return m, time.perf_counter() - t0, applied


def time_cpu(vmfbs: dict, inputs, *, entry: str, reps: int, rounds: int, threads: int | None,
             shuffle: bool = False) -> dict:
    """Interleaved medians of iree-benchmark-module's ``cpu_time`` (process CPU time per run).

    ``shuffle``: run the variants in a new random order each round (seeded), so no variant always
    runs right after the same neighbour.

    With ``--threads 1`` on a loaded machine this is much steadier than wall time: the time the
    process is descheduled does not count (cache and memory-bandwidth contention still do)."""
    import json
    import statistics
    import subprocess

    from mlir_opt.backend.bench import save_inputs
    from mlir_opt.backend.compile import iree_tool
    from mlir_opt.backend.targets import get_target

    tgt = get_target("llvm-cpu")
    out = {k: [] for k in vmfbs}
    with tempfile.TemporaryDirectory(prefix="layout_in_") as tmp:
        flags = save_inputs(inputs, tmp)
        import random

        order, rng = list(vmfbs.items()), random.Random(0)
        for _ in range(rounds):
            if shuffle:
                rng.shuffle(order)
            for k, path in order:
                cmd = [iree_tool("iree-benchmark-module"), f"--module={path}", f"--function={entry}",
                       *tgt.runtime_flags(threads), *flags, f"--benchmark_repetitions={max(1, reps // rounds)}",
                       "--benchmark_min_time=0.05s", "--benchmark_min_warmup_time=0.1", "--benchmark_format=json"]
                p = subprocess.run(cmd, capture_output=True, text=True, check=True)
                scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
                out[k] += [b["cpu_time"] * scale[b["time_unit"]] for b in json.loads(p.stdout)["benchmarks"]
                           if b.get("run_type") == "iteration"]
    return {k: statistics.median(v) for k, v in out.items()}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet50,squeezenet,mobilenet_v2,vgg19")
    ap.add_argument("--size", default="tiny", choices=["tiny", "small", "base"])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3, help="interleaved rounds (each runs every variant)")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--cpu-time", action="store_true",
                    help="report process CPU time instead of wall time (steadier on a loaded machine with --threads 1)")
    ap.add_argument("--keep", type=Path, default=None, help="directory for the .vmfb files (reused when present)")
    args = ap.parse_args(argv)

    import mlir_opt
    from mlir_opt.backend import benchmark_many, compile_module
    from mlir_opt.pipeline import check_against_reference

    names = [v for v in args.variants.split(",") if v]
    tmp = Path(tempfile.mkdtemp(prefix="layout_bench_"))
    print(f"{'model':14s} {'variant':9s} {'transp.':>7s} {'nchw':>5s} {'nhwc':>5s} {'rewrite s':>9s} "
          f"{'ms':>9s} {'speedup':>8s}  rel.err")
    for mname in [s for s in args.models.split(",") if s]:
        m = mlir_opt.load(mname, size=args.size)
        vmfbs, info = {}, {}
        for v in names:
            out = (args.keep or tmp) / f"{mname}_{args.size}_{v}.vmfb"
            if args.keep is not None and out.exists():  # reuse: no rewrite, no counts
                vmfbs[v] = out
                info[v] = {"transpose": -1, "nchw": -1, "nhwc": -1, "secs": 0.0, "error": None}
                continue
            mv, secs, applied = variant(m, v)
            res = compile_module(mv.bytecode(), "llvm-cpu", output=out,
                                 flags=IREE_CL if v == "iree-cl" else (), raise_on_error=False)
            if res.ok:
                vmfbs[v] = res.vmfb
            info[v] = {**_count(mv), "secs": secs, "error": None if res.ok else res.error}
        chk = check_against_reference(m, vmfbs, reference_key="original", seeds=(0,), threads=args.threads)
        good = {k: p for k, p in vmfbs.items() if chk[k]["ok"]}
        if args.cpu_time:
            times = time_cpu(good, m.random_inputs(0), entry=m.entry, reps=args.reps, rounds=args.rounds,
                             threads=args.threads) if good else {}
        else:
            times = {k: t.median_ms for k, t in (benchmark_many(
                good, m.random_inputs(0), entry=m.entry, reps=args.reps, rounds=args.rounds,
                threads=args.threads) if good else {}).items()}
        base = times.get("original", float("nan"))
        for v in names:
            i = info[v]
            t = times.get(v, float("nan"))
            err = i["error"] or (None if v not in chk or chk[v]["ok"] else "WRONG " + chk[v]["problem"])
            print(f"{mname:14s} {v:9s} {i['transpose']:7d} {i['nchw']:5d} {i['nhwc']:5d} {i['secs']:9.2f} "
                  f"{t:9.3f} {base / t:7.2f}×  {chk.get(v, {}).get('max_rel_error', float('nan')):.1e}"
                  + (f"  {err}" if err else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
