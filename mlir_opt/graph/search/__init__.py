"""Graph search strategies (issue #4): greedy, TASO backtracking, OCGGS; eqsat to come."""

from .backtrack import BacktrackingSearch
from .greedy import GreedySearch
from .ocggs import OCGGSSearch

__all__ = ["GreedySearch", "BacktrackingSearch", "OCGGSSearch"]
