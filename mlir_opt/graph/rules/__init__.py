"""The graph rewrite rules, one module per family, as named data (:class:`Rule`).

``RULES`` maps rule names to rules in a stable order; :func:`get_rules` resolves names with a
one-line error for unknown ones.
"""

from __future__ import annotations

from ...errors import MlirOptError
from .base import Example, Match, Rule, RuleError
from . import algebra, channels, concat, conv, convmm, fold, layout, merge

__all__ = ["Rule", "Match", "Example", "RuleError", "RULES", "FAMILIES", "MODULES", "get_rules"]

# rule modules; rules are tried in this order by ``apply_rules`` (the fixpoint rewriter), so
# strict simplifications of contractions come before merging, and fold-batchnorm-into-conv
# before the more general fold-chained-scale-bias (which would otherwise take the batch-norm chain)
MODULES = [algebra, merge, fold, layout, conv, convmm, concat, channels]
_FIRST = ["distribute-matmul", "matmul-reassociate"]
_LAST = ["fold-chained-scale-bias", "transpose-into-matmul"]

_ALL = {r.name: r for mod in MODULES for r in mod.RULES}
RULES: dict[str, Rule] = {n: _ALL[n] for n in [*_FIRST, *(n for n in _ALL if n not in _FIRST + _LAST), *_LAST]}

FAMILIES: dict[str, list[str]] = {}
for _r in RULES.values():
    FAMILIES.setdefault(_r.family, []).append(_r.name)


def get_rules(names=None) -> list[Rule]:
    """Rules by name (all of them for None), in the order given."""
    if names is None:
        return list(RULES.values())
    out = []
    for n in names:
        if n not in RULES:
            raise MlirOptError(f"unknown rule '{n}' (available: {', '.join(RULES)})")
        out.append(RULES[n])
    return out
