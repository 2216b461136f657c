"""Graph searches beyond greedy: TASO backtracking and OCGGS (budget K, DP over graphs, sampling)."""

from __future__ import annotations

import pytest

import mlir_opt
from mlir_opt.graph import optimize_graph
from mlir_opt.graph.search import BacktrackingSearch, OCGGSSearch


@pytest.fixture(scope="module")
def bert():
    return mlir_opt.load("bert", size="tiny")


@pytest.fixture(scope="module")
def cnn():
    return mlir_opt.load("cnn", size="tiny")


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


def _check_incremental(cand, depth, seen):
    """Every child's (and grandchild's) incremental view hashes like a from-scratch view."""
    from mlir_opt.graph.view import GraphView

    for child in seen["ex"].expand(cand, dedupe=False):
        fresh = GraphView(child.model)
        assert child.key == fresh.structural_hash()
        assert [child.view.node_hash(i) for i in range(len(fresh.ops))] == \
            [fresh.node_hash(i) for i in range(len(fresh.ops))]
        for i, j in child.view.origin.items():  # a survivor is the same op as its parent's
            assert child.view.ops[i].name == cand.view.ops[j].name
        seen["n"] += 1
        seen["reused"] += len(child.view.origin)
        seen["new"] += len(child.view.ops) - len(child.view.origin)
        if depth > 1 and seen["n"] < 16:
            _check_incremental(child, depth - 1, seen)


@pytest.mark.parametrize("name", ["cnn", "bert"])
def test_incremental_hashes_equal_from_scratch(name, request):
    """Views built incrementally from the parent's (local keys of the ops a rewrite left alone)
    give the same node and graph hashes as views built from scratch, over two rewrite levels."""
    from mlir_opt.graph import prepare
    from mlir_opt.graph.cost import CostModel
    from mlir_opt.graph.rules import get_rules
    from mlir_opt.graph.search import common

    ex = common.Expander([r for r in get_rules() if r.in_search], CostModel())
    assert ex.incremental
    ex.incremental_cost = True  # node hashes taken over from the parent where the input cone is unchanged
    seen = {"ex": ex, "n": 0, "reused": 0, "new": 0}
    _check_incremental(ex.start(prepare(request.getfixturevalue(name).clone())), 2, seen)
    assert seen["n"] >= 5
    assert seen["reused"] > 5 * seen["new"]  # most ops were taken over, not re-keyed


def test_ocggs_pruning_same_result_fewer_graphs(cnn):
    """Pruning redundant orders of independent rewrites explores fewer graphs, visits the same
    distinct graphs and finds the same best cost (CNN: three independent batch-norm folds)."""
    m = cnn
    runs = {}
    for prune in (False, True):
        s = OCGGSSearch(budget=3, prune=prune, verify=False)
        runs[prune] = (s.run(m.clone()), s.visited)
    (off, seen_off), (on, seen_on) = runs[False], runs[True]
    assert on.stats["pruned_rewrites"] > 0 and off.stats["pruned_rewrites"] == 0
    assert on.stats["graphs_explored"] < off.stats["graphs_explored"]
    assert seen_on == seen_off
    assert on.cost_after == off.cost_after < on.cost_before
    assert on.applied.count("fold-batchnorm-into-conv") == 3


def test_backtrack_pruning_changes_nothing_but_time(cnn):
    """Backtracking with duplicate-skipping visits the same graphs and returns the same result."""
    off = BacktrackingSearch(prune=False, incremental=False, max_graphs=30, verify=False).run(cnn.clone())
    on = BacktrackingSearch(max_graphs=30, verify=False).run(cnn.clone())
    assert on.stats["pruned_rewrites"] > 0
    assert on.stats["graphs_explored"] == off.stats["graphs_explored"]
    assert on.applied == off.applied and on.cost_after == off.cost_after < on.cost_before
