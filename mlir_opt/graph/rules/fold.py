"""Folding rules: batch-norm into the preceding convolution, constant transposes into constants.

``fold-batchnorm-into-conv``: ``linalg.conv_2d_nchw_fchw`` with a constant filter and an
accumulator that is constant per output channel (``linalg.fill`` or a broadcast bias), followed by
a chain of elementwise ``linalg.generic``s that each add/subtract/multiply/divide the running
value by a per-channel constant (torch's inference BatchNorm: sub mean, mul 1/sqrt(var+eps), mul
gamma, add beta) — every intermediate used once. The chain is an affine map y = s·conv + t per
channel; the filter becomes W·s and the accumulator the broadcast bias t (computed in float64).

``fold-constant-transpose``: a ``linalg.transpose`` whose input is a constant or a weight-only
subgraph becomes an ``arith.constant`` (constant folding of weight-only subgraphs).
"""

from __future__ import annotations

import numpy as np

from ... import ir as _ir
from ..consteval import map_to_loops
from ..view import GraphView, _attrs
from .base import Example, Match, Rule, RuleError, dense, elem_of, replace_results, shape_of
from .base import per_channel as _per_channel

__all__ = ["RULES", "BIAS_FORMS", "BIAS_FORM"]

ir = _ir.ir

#: How ``fold-batchnorm-into-conv`` writes the folded shift t: ``"init"`` (default) — t broadcast
#: as the convolution's accumulator (``outs``), torch-mlir's form of a conv bias; ``"add"`` — the
#: convolution accumulates into a zero fill and one per-channel ``linalg.generic`` adds t after it.
#: IREE 3.13 (llvm-cpu) forms the same dispatches from both: it turns the broadcast accumulator
#: into a fill plus an add fused after the convolution, with the ReLU / residual add (checked by
#: tests/test_graph_rules_bn.py; docs/graph-rules.md, "Batch-norm fold: bias form").
BIAS_FORMS = ("init", "add")
BIAS_FORM = "init"

_AFFINE = ("arith.addf", "arith.subf", "arith.mulf", "arith.divf")


def _affine_link(view: GraphView, g: ir.Operation, cur: ir.Value):
    """``(opname, x_first, vector)`` if ``g`` computes cur ∘ c with one per-channel constant c
    (the single-step case of :func:`_affine_links`; the egglog translation uses it)."""
    lks = _affine_links(view, g, cur)
    return lks[0] if lks is not None and len(lks) == 1 else None


def _affine_links(view: GraphView, g: ir.Operation, cur: ir.Value):
    """``[(opname, x_first, vector), …]`` if ``g`` computes ((cur ∘ c1) ∘ c2) … elementwise with
    per-channel constants ``ci`` (one binop per constant input; the two-op ``x·s + t`` generic
    that ``fold-chained-scale-bias`` writes is such a link too), else None."""
    if g.name != "linalg.generic" or len(g.results) != 1 or len(g.operands) < 3:
        return None
    if str(g.results[0].type) != str(cur.type):
        return None
    iters = [str(a) for a in ir.ArrayAttr(g.attributes["iterator_types"])]
    if any("parallel" not in s for s in iters):
        return None
    maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    rank = len(shape_of(cur))
    ident = [f"d{i}" for i in range(rank)]
    n_in = len(g.operands) - 1
    if maps[n_in][1] != ident or maps[n_in][0] != rank:
        return None
    ins = list(g.operands)[:n_in]
    if ins.count(cur) != 1:
        return None
    p = ins.index(cur)
    if maps[p][1] != ident:
        return None
    block = g.regions[0].blocks[0]
    vecs = {}
    for k, v in enumerate(ins):
        if k == p:
            continue
        c = view.const_value(v)
        if c is None:
            return None
        try:
            full = map_to_loops(c, maps[k][1], rank, shape_of(cur))
        except ValueError:
            return None
        vec = _per_channel(full)
        if vec is None:
            return None
        vecs[block.arguments[k]] = vec.astype(np.float64)
    body = [o.operation for o in block.operations]
    if len(body) != n_in or body[-1].name != "linalg.yield":
        return None
    links, run = [], block.arguments[p]
    for binop in body[:-1]:
        if binop.name not in _AFFINE or len(binop.operands) != 2:
            return None
        a, b = binop.operands
        if a == run and b in vecs:
            x_first, c_arg = True, b
        elif b == run and a in vecs:
            x_first, c_arg = False, a
        else:
            return None
        if binop.name == "arith.divf" and not x_first:
            return None  # c / x is not affine in x
        links.append((binop.name, x_first, vecs.pop(c_arg)))
        run = binop.results[0]
    if vecs or body[-1].operands[0] != run:
        return None
    return links


def _conv_chain(view: GraphView, conv: ir.Operation):
    """``(filter, bias0, links)`` for a foldable conv, else None."""
    if conv.name != "linalg.conv_2d_nchw_fchw" or len(conv.operands) != 3 or len(conv.results) != 1:
        return None
    if elem_of(conv.results[0]) != "f32":
        return None
    w = view.const_value(conv.operands[1])
    init = view.const_value(conv.operands[2])
    if w is None or init is None:
        return None
    bias0 = _per_channel(init)
    if bias0 is None:
        return None
    links, cur = [], conv.results[0]
    while True:
        users = view.users(cur)
        if len(users) != 1 or view.num_uses(cur) != 1:
            break
        lks = _affine_links(view, users[0], cur)
        if lks is None:
            break
        links.extend((users[0], *lk) for lk in lks)
        cur = users[0].results[0]
    if not links:
        return None
    return w, bias0.astype(np.float64), links


def match_bn(view: GraphView) -> list[Match]:
    """Convolutions followed by a per-channel affine elementwise chain."""
    out = []
    for i, op in view.scan():
        ch = _conv_chain(view, op)
        if ch is not None and not _is_canonical(view, op, *ch):
            gens = list(dict.fromkeys(view.index[g] for g, *_ in ch[2]))
            out.append(Match("fold-batchnorm-into-conv", view.entry, (i, *gens),
                             f"{len(gens)} elementwise ops, {len(ch[2])} affine steps"))
    return out


def _shift_steps(shift0: np.ndarray, links) -> tuple[np.ndarray, np.ndarray]:
    """``(scale, shift)`` of the affine map y = scale·conv + shift the chain computes (float64)."""
    shift, scale = shift0, np.ones_like(shift0)
    for _, name, x_first, v in links:
        if name == "arith.addf":
            shift = shift + v
        elif name == "arith.subf" and x_first:
            shift = shift - v
        elif name == "arith.subf":
            scale, shift = -scale, v - shift
        elif name == "arith.mulf":
            scale, shift = scale * v, shift * v
        else:  # x / c
            scale, shift = scale / v, shift / v
    return scale, shift


def _is_canonical(view: GraphView, conv: ir.Operation, w: np.ndarray, bias0: np.ndarray, links) -> bool:
    """Whether conv + chain already is the folded ``"add"`` form (a zero accumulator and one
    per-channel add): folding it again would rebuild the same graph."""
    return (BIAS_FORM == "add" and not np.any(bias0) and len(links) == 1
            and links[0][1] == "arith.addf")


def apply_bn(module: ir.Module, m: Match) -> None:
    """New filter W·s and shift t; the elementwise chain is removed. The shift becomes the conv's
    accumulator (``BIAS_FORM = "init"``: a broadcast of t as the conv's ``outs``) or is added after
    the convolution (``"add"``: conv into a zero fill, then one per-channel add)."""
    view = GraphView(module, m.entry)
    conv = view.ops[m.ops[0]]
    ch = _conv_chain(view, conv)
    if ch is None:
        raise RuleError("fold-batchnorm-into-conv: precondition failed")
    w, shift0, links = ch
    links = [lk for lk in links if view.index[lk[0]] in m.ops]
    if not links:
        raise RuleError("fold-batchnorm-into-conv: the matched chain is gone")
    scale, shift = _shift_steps(shift0, links)
    new_w = (w.astype(np.float64) * scale[:, None, None, None]).astype(np.float32)
    wv = _ir.make_constant(new_w, before=conv)
    bv = _ir.make_constant(shift.astype(np.float32), before=conv)
    x = conv.operands[0]
    tin, tf, tout = str(x.type), str(wv.type), str(conv.results[0].type)
    attrs = ", ".join(f"{k} = {a}" for k, a in _attrs(conv)
                      if k not in ("operandSegmentSizes", "linalg.memoized_indexing_maps"))
    bmap = "affine_map<(d0, d1, d2, d3) -> (d1)>"
    iters = '["parallel", "parallel", "parallel", "parallel"]'
    if BIAS_FORM == "init":
        snippet = f"""func.func @s(%x: {tin}, %f: {tf}, %b: {bv.type}) -> {tout} {{
  %e = tensor.empty() : {tout}
  %i = linalg.generic {{indexing_maps = [{bmap}, {_ID4}], iterator_types = {iters}}} ins(%b : {bv.type}) outs(%e : {tout}) {{
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }} -> {tout}
  %r = linalg.conv_2d_nchw_fchw {{{attrs}}} ins(%x, %f : {tin}, {tf}) outs(%i : {tout}) -> {tout}
  return %r : {tout}
}}"""
    else:
        add = "" if not np.any(shift) else f"""
  %r = linalg.generic {{indexing_maps = [{_ID4}, {bmap}, {_ID4}], iterator_types = {iters}}} ins(%c, %b : {tout}, {bv.type}) outs(%e : {tout}) {{
  ^bb0(%in: f32, %bi: f32, %o: f32):
    %s = arith.addf %in, %bi : f32
    linalg.yield %s : f32
  }} -> {tout}"""
        snippet = f"""func.func @s(%x: {tin}, %f: {tf}, %b: {bv.type}) -> {tout} {{
  %e = tensor.empty() : {tout}
  %z = arith.constant 0.0 : f32
  %i = linalg.fill ins(%z : f32) outs(%e : {tout}) -> {tout}
  %c = linalg.conv_2d_nchw_fchw {{{attrs}}} ins(%x, %f : {tin}, {tf}) outs(%i : {tout}) -> {tout}{add}
  return {"%r" if add else "%c"} : {tout}
}}"""
    new = _ir.splice(conv, snippet, [x, wv, bv])
    replace_results(view, [links[-1][0].results[0]], new)


def match_transpose(view: GraphView) -> list[Match]:
    """``linalg.transpose`` of a constant (or of a weight-only subgraph)."""
    return [Match("fold-constant-transpose", view.entry, (i,))
            for i, op in view.scan()
            if op.name == "linalg.transpose" and view.is_constant(op.operands[0])]


def apply_transpose(module: ir.Module, m: Match) -> None:
    """Replace the transpose by a constant holding its value."""
    view = GraphView(module, m.entry)
    op = view.ops[m.ops[0]]
    if op.name != "linalg.transpose":
        raise RuleError("fold-constant-transpose: precondition failed (not a transpose)")
    val = view.const_value(op.results[0])
    if val is None or not view.is_constant(op.operands[0]):
        raise RuleError("fold-constant-transpose: precondition failed (input not constant)")
    c = _ir.make_constant(val, before=op)
    replace_results(view, [op.results[0]], [c])


_BCAST = "affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>"
_ID4 = "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>"
_ID1 = "affine_map<(d0) -> (d0)>"


def _bn_example(label: str, n: int, cin: int, hw: int, cout: int, k: int, stride: int, bias: bool,
                seed: int) -> Example:
    rng = np.random.default_rng(seed)
    oh = (hw - k) // stride + 1
    tin, tf = f"tensor<{n}x{cin}x{hw}x{hw}xf32>", f"tensor<{cout}x{cin}x{k}x{k}xf32>"
    tout, tc, tc3 = f"tensor<{n}x{cout}x{oh}x{oh}xf32>", f"tensor<{cout}xf32>", f"tensor<{cout}x1x1xf32>"
    w = rng.standard_normal((cout, cin, k, k))
    mean, var = rng.standard_normal(cout) * 0.1, rng.random(cout) + 0.5
    gamma, beta = rng.random(cout) + 0.5, rng.standard_normal(cout) * 0.1
    lines = [f"func.func @main(%x: {tin}) -> {tout} {{",
             "  %zero = arith.constant 0.0 : f32",
             "  %one = arith.constant 1.0 : f32",
             "  %eps = arith.constant 1.0e-05 : f64",
             f"  %w = arith.constant {dense(w)}",
             f"  %mean = arith.constant {dense(mean)}",
             f"  %var = arith.constant {dense(var)}",
             f"  %gamma = arith.constant {dense(gamma)}",
             f"  %beta = arith.constant {dense(beta)}",
             f"  %e = tensor.empty() : {tout}"]
    if bias:
        lines += [f"  %bias = arith.constant {dense(rng.standard_normal(cout))}",
                  f"  %init = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1)>, {_ID4}], iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"parallel\"]}} ins(%bias : {tc}) outs(%e : {tout}) {{\n  ^bb0(%in: f32, %o: f32):\n    linalg.yield %in : f32\n  }} -> {tout}"]
    else:
        lines.append(f"  %init = linalg.fill ins(%zero : f32) outs(%e : {tout}) -> {tout}")
    lines += [f"  %c = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : vector<2xi64>, strides = dense<{stride}> : vector<2xi64>}} ins(%x, %w : {tin}, {tf}) outs(%init : {tout}) -> {tout}",
              f"  %ve = tensor.empty() : {tc}",
              f"  %v1 = linalg.generic {{indexing_maps = [{_ID1}, {_ID1}], iterator_types = [\"parallel\"]}} ins(%var : {tc}) outs(%ve : {tc}) {{\n  ^bb0(%in: f32, %o: f32):\n    %t = arith.truncf %eps : f64 to f32\n    %s = arith.addf %in, %t : f32\n    linalg.yield %s : f32\n  }} -> {tc}",
              f"  %v2 = linalg.generic {{indexing_maps = [{_ID1}, {_ID1}], iterator_types = [\"parallel\"]}} ins(%v1 : {tc}) outs(%ve : {tc}) {{\n  ^bb0(%in: f32, %o: f32):\n    %s = math.sqrt %in : f32\n    linalg.yield %s : f32\n  }} -> {tc}",
              f"  %v3 = linalg.generic {{indexing_maps = [{_ID1}, {_ID1}], iterator_types = [\"parallel\"]}} ins(%v2 : {tc}) outs(%ve : {tc}) {{\n  ^bb0(%in: f32, %o: f32):\n    %s = arith.divf %one, %in : f32\n    linalg.yield %s : f32\n  }} -> {tc}"]
    prev = "%c"
    for j, (name, val, op) in enumerate([("mean", "%mean", "arith.subf"), ("inv", "%v3", "arith.mulf"),
                                          ("gamma", "%gamma", "arith.mulf"), ("beta", "%beta", "arith.addf")]):
        lines.append(f"  %{name}3 = tensor.expand_shape {val} [[0, 1, 2]] output_shape [{cout}, 1, 1] : {tc} into {tc3}")
        lines.append(f"  %y{j} = linalg.generic {{indexing_maps = [{_ID4}, {_BCAST}, {_ID4}], iterator_types = [\"parallel\", \"parallel\", \"parallel\", \"parallel\"]}} ins({prev}, %{name}3 : {tout}, {tc3}) outs(%e : {tout}) {{\n  ^bb0(%in: f32, %p: f32, %o: f32):\n    %s = {op} %in, %p : f32\n    linalg.yield %s : f32\n  }} -> {tout}")
        prev = f"%y{j}"
    lines += [f"  return {prev} : {tout}", "}"]
    return Example(label, "\n".join(lines) + "\n")


def bn_examples() -> list[Example]:
    """conv + torch-style inference batch-norm, with and without a conv bias, strides 1 and 2."""
    return [_bn_example("conv 1x3x8x8 -> 4 (3x3) + bn", 1, 3, 8, 4, 3, 1, False, 0),
            _bn_example("conv 2x4x9x9 -> 6 (3x3, stride 2, bias) + bn", 2, 4, 9, 6, 3, 2, True, 1),
            _bn_example("conv 1x8x5x5 -> 8 (1x1) + bn", 1, 8, 5, 8, 1, 1, False, 2)]


def transpose_examples() -> list[Example]:
    """matmuls whose weights are transposed constants."""
    out = []
    for label, m, k, n, seed in (("matmul 4x6 x transpose(5x6)", 4, 6, 5, 0),
                                 ("matmul 3x16 x transpose(8x16)", 3, 16, 8, 1)):
        w = np.random.default_rng(seed).standard_normal((n, k))
        out.append(Example(label, f"""func.func @main(%x: tensor<{m}x{k}xf32>) -> tensor<{m}x{n}xf32> {{
  %zero = arith.constant 0.0 : f32
  %w = arith.constant {dense(w)}
  %te = tensor.empty() : tensor<{k}x{n}xf32>
  %wt = linalg.transpose ins(%w : tensor<{n}x{k}xf32>) outs(%te : tensor<{k}x{n}xf32>) permutation = [1, 0]
  %e = tensor.empty() : tensor<{m}x{n}xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
  %r = linalg.matmul ins(%x, %wt : tensor<{m}x{k}xf32>, tensor<{k}x{n}xf32>) outs(%f : tensor<{m}x{n}xf32>) -> tensor<{m}x{n}xf32>
  return %r : tensor<{m}x{n}xf32>
}}
"""))
    return out


RULES = [
    Rule("fold-batchnorm-into-conv", "fold",
         "conv_2d_nchw_fchw + per-channel affine elementwise chain (inference batch-norm) -> new filter and bias",
         match_bn, apply_bn, bn_examples, locality="anchor"),
    Rule("fold-constant-transpose", "fold",
         "linalg.transpose of a constant (weight-only subgraph) -> arith.constant",
         match_transpose, apply_transpose, transpose_examples, locality="anchor"),
]
