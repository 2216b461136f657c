"""GPU results side by side: IREE default vs tuned vs cuBLAS/torch, CUDA and Vulkan.

The GPU host has no compiler, so GPU benchmarks run as bundles. Three steps:

    # 1. here: one bundle per backend with IREE's default and the database's best schedules
    #    (top 3 per workload, re-measured together; CUDA f16 also at sm_89), + cuBLAS via torch
    python benchmarks/gpu.py bundle out/final --db tuning.sqlite
    #    (or --known: the best schedules of the 2026-11-26 H100 runs, KNOWN below, no database needed)
    # 2. on the GPU host (iree-base-runtime installed; Vulkan needs the loader, see docs/gpu.md)
    #    (--timing cached: caching allocator + synchronous allocations for every IREE module, docs/gpu.md)
    for b in out/final/*/; do python3 $b/runner.py $b --out $b/results.json --timing cached; done
    # 3. here: write the record and print the table
    python benchmarks/gpu.py collect out/final benchmarks/results/gpu-matmul-4096-h100-DATE.json --card "NVIDIA H100 ..."
    python benchmarks/gpu.py            # the table of every benchmarks/results/gpu-*.json

The tuning itself is `python -m mlir_opt tune-remote WORKLOAD --target cuda|vulkan ...` (docs/gpu.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

WORKLOADS = ("matmul_4096x4096x4096_f32xf32xf32", "matmul_4096x4096x4096_f16xf16xf32")


F16, F32 = WORKLOADS[1], WORKLOADS[0]
#: The best schedules measured on the lent H100 (docs/gpu.md, 2026-11-26), per (target, workload):
#: what ``bundle --known`` ships next to IREE's default when no tuning database holds the runs.
KNOWN = {
    ("cuda", F16): [
        ("gpu_script_mma", dict(wg_m=128, wg_n=256, warp_m=64, warp_n=64, red_k=64, depth=3, sched=1, pad=1, wg_order=0)),
        ("gpu_script_mma", dict(wg_m=128, wg_n=256, warp_m=64, warp_n=64, red_k=32, depth=3, sched=1, pad=1, wg_order=0)),
        ("gpu_script_mma", dict(wg_m=256, wg_n=128, warp_m=64, warp_n=64, red_k=32, depth=4, sched=1, pad=1, wg_order=0)),
        ("gpu_mma", dict(wg_m=128, wg_n=128, sub_m=4, sub_n=8, red_k=4, prefetch=3, pipeline="TileAndFuse"))],
    ("cuda", F32): [
        ("gpu_script", dict(wg_m=64, wg_n=128, th_m=16, th_n=4, red_k=32, prefetch=2, inner_k=8, pad_smem=0,
                            wg_order=0, one_group=0)),
        ("gpu_simt", dict(wg_m=128, wg_n=64, th_m=16, th_n=4, red_k=32, promote=1, prefetch=2))],
    ("vulkan", F16): [("spirv_simt", dict(wg_m=64, wg_n=128, th_m=8, th_n=8, red_k=16, depth=2, store_stage=0))],
    ("vulkan", F32): [("spirv_simt", dict(wg_m=64, wg_n=128, th_m=16, th_n=4, red_k=8, depth=2, store_stage=0))],
}


def make_bundles(out: Path, db_path: str | None, top: int = 3, reps: int = 20, known: bool = False) -> None:
    """Bundles for the side-by-side run: per backend, IREE default + the top schedules per workload
    (from the database at ``db_path``, or :data:`KNOWN` with ``known``; then CUDA sm_89 is left out)."""
    from mlir_opt.db import Database, like_for_like
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.remote import write_bundle

    db = None if known else Database(db_path)
    plan = [("cuda", "sm_80", True), ("cuda", "sm_89", False), ("vulkan", "ampere", False)]
    for target, arch, peers in plan:
        if known and arch == "sm_89":
            continue
        scheds = []
        for key in WORKLOADS:
            if arch == "sm_89" and "f16" not in key:
                continue
            w = Workload.from_key(key)
            if known:
                scheds += [Schedule(w, "default", {}, target)] + [Schedule(w, sk, d, target)
                                                                  for sk, d in KNOWN[(target, key)][:top]]
                continue
            _, timed = like_for_like(db.records(key, target, any_device=True))  # one timing mode's records
            recs = sorted((r for r in timed if r.sketch != "default"), key=lambda r: r.median_ms)
            picked, seen = [], set()
            for r in recs:
                tag = json.dumps(r.decisions, sort_keys=True)
                if tag not in seen:
                    seen.add(tag)
                    picked.append(Schedule(w, r.sketch, r.decisions, target))
                if len(picked) == top:
                    break
            scheds += [Schedule(w, "default", {}, target)] + picked
        man = write_bundle(scheds, out / f"{target}_{arch}", target=target, arch=arch, reps=reps, peers=peers)
        print(f"{out / f'{target}_{arch}'}: {len(man['entries'])} entries, {man['bytes'] / 2**20:.1f} MiB")


def collect(bundle_root: Path, dest: Path, card: str, extra: dict | None = None) -> dict:
    """Read every ``*/manifest.json`` + ``results.json`` under ``bundle_root`` into one record."""
    rows: dict = {}
    device = None
    for mf in sorted(bundle_root.glob("*/manifest.json")):
        res_p = mf.parent / "results.json"
        if not res_p.exists():
            continue
        man, res = json.loads(mf.read_text()), json.loads(res_p.read_text())
        device = device or res.get("device")
        by = {e["id"]: e for e in man["entries"]}
        peers = {by[r["id"]]["workload"]: r.get("median_ms") for r in res["results"] if by[r["id"]].get("peer")}
        peer_calls = {by[r["id"]]["workload"]: r.get("call_ms") for r in res["results"] if by[r["id"]].get("peer")}
        for key in sorted({e["workload"] for e in man["entries"]}):
            mine = [(by[r["id"]], r) for r in res["results"] if by[r["id"]]["workload"] == key and not by[r["id"]].get("peer")]
            dflt = [r for e, r in mine if e["sketch"] == "default"]
            tuned = sorted(((e, r) for e, r in mine if e["sketch"] != "default" and r["status"] == "ok"),
                           key=lambda x: x[1]["median_ms"])
            row = {"backend": man["target"], "arch": man["arch"], "workload": key,
                   "iree_default_ms": dflt[0].get("median_ms") if dflt else None,
                   "iree_default_status": dflt[0]["status"] if dflt else None,
                   "iree_default_error": dflt[0].get("error") if dflt else None,
                   "tuned_ms": tuned[0][1]["median_ms"] if tuned else None,
                   "tuned": {"sketch": tuned[0][0]["sketch"], "decisions": tuned[0][0]["decisions"]} if tuned else None,
                   "tuned_rel_error": tuned[0][1].get("rel_error") if tuned else None,
                   "torch_cublas_ms": peers.get(key),
                   "torch_cublas_call_ms": peer_calls.get(key),  # one call + synchronize (runner --timing)
                   "timing": res.get("timing", {}).get("mode", "plain"),
                   "all": [{"sketch": e["sketch"], "decisions": e.get("decisions"), "status": r["status"],
                            "median_ms": r.get("median_ms"), "rel_error": r.get("rel_error"),
                            "timings": {m: t.get("median_ms") for m, t in r.get("timings", {}).items()}} for e, r in mine]}
            rows[f"{man['target']}:{man['arch']}:{key}"] = row
    rec = {"date": time.strftime("%Y-%m-%d", time.gmtime()), "device": card, "runtime_device": device,
           "iree": "3.13.0 (compile here, run with iree-base-runtime 3.13.0 on the host)", "table": rows, **(extra or {})}
    dest.write_text(json.dumps(rec, indent=1) + "\n")
    return rec


def _f(x, fmt="{:.3f}"):
    return "-" if x is None else fmt.format(x)


def show(files: list[Path]) -> int:
    from rich.console import Console
    from rich.table import Table

    t = Table(title="IREE on the GPU: default vs tuned vs cuBLAS / torch (median ms)")
    for c in ("run", "card", "backend", "workload / model", "IREE default", "tuned", "torch", "speedup",
              "tuned/torch", "torch call", "tuned/call", "trials"):
        t.add_column(c, justify="right")
    for f in files:
        d = json.loads(f.read_text())
        card = d.get("device", "?").split(" (")[0]
        for key, r in d.get("rows", {}).items():
            dflt = statistics.median(r["iree_default_ms"])
            peer = statistics.median(r["torch_cublas_ms"]) if r.get("torch_cublas_ms") else None
            t.add_row(d["date"], card, "cuda sm_80", key, f"{dflt:.3f}", f"{r['best_ms']:.3f}", _f(peer),
                      f"{dflt / r['best_ms']:.2f}×", _f(peer and r["best_ms"] / peer, "{:.2f}×"), "-", "-", str(r["trials"]))
        for key, r in d.get("workloads", {}).items():
            peer = r.get("torch_cublas_ms")
            t.add_row(d["date"], card, "cuda sm_80", key, f"{r['iree_default_ms']:.3f}", f"{r['best_ms']:.3f}",
                      _f(peer), f"{r['iree_default_ms'] / r['best_ms']:.2f}×", _f(peer and r["best_ms"] / peer, "{:.2f}×"),
                      "-", "-", str(r["trials"]))
        peers = {r["workload"]: r["torch_cublas_ms"] for r in d.get("table", {}).values() if r.get("torch_cublas_ms")}
        calls = {r["workload"]: r["torch_cublas_call_ms"] for r in d.get("table", {}).values()
                 if r.get("torch_cublas_call_ms")}
        for r in d.get("table", {}).values():
            dflt, tuned = r["iree_default_ms"], r["tuned_ms"]
            peer, call = peers.get(r["workload"]), calls.get(r["workload"])
            dtxt = _f(dflt) if dflt is not None else f"{r['iree_default_status']}"
            trials = d.get("trials", {}).get(f"{r['backend']}:{r['workload']}", "-")
            t.add_row(d["date"], card, f"{r['backend']} {r['arch']}", r["workload"], dtxt, _f(tuned), _f(peer),
                      _f(dflt and tuned and dflt / tuned, "{:.2f}×"), _f(peer and tuned and tuned / peer, "{:.2f}×"),
                      _f(call), _f(call and tuned and tuned / call, "{:.2f}×"), str(trials))
        if "model_runs" in d:
            dflt = statistics.median(x["median_ms"] for x in d["model_runs"]["bert_default"])
            tuned = statistics.median(x["median_ms"] for x in d["model_runs"]["bert_tuned"])
            peer = d.get("torch_eager_fp32_ms")
            t.add_row(d["date"], card, "cuda sm_80", "BERT-base layer (end to end)", f"{dflt:.3f}", f"{tuned:.3f}",
                      _f(peer), f"{dflt / tuned:.2f}×", _f(peer and tuned / peer, "{:.2f}×"), "-", "-", "-")
        if "cli_loop" in d:
            runs = d["cli_loop"]["model_runs"]
            dflt, tuned = statistics.median(runs["bert_default"]), statistics.median(runs["bert_tuned"])
            peer = d.get("torch_eager_fp32_ms")
            t.add_row(d["date"], card, "cuda sm_80", "BERT-base layer (tune-remote, 1 round)", f"{dflt:.3f}",
                      f"{tuned:.3f}", _f(peer), f"{dflt / tuned:.2f}×", _f(peer and tuned / peer, "{:.2f}×"),
                      "-", "-", str(len(d["cli_loop"]["round0_all"])))
    Console(width=190).print(t)
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["bundle"]:
        ap = argparse.ArgumentParser(prog="gpu.py bundle")
        ap.add_argument("out", type=Path)
        ap.add_argument("--db", default=None)
        ap.add_argument("--top", type=int, default=3)
        ap.add_argument("--reps", type=int, default=20)
        ap.add_argument("--known", action="store_true", help="ship KNOWN's schedules instead of the database's")
        a = ap.parse_args(argv[1:])
        make_bundles(a.out, a.db, a.top, a.reps, a.known)
        return 0
    if argv[:1] == ["collect"]:
        ap = argparse.ArgumentParser(prog="gpu.py collect")
        ap.add_argument("root", type=Path)
        ap.add_argument("dest", type=Path)
        ap.add_argument("--card", required=True)
        ap.add_argument("--extra", default=None, help="JSON file merged into the record (method, trials, notes)")
        a = ap.parse_args(argv[1:])
        collect(a.root, a.dest, a.card, json.loads(Path(a.extra).read_text()) if a.extra else None)
        return show([a.dest])
    files = [Path(a) for a in argv] or sorted((Path(__file__).parent / "results").glob("gpu-*.json"))
    if not files:
        print("no GPU results found (benchmarks/results/gpu-*.json)")
        return 1
    return show(files)


if __name__ == "__main__":
    sys.exit(main())
