"""Graph search strategies (issue #4): greedy today; backtracking, OCGGS and eqsat to come."""

from .greedy import GreedySearch

__all__ = ["GreedySearch"]
