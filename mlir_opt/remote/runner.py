#!/usr/bin/env python3
"""mlir_opt benchmark-bundle runner: needs only numpy and iree-base-runtime (torch optional).

Run on the machine that has the device:

    python3 runner.py BUNDLE_DIR [--out results.json] [--reps 10]

For every module in BUNDLE_DIR/manifest.json it makes the inputs (from the manifest's seed, so
nothing large is shipped), runs the module once with iree-run-module and checks the outputs
against the reference (computed here in float64: numpy, or torch on the GPU when available),
then times it with iree-benchmark-module (warm-up, repetitions, median). Peer entries (e.g.
``torch_matmul``: cuBLAS through torch, TF32 off) are timed with CUDA events. A failure of one
entry is recorded with its reason and never stops the others. This file is copied verbatim into
each bundle; it must not import mlir_opt.

``--timing`` picks how IREE modules are timed, the same for every module of the run (recorded in
the results' ``timing``; ``cached`` unless told otherwise): ``plain`` (IREE's default HAL flags: on CUDA each call allocates its
result stream-ordered, ``cuMemAllocAsync``), ``cached`` (``--device_allocator=caching``, plus
``--cuda_async_allocations=false`` on CUDA: results come from a caching allocator as torch's do;
on Vulkan no flag, as IREE 3.13's caching allocator refuses the result buffer there),
``batched`` (``cached`` with ``--batch_size`` / ``--batch_concurrency`` 10: calls issued back to back,
as torch's launches are; this pipelines only modules compiled with
``--iree-execution-model=async-external``, a synchronous module waits inside every call)
or ``all`` (all three, ``median_ms`` from ``cached``, plus the kernel time from
``--dispatch_statistics`` where the HAL driver implements it: not CUDA in 3.13). In ``plain`` and
``cached`` each call ends in a host wait; torch peers record both the CUDA-event time of back-to-back
launches (``median_ms``, as before) and the wall time of one call followed by a synchronisation
(``call_ms``: the mean of 10 consecutive call + synchronize pairs, the counterpart of IREE's call
time; ``call1_ms``: one isolated call after the event burst, the earlier ``call_ms``). With ``--batch_size=N``, iree-benchmark-module
3.13 reports 1/N of a synchronous module's call time (checked by wall clock on an H100); the runner
multiplies back.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def find_tool(name: str) -> str | None:
    try:
        import iree.runtime as rt

        base = Path(rt.__file__).parent.parent
        for cand in base.rglob(name):
            if cand.is_file() and os.access(cand, os.X_OK):
                return str(cand)
    except Exception:
        pass
    return shutil.which(name)


#: The shared library each GPU driver needs (the NVIDIA driver's libcuda, the Vulkan loader).
DRIVER_LIBS = {"cuda": ("libcuda.so.1", "the NVIDIA driver (libcuda.so.1) is not installed on this machine"),
               "vulkan": ("libvulkan.so.1", "the Vulkan loader (libvulkan.so.1) is not installed on this machine: "
                          "install libvulkan1 (e.g. `dpkg -x libvulkan1_*.deb / && ldconfig`)")}


def check_driver(driver: str) -> str | None:
    """None when ``driver`` can run here, else a plain sentence saying what is missing."""
    import ctypes

    lib = DRIVER_LIBS.get(driver)
    if lib is not None:
        try:
            ctypes.CDLL(lib[0])
        except OSError:
            return f"no {driver} driver: {lib[1]}"
    try:
        import iree.runtime as rt
    except ImportError:
        return "iree.runtime is not importable: install iree-base-runtime"
    try:
        devs = rt.get_driver(driver).query_available_devices()
    except Exception as e:  # noqa: BLE001
        return f"no {driver} driver: IREE cannot open it ({str(e).splitlines()[0][:200]})"
    if not devs:
        return f"no {driver} device: the {driver} driver loads but lists no device"
    return None


def device_info(driver: str) -> dict:
    info = {"driver": driver, "host": platform.node()}
    if driver in ("cuda", "vulkan"):
        try:
            q = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                               capture_output=True, text=True, timeout=30)
            name, ver = q.stdout.strip().splitlines()[0].split(", ")
            info.update(name=name, driver_version=ver)
        except Exception as e:  # noqa: BLE001
            info["error"] = f"nvidia-smi failed: {e}"
    return info


def make_inputs(spec: dict) -> list[np.ndarray]:
    rng = np.random.default_rng(spec["seed"])
    return [rng.standard_normal(tuple(t["shape"])).astype(t["dtype"]) for t in spec["inputs"]]


def reference(kind: str, ins: list[np.ndarray]) -> np.ndarray:
    if kind != "matmul":
        raise ValueError(f"unknown reference kind {kind}")
    try:
        import torch

        if torch.cuda.is_available():
            a, b = (torch.from_numpy(x).to("cuda", torch.float64) for x in ins)
            return (a @ b).cpu().numpy()
    except Exception:  # noqa: BLE001
        pass
    return np.asarray(ins[0], np.float64) @ np.asarray(ins[1], np.float64)


def _stderr_reason(stderr: str, rc: int) -> str:
    """The informative part of a failed IREE tool's stderr: its first and last lines, shortened."""
    lines = [x.strip() for x in stderr.splitlines() if x.strip()]
    if not lines:
        return f"exit status {rc}"
    return (lines[0] if len(lines) == 1 else f"{lines[0][:300]} … {lines[-1][:200]}")[:520]


def rel_error(out: np.ndarray, ref: np.ndarray) -> float:
    o, r = np.asarray(out, np.float64).ravel(), np.asarray(ref, np.float64).ravel()
    if o.shape != r.shape or not np.all(np.isfinite(o)):
        return float("inf")
    return float(np.linalg.norm(o - r) / max(np.linalg.norm(r), 1e-30))


def time_torch_matmul(ins, reps: int) -> tuple[list[float], list[float], list[float]]:
    """Per rep: CUDA-event ms per call over 10 back-to-back launches; wall ms per call of 10 consecutive
    (call + synchronize) pairs (what iree-benchmark-module times for an IREE call: invoke, then a host
    wait, in a loop); wall ms of one isolated call + synchronize right after the event burst."""
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    a, b = (torch.from_numpy(x).cuda() for x in ins)
    for _ in range(5):
        a @ b
    torch.cuda.synchronize()
    out, calls, ones = [], [], []
    n = 10
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(n):
            a @ b
        e.record()
        torch.cuda.synchronize()
        out.append(s.elapsed_time(e) / n)
        t0 = time.perf_counter()
        a @ b
        torch.cuda.synchronize()
        ones.append((time.perf_counter() - t0) * 1e3)
        t0 = time.perf_counter()
        for _ in range(n):
            a @ b
            torch.cuda.synchronize()
        calls.append((time.perf_counter() - t0) * 1e3 / n)
    return out, calls, ones


#: --timing choices (HAL flags per driver: :func:`hal_flags`) and the calls a ``batched`` iteration issues.
TIMING_MODES = ("plain", "cached", "batched")
BATCH = 10


def hal_flags(mode: str, driver: str) -> list[str]:
    """The iree-run-module / iree-benchmark-module flags of timing ``mode`` on ``driver``."""
    if mode == "plain":
        return []
    # Vulkan (IREE 3.13, NVIDIA 580 on the H100): the caching allocator refuses the result allocation
    # ("allocator cannot allocate a Vulkan buffer with the given parameters", hal.device.queue.alloca),
    # so a cached Vulkan run uses IREE's default allocator
    flags = [] if driver == "vulkan" else ["--device_allocator=caching"]
    if driver == "cuda":
        flags.append("--cuda_async_allocations=false")
    if mode == "batched":
        flags += [f"--batch_size={BATCH}", f"--batch_concurrency={BATCH}"]
    return flags


def _bench(bench_tool: str, base: list[str], extra: list[str], reps: int, timeout: float) -> tuple[list[float] | None, dict, str]:
    """Run iree-benchmark-module: (per-iteration ms or None, {dispatch row name: median ms}, error)."""
    p = subprocess.run([bench_tool, *base, *extra, f"--benchmark_repetitions={reps}", "--benchmark_min_time=0.05s",
                        "--benchmark_min_warmup_time=0.1", "--benchmark_format=json"],
                       capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        return None, {}, p.stderr.strip()[-300:]
    d = json.loads(p.stdout)
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    rows = [b for b in d["benchmarks"] if b.get("run_type") == "iteration"]
    names = [b["name"] for b in rows]
    main_name = min(names, key=len) if names else ""
    ts = [b["real_time"] * scale[b["time_unit"]] for b in rows if b["name"] == main_name]
    disp: dict[str, list[float]] = {}
    for b in rows:
        if b["name"] != main_name:
            disp.setdefault(b["name"], []).append(b["real_time"] * scale[b["time_unit"]])
    return ts, {k: statistics.median(v) for k, v in disp.items()}, ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Run an mlir_opt benchmark bundle.")
    ap.add_argument("bundle", type=Path)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--reps", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=None,
                    help="seconds one module may run (check or timing) before it counts as hung (default: manifest's, else 120/300)")
    ap.add_argument("--deadline", type=float, default=None,
                    help="seconds after which no further entry is started (the rest are left out)")
    ap.add_argument("--timing", choices=(*TIMING_MODES, "all"), default="cached",
                    help="how every IREE module is timed: cached (the default since 2026-11-26: caching "
                         "allocator, synchronous allocations), plain (IREE's default HAL flags: a stream-ordered "
                         "allocation every call), batched (cached, 10 concurrent calls), all")
    args = ap.parse_args(argv)
    start = time.time()
    out_path = args.out or (args.bundle / "results.json")
    man = json.loads((args.bundle / "manifest.json").read_text())
    driver = man["driver"]
    reps = args.reps or man.get("reps", 10)
    run_tool, bench_tool = find_tool("iree-run-module"), find_tool("iree-benchmark-module")
    results = {"bundle": man["id"], "target": man["target"], "device": device_info(driver),
               "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "results": []}
    modes = list(TIMING_MODES) if args.timing == "all" else [args.timing]
    async_abi = "--iree-execution-model=async-external" in man.get("compile_flags", [])
    primary = "cached" if args.timing == "all" else args.timing
    results["timing"] = {"mode": args.timing, "median_ms_from": primary,
                         "hal_flags": {m: hal_flags(m, driver) for m in modes}, "batch_size": BATCH,
                         "kernel_time": args.timing == "all",
                         "note": "plain/cached: each IREE call ends in a host wait; batched: per call of 10 issued "
                                 "concurrently (pipelined only for async-external modules); kernel_ms: --dispatch_statistics; torch median_ms: "
                                 "CUDA events over 10 back-to-back launches, call_ms: 10 x (call + synchronize) / 10, "
                                 "call1_ms: one isolated call + synchronize"}
    if not run_tool or not bench_tool:
        results["error"] = "iree-run-module / iree-benchmark-module not found: install iree-base-runtime"
    else:
        missing = check_driver(driver)
        if missing:
            results["error"] = missing
    if "error" in results:
        print(f"runner: {results['error']}", file=sys.stderr, flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="bundle_"))
    cache: dict[str, tuple[list[str], np.ndarray, list[np.ndarray]]] = {}
    for e in man["entries"]:
        if args.deadline is not None and time.time() - start > args.deadline:
            results["stopped"] = f"deadline of {args.deadline:.0f} s reached; later entries not run"
            print(f"runner: {results['stopped']}", file=sys.stderr, flush=True)
            break
        if "error" in results:  # nothing can run: say so once, per entry, without building inputs
            results["results"].append({"id": e["id"], "status": "run_error", "error": results["error"]})
            continue
        rec = {"id": e["id"], "status": "ok"}
        t0 = time.time()
        try:
            key = json.dumps(e["io"], sort_keys=True)
            if key not in cache:
                if "files" in e["io"]:  # whole models: inputs and reference outputs are shipped
                    ins = [np.load(args.bundle / f) for f in e["io"]["files"]["inputs"]]
                    flags = [f"--input=@{args.bundle / f}" for f in e["io"]["files"]["inputs"]]
                    refs = [np.load(args.bundle / f) for f in e["io"]["files"]["reference"]]
                else:
                    ins = make_inputs(e["io"])
                    flags = []
                    for i, a in enumerate(ins):
                        p = tmp / f"in{len(cache)}_{i}.npy"
                        np.save(p, a)
                        flags.append(f"--input=@{p}")
                    refs = [reference(e["io"]["reference"], ins)]
                cache[key] = (flags, refs, ins)
            flags, refs, ins = cache[key]
            if e.get("peer") == "torch_matmul":
                ts, calls, ones = time_torch_matmul(ins, reps)
                rec.update(median_ms=statistics.median(ts), times_ms=ts, call_ms=statistics.median(calls),
                           call1_ms=statistics.median(ones))
                results["results"].append(rec)
                continue
            mod = args.bundle / e["module"]
            fn = e.get("function", "main")
            # IREE parameter archives (weights shipped once for several modules): scope=path
            params = [f"--parameters={p.split('=', 1)[0]}={args.bundle / p.split('=', 1)[1]}"
                      for p in e.get("parameters", [])]
            flags = [*params, *flags]
            outs = [tmp / f"out{i}.npy" for i in range(len(refs))]
            p = subprocess.run([run_tool, f"--module={mod}", f"--device={driver}", f"--function={fn}", *flags,
                                *[x for x in hal_flags(primary, driver) if not x.startswith("--batch")],
                                *[f"--output=@{o}" for o in outs]], capture_output=True, text=True,
                               timeout=args.timeout or e.get("timeout", 120))
            if p.returncode != 0:
                rec.update(status="run_error", error=_stderr_reason(p.stderr, p.returncode))
                results["results"].append(rec)
                continue
            err = max(rel_error(np.load(o), r) for o, r in zip(outs, refs))
            rec["rel_error"] = err
            if not err <= man.get("tol", 1e-4):
                rec.update(status="wrong_result", error=f"relative error {err:.3g}")
                results["results"].append(rec)
                continue
            base = [f"--module={mod}", f"--device={driver}", f"--function={fn}", *flags]
            tmo = args.timeout or e.get("timeout", 300)
            timings = {}
            for m in modes:
                ts, _, err = _bench(bench_tool, base, hal_flags(m, driver), reps, tmo)
                if ts is None:
                    timings[m] = {"error": err}
                    continue
                if m == "batched" and not async_abi:  # 3.13 reports 1/BATCH of a synchronous call's time
                    ts = [t * BATCH for t in ts]
                timings[m] = {"median_ms": statistics.median(ts), "times_ms": ts}
            if primary in timings and "median_ms" in timings[primary]:
                rec.update(median_ms=timings[primary]["median_ms"], times_ms=timings[primary]["times_ms"])
            else:
                rec.update(status="run_error", error=timings.get(primary, {}).get("error", "not timed"))
            if len(modes) > 1:
                rec["timings"] = {m: {k: v for k, v in t.items() if k != "times_ms"} for m, t in timings.items()}
            if args.timing == "all" and rec["status"] == "ok":
                _, disp, err = _bench(bench_tool, base, [*hal_flags("cached", driver), "--dispatch_statistics"], 3, tmo)
                rec["dispatch_ms"] = disp or {"error": err or "no dispatch rows"}
                if disp:
                    rec["kernel_ms"] = sum(disp.values())
        except subprocess.TimeoutExpired:
            rec.update(status="run_timeout", error="timed out")
        except Exception as ex:  # noqa: BLE001
            rec.update(status="run_error", error=f"{type(ex).__name__}: {ex}"[:300])
        rec["seconds"] = time.time() - t0
        results["results"].append(rec)
        out_path.write_text(json.dumps(results, indent=1) + "\n")  # partial results survive a kill
        print(f"{e['id']}: {rec['status']} {rec.get('median_ms', '')}", file=sys.stderr, flush=True)
    out_path.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out_path}")
    return 3 if "error" in results else 0


if __name__ == "__main__":
    sys.exit(main())
