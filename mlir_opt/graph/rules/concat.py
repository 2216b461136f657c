"""Concat/split elimination: slices of concatenations and concatenations of slices.

``slice-of-concat``: a unit-stride, non-rank-reducing ``tensor.extract_slice`` of a
``tensor.concat`` whose range along the concat dimension lies inside one concat operand reads that
operand instead: the operand itself when the slice covers it exactly, else a slice of it (offset
shifted). The concat goes away when nothing else reads it.

``concat-of-slices``: consecutive operands of a ``tensor.concat`` that are unit-stride slices of
one source, equal on every other dimension and adjacent along the concat dimension (in order),
become one slice — or the source itself when they cover it — and the concat disappears when
a single operand remains. Together with ``merge-parallel-convs``/``merge-parallel-matmuls`` this
removes the concat after a merged Inception/SqueezeNet branch (slice ∘ merge ∘ concat = identity).

``concat-of-elementwise``: a ``tensor.concat`` whose operands are all results of the same unary
elementwise ``linalg.generic`` (identity maps, structurally equal bodies, each used only by the
concat) becomes that elementwise op applied once to the concat of the inputs:
``concat(f(a), f(b)) = f(concat(a, b))`` — the ReLU after each Inception/SqueezeNet branch, so
that ``concat-of-slices`` can then remove the concat of a merged convolution.
"""

from __future__ import annotations

import numpy as np

from ... import ir as _ir
from ..view import GraphView
from .base import Example, Match, Rule, RuleError, dense, replace_results, shape_of

__all__ = ["RULES"]

ir = _ir.ir


def _slice(op: ir.Operation):
    """``(source, offsets, sizes)`` of a static unit-stride, non-rank-reducing extract_slice."""
    if op is None or op.name != "tensor.extract_slice" or len(op.operands) != 1:
        return None
    offs = _ir.int_array_attr(op, "static_offsets")
    sizes = _ir.int_array_attr(op, "static_sizes")
    strides = _ir.int_array_attr(op, "static_strides")
    src = op.operands[0]
    if any(s != 1 for s in strides) or any(v < 0 for v in offs + sizes):
        return None
    if len(shape_of(op.results[0])) != len(shape_of(src)):
        return None
    return src, offs, sizes


def _concat(op: ir.Operation):
    """``(dim, operands, start offsets)`` of a ``tensor.concat`` with static shapes."""
    if op is None or op.name != "tensor.concat":
        return None
    d = ir.IntegerAttr(op.attributes["dim"]).value
    vals = list(op.operands)
    starts, off = [], 0
    for v in vals:
        s = shape_of(v)
        if any(x < 0 for x in s):
            return None
        starts.append(off)
        off += s[d]
    return d, vals, starts


def _slice_text(src: str, src_t, offs, sizes, res_t) -> str:
    return (f"tensor.extract_slice {src}[{', '.join(map(str, offs))}] [{', '.join(map(str, sizes))}] "
            f"[{', '.join(['1'] * len(offs))}] : {src_t} to {res_t}")


# -- slice-of-concat ------------------------------------------------------------------------------

def _soc(view: GraphView, op: ir.Operation):
    """``(operand, local offsets)`` if slice ``op`` of a concat lies inside one concat operand."""
    sl = _slice(op)
    if sl is None:
        return None
    src, offs, sizes = sl
    cc = _concat(view.producer(src))
    if cc is None:
        return None
    d, vals, starts = cc
    for v, st in zip(vals, starts):
        if st <= offs[d] and offs[d] + sizes[d] <= st + shape_of(v)[d]:
            local = list(offs)
            local[d] -= st
            return v, local
    return None


def match_soc(view: GraphView) -> list[Match]:
    """extract_slices of a concat that read within one concat operand."""
    return [Match("slice-of-concat", view.entry, (i,)) for i, op in view.scan()
            if _soc(view, op) is not None]


def apply_soc(module: ir.Module, m: Match) -> None:
    """Read the operand (or a slice of it) instead of the concat."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[0]]
    r = _soc(view, op)
    if r is None:
        raise RuleError("slice-of-concat: precondition failed")
    v, local = r
    res_t = op.results[0].type
    if str(v.type) == str(res_t) and not any(local):
        new = [v]
    else:
        new = _ir.splice(op, f"func.func @s(%v: {v.type}) -> {res_t} {{\n"
                         f"  %r = {_slice_text('%v', v.type, local, _ir.int_array_attr(op, 'static_sizes'), res_t)}\n"
                         f"  return %r : {res_t}\n}}", [v])
    replace_results(view, [op.results[0]], new)


# -- concat-of-slices -----------------------------------------------------------------------------

def _runs(view: GraphView, op: ir.Operation) -> list[list[int]]:
    """Runs (≥ 2) of consecutive concat operands that are adjacent slices of one source."""
    cc = _concat(op)
    if cc is None:
        return []
    d, vals, _ = cc
    sls = [_slice(view.producer(v)) for v in vals]
    runs, cur = [], []
    for k, sl in enumerate(sls):
        if cur and sl is not None:
            src, offs, sizes = sls[cur[-1]]
            if (sl[0] == src and sl[1][d] == offs[d] + sizes[d]
                    and all(sl[1][a] == offs[a] and sl[2][a] == sizes[a] for a in range(len(offs)) if a != d)):
                cur.append(k)
                continue
        if len(cur) >= 2:
            runs.append(cur)
        cur = [k] if sl is not None else []
    if len(cur) >= 2:
        runs.append(cur)
    return runs


def match_cos(view: GraphView) -> list[Match]:
    """Concats with runs of adjacent slices of one source; the match lists the concat and the slices."""
    out = []
    for i, op in view.scan():
        for run in _runs(view, op):
            sl_ops = tuple(view.index[view.producer(op.operands[k])] for k in run)
            out.append(Match("concat-of-slices", view.entry, (i, *sl_ops), f"{len(run)} slices"))
    return out


def apply_cos(module: ir.Module, m: Match) -> None:
    """Replace the run by one slice (or its source), and the concat by its only operand if one is left."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[0]]
    want = [view.ops[i] for i in m.ops[1:]]
    run = next((r for r in _runs(view, op) if [view.producer(op.operands[k]) for k in r] == want), None)
    if run is None:
        raise RuleError("concat-of-slices: precondition failed")
    d, vals, _ = _concat(op)
    src, offs, sizes = _slice(want[0])
    sizes = list(sizes)
    sizes[d] = sum(shape_of(vals[k])[d] for k in run)
    res_shape = list(shape_of(vals[run[0]]))
    res_shape[d] = sizes[d]
    elem = str(ir.RankedTensorType(src.type).element_type)
    res_t = "tensor<" + "x".join(map(str, res_shape)) + f"x{elem}>"
    rest = [v for k, v in enumerate(vals) if k not in run[1:]]
    pos = run[0]
    args = [f"%a{k}: {v.type}" for k, v in enumerate(rest)]
    lines = [f"func.func @s(%src: {src.type}, {', '.join(args)}) -> {op.results[0].type} {{"]
    if tuple(res_shape) == shape_of(src) and not any(offs):
        piece = "%src"
    else:
        lines.append(f"  %piece = {_slice_text('%src', src.type, offs, sizes, res_t)}")
        piece = "%piece"
    names = [f"%a{k}" for k in range(len(rest))]
    types = [str(v.type) for v in rest]
    names[pos], types[pos] = piece, res_t
    if len(names) == 1:
        lines.append(f"  return {piece} : {op.results[0].type}")
    else:
        lines.append(f"  %r = tensor.concat dim({d}) {', '.join(names)} : ({', '.join(types)}) -> {op.results[0].type}")
        lines.append(f"  return %r : {op.results[0].type}")
    lines.append("}")
    new = _ir.splice(op, "\n".join(lines), [src, *rest])
    replace_results(view, [op.results[0]], new)


# -- concat-of-elementwise ----------------------------------------------------------------------

def _unary(view: GraphView, v: ir.Value):
    """``(generic, input, body key)`` if ``v`` is the result of a unary elementwise generic."""
    g = view.producer(v)
    if g is None or g.name != "linalg.generic" or len(g.operands) != 2 or len(g.results) != 1:
        return None
    if any("parallel" not in str(a) for a in ir.ArrayAttr(g.attributes["iterator_types"])):
        return None
    rank = len(shape_of(v))
    ident = [f"d{i}" for i in range(rank)]
    maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    if any(mp != (rank, ident) for mp in maps):
        return None
    if view.num_uses(v) != 1:
        return None
    x = g.operands[0]
    if len(shape_of(x)) != rank:
        return None
    return g, x, (view._region_key(g), elem_of_t(x), elem_of_t(v))


def elem_of_t(v: ir.Value) -> str:
    return str(ir.RankedTensorType(v.type).element_type)


def _coe(view: GraphView, op: ir.Operation):
    cc = _concat(op)
    if cc is None or len(cc[1]) < 2:
        return None
    us = [_unary(view, v) for v in cc[1]]
    if any(u is None for u in us) or len({u[2] for u in us}) != 1:
        return None
    return cc[0], us


def match_coe(view: GraphView) -> list[Match]:
    """Concats of the same unary elementwise op applied to every operand."""
    out = []
    for i, op in view.scan():
        r = _coe(view, op)
        if r is not None:
            out.append(Match("concat-of-elementwise", view.entry, (i, *(view.index[u[0]] for u in r[1]))))
    return out


def apply_coe(module: ir.Module, m: Match) -> None:
    """One concat of the inputs, then the elementwise body once (moved from a clone of one op)."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[0]]
    r = _coe(view, op)
    if r is None or tuple(view.index[u[0]] for u in r[1]) != tuple(m.ops[1:]):
        raise RuleError("concat-of-elementwise: precondition failed")
    d, us = r
    xs = [u[1] for u in us]
    ein, eout = elem_of_t(xs[0]), elem_of_t(op.results[0])
    shp = shape_of(op.results[0])
    in_t = "tensor<" + "x".join(map(str, shp)) + f"x{ein}>"
    out_t = str(op.results[0].type)
    ident = ", ".join(f"d{i}" for i in range(len(shp)))
    iters = ", ".join(['"parallel"'] * len(shp))
    args = ", ".join(f"%x{k}: {x.type}" for k, x in enumerate(xs))
    snippet = f"""func.func @s({args}) -> {out_t} {{
  %c = tensor.concat dim({d}) {', '.join(f'%x{k}' for k in range(len(xs)))} : ({', '.join(str(x.type) for x in xs)}) -> {in_t}
  %e = tensor.empty() : {out_t}
  %r = linalg.generic {{indexing_maps = [affine_map<({ident}) -> ({ident})>, affine_map<({ident}) -> ({ident})>], iterator_types = [{iters}]}} ins(%c : {in_t}) outs(%e : {out_t}) {{
  ^bb0(%a: {ein}, %o: {eout}):
    linalg.yield %o : {eout}
  }} -> {out_t}
  return %r : {out_t}
}}"""
    new = _ir.splice(op, snippet, xs)
    g_new = new[0].owner
    g_new = g_new.operation if hasattr(g_new, "operation") else g_new
    _ir.copy_body(us[0][0], g_new, before=op)
    replace_results(view, [op.results[0]], new)


# -- examples -------------------------------------------------------------------------------------

def _t(shape) -> str:
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


_SQ = ("linalg.generic {{indexing_maps = [affine_map<({d}) -> ({d})>, affine_map<({d}) -> ({d})>], "
       "iterator_types = [{it}]}} ins({x} : {t}) outs({o} : {t}) {{\n  ^bb0(%in: f32, %out: f32):\n"
       "    %s = arith.mulf %in, %in : f32\n    linalg.yield %s : f32\n  }} -> {t}")


def _square(res: str, x: str, shape) -> list[str]:
    """Lines computing res = x * x elementwise (a non-trivial consumer/producer)."""
    d = ", ".join(f"d{i}" for i in range(len(shape)))
    it = ", ".join(['"parallel"'] * len(shape))
    return [f"  {res}_e = tensor.empty() : {_t(shape)}",
            f"  {res} = " + _SQ.format(d=d, it=it, x=x, o=f"{res}_e", t=_t(shape))]


def _soc_example(label: str, parts: list[list[int]], dim: int, offs, sizes, seed: int) -> Example:
    """concat(sq(x0), sq(x1), …) sliced; also a constant concat operand."""
    rng = np.random.default_rng(seed)
    total = list(parts[0])
    total[dim] = sum(p[dim] for p in parts)
    lines, names = [], []
    for k, p in enumerate(parts):
        if k == len(parts) - 1:
            lines.append(f"  %q{k} = arith.constant {dense(rng.standard_normal(p))}")
        else:
            lines += _square(f"%q{k}", f"%x{k}", p)
        names.append(f"%q{k}")
    args = ", ".join(f"%x{k}: {_t(p)}" for k, p in enumerate(parts[:-1]))
    lines.append(f"  %cat = tensor.concat dim({dim}) {', '.join(names)} : ({', '.join(_t(p) for p in parts)}) -> {_t(total)}")
    rets, types = [], []
    for j, (o, s) in enumerate(zip(offs, sizes)):
        lines.append(f"  %s{j} = {_slice_text('%cat', _t(total), o, s, _t(s))}")
        lines += _square(f"%r{j}", f"%s{j}", s)
        rets.append(f"%r{j}")
        types.append(_t(s))
    return Example(label, f"func.func @main({args}) -> ({', '.join(types)}) {{\n" + "\n".join(lines)
                   + f"\n  return {', '.join(rets)} : {', '.join(types)}\n}}\n")


def soc_examples() -> list[Example]:
    """Exact pieces, a sub-slice of a piece, and a slice inside the constant piece."""
    return [
        _soc_example("concat dim 1 of 2x3,2x4,2x2 -> exact pieces 1 and 2", [[2, 3], [2, 4], [2, 2]], 1,
                     [[0, 3], [0, 7]], [[2, 4], [2, 2]], 0),
        _soc_example("concat dim 0 of 3x5,4x5,1x5 -> sub-slice of piece 1", [[3, 5], [4, 5], [1, 5]], 0,
                     [[4, 1]], [[2, 3]], 1),
        _soc_example("concat dim 2 of 1x2x3,1x2x4 -> piece 0 and part of the constant piece",
                     [[1, 2, 3], [1, 2, 4]], 2, [[0, 0, 0], [0, 1, 4]], [[1, 2, 3], [1, 1, 2]], 2),
    ]


def _cos_example(label: str, shape: list[int], dim: int, cuts: list[int], extra: bool, seed: int) -> Example:
    """sq(x) cut along ``dim`` at ``cuts`` into slices, each squared or not, concatenated back."""
    d = dim
    lines = _square("%y", "%x", shape)
    names, types = [], []
    bounds = [0, *cuts, shape[d]]
    for k in range(len(bounds) - 1):
        offs = [0] * len(shape)
        offs[d] = bounds[k]
        s = list(shape)
        s[d] = bounds[k + 1] - bounds[k]
        lines.append(f"  %s{k} = {_slice_text('%y', _t(shape), offs, s, _t(s))}")
        names.append(f"%s{k}")
        types.append(_t(s))
    total = list(shape)
    if extra:  # a foreign operand in the middle: two runs, each merged separately
        ex = list(shape)
        ex[d] = 2
        lines.append(f"  %c = arith.constant {dense(np.random.default_rng(seed).standard_normal(ex))}")
        names.insert(2, "%c")
        types.insert(2, _t(ex))
        total[d] += 2
    lines.append(f"  %cat = tensor.concat dim({d}) {', '.join(names)} : ({', '.join(types)}) -> {_t(total)}")
    lines += _square("%r", "%cat", total)
    return Example(label, f"func.func @main(%x: {_t(shape)}) -> {_t(total)} {{\n" + "\n".join(lines)
                   + f"\n  return %r : {_t(total)}\n}}\n")


def cos_examples() -> list[Example]:
    """Slices covering the whole source (-> source), and two runs around a foreign operand."""
    return [_cos_example("2x9 cut at 3,5 along dim 1 -> source", [2, 9], 1, [3, 5], False, 0),
            _cos_example("6x2x3 cut at 2,3,5 along dim 0, constant in the middle", [6, 2, 3], 0, [2, 3, 5], True, 1),
            _cos_example("1x4x5 cut at 2 along dim 2 -> source", [1, 4, 5], 2, [2], False, 2)]


def _relu_lines(res: str, x: str, shape) -> list[str]:
    d = ", ".join(f"d{i}" for i in range(len(shape)))
    it = ", ".join(['"parallel"'] * len(shape))
    return [f"  {res}_e = tensor.empty() : {_t(shape)}",
            f"  {res} = linalg.generic {{indexing_maps = [affine_map<({d}) -> ({d})>, affine_map<({d}) -> ({d})>], "
            f"iterator_types = [{it}]}} ins({x} : {_t(shape)}) outs({res}_e : {_t(shape)}) {{\n  ^bb0(%in: f32, %out: f32):\n"
            f"    %cmp = arith.cmpf ugt, %in, %zero : f32\n    %sel = arith.select %cmp, %in, %zero : f32\n"
            f"    linalg.yield %sel : f32\n  }} -> {_t(shape)}"]


def coe_examples() -> list[Example]:
    """torch-style ReLU (captured zero constant) on 2 and 3 concat operands, and x*x on 2."""
    ex = []
    for label, shapes, dim, relu in (("relu on 1x2x3x3 + 1x4x3x3 along dim 1", [[1, 2, 3, 3], [1, 4, 3, 3]], 1, True),
                                     ("relu on 2x3, 2x1, 2x4 along dim 1", [[2, 3], [2, 1], [2, 4]], 1, True),
                                     ("x*x on 3x2 + 1x2 along dim 0", [[3, 2], [1, 2]], 0, False)):
        total = list(shapes[0])
        total[dim] = sum(s[dim] for s in shapes)
        lines = ["  %zero = arith.constant 0.0 : f32"]
        for k, s in enumerate(shapes):
            lines += (_relu_lines if relu else _square)(f"%y{k}", f"%x{k}", s)
        lines.append(f"  %cat = tensor.concat dim({dim}) {', '.join(f'%y{k}' for k in range(len(shapes)))} : "
                     f"({', '.join(_t(s) for s in shapes)}) -> {_t(total)}")
        args = ", ".join(f"%x{k}: {_t(s)}" for k, s in enumerate(shapes))
        ex.append(Example(label, f"func.func @main({args}) -> {_t(total)} {{\n" + "\n".join(lines)
                          + f"\n  return %cat : {_t(total)}\n}}\n"))
    return ex


RULES = [
    Rule("slice-of-concat", "concat",
         "extract_slice inside one operand of a concat -> that operand (or a slice of it)",
         match_soc, apply_soc, soc_examples, locality="anchor"),
    Rule("concat-of-slices", "concat",
         "concat of adjacent slices of one source -> one slice (or the source itself)",
         match_cos, apply_cos, cos_examples, locality="anchor"),
    Rule("concat-of-elementwise", "concat",
         "concat of the same unary elementwise op on every operand -> the op once on the concat",
         match_coe, apply_coe, coe_examples, locality="anchor"),
]
