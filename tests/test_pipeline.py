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
    assert sorted(p.name for p in out.iterdir()) == ["model.vmfb", "optimized.mlir", "report.html", "report.json"]
    rep = json.loads((out / "report.json").read_text())
    assert REPORT_KEYS <= rep.keys()
    html = (out / "report.html").read_text()
    assert f"{rep['speedup']:.3f}" in html and html.count("data:image/png;base64,") >= 2
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


def test_optimize_bert_eqsat_merges_qkv_and_times_cpu_time(tmp_path):
    # the target path: eqsat merges Q/K/V (restacked: contiguous slices), timed by CPU time
    res = mlir_opt.optimize("bert", tmp_path / "b", size="tiny", graph_search="eqsat", threads=1,
                            cpu_time=True, keep_slower=True, **FAST)
    rep = _check_outdir(tmp_path / "b", "bert")
    assert "merge-parallel-matmuls" in rep["graph"]["applied"] and rep["graph"]["stats"]["restacked"] == 1
    assert rep["machine"]["clock"] == "cpu time" and rep["machine"]["threads"] == 1
    assert "tensor<3x16x64xf32>" in (tmp_path / "b" / "optimized.mlir").read_text()
    assert res.report["speedup"] > 0


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


ADD_256 = ADD_MLIR.replace("4x8", "256x256")
# The same sum through a matmul with the identity: exact in fp32, and >10x slower than the add.
_SLOW_256 = """func.func @main(%a: tensor<256x256xf32>, %b: tensor<256x256xf32>) -> tensor<256x256xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<256x256xf32>
  %eye = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]}
       outs(%e : tensor<256x256xf32>) {
  ^bb0(%o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %d = arith.cmpi eq, %i, %j : index
    %one = arith.constant 1.0 : f32
    %v = arith.select %d, %one, %z : f32
    linalg.yield %v : f32
  } -> tensor<256x256xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<256x256xf32>) -> tensor<256x256xf32>
  %m = linalg.matmul ins(%a, %eye : tensor<256x256xf32>, tensor<256x256xf32>) outs(%f : tensor<256x256xf32>) -> tensor<256x256xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>,
                                        affine_map<(i, j) -> (i, j)>],
                       iterator_types = ["parallel", "parallel"]}
       ins(%m, %b : tensor<256x256xf32>, tensor<256x256xf32>) outs(%e : tensor<256x256xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<256x256xf32>
  return %r : tensor<256x256xf32>
}
"""


class _SlowingSearch:
    """A correct but slower 'rewrite': a + b becomes (a @ I) + b."""

    name = "slowing"

    def run(self, model, *, target="llvm-cpu"):
        return GraphResult(model.clone(_ir.parse(_SLOW_256, model.module.context)), applied=["via-identity-matmul"])


def test_keep_best_exports_baseline_when_optimized_is_slower(tmp_path):
    p = tmp_path / "add.mlir"
    p.write_text(ADD_256)
    res = mlir_opt.optimize(p, tmp_path / "out", graph_search=_SlowingSearch(), reps=4, rounds=2, quiet=True)
    rep = res.report
    assert rep["exported"] == "baseline" and rep["speedup"] == 1.0
    assert rep["rejected"]["speedup"] < 1 / 1.03 and rep["rejected"]["graph_rewrites"] == ["via-identity-matmul"]
    out = tmp_path / "out"
    assert "linalg.matmul" not in (out / "optimized.mlir").read_text()
    assert "linalg.matmul" in (out / "rejected" / "optimized.mlir").read_text()
    assert "kept baseline" in (out / "report.html").read_text()
    # keep_slower exports the candidate, and it is correct.
    res = mlir_opt.optimize(p, tmp_path / "out2", graph_search=_SlowingSearch(), reps=2, rounds=1,
                            quiet=True, keep_slower=True)
    assert res.report["exported"] == "optimized" and res.report["speedup"] < 1
    assert "linalg.matmul" in (tmp_path / "out2" / "optimized.mlir").read_text()
    assert res.report["max_rel_error"] < 1e-6
