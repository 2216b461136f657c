"""Module-level packing: a model's f32 contractions rewritten as pack + ``linalg.mmt4d`` + unpack.

The ``mmt4d_script`` schedule compiles a ``linalg.mmt4d`` with a transform-dialect strategy
(``transform_scripts/mmt4d_strategy.mlir``). IREE's own data tiling makes its mmt4d ops only after
tuning specs and transform libraries have run (encodings are materialized later), so the strategy
can only reach an mmt4d that is already in the input. :func:`pack_contractions` puts it there:
each selected ``linalg.matmul`` (or unit-batch ``linalg.batch_matmul``, collapsed to a matmul
around the packed form; a ``batch_matmul`` with a batch B > 1 keeps it as the leading dim of every
packed type below and becomes a ``linalg.batch_mmt4d``, each slice packed alike) becomes

* ``linalg.pack`` of A into ``M1 x K x m0 x 1`` tiles and of B into ``N1 x K x n0 x 1`` (N-major),
  with ``padding_value`` zero when ``M`` / ``N`` are not multiples of ``m0`` / ``n0``;
* the accumulator: a ``linalg.fill`` of the packed shape when the original init is a fill (the
  usual zero init), else the init packed like C (``M1 x N1 x m0 x n0``);
* ``linalg.mmt4d`` and ``linalg.unpack`` back to ``M x N`` (padding cut off).

With ``pack_a`` 0 in the decisions (unbatched or unit-batch matmuls whose N is a multiple of ``n0``)
only B is packed, into ``N1 x K x n0`` panels; the contraction ``C[m, n1, n0] += A[m, k] * B[n1, k, n0]``
is a ``linalg.generic`` reading A in place and accumulating into C viewed as ``M x N1 x n0`` (a fill,
or the init expanded), followed by a ``util.optimization_barrier`` (so IREE forms its dispatch alone:
a fused consumer would not be tiled by the strategy) and a reshape back to ``M x N``.

IREE const-evaluates the pack of a constant weight (B) into a global initializer, so weights are
packed once at load time, as with data tiling. Ops are selected by workload key (the key
:mod:`.dispatches` gives IREE's dispatch of that op); those that cannot be packed are left as they
are, with the reason logged and returned.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from .. import ir as _ir
from ..errors import MlirOptError
from ..model import Model
from .dispatches import Workload
from .transform_script import packb_reason, packed_types

__all__ = ["PackResult", "pack_contractions", "packable_reason", "constant_rhs_keys", "CONSTANT_OPS"]

log = logging.getLogger("mlir_opt.ops")


@dataclass
class PackResult:
    """The packed model, the workloads rewritten (``key -> count``) and the ops left alone."""

    model: Model
    packed: dict[str, int] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (op / key, reason)


def packable_reason(w: Workload) -> str | None:
    """None if :func:`pack_contractions` can rewrite ``w``'s op, else why not."""
    if w.op not in ("linalg.matmul", "linalg.batch_matmul"):
        return f"{w.op} is not a matmul"
    if w.types != ("f32", "f32", "f32"):
        return f"{w.key}: the mmt4d strategy is for f32 x f32 -> f32"
    return None


def _workload_of(op) -> tuple[Workload | None, str | None]:
    from .dispatches import _standard_maps

    if len(op.operands) != 3 or len(op.results) != 1:
        return None, f"{op.name} with {len(op.operands)} operands"
    if "indexing_maps" in op.attributes and not _standard_maps(op):
        return None, f"{op.name} with transposed / broadcast operands (non-standard indexing maps)"
    try:
        w = Workload.from_types(op.name, *(str(v.type) for v in op.operands))
    except ValueError as err:
        return None, f"{op.name}: {err}"
    return w, packable_reason(w)


#: Ops whose result is known at compile time: what is computed from these alone (transposes,
#: reshapes of a weight) IREE const-evaluates into a global initializer, a pack of it included.
CONSTANT_OPS = frozenset({"arith.constant", "flow.tensor.constant"})
#: How many producer ops :func:`constant_rhs_keys` follows back from a contraction's B operand.
CONSTANT_DEPTH = 16


def _constant_derived(value, immutable: set[str], memo: dict, depth: int) -> bool:
    """True if ``value`` is computed from compile-time constants only (no function argument)."""
    owner = value.owner
    if isinstance(owner, _ir.ir.Block):
        return False  # a block argument: a function input (or a region's, which we do not follow)
    op = owner.operation if hasattr(owner, "operation") else owner
    if op in memo:
        return memo[op]
    if op.name in CONSTANT_OPS:
        got = True
    elif op.name == "util.global.load":
        got = str(op.attributes["global"]).lstrip("@") in immutable if "global" in op.attributes else False
    elif depth <= 0:
        return False  # too far back to tell (not memoized: a shorter path may still reach a constant)
    elif op.name.startswith(("util.global.load", "hal.", "flow.dispatch")):
        got = False
    else:
        got = all(_constant_derived(v, immutable, memo, depth - 1) for v in op.operands)
    memo[op] = got
    return got


def constant_rhs_keys(model: Model) -> dict[str, bool]:
    """``{workload key: True if every such contraction's B operand is a compile-time constant}``
    for the packable contractions of ``model`` (:func:`packable_reason`).

    B is constant when it is computed from ``arith.constant`` / immutable ``util.global`` values
    alone (through transposes, reshapes, …; at most :data:`CONSTANT_DEPTH` producers back): IREE then
    packs it once, at compile time, so a single-op measurement that packs B on every call
    overstates the cost of the packed route for it. Attention's ``Q·Kᵀ`` / ``P·V`` read
    activations: not constant."""
    immutable = {str(o.attributes["sym_name"]).strip('"') for o in model.module.body.operations
                 if o.operation.name == "util.global" and "is_mutable" not in o.operation.attributes}
    out: dict[str, bool] = {}
    memo: dict = {}
    for op in _ir.iter_ops(model.module):
        if op.name not in ("linalg.matmul", "linalg.batch_matmul"):
            continue
        w, why = _workload_of(op)
        if w is None or why is not None:
            continue
        const = _constant_derived(op.operands[1], immutable, memo, CONSTANT_DEPTH)
        out[w.key] = out.get(w.key, True) and const
    return out


def _fill_value(init):
    """The scalar fill value when ``init`` is the result of a ``linalg.fill``, else None."""
    try:
        owner = init.owner
    except AttributeError:
        return None
    if not isinstance(owner, _ir.ir.Operation) and hasattr(owner, "operation"):
        owner = owner.operation
    if getattr(owner, "name", None) == "linalg.fill":
        return owner.operands[0]
    return None


def _packb_snippet(w: Workload, tiles: dict, fill: bool) -> str:
    """``pack_a`` 0: B packed into ``n0``-wide panels, the B-packed contraction reading A and writing C
    in place (an init C viewed as ``M x N1 x n0``), behind a ``util.optimization_barrier`` so that IREE
    forms the contraction's dispatch alone (a fused consumer would escape the strategy's tiling), the
    result reshaped back to ``M x N``."""
    from .transform_script import packb_generic

    e = w.extents
    m, n, k, n0 = e["M"], e["N"], e["K"], tiles["n0"]
    ta, tb, tc = packed_types(w, tiles)
    lt, rt, ot = w.operand_types
    unit = "B" in e  # a unit batch (B > 1 is not packable this way: packable_reason)
    names = ("%a3", "%b3", "%c3") if unit else ("%a", "%b", "%c")
    acc_arg = "%v: f32" if fill else f"{names[2]}: {ot}"
    lc = f"tensor<{m}x{n}xf32>"
    lines = [f"func.func @s({names[0]}: {lt}, {names[1]}: {rt}, {acc_arg}) -> {ot} {{"]
    if unit:
        lines += [f"  %a = tensor.collapse_shape %a3 [[0, 1], [2]] : {lt} into {ta}",
                  f"  %b = tensor.collapse_shape %b3 [[0, 1], [2]] : {rt} into tensor<{k}x{n}xf32>"]
        if not fill:
            lines.append(f"  %c = tensor.collapse_shape %c3 [[0, 1], [2]] : {ot} into {lc}")
    lines += [f"  %eb = tensor.empty() : {tb}",
              f"  %pb = linalg.pack %b outer_dims_perm = [1, 0] inner_dims_pos = [1] inner_tiles = [{n0}]"
              f" into %eb : tensor<{k}x{n}xf32> -> {tb}"]
    if fill:
        lines += [f"  %ec = tensor.empty() : {tc}", f"  %pc = linalg.fill ins(%v : f32) outs(%ec : {tc}) -> {tc}"]
    else:
        lines.append(f"  %pc = tensor.expand_shape %c [[0], [1, 2]] output_shape [{m}, {n // n0}, {n0}]"
                     f" : {lc} into {tc}")
    lines += [packb_generic("%a", "%pb", "%pc", ta, tb, tc, result="%r4").rstrip("\n"),
              f"  %r4b = util.optimization_barrier %r4 : {tc}",
              f"  %r = tensor.collapse_shape %r4b [[0], [1, 2]] : {tc} into {lc}"]
    if unit:
        lines += [f"  %r3 = tensor.expand_shape %r [[0, 1], [2]] output_shape [1, {m}, {n}]"
                  f" : {lc} into {ot}", f"  return %r3 : {ot}"]
    else:
        lines.append(f"  return %r : {ot}")
    return "\n".join(lines + ["}"]) + "\n"


def _snippet(w: Workload, tiles: dict, fill: bool) -> str:
    if not tiles.get("pack_a", 1):
        return _packb_snippet(w, tiles, fill)
    e = w.extents
    m, n, k, m0, n0 = e["M"], e["N"], e["K"], tiles["m0"], tiles["n0"]
    ta, tb, tc = packed_types(w, tiles)
    lt, rt, ot = w.operand_types
    batch = "B" in e
    multi = e.get("B", 1) > 1  # a batch > 1 is kept: every slice packed alike, one linalg.batch_mmt4d
    pad_a = " padding_value(%zero : f32)" if m % m0 else ""
    pad_b = " padding_value(%zero : f32)" if n % n0 else ""
    pad_c = " padding_value(%zero : f32)" if (m % m0 or n % n0) else ""
    names = ("%a3", "%b3", "%c3") if batch and not multi else ("%a", "%b", "%c")
    acc_arg = "%v: f32" if fill else f"{names[2]}: {ot}"
    lines = [f"func.func @s({names[0]}: {lt}, {names[1]}: {rt}, {acc_arg}) -> {ot} {{",
             "  %zero = arith.constant 0.0 : f32"]
    if batch and not multi:
        lines += [f"  %a = tensor.collapse_shape %a3 [[0, 1], [2]] : {lt} into tensor<{m}x{k}xf32>",
                  f"  %b = tensor.collapse_shape %b3 [[0, 1], [2]] : {rt} into tensor<{k}x{n}xf32>"]
        if not fill:
            lines.append(f"  %c = tensor.collapse_shape %c3 [[0, 1], [2]] : {ot} into tensor<{m}x{n}xf32>")
    if multi:
        la, lb, lc = lt, rt, ot
        dims, perm_b, dims_b = "[1, 2]", "[0, 2, 1]", "[2, 1]"
    else:
        la, lb, lc = f"tensor<{m}x{k}xf32>", f"tensor<{k}x{n}xf32>", f"tensor<{m}x{n}xf32>"
        dims, perm_b, dims_b = "[0, 1]", "[1, 0]", "[1, 0]"
    lines += [f"  %ea = tensor.empty() : {ta}",
              f"  %pa = linalg.pack %a{pad_a} inner_dims_pos = {dims} inner_tiles = [{m0}, 1] into %ea"
              f" : {la} -> {ta}",
              f"  %eb = tensor.empty() : {tb}",
              f"  %pb = linalg.pack %b{pad_b} outer_dims_perm = {perm_b} inner_dims_pos = {dims_b}"
              f" inner_tiles = [{n0}, 1] into %eb : {lb} -> {tb}",
              f"  %ec = tensor.empty() : {tc}"]
    if fill:
        lines.append(f"  %pc = linalg.fill ins(%v : f32) outs(%ec : {tc}) -> {tc}")
    else:
        lines.append(f"  %pc = linalg.pack %c{pad_c} inner_dims_pos = {dims} inner_tiles = [{m0}, {n0}] into %ec"
                     f" : {lc} -> {tc}")
    mmt4d = "linalg.batch_mmt4d" if multi else "linalg.mmt4d"
    lines += [f"  %r4 = {mmt4d} ins(%pa, %pb : {ta}, {tb}) outs(%pc : {tc}) -> {tc}",
              f"  %e = tensor.empty() : {lc}",
              f"  %r = linalg.unpack %r4 inner_dims_pos = {dims} inner_tiles = [{m0}, {n0}] into %e"
              f" : {tc} -> {lc}"]
    if batch and not multi:
        lines += [f"  %r3 = tensor.expand_shape %r [[0, 1], [2]] output_shape [1, {m}, {n}]"
                  f" : tensor<{m}x{n}xf32> into {ot}", f"  return %r3 : {ot}"]
    else:
        lines.append(f"  return %r : {ot}")
    return "\n".join(lines + ["}"]) + "\n"


def pack_contractions(model: Model, plan: dict[str, dict], *, clone: bool = True) -> PackResult:
    """Rewrite the contractions of ``model`` whose workload key is in ``plan`` as pack + mmt4d + unpack.

    Args:
        model: the model (not modified when ``clone``).
        plan: ``{workload key: decisions}``; the decisions need ``m0`` and ``n0`` (the inner tiles
            of A and B; k0 is 1), e.g. an ``mmt4d_script`` schedule's decisions. The key ``"*"``
            applies to every packable contraction not named otherwise.
    Returns:
        :class:`PackResult`: the rewritten model (verified), the keys packed and how often, and the
        contractions left alone with the reason (also logged at INFO).
    """
    for key, d in plan.items():
        if not {"m0", "n0"} <= set(d) or d["m0"] < 1 or d["n0"] < 1:
            raise MlirOptError(f"packing plan for {key}: needs positive m0 and n0 (got {d})")
    out = model.clone() if clone else model
    res = PackResult(out)
    for fn in out.module.body.operations:
        fn = fn.operation
        if fn.name not in ("func.func", "util.func") or not fn.regions[0].blocks:
            continue
        ops = [o for o in _ir.iter_ops(fn) if o.name in ("linalg.matmul", "linalg.batch_matmul")]
        for op in ops:
            w, why = _workload_of(op)
            tiles = (plan.get(w.key) if w is not None else None) or plan.get("*")
            if tiles is None:
                continue  # not selected
            if why is not None:
                res.skipped.append((w.key if w is not None else op.name, why))
                log.info("not packed: %s", why)
                continue
            key = w.key
            if not tiles.get("pack_a", 1) and (why := packb_reason(w, tiles["n0"])):
                why = f"{key}: {why}"
                res.skipped.append((key, why))
                log.info("not packed: %s", why)
                continue
            fillv = _fill_value(op.operands[2])
            text = _snippet(w, tiles, fillv is not None)
            new = _ir.splice(op, text, [op.operands[0], op.operands[1], fillv if fillv is not None else op.operands[2]])
            init = op.operands[2]
            op.results[0].replace_all_uses_with(new[0])
            op.erase()
            owner = init.owner.operation if hasattr(init.owner, "operation") else init.owner
            if fillv is not None and next(iter(init.uses), None) is None:
                owner.erase()  # the original zero fill, now unused
            res.packed[key] = res.packed.get(key, 0) + 1
    out.verify()
    log.info("packed %s", ", ".join(f"{k} x{n}" for k, n in res.packed.items()) or "nothing")
    return res
