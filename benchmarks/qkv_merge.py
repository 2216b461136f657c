"""BERT's Q/K/V merge (``merge-parallel-matmuls``) in its output forms, measured with IREE on the CPU.

Variants (each checked against ``original`` before it is timed):

* ``original``        — the imported encoder layer (three Q/K/V linears);
* ``concat``          — one contraction over the weights concatenated along N, one last-dim slice
  per projection (the rule's form before 2026-11-26: IREE turns each strided slice into its own
  ``slow_memcpy`` dispatch);
* ``stacked``         — the LHS broadcast to ``[3, M, K]``, one ``linalg.batch_matmul`` by the
  stacked weights ``[3, K, n]``, contiguous slices ``[k]`` of the ``[3, M, n]`` result (IREE
  materializes the broadcast in a dispatch of its own);
* ``stacked-generic`` — the same contraction written as one ``linalg.generic`` whose LHS map
  omits the stack dim (no broadcast is materialized; the rule's default form);
* ``eqsat``           — what ``optimize --graph-search eqsat`` emits (roofline cost): the merge,
  restacked into the default form, plus the LayerNorm scale/bias folds.

It prints per variant the dispatches IREE forms per call (``--compile-to=executable-sources``),
how many of them are copies (``slow_memcpy``) or broadcasts, and the median time — wall time at
``--threads`` (default: IREE's) or process CPU time with ``--cpu-time`` (use ``--threads 1``; it is
steady on a loaded machine) — from interleaved rounds in a shuffled order::

    python benchmarks/qkv_merge.py --size small
    python benchmarks/qkv_merge.py --size base --threads 1 --cpu-time --rounds 6
    python benchmarks/qkv_merge.py --size base --aa      # A/A control: the original timed twice
    python benchmarks/qkv_merge.py --size base --threads 1 --cpu-time --per-dispatch   # + each dispatch alone
    python benchmarks/qkv_merge.py --model nasrnn --size small --threads 1 --cpu-time  # another merging model

On a GPU (the host is remote: a model bundle goes there, see docs/gpu.md)::

    python benchmarks/qkv_merge.py --size base --variants original,stacked-generic --bundle out/qkv/b --target cuda
    # on the GPU host, a few times: python3 b/runner.py b --timing all --out rN.json
    python benchmarks/qkv_merge.py --summarize r1.json r2.json r3.json

The bundle ships the weights as parameter archives (``--params``); a base-size pair is ~55 MiB, over
the 40 MiB bundle guard, which ``--bundle`` raises to 60 MiB (gzip the .irpa files to ship it).

Figures taken while other jobs run are "under load".
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = ("original", "concat", "stacked", "stacked-generic", "eqsat")


def make_variant(model, form: str):
    """``model`` with its Q/K/V merged in ``form`` (``original``: as is)."""
    from mlir_opt.graph import apply_rules
    from mlir_opt.graph.rules import merge

    if form == "original":
        return model
    if form == "eqsat":
        from mlir_opt.graph.search.eqsat import EqSatSearch

        r = EqSatSearch().run(model.clone())
        if "merge-parallel-matmuls" not in r.applied:
            raise SystemExit(f"{model.name}: eqsat did not merge: {r.stats}")
        return r.model
    old, merge.FORM = merge.FORM, form
    try:
        r = apply_rules(model, ["merge-parallel-matmuls"])
    finally:
        merge.FORM = old
    if not r.applied:
        raise SystemExit(f"{model.name}: the merge did not apply")
    return r.model


def dispatch_summary(model) -> tuple[int, int]:
    """``(dispatches per call, copy/broadcast dispatches per call)`` IREE forms for ``model``."""
    from mlir_opt.ops.dispatches import list_dispatches

    ds = list_dispatches(model)
    total = sum(max(1, d.count) for d in ds)
    copies = sum(max(1, d.count) for d in ds if "memcpy" in d.name or "broadcast" in d.name)
    return total, copies


def write_bundle(args) -> int:
    """Write the variants of ``args.model`` as one model bundle (weights as parameter archives)."""
    import mlir_opt
    import mlir_opt.remote as remote

    m = mlir_opt.load(args.model, size=args.size)
    variants = {v: (make_variant(m, v), []) for v in args.variants.split(",") if v}
    remote.MAX_BUNDLE_BYTES = max(remote.MAX_BUNDLE_BYTES, 60 * 2**20)
    man = remote.write_model_bundle(variants, args.bundle, target=args.target, reps=50, parameters=True)
    print(f"{args.bundle}: {man['bytes'] / 2**20:.1f} MiB, variants {[e['id'] for e in man['entries']]}, "
          f"failed {[f['id'] for f in man['failed']]}")
    return 0


def summarize(paths: list[Path]) -> int:
    """Per variant and timing mode: the median over runs of each run's median, and the ratio to ``original``."""
    import json
    import statistics

    runs = [json.loads(p.read_text()) for p in paths]
    table: dict[str, dict[str, list[float]]] = {}
    for r in runs:
        for e in r.get("results", []):
            if e.get("status") != "ok":
                print(f"{e['id']}: {e.get('status')} {e.get('error', '')}")
                continue
            for mode, t in (e.get("timings") or {"cached": {"median_ms": e["median_ms"]}}).items():
                table.setdefault(e["id"], {}).setdefault(mode, []).append(t["median_ms"])
    dev = runs[0].get("device", {})
    print(f"{len(runs)} runs on {dev.get('name', dev)}; ms = median over runs of each run's median")
    modes = sorted({m for v in table.values() for m in v})
    print(f"{'variant':16s} " + " ".join(f"{m + ' ms':>11s} {'vs orig':>8s}" for m in modes))
    for v, per in table.items():
        cells = []
        for mode in modes:
            t = statistics.median(per.get(mode, [float("nan")]))
            b = statistics.median(table.get("original", {}).get(mode, [float("nan")]))
            cells.append(f"{t:11.3f} {b / t:7.3f}×")
        print(f"{v:16s} " + " ".join(cells))
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="bert", help="bundled model (default bert; nasrnn merges too)")
    ap.add_argument("--size", default="small", choices=["tiny", "small", "base"])
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--cpu-time", action="store_true", help="process CPU time (steady under load with --threads 1)")
    ap.add_argument("--no-dispatches", action="store_true", help="skip listing IREE's dispatches")
    ap.add_argument("--per-dispatch", action="store_true",
                    help="also time every dispatch alone (mlir_opt.graph.measured, at --threads) and print them")
    ap.add_argument("--aa", action="store_true", help="also time the original a second time (its ratio is the noise)")
    ap.add_argument("--bundle", type=Path, default=None,
                    help="write a model bundle of the variants for --target (a remote GPU) instead of timing here")
    ap.add_argument("--target", default="cuda", help="target of --bundle (default cuda)")
    ap.add_argument("--summarize", nargs="+", type=Path, default=None,
                    help="print the table of runner results.json files (one per run) and exit")
    args = ap.parse_args(argv)
    if args.summarize:
        return summarize(args.summarize)
    if args.bundle:
        return write_bundle(args)

    import mlir_opt
    from layout import time_cpu
    from mlir_opt.backend import benchmark_many, compile_module
    from mlir_opt.pipeline import check_against_reference

    names = [v for v in args.variants.split(",") if v]
    tmp = Path(tempfile.mkdtemp(prefix="qkv_merge_"))
    m = mlir_opt.load(args.model, size=args.size)
    vmfbs, info = {}, {}
    for v in names:
        mv = make_variant(m, v)
        res = compile_module(mv.bytecode(), "llvm-cpu", output=tmp / f"{v}.vmfb", raise_on_error=False)
        if not res.ok:
            print(f"{v}: compile failed: {res.error}")
            continue
        vmfbs[v] = res.vmfb
        info[v] = (-1, -1) if args.no_dispatches else dispatch_summary(mv)
    chk = check_against_reference(m, vmfbs, reference_key="original", seeds=(0,), threads=args.threads)
    good = {k: p for k, p in vmfbs.items() if chk[k]["ok"]}
    if args.aa and "original" in good:
        good["original-again"] = good["original"]
        info["original-again"], chk["original-again"] = info["original"], chk["original"]
    if args.cpu_time:
        times = time_cpu(good, m.random_inputs(0), entry=m.entry, reps=args.reps, rounds=args.rounds,
                         threads=args.threads, shuffle=True)
    else:  # wall time, one benchmark_many round at a time in a shuffled order (no position bias)
        import random
        import statistics

        rng, keys, samples = random.Random(0), list(good), {k: [] for k in good}
        for _ in range(args.rounds):
            rng.shuffle(keys)
            for k, t in benchmark_many({k: good[k] for k in keys}, m.random_inputs(0), entry=m.entry,
                                       reps=max(1, args.reps // args.rounds), rounds=1,
                                       threads=args.threads).items():
                samples[k] += t.samples_ms
        times = {k: statistics.median(v) for k, v in samples.items()}
    if args.per_dispatch:
        from mlir_opt.graph.measured import DispatchCostModel

        dcm = DispatchCostModel(threads=args.threads, reps=5)
        for v in good:
            if v == "original-again":
                continue
            ds = dcm.measure(make_variant(m, v))
            print(f"-- {v}: {len(ds)} dispatches, sum {sum(d.total_us for d in ds):.1f} us (each timed alone)")
            for d in ds:
                print(f"   {d.count:2d} x {d.us if d.us is not None else float('nan'):9.1f} us  {d.name}")
    base = times.get("original", float("nan"))
    mode = f"{'cpu' if args.cpu_time else 'wall'} time, threads={args.threads or 'default'}"
    print(f"{args.model} {args.size}, {mode}, median of {args.rounds} interleaved rounds")
    print(f"{'variant':16s} {'disp':>5s} {'copy':>5s} {'ms':>9s} {'vs orig':>8s}  rel.err")
    for v in names + ["original-again"] * args.aa:
        if v not in info:
            continue
        nd, nc = info[v]
        t = times.get(v, float("nan"))
        bad = "" if chk[v]["ok"] else "  WRONG " + chk[v]["problem"]
        print(f"{v:16s} {nd:5d} {nc:5d} {t:9.3f} {base / t:7.3f}×  {chk[v].get('max_rel_error', float('nan')):.1e}{bad}",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
