"""OCGGS-style search (VLDB'20): substitution sequences of length ≤ K, with pruning, DP and sampling.

* **Budget K**: only sequences of at most ``K`` rewrites are explored (depth-first).
* **Pruning of redundant sequences** (``prune=True``): two independent rewrites commute, so
  sequences that differ only in their order reach the same graph. After rewrite *i* of a graph, its
  child applies only rewrites that touch ops *i* created or changed, or old rewrites *j* of the
  parent that are independent of *i* with ``j > i`` in the parent's enumeration order
  (:class:`~.common.Family`): each set of independent rewrites is applied in one canonical order,
  and the redundant orders are never built (no clone, rewrite, hash or cost).
* **DP reuse**: sequences that still reach the same graph (different rewrites with the same
  result) are explored once — each graph's structural hash is memoized with the largest remaining
  budget it was explored with, and its best reachable result is reused when it is met again with
  no more budget. With pruning, a memo entry's best is the best over the graphs its exploration
  did not prune; that is enough, because the search's result is the best over every graph it
  visits, and a pruned rewrite's graph is visited through the sibling that applied the independent
  rewrite first (that sibling's subtree is explored before, with the same remaining budget; by
  induction over the order in which subtrees are started, every graph within K rewrites is still
  visited, given that independent rewrites commute).
* **Sampling for large graphs**: with ``quota`` set, at most ``quota`` children per level are
  explored, chosen by cost (the cheapest ``quota - explore`` and ``explore`` at random), so the
  search stays bounded on graphs with many matches.
* The input graph is always a candidate: the result is never costlier than it.

With ``incremental_match`` (default), a child re-matches only the anchors whose recorded reads
the rewrite changed and takes over its parent's other matches (:mod:`.matching`; exact).
"""

from __future__ import annotations

import random
import time

from ...model import Model
from .. import GraphResult, prepare
from ..cost import CostModel
from .common import Candidate, Expander, Family, setup

__all__ = ["OCGGSSearch"]


class OCGGSSearch:
    """Args: budget (K, max sequence length), quota (children per level; None = exhaustive),
    explore (random share of the quota), max_graphs, time_limit_s, seed, rules, cost, verify,
    prune (skip redundant orders of independent rewrites; on by default), incremental (build each
    child's graph view from its parent's; on by default), incremental_match (re-match only around
    each rewrite, :mod:`.matching`; on by default), incremental_cost (take over the parent's node
    hashes where a rewrite left the input cone alone, memoize each op's roofline dispatch cost by
    node hash; on by default) — all four only change speed.

    After :meth:`run`, ``visited`` holds the structural hashes of the distinct graphs it explored."""

    name = "ocggs"

    def __init__(self, *, budget: int = 8, quota: int | None = None, explore: int = 1, max_graphs: int = 500,
                 time_limit_s: float = 60.0, seed: int = 0, rules=None, cost: CostModel | None = None,
                 verify: bool = True, prune: bool = True, incremental: bool = True,
                 incremental_match: bool = True, incremental_cost: bool = True,
                 fast_clone: bool = True):
        self.prune, self.incremental = prune, incremental
        self.incremental_match = incremental_match
        self.incremental_cost = incremental_cost
        self.fast_clone = fast_clone
        self.K, self.quota, self.explore = budget, quota, explore
        self.max_graphs, self.time_limit_s, self.seed = max_graphs, time_limit_s, seed
        self.rule_names, self.cost, self.verify = rules, cost, verify

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        t0 = time.perf_counter()
        rules, cost, t_verify = setup(self.rule_names, self.cost, self.verify, target)
        ex = Expander(rules, cost).configure(self, track=self.prune)
        ex.limit(time_limit_s=self.time_limit_s, t0=t0, max_graphs=self.max_graphs)
        rng = random.Random(self.seed)
        start = ex.start(prepare(model))
        # graph hash -> (budget explored with, best reachable from it, with seq relative to it)
        memo: dict[str, tuple[int, Candidate]] = {}
        reused = pruned = 0
        interrupted = False

        def out_of_time() -> bool:
            return ex.out_of_limits()

        def children(cand: Candidate, depth: int, skip) -> Candidate:
            """Best of ``cand`` and of the graphs reached from the children ``expand`` yields."""
            best = cand
            kids = list(ex.expand(cand, dedupe=False, skip=skip))
            if self.quota is not None and len(kids) > self.quota:
                kids.sort(key=lambda c: c.cost)
                keep = kids[: max(0, self.quota - self.explore)]
                rest = kids[len(keep):]
                kids = keep + rng.sample(rest, min(self.explore, len(rest)))
            family = Family(cand, kids, ex.matches(cand), ex.matches) if self.prune else None
            for child in kids:
                if out_of_time():
                    break
                sub = search(child, depth - 1, family)
                if sub.cost < best.cost:
                    best = sub
            return best

        def search(cand: Candidate, depth: int, family: Family | None = None) -> Candidate:
            """Best graph reachable from ``cand`` in at most ``depth`` rewrites (seq from the input);
            ``family``: the children of ``cand``'s parent (for pruning)."""
            nonlocal reused, pruned
            hit = memo.get(cand.key)
            if hit is not None and hit[0] >= depth:
                reused += 1
                tail = hit[1]  # best reachable from this graph; tail.seq is the suffix from it
                return Candidate(tail.model, tail.view, tail.cost, cand.seq + tail.seq)
            best = cand
            if depth > 0 and not out_of_time():
                skip = None
                if family is not None:
                    def skip(i, rule, m):
                        nonlocal pruned
                        if family.redundant(cand, rule.name, tuple(m.ops)):
                            pruned += 1
                            return True
                        return False
                best = children(cand, depth, skip)
            memo[cand.key] = (depth, Candidate(best.model, best.view, best.cost, best.seq[len(cand.seq):]))
            return best

        try:
            best = search(start, self.K)
        except KeyboardInterrupt:
            interrupted = True
            best = start  # sequences in the memo are relative; keep the input unless finished
        if best.cost > start.cost:
            best = start
        self.visited = set(memo)  # hashes of the graphs the last run explored (for analysis and tests)
        stats = ex.stats(t0, t_verify) | {"budget_K": self.K, "quota": self.quota, "dp_reuses": reused,
                                          "distinct_graphs": len(memo), "prune": self.prune,
                                          "incremental": self.incremental,
                                          "incremental_match": self.incremental_match,
                                          "incremental_cost": self.incremental_cost,
                                          "fast_clone": self.fast_clone,
                                          "pruned_rewrites": pruned}
        if interrupted:
            stats["interrupted"] = True
        return GraphResult(best.model, best.seq, start.cost, best.cost, stats)
