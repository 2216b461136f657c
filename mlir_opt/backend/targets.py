"""The one place that holds IREE compile flags and runtime drivers per target.

Flags verified with IREE 3.13 (see docs/iree-facts.md). CUDA and Vulkan compile here (on the CPU
machine) but execute only on a GPU host; executing them locally is issue #6's bundle flow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import MlirOptError

__all__ = ["Target", "TARGETS", "get_target", "default_threads"]


def default_threads() -> int:
    """Threads for the CPU runtime and the peers: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


@dataclass(frozen=True)
class Target:
    """An IREE compilation target.

    Attributes:
        name: ``llvm-cpu``, ``cuda`` or ``vulkan``.
        driver: IREE runtime driver/device URI (``local-task``, ``cuda``, ``vulkan``).
        flags: iree-compile flags selecting the target.
        arch: the architecture option the flags were built for.
    """

    name: str
    driver: str
    flags: tuple[str, ...]
    arch: str = "host"
    extra: dict = field(default_factory=dict, compare=False)

    @property
    def is_cpu(self) -> bool:
        return self.name == "llvm-cpu"

    def runtime_flags(self, threads: int | None = None) -> list[str]:
        """Flags for iree-run-module / iree-benchmark-module on this target."""
        flags = [f"--device={self.driver}"]
        if self.is_cpu:
            flags.append(f"--task_topology_max_group_count={threads or default_threads()}")
        return flags


def _cpu(arch: str) -> Target:
    return Target("llvm-cpu", "local-task", (
        "--iree-hal-target-device=local",
        "--iree-hal-local-target-device-backends=llvm-cpu",
        f"--iree-llvmcpu-target-cpu={arch}",
    ), arch)


def _cuda(arch: str) -> Target:
    # sm_90 is rejected by IREE 3.13 ("missing GPU target"); sm_80 PTX JITs and runs on an H100.
    return Target("cuda", "cuda", ("--iree-hal-target-device=cuda", f"--iree-cuda-target={arch}"), arch)


def _vulkan(arch: str) -> Target:
    return Target("vulkan", "vulkan", ("--iree-hal-target-device=vulkan", f"--iree-vulkan-target={arch}"), arch)


#: Target name -> (builder, default architecture).
TARGETS = {"llvm-cpu": (_cpu, "host"), "cuda": (_cuda, "sm_80"), "vulkan": (_vulkan, "ampere")}


def get_target(target: "str | Target", arch: str | None = None) -> Target:
    """A :class:`Target` from its name (``llvm-cpu``, ``cuda``, ``vulkan``) or as given."""
    if isinstance(target, Target):
        return target
    if target in ("cpu", "host"):
        target = "llvm-cpu"
    if target not in TARGETS:
        raise MlirOptError(f"unknown target '{target}' (choose from {', '.join(TARGETS)})")
    builder, default_arch = TARGETS[target]
    return builder(arch or default_arch)
