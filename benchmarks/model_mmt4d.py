"""A whole model end to end: IREE default vs data tiling vs the mmt4d_script route, side by side.

The mmt4d route is the model with its f32 matmuls / batch_matmuls (batch > 1: ``linalg.batch_mmt4d``) rewritten as pack +
``linalg.mmt4d`` + unpack (``mlir_opt.ops.packing.pack_contractions``) and compiled with the
transform library of one ``mmt4d_script`` schedule per packed workload (the shape-checked matcher
applies each strategy to its own mmt4d dispatches only) — what ``tune --sketch mmt4d_script``
yields as its ``packed+library`` variant. ``packed`` is the same packed module without the library
(IREE's own Mmt4dTilingExpert on the packed ops), to separate the packing from the kernel.

Every variant is checked against the model's reference (torch for the bundled models) on random
inputs, then all are timed in one process, interleaved (``--rounds`` rounds, the order reversed
every other round); the table gives medians and paired per-round ratios to IREE's default.

    python benchmarks/model_mmt4d.py                                  # BERT encoder layer, size small
    python benchmarks/model_mmt4d.py --rounds 3 --min-time 0.1        # quick check
    python benchmarks/model_mmt4d.py --decisions '{"m0": 6, "n0": 16, "wg_m1": 4, "wg_n1": 8, "cache_k": 0, "unroll": 2, "order": 1}'
    python benchmarks/model_mmt4d.py --threads 1 --cpu-time                # steadier under load
    python benchmarks/model_mmt4d.py --model bert --size base --json out.json
    python benchmarks/model_mmt4d.py --size base --decisions '{"m0": 8, "n0": 32, "wg_m1": 16, "wg_n1": 4, "cache_k": 0, "unroll": 4, "order": 0, "pack_a": 0}'

With ``pack_a`` 0 (B packed alone) the contractions it does not fit (batch > 1, N or M off the tiles)
are packed with the same tiles and ``pack_a`` 1, as the tuner's per-workload choice would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DT = "--iree-opt-data-tiling"
UK = "--iree-llvmcpu-enable-ukernels=mmt4d"
#: name -> (module: "model" or "packed", extra iree-compile flags, use the mmt4d transform library)
VARIANTS = {
    "default": ("model", [], False),
    "dt": ("model", [DT], False),
    "dt_uk": ("model", [DT, UK], False),
    "packed": ("packed", [], False),
    "mmt4d": ("packed", [], True),
    # the packed module with data tiling on for what is left (batch > 1 attention matmuls)
    "mmt4d_dt": ("packed", [DT], True),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="bert", help="bundled model name or file (default bert)")
    ap.add_argument("--size", default="small", help="size preset of a bundled model (default small)")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}")
    ap.add_argument("--decisions", default=None,
                    help="mmt4d_script decisions (JSON) for every packed workload (default: the sketch's seed)")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds per sample")
    ap.add_argument("--threads", type=int, default=0, help="IREE workers (default: the cores)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time samples in process CPU time (steadier on a loaded machine; with --threads 1 the modules run on IREE's local-sync device, like the operator search's CPU-time trials)")
    ap.add_argument("--label", default="", help="note printed in the header (e.g. 'under load')")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)

    import mlir_opt
    from mlir_opt.backend import compile_module, default_threads
    from mlir_opt.backend.bench import benchmark_interleaved, paired_ratio
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.packing import pack_contractions
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.space import search_seeds
    from mlir_opt.ops.transform_script import render_transform_library
    from mlir_opt.pipeline import check_against_reference
    from mlir_opt.report import machine_info

    threads = args.threads or default_threads()
    d = json.loads(args.decisions) if args.decisions else dict(search_seeds("mmt4d_script")[0])
    model = mlir_opt.load(args.model, size=args.size)
    plan = {"*": d}
    packed = pack_contractions(model, plan)
    if d.get("pack_a", 1) == 0:  # where B alone cannot be packed or tiled (batch > 1, N or M off the tiles): pack A too
        def fits(key):
            try:
                return Schedule(Workload.from_key(key), "mmt4d_script", d).validate() is None
            except ValueError:  # an op name, not a workload key
                return False

        plan = {k: d if fits(k) else dict(d, pack_a=1) for k in [*packed.packed, *(k for k, _ in packed.skipped)]}
        packed = pack_contractions(model, plan)
    scheds = [Schedule(Workload.from_key(k), "mmt4d_script", plan.get(k, d)) for k in packed.packed]
    bad = [f"{s.workload.key}: {why}" for s in scheds if (why := s.validate())]
    if bad:
        print("invalid decisions: " + "; ".join(bad), file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="model_mmt4d_"))
    lib = tmp / "lib.mlir"
    lib.write_text(render_transform_library(scheds) or "")
    srcs = {"model": tmp / "model.mlirbc", "packed": tmp / "packed.mlirbc"}
    srcs["model"].write_bytes(model.bytecode())
    srcs["packed"].write_bytes(packed.model.bytecode())
    variants = {k: VARIANTS[k] for k in args.variants.split(",") if k}
    if not packed.packed:
        variants = {k: v for k, v in variants.items() if v[0] == "model"}
    vmfbs, compile_s, errors, flags = {}, {}, {}, {}
    for name, (src, fl, use_lib) in variants.items():
        fl = list(fl) + ([f"--iree-codegen-transform-dialect-library={lib}"] if use_lib else [])
        flags[name] = ([f"[packed {', '.join(packed.packed)}]"] if src == "packed" else []) + \
            [f if not f.startswith("--iree-codegen-transform-dialect-library") else "--...-library=<mmt4d>" for f in fl]
        res = compile_module(srcs[src], "llvm-cpu", output=tmp / f"{name}.vmfb", flags=fl, raise_on_error=False)
        compile_s[name] = res.seconds
        if res.ok:
            vmfbs[name] = res.vmfb
        else:
            errors[name] = (res.error or "").splitlines()[-1][:200]
    chk = check_against_reference(model, vmfbs, threads=threads, seeds=(0,))
    for name in list(vmfbs):
        if not chk[name]["ok"]:
            errors[name] = f"wrong result: {chk[name]['problem']}"
            del vmfbs[name]
    times = benchmark_interleaved(vmfbs, model.random_inputs(0), entry=model.entry, rounds=args.rounds,
                                  min_time_s=args.min_time, threads=threads, cpu_time=args.cpu_time)
    med = {k: t.median_ms for k, t in times.items()}
    base = "default" if "default" in times else None
    ratio = {k: paired_ratio(t, times[base]) if base else float("nan") for k, t in times.items()}
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"# {model.name} ({args.size}), {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{machine_info(threads)['cpu']}, {threads} threads, {args.rounds} interleaved rounds x {args.min_time}s "
          f"{'CPU' if args.cpu_time else 'wall'} time, load avg {load} at end{', ' + args.label if args.label else ''}")
    print(f"# mmt4d_script decisions: {json.dumps(d)}; not packed: "
          + ("; ".join(f"{k} ({why.split(': ', 1)[-1]})" for k, why in dict(packed.skipped).items()) or "none"))
    print(f"{'variant':<10} {'median ms':>10} {'/default':>9} {'compile s':>10}  module / flags")
    for k in sorted(med, key=med.get):
        print(f"{k:<10} {med[k]:>10.3f} {ratio[k]:>8.2f}x {compile_s[k]:>10.1f}  {' '.join(flags[k]) or '-'}")
    for k, e in errors.items():
        print(f"{k:<10} {'-':>10} {'-':>9} {'-':>10}  {e}")
    if args.json:
        args.json.write_text(json.dumps({"model": model.name, "size": args.size, "threads": threads,
                                         "decisions": d, "plan": plan, "packed": packed.packed, "skipped": packed.skipped,
                                         "samples_ms": {k: t.samples_ms for k, t in times.items()},
                                         "median_ms": med, "ratio_to_default": ratio, "errors": errors,
                                         "flags": flags, "compile_s": compile_s, "label": args.label,
                                         "machine": machine_info(threads)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
