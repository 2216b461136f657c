"""Graph level: view/hash, rule preconditions, rule verification, cost model, greedy search.

Everything runs on real IREE compiles with small shapes; nothing is mocked.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import mlir_opt
from mlir_opt.backend import Runner, compare_outputs, compile_module
from mlir_opt.errors import MlirOptError
from mlir_opt.graph import GraphResult, STRATEGIES, apply_rules, prepare
from mlir_opt.graph.cost import CostModel, analyze
from mlir_opt.graph.rules import RULES, get_rules
from mlir_opt.graph.verify import verify_rules
from mlir_opt.graph.view import GraphView, structural_hash
from mlir_opt.importers.mlir import load_mlir

ID2 = "affine_map<(d0, d1) -> (d0, d1)>"


def _load_text(tmp_path, text, name="g"):
    p = tmp_path / f"{name}.mlir"
    p.write_text(text)
    return load_mlir(p)


# -- view and structural hash -----------------------------------------------------------------

TWO_OPS = """func.func @main(%x: tensor<4xf32>, %y: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {{
  %c = arith.constant dense<[1.0, 2.0, 3.0, {c}]> : tensor<4xf32>
  %e = tensor.empty() : tensor<4xf32>
  {first}
  {second}
  return %a, %b : tensor<4xf32>, tensor<4xf32>
}}
"""
ADD = ("%{r} = linalg.generic {{indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, "
       "affine_map<(d0) -> (d0)>], iterator_types = [\"parallel\"]}} ins(%{i}, %c : tensor<4xf32>, tensor<4xf32>) "
       "outs(%e : tensor<4xf32>) {{\n  ^bb0(%{n}: f32, %q: f32, %o: f32):\n    %s = arith.{op} %{n}, %q : f32\n"
       "    linalg.yield %s : f32\n  }} -> tensor<4xf32>")


def _two(tmp_path, *, c="4.0", swap=False, op2="subf", name="h"):
    a = ADD.format(r="a", i="x", n="in", op="addf")
    b = ADD.format(r="b", i="y", n="zz", op=op2)
    first, second = (b, a) if swap else (a, b)
    return _load_text(tmp_path, TWO_OPS.format(c=c, first=first, second=second), name)


def test_structural_hash_ignores_names_and_order_but_not_content(tmp_path):
    h = structural_hash(_two(tmp_path))
    assert structural_hash(_two(tmp_path, swap=True, name="h2")) == h  # other order, other SSA names
    assert structural_hash(_two(tmp_path, c="5.0", name="h3")) != h    # constant contents differ
    assert structural_hash(_two(tmp_path, op2="mulf", name="h4")) != h  # body op differs


def test_view_users_and_constants():
    m = prepare(mlir_opt.load("bert", size="tiny"))
    v = GraphView(m)
    mms = v.find("linalg.batch_matmul")
    assert len(mms) == 8  # 6 linears (Q, K, V, out, 2 x FFN) and 2 attention products
    # the Q/K/V projections read the function argument and a weight-only subgraph
    qkv = [op for op in mms if op.operands[0] == v.block.arguments[0]]
    assert len(qkv) == 3
    assert all(v.const_value(op.operands[1]).shape == (1, 64, 64) for op in qkv)
    assert v.const_value(v.block.arguments[0]) is None
    assert structural_hash(m.clone()) == v.structural_hash()


# -- preconditions: a graph a rule must not touch is left exactly as it was --------------------

MM = """  %e{j} = tensor.empty() : tensor<2x3xf32>
  %f{j} = linalg.fill ins(%zero : f32) outs(%e{j} : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m{j} = linalg.matmul ins({lhs}, {rhs} : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f{j} : tensor<2x3xf32>) -> tensor<2x3xf32>"""


def _mm_graph(lhs0, rhs0, lhs1, rhs1):
    return ("func.func @main(%x: tensor<2x4xf32>, %y: tensor<2x4xf32>, %w: tensor<4x3xf32>) -> "
            "(tensor<2x3xf32>, tensor<2x3xf32>) {\n  %zero = arith.constant 0.0 : f32\n"
            "  %c = arith.constant dense<0.5> : tensor<4x3xf32>\n"
            + MM.format(j=0, lhs=lhs0, rhs=rhs0) + "\n" + MM.format(j=1, lhs=lhs1, rhs=rhs1)
            + "\n  return %m0, %m1 : tensor<2x3xf32>, tensor<2x3xf32>\n}\n")


NON_MATCHING = {
    "merge-parallel-matmuls": [_mm_graph("%x", "%c", "%y", "%c"),   # different LHS
                               _mm_graph("%x", "%w", "%x", "%c")],  # RHS not constant
    "transpose-transpose": ["""func.func @main(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  return %t : tensor<3x2xf32>
}
"""],
    "fold-constant-transpose": ["""func.func @main(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  %e = tensor.empty() : tensor<3x2xf32>
  %t = linalg.transpose ins(%x : tensor<2x3xf32>) outs(%e : tensor<3x2xf32>) permutation = [1, 0]
  return %t : tensor<3x2xf32>
}
"""],
}


def _conv_then(body_op: str, const: str, const_map: str, extra_use: bool = False) -> str:
    ret_t = "tensor<1x2x2x2xf32>"
    rets = "%y, %c" if extra_use else "%y"
    rtypes = f"{ret_t}, {ret_t}" if extra_use else ret_t
    return f"""func.func @main(%x: tensor<1x1x3x3xf32>) -> ({rtypes}) {{
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.5> : tensor<2x1x2x2xf32>
  %k = arith.constant {const}
  %e = tensor.empty() : {ret_t}
  %i = linalg.fill ins(%zero : f32) outs(%e : {ret_t}) -> {ret_t}
  %c = linalg.conv_2d_nchw_fchw {{dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}} ins(%x, %w : tensor<1x1x3x3xf32>, tensor<2x1x2x2xf32>) outs(%i : {ret_t}) -> {ret_t}
  %y = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, {const_map}, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}} ins(%c, %k : {ret_t}, {const.split(' : ')[1]}) outs(%e : {ret_t}) {{
  ^bb0(%in: f32, %p: f32, %o: f32):
    %s = {body_op}
    linalg.yield %s : f32
  }} -> {ret_t}
  return {rets} : {rtypes}
}}
"""


PER_CHANNEL = "dense<[2.0, 3.0]> : tensor<2xf32>"
PC_MAP = "affine_map<(d0, d1, d2, d3) -> (d1)>"
NON_MATCHING["fold-batchnorm-into-conv"] = [
    # the constant varies along W, not per channel
    _conv_then("arith.mulf %in, %p : f32", "dense<[1.0, 2.0]> : tensor<2xf32>",
               "affine_map<(d0, d1, d2, d3) -> (d3)>"),
    # c / x is not affine in x
    _conv_then("arith.divf %p, %in : f32", PER_CHANNEL, PC_MAP),
    # the conv result is also returned: folding would change it
    _conv_then("arith.mulf %in, %p : f32", PER_CHANNEL, PC_MAP, extra_use=True),
    # not an affine op
    _conv_then("arith.maximumf %in, %p : f32", PER_CHANNEL, PC_MAP),
]


@pytest.mark.parametrize("rule,k", [(r, k) for r, gs in NON_MATCHING.items() for k in range(len(gs))])
def test_precondition_leaves_graph_untouched(tmp_path, rule, k):
    m = _load_text(tmp_path, NON_MATCHING[rule][k])
    assert RULES[rule].match(GraphView(prepare(m))) == []
    res = apply_rules(m, [rule])
    assert res.applied == []
    assert structural_hash(res.model) == structural_hash(prepare(m))


def test_matching_variant_of_a_precondition_case_applies(tmp_path):
    # The same conv graph with a per-channel x * c does fold: the negative cases above fail only
    # on the precondition they name.
    m = _load_text(tmp_path, _conv_then("arith.mulf %in, %p : f32", PER_CHANNEL, PC_MAP))
    assert apply_rules(m, ["fold-batchnorm-into-conv"]).applied == ["fold-batchnorm-into-conv"]


def test_unknown_rule_is_a_one_line_error():
    with pytest.raises(MlirOptError, match="unknown rule 'nope'"):
        get_rules(["nope"])


# -- numerical verification -------------------------------------------------------------------

# Verifying every rule compiles 2 modules per example (~90 compiles for 15 rules): the full run is
# slow; the default run verifies one rule per family (tests/test_graph_rules.py checks every rule
# on real torch graphs with IREE).
FAST_VERIFY = ["merge-parallel-matmuls", "fold-batchnorm-into-conv", "concat-of-slices", "distribute-matmul"]


def _check_reports(reports, names):
    assert [r.rule for r in reports] == list(names)
    for r in reports:
        assert r.ok, f"{r.rule}: {r.reason}"
        assert len(r.shapes) >= 2
        assert r.max_rel_error < 1e-4


def test_one_rule_per_family_verifies_numerically():
    _check_reports(verify_rules(FAST_VERIFY, use_cache=False), FAST_VERIFY)


@pytest.mark.slow
def test_every_rule_verifies_numerically():
    _check_reports(verify_rules(use_cache=False), RULES)


def _run(model, tmp_path, tag):
    out = compile_module(model.bytecode(), "llvm-cpu", output=tmp_path / f"{tag}.vmfb")
    return Runner(out.vmfb, model.entry)


@pytest.mark.parametrize("name", ["bert", "cnn"])
def test_rules_preserve_bundled_models(tmp_path, name):
    m = mlir_opt.load(name, size="tiny")
    res = apply_rules(m)
    expected = {"bert": "merge-parallel-matmuls", "cnn": "fold-batchnorm-into-conv"}[name]
    assert expected in res.applied
    orig, new = _run(m, tmp_path, "orig"), _run(res.model, tmp_path, "new")
    for seed in (0, 1):
        x = m.random_inputs(seed)
        check = compare_outputs(new(x), orig(x), 1e-4)
        assert check.ok, check.describe()
        assert compare_outputs(new(x), m.reference(x), 1e-4).ok


# -- cost model and greedy search ---------------------------------------------------------------

def test_roofline_cost_rewards_the_merge_and_caches():
    m = prepare(mlir_opt.load("bert", size="tiny"))
    merged = apply_rules(m, ["merge-parallel-matmuls"]).model
    before, after = analyze(GraphView(m)), analyze(GraphView(merged))
    assert len(after.dispatches) < len(before.dispatches)
    assert after.us < before.us
    assert after.flops == pytest.approx(before.flops)
    cm = CostModel()
    assert cm(m) == pytest.approx(before.us)
    cm(m.clone())
    assert cm.hits == 1


@pytest.mark.slow  # heavy: out of the default run for CI time (run with -m slow)
def test_greedy_search_on_cnn():
    res = STRATEGIES["greedy"]().run(mlir_opt.load("cnn", size="tiny"))
    assert isinstance(res, GraphResult)
    assert res.applied.count("fold-batchnorm-into-conv") == 3
    assert res.cost_after < res.cost_before
    assert res.stats["graphs_explored"] > 1 and res.stats["seconds"] >= 0
    assert "fold-batchnorm-into-conv" in res.stats["rules"]


@pytest.mark.parametrize("name,rule", [("bert", "merge-parallel-matmuls"), ("cnn", "fold-batchnorm-into-conv")])
def test_optimize_with_greedy(name, rule):
    r = mlir_opt.optimize(name, size="tiny", graph_search="greedy", reps=2, rounds=1, quiet=True)
    assert rule in r.report["graph"]["applied"]
    assert r.report["max_rel_error"] < 1e-4
    assert r.report["graph"]["cost_after"] < r.report["graph"]["cost_before"]


# -- CLI ----------------------------------------------------------------------------------------

def _cli(*args):
    return subprocess.run([sys.executable, "-m", "mlir_opt", *args], capture_output=True, text=True)


def test_cli_rules_and_rewrite():
    p = _cli("rules")
    assert p.returncode == 0, p.stderr
    for name in RULES:
        assert name in p.stdout
    p = _cli("rules", "--verify", *(a for n in FAST_VERIFY for a in ("--rule", n)))
    assert p.returncode == 0, p.stderr
    for name in FAST_VERIFY:
        assert name in p.stdout
    assert "DISABLED" not in p.stdout
    p = _cli("rewrite", "--list")
    assert p.returncode == 0 and "fold-batchnorm-into-conv" in p.stdout
    p = _cli("rewrite", "cnn", "--rule", "nope")
    assert p.returncode == 2 and p.stderr.strip().startswith("error: unknown rule 'nope'")
