"""GPU results side by side: IREE default vs tuned vs cuBLAS/torch, from recorded bundle runs.

The GPU host has no compiler, so GPU benchmarks run as bundles (see README: bundle, bundle-model,
ingest). This script prints the table of what was measured, from the JSON files under
benchmarks/results/ (gpu-*.json), naming the card and the date of each run:

    python benchmarks/gpu.py
    python benchmarks/gpu.py benchmarks/results/gpu-matmul-4096-h100-2026-11-25.json

To produce new figures: `python -m mlir_opt bundle WORKLOAD --target cuda ...`, run the bundle's
runner.py on the GPU host, `python -m mlir_opt ingest results.json`, repeat with
`--strategy evolutionary --db`, then `bundle-model MODEL --target cuda [--tuned]` for models.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path


def main(argv=None) -> int:
    files = [Path(a) for a in (argv if argv is not None else sys.argv[1:])] or \
        sorted((Path(__file__).parent / "results").glob("gpu-*.json"))
    if not files:
        print("no GPU results found (benchmarks/results/gpu-*.json)")
        return 1
    from rich.console import Console
    from rich.table import Table

    t = Table(title="IREE on the GPU: default vs tuned vs cuBLAS / torch (median ms)")
    for c in ("run", "card", "workload / model", "IREE default", "tuned", "torch", "speedup", "tuned/torch", "trials"):
        t.add_column(c, justify="right")
    for f in files:
        d = json.loads(f.read_text())
        card = d.get("device", "?").split(" (")[0]
        for key, r in d.get("rows", {}).items():
            dflt = statistics.median(r["iree_default_ms"])
            peer = statistics.median(r["torch_cublas_ms"]) if r.get("torch_cublas_ms") else None
            t.add_row(d["date"], card, key, f"{dflt:.3f}", f"{r['best_ms']:.3f}", f"{peer:.3f}" if peer else "-",
                      f"{dflt / r['best_ms']:.2f}×", f"{r['best_ms'] / peer:.2f}×" if peer else "-", str(r["trials"]))
        for key, r in d.get("workloads", {}).items():
            peer = r.get("torch_cublas_ms")
            t.add_row(d["date"], card, key, f"{r['iree_default_ms']:.3f}", f"{r['best_ms']:.3f}",
                      f"{peer:.3f}" if peer else "-", f"{r['iree_default_ms'] / r['best_ms']:.2f}×",
                      f"{r['best_ms'] / peer:.2f}×" if peer else "-", str(r["trials"]))
        if "model_runs" in d:
            dflt = statistics.median(x["median_ms"] for x in d["model_runs"]["bert_default"])
            tuned = statistics.median(x["median_ms"] for x in d["model_runs"]["bert_tuned"])
            peer = d.get("torch_eager_fp32_ms")
            t.add_row(d["date"], card, "BERT-base layer (end to end)", f"{dflt:.3f}", f"{tuned:.3f}",
                      f"{peer:.3f}" if peer else "-", f"{dflt / tuned:.2f}×", f"{tuned / peer:.2f}×" if peer else "-",
                      "-")
    Console(width=170).print(t)
    return 0


if __name__ == "__main__":
    sys.exit(main())
