"""Evolutionary search: mutate and cross over the fastest measured schedules.

Each proposal batch takes parents from the top quarter of measured schedules (at least 2), makes
children by mutation (one knob moved to a neighbouring option) and uniform crossover of two
parents, and keeps a share of random samples for exploration. Until enough schedules are measured
it behaves like random search. A learned cost model to rank children comes with issue #5's next
slice; this strategy is usable without it.
"""

from __future__ import annotations

import random

from ..space import Sketch
from .base import History, register, unseen

__all__ = ["EvolutionaryStrategy"]


@register
class EvolutionaryStrategy:
    name = "evolutionary"

    def __init__(self, explore: float = 0.25, min_population: int = 4):
        self.explore, self.min_population = explore, min_population

    def propose(self, sketch: Sketch, history: History, n: int, rng: random.Random) -> list[dict]:
        ok = sorted([(t, d) for d, t in history if t is not None], key=lambda x: x[0])
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

        return unseen(sketch, history, n, rng, child)
