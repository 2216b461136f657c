"""Peers: IREE's default compile vs PyTorch eager vs ONNX Runtime on the bundled models.

Prints, for each model at the chosen size, the median latency of each runtime on the CPU with the
same thread count, timed in interleaved rounds in one run, and the ratio to IREE. Results can be
saved as JSON (``--json``) under benchmarks/results/.

    python benchmarks/peers.py                      # base sizes (BERT-base layer, seq 128)
    python benchmarks/peers.py --size tiny --reps 3 # quick smoke run
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="mlp,cnn,bert")
    ap.add_argument("--size", default="base", choices=["tiny", "small", "base"])
    ap.add_argument("--reps", type=int, default=15, help="samples per runtime (pooled over rounds)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="default: all cores")
    ap.add_argument("--json", type=Path, default=None, help="also write results here")
    args = ap.parse_args(argv)

    import onnxruntime as ort
    import torch
    from rich.console import Console
    from rich.table import Table

    import mlir_opt
    from mlir_opt.backend import benchmark_many, compile_module, default_threads, time_callable
    from mlir_opt.models import build
    from mlir_opt.report import machine_info

    threads = args.threads or default_threads()
    torch.set_num_threads(threads)
    console = Console(stderr=True)
    rows = []
    per_round = max(1, -(-args.reps // args.rounds))
    tmpdir = tempfile.TemporaryDirectory(prefix="peers_")
    for name in args.models.split(","):
        tmp = Path(tmpdir.name) / name
        tmp.mkdir()
        with console.status(f"{name}: import, compile, export"):
            module, examples = build(name, size=args.size)
            model = mlir_opt.load(module, examples, name=name)
            vmfb = compile_module(model.bytecode(), "llvm-cpu", output=Path(tmp) / "m.vmfb").vmfb
            onnx_path = Path(tmp) / "m.onnx"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(module, examples, str(onnx_path), dynamo=False, opset_version=17)
            so = ort.SessionOptions()
            so.intra_op_num_threads = threads
            so.inter_op_num_threads = 1
            sess = ort.InferenceSession(str(onnx_path), so, providers=["CPUExecutionProvider"])
            inputs = model.random_inputs(0)
            feed = {i.name: a for i, a in zip(sess.get_inputs(), inputs)}
            t_inputs = [torch.from_numpy(a) for a in inputs]

            def torch_eager():
                with torch.no_grad():
                    module(*t_inputs)

            def onnxruntime():
                sess.run(None, feed)

            # Same numbers from all three before timing them.
            ref = model.reference(inputs)[0]
            ort_out = sess.run(None, feed)[0]
            iree_out = mlir_opt.run(model, vmfb, inputs, check=False).outputs[0]
            err_iree = float(np.linalg.norm(iree_out - ref) / np.linalg.norm(ref))
            err_ort = float(np.linalg.norm(ort_out - ref) / np.linalg.norm(ref))
        with console.status(f"{name}: timing ({args.rounds} rounds)"):
            res = {"iree": [], "torch": [], "onnxruntime": []}
            for _ in range(args.rounds):
                res["iree"] += benchmark_many({"m": vmfb}, inputs, entry=model.entry, reps=per_round,
                                              rounds=1, threads=threads)["m"].samples_ms
                res["torch"] += time_callable(torch_eager, reps=per_round).samples_ms
                res["onnxruntime"] += time_callable(onnxruntime, reps=per_round).samples_ms
        med = {k: float(np.median(v)) for k, v in res.items()}
        rows.append({"model": name, "size": args.size, **{f"{k}_ms": v for k, v in med.items()},
                     "iree_over_torch": med["iree"] / med["torch"],
                     "iree_over_onnxruntime": med["iree"] / med["onnxruntime"],
                     "rel_error_iree_vs_torch": err_iree, "rel_error_ort_vs_torch": err_ort,
                     "samples": {k: len(v) for k, v in res.items()}})
        console.print(f"{name}: IREE {med['iree']:.3f} ms, torch {med['torch']:.3f} ms, "
                      f"ORT {med['onnxruntime']:.3f} ms")

    machine = machine_info(threads)
    table = Table(title=f"Peers on the CPU ({machine['cpu']}, {threads} threads), size={args.size}, "
                        f"median of {args.reps} samples")
    for col in ("model", "IREE default ms", "torch eager ms", "ONNX Runtime ms", "IREE/torch",
                "IREE/ORT", "rel.err IREE", "rel.err ORT"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["model"], f"{r['iree_ms']:.3f}", f"{r['torch_ms']:.3f}", f"{r['onnxruntime_ms']:.3f}",
                      f"{r['iree_over_torch']:.2f}×", f"{r['iree_over_onnxruntime']:.2f}×",
                      f"{r['rel_error_iree_vs_torch']:.1e}", f"{r['rel_error_ort_vs_torch']:.1e}")
    Console(width=150).print(table)
    tmpdir.cleanup()
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": machine,
                                         "size": args.size, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
