"""Horizontal merging: contractions that share an input become one wider contraction.

``merge-parallel-matmuls``: two or more ``linalg.matmul`` (or ``linalg.batch_matmul``, the form
torch gives ``nn.Linear`` on 3-D inputs) that read the same LHS value, whose RHS are constants or
weight-only subgraphs (torch's ``transpose(W)`` + broadcast) with equal leading/K dims, and whose
accumulators are ``linalg.fill`` of the same scalar, become one contraction over the RHS
concatenated along N, followed by one ``tensor.extract_slice`` per original result (BERT's Q/K/V
projections). When every member's only user is a bias-add (a constant vector along N), the
biases are concatenated too and added once before slicing; otherwise bias-adds read the slices.
"""

from __future__ import annotations

import numpy as np

from ... import ir as _ir
from ..view import GraphView
from .base import Example, Match, Rule, RuleError, dense, elem_of, is_add_body, replace_results, shape_of

__all__ = ["FORM", "RULES", "restack"]

ir = _ir.ir

_CONTRACTIONS = ("linalg.matmul", "linalg.batch_matmul")
_DEFAULT_MAPS = {"linalg.matmul": [["d0", "d2"], ["d2", "d1"], ["d0", "d1"]],
                 "linalg.batch_matmul": [["d0", "d1", "d3"], ["d0", "d3", "d2"], ["d0", "d1", "d2"]]}


def _linear(view: GraphView, op: ir.Operation):
    """``(key, weight)`` if ``op`` is a mergeable contraction, else None."""
    if op.name not in _CONTRACTIONS or len(op.operands) != 3 or len(op.results) != 1:
        return None
    if "cast" in op.attributes:
        return None
    if "indexing_maps" in op.attributes:  # transposed/broadcast variants are not handled
        maps = [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(op.attributes["indexing_maps"])]
        if maps != _DEFAULT_MAPS[op.name]:
            return None
    lhs, rhs, init = op.operands
    fill = view.producer(init)
    if fill is None or fill.name != "linalg.fill":
        return None
    w = view.const_value(rhs)
    if w is None or w.ndim != len(shape_of(rhs)):
        return None
    key = (op.name, lhs, fill.operands[0], shape_of(rhs)[:-1], shape_of(init)[:-1], elem_of(init),
           elem_of(rhs))
    return key, w


def _bias_add(view: GraphView, op: ir.Operation):
    """``(generic, bias vector)`` if ``op``'s only user adds a constant vector along the last dim."""
    r = op.results[0]
    users = view.users(r)
    if len(users) != 1 or view.num_uses(r) != 1:
        return None
    g = users[0]
    if g.name != "linalg.generic" or len(g.operands) != 3 or len(g.results) != 1:
        return None
    if str(g.results[0].type) != str(r.type):
        return None
    rank = len(shape_of(r))
    maps = [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    ident = [f"d{i}" for i in range(rank)]
    if any("parallel" not in str(a) for a in ir.ArrayAttr(g.attributes["iterator_types"])):
        return None
    if g.operands[0] != r or maps[0] != ident or maps[2] != ident or maps[1] != [f"d{rank - 1}"]:
        return None
    b = view.const_value(g.operands[1])
    if b is None or b.ndim != 1:
        return None
    if not is_add_body(g):
        return None
    return g, b


def match(view: GraphView) -> list[Match]:
    """Groups (≥ 2) of contractions with the same LHS, constant RHS and the same fill scalar."""
    groups: dict = {}
    for i, op in enumerate(view.ops):
        lin = _linear(view, op)
        if lin is not None:
            groups.setdefault(lin[0], []).append(i)
    return [Match("merge-parallel-matmuls", view.entry, tuple(idx), f"{len(idx)} x {view.ops[idx[0]].name}")
            for idx in groups.values() if len(idx) >= 2]


#: How the merged contraction is written (module-level switch, for benchmarks/qkv_merge.py):
#: ``"stacked"`` (default) — when every member has the same width ``n`` and the LHS is ``[M, K]`` or
#: ``[1, M, K]``: one ``linalg.batch_matmul`` of the LHS broadcast to ``[g, M, K]`` by the stacked
#: weights ``[g, K, n]``, so that each member's result is a contiguous slice ``[k]`` of the
#: ``[g, M, n]`` result (IREE then forms no copy dispatch for it); otherwise, and with ``"concat"``,
#: one contraction over the weights concatenated along N and one last-dim slice per member (IREE
#: turns each such strided slice into its own ``slow_memcpy`` dispatch).
FORM = "stacked-generic"


def _stacked(res_t, weights, bias, outs, lhs, fill_scalar, anchor):
    """``(snippet lines, inputs)`` of the stacked form, or None where it does not apply.

    ``weights``: one RHS array per member; ``bias``: one bias vector per member, or None."""
    g, n = len(res_t), outs[0][-1]
    lead = outs[0][:-1]
    if FORM not in ("stacked", "stacked-generic") or any(s != outs[0] for s in outs) or len(lead) not in (1, 2) or \
            (len(lead) == 2 and lead[0] != 1) or g < 2:
        return None
    m_ = lead[-1]
    k = shape_of(lhs)[-1]
    elem = elem_of(anchor.results[0])
    ws = np.stack([w.reshape(k, n) for w in weights]).astype(weights[0].dtype)
    wv = _ir.make_constant(ws, before=anchor)
    lhs_t, w_t = str(lhs.type), str(wv.type)
    x2 = f"tensor<{m_}x{k}x{elem}>"
    xb, out_t = f"tensor<{g}x{m_}x{k}x{elem}>", f"tensor<{g}x{m_}x{n}x{elem}>"
    lines = [f"func.func @s(%x: {lhs_t}, %w: {w_t}, %z: {fill_scalar.type}) -> ({', '.join(res_t)}) {{"]
    if len(lead) == 2:
        lines.append(f"  %x2 = tensor.collapse_shape %x [[0, 1], [2]] : {lhs_t} into {x2}")
    else:
        lines.append("  %x2 = tensor.cast %x : " + f"{x2} to {x2}")
    lines += [f"  %e = tensor.empty() : {out_t}",
              f"  %f = linalg.fill ins(%z : {fill_scalar.type}) outs(%e : {out_t}) -> {out_t}"]
    if FORM == "stacked":
        lines += [f"  %eb = tensor.empty() : {xb}",
                  f"  %xb = linalg.broadcast ins(%x2 : {x2}) outs(%eb : {xb}) dimensions = [0]",
                  f"  %m = linalg.batch_matmul ins(%xb, %w : {xb}, {w_t}) outs(%f : {out_t}) -> {out_t}"]
    else:
        lines.append(_ir.matmul_like_generic("%m", "%x2", "%w", "%f", (x2, w_t, out_t), (elem, elem, elem)))
    inputs = [lhs, wv, fill_scalar]
    src = "%m"
    if bias is not None:
        bv = _ir.make_constant(np.stack(bias).astype(ws.dtype), before=anchor)
        inputs.append(bv)
        lines[0] = lines[0].replace(") -> (", f", %b: {bv.type}) -> (", 1)
        idm = "affine_map<(d0, d1, d2) -> (d0, d1, d2)>"
        lines.append(f"  %m2 = linalg.generic {{indexing_maps = [{idm}, affine_map<(d0, d1, d2) -> (d0, d2)>, {idm}], "
                     f"iterator_types = [\"parallel\", \"parallel\", \"parallel\"]}} ins(%m, %b : {out_t}, {bv.type}) "
                     f"outs(%e : {out_t}) {{\n  ^bb0(%a: {elem}, %c: {elem}, %o: {elem}):\n"
                     f"    %s = arith.addf %a, %c : {elem}\n    linalg.yield %s : {elem}\n  }} -> {out_t}")
        src = "%m2"
    for j, t in enumerate(res_t):
        lines.append(f"  %s{j} = tensor.extract_slice {src}[{j}, 0, 0] [1, {m_}, {n}] [1, 1, 1] : {out_t} to {t}")
    lines.append(f"  return {', '.join(f'%s{j}' for j in range(g))} : {', '.join(res_t)}")
    lines.append("}")
    return lines, inputs


def apply(module: ir.Module, m: Match) -> None:
    """Stack (or concatenate) the weights, emit one contraction and slice its result."""
    view = GraphView(module, m.entry)
    ops = [view.ops[i] for i in m.ops]
    lins = [_linear(view, op) for op in ops]
    if any(l is None for l in lins) or len({l[0] for l in lins}) != 1 or len(ops) < 2:
        raise RuleError("merge-parallel-matmuls: precondition failed (not mergeable contractions)")
    anchor = ops[0]
    lhs = anchor.operands[0]
    fill_scalar = view.producer(anchor.operands[2]).operands[0]
    biases = [_bias_add(view, op) for op in ops]
    with_bias = all(b is not None for b in biases)
    outs = [shape_of(op.results[0]) for op in ops]
    st = _stacked([str(op.results[0].type) for op in ops], [l[1] for l in lins],
                  [b[1] for b in biases] if with_bias else None, outs, lhs, fill_scalar, anchor)
    if st is not None:
        new = _ir.splice(anchor, "\n".join(st[0]), st[1])
        old = [b[0].results[0] for b in biases] if with_bias else [op.results[0] for op in ops]
        replace_results(view, old, new)
        return
    w = np.concatenate([l[1] for l in lins], axis=-1)
    wv = _ir.make_constant(w.astype(lins[0][1].dtype), before=anchor)
    n_total = sum(s[-1] for s in outs)
    elem = elem_of(anchor.results[0])
    lhs_t, w_t = str(lhs.type), str(wv.type)
    out_t = f"tensor<{'x'.join(map(str, [*outs[0][:-1], n_total]))}x{elem}>"
    lines = [f"func.func @s(%x: {lhs_t}, %w: {w_t}, %z: {fill_scalar.type}) -> "
             f"({', '.join(str(op.results[0].type) for op in ops)}) {{",
             f"  %e = tensor.empty() : {out_t}",
             f"  %f = linalg.fill ins(%z : {fill_scalar.type}) outs(%e : {out_t}) -> {out_t}",
             f"  %m = {anchor.name} ins(%x, %w : {lhs_t}, {w_t}) outs(%f : {out_t}) -> {out_t}"]
    inputs = [lhs, wv, fill_scalar]
    if with_bias:
        bv = _ir.make_constant(np.concatenate([b[1] for b in biases]).astype(w.dtype), before=anchor)
        inputs.append(bv)
        lines[0] = lines[0].replace(") -> (", f", %b: {bv.type}) -> (", 1)
        rank = len(outs[0])
        ident = ", ".join(f"d{i}" for i in range(rank))
        iters = ", ".join(['"parallel"'] * rank)
        lines.append(f"  %m2 = linalg.generic {{indexing_maps = [affine_map<({ident}) -> ({ident})>, "
                     f"affine_map<({ident}) -> (d{rank - 1})>, affine_map<({ident}) -> ({ident})>], "
                     f"iterator_types = [{iters}]}} ins(%m, %b : {out_t}, {bv.type}) outs(%e : {out_t}) {{\n"
                     f"  ^bb0(%a: {elem}, %c: {elem}, %o: {elem}):\n    %s = arith.addf %a, %c : {elem}\n"
                     f"    linalg.yield %s : {elem}\n  }} -> {out_t}")
    src = "%m2" if with_bias else "%m"
    off, names = 0, []
    rank = len(outs[0])
    for k, (op, s) in enumerate(zip(ops, outs)):
        offs = ", ".join(["0"] * (rank - 1) + [str(off)])
        sizes = ", ".join(map(str, s))
        strides = ", ".join(["1"] * rank)
        lines.append(f"  %s{k} = tensor.extract_slice {src}[{offs}] [{sizes}] [{strides}] : {out_t} to "
                     f"{op.results[0].type}")
        names.append(f"%s{k}")
        off += s[-1]
    lines.append(f"  return {', '.join(names)} : {', '.join(str(op.results[0].type) for op in ops)}")
    lines.append("}")
    new = _ir.splice(anchor, "\n".join(lines), inputs)
    old = [b[0].results[0] for b in biases] if with_bias else [op.results[0] for op in ops]
    replace_results(view, old, new)


def _last_dim_split(view: GraphView, value: ir.Value):
    """The ``extract_slice`` users of ``value`` in offset order if they are its only users and cut
    it into ``g >= 2`` equal, disjoint, covering pieces along the last dim only; else None."""
    shape = list(shape_of(value))
    users = view.users(value)
    if len(users) < 2 or view.num_uses(value) != len(users):
        return None
    cuts = []
    for u in users:
        if u.name != "tensor.extract_slice" or len(u.operands) != 1:
            return None
        offs = list(ir.DenseI64ArrayAttr(u.attributes["static_offsets"]))
        sizes = list(ir.DenseI64ArrayAttr(u.attributes["static_sizes"]))
        strides = list(ir.DenseI64ArrayAttr(u.attributes["static_strides"]))
        if any(s != 1 for s in strides) or sizes[:-1] != shape[:-1] or any(offs[:-1]) or \
                list(shape_of(u.results[0])) != sizes:
            return None
        cuts.append((offs[-1], sizes[-1], u))
    cuts.sort(key=lambda c: c[0])
    n = cuts[0][1]
    if any(c[1] != n or c[0] != j * n for j, c in enumerate(cuts)) or n * len(cuts) != shape[-1]:
        return None
    return [c[2] for c in cuts]


def restack(module: ir.Module, entry: str | None = None) -> int:
    """Rewrite merged contractions in the concatenated form into the stacked form.

    A ``matmul``/``batch_matmul`` with a constant RHS into a fill (optionally followed by a
    constant bias-add along N) whose result is only read by equal last-dim slices that tile it —
    what the egglog search realizes for a Q/K/V merge — becomes the stacked contraction whose
    pieces are contiguous (see :data:`FORM`). Returns how many were rewritten."""
    done = 0
    while True:
        view = GraphView(module, entry)
        for op in view.ops:
            if op.name not in _CONTRACTIONS or len(op.results) != 1:
                continue
            # a necessary condition of _last_dim_split below, checked first: _linear and _bias_add
            # evaluate the constant weights (the result or its one user's is cut by >= 2 slices)
            r = op.results[0]
            users = view.users(r)
            tops = [r, users[0].results[0]] if len(users) == 1 and len(users[0].results) == 1 else [r]
            if not any(len(us) >= 2 and all(u.name == "tensor.extract_slice" for u in us)
                       for us in (view.users(t) for t in tops)):
                continue
            lin = _linear(view, op)
            if lin is None:
                continue
            ba = _bias_add(view, op)
            top = ba[0].results[0] if ba is not None else op.results[0]
            slices = _last_dim_split(view, top)
            if slices is None:
                continue
            g = len(slices)
            outs = [shape_of(s.results[0]) for s in slices]
            fill_scalar = view.producer(op.operands[2]).operands[0]
            st = _stacked([str(s.results[0].type) for s in slices], np.split(lin[1], g, axis=-1),
                          np.split(ba[1], g) if ba is not None else None, outs, op.operands[0], fill_scalar, op)
            if st is None:
                continue
            new = _ir.splice(op, "\n".join(st[0]), st[1])
            replace_results(view, [s.results[0] for s in slices], new)
            done += 1
            break
        else:
            return done


def _example(label: str, m: int, k: int, ns: list[int], batched: bool, seed: int) -> Example:
    rng = np.random.default_rng(seed)
    lhs = f"tensor<1x{m}x{k}xf32>" if batched else f"tensor<{m}x{k}xf32>"
    body, rets, types = [], [], []
    for j, n in enumerate(ns):
        w = rng.standard_normal((n, k)).astype(np.float32)  # torch layout [out, in]
        b = rng.standard_normal((n,)).astype(np.float32)
        body.append(f"  %w{j} = arith.constant {dense(w)}")
        body.append(f"  %b{j} = arith.constant {dense(b)}")
        body.append(f"  %te{j} = tensor.empty() : tensor<{k}x{n}xf32>")
        body.append(f"  %wt{j} = linalg.transpose ins(%w{j} : tensor<{n}x{k}xf32>) outs(%te{j} : tensor<{k}x{n}xf32>) permutation = [1, 0]")
        if batched:
            out = f"tensor<1x{m}x{n}xf32>"
            body.append(f"  %be{j} = tensor.empty() : tensor<1x{k}x{n}xf32>")
            body.append(f"  %wb{j} = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = [\"parallel\", \"parallel\", \"parallel\"]}} ins(%wt{j} : tensor<{k}x{n}xf32>) outs(%be{j} : tensor<1x{k}x{n}xf32>) {{\n  ^bb0(%in: f32, %o: f32):\n    linalg.yield %in : f32\n  }} -> tensor<1x{k}x{n}xf32>")
            rhs, rhs_t, mm = f"%wb{j}", f"tensor<1x{k}x{n}xf32>", "linalg.batch_matmul"
            bmap = "affine_map<(d0, d1, d2) -> (d2)>"
            idmap = "affine_map<(d0, d1, d2) -> (d0, d1, d2)>"
            iters = '"parallel", "parallel", "parallel"'
        else:
            out = f"tensor<{m}x{n}xf32>"
            rhs, rhs_t, mm = f"%wt{j}", f"tensor<{k}x{n}xf32>", "linalg.matmul"
            bmap = "affine_map<(d0, d1) -> (d1)>"
            idmap = "affine_map<(d0, d1) -> (d0, d1)>"
            iters = '"parallel", "parallel"'
        body.append(f"  %e{j} = tensor.empty() : {out}")
        body.append(f"  %f{j} = linalg.fill ins(%zero : f32) outs(%e{j} : {out}) -> {out}")
        body.append(f"  %mm{j} = {mm} ins(%x, {rhs} : {lhs}, {rhs_t}) outs(%f{j} : {out}) -> {out}")
        body.append(f"  %r{j} = linalg.generic {{indexing_maps = [{idmap}, {bmap}, {idmap}], iterator_types = [{iters}]}} ins(%mm{j}, %b{j} : {out}, tensor<{n}xf32>) outs(%e{j} : {out}) {{\n  ^bb0(%a: f32, %c: f32, %o: f32):\n    %s = arith.addf %a, %c : f32\n    linalg.yield %s : f32\n  }} -> {out}")
        rets.append(f"%r{j}")
        types.append(out)
    text = (f"func.func @main(%x: {lhs}) -> ({', '.join(types)}) {{\n  %zero = arith.constant 0.0 : f32\n"
            + "\n".join(body) + f"\n  return {', '.join(rets)} : {', '.join(types)}\n}}\n")
    return Example(label, text)


def examples() -> list[Example]:
    """Q/K/V-like groups: batched (torch nn.Linear on 3-D input) and plain 2-D matmuls, of equal
    widths (the stacked form) and unequal ones (the concatenated form)."""
    return [_example("batch_matmul 1x8x16 -> 3x[16]", 8, 16, [16, 16, 16], True, 0),
            _example("batch_matmul 1x5x12 -> [8,4]", 5, 12, [8, 4], True, 1),
            _example("matmul 7x9 -> [6,10,3]", 7, 9, [6, 10, 3], False, 2),
            _example("matmul 6x10 -> 2x[7] (stacked)", 6, 10, [7, 7], False, 3)]


RULES = [
    Rule("merge-parallel-matmuls", "merge",
         "matmuls sharing an LHS with constant RHS -> one matmul on concatenated weights + slices",
         match, apply, examples),
]
