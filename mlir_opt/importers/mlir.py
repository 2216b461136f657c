"""Import MLIR text or bytecode at the torch, torch-onnx, TOSA, StableHLO or linalg level."""

from __future__ import annotations

from pathlib import Path

from .. import ir as _ir
from ..errors import ImportError_
from ..model import Model
from .lowering import lower_to_linalg

__all__ = ["load_mlir", "pick_entry"]


def pick_entry(module: _ir.ir.Module, entry: str | None, what: str) -> str:
    """The entry function: ``entry`` if given, else the only public function."""
    funcs = _ir.public_funcs(module)
    if entry is not None:
        if entry not in funcs:
            raise ImportError_(f"{what}: no public function @{entry} (found: {', '.join(funcs) or 'none'})")
        return entry
    if len(funcs) == 1:
        return funcs[0]
    if not funcs:
        raise ImportError_(f"{what}: no public function to run")
    if "main" in funcs:
        return "main"
    raise ImportError_(f"{what}: several public functions ({', '.join(funcs)}); choose one with --entry")


def load_mlir(path: str | Path, *, entry: str | None = None, name: str | None = None) -> Model:
    """Load a ``.mlir``/``.mlirbc`` file and lower it to linalg/tensor.

    Args:
        path: the file.
        entry: entry function name (default: the only public function, or ``main``).
        name: model name for reports (default: the file stem).
    Returns:
        A :class:`Model` with no reference: the unoptimized IREE module serves as the reference.
    """
    path = Path(path)
    data = path.read_bytes()
    ctx = _ir.new_context()
    if data.startswith(b"ML\xefR"):
        module = _ir.parse(data, ctx, source_name=str(path))
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise ImportError_(f"{path}: neither MLIR text (UTF-8) nor MLIR bytecode") from None
        module = _ir.parse(text, ctx, source_name=str(path))
    _ir.inline_immutable_globals(module)
    level = lower_to_linalg(module, source_name=str(path))
    return Model(name or path.stem, module, pick_entry(module, entry, str(path)), "mlir",
                 meta={"input_level": level, "path": str(path)})
