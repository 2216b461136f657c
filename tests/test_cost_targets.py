"""Per-target roofline presets and IREE-like dispatch formation in the graph cost (issue #4)."""

import pytest

import mlir_opt
from mlir_opt.errors import MlirOptError
from mlir_opt.graph import apply_rules, prepare
from mlir_opt.graph.cost import CostModel, Roofline, analyze
from mlir_opt.graph.rules import RULES
from mlir_opt.graph.view import GraphView
from mlir_opt.models.nasrnn import NasCell, build_nasrnn


def _nasrnn(size="tiny", **kw):
    mod, ex = build_nasrnn(size, **kw)
    return prepare(mlir_opt.load(mod, ex, name="nasrnn"))


def _x_only(m):
    """merge-parallel-matmuls on the groups that share an x_t (a slice of the input) only."""
    m = m.clone()
    while True:
        view = GraphView(m)
        rule = RULES["merge-parallel-matmuls"]
        xs = []
        for match in rule.match(view):
            src = view.producer(view.ops[match.ops[0]].operands[0])
            while src is not None and src.name in ("tensor.collapse_shape", "tensor.expand_shape"):
                src = view.producer(src.operands[0])
            if src is not None and src.name == "tensor.extract_slice":
                xs.append(match)
        if not xs:
            return m
        rule.apply(m.module, xs[0])


def test_roofline_presets_follow_the_target():
    assert Roofline() == Roofline.for_target("llvm-cpu") == Roofline.for_target("cpu")
    cuda, vk = Roofline.for_target("cuda"), Roofline.for_target("vulkan")
    assert (cuda.name, vk.name) == ("cuda", "vulkan")
    assert cuda.dispatch_us > Roofline().dispatch_us and cuda.bandwidth_gbs > 100 * Roofline().bandwidth_gbs
    assert cuda.matvec_stream_slowdown == 1.0 and Roofline().matvec_stream_slowdown > 1.0
    with pytest.raises(MlirOptError, match="unknown target"):
        Roofline.for_target("tpu")
    cm = CostModel(target="cuda")
    assert cm.roofline == cuda and "cuda" in cm.unit and cm.stats()["roofline"] == "cuda"
    assert CostModel().roofline.name == "llvm-cpu"


def test_presets_rank_the_nasrnn_forms_like_the_measurements():
    """hidden 256 (NasRNN small), 2 steps: on CUDA every group merged < x merged < original (H200:
    0.112 / 0.227 / 0.40 ms); on the CPU the original is cheapest (1 thread CPU time: every group
    merged 0.65x, the x-merged eqsat result 0.80-0.88x; benchmarks/results/nasrnn-forms-small-*)."""
    m = _nasrnn("small", steps=2)
    forms = {"orig": m, "x": _x_only(m), "all": apply_rules(m, ["merge-parallel-matmuls"]).model}
    n = {k: len(analyze(GraphView(f)).dispatches) for k, f in forms.items()}
    assert n == {"orig": 26, "x": 12, "all": 5}  # what IREE forms (test below on the tiny size)
    cuda = {k: analyze(GraphView(f), Roofline.for_target("cuda")).us for k, f in forms.items()}
    cpu = {k: analyze(GraphView(f), Roofline.for_target("llvm-cpu")).us for k, f in forms.items()}
    assert cuda["all"] < cuda["x"] < cuda["orig"]
    assert cpu["orig"] < cpu["x"] and cpu["orig"] < cpu["all"]


def test_dispatch_count_matches_iree_on_nasrnn(tmp_path):
    """analyze() forms the dispatches IREE 3.13 forms (real compiles): NasRNN tiny (2 steps) as
    written (the gate tree of 16 matmul results exceeds IREE's 16 operands: its own dispatch; step
    0's h matmuls are weight-only: hoisted), every group merged (the adds of two slices join the
    gate tree), and one cell with h an argument."""
    import torch

    from mlir_opt.ops.dispatches import list_dispatches

    torch.manual_seed(0)
    m = _nasrnn("tiny")
    cell = prepare(mlir_opt.load(NasCell(32), (torch.randn(1, 32), torch.randn(1, 32)), name="cell"))
    for g in (m, apply_rules(m, ["merge-parallel-matmuls"]).model, cell):
        iree = sum(d.count for d in list_dispatches(g, "llvm-cpu"))
        assert len(analyze(GraphView(g)).dispatches) == iree, g.name
    assert len(analyze(GraphView(cell)).dispatches) == 17  # 16 matmuls + the gate tree


@pytest.mark.parametrize("name", ["bert", "cnn", "squeezenet"])
def test_dispatch_count_matches_iree_on_the_zoo(name):
    """analyze() forms as many dispatches as IREE 3.13 (real compiles, tiny sizes): BERT 16 (the
    softmax raised to one op; LayerNorm's (x - mean)^2 fused into the variance sum; the attention
    output transpose fused into its matmul; the Q/K/V bias adds not fused across the head-splitting
    reshape), a ResNet-style CNN 7 (its last BN/residual/ReLU fused into the global pool; a pad of a
    single-use dispatch result stored in place) and SqueezeNet 40 (concats free, pads of multi-use
    values or of a concat copied). Checked by hand, not in this test (slower compiles): ResNet-50 21,
    ResNeXt-50 21, MobileNet-v2 26, VGG-19 25, NASNet-A 48, NasRNN 26 (test above); Inception-v3
    gives 57 against IREE's 56 (docs/models-and-cost.md)."""
    from mlir_opt.ops.dispatches import list_dispatches

    m = mlir_opt.load(name, size="tiny")
    iree = sum(d.count for d in list_dispatches(m, "llvm-cpu"))
    ours = analyze(GraphView(m)).dispatches
    assert len(ours) == iree == {"bert": 16, "cnn": 7, "squeezenet": 40}[name]
    if name == "bert":
        # IREE's CUDA backend forms the same dispatches (checked by hand on CNN, NasRNN, SqueezeNet too)
        assert sum(d.count for d in list_dispatches(m, "cuda")) == 16
        view = GraphView(m)

        def reductions(d):
            return [k for k in (d.root, *d.fused) if view.ops[k].name == "linalg.generic"
                    and "reduction" in str(view.ops[k].attributes["iterator_types"])]

        # the softmax: one dispatch holding both reductions; each LayerNorm: two dispatches of one
        assert sorted(len(reductions(d)) for d in ours if reductions(d)) == [1, 1, 1, 1, 2]


def test_multi_input_elementwise_fusion():
    """An elementwise op on an argument that feeds the consumer of a matmul joins its dispatch
    (tanh(x·W) * sigmoid(h): one dispatch in IREE), and the operand limit keeps a 16-input tree out."""
    import torch
    from torch import nn

    w = torch.randn(8, 8)

    class D(nn.Module):
        def forward(self, x, h):
            return torch.tanh(x @ w) * torch.sigmoid(h)

    d = prepare(mlir_opt.load(D(), (torch.randn(1, 8), torch.randn(1, 8)), name="d"))
    (only,) = analyze(GraphView(d)).dispatches
    assert only.name == "linalg.matmul" and len(only.fused) == 3


def test_eqsat_extraction_agrees_with_analyze_on_the_ranking():
    """The ILP charges every dispatch analyze() forms on its input graph at analyze()'s cost while the
    selection keeps it (anchored rows), so extracting a graph as it is gives analyze()'s cost exactly —
    the original NasRNN and the merged one alike, under both presets — and the ranking agrees."""
    from mlir_opt.graph.search.eqsat import EqSatSearch

    m = _nasrnn("tiny")
    merged = apply_rules(m, ["merge-parallel-matmuls"]).model
    for t in ("llvm-cpu", "cuda"):
        rf = Roofline.for_target(t)
        ilp = {k: EqSatSearch(rules=[], verify=False, roofline=rf).run(f).stats["ilp_objective_us"]
               for k, f in (("orig", m), ("merged", merged))}
        ana = {k: analyze(GraphView(f), rf).us for k, f in (("orig", m), ("merged", merged))}
        assert ilp["merged"] < ilp["orig"] and ana["merged"] < ana["orig"]
        for k in ilp:
            assert ilp[k] == pytest.approx(ana[k], abs=0.01), (t, ilp, ana)


def test_eqsat_objective_is_analyze_cost_of_the_extraction():
    """With the rules, the ILP's objective equals analyze()'s cost of the graph it extracts: on the
    cuda preset (launch-bound tiny graphs) to 0.01 µs on BERT (softmax raised, LayerNorm's producer
    fused into the variance sum, Q/K/V merged), the CNN (batch-norms folded, a pad stored in place),
    SqueezeNet (merged and enlarged convs, free channel concats, a pad of a relu stored in place) and
    MobileNet-v2 (folds, depthwise convs); on llvm-cpu to 0.15 µs (0.2 %) on BERT, the CNN and
    SqueezeNet (rewritten dispatches: a linear form of analyze()'s max(FLOPs, bytes)). The documented
    residual (docs/models-and-cost.md): NasRNN with merged matmuls, where the ILP counts the gate tree
    that no contraction hosts as fused, one launch per step below analyze()."""
    from mlir_opt.graph.search.eqsat import EqSatSearch

    for t, names, tol in (("cuda", ("bert", "cnn", "squeezenet", "mobilenet_v2"), 0.01),
                          ("llvm-cpu", ("bert", "cnn", "squeezenet"), 0.15)):
        rf = Roofline.for_target(t)
        for name in names:
            m = mlir_opt.load(name, size="tiny")
            st = EqSatSearch(roofline=rf).run(m, target=t).stats
            if name == "bert":  # the softmax and LayerNorm dispatches: the node costs alone miss them
                assert st["ilp_anchored_dispatches"] >= 3
            assert st["ilp_objective_us"] == pytest.approx(st["extracted_cost"], abs=tol), (t, name, st)
            if name == "squeezenet":  # rewritten regions (merged convs, concats) are costed exactly too
                assert st["extracted_cost"] < analyze(GraphView(m), rf).us
    rf = Roofline.for_target("cuda")
    res = EqSatSearch(roofline=rf).run(_nasrnn("tiny"), target="cuda")
    assert "merge-parallel-matmuls" in res.applied
    assert res.stats["ilp_objective_us"] == pytest.approx(res.stats["extracted_cost"] - 2 * rf.dispatch_us, abs=0.01)


@pytest.mark.slow
def test_nasrnn_search_per_target():
    """NasRNN small: for cuda, eqsat and greedy merge every matvec group (x and h side, 14
    dispatches); for llvm-cpu they keep the original (the merged matvecs stream cold weights)."""
    from mlir_opt.graph import optimize_graph

    m = mlir_opt.load("nasrnn", size="small")
    for s in ("eqsat", "greedy"):
        gpu = optimize_graph(m.clone(), s, target="cuda")
        assert gpu.applied == ["merge-parallel-matmuls"] * 9 and gpu.stats["roofline"] == "cuda"
        assert len(analyze(GraphView(gpu.model), Roofline.for_target("cuda")).dispatches) == 14
        cpu = optimize_graph(m.clone(), s, target="llvm-cpu")
        assert cpu.applied == [] and cpu.stats["roofline"] == "llvm-cpu"


def test_optimize_for_cuda_writes_a_bundle(tmp_path):
    """optimize --target cuda: the graph search with the cuda roofline, then a bundle of the original
    and the rewritten graph compiled for CUDA (run on a GPU host); the op level is refused."""
    import json

    from mlir_opt.pipeline import optimize

    with pytest.raises(MlirOptError, match="tune-remote"):
        optimize("nasrnn", tmp_path / "x", size="tiny", target="cuda", op_search="random", quiet=True)
    res = optimize("nasrnn", tmp_path / "n", size="tiny", target="cuda", graph_search="greedy", quiet=True)
    rep = json.loads((tmp_path / "n" / "report.json").read_text())
    assert rep["roofline"] == "cuda" and rep["graph"]["stats"]["roofline"] == "cuda"
    assert rep["graph"]["applied"] and set(rep["graph"]["applied"]) == {"merge-parallel-matmuls"}
    man = json.loads((tmp_path / "n" / "bundle" / "manifest.json").read_text())
    assert [e["id"] for e in man["entries"]] == ["original", "optimized"] and man["target"] == "cuda"
    assert all((tmp_path / "n" / "bundle" / e["module"]).stat().st_size > 0 for e in man["entries"])
    assert res.report["bundle_mib"] < 40
