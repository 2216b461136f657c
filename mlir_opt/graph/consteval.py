"""Evaluate weight-only subgraphs of linalg/tensor IR with numpy.

Rules use this to read constants through the ops torch puts in front of them (transposes of
weights, broadcasts, reshapes, the ``1/sqrt(var + eps)`` chain of an inference batch-norm). Only
what is understood is evaluated; anything else gives ``None`` and the rule's precondition fails.
"""

from __future__ import annotations

import math

import numpy as np

from .. import ir as _ir

__all__ = ["evaluate", "map_to_loops", "SCALAR_OPS"]

ir = _ir.ir

_BIN = {
    "arith.addf": np.add, "arith.subf": np.subtract, "arith.mulf": np.multiply,
    "arith.divf": np.divide, "arith.maximumf": np.maximum, "arith.minimumf": np.minimum,
    "arith.maxnumf": np.fmax, "arith.minnumf": np.fmin,
}
_UN = {"arith.negf": np.negative, "math.sqrt": np.sqrt, "math.exp": np.exp, "math.tanh": np.tanh,
       "math.rsqrt": lambda x: 1 / np.sqrt(x), "math.absf": np.abs}
# arith.cmpf predicates by their integer value (mlir/Dialect/Arith/IR/ArithBase.td).
_CMP = {1: np.equal, 2: np.greater, 3: np.greater_equal, 4: np.less, 5: np.less_equal, 6: np.not_equal,
        8: np.equal, 9: np.greater, 10: np.greater_equal, 11: np.less, 12: np.less_equal, 13: np.not_equal}
_CMP_NAMES = {"oeq": 1, "ogt": 2, "oge": 3, "olt": 4, "ole": 5, "one": 6, "ueq": 8, "ugt": 9,
              "uge": 10, "ult": 11, "ule": 12, "une": 13}
SCALAR_OPS = set(_BIN) | set(_UN) | {"arith.truncf", "arith.extf", "arith.constant", "arith.cmpf",
                                     "arith.select", "cf.assert", "linalg.yield"}


def _np_dtype_of(t: ir.Type) -> np.dtype:
    s = str(t)
    if s.startswith("tensor<"):
        s = str(ir.RankedTensorType(t).element_type)
    return np.dtype(_ir.TYPE_TO_NUMPY[s])


def _shape_of(t: ir.Type) -> tuple[int, ...]:
    return tuple(ir.RankedTensorType(t).shape)


def _all_parallel(iterator_types: ir.Attribute) -> bool:
    return all("parallel" in str(a) for a in ir.ArrayAttr(iterator_types))


# by the uniqued type / attribute (pure functions of it; a miss raises as the function does)
_np_dtype = _ir.ContextCache(_np_dtype_of)
_shape = _ir.ContextCache(_shape_of)
_parallel = _ir.ContextCache(_all_parallel)


def map_to_loops(arr: np.ndarray, results: list[str], n_dims: int, loop_shape: tuple[int, ...]) -> np.ndarray:
    """View ``arr`` (read through an indexing map with ``results``) in the iteration space."""
    if len(results) != arr.ndim:
        raise ValueError("rank mismatch")
    idx, dims = [], []
    for k, e in enumerate(results):
        if e.startswith("d") and e[1:].isdigit():
            idx.append(slice(None))
            dims.append(int(e[1:]))
        elif e.isdigit():
            idx.append(int(e))
        else:
            raise ValueError(f"unsupported map result {e}")
    sub = arr[tuple(idx)]
    if len(set(dims)) != len(dims):
        raise ValueError("repeated dim")
    order = sorted(range(len(dims)), key=lambda k: dims[k])
    sub = np.transpose(sub, order)
    shape = [1] * n_dims
    for k in order:
        shape[dims[k]] = sub.shape[order.index(k)]
    return np.broadcast_to(sub.reshape(shape), loop_shape)


def _eval_generic(view, op: ir.Operation) -> list[np.ndarray] | None:
    known = view._const
    n_in = len(op.operands) - len(op.results)
    for v in list(op.operands)[:n_in]:  # an input already known not constant: no attribute parsing
        if v in known and known[v] is None:
            return None
    if not _parallel(op.attributes["iterator_types"]):
        return None
    maps = [_ir.affine_map_results(a) for a in ir.ArrayAttr(op.attributes["indexing_maps"])]
    n_out = len(op.results)
    operands = list(op.operands)
    n_in = len(operands) - n_out
    block = op.regions[0].blocks[0]
    out_shapes = [_shape(r.type) for r in op.results]
    n_dims = maps[0][0]
    loop = [None] * n_dims
    for (nd, res), shp in zip(maps[n_in:], out_shapes):
        for e, s in zip(res, shp):
            if e.startswith("d"):
                loop[int(e[1:])] = s
    if any(s is None for s in loop) or math.prod(loop) > 1 << 26:
        return None
    loop = tuple(loop)
    env: dict = {}
    arrs = []
    for k, v in enumerate(operands):  # every input first: a non-constant one fails before any numpy work
        arg = block.arguments[k]
        if k >= n_in and next(iter(arg.uses), None) is None:
            continue
        arr = view.const_value(v)
        if arr is None:
            return None
        arrs.append((k, arg, arr))
    for k, arg, arr in arrs:
        env[arg] = map_to_loops(arr, maps[k][1], n_dims, loop)
    yielded = None
    for sub in block.operations:
        sub = sub.operation
        name = sub.name
        if name == "linalg.yield":
            yielded = [env[v] for v in sub.operands]
            break
        if name == "cf.assert":
            continue

        def get(v):
            if v in env:
                return env[v]
            return view.const_value(v)

        args = [get(v) for v in sub.operands]
        if any(a is None for a in args) and name != "cf.assert":
            return None
        if name in _BIN:
            r = _BIN[name](args[0], args[1])
        elif name in _UN:
            r = _UN[name](args[0])
        elif name in ("arith.truncf", "arith.extf"):
            r = np.asarray(args[0]).astype(_np_dtype(sub.results[0].type))
        elif name == "arith.constant":
            r = _ir.constant_array(sub)
        elif name == "arith.cmpf":
            pred = str(sub.attributes["predicate"])
            p = int(pred.split(":")[0]) if pred.split(":")[0].strip().isdigit() else _CMP_NAMES.get(pred.strip(), -1)
            if p not in _CMP:
                return None
            r = _CMP[p](args[0], args[1])
        elif name == "arith.select":
            r = np.where(args[0], args[1], args[2])
        else:
            return None
        if r is None:
            return None
        if name not in ("arith.cmpf", "arith.select"):
            r = np.asarray(r).astype(_np_dtype(sub.results[0].type), copy=False)
        env[sub.results[0]] = r
    if yielded is None:
        return None
    outs = []
    for (nd, res), shp, y, r in zip(maps[n_in:], out_shapes, yielded, op.results):
        y = np.broadcast_to(np.asarray(y), loop)
        perm = [int(e[1:]) for e in res]
        if sorted(perm) != list(range(n_dims)):
            return None
        outs.append(np.ascontiguousarray(np.transpose(y, perm)).astype(_np_dtype(r.type), copy=False))
    return outs


def evaluate(view, op: ir.Operation) -> list[np.ndarray] | None:
    """Values of ``op``'s results if all its data inputs are constants, else None."""
    name = op.name
    if name == "arith.constant":
        arr = _ir.constant_array(op)
        return None if arr is None else [arr]
    if len(op.results) == 0:
        return None
    try:
        shp = _shape(op.results[0].type)
    except ValueError:
        return None
    if math.prod(shp) > 1 << 26:
        return None
    if name == "linalg.fill":
        s = view.const_value(op.operands[0])
        return None if s is None else [np.full(shp, s, dtype=_np_dtype(op.results[0].type))]
    if name == "linalg.transpose":
        x = view.const_value(op.operands[0])
        if x is None:
            return None
        return [np.ascontiguousarray(np.transpose(x, _ir.int_array_attr(op, "permutation")))]
    if name == "linalg.broadcast":  # torch's conv bias: dimensions = the added output dims
        x = view.const_value(op.operands[0])
        if x is None:
            return None
        added = _ir.int_array_attr(op, "dimensions")
        kept = [d for d in range(len(shp)) if d not in added]
        if len(kept) != x.ndim:
            return None
        full = [1] * len(shp)
        for d, s in zip(kept, x.shape):
            full[d] = s
        return [np.ascontiguousarray(np.broadcast_to(x.reshape(full), shp))]
    if name in ("tensor.expand_shape", "tensor.collapse_shape"):
        x = view.const_value(op.operands[0])
        return None if x is None else [x.reshape(shp)]
    if name == "linalg.generic":
        return _eval_generic(view, op)
    return None
