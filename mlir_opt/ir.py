"""The one module that talks to IREE's MLIR Python bindings.

Everything else in mlir_opt goes through these helpers, so a change of binding version touches one
file. Errors from the bindings are turned into :class:`~mlir_opt.errors.MlirOptError` with the
first diagnostic's location (file:line:col) and message.
"""

from __future__ import annotations

import functools

import io
import re
from dataclasses import dataclass
from typing import Iterator

from iree.compiler import ir, passmanager  # noqa: F401  (re-exported for the rest of the package)

from .errors import MlirOptError

__all__ = [
    "MATMUL_LIKE_MAPS", "matmul_like_generic",
    "ir",
    "passmanager",
    "new_context",
    "parse",
    "run_pipeline",
    "to_bytecode",
    "to_text",
    "op_names",
    "public_funcs",
    "FuncSignature",
    "func_signature",
    "TYPE_TO_NUMPY",
    "iter_ops",
    "resource_blobs",
    "materialize_resources",
    "bytecode_resource_blobs",
    "ContextCache",
    "constant_array",
    "make_constant",
    "affine_map_results",
    "int_array_attr",
    "entry_block",
    "splice",
    "copy_body",
    "erase_dead",
]

# MLIR element type spelling -> numpy dtype name.
TYPE_TO_NUMPY = {
    "f16": "float16",
    "f32": "float32",
    "f64": "float64",
    "i1": "bool",
    "i8": "int8",
    "i16": "int16",
    "i32": "int32",
    "i64": "int64",
    "ui8": "uint8",
}


def new_context() -> ir.Context:
    """A context with every dialect IREE registers (linalg, tensor, torch, transform, …)."""
    ctx = ir.Context()
    ctx.allow_unregistered_dialects = False
    return ctx


def _format_diagnostics(err: ir.MLIRError, source_name: str | None) -> str:
    diags = list(getattr(err, "error_diagnostics", []) or [])
    if not diags:
        return str(err).splitlines()[-1]
    d = diags[0]
    loc = str(d.location)
    m = re.match(r'loc\("([^"]*)":(\d+):(\d+)\)', loc)
    msg = d.message.splitlines()[0]
    if m:
        fname = source_name if (source_name and m.group(1) in ("-", "<stdin>", "")) else m.group(1)
        return f"{fname}:{m.group(2)}:{m.group(3)}: {msg}"
    m = re.match(r'loc\("([^"]*)"\)', loc)
    if m:
        return f"{m.group(1)}: {msg}"
    return msg


def parse(source: str | bytes, ctx: ir.Context, *, source_name: str | None = None) -> ir.Module:
    """Parse MLIR text or bytecode; raise MlirOptError naming the file, line and problem."""
    try:
        return ir.Module.parse(source, ctx)
    except ir.MLIRError as err:
        raise MlirOptError(f"invalid MLIR: {_format_diagnostics(err, source_name)}") from None


def run_pipeline(module: ir.Module, pipeline: str, *, what: str = "pass pipeline",
                 source_name: str | None = None) -> None:
    """Run a textual pass pipeline (``builtin.module(...)``) on ``module`` in place."""
    ctx = module.context
    try:
        pm = passmanager.PassManager.parse(pipeline, ctx)
        pm.run(module.operation)
    except ir.MLIRError as err:
        raise MlirOptError(f"{what} failed: {_format_diagnostics(err, source_name)}") from None


def to_bytecode(module: ir.Module | ir.Operation) -> bytes:
    """Serialize to MLIR bytecode (compact, keeps weights exactly)."""
    op = module.operation if isinstance(module, ir.Module) else module
    buf = io.BytesIO()
    op.write_bytecode(buf)
    return buf.getvalue()


def to_text(module: ir.Module | ir.Operation, *, elide_large: int | None = None) -> str:
    """MLIR text; ``elide_large`` elides constants with more elements than that (for display)."""
    op = module.operation if isinstance(module, ir.Module) else module
    if elide_large is None:
        return op.get_asm(assume_verified=True)
    return op.get_asm(large_elements_limit=elide_large, assume_verified=True)


def _walk(op: ir.Operation) -> Iterator[ir.Operation]:
    for region in op.regions:
        for block in region:
            for child in block:
                yield child.operation
                yield from _walk(child.operation)


def op_names(module: ir.Module) -> list[str]:
    """Names of all operations nested in ``module`` (pre-order), e.g. ``linalg.matmul``."""
    return [op.name for op in _walk(module.operation)]


def op_name_attr(op: ir.Operation) -> str | None:
    """For ``torch.operator`` ops the ``name`` attribute (e.g. ``onnx.Erf``)."""
    try:
        return ir.StringAttr(op.attributes["name"]).value
    except (KeyError, ValueError):
        return None


def iter_ops(module: ir.Module | ir.Operation) -> Iterator[ir.Operation]:
    """All operations nested in ``module`` (or in one operation, e.g. a function), pre-order."""
    return _walk(module.operation)


def public_funcs(module: ir.Module) -> list[str]:
    """Names of the public ``func.func`` / ``util.func`` functions at module level."""
    names = []
    for op in module.body.operations:
        op = op.operation
        if op.name not in ("func.func", "util.func"):
            continue
        vis = op.attributes["sym_visibility"] if "sym_visibility" in op.attributes else None
        if vis is not None and ir.StringAttr(vis).value != "public":
            continue
        if op.regions[0].blocks.__len__() == 0:  # declaration only
            continue
        names.append(ir.StringAttr(op.attributes["sym_name"]).value)
    return names


@dataclass(frozen=True)
class TensorType:
    """Shape and numpy dtype name of one function argument or result."""

    shape: tuple[int, ...]
    dtype: str

    def __str__(self) -> str:  # 1x3x224x224xfloat32
        return "x".join([*map(str, self.shape), self.dtype])


@dataclass(frozen=True)
class FuncSignature:
    """The entry function's name, argument and result tensor types."""

    name: str
    inputs: tuple[TensorType, ...]
    outputs: tuple[TensorType, ...]


def _tensor_type(t: ir.Type, where: str) -> TensorType:
    try:
        rt = ir.RankedTensorType(t)
    except ValueError:
        raise MlirOptError(f"{where} has type {t}; only ranked tensors with static shapes are supported") from None
    if not rt.has_static_shape:
        raise MlirOptError(f"{where} has dynamic shape {t}; give static shapes (example inputs)")
    elem = str(rt.element_type)
    if elem not in TYPE_TO_NUMPY:
        raise MlirOptError(f"{where} has element type {elem}, which mlir_opt cannot feed from numpy")
    return TensorType(tuple(rt.shape), TYPE_TO_NUMPY[elem])


def func_signature(module: ir.Module, name: str) -> FuncSignature:
    """Signature of the function ``name`` (``func.func`` or ``util.func``) in ``module``."""
    for op in module.body.operations:
        op = op.operation
        if op.name in ("func.func", "util.func") and ir.StringAttr(op.attributes["sym_name"]).value == name:
            ftype = ir.FunctionType(ir.TypeAttr(op.attributes["function_type"]).value)
            ins = tuple(_tensor_type(t, f"input {i} of @{name}") for i, t in enumerate(ftype.inputs))
            outs = tuple(_tensor_type(t, f"result {i} of @{name}") for i, t in enumerate(ftype.results))
            return FuncSignature(name, ins, outs)
    raise MlirOptError(f"no function @{name} in the module")


def inline_immutable_globals(module: ir.Module) -> int:
    """Replace loads of immutable, initialized ``util.global``s by ``arith.constant``s.

    iree-turbine exports large weights as ``util.global private @…`` read through
    ``util.global.load``; the torch-to-linalg backend contract rejects those, and the graph level
    wants weights visible as constants. Returns how many globals were inlined.
    """
    inits = {}
    for op in list(module.body.operations):
        op = op.operation
        if op.name == "util.global" and "initial_value" in op.attributes and "is_mutable" not in op.attributes:
            inits[ir.StringAttr(op.attributes["sym_name"]).value] = op
    if not inits:
        return 0
    used = set()
    for op in list(_walk(module.operation)):
        if op.name != "util.global.load":
            continue
        sym = ir.FlatSymbolRefAttr(op.attributes["global"]).value
        if sym not in inits:
            continue
        with ir.InsertionPoint(op), op.location:
            cst = ir.Operation.create("arith.constant", results=[op.results[0].type],
                                      attributes={"value": inits[sym].attributes["initial_value"]})
        op.results[0].replace_all_uses_with(cst.results[0])
        op.erase()
        used.add(sym)
    for sym in used:
        inits[sym].erase()
    return len(used)


# --------------------------------------------------------------------------------------------
# Helpers for the graph level (mlir_opt/graph): constants, affine maps, splicing and dead code.

_RESOURCE_RE = re.compile(r'^\s*([\w.$\-]+|"[^"]*"): "0x([0-9A-Fa-f]*)"', re.M)
_RESOURCE_NAME_RE = re.compile(r'[\w.$\-]+|"[^"]*"')


def resource_blobs(module: ir.Module) -> dict[str, bytes]:
    """The ``builtin`` dialect resource blobs of ``module`` (name -> raw bytes, alignment stripped).

    The bindings cannot read a ``DenseResourceElementsAttr``'s data, so this prints the module and
    parses its ``{-# dialect_resources #-}`` section (each blob is a 4-byte alignment word + data).
    """
    text = to_text(module)
    start = text.rfind("{-#")
    if start < 0:
        return {}
    out = {}
    # line by line, the regex only on the short name part: a regex scan of the hex digits of
    # every blob took most of the time on models with large weights
    for line in text[start:].split("\n"):
        s = line.lstrip()
        i = s.find(': "0x')
        j = s.find('"', i + 5) if i > 0 else -1
        if j < 0 or not _RESOURCE_NAME_RE.fullmatch(s[:i]):
            continue
        try:
            out[s[:i].strip('"')] = bytes.fromhex(s[i + 5:j])[4:]
        except ValueError:
            continue
    return out


def _varint(b, i: int) -> tuple[int, int]:
    """MLIR bytecode ``PrefixVarInt`` at ``b[i]``: (value, next index)."""
    first = b[i]
    if first & 1:
        return first >> 1, i + 1
    if first == 0:
        return int.from_bytes(b[i + 1:i + 9], "little"), i + 9
    n = (first & -first).bit_length()  # bytes in all: the prefix's trailing zeros + 1
    return int.from_bytes(b[i:i + n], "little") >> n, i + n


def bytecode_resource_blobs(data: bytes) -> dict[str, memoryview] | None:
    """The resource blobs of an MLIR bytecode buffer (name -> data), read from its resource
    sections without printing the module; ``None`` when the buffer is not as expected (the caller
    then uses :func:`resource_blobs`). The same names and bytes as :func:`resource_blobs` (checked
    in ``tests/test_eqsat_fixed_costs.py``)."""
    try:
        b = memoryview(data)
        if bytes(b[:4]) != b"ML\xefR":
            return None
        _, i = _varint(b, 4)
        i = bytes(b[i:i + 4096]).index(b"\0", 0) + i + 1  # the producer string
        sections: dict[int, memoryview] = {}
        while i < len(b):
            sid = b[i]
            size, i = _varint(b, i + 1)
            if sid & 0x80:
                align, i = _varint(b, i)
                i += -i % align
            sections[sid & 0x7F] = b[i:i + size]
            i += size
        if 5 not in sections or 6 not in sections or 0 not in sections:
            return {} if 5 not in sections and 6 not in sections else None
        st = sections[0]  # strings: count, sizes (with the NUL) in reverse order, data from the end
        n, j = _varint(st, 0)
        strings = [""] * n
        end = len(st)
        for k in range(n - 1, -1, -1):
            ln, j = _varint(st, j)
            strings[k] = bytes(st[end - ln:end - 1]).decode()
            end -= ln
        res, off = sections[5], sections[6]
        n_ext, j = _varint(off, 0)
        out: dict[str, memoryview] = {}
        pos, group = 0, 0
        while j < len(off):  # groups: external ones (string key), then dialect ones (dialect index)
            _, j = _varint(off, j)
            count, j = _varint(off, j)
            group += 1
            for _ in range(count):
                key, j = _varint(off, j)
                size, j = _varint(off, j)
                kind = off[j]
                j += 1
                entry = res[pos:pos + size]
                pos += size
                if kind != 0 or group <= n_ext:  # blobs of dialects only (as resource_blobs)
                    continue
                _, e = _varint(entry, 0)  # alignment
                nbytes, e = _varint(entry, e)
                name = strings[key]
                if name in out or nbytes > size - e:
                    return None
                out[name] = entry[size - nbytes:]
        return out if pos == len(res) else None
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def materialize_resources(module: ir.Module, *, text: bool = False) -> int:
    """Turn ``arith.constant dense_resource<…>`` into inline ``dense<…>`` constants.

    The graph level reads and digests constant contents through ``DenseElementsAttr``; resources
    are opaque to the bindings. The blobs are read from the module's own bytecode (several times
    faster than printing it; ``text=True`` or an unexpected buffer: from its text, as
    :func:`resource_blobs`). Its own serialization, not another module's: a module parsed into a
    context that already holds a resource name gets a renamed key (``name_1``). Returns how many
    constants were rewritten.
    """
    consts = [op for op in _walk(module.operation)
              if op.name == "arith.constant" and "dense_resource<" in str(op.attributes["value"])[:15]]
    if not consts:
        return 0
    blobs = None if text else bytecode_resource_blobs(to_bytecode(module))
    if blobs is None:
        blobs = resource_blobs(module)
    n = 0
    with module.context, ir.Location.unknown():
        for op in consts:
            attr = op.attributes["value"]
            name = re.match(r"dense_resource<([^>]+)>", str(attr)).group(1).strip('"')
            rt = ir.RankedTensorType(attr.type)
            dt = TYPE_TO_NUMPY.get(str(rt.element_type))
            if name not in blobs or dt is None or dt == "bool":
                continue
            import numpy as np

            arr = np.frombuffer(blobs[name], dtype=dt)
            if arr.size != int(np.prod(rt.shape, dtype=np.int64)):
                continue
            # no .copy(): DenseElementsAttr.get copies the buffer into the context (a read-only
            # view of the blob is accepted), so a copy here was a second pass over every weight
            op.attributes["value"] = ir.DenseElementsAttr.get(arr.reshape(rt.shape), type=rt)
            n += 1
    return n


def constant_array(op: ir.Operation):
    """The value of an ``arith.constant`` as a numpy array (scalars as 0-d arrays), or None."""
    import numpy as np

    if op.name != "arith.constant":
        return None
    attr = op.attributes["value"]
    try:
        dense = ir.DenseElementsAttr(attr)
    except ValueError:
        pass
    else:
        try:
            rt = ir.RankedTensorType(dense.type)
            arr = np.array(dense)
            if dense.is_splat and arr.shape != tuple(rt.shape):
                arr = np.full(rt.shape, arr.reshape(-1)[0])
            return arr
        except (ValueError, TypeError, RuntimeError):
            return None
    for cls, cast in ((ir.FloatAttr, float), (ir.IntegerAttr, int)):
        try:
            a = cls(attr)
        except ValueError:
            continue
        dt = TYPE_TO_NUMPY.get(str(a.type), "float64" if cast is float else "int64")
        return np.array(a.value, dtype=dt)
    return None


def make_constant(array, *, before: ir.Operation) -> ir.Value:
    """Insert ``arith.constant dense<array>`` before ``before``; returns its result."""
    import numpy as np

    arr = np.asarray(array)
    arr = np.ascontiguousarray(arr) if arr.ndim else arr.copy()  # ascontiguousarray makes 0-d arrays 1-d
    with before.context, before.location, ir.InsertionPoint(before):
        elem = {"float32": ir.F32Type.get, "float64": ir.F64Type.get, "float16": ir.F16Type.get}[str(arr.dtype)]()
        rt = ir.RankedTensorType.get(list(arr.shape), elem)
        attr = ir.DenseElementsAttr.get(arr, type=rt)
        op = ir.Operation.create("arith.constant", results=[rt], attributes={"value": attr})
    return op.results[0]


def affine_map_results(attr: ir.Attribute) -> tuple[int, list[str]]:
    """``(n_dims, results)`` of an affine map attribute, results as strings (``d1``, ``0``, …)."""
    n, res = _affine_map_results(attr)
    return n, list(res)


@functools.lru_cache(maxsize=4096)
def _affine_map_results(attr: ir.Attribute) -> tuple[int, tuple[str, ...]]:
    # keyed by the attribute (uniqued in its context, which the cached key keeps alive): the graph
    # searches read the same few indexing maps of every candidate graph thousands of times
    amap = ir.AffineMapAttr(attr).value
    return amap.n_dims, tuple(str(e) for e in amap.results)


#: ``C[b, m, n] += A[m, k] * B[b, k, n]``: one LHS shared by a stack of RHS matrices (the Q/K/V merge's
#: contraction; IREE names its dispatch ``matmul_like``).
MATMUL_LIKE_MAPS = ("[affine_map<(d0, d1, d2, d3) -> (d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, "
                    "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]")


def matmul_like_generic(result: str, lhs: str, rhs: str, init: str, types: tuple[str, str, str],
                        elem: tuple[str, str, str], *, attrs: str = "") -> str:
    """Text of the :data:`MATMUL_LIKE_MAPS` ``linalg.generic`` ``result = lhs · rhs[b] + init``.

    ``types``: the lhs, rhs and init/result tensor types; ``elem``: their element types (the product
    and sum are taken in the result's; the block arguments are named ``%ml_*``, apart from the
    enclosing function's values); ``attrs``: extra attributes (``, compilation_info = …``)."""
    lhs_t, rhs_t, out_t = types
    et = elem[2]
    mul, add = ("arith.muli", "arith.addi") if et.startswith("i") else ("arith.mulf", "arith.addf")
    return (f"  {result} = linalg.generic {{indexing_maps = {MATMUL_LIKE_MAPS}, iterator_types = [\"parallel\", "
            f"\"parallel\", \"parallel\", \"reduction\"]{attrs}}} ins({lhs}, {rhs} : {lhs_t}, {rhs_t})"
            f" outs({init} : {out_t}) {{\n"
            f"  ^bb0(%ml_a: {elem[0]}, %ml_b: {elem[1]}, %ml_c: {et}):\n"
            f"    %ml_p = {mul} %ml_a, %ml_b : {et}\n"
            f"    %ml_s = {add} %ml_c, %ml_p : {et}\n"
            f"    linalg.yield %ml_s : {et}\n"
            f"  }} -> {out_t}")


def int_array_attr(op: ir.Operation, name: str) -> list[int]:
    """An integer array attribute (``array<i64: …>`` or ``dense<…>``) as a list."""
    s = str(op.attributes[name])
    m = re.match(r"array<i\d+(?::\s*(.*))?>", s)
    if m:
        return [int(x) for x in (m.group(1) or "").split(",") if x.strip()]
    m = re.match(r"dense<(.*)>\s*:", s)
    if m:
        body = m.group(1).strip("[] ")
        vals = [int(x) for x in body.split(",") if x.strip()]
        shape = re.search(r"<(\d+)x", s.split(":")[-1])
        if len(vals) == 1 and shape:
            vals = vals * int(shape.group(1))
        return vals
    raise MlirOptError(f"attribute {name} of {op.name} is not an integer array: {s}")


def entry_block(module: ir.Module, entry: str) -> ir.Block:
    """The body block of function ``entry``."""
    for op in module.body.operations:
        op = op.operation
        if op.name in ("func.func", "util.func") and ir.StringAttr(op.attributes["sym_name"]).value == entry:
            return op.regions[0].blocks[0]
    raise MlirOptError(f"no function @{entry} in the module")


_MISSING = object()


class ContextCache:
    """A memo of a pure function of uniqued MLIR types or attributes (``fn(key)``), for the keys of
    one context at a time: a key of another context empties it, so no old context (and the weights
    it holds) is kept alive, unlike an ``lru_cache`` keyed by them. With ``with_context=True`` the
    keys are plain values (e.g. text) and the context is passed along: ``cache(key, ctx)`` memoizes
    ``fn(key, ctx)`` for that context."""

    def __init__(self, fn, max_size: int = 8192, *, with_context: bool = False):
        self.fn, self.max_size, self.with_context = fn, max_size, with_context
        self._memo: dict = {}
        self._ctx = None

    def __call__(self, key, ctx=None):
        if self.with_context and self._ctx is not ctx:
            self._memo.clear()
            self._ctx = ctx
        got = self._memo.get(key, _MISSING)
        if got is _MISSING:
            if not self.with_context:
                ctx = key.context
            if self._ctx is not ctx or len(self._memo) >= self.max_size:
                self._memo.clear()
                self._ctx = ctx
            got = self._memo[key] = self.fn(key, ctx) if self.with_context else self.fn(key)
        return got


def _parse_snippet(snippet: str, ctx: ir.Context) -> ir.Module:
    tmp = parse(snippet, ctx, source_name="<rewrite snippet>")
    try:
        tmp.operation.verify()
    except ir.MLIRError as err:
        raise MlirOptError(f"rewrite snippet does not verify: {_format_diagnostics(err, '<snippet>')}") from None
    return tmp


#: Parsed and verified splice snippets of one context (the last one used), by their text: the same
#: text parses to the same ops, and splice only clones them. Searches splice the same snippet many
#: times (a transpose or a conv of one shape in every repeated block).
_parsed_snippet = ContextCache(_parse_snippet, 1024, with_context=True)


def splice(anchor: ir.Operation, snippet: str, inputs: list[ir.Value]) -> list[ir.Value]:
    """Insert the body of a one-function snippet before ``anchor``; returns its returned values.

    ``snippet`` is MLIR text of ``func.func @s(%a0: T0, …) -> (…) { …; return … }``; its arguments
    are bound to ``inputs``. The ops are parsed in ``anchor``'s context, verified, and cloned in
    place, so replacement IR is written as text and checked by MLIR's verifiers before it lands.
    """
    tmp = _parsed_snippet(snippet, anchor.context)
    func = tmp.body.operations[0].operation
    block = func.regions[0].blocks[0]
    mapping: dict = {block.arguments[i]: v for i, v in enumerate(inputs)}
    if len(block.arguments) != len(inputs):
        raise MlirOptError(f"rewrite snippet takes {len(block.arguments)} inputs, {len(inputs)} given")
    results: list[ir.Value] = []
    with ir.InsertionPoint(anchor):
        for op in block.operations:
            op = op.operation
            if op.name in ("func.return", "return"):
                results = [mapping.get(v, v) for v in op.operands]
                break
            new = op.clone()
            for sub in [new, *_walk(new)]:
                for i, v in enumerate(list(sub.operands)):
                    if v in mapping:
                        sub.operands[i] = mapping[v]
            for a, b in zip(op.results, new.results):
                mapping[a] = b
    return results


_KEEP = ("func.return", "return", "util.return", "cf.assert")


def copy_body(src: ir.Operation, dst: ir.Operation, *, before: ir.Operation) -> None:
    """Replace ``dst``'s placeholder body (``linalg.yield %out``) by a copy of ``src``'s body.

    ``src`` and ``dst`` are single-block region ops (e.g. elementwise ``linalg.generic``) whose
    block arguments correspond one to one; the copy's last op must be the yield. A temporary clone
    of ``src`` is made before ``before`` and erased afterwards.
    """
    blk = dst.regions[0].blocks[0]
    yld = [o.operation for o in blk.operations][-1]
    with ir.InsertionPoint(before):
        tmp = src.clone()
    tblk = tmp.regions[0].blocks[0]
    for a_old, a_new in zip(tblk.arguments, blk.arguments):
        a_old.replace_all_uses_with(a_new)
    body = [o.operation for o in tblk.operations]
    for o in body[:-1]:
        o.move_before(yld)
    yld.operands[0] = body[-1].operands[0]
    tmp.erase()


def erase_dead(block: ir.Block) -> int:
    """Erase ops of ``block`` whose results are all unused (terminators kept); returns the count.

    Erases until no op is dead (the same ops whatever the order). One pass in reverse block order
    usually suffices: an op visited after its users (it precedes them) sees their erasure. A
    further full pass is made only when an op that lost a use to an erasure *after* it was visited
    (a producer placed after its user, mid-rewrite) is dead by then: the producers of what each
    erased op read are checked at the end of the pass."""
    n = 0
    while True:
        lost: list[ir.Operation] = []  # producers (in ``block``) of the values erased ops read
        erased: set[int] = set()
        for op in reversed(list(block.operations)):
            op = op.operation
            if op.name in _KEEP or len(op.results) == 0:
                continue
            if all(next(iter(r.uses), None) is None for r in op.results):
                _producers_in(op, block, lost)
                erased.add(_address(op))
                op.erase()
                n += 1
        if not any(_address(p) not in erased and p.name not in _KEEP and len(p.results)
                   and all(next(iter(r.uses), None) is None for r in p.results) for p in lost):
            return n


def _producers_in(op: ir.Operation, block: ir.Block, out: list) -> None:
    """Append the ops of ``block`` that define values ``op`` reads (its operands and the outer
    values its nested ops use)."""
    for src in [op, *_walk(op)] if len(op.regions) else (op,):
        for v in src.operands:
            if isinstance(v, ir.BlockArgument):
                continue
            owner = v.owner
            owner = owner.operation if hasattr(owner, "operation") else owner
            if owner.block == block:
                out.append(owner)


def _address(op: ir.Operation) -> int:
    """The address of the C++ op behind ``op`` (``mlir_opt.graph.view.op_address``)."""
    from .graph.view import op_address

    return op_address(op)
