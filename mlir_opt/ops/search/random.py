"""Random search: uniform samples of valid decisions (the baseline every other search must beat)."""

from __future__ import annotations

import random

from ..space import Sketch
from .base import History, register, unseen

__all__ = ["RandomStrategy"]


@register
class RandomStrategy:
    name = "random"

    def propose(self, sketch: Sketch, history: History, n: int, rng: random.Random) -> list[dict]:
        return unseen(sketch, history, n, rng, lambda: sketch.sample(rng))
