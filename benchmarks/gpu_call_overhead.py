"""Per-call cost outside the kernel, by operand size: IREE-default f16 matmuls whose output or inputs are large
while the work is small (seventh session, run g34). Each module's call time (runner, ``--timing cached``) minus
its kernel time (ncu, ``benchmarks/gpu_f16_kernel_time.sh``) is what a call costs outside the kernel.

Usage (from the repository root)::

    PYTHONPATH=. python benchmarks/gpu_call_overhead.py OUT_DIR [REPS] [w3]
"""
from __future__ import annotations

import json
import sys

from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.remote import write_bundle

__all__ = ["SHAPES", "main"]

#: (M, N, K): large output / small inputs, small output / one large input, everything small, the 4096^3 case.
SHAPES = [(4096, 4096, 64), (64, 4096, 4096), (256, 256, 256), (4096, 4096, 4096)]


#: Run g35: the best 4096^3 schedule (red_k 64, 128x256, depth 3) on shapes whose kernels last ~0.09-0.7 ms.
W3 = dict(wg_m=128, wg_n=256, warp_m=64, warp_n=64, red_k=64, depth=3, sched=1, pad=1, wg_order=0)
SHAPES_W3 = [(2048, 2048, 4096), (4096, 4096, 2048), (4096, 4096, 8192)]


def main(argv: list[str]) -> None:
    """``OUT [REPS] [w3]``: the IREE-default bundle (g34), or with ``w3`` the W3 bundle (g35)."""
    out, reps = argv[0], int(argv[1]) if len(argv) > 1 else 30
    if len(argv) > 2 and argv[2] == "w3":
        scheds = [Schedule(Workload.from_key(f"matmul_{m}x{n}x{k}_f16xf16xf32"), "gpu_script_mma", W3, "cuda")
                  for m, n, k in SHAPES_W3]
    else:
        scheds = [Schedule(Workload.from_key(f"matmul_{m}x{n}x{k}_f16xf16xf32"), "default", {}, "cuda")
                  for m, n, k in SHAPES]
    man = write_bundle(scheds, out, target="cuda", reps=reps, jobs=1, peers=len(argv) > 2)
    print(len(man["entries"]), "entries; failed:", json.dumps(man["failed"]))


if __name__ == "__main__":
    main(sys.argv[1:])
