"""The rule data type shared by every rule family, and helpers for writing rules."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from ... import ir as _ir
from ...errors import MlirOptError
from ..view import GraphView

__all__ = ["Rule", "Match", "Example", "F16_TOLERANCE", "RuleError", "dense", "shape_of", "elem_of", "replace_results"]

ir = _ir.ir


class RuleError(MlirOptError):
    """A rule was applied to a match whose precondition no longer holds."""


@dataclass(frozen=True)
class Match:
    """Where a rule applies: indices of the matched ops in the :class:`GraphView`, in block order.

    Indices are stable across :meth:`Model.clone`, so a match found on one graph can be applied to
    a clone of it.
    """

    rule: str
    entry: str
    ops: tuple[int, ...]
    note: str = ""

    def __post_init__(self):
        if MATCH_SINK:  # incremental matching: which anchor's iteration created this match
            MATCH_SINK[-1].append(self)


#: set by :mod:`mlir_opt.graph.search.matching` while it records a matcher: the list (last item)
#: that newly created :class:`Match` objects are appended to
MATCH_SINK: list[list] = []


@dataclass(frozen=True)
class Example:
    """A small test graph for numerical verification of a rule: a label and MLIR text.

    ``dtype`` names the element type the example computes in (``f32``, ``f16``); examples in a
    reduced precision are compared with :data:`F16_TOLERANCE` instead of the fp32 tolerance.
    """

    label: str
    mlir: str
    dtype: str = "f32"


F16_TOLERANCE = 1e-2


@dataclass(frozen=True)
class Rule:
    """A named graph rewrite.

    Attributes:
        name: stable name (used on the CLI and in reports).
        family: the rule family (``merge``, ``fold``, ``layout``).
        description: one line, shown by ``rules --list``.
        match: ``match(view) -> list[Match]``; checks every precondition.
        apply: ``apply(module, match)`` rewrites ``module`` in place (re-checks the preconditions and
            raises :class:`RuleError` if they fail; never builds an op with a wrong shape).
        examples: ``examples() -> list[Example]``: small graphs the verifier runs the rule on.
        auto: whether :func:`mlir_opt.graph.apply_rules` uses the rule when no rule names are given
            (the cost-free fixpoint rewriter). Rules that do not simplify on their own — the
            inverse of another rule (both enabled would loop) or a step that only pays off with a
            later rewrite (kernel enlargement) — set it to False; the searches, which deduplicate
            graphs by structural hash and compare costs, still use them.
        in_search: whether the graph searches use the rule when no rule names are given. Rules
            whose payoff needs long sequences (the NCHW -> NHWC layout rules) are opt-in: they
            widen every search's branching and would crowd out shorter wins under a graph budget.
        locality: ``"anchor"`` when ``match`` loops over :meth:`GraphView.scan` and decides each
            anchor op on its own (its matches are emitted in that anchor's iteration and it reads the
            rest of the graph only through the view's ``users``/``producer``/``num_uses``/
            ``const_value``/``is_constant``), so the searches may re-match only the anchors whose
            recorded reads a rewrite changed (:mod:`mlir_opt.graph.search.matching`); ``"global"``
            (the default: groups across anchors, whole-graph conditions) is always re-matched.
    """

    name: str
    family: str
    description: str
    match: Callable[[GraphView], list[Match]]
    apply: Callable[[ir.Module, Match], None]
    examples: Callable[[], list[Example]] = field(default=lambda: [])
    auto: bool = True
    in_search: bool = True
    locality: str = "global"


def dense(arr: np.ndarray) -> str:
    """MLIR text of a constant tensor: ``dense<[…]> : tensor<…xf32>``."""
    arr = np.asarray(arr, dtype=np.float32)
    t = "x".join([*map(str, arr.shape), "f32"])
    return f"dense<{json.dumps(arr.astype(np.float64).tolist())}> : tensor<{t}>"


def shape_of(v: ir.Value) -> tuple[int, ...]:
    """Static shape of a ranked tensor value."""
    return tuple(ir.RankedTensorType(v.type).shape)


def elem_of(v: ir.Value) -> str:
    """Element type of a ranked tensor value, as MLIR text (``f32``)."""
    return str(ir.RankedTensorType(v.type).element_type)


def replace_results(view: GraphView, old: list[ir.Value], new: list[ir.Value]) -> None:
    """Replace every use of ``old[i]`` by ``new[i]``, then erase what became dead."""
    for a, b in zip(old, new):
        if str(a.type) != str(b.type):
            raise RuleError(f"rewrite would change type {a.type} to {b.type}")
        a.replace_all_uses_with(b)
    _ir.erase_dead(view.block)


def per_channel(arr: np.ndarray, axis: int = 1) -> np.ndarray | None:
    """The per-channel vector of an array constant along every axis but ``axis``, else None."""
    idx = [0] * arr.ndim
    idx[axis] = slice(None)
    v = arr[tuple(idx)]
    shape = [1] * arr.ndim
    shape[axis] = v.shape[0]
    if not np.array_equal(np.broadcast_to(v.reshape(shape), arr.shape), arr):
        return None
    return v


def is_add_body(g: ir.Operation) -> bool:
    """Whether a two-input ``linalg.generic``'s body is exactly ``yield(arg0 + arg1)`` (floating)."""
    block = g.regions[0].blocks[0]
    body = [o.operation for o in block.operations]
    if len(body) != 2 or body[0].name != "arith.addf" or body[1].operands[0] != body[0].results[0]:
        return False
    return {v for v in body[0].operands} == {block.arguments[0], block.arguments[1]}
