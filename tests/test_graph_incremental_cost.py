"""Incremental hashing and costing of candidate graphs (``incremental_cost``) equal from scratch.

With ``incremental_cost`` (on by default in greedy, backtracking and OCGGS) a child graph takes
over its parent's node hash for every op whose input cone the rewrite left alone, and the roofline
memoizes each op's dispatch FLOPs/bytes by node hash. Every candidate of a few small searches is
checked against a view and a roofline built from scratch (no parent, no memo): same node hashes,
same graph hash, same cost (bit for bit); and the searches with the switches off (``incremental_cost``, and
``fast_clone``: candidates cloned in memory instead of through bytecode) make the same choices
(same rewrites, same cost, same number of graphs).
"""

from __future__ import annotations

import pytest

from helpers import tiny_model
from mlir_opt.graph import optimize_graph
from mlir_opt.graph.cost import analyze
from mlir_opt.graph.search import common
from mlir_opt.graph.view import GraphView

CHECKED = {"candidates": 0, "inherited": 0}
_model = tiny_model  # imported once per model (the searches do not change their input)


def _checking_expand(expand):
    def run(self, cand, **kw):
        for child in expand(self, cand, **kw):
            assert self.incremental_cost
            fresh = GraphView(child.model)  # from scratch: no parent, no memo
            n = len(fresh.ops) - 1
            assert [child.view.node_hash(i) for i in range(n)] == [fresh.node_hash(i) for i in range(n)]
            assert child.key == fresh.structural_hash()
            assert child.cost == analyze(fresh, self.cost.roofline).us
            CHECKED["candidates"] += 1
            CHECKED["inherited"] += child.view.hashes_inherited
            yield child
    return run


@pytest.mark.parametrize("name,strategy,options", [
    ("cnn", "ocggs", {"budget": 2}),
    ("nasrnn", "ocggs", {"budget": 3}),
    ("bert", "greedy", {}),
    ("cnn", "greedy", {}),
    ("nasrnn", "greedy", {}),
    pytest.param("bert", "ocggs", {"budget": 2}, marks=pytest.mark.slow),
    pytest.param("squeezenet", "backtrack", {"max_graphs": 40}, marks=pytest.mark.slow),
])
def test_incremental_cost_equals_from_scratch(name, strategy, options, monkeypatch):
    before = dict(CHECKED)
    monkeypatch.setattr(common.Expander, "expand", _checking_expand(common.Expander.expand))
    on = optimize_graph(_model(name), strategy, options={"verify": False, **options})
    monkeypatch.undo()
    n = CHECKED["candidates"] - before["candidates"]
    assert n >= 2 and n == on.stats["graphs_explored"] - 1  # every candidate but the input was checked
    assert on.stats["hashes_inherited"] == CHECKED["inherited"] - before["inherited"] > 0  # hashes were taken over
    off = optimize_graph(_model(name), strategy,
                         options={"verify": False, "incremental_cost": False, "fast_clone": False, **options})
    assert "hashes_inherited" not in off.stats
    assert on.applied == off.applied and on.cost_after == off.cost_after
    assert on.stats["graphs_explored"] == off.stats["graphs_explored"]


def test_fast_clone_is_a_deep_copy():
    """The in-memory clone prints like the bytecode clone, and rewriting it leaves the original alone."""
    from mlir_opt.graph import prepare
    from mlir_opt.graph.rules import get_rules

    m = prepare(_model("cnn"))
    new = m.clone(common.clone_module(m.module))
    assert str(new.module) == str(m.clone().module) == str(m.module)
    new.verify()
    rule = next(r for r in get_rules() if r.name == "fold-batchnorm-into-conv")
    match = rule.match(GraphView(new))[0]
    rule.apply(new.module, match)
    new.verify()
    assert str(new.module) != str(m.module) and str(m.module) == str(m.clone().module)
    assert rule.match(GraphView(m))  # the original still has its batch-norm
