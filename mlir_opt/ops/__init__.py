"""Operator level: search loop transformations per IREE dispatch (issue #5).

An op search is any object with ``name`` and ``run(model, *, target) -> OpsResult``. Its result
can change the module, add iree-compile flags, and carry a tuning spec (a transform library that
plain ``iree-compile --iree-codegen-tuning-spec-path`` accepts) used for the final .vmfb.

Strategies: ``none`` (IREE's defaults), ``random``, ``evolutionary`` and ``reuse`` (ETO-style) (see :mod:`.tuner`,
:mod:`.search`). Pieces: :mod:`.dispatches` (what IREE forms, workloads, per-dispatch time),
:mod:`.space` (sketches and knobs), :mod:`.schedule` (compilation_info and tuning-spec rendering),
:mod:`.evaluate` (build/check/time/record candidates).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from ..errors import MlirOptError
from ..model import Model

__all__ = ["OpsResult", "OpSearch", "NoOpSearch", "TuneSearch", "STRATEGIES", "get_op_search", "optimize_ops"]


@dataclass
class OpsResult:
    """The model to compile, extra compile flags, an optional tuning spec, and statistics."""

    model: Model
    compile_flags: list[str] = field(default_factory=list)
    tuning_spec: str | None = None
    dispatches: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)
    #: transform library for ``--iree-codegen-transform-dialect-library`` (script-form schedules)
    transform_library: str | None = None

    def to_dict(self) -> dict:
        return {"compile_flags": self.compile_flags, "has_tuning_spec": self.tuning_spec is not None,
                "has_transform_library": self.transform_library is not None,
                "dispatches": self.dispatches, "stats": self.stats}


@runtime_checkable
class OpSearch(Protocol):
    """An operator-level search strategy."""

    name: str

    def run(self, model: Model, *, target: str = "llvm-cpu") -> OpsResult: ...


class NoOpSearch:
    """The identity strategy: IREE's default schedules."""

    name = "none"

    def __init__(self, **_: Any):
        pass

    def run(self, model: Model, *, target: str = "llvm-cpu") -> OpsResult:
        return OpsResult(model, stats={"trials": 0})


class TuneSearch:
    """Schedule search per dispatch with a strategy (``random``/``evolutionary``) and a trial budget.

    Args:
        strategy: per-sketch proposal strategy.
        budget: total trials across dispatches.
        db: a :class:`~mlir_opt.db.Database` or a path (default: the user's tuning DB).
        progress: callback ``(message, done, total)``.
        cpu_time: time trials by process CPU time per call (load-robust with ``threads=1``).
    """

    def __init__(self, strategy: str = "evolutionary", *, budget: int = 48, db: Any = None, seed: int = 0,
                 reps: int = 5, threads: int | None = None, progress=None, sketch: str | None = None,
                 cpu_time: bool = False):
        self.name = strategy
        # search this sketch where it applies (e.g. mmt4d_script), as tune --sketch; None: the per-kind
        # sketch, plus mmt4d_script for f32 matmuls on llvm-cpu (space.ALSO_SEARCHED)
        self.sketch = sketch
        self.cpu_time = cpu_time  # module variants timed by CPU time (optimize --cpu-time)
        self.strategy, self.budget, self.seed, self.reps, self.threads = strategy, budget, seed, reps, threads
        self.db, self.progress = db, progress
        self.result = None

    def run(self, model: Model, *, target: str = "llvm-cpu") -> OpsResult:
        from ..db import Database
        from .tuner import tune_model

        db = self.db if isinstance(self.db, Database) else Database(self.db)
        res = tune_model(model, strategy=self.strategy, budget=self.budget, db=db, target=target,
                         seed=self.seed, reps=self.reps, threads=self.threads, progress=self.progress,
                         sketch=self.sketch, cpu_time=self.cpu_time)
        self.result = res
        disp = []
        for d in res.dispatches:
            row = d.to_dict()
            w = res.workloads.get(d.workload.key) if d.workload else None
            if w is not None:
                row.update(default_ms_single=w.default_ms, best_ms_single=w.best_ms, speedup=w.speedup,
                           trials=w.trials, failures=w.failures,
                           best=w.best.describe() if w.best else None)
            disp.append(row)
        stats = {"trials": res.trials, "search_seconds": res.seconds, "strategy": self.strategy,
                 "budget": self.budget, "chosen_variant": res.chosen, "variants_ms": res.variants_ms,
                 "interrupted": res.interrupted, "db": db.path, "also_searched": list(res.also),
                 "workloads": {k: w.to_dict() for k, w in res.workloads.items()}}
        # a packed variant (mmt4d_script winners) compiles the rewritten module, not the input
        return OpsResult(res.model if res.model is not None else model, res.flags, res.tuning_spec, disp, stats,
                         res.transform_library)


STRATEGIES: dict[str, Any] = {"none": NoOpSearch, "random": lambda **kw: TuneSearch("random", **kw),
                              "evolutionary": lambda **kw: TuneSearch("evolutionary", **kw),
                              "reuse": lambda **kw: TuneSearch("reuse", **kw)}


def get_op_search(strategy: "str | OpSearch", **options: Any) -> OpSearch:
    """A strategy instance from its name (with options such as ``budget``), or the instance given."""
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise MlirOptError(f"unknown op search '{strategy}' (available: {', '.join(STRATEGIES)})")
        return STRATEGIES[strategy](**options)
    return strategy


def optimize_ops(model: Model, strategy: "str | OpSearch" = "none", *, target: str = "llvm-cpu",
                 **options: Any) -> OpsResult:
    """Run an operator-level search on ``model``."""
    return get_op_search(strategy, **options).run(model, target=target)
