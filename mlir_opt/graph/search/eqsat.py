"""Equality saturation with egglog (TENSAT-style): all rewrites at once, then cost-based extraction.

1. **Translate** the entry function (:class:`GraphView`) into terms of the language of
   :mod:`.egg_rules`: contractions, convolutions, bias-adds, per-channel affine links, transposes
   become typed constructors where the MLIR rule's preconditions on that op hold; weight-only
   values become ``Leaf`` terms (by identity); every other op an opaque ``Op`` node keyed by its
   index with all values it reads as children, so any graph round-trips.
2. **Saturate** with the egglog counterparts of the verified MLIR rules (named rulesets, one per
   family) under node / iteration / time limits, in egglog's Rust engine (program text through
   ``egglog.bindings``).
3. **Extract** the cheapest graph, DAG-aware (a shared node counts once), as a 0-1 integer
   program over the serialized e-graph (``scipy.optimize.milp``, HiGHS), like TENSAT: greedy
   extraction — even egglog's ``greedy_dag_cost_model`` — cannot pick a multi-pattern merge
   (each of Q, K, V alone is cheaper than the merged matmul; only together are they cheaper).
   Node costs follow :mod:`..cost`'s roofline: dispatches cost ``max(flops/peak, bytes/bw) +
   launch``, an elementwise op is fused into its producer's dispatch (no launch, only its extra
   bytes) when the producer it reads is a dispatch — a linear penalty models the other case —,
   constants, reshapes and slices are free. Cycles (``transpose∘transpose = id``) are excluded by
   level constraints on the classes of cyclic components. By default the program is solved in
   independent parts after fixing what every acyclic selection implies (``ilp_decompose``).
4. **Realize** the extracted term as MLIR: nodes identical to an original op (same constructor,
   literals and realized operands) reuse it; opaque and affine ops whose operands changed are
   cloned with remapped operands; new contractions, convolutions, bias-adds, slices and
   transposes are spliced from MLIR snippets; constant expressions are evaluated with numpy.
   Dead ops are erased and the module verified. The result is costed with :mod:`..cost`; it is
   returned only if it is not costlier than the input.
"""

from __future__ import annotations

import binascii
import gc
import hashlib
import json
import logging
import math
import operator
import os
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ... import ir as _ir
from ...errors import MlirOptError
from ...model import Model
from .. import GraphResult, prepare
from ..cost import (CostModel, Roofline, _FREE, _all_parallel, _flops, _is_elementwise, _is_nchw_conv, _is_streaming_matvec,
                    _nbytes, _nchw_slowdown, _streams_weights, _type_info, _unit_reshape, analyze)
from ..rules.fold import _affine_link, _per_channel
from ..rules.conv import LAYOUTS, conv_info
from ..rules.merge import _DEFAULT_MAPS, restack
from ..rules.base import is_add_body
from ..rules.algebra import _link as _sb_link, splice_scale_bias
from ..view import GraphView, _attrs
from .common import clone_module, setup
from .egg_load import bulk_program, parse_schema
from .egg_rules import ANALYSIS, CONST_CTORS, CTORS, EGG_RULES, SCHEMA

__all__ = ["EqSatSearch", "EGraphGraph", "translate", "extract_ilp", "format_selection"]

log = logging.getLogger("mlir_opt.graph")
ir = _ir.ir

_KIND = {"linalg.matmul": 0, "linalg.batch_matmul": 1}
_KIND_NAME = {v: k for k, v in _KIND.items()}
_RESHAPES = ("tensor.expand_shape", "tensor.collapse_shape")
_LISTS = ("TCons", "TNil", "CCons", "CNil")
_TIE = 1e-6  # µs: node cost of free view ops (slices, reshapes), so that ties prefer fewer ops


def _tensor_type(t: ir.Type) -> tuple[tuple[int, ...], str]:
    """``(shape, element type)`` of a ranked tensor type (cost.py's per-context cache)."""
    info = _type_info(t)
    if info is None:
        raise ValueError(f"not a ranked tensor type: {t}")
    return info[0], info[2]


def _shape(v: ir.Value) -> tuple[int, ...]:
    return _tensor_type(v.type)[0]


def _elem(v: ir.Value) -> str:
    return _tensor_type(v.type)[1]


def _ttype(shape, elem: str) -> str:
    return "tensor<" + "x".join([*map(str, shape), elem]) + ">"


# ------------------------------------------------------------------------------------------------
# 1. Translation


@dataclass
class EGraphGraph:
    """A graph translated to egglog: the program text and the tables behind its literals."""

    view: GraphView
    values: list[ir.Value] = field(default_factory=list)  # value id -> value
    vid: dict = field(default_factory=dict)  # value -> value id
    lines: list[str] = field(default_factory=list)
    orig: dict = field(default_factory=dict)  # (ctor, items) -> original value
    links: dict[int, tuple] = field(default_factory=dict)  # op index -> (binop, x_first, vector)
    conv_attrs: list[tuple[str, str, str]] = field(default_factory=list)  # (op name, attrs, elem)
    conv_geo: list[tuple[tuple, tuple]] = field(default_factory=list)  # (strides, dilations) per attrs
    pads: list[tuple[tuple, tuple]] = field(default_factory=list)  # pad spec id -> (low, high)
    fshapes: list[tuple] = field(default_factory=list)  # fsh id -> (op name, filter shape w/o F, elem)
    bodies: list[tuple] = field(default_factory=list)  # Ew body id -> (body key, representative op index)
    shapes: list[tuple] = field(default_factory=list)  # shape id (Rs, shp) -> (shape, elem)
    sb_consts: list[tuple] = field(default_factory=list)  # CK id -> (float64 array, keepdims compact; elem)
    zeros: list[str] = field(default_factory=list)  # names of f32 zero scalar leaves
    c1: list[tuple] = field(default_factory=list)  # 1x1 NHWC convs: (y, x, w, b, sx, sy, sp, bias?)

    def shape_id(self, v: ir.Value) -> int:
        return self.shape_key_id(_shape(v), _elem(v))

    def shape_key_id(self, shape, elem: str) -> int:
        key = (tuple(shape), elem)
        if key not in self.shapes:
            self.shapes.append(key)
        return self.shapes.index(key)
    perms: list[tuple[int, ...]] = field(default_factory=list)
    roots: list[ir.Value] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)  # what the translation made, for stats
    term_of: dict = field(default_factory=dict)  # value -> (ctor, items) of its original term

    def id_of(self, v: ir.Value) -> int:
        if v not in self.vid:
            self.vid[v] = len(self.values)
            self.values.append(v)
        return self.vid[v]

    def name(self, v: ir.Value) -> str:
        return f"$v{self.id_of(v)}"

    def pad_id(self, lo, hi) -> int:
        key = (tuple(lo), tuple(hi))
        if key not in self.pads:
            self.pads.append(key)
        return self.pads.index(key)

    def perm_id(self, p) -> int:
        p = tuple(p)
        if p not in self.perms:
            self.perms.append(p)
        return self.perms.index(p)


def _bias_vector(view: GraphView, g: ir.Operation):
    """``(x, b)`` if ``g`` is ``x + b`` with a constant 1-D ``b`` along the last dim (merge.py's form)."""
    if g.name != "linalg.generic" or len(g.operands) != 3 or len(g.results) != 1:
        return None
    x, b, _ = g.operands
    if str(g.results[0].type) != str(x.type) or view.is_constant(x):
        return None
    rank = len(_shape(x))
    maps = [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    ident = [f"d{i}" for i in range(rank)]
    if not _all_parallel(g.attributes["iterator_types"]):
        return None
    if maps[0] != ident or maps[2] != ident or maps[1] != [f"d{rank - 1}"]:
        return None
    bv = view.const_value(b)
    if bv is None or bv.ndim != 1:
        return None
    if not is_add_body(g):
        return None
    return x, b


def _matmul(view: GraphView, op: ir.Operation):
    """``(kind, lhs, rhs, fill scalar, rhs is a constant)`` for a default-maps contraction with a
    non-constant LHS and a constant fill (merge.py merges those with constant RHS), else None."""
    if op.name not in _KIND or len(op.operands) != 3 or len(op.results) != 1 or "cast" in op.attributes:
        return None
    if "indexing_maps" in op.attributes:  # transposed/broadcast variants are not handled
        maps = [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(op.attributes["indexing_maps"])]
        if maps != _DEFAULT_MAPS[op.name]:
            return None
    lhs, rhs, init = op.operands
    fill = view.producer(init)
    if fill is None or fill.name != "linalg.fill" or view.is_constant(lhs) or _elem(lhs) != "f32":
        return None
    if not view.is_constant(fill.operands[0]):
        return None
    w = view.const_value(rhs)
    mergeable = w is not None and w.ndim == len(_shape(rhs)) and w.dtype == np.float32
    return _KIND[op.name], lhs, rhs, fill.operands[0], mergeable


def _conv(view: GraphView, op: ir.Operation):
    """``(x, filter, init, info)`` for a 2-D convolution (either layout) with a constant filter and
    an accumulator constant per output channel (what the conv and fold rules need), else None."""
    if op.name not in LAYOUTS or len(op.operands) != 3 or len(op.results) != 1:
        return None
    if _elem(op.results[0]) not in ("f32", "f16") or view.is_constant(op.operands[0]):
        return None
    c = conv_info(view, op)
    if c is None or c.filt is None or c.bias is None or len(set(c.types)) != 1:
        return None
    return op.operands[0], op.operands[1], op.operands[2], c


def _add(view: GraphView, g: ir.Operation):
    """``(a, b)`` if ``g`` is ``a + b`` of two non-constant tensors of its type, identity maps."""
    if g.name != "linalg.generic" or len(g.operands) != 3 or len(g.results) != 1:
        return None
    a, b, _ = g.operands
    t = str(g.results[0].type)
    if str(a.type) != t or str(b.type) != t or view.is_constant(a) or view.is_constant(b):
        return None
    rank = len(_shape(a))
    ident = [f"d{i}" for i in range(rank)]
    maps = [_ir.affine_map_results(m)[1] for m in ir.ArrayAttr(g.attributes["indexing_maps"])]
    if maps != [ident] * 3 or not _all_parallel(g.attributes["iterator_types"]):
        return None
    block = g.regions[0].blocks[0]
    body = [o.operation for o in block.operations]
    if len(body) != 2 or body[0].name != "arith.addf" or body[1].operands[0] != body[0].results[0]:
        return None
    if [v for v in body[0].operands] not in ([block.arguments[0], block.arguments[1]],
                                             [block.arguments[1], block.arguments[0]]):
        return None
    return a, b


def _slice1(op: ir.Operation):
    """``(x, [(dim, offset, size) per cut dim], shape of x)`` of a static unit-stride extract_slice."""
    if op.name != "tensor.extract_slice" or len(op.operands) != 1 or len(op.results) != 1:
        return None
    try:
        offs, sizes = _ir.int_array_attr(op, "static_offsets"), _ir.int_array_attr(op, "static_sizes")
        strides, src = _ir.int_array_attr(op, "static_strides"), _shape(op.operands[0])
    except (KeyError, ValueError):
        return None
    if len(sizes) != len(src) or _shape(op.results[0]) != tuple(sizes) or any(v != 1 for v in strides):
        return None
    if any(v < 0 for v in offs + sizes + list(src)):
        return None
    cut = [d for d in range(len(src)) if offs[d] != 0 or sizes[d] != src[d]] or [len(src) - 1]
    return op.operands[0], [(d, offs[d], sizes[d]) for d in cut], src


def _unary_ew(view: GraphView, g: ir.Operation):
    """``(x, body key)`` of a unary elementwise generic (identity maps, all parallel), else None."""
    if g.name != "linalg.generic" or len(g.operands) != 2 or len(g.results) != 1:
        return None
    try:
        rank = len(_shape(g.results[0]))
        if len(_shape(g.operands[0])) != rank:
            return None
    except ValueError:
        return None
    if not _all_parallel(g.attributes["iterator_types"]):
        return None
    ident = [f"d{i}" for i in range(rank)]
    maps = [_ir.affine_map_results(a)[1] for a in ir.ArrayAttr(g.attributes["indexing_maps"])]
    if maps != [ident, ident] or view.is_constant(g.operands[0]):
        return None
    return g.operands[0], (view._region_key(g), _elem(g.operands[0]), _elem(g.results[0]))


def _zero_pad(view: GraphView, op: ir.Operation):
    """``(low, high)`` of a static, non-negative zero ``tensor.pad``, else None."""
    if op.name != "tensor.pad" or len(op.operands) != 1 or len(op.results) != 1:
        return None
    try:
        lo, hi = _ir.int_array_attr(op, "static_low"), _ir.int_array_attr(op, "static_high")
    except (KeyError, ValueError):
        return None
    if any(v < 0 for v in lo + hi):
        return None
    body = [o.operation for o in op.regions[0].blocks[0].operations]
    if len(body) != 1 or body[0].name != "tensor.yield":
        return None
    z = view.const_value(body[0].operands[0])
    if z is None or np.asarray(z).size != 1 or float(np.asarray(z).reshape(-1)[0]) != 0.0:
        return None
    return tuple(lo), tuple(hi)


def translate(view: GraphView, *, fold: bool = True) -> EGraphGraph:
    """The egglog ``let`` bindings of every value of ``view`` (see the module docs).

    ``fold``: whether the batch-norm fold is among the rules; conv merges then take the convs at
    the end of their affine chains (``MergeOK``), so that partly folded variants are not merged
    in every combination."""
    g = EGraphGraph(view)
    lines = g.lines
    blk = view.block

    def leaf(v: ir.Value) -> str:
        n = g.name(v)
        i = g.vid[v]
        lines.append(f"(let {n} (Leaf {i})) (Val {n} {i})")
        g.orig[("Leaf", (str(i),))] = v
        g.term_of[v] = ("Leaf", (str(i),))
        try:
            s = _shape(v)
        except ValueError:
            s = ()
        if not s and not isinstance(v.type, ir.RankedTensorType):
            z = view.const_value(v)
            if z is not None and np.asarray(z).size == 1 and float(np.asarray(z).reshape(-1)[0]) == 0.0:
                lines.append(f"(ZeroS {n})")
                if str(v.type) == "f32":
                    g.zeros.append(n)
        if s:
            lead = zlib.crc32(repr((s[:-1], _elem(v))).encode())  # stable across processes
            lines.append(f"(set (ncols {n}) {s[-1]}) (set (lead {n}) {lead}) (set (wid {n}) {i})")
        g.kinds["Leaf"] = g.kinds.get("Leaf", 0) + 1
        return n

    def bind(v: ir.Value, ctor: str, items: tuple, text: str) -> None:
        """``items``: literals (as str) and operand values in the constructor's argument order."""
        lines.append(f"(let {g.name(v)} {text}) (Val {g.name(v)} {g.vid[v]})")
        g.orig[(ctor, items)] = v
        g.term_of[v] = (ctor, items)
        g.kinds[ctor] = g.kinds.get(ctor, 0) + 1

    groups: dict = {}  # merge groups: (kind, lhs, fill scalar, rhs dims but last) -> rhs value ids
    conv_groups: dict = {}  # conv merge groups: (attrs, unpadded source, in channels) -> (kernel, filter id)
    nchw32: set[str] = set()  # conv attribute sets the batch-norm fold handles
    for a in blk.arguments:
        lines.append(f"(let {g.name(a)} (Arg {a.arg_number})) (Val {g.name(a)} {g.vid[a]})")
        g.orig[("Arg", (str(a.arg_number),))] = a
    for i, op in enumerate(view.ops[:-1]):
        res = list(op.results)
        if not res:
            continue
        if all(view.is_constant(r) for r in res):
            for r in res:
                leaf(r)
            continue
        N = g.name
        if (mm := _matmul(view, op)) is not None:
            k, x, w, s, mergeable = mm
            if mergeable:
                grp = groups.setdefault((k, x, s, _shape(w)[:-1]), [])
                if g.id_of(w) not in grp:
                    grp.append(g.id_of(w))
            bind(res[0], "MM", (str(k), x, w, s), f"(MM {k} {N(x)} {N(w)} {N(s)})")
            continue
        if (cv := _conv(view, op)) is not None:
            x, w, init, info = cv
            attrs = ", ".join(f"{k} = {a}" for k, a in _attrs(op)
                              if k not in ("operandSegmentSizes", "linalg.memoized_indexing_maps"))
            key = (op.name, attrs, info.types[2])
            lay = LAYOUTS[op.name]
            if key not in g.conv_attrs:
                g.conv_attrs.append(key)
                g.conv_geo.append((info.strides, info.dilations))
                a = len(g.conv_attrs) - 1
                lines.append(f"(set (chax {a}) {lay['ch']})")
                if info.dilations == (1, 1):
                    lines.append(f"(Dil1 {a})")
                if op.name == "linalg.conv_2d_nchw_fchw" and info.types[2] == "f32":
                    lines.append(f"(Nchw32 {a})")  # what fold-batchnorm-into-conv handles
                    nchw32.add(str(a))
            a = g.conv_attrs.index(key)
            fs = list(_shape(w))
            nf = fs[lay["f_out"]]
            fs[lay["f_out"]] = -1
            fkey = (op.name, tuple(fs), info.types[1])
            if fkey not in g.fshapes:
                g.fshapes.append(fkey)
            lines.append(f"(set (fsh {N(w)}) {g.fshapes.index(fkey)}) (set (nout {N(w)}) {nf}) (Single {N(w)})")
            grp = conv_groups.setdefault((a, info.src, fs[lay["f_in"]]), [])
            if (info.kernel, g.id_of(w)) not in grp:
                grp.append((info.kernel, g.id_of(w)))
            bind(res[0], "Conv", (str(a), x, w, init), f"(Conv {a} {N(x)} {N(w)} {N(init)})")
            if op.name == "linalg.conv_2d_nhwc_hwcf" and info.kernel == (1, 1) and info.strides == (1, 1) \
                    and info.dilations == (1, 1) and set(info.types) == {"f32"}:
                n_, h_, w_, c_ = _shape(x)
                f_ = _shape(res[0])[3]
                g.c1.append((res[0], x, w, init, g.shape_key_id((n_ * h_ * w_, c_), "f32"), g.shape_id(res[0]),
                             g.shape_key_id((n_ * h_ * w_, f_), "f32"), bool(np.any(info.bias))))
            continue
        if op.name == "tensor.concat" and len(res) == 1 and all(min(_shape(v), default=0) >= 0 for v in op.operands):
            k = ir.IntegerAttr(op.attributes["dim"]).value
            lst = "(CNil)"
            for v in reversed(list(op.operands)):
                lst = f"(CCons {k} {N(v)} {lst})"
                lines.append(f"(set (dimsz {N(v)} {k}) {_shape(v)[k]})")
            bind(res[0], "Cat", (str(k), tuple(op.operands)), f"(Cat {k} {lst})")
            lines.append(f"(set (dimsz {N(res[0])} {k}) {_shape(res[0])[k]})")
            continue
        if (sl := _slice1(op)) is not None:
            x, cuts, src = sl  # one SliceD per cut dim (the realization composes them again)
            term, shp = N(x), list(src)
            for d, o, n in cuts:
                lines.append(f"(set (dimsz {term} {d}) {shp[d]})")
                shp[d] = n
                term = f"(SliceD {term} {d} {o} {n})"
            d, o, n = cuts[-1]
            inner = x if len(cuts) == 1 else None
            if inner is not None:
                bind(res[0], "SliceD", (x, str(d), str(o), str(n)), term)
            else:
                lines.append(f"(let {N(res[0])} {term}) (Val {N(res[0])} {g.vid[res[0]]})")
                g.kinds["SliceD"] = g.kinds.get("SliceD", 0) + 1
            continue
        if (ue := _unary_ew(view, op)) is not None:
            x, key = ue
            f = next((j for j, (bk, _) in enumerate(g.bodies) if bk == key), None)
            if f is None:
                g.bodies.append((key, i))
                f = len(g.bodies) - 1
            bind(res[0], "Ew", (str(f), x), f"(Ew {f} {N(x)})")
            continue
        if op.name in _RESHAPES and len(res) == 1 and len(op.operands) == 1:
            x = op.operands[0]
            try:
                sx, sr = g.shape_id(x), g.shape_id(res[0])
            except ValueError:
                sx = None
            if sx is not None:
                lines.append(f"(set (shp {N(x)}) {sx})")
                bind(res[0], "Rs", (str(i), x, str(sr)), f"(Rs {i} {N(x)} {sr})")
                continue
        if (pd := _zero_pad(view, op)) is not None and len(pd[0]) == 4:
            p = g.pad_id(*pd)
            x = op.operands[0]
            bind(res[0], "Pad", (x, str(p)), f"(Pad {N(x)} {p})")
            continue
        if op.name == "linalg.transpose" and len(res) == 1:
            p = g.perm_id(_ir.int_array_attr(op, "permutation"))
            x = op.operands[0]
            bind(res[0], "Tr", (x, str(p)), f"(Tr {N(x)} {p})")
            continue
        if op.name == "linalg.generic" and len(res) == 1:
            if (bv := _bias_vector(view, op)) is not None:
                x, b = bv
                bind(res[0], "BiasAdd", (x, b), f"(BiasAdd {N(x)} {N(b)})")
                continue
            if (ab := _add(view, op)) is not None:
                a, b = ab
                bind(res[0], "Add", (str(i), a, b), f"(Add {i} {N(a)} {N(b)})")
                continue
            link = None
            if len(op.operands) == 3:
                for p in (0, 1):
                    x = op.operands[p]
                    if view.is_constant(x):
                        continue
                    lk = _affine_link(view, op, x)
                    if lk is not None:
                        link = (x, op.operands[1 - p], lk)
                        break
            if link is not None:
                x, c, (binop, x_first, vec) = link
                g.links[i] = (binop, x_first, vec)
                kind = 0 if binop == "arith.addf" or (binop == "arith.subf" and x_first) else 1
                bind(res[0], "Aff", (str(i), str(kind), x, c), f"(Aff {i} {kind} {N(x)} {N(c)})")
                continue
        args, seen = [], set()
        for v in view.all_operands(op):
            if v not in seen:
                seen.add(v)
                args.append(v)
        lst = "(TNil)"
        for v in reversed(args):
            lst = f"(TCons {N(v)} {lst})"
        for r in res:
            k = r.result_number
            bind(r, "Op", (str(i), str(k), tuple(args)), f"(Op {i} {k} {lst})")
    if g.c1:  # conv1x1-to-matmul's facts (see egg_rules), with the graph's zero scalar if it has one
        z = g.zeros[0] if g.zeros else "(CZero)"
        for y, x, w, b, sx, sy, sp, has_bias in g.c1:
            lines.append(f"({'C1B' if has_bias else 'C1'} {g.name(y)} {g.name(x)} {g.name(w)} {g.name(b)} {z} "
                         f"{sx} {sy} {sp})")
    g.roots = list(view.ops[-1].operands)
    for ids in groups.values():
        ids.sort()
        lines.extend(f"(NextW {a} {b})" for a, b in zip(ids, ids[1:]))
    absorbed: set[int] = set()  # op indices of the affine chains the batch-norm fold absorbs
    for v, (ctor, items) in list(g.term_of.items()):
        if ctor != "Conv":
            continue
        end = v
        if fold and items[0] in nchw32:
            while True:  # follow the single-use affine chain the fold absorbs
                us = view.users(end)
                if len(us) != 1 or view.index.get(us[0]) not in g.links:
                    break
                absorbed.add(view.index[us[0]])
                end = us[0].results[0]
        lines.append(f"(MergeOK {g.name(end)})")
    # chained scale/bias on the rest: folding a chain into its conv beats any x·s + t of it, and
    # both forms on every batch-norm chain would multiply the e-graph (Inception: 2.3x e-nodes)
    _scale_bias_facts(g, skip=absorbed)
    for mem in conv_groups.values():  # same-kernel filters adjacent, so their runs exist
        ids = [i for _, i in sorted(mem)]
        lines.extend(f"(NextW {a} {b})" for a, b in zip(ids, ids[1:]))
    if g.fshapes:
        _pad_facts(g)
    # permutation algebra for transpose-transpose: compositions within a small closure
    perms = list(g.perms)
    for p in perms:
        for q in perms:
            if len(p) == len(q) and len(g.perms) < 64:
                g.perm_id([p[j] for j in q])
    for a, p in enumerate(g.perms):
        if list(p) == sorted(p):
            lines.append(f"(PId {a})")
        n = len(p)
        if n >= 2 and list(p) == [*range(n - 2), n - 1, n - 2]:
            lines.append(f"(SwapLast {a})")
        for b, q in enumerate(g.perms):
            if len(p) == len(q):
                c = tuple(p[j] for j in q)
                if c in g.perms:
                    lines.append(f"(set (pcomp {a} {b}) {g.perms.index(c)})")
    return g


def _keepdims_compact(a: np.ndarray) -> np.ndarray:
    """``a`` reduced to size 1 along every axis it is constant along (same rank, broadcasts back)."""
    for ax in range(a.ndim):
        if a.shape[ax] > 1 and np.all(a == np.take(a, [0], axis=ax)):
            a = np.take(a, [0], axis=ax)
    return a


def _scale_bias_facts(g: EGraphGraph, skip: set[int] = frozenset()) -> None:
    """``y = (SB x (CK s) (CK t))`` for every elementwise op ``y = x ∘ c`` (one weight-only ``c``,
    + - × ÷; fold-chained-scale-bias's links), ``s``/``t`` its scale and shift; not for the op
    indices in ``skip``."""
    view = g.view
    for i, op in enumerate(view.ops[:-1]):
        if i in skip or op.name != "linalg.generic" or len(op.operands) != 3 or len(op.results) != 1:
            continue
        y = op.results[0]
        if y not in g.vid or view.is_constant(y) or _elem(y) not in ("f32", "f16"):
            continue
        for x in list(op.operands)[:2]:
            if view.is_constant(x) or x not in g.vid:
                continue
            lk = _sb_link(view, op, x)
            if lk is None:
                continue
            name, x_first, c = lk
            if name == "arith.divf" and not np.all(c != 0):
                break  # x / 0 stays as it is
            one, zero = np.ones((1,) * c.ndim), np.zeros((1,) * c.ndim)
            st = {"arith.addf": lambda: (one, c), "arith.mulf": lambda: (c, zero), "arith.divf": lambda: (1.0 / c, zero),
                  "arith.subf": lambda: (one, -c) if x_first else (-one, c)}[name]()
            ids = []
            for arr in st:
                g.sb_consts.append((_keepdims_compact(np.asarray(arr, dtype=np.float64)), _elem(y)))
                ids.append(len(g.sb_consts) - 1)
            g.lines.append(f"(union {g.name(y)} (SB {g.name(x)} (CK {ids[0]}) (CK {ids[1]})))")
            g.kinds["SB"] = g.kinds.get("SB", 0) + 1
            break


def _pad_facts(g: EGraphGraph) -> None:
    """``PadPlus i j s t`` for every pair of pad specs and filter shapes of the graph where a
    dilation-1 conv with filter shape ``s`` reading pad ``i`` equals one with its filter zero-padded
    to shape ``t`` reading pad ``j`` (enlarge-conv-kernel); ``PZero`` names the spec "no pad"."""
    z = g.pad_id((0,) * 4, (0,) * 4)
    g.lines.append(f"(PZero {z})")
    for si, (name, fs, el) in enumerate(g.fshapes):
        lay = LAYOUTS[name]
        for ti, (name2, ft, el2) in enumerate(g.fshapes):
            if si == ti or name2 != name or el2 != el or fs[lay["f_in"]] != ft[lay["f_in"]]:
                continue
            d = [ft[k] - fs[k] for k in lay["kdims"]]
            if any(v < 0 or v % 2 for v in d) or not any(d):
                continue
            d = [v // 2 for v in d]
            for i, (lo, hi) in enumerate(g.pads):
                for j, (lo2, hi2) in enumerate(g.pads):
                    want_lo, want_hi = list(lo), list(hi)
                    for k, ax in enumerate(lay["sdims"]):
                        want_lo[ax] += d[k]
                        want_hi[ax] += d[k]
                    if tuple(want_lo) == lo2 and tuple(want_hi) == hi2:
                        g.lines.append(f"(PadPlus {i} {j} {si} {ti})")


# ------------------------------------------------------------------------------------------------
# 2./3. The serialized e-graph, node costs and ILP extraction


@dataclass
class _Node:
    id: str
    op: str
    cls: str
    kids: list[str]  # child node ids (primitives included)


class _EG:
    """The serialized e-graph restricted to the term language."""

    def __init__(self, data: dict, g: EGraphGraph):
        nodes = data["nodes"]
        self.prim = {k: n["op"] for k, n in nodes.items() if k.startswith("primitive-")}
        self._kc: dict[str, list[str]] = {}  # child_classes by node id
        self.nodes: dict[str, _Node] = {}
        self.classes: dict[str, list[str]] = {}
        for k, n in nodes.items():
            if n["op"] in CTORS and not n.get("subsumed"):
                self.nodes[k] = _Node(k, n["op"], n["eclass"], list(n["children"]))
                self.classes.setdefault(n["eclass"], []).append(k)
        self.cls_of_node = {k: n["eclass"] for k, n in nodes.items()}
        prim, con = self.prim, self.cls_of_node
        self._kc.update((k, [con[c] for c in n.kids if c not in prim]) for k, n in self.nodes.items())
        # each node's child classes without repeats, in order (shared lists: do not modify)
        self.ukids: dict[str, list[str]] = {k: list(dict.fromkeys(v)) if len(v) > 1 else v
                                            for k, v in self._kc.items()}
        val_cls = {int(self.prim[n["children"][1]]): self.cls_of_node[n["children"][0]]
                   for n in nodes.values() if n["op"] == "Val"}
        self.cls_of_value = {v: val_cls.get(i) for i, v in enumerate(g.values)}
        self.roots = [self.cls_of_value[v] for v in g.roots]
        self._val_cls = val_cls
        self._canonical_order(val_cls)
        # the e-node each original value was translated to
        self.orig_node: dict = {}
        for v, (ctor, items) in g.term_of.items():
            want = []
            for x in items:
                if isinstance(x, str):
                    want.append(x)
                elif isinstance(x, tuple):
                    want.append(tuple(self.cls_of_value[y] for y in x))
                else:
                    want.append(self.cls_of_value[x])
            for k in self.classes.get(self.cls_of_value[v], []):
                n = self.nodes[k]
                if n.op != ctor:
                    continue
                got = []
                for c in n.kids:
                    if c in self.prim:
                        got.append(self.prim[c])
                    elif self.nodes.get(c) is not None and self.nodes[c].op in _LISTS:
                        got.append(tuple(self.list_classes(self.cls_of_node[c])))
                    else:
                        got.append(self.cls_of_node[c])
                if got == want:
                    self.orig_node[v] = k
                    break
        self.original = set(self.orig_node.values())

    def _canonical_order(self, val_cls: dict[int, str]) -> None:
        """Set ``canon_classes`` and ``canon_nodes``: the classes, and each class's nodes, ordered by
        a structural label that does not depend on egglog's ids (which follow the order the terms were inserted in): the extraction's 0-1
        program then has the same rows and columns in the same order however the e-graph was
        built, and HiGHS picks the same one of several equally cheap selections. Labels: a class's
        smallest original value index and its nodes' constructors and literals, refined with the
        children's labels until the number of distinct labels stops growing (Weisfeiler-Lehman);
        classes still alike keep egglog's order among themselves."""
        first_val: dict[str, int] = {}
        for i, c in sorted(val_cls.items()):
            first_val.setdefault(c, i)
        lits = {k: tuple(self.prim[c] if c in self.prim else None for c in n.kids) for k, n in self.nodes.items()}

        def digest(x) -> str:
            return hashlib.sha1(repr(x).encode()).hexdigest()[:16]

        lab = {c: digest((first_val.get(c, -1), sorted((self.nodes[k].op, lits[k]) for k in ks)))
               for c, ks in self.classes.items()}
        # The refinement below digests repr((op, labels)) of every node and repr((label, sorted
        # node labels)) of every class, each round; the same text is built here from a %-template
        # per node (the repr of its constructor and literals, a hole per child class), so the
        # labels are the very same strings (labels are hex: repr(label) == "'" + label + "'").
        # Bytes throughout (labels are the first 8 bytes of the digest as hex: hexlify of
        # digest()[:8] is hexdigest()[:16] as bytes), one list comprehension per round.
        sha1, hexlify = hashlib.sha1, binascii.hexlify
        fixed: dict[str, bytes] = {}  # nodes without child classes: the same text every round
        templ: list = []  # (template, child classes getter), in the order of t_keys
        t_keys: list[str] = []
        holes_all: set[str] = set()
        for k, n in self.nodes.items():
            parts, holes = [], []
            for lit, c in zip(lits[k], n.kids):
                if lit is not None:
                    parts.append(repr(lit).replace("%", "%%"))
                else:
                    parts.append("%s")
                    holes.append(self.cls_of_node[c])
            inner = "(" + ", ".join(parts) + ("," if len(parts) == 1 else "") + ")"
            text = "(" + repr(n.op).replace("%", "%%") + ", " + inner + ")"
            if holes:  # itemgetter of one key gives the label alone: ``text % label`` fills the hole
                templ.append((text.encode(), operator.itemgetter(*holes)))
                t_keys.append(k)
                holes_all.update(holes)
            else:
                fixed[k] = hexlify(sha1((text % ()).encode()).digest()[:8])
        blab = {c: x.encode() for c, x in lab.items()}
        node_lab: dict[str, bytes] = {}
        distinct = len(set(blab.values()))
        cls_nodes = list(self.classes.items())
        for _ in range(16):
            q = dict.fromkeys(holes_all, b"''")
            q.update((c, b"'" + x + b"'") for c, x in blab.items())
            node_lab = dict(fixed)
            node_lab.update(zip(t_keys, [hexlify(sha1(text % get(q)).digest()[:8]) for text, get in templ]))
            new = {c: hexlify(sha1(b"('" + blab[c] + b"', ['" + b"', '".join(sorted([node_lab[k] for k in ks]))
                                   + b"'])").digest()[:8]) for c, ks in cls_nodes}
            n_new = len(set(new.values()))
            blab = new
            if n_new <= distinct:
                break
            distinct = n_new
        lab = blab
        self.canon_classes = sorted(self.classes, key=lambda c: lab[c])
        self.canon_nodes = {c: sorted(ks, key=lambda k: node_lab.get(k, b"")) for c, ks in self.classes.items()}

    def child_classes(self, n: _Node) -> list[str]:
        """The classes of ``n``'s non-primitive children, in order (computed once per node; the
        list is shared: do not modify it)."""
        kc = self._kc.get(n.id)
        if kc is None:
            kc = self._kc[n.id] = [self.cls_of_node[c] for c in n.kids if c not in self.prim]
        return kc

    def list_classes(self, c: str, sel: dict | None = None) -> list[str]:
        """The element classes of a list class (through its selected node, else its first)."""
        out, seen = [], set()
        while c in self.classes and c not in seen:
            seen.add(c)
            n = self.nodes[sel[c] if sel and c in sel else self.classes[c][0]]
            if n.op not in ("TCons", "CCons"):
                break
            head, tail = self.child_classes(n)
            out.append(head)
            c = tail
        return out

    def lit(self, n: _Node, k: int) -> int:
        return int(self.prim[n.kids[k]])


class _Costs:
    """Roofline node costs (µs) over the e-graph, with a shape per e-class."""

    def __init__(self, eg: _EG, g: EGraphGraph, roofline: Roofline, input_cost=None):
        """``input_cost``: :func:`..cost.analyze` of ``g.view`` under ``roofline`` when the caller has it."""
        self.eg, self.g, self.rf = eg, g, roofline
        self._input_cost = input_cost
        self._node_memo: dict[str, tuple[float, float, list[str]]] = {}
        self._anchors: list | None = None
        self._host_memo: dict = {}
        self.shape: dict[str, tuple] = {}
        self.elem: dict[str, str] = {}
        self.scalar: set[str] = set()  # classes of scalar (non-tensor) values
        for v, c in eg.cls_of_value.items():
            if c is None:
                continue
            try:
                self.shape[c], self.elem[c] = _shape(v), _elem(v)
            except ValueError:
                self.shape[c], self.elem[c] = (), str(v.type)
                self.scalar.add(c)
        changed = True
        while changed:
            changed = False
            for n in eg.nodes.values():
                if n.cls in self.shape or n.op in _LISTS:
                    continue
                s = self._infer(n)
                if s is not None:
                    self.shape[n.cls], self.elem[n.cls] = s
                    changed = True

        # classes computable from constants alone (IREE hoists them: free, like cost.py's rule)
        self.const: set[str] = set()
        changed = True
        while changed:
            changed = False
            for n in eg.nodes.values():
                if n.cls in self.const or n.op == "Arg":
                    continue
                if n.op == "Op":
                    if self._op_const(n):  # an opaque op on weights only (a matmul of two weights)
                        self.const.add(n.cls)
                        changed = True
                    continue
                if n.op in CONST_CTORS or all(c in self.const for c in eg.child_classes(n)):
                    self.const.add(n.cls)
                    changed = True

    def _op_const(self, n: _Node) -> bool:
        """An opaque op whose every input is computable from constants (IREE hoists it)."""
        kc = self.eg.child_classes(n)
        if not kc:
            return False
        ins = self.eg.list_classes(kc[0])
        return bool(ins) and all(c in self.const for c in ins)

    def _infer(self, n: _Node):
        kc = self.eg.child_classes(n)
        sh = [self.shape.get(c) for c in kc]
        el = self.elem.get(kc[0]) if kc else None
        if n.op == "MM" and sh[0] is not None and sh[1] is not None:
            return (*sh[0][:-1], sh[1][-1]), el
        if n.op in ("MMTA", "MMTB", "CMM", "CAdd", "Add"):
            sh = [self.shape.get(c) for c in kc]
            if any(x is None for x in sh):
                return None
            if n.op in ("CAdd", "Add"):
                if n.op == "CAdd" and kc[0] in self.scalar:
                    self.scalar.add(n.cls)
                return sh[0], self.elem.get(kc[0])
            a, b = sh[0], sh[1]
            out = {"MMTA": (*a[:-2], a[-1], b[-1]), "MMTB": (*a[:-1], b[-2]), "CMM": (*a[:-1], b[-1])}[n.op]
            return out, self.elem.get(kc[0])
        if n.op in ("BiasAdd", "Aff", "CScaleW") and sh[0] is not None:
            return sh[0], el
        if n.op == "CAff" and sh[0] is not None:
            return (sh[0][1] if len(sh[0]) == 4 else sh[0][0],), el
        if n.op == "Slice" and sh[0] is not None:
            return (*sh[0][:-1], self.eg.lit(n, 2)), el
        if n.op == "CCat" and sh[0] is not None and sh[1] is not None:
            return (*sh[0][:-1], sh[0][-1] + sh[1][-1]), el
        if n.op in ("Tr", "CTr") and sh[0] is not None:
            p = self.g.perms[self.eg.lit(n, 1)]
            return tuple(sh[0][j] for j in p), el
        if n.op == "Rs":
            return self.g.shapes[self.eg.lit(n, 2)]
        if n.op == "SB" and sh[0] is not None:
            return sh[0], el
        if n.op in ("Col", "Exp"):
            return self.g.shapes[self.eg.lit(n, 1)]
        if n.op == "CMat" and sh[0] is not None:
            return (sh[0][2], sh[0][3]), el
        if n.op == "CVec" and sh[0] is not None:
            return (sh[0][-1],), el
        if n.op == "CZero":
            self.scalar.add(n.cls)
            return (), "f32"
        if n.op == "CK":
            arr, e = self.g.sb_consts[self.eg.lit(n, 0)]
            return tuple(arr.shape), e
        if n.op in ("CMul", "CFma"):
            if any(x is None for x in sh):
                return None
            return tuple(np.broadcast_shapes(*sh)), el
        if n.op == "Ew" and sh[0] is not None:
            return sh[0], self.g.bodies[self.eg.lit(n, 0)][0][2]
        if n.op == "Cat":
            parts = [self.shape.get(c) for c in self.eg.list_classes(kc[0])]
            if not parts or any(x is None for x in parts):
                return None
            k = self.eg.lit(n, 0)
            out = list(parts[0])
            out[k] = sum(x[k] for x in parts)
            return tuple(out), self.elem.get(self.eg.list_classes(kc[0])[0])
        if n.op == "Pad" and sh[0] is not None:
            lo, hi = self.g.pads[self.eg.lit(n, 1)]
            return tuple(d + a + b for d, a, b in zip(sh[0], lo, hi)), el
        if n.op == "SliceD" and sh[0] is not None:
            out = list(sh[0])
            out[self.eg.lit(n, 1)] = self.eg.lit(n, 3)
            return tuple(out), el
        sh = [self.shape.get(c) for c in kc]  # conv constructors: literal a first, classes after
        el = self.elem.get(kc[0]) if kc else None
        if n.op == "Conv" and sh[0] is not None and sh[1] is not None:
            name = self.g.conv_attrs[self.eg.lit(n, 0)][0]
            strides, dil = self.g.conv_geo[self.eg.lit(n, 0)]
            lay = LAYOUTS[name]
            out = list(sh[0])
            out[lay["ch"]] = sh[1][lay["f_out"]]
            for k, (sa, ka) in enumerate(zip(lay["sdims"], lay["kdims"])):
                out[sa] = (sh[0][sa] - dil[k] * (sh[1][ka] - 1) - 1) // strides[k] + 1
            return tuple(out), el
        if n.op == "CCatF" and sh[0] is not None and sh[1] is not None:
            ax = LAYOUTS[self.g.conv_attrs[self.eg.lit(n, 0)][0]]["f_out"]
            out = list(sh[0])
            out[ax] += sh[1][ax]
            return tuple(out), el
        if n.op == "CCatB" and sh[0] is not None and sh[1] is not None:
            ch = LAYOUTS[self.g.conv_attrs[self.eg.lit(n, 0)][0]]["ch"]
            return (sum(x[ch] if len(x) == 4 else x[0] for x in sh),), el
        if n.op == "CPadK" and sh[0] is not None:
            name, ft, _ = self.g.fshapes[self.eg.lit(n, 2)]
            lay = LAYOUTS[name]
            out = list(ft)
            out[lay["f_out"]] = sh[0][lay["f_out"]]
            return tuple(out), el
        return None

    def nbytes(self, c: str) -> float:
        s = self.shape.get(c)
        if not s:
            return 0.0
        w = {"f16": 2, "bf16": 2, "f64": 8, "i64": 8, "i8": 1, "i1": 1}.get(self.elem.get(c, "f32"), 4)
        return float(math.prod(s)) * w

    def fused_us(self, flops: float, nbytes: float, c: str | None) -> float:
        """What an elementwise op adds to the dispatch it is fused into, which reads class ``c``:
        analyze() costs a dispatch as max(slow x its FLOPs / peak, its bytes / bandwidth), so when the
        host's own root (:meth:`host_bound`) is compute-bound the op adds its FLOPs (times the host's
        NCHW factor), when memory-bound its bytes (a linear form of the maximum of sums; without a
        known root, the op's own maximum)."""
        hb = self.host_bound(c) if c is not None else None
        if hb is None:
            return self.us(flops, nbytes, launch=False)
        slow, compute = hb
        rf = self.rf
        return slow * flops / (rf.peak_gflops * 1e3) if compute else nbytes / (rf.bandwidth_gbs * 1e3)

    def host_bound(self, c: str, depth: int = 0):
        """``(NCHW factor, compute-bound)`` of the dispatch root that computes class ``c`` (looking
        through elementwise producers), or None."""
        got = self._host_memo.get(c, False)
        if got is not False:
            return got
        out, ew = None, None
        for k in self.eg.classes.get(c, []):
            n = self.eg.nodes[k]
            kc = self.eg.child_classes(n)
            rf = self.rf
            if n.op == "Conv":
                fs = self.shape[kc[1]]
                lay = LAYOUTS[self.g.conv_attrs[self.eg.lit(n, 0)][0]]
                fl = 2.0 * float(math.prod(self.shape[n.cls])) * float(math.prod(fs)) / fs[lay["f_out"]]
                slow = self._conv_slowdown(n)
                mem = self.nbytes(kc[0]) + self.nbytes(kc[1]) + self.nbytes(n.cls)
                out = (slow, slow * fl / rf.peak_gflops >= mem / rf.bandwidth_gbs)
                break
            if n.op in ("MM", "MMTA", "MMTB"):
                kk = self.shape[kc[0]][-2 if n.op == "MMTA" else -1]
                fl = 2.0 * float(math.prod(self.shape[n.cls])) * kk
                mem = self.nbytes(kc[0]) + self.nbytes(kc[1]) + self.nbytes(n.cls)
                out = (1.0, fl / rf.peak_gflops >= mem / rf.bandwidth_gbs)
                break
            if n.op == "Op":
                orig = self.g.view.ops[self.eg.lit(n, 0)]
                if orig.name in _FREE or orig.name == "tensor.pad":
                    continue
                if _is_elementwise(orig):
                    xs = [d for d in self.eg.list_classes(kc[0]) if not self._is_const_class(d)] if kc else []
                    ew = ew or (xs[0] if xs else None)
                    continue
                slow = _nchw_slowdown(orig, rf) if _is_nchw_conv(orig.name) else 1.0
                mem = sum(_nbytes(v) for v in orig.operands if str(v.type).startswith("tensor<"))
                out = (slow, slow * _flops(orig) / rf.peak_gflops >= mem / rf.bandwidth_gbs)
                break
            if n.op in ("Aff", "BiasAdd", "SB", "Ew", "Add", "Tr") and kc:
                ew = ew or kc[0]
        if out is None and ew is not None and depth < 8:
            out = self.host_bound(ew, depth + 1)
        self._host_memo[c] = out
        return out

    def us(self, flops: float, nbytes: float, launch: bool = True) -> float:
        rf = self.rf
        return max(flops / (rf.peak_gflops * 1e3), nbytes / (rf.bandwidth_gbs * 1e3)) + (rf.dispatch_us if launch else 0)

    def node(self, n: _Node) -> tuple[float, float, list[str]]:
        """``(cost as fused or standalone, extra cost when not fused, classes it fuses into)``
        (computed once per node: the analysis is complete when the costs are asked for; the
        result is shared, do not modify it)."""
        got = self._node_memo.get(n.id)
        if got is None:
            got = self._node_memo[n.id] = self._node(n)
        return got

    def _node(self, n: _Node) -> tuple[float, float, list[str]]:
        kc = self.eg.child_classes(n)
        op = n.op
        if op in ("Slice", "SliceD", "Rs", "Col", "Exp"):
            return _TIE, 0.0, []  # free views; the tie-break keeps fewer of them
        if op in _LISTS or op == "Arg" or op in CONST_CTORS:
            return 0.0, 0.0, []
        if op != "Op" and kc and all(c in self.const for c in kc):
            return _TIE, 0.0, []  # constant-folded (by IREE); a numpy-folded constant node ties cheaper
        if op == "Op" and self._op_const(n):
            return _TIE, 0.0, []  # weight-only: hoisted by IREE's const-eval (as in cost.py)
        out = self.nbytes(n.cls)
        size = out / 4
        if op in ("MM", "MMTB", "MMTA"):
            k = self.shape[kc[0]][-2 if op == "MMTA" else -1]
            size = float(math.prod(self.shape[n.cls]))
            mem = self.nbytes(kc[0]) + self.nbytes(kc[1]) + out
            if _streams_weights(self.shape[n.cls], (self.nbytes(kc[0]), self.nbytes(kc[1])), self.rf):
                mem *= self.rf.matvec_stream_slowdown  # as cost.py: a matvec streaming cold weights
            return self.us(2.0 * size * k, mem), 0.0, []
        if op == "Add":
            a, b = kc
            fused = self.fused_us(size, self.nbytes(b), a)
            return fused, self.us(size, self.nbytes(a) + self.nbytes(b) + out) - fused, [a, b]
        if op == "Conv":
            fs = self.shape[kc[1]]
            f_out = LAYOUTS[self.g.conv_attrs[self.eg.lit(n, 0)][0]]["f_out"]
            size = float(math.prod(self.shape[n.cls]))
            fl = 2.0 * size * float(math.prod(fs)) / fs[f_out]
            return self.us(self._conv_slowdown(n) * fl, self.nbytes(kc[0]) + self.nbytes(kc[1]) + out), 0.0, []
        if op == "Pad":
            # as analyze(): stored in place by its producer's dispatch when it is that value's only
            # user (the elementwise fusion rows below), else a copy dispatch
            return _TIE, self.us(0.0, self.nbytes(kc[0]) + out), [kc[0]]
        if op == "Cat":
            # as analyze(): along the outermost non-unit dim each operand is a stream copy into its
            # contiguous slice (no kernel); along an inner dim one strided copy dispatch per operand
            k = self.eg.lit(n, 0)
            if all(d == 1 for d in self.shape[n.cls][:k]):
                return _TIE, 0.0, []
            return sum(self.us(0.0, 2 * self.nbytes(c)) for c in self.eg.list_classes(kc[0])), 0.0, []
        if op == "Ew":
            rep = self.g.view.ops[self.g.bodies[self.eg.lit(n, 0)][1]]
            per = _flops(rep) / max(1.0, float(math.prod(_shape(rep.results[0]))))
            fl = per * float(math.prod(self.shape[n.cls]))
            fused = self.fused_us(fl, 0.0, kc[0])
            # + _TIE like an opaque elementwise op: of equally costed forms, fewer elementwise ops
            return fused + _TIE, self.us(fl, self.nbytes(kc[0]) + out) - fused, [kc[0]]
        if op == "Tr":  # elementwise for IREE (generalized first): fused into its producer's dispatch
            return _TIE, self.us(0.0, self.nbytes(kc[0]) + out), [kc[0]]
        if op in ("BiasAdd", "Aff"):
            x, c = kc[0], kc[1]
            fused = self.fused_us(size, self.nbytes(c), x)
            return fused + _TIE, self.us(size, self.nbytes(x) + self.nbytes(c) + out) - fused, [x]
        if op == "SB":  # x * s + t: two flops per element (as the realized generic has)
            x, sc, sh = kc
            cb = self.nbytes(sc) + self.nbytes(sh)
            fused = self.fused_us(2 * size, cb, x)
            return fused + _TIE, self.us(2 * size, self.nbytes(x) + cb + out) - fused, [x]
        # Op: the original op's cost
        orig = self.g.view.ops[self.eg.lit(n, 0)]
        if orig.name in _FREE:
            return 0.0, 0.0, []
        ins = [v for v in orig.operands][: len(orig.operands) - len(orig.results)] \
            if orig.name.startswith("linalg.") else list(orig.operands)
        ins = [v for v in ins if str(v.type).startswith("tensor<")]
        in_bytes = [_nbytes(v) for v in ins]
        res_bytes = sum(_nbytes(r) for r in orig.results)
        fl = _flops(orig)
        if orig.name == "tensor.pad":  # as the Pad node (a pad of a non-zero value)
            xs = [c for c in self.eg.list_classes(kc[0]) if not self._is_const_class(c) and c not in self.scalar]
            return _TIE, self.us(0.0, sum(in_bytes) + res_bytes), xs[:1]
        if _is_elementwise(orig):
            xs = [c for c in self.eg.list_classes(kc[0]) if not self._is_const_class(c)]
            fused = self.fused_us(fl, sum(in_bytes) - max(in_bytes, default=0.0), xs[0] if xs else None)
            # + _TIE: ties between equally costed elementwise forms prefer fewer ops (a folded chain)
            return fused + _TIE, self.us(fl, sum(in_bytes) + res_bytes) - fused, xs
        slow = self.rf.matvec_stream_slowdown if _is_streaming_matvec(orig, self.rf) else 1.0
        if _is_nchw_conv(orig.name):  # a depthwise or grouped convolution: analyze()'s layout factor
            fl *= _nchw_slowdown(orig, self.rf)
        return self.us(fl, slow * (sum(in_bytes) + res_bytes)), 0.0, []

    def anchors(self) -> list[tuple[float, list[str], list[str], list[str]]]:
        """The dispatches :func:`..cost.analyze` forms on the input graph, as ``(µs, member nodes,
        nodes that must be selected, nodes that must not be)``: a selection that keeps a dispatch's
        ops (its members) and their neighbourhood as in the input — every class a member reads or
        writes (through views) computed by its original node and read by exactly its original users —
        makes analyze() form that same dispatch, so the extraction charges it analyze()'s cost
        instead of the node costs (:func:`_anchor_rows`). Computed once; do not modify."""
        if self._anchors is not None:
            return self._anchors
        eg, view = self.eg, self.g.view
        index = view.index
        node_of: dict[int, list[str]] = {}  # op index -> its original nodes
        for v, k in eg.orig_node.items():
            if isinstance(v, ir.OpResult):
                node_of.setdefault(index.get(v.owner), []).append(k)
        orig_in: dict[str, list[str]] = {}  # class -> its original nodes
        for k in eg.original:
            orig_in.setdefault(eg.nodes[k].cls, []).append(k)
        users: dict[str, list[str]] = {}  # class -> op-level nodes reading it (through operand lists)

        def elems(c: str, seen: set) -> list[str]:
            out = []
            for q in eg.classes.get(c, []):
                m = eg.nodes[q]
                if m.op in ("TCons", "CCons") and q not in seen:
                    seen.add(q)
                    head, tail = eg.child_classes(m)
                    out.append(head)
                    out.extend(elems(tail, seen))
            return out

        for k, n in eg.nodes.items():
            if n.op in _LISTS:
                continue
            for d in dict.fromkeys(eg.child_classes(n)):
                targets = elems(d, set()) if eg.classes.get(d) and eg.nodes[eg.classes[d][0]].op in _LISTS else [d]
                for t in dict.fromkeys(targets):
                    users.setdefault(t, []).append(k)

        def ins(k: str) -> list[str]:
            n = eg.nodes[k]
            out = []
            for d in eg.child_classes(n):
                if eg.classes.get(d) and eg.nodes[eg.classes[d][0]].op in _LISTS:
                    out.extend(elems(d, set()))
                else:
                    out.append(d)
            return out

        def is_view(k: str) -> bool:
            n = eg.nodes[k]
            if n.op in ("Rs", "Slice", "SliceD"):
                return True
            return n.op == "Op" and view.ops[eg.lit(n, 0)].name in _FREE

        def inert(k: str) -> bool:
            """A reader no dispatch grows into and whose count no fusion rule looks at (a contraction
            or convolution root: what reads a value only through such ops fuses the same way however
            many there are)."""
            n = eg.nodes[k]
            if n.op in ("MM", "MMTA", "MMTB", "Conv"):
                return True
            if n.op != "Op":
                return False
            name = view.ops[eg.lit(n, 0)].name
            return name.startswith(("linalg.matmul", "linalg.batch_matmul", "linalg.conv_", "linalg.depthwise_conv_",
                                    "linalg.pooling_"))

        ga = self._input_cost or analyze(view, self.rf)
        groups: dict[int, list] = {}
        host_of: dict[int, int] = {}
        for d in ga.dispatches:
            gr = groups.setdefault(d.root, [0.0, set()])
            gr[0] += d.us
            gr[1].update((d.root, *d.fused))
            for k in (d.root, *d.fused):
                host_of[k] = d.root
        placed = set(host_of)
        for i, op in enumerate(view.ops):  # pads analyze() leaves free: stored by their source's dispatch
            if op.name == "tensor.pad" and i not in placed:
                src = view.producer(op.operands[0])
                h = host_of.get(index.get(src)) if src is not None else None
                if h is not None:
                    groups[h][1].add(i)
        out = []
        for root, (us, ops) in groups.items():
            if view.ops[root].name == "tensor.concat":
                continue  # the Cat node's own cost is analyze()'s (copies or free)
            members: list[str] = []
            for i in sorted(ops):
                ks = node_of.get(i)
                if not ks:
                    members = []
                    break
                members.extend(ks)
            if not members or any(eg.nodes[k].cls in self.const for k in members):
                continue
            need, todo, adj = set(members), [], set()
            for k in members:
                todo.append(eg.nodes[k].cls)
                todo.extend(ins(k))
            while todo:
                c = todo.pop()
                if c in adj or c in self.const or c in self.scalar:
                    continue
                adj.add(c)
                for k in orig_in.get(c, []):  # its original producer (through views)
                    need.add(k)
                    if is_view(k):
                        todo.extend(ins(k))
                if c not in orig_in:
                    continue  # an argument: who reads it does not change how dispatches form
                if all(inert(q) for q in users.get(c, [])):
                    continue  # read by contractions / convolutions only, in the input and in every form
                for q in users.get(c, []):
                    if q in eg.original:
                        need.add(q)
                        if is_view(q):
                            todo.append(eg.nodes[q].cls)
            forbid = {q for c in adj if c in orig_in and not all(inert(u) for u in users.get(c, []))
                      for q in users.get(c, []) if q not in eg.original}
            out.append((us, members, sorted(need), sorted(forbid)))
        self._anchors = out
        return out

    def _conv_slowdown(self, n: _Node) -> float:
        """analyze()'s layout factor of a channels-first convolution (:func:`..cost._nchw_slowdown`)."""
        a = self.eg.lit(n, 0)
        name = self.g.conv_attrs[a][0]
        if not _is_nchw_conv(name):
            return 1.0
        rf = self.rf
        if any(st != 1 for st in self.g.conv_geo[a][0]):
            return rf.conv_nchw_strided_slowdown
        kd = LAYOUTS[name]["kdims"]
        fs = self.shape[self.eg.child_classes(n)[1]]
        return rf.conv_nchw_1x1_slowdown if all(fs[d] == 1 for d in kd) else rf.conv_nchw_slowdown

    def _is_const_class(self, c: str) -> bool:
        return any(self.eg.nodes[k].op in CONST_CTORS for k in self.eg.classes.get(c, []))

    def is_pad(self, n: _Node) -> bool:
        """A pad (``Pad``, or an opaque ``tensor.pad`` of another value than zero)."""
        return n.op == "Pad" or (n.op == "Op" and self.g.view.ops[self.eg.lit(n, 0)].name == "tensor.pad")

    def hostable(self, n: _Node) -> bool:
        """Whether an elementwise consumer of ``n`` fuses into ``n``'s dispatch."""
        if n.op in _LISTS or n.op in ("Arg", "Slice", "SliceD", "Cat") or n.op in CONST_CTORS or self.is_pad(n):
            return False  # (a concat is stream copies or copy dispatches, a pad free or a copy: neither hosts)
        if n.op == "Op":
            orig = self.g.view.ops[self.eg.lit(n, 0)]
            if orig.name == "tensor.expand_shape" and not _unit_reshape(orig):
                return False  # as analyze(): IREE bubbles a dimension split up to the root's result
            return orig.name not in _FREE or orig.name in _RESHAPES
        if n.op == "Rs":
            a, b = self.shape.get(self.eg.child_classes(n)[0]), self.shape.get(n.cls)
            if a is not None and b is not None and sum(d != 1 for d in b) > sum(d != 1 for d in a):
                return False  # a dimension split (see above)
        return True


def _sccs(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components (iterative Tarjan)."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on.add(v)
            kids = graph.get(v, [])
            recurse = False
            for j in range(i, len(kids)):
                w = kids[j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
    return out


def _required(eg: _EG, reach: set[str]) -> set[str]:
    """The classes every selection must select: those every acyclic selection of a root includes.

    ``need(c) = {c} | the intersection over c's selectable nodes of the union of their children's
    need`` (a node needing its own class or a class outside ``reach`` is never selectable),
    computed children first over the strongly connected components; a class on a cycle gets
    ``{c}`` only, which is an under-approximation and therefore sound. Sets are int bitsets."""
    order = [c for c in eg.canon_classes if c in reach]
    bit = {c: 1 << i for i, c in enumerate(order)}
    kids = {c: [[d for d in dict.fromkeys(eg.child_classes(eg.nodes[k]))] for k in eg.classes[c]] for c in order}
    graph = {c: [d for ks in kids[c] for d in ks if d in reach] for c in order}
    need: dict[str, int] = {}
    for comp in _sccs(graph):  # Tarjan yields components children first
        if len(comp) > 1:
            for c in comp:
                need[c] = bit[c]
            continue
        c = comp[0]
        common = None
        for ks in kids[c]:
            if c in ks or not all(d in reach for d in ks):
                continue
            u = 0
            for d in ks:
                u |= need[d]
            common = u if common is None else common & u
        need[c] = bit[c] | (common or 0)
    req = 0
    for r in eg.roots:
        if r in need:
            req |= need[r]
    return {c for c in order if req & bit[c]}


def _needs(eg: _EG, reach: set[str]) -> tuple[set[str], set[str], dict[str, int], dict[str, int], set[str]]:
    """``(required classes, impossible nodes, need, bit, on_cycle)`` of every acyclic selection of
    the roots (``need[c] & bit[d]``: ``d`` is below ``c`` in every acyclic selection that selects
    ``c``; ``on_cycle``: the classes on a cycle of the class graph without the impossible nodes).

    ``need(c)``: classes below ``c`` in every acyclic selection that selects ``c`` (``c``
    included). Any fixpoint of ``need(c) = {c} | ∩ over c's possible nodes of ∪ need(child)`` is
    sound (induction on the height of ``c`` in the selected DAG), so on a cyclic strongly connected
    component this takes the *greatest* one (starting from "every class"), not ``{c}`` as
    :func:`_required` does. A node of ``c`` with a child ``d`` whose ``need(d)`` holds ``c`` would
    close a cycle: it is impossible, and the needs are computed again without it until no node
    becomes impossible. Sets are int bitsets over the classes in ``reach``."""
    order = [c for c in eg.canon_classes if c in reach]
    bit = {c: 1 << i for i, c in enumerate(order)}
    full = (1 << len(order)) - 1
    kids = eg.ukids
    impossible = {k for c in order for k in eg.classes[c] if c in kids[k] or not all(d in reach for d in kids[k])}
    need: dict[str, int] = {}

    def class_need(c: str) -> int:
        # c's own bit and what every possible node of c needs (the intersection over its nodes of
        # the union of their children's needs)
        common = full
        for k in eg.classes[c]:
            if k in impossible:
                continue
            u = 0
            for d in kids[k]:
                u |= need[d]
            common &= u
        return bit[c] | common

    while True:
        graph = {c: list(dict.fromkeys(d for k in eg.classes[c] if k not in impossible for d in kids[k])) for c in order}
        need = {}
        cyclic: list[str] = []
        for comp in _sccs(graph):  # children first
            if len(comp) == 1:  # one pass
                c = comp[0]
                need[c] = class_need(c)
                continue
            # a cycle: down to the greatest fixpoint, by a worklist (a class is recomputed when a
            # child of it in the component changed; iterating a monotone map from the top in any
            # order ends at its greatest fixpoint, the same as whole passes)
            cyclic += comp
            inside = set(comp)
            readers: dict[str, list[str]] = {}
            for c in comp:
                need[c] = full
                for d in graph[c]:
                    if d in inside:
                        readers.setdefault(d, []).append(c)
            work = list(reversed(comp))
            queued = set(comp)
            while work:
                c = work.pop()
                queued.discard(c)
                new = class_need(c)
                if new != need[c]:
                    need[c] = new
                    for r in readers.get(c, ()):
                        if r not in queued:
                            queued.add(r)
                            work.append(r)
        more = {k for c in order for k in eg.classes[c] if k not in impossible
                and any(need[d] & bit[c] for d in kids[k])}
        if not more and cyclic:
            # A list node m (TCons/CCons) of a class d that is no root, where every class reading
            # d is needed below a child of m: whenever d is used, m closes a cycle, so m is
            # selected only in a class no selected node reads, which the realization never reads.
            # A list node is no fusion host, no elementwise user (the fusion rows count the ops
            # reading the list) and costs 0: it has a negative coefficient only in the child rows
            # of d's readers, which are all 0 then. So fixing m to 0 keeps every optimal
            # selection of the used classes feasible (same optimum, same realized graph) and
            # tightens the needs: on SqueezeNet the concat of one value, Cat(CCons(v, nil)) in
            # v's own class, so that the LP relaxation no longer takes v from itself. Only on a
            # cycle (d and a class reading it lie in one strongly connected component).
            on_cycle = set(cyclic)
            pars: dict[str, set[str]] = {}  # the classes reading d (all of them, on a cycle or not)
            for c in order:
                for k in eg.classes[c]:
                    if k not in impossible:
                        for d in kids[k]:
                            if d in on_cycle:
                                pars.setdefault(d, set()).add(c)
            roots = set(eg.roots)
            more = {k for d in cyclic if d not in roots and d in pars for k in eg.classes[d] if k not in impossible
                    and eg.nodes[k].op in _LISTS and all(any(need[e] & bit[pc] for e in kids[k]) for pc in pars[d])}
        if not more:
            break
        impossible |= more
    req = 0
    for r in eg.roots:
        if r in need:
            req |= need[r]
    return {c for c in order if req & bit[c]}, impossible, need, bit, set(cyclic)


def _propagate(A, lo, hi, lb, ub, integ, rounds: int = 50):
    """Bound propagation on ``lo <= A x <= hi``, ``lb <= x <= ub`` (all bounds finite): tightens
    ``lb``/``ub`` in place (integer variables rounded) and returns the mask of rows that still
    constrain something (the others hold for every ``x`` within the bounds). Only values no
    feasible point takes are cut, so the feasible set stays the same."""
    coo = A.tocoo()
    r, j, a = coo.row, coo.col, coo.data
    isint = np.asarray(integ, dtype=bool)
    m = A.shape[0]
    eps = 1e-9
    for _ in range(rounds):
        amin = np.where(a > 0, a * lb[j], a * ub[j])
        amax = np.where(a > 0, a * ub[j], a * lb[j])
        mn = np.bincount(r, weights=amin, minlength=m)
        mx = np.bincount(r, weights=amax, minlength=m)
        with np.errstate(invalid="ignore", divide="ignore"):
            from_hi = (hi[r] - (mn[r] - amin)) / a  # a x_j <= hi - (min of the rest)
            from_lo = (lo[r] - (mx[r] - amax)) / a  # a x_j >= lo - (max of the rest)
        new_ub = np.full_like(ub, np.inf)
        new_lb = np.full_like(lb, -np.inf)
        pos, neg = a > 0, a < 0
        fin_hi, fin_lo = np.isfinite(from_hi), np.isfinite(from_lo)
        np.minimum.at(new_ub, j[pos & fin_hi], from_hi[pos & fin_hi])
        np.maximum.at(new_lb, j[neg & fin_hi], from_hi[neg & fin_hi])
        np.maximum.at(new_lb, j[pos & fin_lo], from_lo[pos & fin_lo])
        np.minimum.at(new_ub, j[neg & fin_lo], from_lo[neg & fin_lo])
        new_ub = np.where(isint, np.floor(new_ub + eps), new_ub)
        new_lb = np.where(isint, np.ceil(new_lb - eps), new_lb)
        tighter_ub = new_ub < ub - eps
        tighter_lb = new_lb > lb + eps
        if not (tighter_ub.any() or tighter_lb.any()):
            break
        ub[:] = np.maximum(np.minimum(ub, new_ub), lb)
        lb[:] = np.minimum(np.maximum(lb, new_lb), ub)
    amin = np.where(a > 0, a * lb[j], a * ub[j])
    amax = np.where(a > 0, a * ub[j], a * lb[j])
    mn = np.bincount(r, weights=amin, minlength=m)
    mx = np.bincount(r, weights=amax, minlength=m)
    return ~((mn >= lo - eps) & (mx <= hi + eps))


_M1, _M2 = np.uint64(0x9E3779B97F4A7C15), np.uint64(0xBF58476D1CE4E5B9)


def _mix(x, y):
    """A 64-bit mix of two uint64 arrays (wrapping arithmetic)."""
    with np.errstate(over="ignore"):
        z = (x * _M1) ^ (y + _M2)
        z = (z ^ (z >> np.uint64(31))) * _M2
        return z ^ (z >> np.uint64(29))


def _codes(*cols) -> np.ndarray:
    """uint64 codes of the rows of the given float columns (equal rows, equal codes; position-free)."""
    arr = np.round(np.column_stack(cols).astype(np.float64), 9)
    _, inv = np.unique(arr, axis=0, return_inverse=True)
    return _mix(np.asarray(inv, dtype=np.uint64).ravel(), np.uint64(len(cols)))


def _part_order(S, c, rlo, rhi, lb, ub, integ):
    """An order of the columns and rows of one part of the 0-1 program that depends on its
    structure, not on its position: Weisfeiler-Lehman colours of the variable-row graph (costs,
    bounds and coefficients as the initial colours), ties broken by individualizing one member of
    the first tied colour and refining again (any member, when the tied ones are symmetric). Two
    parts equal up to a permutation then usually get the same permuted matrix; the reuse check
    compares the permuted data exactly, so a mismatch only costs a second solve."""
    coo = S.tocoo()
    r, j = coo.row, coo.col
    ac = _codes(coo.data) if len(coo.data) else np.zeros(0, np.uint64)
    vl = _codes(c, lb, ub, integ)
    rl = _codes(rlo, rhi) if S.shape[0] else np.zeros(0, np.uint64)

    def refine(vl, rl):
        n = len(np.unique(vl)) + len(np.unique(rl))
        while True:
            rs = np.zeros(len(rl), np.uint64)
            with np.errstate(over="ignore"):
                np.add.at(rs, r, _mix(vl[j], ac))
            rl = _mix(rl, rs)
            vs = np.zeros(len(vl), np.uint64)
            with np.errstate(over="ignore"):
                np.add.at(vs, j, _mix(rl[r], ac))
            vl = _mix(vl, vs)
            m = len(np.unique(vl)) + len(np.unique(rl))
            if m <= n:
                return vl, rl
            n = m

    vl, rl = refine(vl, rl)
    for _ in range(len(vl)):
        u, first, counts = np.unique(vl, return_index=True, return_counts=True)
        if (counts == 1).all():
            break
        k = first[np.argmax(counts > 1)]  # the first member of the smallest tied colour
        vl = vl.copy()
        vl[k] = _mix(vl[k:k + 1], np.uint64(7))[0]
        vl, rl = refine(vl, rl)
    return np.argsort(vl, kind="stable"), np.argsort(rl, kind="stable")

def _solve_components(c, A, lo, hi, lb, ub, integ, time_limit_s: float, batch_vars: int = 100):
    """Solve ``min c x`` over ``lo <= A x <= hi``, bounds, integrality, split into the independent
    parts that bound propagation leaves: the free variables and the rows still constraining them,
    one connected component at a time (rows and variables of two components share nothing, so
    the sum of their optima is the optimum). A component whose lower bounds are feasible and whose
    costs are non-negative is solved by them; the others by HiGHS with a zero gap: parts of at
    most ``batch_vars`` variables together in one call (HiGHS has a fixed cost per call), each
    larger part in a call of its own unless an equal part was solved before (then its solution
    is reused; a part whose sizes and sorted values no other part shares is solved without
    looking for one). Returns ``(x, objective, info)`` or ``(None, None, info)``."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import bmat, csr_matrix
    from scipy.sparse.csgraph import connected_components

    t0 = time.perf_counter()
    lb, ub = lb.copy(), ub.copy()
    live = _propagate(A, lo, hi, lb, ub, integ)
    free = lb < ub
    info = {"ilp_free_vars": int(free.sum()), "ilp_live_rows": int(live.sum())}
    x = lb.copy()
    fi = np.flatnonzero(free)
    rows = np.flatnonzero(live)
    Ar = A[rows]
    shift = Ar[:, ~free] @ lb[~free]  # what the fixed variables contribute to each live row
    sub = Ar[:, fi].tocsr()
    rlo, rhi = lo[rows] - shift, hi[rows] - shift
    k = sub.shape[0]
    ncomp, lab = connected_components(bmat([[None, sub], [sub.T, None]]).tocsr(), directed=False) \
        if k and len(fi) else (len(fi), np.arange(len(fi)))
    vlab, rlab = (lab[k:], lab[:k]) if k and len(fi) else (lab, np.zeros(0, int))
    vmembers = [[] for _ in range(ncomp)]
    rmembers = [[] for _ in range(ncomp)]
    for i, l in enumerate(vlab.tolist()):
        vmembers[l].append(i)
    for i, l in enumerate(rlab.tolist()):
        rmembers[l].append(i)
    # Each part's submatrix ``sub[rs][:, vs]`` cut from ``sub``'s arrays directly (two fancy
    # indexings per part were most of this function on NasRNN): a row's entries all lie in its
    # part, and ``vs`` is increasing, so the part's rows are the same entries in the same order,
    # column indices renumbered within the part (``sub`` is canonical: sorted, no duplicates).
    sub.sort_indices()
    local = np.zeros(len(fi), dtype=np.int64)
    for vs in vmembers:
        local[vs] = np.arange(len(vs))
    s_ptr, s_idx, s_dat = sub.indptr, local[sub.indices], sub.data
    row_len = np.diff(s_ptr)

    def block(parts) -> csr_matrix:
        """``sub[rs][:, vs]`` for the concatenated rows ``rs`` and columns ``vs`` of ``parts``
        (a list of (vs, rs), side by side: block diagonal)."""
        all_r = [r for _, rs in parts for r in rs]
        nv = sum(len(vs) for vs, _ in parts)
        if not all_r:
            return csr_matrix((0, nv))
        ra = np.asarray(all_r, dtype=np.int64)
        lens = row_len[ra]
        ptr = np.zeros(len(ra) + 1, dtype=s_ptr.dtype)
        np.cumsum(lens, out=ptr[1:])
        starts = s_ptr[ra]
        take = np.repeat(starts - ptr[:-1], lens) + np.arange(ptr[-1])
        idx = s_idx[take]
        if len(parts) > 1:  # column offsets of the parts side by side
            off, offs = 0, []
            for vs, rs in parts:
                offs.append(np.full(int(row_len[rs].sum()) if rs else 0, off, dtype=np.int64))
                off += len(vs)
            idx = idx + np.concatenate(offs)
        return csr_matrix((s_dat[take], idx.astype(sub.indices.dtype), ptr), shape=(len(ra), nv))
    n_milp, n_comp, n_reused, biggest, status = 0, 0, 0, 0, "Optimal"
    integ = np.asarray(integ, dtype=np.float64)
    solved: dict[bytes, np.ndarray] = {}
    small_v: list[int] = []
    small_r: list[int] = []
    small_parts: list = []
    n_small = 0

    def solve(vs, rs, S=None, parts=()):
        nonlocal n_milp, status
        n_milp += 1
        cols = fi[vs]
        if S is None:
            S = block(parts)
        left = time_limit_s - (time.perf_counter() - t0)
        res = milp(c[cols], constraints=LinearConstraint(S, rlo[rs], rhi[rs]) if len(rs) else (),
                   integrality=integ[cols], bounds=Bounds(lb[cols], ub[cols]),
                   options={"time_limit": max(1.0, left), "disp": False, "mip_rel_gap": 0.0})
        if res.x is not None and res.status != 0:
            status = res.message
        return res

    big = []  # (vs, rs, cols, cv, S) of the parts that get a HiGHS call of their own
    for comp in range(ncomp):
        vs = vmembers[comp]
        if not vs:
            continue
        n_comp += 1
        rs = rmembers[comp]
        cols = fi[vs]
        cv = c[cols]
        S = block([(vs, rs)])
        act = S @ lb[cols] if rs else np.zeros(0)
        if (cv >= 0).all() and (act >= rlo[rs] - 1e-9).all() and (act <= rhi[rs] + 1e-9).all():
            continue  # every variable at its lower bound: feasible and cheapest
        if len(vs) <= batch_vars:  # small parts: one HiGHS call for all (each call has a fixed cost)
            n_small += 1
            small_v += vs
            small_r += rs
            small_parts.append((vs, rs))
            continue
        big.append((vs, rs, cols, cv, S))

    def signature(vs, rs, cols, cv, S) -> bytes:
        """What two equal parts share whatever their order: sizes and the sorted values (-0.0 as
        0.0). A part whose signature no other part has is equal to none: no ordering, no key."""
        return b"".join([np.array([len(vs), len(rs), S.nnz], dtype=np.int64).tobytes()] + [
            np.sort(np.asarray(a, dtype=np.float64) + 0.0).tobytes()
            for a in (cv, S.data, rlo[rs], rhi[rs], lb[cols], ub[cols], integ[cols])])

    sigs = [signature(*b) for b in big] if len(big) > 1 else [b""] * len(big)
    twins = {sg for sg in sigs if sigs.count(sg) > 1}
    for (vs, rs, cols, cv, S), sg in zip(big, sigs):
        if sg not in twins:  # equal to no other part
            biggest = max(biggest, len(vs))
            res = solve(vs, rs, S)
            if res.x is None:
                info.update(ilp_components=n_comp, ilp_component_milps=n_milp)
                return None, None, {**info, "ilp_status": res.message}
            x[cols] = res.x
            continue
        # repeated structure (one part per RNN step or per identical block): a part equal to one
        # solved before, in the same column and row order, has the same solution
        vp, rp = _part_order(S, cv, rlo[rs], rhi[rs], lb[cols], ub[cols], integ[cols])
        P = S[rp][:, vp].tocsr()
        P.sort_indices()
        key = hashlib.sha1(b"".join(np.ascontiguousarray(a).tobytes() for a in (
            cv[vp], P.indptr, P.indices, P.data, rlo[rs][rp], rhi[rs][rp], lb[cols][vp], ub[cols][vp],
            integ[cols][vp]))).digest()
        if key in solved:
            x[cols[vp]] = solved[key]
            n_reused += 1
            continue
        biggest = max(biggest, len(vs))
        res = solve(vs, rs, S)
        if res.x is None:
            info.update(ilp_components=n_comp, ilp_component_milps=n_milp)
            return None, None, {**info, "ilp_status": res.message}
        x[cols] = res.x
        solved[key] = res.x[vp]
    if small_v:  # independent parts side by side: the sum of their optima is the joint optimum
        res = solve(small_v, small_r, parts=small_parts)
        if res.x is None:
            info.update(ilp_components=n_comp, ilp_component_milps=n_milp)
            return None, None, {**info, "ilp_status": res.message}
        x[fi[small_v]] = res.x
    ax = A @ x
    if not ((ax >= lo - 1e-6).all() and (ax <= hi + 1e-6).all() and (x >= lb - 1e-6).all() and (x <= ub + 1e-6).all()):
        info.update(ilp_components=n_comp, ilp_component_milps=n_milp)  # e.g. a root class with no possible node
        return None, None, {**info, "ilp_status": "infeasible (after fixing what every selection implies)"}
    info.update(ilp_components=n_comp, ilp_component_milps=n_milp, ilp_components_reused=n_reused,
                ilp_components_batched=n_small, ilp_largest_component=biggest, ilp_status=status, ilp_solve_seconds=round(time.perf_counter() - t0, 3))
    return x, float(c @ x), info


_VIEWS = ("Slice", "SliceD")


def _redundant_views(eg: _EG, costs: _Costs, k: str, d: str, direct: dict, impossible: set,
                     cheap: dict | None = None) -> set[str]:
    """The view nodes ``m`` of class ``d`` that the view node ``k`` (of class ``c``, reading ``d``)
    never needs to be combined with: ``m`` reads a class ``e`` that ``c`` also reads through a view
    node ``k2`` of its own, no dearer than ``k``.

    Exchange argument: in a selection where ``c`` takes ``k`` and ``d`` takes ``m``, ``c`` can take
    ``k2`` instead. ``e`` is selected already (``m`` reads it); views are never fusion hosts and
    carry no fusion terms, so no fusion changes (``e`` already has the user ``m``, so nothing is
    fused into ``e``'s producer); no cycle appears (``e`` is below ``d`` below ``c``); the cost does
    not grow (and drops when ``d`` is left unused). Repeating this ends (``c``'s child moves down
    each time), so some optimal selection never has ``k`` with such an ``m``, and the child row of
    ``k`` may leave them out: ``x_k <= sum of d's other nodes``. This is what removes NasRNN's weak
    LP relaxation: a slice of a merge run that is itself a slice of a longer run, next to the slice
    of the longer run, counted as two shares of it."""
    c = eg.nodes[k].cls
    mine = direct.get(c)
    if not mine:
        return set()
    ck = costs.node(eg.nodes[k])[0]
    if cheap is None:
        cheap = {}
    out = set()
    for m in eg.classes[d]:
        nm = eg.nodes[m]
        if nm.op not in _VIEWS or m in impossible:
            continue
        for e in eg.ukids[m]:
            # c's two cheapest views of e without fusion terms (a k2 other than k is among them
            # if there is one no dearer than k)
            two = cheap.get((c, e))
            if two is None:
                two = cheap[(c, e)] = sorted(
                    ((costs.node(eg.nodes[k2])[0], i, k2) for i, k2 in enumerate(mine.get(e, ()))
                     if not costs.node(eg.nodes[k2])[1]))[:2]
            if any(k2 != k and b <= ck for b, _, k2 in two):
                out.add(m)
                break
    return out


def _anchor_vars(costs: _Costs, col: dict, cost: list, ub: list, integ: list):
    """One variable z per dispatch of :meth:`_Costs.anchors` whose nodes are all selectable: 1
    exactly when the selection keeps that dispatch as analyze() forms it (rows: :func:`_anchor_rows`).
    Returns the anchors with their variable, and each member node's variable (a member's fusion
    penalty row gets ``+ z``: an anchored dispatch pays analyze()'s cost, not its nodes')."""
    anchored, member_z = [], {}
    for us, members, need, forbid in costs.anchors():
        # a node no selection reaches (an unused result of a multi-result op) is never realized
        members, need = [k for k in members if k in col], [k for k in need if k in col]
        if not members:
            continue
        z = len(cost)
        cost.append(0.0)
        ub.append(1.0)
        integ.append(0)  # the rows make it the AND of 0-1 variables
        anchored.append((z, us, members, need, [f for f in forbid if f in col]))
        for k in members:
            member_z[k] = z
    return anchored, member_z


def _z(member_z: dict, k: str) -> list:
    z = member_z.get(k)
    return [] if z is None else [(z, 1.0)]


def _original_selection(eg: _EG) -> set[str]:
    """The nodes of the input graph: the original nodes, the arguments and the operand lists they read."""
    out = set(eg.original)
    out.update(k for k, n in eg.nodes.items() if n.op == "Arg")
    todo = [d for k in eg.original for d in eg.child_classes(eg.nodes[k])]
    seen = set()
    while todo:
        d = todo.pop()
        if d in seen or not eg.classes.get(d):
            continue
        seen.add(d)
        k = eg.classes[d][0]
        if eg.nodes[k].op in _LISTS:
            out.add(k)
            todo.extend(eg.child_classes(eg.nodes[k]))
    return out


def _fallback_at_original(eg: _EG, col: dict, n_nodes: int, cost: list, integ: list, rows, cols, vals, lo, hi,
                          pen_of: list) -> dict[str, float]:
    """Each node's cost in the program (its own and its fusion penalty's) when every original node
    is selected (the input graph): the auxiliary 0-1 variables (hosting, merge-down) as large as
    their rows allow, each penalty as small as its rows allow (what the solver would pick)."""
    from scipy.sparse import coo_matrix

    nvar = len(cost)
    x = np.zeros(nvar)
    for k in _original_selection(eg):
        j = col.get(k)
        if j is not None:
            x[j] = 1.0
    A = coo_matrix((vals, (rows, cols)), shape=(len(lo), nvar)).tocsc()
    Ar = A.tocsr()
    hi_a, lo_a = np.asarray(hi, dtype=float), np.asarray(lo, dtype=float)
    integ_a = np.asarray(integ)
    aux = [j for j in range(n_nodes, nvar) if integ_a[j] == 1]
    base = Ar @ x  # node variables only (the others are 0 here)
    # column j's entries as A.getcol(j) has them (the same rows and values, explicit zeros kept, in
    # the stored order), sliced from the CSC arrays: getcol builds a sparse matrix per call
    ip, ix, dv = A.indptr, A.indices, A.data
    for j in aux:  # hosting / merge-down variables: the most each of their upper-bounding rows allows
        best = 1.0
        for r, a in zip(ix[ip[j]:ip[j + 1]], dv[ip[j]:ip[j + 1]]):
            if a > 0 and np.isfinite(hi_a[r]):
                best = min(best, math.floor((hi_a[r] - base[r]) / a + 1e-9))
        x[j] = max(0.0, best)
    act = Ar @ x
    out: dict[str, float] = {}
    for p, k in pen_of:
        if p == col[k]:
            continue  # a penalty folded into the node's own cost
        need = 0.0
        for r, a in zip(ix[ip[p]:ip[p + 1]], dv[ip[p]:ip[p + 1]]):
            if a > 0 and np.isfinite(lo_a[r]):
                need = max(need, (lo_a[r] - (act[r] - a * x[p])) / a)
        out[k] = out.get(k, 0.0) + cost[p] * min(1.0, need)
    return out


#: an anchored dispatch whose node costs already give analyze()'s cost at the input graph (to this
#: many µs) gets no rows: the anchoring rows couple neighbouring dispatches and slow the solve (all
#: 126 conv dispatches of Inception-v3 small on llvm-cpu before fused elementwise ops were costed by
#: their host's bound, :meth:`_Costs.fused_us`: HiGHS 5x slower; 1 of 126 since)
_ANCHOR_TOL_US = 1e-3


def _anchor_rows(anchored: list, col: dict, cost: list, row, ub: list, pen: dict) -> int:
    """The rows and objective of the anchored dispatches (:func:`_anchor_vars`): z <= x_k for every
    node that must be selected, z <= 1 - x_f for every node that must not, z >= sum x_need - sum
    x_forbid - (|need| - 1); z's cost is analyze()'s cost of the dispatch less its members' node
    costs (their fusion penalties are released by z). A dispatch whose node costs at the input graph
    (``pen``: :func:`_fallback_at_original`) are analyze()'s already is left out (z fixed to 0).
    Returns the number of anchored dispatches."""
    n = 0
    for z, us, members, need, forbid in anchored:
        own = sum(cost[col[k]] for k in members)
        if abs(us - own - sum(pen.get(k, 0.0) for k in members)) <= _ANCHOR_TOL_US:
            ub[z] = 0.0
            continue
        n += 1
        cost[z] = us - own
        for k in need:
            row([(z, 1.0), (col[k], -1.0)], -np.inf, 0.0)
        for f in forbid:
            row([(z, 1.0), (col[f], 1.0)], -np.inf, 1.0)
        row([(z, 1.0)] + [(col[k], -1.0) for k in need] + [(col[f], 1.0) for f in forbid], 1.0 - len(need), np.inf)
    return n


def _reachable_classes(eg) -> set:
    """The e-classes reachable from ``eg``'s roots through any node's children."""
    reach, todo = set(), list(eg.roots)
    while todo:
        c = todo.pop()
        if c in reach or c not in eg.classes:
            continue
        reach.add(c)
        for k in eg.classes[c]:
            todo.extend(eg.child_classes(eg.nodes[k]))
    return reach


def extract_ilp(eg: _EG, costs: _Costs, *, time_limit_s: float = 30.0,
                presolve: bool = False, decompose: bool = False) -> tuple[dict[str, str] | None, dict]:
    """The cheapest selection (class -> node id) by a 0-1 program; None when the solver fails.

    ``presolve``: state the classes every selection needs (:func:`_required`) as equalities, and
    fix the node of such a class when it has one selectable node. These are implied by the
    program's other rows (the same optimum); stated, they tighten the LP relaxation that HiGHS's
    branch and bound starts from. The single-user fusion condition is then written one row per
    other user instead of one big-M row (the same 0-1 solutions). Off by default: HiGHS may pick
    another of several equally cheap selections.

    ``decompose``: the same program with what every acyclic selection implies stated first
    (:func:`_needs`: the required classes as equalities, with their only possible node fixed;
    nodes that would close a cycle fixed to 0; level constraints only on components still cyclic
    without those nodes; the child row of a view without the view pairs :func:`_redundant_views`
    finds; the child row of node ``k`` of class ``c`` reading ``d`` without ``d``'s nodes that have
    a child needing ``c``, which with ``k`` would close a cycle: the same 0-1 points, a tighter LP
    relaxation), then solved in independent parts (:func:`_solve_components`), each to a zero gap. The
    optimum value is the same program's (or better than a whole solve stopped at its gap); among
    several equally cheap selections the parts may pick another one."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    t_build = time.perf_counter()
    reach = _reachable_classes(eg)
    # eg's canonical order, not a set's (that varies between processes): HiGHS's choice between
    # equally cheap selections follows the order of the rows and columns
    order = [c for c in eg.canon_classes if c in reach]
    nodes = [k for c in order for k in eg.canon_nodes[c]]
    col = {k: j for j, k in enumerate(nodes)}
    cost = [0.0] * len(nodes)
    rows, cols, vals, lo, hi = [], [], [], [], []
    ub = [1.0] * len(nodes)
    integ = [1] * len(nodes)

    def row(entries, lb, ubv):
        r = len(lo)
        for j, v in entries:
            rows.append(r)
            cols.append(j)
            vals.append(v)
        lo.append(lb)
        hi.append(ubv)

    impossible: set[str] = set()
    on_cycle = None  # the classes on a cycle, when known (decompose)
    if decompose:
        required, impossible, need, need_bit, on_cycle = _needs(eg, reach)
        required |= set(eg.roots)
    else:
        required = _required(eg, reach) if presolve else set(eg.roots)
    for c in order:
        row([(col[k], 1.0) for k in eg.classes[c]], 1.0 if c in required else 0.0, 1.0)
    n_pen = 0
    parents: dict[str, list[str]] = {}
    for k in nodes:
        for d in eg.ukids[k]:
            parents.setdefault(d, []).append(k)
    roots = set(eg.roots)
    direct: dict[str, dict[str, list[str]]] = {}  # class -> child class -> its view nodes reading it
    if decompose:
        for k in nodes:
            if eg.nodes[k].op in _VIEWS and k not in impossible:
                for e in eg.ukids[k]:
                    direct.setdefault(eg.nodes[k].cls, {}).setdefault(e, []).append(k)
    node_costs = {k: costs.node(eg.nodes[k]) for k in nodes}
    # elementwise nodes (they have a fusion penalty): an elementwise op whose only selected user is
    # elementwise joins that user's dispatch (IREE's elementwise fusion, e.g. NasRNN's
    # add(slice, slice) under its gate tree), so it pays no launch of its own
    ew_nodes = {k for k, (_, extra, xs) in node_costs.items() if extra > 1e-12 and xs and not costs.is_pad(eg.nodes[k])}
    n_merge = 0
    pen_of: list[tuple[int, str]] = []  # (penalty variable, node): the unfused elementwise nodes

    def merge_down(k: str) -> int | None:
        """A 0-1 variable: node k's class has one selected user, an elementwise node (None: never)."""
        nonlocal n_merge
        # only an op that reads slices alone (the results of a merged contraction: no dispatch can
        # host it): elsewhere the rows below would let a whole elementwise chain on an argument go
        # without a launch (the ILP charges none for a group no contraction hosts)
        ins = node_costs[k][2]
        if not ins or not all(d in reach and any(
                eg.nodes[q].op in ("Slice", "SliceD") or (eg.nodes[q].op == "Op" and costs.g.view.ops[
                    eg.lit(eg.nodes[q], 0)].name == "tensor.extract_slice") for q in eg.classes[d]) for d in ins):
            return None
        c = eg.nodes[k].cls
        us, todo, seen = [], list(parents.get(c, [])), set()
        while todo:  # through the operand lists (TCons) of opaque ops to the ops themselves
            q = todo.pop()
            if q in seen:
                continue
            seen.add(q)
            if eg.nodes[q].op in _LISTS:
                todo.extend(parents.get(eg.nodes[q].cls, []))
            else:
                us.append(q)
        ew_us = [q for q in us if q in ew_nodes and eg.nodes[q].cls != c]
        if c in roots or not ew_us:
            return None
        m = len(cost)
        cost.append(0.0)
        ub.append(1.0)
        integ.append(1)
        row([(m, 1.0), (col[k], -1.0)], -np.inf, 0.0)
        row([(m, 1.0)] + [(col[q], -1.0) for q in ew_us], -np.inf, 0.0)
        others = [q for q in us if q not in ew_us]
        for q in others:
            row([(m, 1.0), (col[q], 1.0)], -np.inf, 1.0)
        big = float(len(us))
        row([(col[q], 1.0) for q in us] + [(m, big)], -np.inf, 1.0 + big)
        n_merge += 1
        return m

    # a merged-down node pays no launch of its own. A host that is merged down still counts as a
    # host below (an experiment that made it host nothing, counting a group no contraction hosts
    # exactly, was removed: it made the cuda extraction on NasRNN small pick merges analyze() costs
    # above the objective; docs/models-and-cost.md)
    md_of = {k: merge_down(k) for k in nodes if k in ew_nodes}
    anchor_z, member_z = _anchor_vars(costs, col, cost, ub, integ)
    cheap_views: dict = {}  # _redundant_views' cache: (class, child class) -> its two cheapest views

    for k in nodes:
        n = eg.nodes[k]
        base, extra, xs = node_costs[k]
        cost[col[k]] = base
        if k in impossible:
            ub[col[k]] = 0.0
        for d in eg.ukids[k]:
            if d not in reach:
                ub[col[k]] = 0.0
                continue
            if d == n.cls:
                ub[col[k]] = 0.0  # a node that needs its own class
                continue
            skip = _redundant_views(eg, costs, k, d, direct, impossible, cheap_views) \
                if decompose and n.op in _VIEWS else ()
            if decompose and d in on_cycle:
                # d's nodes below which c is needed would close a cycle with k: never with k
                # (only where c and d lie on one cycle: c below a child of d needs a path d -> c)
                bc = need_bit[n.cls]
                skip = set(skip) | {m for m in eg.classes[d] if any(need[e] & bc for e in eg.ukids[m])}
            row([(col[k], 1.0)] + [(col[m], -1.0) for m in eg.classes[d] if m not in skip], -np.inf, 0.0)
        if extra > 1e-12 and xs:
            hosts = [m for d in xs if d in reach for m in eg.classes[d] if costs.hostable(eg.nodes[m])]
            shared = [d for d in dict.fromkeys(xs) if d in reach and (d in roots or len(
                {eg.nodes[q].cls for q in parents.get(d, [])}) > 1)]
            md = md_of.get(k)
            if not hosts and md is None:
                cost[col[k]] += extra
                pen_of.append((col[k], k))
            elif not hosts:
                p = len(cost)
                cost.append(extra)
                ub.append(1.0)
                integ.append(0)
                row([(p, 1.0), (col[k], -1.0), (md, 1.0)] + _z(member_z, k), 0.0, np.inf)
                n_pen += 1
                pen_of.append((p, k))
            elif shared:
                # cost.py fuses an elementwise op into its producer's dispatch only if it is that
                # value's single user: binary f_d (hosted by class d) needs a hostable node in d,
                # x_k, and at most one selected user of d (big-M); p >= x_k - sum f_d
                p = len(cost)
                cost.append(extra)
                ub.append(1.0)
                integ.append(0)
                fs = []
                for d in dict.fromkeys(xs):
                    hd = [m for m in eg.classes.get(d, []) if d in reach and costs.hostable(eg.nodes[m])]
                    if not hd:
                        continue
                    f = len(cost)
                    cost.append(0.0)
                    ub.append(1.0)
                    integ.append(1)
                    fs.append(f)
                    row([(f, 1.0)] + [(col[m], -1.0) for m in hd], -np.inf, 0.0)
                    row([(f, 1.0), (col[k], -1.0)], -np.inf, 0.0)
                    if d in shared and presolve:
                        # the same condition, one row per other user (a tighter LP relaxation
                        # than the big-M row below, the same 0-1 solutions): f_d + x_q <= 1
                        if d in roots:
                            ub[f] = 0.0
                        for q in parents.get(d, []):
                            if q != k:
                                row([(f, 1.0), (col[q], 1.0)], -np.inf, 1.0)
                    elif d in shared:
                        us = parents.get(d, [])
                        big = float(len(us) + (d in roots))
                        row([(col[q], 1.0) for q in us] + [(f, big)], -np.inf, 1.0 + big - (d in roots))
                row([(p, 1.0), (col[k], -1.0)] + [(f, 1.0) for f in fs] + ([(md, 1.0)] if md is not None else [])
                    + _z(member_z, k), 0.0, np.inf)
                n_pen += 1
                pen_of.append((p, k))
            elif len(hosts) < sum(len(eg.classes[d]) for d in xs if d in reach) or md is not None \
                    or any(md_of.get(m) is not None for m in hosts):
                # p >= x_n - sum(hostable x_m) - md_n: the launch and bytes of an unfused elementwise op
                p = len(cost)
                cost.append(extra)
                ub.append(1.0)
                integ.append(0)
                row([(p, 1.0), (col[k], -1.0)] + [(col[m], 1.0) for m in hosts]
                    + ([(md, 1.0)] if md is not None else []) + _z(member_z, k), 0.0, np.inf)
                n_pen += 1
                pen_of.append((p, k))
    n_anchor = _anchor_rows(anchor_z, col, cost, row, ub, _fallback_at_original(
        eg, col, len(nodes), cost, integ, rows, cols, vals, lo, hi, pen_of))
    # acyclicity on cyclic components
    if on_cycle is not None and not on_cycle:
        cyc = []  # _needs found the same class graph acyclic
    else:
        cgraph = {c: list(dict.fromkeys(d for k in eg.canon_nodes[c] if k not in impossible
                                        for d in eg.child_classes(eg.nodes[k]) if d in reach)) for c in order}
        cyc = [comp for comp in _sccs(cgraph) if len(comp) > 1]
    n_lvl = 0
    for comp in cyc:
        s = float(len(comp))
        lvl = {}
        for c in comp:
            lvl[c] = len(cost)
            cost.append(0.0)
            ub.append(s)
            integ.append(0)
        inside = set(comp)
        for c in comp:
            for k in eg.canon_nodes[c]:
                if k in impossible:
                    continue
                for d in eg.ukids[k]:
                    if d in inside and d != c:
                        # t_c - t_d >= 1 - (s + 1) (1 - x_k)
                        row([(lvl[c], 1.0), (lvl[d], -1.0), (col[k], -(s + 1))], -s, np.inf)
                        n_lvl += 1
    nvar = len(cost)
    lb = np.zeros(nvar)
    n_fixed = 0
    if presolve or decompose:
        for c in required:
            live = [k for k in eg.classes[c] if ub[col[k]] > 0.0]
            if len(live) == 1:
                lb[col[live[0]]] = 1.0
                n_fixed += 1
    A = coo_matrix((vals, (rows, cols)), shape=(len(lo), nvar)).tocsr()
    if decompose:
        info = {"ilp_vars": nvar, "ilp_rows": len(lo), "ilp_fusion_terms": n_pen, "ilp_cycle_constraints": n_lvl,
                "ilp_build_seconds": round(time.perf_counter() - t_build, 3),
                "ilp_required_classes": len(required), "ilp_fixed_nodes": n_fixed,
                "ilp_impossible_nodes": len(impossible), "ilp_merge_down_terms": n_merge,
                "ilp_anchored_dispatches": n_anchor}
        x, fun, more = _solve_components(np.array(cost), A, np.array(lo), np.array(hi), lb, np.array(ub),
                                         np.array(integ), time_limit_s)
        info.update(more)
        if x is None:
            return None, info
        info["ilp_objective_us"] = round(fun + costs.rf.invocation_us, 3)  # + the per-call constant
        info["ilp_unfused"] = sum(1 for v, _ in pen_of if x[v] > 0.5)
        info["ilp_anchors_kept"] = sum(1 for a in anchor_z if x[a[0]] > 0.5)  # anchored dispatches left intact
        if log.isEnabledFor(logging.DEBUG):
            info["ilp_unfused_nodes"] = [k for v, k in pen_of if x[v] > 0.5]
            info["ilp_intact_anchors"] = [a[2] for a in anchor_z if x[a[0]] > 0.5]
        return {c: k for c in reach for k in [max(eg.classes[c], key=lambda k: x[col[k]])] if x[col[k]] > 0.5}, info
    res = milp(np.array(cost), constraints=LinearConstraint(A, np.array(lo), np.array(hi)),
               integrality=np.array(integ), bounds=Bounds(lb, np.array(ub)),
               options={"time_limit": max(1.0, time_limit_s), "disp": False})
    info = {"ilp_vars": nvar, "ilp_rows": len(lo), "ilp_status": res.message, "ilp_fusion_terms": n_pen,
            "ilp_cycle_constraints": n_lvl, "ilp_merge_down_terms": n_merge, "ilp_anchored_dispatches": n_anchor}
    if presolve:
        info.update(ilp_required_classes=len(required), ilp_fixed_nodes=n_fixed)
    if res.x is None:
        return None, info
    info["ilp_objective_us"] = round(float(res.fun) + costs.rf.invocation_us, 3)  # + the per-call constant
    unfused = [k for v, k in pen_of if res.x[v] > 0.5]
    info["ilp_unfused"] = len(unfused)
    if log.isEnabledFor(logging.DEBUG):
        log.debug("eqsat ILP: unfused elementwise nodes %s", [
            (eg.nodes[k].op, md_of.get(k) is not None and round(float(res.x[md_of[k]]), 2),
             [eg.nodes[q].op + (f"({eg.nodes[q].kids[0]})" if eg.nodes[q].op == "Op" else "") for q in parents.get(eg.nodes[k].cls, [])])
            for k in unfused])
    sel = {}
    for c in reach:
        best = max(eg.classes[c], key=lambda k: res.x[col[k]])
        if res.x[col[best]] > 0.5:
            sel[c] = best
    return sel, info


def format_selection(eg: _EG, g: EGraphGraph, sel: dict[str, str]) -> str:
    """The extracted term as text: one ``%tN = (Ctor args)`` line per selected e-class, children
    first, lists as ``[...]``, opaque ops annotated with their MLIR op name, then the results."""
    names: dict[str, str] = {}
    lines: list[str] = []

    def arg(n: _Node, k: str) -> str:
        if k in eg.prim:
            return eg.prim[k]
        c = eg.cls_of_node[k]
        if eg.nodes[sel[c]].op in _LISTS:
            return "[" + ", ".join(names[d] for d in eg.list_classes(c, sel)) + "]"
        return names[c]

    for root in eg.roots:
        stack = [(root, False)]
        while stack:
            c, ready = stack.pop()
            if c in names:
                continue
            n = eg.nodes[sel[c]]
            kids = [d for d in eg.child_classes(n) if d not in names]
            if not ready and kids:
                stack.append((c, True))
                stack.extend((d, False) for d in kids)
                continue
            if n.op in _LISTS:
                names[c] = "list"
                continue
            names[c] = f"%t{len(lines)}"
            note = f"  ; {g.view.ops[eg.lit(n, 0)].name}" if n.op in ("Op", "Aff") else ""
            lines.append(f"{names[c]} = ({' '.join([n.op, *(arg(n, k) for k in n.kids)])}){note}")
    lines.append("(return " + " ".join(names[c] for c in eg.roots) + ")")
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# 4. Realization


class _Realizer:
    """Builds the extracted graph in a clone of the prepared model."""

    def __init__(self, eg: _EG, costs: _Costs, g: EGraphGraph, sel: dict[str, str], model: Model):
        self.eg, self.costs, self.g, self.sel = eg, costs, g, sel
        self.model = model
        self.view = GraphView(model)  # same op indices as g.view (a clone of it)
        vmap = {}
        for old_op, new_op in zip(g.view.ops, self.view.ops):
            for a, b in zip(old_op.results, new_op.results):
                vmap[a] = b
        for a, b in zip(g.view.block.arguments, self.view.block.arguments):
            vmap[a] = b
        self.vmap = vmap
        self.orig = {}
        for (ctor, items), v in g.orig.items():
            self.orig[(ctor, tuple(self._map_item(x) for x in items))] = vmap[v]
        self.term = self.view.ops[-1]
        self.val: dict[str, object] = {}
        self.consts: dict[str, np.ndarray] = {}
        self.clones: dict = {}
        self.clone_src: dict = {}  # clone -> the index of the input op it copies (_reorder)
        self._orig_idx: dict | None = None
        self.made: dict[str, int] = {}

    def _map_item(self, x):
        if isinstance(x, str):
            return x
        if isinstance(x, tuple):
            return tuple(self.vmap[v] for v in x)
        return self.vmap[x]

    def run(self) -> list[str]:
        # ops already dead in the input stay (a round trip changes nothing); the rest is erased
        live = self._live()
        keep = {op for op in self.view.ops if op not in live}
        n_ops = len(self.view.block.operations)
        new_roots = [self.value(c) for c in self.eg.roots]
        ret = self.term
        same = True
        for i, v in enumerate(new_roots):
            if ret.operands[i] != v:
                if str(ret.operands[i].type) != str(v.type):
                    raise MlirOptError(f"eqsat: extracted result {i} has type {v.type}, expected {ret.operands[i].type}")
                ret.operands[i] = v
                same = False
        changed = True
        while changed:
            changed = False
            for op in reversed(list(self.view.block.operations)):
                op = op.operation
                if op in keep or op.name in ("func.return", "util.return") or len(op.results) == 0:
                    continue
                if all(next(iter(r.uses), None) is None for r in op.results):
                    op.erase()
                    changed, same = True, False
        # the input's clone op for op: the same results, nothing erased, nothing inserted (the
        # realizer adds ops and rewires the return only; it never edits an input op)
        self.unchanged = same and len(self.view.block.operations) == n_ops
        self._reorder()
        return [r for r in self.made for _ in range(self.made[r])]

    def _reorder(self) -> None:
        """Put the function's ops back in the input's order where their dependences allow: a clone
        takes its original's place, a new op follows its last operand's producer. New and cloned ops
        are emitted at the end, children first, and program order matters to dispatch formation
        (IREE's multi-use producer fusion joins a producer to its first user, as analyze() does)."""
        import heapq

        body = [o.operation for o in self.view.block.operations]
        term = body.pop()
        pos = {op: k for k, op in enumerate(body)}
        deps: dict = {}
        users: dict = {op: [] for op in body}
        for op in body:
            ds = set()
            for sub in (op, *_ir._walk(op)):
                for v in sub.operands:
                    if isinstance(v, ir.OpResult):
                        owner = v.owner
                        owner = owner.operation if hasattr(owner, "operation") else owner
                        if owner in pos and owner != op:
                            ds.add(owner)
            deps[op] = ds
            for d in ds:
                users[d].append(op)
        key: dict = {}
        left = {op: len(ds) for op, ds in deps.items()}
        heap = []

        def push(op):
            i = self.view.index.get(op, self.clone_src.get(op))
            if i is None:
                i = max((key[d] for d in deps[op]), default=-1.0) + 0.5
            key[op] = float(i)
            heapq.heappush(heap, (key[op], pos[op], id(op), op))

        for op in body:
            if not left[op]:
                push(op)
        order = []
        while heap:
            op = heapq.heappop(heap)[3]
            order.append(op)
            for u in users[op]:
                left[u] -= 1
                if not left[u]:
                    push(u)
        if len(order) != len(body) or order == body:
            return  # (a cycle cannot happen in SSA; nothing to move)
        for op in order:
            op.move_before(term)

    def _live(self) -> set:
        """Ops of the input that the results (or ops without results) depend on."""
        v = self.view
        todo = [op for op in v.ops if len(op.results) == 0]
        live = set()
        while todo:
            op = todo.pop()
            if op in live:
                continue
            live.add(op)
            for val in v.all_operands(op):
                p = v.producer(val)
                if p is not None and p in v.index:
                    todo.append(v.ops[v.index[p]])
        return live

    # -- values ------------------------------------------------------------------------------

    def value(self, root: str):
        """Realize class ``root`` (iteratively, children first)."""
        stack = [(root, False)]
        while stack:
            c, ready = stack.pop()
            if c in self.val:
                continue
            if c not in self.sel:
                raise MlirOptError(f"eqsat: no node selected for e-class {c}")
            n = self.eg.nodes[self.sel[c]]
            # a constant expression is evaluated as a whole (numpy), its parts are not realized
            kids = [] if n.op in CONST_CTORS else [d for d in self.eg.child_classes(n) if d not in self.val]
            if not ready and kids:
                stack.append((c, True))
                stack.extend((d, False) for d in kids)
                continue
            self.val[c] = self._emit(n)
        return self.val[root]

    def _items(self, n: _Node) -> tuple:
        out = []
        for k in n.kids:
            if k in self.eg.prim:
                out.append(self.eg.prim[k])
            else:
                out.append(self.val[self.eg.cls_of_node[k]])
        return tuple(out)

    def _emit(self, n: _Node):
        if n.op in ("TNil", "CNil"):
            return ()
        if n.op == "TCons":
            head, tail = self._items(n)
            return (head, *tail)
        if n.op == "CCons":
            _, head, tail = self._items(n)
            return (head, *tail)
        if n.op in CONST_CTORS and n.op != "Leaf":
            return self._const_value(n.cls)
        items = self._items(n)
        key = (n.op, tuple(items))
        if key in self.orig:
            return self.orig[key]
        if n.op in CONST_CTORS:
            return self._const_value(n.cls)
        if n.id not in self.eg.original:
            if n.op not in ("Conv", "SB") or (n.op == "Conv" and self._folded(n)):
                self._count(n.op)
        out = getattr(self, "_emit_" + n.op)(n, items)
        i = self._orig_index().get(n.id)
        if i is not None and isinstance(out, ir.OpResult):  # an input op emitted anew: its place (_reorder)
            owner = out.owner
            self.clone_src.setdefault(owner.operation if hasattr(owner, "operation") else owner, i)
        return out

    def _orig_index(self) -> dict:
        """Original node -> the index of the input op it was translated from."""
        if self._orig_idx is None:
            idx = self.g.view.index
            self._orig_idx = {k: idx.get(v.owner.operation if hasattr(v.owner, "operation") else v.owner)
                              for v, k in self.eg.orig_node.items() if isinstance(v, ir.OpResult)}
        return self._orig_idx

    def _folded(self, n: _Node) -> bool:
        """Whether a new conv carries a folded affine link (not only a merge / enlargement)."""
        todo, seen = list(self.eg.child_classes(n)[1:]), set()
        while todo:
            c = todo.pop()
            if c in seen or c not in self.sel:
                continue
            seen.add(c)
            m = self.eg.nodes[self.sel[c]]
            if m.op in ("CAff", "CScaleW"):
                return True
            if m.op in ("CCatF", "CCatB", "CPadK"):
                todo.extend(self.eg.child_classes(m))
        return False

    def _count(self, name: str) -> None:
        self.made[name] = self.made.get(name, 0) + 1

    # -- constants ---------------------------------------------------------------------------

    def _array(self, c: str) -> np.ndarray:
        """numpy value of a constant class (through its selected node)."""
        if c in self.consts:
            return self.consts[c]
        n = self.eg.nodes[self.sel[c]] if c in self.sel else next(
            self.eg.nodes[k] for k in self.eg.classes[c] if self.eg.nodes[k].op in CONST_CTORS)
        kc = self.eg.child_classes(n)
        if n.op == "Leaf":
            v = self.g.values[self.eg.lit(n, 0)]
            arr = self.g.view.const_value(v)
            if arr is None:
                raise MlirOptError("eqsat: a leaf is not constant")
        elif n.op == "CCat":
            a, b = self._array(kc[0]), self._array(kc[1])
            arr = np.concatenate([a, b.astype(a.dtype)], axis=-1)
        elif n.op == "CCatF":
            ax = LAYOUTS[self.g.conv_attrs[self.eg.lit(n, 0)][0]]["f_out"]
            a, b = self._array(kc[0]), self._array(kc[1])
            arr = np.concatenate([a, b.astype(a.dtype)], axis=ax)
        elif n.op == "CCatB":
            ch = LAYOUTS[self.g.conv_attrs[self.eg.lit(n, 0)][0]]["ch"]
            arr = np.concatenate([self._channels(self._array(k), ch) for k in kc])
        elif n.op == "CPadK":
            name, ft, _ = self.g.fshapes[self.eg.lit(n, 2)]
            lay = LAYOUTS[name]
            w = self._array(kc[0])
            widths = [(0, 0)] * w.ndim
            for ax in lay["kdims"]:
                d = (ft[ax] - w.shape[ax]) // 2
                widths[ax] = (d, d)
            arr = np.pad(w, widths)
            if n.id not in self.eg.original:
                self._count("CPadK")  # counted here: it is realized inside a merged filter
        elif n.op == "CAdd":
            a, b = self._array(kc[0]), self._array(kc[1])
            arr = a + b.astype(a.dtype)
        elif n.op == "CMM":
            a, b = self._array(kc[0]), self._array(kc[1])
            arr = np.matmul(a.astype(np.float64), b.astype(np.float64))
        elif n.op == "CK":
            arr = self.g.sb_consts[self.eg.lit(n, 0)][0]
        elif n.op == "CMul":
            arr = self._array(kc[0]) * self._array(kc[1])
        elif n.op == "CFma":
            arr = self._array(kc[0]) * self._array(kc[1]) + self._array(kc[2])
        elif n.op == "CMat":
            w = self._array(kc[0])
            arr = w.reshape(w.shape[2], w.shape[3])
            if n.id not in self.eg.original:
                self._count("CMat")  # counted here: it may be realized inside a folded product
        elif n.op == "CVec":
            arr = self._channels(self._array(kc[0]), 3)
        elif n.op == "CZero":
            arr = np.zeros(())
        elif n.op == "CTr":
            arr = np.transpose(self._array(kc[0]), self.g.perms[self.eg.lit(n, 1)])
        elif n.op == "CAff":
            binop, x_first, vec = self.g.links[self.eg.lit(n, 0)]
            b = self._array(kc[0]).astype(np.float64)
            if b.ndim == 4:
                b = _per_channel(b)
                if b is None:
                    raise MlirOptError("eqsat: accumulator is not per channel")
            arr = {"arith.addf": lambda: b + vec, "arith.mulf": lambda: b * vec,
                   "arith.divf": lambda: b / vec}.get(binop, lambda: b - vec if x_first else vec - b)()
        elif n.op == "CScaleW":
            binop, x_first, vec = self.g.links[self.eg.lit(n, 0)]
            w = self._array(kc[0])
            s = vec[:, None, None, None]
            # in float64, as w.astype(float64) op s: the ufunc casts w's elements (exactly) as it
            # goes, without a float64 copy of the whole filter first
            arr = np.multiply(w, s, dtype=np.float64) if binop == "arith.mulf" else np.divide(
                w, s, dtype=np.float64) if binop == "arith.divf" else np.negative(w, dtype=np.float64)
        else:
            raise MlirOptError(f"eqsat: {n.op} is not a constant")
        self.consts[c] = arr
        return arr

    def _is_const(self, c: str) -> bool:
        return any(self.eg.nodes[k].op in CONST_CTORS for k in self.eg.classes.get(c, []))

    @staticmethod
    def _channels(b: np.ndarray, ch: int) -> np.ndarray:
        """The per-output-channel vector of a conv accumulator (1-D, or 4-D constant per channel)."""
        if b.ndim == 1:
            return b
        from ..rules.conv import _per_channel as per_channel
        v = per_channel(b, ch) if b.ndim == 4 else None
        if v is None:
            raise MlirOptError("eqsat: accumulator is not per channel")
        return v

    def _const_value(self, c: str):
        n = self.eg.nodes[self.sel[c]]
        if n.id not in self.eg.original and n.op not in ("CPadK", "CMat") and c not in self.costs.scalar:
            self._count(n.op)
        arr = self._array(c)
        el = self.costs.elem.get(c, "f32")
        dt = {"f32": np.float32, "f16": np.float16, "f64": np.float64}.get(el, np.float32)
        if c in self.costs.scalar:  # a fill scalar: arith.constant of the element type
            val = float(np.asarray(arr, dtype=np.float64).reshape(-1)[0])
            return self._splice(f"""func.func @s() -> {el} {{
  %c = arith.constant {val!r} : {el}
  return %c : {el}
}}""", [])
        return _ir.make_constant(np.ascontiguousarray(arr, dtype=dt), before=self.term)

    # -- ops ---------------------------------------------------------------------------------

    def _clone(self, i: int, mapping: dict):
        op = self.view.ops[i]
        ck = (i, tuple(mapping.get(v, v) for v in self.view.all_operands(op)))
        if ck in self.clones:
            return self.clones[ck]
        with ir.InsertionPoint(self.term):
            new = op.clone()
        for sub in [new, *_ir._walk(new)]:
            for j, v in enumerate(list(sub.operands)):
                if v in mapping:
                    sub.operands[j] = mapping[v]
        self.clones[ck] = new
        self.clone_src[new] = i
        return new

    def _emit_Op(self, n: _Node, items):
        i, k, args = int(items[0]), int(items[1]), items[2]
        op = self.view.ops[i]
        orig_args, seen = [], set()
        for v in self.view.all_operands(op):
            if v not in seen:
                seen.add(v)
                orig_args.append(v)
        return self._clone(i, dict(zip(orig_args, args))).results[k]

    def _emit_Aff(self, n: _Node, items):
        i, x, c = int(items[0]), items[2], items[3]
        op = self.view.ops[i]
        ox, oc = (op.operands[0], op.operands[1])
        # which operand was x: the one that is not constant in the original
        if self.g.view.is_constant(self.g.view.ops[i].operands[0]):
            ox, oc = oc, ox
        return self._clone(i, {ox: x, oc: c}).results[0]

    def _emit_Add(self, n: _Node, items):
        i, a, b = int(items[0]), items[1], items[2]
        op = self.view.ops[i]
        return self._clone(i, {op.operands[0]: a, op.operands[1]: b}).results[0]

    def _emit_Rs(self, n: _Node, items):
        i, x = int(items[0]), items[1]
        return self._clone(i, {self.view.ops[i].operands[0]: x}).results[0]

    def _emit_Cat(self, n: _Node, items):
        k, xs = int(items[0]), items[1]
        out = _ttype(self.costs.shape[n.cls], _elem(xs[0]))
        args = ", ".join(f"%x{j}: {x.type}" for j, x in enumerate(xs))
        return self._splice(f"""func.func @s({args}) -> {out} {{
  %c = tensor.concat dim({k}) {', '.join(f'%x{j}' for j in range(len(xs)))} : ({', '.join(str(x.type) for x in xs)}) -> {out}
  return %c : {out}
}}""", list(xs))

    def _emit_Ew(self, n: _Node, items):
        """The body of the representative op on a new operand: a clone if the type is the same,
        else a new generic over the operand's shape with the body moved from a clone."""
        f, x = int(items[0]), items[1]
        rep = self.view.ops[self.g.bodies[f][1]]
        if str(x.type) == str(rep.operands[0].type):
            return self._clone(self.g.bodies[f][1], {rep.operands[0]: x}).results[0]
        ein, eout = _elem(x), _elem(rep.results[0])
        shp = _shape(x)
        in_t, out_t = str(x.type), _ttype(shp, eout)
        ident = ", ".join(f"d{i}" for i in range(len(shp)))
        iters = ", ".join(['"parallel"'] * len(shp))
        new = self._splice(f"""func.func @s(%x: {in_t}) -> {out_t} {{
  %e = tensor.empty() : {out_t}
  %r = linalg.generic {{indexing_maps = [affine_map<({ident}) -> ({ident})>, affine_map<({ident}) -> ({ident})>], iterator_types = [{iters}]}} ins(%x : {in_t}) outs(%e : {out_t}) {{
  ^bb0(%a: {ein}, %o: {eout}):
    linalg.yield %o : {eout}
  }} -> {out_t}
  return %r : {out_t}
}}""", [x])
        g_new = new.owner
        g_new = g_new.operation if hasattr(g_new, "operation") else g_new
        _ir.copy_body(rep, g_new, before=self.term)
        return new

    def _emit_MMTA(self, n: _Node, items):
        return self._emit_mmt(items, "a")

    def _emit_MMTB(self, n: _Node, items):
        return self._emit_mmt(items, "b")

    def _emit_mmt(self, items, which: str):
        kind, x, y, s = int(items[0]), items[1], items[2], items[3]
        name = _KIND_NAME[kind]
        xs, ys = _shape(x), _shape(y)
        out = _ttype((*xs[:-2], xs[-1], ys[-1]) if which == "a" else (*xs[:-1], ys[-2]), _elem(x))
        if kind == 0:
            dims, maps = "d0, d1, d2", (["d2, d0", "d2, d1"] if which == "a" else ["d0, d2", "d1, d2"]) + ["d0, d1"]
        else:
            dims, maps = "d0, d1, d2, d3", (["d0, d3, d1", "d0, d3, d2"] if which == "a"
                                            else ["d0, d1, d3", "d0, d2, d3"]) + ["d0, d1, d2"]
        attr = ", ".join(f"affine_map<({dims}) -> ({m})>" for m in maps)
        return self._splice(f"""func.func @s(%x: {x.type}, %y: {y.type}, %z: {s.type}) -> {out} {{
  %e = tensor.empty() : {out}
  %f = linalg.fill ins(%z : {s.type}) outs(%e : {out}) -> {out}
  %m = {name} indexing_maps = [{attr}] ins(%x, %y : {x.type}, {y.type}) outs(%f : {out}) -> {out}
  return %m : {out}
}}""", [x, y, s])

    def _splice(self, text: str, inputs: list) -> ir.Value:
        return _ir.splice(self.term, text, inputs)[0]

    def _emit_MM(self, n: _Node, items):
        kind, x, w, s = int(items[0]), items[1], items[2], items[3]
        name = _KIND_NAME[kind]
        out = _ttype((*_shape(x)[:-1], _shape(w)[-1]), _elem(x))
        return self._splice(f"""func.func @s(%x: {x.type}, %w: {w.type}, %z: {s.type}) -> {out} {{
  %e = tensor.empty() : {out}
  %f = linalg.fill ins(%z : {s.type}) outs(%e : {out}) -> {out}
  %m = {name} ins(%x, %w : {x.type}, {w.type}) outs(%f : {out}) -> {out}
  return %m : {out}
}}""", [x, w, s])

    def _emit_BiasAdd(self, n: _Node, items):
        x, b = items
        rank = len(_shape(x))
        el = _elem(x)
        ident = ", ".join(f"d{i}" for i in range(rank))
        iters = ", ".join(['"parallel"'] * rank)
        return self._splice(f"""func.func @s(%x: {x.type}, %b: {b.type}) -> {x.type} {{
  %e = tensor.empty() : {x.type}
  %r = linalg.generic {{indexing_maps = [affine_map<({ident}) -> ({ident})>, affine_map<({ident}) -> (d{rank - 1})>, affine_map<({ident}) -> ({ident})>], iterator_types = [{iters}]}} ins(%x, %b : {x.type}, {b.type}) outs(%e : {x.type}) {{
  ^bb0(%a: {el}, %c: {el}, %o: {el}):
    %s = arith.addf %a, %c : {el}
    linalg.yield %s : {el}
  }} -> {x.type}
  return %r : {x.type}
}}""", [x, b])

    def _emit_Conv(self, n: _Node, items):
        a, x, w, b = int(items[0]), items[1], items[2], items[3]
        name, attrs, el = self.g.conv_attrs[a]
        ch = LAYOUTS[name]["ch"]
        tout = _ttype(self.costs.shape[n.cls], self.costs.elem[n.cls])
        bc = self.eg.child_classes(n)[2]
        if len(_shape(b)) == 1 and self._is_const(bc) and not np.any(self._array(bc)):
            return self._splice(f"""func.func @s(%x: {x.type}, %f: {w.type}) -> {tout} {{
  %e = tensor.empty() : {tout}
  %z = arith.constant 0.0 : {el}
  %i = linalg.fill ins(%z : {el}) outs(%e : {tout}) -> {tout}
  %r = {name} {{{attrs}}} ins(%x, %f : {x.type}, {w.type}) outs(%i : {tout}) -> {tout}
  return %r : {tout}
}}""", [x, w])
        if len(_shape(b)) == 4:
            return self._splice(f"""func.func @s(%x: {x.type}, %f: {w.type}, %i: {b.type}) -> {tout} {{
  %r = {name} {{{attrs}}} ins(%x, %f : {x.type}, {w.type}) outs(%i : {tout}) -> {tout}
  return %r : {tout}
}}""", [x, w, b])
        return self._splice(f"""func.func @s(%x: {x.type}, %f: {w.type}, %b: {b.type}) -> {tout} {{
  %e = tensor.empty() : {tout}
  %i = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d{ch})>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}} ins(%b : {b.type}) outs(%e : {tout}) {{
  ^bb0(%in: {el}, %o: {el}):
    linalg.yield %in : {el}
  }} -> {tout}
  %r = {name} {{{attrs}}} ins(%x, %f : {x.type}, {w.type}) outs(%i : {tout}) -> {tout}
  return %r : {tout}
}}""", [x, w, b])

    def _emit_SB(self, n: _Node, items):
        x = items[0]
        _, sc, sh = self.eg.child_classes(n)
        if self.eg.nodes[self.sel[sc]].op != "CK":
            self._count("SB")  # a folded chain (a single link's SB is that op rewritten, not a fold)
        return splice_scale_bias(self.term, x, self._array(sc), self._array(sh), str(x.type))

    def _emit_Col(self, n: _Node, items):
        x = items[0]
        out = _ttype(*self.g.shapes[int(items[1])])
        return self._splice(f"""func.func @s(%x: {x.type}) -> {out} {{
  %c = tensor.collapse_shape %x [[0, 1, 2], [3]] : {x.type} into {out}
  return %c : {out}
}}""", [x])

    def _emit_Exp(self, n: _Node, items):
        x = items[0]
        shape, el = self.g.shapes[int(items[1])]
        out = _ttype(shape, el)
        return self._splice(f"""func.func @s(%x: {x.type}) -> {out} {{
  %c = tensor.expand_shape %x [[0, 1, 2], [3]] output_shape [{', '.join(map(str, shape))}] : {x.type} into {out}
  return %c : {out}
}}""", [x])

    def _emit_Pad(self, n: _Node, items):
        x, (lo, hi) = items[0], self.g.pads[int(items[1])]
        el = _elem(x)
        out = _ttype(self.costs.shape[n.cls], el)
        idx = ", ".join(f"%a{k}: index" for k in range(len(lo)))
        return self._splice(f"""func.func @s(%x: {x.type}) -> {out} {{
  %z = arith.constant 0.0 : {el}
  %p = tensor.pad %x low[{', '.join(map(str, lo))}] high[{', '.join(map(str, hi))}] {{
  ^bb0({idx}):
    tensor.yield %z : {el}
  }} : {x.type} to {out}
  return %p : {out}
}}""", [x])

    def _emit_SliceD(self, n: _Node, items):
        x, d, off, size = items[0], int(items[1]), int(items[2]), int(items[3])
        s = _shape(x)
        sizes = list(s)
        sizes[d] = size
        offs = [0] * len(s)
        offs[d] = off
        inner = x.owner
        inner = inner.operation if hasattr(inner, "operation") else inner
        if isinstance(inner, ir.Operation) and inner.name == "tensor.extract_slice" and len(inner.operands) == 1 \
                and list(_ir.int_array_attr(inner, "static_strides")) == [1] * len(s) \
                and list(_ir.int_array_attr(inner, "static_sizes")) == list(s):
            # a slice of a slice is one slice of the source (multi-dim slices are nested SliceD terms)
            offs = [a + b for a, b in zip(_ir.int_array_attr(inner, "static_offsets"), offs)]
            x = inner.operands[0]
        out = _ttype(sizes, _elem(x))
        return self._splice(f"""func.func @s(%x: {x.type}) -> {out} {{
  %s = tensor.extract_slice %x[{', '.join(map(str, offs))}] [{', '.join(map(str, sizes))}] [{', '.join(['1'] * len(s))}] : {x.type} to {out}
  return %s : {out}
}}""", [x])

    def _emit_Tr(self, n: _Node, items):
        x, p = items[0], self.g.perms[int(items[1])]
        out = _ttype([_shape(x)[j] for j in p], _elem(x))
        return self._splice(f"""func.func @s(%x: {x.type}) -> {out} {{
  %e = tensor.empty() : {out}
  %t = linalg.transpose ins(%x : {x.type}) outs(%e : {out}) permutation = [{', '.join(map(str, p))}]
  return %t : {out}
}}""", [x])

    def _emit_Slice(self, n: _Node, items):
        x, off, size = items[0], int(items[1]), int(items[2])
        s = _shape(x)
        out = _ttype((*s[:-1], size), _elem(x))
        offs = ", ".join(["0"] * (len(s) - 1) + [str(off)])
        sizes = ", ".join(map(str, (*s[:-1], size)))
        strides = ", ".join(["1"] * len(s))
        return self._splice(f"""func.func @s(%x: {x.type}) -> {out} {{
  %s = tensor.extract_slice %x[{offs}] [{sizes}] [{strides}] : {x.type} to {out}
  return %s : {out}
}}""", [x])


# ------------------------------------------------------------------------------------------------
# The search


def _graph_cost(cost: CostModel, model: Model, view: GraphView | None = None) -> float:
    """``cost(model, view)``; for the roofline, :func:`..cost.analyze` directly (the same value:
    each graph is costed once here, so the cost model's cache, keyed by a structural hash of the
    whole graph, would only cost the hashing)."""
    if cost.mode == "roofline":
        return analyze(view or GraphView(model), cost.roofline).us
    return cost(model, view)


def _gone(graph: _EG, real, ctor: str) -> set:
    """Classes of original ``ctor`` nodes that the realized graph computes without that op."""
    out = set()
    for v, k in graph.orig_node.items():
        c = graph.cls_of_value[v]
        if graph.nodes[k].op == ctor and c in real.val and c in real.sel and graph.nodes[real.sel[c]].op != ctor:
            out.add(c)
    return out


# the bulk loading's table files: in memory (tmpfs) where there is one, else the default temp dir
_FACT_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


class EqSatSearch:
    """Equality saturation with egglog (see the module docs).

    Args:
        node_limit: stop saturating when the e-graph has more e-nodes than this.
        iter_limit: most iterations (each: analysis to saturation, then every rewrite ruleset once).
        time_limit_s: stop saturating after this many seconds (checked between iterations).
        ilp_time_limit_s: time limit of the extraction's integer program.
        rules: MLIR rule names whose egglog counterparts to use (default: all verified rules that
            have one, see :data:`.egg_rules.EGG_RULES`); ``[]`` for none (a round trip).
        cost: the :class:`CostModel` that costs input and result (default: roofline).
        verify: use only rules that pass numerical verification (cached on disk).
        roofline: machine parameters of the extraction's node costs.
        fast: the fast path (the default): the translation loaded into egglog as tables
            (:mod:`.egg_load`), the same e-graph in linear time. ``False`` sends one egglog
            command per value as before (super-linear in egglog 13); both extract the same graph
            (the 0-1 program is built in a canonical order); kept for comparison (tests,
            ``benchmarks/eqsat_speed.py``).
        ilp_presolve: state the classes every selection needs and fix their forced nodes, and
            write the single-user fusion condition one row per user (:func:`extract_ilp`). Same
            optimum value, but HiGHS may return another of several equally cheap selections (or
            one within its 0.01 % gap), so it is off by default.
        ilp_decompose: extract by the decomposed program (the default; :func:`extract_ilp` with
            ``decompose=True``): what every acyclic selection implies is fixed first, and the rest
            is solved as independent parts (one per block or RNN step, typically), each to a zero
            gap, with a part equal to one solved before reusing its solution. The same optimum
            (or a better one than a whole solve stopped at HiGHS's 0.01 % gap), several times
            faster on the big graphs; among equally cheap selections it may pick another one.
            ``False`` solves the whole program at once as before (as does ``ilp_presolve=True``).
    """

    name = "eqsat"

    def __init__(self, *, node_limit: int = 50_000, iter_limit: int = 16, time_limit_s: float = 30.0,
                 ilp_time_limit_s: float = 30.0, rules=None, cost: CostModel | None = None, verify: bool = True,
                 roofline: Roofline | None = None, fast: bool = True, ilp_presolve: bool = False,
                 ilp_decompose: bool = True):
        self.fast, self.ilp_presolve, self.ilp_decompose = fast, ilp_presolve, ilp_decompose
        self.node_limit, self.iter_limit, self.time_limit_s = node_limit, iter_limit, time_limit_s
        self.ilp_time_limit_s = ilp_time_limit_s
        self.rule_names, self.cost, self.verify, self.roofline = rules, cost, verify, roofline
        self.extracted: str | None = None  # the last extracted term as text (format_selection)

    def run(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        """Saturate, extract and realize, then the layout stage; returns the best graph (never
        costlier than ``model``).

        Python's cyclic garbage collector is paused while the search runs (and restored after):
        the search allocates many short-lived containers (the serialized e-graph's JSON, the 0-1
        program's rows and labels), which set off full collections whose cost grows with all the
        process holds, not with the search (0.03-0.05 s each on the zoo's graphs, at random
        points). The search's results do not depend on it; cyclic garbage it leaves is collected
        after it."""
        paused = gc.isenabled()
        gc.disable()
        try:
            res = self._run_egraph(model, target=target)
            return _layout_stage(res, self._mlir_rules, self._cost)
        finally:
            if paused:
                gc.enable()

    def _run_egraph(self, model: Model, *, target: str = "llvm-cpu") -> GraphResult:
        from egglog import bindings

        t0 = time.perf_counter()
        if self.rule_names is not None and len(self.rule_names) == 0:
            mlir_rules, cost, t_verify = [], self.cost or CostModel(target=target), 0.0
        else:
            mlir_rules, cost, t_verify = setup(self.rule_names, self.cost, self.verify, target)
        self._mlir_rules, self._cost = mlir_rules, cost
        egg = [EGG_RULES[r.name] for r in mlir_rules if r.name in EGG_RULES]
        missing = [r.name for r in mlir_rules if r.name not in EGG_RULES]
        tp = time.perf_counter()
        start = prepare(model)
        view = GraphView(start)
        t_prepare = time.perf_counter() - tp
        tc = time.perf_counter()
        ga_in = analyze(view, cost.roofline) if cost.mode == "roofline" else None  # (also the ILP's anchors)
        cost_before = ga_in.us if ga_in is not None else _graph_cost(cost, start, view)
        t_cost = time.perf_counter() - tc
        stats: dict = {"rules": [r.name for r in egg], "verify_seconds": round(t_verify, 3), "cost_unit": cost.unit,
                       "prepare_seconds": round(t_prepare, 3)}
        if missing:
            stats["no_egglog_counterpart"] = missing

        def keep_input(reason: str) -> GraphResult:
            stats.update(stop_reason=stats.get("stop_reason", reason), kept_input=reason,
                         seconds=round(time.perf_counter() - t0, 3))
            stats.setdefault("graphs_explored", 1)
            return GraphResult(start, [], cost_before, cost_before, stats)

        try:
            # 1. translate
            t1 = time.perf_counter()
            g = translate(view, fold="fold-batchnorm-into-conv" in [r.name for r in egg])
            rulesets = sorted({r.ruleset for r in egg})
            prog = [SCHEMA, ANALYSIS, *(f"(ruleset {rs})" for rs in rulesets), *(r.program() for r in egg)]
            eg = bindings.EGraph()
            if self.fast:  # the commands as tables read in bulk (egg_load: same e-graph, linear time)
                eg.run_program(*eg.parse_program("\n".join(prog)))
                with tempfile.TemporaryDirectory(prefix="mlir_opt_eqsat_", dir=_FACT_DIR) as facts:
                    bulk = bulk_program(parse_schema(SCHEMA), g.lines, Path(facts))
                    if bulk is not None:
                        try:
                            eg.run_program(*eg.parse_program(bulk))
                        except bindings.EggSmolError as err:  # a bug here must not cost the search
                            log.warning("eqsat: bulk loading failed (%s); sending the commands", err)
                            bulk = None
                            eg = bindings.EGraph()
                            eg.run_program(*eg.parse_program("\n".join(prog)))
                    if bulk is None:
                        log.debug("eqsat: sending the translation as commands")
                        eg.run_program(*eg.parse_program("\n".join(g.lines)))
                stats["bulk_load"] = bulk is not None
            else:  # one command per value (super-linear in egglog 13)
                eg.run_program(*eg.parse_program("\n".join([*prog, *g.lines])))
            stats["translate_seconds"] = round(time.perf_counter() - t1, 3)
            stats["term_nodes"] = dict(sorted(g.kinds.items()))
            # 2. saturate
            t2 = time.perf_counter()
            step = eg.parse_program("(run-schedule (saturate analysis) "
                                    + " ".join(f"(run {rs})" for rs in rulesets) + ")") if rulesets else []
            size_cmd = eg.parse_program("(print-size)")
            iters, reason, n_nodes = 0, "saturated", 0
            try:
                while True:
                    n_nodes = sum(s for name, s in eg.run_program(*size_cmd)[0].sizes if name in CTORS)
                    if n_nodes > self.node_limit:
                        reason = "node_limit"
                        break
                    if not step:
                        break
                    if iters >= self.iter_limit:
                        reason = "iteration_limit"
                        break
                    if time.perf_counter() - t2 > self.time_limit_s:
                        reason = "time_limit"
                        break
                    out = eg.run_program(*step)
                    iters += 1
                    if not out[-1].report.updated:
                        break
            except KeyboardInterrupt:
                reason = "interrupted"
            stats.update(iterations=iters, stop_reason=reason, saturation_seconds=round(time.perf_counter() - t2, 3))
            # 3. extract
            t3 = time.perf_counter()
            data = json.loads(eg.serialize([]).to_json())
            stats["serialize_seconds"] = round(time.perf_counter() - t3, 3)
            graph = _EG(data, g)
            # the extraction's machine: as given, else the cost model's roofline (the target's preset)
            rf = self.roofline or getattr(cost, "roofline", None) or Roofline.for_target(target)
            stats["roofline"] = rf.name
            costs = _Costs(graph, g, rf, ga_in if ga_in is not None and cost.roofline == rf else None)
            stats["egraph_seconds"] = round(time.perf_counter() - t3 - stats["serialize_seconds"], 3)
            stats.update(enodes=len(graph.nodes), eclasses=len(graph.classes), graphs_explored=len(graph.nodes))
            sel, info = extract_ilp(graph, costs, time_limit_s=self.ilp_time_limit_s, presolve=self.ilp_presolve,
                                    decompose=self.ilp_decompose and not self.ilp_presolve)
            stats.update(info)
            stats["extraction_seconds"] = round(time.perf_counter() - t3, 3)
            if sel is None:
                return keep_input("extraction failed: " + info["ilp_status"])
            self.extracted = format_selection(graph, g, sel)
            # 4. realize
            t4 = time.perf_counter()
            out_model = start.clone(clone_module(start.module))  # in memory: weights shared, not re-serialized
            real = _Realizer(graph, costs, g, sel, out_model)
            real.run()
            if "merge-parallel-matmuls" in stats["rules"]:
                # the e-graph merges along N with last-dim slices; write those in merge.py's
                # stacked form, whose slices are contiguous (IREE forms no copy dispatches for them)
                stats["restacked"] = restack(out_model.module, out_model.entry)
            out_model.verify()
            stats["realize_seconds"] = round(time.perf_counter() - t4, 3)
        except KeyboardInterrupt:
            stats["interrupted"] = True
            return keep_input("interrupted")
        except (MlirOptError, KeyError, ValueError, IndexError, TypeError, bindings.EggSmolError) as err:
            # a bug or an unsupported construct must not cost the user the input graph: log it
            log.warning("eqsat: keeping the input graph: %s: %s", type(err).__name__, err)
            return keep_input(f"error: {type(err).__name__}: {err}")
        applied = []
        made = real.made
        for r in egg:
            applied += [r.name] * sum(made.get(c, 0) for c in r.makes)
        # transposes that vanished (transpose-transpose to identity) are applications too
        if "transpose-transpose" in stats["rules"]:
            gone = {graph.cls_of_value[v] for v, k in graph.orig_node.items()
                    if graph.nodes[k].op == "Tr" and graph.cls_of_value[v] in real.val
                    and graph.nodes[real.sel[graph.cls_of_value[v]]].op not in ("Tr", "CTr")}
            applied += ["transpose-transpose"] * len(gone)
        for ctor, rule in (("Rs", "reshape-reshape"), ("Cat", "concat-of-slices"), ("Cat", "concat-of-elementwise"), ("SliceD", "slice-of-concat")):
            if rule in stats["rules"] and not (rule == "concat-of-elementwise" and "concat-of-slices" in stats["rules"]):
                applied += [rule] * len(_gone(graph, real, ctor))
        tc = time.perf_counter()
        if real.unchanged and not stats.get("restacked"):
            cost_after = cost_before  # the same graph as the input (a clone, op for op): the same cost
        else:
            cost_after = _graph_cost(cost, out_model, GraphView(out_model))
        stats["extracted_cost"] = cost_after  # the realized extraction's cost (kept or not; cf. ilp_objective_us)
        stats["cost_seconds"] = round(t_cost + time.perf_counter() - tc, 3)
        stats["seconds"] = round(time.perf_counter() - t0, 3)
        if not cost_after <= cost_before:
            log.info("eqsat: extracted graph costs %.3f > %.3f; keeping the input", cost_after, cost_before)
            stats["kept_input"] = f"extracted graph costs {cost_after:.3f} > {cost_before:.3f}"
            return GraphResult(start, [], cost_before, cost_before, stats)
        return GraphResult(out_model, applied, cost_before, cost_after, stats)


# -- layout stage (to-nhwc) -------------------------------------------------------------------------
# The whole-graph NCHW -> NHWC conversion (mlir_opt/graph/nhwc.py) has no egglog counterpart: the
# fold counterparts (fold-bn-*) work on NCHW convolutions, and converting a graph pays off only when
# every op between two convolutions (pools, pads, concats, generics that are opaque ``Op`` terms
# here) converts too (docs/layout-search.md). So it runs after extraction, on the extracted graph,
# and is kept when the cost model says the NHWC graph is cheaper.

def _layout_stage(res: GraphResult, mlir_rules, cost: CostModel) -> GraphResult:
    """``res`` converted to NHWC when ``to-nhwc`` is among the rules and the result is cheaper."""
    if "to-nhwc" not in [r.name for r in mlir_rules]:
        return res
    from ..nhwc import convert_to_nhwc

    missing = [n for n in res.stats.get("no_egglog_counterpart", []) if n != "to-nhwc"]
    res.stats.pop("no_egglog_counterpart", None)
    if missing:
        res.stats["no_egglog_counterpart"] = missing

    t0 = time.perf_counter()
    m = res.model.clone(clone_module(res.model.module))
    try:
        n = convert_to_nhwc(m.module, m.entry)
        if n:
            m.verify()
    except MlirOptError as err:
        log.warning("eqsat: layout stage failed: %s", err)
        res.stats["layout"] = f"failed: {err}"
        return res
    if not n:
        return res
    before = res.cost_after if res.cost_after is not None else _graph_cost(cost, res.model)
    after = _graph_cost(cost, m)
    res.stats["layout"] = {"ops_converted": n, "cost_nchw": before, "cost_nhwc": after,
                           "seconds": round(time.perf_counter() - t0, 3)}
    res.stats["seconds"] = round(res.stats.get("seconds", 0.0) + time.perf_counter() - t0, 3)
    if not after < before:
        return res
    return GraphResult(m, [*res.applied, "to-nhwc"], res.cost_before, after, res.stats)
