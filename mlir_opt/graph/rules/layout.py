"""Layout rules: transpose and reshape elimination.

``transpose-transpose``: ``linalg.transpose(linalg.transpose(x, p1), p2)`` reads ``x`` through the
composed permutation ``q[i] = p1[p2[i]]``; when ``q`` is the identity the pair is replaced by
``x``, otherwise by one transpose of ``x`` with ``q``. The first transpose stays if it has other
users.

``reshape-reshape``: a ``tensor.expand_shape``/``tensor.collapse_shape`` of another one whose
result type equals the type of the inner op's input is that input: reshapes keep the row-major
element order, so a pair that returns to the original shape is the identity.
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
    for i, op in view.scan():
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


_RESHAPES = ("tensor.expand_shape", "tensor.collapse_shape")


def _reshape_pair(view: GraphView, op: ir.Operation):
    if op.name not in _RESHAPES:
        return None
    inner = view.producer(op.operands[0])
    if inner is None or inner.name not in _RESHAPES:
        return None
    x = inner.operands[0]
    if str(x.type) != str(op.results[0].type):
        return None
    return inner, x


def match_reshape(view: GraphView) -> list[Match]:
    """Reshape pairs that return to the original type."""
    out = []
    for i, op in view.scan():
        pr = _reshape_pair(view, op)
        if pr is not None:
            out.append(Match("reshape-reshape", view.entry, (view.index[pr[0]], i),
                             f"{pr[0].name.split('.')[-1]} -> {op.name.split('.')[-1]}"))
    return out


def apply_reshape(module: ir.Module, m: Match) -> None:
    """Uses of the outer reshape read the inner reshape's input."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[1]]
    pr = _reshape_pair(view, op)
    if pr is None or view.index[pr[0]] != m.ops[0]:
        raise RuleError("reshape-reshape: precondition failed")
    replace_results(view, [op.results[0]], [pr[1]])


def _reshape_example(label: str, shape, mid, first: str, reassoc: str) -> Example:
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    n = len(shape)
    ident = ", ".join(f"d{i}" for i in range(n))
    if first == "collapse":
        a = f"tensor.collapse_shape %x {reassoc} : {t(shape)} into {t(mid)}"
        b = f"tensor.expand_shape %a {reassoc} output_shape [{', '.join(map(str, shape))}] : {t(mid)} into {t(shape)}"
    else:
        a = f"tensor.expand_shape %x {reassoc} output_shape [{', '.join(map(str, mid))}] : {t(shape)} into {t(mid)}"
        b = f"tensor.collapse_shape %a {reassoc} : {t(mid)} into {t(shape)}"
    return Example(label, f"""func.func @main(%x: {t(shape)}) -> ({t(shape)}, {t(mid)}) {{
  %a = {a}
  %b = {b}
  %e = tensor.empty() : {t(shape)}
  %r = linalg.generic {{indexing_maps = [affine_map<({ident}) -> ({ident})>, affine_map<({ident}) -> ({ident})>], iterator_types = [{', '.join(['"parallel"'] * n)}]}} ins(%b : {t(shape)}) outs(%e : {t(shape)}) {{
  ^bb0(%in: f32, %o: f32):
    %s = arith.mulf %in, %in : f32
    linalg.yield %s : f32
  }} -> {t(shape)}
  return %r, %a : {t(shape)}, {t(mid)}
}}
""")


def reshape_examples() -> list[Example]:
    """collapse∘expand and expand∘collapse pairs (the inner reshape also has another user)."""
    return [_reshape_example("2x3x4 collapse [[0,1],[2]] then expand", [2, 3, 4], [6, 4], "collapse", "[[0, 1], [2]]"),
            _reshape_example("12x5 expand to 3x4x5 then collapse", [12, 5], [3, 4, 5], "expand", "[[0, 1], [2]]"),
            _reshape_example("1x16x64 expand to 1x16x4x16 then collapse", [1, 16, 64], [1, 16, 4, 16], "expand",
                             "[[0], [1], [2, 3]]")]


RULES = [
    Rule("transpose-transpose", "layout",
         "transpose of a transpose -> nothing (identity) or one transpose (composed permutation)",
         match, apply, examples, locality="anchor"),
    Rule("reshape-reshape", "layout",
         "expand_shape/collapse_shape pair that returns to the original type -> its input",
         match_reshape, apply_reshape, reshape_examples, locality="anchor"),
]
