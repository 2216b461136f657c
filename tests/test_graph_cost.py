"""Measured, dispatch-aware graph cost: IREE's dispatches timed alone, cached in the tuning database."""

from __future__ import annotations

import math

import pytest

import mlir_opt
from mlir_opt.db import Database
from mlir_opt.errors import MlirOptError
from mlir_opt.graph import apply_rules, prepare
from mlir_opt.graph.cost import CostModel
from mlir_opt.graph.measured import DispatchCostModel, dispatch_signature
from mlir_opt.models import build


def test_measured_cost_is_persistent_and_keyed_by_dispatch(tmp_path):
    db_path = tmp_path / "tuning.sqlite"
    m = mlir_opt.load("mlp", size="tiny")
    cm = CostModel(mode="measured", db=db_path)
    cost = cm(m)
    first = cm.dispatch_model
    assert 0 < cost < math.inf and cm.unit == "us (measured dispatches)"
    sigs = {d.signature for d in first.last}
    assert len(first.last) == 3 and all(d.root_op == "linalg.matmul" and d.us > 0 for d in first.last)
    assert first.compiles == len(sigs) and first.listings == 1
    assert cost == pytest.approx(sum(d.us * d.count for d in first.last))
    with Database(db_path) as db:
        rows = db.count_dispatch_costs()
    assert rows == len(sigs)

    # A new run (fresh in-memory caches) on the same graph: everything from the database.
    again = CostModel(mode="measured", db=db_path)
    assert again(m) == cost
    assert again.dispatch_model.compiles == 0 and again.dispatch_model.listings == 0
    assert again.stats()["db_hits"] >= 1 + len(sigs)

    # Another graph (other weights, same shapes) forms the same dispatches: listed, nothing compiled.
    other = mlir_opt.load(*build("mlp", size="tiny", seed=7), name="mlp7")
    assert other.fingerprint() != m.fingerprint()
    third = CostModel(mode="measured", db=db_path)
    assert third(other) == pytest.approx(cost)
    assert third.dispatch_model.listings == 1 and third.dispatch_model.compiles == 0
    with Database(db_path) as db:
        assert db.count_dispatch_costs() == rows


def _contraction_invocations(ds):
    return sum(d.count for d in ds if "matmul" in d.name)


def _copies(ds):
    return sum(d.count for d in ds if "memcpy" in d.name)


def test_dispatch_count_follows_the_qkv_merge(tmp_path, monkeypatch):
    from mlir_opt.graph.rules import merge

    m = prepare(mlir_opt.load("bert", size="tiny"))
    merged = apply_rules(m, ["merge-parallel-matmuls"])
    assert merged.applied == ["merge-parallel-matmuls"]
    dcm = DispatchCostModel(db=Database(tmp_path / "t.sqlite"))
    before, after = dcm.dispatches(m), dcm.dispatches(merged.model)
    # Q, K, V (hidden 64 each) become one stacked projection [3, 16, 64]: two contraction dispatches
    # fewer, and its three contiguous slices cost no copy dispatch.
    assert _contraction_invocations(after) == _contraction_invocations(before) - 2
    assert any("3x16x64x64" in d.name for d in after) and not any("3x16x64x64" in d.name for d in before)
    assert _copies(before) == _copies(after) == 0
    assert sum(d.count for d in after) < sum(d.count for d in before)
    assert dcm.listings == 2
    assert dcm.dispatches(merged.model) == after and dcm.listings == 2  # listed once, then from the database
    # The concatenated form (one [16, 192] result sliced along its last dim): IREE copies each slice
    # in a slow_memcpy dispatch of its own, which is why the merge used to gain nothing.
    monkeypatch.setattr(merge, "FORM", "concat")
    concat = dcm.dispatches(apply_rules(m, ["merge-parallel-matmuls"]).model)
    assert any("192" in d.name for d in concat) and _copies(concat) == 3


def test_signature_elides_names_constants_and_offsets():
    a = ('hal.executable private @main_dispatch_3 {\n hal.executable.export public @main_dispatch_3_matmul_4x8 '
         'ordinal(0)\n func.func @main_dispatch_3_matmul_4x8() {\n %c64 = arith.constant 64 : index\n'
         ' %cst = arith.constant dense<[1.0, 2.0]> : tensor<2xf32> loc("x.py":3:0)\n'
         ' %0 = hal.interface.binding.subspan binding(0) offset(%c64) : memref<4x8xf32>\n}\n}\n'
         'util.global private mutable @x : !hal.buffer\n')
    b = (a.replace("main_dispatch_3", "forward_dispatch_9").replace("[1.0, 2.0]", "[5.0, 6.0]")
         .replace("%c64", "%c1024").replace("constant 64 :", "constant 1024 :").replace('"x.py":3:0', '"y.py":7:1'))
    assert dispatch_signature(a) == dispatch_signature(b)
    assert dispatch_signature(a) != dispatch_signature(a.replace("4x8xf32", "4x16xf32"))


def test_cost_mode_errors():
    with pytest.raises(MlirOptError, match="unknown graph cost"):
        CostModel(mode="guess")
    with pytest.raises(MlirOptError, match="GPU host"):
        DispatchCostModel("cuda", db=":memory:")
    assert CostModel(measure=True).mode == "whole" and CostModel().mode == "roofline"


@pytest.mark.slow  # a greedy search with a listing compile per candidate: ~30-90 s on 2 loaded cores
def test_optimize_uses_the_measured_cost(tmp_path):
    db_path = tmp_path / "tuning.sqlite"
    res = mlir_opt.optimize("mlp", tmp_path / "out", size="tiny", graph_search="greedy", graph_cost="measured",
                            db=str(db_path), reps=2, rounds=1, quiet=True)
    stats = res.report["graph"]["stats"]
    assert stats["cost_mode"] == "measured" and stats["cost_unit"] == "us (measured dispatches)"
    assert stats["graph_listings"] >= 1 and stats["dispatch_compiles"] >= 1
    with Database(db_path) as db:
        assert db.count_dispatch_costs() == stats["dispatch_compiles"]


def test_conv_dispatches_are_measured_after_reconfiguring(tmp_path):
    """IREE 3.13 rejects its own dumped NCHW conv benchmarks with the configuration pinned ("large
    vector sizes"); the cost model recompiles them with the configuration stripped and times them."""
    from mlir_opt.graph.measured import strip_configurations

    m = mlir_opt.load("cnn", size="small")  # 28x28 NCHW 3x3 convs (at tiny size they compile as pinned)
    dcm = DispatchCostModel(db=tmp_path / "t.sqlite", threads=1, reps=2)
    ds = dcm.measure(m)
    convs = [d for d in ds if "conv" in d.name]
    assert convs, [d.name for d in ds]
    assert all(d.error is None and d.us is not None and 0 < d.us < math.inf for d in ds), \
        [(d.name, d.error) for d in ds if d.error]
    with Database(tmp_path / "t.sqlite") as db:
        infos = [db.dispatch_cost(d.signature, dcm.key, dcm.version)["info"] for d in convs]
    assert any(i.get("reconfigured") for i in infos), infos
    # the stripping itself: no pinned configuration is left, and a module without one gives None
    text = "\n".join(["module {", "}"])
    assert strip_configurations(text) is None
