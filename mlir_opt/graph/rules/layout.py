"""Layout rules: transpose elimination.

``transpose-transpose``: ``linalg.transpose(linalg.transpose(x, p1), p2)`` reads ``x`` through the
composed permutation ``q[i] = p1[p2[i]]``; when ``q`` is the identity the pair is replaced by
``x``, otherwise by one transpose of ``x`` with ``q``. The first transpose stays if it has other
users.
"""

from __future__ import annotations


from ... import ir as _ir
from ..view import GraphView
from .base import Example, Match, Rule, RuleError, replace_results

__all__ = ["RULES"]

ir = _ir.ir


def _pair(view: GraphView, op: ir.Operation):
    if op.name != "linalg.transpose":
        return None
    first = view.producer(op.operands[0])
    if first is None or first.name != "linalg.transpose":
        return None
    p1 = _ir.int_array_attr(first, "permutation")
    p2 = _ir.int_array_attr(op, "permutation")
    if len(p1) != len(p2):
        return None
    return first, [p1[j] for j in p2]


def match(view: GraphView) -> list[Match]:
    """Transposes whose input is another transpose."""
    out = []
    for i, op in enumerate(view.ops):
        pr = _pair(view, op)
        if pr is not None:
            out.append(Match("transpose-transpose", view.entry, (view.index[pr[0]], i),
                             "identity" if pr[1] == sorted(pr[1]) else f"-> {pr[1]}"))
    return out


def apply(module: ir.Module, m: Match) -> None:
    """Bypass the pair (identity) or replace it by one transpose."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[1]]
    pr = _pair(view, op)
    if pr is None or view.index[pr[0]] != m.ops[0]:
        raise RuleError("transpose-transpose: precondition failed")
    first, q = pr
    x = first.operands[0]
    if q == list(range(len(q))):
        new = [x]
    else:
        t_out = str(op.results[0].type)
        new = _ir.splice(op, f"""func.func @s(%x: {x.type}) -> {t_out} {{
  %e = tensor.empty() : {t_out}
  %t = linalg.transpose ins(%x : {x.type}) outs(%e : {t_out}) permutation = [{', '.join(map(str, q))}]
  return %t : {t_out}
}}""", [x])
    replace_results(view, [op.results[0]], new)


def _example(label: str, shape: list[int], p1: list[int], p2: list[int]) -> Example:
    mid = [shape[i] for i in p1]
    out = [mid[i] for i in p2]
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    ident = ", ".join(f"d{i}" for i in range(len(shape)))
    return Example(label, f"""func.func @main(%x: {t(shape)}) -> {t(out)} {{
  %e1 = tensor.empty() : {t(mid)}
  %a = linalg.transpose ins(%x : {t(shape)}) outs(%e1 : {t(mid)}) permutation = [{', '.join(map(str, p1))}]
  %e2 = tensor.empty() : {t(out)}
  %b = linalg.transpose ins(%a : {t(mid)}) outs(%e2 : {t(out)}) permutation = [{', '.join(map(str, p2))}]
  %r = linalg.generic {{indexing_maps = [affine_map<({ident}) -> ({ident})>, affine_map<({ident}) -> ({ident})>], iterator_types = [{', '.join(['"parallel"'] * len(shape))}]}} ins(%b : {t(out)}) outs(%e2 : {t(out)}) {{
  ^bb0(%in: f32, %o: f32):
    %s = arith.mulf %in, %in : f32
    linalg.yield %s : f32
  }} -> {t(out)}
  return %r : {t(out)}
}}
""")


def examples() -> list[Example]:
    """Pairs that cancel and pairs that compose to a third permutation."""
    return [_example("2x3x4 [1,0,2]∘[1,0,2] = id", [2, 3, 4], [1, 0, 2], [1, 0, 2]),
            _example("2x3x4x5 [0,2,3,1]∘[0,3,1,2] = id", [2, 3, 4, 5], [0, 2, 3, 1], [0, 3, 1, 2]),
            _example("3x4x5 [2,0,1]∘[1,0,2]", [3, 4, 5], [2, 0, 1], [1, 0, 2])]


RULES = [
    Rule("transpose-transpose", "layout",
         "transpose of a transpose -> nothing (identity) or one transpose (composed permutation)",
         match, apply, examples),
]
