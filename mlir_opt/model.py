"""The object that carries one model through every stage.

A :class:`Model` holds the MLIR module on linalg/tensor (in its own context), the entry function's
signature, the model's origin, and a reference implementation (torch eager for torch models, ONNX
Runtime for ONNX models, none for MLIR input — then the unoptimized IREE module is the reference).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from . import ir as _ir
from .errors import MlirOptError

__all__ = ["Model", "Reference", "random_inputs"]

# A reference maps input arrays to output arrays.
Reference = Callable[[Sequence[np.ndarray]], list[np.ndarray]]


@dataclass
class Model:
    """A model imported to MLIR on linalg/tensor, ready for the optimizer stages.

    Attributes:
        name: short name used in reports and file names.
        module: the ``ir.Module`` (linalg/tensor level, ``func.func`` entry).
        entry: name of the entry function.
        source: where it came from: ``"torch"``, ``"onnx"`` or ``"mlir"``.
        reference: callable computing the expected outputs, or None (use the unoptimized module).
        reference_name: what the reference is (``"torch"``, ``"onnxruntime"``, ``"iree-unoptimized"``).
        example_inputs: the inputs the model was exported with, when known (used for int ranges).
    """

    name: str
    module: _ir.ir.Module
    entry: str
    source: str
    reference: Reference | None = None
    reference_name: str = "iree-unoptimized"
    example_inputs: list[np.ndarray] | None = None
    meta: dict = field(default_factory=dict)

    @property
    def signature(self) -> _ir.FuncSignature:
        """Input and output tensor types of the entry function."""
        return _ir.func_signature(self.module, self.entry)

    def text(self, *, elide_large: int | None = None) -> str:
        """The module as MLIR text (``elide_large`` shortens big constants for display)."""
        return _ir.to_text(self.module, elide_large=elide_large)

    def bytecode(self) -> bytes:
        """The module as MLIR bytecode."""
        return _ir.to_bytecode(self.module)

    def fingerprint(self) -> str:
        """A stable hash of the module (bytecode), for caching compiled artifacts."""
        return hashlib.sha256(self.bytecode()).hexdigest()[:16]

    def verify(self) -> None:
        """Verify the module; raise MlirOptError if it is invalid."""
        try:
            self.module.operation.verify()
        except _ir.ir.MLIRError as err:
            raise MlirOptError(f"module verification failed: {err}") from None

    def save(self, path: str | Path) -> Path:
        """Write the module: bytecode for ``.mlirbc``, text otherwise."""
        path = Path(path)
        if path.suffix == ".mlirbc":
            path.write_bytes(self.bytecode())
        else:
            path.write_text(self.text())
        return path

    def clone(self, module: _ir.ir.Module | None = None) -> "Model":
        """A copy sharing the reference, with a deep copy of the module (or the given one)."""
        if module is None:
            module = _ir.parse(self.bytecode(), self.module.context)
        return Model(self.name, module, self.entry, self.source, self.reference,
                     self.reference_name, self.example_inputs, dict(self.meta))

    def random_inputs(self, seed: int = 0) -> list[np.ndarray]:
        """Random inputs matching the signature (normal floats, ints in the example's range)."""
        return random_inputs(self.signature.inputs, seed=seed, examples=self.example_inputs)


def random_inputs(specs: Sequence[_ir.TensorType], *, seed: int = 0,
                  examples: Sequence[np.ndarray] | None = None) -> list[np.ndarray]:
    """Random, never-zero inputs for a function signature.

    Floats are standard normal. Integer inputs are drawn from the range of the matching example
    input when one is given (token ids, indices), otherwise from [0, 4). Booleans are fair coins.
    """
    rng = np.random.default_rng(seed)
    out = []
    for i, spec in enumerate(specs):
        dt = np.dtype(spec.dtype)
        if dt.kind == "f":
            a = rng.standard_normal(spec.shape).astype(dt)
        elif dt.kind in "iu":
            lo, hi = 0, 4
            if examples is not None and i < len(examples) and np.asarray(examples[i]).size:
                ex = np.asarray(examples[i])
                lo, hi = int(ex.min()), int(ex.max()) + 1
                if hi - lo < 2:
                    hi = lo + 2
            a = rng.integers(lo, hi, size=spec.shape).astype(dt)
        elif dt.kind == "b":
            a = rng.integers(0, 2, size=spec.shape).astype(bool)
        else:  # pragma: no cover - guarded by TYPE_TO_NUMPY
            raise MlirOptError(f"cannot make random inputs of dtype {dt}")
        out.append(np.ascontiguousarray(a))
    return out
