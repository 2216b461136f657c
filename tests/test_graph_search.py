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


def test_search_memo_gives_the_same_graphs_costs_and_hashes(monkeypatch):
    """The per-search memo (constants, digests, FLOPs shared between candidate graphs) is exact:
    every candidate's structural hash and roofline cost, and the final graph, equal those computed
    without it."""
    from mlir_opt.graph.cost import CostModel, analyze
    from mlir_opt.graph.rules import get_rules
    from mlir_opt.graph.search import common
    from mlir_opt.graph.search.greedy import GreedySearch
    from mlir_opt.graph.view import GraphView, ViewMemo

    m = mlir_opt.load("cnn", size="tiny")
    memo_on = GreedySearch(max_steps=3, verify=False).run(m.clone())
    ex = common.Expander(get_rules(), CostModel())
    start = ex.start(m.clone())
    shared = ViewMemo()
    n = 0
    for cand in ex.expand(start):  # each candidate, costed with the shared memo, matches a fresh view
        fresh = GraphView(cand.model)
        again = GraphView(cand.model, memo=shared)
        assert cand.key == fresh.structural_hash() == again.structural_hash()
        assert cand.cost == analyze(fresh).us == analyze(again).us
        n += 1
    assert n >= 1 and ex.memo.const_known and ex.memo.flops  # the memo was used, not bypassed
    monkeypatch.setattr(common, "ViewMemo", lambda: None)
    memo_off = GreedySearch(max_steps=3, verify=False).run(m.clone())
    assert memo_on.applied == memo_off.applied and memo_on.applied
    assert memo_on.cost_after == memo_off.cost_after < memo_on.cost_before
    assert GraphView(memo_on.model).structural_hash() == GraphView(memo_off.model).structural_hash()
