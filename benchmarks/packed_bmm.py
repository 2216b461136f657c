"""One batch_matmul: IREE's default vs the mmt4d_script route (pack + linalg.batch_mmt4d + unpack,
compiled with the batch-aware transform strategy), checked against numpy and timed interleaved.

Both modules take the same (A, B) arguments, so the packs of A and B are part of every call here
(in a model, a constant B is packed once at compile time). ``packed`` is the packed module without
the library (IREE's own Mmt4dTilingExpert), to separate the packing from the kernel.

    python benchmarks/packed_bmm.py                                            # BERT attention QK^T-like shape
    python benchmarks/packed_bmm.py --key batch_matmul_2x64x64x32_f32xf32xf32 --rounds 2 --reps 4   # quick
    python benchmarks/packed_bmm.py --threads 1 --cpu-time --decisions '{"m0": 4, "n0": 16, "cache_k": 0}'
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_D = dict(m0=6, n0=16, wg_m1=4, wg_n1=4, cache_k=32, unroll=2, order=1)


def main(argv=None) -> int:
    import numpy as np

    from mlir_opt.backend import benchmark_many, compile_module
    from mlir_opt.backend.runtime import Runner
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.transform_script import packed_module, render_transform_library

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--key", default="batch_matmul_4x128x128x64_f32xf32xf32")
    ap.add_argument("--decisions", default="{}", help="JSON, merged over %s" % DEFAULT_D)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--cpu-time", action="store_true")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args(argv)
    w = Workload.from_key(a.key)
    s = Schedule(w, "mmt4d_script", dict(DEFAULT_D, **json.loads(a.decisions)))
    if why := s.validate():
        print(f"error: {why}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        lib = tmp / "lib.mlir"
        lib.write_text(render_transform_library([s]))
        vm = {"default": compile_module(w.single_op_module(), output=tmp / "d.vmfb").vmfb,
              "packed": compile_module(packed_module(w, s.decisions), output=tmp / "p.vmfb").vmfb,
              "packed+strategy": compile_module(packed_module(w, s.decisions), output=tmp / "s.vmfb",
                                                flags=[f"--iree-codegen-transform-dialect-library={lib}"]).vmfb}
        rng = np.random.default_rng(0)
        ins = [rng.standard_normal([int(x) for x in t[7:-1].split("x")[:-1]], dtype=np.float32)
               for t in w.operand_types[:2]]
        ref = np.matmul(ins[0].astype(np.float64), ins[1].astype(np.float64))
        for name, v in vm.items():
            (got,) = Runner(v, threads=a.threads)(ins)
            err = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
            print(f"{name}: max error / max |ref| = {err:.2e} vs numpy")
            if err > 1e-4:
                print(f"error: {name} is wrong", file=sys.stderr)
                return 1
        t = benchmark_many(vm, ins, reps=a.reps, rounds=a.rounds, threads=a.threads, cpu_time=a.cpu_time)
    base = t["default"].median_ms
    print(f"{a.key}, {s.describe()}, threads={a.threads or 'all'}{', cpu time' if a.cpu_time else ''}:")
    for name, tm in t.items():
        print(f"  {name:16s} {tm.median_ms:8.3f} ms  ({base / tm.median_ms:.2f}x vs default)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
