"""TASO's cost-based backtracking search with relaxation α.

A priority queue holds graphs by cost. The cheapest is popped and every rewrite of it is costed;
a new graph enters the queue if its cost is below ``alpha ×`` the best cost so far, so the search
may pass through slightly worse graphs (α = 1.05 in TASO) to reach better ones later. Graphs are
deduplicated by structural hash. Stops after ``max_graphs`` graphs, ``time_limit_s`` seconds, or on
Ctrl-C, returning the best graph found — never one costlier than the input.

With ``prune`` (default), a graph made by rewrite *i* skips an old rewrite *j* of its parent that
is independent of *i* (:class:`~.common.Family`) when the parent's child made by *j* has already
been expanded: that child already built the same graph by applying *i*, so the skipped graph would
only be discarded as a duplicate. The search visits the same graphs in the same order; it only
spends no time re-building duplicates.
"""

from __future__ import annotations

import heapq
import itertools
import time

from ...model import Model
from .. import GraphResult, prepare
from ..cost import CostModel
from .common import Expander, Family, setup

__all__ = ["BacktrackingSearch"]


class BacktrackingSearch:
    """Args: alpha (relaxation), max_graphs, time_limit_s, rules, cost, verify (as greedy), prune
    (skip rebuilding duplicates, see the module docs), incremental (build each child's graph view
    from its parent's), incremental_match (re-match only around each rewrite, :mod:`.matching`),
    incremental_cost (reuse the parent's node hashes and per-op roofline costs where the input cone is
    unchanged); all four only change speed."""

    name = "backtrack"

    def __init__(self, *, alpha: float = 1.05, max_graphs: int = 200, time_limit_s: float = 60.0, rules=None,
                 cost: CostModel | None = None, verify: bool = True, prune: bool = True, incremental: bool = True,
                 incremental_match: bool = True, incremental_cost: bool = True,
                 fast_clone: bool = True):
        self.prune, self.incremental = prune, incremental
        self.incremental_match = incremental_match
        self.incremental_cost = incremental_cost
        self.fast_clone = fast_clone
        self.alpha, self.max_graphs, self.time_limit_s = alpha, max_graphs, time_limit_s
        self.rule_names, self.cost, self.verify = rules, cost, verify

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        t0 = time.perf_counter()
        rules, cost, t_verify = setup(self.rule_names, self.cost, self.verify, target)
        ex = Expander(rules, cost).configure(self, track=self.prune)
        ex.limit(time_limit_s=self.time_limit_s, t0=t0, max_graphs=self.max_graphs)
        start = ex.start(prepare(model))
        best = start
        tie = itertools.count()
        queue = [(start.cost, next(tie), start, None)]
        pruned = 0
        interrupted = False
        try:
            while queue and not ex.out_of_limits():
                _, _, cur, family = heapq.heappop(queue)
                skip = None
                if family is not None:
                    family.expanded.add(cur.step.index)

                    def skip(i, rule, m, cur=cur, family=family):
                        nonlocal pruned
                        if family.redundant(cur, rule.name, tuple(m.ops)):
                            pruned += 1
                            return True
                        return False
                kids = []
                mine = Family(cur, kids, ex.matches(cur), ex.matches, expanded=set()) if self.prune else None
                for cand in ex.expand(cur, skip=skip):
                    if mine is not None:
                        mine.kids[cand.step.index] = cand
                    if cand.cost < best.cost:
                        best = cand
                    if cand.cost < self.alpha * best.cost:
                        heapq.heappush(queue, (cand.cost, next(tie), cand, mine))
                    if ex.explored >= self.max_graphs:
                        break
        except KeyboardInterrupt:
            interrupted = True
        stats = ex.stats(t0, t_verify) | {"alpha": self.alpha, "queue_left": len(queue), "prune": self.prune,
                                          "pruned_rewrites": pruned}
        if interrupted:
            stats["interrupted"] = True
        return GraphResult(best.model, best.seq, start.cost, best.cost, stats)
