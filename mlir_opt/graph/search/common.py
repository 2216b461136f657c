"""What the graph searches share: one-step expansion of a graph by every rule match, and the setup.

``Expander.expand(model, view)`` yields every new neighbour graph (one rewrite applied), skipping
rewrites that fail (logged, counted) and graphs already seen (structural hash): the deduplication
that lets sequences reaching the same graph in different orders be explored once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Iterator

from ...errors import MlirOptError
from ...model import Model
from ..cost import CostModel
from ..view import GraphView

__all__ = ["Candidate", "Expander", "setup"]

log = logging.getLogger("mlir_opt.graph")


@dataclass
class Candidate:
    """A graph reached by the rewrite sequence ``seq``; ``cost`` from the cost model."""

    model: Model
    view: GraphView
    cost: float
    seq: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        return self.view.structural_hash()


class Expander:
    """Applies rules to clones of a graph and costs the results; counts what it did."""

    def __init__(self, rules, cost: CostModel):
        self.rules, self.cost = rules, cost
        self.seen: set[str] = set()
        self.explored = 0
        self.skipped: list[str] = []

    def start(self, model: Model) -> Candidate:
        view = GraphView(model)
        self.seen.add(view.structural_hash())
        self.explored += 1
        return Candidate(model, view, self.cost(model, view), [])

    def expand(self, cand: Candidate, *, dedupe: bool = True) -> Iterator[Candidate]:
        """Every graph one rewrite away from ``cand`` (new ones only, unless ``dedupe`` is off)."""
        for rule in self.rules:
            for m in rule.match(cand.view):
                new = cand.model.clone()
                try:
                    rule.apply(new.module, m)
                    new.verify()
                except MlirOptError as err:
                    self.skipped.append(f"{rule.name}: {err}")
                    log.info("skipped %s at %s: %s", rule.name, m.ops, err)
                    continue
                view = GraphView(new)
                h = view.structural_hash()
                if dedupe and h in self.seen:
                    continue
                self.seen.add(h)
                self.explored += 1
                yield Candidate(new, view, self.cost(new, view), cand.seq + [rule.name])

    def stats(self, t0: float, t_verify: float) -> dict:
        st = {"graphs_explored": self.explored, "seconds": round(time.perf_counter() - t0, 3),
              "verify_seconds": round(t_verify, 3), "cost_unit": self.cost.unit,
              "rules": [r.name for r in self.rules], "cost_cache_hits": self.cost.hits}
        if hasattr(self.cost, "stats"):
            st.update(self.cost.stats())
        if self.skipped:
            st["skipped"] = self.skipped[:20]
        return st


def setup(rule_names, cost: CostModel | None, verify: bool, target: str):
    """Rules (verified ones when ``verify``), the cost model, and the seconds verification took."""
    from ..rules import get_rules
    from ..verify import verified_rules

    t0 = time.perf_counter()
    rules = verified_rules(rule_names, target=target) if verify else get_rules(rule_names)
    return rules, cost or CostModel(target=target), time.perf_counter() - t0
