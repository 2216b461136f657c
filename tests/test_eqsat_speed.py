"""The fast path of eqsat (bulk loading of the translation, presolved 0-1 program) finds what the
earlier path finds: the same e-graph, the same realized rewrites, the same modelled cost, and a
graph IREE computes like the original."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

import mlir_opt
from mlir_opt.graph import prepare
from mlir_opt.graph.rules import RULES
from mlir_opt.graph.rules.conv import B, conv_graph
from mlir_opt.graph.search import EqSatSearch
from mlir_opt.graph.search.egg_load import bulk_program, parse_schema
from mlir_opt.graph.search.egg_rules import CTORS, SCHEMA
from mlir_opt.graph.search.eqsat import translate
from mlir_opt.graph.view import GraphView
from mlir_opt.importers.mlir import load_mlir
from helpers import check_iree


@pytest.fixture(scope="module")
def cnn():
    return mlir_opt.load("cnn", size="tiny")


def _egraph_shape(lines, tmp_path, bulk: bool):
    """Function sizes and the term nodes (constructor, literals, child-class signature) of the
    e-graph that ``lines`` build, by commands or by the bulk tables."""
    from egglog import bindings

    eg = bindings.EGraph()
    eg.run_program(*eg.parse_program(SCHEMA))
    if bulk:
        prog = bulk_program(parse_schema(SCHEMA), lines, tmp_path)
        assert prog is not None
        eg.run_program(*eg.parse_program(prog))
    else:
        eg.run_program(*eg.parse_program("\n".join(lines)))
    sizes = {n: s for n, s in eg.run_program(*eg.parse_program("(print-size)"))[0].sizes if s and not n.startswith(("VN_", "L_"))}
    data = json.loads(eg.serialize([]).to_json())["nodes"]
    # class ids differ between the two e-graphs: name each class by the sorted ops of its nodes
    by_cls: dict = {}
    for n in data.values():
        by_cls.setdefault(n["eclass"], []).append(n["op"])
    sig = {c: tuple(sorted(ops)) for c, ops in by_cls.items()}
    nodes = Counter((n["op"], tuple(sig[data[k]["eclass"]] if not k.startswith("primitive") else data[k]["op"]
                                    for k in n["children"]))
                    for n in data.values() if n["op"] in CTORS)
    return sizes, nodes


def test_bulk_load_builds_the_same_egraph_as_the_commands(cnn, tmp_path):
    view = GraphView(prepare(cnn))
    g = translate(view)
    old = _egraph_shape(g.lines, tmp_path, bulk=False)
    new = _egraph_shape(g.lines, tmp_path, bulk=True)
    assert old[0] == new[0] and old[0]["Val"] == len(g.values)
    assert old[1] == new[1]


def test_ilp_presolve_keeps_the_optimum(cnn, tmp_path):
    """The presolved program (required classes, forced nodes, per-user fusion rows) has the same
    optimum value; on the CNN it also picks the same graph."""
    src = tmp_path / "incep.mlir"
    ks = [(1, 0), (3, 1), (1, 0), (5, 2)]
    src.write_text(conv_graph(1, 4, 6, [B(2 + j % 3, k, p, j % 2 == 0) for j, (k, p) in enumerate(ks)], seed=3))
    for m, kw in ((cnn, {}), (load_mlir(src, name="incep"), {"rules": ["merge-parallel-convs", "enlarge-conv-kernel"],
                                                             "verify": False})):
        plain = EqSatSearch(**kw).run(m.clone())
        pre = EqSatSearch(ilp_presolve=True, **kw).run(m.clone())
        assert pre.stats["ilp_required_classes"] >= 1 and pre.stats["ilp_fixed_nodes"] >= 1
        assert pre.stats["ilp_objective_us"] == pytest.approx(plain.stats["ilp_objective_us"], rel=1e-4)
        assert pre.cost_after <= pre.cost_before
    assert sorted(pre.applied) and "merge-parallel-convs" in pre.applied


def test_bulk_load_declines_unknown_commands(tmp_path):
    schema = parse_schema(SCHEMA)
    assert bulk_program(schema, ["(let $a (Arg 0))", "(run 1)"], tmp_path) is None
    assert bulk_program(schema, ["(let $a (Nope 0))"], tmp_path) is None
    assert bulk_program(schema, ["(let $a (Arg 0)) (Val $a 0)"], tmp_path) is not None


def _same(m, **kw):
    old = EqSatSearch(fast=False, **kw).run(m.clone())
    new = EqSatSearch(**kw).run(m.clone())
    assert sorted(new.applied) == sorted(old.applied)
    assert new.cost_after == pytest.approx(old.cost_after, rel=1e-9)
    assert new.cost_before == pytest.approx(old.cost_before, rel=1e-9)
    assert new.stats["bulk_load"] is True
    assert new.stats["enodes"] == old.stats["enodes"] and new.stats["eclasses"] == old.stats["eclasses"]
    if "ilp_objective_us" in old.stats:
        assert new.stats["ilp_objective_us"] == pytest.approx(old.stats["ilp_objective_us"], rel=1e-9, abs=1e-6)
    return old, new


def test_fast_path_finds_what_the_old_path_finds_on_the_cnn_and_matches_iree(cnn, tmp_path):
    old, new = _same(cnn)
    assert new.applied.count("fold-batchnorm-into-conv") == 3
    assert new.model.text() == old.model.text()
    assert check_iree(cnn, new.model, tmp_path) < 1e-4


def test_fast_path_on_an_inception_block_and_rule_examples(tmp_path):
    src = tmp_path / "incep.mlir"
    ks = [(1, 0), (3, 1), (1, 0), (5, 2), (3, 1)]
    src.write_text(conv_graph(1, 4, 6, [B(2 + j % 3, k, p, j % 2 == 0) for j, (k, p) in enumerate(ks)], seed=3))
    m = load_mlir(src, name="incep")
    old, new = _same(m, rules=["merge-parallel-convs", "enlarge-conv-kernel"], verify=False)
    assert "merge-parallel-convs" in new.applied and new.cost_after < new.cost_before
    for name, k in (("concat-of-elementwise", 0), ("transpose-transpose", 0), ("merge-parallel-matmuls", 0)):
        ex = tmp_path / f"{name}-{k}.mlir"
        ex.write_text(RULES[name].examples()[k].mlir)
        _same(load_mlir(ex, name=name))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bert", "squeezenet", "nasrnn", "inception_v3", "resnext50"])
def test_fast_path_finds_what_the_old_path_finds_on_the_zoo_tiny(name):
    old, new = _same(mlir_opt.load(name, size="tiny"))
    assert new.model.text() == old.model.text()  # the same graph, op for op


def test_failed_bulk_load_falls_back_to_the_commands(cnn, monkeypatch):
    from mlir_opt.graph.search import eqsat

    good = EqSatSearch().run(cnn.clone())
    monkeypatch.setattr(eqsat, "bulk_program", lambda *a, **kw: "(relation Broken (i64))\n(Broken 1 2 3)")
    r = EqSatSearch().run(cnn.clone())
    assert r.stats["bulk_load"] is False and "kept_input" not in r.stats
    assert sorted(r.applied) == sorted(good.applied) and r.cost_after == pytest.approx(good.cost_after, rel=1e-9)


# -- decomposed extraction (ilp_decompose, the default) ------------------------------------------

def _whole_vs_parts(m, **kw):
    whole = EqSatSearch(ilp_decompose=False, **kw).run(m.clone())
    parts = EqSatSearch(**kw).run(m.clone())
    assert "ilp_components" in parts.stats and "ilp_components" not in whole.stats
    # the same optimum (the whole program stops at HiGHS's 0.01 % gap; the parts at a zero gap)
    assert parts.stats["ilp_objective_us"] <= whole.stats["ilp_objective_us"] * (1 + 1e-4) + 1e-6
    assert parts.stats["ilp_objective_us"] == pytest.approx(whole.stats["ilp_objective_us"], rel=1e-4)
    assert parts.cost_after <= whole.cost_after * (1 + 1e-9)
    return whole, parts


def test_decomposed_extraction_finds_what_the_whole_program_finds(cnn, tmp_path):
    """The CNN, a five-branch Inception block (merge + enlarge) and three rule examples: the same
    objective, rewrites, modelled cost and IR as the whole 0-1 program; IREE agrees on the CNN."""
    whole, parts = _whole_vs_parts(cnn)
    assert parts.model.text() == whole.model.text()
    assert check_iree(cnn, parts.model, tmp_path) < 1e-4
    src = tmp_path / "incep.mlir"
    ks = [(1, 0), (3, 1), (1, 0), (5, 2), (3, 1)]
    src.write_text(conv_graph(1, 4, 6, [B(2 + j % 3, k, p, j % 2 == 0) for j, (k, p) in enumerate(ks)], seed=3))
    whole, parts = _whole_vs_parts(load_mlir(src, name="incep"), rules=["merge-parallel-convs", "enlarge-conv-kernel"],
                                   verify=False)
    assert "merge-parallel-convs" in parts.applied and parts.model.text() == whole.model.text()
    for name, k in (("concat-of-elementwise", 0), ("transpose-transpose", 0), ("merge-parallel-matmuls", 0)):
        ex = tmp_path / f"{name}-{k}.mlir"
        ex.write_text(RULES[name].examples()[k].mlir)
        whole, parts = _whole_vs_parts(load_mlir(ex, name=name))
        assert sorted(parts.applied) == sorted(whole.applied) and parts.model.text() == whole.model.text()


def test_solve_components_splits_fixes_and_reuses():
    """A program of two equal independent parts, a third one with another cost, and a part the
    bounds already decide: solved part by part (the equal part once), the same optimum as one
    HiGHS solve of the whole program."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import block_diag, csr_matrix
    from mlir_opt.graph.search.eqsat import _solve_components

    # a part: pick one of a, b (a + b >= 1); b needs c (b - c <= 0); a costs 5, b 1, c 3
    part = csr_matrix(np.array([[1.0, 1.0, 0.0], [0.0, 1.0, -1.0]]))
    cost = np.array([5.0, 1.0, 3.0, 5.0, 1.0, 3.0, 5.0, 1.0, 9.0, 2.0])
    # last variable: x >= 1 alone (fixed by propagation)
    A = block_diag([part, part, part, csr_matrix(np.array([[1.0]]))]).tocsr()
    lo = np.array([1.0, -np.inf] * 3 + [1.0])
    hi = np.array([np.inf, 0.0] * 3 + [np.inf])
    lb, ub, integ = np.zeros(10), np.ones(10), np.ones(10)
    ref = milp(cost, constraints=LinearConstraint(A, lo, hi), integrality=integ, bounds=Bounds(lb, ub))
    assert ref.fun == pytest.approx(4 + 4 + 5 + 2)
    x, obj, info = _solve_components(cost, A, lo, hi, lb, ub, integ, 10.0, batch_vars=0)  # one call per part
    assert obj == pytest.approx(ref.fun) and np.allclose(np.round(x), np.round(ref.x))
    assert info["ilp_components"] == 3 and info["ilp_components_reused"] == 1 and info["ilp_component_milps"] == 2
    assert info["ilp_free_vars"] == 9
    x, obj, info = _solve_components(cost, A, lo, hi, lb, ub, integ, 10.0)  # small parts: one call together
    assert obj == pytest.approx(ref.fun) and np.allclose(np.round(x), np.round(ref.x))
    assert info["ilp_components"] == 3 and info["ilp_component_milps"] == 1


def test_decomposed_extraction_on_nasrnn_merges():
    """NasRNN (tiny): the parts holding the merge runs of each step (the hardest parts: a weak LP
    relaxation) give the same objective, rewrites and cost as the whole program. (At ``small`` its
    three middle steps are equal parts, solved once: benchmarks/eqsat_speed.py prints the count.)"""
    m = mlir_opt.load("nasrnn", size="tiny")
    whole, parts = _whole_vs_parts(m)
    assert parts.stats["ilp_component_milps"] >= 2 and parts.stats["ilp_largest_component"] > 100
    assert sorted(parts.applied) == sorted(whole.applied) and "merge-parallel-matmuls" in parts.applied
    assert parts.cost_after == pytest.approx(whole.cost_after, rel=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["bert", "squeezenet", "inception_v3", "resnext50", "vgg19"])
def test_decomposed_extraction_on_the_zoo_tiny(name):
    whole, parts = _whole_vs_parts(mlir_opt.load(name, size="tiny"))
    assert sorted(parts.applied) == sorted(whole.applied)
    assert parts.model.text() == whole.model.text()


def test_solve_components_reports_an_infeasible_program():
    """Bounds that propagation proves contradictory give no solution (the search then keeps its
    input), not a selection that breaks a row."""
    from scipy.sparse import csr_matrix
    from mlir_opt.graph.search.eqsat import _solve_components

    A = csr_matrix(np.array([[1.0, 1.0], [1.0, 1.0]]))  # x + y >= 2 and x + y <= 1
    x, obj, info = _solve_components(np.ones(2), A, np.array([2.0, -np.inf]), np.array([np.inf, 1.0]),
                                     np.zeros(2), np.ones(2), np.ones(2), 10.0)
    assert x is None and obj is None and "infeasible" in info["ilp_status"]
