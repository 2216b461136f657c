"""The one place that holds IREE compile flags and runtime drivers per target.

Flags verified with IREE 3.13 (see docs/iree-facts.md). CUDA and Vulkan compile here (on the CPU
machine) but execute only on a GPU host; executing them locally is issue #6's bundle flow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..errors import MlirOptError

__all__ = ["Target", "TARGETS", "ROOFLINES", "get_target", "default_threads", "cpu_vector_lanes", "cpu_cache_bytes"]


def default_threads() -> int:
    """Threads for the CPU runtime and the peers: the cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


#: CPU names (``--iree-llvmcpu-target-cpu``) whose widest vectors are 512 bits (16 fp32 lanes); any
#: other named CPU is taken as AVX2-class (8 lanes). ``host`` is read off the machine instead.
AVX512_CPUS = ("skylake-avx512", "cascadelake", "cooperlake", "cannonlake", "icelake-client",
               "icelake-server", "tigerlake", "sapphirerapids", "emeraldrapids", "graniterapids",
               "znver4", "znver5", "x86-64-v4")


def cpu_vector_lanes(arch: str = "host", cpuinfo: str | None = None) -> int:
    """fp32 lanes of the widest vector IREE's llvm-cpu backend uses for ``arch``.

    IREE sizes its vectors to the target CPU's native width: 16 fp32 lanes with AVX-512 (``avx512f``),
    8 with AVX2/AVX, 4 otherwise (SSE, or a CPU it cannot tell). ``host`` reads the flags of this
    machine's ``/proc/cpuinfo`` (or the text ``cpuinfo``); a named CPU is looked up in
    :data:`AVX512_CPUS`. Schedule priors (register tiles) are sized with it.
    """
    if arch not in ("host", None):
        return 16 if arch in AVX512_CPUS else 8
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
                cpuinfo = f.read(1 << 16)
        except OSError:  # pragma: no cover - not Linux
            return 8
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            break
    if "avx512f" in flags:
        return 16
    if "avx2" in flags or "avx" in flags:
        return 8
    return 4 if flags else 8


#: Per-core cache sizes assumed where sysfs does not tell (an AVX2 desktop core's L1d / L2).
DEFAULT_CACHE_BYTES = {1: 32 * 1024, 2: 512 * 1024}


def cpu_cache_bytes(level: int, sysfs: str = "/sys/devices/system/cpu/cpu0/cache") -> int:
    """Bytes of this machine's level-``level`` data (or unified) cache as one core sees it, from
    ``sysfs`` (``index*/level``, ``type``, ``size`` such as ``48K``); :data:`DEFAULT_CACHE_BYTES` if it
    cannot be read. Schedule priors that depend on what fits in a cache (seed K blocking) use it."""
    import glob
    import os

    units = {"K": 1024, "M": 1024 * 1024, "G": 1024 ** 3}
    for d in sorted(glob.glob(os.path.join(sysfs, "index*"))):
        try:
            with open(os.path.join(d, "level")) as f:
                lv = int(f.read())
            with open(os.path.join(d, "type")) as f:
                kind = f.read().strip()
            with open(os.path.join(d, "size")) as f:
                size = f.read().strip()
        except (OSError, ValueError):
            continue
        if lv != level or kind not in ("Data", "Unified") or not size:
            continue
        try:
            return int(size[:-1]) * units[size[-1]] if size[-1] in units else int(size)
        except ValueError:
            continue
    return DEFAULT_CACHE_BYTES.get(level, 0)


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


#: Graph-level roofline parameters per target (:class:`mlir_opt.graph.cost.Roofline` builds its
#: presets from these: ``Roofline.for_target(name)``). Units: GFLOP/s, GB/s, µs per dispatch, bytes.
#: Where each number comes from (docs/models-and-cost.md, "Per-target roofline"):
#:
#: * ``llvm-cpu`` — this 2-core AMD EPYC Zen 3 slice, the model's original calibration: 100 GFLOP/s
#:   (2 cores x AVX2 FMA at ~3 GHz, what IREE's tuned matmuls reach), 20 GB/s, 3 µs per dispatch
#:   (local-task wake-up and barrier), the NCHW conv factors of benchmarks/conv_layout.py. New:
#:   ``matvec_stream_slowdown`` 1.55 for an M = 1 contraction whose weight exceeds the 512 KiB L2 of
#:   a Zen 3 core (NasRNN small at 1 thread CPU time: every x/h matvec group merged 4.40 ms vs the
#:   original's 2.84 ms, benchmarks/results/nasrnn-forms-small-2026-11-27.txt: the merged 2 MB
#:   weights stream from memory cold, the separate 256 KB ones do not; docs/graph-rules.md).
#: * ``cuda`` — an H100/H200-class GPU through IREE's CUDA HAL: 38 TFLOP/s fp32 (IREE's best tuned
#:   SIMT 4096^3 matmul, 3.64 ms on the lent H100, docs/gpu.md; datasheet 67 TFLOP/s non-tensor),
#:   3000 GB/s (~90 % of the H100 SXM's 3.35 TB/s HBM3; the H200 has 4.8 TB/s), and 4.5 µs per
#:   dispatch: NasRNN small on an H200, original 77 dispatches 0.398 ms vs every matvec group merged
#:   14 dispatches 0.112 ms in one run (benchmarks/results/nasrnn-small-merge-all-cuda-h200-2026-11-27.json:
#:   0.286 ms / 63 dispatches; the work itself is ~1 µs of HBM traffic), i.e. small dispatches are
#:   launch-bound, which is what makes merging many small GPU matmuls pay. Refit (least squares, the
#:   eight H200 medians of NasRNN small in benchmarks/results/nasrnn-{targets-cuda-eqsat,small-merge-all,
#:   small-eqsat}-*h200-2026-11-27.json: 77, 42 and 14 dispatches, minus the model's ~6 µs of work):
#:   time = 36 µs + 4.7 µs per dispatch, hence ``dispatch_us`` 4.7 and ``invocation_us`` 36 (the
#:   fixed per-call cost, paid once). Modelled original / all-merged 3.74x against 3.40-3.83x measured
#:   (5.09x before the refit). A per-dispatch minimum kernel time does not fit these data: every
#:   NasRNN kernel is below any plausible floor, so a floor only adds to the per-dispatch slope and
#:   drives the ratio towards 77 / 14 = 5.5x (docs/models-and-cost.md).
#: * ``vulkan`` — the same GPU class through Vulkan: 29 TFLOP/s (tuned SIMT 4096^3 fp32 4.79 ms on the
#:   H100, docs/gpu.md), bandwidth and per-dispatch cost assumed as for CUDA (not measured yet).
ROOFLINES: dict[str, dict] = {
    "llvm-cpu": dict(peak_gflops=100.0, bandwidth_gbs=20.0, dispatch_us=3.0, conv_nchw_slowdown=1.0,
                     conv_nchw_1x1_slowdown=2.0, conv_nchw_strided_slowdown=8.0,
                     matvec_stream_slowdown=1.55, cache_bytes=512 * 1024),
    "cuda": dict(peak_gflops=38_000.0, bandwidth_gbs=3000.0, dispatch_us=4.7, invocation_us=36.0,
                 conv_nchw_slowdown=1.0, conv_nchw_1x1_slowdown=1.0, conv_nchw_strided_slowdown=1.0,
                 matvec_stream_slowdown=1.0),
    "vulkan": dict(peak_gflops=29_000.0, bandwidth_gbs=3000.0, dispatch_us=4.5, conv_nchw_slowdown=1.0,
                   conv_nchw_1x1_slowdown=1.0, conv_nchw_strided_slowdown=1.0, matvec_stream_slowdown=1.0),
}
