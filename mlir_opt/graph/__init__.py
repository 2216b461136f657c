"""Graph level: search for a faster equivalent linalg/tensor graph (issue #4).

A graph search is any object with ``name`` and ``run(model, target=...) -> GraphResult``; strategies
are looked up by name in :data:`STRATEGIES` (a string or an instance is accepted, as in
MetaSchedule's factories): ``none`` (identity), ``greedy``, ``backtrack``, ``ocggs`` and ``eqsat`` (:mod:`.search`).

Pieces: :mod:`.view` (dataflow view + structural hash), :mod:`.rules` (named rewrite rules, one
module per family), :mod:`.verify` (numerical verification of every rule), :mod:`.cost` (roofline
and measured graph cost). :func:`apply_rules` applies named rules to a fixpoint without search.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from ..errors import MlirOptError
from ..model import Model

__all__ = ["GraphResult", "GraphSearch", "NoGraphSearch", "STRATEGIES", "get_graph_search", "optimize_graph",
           "apply_rules", "prepare"]


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


def prepare(model: Model) -> Model:
    """A clone of ``model`` whose ``dense_resource`` constants are inline (readable by the rules)."""
    from .. import ir as _ir
    from .search.common import clone_module

    m = model.clone(clone_module(model.module))  # in memory (no bytecode round trip)
    _ir.materialize_resources(m.module)
    return m


def apply_rules(model: Model, names=None, *, max_steps: int = 1000) -> GraphResult:
    """Apply the named rules (all for None) wherever they match, until none matches.

    No cost model is consulted: this is the deterministic rewriter behind ``python -m mlir_opt
    rewrite``. Rules are tried in the order given; after each application matching restarts.
    With ``names=None`` only rules with ``auto=True`` are used (inverse and enabling-only rules
    such as ``enlarge-conv-kernel`` are left to the searches, so the fixpoint cannot oscillate).

    Args:
        model: the model (not modified; a clone is rewritten).
        names: rule names, see :data:`mlir_opt.graph.rules.RULES`.
        max_steps: bound on the number of applications.
    Returns:
        :class:`GraphResult` with the rewritten model and the applied rule names in order.
    """
    import time

    from .rules import get_rules
    from .view import GraphView

    rules = get_rules(names)
    if names is None:
        rules = [r for r in rules if r.auto]
    t0 = time.perf_counter()
    m = prepare(model)
    applied: list[str] = []
    seen = {GraphView(m).structural_hash()}
    cycle = False
    progress = True
    while progress and len(applied) < max_steps:
        progress = False
        for rule in rules:
            matches = rule.match(GraphView(m))
            if matches:
                rule.apply(m.module, matches[0])
                applied.append(rule.name)
                h = GraphView(m).structural_hash()
                # named inverse rules (conv1x1-to-matmul with matmul-to-conv1x1) would oscillate:
                # stop at the first graph seen before
                progress = h not in seen
                cycle = not progress
                seen.add(h)
                break
    m.verify()
    stats = {"steps": len(applied), "seconds": time.perf_counter() - t0}
    if cycle:
        stats["cycle"] = True
    return GraphResult(m, applied, stats=stats)


def get_graph_search(strategy: "str | GraphSearch", *, cost=None, options: dict | None = None,
                     target: str = "llvm-cpu") -> GraphSearch:
    """A strategy instance from its name, or the instance given.

    ``cost``: a :class:`~mlir_opt.graph.cost.CostModel` or a mode name (``roofline``, ``measured``,
    ``whole``) given to a strategy built from its name (None: the strategy's default, the roofline).
    ``options``: more keyword arguments of the strategy's constructor, e.g. ``{"prune": False,
    "incremental": False}`` for ``ocggs`` (a strategy that does not take one is an error).
    """
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise MlirOptError(f"unknown graph search '{strategy}' (available: {', '.join(STRATEGIES)})")
        kw = dict(options or {})
        if cost is not None and strategy != "none":
            if isinstance(cost, str):
                from .cost import CostModel

                cost = CostModel(mode=cost, target=target)  # the target's roofline preset
            kw["cost"] = cost
        try:
            return STRATEGIES[strategy](**kw)
        except TypeError:
            what = ", ".join(kw) or "these options"
            raise MlirOptError(f"graph search '{strategy}' does not take {what}") from None
    if options:
        raise MlirOptError("graph search options apply to a strategy given by name")
    return strategy


def optimize_graph(model: Model, strategy: "str | GraphSearch" = "none", *,
                   target: str = "llvm-cpu", cost=None, options: dict | None = None) -> GraphResult:
    """Run a graph-level search on ``model``; returns the best equivalent model found.

    ``cost``/``options``: cost model (or mode name) and constructor options for a strategy given by
    name (see :func:`get_graph_search`). The roofline cost uses ``target``'s preset
    (:meth:`~mlir_opt.graph.cost.Roofline.for_target`).
    """
    return get_graph_search(strategy, cost=cost, options=options, target=target).run(model, target=target)


from .search.greedy import GreedySearch  # noqa: E402  (needs GraphResult and prepare above)

from .search.backtrack import BacktrackingSearch  # noqa: E402
from .search.ocggs import OCGGSSearch  # noqa: E402
from .search.eqsat import EqSatSearch  # noqa: E402

STRATEGIES["greedy"] = GreedySearch
STRATEGIES["backtrack"] = BacktrackingSearch
STRATEGIES["ocggs"] = OCGGSSearch
STRATEGIES["eqsat"] = EqSatSearch
