"""Load-robust trials: one IREE worker thread, process CPU time per call, kept apart in the database."""

from __future__ import annotations

import pytest

from mlir_opt.backend import benchmark_interleaved, get_target
from mlir_opt.backend.bench import _sync_cpu
from mlir_opt.db import Database
from mlir_opt.ops.confirm import workload_inputs
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.evaluate import Evaluator, build_schedule, record_target
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.search.reuse import ReuseStrategy
from mlir_opt.ops.space import search_sketch
from mlir_opt.ops.tuner import tune_workloads

PROJ = Workload.from_key("batch_matmul_1x64x128x64_f32xf32xf32")
ATTN = Workload.from_key("batch_matmul_4x64x32x16_f32xf32xf32")


def test_cpu_time_records_never_mix_with_wall_time(tmp_path):
    assert record_target("llvm-cpu") == "llvm-cpu"
    assert record_target("llvm-cpu", True, 1) == "llvm-cpu@cpu-time-1t"
    db = Database(":memory:")
    cpu = Evaluator(db=db, reps=2, threads=1, cpu_time=True)
    wall = Evaluator(db=db, reps=2, threads=1)
    try:
        assert cpu.db_target == "llvm-cpu@cpu-time-1t" and wall.db_target == "llvm-cpu"
        s = Schedule(ATTN, "default", {})
        (rc,) = cpu.evaluate([s])
        assert rc.ok and not rc.cached and rc.median_ms > 0
        assert [r.target for r in db.records(ATTN.key, "llvm-cpu@cpu-time-1t")] == ["llvm-cpu@cpu-time-1t"]
        assert db.records(ATTN.key, "llvm-cpu") == []
        # the same schedule timed by wall time is measured again, not served from the CPU-time record
        (rw,) = wall.evaluate([s])
        assert rw.ok and not rw.cached and len(db.records(ATTN.key, "llvm-cpu")) == 1
        (again,) = cpu.evaluate([s])
        assert again.cached and again.median_ms == rc.median_ms
    finally:
        cpu.close()
        wall.close()
    # CPU time at one thread runs inline on the local-sync device; wall time or more threads do not
    cpu = get_target("llvm-cpu")
    assert _sync_cpu(cpu, 1, True) and not _sync_cpu(cpu, 2, True) and not _sync_cpu(cpu, 1, False)
    # the in-process interleaved timing has the same clock option
    v = build_schedule(Schedule(ATTN, "default", {}), tmp_path / "d").vmfb
    t = benchmark_interleaved({"a": v}, workload_inputs(ATTN, 0), rounds=3, min_time_s=0.01, threads=1,
                              cpu_time=True)["a"]
    assert len(t.samples_ms) == 3 and all(0 < x < 1000 for x in t.samples_ms)


def test_reuse_with_cpu_time_finds_donors_under_the_tagged_target():
    """Sequential reuse with CPU-time trials: the recipient's donor is found among the CPU-time
    records and re-timed by CPU time; nothing lands under the wall-time target."""
    db = Database(":memory:")
    res, _ = tune_workloads({ATTN.key: (ATTN, 1.0), PROJ.key: (PROJ, 3.0)}, strategy="reuse", budget=10, db=db,
                            reps=2, threads=1, cpu_time=True)
    tag = "llvm-cpu@cpu-time-1t"
    assert all(db.records(k, "llvm-cpu") == [] for k in (ATTN.key, PROJ.key))
    assert db.top_k(PROJ.key, tag, 1) and db.top_k(ATTN.key, tag, 1)
    # the recipient's searched trials start with a schedule transferred from the donor
    strat = ReuseStrategy(db, db_target=tag, threads=1, cpu_time=True, retime=0)
    seeds = strat.transferred(search_sketch(ATTN))
    assert seeds and strat.donors[ATTN.key] == [PROJ.key]
    # and the tuner's reuse run measured the nearest donor's best first (its first searched trial)
    searched = [r for r in db.records(ATTN.key, tag) if r.sketch == "double_tiling"]
    assert searched and searched[0].decisions in seeds
    assert all(r.best is not None for r in res.values())


@pytest.mark.slow  # about 90 s on the loaded 2 cores (profiling, tuning and variants of the tiny CNN)
def test_tune_model_threads_cpu_time_reach_the_trials():
    """``tune --threads 1 --cpu-time`` / ``optimize --op-search … --threads 1 --cpu-time``: the
    model-level tuner's trials are CPU-time trials at one thread (tagged records only)."""
    import mlir_opt
    from mlir_opt.ops.tuner import tune_model

    db = Database(":memory:")
    res = tune_model(mlir_opt.load("cnn", size="tiny"), strategy="random", budget=2, db=db, reps=2, threads=1,
                     cpu_time=True, global_variants=False)
    keys = list(res.workloads)
    assert keys and res.chosen in res.variants_ms
    assert all(db.records(k, "llvm-cpu@cpu-time-1t") for k in keys)
    assert all(db.records(k, "llvm-cpu") == [] for k in keys)
