"""Graph searches beyond greedy: TASO backtracking and OCGGS (budget K, DP over graphs, sampling)."""

from __future__ import annotations

import pytest

import mlir_opt
from mlir_opt.graph import optimize_graph
from mlir_opt.graph.search import BacktrackingSearch, OCGGSSearch


@pytest.fixture(scope="module")
def bert():
    return mlir_opt.load("bert", size="tiny")


@pytest.mark.parametrize("strategy", ["backtrack", "ocggs"])
def test_search_finds_qkv_merge_and_never_worsens(bert, strategy):
    r = optimize_graph(bert.clone(), strategy)
    assert "merge-parallel-matmuls" in r.applied
    assert r.cost_after < r.cost_before
    assert r.stats["graphs_explored"] >= 2 and r.stats["seconds"] >= 0


def test_backtracking_respects_graph_limit(bert):
    r = BacktrackingSearch(max_graphs=3).run(bert.clone())
    assert r.stats["graphs_explored"] <= 3 and r.cost_after <= r.cost_before


def test_ocggs_budget_dp_and_sampling(bert):
    zero = OCGGSSearch(budget=0).run(bert.clone())
    assert zero.applied == [] and zero.cost_after == zero.cost_before  # K = 0: only the input
    full = OCGGSSearch(budget=3).run(bert.clone())
    assert full.stats["dp_reuses"] > 0  # the same graph reached by different orders is reused
    sampled = OCGGSSearch(budget=3, quota=1, explore=0).run(bert.clone())
    assert sampled.stats["graphs_explored"] < full.stats["graphs_explored"]
    assert sampled.cost_after <= sampled.cost_before and full.cost_after <= sampled.cost_after


def test_optimize_with_ocggs_end_to_end(tmp_path):
    res = mlir_opt.optimize("cnn", tmp_path / "out", size="tiny", graph_search="ocggs", reps=2, rounds=1, quiet=True)
    assert "fold-batchnorm-into-conv" in res.report["graph"]["applied"]
    assert res.report["max_rel_error"] < 1e-4
