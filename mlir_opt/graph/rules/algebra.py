"""Algebraic rules on contractions and elementwise chains.

``distribute-matmul``: ``A·B + A·C`` (an elementwise add of two contractions with the same LHS,
each used only by the add) with weight-only ``B``, ``C`` becomes ``A·(B + C)``; ``B + C`` is
folded with numpy and the fills' scalars are summed. (The concat form ``concat(A·B, A·C)`` →
``A·concat(B, C)`` is ``merge-parallel-matmuls`` followed by ``concat-of-slices``.)

``matmul-reassociate``: ``(A·B)·C`` ↔ ``A·(B·C)`` for ``linalg.matmul``/``linalg.batch_matmul``
chains with zero-filled accumulators and an inner product used once, applied only when the
runtime FLOPs drop (a product of two weight-only operands is folded with numpy and costs
nothing). Since the rule only fires on a strict FLOP decrease it cannot oscillate.

``transpose-into-matmul``: a ``linalg.transpose`` that swaps the last two dims of a
non-constant contraction operand is absorbed into the contraction's ``indexing_maps``
(``matmul_transpose_a/b`` form); constant operands are left to ``fold-constant-transpose``.

``fold-chained-scale-bias``: a chain of ≥ 2 elementwise ``linalg.generic``s, each combining the
running value with a weight-only tensor by ``+ - × ÷`` (the running value used only by the
next link), becomes one generic ``x·s + t`` with ``s``, ``t`` folded in float64 and stored at
their smallest broadcast shape (LayerNorm's γ/β, scale-then-bias chains).
"""

from __future__ import annotations

import numpy as np

from ... import ir as _ir
from ..consteval import map_to_loops
from ..view import GraphView
from .base import Example, Match, Rule, RuleError, dense, elem_of, replace_results, shape_of

__all__ = ["RULES"]

ir = _ir.ir

_DEFAULT = {"linalg.matmul": [["d0", "d2"], ["d2", "d1"], ["d0", "d1"]],
            "linalg.batch_matmul": [["d0", "d1", "d3"], ["d0", "d3", "d2"], ["d0", "d1", "d2"]]}
_TRANS_A = {"linalg.matmul": ["d2", "d0"], "linalg.batch_matmul": ["d0", "d3", "d1"]}
_TRANS_B = {"linalg.matmul": ["d1", "d2"], "linalg.batch_matmul": ["d0", "d2", "d3"]}


def _maps(op: ir.Operation) -> list[list[str]]:
    if "indexing_maps" not in op.attributes:
        return _DEFAULT[op.name]
    return [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(op.attributes["indexing_maps"])]


def _mm(view: GraphView, op: ir.Operation):
    """``(lhs, rhs, fill scalar)`` of a default-map contraction with a constant-scalar fill."""
    if op.name not in _DEFAULT or len(op.operands) != 3 or len(op.results) != 1 or "cast" in op.attributes:
        return None
    if _maps(op) != _DEFAULT[op.name]:
        return None
    lhs, rhs, init = op.operands
    fill = view.producer(init)
    if fill is None or fill.name != "linalg.fill":
        return None
    z = view.const_value(fill.operands[0])
    if z is None or np.asarray(z).size != 1:
        return None
    if len({elem_of(lhs), elem_of(rhs), elem_of(init)}) != 1:
        return None
    return lhs, rhs, float(np.asarray(z).reshape(-1)[0])


def _used_once_by(view: GraphView, v: ir.Value, user: ir.Operation) -> bool:
    us = view.users(v)
    return len(us) == 1 and us[0] == user and view.num_uses(v) == 1


def _ttype(shape, elem) -> str:
    return "tensor<" + "x".join(map(str, shape)) + f"x{elem}>"


def _mm_snippet(name: str, a: str, b: str, a_t: str, b_t: str, out_t: str, elem: str, z: float,
                res: str = "%m") -> list[str]:
    """Lines computing ``res = name(a, b)`` on a fill of ``z``."""
    return [f"  {res}_e = tensor.empty() : {out_t}",
            f"  {res}_z = arith.constant {z!r} : {elem}",
            f"  {res}_f = linalg.fill ins({res}_z : {elem}) outs({res}_e : {out_t}) -> {out_t}",
            f"  {res} = {name} ins({a}, {b} : {a_t}, {b_t}) outs({res}_f : {out_t}) -> {out_t}"]


# -- distribute-matmul ----------------------------------------------------------------------------

def _binary_add(view: GraphView, g: ir.Operation):
    """The two inputs of an elementwise ``a + b`` generic with identity maps, else None."""
    if g.name != "linalg.generic" or len(g.operands) != 3 or len(g.results) != 1:
        return None
    maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    rank = len(shape_of(g.results[0]))
    ident = [f"d{i}" for i in range(rank)]
    if any(mp[1] != ident or mp[0] != rank for mp in maps):
        return None
    block = g.regions[0].blocks[0]
    body = [o.operation for o in block.operations]
    if len(body) != 2 or body[0].name != "arith.addf" or body[1].operands[0] != body[0].results[0]:
        return None
    if set(body[0].operands) != {block.arguments[0], block.arguments[1]}:
        return None
    return g.operands[0], g.operands[1]


def _distrib(view: GraphView, g: ir.Operation):
    ins = _binary_add(view, g)
    if ins is None or ins[0] == ins[1]:
        return None
    ops = [view.producer(v) for v in ins]
    if any(o is None for o in ops) or ops[0].name != ops[1].name:
        return None
    mms = [_mm(view, o) for o in ops]
    if any(mm is None for mm in mms) or mms[0][0] != mms[1][0]:
        return None
    if not all(_used_once_by(view, v, g) for v in ins):
        return None
    if str(ins[0].type) != str(g.results[0].type) or str(ins[1].type) != str(g.results[0].type):
        return None
    b, c = view.const_value(mms[0][1]), view.const_value(mms[1][1])
    if b is None or c is None or b.shape != c.shape:
        return None
    return ops, mms[0][0], b, c, mms[0][2] + mms[1][2]


def match_distrib(view: GraphView) -> list[Match]:
    """Adds of two contractions with the same LHS and weight-only RHS."""
    out = []
    for i, g in view.scan():
        d = _distrib(view, g)
        if d is not None:
            out.append(Match("distribute-matmul", view.entry, (view.index[d[0][0]], view.index[d[0][1]], i)))
    return out


def apply_distrib(module: ir.Module, m: Match) -> None:
    """One contraction on ``B + C``."""
    view = GraphView(module, m.entry)
    g = view.ops[m.ops[2]]
    d = _distrib(view, g)
    if d is None or [view.index[o] for o in d[0]] != list(m.ops[:2]):
        raise RuleError("distribute-matmul: precondition failed")
    ops, a, b, c, z = d
    anchor = ops[0] if view.index[ops[0]] < view.index[ops[1]] else ops[1]
    w = (b.astype(np.float64) + c.astype(np.float64)).astype(b.dtype)
    wv = _ir.make_constant(w, before=anchor)
    out_t, elem = str(g.results[0].type), elem_of(g.results[0])
    lines = [f"func.func @s(%a: {a.type}, %b: {wv.type}) -> {out_t} {{",
             *_mm_snippet(ops[0].name, "%a", "%b", str(a.type), str(wv.type), out_t, elem, z),
             f"  return %m : {out_t}", "}"]
    new = _ir.splice(anchor, "\n".join(lines), [a, wv])
    replace_results(view, [g.results[0]], new)


# -- matmul-reassociate ---------------------------------------------------------------------------

def _macs(view: GraphView, x: ir.Value | None, y: ir.Value | None, out_shape, k: int) -> float:
    """Runtime multiply-adds of x·y; 0 when both are weight-only (None = a folded product)."""
    const = lambda v: v is None or view.is_constant(v)
    if const(x) and const(y):
        return 0.0
    return float(np.prod(out_shape, dtype=np.float64)) * k


def _reassoc(view: GraphView, outer: ir.Operation):
    """The chain at ``outer`` if re-associating it lowers the runtime multiply-adds, else None.

    Returns ``(inner, a, b, c, left, new_inner_shape, before, after)`` where ``left`` means the
    chain is (A·B)·C (rewritten to A·(B·C)); otherwise it is A·(B·C) (rewritten to (A·B)·C).
    """
    mo = _mm(view, outer)
    if mo is None or mo[2] != 0.0:
        return None
    out = shape_of(outer.results[0])
    for side in (0, 1):
        inner = view.producer(outer.operands[side])
        if inner is None or inner.name != outer.name:
            continue
        mi = _mm(view, inner)
        if mi is None or mi[2] != 0.0 or not _used_once_by(view, inner.results[0], outer):
            continue
        mid = shape_of(inner.results[0])
        if side == 0:  # (A·B)·C -> A·(B·C)
            a, b, c = mi[0], mi[1], mo[1]
            new_inner = [*shape_of(b)[:-1], shape_of(c)[-1]]
            folded = view.is_constant(b) and view.is_constant(c)
            before = _macs(view, a, b, mid, shape_of(a)[-1]) + _macs(view, inner.results[0], c, out, shape_of(b)[-1])
            after = _macs(view, b, c, new_inner, shape_of(b)[-1]) \
                + _macs(view, a, None if folded else b, out, shape_of(a)[-1])
        else:  # A·(B·C) -> (A·B)·C
            a, b, c = mo[0], mi[0], mi[1]
            new_inner = [*shape_of(a)[:-1], shape_of(b)[-1]]
            folded = view.is_constant(a) and view.is_constant(b)
            before = _macs(view, b, c, mid, shape_of(b)[-1]) + _macs(view, a, inner.results[0], out, shape_of(a)[-1])
            after = _macs(view, a, b, new_inner, shape_of(a)[-1]) \
                + _macs(view, None if folded else a, c, out, shape_of(b)[-1])
        if outer.name == "linalg.batch_matmul" and not (shape_of(a)[0] == shape_of(b)[0] == shape_of(c)[0]):
            continue
        if after < before:
            return inner, a, b, c, side == 0, new_inner, before, after
    return None


def match_reassoc(view: GraphView) -> list[Match]:
    """Contraction chains whose other association needs fewer runtime FLOPs."""
    out = []
    for i, op in view.scan():
        r = _reassoc(view, op)
        if r is not None:
            out.append(Match("matmul-reassociate", view.entry, (view.index[r[0]], i),
                             f"{'(AB)C -> A(BC)' if r[4] else 'A(BC) -> (AB)C'}: {r[6]:.0f} -> {r[7]:.0f} MACs"))
    return out


def apply_reassoc(module: ir.Module, m: Match) -> None:
    """Rebuild the chain with the other association (a weight-only inner product folded)."""
    view = GraphView(module, m.entry)
    outer = view.ops[m.ops[1]]
    r = _reassoc(view, outer)
    if r is None or view.index[r[0]] != m.ops[0]:
        raise RuleError("matmul-reassociate: precondition failed")
    inner, a, b, c, left, new_inner, *_ = r
    name, elem = outer.name, elem_of(outer.results[0])
    out_t, mid_t = str(outer.results[0].type), _ttype(new_inner, elem)
    x, y = (b, c) if left else (a, b)   # the new inner product
    anchor = outer  # every input (A, B, C) is defined before the outer product
    cx, cy = view.const_value(x), view.const_value(y)
    if cx is not None and cy is not None:  # fold the weight-only product
        prod = np.matmul(cx.astype(np.float64), cy.astype(np.float64)).astype(cx.dtype)
        x = _ir.make_constant(prod, before=anchor)
        inputs = [a, x] if left else [x, c]
        lines = [f"func.func @s(%a: {inputs[0].type}, %b: {inputs[1].type}) -> {out_t} {{",
                 *_mm_snippet(name, "%a", "%b", str(inputs[0].type), str(inputs[1].type), out_t, elem, 0.0)]
    else:
        other = a if left else c
        inputs = [x, y, other]
        lines = [f"func.func @s(%x: {x.type}, %y: {y.type}, %o: {other.type}) -> {out_t} {{",
                 *_mm_snippet(name, "%x", "%y", str(x.type), str(y.type), mid_t, elem, 0.0, "%mid")]
        if left:
            lines += _mm_snippet(name, "%o", "%mid", str(other.type), mid_t, out_t, elem, 0.0)
        else:
            lines += _mm_snippet(name, "%mid", "%o", mid_t, str(other.type), out_t, elem, 0.0)
    lines += [f"  return %m : {out_t}", "}"]
    new = _ir.splice(anchor, "\n".join(lines), inputs)
    replace_results(view, [outer.results[0]], new)


# -- transpose-into-matmul ------------------------------------------------------------------------

def _swap_last2(perm: list[int]) -> bool:
    n = len(perm)
    return n >= 2 and perm == [*range(n - 2), n - 1, n - 2]


def _tim(view: GraphView, op: ir.Operation):
    """``(operand index, transpose op)`` for a contraction reading a last-two-dims transpose."""
    if op.name not in _DEFAULT or len(op.operands) != 3 or len(op.results) != 1 or "cast" in op.attributes:
        return None
    maps = _maps(op)
    for k in (0, 1):
        if maps[k] != _DEFAULT[op.name][k]:
            continue
        t = view.producer(op.operands[k])
        if t is None or t.name != "linalg.transpose" or not _swap_last2(_ir.int_array_attr(t, "permutation")):
            continue
        if view.is_constant(op.operands[k]):
            continue
        return k, t
    return None


def match_tim(view: GraphView) -> list[Match]:
    """Contractions with a transposed (last two dims) non-constant operand."""
    out = []
    for i, op in view.scan():
        r = _tim(view, op)
        if r is not None:
            out.append(Match("transpose-into-matmul", view.entry, (view.index[r[1]], i), "ab"[r[0]]))
    return out


def apply_tim(module: ir.Module, m: Match) -> None:
    """The contraction reads the transpose's input through permuted indexing maps."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[1]]
    r = _tim(view, op)
    if r is None or view.index[r[1]] != m.ops[0]:
        raise RuleError("transpose-into-matmul: precondition failed")
    k, t = r
    maps = [list(mp) for mp in _maps(op)]
    maps[k] = (_TRANS_A if k == 0 else _TRANS_B)[op.name]
    n = 3 if op.name == "linalg.matmul" else 4
    dims = ", ".join(f"d{i}" for i in range(n))
    attr = ", ".join(f"affine_map<({dims}) -> ({', '.join(mp)})>" for mp in maps)
    ins = list(op.operands)
    ins[k] = t.operands[0]
    out_t = str(op.results[0].type)
    snippet = (f"func.func @s(%a: {ins[0].type}, %b: {ins[1].type}, %i: {ins[2].type}) -> {out_t} {{\n"
               f"  %m = {op.name} indexing_maps = [{attr}] ins(%a, %b : {ins[0].type}, {ins[1].type}) "
               f"outs(%i : {ins[2].type}) -> {out_t}\n  return %m : {out_t}\n}}")
    new = _ir.splice(op, snippet, ins)
    replace_results(view, [op.results[0]], new)


# -- fold-chained-scale-bias ----------------------------------------------------------------------

_AFFINE = ("arith.addf", "arith.subf", "arith.mulf", "arith.divf")


def _link(view: GraphView, g: ir.Operation, cur: ir.Value):
    """``(op, x_first, full constant)`` if ``g`` = cur ∘ c elementwise with weight-only c."""
    if g.name != "linalg.generic" or len(g.operands) != 3 or len(g.results) != 1:
        return None
    if str(g.results[0].type) != str(cur.type):
        return None
    if any("parallel" not in str(a) for a in ir.ArrayAttr(g.attributes["iterator_types"])):
        return None
    maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    shape = shape_of(cur)
    rank = len(shape)
    ident = [f"d{i}" for i in range(rank)]
    if maps[2][1] != ident or maps[2][0] != rank:
        return None
    ins = list(g.operands)[:2]
    if ins[0] == cur and ins[1] != cur:
        p = 0
    elif ins[1] == cur and ins[0] != cur:
        p = 1
    else:
        return None
    if maps[p][1] != ident:
        return None
    c = view.const_value(ins[1 - p])
    if c is None:
        return None
    try:
        full = map_to_loops(c, maps[1 - p][1], rank, shape)
    except ValueError:
        return None
    block = g.regions[0].blocks[0]
    body = [o.operation for o in block.operations]
    if len(body) != 2 or body[0].name not in _AFFINE or body[1].name != "linalg.yield":
        return None
    if body[1].operands[0] != body[0].results[0]:
        return None
    a, b = body[0].operands
    x_arg, c_arg = block.arguments[p], block.arguments[1 - p]
    if (a, b) == (x_arg, c_arg):
        x_first = True
    elif (a, b) == (c_arg, x_arg):
        x_first = False
    else:
        return None
    if body[0].name == "arith.divf" and not x_first:
        return None
    return body[0].name, x_first, full.astype(np.float64)


def _chain(view: GraphView, g: ir.Operation):
    """``(input, links)`` of a maximal chain (≥ 2 links) starting at ``g``, else None."""
    if g.name != "linalg.generic" or len(g.operands) != 3:
        return None
    for x in list(g.operands)[:2]:
        first = _link(view, g, x)
        if first is None:
            continue
        prev = view.producer(x)
        if prev is not None and _used_once_by(view, x, g) and any(
                _link(view, prev, v) is not None for v in list(prev.operands)[:2] if len(prev.operands) == 3):
            return None  # not the start of the chain
        links, cur = [(g, *first)], g.results[0]
        while True:
            us = view.users(cur)
            if len(us) != 1 or view.num_uses(cur) != 1:
                break
            lk = _link(view, us[0], cur)
            if lk is None:
                break
            links.append((us[0], *lk))
            cur = us[0].results[0]
        if len(links) >= 2:
            return x, links
        return None
    return None


def _compact(arr: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """``arr`` without the axes it is constant along, and the axes kept."""
    keep = [ax for ax in range(arr.ndim) if not np.all(arr == np.take(arr, [0], axis=ax))]
    idx = tuple(slice(None) if ax in keep else 0 for ax in range(arr.ndim))
    return np.array(arr[idx]), keep  # (ascontiguousarray would make a 0-d result 1-d)


def match_chain(view: GraphView) -> list[Match]:
    """Maximal chains of ≥ 2 elementwise ops with weight-only second operands."""
    out = []
    for i, g in view.scan():
        ch = _chain(view, g)
        if ch is not None:
            out.append(Match("fold-chained-scale-bias", view.entry, tuple(view.index[lk[0]] for lk in ch[1]),
                             f"{len(ch[1])} elementwise ops"))
    return out


def apply_chain(module: ir.Module, m: Match) -> None:
    """One generic ``x * s + t``."""
    view = GraphView(module, m.entry)
    g = view.ops[m.ops[0]]
    ch = _chain(view, g)
    if ch is None or tuple(view.index[lk[0]] for lk in ch[1]) != tuple(m.ops):
        raise RuleError("fold-chained-scale-bias: precondition failed")
    x, links = ch
    shape = shape_of(x)
    scale, shift = np.ones(shape), np.zeros(shape)
    for _, name, x_first, v in links:
        if name == "arith.addf":
            shift = shift + v
        elif name == "arith.subf" and x_first:
            shift = shift - v
        elif name == "arith.subf":
            scale, shift = -scale, v - shift
        elif name == "arith.mulf":
            scale, shift = scale * v, shift * v
        else:
            scale, shift = scale / v, shift / v
    out = links[-1][0].results[0]
    replace_results(view, [out], [splice_scale_bias(g, x, scale, shift, str(out.type))])


def splice_scale_bias(anchor: ir.Operation, x: ir.Value, scale: np.ndarray, shift: np.ndarray,
                      out_t: str) -> ir.Value:
    """Insert ``x * scale + shift`` (one elementwise generic, constants at their smallest broadcast
    shape, a scale of 1 and a shift of 0 left out) before ``anchor``; ``x`` itself if both are unit.
    ``scale``/``shift`` broadcast to ``x``'s shape. Shared with the egglog counterpart (eqsat)."""
    shape = shape_of(x)
    scale, shift = np.broadcast_to(scale, shape), np.broadcast_to(shift, shape)
    elem = elem_of(x)
    dt = np.float16 if elem == "f16" else np.float32
    rank = len(shape)
    dims = ", ".join(f"d{i}" for i in range(rank))
    mp = lambda keep: f"affine_map<({dims}) -> ({', '.join(f'd{a}' for a in keep)})>"
    # x * s + t, leaving out a scale of 1 and a shift of 0
    inputs, maps, types, args, body, cur = [x], [mp(range(rank))], [str(x.type)], [f"%a: {elem}"], [], "%a"
    for tag, arr, unit, op in (("s", scale, 1.0, "arith.mulf"), ("t", shift, 0.0, "arith.addf")):
        if np.all(arr == unit):
            continue
        c, keep = _compact(arr)
        v = _ir.make_constant(c.astype(dt), before=anchor)
        inputs.append(v)
        maps.append(mp(keep))
        types.append(str(v.type))
        args.append(f"%{tag}{tag}: {elem}")
        body.append(f"    %{tag}r = {op} {cur}, %{tag}{tag} : {elem}")
        cur = f"%{tag}r"
    if not body:  # the chain is the identity
        return x
    fargs = ", ".join(f"%i{k}: {t}" for k, t in enumerate(types))
    ins = ", ".join(f"%i{k}" for k in range(len(types)))
    snippet = f"""func.func @s({fargs}) -> {out_t} {{
  %e = tensor.empty() : {out_t}
  %r = linalg.generic {{indexing_maps = [{', '.join(maps)}, {mp(range(rank))}], iterator_types = [{_iters(rank)}]}} ins({ins} : {', '.join(types)}) outs(%e : {out_t}) {{
  ^bb0({', '.join(args)}, %o: {elem}):
{chr(10).join(body)}
    linalg.yield {cur} : {elem}
  }} -> {out_t}
  return %r : {out_t}
}}"""
    return _ir.splice(anchor, snippet, inputs)[0]


# -- examples -------------------------------------------------------------------------------------

def _t(shape, elem="f32") -> str:
    return _ttype(shape, elem)


def _mm_lines(res, name, a, b, a_s, b_s, out_s, z="%zero") -> list[str]:
    return [f"  {res}_e = tensor.empty() : {_t(out_s)}",
            f"  {res}_f = linalg.fill ins({z} : f32) outs({res}_e : {_t(out_s)}) -> {_t(out_s)}",
            f"  {res} = {name} ins({a}, {b} : {_t(a_s)}, {_t(b_s)}) outs({res}_f : {_t(out_s)}) -> {_t(out_s)}"]


def _add_lines(res, a, b, shape) -> list[str]:
    d = ", ".join(f"d{i}" for i in range(len(shape)))
    mp = f"affine_map<({d}) -> ({d})>"
    return [f"  {res}_e = tensor.empty() : {_t(shape)}",
            f"  {res} = linalg.generic {{indexing_maps = [{mp}, {mp}, {mp}], iterator_types = [{_iters(len(shape))}]}} "
            f"ins({a}, {b} : {_t(shape)}, {_t(shape)}) outs({res}_e : {_t(shape)}) {{\n  ^bb0(%p: f32, %q: f32, %o: f32):\n"
            f"    %s = arith.addf %p, %q : f32\n    linalg.yield %s : f32\n  }} -> {_t(shape)}"]


def _iters(n: int) -> str:
    return ", ".join(['"parallel"'] * n)


def _func(args: str, body: list[str], rets: list[str], types: list[str]) -> str:
    return (f"func.func @main({args}) -> ({', '.join(types)}) {{\n  %zero = arith.constant 0.0 : f32\n"
            + "\n".join(body) + f"\n  return {', '.join(rets)} : {', '.join(types)}\n}}\n")


def distrib_examples() -> list[Example]:
    """2-D, batched, and a non-zero fill on one side."""
    rng = np.random.default_rng(0)
    out = []
    for label, name, a_s, n, fill in (("matmul 5x7 (7x4 + 7x4)", "linalg.matmul", [5, 7], 4, False),
                                      ("batch_matmul 1x6x8 (1x8x3 + 1x8x3)", "linalg.batch_matmul", [1, 6, 8], 3, False),
                                      ("matmul 3x4 (4x6 + 4x6), one fill of 0.5", "linalg.matmul", [3, 4], 6, True)):
        b_s = [*a_s[:-2], a_s[-1], n]
        o_s = [*a_s[:-1], n]
        body = [f"  %half = arith.constant 0.5 : f32",
                f"  %b = arith.constant {dense(rng.standard_normal(b_s))}",
                f"  %c = arith.constant {dense(rng.standard_normal(b_s))}",
                *_mm_lines("%m0", name, "%x", "%b", a_s, b_s, o_s),
                *_mm_lines("%m1", name, "%x", "%c", a_s, b_s, o_s, "%half" if fill else "%zero"),
                *_add_lines("%r", "%m0", "%m1", o_s)]
        out.append(Example(label, _func(f"%x: {_t(a_s)}", body, ["%r"], [_t(o_s)])))
    return out


def reassoc_examples() -> list[Example]:
    """(A·B)·C with weight-only B, C (folded); A·(B·C) with a wide middle; batched (A·B)·C."""
    rng = np.random.default_rng(1)
    ex = []
    body = [f"  %b = arith.constant {dense(rng.standard_normal((6, 32)))}",
            f"  %c = arith.constant {dense(rng.standard_normal((32, 5)))}",
            *_mm_lines("%ab", "linalg.matmul", "%x", "%b", [4, 6], [6, 32], [4, 32]),
            *_mm_lines("%r", "linalg.matmul", "%ab", "%c", [4, 32], [32, 5], [4, 5])]
    ex.append(Example("(4x6 · 6x32) · 32x5, weights folded", _func("%x: tensor<4x6xf32>", body, ["%r"], [_t([4, 5])])))
    # A (3x16) · (B (16x2) · C (2x16)): B·C at runtime costs 16*2*16=512 + 3*16*16=768; (AB)C costs 96 + 96
    body = [*_mm_lines("%bc", "linalg.matmul", "%y", "%z", [16, 2], [2, 16], [16, 16]),
            *_mm_lines("%r", "linalg.matmul", "%x", "%bc", [3, 16], [16, 16], [3, 16])]
    ex.append(Example("3x16 · (16x2 · 2x16) -> (3x16 · 16x2) · 2x16",
                      _func("%x: tensor<3x16xf32>, %y: tensor<16x2xf32>, %z: tensor<2x16xf32>", body, ["%r"], [_t([3, 16])])))
    body = [f"  %b = arith.constant {dense(rng.standard_normal((1, 8, 24)))}",
            f"  %c = arith.constant {dense(rng.standard_normal((1, 24, 4)))}",
            *_mm_lines("%ab", "linalg.batch_matmul", "%x", "%b", [1, 5, 8], [1, 8, 24], [1, 5, 24]),
            *_mm_lines("%r", "linalg.batch_matmul", "%ab", "%c", [1, 5, 24], [1, 24, 4], [1, 5, 4])]
    ex.append(Example("batch (1x5x8 · 1x8x24) · 1x24x4, weights folded",
                      _func("%x: tensor<1x5x8xf32>", body, ["%r"], [_t([1, 5, 4])])))
    return ex


def tim_examples() -> list[Example]:
    """x·transpose(y) (matmul), transpose(x)·y (matmul), batched q·transpose(k)."""
    ex = []
    for label, name, a_s, b_s, which in (("4x6 · transpose(5x6)", "linalg.matmul", [4, 6], [5, 6], "b"),
                                         ("transpose(6x4) · 6x3", "linalg.matmul", [6, 4], [6, 3], "a"),
                                         ("batch 2x5x8 · transpose(2x7x8)", "linalg.batch_matmul", [2, 5, 8], [2, 7, 8], "b")):
        n = len(a_s)
        perm = ", ".join(map(str, [*range(n - 2), n - 1, n - 2]))
        src = b_s if which == "b" else a_s
        tr = [*src[:-2], src[-1], src[-2]]
        a2, b2 = (a_s, tr) if which == "b" else (tr, b_s)
        o_s = [*a2[:-1], b2[-1]]
        body = [f"  %te = tensor.empty() : {_t(tr)}",
                f"  %t = linalg.transpose ins(%{which} : {_t(src)}) outs(%te : {_t(tr)}) permutation = [{perm}]",
                *_mm_lines("%r", name, "%t" if which == "a" else "%a", "%t" if which == "b" else "%b", a2, b2, o_s)]
        ex.append(Example(label, _func(f"%a: {_t(a_s)}, %b: {_t(b_s)}", body, ["%r"], [_t(o_s)])))
    return ex


def _ew(res, x, c, c_shape, c_map, op, shape, c_first=False) -> list[str]:
    d = ", ".join(f"d{i}" for i in range(len(shape)))
    ident = f"affine_map<({d}) -> ({d})>"
    cm = f"affine_map<({d}) -> ({c_map})>"
    ins, types, maps = (f"{c}, {x}", f"{_t(c_shape)}, {_t(shape)}", f"{cm}, {ident}") if c_first else \
        (f"{x}, {c}", f"{_t(shape)}, {_t(c_shape)}", f"{ident}, {cm}")
    body = "%q, %p" if c_first else "%p, %q"
    return [f"  {res}_e = tensor.empty() : {_t(shape)}",
            f"  {res} = linalg.generic {{indexing_maps = [{maps}, {ident}], iterator_types = [{_iters(len(shape))}]}} "
            f"ins({ins} : {types}) outs({res}_e : {_t(shape)}) {{\n  ^bb0(%p: f32, %q: f32, %o: f32):\n"
            f"    %s = {op} {body} : f32\n    linalg.yield %s : f32\n  }} -> {_t(shape)}"]


def chain_examples() -> list[Example]:
    """LayerNorm-style γ·x + β over the last dim, a 4-D per-channel chain of 4, mixed broadcasts."""
    rng = np.random.default_rng(2)
    ex = []
    s = [2, 3, 8]
    body = [f"  %g = arith.constant {dense(rng.random(8) + 0.5)}",
            f"  %bt = arith.constant {dense(rng.standard_normal(8))}",
            *_ew("%y0", "%x", "%g", [8], "d2", "arith.mulf", s),
            *_ew("%y1", "%y0", "%bt", [8], "d2", "arith.addf", s)]
    ex.append(Example("2x3x8: x*gamma[8] + beta[8]", _func(f"%x: {_t(s)}", body, ["%y1"], [_t(s)])))
    s = [1, 4, 3, 3]
    cs = [rng.random(4) + 0.5 for _ in range(4)]
    body = [f"  %c{k} = arith.constant {dense(c)}" for k, c in enumerate(cs)]
    body += [*_ew("%y0", "%x", "%c0", [4], "d1", "arith.subf", s),
             *_ew("%y1", "%y0", "%c1", [4], "d1", "arith.divf", s),
             *_ew("%y2", "%y1", "%c2", [4], "d1", "arith.subf", s, c_first=True),
             *_ew("%y3", "%y2", "%c3", [4], "d1", "arith.mulf", s, c_first=True)]
    ex.append(Example("1x4x3x3: c3*(c2 - (x - c0)/c1) per channel", _func(f"%x: {_t(s)}", body, ["%y3"], [_t(s)])))
    s = [3, 5]
    body = [f"  %r = arith.constant {dense(rng.random(3) + 0.5)}",
            f"  %c = arith.constant {dense(rng.standard_normal(5))}",
            f"  %f = arith.constant {dense(rng.standard_normal((3, 5)))}",
            *_ew("%y0", "%x", "%r", [3], "d0", "arith.mulf", s),
            *_ew("%y1", "%y0", "%c", [5], "d1", "arith.addf", s),
            *_ew("%y2", "%y1", "%f", [3, 5], "d0, d1", "arith.mulf", s)]
    ex.append(Example("3x5: (x*row[3] + col[5]) * full[3x5]", _func(f"%x: {_t(s)}", body, ["%y2"], [_t(s)])))
    return ex


RULES = [
    Rule("distribute-matmul", "algebra",
         "A·B + A·C with weight-only B, C -> A·(B+C)",
         match_distrib, apply_distrib, distrib_examples, locality="anchor"),
    Rule("matmul-reassociate", "algebra",
         "(A·B)·C <-> A·(B·C) when it lowers runtime FLOPs (weight-only products folded)",
         match_reassoc, apply_reassoc, reassoc_examples, locality="anchor"),
    Rule("transpose-into-matmul", "layout",
         "transpose (last two dims) of a non-constant matmul operand -> permuted indexing_maps",
         match_tim, apply_tim, tim_examples, locality="anchor"),
    Rule("fold-chained-scale-bias", "fold",
         "chain of elementwise ops with weight-only operands -> one x*s + t",
         match_chain, apply_chain, chain_examples, locality="anchor"),
]
