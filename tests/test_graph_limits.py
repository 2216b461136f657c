"""Graph searches honour their time limit (checked inside an expansion, verification counted), and
OCGGS's prune / incremental switches reach the API and the CLI."""

from __future__ import annotations

import time

import pytest

from helpers import conv_bn_chain_mlir
from mlir_opt.graph.search import BacktrackingSearch, OCGGSSearch
from mlir_opt.graph.search.greedy import GreedySearch
from mlir_opt.importers.mlir import load_mlir

LIMIT_S = 0.4
SLACK_S = 1.0  # one rewrite + view + roofline cost of this graph is ~0.1 s (more on a loaded machine)


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """20 conv+bn+relu blocks: 60 matches on the input graph; expanding all of them once takes
    several seconds (~16 s for 30 blocks on 2 loaded cores) — far above LIMIT_S."""
    p = tmp_path_factory.mktemp("chain") / "chain.mlir"
    p.write_text(conv_bn_chain_mlir(20))
    return load_mlir(p, name="chain")


@pytest.mark.parametrize("search", [
    lambda: OCGGSSearch(budget=3, time_limit_s=LIMIT_S, verify=False),
    lambda: OCGGSSearch(budget=3, quota=4, time_limit_s=LIMIT_S, verify=False),
    lambda: BacktrackingSearch(max_graphs=10_000, time_limit_s=LIMIT_S, verify=False),
    lambda: GreedySearch(time_limit_s=LIMIT_S, verify=False),
], ids=["ocggs", "ocggs-sampled", "backtrack", "greedy"])
def test_search_returns_within_its_time_limit(chain, search):
    s = search()
    t0 = time.perf_counter()
    r = s.run(chain)
    took = time.perf_counter() - t0
    assert took < LIMIT_S + SLACK_S, f"{s.name} took {took:.2f} s with a {LIMIT_S} s limit"
    assert r.stats["stop_reason"] == "time_limit"
    assert r.stats["seconds"] < LIMIT_S + SLACK_S
    assert r.cost_after <= r.cost_before  # the best so far, never worse than the input
    if r.applied:
        assert r.cost_after < r.cost_before


def test_verification_is_not_started_after_the_time_limit(chain):
    """With verification on and no time left, no rule is verified (no IREE compile is started),
    so a rule nobody verified is not used, and the search still returns the input."""
    s = OCGGSSearch(budget=2, time_limit_s=0.0, verify=True)
    t0 = time.perf_counter()
    r = s.run(chain)
    assert time.perf_counter() - t0 < SLACK_S
    assert r.stats.get("rules_verified", []) == [] and r.applied == []
    assert r.stats["stop_reason"] == "time_limit"
