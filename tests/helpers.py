"""Small builders shared by the tests."""

from __future__ import annotations

import warnings
from pathlib import Path


def export_onnx(name: str, path: Path, opset: int = 17, size: str = "tiny", **save_kwargs) -> Path:
    """Export a bundled model to ONNX with torch's TorchScript-based exporter."""
    import onnx
    import torch

    from mlir_opt.models import build

    module, examples = build(name, size=size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, examples, str(path), dynamo=False, opset_version=opset)
    if save_kwargs:
        model = onnx.load(str(path))
        onnx.save_model(model, str(path), **save_kwargs)
    return path


ADD_MLIR = """func.func @main(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
       ins(%a, %b : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<4x8xf32>
  return %r : tensor<4x8xf32>
}
"""

MATMUL_MLIR = """func.func @main(%a: tensor<32x64xf32>, %b: tensor<64x16xf32>) -> tensor<32x16xf32> {
  %c0 = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x16xf32>
  %f = linalg.fill ins(%c0 : f32) outs(%e : tensor<32x16xf32>) -> tensor<32x16xf32>
  %r = linalg.matmul ins(%a, %b : tensor<32x64xf32>, tensor<64x16xf32>) outs(%f : tensor<32x16xf32>) -> tensor<32x16xf32>
  return %r : tensor<32x16xf32>
}
"""


def check_iree(original, rewritten, tmp_path):
    """Compile both with IREE and compare the rewritten graph's outputs with the original's (two
    random input sets); returns the max relative error and fails the test on a mismatch."""
    from mlir_opt.backend import compile_module
    from mlir_opt.pipeline import check_against_reference

    vm = {k: compile_module(m.bytecode(), "llvm-cpu", output=tmp_path / f"{k}.vmfb").vmfb
          for k, m in (("original", original), ("rewritten", rewritten))}
    chk = check_against_reference(original, vm, reference_key="original", seeds=(0, 1))
    assert chk["rewritten"]["ok"], chk["rewritten"]["problem"]
    return chk["rewritten"]["max_rel_error"]
