"""Graph level: search for a faster equivalent linalg/tensor graph (issue #4 fills this in).

A graph search is any object with ``name`` and ``run(model, target=...) -> GraphResult``; strategies
are looked up by name in :data:`STRATEGIES` (a string or an instance is accepted, as in
MetaSchedule's factories). Today only ``none`` exists: it returns the module unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..errors import MlirOptError
from ..model import Model

__all__ = ["GraphResult", "GraphSearch", "NoGraphSearch", "STRATEGIES", "get_graph_search", "optimize_graph"]


@dataclass
class GraphResult:
    """The rewritten model, the rewrites applied (in order), model costs and search statistics."""

    model: Model
    applied: list[str] = field(default_factory=list)
    cost_before: float | None = None
    cost_after: float | None = None
    stats: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"applied": self.applied, "cost_before": self.cost_before,
                "cost_after": self.cost_after, "stats": self.stats}


@runtime_checkable
class GraphSearch(Protocol):
    """A graph-level search strategy."""

    name: str

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult: ...


class NoGraphSearch:
    """The identity strategy: no rewrites."""

    name = "none"

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        return GraphResult(model, stats={"graphs_explored": 1})


STRATEGIES: dict[str, type] = {"none": NoGraphSearch}


def get_graph_search(strategy: "str | GraphSearch") -> GraphSearch:
    """A strategy instance from its name, or the instance given."""
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise MlirOptError(f"unknown graph search '{strategy}' (available: {', '.join(STRATEGIES)})")
        return STRATEGIES[strategy]()
    return strategy


def optimize_graph(model: Model, strategy: "str | GraphSearch" = "none", *,
                   target: str = "llvm-cpu") -> GraphResult:
    """Run a graph-level search on ``model``; returns the best equivalent model found."""
    return get_graph_search(strategy).run(model, target=target)
