"""``mmt4d_script`` with ``pack_a`` 0: B packed alone, A read and C written in place.

The contraction ``C[m, n1, n0] += A[m, k] * B[n1, k, n0]`` (a ``linalg.generic``) replaces pack A +
mmt4d + unpack; its strategy is the mmt4d one with the tiles over (m, n1, n0, k). Real IREE compiles
and runs on small shapes, checked against numpy / the original module on random inputs."""

import re
import subprocess

import pytest

from mlir_opt.backend import compile_module
from mlir_opt.backend.compile import iree_tool
from mlir_opt.db import Database
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.evaluate import Evaluator
from mlir_opt.ops.packing import pack_contractions
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.space import complete
from mlir_opt.ops.transform_script import packed_module, packed_types, render_transform_library
from mlir_opt.pipeline import check_against_reference

MM = Workload.from_key("matmul_64x128x64_f32xf32xf32")
BMM1 = Workload.from_key("batch_matmul_1x32x64x64_f32xf32xf32")  # unit batch, as BERT's projections
BMM2 = Workload.from_key("batch_matmul_2x16x32x64_f32xf32xf32")
# valid on AVX2 and AVX-512 hosts alike (n0 16 is 2 ymm or 1 zmm columns; 4 rows)
D = dict(m0=4, n0=16, wg_m1=4, wg_n1=4, cache_k=32, unroll=2, order=1, pack_a=0)


def test_packb_validation_types_and_payload():
    assert Schedule(MM, "mmt4d_script", D).validate() is None
    assert Schedule(BMM1, "mmt4d_script", D).validate() is None
    assert "unbatched" in Schedule(BMM2, "mmt4d_script", D).validate()
    assert Schedule(BMM2, "mmt4d_script", dict(D, pack_a=1)).validate() is None  # packs A too: fine
    odd_n = Workload.from_key("matmul_64x72x64_f32xf32xf32")
    assert "multiple of n0=16" in Schedule(odd_n, "mmt4d_script", D).validate()
    few_rows = Workload.from_key("matmul_40x128x64_f32xf32xf32")  # 40 rows: 4 x 4 = 16 does not divide
    assert "m0 x wg_m1 = 16" in Schedule(few_rows, "mmt4d_script", D).validate()
    assert "wg_n1=16 to divide the 8 B panels" in Schedule(MM, "mmt4d_script", dict(D, wg_n1=16)).validate()
    assert packed_types(MM, D) == ("tensor<64x64xf32>", "tensor<8x64x16xf32>", "tensor<64x8x16xf32>")
    # records stored before the knob existed read as the mmt4d form
    assert complete("mmt4d_script", {k: v for k, v in D.items() if k != "pack_a"})["pack_a"] == 1
    mod = packed_module(MM, D)
    assert mod.count("linalg.pack") == 1 and "linalg.unpack" not in mod and "linalg.mmt4d" not in mod
    assert "affine_map<(m, n1, n0, k) -> (n1, k, n0)>" in mod and "tensor.collapse_shape %pc [[0], [1, 2]]" in mod
    lib = render_transform_library([Schedule(MM, "mmt4d_script", D)])
    assert 'transform.match.operation_name %op ["linalg.generic"]' in lib
    assert "tensor<8x64x16xf32> : !transform.any_value" in lib
    assert "tile_sizes [0, 0, 0, 32]" in lib and "tile_sizes [4, 1, 0, 0] interchange = [1, 0, 2, 3]" in lib
    assert "tile_using_forall %op tile_sizes [16, 4]" in lib and "%gs tile_sizes [0, 0, 1]" in lib
    with pytest.raises(ValueError, match="unbatched"):
        packed_module(BMM2, D)


def test_packb_single_op_schedules_compute_right():
    ev = Evaluator(db=Database(":memory:"), reps=2)
    res = ev.evaluate([Schedule(MM, "mmt4d_script", D), Schedule(MM, "mmt4d_script", dict(D, cache_k=0, order=0)),
                       Schedule(BMM1, "mmt4d_script", D)])
    ev.close()
    for r in res:
        assert r.status == "ok" and r.rel_error < 1e-5, (r.schedule.describe(), r.error)


SRC = """func.func @main(%a: tensor<64x64xf32>, %b: tensor<64x128xf32>, %bias: tensor<128xf32>, %e: tensor<64x128xf32>,
                 %c: tensor<1x32x64xf32>, %d: tensor<1x64x64xf32>, %f: tensor<2x16x64xf32>, %g: tensor<2x64x32xf32>)
    -> (tensor<64x128xf32>, tensor<64x128xf32>, tensor<1x32x64xf32>, tensor<2x16x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %0 = tensor.empty() : tensor<64x128xf32>
  %1 = linalg.fill ins(%zero : f32) outs(%0 : tensor<64x128xf32>) -> tensor<64x128xf32>
  %2 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x128xf32>) outs(%1 : tensor<64x128xf32>) -> tensor<64x128xf32>
  %r0 = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>],
                        iterator_types = ["parallel", "parallel"]} ins(%2, %bias : tensor<64x128xf32>, tensor<128xf32>) outs(%0 : tensor<64x128xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %m = arith.maximumf %s, %zero : f32
    linalg.yield %m : f32
  } -> tensor<64x128xf32>
  %6 = linalg.matmul ins(%a, %b : tensor<64x64xf32>, tensor<64x128xf32>) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %3 = tensor.empty() : tensor<1x32x64xf32>
  %4 = linalg.fill ins(%zero : f32) outs(%3 : tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  %5 = linalg.batch_matmul ins(%c, %d : tensor<1x32x64xf32>, tensor<1x64x64xf32>) outs(%4 : tensor<1x32x64xf32>) -> tensor<1x32x64xf32>
  %8 = tensor.empty() : tensor<2x16x32xf32>
  %9 = linalg.fill ins(%zero : f32) outs(%8 : tensor<2x16x32xf32>) -> tensor<2x16x32xf32>
  %10 = linalg.batch_matmul ins(%f, %g : tensor<2x16x64xf32>, tensor<2x64x32xf32>) outs(%9 : tensor<2x16x32xf32>) -> tensor<2x16x32xf32>
  return %r0, %6, %5, %10 : tensor<64x128xf32>, tensor<64x128xf32>, tensor<1x32x64xf32>, tensor<2x16x32xf32>
}
"""


def test_packb_model_rewrite_runs_the_strategy_and_is_correct(tmp_path):
    """Both 64x128x64 matmuls (one with a bias + ReLU consumer, one accumulating into an argument) and
    the unit-batch batch_matmul are rewritten with B packed alone; the batch-2 one is left as it is,
    with the reason. Every B-packed contraction's dispatch runs the strategy (no IREE pipeline: the
    barrier keeps the consumer out of it), and the module matches the original on two input sets."""
    import mlir_opt

    p = tmp_path / "m.mlir"
    p.write_text(SRC)
    model = mlir_opt.load(str(p))
    res = pack_contractions(model, {"*": D})
    assert res.packed == {MM.key: 2, BMM1.key: 1}
    assert [k for k, _ in res.skipped] == [BMM2.key] and "unbatched" in res.skipped[0][1]
    text = res.model.text()
    assert "linalg.unpack" not in text and text.count("util.optimization_barrier") == 3
    assert "output_shape [64, 8, 16]" in text  # the argument init viewed as M x N1 x n0
    lib = tmp_path / "lib.mlir"
    lib.write_text(render_transform_library([Schedule(MM, "mmt4d_script", D), Schedule(BMM1, "mmt4d_script", D)]))
    src = tmp_path / "packed.mlirbc"
    src.write_bytes(res.model.bytecode())
    cmd = [iree_tool("iree-compile"), str(src), "--iree-hal-target-device=local",
           "--iree-hal-local-target-device-backends=llvm-cpu", "--iree-llvmcpu-target-cpu=host",
           f"--iree-codegen-transform-dialect-library={lib}", "-o", str(tmp_path / "s.vmfb"),
           "--mlir-print-ir-after=iree-codegen-lower-executable-using-transform-dialect", "--mlir-disable-threading"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    scripted = re.findall(r"func\.func @(\w+)\(\) attributes \{translation_info = "
                          r"#iree_codegen\.translation_info<pipeline = #iree_codegen\.no_pipeline", out.stderr)
    assert len(scripted) == 3, scripted  # the two 64x128 contractions and the unit-batch one
    vm = {"original": compile_module(model.bytecode(), "llvm-cpu", output=tmp_path / "o.vmfb").vmfb,
          "script": tmp_path / "s.vmfb"}
    chk = check_against_reference(model, vm, reference_key="original", seeds=(0, 1))
    assert chk["script"]["ok"], chk["script"]["problem"]
