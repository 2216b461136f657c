"""The whole-graph NCHW -> NHWC layout pass (mlir_opt/graph/nhwc.py), its rule ``to-nhwc`` and the
searches that take it: real IREE compiles and runs on small shapes."""

from __future__ import annotations

import pytest

import mlir_opt
from mlir_opt.graph.cost import Roofline, roofline_cost
from mlir_opt.graph.nhwc import count_layout, to_nhwc
from mlir_opt.graph.rules.channels import chain_graph
from mlir_opt.graph.search import EqSatSearch
from mlir_opt.importers.mlir import load_mlir
from helpers import check_iree




@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    """conv (stride 2) -> ReLU -> maxpool -> {conv 1x1, conv 3x3 + residual} -> concat -> global
    average pool, large enough (16 -> 32 channels, 64x64) that the convolutions dominate the roofline."""
    src = tmp_path_factory.mktemp("chain") / "chain.mlir"
    src.write_text(chain_graph(16, 64, 32, stride=2, reduce=True))
    return load_mlir(src, name="chain")


def test_pass_converts_every_conv_and_the_transposes_cancel(chain):
    m, n = to_nhwc(chain)
    assert count_layout(chain) == {"transpose": 0, "nchw": 4, "nhwc": 0}  # 3 convs + 1 pool
    # every conv and the pool are NHWC; one transpose is left, on the model input (the output is
    # the (n, c) average pool, read from the NHWC tensor directly)
    assert count_layout(m) == {"transpose": 1, "nchw": 0, "nhwc": 4}
    assert n >= 8  # 3 convs, pool, 2 pads, ReLU, residual add, concat, reduction
    text = m.text()
    assert "tensor.concat dim(3)" in text and "linalg.pooling_nhwc_max" in text
    assert "%arg0 : tensor<1x16x64x64xf32>) outs(" in text  # the input transpose


def test_roofline_prefers_nhwc_only_with_the_layout_factor(chain):
    m, _ = to_nhwc(chain)
    assert roofline_cost(m) < roofline_cost(chain)
    blind = Roofline(conv_nchw_slowdown=1.0, conv_nchw_1x1_slowdown=1.0, conv_nchw_strided_slowdown=1.0)
    assert roofline_cost(m, blind) > roofline_cost(chain, blind)  # the extra input transpose


def test_eqsat_converts_the_chain_and_matches_iree(chain, tmp_path):
    r = EqSatSearch(rules=["fold-batchnorm-into-conv", "transpose-transpose", "to-nhwc"], verify=False).run(chain)
    assert "to-nhwc" in r.applied and r.cost_after < r.cost_before
    assert r.stats["layout"]["cost_nhwc"] < r.stats["layout"]["cost_nchw"]
    assert count_layout(r.model) == {"transpose": 1, "nchw": 0, "nhwc": 4}
    assert check_iree(chain, r.model, tmp_path) < 1e-4


def test_greedy_takes_the_macro_step_and_matches_iree(chain, tmp_path):
    from mlir_opt.graph.search import GreedySearch

    r = GreedySearch(rules=["fold-batchnorm-into-conv", "transpose-transpose", "to-nhwc"], verify=False).run(chain)
    assert r.applied.count("to-nhwc") == 1 and r.cost_after < r.cost_before
    c = count_layout(r.model)
    assert c["nchw"] == 0 and c["transpose"] == 1
    assert check_iree(chain, r.model, tmp_path) < 1e-4


def test_layout_step_waits_for_the_batchnorm_folds():
    from mlir_opt.graph import apply_rules, prepare
    from mlir_opt.graph.rules import RULES
    from mlir_opt.graph.view import GraphView

    cnn = prepare(mlir_opt.load("cnn", size="tiny"))  # conv + batch-norm chains
    assert RULES["to-nhwc"].match(GraphView(cnn)) == []
    folded = apply_rules(cnn, ["fold-batchnorm-into-conv"]).model
    assert len(RULES["to-nhwc"].match(GraphView(folded))) == 1


@pytest.mark.parametrize("name,nhwc_cheaper", [("mobilenet_v2", True), ("vgg19", None)])
def test_roofline_layout_choice_follows_the_measurements(name, nhwc_cheaper):
    """ResNet (strided and 1x1 convs) and MobileNet (1x1 pointwise) measured faster in NHWC; VGG
    (3x3 stride-1 convs only) either way (wall 1.14-1.19x faster in NHWC, CPU time 0.92x:
    docs/layout-search.md). The roofline prefers NHWC for MobileNet and is neutral on VGG: IREE
    forms 25 dispatches in both layouts (the input transpose replaces the input pad's copy), and
    the 3x3 stride-1 factor is 1.0, so the two costs agree within 0.1 %."""
    from mlir_opt.graph import prepare

    m = prepare(mlir_opt.load(name, size="tiny"))
    nhwc, nchw = roofline_cost(to_nhwc(m)[0]), roofline_cost(m)
    if nhwc_cheaper is None:
        assert nhwc == pytest.approx(nchw, rel=1e-3)
    else:
        assert (nhwc < nchw) == nhwc_cheaper and abs(nhwc - nchw) > 1e-2 * nchw


def test_generic_reading_iteration_indices_stays_nchw(tmp_path):
    """A body with ``linalg.index`` names iteration dims: the pass must not permute them."""
    src = tmp_path / "idx.mlir"
    src.write_text("""func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32> {
  %z = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<2x2x1x1xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%f : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %o: f32):
    %i = linalg.index 1 : index
    %ii = arith.index_cast %i : index to i32
    %fi = arith.sitofp %ii : i32 to f32
    %s = arith.addf %in, %fi : f32
    linalg.yield %s : f32
  } -> tensor<1x2x4x4xf32>
  return %r : tensor<1x2x4x4xf32>
}
""")
    m, n = to_nhwc(load_mlir(src, name="idx"))
    assert n == 1 and count_layout(m) == {"transpose": 2, "nchw": 0, "nhwc": 1}
    from mlir_opt.graph.view import GraphView

    v = GraphView(m)
    (g,) = [op for op in v.ops if op.name == "linalg.generic" and "linalg.index" in str(op)]
    assert str(g.results[0].type) == "tensor<1x2x4x4xf32>"  # still NCHW, reading the conv through
    assert v.producer(g.operands[0]).name == "linalg.transpose"  # the transpose back
