"""Bundle for the call-time comparison (issue #6): fp16 and fp32 4096^3 on CUDA, IREE default, the best
tuned schedules (``gpu_mma`` TileAndFuse, ``gpu_script_mma``, ``gpu_script``) and cuBLAS in one run.

Usage (from the repository root)::

    python benchmarks/gpu_call_time.py OUT_DIR [REPS] [IREE_COMPILE_FLAG ...]
    # on the GPU host: every IREE module under both call-time methods (docs/gpu.md, "Call time")
    python3 OUT_DIR/runner.py OUT_DIR --out OUT_DIR/results.json --timing all

``--timing all`` times each module with IREE's default HAL flags (``plain``), with the caching
allocator and synchronous allocations (``cached``, the runner's fair choice), with that and
``--batch_size`` back-to-back calls (``batched``), and reads the kernel time from IREE's
``--dispatch_statistics``.
"""
from __future__ import annotations

import json
import sys

from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.remote import write_bundle

__all__ = ["SCHEDULES", "main"]

F16 = Workload.from_key("matmul_4096x4096x4096_f16xf16xf32")
F32 = Workload.from_key("matmul_4096x4096x4096_f32xf32xf32")
#: The best of runs g16-g20 (docs/gpu.md): gpu_mma TileAndFuse, gpu_script_mma 128x256 / 256x128, gpu_script fp32.
GPU_MMA_BEST = dict(wg_m=128, wg_n=128, sub_m=4, sub_n=8, red_k=4, prefetch=3, pipeline="TileAndFuse")
MMA_BEST = dict(wg_m=128, wg_n=256, warp_m=64, warp_n=64, red_k=32, depth=3, sched=1, pad=1, wg_order=0)
MMA_2 = dict(MMA_BEST, wg_m=256, wg_n=128, depth=4)
F32_BEST = dict(wg_m=64, wg_n=128, th_m=16, th_n=4, red_k=32, prefetch=2, inner_k=8, pad_smem=0, wg_order=0, one_group=0)
SCHEDULES = [Schedule(F16, "default", {}, "cuda"), Schedule(F16, "gpu_mma", GPU_MMA_BEST, "cuda"),
             Schedule(F16, "gpu_script_mma", MMA_BEST, "cuda"), Schedule(F16, "gpu_script_mma", MMA_2, "cuda"),
             Schedule(F32, "default", {}, "cuda"), Schedule(F32, "gpu_script", F32_BEST, "cuda")]


def main(argv: list[str]) -> None:
    """Write the bundle (see the module docstring) and print what failed to compile."""
    out, reps = argv[0], int(argv[1]) if len(argv) > 1 else 30
    extra = argv[2:]  # e.g. --iree-execution-model=async-external (every module alike)
    man = write_bundle(SCHEDULES, out, target="cuda", reps=reps, jobs=1, extra_flags=extra)
    print(len(man["entries"]), "entries; failed:", json.dumps(man["failed"]))


if __name__ == "__main__":
    main(sys.argv[1:])
