"""Incremental rule matching (``mlir_opt.graph.search.matching``) equals matching from scratch.

Every candidate graph of a few small searches is matched both ways: the incremental matches (the
parent's matches taken over where the matcher's recorded reads are unchanged, the rest re-matched)
must be the from-scratch matches — same rules, same ``Match`` objects (rule, matched op indices,
note), same order. ``rule.apply(module, match)`` depends only on the module and the ``Match``, so
equal matches on one graph give the same rewritten graph; and the search with incremental matching
must reach the same final graph and cost as with it off.
"""

from __future__ import annotations

import pytest

from helpers import tiny_model
from mlir_opt.graph import optimize_graph
from mlir_opt.graph.search import common, matching

CHECKED = {"candidates": 0, "reused": 0}
_model = tiny_model  # imported once per model (the searches do not change their input)


def _checking_match_all(orig):
    def check(rules, view, parent=None):
        out, state = orig(rules, view, parent)
        ref = [(rule, m) for rule in rules for m in rule.match(view)]
        assert [(r.name, m) for r, m in out] == [(r.name, m) for r, m in ref], "incremental matches differ"
        CHECKED["candidates"] += 1
        CHECKED["reused"] += state.stats["reused"]
        return out, state
    return check


def _matching_every_child(expand):
    def run(self, cand, **kw):
        for child in expand(self, cand, **kw):
            self.matches(child)  # match every candidate, also those the search never expands
            yield child
    return run


def _search(model, strategy, options, monkeypatch):
    monkeypatch.setattr(common, "match_all", _checking_match_all(matching.match_all))
    monkeypatch.setattr(common.Expander, "expand", _matching_every_child(common.Expander.expand))
    return optimize_graph(model, strategy, options={"verify": False, **options})


@pytest.mark.parametrize("name,strategy,options", [
    ("bert", "ocggs", {"budget": 2}),
    ("cnn", "ocggs", {"budget": 3}),
    ("nasrnn", "ocggs", {"budget": 3}),
    ("bert", "greedy", {}),
    ("cnn", "greedy", {}),
    ("nasrnn", "greedy", {}),
])
def test_incremental_matches_equal_from_scratch(name, strategy, options, monkeypatch):
    before = dict(CHECKED)
    res = _search(_model(name), strategy, options, monkeypatch)
    n = CHECKED["candidates"] - before["candidates"]
    assert n >= 2 and n >= res.stats["graphs_explored"]
    assert CHECKED["reused"] > before["reused"]  # matches were taken over, not all re-matched
    monkeypatch.undo()
    off = optimize_graph(_model(name), strategy,
                         options={"verify": False, "incremental_match": False, **options})
    assert res.applied == off.applied and res.cost_after == off.cost_after
    assert res.stats["graphs_explored"] == off.stats["graphs_explored"]
