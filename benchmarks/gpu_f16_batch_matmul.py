"""Bundle for f16 ``batch_matmul`` (f16 x f16 -> f32) through ``gpu_script_mma`` on CUDA: correctness on
4x256x256x128 and a unit batch (1x128x256x64, which IREE folds to a plain matmul), speed on 8x1024^3
against IREE's default, the best ``gpu_mma`` TileAndFuse config and cuBLAS (torch peers).

Usage (from the repository root; PYTHONPATH=. so that the bundle carries this checkout's runner)::

    PYTHONPATH=. python benchmarks/gpu_f16_batch_matmul.py OUT_DIR [REPS]
    # on the GPU host (iree-base-runtime installed):
    python3 OUT_DIR/runner.py OUT_DIR --out bmm.json

Measured on an H100 (run g28, 2026-11-26): benchmarks/results/gpu-f16-batch-matmul-h100-2026-11-26.json.
"""
from __future__ import annotations

import json
import sys

from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.remote import write_bundle

__all__ = ["SCRIPT", "GPU_MMA_BEST", "schedules", "main"]

#: The gpu_script_mma base schedule (128x128 workgroups, 64x64 warps, 3 cp.async stages, padded).
SCRIPT = dict(wg_m=128, wg_n=128, warp_m=64, warp_n=64, red_k=32, depth=3, sched=1, pad=1, wg_order=0)
#: The best IREE TileAndFuse config of the 2026-11-26 fp16 matmul runs (docs/gpu.md).
GPU_MMA_BEST = dict(wg_m=128, wg_n=128, sub_m=4, sub_n=8, red_k=4, prefetch=3, pipeline="TileAndFuse")


def schedules() -> list[Schedule]:
    """The bundle's schedules, in entry order (c0 ...)."""
    out = []
    for key in ("batch_matmul_4x256x256x128_f16xf16xf32", "batch_matmul_1x128x256x64_f16xf16xf32"):
        w = Workload.from_key(key)
        out += [Schedule(w, "gpu_script_mma", SCRIPT, "cuda"),
                Schedule(w, "gpu_script_mma", dict(SCRIPT, wg_m=64, warp_m=32, depth=0, sched=0, wg_order=1), "cuda")]
    big = Workload.from_key("batch_matmul_8x1024x1024x1024_f16xf16xf32")
    out += [Schedule(big, "default", {}, "cuda"), Schedule(big, "gpu_mma", GPU_MMA_BEST, "cuda")]
    out += [Schedule(big, "gpu_script_mma", d, "cuda")
            for d in (SCRIPT, dict(SCRIPT, wg_n=256), dict(SCRIPT, wg_n=256, red_k=64),
                      dict(SCRIPT, wg_m=256, depth=4))]
    return out


def main(argv: list[str]) -> None:
    """Write the bundle and print what failed to compile."""
    man = write_bundle(schedules(), argv[0], target="cuda", reps=int(argv[1]) if len(argv) > 1 else 20, jobs=1)
    print(len(man["entries"]), "entries; failed:", json.dumps(man["failed"]))


if __name__ == "__main__":
    main(sys.argv[1:])
