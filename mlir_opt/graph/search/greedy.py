"""Greedy graph search: apply the rewrite that lowers the cost most, until none does."""

from __future__ import annotations

import logging
import time

from ...errors import MlirOptError
from ...model import Model
from .. import GraphResult, prepare
from ..cost import CostModel
from ..view import GraphView

__all__ = ["GreedySearch"]

log = logging.getLogger("mlir_opt.graph")


class GreedySearch:
    """At each step, try every match of every verified rule on a clone, keep the cheapest.

    Graphs are deduplicated by structural hash; a candidate whose rewrite fails (a precondition
    that no longer holds, an invalid module) is skipped and logged. Ctrl-C keeps the best graph
    found so far.

    Args:
        rules: rule names to use (default: all rules that pass :func:`verify_rules`).
        cost: a :class:`CostModel` (default: roofline; ``CostModel(measure=True)`` to time with IREE).
        max_steps: most rewrites applied.
        time_limit_s: stop starting new steps after this many seconds.
        verify: use only rules that pass numerical verification (cached on disk).
    """

    name = "greedy"

    def __init__(self, *, rules=None, cost: CostModel | None = None, max_steps: int = 50,
                 time_limit_s: float = 120.0, verify: bool = True):
        self.rule_names = rules
        self.cost = cost
        self.max_steps = max_steps
        self.time_limit_s = time_limit_s
        self.verify = verify

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        """Search from ``model``; returns the best graph, its cost and the applied sequence."""
        from ..rules import get_rules
        from ..verify import verified_rules

        t0 = time.perf_counter()
        rules = verified_rules(self.rule_names, target=target) if self.verify else get_rules(self.rule_names)
        t_verify = time.perf_counter() - t0
        cost = self.cost or CostModel(target=target)
        cur = prepare(model)
        view = GraphView(cur)
        cur_cost = before = cost(cur, view)
        seen = {view.structural_hash()}
        applied: list[str] = []
        explored, skipped, interrupted = 1, [], False
        try:
            while len(applied) < self.max_steps and time.perf_counter() - t0 < self.time_limit_s:
                best = None
                for rule in rules:
                    for m in rule.match(view):
                        cand = cur.clone()
                        try:
                            rule.apply(cand.module, m)
                            cand.verify()
                        except MlirOptError as err:
                            skipped.append(f"{rule.name}: {err}")
                            log.info("skipped %s at %s: %s", rule.name, m.ops, err)
                            continue
                        cview = GraphView(cand)
                        h = cview.structural_hash()
                        if h in seen:
                            continue
                        seen.add(h)
                        explored += 1
                        c = cost(cand, cview)
                        if best is None or c < best[0]:
                            best = (c, cand, cview, rule.name)
                if best is None or not best[0] < cur_cost:
                    break
                cur_cost, cur, view = best[0], best[1], best[2]
                applied.append(best[3])
        except KeyboardInterrupt:
            interrupted = True
        stats = {"graphs_explored": explored, "seconds": round(time.perf_counter() - t0, 3),
                 "verify_seconds": round(t_verify, 3), "cost_unit": cost.unit,
                 "rules": [r.name for r in rules], "cost_cache_hits": cost.hits}
        if skipped:
            stats["skipped"] = skipped[:20]
        if interrupted:
            stats["interrupted"] = True
        return GraphResult(cur, applied, before, cur_cost, stats)
