"""The one module that talks to IREE's MLIR Python bindings.

Everything else in mlir_opt goes through these helpers, so a change of binding version touches one
file. Errors from the bindings are turned into :class:`~mlir_opt.errors.MlirOptError` with the
first diagnostic's location (file:line:col) and message.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Iterator

from iree.compiler import ir, passmanager  # noqa: F401  (re-exported for the rest of the package)

from .errors import MlirOptError

__all__ = [
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


def iter_ops(module: ir.Module) -> Iterator[ir.Operation]:
    """All operations nested in ``module``, pre-order."""
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
