"""Convolution rules: horizontal merging, kernel enlargement, 1x1 convolution as a matmul.

All rules read 2-D convolutions in both layouts linalg has named ops for
(``linalg.conv_2d_nchw_fchw`` and ``linalg.conv_2d_nhwc_hwcf``), and see through the form
torch-mlir gives padded convolutions: a ``tensor.pad`` of the input with static zero padding on
the spatial dims only, then an unpadded conv. The accumulator (``outs``) must be constant per
output channel: a ``linalg.fill``, or torch's bias as ``linalg.broadcast``/``linalg.generic`` of a
constant vector.

``merge-parallel-convs``: two or more convolutions reading the same input with equal strides,
dilations, padding and kernel size, constant filters and per-channel constant accumulators become
one convolution over the filters concatenated along the output channels (accumulator: the
concatenated biases), followed by one ``tensor.extract_slice`` per original result (Inception,
ResNeXt, SqueezeNet branches).

``enlarge-conv-kernel`` (TASO's kernel enlargement): a convolution with dilation 1 whose sibling
(same input, same strides) has a larger kernel with padding larger by exactly half the size
difference gets its filter zero-padded to the sibling's kernel size and its input padded by
that much more, so that both become mergeable. Alone it only adds FLOPs, so it is not used by
the cost-free ``rewrite`` fixpoint (``auto=False``); searches use it.

``conv1x1-to-matmul``: a 1x1, stride-1, dilation-1 convolution becomes a ``linalg.matmul`` on
reshaped tensors (NCHW with batch 1: ``W[F,C] · X[C,H·W]``; NHWC: ``X[N·H·W,C] · W[C,F]``); a
``linalg.fill`` accumulator becomes a fill of the 2-D type (so the matmul is a plain zero-fill
contraction the matmul rules read), any other accumulator is collapsed.
Structural (same FLOPs); ``auto=False``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import ir as _ir
from ..view import GraphView, _attrs
from .base import Example, Match, Rule, RuleError, dense, elem_of, replace_results, shape_of
from .base import per_channel as _per_channel

__all__ = ["RULES", "ConvInfo", "conv_info"]

ir = _ir.ir

# layout facts per named conv: output-channel axis of the result and of the filter, input-channel
# axis of the filter, kernel axes of the filter, spatial axes of input/result
LAYOUTS = {
    "linalg.conv_2d_nchw_fchw": dict(ch=1, f_out=0, f_in=1, kdims=(2, 3), sdims=(2, 3)),
    "linalg.conv_2d_nhwc_hwcf": dict(ch=3, f_out=3, f_in=2, kdims=(0, 1), sdims=(1, 2)),
}


@dataclass
class ConvInfo:
    """What the conv rules need to know about one convolution."""

    op: ir.Operation
    name: str
    src: ir.Value              # the input before a zero tensor.pad (the input itself if unpadded)
    lo: tuple[int, int]        # spatial padding before / after
    hi: tuple[int, int]
    strides: tuple[int, int]
    dilations: tuple[int, int]
    kernel: tuple[int, int]
    filt: np.ndarray | None    # constant filter, if it is one
    bias: np.ndarray | None    # the per-output-channel constant accumulator, if it is one
    types: tuple[str, str, str]

    @property
    def layout(self) -> dict:
        return LAYOUTS[self.name]

    @property
    def out_channels(self) -> int:
        return shape_of(self.op.results[0])[self.layout["ch"]]


def _unpad(view: GraphView, x: ir.Value, sdims) -> tuple[ir.Value, tuple, tuple]:
    """``(source, lo, hi)`` if ``x`` is a static zero ``tensor.pad`` on the spatial dims only."""
    pad = view.producer(x)
    none = (x, (0, 0), (0, 0))
    if pad is None or pad.name != "tensor.pad" or len(pad.operands) != 1:
        return none
    lo, hi = _ir.int_array_attr(pad, "static_low"), _ir.int_array_attr(pad, "static_high")
    if any(v < 0 for v in lo + hi):
        return none
    if any((lo[d] or hi[d]) for d in range(len(lo)) if d not in sdims):
        return none
    body = [o.operation for o in pad.regions[0].blocks[0].operations]
    if len(body) != 1 or body[0].name != "tensor.yield":
        return none
    z = view.const_value(body[0].operands[0])
    if z is None or np.asarray(z).size != 1 or float(np.asarray(z).reshape(-1)[0]) != 0.0:
        return none
    return pad.operands[0], tuple(lo[d] for d in sdims), tuple(hi[d] for d in sdims)


def conv_info(view: GraphView, op: ir.Operation) -> ConvInfo | None:
    """A :class:`ConvInfo` for a named 2-D convolution with static shapes, else None."""
    if op.name not in LAYOUTS or len(op.operands) != 3 or len(op.results) != 1:
        return None
    lay = LAYOUTS[op.name]
    x, f, init = op.operands
    try:
        fs = shape_of(f)
        types = (elem_of(x), elem_of(f), elem_of(op.results[0]))
    except ValueError:
        return None
    if any(s < 0 for s in fs + shape_of(x)):
        return None
    strides = tuple(_ir.int_array_attr(op, "strides")) if "strides" in op.attributes else (1, 1)
    dil = tuple(_ir.int_array_attr(op, "dilations")) if "dilations" in op.attributes else (1, 1)
    src, lo, hi = _unpad(view, x, lay["sdims"])
    init_v = view.const_value(init)
    bias = None if init_v is None else _per_channel(init_v, lay["ch"])
    return ConvInfo(op, op.name, src, lo, hi, strides, dil, tuple(fs[k] for k in lay["kdims"]),
                    view.const_value(f), bias, types)


def _conv_attrs(op: ir.Operation) -> str:
    return ", ".join(f"{k} = {a}" for k, a in _attrs(op)
                     if k not in ("operandSegmentSizes", "linalg.memoized_indexing_maps"))


def _ttype(shape, elem: str) -> str:
    return "tensor<" + "x".join(map(str, shape)) + f"x{elem}>"


def _init_lines(out_t: str, elem: str, ch: int, n_bias: int | None) -> list[str]:
    """Snippet lines defining ``%i``: a zero fill (``n_bias`` None) or a broadcast of the
    ``tensor<n_bias x elem>`` argument ``%b`` along channel axis ``ch``."""
    if n_bias is None:
        return [f"  %e = tensor.empty() : {out_t}",
                f"  %z = arith.constant 0.0 : {elem}",
                f"  %i = linalg.fill ins(%z : {elem}) outs(%e : {out_t}) -> {out_t}"]
    return [f"  %e = tensor.empty() : {out_t}",
            f"  %i = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d{ch})>, "
            f"affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = [\"parallel\", \"parallel\", "
            f"\"parallel\", \"parallel\"]}} ins(%b : tensor<{n_bias}x{elem}>) outs(%e : {out_t}) {{\n"
            f"  ^bb0(%in: {elem}, %o: {elem}):\n    linalg.yield %in : {elem}\n  }} -> {out_t}"]


# -- merge-parallel-convs -------------------------------------------------------------------------

def _merge_key(c: ConvInfo):
    if c.filt is None or c.bias is None:
        return None
    lay = c.layout
    out = list(shape_of(c.op.results[0]))
    out[lay["ch"]] = -1
    return (c.name, c.src, c.lo, c.hi, c.strides, c.dilations, c.kernel, c.filt.shape[lay["f_in"]],
            tuple(out), c.types)


def match_merge(view: GraphView) -> list[Match]:
    """Groups (≥ 2) of convolutions with the same input, geometry, constant filters and biases."""
    groups: dict = {}
    for i, op in enumerate(view.ops):
        c = conv_info(view, op)
        key = None if c is None else _merge_key(c)
        if key is not None:
            groups.setdefault(key, []).append(i)
    return [Match("merge-parallel-convs", view.entry, tuple(idx),
                  f"{len(idx)} x {view.ops[idx[0]].name.split('.')[-1]}")
            for idx in groups.values() if len(idx) >= 2]


def apply_merge(module: ir.Module, m: Match) -> None:
    """Concatenate filters and biases along output channels, one conv, slice the result."""
    view = GraphView(module, m.entry)
    infos = [conv_info(view, view.ops[i]) for i in m.ops]
    keys = [None if c is None else _merge_key(c) for c in infos]
    if len(infos) < 2 or any(k is None for k in keys) or len(set(keys)) != 1:
        raise RuleError("merge-parallel-convs: precondition failed (not mergeable convolutions)")
    anchor = infos[0].op
    lay = infos[0].layout
    elem = infos[0].types[2]
    w = np.concatenate([c.filt for c in infos], axis=lay["f_out"])
    bias = np.concatenate([c.bias for c in infos])
    x = anchor.operands[0]
    wv = _ir.make_constant(w.astype(infos[0].filt.dtype), before=anchor)
    have_bias = bool(np.any(bias != 0))
    out_shape = list(shape_of(anchor.results[0]))
    out_shape[lay["ch"]] = int(bias.shape[0])
    out_t = _ttype(out_shape, elem)
    res_types = [str(c.op.results[0].type) for c in infos]
    inputs = [x, wv]
    head = f"func.func @s(%x: {x.type}, %f: {wv.type}"
    if have_bias:
        bv = _ir.make_constant(bias.astype(infos[0].bias.dtype), before=anchor)
        inputs.append(bv)
        head += f", %b: {bv.type}"
    lines = [head + f") -> ({', '.join(res_types)}) {{"]
    lines += _init_lines(out_t, elem, lay["ch"], int(bias.shape[0]) if have_bias else None)
    lines.append(f"  %r = {anchor.name} {{{_conv_attrs(anchor)}}} ins(%x, %f : {x.type}, {wv.type}) "
                 f"outs(%i : {out_t}) -> {out_t}")
    off, names = 0, []
    for k, c in enumerate(infos):
        s = list(shape_of(c.op.results[0]))
        offs = [0] * 4
        offs[lay["ch"]] = off
        lines.append(f"  %s{k} = tensor.extract_slice %r[{', '.join(map(str, offs))}] [{', '.join(map(str, s))}] "
                     f"[1, 1, 1, 1] : {out_t} to {res_types[k]}")
        names.append(f"%s{k}")
        off += s[lay["ch"]]
    lines += [f"  return {', '.join(names)} : {', '.join(res_types)}", "}"]
    new = _ir.splice(anchor, "\n".join(lines), inputs)
    replace_results(view, [c.op.results[0] for c in infos], new)


# -- enlarge-conv-kernel --------------------------------------------------------------------------

def _enlarge_target(small: ConvInfo, big: ConvInfo):
    """Per-dim half differences ``d`` if ``small`` can be enlarged to ``big``'s kernel, else None."""
    if small.op == big.op or small.name != big.name or small.src != big.src or small.types != big.types:
        return None
    if small.filt is None or small.strides != big.strides or small.dilations != (1, 1) or big.dilations != (1, 1):
        return None
    if small.filt.shape[small.layout["f_in"]] != shape_of(big.op.operands[1])[big.layout["f_in"]]:
        return None
    d = []
    for k in range(2):
        diff = big.kernel[k] - small.kernel[k]
        if diff < 0 or diff % 2:
            return None
        d.append(diff // 2)
        if big.lo[k] != small.lo[k] + d[k] or big.hi[k] != small.hi[k] + d[k]:
            return None
    if not any(d):
        return None
    return tuple(d)


def match_enlarge(view: GraphView) -> list[Match]:
    """Convolutions with a larger-kernel sibling they would become mergeable with."""
    infos = [(i, conv_info(view, op)) for i, op in enumerate(view.ops) if op.name in LAYOUTS]
    infos = [(i, c) for i, c in infos if c is not None]
    out = []
    for i, c in infos:
        seen = set()
        for j, b in infos:
            d = _enlarge_target(c, b)
            if d is not None and b.kernel not in seen:
                seen.add(b.kernel)
                out.append(Match("enlarge-conv-kernel", view.entry, (i, j),
                                 f"{c.kernel[0]}x{c.kernel[1]} -> {b.kernel[0]}x{b.kernel[1]}"))
    return out


def apply_enlarge(module: ir.Module, m: Match) -> None:
    """Zero-pad the filter to the sibling's kernel size and pad the input by as much more."""
    view = GraphView(module, m.entry)
    small, big = (conv_info(view, view.ops[i]) for i in m.ops)
    d = None if small is None or big is None else _enlarge_target(small, big)
    if d is None:
        raise RuleError("enlarge-conv-kernel: precondition failed")
    op, lay = small.op, small.layout
    widths = [(0, 0)] * 4
    for k, ax in enumerate(lay["kdims"]):
        widths[ax] = (d[k], d[k])
    wv = _ir.make_constant(np.pad(small.filt, widths), before=op)
    src, init = small.src, op.operands[2]
    lo, hi = [0] * 4, [0] * 4
    in_shape = list(shape_of(src))
    for k, ax in enumerate(lay["sdims"]):
        lo[ax], hi[ax] = small.lo[k] + d[k], small.hi[k] + d[k]
        in_shape[ax] += lo[ax] + hi[ax]
    elem = small.types[0]
    pad_t = _ttype(in_shape, elem)
    out_t = str(op.results[0].type)
    snippet = f"""func.func @s(%x: {src.type}, %f: {wv.type}, %i: {init.type}) -> {out_t} {{
  %z = arith.constant 0.0 : {elem}
  %p = tensor.pad %x low[{', '.join(map(str, lo))}] high[{', '.join(map(str, hi))}] {{
  ^bb0(%a0: index, %a1: index, %a2: index, %a3: index):
    tensor.yield %z : {elem}
  }} : {src.type} to {pad_t}
  %r = {op.name} {{{_conv_attrs(op)}}} ins(%p, %f : {pad_t}, {wv.type}) outs(%i : {init.type}) -> {out_t}
  return %r : {out_t}
}}"""
    new = _ir.splice(op, snippet, [src, wv, init])
    replace_results(view, [op.results[0]], new)


# -- conv1x1-to-matmul ----------------------------------------------------------------------------

def _is_1x1(c: ConvInfo | None) -> bool:
    if c is None or c.kernel != (1, 1) or c.strides != (1, 1) or c.dilations != (1, 1):
        return False
    if len(set(c.types)) != 1:
        return False
    if c.name == "linalg.conv_2d_nchw_fchw" and shape_of(c.op.operands[0])[0] != 1:
        return False
    return True


def match_1x1(view: GraphView) -> list[Match]:
    """1x1 stride-1 convolutions (NCHW with batch 1, or NHWC)."""
    return [Match("conv1x1-to-matmul", view.entry, (i,)) for i, op in view.scan()
            if op.name in LAYOUTS and _is_1x1(conv_info(view, op))]


def apply_1x1(module: ir.Module, m: Match) -> None:
    """Collapse input, filter and accumulator to 2-D, one matmul, expand the result."""
    view = GraphView(module, m.entry)
    c = conv_info(view, view.ops[m.ops[0]])
    if not _is_1x1(c):
        raise RuleError("conv1x1-to-matmul: precondition failed")
    op = c.op
    x, f, init = op.operands
    xs, fs, os_ = shape_of(x), shape_of(f), shape_of(op.results[0])
    elem = c.types[0]
    t = lambda s: _ttype(s, elem)
    # a zero/scalar fill accumulator stays a fill (of the 2-D type), so that the matmul is a plain
    # zero-fill contraction that matmul-reassociate / distribute-matmul can read; others are collapsed
    fill = view.producer(init)
    fill_scalar = fill.operands[0] if fill is not None and fill.name == "linalg.fill" \
        and not str(fill.operands[0].type).startswith("tensor") else None
    if c.name == "linalg.conv_2d_nchw_fchw":  # out[F, HW] = W[F, C] · X[C, HW]
        _, C, H, W = xs
        F = fs[0]
        body = f"""  %x2 = tensor.collapse_shape %x [[0, 1], [2, 3]] : {t(xs)} into {t([C, H * W])}
  %w2 = tensor.collapse_shape %f [[0], [1, 2, 3]] : {t(fs)} into {t([F, C])}
  %i2 = tensor.collapse_shape %i [[0, 1], [2, 3]] : {t(os_)} into {t([F, H * W])}
  %m = linalg.matmul ins(%w2, %x2 : {t([F, C])}, {t([C, H * W])}) outs(%i2 : {t([F, H * W])}) -> {t([F, H * W])}
  %r = tensor.expand_shape %m [[0, 1], [2, 3]] output_shape [1, {F}, {H}, {W}] : {t([F, H * W])} into {t(os_)}"""
    else:  # out[NHW, F] = X[NHW, C] · W[C, F]
        N, H, W, C = xs
        F = fs[3]
        P = N * H * W
        body = f"""  %x2 = tensor.collapse_shape %x [[0, 1, 2], [3]] : {t(xs)} into {t([P, C])}
  %w2 = tensor.collapse_shape %f [[0, 1, 2], [3]] : {t(fs)} into {t([C, F])}
  %i2 = tensor.collapse_shape %i [[0, 1, 2], [3]] : {t(os_)} into {t([P, F])}
  %m = linalg.matmul ins(%x2, %w2 : {t([P, C])}, {t([C, F])}) outs(%i2 : {t([P, F])}) -> {t([P, F])}
  %r = tensor.expand_shape %m [[0, 1, 2], [3]] output_shape [{N}, {H}, {W}, {F}] : {t([P, F])} into {t(os_)}"""
    acc = init
    if fill_scalar is not None:
        acc = fill_scalar
        i2 = body.split("\n")[2]  # the accumulator's collapse -> a fill of the collapsed type
        acc_t = i2.rsplit(" into ", 1)[1]
        body = body.replace(i2, f"  %i2e = tensor.empty() : {acc_t}\n"
                                f"  %i2 = linalg.fill ins(%i : {fill_scalar.type}) outs(%i2e : {acc_t}) -> {acc_t}")
    snippet = (f"func.func @s(%x: {x.type}, %f: {f.type}, %i: {acc.type}) -> {op.results[0].type} {{\n"
               f"{body}\n  return %r : {op.results[0].type}\n}}")
    new = _ir.splice(op, snippet, [x, f, acc])
    replace_results(view, [op.results[0]], new)


# -- examples -------------------------------------------------------------------------------------

@dataclass
class _Branch:
    cout: int
    k: int
    pad: int
    bias: bool


def conv_graph(n: int, cin: int, hw: int, branches: list[_Branch], *, stride: int = 1, layout: str = "nchw",
               elem: str = "f32", relu_first: bool = False, concat: bool = True, seed: int = 0) -> str:
    """MLIR text of an Inception-like block in torch-mlir's form: parallel convs (zero tensor.pad
    for padding, ``linalg.broadcast`` bias or zero fill) reading one input, results concatenated
    along channels (or returned separately). Branches with equal padding share one pad."""
    rng = np.random.default_rng(seed)
    nchw = layout == "nchw"
    name = "linalg.conv_2d_nchw_fchw" if nchw else "linalg.conv_2d_nhwc_hwcf"
    t = lambda s: _ttype(s, elem)
    shp = (lambda c, h: [n, c, h, h]) if nchw else (lambda c, h: [n, h, h, c])
    in_t = t(shp(cin, hw))
    lines = [f"  %zero = arith.constant 0.0 : {elem}"]
    pads: dict[int, tuple[str, int]] = {}
    outs, types = [], []
    for j, b in enumerate(branches):
        if b.pad not in pads:
            if b.pad == 0:
                pads[0] = ("%x", hw)
            else:
                ph = hw + 2 * b.pad
                lo = f"[0, 0, {b.pad}, {b.pad}]" if nchw else f"[0, {b.pad}, {b.pad}, 0]"
                lines.append(f"  %p{b.pad} = tensor.pad %x low{lo} high{lo} {{\n  ^bb0(%a0: index, %a1: index, "
                             f"%a2: index, %a3: index):\n    tensor.yield %zero : {elem}\n  }} : {in_t} to {t(shp(cin, ph))}")
                pads[b.pad] = (f"%p{b.pad}", ph)
        src, ph = pads[b.pad]
        oh = (ph - b.k) // stride + 1
        out_t = t(shp(b.cout, oh))
        fshape = [b.cout, cin, b.k, b.k] if nchw else [b.k, b.k, cin, b.cout]
        w = rng.standard_normal(fshape) / np.sqrt(cin * b.k * b.k)
        lines.append(f"  %w{j} = arith.constant {dense(w).replace('f32>', elem + '>')}")
        lines.append(f"  %e{j} = tensor.empty() : {out_t}")
        if b.bias:
            lines.append(f"  %b{j} = arith.constant {dense(rng.standard_normal(b.cout)).replace('f32>', elem + '>')}")
            dims = "[0, 2, 3]" if nchw else "[0, 1, 2]"
            lines.append(f"  %i{j} = linalg.broadcast ins(%b{j} : tensor<{b.cout}x{elem}>) outs(%e{j} : {out_t}) dimensions = {dims}")
        else:
            lines.append(f"  %i{j} = linalg.fill ins(%zero : {elem}) outs(%e{j} : {out_t}) -> {out_t}")
        lines.append(f"  %c{j} = {name} {{dilations = dense<1> : vector<2xi64>, strides = dense<{stride}> : vector<2xi64>}} "
                     f"ins({src}, %w{j} : {t(shp(cin, ph))}, {t(fshape)}) outs(%i{j} : {out_t}) -> {out_t}")
        res = f"%c{j}"
        if relu_first and j == 0:
            lines.append(f"  %r{j} = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, "
                         f"affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = [\"parallel\", \"parallel\", "
                         f"\"parallel\", \"parallel\"]}} ins(%c{j} : {out_t}) outs(%e{j} : {out_t}) {{\n  ^bb0(%in: {elem}, %o: {elem}):\n"
                         f"    %m = arith.maximumf %in, %zero : {elem}\n    linalg.yield %m : {elem}\n  }} -> {out_t}")
            res = f"%r{j}"
        outs.append(res)
        types.append(out_t)
    if concat:
        oh = int(types[0].split("x")[2]) if nchw else int(types[0].split("x")[1])
        total = sum(b.cout for b in branches)
        cat_t = t(shp(total, oh))
        lines.append(f"  %cat = tensor.concat dim({1 if nchw else 3}) {', '.join(outs)} : ({', '.join(types)}) -> {cat_t}")
        outs, types = ["%cat"], [cat_t]
    return (f"func.func @main(%x: {in_t}) -> ({', '.join(types)}) {{\n" + "\n".join(lines)
            + f"\n  return {', '.join(outs)} : {', '.join(types)}\n}}\n")


B = _Branch


def merge_examples() -> list[Example]:
    """Same-geometry sibling convs: padded 3x3 NCHW with mixed biases, strided 1x1, NHWC."""
    return [
        Example("nchw 1x4x6x6: 3x3 pad 1 -> [5 (bias), 2 (no bias), 3 (bias)] + concat",
                conv_graph(1, 4, 6, [B(5, 3, 1, True), B(2, 3, 1, False), B(3, 3, 1, True)], seed=0)),
        Example("nchw 2x3x7x7: 1x1 stride 2 -> [4, 6], relu on one branch",
                conv_graph(2, 3, 7, [B(4, 1, 0, True), B(6, 1, 0, True)], stride=2, relu_first=True, seed=1)),
        Example("nhwc 1x5x5x3: 3x3 pad 1 -> [4, 4] no bias, separate results",
                conv_graph(1, 3, 5, [B(4, 3, 1, False), B(4, 3, 1, False)], layout="nhwc", concat=False, seed=2)),
        Example("f16 nchw 1x4x6x6: 3x3 pad 1 -> [3 (bias), 5 (bias)] + concat",
                conv_graph(1, 4, 6, [B(3, 3, 1, True), B(5, 3, 1, True)], elem="f16", seed=10), "f16"),
    ]


def enlarge_examples() -> list[Example]:
    """1x1 next to 3x3 pad 1 (SqueezeNet fire), 3x3 next to 5x5 pad 2 (stride 2), NHWC 1x1 vs 3x3."""
    return [
        Example("nchw 1x4x6x6: 1x1 (bias) next to 3x3 pad 1 (bias) + concat",
                conv_graph(1, 4, 6, [B(3, 1, 0, True), B(5, 3, 1, True)], seed=3)),
        Example("nchw 1x3x9x9 stride 2: 3x3 pad 1 next to 5x5 pad 2",
                conv_graph(1, 3, 9, [B(2, 3, 1, False), B(4, 5, 2, True)], stride=2, seed=4)),
        Example("nhwc 1x6x6x4: 1x1 next to 3x3 pad 1",
                conv_graph(1, 4, 6, [B(3, 1, 0, False), B(2, 3, 1, True)], layout="nhwc", seed=5)),
        Example("f16 nchw 1x4x6x6: 1x1 (bias) next to 3x3 pad 1",
                conv_graph(1, 4, 6, [B(3, 1, 0, True), B(5, 3, 1, True)], elem="f16", seed=11), "f16"),
    ]


def conv1x1_examples() -> list[Example]:
    """NCHW batch 1 with bias; NHWC batch 2 without; NCHW 1x1 reading a padded input."""
    return [
        Example("nchw 1x6x5x5 1x1 -> 4 (bias)", conv_graph(1, 6, 5, [B(4, 1, 0, True)], concat=False, seed=6)),
        Example("nhwc 2x4x4x5 1x1 -> 3", conv_graph(2, 5, 4, [B(3, 1, 0, False)], layout="nhwc", concat=False, seed=7)),
        Example("nchw 1x3x4x4 1x1 -> 8 after pad 1, relu",
                conv_graph(1, 3, 4, [B(8, 1, 1, True)], relu_first=True, concat=False, seed=8)),
        Example("f16 nhwc 1x4x4x6 1x1 -> 5 (bias)",
                conv_graph(1, 6, 4, [B(5, 1, 0, True)], layout="nhwc", elem="f16", concat=False, seed=12), "f16"),
    ]


RULES = [
    Rule("merge-parallel-convs", "merge",
         "convs sharing an input with equal stride/dilation/padding/kernel -> one conv on concatenated filters + slices",
         match_merge, apply_merge, merge_examples),
    Rule("enlarge-conv-kernel", "merge",
         "zero-pad a conv's kernel (and its input padding) to a larger sibling's kernel, enabling a merge (search-only)",
         match_enlarge, apply_enlarge, enlarge_examples, auto=False),
    Rule("conv1x1-to-matmul", "algebra",
         "1x1 stride-1 conv -> matmul on collapsed input/filter, expanded result (search-only)",
         match_1x1, apply_1x1, conv1x1_examples, auto=False, locality="anchor"),
]
