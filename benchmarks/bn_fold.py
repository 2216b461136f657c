"""How ``fold-batchnorm-into-conv`` should write the folded shift, measured with IREE on the CPU.

Variants (each checked against ``original`` before it is timed):

* ``original`` — the imported graph: conv into a zero fill, the batch-norm as elementwise ops;
* ``prepared`` — the same graph with its ``dense_resource`` constants made inline (what every
  rewrite starts from: :func:`mlir_opt.graph.prepare`), no fold — separates that from the fold;
* ``init``     — the fold with the shift broadcast as the convolution's accumulator (``outs``);
* ``add``      — the fold with the convolution into a zero fill and one per-channel add after it.

For each variant it prints the number of dispatches IREE forms (``--compile-to=executable-sources``),
how many of them are elementwise-only / broadcast dispatches, the modelled roofline cost (µs) and
the median time (process CPU time per call at ``--threads``, interleaved rounds in a shuffled
order)::

    python benchmarks/bn_fold.py --block                         # one conv+bn+relu block (3 shapes)
    python benchmarks/bn_fold.py --models resnet50 --size small  # whole models
    python benchmarks/bn_fold.py --models resnet50,mobilenet_v2,squeezenet --size small --rounds 6

Figures taken while other jobs run are "under load".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = ("original", "prepared", "init", "add")


def block_mlir(n: int, c: int, hw: int, f: int, k: int, seed: int = 0) -> str:
    """conv (k×k, same padding) + torch-style inference batch-norm + ReLU, NCHW, random weights."""
    from mlir_opt.graph.rules.fold import _bn_example

    ex = _bn_example("block", n, c, hw + k - 1, f, k, 1, False, seed).mlir
    oh = hw
    tout = f"tensor<{n}x{f}x{oh}x{oh}xf32>"
    relu = (f"  %relu = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, "
            f"affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = [\"parallel\", \"parallel\", "
            f"\"parallel\", \"parallel\"]}} ins(%y3 : {tout}) outs(%e : {tout}) {{\n  ^bb0(%in: f32, %o: f32):\n"
            f"    %m = arith.maximumf %in, %zero : f32\n    linalg.yield %m : f32\n  }} -> {tout}\n"
            f"  return %relu : {tout}")
    return ex.replace(f"  return %y3 : {tout}", relu)


def make_variant(model, name: str):
    """The model rewritten by the batch-norm fold with the given shift form (``original``: as is)."""
    from mlir_opt.graph import apply_rules, prepare
    from mlir_opt.graph.rules import fold

    if name == "original":
        return model
    if name == "prepared":
        return prepare(model)
    old = fold.BIAS_FORM
    fold.BIAS_FORM = name
    try:
        r = apply_rules(model, ["fold-batchnorm-into-conv"])
    finally:
        fold.BIAS_FORM = old
    if not r.applied:
        raise SystemExit(f"{model.name}: the fold did not apply")
    return r.model


def dispatch_summary(model) -> tuple[int, int]:
    """``(dispatches, elementwise-only dispatches)`` IREE forms for ``model`` (per call)."""
    from mlir_opt.ops.dispatches import list_dispatches

    ds = list_dispatches(model)
    total = sum(max(1, d.count) for d in ds)
    elem = sum(max(1, d.count) for d in ds if d.root_op in ("linalg.generic", "linalg.broadcast")
               and "conv" not in d.name and "matmul" not in d.name)
    return total, elem


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--block", action="store_true", help="time single conv+bn+relu blocks")
    ap.add_argument("--models", default="", help="comma-separated model names (mlir_opt.load)")
    ap.add_argument("--size", default="small", choices=["tiny", "small", "base"])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-dispatches", action="store_true", help="skip listing IREE's dispatches")
    ap.add_argument("--keep", type=Path, default=None, help="directory for the .vmfb files (reused when present)")
    ap.add_argument("--aa", action="store_true",
                    help="also time the original a second time (an A/A control: its ratio is the noise)")
    args = ap.parse_args(argv)

    import mlir_opt
    from layout import time_cpu
    from mlir_opt.backend import compile_module
    from mlir_opt.graph.cost import roofline_cost
    from mlir_opt.importers.mlir import load_mlir
    from mlir_opt.pipeline import check_against_reference

    names = [v for v in args.variants.split(",") if v]
    tmp = Path(tempfile.mkdtemp(prefix="bn_fold_"))
    cases = []
    if args.block:
        for n, c, hw, f, k in ((1, 64, 28, 64, 3), (1, 256, 14, 64, 1), (1, 32, 56, 32, 3)):
            p = tmp / f"block_{c}x{hw}_{f}_{k}.mlir"
            p.write_text(block_mlir(n, c, hw, f, k))
            cases.append((f"blk {c}x{hw}x{hw}->{f} {k}x{k}", load_mlir(p, name=p.stem)))
    for mname in [s for s in args.models.split(",") if s]:
        cases.append((mname, mlir_opt.load(mname, size=args.size)))
    print(f"{'case':26s} {'variant':14s} {'disp':>5s} {'ew':>4s} {'roofline us':>11s} {'ms':>9s} {'vs orig':>8s}  rel.err",
          flush=True)
    for label, m in cases:
        vmfbs, info = {}, {}
        for v in names:
            out = (args.keep or tmp) / f"{m.name}_{args.size}_{v}.vmfb"
            if args.keep is not None and out.exists() and args.no_dispatches:
                vmfbs[v], info[v] = out, ((-1, -1), float("nan"))
                continue
            mv = make_variant(m, v)
            res = compile_module(mv.bytecode(), "llvm-cpu", output=out, raise_on_error=False)
            if not res.ok:
                print(f"{label:26s} {v:9s} compile failed: {res.error}")
                continue
            vmfbs[v] = res.vmfb
            info[v] = ((-1, -1) if args.no_dispatches else dispatch_summary(mv), roofline_cost(mv))
        chk = check_against_reference(m, vmfbs, reference_key="original",
                                      seeds=(0,), threads=args.threads)
        good = {k: p for k, p in vmfbs.items() if chk[k]["ok"]}
        if args.aa and "original" in good:
            good["original-again"] = good["original"]
            info["original-again"], chk["original-again"] = info["original"], chk["original"]
        times = time_cpu(good, m.random_inputs(0), entry=m.entry, reps=args.reps, rounds=args.rounds,
                         threads=args.threads, shuffle=True) if good else {}
        base = times.get("original", float("nan"))
        for v in names + ["original-again"] * args.aa:
            if v not in info:
                continue
            (nd, ne), roof = info[v]
            t = times.get(v, float("nan"))
            bad = "" if chk[v]["ok"] else "  WRONG " + chk[v]["problem"]
            print(f"{label:26s} {v:14s} {nd:5d} {ne:4d} {roof:11.1f} {t:9.3f} {base / t:7.2f}×  "
                  f"{chk[v].get('max_rel_error', float('nan')):.1e}{bad}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
