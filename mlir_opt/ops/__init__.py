"""Operator level: search loop transformations per dispatch (issue #5 fills this in).

An op search is any object with ``name`` and ``run(model, target=...) -> OpsResult``. Its result
can change the module (e.g. attach ``compilation_info`` attributes), add iree-compile flags, and
carry a tuning spec (transform library text) used for the final .vmfb. Today only ``none`` exists:
it leaves the module and the flags unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..errors import MlirOptError
from ..model import Model

__all__ = ["OpsResult", "OpSearch", "NoOpSearch", "STRATEGIES", "get_op_search", "optimize_ops"]


@dataclass
class OpsResult:
    """The model to compile, extra compile flags, an optional tuning spec, and statistics."""

    model: Model
    compile_flags: list[str] = field(default_factory=list)
    tuning_spec: str | None = None
    dispatches: list[dict] = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"compile_flags": self.compile_flags, "has_tuning_spec": self.tuning_spec is not None,
                "dispatches": self.dispatches, "stats": self.stats}


@runtime_checkable
class OpSearch(Protocol):
    """An operator-level search strategy."""

    name: str

    def run(self, model: Model, *, target: str = "llvm-cpu") -> OpsResult: ...


class NoOpSearch:
    """The identity strategy: IREE's default schedules."""

    name = "none"

    def run(self, model: Model, *, target: str = "llvm-cpu") -> OpsResult:
        return OpsResult(model, stats={"trials": 0})


STRATEGIES: dict[str, type] = {"none": NoOpSearch}


def get_op_search(strategy: "str | OpSearch") -> OpSearch:
    """A strategy instance from its name, or the instance given."""
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise MlirOptError(f"unknown op search '{strategy}' (available: {', '.join(STRATEGIES)})")
        return STRATEGIES[strategy]()
    return strategy


def optimize_ops(model: Model, strategy: "str | OpSearch" = "none", *,
                 target: str = "llvm-cpu") -> OpsResult:
    """Run an operator-level search on ``model``."""
    return get_op_search(strategy).run(model, target=target)
