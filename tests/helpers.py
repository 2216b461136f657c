"""Small builders shared by the tests."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np


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


def conv_bn_chain_mlir(blocks: int, c: int = 8, hw: int = 6, seed: int = 0) -> str:
    """MLIR of ``blocks`` conv(1x1) + inference batch-norm (four elementwise ops, as torch lowers
    it) + ReLU blocks in a chain, NCHW, random weights: a graph with many rule matches per block
    (batch-norm fold, chained scale/bias, 1x1 conv to matmul) that parses in milliseconds."""
    import numpy as np

    from mlir_opt.graph.rules.base import dense

    rng = np.random.default_rng(seed)
    t, tc, tc3 = f"tensor<1x{c}x{hw}x{hw}xf32>", f"tensor<{c}xf32>", f"tensor<{c}x1x1xf32>"
    id4 = "affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>"
    bc = "affine_map<(d0, d1, d2, d3) -> (d1, 0, 0)>"
    par = '["parallel", "parallel", "parallel", "parallel"]'
    lines = [f"func.func @main(%x: {t}) -> {t} {{", "  %zero = arith.constant 0.0 : f32",
             f"  %e = tensor.empty() : {t}", f"  %fill = linalg.fill ins(%zero : f32) outs(%e : {t}) -> {t}"]
    cur = "%x"
    for b in range(blocks):
        lines.append(f"  %w{b} = arith.constant {dense(rng.standard_normal((c, c, 1, 1)) * 0.3)}")
        lines.append(f"  %c{b} = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : vector<2xi64>, strides = "
                     f"dense<1> : vector<2xi64>}} ins({cur}, %w{b} : {t}, tensor<{c}x{c}x1x1xf32>) "
                     f"outs(%fill : {t}) -> {t}")
        prev = f"%c{b}"
        vals = (rng.standard_normal(c) * 0.1, 1.0 / np.sqrt(rng.random(c) + 0.5), rng.random(c) + 0.5,
                rng.standard_normal(c) * 0.1)
        for j, (op, v) in enumerate(zip(("arith.subf", "arith.mulf", "arith.mulf", "arith.addf"), vals)):
            lines.append(f"  %p{b}_{j} = arith.constant {dense(v)}")
            lines.append(f"  %q{b}_{j} = tensor.expand_shape %p{b}_{j} [[0, 1, 2]] output_shape [{c}, 1, 1] "
                         f": {tc} into {tc3}")
            lines.append(f"  %y{b}_{j} = linalg.generic {{indexing_maps = [{id4}, {bc}, {id4}], iterator_types = "
                         f"{par}}} ins({prev}, %q{b}_{j} : {t}, {tc3}) outs(%e : {t}) {{\n"
                         f"  ^bb0(%in: f32, %p: f32, %o: f32):\n    %s = {op} %in, %p : f32\n"
                         f"    linalg.yield %s : f32\n  }} -> {t}")
            prev = f"%y{b}_{j}"
        lines.append(f"  %r{b} = linalg.generic {{indexing_maps = [{id4}, {id4}], iterator_types = {par}}} "
                     f"ins({prev} : {t}) outs(%e : {t}) {{\n  ^bb0(%in: f32, %o: f32):\n"
                     f"    %m = arith.maximumf %in, %zero : f32\n    linalg.yield %m : f32\n  }} -> {t}")
        cur = f"%r{b}"
    lines += [f"  return {cur} : {t}", "}"]
    return "\n".join(lines) + "\n"


_TINY_MODELS: dict = {}


def tiny_model(name: str):
    """Bundled model ``name`` at the tiny preset, imported once per test session (the searches and
    checks that share it never modify their input model)."""
    if name not in _TINY_MODELS:
        import mlir_opt

        _TINY_MODELS[name] = mlir_opt.load(name, size="tiny")
    return _TINY_MODELS[name]

#: a model whose only dispatch is one f32 matmul (N = 40: B padded when packed)
MM_ONLY = """func.func @main(%a: tensor<24x64xf32>, %b: tensor<64x40xf32>) -> tensor<24x40xf32> {
  %zero = arith.constant 0.0 : f32
  %0 = tensor.empty() : tensor<24x40xf32>
  %1 = linalg.fill ins(%zero : f32) outs(%0 : tensor<24x40xf32>) -> tensor<24x40xf32>
  %2 = linalg.matmul ins(%a, %b : tensor<24x64xf32>, tensor<64x40xf32>) outs(%1 : tensor<24x40xf32>) -> tensor<24x40xf32>
  return %2 : tensor<24x40xf32>
}
"""


def dense_literal(a) -> str:
    """A 2-D numpy array as an MLIR ``dense<…>`` literal (f32 values in scientific notation)."""
    return "dense<[" + ", ".join("[" + ", ".join(f"{float(v):.8e}" for v in row) + "]" for row in a) + "]>"


#: The matmul of MM_ONLY by a constant weight (a model's linear layer): ``@main(a) = a @ MM_WEIGHT_W``.
#: Its B is a compile-time constant, so the ``packed_all+library`` variant packs it whatever its
#: single-op time (mlir_opt.ops.tuner.packed_all_plan).
MM_WEIGHT_W = np.random.default_rng(11).standard_normal((64, 40)).astype(np.float32)
MM_WEIGHT = f"""func.func @main(%a: tensor<24x64xf32>) -> tensor<24x40xf32> {{
  %zero = arith.constant 0.0 : f32
  %w = arith.constant {dense_literal(MM_WEIGHT_W)} : tensor<64x40xf32>
  %0 = tensor.empty() : tensor<24x40xf32>
  %1 = linalg.fill ins(%zero : f32) outs(%0 : tensor<24x40xf32>) -> tensor<24x40xf32>
  %2 = linalg.matmul ins(%a, %w : tensor<24x64xf32>, tensor<64x40xf32>) outs(%1 : tensor<24x40xf32>) -> tensor<24x40xf32>
  return %2 : tensor<24x40xf32>
}}
"""
