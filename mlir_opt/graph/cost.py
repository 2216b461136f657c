"""Graph cost: an analytic roofline estimate over IREE-like dispatches, or a measured latency.

The roofline model groups the entry function's ops the way IREE forms dispatches on llvm-cpu:

* constants, ``tensor.empty``, reshapes and ``tensor.extract_slice`` are free (metadata, or folded
  into the consumer's loads);
* ops computed from constants only (weight-only subgraphs) are free: IREE's const-eval hoists
  them into initializers that run once at load time;
* an elementwise ``linalg.generic`` whose input comes from a dispatch op used only by it is fused
  into that dispatch: its FLOPs are added, and of its bytes only its other inputs (bias, residual);
* every other op (contractions, convolutions, reductions, transposes, pads, unfused elementwise
  ops) is a dispatch: ``max(flops / peak, bytes / bandwidth) + launch overhead``; :func:`analyze`
  says which ops IREE 3.13 fuses into one dispatch (softmax, producers of reductions, ...);
* the graph's total adds the preset's fixed per-call cost (``Roofline.invocation_us``).

Costs are in microseconds. :class:`CostModel` caches costs in memory by the graph's structural
hash and has three modes: ``roofline`` (this analytic model, the default), ``measured`` (the
dispatches IREE really forms, each timed alone and cached in the tuning database:
:mod:`mlir_opt.graph.measured`) and ``whole`` (the whole candidate compiled and timed end to end
with ``iree-benchmark-module``).
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import ir as _ir
from ..model import Model
from .view import GraphView

__all__ = ["Roofline", "MAX_DISPATCH_OPERANDS", "DispatchCost", "GraphCost", "analyze", "roofline_cost", "CostModel", "COST_MODES"]

ir = _ir.ir

_FREE = {"arith.constant", "tensor.empty", "tensor.expand_shape", "tensor.collapse_shape",
         "tensor.extract_slice", "func.return", "util.return", "tensor.cast", "tensor.reshape"}
_BODY_FREE = {"linalg.yield", "cf.assert", "linalg.index", "arith.constant", "arith.index_cast"}


@dataclass(frozen=True)
class Roofline:
    """Machine parameters of the analytic model. The defaults are the ``llvm-cpu`` preset (a 2-core
    AVX2 server slice); :meth:`for_target` gives the preset of a target (``cuda``, ``vulkan``), whose
    numbers live with the target's other settings in :data:`mlir_opt.backend.targets.ROOFLINES`."""

    peak_gflops: float = 100.0
    bandwidth_gbs: float = 20.0
    dispatch_us: float = 3.0
    #: how much slower IREE's llvm-cpu backend runs a channels-first convolution (``*_nchw_*``) than
    #: the same convolution channels-last (a factor on its compute term): stride 1 with a kernel
    #: larger than 1x1, 1x1 stride 1, and stride > 1. Measured with benchmarks/conv_layout.py and
    #: benchmarks/layout.py, see docs/layout-search.md. All 1.0 makes the model layout-blind.
    conv_nchw_slowdown: float = 1.0
    conv_nchw_1x1_slowdown: float = 2.0
    conv_nchw_strided_slowdown: float = 8.0
    #: a factor on the memory term of an M = 1 contraction (a matrix-vector product, stacked or not)
    #: whose largest operand exceeds ``cache_bytes``: such weights stream from memory cold (measured on
    #: NasRNN's merged matvecs on the CPU, see ROOFLINES); 1.0 turns it off.
    matvec_stream_slowdown: float = 1.55
    cache_bytes: float = 512 * 1024
    #: a fixed cost per call of the whole graph (µs): the runtime's submission, synchronization and
    #: I/O buffer setup, paid once however many dispatches run. It shifts every candidate equally
    #: (rankings unchanged) but sets the modelled speedup ratios; fitted on the CUDA preset only.
    invocation_us: float = 0.0
    #: the preset's name (the target it models), shown in reports
    name: str = "llvm-cpu"

    @classmethod
    def for_target(cls, target) -> "Roofline":
        """The preset of ``target`` (a name or :class:`~mlir_opt.backend.Target`; ``cpu``/``host``
        mean ``llvm-cpu``)."""
        from ..backend.targets import ROOFLINES, get_target

        name = get_target(target).name
        return cls(**{**ROOFLINES[name], "name": name})


@dataclass
class DispatchCost:
    """One modelled dispatch: its root op, fused elementwise ops, FLOPs, bytes and time (µs)."""

    root: int
    name: str
    fused: list[int] = field(default_factory=list)
    flops: float = 0.0
    bytes: float = 0.0
    us: float = 0.0


@dataclass
class GraphCost:
    """Total modelled time (µs) and the dispatches it is made of."""

    us: float
    dispatches: list[DispatchCost]

    @property
    def flops(self) -> float:
        return sum(d.flops for d in self.dispatches)

    @property
    def bytes(self) -> float:
        return sum(d.bytes for d in self.dispatches)


_WIDTH = {"f16": 2, "bf16": 2, "f32": 4, "f64": 8, "i1": 1, "i8": 1, "i16": 2, "i32": 4, "i64": 8}


def _tensor_info(t: ir.Type) -> tuple[tuple[int, ...], float, str] | None:
    """``(shape, bytes, element type)`` of a ranked tensor type, None for other types."""
    try:
        rt = ir.RankedTensorType(t)
    except ValueError:
        return None
    shape, elem = tuple(rt.shape), str(rt.element_type)
    return shape, float(math.prod(shape)) * _WIDTH.get(elem, 4), elem


_type_info = _ir.ContextCache(_tensor_info)  # by the uniqued type


def _nbytes(v: ir.Value) -> float:
    info = _type_info(v.type)
    return 0.0 if info is None else info[1]


def _shape(v: ir.Value) -> list[int]:
    info = _type_info(v.type)
    if info is None:
        raise ValueError(f"not a ranked tensor type: {v.type}")
    return list(info[0])


def _flops(op: ir.Operation) -> float:
    n = op.name
    if n in ("linalg.matmul", "linalg.batch_matmul"):
        # from the result and the LHS size, so transposed operands (indexing_maps) count right
        out = float(math.prod(_shape(op.results[0])))
        rows = float(math.prod(_shape(op.results[0])[:-1]))
        k = float(math.prod(_shape(op.operands[0]))) / max(1.0, rows)
        return 2.0 * out * k
    if n == "linalg.conv_2d_ngchw_gfchw":  # grouped: out [n, g, f, h, w], filter [g, f, c, kh, kw]
        out, filt = _shape(op.results[0]), _shape(op.operands[1])
        return 2.0 * float(math.prod(out)) * float(math.prod(filt[2:]))
    if n.startswith("linalg.pooling_"):  # one op per window element
        out, window = _shape(op.results[0]), _shape(op.operands[1])
        return float(math.prod(out)) * float(math.prod(window))
    if n.startswith("linalg.conv_2d") or n.startswith("linalg.depthwise_conv"):
        out = _shape(op.results[0])
        filt = _shape(op.operands[1])
        inner = float(math.prod(filt)) / max(1, out[1] if "nchw" in n else out[-1])
        if n.startswith("linalg.depthwise"):
            inner = float(math.prod(filt[-2:] if "nchw" in n else filt[:2]))
        return 2.0 * float(math.prod(out)) * inner
    if n == "linalg.generic":
        maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(op.attributes["indexing_maps"])]
        nd = maps[0][0]
        loop = [1] * nd
        for (_, res), v in zip(maps, op.operands):
            for e, s in zip(res, _shape(v)):
                if e.startswith("d") and e[1:].isdigit():
                    loop[int(e[1:])] = max(loop[int(e[1:])], s)
        body = sum(1 for o in op.regions[0].blocks[0].operations if o.operation.name not in _BODY_FREE)
        return float(math.prod(loop)) * max(1, body)
    if op.results:
        return float(math.prod(_shape(op.results[0]))) if op.name == "linalg.fill" else 0.0
    return 0.0


def _is_elementwise(op: ir.Operation) -> bool:
    if op.name != "linalg.generic":
        return False
    return _all_parallel(op.attributes["iterator_types"])


def _iterators_parallel(iterator_types: ir.Attribute) -> bool:
    """Every iterator of an ``iterator_types`` array attribute is parallel."""
    return all("parallel" in str(a) for a in ir.ArrayAttr(iterator_types))


_all_parallel = _ir.ContextCache(_iterators_parallel)  # by the uniqued attribute


#: IREE's limit on a dispatch's operands plus results (``kIreeMaxOperandCount`` in
#: DispatchCreation, from CUDA's 16 bindings): a consumer that would push its root's dispatch past it
#: is not fused into it. Verified on NasRNN's cell: its sixteen matmul results meet in one
#: elementwise tree, which IREE 3.13 dispatches alone (tests/test_cost_targets.py).
MAX_DISPATCH_OPERANDS = 16


def analyze(view: GraphView, roofline: Roofline = Roofline()) -> GraphCost:
    """Group the ops of ``view`` into modelled dispatches and cost them (see module docs).

    Dispatches are formed the way IREE 3.13's GlobalOptimization and DispatchCreation do (checked
    against ``iree-compile`` on NasRNN, BERT and CNNs of the zoo, tests/test_cost_targets.py):

    1. elementwise fusion: an all-parallel ``linalg.generic`` (or a named ``linalg.transpose`` /
       ``linalg.broadcast``, which IREE generalizes) is merged with every elementwise producer whose
       result it is the only user of (through reshapes), so a tree of elementwise ops with many
       inputs (NasRNN's gate mixing) becomes one multi-input elementwise op;
    2. softmax: IREE raises max-reduce → subtract → exp → sum-reduce → divide to one
       ``linalg.softmax`` op: one dispatch (BERT's attention);
    3. producer fusion into reductions: an elementwise group whose only user is a reduction
       ``linalg.generic`` (not a contraction) that reads it through a permutation map is fused into it
       (LayerNorm's ``(x - mean)²`` into the variance sum; a CNN's last BN/residual/ReLU into the
       global average pool);
    4. dispatch formation: every other op is a root; walking the roots from last to first, a root
       whose result has a single user takes that user's elementwise group into its dispatch, unless
       that would give the dispatch more than :data:`MAX_DISPATCH_OPERANDS` operands + results or a
       reshape that splits a dimension (``expand_shape`` beyond unit dims, which IREE bubbles up to
       the root's result) lies between them; groups no root takes are dispatches of their own;
    5. a ``tensor.pad`` of a dispatch result that only the pad reads is free when that dispatch has
       no other result (the producer stores into the padded buffer's interior; the border is a
       fill); any other pad is a copy dispatch. A ``tensor.concat`` along the outermost non-unit dim
       is free (each operand is stream-copied into its contiguous slice: a DMA, no kernel, not
       costed); along an inner dim each operand is a strided copy dispatch.
    """
    ops = view.ops
    owner_key: dict[int, int] = {}
    memo = view.memo
    if memo is None:
        nbytes, flops = _nbytes, lambda i: _flops(ops[i])
    else:  # per-search caches (exact: FLOPs by the op's node hash, bytes by the uniqued type)
        def nbytes(v: ir.Value) -> float:
            t = v.type
            b = memo.nbytes.get(t)
            if b is None:
                b = memo.nbytes[t] = _nbytes(v)
            return b

        def flops(i: int) -> float:
            h = view.node_hash(i)
            f = memo.flops.get(h)
            if f is None:
                f = memo.flops[h] = view.by_local_key(i, "flops", _flops)
            return f

    index = view.index

    def source(v: ir.Value) -> int | None:
        """Index of the op producing ``v``, looking through free reshapes."""
        op = view.producer(v)
        while op is not None and op.name in _RESHAPES:
            op = view.producer(op.operands[0])
        return None if op is None else index.get(op)

    def sole_user(i: int) -> tuple[int | None, bool]:
        """The one op reading op ``i``'s results (through reshapes), or None; and whether a reshape
        on the way splits a dimension (an ``expand_shape`` that is not unit dims only)."""
        users, split = [], False
        for r in ops[i].results:
            users.extend(view.users(r))
        while len(users) == 1 and users[0].name in _RESHAPES:
            split = split or (users[0].name == "tensor.expand_shape" and not _unit_reshape(users[0]))
            users = list(view.users(users[0].results[0]))
        if len(users) != 1 or users[0].name == "func.return" or users[0].name == "util.return":
            return None, split
        return index.get(users[0]), split

    dmemo = None if memo is None else memo.dispatch
    active: list[int] = []
    is_active: set[int] = set()
    ew: dict[int, bool] = {}
    recs: dict[int, list] = {}
    weights: set[int] = set()  # ops computed from constants alone (structurally)
    pads: list[int] = []
    copies: list[tuple[int, ir.Value]] = []
    for i, op in enumerate(ops):
        if op.name in ("func.return", "util.return"):
            continue
        if op.name in ("arith.constant", "tensor.empty") or all(
                not isinstance(v, ir.BlockArgument) and index.get(view.producer(v)) in weights for v in op.operands):
            weights.add(i)
        if op.name in _FREE or not op.results:
            continue
        if i in weights or all(view.is_constant(r) for r in op.results):
            continue  # hoisted by IREE's const-eval (numpy cannot evaluate every weight-only op: test both)
        if op.name == "tensor.concat":
            if not _contiguous_concat(op):
                copies.extend((i, v) for v in op.operands)  # a strided copy each: a slow_memcpy dispatch
            continue  # else each operand is stream-copied into its slice (a DMA, no kernel)
        if op.name == "tensor.pad":
            src = view.producer(op.operands[0])
            if src is not None and src.name != "tensor.pad" and index.get(src) in is_active \
                    and len(view.users(op.operands[0])) == 1:
                pads.append(i)  # free if the producer's dispatch stores it into the padded buffer
                continue
        if dmemo is not None:
            h = view.node_hash(i)
            rec = dmemo.get(h)
            if rec is None:
                rec = dmemo[h] = [view.by_local_key(i, "fuses-ew", _fuses_as_elementwise), None]
            recs[i] = rec
            ew[i] = rec[0]
        else:
            ew[i] = _fuses_as_elementwise(op)
        active.append(i)
        is_active.add(i)

    # 1. elementwise groups (union-find over elementwise producer -> sole elementwise consumer)
    parent: dict[int, int] = {i: i for i in active if ew[i]}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    users_of: dict[int, int | None] = {}
    splits: dict[int, bool] = {}
    for i in active:
        users_of[i], splits[i] = sole_user(i)
    for i in active:
        if not ew[i]:
            continue
        u = users_of[i]
        if u is not None and u in parent:
            a, b = find(i), find(u)
            if a != b:
                parent[max(a, b)] = min(a, b)

    def _reduction_user(members: list[int]) -> int | None:
        """The reduction an elementwise group is fused into (IREE's elementwise fusion into a
        consumer with reduction loops), or None."""
        key = find(members[0])
        tails = [k for k in members if users_of[k] not in parent or find(users_of[k]) != key]
        if len(tails) != 1:
            return None
        t, u = tails[0], users_of[tails[0]]
        if u is None or ew.get(u, True) or splits[t]:
            return None
        res = ops[t].results
        if len(res) != 1 or ops[u] not in view.users(res[0]) or not _fusable_reduction(ops[u], res[0]):
            return None
        return u
    # multi-use producers (IREE's FuseMultiUseElementwiseProducer, two rounds): an elementwise
    # generic read by several ops joins the first of them when that one is an elementwise generic of
    # the same rank reading it directly (the fused op also yields the producer's value)
    # (after IREE's single-use elementwise fusion, which already put groups read only by a reduction
    # into that reduction: those are no all-parallel consumers any more)
    pre_groups: dict[int, list[int]] = {}
    for i in active:
        if ew[i]:
            pre_groups.setdefault(find(i), []).append(i)
    in_reduction = {m for members in pre_groups.values() if _reduction_user(members) is not None for m in members}
    for _ in range(2):
        claimed: set[int] = set()
        for g in reversed(active):
            if not ew[g] or ops[g].name != "linalg.generic" or g in in_reduction:
                continue
            for v in ops[g].operands:
                p = index.get(view.producer(v)) if view.producer(v) is not None else None
                if p is None or p not in parent or p in claimed or find(p) == find(g) \
                        or ops[p].name != "linalg.generic" or len(ops[p].results) != 1:
                    continue
                us = [index.get(u) for u in view.users(ops[p].results[0])]
                if len(us) < 2 or any(u is None or u < g for u in us) or _rank(ops[p]) != _rank(ops[g]):
                    continue
                claimed.add(p)
                a, b = find(p), find(g)
                parent[max(a, b)] = min(a, b)
                break
    groups: dict[int, list[int]] = {}
    for i in active:
        if ew[i]:
            groups.setdefault(find(i), []).append(i)

    # per op: its tensor operands' sources (index, key; through reshapes, fills and empties left
    # out) and its results' user indices; the same groups are counted for many roots
    op_io: dict[int, tuple[list, list]] = {}
    scalar: dict = {}  # type -> not a tensor (_is_scalar, by the uniqued type)

    def io(k: int) -> tuple[list, list]:
        got = op_io.get(k)
        if got is None:
            op = ops[k]
            srcs = []
            for v in op.operands:
                t = v.type
                sc = scalar.get(t)
                if sc is None:
                    sc = scalar[t] = _is_scalar(v)
                if sc:
                    continue
                src = view.producer(v)
                while src is not None and src.name in _RESHAPES:
                    src = view.producer(src.operands[0])
                if src is None or src.name in ("linalg.fill", "tensor.empty"):
                    continue
                j = index.get(src)
                srcs.append((j, j if j is not None else id(src), src))
            got = op_io[k] = (srcs, [[index.get(u) for u in view.users(r)] for r in op.results])
        return got

    def n_operands(members: set[int]) -> int:
        ext, n_res = set(), 0
        for k in members:
            srcs, res = io(k)
            for j, key, _ in srcs:
                if j not in members:
                    ext.add(key)
            for us in res:
                if any(u not in members for u in us):
                    n_res += 1
        return len(ext) + n_res

    taken: dict[int, int] = {}  # group key -> the root whose dispatch it joins
    absorbed: dict[int, int] = {}  # non-elementwise op -> the root whose dispatch it joins (softmax)
    producers: dict[int, list[int]] = {}  # root -> the group keys fused into it as producers

    # 2. softmax (IREE's RaiseSpecialOps): one dispatch rooted at the max reduction
    for i in active:
        sm = _softmax(view, ops, i, users_of, ew, find, index) if not ew[i] and i not in absorbed else None
        if sm is None:
            continue
        keys, r2 = sm
        absorbed[r2] = i
        for key in keys:
            taken[key] = i

    # 3. an elementwise group read only by a (non-contraction) reduction joins the reduction
    for key, members in groups.items():
        if key in taken:
            continue
        u = _reduction_user(members)
        if u is None or u in absorbed:
            continue
        if n_operands({u, *members, *(m for k in producers.get(u, []) for m in groups[k])}) > MAX_DISPATCH_OPERANDS:
            continue
        producers.setdefault(u, []).append(key)
        taken[key] = u

    # 4. roots take the elementwise group of their sole user (last root first), within IREE's limit
    for i in reversed(active):
        if ew[i] or i in absorbed:
            continue
        u = users_of[i]
        if u is None or u not in parent or splits[i]:
            continue
        key = find(u)
        if key in taken:
            continue
        members = groups[key]
        if any(splits[k] for k in members if users_of[k] in parent and find(users_of[k]) == key):
            continue  # a split reshape inside the group: IREE bubbles it up between root and group
        inner = [m for k in producers.get(i, []) for m in groups[k]]
        if n_operands({i, *inner, *members}) <= MAX_DISPATCH_OPERANDS:
            taken[key] = i

    # 5. cost: a root's FLOPs and bytes (reads, accumulator reads, writes), plus for every op fused
    # into it its FLOPs and the bytes of the inputs it reads from outside the dispatch
    dispatches: list[DispatchCost] = []
    by_root: dict[int, DispatchCost] = {}

    def root_cost(i: int, inside: set[int] | None = None) -> DispatchCost:
        op = ops[i]
        rec = recs.get(i) if inside is None else None
        if rec is not None and rec[1] is not None:
            return DispatchCost(i, op.name, flops=rec[1][0], bytes=rec[1][1])
        d = DispatchCost(i, op.name, flops=flops(i))
        n_out = len(op.results)
        ins = list(op.operands)[: len(op.operands) - n_out] if op.name.startswith("linalg.") else list(op.operands)
        if inside:  # inputs computed by producers fused into this dispatch are not read
            ins = [v for v in ins if source(v) not in inside]
        init_reads = []
        if op.name.startswith("linalg.") and op.name not in ("linalg.fill", "linalg.transpose"):
            # an accumulator that is not a fill/empty is read
            for v in list(op.operands)[len(op.operands) - n_out:]:
                src = view.producer(v)
                if src is None or src.name in ("tensor.empty", "linalg.fill"):
                    continue
                if src.name in ("linalg.generic", "linalg.broadcast") and view.is_constant(v):
                    # a broadcast of a constant (a bias): IREE fuses it into this dispatch
                    init_reads.extend(w for w in list(src.operands)[:-1])
                else:
                    init_reads.append(v)
        d.bytes = sum(nbytes(v) for v in ins if not _is_scalar(v)) + sum(map(nbytes, init_reads)) \
            + sum(nbytes(r) for r in op.results)
        if rec is not None:
            rec[1] = (d.flops, d.bytes)
        return d

    members_of: dict[int, list[int]] = {}  # host -> ops fused into it
    for key, members in groups.items():
        host = taken.get(key, members[0])
        members_of.setdefault(host, []).extend(k for k in members if k != host)
    for j, host in absorbed.items():
        members_of.setdefault(host, []).append(j)
    for i in active:
        if (not ew[i] and i not in absorbed) or (ew[i] and i == groups[find(i)][0] and find(i) not in taken):
            fused = members_of.get(i, [])
            pre = {m for k in producers.get(i, []) for m in groups[k]} | set(_absorbed_by(absorbed, i))
            d = root_cost(i, {i, *fused} if pre else None)
            by_root[i] = d
            dispatches.append(d)
            owner_key[i] = i
    for host, fused in members_of.items():
        d = by_root[host]
        inside = {host, *fused}
        for k in sorted(fused):
            d.fused.append(k)
            d.flops += flops(k)
            op = ops[k]
            ins = list(op.operands)[: len(op.operands) - len(op.results)]
            d.bytes += sum(nbytes(v) for v in ins if not _is_scalar(v) and source(v) not in inside)
    # a pad is stored by its producer's dispatch only if that dispatch has no other result
    host_of = {k: h for h, fused in members_of.items() for k in fused}
    for p in pads:
        src = source(ops[p].operands[0])
        host = host_of.get(src, src)
        inside = {host, *members_of.get(host, [])}
        outs = sum(1 for k in inside for r in ops[k].results
                   if any(index.get(u) not in inside for u in view.users(r)))
        if outs > 1:
            nb = nbytes(ops[p].operands[0]) + nbytes(ops[p].results[0])
            dispatches.append(DispatchCost(p, "tensor.pad", bytes=nb))
    for c, v in copies:
        dispatches.append(DispatchCost(c, "tensor.concat", bytes=2 * nbytes(v)))
    for d in dispatches:
        slow = _nchw_slowdown(ops[d.root], roofline) if _is_nchw_conv(d.name) else 1.0
        mem = d.bytes
        if roofline.matvec_stream_slowdown != 1.0 and _is_streaming_matvec(ops[d.root], roofline):
            mem *= roofline.matvec_stream_slowdown
        d.us = max(slow * d.flops / (roofline.peak_gflops * 1e3), mem / (roofline.bandwidth_gbs * 1e3)) \
            + roofline.dispatch_us
    dispatches.sort(key=lambda d: d.root)
    return GraphCost(sum(d.us for d in dispatches) + roofline.invocation_us, dispatches)


def _absorbed_by(absorbed: dict[int, int], host: int) -> list[int]:
    """The non-elementwise ops fused into ``host``'s dispatch (a softmax's sum reduction)."""
    return [j for j, h in absorbed.items() if h == host]


def _fuses_as_elementwise(op: ir.Operation) -> bool:
    """An op IREE fuses like an elementwise one: an all-parallel ``linalg.generic``, or a named
    ``linalg.transpose`` / ``linalg.broadcast`` (generalized to such a generic before fusion)."""
    return op.name in ("linalg.transpose", "linalg.broadcast") or _is_elementwise(op)


def _contiguous_concat(op: ir.Operation) -> bool:
    """A concat along the outermost non-unit dim of its result (each operand one contiguous block)."""
    try:
        dim = ir.IntegerAttr(op.attributes["dim"]).value
        return all(d == 1 for d in _shape(op.results[0])[:dim])
    except (KeyError, ValueError):
        return False


def _rank(op: ir.Operation) -> int:
    try:
        return len(_shape(op.results[0]))
    except ValueError:
        return -1


def _unit_reshape(op: ir.Operation) -> bool:
    """A reshape that only adds or drops unit dims (IREE folds it away)."""
    try:
        a, b = _shape(op.operands[0]), _shape(op.results[0])
    except ValueError:
        return False
    return [d for d in a if d != 1] == [d for d in b if d != 1]


def _body_ops(op: ir.Operation) -> list[str]:
    return [o.operation.name for o in op.regions[0].blocks[0].operations]


def _reduction_dims(op: ir.Operation) -> int:
    if op.name != "linalg.generic":
        return 0
    return sum("reduction" in str(a) for a in ir.ArrayAttr(op.attributes["iterator_types"]))


def _fusable_reduction(op: ir.Operation, value: ir.Value) -> bool:
    """Whether IREE's elementwise fusion fuses a producer of ``value`` into reduction ``op``: a
    ``linalg.generic`` with reduction loops that is no contraction (one input, or no multiply-add
    body), reading ``value`` through a permutation (no broadcast) of its loops."""
    if _reduction_dims(op) == 0:
        return False
    n_in = len(op.operands) - len(op.results)
    maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(op.attributes["indexing_maps"])]
    if any(not all((e.startswith("d") and e[1:].isdigit()) or e.isdigit() for e in res) for _, res in maps):
        return False  # a convolution-like access (d1 + d4)
    if n_in >= 2 and {"arith.mulf", "arith.addf"} <= set(_body_ops(op)):
        return False  # a contraction
    for k, v in enumerate(list(op.operands)[:n_in]):
        if v == value:
            nd, res = maps[k]
            if len(res) != nd or len(set(res)) != nd or not all(e.startswith("d") for e in res):
                return False
    return True


def _softmax(view: GraphView, ops, i: int, users_of, ew, find, index):
    """If op ``i`` is the max reduction of a decomposed softmax (max, x - max, exp, sum, exp / sum:
    IREE 3.13 raises it to one ``linalg.softmax``), ``(group keys of its elementwise ops, the sum
    reduction)``, else None."""
    op = ops[i]
    if _reduction_dims(op) != 1 or not any(b in _body_ops(op) for b in ("arith.maximumf", "arith.maxnumf")):
        return None
    s = users_of.get(i)
    if s is None or not ew.get(s) or ops[s].name != "linalg.generic" or "arith.subf" not in _body_ops(ops[s]):
        return None
    x = ops[i].operands[0]
    if not any(v == x for v in ops[s].operands):
        return None
    # follow the elementwise chain from the subtraction to the exp; its result has two users
    e = s
    while "math.exp" not in set(_body_ops(ops[e])):
        n = users_of.get(e)
        if n is None or not ew.get(n) or ops[n].name != "linalg.generic":
            return None
        e = n
    users = [index.get(u) for u in view.users(ops[e].results[0])]
    if len(users) != 2:
        return None
    r2 = next((u for u in users if u is not None and not ew.get(u, True) and _reduction_dims(ops[u]) == 1
               and "arith.addf" in _body_ops(ops[u])), None)
    d = next((u for u in users if u is not None and u != r2 and ew.get(u)), None)
    if r2 is None or d is None or users_of.get(r2) != d:
        return None
    if not {"arith.divf", "arith.mulf"} & set(_body_ops(ops[d])):
        return None
    return sorted({find(s), find(e), find(d)}), r2


_RESHAPES = ("tensor.expand_shape", "tensor.collapse_shape")


def _is_streaming_matvec(op: ir.Operation, roofline: Roofline) -> bool:
    """An M = 1 contraction (matrix-vector product, or a stack of them) whose largest operand does not
    fit ``roofline.cache_bytes`` (a weight as large as the cache does not fit beside the rest)."""
    if op.name not in ("linalg.matmul", "linalg.batch_matmul", "linalg.generic") or not op.results:
        return False
    if op.name == "linalg.generic":
        iters = [str(a) for a in ir.ArrayAttr(op.attributes["iterator_types"])]
        if not any("reduction" in s for s in iters) or len(op.regions[0].blocks[0].operations) != 3:
            return False  # not a multiply-add contraction
    try:
        out = _shape(op.results[0])
    except ValueError:
        return False
    n_in = len(op.operands) - len(op.results)
    return _streams_weights(out, (_nbytes(v) for v in list(op.operands)[:n_in]), roofline)


def _streams_weights(out_shape, in_bytes, roofline: Roofline) -> bool:
    """The M = 1 weight-streaming condition of a contraction, on its result shape and its inputs'
    bytes: a result ``[..., 1, N]`` and an input of at least ``roofline.cache_bytes``. The one
    predicate of :func:`_is_streaming_matvec` (ops) and of eqsat's ``MM`` node costs (e-classes)."""
    if len(out_shape) < 2 or out_shape[-2] != 1:
        return False
    return max(in_bytes, default=0.0) >= roofline.cache_bytes


def _is_nchw_conv(name: str) -> bool:
    """A channels-first convolution (the layout IREE's CPU backend runs slower)."""
    return "conv" in name and "nchw" in name


def _nchw_slowdown(op: ir.Operation, roofline: Roofline) -> float:
    """The layout factor of a channels-first convolution (see :class:`Roofline`)."""
    if "strides" in op.attributes and any(s != 1 for s in _ir.int_array_attr(op, "strides")):
        return roofline.conv_nchw_strided_slowdown
    if all(k == 1 for k in _shape(op.operands[1])[-2:]):
        return roofline.conv_nchw_1x1_slowdown
    return roofline.conv_nchw_slowdown


def _is_scalar(v: ir.Value) -> bool:
    return not str(v.type).startswith("tensor<")


def roofline_cost(model: "Model | GraphView", roofline: Roofline = Roofline()) -> float:
    """Modelled time of a model's entry function in µs."""
    view = model if isinstance(model, GraphView) else GraphView(model)
    return analyze(view, roofline).us


#: Graph cost modes: analytic roofline over modelled dispatches (default); the sum of IREE's real
#: dispatches each timed alone and cached in the tuning database; the whole candidate timed end to end.
COST_MODES = ("roofline", "measured", "whole")


class CostModel:
    """Graph cost in µs with an in-memory cache keyed by the structural hash.

    Modes:
        ``roofline`` (default): :func:`analyze` — FLOPs and bytes of modelled IREE dispatches.
        ``measured``: :class:`~mlir_opt.graph.measured.DispatchCostModel` — the dispatches IREE
            actually forms for the candidate, each compiled and timed alone (µs × invocations), cached
            persistently in the tuning database by dispatch signature + target; a dispatch seen in any
            earlier graph or run is not compiled again.
        ``whole``: compile the whole candidate with IREE and take its median end-to-end latency.

    Args:
        mode: one of :data:`COST_MODES`.
        measure: deprecated alias of ``mode="whole"``.
        target: IREE target for measuring.
        reps: timing repetitions when measuring.
        threads: CPU threads when measuring.
        roofline: machine parameters of the analytic model (default: the preset of ``target``,
            :meth:`Roofline.for_target`).
        db: tuning database (a :class:`~mlir_opt.db.Database` or path) for ``measured``.
    """

    def __init__(self, *, mode: str | None = None, measure: bool = False, target: str = "llvm-cpu", reps: int = 5,
                 threads: int | None = None, roofline: Roofline | None = None, db=None):
        from ..errors import MlirOptError

        mode = mode or ("whole" if measure else "roofline")
        if mode not in COST_MODES:
            raise MlirOptError(f"unknown graph cost '{mode}' (choose from {', '.join(COST_MODES)})")
        self.mode = mode
        self.measure = mode != "roofline"
        self.target = target
        self.reps = reps
        self.threads = threads
        self.roofline = roofline if roofline is not None else Roofline.for_target(target)
        self.cache: dict[str, float] = {}
        self.hits = 0
        self.failures: list[str] = []
        self.dispatch_model = None
        if mode == "measured":
            from .measured import DispatchCostModel

            self.dispatch_model = DispatchCostModel(target, db=db, reps=reps, threads=threads)

    @property
    def unit(self) -> str:
        if self.mode == "roofline":
            return f"us (roofline {self.roofline.name})"
        return {"roofline": "us (roofline)", "measured": "us (measured dispatches)",
                "whole": "us (measured median)"}[self.mode]

    def __call__(self, model: Model, view: GraphView | None = None) -> float:
        """Cost of ``model`` in µs (``inf`` when measuring fails; the reason is kept in ``failures``)."""
        view = view or GraphView(model)
        key = view.structural_hash()
        if key in self.cache:
            self.hits += 1
            return self.cache[key]
        if self.mode == "roofline":
            cost = analyze(view, self.roofline).us
        elif self.mode == "whole":
            cost = self._measured(model)
        else:
            from ..errors import MlirOptError

            try:
                cost = self.dispatch_model(model)
            except MlirOptError as err:
                self.failures.append(str(err))
                cost = float("inf")
            if cost == float("inf") and self.dispatch_model.last:
                self.failures += [f"{d.name}: {d.error}" for d in self.dispatch_model.last if d.error]
        self.cache[key] = cost
        return cost

    def stats(self) -> dict:
        """Counters for search statistics (dispatch compiles and database hits when measuring)."""
        st = {"cost_mode": self.mode, "cost_cache_hits": self.hits}
        if self.mode == "roofline":
            st["roofline"] = self.roofline.name
        if self.dispatch_model is not None:
            st.update(self.dispatch_model.stats())
        if self.failures:
            st["cost_failures"] = self.failures[:10]
        return st

    def _measured(self, model: Model) -> float:
        from ..backend import benchmark_many, compile_module

        with tempfile.TemporaryDirectory(prefix="mlir_opt_cost_") as tmp:
            vmfb = Path(tmp) / "m.vmfb"
            res = compile_module(model.bytecode(), self.target, output=vmfb, raise_on_error=False)
            if not res.ok:
                self.failures.append(res.error or "compile failed")
                return float("inf")
            t = benchmark_many({"m": vmfb}, model.random_inputs(0), entry=model.entry, target=self.target,
                               reps=self.reps, rounds=1, threads=self.threads)["m"]
            return t.median_ms * 1e3
