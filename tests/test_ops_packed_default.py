"""The packed route (``mmt4d_script``) searched by default on llvm-cpu: seeds + a share of the trials
besides the per-kind sketch, the packed module variants measured end to end, an explicit sketch
searched alone, records resumable. Real IREE compiles and runs on a 24x40x64 matmul."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from helpers import MM_ONLY, MM_WEIGHT, MM_WEIGHT_W

from mlir_opt.db import Database
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.space import ALSO_SEARCHED, ALSO_SHARE, also_sketches, fixed_schedules, search_seeds

MM = Workload.from_key("matmul_24x40x64_f32xf32xf32")
ROOT = Path(__file__).resolve().parent.parent


def test_also_searched_sketches_and_their_seeds():
    """On llvm-cpu mmt4d_script is searched besides the per-kind sketch of an f32 matmul (not of an
    i8 one, not when it is the named sketch); its seed is measured right after the named sketch's
    seeds, before the data tiling routes; without ``also`` nothing changes."""
    assert ALSO_SEARCHED["llvm-cpu"] == ("mmt4d_script",) and 0 < ALSO_SHARE < 1
    assert [s.name for s in also_sketches(MM)] == ["mmt4d_script"]
    assert also_sketches(MM, searched="mmt4d_script") == []
    assert also_sketches(Workload.from_key("matmul_24x40x64_i8xi8xi32")) == []
    assert also_sketches(MM, "cuda") == []
    plain = fixed_schedules(MM)
    assert all(n != "mmt4d_script" for n, _ in plain)
    both = fixed_schedules(MM, also=("mmt4d_script",))
    sk = also_sketches(MM)[0]
    valid = [("mmt4d_script", d) for d in search_seeds("mmt4d_script") if sk.validate(d) is None]
    assert valid and both[:len(valid)] == valid and both[len(valid):] == plain


def test_tune_cli_default_sketch_measures_the_packed_route(tmp_path):
    """``tune`` without ``--sketch`` on a matmul by a constant weight: mmt4d_script's seed and a share
    of the trials are measured next to double_tiling, recorded in the database under their sketch,
    and a packed module variant is compiled, checked and timed end to end (it appears among the
    module variants)."""
    src = tmp_path / "mm.mlir"
    src.write_text(MM_WEIGHT)
    db = tmp_path / "t.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cmd = [sys.executable, "-m", "mlir_opt", "tune", str(src), "--budget", "13", "--strategy", "random",
           "--db", str(db), "--threads", "1", "-o", str(tmp_path / "spec.mlir")]
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "also searched: mmt4d_script" in p.stdout, p.stdout
    line = re.search(r"module variants \(end to end, ms\): (.*) -> '(.*)'", p.stdout)
    assert line, p.stdout
    assert re.search(r"\bpacked(_all)?\+library [\d.]+", line.group(1)), line.group(1)
    with Database(db) as d:
        recs = d.records(MM.key, "llvm-cpu")
    # budget 13: default + mmt4d seed + 3 data tiling routes, then 8 trials, int(8 * 0.25) = 2 mmt4d_script
    packed = [r for r in recs if r.sketch == "mmt4d_script"]
    assert len(packed) == 3 and any(r.ok for r in packed), [(r.sketch, r.status, r.error) for r in packed]
    assert sum(r.sketch == "double_tiling" for r in recs) == 6
    sk = also_sketches(MM)[0]
    assert packed[0].decisions == next(d for d in search_seeds("mmt4d_script") if sk.validate(d) is None)
    if line.group(2).startswith("packed"):
        assert "the model with its tuned matmuls packed" in p.stdout


def test_optimize_default_sketch_exports_a_checked_module(tmp_path):
    """``optimize --op-search random`` without ``--op-sketch``: mmt4d_script schedules are measured,
    a packed variant is among the module variants timed end to end, and the exported model.vmfb
    computes A @ W (numpy; W the constant weight, so the packed_all variant is always built); when the packed variant won, the export is the packed module + library."""
    import mlir_opt
    from mlir_opt.backend.runtime import Runner

    src = tmp_path / "mm.mlir"
    src.write_text(MM_WEIGHT)
    out = tmp_path / "out"
    res = mlir_opt.optimize(str(src), out, op_search="random", budget=9, threads=1, reps=2, rounds=1, quiet=True,
                            db=str(tmp_path / "t.sqlite"))
    rep = json.loads((out / "report.json").read_text())
    st = rep["ops"]["stats"]
    assert st["also_searched"] == ["mmt4d_script"]
    assert st["workloads"][MM.key]["also_searched"]["mmt4d_script"] >= 1
    assert any(k.startswith("packed") for k in st["variants_ms"]), st["variants_ms"]
    assert rep["max_rel_error"] < 1e-4
    if st["chosen_variant"].startswith("packed") and rep["exported"] == "optimized":
        assert "linalg.mmt4d" in (out / "optimized.mlir").read_text()
        assert "cast_compatible_type" in (out / "transform_library.mlir").read_text()
    run = Runner(out / "model.vmfb", threads=1)
    rng = np.random.default_rng(5)
    a = rng.standard_normal((24, 64), dtype=np.float32)
    (got,) = run([a])
    np.testing.assert_allclose(got, a @ MM_WEIGHT_W, rtol=1e-4, atol=1e-4)
    assert res.report["speedup"] > 0


def test_explicit_sketch_searches_it_alone(tmp_path):
    """A named sketch keeps the old behaviour: ``sketch="transform_script"`` measures no mmt4d_script
    schedule and builds no packed variant; ``also`` is empty."""
    import mlir_opt
    from mlir_opt.ops.tuner import tune_model

    src = tmp_path / "mm.mlir"
    src.write_text(MM_ONLY)
    res = tune_model(mlir_opt.load(str(src)), strategy="random", budget=7, db=Database(":memory:"), reps=2,
                     threads=1, sketch="transform_script", global_variants=False)
    r = res.workloads[MM.key]
    sketches = {sk for sk, _, _ in r.log}
    assert res.also == () and r.also_history == {}
    assert "transform_script" in sketches and "mmt4d_script" not in sketches, sketches
    assert sketches <= {"default", "data_tiling", "transform_script"}
    assert not any(k.startswith("packed") for k in res.variants_ms), res.variants_ms


def test_small_budget_measures_the_packed_seed_of_every_workload(tmp_path):
    """With side sketches, every workload's default and mmt4d_script seed come before any data tiling
    route: budget 4 over two matmuls measures default + seed for both and nothing else; the records
    carry their sketch, and a rerun on the same database (resume) takes them all from it."""
    from mlir_opt.ops.tuner import tune_workloads

    other = Workload.from_key("matmul_16x32x48_f32xf32xf32")
    wl = {MM.key: (MM, 1.0), other.key: (other, 1.0)}
    db = Database(tmp_path / "t.sqlite")
    res, _ = tune_workloads(wl, strategy="random", budget=4, db=db, reps=2, threads=1, also=("mmt4d_script",))
    for r in res.values():
        assert [sk for sk, _, _ in r.log] == ["default", "mmt4d_script"], r.log
        assert r.default_ms and r.also_history["mmt4d_script"][0][1] is not None
    assert sorted(r.sketch for r in db.records(MM.key, "llvm-cpu")) == ["default", "mmt4d_script"]
    n = db.count()
    again, _ = tune_workloads(wl, strategy="random", budget=4, db=db, reps=2, threads=1, also=("mmt4d_script",))
    assert db.count() == n  # resumed: the same trials, all from the database
    assert {k: r.log for k, r in again.items()} == {k: r.log for k, r in res.items()}
