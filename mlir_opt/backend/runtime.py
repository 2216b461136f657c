"""Run a compiled module through ``iree.runtime`` and get numpy outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import MlirOptError
from .targets import Target, default_threads, get_target

__all__ = ["Runner", "run_vmfb", "run_isolated"]

_FLAGS_SET: set[str] = set()


def _set_threads(threads: int) -> None:
    import iree.runtime as rt

    flag = f"--task_topology_max_group_count={threads}"
    if flag not in _FLAGS_SET:
        rt.flags.parse_flags(flag)
        _FLAGS_SET.add(flag)


class Runner:
    """A loaded .vmfb whose entry function can be called with numpy arrays.

    Args:
        vmfb: path of the compiled module.
        entry: function to call (default ``main``).
        target: target it was compiled for (selects the driver).
        threads: CPU worker threads (default: the cores available).
    """

    def __init__(self, vmfb: str | Path, entry: str = "main", target: str | Target = "llvm-cpu",
                 threads: int | None = None):
        import iree.runtime as rt

        tgt = get_target(target)
        if tgt.is_cpu:
            _set_threads(threads or default_threads())
        try:
            self._config = rt.Config(tgt.driver)
        except Exception as err:
            raise MlirOptError(f"IREE runtime driver '{tgt.driver}' is not available here: {err}") from None
        self._ctx = rt.SystemContext(config=self._config)
        vm = rt.VmModule.mmap(self._ctx.instance, str(vmfb))
        self._ctx.add_vm_module(vm)
        mod = self._ctx.modules[vm.name]
        if entry not in vm.function_names:
            raise MlirOptError(f"{vmfb}: no function '{entry}' (has {', '.join(vm.function_names)})")
        self._fn = mod[entry]

    def __call__(self, inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
        res = self._fn(*[np.ascontiguousarray(a) for a in inputs])
        if isinstance(res, (tuple, list)):
            return [np.asarray(r.to_host() if hasattr(r, "to_host") else r) for r in res]
        return [np.asarray(res.to_host() if hasattr(res, "to_host") else res)]


def run_vmfb(vmfb: str | Path, inputs: Sequence[np.ndarray], *, entry: str = "main",
             target: str | Target = "llvm-cpu", threads: int | None = None) -> list[np.ndarray]:
    """Load ``vmfb`` and call ``entry`` once on ``inputs``; returns the outputs as numpy arrays."""
    return Runner(vmfb, entry, target, threads)(inputs)


def run_isolated(vmfb: str | Path, input_flags: Sequence[str], n_outputs: int, *, entry: str = "main",
                 target: str | Target = "llvm-cpu", threads: int | None = None,
                 timeout: float = 120) -> tuple[list[np.ndarray] | None, str | None]:
    """Run a module once in a separate ``iree-run-module`` process (a crash or hang stays there).

    Returns ``(outputs, None)`` or ``(None, error)``; the error starts with ``timeout`` on timeouts.
    """
    import subprocess
    import tempfile

    from .compile import iree_tool

    tgt = get_target(target)
    with tempfile.TemporaryDirectory(prefix="mlir_opt_run_") as tmp:
        outs = [Path(tmp) / f"out{i}.npy" for i in range(n_outputs)]
        cmd = [iree_tool("iree-run-module"), f"--module={vmfb}", f"--function={entry}",
               *tgt.runtime_flags(threads), *input_flags, *[f"--output=@{p}" for p in outs]]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return None, f"timeout after {timeout:.0f} s"
        if proc.returncode != 0:
            lines = [l for l in proc.stderr.splitlines() if l.strip()]
            return None, (lines[-1] if lines else f"exit status {proc.returncode}")[:300]
        return [np.load(p) for p in outs], None
