"""Candidate evaluation: validate, build in parallel, check numbers, time, record — failures are data.

Each candidate schedule runs on its workload's single-op module. Builds run in a thread pool
(``iree-compile`` subprocesses, at most one per core, each with a timeout); checks and timings run
afterwards, one at a time, so a timing never overlaps a compile. A candidate that is invalid, fails
to compile, crashes, hangs or returns a wrong result is recorded with its status and reason and can
never be selected. Every result is committed to the tuning database as soon as it is known.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..backend import (benchmark_many, compile_module, compiler_version, default_threads, get_target,
                       rel_error, run_isolated, save_inputs)
from ..db import Database, Record
from .dispatches import Workload
from .schedule import Schedule, render_tuning_spec
from .space import SKETCH_FLAGS
from .transform_script import SCRIPT_SKETCHES, render_transform_library

__all__ = ["MeasureResult", "Evaluator", "build_schedule", "record_target"]


def record_target(target: str, cpu_time: bool = False, threads: int | None = None) -> str:
    """The target string records are stored under: ``target`` for wall-time trials (the default),
    ``target@cpu-time-<threads>t`` for CPU-time trials, so the tuning database never mixes
    the two clocks (nor CPU-time figures of different thread counts) in one ranking."""
    return f"{target}@cpu-time-{threads or default_threads()}t" if cpu_time else target


def build_schedule(s: Schedule, directory: str | Path, target="llvm-cpu", *, timeout: float = 300,
                   extra_flags: Sequence[str] = ()):
    """Compile ``s``'s single-op module into ``directory/m.vmfb`` (flags + tuning spec or transform
    library, as the schedule needs, then ``extra_flags``, e.g. a dump of the executables' intermediates);
    returns the :class:`~mlir_opt.backend.CompileResult` (never raises)."""
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    flags = s.flags()
    if s.sketch in SCRIPT_SKETCHES:  # script form: a transform library IREE executes
        (d / "lib.mlir").write_text(render_transform_library([s]))
        flags = [*flags, f"--iree-codegen-transform-dialect-library={d / 'lib.mlir'}"]
    else:
        spec = render_tuning_spec([s])
        if spec is not None:
            (d / "spec.mlir").write_text(spec)
            flags = [*flags, f"--iree-codegen-tuning-spec-path={d / 'spec.mlir'}"]
    from .transform_script import payload_module

    # the matmul as pack + mmt4d + unpack for mmt4d_script; gpu_script_mma's smem_optin on its own device
    module = payload_module(s) if s.sketch in SCRIPT_SKETCHES else s.workload.single_op_module()
    return compile_module(module, target, output=d / "m.vmfb", flags=[*flags, *extra_flags],
                          timeout=timeout, raise_on_error=False)


@dataclass
class MeasureResult:
    """Outcome of one candidate: ``status`` ``ok`` with times, or a failure with its reason."""

    schedule: Schedule
    status: str
    median_ms: float | None = None
    times_ms: list[float] = field(default_factory=list)
    rel_error: float | None = None
    error: str | None = None
    cached: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "ok"


class Evaluator:
    """Builds, checks and times candidate schedules on single-op modules.

    Args:
        target: IREE target (llvm-cpu).
        db: tuning database (records are looked up first and committed as measured).
        jobs: parallel compiles (default: cores available).
        reps: timing repetitions per candidate (its figure is their median).
        min_time_s: seconds each repetition runs at least (as many calls as fill it, averaged);
            see ``benchmarks/trial_noise.py`` for what longer repetitions buy on a noisy machine.
        tol: relative-error tolerance against the float64 reference.
        compile_timeout, run_timeout: seconds before a build / run counts as hung.
        on_result: callback after each result (progress bars, cost-model updates).
        cpu_time: time trials by process CPU time per call instead of wall time (steady under
            load with ``threads=1``); the records go under :func:`record_target` (``db_target``).
    """

    def __init__(self, target: str = "llvm-cpu", db: Database | None = None, *, jobs: int | None = None,
                 reps: int = 5, min_time_s: float = 0.02, tol: float = 1e-4,
                 threads: int | None = None, compile_timeout: float = 300,
                 run_timeout: float = 120, seed: int = 0,
                 on_result: Callable[[MeasureResult], None] | None = None, cpu_time: bool = False):
        self.target = get_target(target)
        self.db = db if db is not None else Database(":memory:")
        self.jobs = jobs or default_threads()
        self.reps, self.tol, self.threads = reps, tol, threads or default_threads()
        self.min_time_s = min_time_s
        self.cpu_time = cpu_time
        #: target string of this evaluator's records in the database (clock and threads tagged)
        self.db_target = record_target(self.target.name, cpu_time, self.threads)
        self.compile_timeout, self.run_timeout, self.seed = compile_timeout, run_timeout, seed
        self.on_result = on_result
        self.version = compiler_version()
        self._tmp = tempfile.TemporaryDirectory(prefix="mlir_opt_eval_")
        self._inputs: dict[str, tuple[list[str], np.ndarray]] = {}
        self.trials = 0

    def close(self) -> None:
        self._tmp.cleanup()

    def _workload_io(self, w: Workload) -> tuple[list[str], np.ndarray]:
        if w.key not in self._inputs:
            rng = np.random.default_rng(self.seed)
            shapes = [tuple(int(x) for x in t[len("tensor<"):-1].split("x")[:-1]) for t in w.operand_types[:2]]
            ins = [rng.standard_normal(s).astype(np.dtype("float32" if w.types[0] == "f32" else w.types[0]))
                   for s in shapes]
            flags = save_inputs(ins, Path(self._tmp.name) / w.key)
            self._inputs[w.key] = (flags, w.reference(ins))
        return self._inputs[w.key]

    def _record(self, res: MeasureResult, flags: list[str]) -> MeasureResult:
        s = res.schedule
        self.db.commit(Record(s.workload.key, self.db_target, s.sketch, s.decisions, flags, self.version,
                              res.status, res.median_ms, res.times_ms, res.rel_error, res.error))
        self.trials += 1
        if self.on_result:
            self.on_result(res)
        return res

    def _build(self, s: Schedule, idx: int):
        d = Path(self._tmp.name) / f"cand{self.trials}_{idx}"
        return build_schedule(s, d, self.target, timeout=self.compile_timeout)

    def evaluate(self, schedules: Sequence[Schedule]) -> list[MeasureResult]:
        """Evaluate a batch; results come back in the order of ``schedules``."""
        results: list[MeasureResult | None] = [None] * len(schedules)
        todo = []
        for i, s in enumerate(schedules):
            self.db.add_workload(s.workload.key, s.workload.kind, s.workload.to_dict())
            reason = s.validate()
            if reason is not None:
                flags = s.flags() if s.sketch in SKETCH_FLAGS else []
                results[i] = self._record(MeasureResult(s, "invalid", error=reason), flags)
                continue
            old = self.db.lookup(s.workload.key, self.db_target, s.sketch, s.decisions, s.flags(), self.version)
            if old is not None:
                results[i] = MeasureResult(s, old.status, old.median_ms, old.times_ms, old.rel_error, old.error,
                                           cached=True)
                continue
            todo.append(i)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            builds = dict(zip(todo, pool.map(lambda i: self._build(schedules[i], i), todo)))
        for i in todo:
            s, b = schedules[i], builds[i]
            flags = s.flags()
            if not b.ok:
                status = "compile_timeout" if any(w in (b.error or "") for w in ("timed out", "hung")) \
                    else "compile_error"
                results[i] = self._record(MeasureResult(s, status, error=b.error), flags)
                continue
            in_flags, ref = self._workload_io(s.workload)
            outs, err = run_isolated(b.vmfb, in_flags, 1, target=self.target, threads=self.threads,
                                     timeout=self.run_timeout)
            if err is not None:
                status = "run_timeout" if err.startswith("timeout") else "run_error"
                results[i] = self._record(MeasureResult(s, status, error=err), flags)
                continue
            err_rel = rel_error(outs[0], ref)
            if not err_rel <= self.tol:
                results[i] = self._record(MeasureResult(s, "wrong_result", rel_error=err_rel,
                                                        error=f"relative error {err_rel:.3g} > {self.tol:g}"), flags)
                continue
            try:
                t = benchmark_many({"c": b.vmfb}, [], entry="main", target=self.target, reps=self.reps,
                                   rounds=1, warmup_s=0.05, min_time_s=self.min_time_s, threads=self.threads,
                                   timeout=self.run_timeout, input_flags=in_flags, cpu_time=self.cpu_time)["c"]
            except Exception as e:  # benchmark failure or timeout is data
                results[i] = self._record(MeasureResult(s, "run_error", rel_error=err_rel, error=str(e)), flags)
                continue
            results[i] = self._record(MeasureResult(s, "ok", t.median_ms, t.samples_ms, err_rel), flags)
        return results  # type: ignore[return-value]
