"""The tuning database keeps GPU records timed ``plain`` and ``cached`` apart (issue #6): ingest stores the
runner's timing mode, winners are chosen among records of one mode (the runner's default first), and a
database written before the mode was stored is migrated (its records become ``plain``).

The runner results below are shaped exactly as ``runner.py`` writes them, with figures of the H100/H200 runs
in docs/gpu.md (fp16 4096^3: IREE default 1.25 ms plain / 0.96 ms cached, ...); only the manifest's modules
are absent (ingest reads the manifest and the results, never the modules)."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
from pathlib import Path

import pytest

from mlir_opt.db import DEFAULT_TIMING, TIMING_MODES, Database, Record, like_for_like
from mlir_opt.errors import MlirOptError
from mlir_opt.ops.dispatches import Dispatch, Workload
from mlir_opt.remote import RUNNER, ingest, model_winners
from mlir_opt.remote.loop import best_schedules, prepare_round, write_outputs

F16 = Workload.from_key("matmul_4096x4096x4096_f16xf16xf32")
CARD = "NVIDIA H100 80GB HBM3"
TARGET = f"cuda:{CARD}"
GPU_MMA = dict(wg_m=128, wg_n=128, sub_m=4, sub_n=8, red_k=4, prefetch=3, pipeline="TileAndFuse")
W2 = dict(wg_m=128, wg_n=256, warp_m=64, warp_n=64, red_k=32, depth=3, sched=1, pad=1, wg_order=0, smem_optin=0)
W3 = dict(W2, red_k=64)
W4 = dict(W3, wg_m=256, wg_n=128)


def _bundle(tmp: Path, name: str, entries: list[tuple[str, dict]], timing: dict | None, times: dict,
            w: Workload = F16) -> Path:
    """A bundle directory (manifest as write_bundle writes it, no modules) and its results.json
    (as runner.py writes it; ``timing`` None: a runner from before the mode was recorded)."""
    d = tmp / name
    d.mkdir()
    io = {"seed": 0, "reference": "matmul", "inputs": [{"shape": [4096, 4096], "dtype": "float16"}] * 2}
    ents = [{"id": f"c{i}", "module": f"modules/c{i}.vmfb", "io": io, "workload": w.key,
             "workload_info": w.to_dict(), "sketch": sk, "decisions": dec, "flags": []}
            for i, (sk, dec) in enumerate(entries)]
    ents.append({"id": f"torch_{w.key}", "peer": "torch_matmul", "io": io, "workload": w.key,
                 "workload_info": w.to_dict()})
    man = {"id": f"bundle_{name}", "target": "cuda", "arch": "sm_80", "driver": "cuda", "compiler_version": "3.13.0",
           "reps": 30, "tol": 1e-4, "entries": ents, "failed": []}
    (d / "manifest.json").write_text(json.dumps(man))
    results = []
    for e in ents:
        if e.get("peer"):
            results.append({"id": e["id"], "status": "ok", "median_ms": 0.186, "times_ms": [0.186], "call_ms": 0.212})
            continue
        t = times[e["id"]]
        r = {"id": e["id"], "status": "ok", "rel_error": 4.9e-6}
        if isinstance(t, dict):  # --timing all: every mode, median_ms from cached
            r.update(median_ms=t["cached"], times_ms=[t["cached"]] * 3,
                     timings={m: {"median_ms": v} for m, v in t.items()})
        else:
            r.update(median_ms=t, times_ms=[t] * 3)
        results.append(r)
    res = {"bundle": man["id"], "target": "cuda", "device": {"driver": "cuda", "name": CARD}, "results": results}
    if timing is not None:
        res["timing"] = timing
    (d / "results.json").write_text(json.dumps(res))
    return d


def _timing(mode: str) -> dict:
    primary = "cached" if mode == "all" else mode
    return {"mode": mode, "median_ms_from": primary, "batch_size": 10, "hal_flags": {}}


def test_ingest_stores_the_mode_and_ranks_like_with_like(tmp_path):
    db = Database(tmp_path / "t.sqlite")
    # round 0 (2026-11-26, runner before --timing: plain, no "timing" key)
    b0 = _bundle(tmp_path, "r0", [("default", {}), ("gpu_mma", GPU_MMA), ("gpu_script_mma", W2)], None,
                 {"c0": 1.253, "c1": 0.932, "c2": 0.658})
    s0 = ingest(b0 / "results.json", db=db)
    assert s0["timing"] == "plain" and s0["best"][F16.key]["best_ms"] == 0.658
    # round 1 (cached, the runner's default): the same W2 schedule again, next to W3
    b1 = _bundle(tmp_path, "r1", [("default", {}), ("gpu_script_mma", W2), ("gpu_script_mma", W3)],
                 _timing("cached"), {"c0": 0.964, "c1": 0.441, "c2": 0.434})
    s1 = ingest(b1 / "results.json", db=db)
    assert s1["timing"] == "cached"
    assert s1["best"][F16.key] == {"best_ms": 0.434, "best": ("gpu_script_mma", W3), "default_ms": 0.964}
    recs = db.records(F16.key, TARGET)
    # the W2 schedule keeps both times, each under its mode (not one replacing the other)
    w2 = sorted((r.timing, r.median_ms) for r in recs if r.decisions == W2)
    assert w2 == [("cached", 0.441), ("plain", 0.658)]
    # round 2: --timing all of an async-external bundle: batched calls overlap (0.386 ms), which no cached
    # or plain time may be weighed against
    b2 = _bundle(tmp_path, "r2", [("default", {}), ("gpu_script_mma", W4)], _timing("all"),
                 {"c0": {"plain": 1.24, "cached": 0.97, "batched": 0.903},
                  "c1": {"plain": 0.66, "cached": 0.438, "batched": 0.386}})
    s2 = ingest(b2 / "results.json", db=db)
    assert s2["timing"] == "cached" and s2["best"][F16.key]["best_ms"] == 0.434
    w4 = {r.timing: r.median_ms for r in db.records(F16.key, TARGET) if r.decisions == W4}
    assert w4 == {"plain": 0.66, "cached": 0.438, "batched": 0.386}
    # the winner: cached records only (W3 0.434 against the cached default, re-timed 0.97), never the batched 0.386
    (sched, ms, dms), = best_schedules(db, [F16], "cuda").values()
    assert (sched.sketch, sched.decisions, ms, dms) == ("gpu_script_mma", W3, 0.434, 0.97)
    rows = write_outputs(db, [F16], "cuda", tmp_path)
    assert rows[F16.key]["best_ms"] == 0.434 and "gpu_mma_strategy" in (tmp_path / "transform_library.mlir").read_text()
    mode, timed = like_for_like(db.records(F16.key, "cuda", any_device=True))
    assert mode == DEFAULT_TIMING == "cached" and {r.timing for r in timed} == {"cached"}


def test_winner_needs_a_default_of_its_own_mode(tmp_path):
    """A mode that timed only IREE's default does not decide: the plain records (default and tuned) do,
    and the model winner is compared with the plain default, not with the faster cached one."""
    w = Workload.from_key("batch_matmul_12x128x64x128_f32xf32xf32")
    db = Database(":memory:")
    ingest(_bundle(tmp_path, "p", [("default", {}), ("gpu_simt", dict(wg_m=32, wg_n=64))], None,
                   {"c0": 0.081, "c1": 0.052}, w=w) / "results.json", db=db)
    ingest(_bundle(tmp_path, "c", [("default", {})], _timing("cached"), {"c0": 0.039}, w=w) / "results.json", db=db)
    # mixing modes would keep IREE's default (0.052 plain > 0.039 cached); plain against plain, gpu_simt wins
    winners, _, notes = model_winners([Dispatch("d0", "linalg.batch_matmul", 1, w, info={"epilogue": "none"})],
                                      db, "cuda")
    assert [s.sketch for s in winners] == ["gpu_simt"], notes
    assert "timed plain" in notes[-1] and "0.081" in notes[-1]
    # once a cached round times a tuned schedule too, cached decides (the runner's default mode)
    ingest(_bundle(tmp_path, "c2", [("default", {}), ("gpu_simt", dict(wg_m=32, wg_n=64))], _timing("cached"),
                   {"c0": 0.040, "c1": 0.041}, w=w) / "results.json", db=db)
    winners, _, notes = model_winners([Dispatch("d0", "linalg.batch_matmul", 1, w, info={"epilogue": "none"})],
                                      db, "cuda")
    assert winners == [] and "IREE default kept" in notes[-1] and "timed cached" in notes[-1]


def test_unknown_timing_mode_is_refused(tmp_path):
    b = _bundle(tmp_path, "x", [("default", {})], {"mode": "fast", "median_ms_from": "fast"}, {"c0": 1.0})
    with pytest.raises(MlirOptError, match="unknown timing mode 'fast'"):
        ingest(b / "results.json", db=Database(":memory:"))


def test_runner_default_is_the_database_default():
    """The runner (which must not import mlir_opt) and the database agree on the modes and the default."""
    spec = importlib.util.spec_from_file_location("bundle_runner", RUNNER)
    runner = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(runner)
    assert runner.TIMING_MODES == TIMING_MODES
    assert f'choices=(*TIMING_MODES, "all"), default="{DEFAULT_TIMING}"' in RUNNER.read_text()


OLD_SCHEMA = """
CREATE TABLE workload (key TEXT PRIMARY KEY, kind TEXT NOT NULL, info_json TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE record (
    id INTEGER PRIMARY KEY AUTOINCREMENT, workload_key TEXT NOT NULL, target TEXT NOT NULL, sketch TEXT NOT NULL,
    decisions_json TEXT NOT NULL, flags_json TEXT NOT NULL, compiler_version TEXT NOT NULL, status TEXT NOT NULL,
    median_ms REAL, times_json TEXT NOT NULL, rel_error REAL, error TEXT, created TEXT NOT NULL,
    UNIQUE (workload_key, target, sketch, decisions_json, flags_json, compiler_version));
CREATE INDEX record_by_workload ON record (workload_key, target, status, median_ms);
"""


def test_old_database_is_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.executescript(OLD_SCHEMA)
    w3 = json.dumps(W3, sort_keys=True, separators=(",", ":"))
    con.executemany("INSERT INTO record (id, workload_key, target, sketch, decisions_json, flags_json, compiler_version, "
                    "status, median_ms, times_json, rel_error, error, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    [(7, F16.key, TARGET, "default", "{}", "[]", "3.13.0", "ok", 1.253, "[1.253]", 4.9e-6, None, "t"),
                     (9, F16.key, TARGET, "gpu_script_mma", w3, "[]", "3.13.0", "ok", 0.66, "[0.66]", 4.9e-6, None, "t")])
    con.commit()
    con.close()
    db = Database(path)
    recs = db.records(F16.key, TARGET)
    assert [(r.id, r.timing, r.median_ms) for r in recs] == [(7, "plain", 1.253), (9, "plain", 0.66)]
    # the same schedule timed cached now sits beside its plain record; ids continue after the old ones
    new = db.commit(Record(F16.key, TARGET, "gpu_script_mma", W3, [], "3.13.0", "ok", 0.434, [0.434], timing="cached"))
    assert new.id > 9 and len(db.records(F16.key, TARGET)) == 3
    assert db.lookup(F16.key, TARGET, "gpu_script_mma", W3, [], "3.13.0").median_ms == 0.66
    assert db.lookup(F16.key, TARGET, "gpu_script_mma", W3, [], "3.13.0", timing="cached").median_ms == 0.434
    db.close()
    db = Database(path)  # a second open finds it migrated and changes nothing
    assert len(db.records(F16.key, TARGET)) == 3
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table' AND name LIKE 'record%'")] \
        == ["record"]


def test_tune_remote_incumbent_is_of_the_deciding_mode(tmp_path):
    """prepare_round re-times the incumbent of the deciding (cached) mode, not a schedule whose only time
    is a plain one; here on llvm-cpu (three small CPU modules compiled)."""
    w = Workload.from_key("matmul_64x128x32_f32xf32xf32")
    a = dict(dist_m=32, dist_n=64, vec_m=8, vec_n=32, vec_k=4)
    b = dict(dist_m=64, dist_n=64, vec_m=8, vec_n=16, vec_k=4)
    db = Database(":memory:")
    for sk, dec, ms, mode in [("default", {}, 0.030, "plain"), ("double_tiling", a, 0.004, "plain"),
                              ("default", {}, 0.020, "cached"), ("double_tiling", b, 0.012, "cached")]:
        db.commit(Record(w.key, "llvm-cpu:host", sk, dec, [], "3.13.0", "ok", ms, [ms], timing=mode))
    rnd = prepare_round([w], "llvm-cpu", tmp_path / "work", candidates=1, db=db)
    ents = json.loads((rnd.directory / "bundle" / "manifest.json").read_text())["entries"]
    assert [e["sketch"] for e in ents][:2] == ["default", "double_tiling"] and ents[1]["decisions"] == b
