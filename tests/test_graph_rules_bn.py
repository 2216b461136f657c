"""fold-batchnorm-into-conv's two forms of the folded shift (``fold.BIAS_FORM``): a broadcast
accumulator (``init``, the default) and a zero fill plus a per-channel add (``add``). IREE forms
the same dispatches from both; the roofline model costs them alike; both are exact."""

from __future__ import annotations

import re
import subprocess

import pytest

from helpers import check_iree, conv_bn_chain_mlir
from mlir_opt.graph import apply_rules, prepare
from mlir_opt.graph.rules import fold
from mlir_opt.graph.view import GraphView
from mlir_opt.importers.mlir import load_mlir


@pytest.fixture(scope="module")
def chain(tmp_path_factory):
    p = tmp_path_factory.mktemp("bn") / "chain.mlir"
    p.write_text(conv_bn_chain_mlir(2, c=8, hw=10))
    return load_mlir(p, name="chain")


def _fold(model, form: str, monkeypatch):
    monkeypatch.setattr(fold, "BIAS_FORM", form)
    r = apply_rules(model, ["fold-batchnorm-into-conv"])
    assert r.applied == ["fold-batchnorm-into-conv"] * 2
    return r.model


def _dispatch_sources(model, tmp_path, tag: str) -> list[str]:
    """IREE's dispatch sources for ``model``, constants and binding offsets blanked out."""
    from mlir_opt.backend.compile import iree_tool
    from mlir_opt.backend.targets import get_target

    src, dump = tmp_path / f"{tag}.mlirbc", tmp_path / f"{tag}_src"
    src.write_bytes(model.bytecode())
    subprocess.run([iree_tool("iree-compile"), str(src), *get_target("llvm-cpu").flags,
                    "--compile-to=executable-sources", f"--iree-hal-dump-executable-sources-to={dump}",
                    "-o", str(tmp_path / f"{tag}.host.mlir")], check=True, capture_output=True, timeout=300)
    norm = lambda t: re.sub(r"offset\(%c\d+\)", "offset(X)", re.sub(r"dense<[^>]*>", "DENSE", t))
    return [norm(f.read_text()) for f in sorted(dump.glob("*.mlir"))]


def test_add_form_structure_exact_and_not_refolded(chain, monkeypatch, tmp_path):
    m = _fold(chain, "add", monkeypatch)
    view = GraphView(m)
    convs = [op for op in view.ops if op.name == "linalg.conv_2d_nchw_fchw"]
    assert len(convs) == 2
    for conv in convs:
        assert view.producer(conv.operands[2]).name == "linalg.fill"  # zero accumulator
        (add,) = view.users(conv.results[0])
        assert add.name == "linalg.generic" and "arith.addf" in str(add) and "arith.mulf" not in str(add)
    assert fold.match_bn(view) == []  # the folded form does not match again (no fixpoint loop)
    assert check_iree(chain, m, tmp_path) < 1e-5


def test_both_forms_give_iree_the_same_dispatches_and_the_same_roofline(chain, monkeypatch, tmp_path):
    from mlir_opt.graph.cost import roofline_cost

    init, add = _fold(chain, "init", monkeypatch), _fold(chain, "add", monkeypatch)
    src_init, src_add = _dispatch_sources(init, tmp_path, "init"), _dispatch_sources(add, tmp_path, "add")
    assert src_init == src_add  # IREE turns the broadcast accumulator into fill + fused add
    assert len(src_init) == len(_dispatch_sources(prepare(chain), tmp_path, "original"))
    c_orig, c_init, c_add = roofline_cost(prepare(chain)), roofline_cost(init), roofline_cost(add)
    assert abs(c_init - c_add) <= 0.01 * c_init  # the model prefers neither form
    assert c_init < c_orig and c_add < c_orig  # and both over the unfolded graph (fewer epilogue ops)
