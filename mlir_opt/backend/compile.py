"""Compile a module with iree-compile (a subprocess, so a crash or hang never takes us down)."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from ..errors import CompileError
from .targets import Target, get_target

__all__ = ["CompileResult", "compile_module", "iree_tool", "compiler_version", "check_arch"]


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


_PROBE = "func.func @probe(%a: tensor<4xf32>) -> tensor<4xf32> {\n" \
         "  %0 = arith.addf %a, %a : tensor<4xf32>\n  return %0 : tensor<4xf32>\n}\n"
_ARCH_OK: dict[tuple, str | None] = {}


def check_arch(target: "str | Target", arch: str | None = None) -> Target:
    """The :class:`Target` for ``target`` and ``arch``, after checking that this IREE compiles for that
    architecture: a one-function module is compiled with the target's flags (about a second, once per
    target and arch per process). An architecture IREE rejects (3.13: ``sm_90``, ``sm_100``: "missing
    GPU target"; an unknown name) raises a one-line :class:`~mlir_opt.errors.MlirOptError`."""
    from ..errors import MlirOptError

    tgt = get_target(target, arch)
    key = (tgt.name, tgt.arch)
    if key not in _ARCH_OK:
        with tempfile.TemporaryDirectory(prefix="mlir_opt_arch_") as tmp:
            src = Path(tmp) / "probe.mlir"
            src.write_text(_PROBE)
            proc = subprocess.run([iree_tool("iree-compile"), str(src), *tgt.flags, "-o", str(Path(tmp) / "p.vmfb")],
                                  capture_output=True, text=True, timeout=300)
        err = None
        if proc.returncode != 0:
            lines = [ln for ln in proc.stderr.splitlines() if "error:" in ln] or proc.stderr.strip().splitlines()[-1:]
            err = lines[0].split("error:", 1)[-1].strip() if lines else f"exit {proc.returncode}"
        _ARCH_OK[key] = err
    err = _ARCH_OK[key]
    if err is not None:
        hint = " (sm_80 PTX runs on Hopper GPUs: use --arch sm_80)" if tgt.name == "cuda" else ""
        raise MlirOptError(f"IREE {compiler_version()} cannot compile for --target {tgt.name} --arch {tgt.arch}: "
                           f"{err}{hint}")
    return tgt


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


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, all threads) of a live process, from /proc (None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def run_watched(cmd: Sequence[str], *, timeout: float, stall_s: float = 60.0) -> tuple[int | None, str, str]:
    """Run ``cmd``; kill it after ``timeout`` s, or when it used no CPU for ``stall_s`` s (a hang).

    IREE's compiler very occasionally deadlocks (all threads asleep on a futex); such a process
    burns no CPU, so it is caught in ``stall_s`` instead of the full timeout. Returns
    ``(returncode, stdout, stderr)``; returncode None means killed, and stderr then says why.
    """
    proc = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    t0 = last_change = time.monotonic()
    last_cpu = -1.0
    while True:
        try:
            out, err = proc.communicate(timeout=2)
            return proc.returncode, out, err
        except subprocess.TimeoutExpired:
            now = time.monotonic()
            cpu = _cpu_seconds(proc.pid)
            if cpu is not None and cpu > last_cpu:
                last_cpu, last_change = cpu, now
            why = None
            if now - t0 > timeout:
                why = f"timed out after {timeout:.0f} s"
            elif cpu is not None and now - last_change > stall_s:
                why = f"hung (no CPU progress for {stall_s:.0f} s)"
            if why:
                proc.kill()
                proc.communicate()
                return None, "", why


def _first_error(stderr: str) -> str:
    for line in stderr.splitlines():
        if "error:" in line:
            return re.sub(r"^.*?error:\s*", "", line).strip()[:400]
    lines = [l for l in stderr.strip().splitlines() if l.strip()]
    return (lines[-1] if lines else "iree-compile failed without a message")[:400]


def compile_module(module: bytes | str | Path, target: str | Target = "llvm-cpu", *,
                   output: str | Path, flags: Sequence[str] = (), timeout: float = 900,
                   raise_on_error: bool = True, retries: int = 1) -> CompileResult:
    """Compile MLIR (bytecode, text, or a file path) to a .vmfb for ``target``.

    Args:
        module: MLIR bytecode/text, or a path to a .mlir/.mlirbc file.
        target: target name or :class:`Target`.
        output: where to write the .vmfb.
        flags: extra iree-compile flags (e.g. from the operator-level stage).
        timeout: seconds before the compile is killed and reported as failed.
        retries: extra attempts after a timeout or a hang (IREE's rare deadlocks do not repeat).
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
        for _attempt in range(retries + 1):
            rc, _, stderr = run_watched(cmd, timeout=timeout)
            if rc is None:
                err = f"iree-compile {stderr}"
                continue
            err = None if rc == 0 else _first_error(stderr)
            if err is None and "Failed to load transform library" in stderr:
                # iree-compile 3.13 reports a broken transform library yet exits 0 with IREE's default
                # codegen: never let that pass for the schedule that was asked for
                err = _first_error(stderr) or "iree-compile could not load the transform library"
            break
        secs = time.perf_counter() - t0
    result = CompileResult(output if err is None else None, secs, cmd_flags, err)
    if err is not None and raise_on_error:
        raise CompileError(f"IREE compile for {tgt.name} failed: {err}")
    return result
