"""Per-candidate speed-ups of the sequence searches that are exact by construction (no switch).

* :class:`GraphView` builds the users of every value only on first use of the whole map; until then
  :meth:`GraphView.users` answers one value from its uses (the top-level op holding each use). For
  every candidate of a few searches, the per-value answers equal the whole map, for every argument
  and every result of a top-level op.
* :func:`mlir_opt.ir.erase_dead` makes one reverse pass and checks only the producers of what it
  erased, instead of a second full pass; it erases the same ops as the fixpoint loop, also when a
  producer sits after its user mid-rewrite.
* The searches still make the same choices as with every speed switch off.
"""

from __future__ import annotations

import pytest

from helpers import conv_bn_chain_mlir, tiny_model
from mlir_opt import ir as _ir
from mlir_opt.graph import optimize_graph
from mlir_opt.graph.search import common
from mlir_opt.graph.view import GraphView
from mlir_opt.importers.mlir import load_mlir
from mlir_opt.model import Model

ir = _ir.ir
CHECKED = {"values": 0, "with_users": 0}


def _values(view: GraphView) -> list:
    vals = list(view.block.arguments)
    for op in view.ops:
        vals.extend(op.results)
    return vals


def _checking_expand(expand):
    def run(self, cand, **kw):
        for child in expand(self, cand, **kw):
            fresh = GraphView(child.model)
            vals = _values(fresh)
            lazy = [list(fresh.users(v)) for v in vals]
            assert fresh._users_all is None  # answered from the uses, not from the whole map
            full = [[fresh.ops[i] for i in fresh._users.get(v, [])] for v in vals]
            assert lazy == full
            # the search's own view answers the same (whichever way it got there)
            assert [child.view.users(v) for v in _values(child.view)] == full
            CHECKED["values"] += len(vals)
            CHECKED["with_users"] += sum(1 for f in full if f)
            yield child
    return run


def _parse(text: str, tmp_path) -> Model:
    p = tmp_path / "g.mlir"
    p.write_text(text)
    return load_mlir(p, name="g")


def _load(name: str, tmp_path) -> Model:
    return _parse(conv_bn_chain_mlir(3), tmp_path) if name == "chain" else tiny_model(name)


@pytest.mark.parametrize("name,strategy,options", [
    ("chain", "ocggs", {"budget": 2}),
    ("cnn", "greedy", {}),
    ("resnet50", "greedy", {"max_steps": 1}),
])
def test_lazy_users_equal_whole_map_and_results_unchanged(name, strategy, options, monkeypatch, tmp_path):
    before = dict(CHECKED)
    monkeypatch.setattr(common.Expander, "expand", _checking_expand(common.Expander.expand))
    on = optimize_graph(_load(name, tmp_path), strategy, options={"verify": False, **options})
    monkeypatch.undo()
    assert CHECKED["values"] > before["values"] and CHECKED["with_users"] > before["with_users"]
    off_opts = {"incremental": False, "incremental_match": False, "incremental_cost": False, "fast_clone": False}
    off = optimize_graph(_load(name, tmp_path), strategy, options={"verify": False, **off_opts, **options})
    assert on.applied == off.applied and on.applied
    assert on.cost_after == off.cost_after
    assert on.stats["graphs_explored"] == off.stats["graphs_explored"]


def _fixpoint_erase(block) -> int:
    """The reference: full passes until one erases nothing."""
    n, changed = 0, True
    while changed:
        changed = False
        for op in reversed(list(block.operations)):
            op = op.operation
            if op.name in _ir._KEEP or len(op.results) == 0:
                continue
            if all(next(iter(r.uses), None) is None for r in op.results):
                op.erase()
                n += 1
                changed = True
    return n


_DEAD = """func.func @main(%x: tensor<4xf32>) -> tensor<4xf32> {
  %c = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %a = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
         iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.mulf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  %b = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
         iterator_types = ["parallel"]} ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.addf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  %u = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
         iterator_types = ["parallel"]} ins(%x : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.subf %in, %c : f32
    linalg.yield %m : f32
  } -> tensor<4xf32>
  return %u : tensor<4xf32>
}
"""


@pytest.mark.parametrize("reorder", [False, True])
def test_erase_dead_single_pass_equals_fixpoint(reorder, tmp_path):
    results = []
    for erase in (_ir.erase_dead, _fixpoint_erase):
        m = _parse(_DEAD, tmp_path)
        block = _ir.entry_block(m.module, m.entry)
        ops = [op.operation for op in block.operations]
        if reorder:  # mid-rewrite: the producers %c and %a placed after their user %b
            ops[0].move_before(ops[-1])
            ops[2].move_after(ops[3])
        n = erase(block)
        results.append((n, [op.operation.name for op in block.operations]))
    assert results[0] == results[1]
    assert results[0][0] == 2  # %b, then %a (its only user gone); %c and %e still used by %u
    assert [name for name in results[0][1] if name == "linalg.generic"] == ["linalg.generic"]
