"""Importers: torch modules, factories, ONNX files (opset upgrade, initializers, external data), MLIR."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import mlir_opt
from mlir_opt import ir as _ir
from mlir_opt.errors import MlirOptError
from mlir_opt.importers import detect_level, onnx as onnx_imp
from helpers import ADD_MLIR, export_onnx

LINALG_ONLY = ("torch.", "onnx.", "tosa.", "stablehlo.")


def _assert_linalg(model):
    names = _ir.op_names(model.module)
    assert not [n for n in names if n.startswith(LINALG_ONLY)], names
    return names


def test_torch_module_signature_and_ops():
    lin = torch.nn.Sequential(torch.nn.Linear(8, 4), torch.nn.Tanh())
    m = mlir_opt.load(lin, (torch.randn(3, 8),))
    names = _assert_linalg(m)
    assert "linalg.matmul" in names
    sig = m.signature
    assert (sig.name, [t.shape for t in sig.inputs], [t.shape for t in sig.outputs]) == \
        ("main", [(3, 8)], [(3, 4)])
    assert sig.inputs[0].dtype == "float32"
    ins = m.random_inputs(0)
    assert np.abs(ins[0]).sum() > 0
    ref = m.reference(ins)[0]
    np.testing.assert_allclose(ref, lin(torch.from_numpy(ins[0])).detach().numpy(), rtol=1e-6)


def test_large_weights_become_constants():
    # iree-turbine exports big weights as util.global; they must be inlined as constants.
    model = mlir_opt.load("mlp", size="tiny")
    names = _assert_linalg(model)
    assert "util.global" not in names and "util.global.load" not in names
    assert names.count("linalg.matmul") == 3


def test_int_inputs_follow_example_range():
    class Embed(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.e = torch.nn.Embedding(50, 8)

        def forward(self, ids):
            return self.e(ids)

    m = mlir_opt.load(Embed(), (torch.randint(0, 50, (2, 5)),))
    ids = m.random_inputs(3)[0]
    assert ids.dtype == np.int64 and ids.min() >= 0 and ids.max() < 50 and ids.max() > ids.min()
    out = mlir_opt.run(m)
    assert out.check.ok, out.check.describe()


def test_factory_file(tmp_path):
    f = tmp_path / "mymodel.py"
    f.write_text("import torch\n"
                 "def tiny_linear():\n"
                 "    return torch.nn.Linear(4, 2), (torch.randn(1, 4),)\n"
                 "def broken():\n"
                 "    raise RuntimeError('no weights')\n")
    m = mlir_opt.load(f"{f}:tiny_linear")
    assert m.name == "tiny_linear" and m.signature.outputs[0].shape == (1, 2)
    with pytest.raises(MlirOptError, match="factory .*broken raised RuntimeError: no weights"):
        mlir_opt.load(f"{f}:broken")
    with pytest.raises(MlirOptError, match="has no callable 'missing'"):
        mlir_opt.load(f"{f}:missing")


def test_onnx_opset9_is_upgraded_and_initializers_are_not_inputs(tmp_path):
    import onnx

    path = export_onnx("cnn", tmp_path / "cnn9.onnx", opset=9)
    raw = onnx.load(str(path))
    assert raw.opset_import[0].version == 9
    m = mlir_opt.load(path)
    _assert_linalg(m)
    assert m.meta["opset"] == 9 and m.meta["opset_imported"] == onnx_imp.MIN_OPSET
    assert [t.shape for t in m.signature.inputs] == [(1, 3, 16, 16)]
    res = mlir_opt.run(m)
    assert res.check is not None and res.check.ok and m.reference_name == "onnxruntime"


def test_onnx_initializers_listed_as_inputs(tmp_path):
    # Old exporters list every initializer in graph.input as well; those are constants.
    import onnx

    path = export_onnx("mlp", tmp_path / "mlp.onnx")
    model = onnx.load(str(path))
    for init in model.graph.initializer:
        model.graph.input.append(onnx.helper.make_tensor_value_info(init.name, init.data_type, init.dims))
    model.ir_version = min(model.ir_version, 8)
    onnx.save(model, str(path))
    assert len(onnx.load(str(path)).graph.input) > 1
    m = mlir_opt.load(path)
    assert len(m.signature.inputs) == 1
    assert mlir_opt.run(m).check.ok


@pytest.mark.parametrize("force_file_based", [False, True])
def test_onnx_external_data(tmp_path, monkeypatch, force_file_based):
    path = export_onnx("bert", tmp_path / "bert.onnx", save_as_external_data=True,
                       all_tensors_to_one_file=True, location="bert.weights", size_threshold=0)
    assert (tmp_path / "bert.weights").stat().st_size > 10_000
    if force_file_based:  # the >2 GB path (file-based shape inference), forced on a small model
        monkeypatch.setattr(onnx_imp, "_TWO_GB", 0)
    m = mlir_opt.load(path)
    assert m.meta["external_data"] is True
    res = mlir_opt.run(m)
    assert res.check.ok, res.check.describe()


def test_mlir_levels(tmp_path):
    p = tmp_path / "add.mlir"
    p.write_text(ADD_MLIR)
    m = mlir_opt.load(p)
    assert m.source == "mlir" and m.reference is None and m.meta["input_level"] == "linalg"
    assert detect_level(m.module) == "linalg"
    bc = tmp_path / "add.mlirbc"
    m.save(bc)
    m2 = mlir_opt.load(bc)
    assert m2.fingerprint() == m.fingerprint()


@pytest.mark.parametrize("content,match", [
    (b"", "no public function|ONNX|invalid"),
    (b"\x08\x07\x12\x00garbage-bytes", "not a readable ONNX model|no nodes"),
])
def test_bad_onnx(tmp_path, content, match):
    p = tmp_path / "bad.onnx"
    p.write_bytes(content)
    with pytest.raises(MlirOptError, match=match):
        mlir_opt.load(p)


def test_truncated_onnx(tmp_path):
    good = export_onnx("mlp", tmp_path / "good.onnx")
    bad = tmp_path / "trunc.onnx"
    bad.write_bytes(good.read_bytes()[:2000])
    with pytest.raises(MlirOptError, match="trunc.onnx: not a readable ONNX model"):
        mlir_opt.load(bad)


def test_unsupported_onnx_op(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    node = helper.make_node("FancyOp", ["x"], ["y"], domain="my.ops")
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    p = tmp_path / "custom.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                                  helper.make_opsetid("my.ops", 1)]), str(p))
    with pytest.raises(MlirOptError, match="unsupported op 'onnx.FancyOp'"):
        mlir_opt.load(p)


def test_missing_and_unknown(tmp_path):
    with pytest.raises(MlirOptError, match="no such file: nothere.onnx"):
        mlir_opt.load("nothere.onnx")
    (tmp_path / "m.txt").write_text("x")
    with pytest.raises(MlirOptError, match="unknown model kind"):
        mlir_opt.load(tmp_path / "m.txt")
