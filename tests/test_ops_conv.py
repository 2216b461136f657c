"""Operator level, convolutions: workloads, reference, sketches, checked candidates, dispatches, reuse."""

from __future__ import annotations

import random

import numpy as np
import pytest

import mlir_opt
from mlir_opt.db import Database
from mlir_opt.errors import MlirOptError
from mlir_opt.ops.dispatches import ConvWorkload, Workload, list_dispatches, workload_from_info
from mlir_opt.ops.evaluate import Evaluator
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.space import fixed_sketches, search_sketch

C1 = Workload.from_key("conv2d_nhwc_hwcf_1x16x16x8x3x3x16_s1_f32")
C2 = Workload.from_key("conv2d_nchw_fchw_2x18x18x8x3x3x16_s2_f32")


def test_conv_keys_and_extents():
    assert isinstance(C1, ConvWorkload) and C1.kind == "conv2d_nhwc_hwcf"
    assert C1.extents == {"N": 1, "OH": 14, "OW": 14, "OC": 16, "KH": 3, "KW": 3, "IC": 8}
    assert C1.operand_types == ("tensor<1x16x16x8xf32>", "tensor<3x3x8x16xf32>", "tensor<1x14x14x16xf32>")
    assert C2.operand_types == ("tensor<2x8x18x18xf32>", "tensor<16x8x3x3xf32>", "tensor<2x16x8x8xf32>")
    for w in (C1, C2, Workload.from_key("conv2d_nhwc_hwcf_1x9x9x4x3x3x4_s1_d2_f32")):
        assert Workload.from_key(w.key) == w and workload_from_info(w.to_dict()) == w
    assert C1.flops == 2 * 14 * 14 * 16 * 3 * 3 * 8
    assert C1.gemm_view().key == "matmul_196x16x72_f32xf32xf32"
    assert C1.dispatch_extents() == "14x14x16x3x3x8" and C2.dispatch_extents() == "2x16x8x8x8x3x3"
    with pytest.raises(MlirOptError, match="not a convolution workload key"):
        Workload.from_key("conv2d_nhwc_1x2")
    with pytest.raises(MlirOptError, match="does not fit"):
        Workload.from_key("conv2d_nhwc_hwcf_1x2x2x4x3x3x4_s1_f32")


@pytest.mark.parametrize("key", ["conv2d_nhwc_hwcf_2x9x11x3x3x2x5_s2_f32", "conv2d_nchw_fchw_1x10x9x4x3x3x6_s1_d2_f32",
                                 "conv2d_nchw_fchw_2x8x8x3x1x1x4_s2x1_f32"])
def test_conv_reference_matches_torch(key):
    torch = pytest.importorskip("torch")
    w = Workload.from_key(key)
    rng = np.random.default_rng(0)
    x, f = (rng.standard_normal(tuple(int(v) for v in t[7:-1].split("x")[:-1])) for t in w.operand_types[:2])
    got = w.reference([x, f])
    tx, tf = torch.from_numpy(x), torch.from_numpy(f)
    if w.layout == "nhwc_hwcf":
        tx, tf = tx.permute(0, 3, 1, 2), tf.permute(3, 2, 0, 1)
    ref = torch.nn.functional.conv2d(tx, tf, stride=w.strides, dilation=w.dilations)
    if w.layout == "nhwc_hwcf":
        ref = ref.permute(0, 2, 3, 1)
    assert got.shape == tuple(ref.shape) and np.allclose(got, ref.numpy(), rtol=1e-10, atol=1e-10)


def test_conv_sketches_and_validation():
    assert search_sketch(C1).name == "img2col_tiling" and search_sketch(C2).name == "conv_tiling"
    assert [s.name for s in fixed_sketches(C1)] == ["img2col"]
    sk = search_sketch(C2)
    rng = random.Random(0)
    samples = [sk.sample(rng) for _ in range(20)]
    assert all(d is not None and sk.validate(d) is None for d in samples)
    assert len({tuple(sorted(d.items())) for d in samples}) > 10
    bad = dict(samples[0], vec_oc=32)
    assert "does not divide" in sk.validate(bad) or "is not one of" in sk.validate(bad)
    one = Schedule(C1, "conv_tiling", dict(dist_oh=2, dist_ow=7, dist_oc=16, vec_ow=7, vec_oc=8, vec_ic=4))
    assert "batch-1 convolutions" in one.validate()


def test_conv_candidates_are_checked_and_timed():
    db = Database(":memory:")
    ev = Evaluator(db=db, reps=2)
    scheds = [Schedule(C1, "default", {}), Schedule(C1, "img2col", {}),
              Schedule(C1, "img2col_tiling", dict(dist_m=32, dist_n=16, vec_m=4, vec_n=16, vec_k=8, cache_n=16, peel=1)),
              Schedule(C1, "conv_tiling", dict(dist_oh=2, dist_ow=7, dist_oc=16, vec_ow=7, vec_oc=8, vec_ic=4)),
              Schedule(C2, "conv_tiling", dict(dist_oh=4, dist_ow=8, dist_oc=8, vec_ow=4, vec_oc=8, vec_ic=4))]
    res = ev.evaluate(scheds)
    assert [r.status for r in res] == ["ok", "ok", "ok", "invalid", "ok"]
    assert all(r.median_ms > 0 and r.rel_error < 1e-5 for r in res if r.ok)
    assert "InsertBatchDimForBatchlessConvPass" in res[3].error
    ev.close()


def test_conv_dispatches_of_cnn_are_workloads():
    m = mlir_opt.load("cnn", size="tiny")
    convs = [d for d in list_dispatches(m) if d.kind.startswith("conv")]
    assert len(convs) == 3 and all(isinstance(d.workload, ConvWorkload) for d in convs)
    assert {d.workload.key for d in convs} == {"conv2d_nchw_fchw_1x18x18x3x3x3x8_s2_f32",
                                               "conv2d_nchw_fchw_1x10x10x8x3x3x8_s1_f32"}


def test_reuse_transfers_between_dominating_convs():
    from mlir_opt.ops.search.reuse import ReuseStrategy
    from mlir_opt.ops.tuner import tune_workloads

    db = Database(":memory:")
    big = Workload.from_key("conv2d_nhwc_hwcf_1x18x18x8x3x3x16_s1_f32")
    res, _ = tune_workloads({big.key: (big, 1.0)}, strategy="random", budget=5, db=db, reps=2)
    assert res[big.key].trials == 5 and res[big.key].default_ms > 0
    strat = ReuseStrategy(db)
    seeds = strat.transferred(search_sketch(C1))
    assert strat.donors[C1.key] == [big.key] and seeds
    assert all(search_sketch(C1).validate(d) is None for d in seeds)
    strided = Workload.from_key("conv2d_nhwc_hwcf_1x17x17x8x3x3x16_s2_f32")  # other stride: no donor (ETO's rule)
    eto = ReuseStrategy(db, relation="dominance")
    assert eto.transferred(search_sketch(strided)) == [] and eto.donors[strided.key] == []


def test_transform_script_candidates_compile_run_and_are_checked():
    from mlir_opt.ops.transform_script import render_transform_library

    mm = Workload.from_key("matmul_64x128x32_f32xf32xf32")
    bmm = Workload.from_key("batch_matmul_1x32x64x32_f32xf32xf32")
    d = dict(wg_m=32, wg_n=64, vec_m=1, vec_n=16, vec_k=8, order=0, unroll=2)  # vec_m=1: a unit dim
    dc = dict(wg_oh=2, wg_ow=14, wg_oc=16, vec_ow=7, vec_oc=8, vec_ic=4, order=1)
    nchw = Workload.from_key("conv2d_nchw_fchw_1x16x16x8x3x3x16_s1_f32")
    nchw_s2 = Workload.from_key("conv2d_nchw_fchw_1x17x17x8x3x3x16_s2_f32")
    ev = Evaluator(db=Database(":memory:"), reps=2, compile_timeout=120)
    scripted = Schedule(mm, "transform_script", d)
    res = ev.evaluate([scripted, Schedule(mm, "transform_script", dict(d, vec_k=16, unroll=4)),
                       Schedule(bmm, "transform_script", dict(d, wg_m=16, wg_n=32, vec_m=8, vec_n=8, vec_k=4)),
                       Schedule(C1, "transform_script", dc),  # batch-1 conv: out of the config form's reach
                       Schedule(nchw, "transform_script", dc),
                       Schedule(nchw_s2, "transform_script", dict(dc, wg_ow=8, vec_ow=4, order=0))])
    assert res[0].status == "ok" and res[0].rel_error < 1e-5 and res[0].median_ms > 0
    assert res[1].status == "invalid" and "unroll=4 does not divide the 2 reduction steps" in res[1].error
    assert res[2].status == "ok" and res[2].rel_error < 1e-5
    assert res[3].status == "ok" and res[3].rel_error < 1e-5
    # NCHW scripts (stride 1 and 2) are correct since the strategy vectorizes the linalg ops alone
    # (vectorize_children_and_apply_patterns mis-vectorized the rank-reducing insert_slice; docs/op-level.md)
    assert res[4].status == "ok" and res[4].rel_error < 1e-5, res[4].error
    assert res[5].status == "ok" and res[5].rel_error < 1e-5, res[5].error
    lib = render_transform_library([scripted, Schedule(C2, "conv_tiling", dict(dist_oh=4, dist_ow=8, dist_oc=8,
                                                                               vec_ow=4, vec_oc=8, vec_ic=4))])
    assert "codegen_spec = @strategy_0" in lib and "transform.iree.match.convolution" in lib
    ev.close()


def test_data_tiling_knobs_compile_and_check():
    mm = Workload.from_key("matmul_64x128x32_f32xf32xf32")
    ev = Evaluator(db=Database(":memory:"), reps=2)
    s = Schedule(mm, "data_tiling", dict(ukernels=False, mmt4d_intrinsics=True, llvm_unroll=True))
    assert s.flags() == ["--iree-opt-data-tiling", "--iree-codegen-mmt4d-use-intrinsics", "--iree-llvmcpu-loop-unrolling"]
    r = ev.evaluate([s])[0]
    assert r.status == "ok" and r.rel_error < 1e-5
    ev.close()


def test_model_variant_with_transform_library_is_checked_end_to_end(tmp_path):
    from mlir_opt.backend import default_threads, get_target
    from mlir_opt.ops.transform_script import render_transform_library
    from mlir_opt.ops.tuner import _pick_variant

    mm = Workload.from_key("matmul_64x128x32_f32xf32xf32")
    (tmp_path / "mm.mlir").write_text(mm.single_op_module())
    model = mlir_opt.load(str(tmp_path / "mm.mlir"))
    lib = render_transform_library([Schedule(mm, "transform_script", dict(wg_m=32, wg_n=64, vec_m=8, vec_n=16,
                                                                          vec_k=8, order=1, unroll=2))])
    ms, chosen = _pick_variant(model, get_target("llvm-cpu"), {"default": ([], False), "default+library": ([], "library")},
                               None, default_threads(), None, 0, lib)
    assert set(ms) == {"default", "default+library"} and chosen in ms  # both compiled and checked correct
