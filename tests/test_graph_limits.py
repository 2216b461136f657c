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


@pytest.fixture(scope="module")
def chain2(tmp_path_factory):
    p = tmp_path_factory.mktemp("chain2") / "chain2.mlir"
    p.write_text(conv_bn_chain_mlir(2))
    return p


def test_api_graph_options_reach_the_strategy(chain2):
    from mlir_opt.errors import MlirOptError
    from mlir_opt.graph import get_graph_search, optimize_graph

    chain = load_mlir(chain2, name="chain2")
    s = get_graph_search("ocggs", options={"prune": False, "incremental": False, "budget": 1})
    assert (s.prune, s.incremental, s.K) == (False, False, 1)
    r = optimize_graph(chain, "ocggs", options={"prune": False, "incremental": False, "budget": 1, "verify": False})
    assert r.stats["prune"] is False and r.stats["incremental"] is False and r.stats["pruned_rewrites"] == 0
    r = optimize_graph(chain, "ocggs", options={"incremental_match": False, "budget": 2, "verify": False})
    assert r.stats["incremental_match"] is False and "match_anchors_reused" not in r.stats
    r2 = optimize_graph(chain, "ocggs", options={"budget": 2, "verify": False})
    assert r2.stats["incremental_match"] is True and r2.stats["match_anchors_reused"] > 0
    assert (r2.applied, r2.cost_after) == (r.applied, r.cost_after)
    with pytest.raises(MlirOptError, match="'greedy' does not take prune"):
        get_graph_search("greedy", options={"prune": False})


def _cli(*args):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    env.pop("MLIR_OPT_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "mlir_opt", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=600)


def test_cli_graph_switches_bad_use_is_one_line(chain2, tmp_path):
    for strategy, flag, msg in (("greedy", "--no-graph-prune", "does not take prune"),
                                ("eqsat", "--no-incremental", "apply to greedy, backtrack and ocggs"),
                                ("none", "--no-incremental-match", "apply to greedy, backtrack and ocggs"),
                                ("eqsat", "--no-incremental-cost", "apply to greedy, backtrack and ocggs")):
        p = _cli("optimize", chain2, "-o", tmp_path / strategy, "--graph-search", strategy, flag)
        assert p.returncode != 0 and msg in p.stderr and "Traceback" not in p.stderr, p.stderr


@pytest.mark.slow
def test_cli_no_graph_prune_no_incremental(chain2, tmp_path):
    """``optimize --graph-search ocggs --no-graph-prune --no-incremental --no-incremental-match
    --no-incremental-cost`` reaches OCGGS (the
    report's statistics say so) and finds the same two folds."""
    import json

    p = _cli("optimize", chain2, "-o", tmp_path / "out", "--graph-search", "ocggs", "--no-graph-prune",
             "--no-incremental", "--no-incremental-match", "--no-incremental-cost", "--reps", "2", "--keep-slower", "--json", "-q")
    assert p.returncode == 0, p.stderr
    g = json.loads(p.stdout)["graph"]
    assert g["stats"]["prune"] is False and g["stats"]["incremental"] is False
    assert g["stats"]["incremental_match"] is False
    assert g["stats"]["incremental_cost"] is False and g["stats"]["fast_clone"] is False
    assert g["applied"].count("fold-batchnorm-into-conv") == 2
