"""The fast path of eqsat (bulk loading of the translation, presolved 0-1 program) finds what the
earlier path finds: the same e-graph, the same realized rewrites, the same modelled cost, and a
graph IREE computes like the original."""

from __future__ import annotations

import json
from collections import Counter

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
