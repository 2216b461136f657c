"""Time compiled modules with iree-benchmark-module: warm-up, repetitions, median and spread.

Inputs go through ``.npy`` files (``--input=@file.npy``): passing arrays on the command line fails
on real tensors ("Argument list too long"). Several modules are timed in interleaved rounds so a
noisy neighbour hits all of them alike; compare them by ratio.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from ..errors import MlirOptError
from .compile import iree_tool
from .targets import Target, get_target
from .targets import default_threads as _default_threads

__all__ = ["Timing", "benchmark", "benchmark_many", "benchmark_interleaved", "paired_ratio", "save_inputs",
           "time_callable"]


@dataclass
class Timing:
    """Latency statistics in milliseconds over repetitions."""

    samples_ms: list[float] = field(default_factory=list)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def min_ms(self) -> float:
        return min(self.samples_ms)

    @property
    def max_ms(self) -> float:
        return max(self.samples_ms)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median (noise indicator)."""
        if len(self.samples_ms) < 4:
            return (self.max_ms - self.min_ms) / self.median_ms
        q = statistics.quantiles(self.samples_ms, n=4)
        return (q[2] - q[0]) / self.median_ms

    def summary(self) -> dict:
        return {"median_ms": self.median_ms, "min_ms": self.min_ms, "max_ms": self.max_ms,
                "iqr_rel": self.spread, "reps": len(self.samples_ms)}

    def to_dict(self) -> dict:
        return {**self.summary(), **asdict(self)}


def save_inputs(inputs: Sequence[np.ndarray], directory: str | Path) -> list[str]:
    """Write inputs as .npy files; returns the ``--input=@…`` flags."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    flags = []
    for i, a in enumerate(inputs):
        p = directory / f"input{i}.npy"
        np.save(p, np.ascontiguousarray(a))
        flags.append(f"--input=@{p}")
    return flags


def _sync_cpu(tgt: Target, threads: int | None, cpu_time: bool) -> bool:
    """CPU-time timing at one thread runs on IREE's ``local-sync`` device: the dispatches execute
    inline on the calling thread, so the process CPU time is the work alone. (``local-task`` with one
    worker adds the caller's waits and wake-ups: measured under load with benchmarks/trial_noise.py,
    a trial's CPU time had a median CV of 22 % there against 9 % on ``local-sync``, and read about
    1.5x higher, docs/op-level.md.)"""
    return cpu_time and tgt.is_cpu and (threads or _default_threads()) == 1


def _run_once(vmfb: Path, entry: str, input_flags: list[str], tgt: Target, reps: int,
              warmup_s: float, min_time_s: float, threads: int | None, timeout: float,
              cpu_time: bool = False) -> list[float]:
    cmd = [iree_tool("iree-benchmark-module"), f"--module={vmfb}", f"--function={entry}",
           *(["--device=local-sync"] if _sync_cpu(tgt, threads, cpu_time) else tgt.runtime_flags(threads)),
           *input_flags, f"--benchmark_repetitions={reps}", f"--benchmark_min_time={min_time_s}s",
           f"--benchmark_min_warmup_time={warmup_s}", "--benchmark_format=json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MlirOptError(f"benchmark of {vmfb.name} timed out after {timeout:.0f} s") from None
    if proc.returncode != 0:
        msg = [l for l in proc.stderr.splitlines() if l.strip()]
        raise MlirOptError(f"benchmark of {vmfb.name} failed: {msg[-1] if msg else proc.returncode}")
    data = json.loads(proc.stdout)
    scale = {"ns": 1e-6, "us": 1e-3, "ms": 1.0, "s": 1e3}
    clock = "cpu_time" if cpu_time else "real_time"
    return [b[clock] * scale[b["time_unit"]] for b in data["benchmarks"]
            if b.get("run_type") == "iteration"]


def benchmark_many(vmfbs: Mapping[str, str | Path], inputs: Sequence[np.ndarray], *,
                   entry: str = "main", target: str | Target = "llvm-cpu", reps: int = 10,
                   rounds: int = 3, warmup_s: float = 0.2, min_time_s: float = 0.05,
                   threads: int | None = None, timeout: float = 600,
                   input_flags: Sequence[str] | None = None, cpu_time: bool = False) -> dict[str, Timing]:
    """Time several modules on the same inputs, interleaved over ``rounds``.

    ``cpu_time``: record iree-benchmark-module's process CPU time per call instead of wall time
    (with ``threads=1`` this is steady on a loaded machine: time spent descheduled does not count;
    the modules then run on the ``local-sync`` device, inline on one thread).

    Each round runs every module for ``ceil(reps / rounds)`` repetitions (each repetition averages
    as many iterations as fill ``min_time_s``); the samples of all rounds are pooled.
    ``input_flags`` (``--input=@file.npy`` flags of inputs already saved) replaces ``inputs``.
    """
    tgt = get_target(target)
    per_round = max(1, -(-reps // rounds))
    out = {k: Timing() for k in vmfbs}
    with tempfile.TemporaryDirectory(prefix="mlir_opt_bench_") as tmp:
        flags = list(input_flags) if input_flags is not None else save_inputs(inputs, tmp)
        for _ in range(rounds):
            for key, path in vmfbs.items():
                out[key].samples_ms += _run_once(Path(path), entry, flags, tgt, per_round, warmup_s,
                                                 min_time_s, threads, timeout, cpu_time)
    return out


def benchmark_interleaved(vmfbs: Mapping[str, str | Path], inputs: Sequence[np.ndarray], *,
                          entry: str = "main", target: str | Target = "llvm-cpu", rounds: int = 7,
                          warmup_s: float = 0.1, min_time_s: float = 0.05,
                          threads: int | None = None, cpu_time: bool = False) -> dict[str, Timing]:
    """Time several modules in this process on one device (the same worker threads), interleaved.

    All modules are loaded into one IREE runtime device; the inputs are placed on it once. After a
    warm-up of each, every one of ``rounds`` rounds times each module once (a sample is the mean
    latency over as many calls as fill ``min_time_s``), alternating the order from round to round
    (A B C, C B A, ...) so that neither drift nor a neighbour's burst favours one module. Sample
    ``i`` of every module comes from round ``i``: compare modules by the per-round ratios
    (paired), see :func:`paired_ratio`. Includes the Python call overhead (about 10 µs here).
    ``cpu_time``: a sample is this process's CPU time per call (all threads, ``time.process_time``)
    instead of wall time; with ``threads=1`` it is steady on a loaded machine (time spent
    descheduled does not count; the modules then run on the ``local-sync`` device, inline on the
    calling thread), like :func:`benchmark_many`'s ``cpu_time``.
    """
    import time

    import iree.runtime as rt

    from .runtime import _set_threads

    tgt = get_target(target)
    sync = _sync_cpu(tgt, threads, cpu_time)
    if tgt.is_cpu and not sync:
        _set_threads(threads or _default_threads())
    try:
        cfg = rt.Config("local-sync" if sync else tgt.driver)
    except Exception as err:
        raise MlirOptError(f"IREE runtime driver '{tgt.driver}' is not available here: {err}") from None
    fns = {}
    for key, path in vmfbs.items():
        ctx = rt.SystemContext(config=cfg)
        vm = rt.VmModule.mmap(ctx.instance, str(path))
        ctx.add_vm_module(vm)
        if entry not in vm.function_names:
            raise MlirOptError(f"{path}: no function '{entry}' (has {', '.join(vm.function_names)})")
        fns[key] = ctx.modules[vm.name][entry]
    args = [rt.asdevicearray(cfg.device, np.ascontiguousarray(a)) for a in inputs]

    def sample(fn, budget_s: float) -> float:
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while True:
            fn(*args)
            n += 1
            dt = time.perf_counter() - t0
            if dt >= budget_s:
                return ((time.process_time() - c0) if cpu_time else dt) / n * 1e3

    for fn in fns.values():
        sample(fn, warmup_s)
    out = {k: Timing() for k in fns}
    keys = list(fns)
    for r in range(rounds):
        for key in (keys if r % 2 == 0 else keys[::-1]):
            out[key].samples_ms.append(sample(fns[key], min_time_s))
    return out


def paired_ratio(a: Timing, b: Timing) -> float:
    """Median over rounds of ``a``'s sample / ``b``'s sample (timings of :func:`benchmark_interleaved`)."""
    if len(a.samples_ms) != len(b.samples_ms) or not a.samples_ms:
        raise ValueError("paired_ratio needs timings from the same interleaved rounds")
    return statistics.median(x / y for x, y in zip(a.samples_ms, b.samples_ms))


def benchmark(vmfb: str | Path, inputs: Sequence[np.ndarray], **kwargs) -> Timing:
    """Time one module; keyword arguments as for :func:`benchmark_many`."""
    return benchmark_many({"m": vmfb}, inputs, **kwargs)["m"]


def time_callable(fn, *, reps: int = 10, warmup_s: float = 0.2, min_time_s: float = 0.05) -> Timing:
    """Time a Python callable the way iree-benchmark-module times a module.

    After ``warmup_s`` of calls, each of ``reps`` samples is the mean latency over as many calls as
    fill ``min_time_s``. Used for the peers (torch eager, ONNX Runtime) in benchmarks.
    """
    import time

    end = time.perf_counter() + warmup_s
    fn()
    while time.perf_counter() < end:
        fn()
    samples = []
    for _ in range(reps):
        n, t0 = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            dt = time.perf_counter() - t0
            if dt >= min_time_s:
                break
        samples.append(dt / n * 1e3)
    return Timing(samples)
