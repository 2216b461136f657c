"""Graph search strategies (issue #4): greedy, TASO backtracking, OCGGS, equality saturation."""

from .backtrack import BacktrackingSearch
from .eqsat import EqSatSearch
from .greedy import GreedySearch
from .ocggs import OCGGSSearch

__all__ = ["GreedySearch", "BacktrackingSearch", "OCGGSSearch", "EqSatSearch"]
