"""Exact speed-ups of the eqsat extraction (docs/graph-search-speed.md, "eqsat below TENSAT's
times"): the needs' fixpoint by a worklist, list nodes fixed to 0 because they close a cycle
whenever their class is used, child rows without the nodes that close a cycle with their reader,
and the parts of the 0-1 program cut from the sparse arrays directly. Each is checked against its
definition or against one HiGHS solve of the whole program."""

from __future__ import annotations

import numpy as np
import pytest

import mlir_opt
from mlir_opt.graph.search import EqSatSearch
from mlir_opt.graph.search import eqsat
from mlir_opt.graph.search.eqsat import _LISTS, _needs, _solve_components


def _reach(eg) -> set:
    return eqsat._reachable_classes(eg)


def _needs_by_passes(eg, reach, impossible) -> dict:
    """The greatest fixpoint of need(c) = {c} | ∩ over c's possible nodes of ∪ need(child), by whole
    passes over every class from "every class" down (the definition, no components, no worklist)."""
    order = [c for c in eg.canon_classes if c in reach]
    bit = {c: 1 << i for i, c in enumerate(order)}
    full = (1 << len(order)) - 1
    need = dict.fromkeys(order, full)
    changed = True
    while changed:
        changed = False
        for c in order:
            common = full
            for k in eg.classes[c]:
                if k in impossible:
                    continue
                u = 0
                for d in eg.ukids[k]:
                    u |= need[d]
                common &= u
            new = bit[c] | common
            if new != need[c]:
                need[c], changed = new, True
    return need


@pytest.fixture(scope="module")
def squeezenet_egraph():
    """SqueezeNet (tiny): its fire modules' concats give the e-graph cycles (concat of slices of a
    merged conv) and list nodes ``Cat(CCons(v, nil))`` in ``v``'s own class."""
    seen = []
    orig = eqsat.extract_ilp

    def spy(eg, costs, **kw):
        seen.append(eg)
        return orig(eg, costs, **kw)

    eqsat.extract_ilp = spy
    try:
        EqSatSearch().run(mlir_opt.load("squeezenet", size="tiny"))
    finally:
        eqsat.extract_ilp = orig
    return seen[0]


def test_needs_equal_their_definition_and_useless_lists_close_cycles(squeezenet_egraph):
    eg = squeezenet_egraph
    reach = _reach(eg)
    required, impossible, need, bit, on_cycle = _needs(eg, reach)
    assert on_cycle and need == _needs_by_passes(eg, reach, impossible)
    # the nodes impossible by the first rule (a child needs the node's own class) ...
    closing = {k for c in reach for k in eg.classes[c] if k not in impossible or
               any(d not in reach or d == c or need[d] & bit[c] for d in eg.ukids[k])}
    # ... and the list nodes fixed to 0: whenever their class is used, they close a cycle
    useless = {k for c in reach for k in eg.classes[c] if k in impossible} - closing
    assert useless and all(eg.nodes[k].op in _LISTS for k in useless)
    for k in useless:
        d = eg.nodes[k].cls
        readers = {c for c in reach for q in eg.classes[c] if q not in impossible and d in eg.ukids[q]}
        assert d not in eg.roots and readers
        assert all(any(need[e] & bit[c] for e in eg.ukids[k]) for c in readers)


def test_squeezenet_tiny_decomposed_equals_the_whole_program():
    """The tightened decomposed program (list nodes fixed, child rows without cycle-closing nodes)
    has the whole 0-1 program's optimum, rewrites and graph."""
    m = mlir_opt.load("squeezenet", size="tiny")
    whole = EqSatSearch(ilp_decompose=False).run(m.clone())
    parts = EqSatSearch().run(m.clone())
    assert parts.stats["ilp_objective_us"] == pytest.approx(whole.stats["ilp_objective_us"], rel=1e-4)
    assert sorted(parts.applied) == sorted(whole.applied)
    assert parts.model.text() == whole.model.text()


def test_solve_components_on_a_shuffled_block_program():
    """Random covering programs in blocks (two equal big ones, a big one of its own, small ones, a
    decided one), rows and columns shuffled, explicit zeros kept: the part-by-part solve (submatrices
    cut from the sparse arrays, the equal big part reused, the unique one solved without ordering,
    the small ones in one call) has the optimum of one HiGHS solve of the whole program."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import block_diag, csr_matrix

    rng = np.random.default_rng(7)

    def block(n, seed):
        r = np.random.default_rng(seed)
        m = n // 2
        a = (r.random((m, n)) < 0.15).astype(float)
        a[np.arange(m), r.integers(0, n, m)] = 1.0
        a[np.arange(m), (np.arange(m) * 7) % n] = 1.0  # rows tie the part together
        for i in range(m - 1):
            a[i, i % n] = a[i, (i + 1) % n] = 1.0
        return a, r.integers(1, 9, n).astype(float)

    blocks = [block(120, 1), block(120, 1), block(130, 2), block(12, 3), block(9, 4)]
    mats = [csr_matrix(a) for a, _ in blocks] + [csr_matrix(np.array([[1.0]]))]
    mats[2].data[rng.random(mats[2].nnz) < 0.05] = 0.0  # explicit zeros (kept in the sparse arrays)
    cost = np.concatenate([c for _, c in blocks] + [np.array([2.0])])
    A = block_diag(mats).tocsr()
    lo = np.ones(A.shape[0])
    hi = np.full(A.shape[0], np.inf)
    rp, cp = rng.permutation(A.shape[0]), rng.permutation(A.shape[1])
    A, lo, hi, cost = A[rp][:, cp].tocsr(), lo[rp], hi[rp], cost[cp]
    n = A.shape[1]
    lb, ub, integ = np.zeros(n), np.ones(n), np.ones(n)
    # rows left empty by the zeros cannot be covered: keep only coverable ones
    ok = np.asarray(abs(A).sum(axis=1)).ravel() > 0
    A, lo, hi = A[ok], lo[ok], hi[ok]
    ref = milp(cost, constraints=LinearConstraint(A, lo, hi), integrality=integ, bounds=Bounds(lb, ub),
               options={"mip_rel_gap": 0.0})
    x, obj, info = _solve_components(cost, A, lo, hi, lb, ub, integ, 30.0)
    assert obj == pytest.approx(ref.fun, rel=1e-9)
    assert np.all(A @ x >= lo - 1e-9)
    assert info["ilp_components_reused"] == 1 and info["ilp_components_batched"] >= 1
    assert info["ilp_component_milps"] == 3  # the equal pair once, the other big part, the small ones
