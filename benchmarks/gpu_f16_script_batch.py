"""Bundle of hand-picked ``gpu_script_mma`` candidates for fp16 4096^3 (f16 x f16 -> f32) on CUDA.

Usage (from the repository root)::

    python benchmarks/gpu_f16_script_batch.py OUT_DIR [REPS] [INDICES]

writes a bundle (IREE default and the best ``gpu_mma`` TileAndFuse config first unless INDICES, a comma
list into CANDIDATES, is given; the cuBLAS peer last) to run on the GPU host with
``python3 OUT_DIR/runner.py OUT_DIR --out results.json``.
"""
from __future__ import annotations

import json
import sys

from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.remote import write_bundle

__all__ = ["CANDIDATES", "GPU_MMA_BEST", "main"]

W = Workload.from_key("matmul_4096x4096x4096_f16xf16xf32")
#: The best IREE TileAndFuse config of the 2026-11-26 runs (docs/gpu.md).
GPU_MMA_BEST = dict(wg_m=128, wg_n=128, sub_m=4, sub_n=8, red_k=4, prefetch=3, pipeline="TileAndFuse")
B = dict(wg_m=128, wg_n=128, warp_m=64, warp_n=64, red_k=32, depth=0, sched=0, pad=0, wg_order=0)
#: Run g13 (2026-11-26, unpadded staging: 4-way / 8-way ldmatrix bank conflicts): 1.28-1.97 ms.
RUN_G13 = [B, dict(B, depth=2), dict(B, depth=3, sched=1), dict(B, depth=3),
           dict(B, wg_n=256, depth=2), dict(B, wg_m=256, depth=2),
           dict(B, warp_n=32, depth=3, sched=1), dict(B, warp_m=32, depth=3, sched=1),
           dict(B, wg_m=64, warp_m=32, depth=3, sched=1), dict(B, wg_n=256, red_k=16, depth=3),
           dict(B, wg_m=256, red_k=16, depth=3)]
P = dict(B, pad=1)
#: Run g14: padded + cp.async (depth >= 2) all wrong (multibuffer silently skipped), padded depth 0 0.947 ms.
RUN_G14 = [P, dict(P, depth=2), dict(P, depth=3, sched=1), dict(P, depth=3), dict(P, depth=4, sched=1),
              dict(P, wg_n=256, depth=2), dict(P, wg_n=256, depth=3, sched=1), dict(P, wg_m=256, depth=3, sched=1),
              dict(P, red_k=64, depth=2), dict(P, red_k=16, depth=4), dict(P, warp_n=32, depth=3, sched=1),
              dict(B, depth=3)]
#: Run g15: padded staging with no or register prefetch (depth 0/1), tiles and reduction steps.
RUN_G15 = [P, dict(P, depth=1), dict(P, wg_n=256, depth=1), dict(P, wg_m=256, depth=1),
              dict(P, red_k=64, depth=1), dict(P, red_k=16, depth=1), dict(P, wg_n=256),
              dict(P, warp_n=32, depth=1), dict(P, wg_m=256, red_k=64, depth=1),
              dict(P, wg_n=256, red_k=64, depth=1)]
#: Run g16: padded staging with cp.async buffers (padding after multi-buffering), the g15 best last.
RUN_G16 = [dict(P, depth=2), dict(P, depth=3, sched=1), dict(P, depth=3), dict(P, depth=4, sched=1),
              dict(P, red_k=64, depth=2), dict(P, wg_n=256, depth=3, sched=1), dict(P, wg_m=256, depth=3, sched=1),
              dict(P, warp_n=32, depth=3, sched=1), dict(P, wg_n=256, depth=2), dict(P, depth=4),
              dict(P, red_k=16, depth=4), dict(P, red_k=64, depth=1)]
W2 = dict(P, wg_n=256, depth=3, sched=1)  # the g16 best (0.657 ms)
#: Run g17: around the g16 best: deeper pipelines and longer steps with more shared memory (> 96 KiB).
RUN_G17 = [W2, dict(W2, depth=4), dict(W2, wg_m=256, wg_n=128, depth=4), dict(W2, red_k=64),
              dict(W2, red_k=64, depth=2, sched=0), dict(W2, wg_m=256, wg_n=128, red_k=64, depth=2, sched=0),
              dict(W2, sched=0), dict(W2, wg_m=256, wg_n=128), dict(W2, depth=4, sched=0),
              dict(W2, red_k=16, depth=4, sched=0)]
#: Run g20: workgroup order (wg_order 1: consecutive workgroups walk M) on the two best, depth 4 on 128x256.
RUN_G20 = [W2, dict(W2, wg_order=1), dict(W2, wg_m=256, wg_n=128, depth=4),
              dict(W2, wg_m=256, wg_n=128, depth=4, wg_order=1), dict(W2, depth=4, sched=0, wg_order=1)]
#: Run g25 (sixth session, --timing cached): occupancy and waves. 128x128 / 64x256 workgroups of 4 warps
#: (two workgroups an SM at ~232 registers, so one's epilogue overlaps the other's main loop), 16-warp
#: workgroups of 64x32 / 32x64 warp tiles (fewer registers a thread), longer steps (fewer barriers).
RUN_G25 = [W2, dict(W2, depth=4), dict(W2, wg_m=256, wg_n=128, depth=4), dict(W2, red_k=64),
           dict(W2, wg_n=128), dict(W2, wg_n=128, depth=4), dict(W2, wg_n=128, red_k=64),
           dict(W2, warp_n=32), dict(W2, wg_m=256, wg_n=128, warp_m=32),
           dict(W2, wg_n=128, warp_n=32), dict(W2, wg_n=128, warp_m=32),
           dict(W2, wg_m=256, wg_n=128, red_k=64), dict(W2, wg_m=64), dict(W2, wg_m=256, wg_n=64)]
W3 = dict(W2, red_k=64)  # the g25 best (0.434 / 0.441 ms cached; W2 0.442 / 0.442)
#: Run g26 (sixth session): around W3 (longer steps): scheduling, workgroup order, 256x128, deeper 128x128.
RUN_G26 = [W3, W2, dict(W3, sched=0), dict(W3, wg_order=1), dict(W3, wg_m=256, wg_n=128),
           dict(W3, wg_m=256, wg_n=128, wg_order=1), dict(W3, wg_n=128, depth=4), dict(W3, depth=2, sched=0)]
#: Run g32 (seventh session): robustness of the per-call ratio on one more machine (two passes in one run,
#: cuBLAS in the same run): the g26 best (W3), W2, and the two near-ties of g26 (256x128, wg_order 1).
RUN_G32 = [W3, W2, dict(W3, wg_m=256, wg_n=128), dict(W3, wg_order=1)]
#: Run g37: deeper cp.async pipelines at red_k 32 (5 and 6 buffers: 133 / 159 KiB; the H200's ncu shows long-scoreboard
#: stalls and 70 % L2 throughput, g36), next to W3 and W3 with wg_order 1 (the g32 best in both passes).
#: (The depth knob stops at 4 again after g37: 5 and 6 tied, so this list builds only with the knob widened.)
RUN_G37 = [W3, dict(W3, wg_order=1), dict(W2, depth=5), dict(W2, depth=6), dict(W2, depth=5, wg_order=1)]
#: Run h1 (2026-11-27, helper gpu16): staging above sm_80's 163 KiB (smem_optin: the module compiled against the
#: 227 KiB a Hopper workgroup may opt in to): one more cp.async stage at red_k 64 (204 / 212 KiB), 8 stages at red_k
#: 32, K steps of 128 (two stages), next to W3; cuBLAS in the same run.
O = dict(smem_optin=1)
RUN_H1 = [W3, dict(W3, depth=4, **O), dict(W3, wg_m=256, wg_n=128, depth=4, **O), dict(W2, depth=8, **O),
          dict(W3, red_k=128, depth=2, sched=0, **O), dict(W3, wg_m=256, wg_n=128, red_k=128, depth=2, sched=0, **O),
          dict(W3, depth=4, wg_order=1, **O), dict(W3, wg_n=128, red_k=128, depth=3, **O)]
#: Run h2: the per-call ratio on another machine (W3, its 4-stage opt-in form, W2), cuBLAS in the same run.
RUN_H2 = [W3, dict(W3, depth=4, **O), W2]
CANDIDATES = RUN_H2


def main(argv: list[str]) -> None:
    """Write the bundle (see the module docstring) and print what failed to compile."""
    out, reps = argv[0], int(argv[1]) if len(argv) > 1 else 50
    cands = [CANDIDATES[int(i)] for i in argv[2].split(",")] if len(argv) > 2 else CANDIDATES
    scheds = ([] if len(argv) > 2 else [Schedule(W, "default", {}, "cuda"), Schedule(W, "gpu_mma", GPU_MMA_BEST, "cuda")]) + \
        [Schedule(W, "gpu_script_mma", c, "cuda") for c in cands]
    man = write_bundle(scheds, out, target="cuda", reps=reps, jobs=1)
    print(len(man["entries"]), "entries; failed:", json.dumps(man["failed"]))


if __name__ == "__main__":
    main(sys.argv[1:])
