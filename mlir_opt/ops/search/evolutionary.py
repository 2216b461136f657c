"""Evolutionary search guided by a learned cost model.

Each proposal round: parents are the top quarter of the schedules measured so far for the workload
(at least 2); a pool of ``pool_factor × n`` children is made by mutation (one knob moved to a
neighbouring option), uniform crossover of two parents, and random samples (exploration); the cost
model (gradient-boosted trees, trained online on every measurement of this search and warm-started
from the tuning database's records of other workloads) ranks the pool, and the best-predicted
children are measured, plus a share ``explore`` of random pool members so the model keeps learning.
Until ``min_population`` schedules are measured (and without a model), it samples at random.
"""

from __future__ import annotations

import random

from ..cost_model import GBTCostModel, RandomModel
from ..space import Sketch
from .base import History, register, unseen

__all__ = ["EvolutionaryStrategy"]


@register
class EvolutionaryStrategy:
    """Args: explore (share of proposals picked at random from the pool), min_population,
    cost_model (``"gbt"``, ``"random"``, None for no model, or a CostModel), pool_factor."""

    name = "evolutionary"

    def __init__(self, explore: float = 0.25, min_population: int = 4, cost_model="gbt", pool_factor: int = 8,
                 seed: int = 0):
        self.explore, self.min_population, self.pool_factor = explore, min_population, pool_factor
        if cost_model == "gbt":
            cost_model = GBTCostModel(seed=seed)
        elif cost_model == "random":
            cost_model = RandomModel(seed)
        self.model = cost_model
        self._fed: set = set()

    def warm_start(self, db, target: str, sketch: str = "double_tiling") -> int:
        """Train the model on the database's ok records of every workload; returns how many."""
        if self.model is None or db is None:
            return 0
        from ..dispatches import workload_from_info

        n = 0
        for key, _kind, info in db.workloads():
            try:
                w = workload_from_info(info)
            except Exception:
                continue
            for rec in db.records(key, target):
                if rec.ok and rec.sketch == sketch:
                    self._feed(w, rec.decisions, rec.median_ms)
                    n += 1
        return n

    def _feed(self, w, d: dict, t: float | None) -> None:
        tag = (w.key, tuple(sorted(d.items())))
        if t is None or tag in self._fed:
            return
        self._fed.add(tag)
        self.model.update([w], [d], [t])

    def propose(self, sketch: Sketch, history: History, n: int, rng: random.Random) -> list[dict]:
        ok = sorted([(t, d) for d, t in history if t is not None], key=lambda x: x[0])
        if self.model is not None:
            for d, t in history:
                self._feed(sketch.workload, d, t)
        if len(ok) < self.min_population:
            return unseen(sketch, history, n, rng, lambda: sketch.sample(rng))
        parents = [d for _, d in ok[: max(2, len(ok) // 4)]]

        def child():
            r = rng.random()
            if r < self.explore:
                return sketch.sample(rng)
            if r < self.explore + 0.25 and len(parents) >= 2:
                a, b = rng.sample(parents, 2)
                c = {k: (a[k] if rng.random() < 0.5 else b[k]) for k in a}
                return c if sketch.validate(c) is None else sketch.mutate(a, rng)
            return sketch.mutate(rng.choice(parents), rng)

        if self.model is None or not getattr(self.model, "trained", True):
            return unseen(sketch, history, n, rng, child)
        pool = unseen(sketch, history, n * self.pool_factor, rng, child)
        if len(pool) <= n:
            return pool
        scores = self.model.predict([sketch.workload] * len(pool), pool)
        order = sorted(range(len(pool)), key=lambda i: scores[i])
        n_explore = int(round(n * self.explore))
        chosen = order[: n - n_explore]
        rest = order[n - n_explore:]
        chosen += rng.sample(rest, min(n_explore, len(rest)))
        return [pool[i] for i in chosen]
