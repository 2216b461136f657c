"""Import, compile and check every bundled model at a size: seconds per stage, accuracy, latency.

For each model: build (torch), import to linalg (iree-turbine + lowering), compile with IREE's
defaults for the host CPU, run once on random inputs against torch eager (relative error), and one
short latency measurement. One model at a time, so that peak memory stays that of one model (VGG-19
at base holds 143 M fp32 parameters: ~0.6 GB per copy).

    python benchmarks/zoo_import.py --size base
    python benchmarks/zoo_import.py --size tiny --models resnet50,nasrnn
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="all", help="comma-separated bundled models or 'all' (default)")
    ap.add_argument("--size", default="base", choices=["tiny", "small", "base"])
    ap.add_argument("--reps", type=int, default=3, help="latency repetitions (0: skip timing)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import numpy as np

    import mlir_opt
    from mlir_opt.backend import Runner, benchmark, compile_module
    from mlir_opt.models import NAMES, build

    names = list(NAMES) if args.models == "all" else args.models.split(",")
    rows = []
    tmp = Path(tempfile.mkdtemp(prefix="zoo_import_"))
    print(f"{'model':14s} {'params':>9s} {'build s':>8s} {'import s':>9s} {'compile s':>10s} {'rel.err':>9s} {'IREE ms':>9s}")
    for name in names:
        row: dict = {"model": name, "size": args.size}
        try:
            t0 = time.perf_counter()
            module, examples = build(name, args.size)
            row["params_m"] = sum(p.numel() for p in module.parameters()) / 1e6
            row["build_s"] = time.perf_counter() - t0
            t0 = time.perf_counter()
            m = mlir_opt.load(module, examples, name=name)
            row["import_s"] = time.perf_counter() - t0
            res = compile_module(m.bytecode(), "llvm-cpu", output=tmp / f"{name}.vmfb")
            row["compile_s"] = res.seconds
            x = m.random_inputs(0)
            out, ref = Runner(res.vmfb, m.entry)(x)[0], m.reference(x)[0]
            row["rel_error"] = float(np.linalg.norm(out - ref) / np.linalg.norm(ref))
            if args.reps:
                row["iree_ms"] = benchmark(res.vmfb, x, entry=m.entry, reps=args.reps, rounds=1).median_ms
            (tmp / f"{name}.vmfb").unlink()
        except Exception as err:  # report and go on with the next model
            row["error"] = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
        rows.append(row)
        f = lambda k, fmt: format(row[k], fmt) if k in row else "-"  # noqa: E731
        print(f"{name:14s} {f('params_m', '8.3f')}M {f('build_s', '8.1f')} {f('import_s', '9.1f')} "
              f"{f('compile_s', '10.1f')} {f('rel_error', '9.1e')} {f('iree_ms', '9.2f')}"
              + (f"  error: {row['error']}" if "error" in row else ""), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
