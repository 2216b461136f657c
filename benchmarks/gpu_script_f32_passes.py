"""fp32 4096^3 ``gpu_script`` candidates against cuBLAS over several passes (issue #6, ninth session).

Usage (from the repository root)::

    python benchmarks/gpu_script_f32_passes.py bundle OUT_DIR [NAMES]   # NAMES: comma list of CANDIDATES keys
    # on the GPU host, PASSES times:  python3 OUT_DIR/runner.py OUT_DIR --out pN.json --timing cached --reps 100
    python benchmarks/gpu_script_f32_passes.py summary RESULT.json RUN CARD OUT_DIR/names.json p1.json p2.json ...

``bundle`` writes a bundle of the named candidates (all unless NAMES; the incumbent first, the cuBLAS peer,
torch.matmul with TF32 off, last); every candidate is checked numerically by the runner in every pass.
``summary`` folds the passes' results into run RUN of RESULT.json (other runs there are kept): per entry (named
as in the bundle's ``names.json``) the per-pass medians, their median, min and max, and per pass the ratio of
each candidate's call time to cuBLAS's (CUDA events of back-to-back calls, ``median_ms``, and one call +
synchronize, ``call_ms``).
"""
from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.remote import write_bundle

__all__ = ["CANDIDATES", "INCUMBENT", "main", "summarize"]

W = Workload.from_key("matmul_4096x4096x4096_f32xf32xf32")
#: The incumbent: SKETCH_SEEDS["gpu_script"][0] (3.33-3.38 ms vs cuBLAS 2.68 on H100s, docs/gpu.md).
INCUMBENT = dict(wg_m=64, wg_n=128, th_m=16, th_n=4, red_k=32, prefetch=2, inner_k=8, pad_smem=0, wg_order=0,
                 one_group=0, min_blocks=0)
_T128 = dict(INCUMBENT, wg_m=128, wg_n=128)  # 16x4 register tiles, 256 threads
#: Named candidates: occupancy (min_blocks: nvvm.minctasm caps registers), staging above 48 KiB (deeper or
#: longer pipelines), wider register tiles (16x8).
CANDIDATES = {
    "incumbent": INCUMBENT,
    "mb4": dict(INCUMBENT, min_blocks=4),
    "mb4_ik4": dict(INCUMBENT, min_blocks=4, inner_k=4),
    "t128_mb2": dict(_T128, min_blocks=2),
    "t128_p3_mb2": dict(_T128, prefetch=3, min_blocks=2),
    "w128x64_mb4": dict(INCUMBENT, wg_m=128, wg_n=64, min_blocks=4),
    "p3": dict(INCUMBENT, prefetch=3),
    "k64": dict(INCUMBENT, red_k=64),
    "t16x8_64x256": dict(INCUMBENT, wg_n=256, th_n=8, inner_k=4),
    "t16x8_128x128": dict(INCUMBENT, wg_m=128, th_n=8, inner_k=4),
}


def summarize(card: str, names: dict, paths: list[str]) -> dict:
    """Runner results of several passes (one bundle or sub-bundles of it, one machine) folded into one record
    (see the module docstring); ``names`` maps entry ids to CANDIDATES keys."""
    runs = [json.loads(Path(p).read_text()) for p in paths]
    ids = [r["id"] for r in runs[0]["results"]]
    torch_id = next(i for i in ids if i.startswith("torch_"))
    entries, passes = {}, []
    for n, run in enumerate(runs, 1):
        by = {r["id"]: r for r in run["results"]}
        tb = by[torch_id]
        row = {"pass": f"p{n}", "cublas_events_ms": tb.get("median_ms"), "cublas_call_ms": tb.get("call_ms"),
               "ratio_events": {}, "ratio_call": {}}
        for i in ids:
            if i not in by:  # a sub-bundle's pass (bundle_subset.py) leaves this entry out
                continue
            r = by[i]
            e = entries.setdefault(i, {"status": [], "median_ms": [], "rel_error": []})
            e["status"].append(r.get("status"))
            if r.get("median_ms") is not None:
                e["median_ms"].append(r["median_ms"])
            if r.get("rel_error") is not None:
                e["rel_error"].append(r["rel_error"])
            if i != torch_id and r.get("status") == "ok":
                row["ratio_events"][i] = r["median_ms"] / tb["median_ms"]
                row["ratio_call"][i] = r["median_ms"] / tb["call_ms"]
        passes.append(row)
    for i, e in entries.items():
        if e["median_ms"]:
            e.update(median=statistics.median(e["median_ms"]), min=min(e["median_ms"]), max=max(e["median_ms"]))
        if i != torch_id:
            rs = [p["ratio_events"][i] for p in passes if i in p["ratio_events"]]
            rc = [p["ratio_call"][i] for p in passes if i in p["ratio_call"]]
            if rs:
                e.update(ratio_events_median=statistics.median(rs), ratio_events_min=min(rs),
                         ratio_events_max=max(rs), ratio_call_median=statistics.median(rc),
                         ratio_call_min=min(rc), ratio_call_max=max(rc))
    cb = [p["cublas_call_ms"] for p in passes]
    entries[torch_id]["call_ms"] = cb
    entries = {names.get(i, i): e for i, e in entries.items()}
    for row in passes:
        for k in ("ratio_events", "ratio_call"):
            row[k] = {names.get(i, i): v for i, v in row[k].items()}
    res = {"what": "fp32 4096^3 gpu_script candidates per call (--timing cached) vs torch/cuBLAS (TF32 off) in "
                   "consecutive passes of one bundle on one machine; ratio_events: against CUDA events of "
                   "back-to-back calls, ratio_call: against 10 x (call + synchronize)",
           "card": card, "device": runs[0].get("device"), "timing": runs[0].get("timing", {}).get("mode"),
           "candidates": {names.get(i, i): CANDIDATES.get(names.get(i, i)) for i in ids if not i.startswith("torch_")},
           "entries": entries, "passes": passes}
    return res


def main(argv: list[str]) -> None:
    """``bundle`` or ``summary`` (see the module docstring)."""
    if argv[0] == "summary":
        out, run, card, names = Path(argv[1]), argv[2], argv[3], json.loads(Path(argv[4]).read_text())
        res = summarize(card, names, argv[5:])
        doc = json.loads(out.read_text()) if out.exists() else {"runs": {}}
        doc["runs"][run] = res
        out.write_text(json.dumps(doc, indent=1))
        for i, e in res["entries"].items():
            print(i, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in e.items()
                      if k in ("median", "min", "max", "ratio_events_median", "ratio_events_max", "ratio_call_median")})
        return
    out = argv[1]
    names = argv[2].split(",") if len(argv) > 2 else list(CANDIDATES)
    scheds = [Schedule(W, "gpu_script", CANDIDATES[n], "cuda") for n in names]
    for n, s in zip(names, scheds):
        if why := s.validate():
            raise SystemExit(f"{n}: {why}")
    man = write_bundle(scheds, out, target="cuda", reps=100, jobs=1)
    Path(out, "names.json").write_text(json.dumps(dict(zip([e["id"] for e in man["entries"]], names + ["torch"]))))
    print(len(man["entries"]), "entries; failed:", json.dumps(man["failed"]))


if __name__ == "__main__":
    main(sys.argv[1:])
