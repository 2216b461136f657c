"""Module-level compile variants of one contraction vs torch (oneDNN), interleaved in one process.

Answers "which flag route closes the gap to torch" for a workload key (default: fp32 matmul 1024³):
each variant is compiled from the workload's single-op module (both operands are arguments, so
data tiling packs A *and* B on every call, as oneDNN packs inside its sgemm), checked against numpy
on random inputs, and timed in ``--rounds`` rounds; in each round every IREE module and torch.matmul
take one sample (mean over calls filling ``--min-time``), alternating the order, with a short pause
after torch so its OpenMP threads stop spinning. Ratios to torch are paired per round (median).

    python benchmarks/matmul_variants.py                                   # 1024³, all variants
    python benchmarks/matmul_variants.py --variants default,dt,dt_uk --rounds 5
    python benchmarks/matmul_variants.py --workload batch_matmul_1x128x3072x768_f32xf32xf32
    python benchmarks/matmul_variants.py --dispatches dt_uk   # per-dispatch times (pack / mmt4d / unpack)

``--dispatches V`` dumps V's executable benchmarks and times each dispatch alone with
iree-benchmark-module (same threads), to show whether the pack/unpack dispatches matter; V may be
a ``--schedule`` variant (its packed payload and transform library for ``mmt4d_script``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DT = "--iree-opt-data-tiling"
UK = "--iree-llvmcpu-enable-ukernels=mmt4d"
#: name -> extra iree-compile flags (on top of the llvm-cpu target flags, target-cpu=host)
VARIANTS = {
    "default": [],
    "dt": [DT],
    "dt_uk": [DT, UK],
    "dt_uk_all": [DT, "--iree-llvmcpu-enable-ukernels=all"],
    "dt_intrin": [DT, "--iree-codegen-mmt4d-use-intrinsics"],
    "dt_unroll": [DT, "--iree-llvmcpu-loop-unrolling"],
    "dt_uk_unroll": [DT, UK, "--iree-llvmcpu-loop-unrolling"],
    "dt_ck": [DT, "--iree-llvmcpu-enable-vector-contract-custom-kernels"],
    "dt_tb64k": [DT, "--iree-llvmcpu-matmul-tile-bytes=65536"],
    "dt_tb1m": [DT, "--iree-llvmcpu-matmul-tile-bytes=1048576"],
    "dt_tb4m": [DT, "--iree-llvmcpu-matmul-tile-bytes=4194304"],
    "dt_uk_tb1m": [DT, UK, "--iree-llvmcpu-matmul-tile-bytes=1048576"],
    "dt_inner": [DT, "--iree-llvmcpu-enable-inner-tiled"],
    "dt_inner_uk": [DT, "--iree-llvmcpu-enable-inner-tiled", "--iree-llvmcpu-enable-llvm-ukernels=inner_tiled"],
    "dt_znver3": [DT, "--iree-llvmcpu-target-cpu=znver3"],
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workload", default="matmul_1024x1024x1024_f32xf32xf32")
    ap.add_argument("--variants", default=",".join(VARIANTS), help=f"comma list of {', '.join(VARIANTS)}")
    ap.add_argument("--extra", action="append", default=[],
                    help="NAME=FLAG[;FLAG...]: an extra variant (e.g. 'dt_znver4=--iree-opt-data-tiling;"
                         "--iree-llvmcpu-target-cpu=znver4')")
    ap.add_argument("--source", action="append", default=[],
                    help="NAME=FILE[;FLAG...]: a variant compiled from another MLIR file with the same signature "
                         "(e.g. the contraction written as pack + mmt4d + unpack)")
    ap.add_argument("--schedule", action="append", default=[],
                    help="NAME=SKETCH:JSON: a variant built from a schedule of the workload (tuning spec or transform "
                         "library as the tuner builds it), e.g. 'ts=transform_script:{\"wg_m\": 64, ...}'")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--min-time", type=float, default=0.3, help="seconds per sample")
    ap.add_argument("--threads", type=int, default=0, help="IREE workers and torch threads (default: the cores)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time samples in process CPU time instead of wall time: less sensitive to other "
                         "processes on a loaded machine (use with --threads 1: spinning worker threads count)")
    ap.add_argument("--task", action="store_true",
                    help="at --threads 1, run IREE on local-task with one worker (as before the tenth session) "
                         "instead of inline on local-sync")
    ap.add_argument("--dispatches", default="", help="comma list of variants whose dispatches to time alone")
    ap.add_argument("--json", type=Path, help="write the figures here")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    import iree.runtime as rt

    from mlir_opt.backend import compile_module, default_threads, get_target
    from mlir_opt.backend.runtime import _set_threads
    from mlir_opt.ops.confirm import workload_inputs
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.report import machine_info

    variants = {k: VARIANTS[k] for k in args.variants.split(",") if k}
    for e in args.extra:
        name, _, fl = e.partition("=")
        variants[name] = [f for f in fl.split(";") if f]
    sources = {}
    for e in args.source:
        name, _, rest = e.partition("=")
        file, *fl = rest.split(";")
        variants[name], sources[name] = [f for f in fl if f], Path(file)
    threads = args.threads or default_threads()
    torch.set_num_threads(threads)
    w = Workload.from_key(args.workload)
    ins = workload_inputs(w, 0)
    ref = w.reference(ins)
    tmp = Path(tempfile.mkdtemp(prefix="mm_variants_"))
    src = tmp / "op.mlir"
    src.write_text(w.single_op_module())
    vmfbs, compile_s, errors = {}, {}, {}
    for name, fl in variants.items():
        res = compile_module(sources.get(name, src), "llvm-cpu", output=tmp / f"{name}.vmfb", flags=fl,
                             raise_on_error=False)
        compile_s[name] = res.seconds
        if res.ok:
            vmfbs[name] = res.vmfb
        else:
            errors[name] = res.error
            print(f"{name}: compile failed: {res.error}", file=sys.stderr)

    from mlir_opt.ops.evaluate import build_schedule
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.transform_script import SCRIPT_SKETCHES, payload_module

    sched_src = {}

    for e in args.schedule:
        name, _, rest = e.partition("=")
        sketch, _, js = rest.partition(":")
        sch = Schedule(w, sketch, json.loads(js) if js else {})
        variants[name] = [sch.describe()]
        if why := sch.validate():
            errors[name] = f"invalid: {why}"
            continue
        res = build_schedule(sch, tmp / name)
        compile_s[name] = res.seconds
        if sch.sketch in SCRIPT_SKETCHES:  # for --dispatches: its payload module and transform library
            (tmp / name / "payload.mlir").write_text(payload_module(sch))
            sched_src[name] = (tmp / name / "payload.mlir",
                               [f"--iree-codegen-transform-dialect-library={tmp / name / 'lib.mlir'}"])
        if res.ok:
            vmfbs[name] = res.vmfb
        else:
            errors[name] = res.error

    _set_threads(threads)
    # one thread: IREE's local-sync device runs the dispatches inline on the calling thread, as torch
    # runs its sgemm; local-task with one worker adds the caller's spin-wait (~3.6 ms a call on 1024³,
    # perf, tenth session), which CPU time counts (the same rule as mlir_opt.backend.bench._sync_cpu).
    sync = threads == 1 and not args.task
    cfg = rt.Config("local-sync" if sync else get_target("llvm-cpu").driver)
    args_dev = [rt.asdevicearray(cfg.device, np.ascontiguousarray(a)) for a in ins]
    fns = {}
    for name, path in vmfbs.items():
        ctx = rt.SystemContext(config=cfg)
        vm = rt.VmModule.mmap(ctx.instance, str(path))
        ctx.add_vm_module(vm)
        fn = ctx.modules[vm.name]["main"]
        out = np.asarray(fn(*args_dev).to_host())
        err = float(np.abs(out - ref).max() / (np.abs(ref).max() + 1e-30))
        if err > 1e-4:
            errors[name] = f"wrong result (max rel error {err:.2e})"
            print(f"{name}: {errors[name]}", file=sys.stderr)
            continue
        fns[name] = lambda fn=fn: fn(*args_dev)
    ta, tb = (torch.from_numpy(x) for x in ins)
    fns["torch"] = lambda: torch.matmul(ta, tb)

    clock = time.process_time if args.cpu_time else time.perf_counter

    def sample(fn) -> float:
        n, t0 = 0, clock()
        while True:
            fn()
            n += 1
            dt_ = clock() - t0
            if dt_ >= args.min_time:
                return dt_ / n * 1e3

    for fn in fns.values():
        sample(fn)
    samples = {k: [] for k in fns}
    keys = list(fns)
    for r in range(args.rounds):
        for k in (keys if r % 2 == 0 else keys[::-1]):
            samples[k].append(sample(fns[k]))
            if k == "torch":
                time.sleep(0.05)
    med = {k: statistics.median(v) for k, v in samples.items()}
    ratio = {k: statistics.median(a / b for a, b in zip(v, samples["torch"])) for k, v in samples.items()}
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"# {args.workload}, {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {machine_info(threads)['cpu']}, "
          f"{threads} threads ({'local-sync' if sync else 'local-task'}), {args.rounds} interleaved rounds x {args.min_time}s "
          f"{'CPU time' if args.cpu_time else 'wall time'}, load avg {load} at end")
    print(f"{'variant':<14} {'median ms':>10} {'/torch':>7} {'compile s':>9}  flags")
    for k in sorted(med, key=med.get):
        cs = f"{compile_s[k]:9.1f}" if k in compile_s else f"{'-':>9}"
        print(f"{k:<14} {med[k]:>10.3f} {ratio[k]:>6.2f}x {cs}  {' '.join(variants.get(k, ['torch.matmul']))}")
    for k, e in errors.items():
        print(f"{k:<14} {'-':>10} {'-':>7}  {e}")

    per_dispatch = {}
    for name in [x for x in args.dispatches.split(",") if x]:
        d_src, d_flags = sched_src.get(name, (src, variants[name]))
        per_dispatch[name] = _time_dispatches(d_src, d_flags, tmp / f"bench_{name}", threads)
        print(f"\nper-dispatch ({name}, each dispatch alone, iree-benchmark-module):")
        for d, ms in per_dispatch[name].items():
            print(f"  {d:<60} {ms:8.3f} ms")
    if args.json:
        args.json.write_text(json.dumps({"workload": args.workload, "threads": threads, "samples_ms": samples,
                                         "median_ms": med, "ratio_to_torch": ratio, "errors": errors,
                                         "compile_s": compile_s,
                                         "flags": variants, "per_dispatch_ms": per_dispatch,
                                         "machine": machine_info(threads)}, indent=1))
    return 0


def _time_dispatches(src: Path, flags: list[str], out: Path, threads: int) -> dict[str, float]:
    """Compile with ``--iree-hal-dump-executable-benchmarks-to`` and time each dumped dispatch alone."""
    from mlir_opt.backend import compile_module, get_target
    from mlir_opt.backend.compile import iree_tool

    out.mkdir(parents=True, exist_ok=True)
    tgt = get_target("llvm-cpu")
    compile_module(src, tgt, output=out / "m.vmfb", flags=[*flags, f"--iree-hal-dump-executable-benchmarks-to={out}"])
    res = {}
    for mlir in sorted(out.glob("*benchmark*.mlir")):
        vmfb = mlir.with_suffix(".vmfb")
        compile_module(mlir, tgt, output=vmfb, flags=flags)
        text = mlir.read_text()
        import re

        fns = re.findall(r"util\.func public @(\S+?)\(", text) or re.findall(r"func\.func @(\S+?)\(", text)
        for fn in fns:
            p = subprocess.run([iree_tool("iree-benchmark-module"), f"--module={vmfb}", f"--function={fn}",
                                *tgt.runtime_flags(threads), "--benchmark_repetitions=5",
                                "--benchmark_min_warmup_time=0.2", "--benchmark_format=json"],
                               capture_output=True, text=True, timeout=300)
            if p.returncode:
                res[fn] = float("nan")
                continue
            data = json.loads(p.stdout)
            scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
            its = [b["real_time"] * scale[b["time_unit"]] for b in data["benchmarks"]
                   if b.get("run_type") == "iteration"]
            res[fn] = statistics.median(its)
    return res


if __name__ == "__main__":
    sys.exit(main())
