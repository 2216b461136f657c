"""Search strategies over one sketch's decisions: ``propose(sketch, history, n, rng)``.

``history`` is the list of (decisions, median_ms or None) already measured for the workload;
strategies never propose a decision set already in it.
"""

from .base import SearchStrategy, get_strategy, STRATEGIES
from .random import RandomStrategy
from .evolutionary import EvolutionaryStrategy
from .reuse import ReuseStrategy

__all__ = ["SearchStrategy", "get_strategy", "STRATEGIES", "RandomStrategy", "EvolutionaryStrategy", "ReuseStrategy"]
