"""Layout rules for convolutions: NCHW -> NHWC, and moving transposes across elementwise ops.

The three per-op rules are opt-in (``auto=False, in_search=False``): name them to use them, e.g.
``GreedySearch(rules=[...])`` or ``rewrite --rule conv-nchw-to-nhwc --rule transpose-of-pad
--rule transpose-through-elementwise --rule transpose-transpose``.

``conv-nchw-to-nhwc`` (search-only): ``linalg.conv_2d_nchw_fchw`` with a per-channel constant
accumulator becomes ``transpose(conv_2d_nhwc_hwcf(transpose(x, [0,2,3,1]), Wᵀ), [0,3,1,2])``;
a weight-only filter is transposed to HWCF with numpy (otherwise a ``linalg.transpose`` is
emitted). Alone it adds two transposes; it pays off when the transposes between consecutive
convolutions cancel.

``transpose-through-elementwise`` (search-only): an elementwise ``linalg.generic`` (identity
maps, one result) whose every tensor input is ``linalg.transpose(xᵢ, p)`` with the same ``p``
becomes ``transpose(generic(x…), p)``: ReLU and residual adds let the transposes that
``conv-nchw-to-nhwc`` inserts meet and cancel (``transpose-transpose``).

``transpose-of-pad`` (search-only): ``transpose(pad(x, lo, hi), p)`` with a static pad →
``pad(transpose(x, p), lo∘p, hi∘p)`` (same padding value), so that the transpose of a padded
convolution input meets the transpose that produced ``x``.

``to-nhwc`` (search-only, but in every search: one macro step): the whole function converted to
NHWC by :mod:`mlir_opt.graph.nhwc` (convs, depthwise convs, pools, pads, concats, rank-4
generics), transposes left only where the graph enters or leaves the NHWC region. It matches once
no batch-norm chain is left to fold (the fold handles NCHW convolutions only). Whether it pays is
the cost model's call (``Roofline.conv_nchw_*`` factors, or measured dispatches); see
docs/layout-search.md.
"""

from __future__ import annotations

import numpy as np

from ... import ir as _ir
from ..view import GraphView
from .base import Example, Match, Rule, RuleError, replace_results, shape_of
from .conv import _conv_attrs, _init_lines, _ttype, conv_graph, conv_info
from .conv import _Branch as B

__all__ = ["RULES"]

ir = _ir.ir

_TO_NHWC, _TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


# -- conv-nchw-to-nhwc ----------------------------------------------------------------------------

def _nchw(view: GraphView, op: ir.Operation):
    c = conv_info(view, op)
    if c is None or c.name != "linalg.conv_2d_nchw_fchw" or c.bias is None or len(set(c.types)) != 1:
        return None
    return c


def match_nhwc(view: GraphView) -> list[Match]:
    """NCHW convolutions with a per-channel constant accumulator."""
    return [Match("conv-nchw-to-nhwc", view.entry, (i,)) for i, op in view.scan()
            if op.name == "linalg.conv_2d_nchw_fchw" and _nchw(view, op) is not None]


def apply_nhwc(module: ir.Module, m: Match) -> None:
    """Transpose input and filter to NHWC/HWCF, convolve, transpose the result back."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[0]]
    c = _nchw(view, op)
    if c is None:
        raise RuleError("conv-nchw-to-nhwc: precondition failed")
    x, f = op.operands[0], op.operands[1]
    elem = c.types[0]
    xs, fs, os_ = shape_of(x), shape_of(f), shape_of(op.results[0])
    x_t = _ttype([xs[i] for i in _TO_NHWC], elem)
    f_t = _ttype([fs[2], fs[3], fs[1], fs[0]], elem)
    o_t = _ttype([os_[i] for i in _TO_NHWC], elem)
    out_t = str(op.results[0].type)
    have_bias = bool(np.any(c.bias != 0))
    inputs, args = [x], [f"%x: {x.type}"]
    lines = [f"  %xe = tensor.empty() : {x_t}",
             f"  %xt = linalg.transpose ins(%x : {x.type}) outs(%xe : {x_t}) permutation = [0, 2, 3, 1]"]
    if c.filt is not None:
        wv = _ir.make_constant(np.ascontiguousarray(np.transpose(c.filt, (2, 3, 1, 0))), before=op)
        inputs.append(wv)
        args.append(f"%w: {wv.type}")
    else:
        inputs.append(f)
        args.append(f"%f: {f.type}")
        lines += [f"  %we = tensor.empty() : {f_t}",
                  f"  %w = linalg.transpose ins(%f : {f.type}) outs(%we : {f_t}) permutation = [2, 3, 1, 0]"]
    if have_bias:
        bv = _ir.make_constant(c.bias.astype(c.bias.dtype), before=op)
        inputs.append(bv)
        args.append(f"%b: {bv.type}")
    lines += _init_lines(o_t, elem, 3, int(c.bias.shape[0]) if have_bias else None)
    lines += [f"  %r = linalg.conv_2d_nhwc_hwcf {{{_conv_attrs(op)}}} ins(%xt, %w : {x_t}, {f_t}) outs(%i : {o_t}) -> {o_t}",
              f"  %oe = tensor.empty() : {out_t}",
              f"  %o = linalg.transpose ins(%r : {o_t}) outs(%oe : {out_t}) permutation = [0, 3, 1, 2]",
              f"  return %o : {out_t}", "}"]
    new = _ir.splice(op, f"func.func @s({', '.join(args)}) -> {out_t} {{\n" + "\n".join(lines), inputs)
    replace_results(view, [op.results[0]], new)


# -- transpose-through-elementwise ----------------------------------------------------------------

def _through(view: GraphView, g: ir.Operation):
    """``(perm, transposes)`` if every tensor input of elementwise ``g`` is a transpose by ``perm``."""
    if g.name != "linalg.generic" or len(g.results) != 1:
        return None
    if any("parallel" not in str(a) for a in ir.ArrayAttr(g.attributes["iterator_types"])):
        return None
    rank = len(shape_of(g.results[0]))
    ident = (rank, [f"d{i}" for i in range(rank)])
    maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    if any(mp != ident for mp in maps):
        return None
    ins = list(g.operands)[:-1]
    if not ins:
        return None
    ts, perm = [], None
    for v in ins:
        t = view.producer(v)
        if t is None or t.name != "linalg.transpose":
            return None  # (a transpose with other users stays for them)
        p = _ir.int_array_attr(t, "permutation")
        if perm is not None and p != perm:
            return None
        if view.is_constant(v):
            return None  # constant transposes are folded instead
        perm = p
        ts.append(t)
    if perm == list(range(rank)):
        return None
    return perm, ts


def match_through(view: GraphView) -> list[Match]:
    """Elementwise generics all of whose inputs are transposes by one permutation."""
    out = []
    for i, g in view.scan():
        r = _through(view, g)
        if r is not None:
            out.append(Match("transpose-through-elementwise", view.entry, (*(view.index[t] for t in r[1]), i),
                             f"perm {r[0]}"))
    return out


def apply_through(module: ir.Module, m: Match) -> None:
    """The generic on the untransposed inputs (its body moved from a clone), then one transpose."""
    view = GraphView(module, m.entry)
    g = view.ops[m.ops[-1]]
    r = _through(view, g)
    if r is None or [view.index[t] for t in r[1]] != list(m.ops[:-1]):
        raise RuleError("transpose-through-elementwise: precondition failed")
    perm, ts = r
    xs = [t.operands[0] for t in ts]
    out_t = str(g.results[0].type)
    os_ = shape_of(g.results[0])
    inv = [perm.index(i) for i in range(len(perm))]
    elem = str(ir.RankedTensorType(g.results[0].type).element_type)
    src_t = _ttype([os_[i] for i in inv], elem)  # out = transpose(src, perm): out[i] = src[perm[i]]
    rank = len(os_)
    ident = ", ".join(f"d{i}" for i in range(rank))
    mp = f"affine_map<({ident}) -> ({ident})>"
    iters = ", ".join(['"parallel"'] * rank)
    block_args = ", ".join(f"%a{k}: {ir.RankedTensorType(x.type).element_type}" for k, x in enumerate(xs))
    snippet = f"""func.func @s({', '.join(f'%x{k}: {x.type}' for k, x in enumerate(xs))}) -> {out_t} {{
  %e = tensor.empty() : {src_t}
  %g = linalg.generic {{indexing_maps = [{', '.join([mp] * (len(xs) + 1))}], iterator_types = [{iters}]}} ins({', '.join(f'%x{k}' for k in range(len(xs)))} : {', '.join(str(x.type) for x in xs)}) outs(%e : {src_t}) {{
  ^bb0({block_args}, %o: {elem}):
    linalg.yield %o : {elem}
  }} -> {src_t}
  %te = tensor.empty() : {out_t}
  %t = linalg.transpose ins(%g : {src_t}) outs(%te : {out_t}) permutation = [{', '.join(map(str, perm))}]
  return %t : {out_t}
}}"""
    new = _ir.splice(g, snippet, xs)
    t_new = new[0].owner
    t_new = t_new.operation if hasattr(t_new, "operation") else t_new
    g_new = t_new.operands[0].owner
    g_new = g_new.operation if hasattr(g_new, "operation") else g_new
    _move_body(g, g_new)
    replace_results(view, [g.results[0]], new)


def _move_body(src: ir.Operation, dst: ir.Operation) -> None:
    """Replace ``dst``'s placeholder body (``yield %out``) by a copy of ``src``'s body."""
    _ir.copy_body(src, dst, before=dst)


# -- transpose-of-pad -----------------------------------------------------------------------------

def _top(view: GraphView, t: ir.Operation):
    if t.name != "linalg.transpose":
        return None
    pad = view.producer(t.operands[0])
    if pad is None or pad.name != "tensor.pad" or len(pad.operands) != 1 or view.num_uses(t.operands[0]) != 1:
        return None
    body = [o.operation for o in pad.regions[0].blocks[0].operations]
    if len(body) != 1 or body[0].name != "tensor.yield":
        return None
    v = body[0].operands[0]
    if not isinstance(v, ir.BlockArgument) and view.producer(v) is not None and view.index.get(view.producer(v)) is None:
        return None  # the padding value is computed inside the region
    return pad, v


def match_top(view: GraphView) -> list[Match]:
    """Transposes of a (singly used) static tensor.pad."""
    out = []
    for i, t in view.scan():
        r = _top(view, t)
        if r is not None:
            out.append(Match("transpose-of-pad", view.entry, (view.index[r[0]], i)))
    return out


def apply_top(module: ir.Module, m: Match) -> None:
    """Transpose first, then pad with the permuted amounts."""
    view = GraphView(module, m.entry)
    t = view.ops[m.ops[1]]
    r = _top(view, t)
    if r is None or view.index[r[0]] != m.ops[0]:
        raise RuleError("transpose-of-pad: precondition failed")
    pad, val = r
    if isinstance(val, ir.BlockArgument):
        raise RuleError("transpose-of-pad: padding value is a block argument")
    x = pad.operands[0]
    perm = _ir.int_array_attr(t, "permutation")
    lo, hi = _ir.int_array_attr(pad, "static_low"), _ir.int_array_attr(pad, "static_high")
    xs = shape_of(x)
    elem = str(ir.RankedTensorType(x.type).element_type)
    xt_t = _ttype([xs[i] for i in perm], elem)
    out_t = str(t.results[0].type)
    idx = ", ".join(f"%i{k}: index" for k in range(len(perm)))
    snippet = f"""func.func @s(%x: {x.type}, %v: {val.type}) -> {out_t} {{
  %e = tensor.empty() : {xt_t}
  %xt = linalg.transpose ins(%x : {x.type}) outs(%e : {xt_t}) permutation = [{', '.join(map(str, perm))}]
  %p = tensor.pad %xt low[{', '.join(str(lo[i]) for i in perm)}] high[{', '.join(str(hi[i]) for i in perm)}] {{
  ^bb0({idx}):
    tensor.yield %v : {val.type}
  }} : {xt_t} to {out_t}
  return %p : {out_t}
}}"""
    new = _ir.splice(t, snippet, [x, val])
    replace_results(view, [t.results[0]], new)


def _top_example(label: str, shape, perm, lo, hi) -> Example:
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    padded = [s + a + b for s, a, b in zip(shape, lo, hi)]
    out = [padded[i] for i in perm]
    idx = ", ".join(f"%i{k}: index" for k in range(len(shape)))
    return Example(label, f"""func.func @main(%x: {t(shape)}) -> {t(out)} {{
  %v = arith.constant 0.5 : f32
  %p = tensor.pad %x low[{', '.join(map(str, lo))}] high[{', '.join(map(str, hi))}] {{
  ^bb0({idx}):
    tensor.yield %v : f32
  }} : {t(shape)} to {t(padded)}
  %e = tensor.empty() : {t(out)}
  %r = linalg.transpose ins(%p : {t(padded)}) outs(%e : {t(out)}) permutation = [{', '.join(map(str, perm))}]
  return %r : {t(out)}
}}
""")


def top_examples() -> list[Example]:
    """NCHW pad 1 -> NHWC, asymmetric pads on 3-D, a pad on the permuted batch dim."""
    return [_top_example("1x3x4x4 pad [0,0,1,1] -> [0,2,3,1]", [1, 3, 4, 4], [0, 2, 3, 1], [0, 0, 1, 1], [0, 0, 1, 1]),
            _top_example("2x3x4 pad lo [0,1,2] hi [1,0,0] -> [2,0,1]", [2, 3, 4], [2, 0, 1], [0, 1, 2], [1, 0, 0]),
            _top_example("2x5 pad lo [1,0] hi [0,2] -> [1,0]", [2, 5], [1, 0], [1, 0], [0, 2])]


# -- examples -------------------------------------------------------------------------------------

def nhwc_examples() -> list[Example]:
    """Padded 3x3 with bias, strided 1x1 without, 3x3 pad 1 on batch 2."""
    return [Example("nchw 1x4x6x6 3x3 pad 1 -> 5 (bias)", conv_graph(1, 4, 6, [B(5, 3, 1, True)], concat=False, seed=20)),
            Example("nchw 1x3x7x7 1x1 stride 2 -> 4", conv_graph(1, 3, 7, [B(4, 1, 0, False)], stride=2, concat=False, seed=21)),
            Example("nchw 2x2x5x5 3x3 -> 3 (bias), relu", conv_graph(2, 2, 5, [B(3, 3, 0, True)], relu_first=True,
                                                                    concat=False, seed=22))]


def _iters(n: int) -> str:
    return ", ".join(['"parallel"'] * n)


def _through_example(label: str, shape, perm, n_in: int, body: str) -> Example:
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    out = [shape[i] for i in perm]
    rank = len(shape)
    ident = ", ".join(f"d{i}" for i in range(rank))
    mp = f"affine_map<({ident}) -> ({ident})>"
    lines = ["  %zero = arith.constant 0.0 : f32"]
    for k in range(n_in):
        lines += [f"  %e{k} = tensor.empty() : {t(out)}",
                  f"  %t{k} = linalg.transpose ins(%x{k} : {t(shape)}) outs(%e{k} : {t(out)}) permutation = [{', '.join(map(str, perm))}]"]
    args = ", ".join(f"%in{k}: f32" for k in range(n_in))
    lines += [f"  %o = tensor.empty() : {t(out)}",
              f"  %r = linalg.generic {{indexing_maps = [{', '.join([mp] * (n_in + 1))}], iterator_types = [{_iters(rank)}]}} "
              f"ins({', '.join(f'%t{k}' for k in range(n_in))} : {', '.join([t(out)] * n_in)}) outs(%o : {t(out)}) {{\n"
              f"  ^bb0({args}, %out: f32):\n{body}\n  }} -> {t(out)}"]
    return Example(label, f"func.func @main({', '.join(f'%x{k}: {t(shape)}' for k in range(n_in))}) -> {t(out)} {{\n"
                   + "\n".join(lines) + f"\n  return %r : {t(out)}\n}}\n")


_RELU = "    %c = arith.cmpf ugt, %in0, %zero : f32\n    %s = arith.select %c, %in0, %zero : f32\n    linalg.yield %s : f32"
_ADD = "    %s = arith.addf %in0, %in1 : f32\n    linalg.yield %s : f32"
_MIX = "    %s = arith.mulf %in0, %in1 : f32\n    %u = arith.subf %s, %in2 : f32\n    linalg.yield %u : f32"


def through_examples() -> list[Example]:
    """ReLU after NHWC->NCHW, a residual add of two transposes, a 3-input body on 3-D tensors."""
    return [_through_example("relu(transpose(1x4x5x3, [0,3,1,2]))", [1, 4, 5, 3], [0, 3, 1, 2], 1, _RELU),
            _through_example("transpose(a) + transpose(b), 2x3x4x5 [0,2,3,1]", [2, 3, 4, 5], [0, 2, 3, 1], 2, _ADD),
            _through_example("a*b - c on transposes 3x4x5 [2,0,1]", [3, 4, 5], [2, 0, 1], 3, _MIX)]


RULES = [
    Rule("conv-nchw-to-nhwc", "layout",
         "conv_2d_nchw_fchw -> transpose + conv_2d_nhwc_hwcf (filter transposed) + transpose back (opt-in)",
         match_nhwc, apply_nhwc, nhwc_examples, auto=False, in_search=False, locality="anchor"),
    Rule("transpose-through-elementwise", "layout",
         "elementwise op on transposes by one permutation -> transpose of the op on the inputs (opt-in)",
         match_through, apply_through, through_examples, auto=False, in_search=False, locality="anchor"),
    Rule("transpose-of-pad", "layout",
         "transpose of a static pad -> pad (permuted amounts) of the transpose (opt-in)",
         match_top, apply_top, top_examples, auto=False, in_search=False, locality="anchor"),
]


# -- to-nhwc (whole-graph macro step; see mlir_opt/graph/nhwc.py) ----------------------------------

def match_to_nhwc(view: GraphView) -> list[Match]:
    """One match (the NCHW convolutions) when the function has any channels-first convolution and
    no batch-norm chain left to fold (``fold-batchnorm-into-conv`` handles NCHW convolutions only, so
    the layout step comes after the folds in every search)."""
    from .fold import match_bn

    convs = tuple(i for i, op in enumerate(view.ops)
                  if op.name in ("linalg.conv_2d_nchw_fchw", "linalg.depthwise_conv_2d_nchw_chw"))
    if not convs or match_bn(view):
        return []
    return [Match("to-nhwc", view.entry, convs, f"{len(convs)} convs")]


def apply_to_nhwc(module: ir.Module, m: Match) -> None:
    """Convert the whole entry function to NHWC (:func:`mlir_opt.graph.nhwc.convert_to_nhwc`)."""
    from ..nhwc import convert_to_nhwc

    if convert_to_nhwc(module, m.entry) == 0:
        raise RuleError("to-nhwc: no channels-first convolution to convert")


def chain_graph(c: int = 3, hw: int = 8, f: int = 4, *, stride: int = 1, reduce: bool = False, seed: int = 30) -> str:
    """conv 3x3 (pad 1, bias, ``stride``) -> ReLU -> maxpool 2x2/2 -> {conv 1x1, conv 3x3 (pad 1)
    + residual} -> concat -> (global average pool if ``reduce``): every op kind the NHWC pass
    converts. ``hw`` must be divisible by ``2 * stride``."""
    from .base import dense

    rng = np.random.default_rng(seed)
    t = lambda *s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    x_hw, hw = hw, hw // stride
    h2, g = hw // 2, 2 * f
    w1 = rng.standard_normal((f, c, 3, 3)) / 3
    w2 = rng.standard_normal((f, f, 1, 1)) / 2
    w3 = rng.standard_normal((f, f, 3, 3)) / 6
    b1, b3 = rng.standard_normal(f), rng.standard_normal(f)
    par4 = ", ".join(['"parallel"'] * 4)
    idm = "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>"
    chm = "affine_map<(d0, d1, d2, d3) -> (d1)>"

    def bias(name, b, shape):
        return (f"  %{name}e = tensor.empty() : {shape}\n  %{name} = linalg.generic {{indexing_maps = [{chm}, {idm}], "
                f"iterator_types = [{par4}]}} ins(%{name}v : tensor<{f}xf32>) outs(%{name}e : {shape}) {{\n"
                f"  ^bb0(%a: f32, %o: f32):\n    linalg.yield %a : f32\n  }} -> {shape}\n")

    idx = "%i0: index, %i1: index, %i2: index, %i3: index"
    text = f"""func.func @main(%x: {t(1, c, x_hw, x_hw)}) -> {t(1, g) if reduce else t(1, g, h2, h2)} {{
  %z = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %w1 = arith.constant {dense(w1)}
  %w2 = arith.constant {dense(w2)}
  %w3 = arith.constant {dense(w3)}
  %b1v = arith.constant {dense(b1)}
  %b3v = arith.constant {dense(b3)}
  %p1 = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {{
  ^bb0({idx}):
    tensor.yield %z : f32
  }} : {t(1, c, x_hw, x_hw)} to {t(1, c, x_hw + 2, x_hw + 2)}
{bias("b1", b1, t(1, f, hw, hw))}  %c1 = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : tensor<2xi64>, strides = dense<{stride}> : tensor<2xi64>}} ins(%p1, %w1 : {t(1, c, x_hw + 2, x_hw + 2)}, {t(f, c, 3, 3)}) outs(%b1 : {t(1, f, hw, hw)}) -> {t(1, f, hw, hw)}
  %re = tensor.empty() : {t(1, f, hw, hw)}
  %r = linalg.generic {{indexing_maps = [{idm}, {idm}], iterator_types = [{par4}]}} ins(%c1 : {t(1, f, hw, hw)}) outs(%re : {t(1, f, hw, hw)}) {{
  ^bb0(%a: f32, %o: f32):
    %m = arith.maximumf %a, %z : f32
    linalg.yield %m : f32
  }} -> {t(1, f, hw, hw)}
  %pe = tensor.empty() : {t(1, f, h2, h2)}
  %pf = linalg.fill ins(%ninf : f32) outs(%pe : {t(1, f, h2, h2)}) -> {t(1, f, h2, h2)}
  %win = tensor.empty() : tensor<2x2xf32>
  %mp = linalg.pooling_nchw_max {{dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}} ins(%r, %win : {t(1, f, hw, hw)}, tensor<2x2xf32>) outs(%pf : {t(1, f, h2, h2)}) -> {t(1, f, h2, h2)}
  %ze = tensor.empty() : {t(1, f, h2, h2)}
  %zf = linalg.fill ins(%z : f32) outs(%ze : {t(1, f, h2, h2)}) -> {t(1, f, h2, h2)}
  %c2 = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}} ins(%mp, %w2 : {t(1, f, h2, h2)}, {t(f, f, 1, 1)}) outs(%zf : {t(1, f, h2, h2)}) -> {t(1, f, h2, h2)}
  %p3 = tensor.pad %mp low[0, 0, 1, 1] high[0, 0, 1, 1] {{
  ^bb0({idx}):
    tensor.yield %z : f32
  }} : {t(1, f, h2, h2)} to {t(1, f, h2 + 2, h2 + 2)}
{bias("b3", b3, t(1, f, h2, h2))}  %c3 = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}} ins(%p3, %w3 : {t(1, f, h2 + 2, h2 + 2)}, {t(f, f, 3, 3)}) outs(%b3 : {t(1, f, h2, h2)}) -> {t(1, f, h2, h2)}
  %se = tensor.empty() : {t(1, f, h2, h2)}
  %s = linalg.generic {{indexing_maps = [{idm}, {idm}, {idm}], iterator_types = [{par4}]}} ins(%c3, %mp : {t(1, f, h2, h2)}, {t(1, f, h2, h2)}) outs(%se : {t(1, f, h2, h2)}) {{
  ^bb0(%a: f32, %b: f32, %o: f32):
    %u = arith.addf %a, %b : f32
    linalg.yield %u : f32
  }} -> {t(1, f, h2, h2)}
  %cat = tensor.concat dim(1) %c2, %s : ({t(1, f, h2, h2)}, {t(1, f, h2, h2)}) -> {t(1, g, h2, h2)}
"""
    if not reduce:
        return text + f"  return %cat : {t(1, g, h2, h2)}\n}}\n"
    return text + f"""  %ge = tensor.empty() : {t(1, g)}
  %gf = linalg.fill ins(%z : f32) outs(%ge : {t(1, g)}) -> {t(1, g)}
  %gap = linalg.generic {{indexing_maps = [{idm}, affine_map<(d0, d1, d2, d3) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]}} ins(%cat : {t(1, g, h2, h2)}) outs(%gf : {t(1, g)}) {{
  ^bb0(%a: f32, %o: f32):
    %u = arith.addf %a, %o : f32
    linalg.yield %u : f32
  }} -> {t(1, g)}
  return %gap : {t(1, g)}
}}
"""


def to_nhwc_examples() -> list[Example]:
    """The conv/ReLU/pool/residual/concat chain (rank-4 output and global-average-pool output),
    and a single padded conv with bias."""
    return [Example("conv3x3-relu-maxpool-{conv1x1, conv3x3+residual}-concat 1x3x8x8", chain_graph()),
            Example("same chain, stride-2 stem + global average pool (reduction) 1x2x8x8",
                    chain_graph(2, 8, 3, stride=2, reduce=True, seed=31)),
            Example("nchw 1x4x6x6 3x3 pad 1 -> 5 (bias)", conv_graph(1, 4, 6, [B(5, 3, 1, True)], concat=False, seed=20))]


RULES.append(
    Rule("to-nhwc", "layout",
         "whole graph NCHW -> NHWC in one step: convs, pools, pads, concats and rank-4 generics converted, "
         "transposes only where the graph enters/leaves the NHWC region (macro step)",
         match_to_nhwc, apply_to_nhwc, to_nhwc_examples, auto=False, in_search=True))
