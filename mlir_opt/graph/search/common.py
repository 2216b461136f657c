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
from ..view import GraphView, ViewMemo

__all__ = ["Candidate", "Expander", "setup", "LazyVerifier", "VerifiedRules"]

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
        self.memo = ViewMemo()  # constant values, digests and FLOPs shared by every graph of the search

    def start(self, model: Model) -> Candidate:
        view = GraphView(model, memo=self.memo)
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
                view = GraphView(new, memo=self.memo)
                h = view.structural_hash()
                if dedupe and h in self.seen:
                    continue
                self.seen.add(h)
                self.explored += 1
                yield Candidate(new, view, self.cost(new, view), cand.seq + [rule.name])

    def stats(self, t0: float, t_verify: float) -> dict:
        lazy = getattr(self.rules, "verifier", None)
        if lazy is not None:
            t_verify += lazy.seconds
        st = {"graphs_explored": self.explored, "seconds": round(time.perf_counter() - t0, 3),
              "verify_seconds": round(t_verify, 3), "cost_unit": self.cost.unit,
              "rules": [r.name for r in self.rules], "cost_cache_hits": self.cost.hits}
        if lazy is not None:
            st["rules_verified"] = sorted(n for n, ok in lazy.ok.items() if ok)
            if any(not ok for ok in lazy.ok.values()):
                st["rules_disabled"] = sorted(n for n, ok in lazy.ok.items() if not ok)
        if hasattr(self.cost, "stats"):
            st.update(self.cost.stats())
        if self.skipped:
            st["skipped"] = self.skipped[:20]
        return st


class LazyVerifier:
    """Verifies a rule (:func:`verify_rules`, cached on disk) the first time it matches a graph.

    With 15 rules, verifying all of them up front costs ~90 IREE compiles on a cold cache; a
    search only needs the rules that ever match its graphs. A rule that fails verification
    matches nothing (and is listed under ``rules_disabled`` in the search statistics).
    """

    def __init__(self, target: str):
        self.target = target
        self.ok: dict[str, bool] = {}
        self.seconds = 0.0

    def wrap(self, rule):
        import dataclasses

        def match(view):
            found = rule.match(view)
            if found and rule.name not in self.ok:
                from ..verify import verify_rules

                t0 = time.perf_counter()
                self.ok[rule.name] = verify_rules([rule.name], target=self.target)[0].ok
                self.seconds += time.perf_counter() - t0
            return found if not found or self.ok[rule.name] else []

        return dataclasses.replace(rule, match=match)


class VerifiedRules(list):
    """A list of rules that are verified lazily by ``verifier`` (a :class:`LazyVerifier`)."""

    verifier: LazyVerifier


def setup(rule_names, cost: CostModel | None, verify: bool, target: str):
    """Rules (verified on first match when ``verify``), the cost model, and the seconds spent so far.

    Verification time spent later (lazily) is added to ``verify_seconds`` by :meth:`Expander.stats`.
    """
    from ..rules import get_rules

    t0 = time.perf_counter()
    rules = get_rules(rule_names)
    if rule_names is None:
        rules = [r for r in rules if r.in_search]  # opt-in rules only when named
    if verify:
        lazy = LazyVerifier(target)
        rules = VerifiedRules(lazy.wrap(r) for r in rules)
        rules.verifier = lazy
    return rules, cost or CostModel(target=target), time.perf_counter() - t0
