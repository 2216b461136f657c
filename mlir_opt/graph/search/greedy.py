"""Greedy graph search: apply the rewrite that lowers the cost most, until none does."""

from __future__ import annotations

import time

from ...model import Model
from .. import GraphResult, prepare
from ..cost import CostModel
from .common import Expander, setup

__all__ = ["GreedySearch"]

class GreedySearch:
    """At each step, try every match of every verified rule on a clone, keep the cheapest.

    Graphs are deduplicated by structural hash; a candidate whose rewrite fails (a precondition
    that no longer holds, an invalid module) is skipped and logged. Ctrl-C keeps the best graph
    found so far.

    Args:
        rules: rule names to use (default: all rules that pass :func:`verify_rules`).
        cost: a :class:`CostModel` (default: roofline; ``CostModel(measure=True)`` to time with IREE).
        max_steps: most rewrites applied.
        time_limit_s: no rewrite is started or costed after this many seconds (setup and rule
            verification count); the best graph so far is returned.
        verify: use only rules that pass numerical verification (cached on disk).
        incremental: build each candidate's graph view from its parent's (only changes speed).
        incremental_match: re-match only the anchors a rewrite may have changed (:mod:`.matching`;
            only changes speed).
        incremental_cost: take over the parent's node hashes of ops whose input cone a rewrite left
            alone, and memoize each op's roofline dispatch FLOPs/bytes by node hash (only changes speed).
    """

    name = "greedy"

    def __init__(self, *, rules=None, cost: CostModel | None = None, max_steps: int = 50,
                 time_limit_s: float = 120.0, verify: bool = True, incremental: bool = True,
                 incremental_match: bool = True, incremental_cost: bool = True,
                 fast_clone: bool = True):
        self.incremental = incremental
        self.incremental_match = incremental_match
        self.incremental_cost = incremental_cost
        self.fast_clone = fast_clone
        self.rule_names = rules
        self.cost = cost
        self.max_steps = max_steps
        self.time_limit_s = time_limit_s
        self.verify = verify

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        """Search from ``model``; returns the best graph, its cost and the applied sequence."""
        t0 = time.perf_counter()
        rules, cost, t_verify = setup(self.rule_names, self.cost, self.verify, target)
        ex = Expander(rules, cost).configure(self)
        ex.limit(time_limit_s=self.time_limit_s, t0=t0)
        start = cur = ex.start(prepare(model))
        interrupted = False
        try:
            while len(cur.seq) < self.max_steps and not ex.out_of_limits():
                best = min(ex.expand(cur), key=lambda c: c.cost, default=None)
                if best is None or not best.cost < cur.cost:
                    break
                cur = best
        except KeyboardInterrupt:
            interrupted = True
        stats = ex.stats(t0, t_verify)
        if interrupted:
            stats["interrupted"] = True
        return GraphResult(cur.model, cur.seq, start.cost, cur.cost, stats)
