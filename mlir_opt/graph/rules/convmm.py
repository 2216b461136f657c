"""Convolution ↔ matmul rules beyond the 1x1 case: im2col, and the inverse of ``conv1x1-to-matmul``.

``conv-to-im2col``: a ``linalg.conv_2d_nhwc_hwcf`` or ``linalg.conv_2d_nchw_fchw`` with static
shapes, equal element types and any strides/dilations (padding is the separate ``tensor.pad``
the conv reads, which stays) becomes

* an im2col ``linalg.generic`` that gathers the input patches into a 6-D tensor, reading the
  conv's input through the map ``(.., oh, ow, kh, kw, ..) -> (.., oh·sh + kh·dh, ow·sw + kw·dw, ..)``
  (NHWC: ``P[N, OH, OW, KH, KW, C]``; NCHW: ``P[N, C, KH, KW, OH, OW]``), written as a copy;
* ``tensor.collapse_shape`` of the patches, the filter and the accumulator to 2-D (3-D for
  NCHW with batch > 1);
* one contraction: NHWC ``P[N·OH·OW, KH·KW·C] · W[KH·KW·C, F]`` (``linalg.matmul``); NCHW with
  batch 1 ``W[F, C·KH·KW] · P[C·KH·KW, OH·OW]`` (``linalg.matmul``), with batch N a
  ``linalg.batch_matmul`` of the filter broadcast to ``[N, F, C·KH·KW]`` by the patches
  ``[N, C·KH·KW, OH·OW]``;
* ``tensor.expand_shape`` back to the conv's result shape.

The accumulator (bias broadcast, fill, or anything else) is collapsed and kept, so the rewrite is
exact in any precision up to summation order. 1x1 stride-1 convolutions are left to
``conv1x1-to-matmul`` (their im2col is a plain copy). Same FLOPs plus one gather of KH·KW times the
input: the roofline cost model always rates it worse (one more dispatch, more bytes), so the rule
is opt-in (``auto=False, in_search=False``): name it, ideally with ``--graph-cost measured``,
where IREE's real conv and matmul dispatches are timed.

``matmul-to-conv1x1`` (the inverse of ``conv1x1-to-matmul``): ``tensor.expand_shape`` of a
default-map ``linalg.matmul`` whose activation operand is a ``tensor.collapse_shape`` of a 4-D
tensor, with reassociations that make the product a 1x1 convolution —

* NHWC: ``expand[[0,1,2],[3]](matmul(collapse[[0,1,2],[3]](x[N,H,W,C]), W[C,F]))`` to
  ``[N, H, W, F]``;
* NCHW, batch 1: ``expand[[0,1],[2,3]](matmul(W[F,C], collapse[[0,1],[2,3]](x[1,C,H,W])))`` to
  ``[1, F, H, W]`` —

becomes a 1x1 stride-1 conv of ``x`` with the filter expanded to ``[1,1,C,F]`` / ``[F,C,1,1]``
and the accumulator expanded to the conv's result shape (a ``collapse`` ∘ ``expand`` pair of the
accumulator is left to ``reshape-reshape``). The matmul and the collapse must be used only by this
chain. Structural (same FLOPs), opt-in like its inverse (both enabled would loop):
``auto=False``.
"""

from __future__ import annotations

import json

import numpy as np

from ... import ir as _ir
from ..view import GraphView
from .base import Example, Match, Rule, RuleError, dense, elem_of, is_add_body, per_channel, replace_results, shape_of
from .algebra import _DEFAULT, _maps
from .conv import LAYOUTS, B, _init_lines, _is_1x1, _ttype, conv_graph, conv_info

__all__ = ["RULES"]

ir = _ir.ir


# -- conv-to-im2col -------------------------------------------------------------------------------

def _im2col_ok(view: GraphView, op: ir.Operation):
    """The :class:`~.conv.ConvInfo` of a convolution the rule applies to, else None."""
    if op.name not in LAYOUTS:
        return None
    c = conv_info(view, op)
    if c is None or len(set(c.types)) != 1 or _is_1x1(c):
        return None
    if any(s < 0 for s in shape_of(op.results[0]) + shape_of(op.operands[2])):
        return None
    return c


def match_im2col(view: GraphView) -> list[Match]:
    """Named 2-D convolutions with static shapes (1x1 stride-1 ones excepted)."""
    out = []
    for i, op in view.scan():
        c = _im2col_ok(view, op)
        if c is not None:
            out.append(Match("conv-to-im2col", view.entry, (i,),
                             f"{c.kernel[0]}x{c.kernel[1]} stride {c.strides[0]}x{c.strides[1]}"))
    return out


def _gather_map(nd: int, out_h: int, out_w: int, kh: int, kw: int, strides, dil, order: list[str]) -> str:
    """``affine_map`` reading the conv input at the patch loop indices (``order``: the input's dims
    as loop-dim names, with ``H``/``W`` for the two spatial sums)."""
    dims = ", ".join(f"d{i}" for i in range(nd))
    h = f"d{out_h} * {strides[0]} + d{kh} * {dil[0]}"
    w = f"d{out_w} * {strides[1]} + d{kw} * {dil[1]}"
    res = ", ".join(h if e == "H" else w if e == "W" else e for e in order)
    return f"affine_map<({dims}) -> ({res})>"


def apply_im2col(module: ir.Module, m: Match) -> None:
    """im2col gather, collapse to 2-D, one matmul (batch_matmul for batched NCHW), expand."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[0]]
    c = _im2col_ok(view, op)
    if c is None:
        raise RuleError("conv-to-im2col: precondition failed")
    x, f, init = op.operands
    xs, fs, os_ = shape_of(x), shape_of(f), shape_of(op.results[0])
    elem = c.types[0]
    t = lambda s: _ttype(s, elem)
    (KH, KW), st, dl = c.kernel, c.strides, c.dilations
    ident6 = "affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3, d4, d5)>"
    par6 = ", ".join(['"parallel"'] * 6)
    if c.name == "linalg.conv_2d_nhwc_hwcf":
        N, OH, OW, F = os_
        C = xs[3]
        K, P = KH * KW * C, N * OH * OW
        pshape = [N, OH, OW, KH, KW, C]
        gmap = _gather_map(6, 1, 2, 3, 4, st, dl, ["d0", "H", "W", "d5"])
        tail = f"""  %p2 = tensor.collapse_shape %p [[0, 1, 2], [3, 4, 5]] : {t(pshape)} into {t([P, K])}
  %w2 = tensor.collapse_shape %f [[0, 1, 2], [3]] : {t(fs)} into {t([K, F])}
  %i2 = tensor.collapse_shape %i [[0, 1, 2], [3]] : {t(os_)} into {t([P, F])}
  %m = linalg.matmul ins(%p2, %w2 : {t([P, K])}, {t([K, F])}) outs(%i2 : {t([P, F])}) -> {t([P, F])}
  %r = tensor.expand_shape %m [[0, 1, 2], [3]] output_shape [{N}, {OH}, {OW}, {F}] : {t([P, F])} into {t(os_)}"""
    else:
        N, F, OH, OW = os_
        C = xs[1]
        K, Q = C * KH * KW, OH * OW
        pshape = [N, C, KH, KW, OH, OW]
        gmap = _gather_map(6, 4, 5, 2, 3, st, dl, ["d0", "d1", "H", "W"])
        w2 = f"  %w2 = tensor.collapse_shape %f [[0], [1, 2, 3]] : {t(fs)} into {t([F, K])}"
        if N == 1:
            tail = f"""  %p2 = tensor.collapse_shape %p [[0, 1, 2, 3], [4, 5]] : {t(pshape)} into {t([K, Q])}
{w2}
  %i2 = tensor.collapse_shape %i [[0, 1], [2, 3]] : {t(os_)} into {t([F, Q])}
  %m = linalg.matmul ins(%w2, %p2 : {t([F, K])}, {t([K, Q])}) outs(%i2 : {t([F, Q])}) -> {t([F, Q])}
  %r = tensor.expand_shape %m [[0, 1], [2, 3]] output_shape [1, {F}, {OH}, {OW}] : {t([F, Q])} into {t(os_)}"""
        else:
            tail = f"""  %p2 = tensor.collapse_shape %p [[0], [1, 2, 3], [4, 5]] : {t(pshape)} into {t([N, K, Q])}
{w2}
  %we = tensor.empty() : {t([N, F, K])}
  %w3 = linalg.broadcast ins(%w2 : {t([F, K])}) outs(%we : {t([N, F, K])}) dimensions = [0]
  %i2 = tensor.collapse_shape %i [[0], [1], [2, 3]] : {t(os_)} into {t([N, F, Q])}
  %m = linalg.batch_matmul ins(%w3, %p2 : {t([N, F, K])}, {t([N, K, Q])}) outs(%i2 : {t([N, F, Q])}) -> {t([N, F, Q])}
  %r = tensor.expand_shape %m [[0], [1], [2, 3]] output_shape [{N}, {F}, {OH}, {OW}] : {t([N, F, Q])} into {t(os_)}"""
    snippet = f"""func.func @s(%x: {x.type}, %f: {f.type}, %i: {init.type}) -> {op.results[0].type} {{
  %pe = tensor.empty() : {t(pshape)}
  %p = linalg.generic {{indexing_maps = [{gmap}, {ident6}], iterator_types = [{par6}]}} ins(%x : {x.type}) outs(%pe : {t(pshape)}) {{
  ^bb0(%in: {elem}, %o: {elem}):
    linalg.yield %in : {elem}
  }} -> {t(pshape)}
{tail}
  return %r : {op.results[0].type}
}}"""
    new = _ir.splice(op, snippet, [x, f, init])
    replace_results(view, [op.results[0]], new)


# -- matmul-to-conv1x1 ----------------------------------------------------------------------------

def _reassoc(op: ir.Operation) -> list[list[int]]:
    return json.loads(str(op.attributes["reassociation"]))


_NHWC = [[0, 1, 2], [3]]
_NCHW = [[0, 1], [2, 3]]


def _bias_add(view: GraphView, g: ir.Operation, x: ir.Value):
    """The constant vector ``b`` if ``g`` is ``x + b`` along the last dim of 2-D ``x`` (torch's
    ``nn.Linear`` bias), else None."""
    if g.name != "linalg.generic" or len(g.operands) != 3 or len(g.results) != 1 or g.operands[0] != x:
        return None
    if str(g.results[0].type) != str(x.type) or len(shape_of(x)) != 2:
        return None
    if any("parallel" not in str(a) for a in ir.ArrayAttr(g.attributes["iterator_types"])):
        return None
    maps = [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    if maps != [["d0", "d1"], ["d1"], ["d0", "d1"]] or not is_add_body(g):
        return None
    b = view.const_value(g.operands[1])
    return None if b is None or b.ndim != 1 else np.asarray(b)


def _mm_to_conv(view: GraphView, mm: ir.Operation):
    """``(layout, x, w, init, expand, bias)`` if ``mm`` is a 1x1 conv in matmul form, else None.
    ``bias``: None, or ``(bias-add generic, accumulator vector)`` when a bias add sits between the
    matmul and the expand (NHWC only; the matmul's accumulator must then be constant per column)."""
    if mm.name != "linalg.matmul" or len(mm.operands) != 3 or len(mm.results) != 1:
        return None
    if "cast" in mm.attributes or _maps(mm) != _DEFAULT["linalg.matmul"]:
        return None
    lhs, rhs, init = mm.operands
    if len({elem_of(lhs), elem_of(rhs), elem_of(init)}) != 1:
        return None
    res = mm.results[0]
    us = view.users(res)
    if len(us) != 1 or view.num_uses(res) != 1:
        return None
    bias = None
    if us[0].name == "linalg.generic":
        b = _bias_add(view, us[0], res)
        init_v = view.const_value(init)
        acc = None if b is None or init_v is None else per_channel(np.asarray(init_v), 1)
        badd = us[0]
        us = view.users(badd.results[0])
        if acc is None or len(us) != 1 or view.num_uses(badd.results[0]) != 1:
            return None
        bias = (badd, acc.astype(np.float64) + b.astype(np.float64))
    if us[0].name != "tensor.expand_shape":
        return None
    exp = us[0]
    rs = shape_of(exp.results[0])
    for layout, act, w, ra in (("nhwc", lhs, rhs, _NHWC), ("nchw", rhs, lhs, _NCHW)):
        col = view.producer(act)
        if col is None or col.name != "tensor.collapse_shape" or _reassoc(col) != ra or _reassoc(exp) != ra:
            continue
        if view.num_uses(act) != 1:
            continue
        x = col.operands[0]
        xs = shape_of(x)
        if len(xs) != 4 or any(s < 0 for s in xs + rs):
            continue
        if layout == "nhwc" and tuple(rs[:3]) != tuple(xs[:3]):
            continue
        if layout == "nchw" and (bias is not None or xs[0] != 1 or rs[0] != 1 or tuple(rs[2:]) != tuple(xs[2:])):
            continue
        return layout, x, w, init, exp, bias
    return None


def match_mm1x1(view: GraphView) -> list[Match]:
    """``expand(matmul(collapse(x), W))`` (NHWC) / ``expand(matmul(W, collapse(x)))`` (NCHW batch 1)."""
    out = []
    for i, op in view.scan():
        mc = _mm_to_conv(view, op)
        if mc is not None:
            layout, exp, bias = mc[0], mc[4], mc[5]
            col = view.producer(op.operands[0] if layout == "nhwc" else op.operands[1])
            mid = () if bias is None else (view.index[bias[0]],)
            out.append(Match("matmul-to-conv1x1", view.entry, (view.index[col], i, *mid, view.index[exp]),
                             layout + ("" if bias is None else " + bias")))
    return out


def _undone(view: GraphView, v: ir.Value, shape) -> ir.Value | None:
    """The source of ``v`` if ``v`` is a ``tensor.collapse_shape`` of a tensor of ``shape``."""
    src = view.producer(v)
    if src is not None and src.name == "tensor.collapse_shape" and list(shape_of(src.operands[0])) == list(shape):
        return src.operands[0]
    return None


def apply_mm1x1(module: ir.Module, m: Match) -> None:
    """A 1x1 stride-1 conv on ``x`` with the expanded filter and accumulator."""
    view = GraphView(module, m.entry)
    mc = _mm_to_conv(view, view.ops[m.ops[1]])
    if mc is None:
        raise RuleError("matmul-to-conv1x1: precondition failed")
    layout, x, w, init, exp, bias = mc
    elem = elem_of(x)
    dt = np.float16 if elem == "f16" else np.float32
    t = lambda s: _ttype(s, elem)
    ws, is_, rs = shape_of(w), shape_of(init), shape_of(exp.results[0])
    if layout == "nhwc":
        C, F = ws
        fs, ra, name = [1, 1, C, F], "[[0, 1, 2], [3]]", "linalg.conv_2d_nhwc_hwcf"
    else:
        F, C = ws
        fs, ra, name = [F, C, 1, 1], "[[0], [1, 2, 3]]", "linalg.conv_2d_nchw_fchw"
    ira = "[[0, 1, 2], [3]]" if layout == "nhwc" else "[[0, 1], [2, 3]]"
    # look through reshapes that undo ours (conv1x1-to-matmul's collapses), and fold a constant
    # filter, so that a round trip through the inverse rule gives the same graph back
    w4, i4 = _undone(view, w, fs), _undone(view, init, rs)
    wv = view.const_value(w) if w4 is None else None
    if wv is not None:
        w4 = _ir.make_constant(np.asarray(wv).reshape(fs).astype(dt), before=exp)
    if bias is not None:  # the bias joins the (per-channel constant) accumulator
        i4 = _ir.make_constant(bias[1].astype(dt), before=exp)
    w_in, i_in = (w if w4 is None else w4), (init if i4 is None else i4)
    lines = [f"func.func @s(%x: {x.type}, %w: {w_in.type}, %{'b' if bias is not None else 'i'}: {i_in.type}) -> {t(rs)} {{"]
    if w4 is None:
        lines.append(f"  %f = tensor.expand_shape %w {ra} output_shape [{', '.join(map(str, fs))}] : {t(ws)} into {t(fs)}")
    if bias is not None:
        lines += _init_lines(t(rs), elem, 3, int(bias[1].shape[0]))
    elif i4 is None:
        lines.append(f"  %i4 = tensor.expand_shape %i {ira} output_shape [{', '.join(map(str, rs))}] : {t(is_)} into {t(rs)}")
    f_, i_ = ("%w" if w4 is not None else "%f"), ("%i" if i4 is not None else "%i4")
    lines += [f"  %r = {name} {{dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}} "
              f"ins(%x, {f_} : {x.type}, {t(fs)}) outs({i_} : {t(rs)}) -> {t(rs)}",
              f"  return %r : {t(rs)}", "}"]
    new = _ir.splice(exp, "\n".join(lines), [x, w_in, i_in])
    replace_results(view, [exp.results[0]], new)


# -- examples -------------------------------------------------------------------------------------

def _conv_one(n, cin, hw, cout, k, pad, stride, dil, layout, elem, bias, seed) -> str:
    """One conv (any stride/dilation) followed by a ReLU, in torch-mlir's form."""
    text = conv_graph(n, cin, hw, [B(cout, k, pad, bias)], stride=stride, layout=layout, elem=elem,
                      relu_first=True, concat=False, seed=seed)
    if dil == 1:
        return text
    # conv_graph sizes the result for dilation 1: resize it (only result types carry these sizes)
    o1 = (hw + 2 * pad - k) // stride + 1
    od = (hw + 2 * pad - dil * (k - 1) - 1) // stride + 1
    sp = (lambda o: f"x{cout}x{o}x{o}x") if layout == "nchw" else (lambda o: f"x{o}x{o}x{cout}x")
    return text.replace("dilations = dense<1>", f"dilations = dense<{dil}>").replace(sp(o1), sp(od))


def im2col_examples() -> list[Example]:
    """3x3 pad 1 NCHW (bias); 3x3 stride 2 NHWC batch 2; dilated NCHW batch 2; strided 1x1; f16."""
    ex = [
        Example("nchw 1x3x6x6: 3x3 pad 1 -> 4 (bias), relu",
                _conv_one(1, 3, 6, 4, 3, 1, 1, 1, "nchw", "f32", True, 20)),
        Example("nhwc 2x7x7x3: 3x3 stride 2 -> 5, relu",
                _conv_one(2, 3, 7, 5, 3, 0, 2, 1, "nhwc", "f32", False, 21)),
        Example("nchw 1x4x5x5: 1x1 stride 2 -> 3 (bias)",
                _conv_one(1, 4, 5, 3, 1, 0, 2, 1, "nchw", "f32", True, 23)),
        Example("f16 nhwc 1x6x6x4: 3x3 pad 1 -> 5 (bias)",
                _conv_one(1, 4, 6, 5, 3, 1, 1, 1, "nhwc", "f16", True, 24), "f16"),
    ]
    # dilation 2, batch 2 NCHW (batch_matmul form): 2x3x8x8, 3x3 dilation 2 pad 2 -> 8x8
    ex.insert(2, Example("nchw 2x3x8x8: 3x3 dilation 2 pad 2 -> 4, relu",
                         _conv_one(2, 3, 8, 4, 3, 2, 1, 2, "nchw", "f32", False, 22)))
    return ex


def _mm1x1_graph(layout: str, n: int, c: int, h: int, w: int, f: int, bias: bool, elem: str, seed: int,
                 torch_bias: bool = False) -> str:
    """The matmul form of a 1x1 conv as conv1x1-to-matmul writes it (``bias``: in the accumulator),
    or as torch writes a pointwise ``nn.Linear`` (``torch_bias``: a bias add after the matmul),
    followed by a ReLU."""
    rng = np.random.default_rng(seed)
    t = lambda s: _ttype(s, elem)
    cst = lambda a: dense(a).replace("f32>", elem + ">")
    if layout == "nhwc":
        xs, ws, ps, rs = [n, h, w, c], [c, f], [n * h * w, f], [n, h, w, f]
        col = f"%x2 = tensor.collapse_shape %x [[0, 1, 2], [3]] : {t(xs)} into {t([n * h * w, c])}"
        mm = f"%m = linalg.matmul ins(%x2, %w : {t([n * h * w, c])}, {t(ws)}) outs(%i : {t(ps)}) -> {t(ps)}"
        exp = f"%r = tensor.expand_shape %m [[0, 1, 2], [3]] output_shape [{n}, {h}, {w}, {f}] : {t(ps)} into {t(rs)}"
        bmap = "affine_map<(d0, d1) -> (d1)>"
    else:
        xs, ws, ps, rs = [1, c, h, w], [f, c], [f, h * w], [1, f, h, w]
        col = f"%x2 = tensor.collapse_shape %x [[0, 1], [2, 3]] : {t(xs)} into {t([c, h * w])}"
        mm = f"%m = linalg.matmul ins(%w, %x2 : {t(ws)}, {t([c, h * w])}) outs(%i : {t(ps)}) -> {t(ps)}"
        exp = f"%r = tensor.expand_shape %m [[0, 1], [2, 3]] output_shape [1, {f}, {h}, {w}] : {t(ps)} into {t(rs)}"
        bmap = "affine_map<(d0, d1) -> (d0)>"
    lines = [f"func.func @main(%x: {t(xs)}) -> {t(rs)} {{",
             f"  %zero = arith.constant 0.0 : {elem}",
             f"  %w = arith.constant {cst(rng.standard_normal(ws) / np.sqrt(c))}",
             f"  %e = tensor.empty() : {t(ps)}"]
    if bias:
        lines += [f"  %b = arith.constant {cst(rng.standard_normal(f))}",
                  f"  %i = linalg.generic {{indexing_maps = [{bmap}, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = "
                  f"[\"parallel\", \"parallel\"]}} ins(%b : {t([f])}) outs(%e : {t(ps)}) {{\n  ^bb0(%in: {elem}, %o: {elem}):\n"
                  f"    linalg.yield %in : {elem}\n  }} -> {t(ps)}"]
    else:
        lines.append(f"  %i = linalg.fill ins(%zero : {elem}) outs(%e : {t(ps)}) -> {t(ps)}")
    if torch_bias:  # NHWC: %m + b along the last dim, then the expand reads the sum
        lines.append(f"  %tb = arith.constant {cst(rng.standard_normal(f))}")
        mm = mm.replace("%m = ", "%m0 = ")
        mm += (f"\n  %m = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, "
               f"affine_map<(d0, d1) -> (d0, d1)>], iterator_types = [\"parallel\", \"parallel\"]}} ins(%m0, %tb : {t(ps)}, {t([f])}) "
               f"outs(%e : {t(ps)}) {{\n  ^bb0(%p: {elem}, %q: {elem}, %o: {elem}):\n    %s = arith.addf %p, %q : {elem}\n"
               f"    linalg.yield %s : {elem}\n  }} -> {t(ps)}")
    lines += [f"  {col}", f"  {mm}", f"  {exp}",
              f"  %re = tensor.empty() : {t(rs)}",
              f"  %y = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, "
              f"affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = [\"parallel\", \"parallel\", "
              f"\"parallel\", \"parallel\"]}} ins(%r : {t(rs)}) outs(%re : {t(rs)}) {{\n  ^bb0(%in: {elem}, %o: {elem}):\n"
              f"    %mx = arith.maximumf %in, %zero : {elem}\n    linalg.yield %mx : {elem}\n  }} -> {t(rs)}",
              f"  return %y : {t(rs)}", "}"]
    return "\n".join(lines) + "\n"


def mm1x1_examples() -> list[Example]:
    """NHWC batch 2 (fill), NCHW batch 1 (bias), f16 NHWC (bias), NHWC with torch's bias add."""
    return [
        Example("nhwc 2x3x4x5 · 5x6 (fill), relu", _mm1x1_graph("nhwc", 2, 5, 3, 4, 6, False, "f32", 30)),
        Example("nchw 4x6 · 1x6x3x5 (bias), relu", _mm1x1_graph("nchw", 1, 6, 3, 5, 4, True, "f32", 31)),
        Example("f16 nhwc 1x4x4x6 · 6x5 (bias), relu", _mm1x1_graph("nhwc", 1, 6, 4, 4, 5, True, "f16", 32), "f16"),
        Example("nhwc 1x3x3x4 · 4x5 + bias add (torch Linear), relu",
                _mm1x1_graph("nhwc", 1, 4, 3, 3, 5, True, "f32", 33, torch_bias=True)),
    ]


RULES = [
    Rule("conv-to-im2col", "algebra",
         "conv (any stride/dilation) -> im2col gather + matmul (batch_matmul for batched NCHW) + expand (opt-in)",
         match_im2col, apply_im2col, im2col_examples, auto=False, in_search=False, locality="anchor"),
    Rule("matmul-to-conv1x1", "algebra",
         "expand(matmul(collapse(x), W)) that is a 1x1 conv (NHWC, NCHW batch 1) -> 1x1 conv (search-only)",
         match_mm1x1, apply_mm1x1, mm1x1_examples, auto=False, locality="anchor"),
]
