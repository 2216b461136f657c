"""The strategy protocol and registry (a string or an instance is accepted)."""

from __future__ import annotations

import random
from typing import Protocol, Sequence, runtime_checkable

from ...errors import MlirOptError
from ..space import Sketch

__all__ = ["SearchStrategy", "STRATEGIES", "get_strategy", "History"]

History = Sequence[tuple[dict, "float | None"]]


@runtime_checkable
class SearchStrategy(Protocol):
    """Proposes new decision sets for a sketch from what was measured so far."""

    name: str

    def propose(self, sketch: Sketch, history: History, n: int, rng: random.Random) -> list[dict]: ...


STRATEGIES: dict[str, type] = {}


def register(cls):
    STRATEGIES[cls.name] = cls
    return cls


def get_strategy(strategy: "str | SearchStrategy") -> SearchStrategy:
    if isinstance(strategy, str):
        if strategy not in STRATEGIES:
            raise MlirOptError(f"unknown op search '{strategy}' (available: none, {', '.join(STRATEGIES)})")
        return STRATEGIES[strategy]()
    return strategy


def _key(d: dict) -> tuple:
    return tuple(sorted(d.items()))


def unseen(sketch: Sketch, history: History, n: int, rng: random.Random, gen) -> list[dict]:
    """Up to ``n`` distinct valid proposals from generator ``gen()`` not already in ``history``."""
    seen = {_key(d) for d, _ in history}
    out: list[dict] = []
    for _ in range(n * 50):
        if len(out) == n:
            break
        d = gen()
        if d is None:
            continue
        if _key(d) not in seen:
            seen.add(_key(d))
            out.append(d)
    return out
