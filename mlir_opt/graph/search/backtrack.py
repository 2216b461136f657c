"""TASO's cost-based backtracking search with relaxation α.

A priority queue holds graphs by cost. The cheapest is popped and every rewrite of it is costed;
a new graph enters the queue if its cost is below ``alpha ×`` the best cost so far, so the search
may pass through slightly worse graphs (α = 1.05 in TASO) to reach better ones later. Graphs are
deduplicated by structural hash. Stops after ``max_graphs`` graphs, ``time_limit_s`` seconds, or on
Ctrl-C, returning the best graph found — never one costlier than the input.
"""

from __future__ import annotations

import heapq
import itertools
import time

from ...model import Model
from .. import GraphResult, prepare
from ..cost import CostModel
from .common import Expander, setup

__all__ = ["BacktrackingSearch"]


class BacktrackingSearch:
    """Args: alpha (relaxation), max_graphs, time_limit_s, rules, cost, verify (as greedy)."""

    name = "backtrack"

    def __init__(self, *, alpha: float = 1.05, max_graphs: int = 200, time_limit_s: float = 60.0, rules=None,
                 cost: CostModel | None = None, verify: bool = True):
        self.alpha, self.max_graphs, self.time_limit_s = alpha, max_graphs, time_limit_s
        self.rule_names, self.cost, self.verify = rules, cost, verify

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        t0 = time.perf_counter()
        rules, cost, t_verify = setup(self.rule_names, self.cost, self.verify, target)
        ex = Expander(rules, cost)
        start = ex.start(prepare(model))
        best = start
        tie = itertools.count()
        queue = [(start.cost, next(tie), start)]
        interrupted = False
        try:
            while queue and ex.explored < self.max_graphs and time.perf_counter() - t0 < self.time_limit_s:
                _, _, cur = heapq.heappop(queue)
                for cand in ex.expand(cur):
                    if cand.cost < best.cost:
                        best = cand
                    if cand.cost < self.alpha * best.cost:
                        heapq.heappush(queue, (cand.cost, next(tie), cand))
                    if ex.explored >= self.max_graphs:
                        break
        except KeyboardInterrupt:
            interrupted = True
        stats = ex.stats(t0, t_verify) | {"alpha": self.alpha, "queue_left": len(queue)}
        if interrupted:
            stats["interrupted"] = True
        return GraphResult(best.model, best.seq, start.cost, best.cost, stats)
