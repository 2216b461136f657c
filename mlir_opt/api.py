"""The public Python API; each function mirrors a CLI verb.

>>> import mlir_opt
>>> m = mlir_opt.load("mlp", size="tiny")                      # or an nn.Module, .onnx, .mlir
>>> vmfb = mlir_opt.compile(m, "mlp.vmfb")                     # IREE, llvm-cpu by default
>>> res = mlir_opt.run(m, vmfb)                                # random inputs, checked vs torch
>>> t = mlir_opt.bench(m, vmfb)                                # median latency
>>> r = mlir_opt.optimize(m, "out/mlp")                        # the whole pipeline
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .backend import Check, Runner, Timing, benchmark, compare_outputs, compile_module, default_tolerance
from .importers import load
from .pipeline import OptimizeResult, optimize

__all__ = ["load", "compile", "run", "bench", "optimize", "RunResult", "OptimizeResult"]


def compile(model: Any, output: str | Path, *, target: str = "llvm-cpu", arch: str | None = None,
            flags: Sequence[str] = (), **load_kwargs: Any) -> Path:
    """Import ``model`` (if needed) and compile it with IREE's default pipeline.

    Args:
        model: anything :func:`load` accepts.
        output: .vmfb path to write.
        target: ``llvm-cpu``, ``cuda`` or ``vulkan``; arch: its architecture option.
        flags: extra iree-compile flags.
    Returns:
        The path of the .vmfb.
    """
    from .backend import get_target

    m = load(model, **load_kwargs)
    return compile_module(m.bytecode(), get_target(target, arch), output=output, flags=flags).vmfb


@dataclass
class RunResult:
    """Inputs used, outputs produced, and the check against the reference (None if unchecked)."""

    inputs: list[np.ndarray]
    outputs: list[np.ndarray]
    check: Check | None


def run(model: Any, vmfb: str | Path | None = None, inputs: Sequence[np.ndarray] | None = None, *,
        seed: int = 0, check: bool = True, tol: float | None = None, threads: int | None = None,
        **load_kwargs: Any) -> RunResult:
    """Run ``model`` on the CPU through IREE and compare with its reference.

    Args:
        model: anything :func:`load` accepts.
        vmfb: a compiled module of it (compiled here when None).
        inputs: input arrays (random ones from ``seed`` when None).
        check: compare against the model's reference (torch / ONNX Runtime); for MLIR input there
            is no independent reference and the check is skipped.
        tol: relative-error tolerance (default by dtype).
    """
    m = load(model, **load_kwargs)
    ins = list(inputs) if inputs is not None else m.random_inputs(seed)
    with tempfile.TemporaryDirectory(prefix="mlir_opt_run_") as tmp:
        path = Path(vmfb) if vmfb is not None else compile_module(
            m.bytecode(), "llvm-cpu", output=Path(tmp) / "m.vmfb").vmfb
        outs = Runner(path, m.entry, threads=threads)(ins)
    chk = None
    if check and m.reference is not None:
        tol = tol if tol is not None else default_tolerance([o.dtype for o in m.signature.outputs])
        chk = compare_outputs(outs, m.reference(ins), tol)
    return RunResult(ins, outs, chk)


def bench(model: Any, vmfb: str | Path | None = None, *, reps: int = 10, threads: int | None = None,
          seed: int = 0, **load_kwargs: Any) -> Timing:
    """Median latency (and spread) of ``model`` compiled with IREE's defaults on the CPU."""
    m = load(model, **load_kwargs)
    with tempfile.TemporaryDirectory(prefix="mlir_opt_bench_") as tmp:
        path = Path(vmfb) if vmfb is not None else compile_module(
            m.bytecode(), "llvm-cpu", output=Path(tmp) / "m.vmfb").vmfb
        return benchmark(path, m.random_inputs(seed), entry=m.entry, reps=reps, threads=threads)
