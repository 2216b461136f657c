"""The shortcuts that cut eqsat's fixed costs give what the plain definitions give: resource blobs
read from bytecode equal those read from the text, the canonical e-graph order equals its
definition's, and the roofline analysis with its per-call caches costs the same. (The whole search,
base commit against this checkout on the zoo: ``benchmarks/eqsat_same.py``.)"""

from __future__ import annotations

import hashlib
import json

import pytest

import mlir_opt
from mlir_opt import ir as _ir
from mlir_opt.graph import prepare
from mlir_opt.graph.search import eqsat
from mlir_opt.graph.search.eqsat import EqSatSearch


@pytest.fixture(scope="module")
def cnn():
    return mlir_opt.load("cnn", size="tiny")


def test_bytecode_resource_blobs_equal_the_text_ones(cnn):
    m = cnn.clone()
    text = _ir.resource_blobs(m.module)
    fast = _ir.bytecode_resource_blobs(m.bytecode())
    assert text and fast is not None and fast.keys() == text.keys()
    assert all(bytes(fast[k]) == text[k] for k in text)
    a, b = cnn.clone(), cnn.clone()  # parsed into the same context: resource keys renamed (name_1)
    assert _ir.materialize_resources(a.module) == _ir.materialize_resources(b.module, text=True) > 0
    assert a.text() == b.text() and "dense_resource" not in a.text()
    assert _ir.bytecode_resource_blobs(b"not bytecode") is None


def _labels_by_definition(eg) -> tuple[list, dict]:
    """canon_classes and canon_nodes as _EG._canonical_order defines them (digests of repr)."""
    def digest(x) -> str:
        return hashlib.sha1(repr(x).encode()).hexdigest()[:16]

    lits = {k: tuple(eg.prim[c] if c in eg.prim else None for c in n.kids) for k, n in eg.nodes.items()}
    first_val: dict = {}
    for v, c in enumerate(eg.cls_of_value.values()):
        if c is not None:
            first_val.setdefault(c, v)
    lab = {c: digest((first_val.get(c, -1), sorted((eg.nodes[k].op, lits[k]) for k in ks)))
           for c, ks in eg.classes.items()}
    distinct, node_lab = len(set(lab.values())), {}
    for _ in range(16):
        node_lab = {k: digest((n.op, tuple(lit if lit is not None else lab.get(eg.cls_of_node[c], "")
                                           for lit, c in zip(lits[k], n.kids)))) for k, n in eg.nodes.items()}
        new = {c: digest((lab[c], sorted(node_lab[k] for k in ks))) for c, ks in eg.classes.items()}
        n_new = len(set(new.values()))
        lab = new
        if n_new <= distinct:
            break
        distinct = n_new
    return (sorted(eg.classes, key=lambda c: lab[c]),
            {c: sorted(ks, key=lambda k: node_lab.get(k, "")) for c, ks in eg.classes.items()})


def test_canonical_order_equals_its_definition(cnn, monkeypatch):
    seen = []
    orig = eqsat._EG.__init__

    def spy(self, data, g):
        orig(self, data, g)
        seen.append((self, _labels_by_definition(self)))

    monkeypatch.setattr(eqsat._EG, "__init__", spy)
    r = EqSatSearch().run(cnn.clone())
    assert seen and r.applied
    eg, (classes, nodes) = seen[0]
    assert len(classes) > 20 and eg.canon_classes == classes and eg.canon_nodes == nodes


_MATVEC = """func.func @main(%x: tensor<{m}x64xf32>) -> tensor<{m}x32xf32> {{
  %w = arith.constant dense<0.5> : tensor<64x32xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{m}x32xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<{m}x32xf32>) -> tensor<{m}x32xf32>
  %r = linalg.matmul ins(%x, %w : tensor<{m}x64xf32>, tensor<64x32xf32>) outs(%f : tensor<{m}x32xf32>) -> tensor<{m}x32xf32>
  return %r : tensor<{m}x32xf32>
}}
"""


@pytest.mark.parametrize("m,cache", [(1, 1024.0), (1, 1e9), (2, 1024.0)])
def test_matvec_streaming_term_is_the_same_in_the_extraction_and_in_analyze(tmp_path, m, cache):
    """The M = 1 weight-streaming factor: eqsat's MM node cost and cost.py's analyze() apply it
    under the one predicate (_streams_weights), so switching it on moves the ILP objective and the
    modelled cost by the same amount (and not at all when M = 2 or the weight fits the cache)."""
    from dataclasses import replace

    from mlir_opt.graph.cost import Roofline, _is_streaming_matvec, analyze
    from mlir_opt.graph.view import GraphView
    from mlir_opt.importers.mlir import load_mlir

    src = tmp_path / "mv.mlir"
    src.write_text(_MATVEC.format(m=m))
    model = load_mlir(src, name="mv")
    on = Roofline(cache_bytes=cache, matvec_stream_slowdown=1.55)
    off = replace(on, matvec_stream_slowdown=1.0)
    view = GraphView(prepare(model))
    mm = [op for op in view.ops if op.name == "linalg.matmul"][0]
    assert _is_streaming_matvec(mm, on) == (m == 1 and cache < 64 * 32 * 4)
    d_cost = analyze(view, on).us - analyze(view, off).us
    objs = [EqSatSearch(rules=[], roofline=rf).run(model.clone()).stats["ilp_objective_us"] for rf in (on, off)]
    assert objs[0] - objs[1] == pytest.approx(d_cost, abs=2e-3)  # the objective is reported to 1e-3 µs
    assert (d_cost > 0) == _is_streaming_matvec(mm, on)
