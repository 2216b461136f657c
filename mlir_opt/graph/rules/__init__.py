"""The graph rewrite rules, one module per family, as named data (:class:`Rule`).

``RULES`` maps rule names to rules in a stable order; :func:`get_rules` resolves names with a
one-line error for unknown ones.
"""

from __future__ import annotations

from ...errors import MlirOptError
from .base import Example, Match, Rule, RuleError
from . import algebra, concat, conv, fold, layout, merge

__all__ = ["Rule", "Match", "Example", "RuleError", "RULES", "FAMILIES", "MODULES", "get_rules"]

# rule modules in the order their rules are tried (a module may hold rules of several families)
MODULES = [merge, fold, layout, conv, concat, algebra]

RULES: dict[str, Rule] = {r.name: r for mod in MODULES for r in mod.RULES}

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
