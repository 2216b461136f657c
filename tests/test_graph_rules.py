"""The conv, concat, reshape and algebraic graph rules on real (torch-imported) graphs.

Each rule is applied to a small torch model imported through torch-mlir (Inception-like block,
SqueezeNet fire module, a linear-algebra block), the result is compiled with IREE and compared
with torch eager and with the unrewritten module on random inputs. Preconditions are checked on
graphs the rules must leave alone. Nothing is mocked.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import mlir_opt
from mlir_opt.backend import Runner, compare_outputs, compile_module
from mlir_opt.graph import STRATEGIES, apply_rules, prepare
from mlir_opt.graph.rules import RULES
from mlir_opt.graph.rules.base import shape_of
from mlir_opt.graph.rules.conv import _Branch as B, conv_graph
from mlir_opt.graph.view import GraphView, structural_hash
from mlir_opt.importers.mlir import load_mlir

TOL = 1e-4


class Inception(nn.Module):
    """Three branches on one input: 1x1 (bias), 3x3 pad 1 (bias), 3x3 pad 1 (no bias) + ReLU."""

    def __init__(self, cin: int = 4):
        super().__init__()
        self.b1 = nn.Conv2d(cin, 4, 1)
        self.b3a = nn.Conv2d(cin, 6, 3, padding=1)
        self.b3b = nn.Conv2d(cin, 3, 3, padding=1, bias=False)

    def forward(self, x):
        return torch.cat([self.b1(x), self.b3a(x), torch.relu(self.b3b(x))], 1)


class Fire(nn.Module):
    """SqueezeNet's fire module: squeeze 1x1, then expand 1x1 and 3x3 (ReLU each), concatenated."""

    def __init__(self, cin: int = 6, s: int = 3, e1: int = 4, e3: int = 4):
        super().__init__()
        self.sq, self.e1, self.e3 = nn.Conv2d(cin, s, 1), nn.Conv2d(s, e1, 1), nn.Conv2d(s, e3, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.sq(x))
        return torch.cat([torch.relu(self.e1(x)), torch.relu(self.e3(x))], 1)


class Algebra(nn.Module):
    """A linear chain (re-association), a sum of two linears (distributivity), a γ/β
    scale-bias chain, and x·kᵀ with a non-constant k (transpose into the matmul)."""

    def __init__(self):
        super().__init__()
        self.l1, self.l2 = nn.Linear(8, 32, bias=False), nn.Linear(32, 4, bias=False)
        self.a, self.b = nn.Linear(8, 4, bias=False), nn.Linear(8, 4, bias=False)
        self.g = nn.Parameter(torch.rand(4) + 0.5)
        self.beta = nn.Parameter(torch.randn(4))

    def forward(self, x, k):
        y = self.l2(self.l1(x))
        z = self.a(x) + self.b(x)
        w = (y * z) * self.g + self.beta
        return w @ k.transpose(0, 1)


def _seeded(cls, *inputs):
    torch.manual_seed(0)
    return mlir_opt.load(cls().eval(), inputs)


@pytest.fixture(scope="module")
def inception():
    torch.manual_seed(1)
    return _seeded(Inception, torch.randn(1, 4, 8, 8))


@pytest.fixture(scope="module")
def fire():
    torch.manual_seed(2)
    return _seeded(Fire, torch.randn(1, 6, 8, 8))


@pytest.fixture(scope="module")
def algebra():
    torch.manual_seed(3)
    return _seeded(Algebra, torch.randn(6, 8), torch.randn(5, 4))


def _runner(model, path):
    return Runner(compile_module(model.bytecode(), "llvm-cpu", output=path).vmfb, model.entry)


_ORIG: dict = {}  # id(model) -> (model, runner): each fixture model is compiled once


def _check_numerics(orig, new, tmp_path, tol=TOL):
    """Rewritten vs unrewritten (IREE) and vs the torch reference, on two random input sets."""
    if id(orig) not in _ORIG:
        _ORIG[id(orig)] = (orig, _runner(orig, tmp_path / "orig.vmfb"))
    a, b = _ORIG[id(orig)][1], _runner(new, tmp_path / "new.vmfb")
    for seed in (0, 1):
        x = orig.random_inputs(seed)
        assert not any(np.all(v == 0) for v in x)
        check = compare_outputs(b(x), a(x), tol)
        assert check.ok, check.describe()
        if orig.reference is not None:
            check = compare_outputs(b(x), orig.reference(x), tol)
            assert check.ok, check.describe()


def _count(model, name):
    return len(GraphView(prepare(model)).find(name))


CONV = "linalg.conv_2d_nchw_fchw"


# -- conv rules on an Inception-like block -----------------------------------------------------

def test_merge_parallel_convs_on_inception(inception, tmp_path):
    assert _count(inception, CONV) == 3
    res = apply_rules(inception, ["merge-parallel-convs"])
    assert res.applied == ["merge-parallel-convs"]
    assert _count(res.model, CONV) == 2  # the two 3x3 pad-1 branches merged; the 1x1 stays
    _check_numerics(inception, res.model, tmp_path)


def test_enlarge_merge_and_concat_elimination_on_inception(inception, tmp_path):
    seq = ["enlarge-conv-kernel", "merge-parallel-convs", "concat-of-slices"]
    res = apply_rules(inception, seq)
    assert res.applied[:2] == ["enlarge-conv-kernel", "merge-parallel-convs"]
    v = GraphView(res.model)
    convs = v.find(CONV)
    assert len(convs) == 1 and shape_of(convs[0].results[0]) == (1, 13, 8, 8)
    assert len(v.find("tensor.pad")) == 1
    _check_numerics(inception, res.model, tmp_path)


def test_conv1x1_to_matmul_on_inception(inception, tmp_path):
    res = apply_rules(inception, ["conv1x1-to-matmul"])
    assert res.applied == ["conv1x1-to-matmul"]
    assert _count(res.model, CONV) == 2 and _count(res.model, "linalg.matmul") == 1
    _check_numerics(inception, res.model, tmp_path)


def test_search_merges_the_fire_module_into_one_expand_conv(fire, tmp_path):
    # enlarge (1x1 -> 3x3) alone costs more, so a search over sequences is needed: OCGGS finds
    # enlarge -> merge -> concat-of-elementwise -> concat-of-slices (one conv + ReLU per fire).
    rules = ["merge-parallel-convs", "enlarge-conv-kernel", "concat-of-elementwise", "concat-of-slices"]
    res = STRATEGIES["ocggs"](rules=rules, verify=False).run(fire)
    assert set(res.applied) == set(rules)
    assert res.cost_after < res.cost_before
    v = GraphView(res.model)
    assert len(v.find(CONV)) == 2 and not v.find("tensor.concat")
    _check_numerics(fire, res.model, tmp_path)


def test_rewrite_fixpoint_skips_search_only_rules(inception):
    search_only = {n for n, r in RULES.items() if not r.auto}
    assert {"enlarge-conv-kernel", "conv1x1-to-matmul"} <= search_only
    res = apply_rules(inception)
    assert "merge-parallel-convs" in res.applied
    assert not search_only & set(res.applied)
    # named explicitly, a search-only rule does apply
    assert "conv1x1-to-matmul" in apply_rules(inception, ["conv1x1-to-matmul"]).applied


def test_conv_merge_and_enlarge_in_fp16(tmp_path):
    text = conv_graph(1, 4, 6, [B(3, 1, 0, True), B(5, 3, 1, True), B(2, 3, 1, False)], elem="f16", seed=9)
    p = tmp_path / "f16.mlir"
    p.write_text(text)
    m = load_mlir(p)
    res = apply_rules(m, ["enlarge-conv-kernel", "merge-parallel-convs", "concat-of-slices"])
    assert res.applied == ["enlarge-conv-kernel", "merge-parallel-convs", "concat-of-slices"]
    assert len(GraphView(res.model).find(CONV)) == 1
    _check_numerics(m, res.model, tmp_path, tol=1e-2)  # f16 accumulation order differs


# -- algebraic rules on a torch graph ----------------------------------------------------------

@pytest.mark.parametrize("rule,gone,kept", [
    ("distribute-matmul", 1, "linalg.matmul"),        # two matmuls + add -> one matmul
    ("matmul-reassociate", 1, "linalg.matmul"),       # (x·W1)·W2 -> x·(W1·W2)
    ("transpose-into-matmul", 1, "linalg.transpose"),  # transpose(k) absorbed
    ("fold-chained-scale-bias", 1, "linalg.generic"),  # ·γ then +β -> one generic
])
def test_algebra_rules_on_torch_graph(algebra, tmp_path, rule, gone, kept):
    before = _count(algebra, kept)
    res = apply_rules(algebra, [rule])
    assert res.applied == [rule]
    assert _count(res.model, kept) == before - gone
    _check_numerics(algebra, res.model, tmp_path)


def test_all_rules_on_the_algebra_graph_reach_a_fixpoint(algebra, tmp_path):
    res = apply_rules(algebra)
    for rule in ("distribute-matmul", "matmul-reassociate", "transpose-into-matmul", "fold-chained-scale-bias"):
        assert rule in res.applied, res.applied
    assert apply_rules(res.model).applied == []  # a fixpoint: nothing left to do
    _check_numerics(algebra, res.model, tmp_path)


def test_bert_layernorm_gamma_beta_chains_fold():
    m = mlir_opt.load("bert", size="tiny")
    res = apply_rules(m)
    assert res.applied.count("fold-chained-scale-bias") >= 2  # the γ/β pairs of the LayerNorms


# -- preconditions ------------------------------------------------------------------------------

def _g(args: str, rets: str, body: str) -> str:
    return f"func.func @main({args}) -> {rets} {{\n  %zero = arith.constant 0.0 : f32\n{body}\n}}\n"


_MM = ("  %{r}_e = tensor.empty() : tensor<{o}xf32>\n"
       "  %{r}_f = linalg.fill ins(%zero : f32) outs(%{r}_e : tensor<{o}xf32>) -> tensor<{o}xf32>\n"
       "  %{r} = linalg.matmul ins({a}, {b} : tensor<{sa}xf32>, tensor<{sb}xf32>) outs(%{r}_f : tensor<{o}xf32>) -> tensor<{o}xf32>")
_ADD = ("  %s_e = tensor.empty() : tensor<2x3xf32>\n"
        "  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, "
        "affine_map<(d0, d1) -> (d0, d1)>], iterator_types = [\"parallel\", \"parallel\"]} ins(%m0, %m1 : tensor<2x3xf32>, "
        "tensor<2x3xf32>) outs(%s_e : tensor<2x3xf32>) {\n  ^bb0(%p: f32, %q: f32, %o: f32):\n"
        "    %t = arith.addf %p, %q : f32\n    linalg.yield %t : f32\n  } -> tensor<2x3xf32>")


def _two_convs(stride1: int, dil1: int, k1: int = 3, pad1: int = 1, filt1: str = "%w1") -> str:
    """Two convs on %x: a 3x3 pad-1 one and one with the given stride/dilation/kernel/padding."""
    oh1 = (4 + 2 * pad1 - dil1 * (k1 - 1) - 1) // stride1 + 1
    p1 = "%x" if pad1 == 0 else "%p1"
    return _g(f"%x: tensor<1x2x4x4xf32>, %wa: tensor<3x2x{k1}x{k1}xf32>",
              f"(tensor<1x3x4x4xf32>, tensor<1x3x{oh1}x{oh1}xf32>)", f"""  %w0 = arith.constant dense<0.5> : tensor<3x2x3x3xf32>
  %w1 = arith.constant dense<0.25> : tensor<3x2x{k1}x{k1}xf32>
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {{
  ^bb0(%a0: index, %a1: index, %a2: index, %a3: index):
    tensor.yield %zero : f32
  }} : tensor<1x2x4x4xf32> to tensor<1x2x6x6xf32>
  %p1 = tensor.pad %x low[0, 0, {pad1}, {pad1}] high[0, 0, {pad1}, {pad1}] {{
  ^bb0(%a0: index, %a1: index, %a2: index, %a3: index):
    tensor.yield %zero : f32
  }} : tensor<1x2x4x4xf32> to tensor<1x2x{4 + 2 * pad1}x{4 + 2 * pad1}xf32>
  %e0 = tensor.empty() : tensor<1x3x4x4xf32>
  %i0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %c0 = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}} ins(%p, %w0 : tensor<1x2x6x6xf32>, tensor<3x2x3x3xf32>) outs(%i0 : tensor<1x3x4x4xf32>) -> tensor<1x3x4x4xf32>
  %e1 = tensor.empty() : tensor<1x3x{oh1}x{oh1}xf32>
  %i1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x3x{oh1}x{oh1}xf32>) -> tensor<1x3x{oh1}x{oh1}xf32>
  %c1 = linalg.conv_2d_nchw_fchw {{dilations = dense<{dil1}> : vector<2xi64>, strides = dense<{stride1}> : vector<2xi64>}} ins({p1}, {filt1} : tensor<1x2x{4 + 2 * pad1}x{4 + 2 * pad1}xf32>, tensor<3x2x{k1}x{k1}xf32>) outs(%i1 : tensor<1x3x{oh1}x{oh1}xf32>) -> tensor<1x3x{oh1}x{oh1}xf32>
  return %c0, %c1 : tensor<1x3x4x4xf32>, tensor<1x3x{oh1}x{oh1}xf32>""")


NON_MATCHING = {
    "merge-parallel-convs": [_two_convs(2, 1),                       # other stride
                             _two_convs(1, 2, pad1=2),                # other dilation (and padding)
                             _two_convs(1, 1, filt1="%wa")],          # filter not constant
    "enlarge-conv-kernel": [_two_convs(1, 1, k1=1, pad1=1),          # 1x1 with pad 1: would need pad 2 sibling
                            _two_convs(1, 2, k1=1, pad1=0),           # the small conv is dilated
                            _two_convs(1, 1, k1=2, pad1=0)],          # odd kernel difference
    "conv1x1-to-matmul": [_two_convs(2, 1, k1=1, pad1=0)],           # stride 2
    "conv-to-im2col": [conv_graph(1, 2, 4, [B(3, 1, 0, True)], concat=False)],  # 1x1 stride 1: conv1x1-to-matmul's
    "matmul-to-conv1x1": [_g("%x: tensor<2x3x4x5xf32>", "tensor<2x3x4x2xf32>",  # N·H x W·C: not a 1x1 conv
                             "  %c = arith.constant dense<0.5> : tensor<20x8xf32>\n"
                             "  %x2 = tensor.collapse_shape %x [[0, 1], [2, 3]] : tensor<2x3x4x5xf32> into tensor<6x20xf32>\n"
                             + _MM.format(r="m", a="%x2", b="%c", sa="6x20", sb="20x8", o="6x8") + "\n"
                             "  %r = tensor.expand_shape %m [[0, 1], [2, 3]] output_shape [2, 3, 4, 2] : tensor<6x8xf32> into tensor<2x3x4x2xf32>\n"
                             "  return %r : tensor<2x3x4x2xf32>")],
    "slice-of-concat": [_g("%a: tensor<2x3xf32>, %b: tensor<2x4xf32>", "tensor<2x3xf32>",
                           "  %c = tensor.concat dim(1) %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x7xf32>\n"
                           "  %s = tensor.extract_slice %c[0, 2] [2, 3] [1, 1] : tensor<2x7xf32> to tensor<2x3xf32>\n"
                           "  return %s : tensor<2x3xf32>")],        # straddles two operands
    "concat-of-slices": [_g("%x: tensor<2x6xf32>", "tensor<2x4xf32>",
                            "  %a = tensor.extract_slice %x[0, 0] [2, 2] [1, 1] : tensor<2x6xf32> to tensor<2x2xf32>\n"
                            "  %b = tensor.extract_slice %x[0, 3] [2, 2] [1, 1] : tensor<2x6xf32> to tensor<2x2xf32>\n"
                            "  %c = tensor.concat dim(1) %a, %b : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x4xf32>\n"
                            "  return %c : tensor<2x4xf32>"),       # not adjacent (gap at column 2)
                         _g("%x: tensor<2x6xf32>", "tensor<2x4xf32>",
                            "  %a = tensor.extract_slice %x[0, 2] [2, 2] [1, 1] : tensor<2x6xf32> to tensor<2x2xf32>\n"
                            "  %b = tensor.extract_slice %x[0, 0] [2, 2] [1, 1] : tensor<2x6xf32> to tensor<2x2xf32>\n"
                            "  %c = tensor.concat dim(1) %a, %b : (tensor<2x2xf32>, tensor<2x2xf32>) -> tensor<2x4xf32>\n"
                            "  return %c : tensor<2x4xf32>")],      # adjacent but swapped
    "reshape-reshape": [_g("%x: tensor<2x3x4xf32>", "tensor<3x2x4xf32>",
                           "  %a = tensor.collapse_shape %x [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>\n"
                           "  %b = tensor.expand_shape %a [[0, 1], [2]] output_shape [3, 2, 4] : tensor<6x4xf32> into tensor<3x2x4xf32>\n"
                           "  return %b : tensor<3x2x4xf32>")],     # ends in another shape
    "distribute-matmul": [_g("%x: tensor<2x4xf32>, %y: tensor<2x4xf32>", "tensor<2x3xf32>",
                             "  %c = arith.constant dense<0.5> : tensor<4x3xf32>\n"
                             + _MM.format(r="m0", a="%x", b="%c", sa="2x4", sb="4x3", o="2x3") + "\n"
                             + _MM.format(r="m1", a="%y", b="%c", sa="2x4", sb="4x3", o="2x3") + "\n"
                             + _ADD + "\n  return %s : tensor<2x3xf32>"),  # different LHS
                          _g("%x: tensor<2x4xf32>, %w: tensor<4x3xf32>", "tensor<2x3xf32>",
                             "  %c = arith.constant dense<0.5> : tensor<4x3xf32>\n"
                             + _MM.format(r="m0", a="%x", b="%w", sa="2x4", sb="4x3", o="2x3") + "\n"
                             + _MM.format(r="m1", a="%x", b="%c", sa="2x4", sb="4x3", o="2x3") + "\n"
                             + _ADD + "\n  return %s : tensor<2x3xf32>")],  # RHS not weight-only
    # (x·W1)·W2 with W1 8x2 and W2 2x8: x·(W1·W2) would need 4*8*8 MACs instead of 4*8*2 + 4*2*8
    "matmul-reassociate": [_g("%x: tensor<4x8xf32>, %w1: tensor<8x2xf32>, %w2: tensor<2x8xf32>", "tensor<4x8xf32>",
                              _MM.format(r="m0", a="%x", b="%w1", sa="4x8", sb="8x2", o="4x2") + "\n"
                              + _MM.format(r="m1", a="%m0", b="%w2", sa="4x2", sb="2x8", o="4x8")
                              + "\n  return %m1 : tensor<4x8xf32>")],
    "conv-nchw-to-nhwc": [_two_convs(1, 1).replace("linalg.fill ins(%zero : f32) outs(%e1", "linalg.fill ins(%zero : f32) outs(%e1")
                          .replace("outs(%i0 :", "outs(%e0 :").replace("outs(%i1 :", "outs(%e1 :")],  # accumulator not constant
    "transpose-through-elementwise": [_g("%x: tensor<2x3xf32>, %y: tensor<3x2xf32>", "tensor<3x2xf32>",
                                         "  %te = tensor.empty() : tensor<3x2xf32>\n"
                                         "  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%te : tensor<3x2xf32>) permutation = [1, 0]\n"
                                         "  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, "
                                         "affine_map<(d0, d1) -> (d0, d1)>], iterator_types = [\"parallel\", \"parallel\"]} ins(%t, %y : "
                                         "tensor<3x2xf32>, tensor<3x2xf32>) outs(%te : tensor<3x2xf32>) {\n  ^bb0(%p: f32, %q: f32, %o: f32):\n"
                                         "    %s = arith.addf %p, %q : f32\n    linalg.yield %s : f32\n  } -> tensor<3x2xf32>\n"
                                         "  return %r : tensor<3x2xf32>")],  # %y is not transposed
    "transpose-of-pad": [_g("%x: tensor<2x3xf32>", "(tensor<5x2xf32>, tensor<2x5xf32>)",
                            "  %p = tensor.pad %x low[0, 1] high[0, 1] {\n  ^bb0(%i: index, %j: index):\n"
                            "    tensor.yield %zero : f32\n  } : tensor<2x3xf32> to tensor<2x5xf32>\n"
                            "  %te = tensor.empty() : tensor<5x2xf32>\n"
                            "  %t = linalg.transpose ins(%p : tensor<2x5xf32>) outs(%te : tensor<5x2xf32>) permutation = [1, 0]\n"
                            "  return %t, %p : tensor<5x2xf32>, tensor<2x5xf32>")],  # the pad has another user
    "transpose-into-matmul": [_g("%x: tensor<2x4xf32>", "tensor<2x3xf32>",
                                 "  %c = arith.constant dense<0.5> : tensor<3x4xf32>\n"
                                 "  %te = tensor.empty() : tensor<4x3xf32>\n"
                                 "  %t = linalg.transpose ins(%c : tensor<3x4xf32>) outs(%te : tensor<4x3xf32>) permutation = [1, 0]\n"
                                 + _MM.format(r="m", a="%x", b="%t", sa="2x4", sb="4x3", o="2x3")
                                 + "\n  return %m : tensor<2x3xf32>")],  # constant: fold-constant-transpose's job
}


@pytest.mark.parametrize("rule,k", [(r, k) for r, gs in NON_MATCHING.items() for k in range(len(gs))])
def test_new_rule_preconditions_leave_graph_untouched(tmp_path, rule, k):
    p = tmp_path / "g.mlir"
    p.write_text(NON_MATCHING[rule][k])
    m = load_mlir(p)
    assert RULES[rule].match(GraphView(prepare(m))) == []
    res = apply_rules(m, [rule])
    assert res.applied == []
    assert structural_hash(res.model) == structural_hash(prepare(m))


def test_precondition_cases_differ_from_a_matching_case(tmp_path):
    # the conv pair above with equal geometry does merge: the negative cases fail only on the
    # precondition they name
    p = tmp_path / "g.mlir"
    p.write_text(_two_convs(1, 1))
    assert apply_rules(load_mlir(p), ["merge-parallel-convs"]).applied == ["merge-parallel-convs"]


@pytest.mark.slow  # heavy: out of the default run for CI time (run with -m slow)
def test_search_verifies_only_the_rules_that_match(fire):
    res = STRATEGIES["greedy"]().run(fire)
    verified = set(res.stats["rules_verified"])
    assert {"enlarge-conv-kernel", "concat-of-elementwise"} <= verified  # they match the fire module
    assert not verified & {"distribute-matmul", "matmul-reassociate", "merge-parallel-matmuls"}
    assert res.stats["verify_seconds"] >= 0 and "rules_disabled" not in res.stats


def test_batchnorm_fold_after_chain_fold_on_cnn(tmp_path):
    # fold-chained-scale-bias takes the batch-norm chain into one x*s + t generic; the batch-norm
    # fold still applies to that form, so a search may apply them in either order
    m = mlir_opt.load("cnn", size="tiny")
    res = apply_rules(m, ["fold-chained-scale-bias", "fold-batchnorm-into-conv"])
    assert res.applied.count("fold-chained-scale-bias") == 3 and res.applied.count("fold-batchnorm-into-conv") == 3
    _check_numerics(m, res.model, tmp_path)


def test_reassociation_with_an_operand_defined_between_the_products(tmp_path):
    # (x·y)·c where c is computed after x·y: A·(B·C) is cheaper (32*32*2 + 4*32*2 MACs instead of
    # 4*32*32 + 4*32*2) and must be built after c's definition
    sq = ("  %c_e = tensor.empty() : tensor<32x2xf32>\n"
          "  %c = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], "
          "iterator_types = [\"parallel\", \"parallel\"]} ins(%z : tensor<32x2xf32>) outs(%c_e : tensor<32x2xf32>) {\n"
          "  ^bb0(%p: f32, %o: f32):\n    %t = arith.mulf %p, %p : f32\n    linalg.yield %t : f32\n  } -> tensor<32x2xf32>")
    text = _g("%x: tensor<4x32xf32>, %y: tensor<32x32xf32>, %z: tensor<32x2xf32>", "tensor<4x2xf32>",
              _MM.format(r="m0", a="%x", b="%y", sa="4x32", sb="32x32", o="4x32") + "\n" + sq + "\n"
              + _MM.format(r="m1", a="%m0", b="%c", sa="4x32", sb="32x2", o="4x2") + "\n  return %m1 : tensor<4x2xf32>")
    p = tmp_path / "g.mlir"
    p.write_text(text)
    m = load_mlir(p)
    res = apply_rules(m, ["matmul-reassociate"])
    assert res.applied == ["matmul-reassociate"]
    _check_numerics(m, res.model, tmp_path)


NHWC = ["conv-nchw-to-nhwc", "transpose-of-pad", "transpose-through-elementwise", "transpose-transpose"]


def test_cnn_to_nhwc_with_transposes_cancelled(tmp_path):
    # every conv becomes NHWC; the transposes between them move through pads, ReLUs and the
    # residual add and cancel: 2 remain (the input, and before the NCHW mean)
    m = mlir_opt.load("cnn", size="tiny")
    res = apply_rules(m, ["fold-batchnorm-into-conv", *NHWC])
    v = GraphView(res.model)
    assert not v.find(CONV) and len(v.find("linalg.conv_2d_nhwc_hwcf")) == 3
    assert len([t for t in v.find("linalg.transpose") if not v.is_constant(t.results[0])]) == 2
    assert {"transpose-of-pad", "transpose-through-elementwise", "transpose-transpose"} <= set(res.applied)
    _check_numerics(m, res.model, tmp_path)


def test_layout_rules_are_opt_in():
    from mlir_opt.graph.search.common import setup

    rules, _, _ = setup(None, None, False, "llvm-cpu")
    assert not {r.name for r in rules} & set(NHWC[:3])
    assert {r.name for r in setup(NHWC, None, False, "llvm-cpu")[0]} == set(NHWC)


# -- conv-to-im2col and matmul-to-conv1x1 on torch graphs --------------------------------------

class ConvStack(nn.Module):
    """A 3x3 pad-1 conv (bias) + ReLU, then a 3x3 stride-2 dilation-2 conv (no bias), batch 2."""

    def __init__(self):
        super().__init__()
        self.a = nn.Conv2d(3, 4, 3, padding=1)
        self.b = nn.Conv2d(4, 5, 3, stride=2, dilation=2, bias=False)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


class Pointwise(nn.Module):
    """A linear layer over the channels of an NHWC tensor: a 1x1 conv in matmul form (torch-mlir
    puts the bias add between the matmul and the expand)."""

    def __init__(self, bias: bool = True):
        super().__init__()
        self.lin = nn.Linear(5, 6, bias=bias)

    def forward(self, x):
        n, h, w, c = x.shape
        return torch.relu(self.lin(x.reshape(n * h * w, c)).reshape(n, h, w, 6))


def test_conv_to_im2col_on_torch_convs(tmp_path):
    torch.manual_seed(4)
    m = _seeded(ConvStack, torch.randn(2, 3, 9, 9))
    assert _count(m, CONV) == 2
    assert "conv-to-im2col" not in apply_rules(m).applied  # opt-in
    res = apply_rules(m, ["conv-to-im2col"])
    assert res.applied == ["conv-to-im2col"] * 2
    v = GraphView(res.model)
    assert not v.find(CONV) and len(v.find("linalg.batch_matmul")) == 2  # batch 2 NCHW
    gathers = [g for g in v.find("linalg.generic") if len(shape_of(g.results[0])) == 6]
    assert [shape_of(g.results[0]) for g in gathers] == [(2, 3, 3, 3, 9, 9), (2, 4, 3, 3, 3, 3)]
    _check_numerics(m, res.model, tmp_path)


@pytest.mark.parametrize("bias", [True, False])
def test_matmul_to_conv1x1_on_torch_pointwise_linear(tmp_path, bias):
    torch.manual_seed(5)
    m = mlir_opt.load(Pointwise(bias).eval(), (torch.randn(2, 3, 4, 5),))
    assert _count(m, "linalg.matmul") == 1
    res = apply_rules(m, ["matmul-to-conv1x1"])
    assert res.applied == ["matmul-to-conv1x1"]
    v = GraphView(res.model)
    convs = v.find("linalg.conv_2d_nhwc_hwcf")
    assert len(convs) == 1 and not v.find("linalg.matmul")
    assert shape_of(convs[0].operands[1]) == (1, 1, 5, 6)
    # the bias add is gone (absorbed into the accumulator): only the accumulator and the ReLU remain
    assert len([g for g in v.find("linalg.generic") if not v.is_constant(g.results[0])]) == 1
    _check_numerics(m, res.model, tmp_path)


def test_conv1x1_round_trip_on_inception(inception):
    fwd = apply_rules(inception, ["conv1x1-to-matmul"]).model
    back = apply_rules(fwd, ["matmul-to-conv1x1"])
    assert back.applied == ["matmul-to-conv1x1"]
    assert _count(back.model, CONV) == 3 and _count(back.model, "linalg.matmul") == 0
    both = apply_rules(inception, ["conv1x1-to-matmul", "matmul-to-conv1x1"])
    assert both.stats.get("cycle") and len(both.applied) == 2  # stopped at the repeated graph
    assert structural_hash(both.model) == structural_hash(prepare(inception))
