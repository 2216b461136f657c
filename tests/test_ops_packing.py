"""Module-level packing (pack + linalg.mmt4d + unpack) and the shape-checked mmt4d_script strategy
on a module with several contractions: real IREE compiles and runs, checked against the original."""

import logging
import re
import subprocess

import pytest
from helpers import MM_ONLY, MM_WEIGHT, MM_WEIGHT_W, dense_literal

from mlir_opt.backend import compile_module, get_target
from mlir_opt.backend.compile import iree_tool
from mlir_opt.errors import MlirOptError
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.packing import pack_contractions, packable_reason
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.transform_script import render_transform_library
from mlir_opt.pipeline import check_against_reference

# a padded matmul (40 = 6*7 - 2, 72 = 16*5 - 8) with a zero init, the same one accumulating into an
# input, a unit-batch batch_matmul (packed through a collapse) and a batch-2 one (a batch_mmt4d)
SRC = """func.func @main(%a: tensor<40x64xf32>, %b: tensor<64x72xf32>, %c: tensor<1x20x64xf32>,
                 %d: tensor<1x64x24xf32>, %e: tensor<40x72xf32>, %f: tensor<2x8x16xf32>)
    -> (tensor<40x72xf32>, tensor<1x20x24xf32>, tensor<40x72xf32>, tensor<2x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %0 = tensor.empty() : tensor<40x72xf32>
  %1 = linalg.fill ins(%zero : f32) outs(%0 : tensor<40x72xf32>) -> tensor<40x72xf32>
  %2 = linalg.matmul ins(%a, %b : tensor<40x64xf32>, tensor<64x72xf32>) outs(%1 : tensor<40x72xf32>) -> tensor<40x72xf32>
  %3 = tensor.empty() : tensor<1x20x24xf32>
  %4 = linalg.fill ins(%zero : f32) outs(%3 : tensor<1x20x24xf32>) -> tensor<1x20x24xf32>
  %5 = linalg.batch_matmul ins(%c, %d : tensor<1x20x64xf32>, tensor<1x64x24xf32>) outs(%4 : tensor<1x20x24xf32>) -> tensor<1x20x24xf32>
  %6 = linalg.matmul ins(%a, %b : tensor<40x64xf32>, tensor<64x72xf32>) outs(%e : tensor<40x72xf32>) -> tensor<40x72xf32>
  %ft = tensor.empty() : tensor<2x16x8xf32>
  %7 = linalg.transpose ins(%f : tensor<2x8x16xf32>) outs(%ft : tensor<2x16x8xf32>) permutation = [0, 2, 1]
  %8 = tensor.empty() : tensor<2x8x8xf32>
  %9 = linalg.fill ins(%zero : f32) outs(%8 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %10 = linalg.batch_matmul ins(%f, %7 : tensor<2x8x16xf32>, tensor<2x16x8xf32>) outs(%9 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  return %2, %5, %6, %10 : tensor<40x72xf32>, tensor<1x20x24xf32>, tensor<40x72xf32>, tensor<2x8x8xf32>
}
"""
TRANSPOSED_B = """func.func @main(%a: tensor<8x16xf32>, %b: tensor<24x16xf32>, %c: tensor<8x24xf32>) -> tensor<8x24xf32> {
  %r = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>,
                                      affine_map<(d0, d1, d2) -> (d0, d1)>]
      ins(%a, %b : tensor<8x16xf32>, tensor<24x16xf32>) outs(%c : tensor<8x24xf32>) -> tensor<8x24xf32>
  return %r : tensor<8x24xf32>
}
"""
MM = Workload.from_key("matmul_40x72x64_f32xf32xf32")
BMM1 = Workload.from_key("batch_matmul_1x20x24x64_f32xf32xf32")
BMM2 = Workload.from_key("batch_matmul_2x8x8x16_f32xf32xf32")
D = dict(m0=6, n0=16, wg_m1=4, wg_n1=4, cache_k=32, unroll=2, order=1, pack_a=1)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    import mlir_opt

    p = tmp_path_factory.mktemp("pack") / "m.mlir"
    p.write_text(SRC)
    return mlir_opt.load(str(p))


def test_pack_plan_selects_and_skips(model, caplog):
    r = pack_contractions(model, {"*": D})
    assert r.packed == {MM.key: 2, BMM1.key: 1, BMM2.key: 1} and r.skipped == []
    text = r.model.text()
    assert text.count("linalg.mmt4d") == 3 and "linalg.matmul" not in text and "linalg.batch_matmul" not in text
    assert text.count("linalg.batch_mmt4d") == 1 and "tensor<2x2x16x6x1xf32>" in text  # batch 2 kept, 8 rows -> 2x6
    # A and B of each 40x72 matmul, its packed init; the 20x24 A/B; the batch-2 A (8 rows) and B (8 columns)
    assert text.count("padding_value") == 2 * 3 + 1 + 2
    assert "linalg.matmul" in model.text()  # the input model is left alone
    only = pack_contractions(model, {BMM1.key: dict(m0=4, n0=8)})
    assert only.packed == {BMM1.key: 1} and only.skipped == []
    assert "tensor<5x64x4x1xf32>" in only.model.text() and "tensor<3x64x8x1xf32>" in only.model.text()
    assert packable_reason(Workload.from_key("matmul_8x8x8_f16xf16xf32")) is not None
    with pytest.raises(MlirOptError, match="needs positive m0 and n0"):
        pack_contractions(model, {MM.key: dict(m0=0, n0=16)})
    import mlir_opt

    tb = mlir_opt.load(_write_tmp(TRANSPOSED_B))  # a transposed-B matmul is left alone, with the reason
    with caplog.at_level(logging.INFO, logger="mlir_opt.ops"):
        r = pack_contractions(tb, {"*": D})
    assert r.packed == {} and "non-standard indexing maps" in r.skipped[0][1] and "linalg.mmt4d" not in r.model.text()
    assert "not packed" in caplog.text


def test_packed_model_with_shape_matched_strategy_is_correct(model, tmp_path):
    """Packed with 6x16 tiles everywhere; the library holds the strategies for the 40x72x64 matmul's
    mmt4d (both of its instances) and the batch-2 batch_matmul's batch_mmt4d; the unit-batch one's
    mmt4d (other shapes) keeps IREE's default.
    All checked against the original module on two random input sets."""
    packed = pack_contractions(model, {"*": D}).model
    lib = tmp_path / "lib.mlir"
    lib.write_text(render_transform_library([Schedule(MM, "mmt4d_script", D),
                                             Schedule(BMM2, "mmt4d_script", dict(D, cache_k=0))]))
    vm = {"original": compile_module(model.bytecode(), "llvm-cpu", output=tmp_path / "o.vmfb").vmfb,
          "packed": compile_module(packed.bytecode(), "llvm-cpu", output=tmp_path / "p.vmfb").vmfb}
    src = tmp_path / "packed.mlirbc"
    src.write_bytes(packed.bytecode())
    cmd = [iree_tool("iree-compile"), str(src), "--iree-hal-target-device=local",
           "--iree-hal-local-target-device-backends=llvm-cpu", "--iree-llvmcpu-target-cpu=host",
           f"--iree-codegen-transform-dialect-library={lib}", "-o", str(tmp_path / "s.vmfb"),
           "--mlir-print-ir-after=iree-codegen-lower-executable-using-transform-dialect", "--mlir-disable-threading"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    funcs = {m.group(1): m.group(2) for m in re.finditer(r"func\.func @(\w+)\(\) attributes \{translation_info = "
                                                          r"#iree_codegen\.translation_info<pipeline = ([^>, ]+)", out.stderr)}
    mmt4d = {f: p for f, p in funcs.items() if "mmt4d" in f}
    assert sorted(mmt4d.values()) == sorted(["#iree_codegen.no_pipeline"] * 3 + ["#iree_cpu.pipeline<Mmt4dTilingExpert"]), funcs
    assert [p for f, p in mmt4d.items() if "batch_mmt4d_2x" in f] == ["#iree_codegen.no_pipeline"], mmt4d
    assert all(p == "#iree_cpu.pipeline<Mmt4dTilingExpert" for f, p in mmt4d.items() if "4x2x64x6x16x1" in f), mmt4d
    vm["script"] = tmp_path / "s.vmfb"
    chk = check_against_reference(model, vm, reference_key="original", seeds=(0, 1))
    for k in ("packed", "script"):
        assert chk[k]["ok"], (k, chk[k]["problem"])


def test_packed_variant_is_compiled_checked_and_timed(model):
    """tune_model's packed+library variant: built from an mmt4d_script winner, compiled with its
    library, checked against the reference and timed next to the default; a wrong module in its
    place is discarded by the check."""
    from mlir_opt.ops.tuner import _pick_variant, packed_variant

    win = Schedule(BMM1, "mmt4d_script", dict(D, m0=4, cache_k=0))
    assert packed_variant(model, [], []) == ({}, None)
    models, lib = packed_variant(model, [], [win])
    assert set(models) == {"packed+library"} and "linalg.mmt4d" in models["packed+library"].text()
    assert "tensor<5x64x4x1xf32>" in lib and "cast_compatible_type" in lib
    packed_all = pack_contractions(model.clone(), {"*": D}).model
    # same signature, wrong numbers: the second matmul accumulates into its zero fill, not into %e
    import mlir_opt

    bad = mlir_opt.load(_write_tmp(SRC.replace("outs(%e : tensor<40x72xf32>)", "outs(%1 : tensor<40x72xf32>)")))
    models["wrong"] = bad
    variants = {"default": ([], False), "packed+library": ([], "packed_library"), "wrong": ([], False),
                "packed_all": ([], False)}
    models["packed_all"] = packed_all  # packed everywhere, no library: IREE's own mmt4d pipeline, still right
    ms, chosen = _pick_variant(model, get_target("llvm-cpu"), variants, None, 1, None, 0, None,
                               {"packed_library": lib}, models)
    assert set(ms) == {"default", "packed+library", "packed_all"} and chosen in ms
    assert all(v > 0 for v in ms.values())


def _write_tmp(text: str) -> str:
    import tempfile

    f = tempfile.NamedTemporaryFile("w", suffix=".mlir", delete=False)
    f.write(text)
    f.close()
    return f.name


class _PackedRoute:
    """An op search (the OpSearch protocol) returning what tune_model returns when packed+library
    wins: the rewritten module and its transform library."""

    name = "packed"

    def run(self, model, *, target="llvm-cpu"):
        from mlir_opt.ops import OpsResult

        packed = pack_contractions(model, {"*": D})
        scheds = [Schedule(Workload.from_key(k), "mmt4d_script", D) for k in packed.packed]
        return OpsResult(packed.model, [], None, [], {"trials": 0}, render_transform_library(scheds))


def test_optimize_exports_checked_packed_module(tmp_path):
    """optimize compiles the op search's rewritten module with its library, checks it end to end
    against the reference and exports module + library."""
    import json

    import mlir_opt

    src = tmp_path / "m.mlir"
    src.write_text(SRC)
    res = mlir_opt.optimize(str(src), tmp_path / "out", op_search=_PackedRoute(), reps=2, rounds=1, quiet=True,
                            keep_slower=True)
    rep = json.loads((tmp_path / "out" / "report.json").read_text())
    assert rep["exported"] == "optimized" and rep["max_rel_error"] < 1e-4 and not rep["identical_to_baseline"]
    assert (tmp_path / "out" / "optimized.mlir").read_text().count("linalg.mmt4d") == 3
    lib = (tmp_path / "out" / "transform_library.mlir").read_text()
    assert lib.count("transform.iree.match.cast_compatible_type") == 3 * 3  # three workloads (one batch_mmt4d), A/B/C each
    assert any("transform-dialect-library" in f for f in rep["compile"]["flags"]["optimized"])
    assert res.report["speedup"] > 0


@pytest.mark.slow
def test_tune_model_measures_the_packed_route(model):
    """tune_model with the mmt4d_script sketch: the seed is measured for each packable workload, and
    the packed module variant(s) are compiled, checked and timed end to end; if one is chosen, the
    result carries the packed module and its library."""
    from mlir_opt.db import Database
    from mlir_opt.ops.tuner import tune_model

    res = tune_model(model, strategy="random", budget=15, db=Database(":memory:"), reps=2, sketch="mmt4d_script")
    assert any(sk == "mmt4d_script" and t is not None for sk, _, t in res.workloads[MM.key].log)
    packed = [k for k in res.variants_ms if k.startswith("packed")]
    assert packed, res.variants_ms  # at least one packed variant compiled and passed the check
    if res.chosen.startswith("packed"):
        assert "linalg.mmt4d" in res.model.text() and "cast_compatible_type" in res.transform_library
    else:
        assert res.model is None


def test_optimize_rejects_unknown_op_sketch():
    import mlir_opt

    with pytest.raises(MlirOptError, match="unknown op sketch 'mmt4d'.*mmt4d_script"):
        mlir_opt.optimize("mlp", op_search="random", op_sketch="mmt4d", quiet=True)




def test_tune_cli_writes_packed_module(tmp_path):
    """``tune --sketch mmt4d_script --variants 'packed*'`` on a model whose only dispatch is a matmul
    by a constant weight (N=40: B packed with padding to 3x16; a constant B is packed by the
    ``packed_all+library`` variant whatever its single-op time): the packed module variant is chosen,
    the CLI writes ``<output>.packed.mlirbc`` and the library, and that module compiled with the
    printed flags gives A @ W (numpy) on random inputs."""
    import os
    import shlex
    import sys
    from pathlib import Path

    import numpy as np

    from mlir_opt.backend.runtime import Runner

    w = MM_WEIGHT_W
    src = tmp_path / "mm.mlir"
    src.write_text(MM_WEIGHT)
    lib = tmp_path / "lib.mlir"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    p = subprocess.run([sys.executable, "-m", "mlir_opt", "tune", str(src), "--budget", "2", "--strategy", "random",
                        "--sketch", "mmt4d_script", "--variants", "packed*", "--db", str(tmp_path / "t.sqlite"),
                        "--threads", "1", "-o", str(lib)], capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr[-2000:]
    packed = tmp_path / "lib.packed.mlirbc"
    assert re.search(r"module variants \(end to end, ms\): default [\d.]+, packed\S* [\d.]+.* -> 'packed", p.stdout), p.stdout
    assert f"wrote {packed} (the model with its tuned matmuls packed: compile this module, not the input)" in p.stdout
    assert f"wrote {lib} (transform library)" in p.stdout and "cast_compatible_type" in lib.read_text()
    flags = shlex.split(p.stdout.split("iree-compile flags: ", 1)[1].splitlines()[0])
    assert f"--iree-codegen-transform-dialect-library={lib}" in flags
    import mlir_opt

    assert "linalg.mmt4d" in mlir_opt.load(str(packed)).text()
    out = subprocess.run([iree_tool("iree-compile"), str(packed), "--iree-hal-target-device=local",
                          "--iree-hal-local-target-device-backends=llvm-cpu", "--iree-llvmcpu-target-cpu=host",
                          *flags, "-o", str(tmp_path / "p.vmfb")], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    run = Runner(tmp_path / "p.vmfb", threads=1)
    rng = np.random.default_rng(3)
    a = rng.standard_normal((24, 64), dtype=np.float32)
    (got,) = run([a])
    np.testing.assert_allclose(got, a @ w, rtol=1e-4, atol=1e-4)


def test_select_variants_pattern():
    from mlir_opt.ops.tuner import GLOBAL_VARIANTS, select_variants

    v = dict(GLOBAL_VARIANTS, **{"packed+library": ([], "packed_library")})
    assert select_variants(v, None) == (v, None)
    kept, allowed = select_variants(v, "packed*")
    assert set(kept) == {"default", "packed+library"} and allowed == {"packed+library"}
    assert set(select_variants(v, "data_tiling*")[1]) == {"data_tiling", "data_tiling+ukernels"}
    with pytest.raises(MlirOptError, match="'img2col\\*' matches none of the module-level variants of this run"):
        select_variants(v, "img2col*")


BMM_ACC = """func.func @main(%a: tensor<3x10x16xf32>, %b: tensor<3x16x20xf32>, %c: tensor<3x10x20xf32>) -> tensor<3x10x20xf32> {
  %r = linalg.batch_matmul ins(%a, %b : tensor<3x10x16xf32>, tensor<3x16x20xf32>) outs(%c : tensor<3x10x20xf32>) -> tensor<3x10x20xf32>
  return %r : tensor<3x10x20xf32>
}
"""


def test_batch_matmul_accumulating_into_an_argument_packs_right(tmp_path):
    """Batch 3, init an argument: C is packed like the result (10x20 padded to 2x2 tiles of 6x16), the
    batch_mmt4d accumulates into it; compiled with IREE's default and with the batch strategy, both
    match the original module on two random input sets."""
    import mlir_opt

    model = mlir_opt.load(_write_tmp(BMM_ACC))
    w = Workload.from_key("batch_matmul_3x10x20x16_f32xf32xf32")
    d = dict(D, cache_k=0)
    r = pack_contractions(model, {w.key: d})
    text = r.model.text()
    assert r.packed == {w.key: 1} and "linalg.batch_mmt4d" in text and "linalg.fill" not in text
    assert text.count("padding_value") == 3 and "-> tensor<3x2x2x6x16xf32>" in text
    lib = tmp_path / "lib.mlir"
    lib.write_text(render_transform_library([Schedule(w, "mmt4d_script", d)]))
    vm = {"original": compile_module(model.bytecode(), "llvm-cpu", output=tmp_path / "o.vmfb").vmfb,
          "script": compile_module(r.model.bytecode(), "llvm-cpu", output=tmp_path / "s.vmfb",
                                   flags=[f"--iree-codegen-transform-dialect-library={lib}"]).vmfb}
    chk = check_against_reference(model, vm, reference_key="original", seeds=(0, 1))
    assert chk["script"]["ok"] and chk["script"]["max_rel_error"] < 1e-5, chk["script"]["problem"]


GLOBALS = """util.global private @w = dense<1.5> : tensor<32x24xf32>
util.global private mutable @v = dense<1.5> : tensor<32x24xf32>
func.func @main(%x: tensor<16x32xf32>) -> (tensor<16x24xf32>, tensor<8x24xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = util.global.load @w : tensor<32x24xf32>
  %v = util.global.load @v : tensor<32x24xf32>
  %e = tensor.empty() : tensor<16x24xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x24xf32>) -> tensor<16x24xf32>
  %0 = linalg.matmul ins(%x, %w : tensor<16x32xf32>, tensor<32x24xf32>) outs(%f : tensor<16x24xf32>) -> tensor<16x24xf32>
  %x8 = tensor.extract_slice %x[0, 0] [8, 32] [1, 1] : tensor<16x32xf32> to tensor<8x32xf32>
  %e8 = tensor.empty() : tensor<8x24xf32>
  %f8 = linalg.fill ins(%zero : f32) outs(%e8 : tensor<8x24xf32>) -> tensor<8x24xf32>
  %1 = linalg.matmul ins(%x8, %v : tensor<8x32xf32>, tensor<32x24xf32>) outs(%f8 : tensor<8x24xf32>) -> tensor<8x24xf32>
  return %0, %1 : tensor<16x24xf32>, tensor<8x24xf32>
}
"""


def test_constant_rhs_keys_tell_weights_from_activations(tmp_path):
    """B is a compile-time constant for a weight (an ``arith.constant`` or an immutable
    ``util.global``, also seen through a transpose), not for a function argument, a mutable global
    or a value computed from an argument (attention's x·xᵀ); BERT's projections have constant B,
    its attention batch matmuls do not."""
    import numpy as np

    import mlir_opt
    from mlir_opt.graph import prepare
    from mlir_opt.ops.packing import constant_rhs_keys

    rng = np.random.default_rng(3)
    w, wt = rng.standard_normal((32, 24)), rng.standard_normal((24, 32))
    src = f"""func.func @main(%x: tensor<16x32xf32>, %y: tensor<32x24xf32>) -> (tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x16xf32>, tensor<16x24xf32>) {{
  %zero = arith.constant 0.0 : f32
  %w = arith.constant {dense_literal(w)} : tensor<32x24xf32>
  %wt = arith.constant {dense_literal(wt)} : tensor<24x32xf32>
  %e = tensor.empty() : tensor<16x24xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<16x24xf32>) -> tensor<16x24xf32>
  %0 = linalg.matmul ins(%x, %w : tensor<16x32xf32>, tensor<32x24xf32>) outs(%f : tensor<16x24xf32>) -> tensor<16x24xf32>
  %te = tensor.empty() : tensor<32x24xf32>
  %t = linalg.transpose ins(%wt : tensor<24x32xf32>) outs(%te : tensor<32x24xf32>) permutation = [1, 0]
  %1 = linalg.matmul ins(%x, %t : tensor<16x32xf32>, tensor<32x24xf32>) outs(%f : tensor<16x24xf32>) -> tensor<16x24xf32>
  %xe = tensor.empty() : tensor<32x16xf32>
  %xt = linalg.transpose ins(%x : tensor<16x32xf32>) outs(%xe : tensor<32x16xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<16x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %2 = linalg.matmul ins(%x, %xt : tensor<16x32xf32>, tensor<32x16xf32>) outs(%f2 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %3 = linalg.matmul ins(%x, %y : tensor<16x32xf32>, tensor<32x24xf32>) outs(%f : tensor<16x24xf32>) -> tensor<16x24xf32>
  return %0, %1, %2, %3 : tensor<16x24xf32>, tensor<16x24xf32>, tensor<16x16xf32>, tensor<16x24xf32>
}}
"""
    p = tmp_path / "w.mlir"
    p.write_text(src)
    keys = constant_rhs_keys(mlir_opt.load(str(p)))
    # %0 and %1 (constant B) share a key with %3 (B an argument): not constant for every instance
    assert keys == {"matmul_16x24x32_f32xf32xf32": False, "matmul_16x16x32_f32xf32xf32": False}
    p.write_text(src.replace("linalg.matmul ins(%x, %y", "linalg.matmul ins(%x, %t"))
    assert constant_rhs_keys(mlir_opt.load(str(p)))["matmul_16x24x32_f32xf32xf32"] is True
    # an immutable util.global is a constant, a mutable one is not
    p.write_text(GLOBALS)
    assert constant_rhs_keys(mlir_opt.load(str(p))) == {"matmul_16x24x32_f32xf32xf32": True,
                                                         "matmul_8x24x32_f32xf32xf32": False}
    bert = constant_rhs_keys(prepare(mlir_opt.load("bert", size="tiny")))
    assert bert == {"batch_matmul_1x16x64x64_f32xf32xf32": True, "batch_matmul_4x16x16x16_f32xf32xf32": False,
                    "batch_matmul_1x16x128x64_f32xf32xf32": True, "batch_matmul_1x16x64x128_f32xf32xf32": True}


def test_packed_all_skips_activation_contractions_that_lost(tmp_path):
    """packed_all+library packs a weight contraction even where its single-op packed schedule lost
    (B is packed at compile time in the model), packs an activation contraction only where its packed
    schedule beat IREE's default alone; the reason is kept on each result and shown in the report."""
    import mlir_opt
    from mlir_opt.graph import prepare
    from mlir_opt.ops.tuner import WorkloadResult, packed_all_plan

    m = prepare(mlir_opt.load("bert", size="tiny"))
    pk = dict(m0=8, n0=16, wg_m1=1, wg_n1=1, cache_k=0, unroll=1, order=0, pack_a=1)

    def result(key, default_ms, packed_ms):
        w = Workload.from_key(key)
        return WorkloadResult(w, default_ms=default_ms, best=Schedule(w, "double_tiling", {}), best_ms=default_ms * 0.9,
                              log=[("default", {}, default_ms), ("mmt4d_script", pk, packed_ms)])

    proj, att = "batch_matmul_1x16x64x64_f32xf32xf32", "batch_matmul_4x16x16x16_f32xf32xf32"
    res = {proj: result(proj, 1.0, 1.5), att: result(att, 1.0, 1.5)}
    plan = packed_all_plan(m, res)
    assert set(plan) == {proj} and plan[proj].decisions == pk
    assert "B is a constant" in res[proj].packed_all and res[att].packed_all.startswith("not packed")
    assert "[packed_all: not packed" in res[att].note("packed_all+library")
    assert "packed_all" not in res[att].note("default+library")
    res[att] = result(att, 1.0, 0.5)
    assert set(packed_all_plan(m, res)) == {proj, att} and "0.500 ms alone" in res[att].packed_all
    # a best that lost to the default in the search is reported as such (no confirmation was run)
    lost = WorkloadResult(Workload.from_key(att), default_ms=1.0, best=Schedule(Workload.from_key(att), "double_tiling", {}),
                          best_ms=1.2)
    assert "IREE default kept" in lost.note() and not lost.kept
