"""Compile a module with iree-compile (a subprocess, so a crash or hang never takes us down)."""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import CompileError
from .targets import Target, get_target

__all__ = ["CompileResult", "compile_module", "iree_tool", "compiler_version"]


def iree_tool(name: str) -> str:
    """Path of an IREE command-line tool shipped by the iree-base-* wheels."""
    try:
        from iree.compiler.tools.binaries import find_tool

        return find_tool(name)
    except Exception:
        import shutil
        import sys

        cand = Path(sys.executable).parent / name
        if cand.exists():
            return str(cand)
        found = shutil.which(name)
        if found:
            return found
        raise CompileError(f"IREE tool '{name}' not found: pip install iree-base-compiler iree-base-runtime") from None


def compiler_version() -> str:
    """iree-base-compiler's version string."""
    try:
        from importlib.metadata import version

        return version("iree-base-compiler")
    except Exception:  # pragma: no cover
        return "unknown"


@dataclass
class CompileResult:
    """Outcome of one compile: the .vmfb path, or the error; failures are data."""

    vmfb: Path | None
    seconds: float
    flags: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _first_error(stderr: str) -> str:
    for line in stderr.splitlines():
        if "error:" in line:
            return re.sub(r"^.*?error:\s*", "", line).strip()[:400]
    lines = [l for l in stderr.strip().splitlines() if l.strip()]
    return (lines[-1] if lines else "iree-compile failed without a message")[:400]


def compile_module(module: bytes | str | Path, target: str | Target = "llvm-cpu", *,
                   output: str | Path, flags: Sequence[str] = (), timeout: float = 900,
                   raise_on_error: bool = True) -> CompileResult:
    """Compile MLIR (bytecode, text, or a file path) to a .vmfb for ``target``.

    Args:
        module: MLIR bytecode/text, or a path to a .mlir/.mlirbc file.
        target: target name or :class:`Target`.
        output: where to write the .vmfb.
        flags: extra iree-compile flags (e.g. from the operator-level stage).
        timeout: seconds before the compile is killed and reported as failed.
        raise_on_error: raise :class:`CompileError` instead of returning a failed result.
    """
    tgt = get_target(target)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    cmd_flags = [*tgt.flags, *flags]
    with tempfile.TemporaryDirectory(prefix="mlir_opt_compile_") as tmp:
        if isinstance(module, Path) or (isinstance(module, str) and "\n" not in module and Path(module).exists()):
            src = Path(module)
        else:
            src = Path(tmp) / ("input.mlirbc" if isinstance(module, bytes) else "input.mlir")
            if isinstance(module, bytes):
                src.write_bytes(module)
            else:
                src.write_text(module)
        cmd = [iree_tool("iree-compile"), str(src), *cmd_flags, "-o", str(output)]
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
            err = None if proc.returncode == 0 else _first_error(proc.stderr)
        except subprocess.TimeoutExpired:
            err = f"iree-compile timed out after {timeout:.0f} s"
        secs = time.perf_counter() - t0
    result = CompileResult(output if err is None else None, secs, cmd_flags, err)
    if err is not None and raise_on_error:
        raise CompileError(f"IREE compile for {tgt.name} failed: {err}")
    return result
