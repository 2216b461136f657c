"""Operator level, data tiling routes (module-level flags): knobs, fixed schedules, checked candidates."""

from __future__ import annotations

from mlir_opt.db import Database
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.evaluate import Evaluator
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.space import FIXED_SCHEDULES, fixed_schedules, search_seeds, sketches_for
from mlir_opt.ops.tuner import tune_workloads

# extents that are not multiples of the 8x8 mmt4d tile or of the 13x8 inner_tiled tile (padding paths)
MM = Workload.from_key("matmul_40x72x24_f32xf32xf32")
BMM = Workload.from_key("batch_matmul_2x20x24x16_f32xf32xf32")
CONV = Workload.from_key("conv2d_nhwc_hwcf_1x16x16x8x3x3x16_s1_f32")
BASE = dict(ukernels=False, mmt4d_intrinsics=False, llvm_unroll=False, tile_bytes=0, inner_tiled=0)


def test_data_tiling_knob_flags_and_validation():
    dt = next(s for s in sketches_for(MM) if s.name == "data_tiling")
    assert dt.flags(dict(BASE, inner_tiled=2, llvm_unroll=True)) == [
        "--iree-opt-data-tiling", "--iree-llvmcpu-loop-unrolling", "--iree-llvmcpu-enable-inner-tiled",
        "--iree-llvmcpu-enable-llvm-ukernels=inner_tiled"]
    assert dt.flags(dict(BASE, tile_bytes=65536)) == ["--iree-opt-data-tiling",
                                                      "--iree-llvmcpu-matmul-tile-bytes=65536"]
    assert "inner_tiled's workgroup tiles" in dt.validate(dict(BASE, inner_tiled=1, tile_bytes=65536))
    assert "inner_tiled does not produce" in dt.validate(dict(BASE, inner_tiled=1, mmt4d_intrinsics=True))
    assert dt.validate(dict(BASE, inner_tiled=1, ukernels=True)) is None
    bdt = next(s for s in sketches_for(BMM) if s.name == "data_tiling")
    assert "does not materialize encodings of linalg.batch_matmul" in bdt.validate(dict(BASE, inner_tiled=1))
    # records stored before tile_bytes / inner_tiled existed keep their meaning
    old = Schedule(MM, "data_tiling", dict(ukernels=True, mmt4d_intrinsics=False, llvm_unroll=False))
    assert old.decisions == dict(BASE, ukernels=True) and old.validate() is None
    assert old.flags() == ["--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=mmt4d"]


def test_fixed_schedules_cover_data_tiling_routes_for_contractions_only():
    fixed = fixed_schedules(MM)
    assert fixed == [("data_tiling", d) for d in FIXED_SCHEDULES["data_tiling"]]
    assert any(d["inner_tiled"] for _, d in fixed) and any(d["ukernels"] for _, d in fixed)
    assert fixed_schedules(CONV) == [("img2col", {})]
    assert [d for _, d in fixed_schedules(BMM)] == [d for d in FIXED_SCHEDULES["data_tiling"] if not d["inner_tiled"]]
    assert fixed_schedules(MM, "cuda") == []


def test_inner_tiled_and_tile_bytes_compile_and_check():
    ev = Evaluator(db=Database(":memory:"), reps=2)
    res = ev.evaluate([Schedule(MM, "data_tiling", dict(BASE, inner_tiled=1)),
                       Schedule(MM, "data_tiling", dict(BASE, inner_tiled=2)),
                       Schedule(MM, "data_tiling", dict(BASE, tile_bytes=65536)),
                       Schedule(BMM, "data_tiling", dict(BASE, ukernels=True, tile_bytes=1048576))])
    ev.close()
    for r in res:
        assert r.status == "ok" and r.rel_error < 1e-5, (r.schedule.describe(), r.error)


def test_tuner_measures_the_data_tiling_routes_before_searching():
    n = 1 + len(fixed_schedules(MM))
    res, interrupted = tune_workloads({MM.key: (MM, 1.0)}, strategy="random", budget=n, db=Database(":memory:"),
                                      reps=2)
    r = res[MM.key]
    assert not interrupted and r.trials == n and r.failures == 0
    assert [sk for sk, _, _ in r.log] == ["default"] + ["data_tiling"] * (n - 1)
    assert all(t is not None and t > 0 for _, _, t in r.log)
    assert r.best is not None and r.best.sketch == "data_tiling"  # only data tiling was measured besides default


def test_mmt4d_script_packs_and_computes_right():
    from mlir_opt.ops.transform_script import packed_module, render_transform_library

    mm = Workload.from_key("matmul_40x72x64_f32xf32xf32")
    d = dict(m0=6, n0=16, wg_m1=4, wg_n1=4, cache_k=32, unroll=2, order=1, pack_a=1)
    sk = next(s for s in sketches_for(mm, lanes=8) if s.name == "mmt4d_script")  # AVX2's rule, on any host
    assert sk.validate(d) is None
    assert "spills" in sk.validate(dict(d, m0=8, n0=16))
    assert "mmt4d_script" in [s.name for s in sketches_for(BMM)]  # batch 2: packed into a linalg.batch_mmt4d
    assert Schedule(BMM, "mmt4d_script", dict(d, cache_k=0)).validate() is None
    assert "not one of" in Schedule(BMM, "mmt4d_script", dict(d, cache_k=8)).validate()
    # a search of this sketch measures its seed first
    m64 = Workload.from_key("matmul_64x64x64_f32xf32xf32")
    seeded = fixed_schedules(m64, searched="mmt4d_script")
    sk64 = next(s for s in sketches_for(m64) if s.name == "mmt4d_script")
    valid = [d for d in search_seeds("mmt4d_script") if sk64.validate(d) is None]  # (pack_a=0 needs 128 | M here)
    assert len(valid) == 1 and seeded[0] == ("mmt4d_script", valid[0])  # before the data tiling routes
    assert [n for n, _ in seeded[1:]] == ["data_tiling"] * len(FIXED_SCHEDULES["data_tiling"])
    assert all(n != "mmt4d_script" for n, _ in fixed_schedules(mm))
    assert "cache_k=24" in sk.validate(dict(d, cache_k=24))
    mod = packed_module(mm, d)  # 40 = 6*7 - 2 rows and 72 = 16*5 - 8 columns: both packs padded
    assert "tensor<7x64x6x1xf32>" in mod and "tensor<5x64x16x1xf32>" in mod and mod.count("padding_value") == 2
    lib = render_transform_library([Schedule(mm, "mmt4d_script", d)])
    assert 'transform.match.operation_name %op ["linalg.mmt4d"]' in lib and "tile_sizes [0, 0, 32, 0, 0, 0]" in lib
    ev = Evaluator(db=Database(":memory:"), reps=2)
    bmm1 = Workload.from_key("batch_matmul_1x20x24x64_f32xf32xf32")  # unit batch, as BERT's projections
    assert "tensor.collapse_shape" in packed_module(bmm1, d)
    bmod = packed_module(BMM, d)  # each of the 2 slices packed alike (20 rows, 24 columns: both padded)
    assert "linalg.batch_mmt4d" in bmod and "tensor<2x4x16x6x1xf32>" in bmod and "tensor<2x2x16x16x1xf32>" in bmod
    blib = render_transform_library([Schedule(BMM, "mmt4d_script", dict(d, cache_k=0))])
    assert '["linalg.batch_mmt4d"]' in blib and "#gpu.block<z>" in blib and "tile_sizes [1, 4, 4]" in blib
    res = ev.evaluate([Schedule(mm, "mmt4d_script", d), Schedule(mm, "mmt4d_script", dict(d, m0=4, cache_k=0)),
                       Schedule(bmm1, "mmt4d_script", d), Schedule(BMM, "mmt4d_script", dict(d, cache_k=0))])
    ev.close()
    for r in res:
        assert r.status == "ok" and r.rel_error < 1e-5, (r.schedule.describe(), r.error)
