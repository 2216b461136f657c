"""Regression test for incremental matching (mlir_opt.graph.search.matching): captured values.

concat-of-elementwise compares the region keys of the generics feeding a concat; a generic whose
body captures an outer value is keyed by that value's whole input cone (``_value_key``). Folding a
transpose two ops upstream of the captured value changes that key without changing any op the
matcher reached through ``producer``/``users``, so the parent's match must not be reused.
"""

from __future__ import annotations

from pathlib import Path

from mlir_opt.graph.cost import CostModel
from mlir_opt.graph.rules import get_rules
from mlir_opt.graph.search.common import Expander
from mlir_opt.importers.mlir import load_mlir

_NEG = """  %ne{k} = tensor.empty() : tensor<2x2xf32>
  %n{k} = linalg.generic {{indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}} ins(%t{k} : tensor<2x2xf32>) outs(%ne{k} : tensor<2x2xf32>) {{
  ^bb0(%x: f32, %o: f32):
    %y = arith.negf %x : f32
    linalg.yield %y : f32
  }} -> tensor<2x2xf32>
  %e{k} = tensor.empty() : tensor<2x2xf32>
"""
_SCALE = """  %s{k} = tensor.extract %n{k}[%i0, %i1] : tensor<2x2xf32>
  %o{k} = tensor.empty() : tensor<4xf32>
  %g{k} = linalg.generic {{indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}} ins(%a{k} : tensor<4xf32>) outs(%o{k} : tensor<4xf32>) {{
  ^bb0(%x: f32, %o: f32):
    %y = arith.mulf %x, %s{k} : f32
    linalg.yield %y : f32
  }} -> tensor<4xf32>
"""


def _graph() -> str:
    lines = ["func.func @main(%a1: tensor<4xf32>, %a2: tensor<4xf32>) -> tensor<8xf32> {",
             "  %c = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>",
             "  %i0 = arith.constant 0 : index", "  %i1 = arith.constant 1 : index"]
    for k in (1, 2):
        lines += [f"  %te{k} = tensor.empty() : tensor<2x2xf32>",
                  f"  %t{k} = linalg.transpose ins(%c : tensor<2x2xf32>) outs(%te{k} : tensor<2x2xf32>) permutation = [1, 0]"]
        lines.append(_NEG.format(k=k))
    for k in (1, 2):
        lines.append(_SCALE.format(k=k))
    lines += ["  %cat = tensor.concat dim(0) %g1, %g2 : (tensor<4xf32>, tensor<4xf32>) -> tensor<8xf32>",
              "  return %cat : tensor<8xf32>", "}"]
    return "\n".join(lines) + "\n"


def test_captured_value_key_change_rematches(tmp_path: Path):
    path = tmp_path / "g.mlir"
    path.write_text(_graph())
    rules = get_rules(["fold-constant-transpose", "concat-of-elementwise"])
    ex = Expander(rules, CostModel(target="llvm-cpu"))
    ex.incremental_match = True
    root = ex.start(load_mlir(path))
    assert "concat-of-elementwise" in [r.name for r, _ in ex.matches(root)]
    n = 0
    for child in ex.expand(root):
        inc = [(r.name, m) for r, m in ex.matches(child)]
        ref = [(r.name, m) for r in rules for m in r.match(child.view)]
        assert inc == ref, child.seq
        n += 1
    assert n == 3
