"""The optimize pipeline end to end: stages, artifacts, report, and the refusal to export wrong results."""

from __future__ import annotations

import json

import numpy as np
import pytest

import mlir_opt
from mlir_opt import ir as _ir
from mlir_opt.errors import NumericsError
from mlir_opt.graph import GraphResult
from mlir_opt.backend import Runner
from helpers import ADD_MLIR, export_onnx

REPORT_KEYS = {"model", "target", "baseline_ms", "optimized_ms", "speedup", "max_rel_error", "stages"}
FAST = dict(reps=2, rounds=1, quiet=True)


def _check_outdir(out, model_name):
    assert sorted(p.name for p in out.iterdir()) == ["model.vmfb", "optimized.mlir", "report.json"]
    rep = json.loads((out / "report.json").read_text())
    assert REPORT_KEYS <= rep.keys()
    assert rep["model"] == model_name and rep["target"] == "llvm-cpu"
    assert rep["baseline_ms"] > 0 and rep["optimized_ms"] > 0
    assert rep["speedup"] == pytest.approx(rep["baseline_ms"] / rep["optimized_ms"])
    assert rep["max_rel_error"] < 1e-4
    assert {"import", "graph", "ops", "compile", "check", "bench", "export"} <= rep["stages"].keys()
    assert all(v >= 0 for v in rep["stages"].values())
    # The exported module is the optimized MLIR and the .vmfb runs.
    reloaded = mlir_opt.load(out / "optimized.mlir")
    assert reloaded.meta["input_level"] == "linalg"
    assert not [n for n in _ir.op_names(reloaded.module) if n.startswith(("torch.", "onnx."))]
    return rep


@pytest.mark.parametrize("name", ["mlp", "cnn", "bert"])
def test_optimize_bundled_models(tmp_path, name):
    res = mlir_opt.optimize(name, tmp_path / name, size="tiny", **FAST)
    rep = _check_outdir(tmp_path / name, name)
    assert rep["reference"] == "torch" and rep["source"] == "torch"
    m = res.model
    ins = m.random_inputs(5)
    outs = Runner(tmp_path / name / "model.vmfb", m.entry)(ins)
    for o, r in zip(outs, m.reference(ins)):
        assert np.linalg.norm(o - r) / np.linalg.norm(r) < 1e-4


def test_optimize_onnx_from_bundled_model(tmp_path):
    path = export_onnx("bert", tmp_path / "bert.onnx")
    mlir_opt.optimize(path, tmp_path / "out", **FAST)
    rep = _check_outdir(tmp_path / "out", "bert")
    assert rep["reference"] == "onnxruntime" and rep["source"] == "onnx"


def test_optimize_mlir_uses_unoptimized_module_as_reference(tmp_path):
    p = tmp_path / "add.mlir"
    p.write_text(ADD_MLIR)
    res = mlir_opt.optimize(p, tmp_path / "out", **FAST)
    assert res.report["reference"] == "iree-unoptimized"
    _check_outdir(tmp_path / "out", "add")


class _BreakingSearch:
    """A deliberately wrong 'rewrite': turns the add into a subtract."""

    name = "breaking"

    def run(self, model, *, target="llvm-cpu"):
        text = model.text().replace("arith.addf", "arith.subf")
        return GraphResult(model.clone(_ir.parse(text, model.module.context)), applied=["add-to-sub"])


def test_wrong_result_is_never_exported(tmp_path):
    p = tmp_path / "add.mlir"
    p.write_text(ADD_MLIR)
    with pytest.raises(NumericsError, match="does not match the reference"):
        mlir_opt.optimize(p, tmp_path / "out", graph_search=_BreakingSearch(), **FAST)
    assert not (tmp_path / "out").exists()
    assert not [q for q in tmp_path.iterdir() if q.name.startswith(".out")]


def test_refuses_foreign_nonempty_outdir(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "precious.txt").write_text("keep me")
    with pytest.raises(mlir_opt.MlirOptError, match="not empty"):
        mlir_opt.optimize("mlp", tmp_path / "out", **FAST)
    assert (tmp_path / "out" / "precious.txt").read_text() == "keep me"


def test_rerun_replaces_previous_output(tmp_path):
    mlir_opt.optimize("mlp", tmp_path / "out", **FAST)
    first = json.loads((tmp_path / "out" / "report.json").read_text())["created"]
    mlir_opt.optimize("mlp", tmp_path / "out", **FAST)
    assert (tmp_path / "out" / "model.vmfb").exists()
    assert json.loads((tmp_path / "out" / "report.json").read_text())["created"] >= first
