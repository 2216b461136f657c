"""Bundle of hand-picked ``gpu_script`` candidates for fp32 4096^3 on CUDA (device runs g10/g11, 2026-11-26c).

Usage (from the repository root)::

    python benchmarks/gpu_script_batch.py OUT_DIR [REPS] [INDICES]

writes a bundle (IREE default first unless INDICES, a comma list into CANDIDATES, is given; the cuBLAS
peer last) to run on the GPU host with ``python3 OUT_DIR/runner.py OUT_DIR --out results.json``.
"""
from __future__ import annotations

import json
import sys

from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.remote import write_bundle

__all__ = ["CANDIDATES", "main"]

W = Workload.from_key("matmul_4096x4096x4096_f32xf32xf32")
#: The incumbent (SKETCH_SEEDS[0]) and the one_group variants timed in run g10.
BEST = dict(wg_m=64, wg_n=128, th_m=16, th_n=4, red_k=32, prefetch=2, inner_k=8, pad_smem=0, wg_order=0, one_group=0)
CANDIDATES = [BEST, dict(BEST, one_group=1),
              dict(BEST, red_k=16, prefetch=3, one_group=1), dict(BEST, red_k=16, prefetch=2, one_group=1),
              dict(BEST, wg_m=128, wg_n=64, one_group=1), dict(BEST, wg_m=128, wg_n=64, red_k=16, prefetch=3, one_group=1),
              dict(BEST, wg_m=64, wg_n=64, th_m=8, one_group=1), dict(BEST, wg_m=64, wg_n=64, th_m=8, prefetch=3, one_group=1),
              dict(BEST, wg_m=128, wg_n=128, red_k=16, prefetch=3, one_group=1),
              dict(BEST, wg_m=128, wg_n=128, red_k=16, prefetch=2, one_group=1),
              dict(BEST, inner_k=4, one_group=1), dict(BEST, wg_order=1, one_group=1)]


def main(argv: list[str]) -> None:
    """Write the bundle (see the module docstring) and print what failed to compile."""
    out, reps = argv[0], int(argv[1]) if len(argv) > 1 else 50
    cands = [CANDIDATES[int(i)] for i in argv[2].split(",")] if len(argv) > 2 else CANDIDATES
    scheds = ([] if len(argv) > 2 else [Schedule(W, "default", {}, "cuda")]) + \
        [Schedule(W, "gpu_script", c, "cuda") for c in cands]
    man = write_bundle(scheds, out, target="cuda", reps=reps, jobs=1)
    print(len(man["entries"]), "entries; failed:", json.dumps(man["failed"]))


if __name__ == "__main__":
    main(sys.argv[1:])
