"""The graph rewrite rules, one module per family, as named data (:class:`Rule`).

``RULES`` maps rule names to rules in a stable order; :func:`get_rules` resolves names with a
one-line error for unknown ones.
"""

from __future__ import annotations

from ...errors import MlirOptError
from .base import Example, Match, Rule, RuleError
from . import fold, layout, merge

__all__ = ["Rule", "Match", "Example", "RuleError", "RULES", "FAMILIES", "get_rules"]

FAMILIES = {"merge": merge, "fold": fold, "layout": layout}

RULES: dict[str, Rule] = {r.name: r for mod in FAMILIES.values() for r in mod.RULES}


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
