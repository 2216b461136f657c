"""Importers: every model source ends as one :class:`~mlir_opt.model.Model` on linalg/tensor.

``load`` dispatches on what it is given:

* a ``torch.nn.Module`` plus ``example_inputs`` (through iree-turbine);
* ``"path/to/file.py:factory"`` whose factory returns ``(module, example_inputs)``;
* the name of a bundled model (``mlp``, ``cnn``, ``bert``; see :mod:`mlir_opt.models`);
* a ``.onnx`` file;
* a ``.mlir`` / ``.mlirbc`` file at the torch, torch-onnx, TOSA, StableHLO or linalg level.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from ..errors import ImportError_
from ..model import Model
from .lowering import LINALG_DIALECTS, PIPELINES, detect_level, lower_to_linalg
from .mlir import load_mlir
from .onnx import load_onnx
from .torch import load_factory, load_torch

__all__ = ["load", "load_torch", "load_onnx", "load_mlir", "load_factory", "detect_level",
           "lower_to_linalg", "PIPELINES", "LINALG_DIALECTS"]


def load(model: Any, example_inputs: Sequence[Any] | None = None, *, name: str | None = None,
         entry: str | None = None, size: str | None = None) -> Model:
    """Import any supported model source to linalg/tensor.

    Args:
        model: an ``nn.Module``, a :class:`Model` (returned as is), a bundled model name, a
            ``file.py:factory`` spec, or a path to ``.onnx`` / ``.mlir`` / ``.mlirbc``.
        example_inputs: required with an ``nn.Module``: fixes shapes and dtypes.
        name: name for reports.
        entry: entry function for MLIR input with several public functions.
        size: size preset for bundled models (``tiny``, ``small``, ``base``).
    Returns:
        The imported :class:`Model`.
    Raises:
        MlirOptError: with a one-line message for any bad input.
    """
    if isinstance(model, Model):
        return model
    if not isinstance(model, (str, Path)):
        if example_inputs is None:
            raise ImportError_("a torch module needs example_inputs")
        return load_torch(model, example_inputs, name=name)
    spec = str(model)
    from .. import models as zoo

    if spec in zoo.NAMES:
        module, examples = zoo.build(spec, size=size or "tiny")
        return load_torch(module, examples, name=name or spec)
    path = Path(spec)
    if spec.endswith(".py") or (":" in spec and spec.rpartition(":")[0].endswith(".py")):
        if ":" not in spec or spec.endswith(".py"):
            raise ImportError_(f"give the factory as {spec}:FUNCTION (it returns (module, example_inputs))")
        return load_factory(spec, name=name)
    if not path.exists():
        hint = f" (bundled models: {', '.join(zoo.NAMES)})" if not path.suffix else ""
        raise ImportError_(f"no such file: {spec}{hint}")
    if path.is_dir():
        raise ImportError_(f"{spec} is a directory, not a model file")
    if path.suffix == ".onnx":
        return load_onnx(path, name=name)
    if path.suffix in (".mlir", ".mlirbc"):
        return load_mlir(path, entry=entry, name=name)
    raise ImportError_(f"{spec}: unknown model kind '{path.suffix}' (expected .onnx, .mlir, .mlirbc, "
                       "file.py:factory or a bundled model name)")
