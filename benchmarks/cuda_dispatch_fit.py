"""Fit the CUDA preset's per-dispatch and per-call costs to recorded H200 timings of NasRNN small.

Reads the recorded medians (benchmarks/results/*h200-2026-11-27.json) of three NasRNN small forms
whose dispatch counts differ (original 77, x matmuls merged 42, every matvec group merged 14), fits
``time = invocation_us + n * dispatch_us + modelled work`` by least squares, and prints the modelled
original / variant ratios for: the old preset (4.5 µs per dispatch, no per-call cost), a per-dispatch
minimum kernel time (the floor alternative), and the fitted preset, beside the measured ratios. No GPU
is needed.

    PYTHONPATH=. python benchmarks/cuda_dispatch_fit.py
"""
import json
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mlir_opt  # noqa: E402
from mlir_opt.graph import apply_rules, prepare  # noqa: E402
from mlir_opt.graph.cost import Roofline, analyze  # noqa: E402
from mlir_opt.graph.view import GraphView  # noqa: E402

RES = Path(__file__).resolve().parent / "results"
#: (file, result id) -> the form it timed
RUNS = [("nasrnn-targets-cuda-eqsat-h200-2026-11-27.json", "original", "orig"),
        ("nasrnn-targets-cuda-eqsat-h200-2026-11-27.json", "cuda-eqsat", "all"),
        ("nasrnn-small-merge-all-cuda-h200-2026-11-27.json", "original", "orig"),
        ("nasrnn-small-merge-all-cuda-h200-2026-11-27.json", "stacked-generic", "all"),
        ("nasrnn-small-eqsat-cuda-h200-2026-11-27.json", "original", "orig"),
        ("nasrnn-small-eqsat-cuda-h200-2026-11-27.json", "eqsat", "x")]


def _medians(path: Path, rid: str) -> list[float]:
    d = json.loads(path.read_text())
    passes = d.get("passes") or {"p": d}
    return [r["median_ms"] * 1e3 for p in passes.values() for r in p["results"]
            if r["id"] == rid and r["status"] == "ok"]


def _x_only(m):
    from benchmarks.nasrnn_targets import x_only

    return x_only(m)


def main() -> None:
    m = prepare(mlir_opt.load("nasrnn", size="small"))
    forms = {"orig": m, "x": _x_only(m), "all": apply_rules(m, ["merge-parallel-matmuls"]).model}
    old = replace(Roofline.for_target("cuda"), dispatch_us=4.5, invocation_us=0.0)
    model = {k: analyze(GraphView(f), old) for k, f in forms.items()}
    n = {k: len(g.dispatches) for k, g in model.items()}
    work = {k: g.us - n[k] * old.dispatch_us for k, g in model.items()}
    pts = [(form, t) for f, rid, form in RUNS for t in _medians(RES / f, rid)]
    a = np.array([[1.0, n[form]] for form, _ in pts])
    y = np.array([t - work[form] for form, t in pts])
    (c, per), *_ = np.linalg.lstsq(a, y, rcond=None)
    print(f"dispatches {n}; modelled work (us) { {k: round(v, 1) for k, v in work.items()} }")
    print(f"fit over {len(pts)} medians: time = {c:.1f} us + {per:.2f} us x dispatches (+ work)")
    meas = {k: np.mean([t for form, t in pts if form == k]) for k in forms}
    same_run = {f: {form: _medians(RES / f, rid) for ff, rid, form in RUNS if ff == f} for f, _, _ in RUNS}
    fitted = Roofline.for_target("cuda")
    floor = 2.0  # a per-dispatch minimum kernel time: every NasRNN kernel is below it

    def ratios(us):
        return {v: us["orig"] / us[v] for v in ("x", "all")}

    rows = {"old preset (4.5 us/dispatch)": ratios({k: g.us for k, g in model.items()}),
            f"floor {floor} us + launch {per - floor:.2f} us": ratios(
                {k: n[k] * per + work[k] for k in forms}),  # every kernel below the floor
            f"fitted preset ({fitted.dispatch_us} us/dispatch + {fitted.invocation_us} us/call)": ratios(
                {k: analyze(GraphView(f), fitted).us for k, f in forms.items()}),
            "measured (mean of H200 medians)": ratios(meas)}
    for name, r in rows.items():
        print(f"  {name:48s} orig/x-merged {r['x']:.2f}x  orig/all-merged {r['all']:.2f}x")
    for f, r in same_run.items():
        (k,) = [v for v in r if v != "orig"]
        print(f"  measured in one run, {f}: orig/{k} " + ", ".join(f"{o / v:.2f}x" for o, v in zip(r["orig"], r[k])))


if __name__ == "__main__":
    main()
