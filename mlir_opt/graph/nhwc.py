"""Whole-graph NCHW -> NHWC layout pass (issue #4, layout).

IREE's CPU backend runs channels-last convolutions faster than channels-first ones (see
docs/layout-search.md for the measured figures), but converting one convolution at a time
(``conv-nchw-to-nhwc``) adds two transposes per conv that only pay off once *every* op between
two convolutions has been converted too. This pass does the whole conversion as one step:

* ``linalg.conv_2d_nchw_fchw`` -> ``linalg.conv_2d_nhwc_hwcf`` (a constant filter transposed to HWCF
  with numpy), ``linalg.depthwise_conv_2d_nchw_chw`` -> ``linalg.depthwise_conv_2d_nhwc_hwc``;
* ``linalg.pooling_nchw_{max,sum}`` -> ``linalg.pooling_nhwc_{max,sum}``;
* a static rank-4 ``tensor.pad`` and a ``tensor.concat dim(1)`` of converted values;
* any ``linalg.generic`` over a rank-4 iteration space that reads a converted value through the
  identity map (elementwise ops, residual adds, batch-norm chains, global-average-pool reductions):
  its iteration space is permuted to (n, h, w, c), its indexing maps renamed accordingly, rank-4
  constants transposed with numpy; a rank-4 result becomes NHWC;
* an accumulator or output initialiser (``linalg.fill``, ``linalg.broadcast`` or a broadcasting
  generic of a per-channel vector) is rebuilt in NHWC directly.

Every converted op's result is followed by a transpose back to NCHW for the ops that stay
channels-first; a converted consumer reads through that transpose, so the transposes between two
converted ops vanish (dead-code elimination). What is left: one transpose where the graph enters
the NHWC region (usually the model input) and one where it leaves it, if the leaving op is not
convertible (e.g. a ``collapse_shape`` before the classifier).

The pass is exact (a relabelling of dimensions); it is also registered as the opt-in rule
``to-nhwc`` (:mod:`.rules.channels`), so every search can take it as one macro step, and it is
verified numerically like every rule.
"""

from __future__ import annotations

import logging
import re

import numpy as np

from .. import ir as _ir
from ..model import Model
from .view import GraphView

__all__ = ["to_nhwc", "convert_to_nhwc", "count_layout"]

log = logging.getLogger("mlir_opt.graph")
ir = _ir.ir

_TO_NHWC, _TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]
_IDENT4 = ["d0", "d1", "d2", "d3"]
_PAR4 = ", ".join(['"parallel"'] * 4)
_POOLS = {"linalg.pooling_nchw_max": "linalg.pooling_nhwc_max", "linalg.pooling_nchw_sum": "linalg.pooling_nhwc_sum"}
_CONVS = {"linalg.conv_2d_nchw_fchw": ("linalg.conv_2d_nhwc_hwcf", (2, 3, 1, 0)),
          "linalg.depthwise_conv_2d_nchw_chw": ("linalg.depthwise_conv_2d_nhwc_hwc", (1, 2, 0))}


def _op(owner) -> ir.Operation:
    return owner.operation if hasattr(owner, "operation") else owner


def _producer(v: ir.Value) -> ir.Operation | None:
    return None if isinstance(v, ir.BlockArgument) else _op(v.owner)


def _shape(v: ir.Value) -> list[int]:
    return list(ir.RankedTensorType(v.type).shape)


def _elem(v: ir.Value) -> str:
    return str(ir.RankedTensorType(v.type).element_type)


def _ttype(shape, elem: str) -> str:
    return "tensor<" + "x".join(map(str, shape)) + f"x{elem}>"


def _rank4(v: ir.Value) -> bool:
    try:
        t = ir.RankedTensorType(v.type)
    except ValueError:
        return False
    return t.rank == 4 and t.has_static_shape


def _nhwc_type(v: ir.Value) -> str:
    s = _shape(v)
    return _ttype([s[i] for i in _TO_NHWC], _elem(v))


def _perm(op: ir.Operation) -> list[int]:
    return _ir.int_array_attr(op, "permutation")


def _rename(expr: str) -> str:
    """An affine expression over the NCHW iteration dims, rewritten over the NHWC dims."""
    return re.sub(r"\bd(\d+)\b", lambda m: f"d{_TO_NCHW[int(m.group(1))]}", expr)


def _amap(results) -> str:
    return f"affine_map<(d0, d1, d2, d3) -> ({', '.join(results)})>"


def _sd_attrs(op: ir.Operation) -> str:
    return ", ".join(f"{k} = {op.attributes[k]}" for k in ("dilations", "strides") if k in op.attributes)


class _Converter:
    """One pass over the entry function of ``module``, converting ops in block order."""

    def __init__(self, module: ir.Module, entry: str | None):
        self.view = GraphView(module, entry)
        self.orig = set(self.view.index)
        self.converted = 0

    # -- values in NHWC -----------------------------------------------------------------------

    def back_source(self, v: ir.Value) -> ir.Value | None:
        """``x`` if ``v = transpose(x, [0, 3, 1, 2])`` (an NHWC value seen as NCHW)."""
        p = _producer(v)
        if p is not None and p.name == "linalg.transpose" and _perm(p) == _TO_NCHW:
            return p.operands[0]
        return None

    def const(self, v: ir.Value) -> np.ndarray | None:
        p = _producer(v)
        if p is None or p not in self.orig:
            return None
        return self.view.const_value(v)

    def nhwc_of(self, v: ir.Value, anchor: ir.Operation) -> ir.Value:
        """``v`` (rank-4 NCHW) in NHWC, built before ``anchor`` as cheaply as possible."""
        src = self.back_source(v)
        if src is not None:
            return src
        p = _producer(v)
        if p is not None and p.name == "tensor.empty":
            return _ir.splice(anchor, f"func.func @s() -> {_nhwc_type(v)} {{\n  %e = tensor.empty() : "
                                      f"{_nhwc_type(v)}\n  return %e : {_nhwc_type(v)}\n}}", [])[0]
        if p is not None and p.name == "linalg.fill" and len(p.operands) == 2:
            s = p.operands[0]
            t = _nhwc_type(v)
            return _ir.splice(anchor, f"func.func @s(%s: {s.type}) -> {t} {{\n  %e = tensor.empty() : {t}\n"
                                      f"  %f = linalg.fill ins(%s : {s.type}) outs(%e : {t}) -> {t}\n"
                                      f"  return %f : {t}\n}}", [s])[0]
        if p is not None and p.name == "tensor.pad" and p in self.orig:
            val = self._pad_value(p)
            if val is not None:  # transpose the (smaller) unpadded input instead of the padded one
                return self._pad(p, val)
        if p is not None and p.name == "linalg.broadcast" and len(p.operands) == 2:
            new = self._broadcast(p, anchor)
            if new is not None:
                return new
        if p is not None and p.name == "linalg.generic" and self._generic_ok(p) and not any(
                _rank4(x) for x in list(p.operands)[:-1]):
            return self._generic(p, anchor, wrap=False)
        c = self.const(v)
        if c is not None:
            return _ir.make_constant(np.ascontiguousarray(np.transpose(c, _TO_NHWC)), before=anchor)
        return self.transpose(v, _TO_NHWC, anchor)

    def transpose(self, v: ir.Value, perm: list[int], anchor: ir.Operation) -> ir.Value:
        s = _shape(v)
        t = _ttype([s[i] for i in perm], _elem(v))
        return _ir.splice(anchor, f"func.func @s(%x: {v.type}) -> {t} {{\n  %e = tensor.empty() : {t}\n"
                                  f"  %t = linalg.transpose ins(%x : {v.type}) outs(%e : {t}) permutation = "
                                  f"[{', '.join(map(str, perm))}]\n  return %t : {t}\n}}", [v])[0]

    def wrap_back(self, op: ir.Operation, new: ir.Value) -> None:
        """Replace ``op``'s result by ``transpose(new)`` back to NCHW."""
        back = self.transpose(new, _TO_NCHW, op)
        op.results[0].replace_all_uses_with(back)
        self.converted += 1

    # -- ops ----------------------------------------------------------------------------------

    def _broadcast(self, p: ir.Operation, anchor: ir.Operation) -> ir.Value | None:
        x, out = p.operands[0], p.results[0]
        if not _rank4(out):
            return None
        added = _ir.int_array_attr(p, "dimensions")
        kept = [d for d in range(4) if d not in added]
        new_dims = [_TO_NCHW[d] for d in kept]
        if new_dims != sorted(new_dims):
            return None
        t, e = _nhwc_type(out), _elem(out)
        return _ir.splice(anchor, f"func.func @s(%x: {x.type}) -> {t} {{\n  %e = tensor.empty() : {t}\n"
                                  f"  %b = linalg.generic {{indexing_maps = [{_amap([f'd{d}' for d in new_dims])}, "
                                  f"{_amap(_IDENT4)}], iterator_types = [{_PAR4}]}} "
                                  f"ins(%x : {x.type}) outs(%e : {t}) {{\n  ^bb0(%a: {e}, %o: {e}):\n"
                                  f"    linalg.yield %a : {e}\n  }} -> {t}\n  return %b : {t}\n}}", [x])[0]

    def _generic_ok(self, g: ir.Operation) -> bool:
        if len(g.results) != 1 or len(g.regions) != 1:
            return False
        # ``linalg.index d`` in the body names an iteration dim: permuting the dims would change it
        if any(_op(o).name == "linalg.index" for o in g.regions[0].blocks[0].operations):
            return False
        maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
        if any(n != 4 for n, _ in maps) or len(maps) != len(g.operands):
            return False
        if any("s" in "".join(r) for _, r in maps):  # symbols: leave alone
            return False
        out = g.results[0]
        if _rank4(out):
            return maps[-1][1] == _IDENT4
        try:
            ir.RankedTensorType(out.type)
        except ValueError:
            return False
        return True

    def generic_trigger(self, g: ir.Operation) -> bool:
        """A rank-4 generic reading a converted value through the identity map."""
        if g.name != "linalg.generic" or not self._generic_ok(g):
            return False
        maps = [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
        n_in = len(g.operands) - 1
        return any(maps[k] == _IDENT4 and _rank4(g.operands[k]) and self.back_source(g.operands[k]) is not None
                   for k in range(n_in))

    def _generic(self, g: ir.Operation, anchor: ir.Operation, *, wrap: bool = True) -> ir.Value | None:
        maps = [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
        iters = ['"parallel"' if "parallel" in str(a) else '"reduction"'
                 for a in ir.ArrayAttr(g.attributes["iterator_types"])]
        iters = [iters[i] for i in _TO_NHWC]
        operands = list(g.operands)
        n_in = len(operands) - 1
        new_vals, new_maps = [], []
        for k, v in enumerate(operands):
            res = [_rename(e) for e in maps[k]]
            if k == n_in and _rank4(g.results[0]):
                new_vals.append(self.nhwc_of(v, anchor))
                new_maps.append(_IDENT4)
                continue
            if k < n_in and _rank4(v):
                src = self.back_source(v)
                c = None if src is not None else self.const(v)
                if src is not None or c is not None:
                    new_vals.append(src if src is not None else _ir.make_constant(
                        np.ascontiguousarray(np.transpose(c, _TO_NHWC)), before=anchor))
                    new_maps.append([res[i] for i in _TO_NHWC])
                    continue
            new_vals.append(v)
            new_maps.append(res)
        out_t = str(new_vals[-1].type)
        elem_args = []
        for k, v in enumerate(new_vals):
            try:
                elem_args.append(f"%a{k}: {ir.RankedTensorType(v.type).element_type}")
            except ValueError:
                elem_args.append(f"%a{k}: {v.type}")
        yt = ir.RankedTensorType(new_vals[-1].type).element_type
        ins = ", ".join(f"%x{k}" for k in range(n_in))
        snippet = (f"func.func @s({', '.join(f'%x{k}: {v.type}' for k, v in enumerate(new_vals))}) -> {out_t} {{\n"
                   f"  %g = linalg.generic {{indexing_maps = [{', '.join(_amap(m) for m in new_maps)}], "
                   f"iterator_types = [{', '.join(iters)}]}} "
                   + (f"ins({ins} : {', '.join(str(v.type) for v in new_vals[:-1])}) " if n_in else "")
                   + f"outs(%x{n_in} : {out_t}) {{\n  ^bb0({', '.join(elem_args)}):\n    linalg.yield %a{n_in} : {yt}\n"
                   f"  }} -> {out_t}\n  return %g : {out_t}\n}}")
        new = _ir.splice(anchor, snippet, new_vals)[0]
        _ir.copy_body(g, _producer(new), before=_producer(new))
        if not wrap:
            return new
        if _rank4(g.results[0]):
            self.wrap_back(g, new)
        else:
            g.results[0].replace_all_uses_with(new)
            self.converted += 1
        return new

    def _conv(self, op: ir.Operation) -> None:
        new_name, fperm = _CONVS[op.name]
        x, f, init = op.operands
        xn = self.nhwc_of(x, op)
        fc = self.const(f)
        fs = _shape(f)
        ft = _ttype([fs[i] for i in fperm], _elem(f))
        if fc is not None:
            fn = _ir.make_constant(np.ascontiguousarray(np.transpose(fc, fperm)), before=op)
        else:
            fn = self.transpose(f, list(fperm), op)
        initn = self.nhwc_of(init, op)
        attrs = _sd_attrs(op)
        ot = str(initn.type)
        new = _ir.splice(op, f"func.func @s(%x: {xn.type}, %f: {ft}, %i: {ot}) -> {ot} {{\n"
                             f"  %r = {new_name} {{{attrs}}} ins(%x, %f : {xn.type}, {ft}) outs(%i : {ot}) -> {ot}\n"
                             f"  return %r : {ot}\n}}", [xn, fn, initn])[0]
        self.wrap_back(op, new)

    def _pool(self, op: ir.Operation) -> None:
        x, win, init = op.operands
        xn, initn = self.nhwc_of(x, op), self.nhwc_of(init, op)
        attrs = _sd_attrs(op)
        ot = str(initn.type)
        new = _ir.splice(op, f"func.func @s(%x: {xn.type}, %w: {win.type}, %i: {ot}) -> {ot} {{\n"
                             f"  %r = {_POOLS[op.name]} {{{attrs}}} ins(%x, %w : {xn.type}, {win.type}) "
                             f"outs(%i : {ot}) -> {ot}\n  return %r : {ot}\n}}", [xn, win, initn])[0]
        self.wrap_back(op, new)

    def _pad_value(self, pad: ir.Operation) -> ir.Value | None:
        if len(pad.operands) != 1 or not _rank4(pad.results[0]):
            return None
        body = [_op(o) for o in pad.regions[0].blocks[0].operations]
        if len(body) != 1 or body[0].name != "tensor.yield":
            return None
        v = body[0].operands[0]
        if isinstance(v, ir.BlockArgument):
            return None
        return v

    def _pad(self, pad: ir.Operation, val: ir.Value) -> ir.Value:
        src = self.nhwc_of(pad.operands[0], pad)
        lo, hi = _ir.int_array_attr(pad, "static_low"), _ir.int_array_attr(pad, "static_high")
        t = _nhwc_type(pad.results[0])
        idx = ", ".join(f"%i{k}: index" for k in range(4))
        new = _ir.splice(pad, f"func.func @s(%x: {src.type}, %v: {val.type}) -> {t} {{\n"
                              f"  %p = tensor.pad %x low[{', '.join(str(lo[i]) for i in _TO_NHWC)}] "
                              f"high[{', '.join(str(hi[i]) for i in _TO_NHWC)}] {{\n  ^bb0({idx}):\n"
                              f"    tensor.yield %v : {val.type}\n  }} : {src.type} to {t}\n  return %p : {t}\n}}",
                         [src, val])[0]
        self.wrap_back(pad, new)
        return new

    def _concat(self, op: ir.Operation) -> None:
        xs = [self.nhwc_of(v, op) for v in op.operands]
        t = _nhwc_type(op.results[0])
        args = ", ".join(f"%x{k}: {v.type}" for k, v in enumerate(xs))
        new = _ir.splice(op, f"func.func @s({args}) -> {t} {{\n  %c = tensor.concat dim(3) "
                             f"{', '.join(f'%x{k}' for k in range(len(xs)))} : "
                             f"({', '.join(str(v.type) for v in xs)}) -> {t}\n  return %c : {t}\n}}", xs)[0]
        self.wrap_back(op, new)

    # -- driver -------------------------------------------------------------------------------

    def convertible_convs(self) -> list[ir.Operation]:
        return [op for op in self.view.ops if op.name in _CONVS and self._conv_ok(op)]

    def _conv_ok(self, op: ir.Operation) -> bool:
        return (len(op.operands) == 3 and len(op.results) == 1 and all(_rank4(v) for v in (op.operands[0], op.operands[2]))
                and all(d >= 0 for d in _shape(op.operands[1])))

    def run(self) -> int:
        if not self.convertible_convs():
            return 0
        for op in list(self.view.ops):
            name = op.name
            if name in _CONVS and self._conv_ok(op):
                self._conv(op)
            elif name in _POOLS and len(op.operands) == 3 and _rank4(op.operands[0]):
                self._pool(op)
            elif name == "tensor.pad" and self.back_source(op.operands[0]) is not None:
                val = self._pad_value(op)
                if val is not None:
                    self._pad(op, val)
            elif (name == "tensor.concat" and _rank4(op.results[0]) and ir.IntegerAttr(op.attributes["dim"]).value == 1
                  and any(self.back_source(v) is not None for v in op.operands)):
                self._concat(op)
            elif self.generic_trigger(op):
                self._generic(op, op)
        _ir.erase_dead(self.view.block)
        log.info("to-nhwc: %d ops converted to NHWC", self.converted)
        return self.converted


def convert_to_nhwc(module: ir.Module, entry: str | None = None) -> int:
    """Convert the entry function of ``module`` to NHWC in place; returns the number of ops converted
    (0 when it has no channels-first convolution)."""
    return _Converter(module, entry).run()


def to_nhwc(model: Model) -> tuple[Model, int]:
    """A copy of ``model`` converted to NHWC, and the number of ops converted."""
    from . import prepare

    m = prepare(model)
    n = convert_to_nhwc(m.module, m.entry)
    m.verify()
    return m, n


def count_layout(model: Model) -> dict[str, int]:
    """Transposes and channels-first / channels-last ops of ``model``'s entry function."""
    ops = [op.name for op in GraphView(model).ops]
    return {"transpose": ops.count("linalg.transpose"), "nchw": sum("nchw" in n for n in ops),
            "nhwc": sum("nhwc" in n for n in ops)}
