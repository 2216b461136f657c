"""OCGGS-style search (VLDB'20): substitution sequences of length ≤ K, with pruning, DP and sampling.

* **Budget K**: only sequences of at most ``K`` rewrites are explored (depth-first).
* **Pruning of redundant sequences / DP reuse**: sequences that reach the same graph (the same
  rewrites in another order, or different rewrites with the same result) are explored once — each
  graph's structural hash is memoized with the largest remaining budget it was explored with, and
  its best reachable result is reused when it is met again with no more budget.
* **Sampling for large graphs**: with ``quota`` set, at most ``quota`` children per level are
  explored, chosen by cost (the cheapest ``quota - explore`` and ``explore`` at random), so the
  search stays bounded on graphs with many matches.
* The input graph is always a candidate: the result is never costlier than it.

Not done yet: re-matching only around the ops a substitution created (every rule re-matches on the
whole graph; the hash-based DP removes most of the repeated work that locality would avoid).
"""

from __future__ import annotations

import random
import time

from ...model import Model
from .. import GraphResult, prepare
from ..cost import CostModel
from .common import Candidate, Expander, setup

__all__ = ["OCGGSSearch"]


class OCGGSSearch:
    """Args: budget (K, max sequence length), quota (children per level; None = exhaustive),
    explore (random share of the quota), max_graphs, time_limit_s, seed, rules, cost, verify."""

    name = "ocggs"

    def __init__(self, *, budget: int = 8, quota: int | None = None, explore: int = 1, max_graphs: int = 500,
                 time_limit_s: float = 60.0, seed: int = 0, rules=None, cost: CostModel | None = None,
                 verify: bool = True):
        self.K, self.quota, self.explore = budget, quota, explore
        self.max_graphs, self.time_limit_s, self.seed = max_graphs, time_limit_s, seed
        self.rule_names, self.cost, self.verify = rules, cost, verify

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        t0 = time.perf_counter()
        rules, cost, t_verify = setup(self.rule_names, self.cost, self.verify, target)
        ex = Expander(rules, cost)
        rng = random.Random(self.seed)
        start = ex.start(prepare(model))
        memo: dict[str, tuple[int, Candidate]] = {}
        reused = 0
        interrupted = False

        def out_of_time() -> bool:
            return ex.explored >= self.max_graphs or time.perf_counter() - t0 > self.time_limit_s

        def search(cand: Candidate, depth: int) -> Candidate:
            """Best graph reachable from ``cand`` in at most ``depth`` rewrites (seq from the input)."""
            nonlocal reused
            hit = memo.get(cand.key)
            if hit is not None and hit[0] >= depth:
                reused += 1
                tail = hit[1]  # best reachable from this graph; tail.seq is the suffix from it
                return Candidate(tail.model, tail.view, tail.cost, cand.seq + tail.seq)
            best = cand
            if depth > 0 and not out_of_time():
                children = list(ex.expand(cand, dedupe=False))
                if self.quota is not None and len(children) > self.quota:
                    children.sort(key=lambda c: c.cost)
                    keep = children[: max(0, self.quota - self.explore)]
                    rest = children[len(keep):]
                    children = keep + rng.sample(rest, min(self.explore, len(rest)))
                for child in children:
                    if out_of_time():
                        break
                    sub = search(child, depth - 1)
                    if sub.cost < best.cost:
                        best = sub
            memo[cand.key] = (depth, Candidate(best.model, best.view, best.cost, best.seq[len(cand.seq):]))
            return best

        try:
            best = search(start, self.K)
        except KeyboardInterrupt:
            interrupted = True
            best = start  # sequences in the memo are relative; keep the input unless finished
        if best.cost > start.cost:
            best = start
        stats = ex.stats(t0, t_verify) | {"budget_K": self.K, "quota": self.quota, "dp_reuses": reused,
                                          "distinct_graphs": len(memo)}
        if interrupted:
            stats["interrupted"] = True
        return GraphResult(best.model, best.seq, start.cost, best.cost, stats)
