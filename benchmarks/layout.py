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
    python benchmarks/layout.py --size small --models resnet50,squeezenet,mobilenet_v2,vgg19 --reps 12

It prints, per model and variant, the number of transposes left in the graph, the median latency
(ms) and the speedup against ``original``. Figures taken while other jobs run are "under load".
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

IREE_CL = ["--iree-preprocessing-pass-pipeline=builtin.module(util.func(iree-preprocessing-convert-conv-to-channels-last))"]
VARIANTS = ("original", "fold", "nhwc", "iree-cl")


def _count(model) -> dict:
    from mlir_opt.graph.view import GraphView

    c = collections.Counter(op.name for op in GraphView(model).ops)
    return {"transpose": c["linalg.transpose"],
            "nchw": sum(n for k, n in c.items() if "nchw" in k), "nhwc": sum(n for k, n in c.items() if "nhwc" in k)}


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


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="resnet50,squeezenet,mobilenet_v2,vgg19")
    ap.add_argument("--size", default="tiny", choices=["tiny", "small", "base"])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=None)
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
            mv, secs, applied = variant(m, v)
            res = compile_module(mv.bytecode(), "llvm-cpu", output=tmp / f"{mname}_{v}.vmfb",
                                 flags=IREE_CL if v == "iree-cl" else (), raise_on_error=False)
            info[v] = {**_count(mv), "secs": secs, "error": None if res.ok else res.error}
            if res.ok:
                vmfbs[v] = res.vmfb
        chk = check_against_reference(m, vmfbs, reference_key="original", seeds=(0,), threads=args.threads)
        good = {k: p for k, p in vmfbs.items() if chk[k]["ok"]}
        times = benchmark_many(good, m.random_inputs(0), entry=m.entry, reps=args.reps, rounds=3,
                               threads=args.threads) if good else {}
        base = times["original"].median_ms if "original" in times else float("nan")
        for v in names:
            i = info[v]
            t = times[v].median_ms if v in times else float("nan")
            err = i["error"] or (None if v not in chk or chk[v]["ok"] else "WRONG " + chk[v]["problem"])
            print(f"{mname:14s} {v:9s} {i['transpose']:7d} {i['nchw']:5d} {i['nhwc']:5d} {i['secs']:9.2f} "
                  f"{t:9.3f} {base / t:7.2f}×  {chk.get(v, {}).get('max_rel_error', float('nan')):.1e}"
                  + (f"  {err}" if err else ""), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
