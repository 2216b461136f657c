"""Exact speed-ups of the eqsat search, round 4 (docs/graph-search-speed.md, "ResNeXt-50 eqsat
time"): the program build's fallback costs read the CSC arrays directly instead of ``getcol``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.sparse import coo_matrix

import mlir_opt
from mlir_opt.graph.search import EqSatSearch
from mlir_opt.graph.search import eqsat


def _fallback_by_getcol(eg, col, n_nodes, cost, integ, rows, cols, vals, lo, hi, pen_of) -> dict:
    """``_fallback_at_original`` as it was written before (one ``A.getcol`` per column): the reference."""
    nvar = len(cost)
    x = np.zeros(nvar)
    for k in eqsat._original_selection(eg):
        j = col.get(k)
        if j is not None:
            x[j] = 1.0
    A = coo_matrix((vals, (rows, cols)), shape=(len(lo), nvar)).tocsc()
    Ar = A.tocsr()
    hi_a, lo_a = np.asarray(hi, dtype=float), np.asarray(lo, dtype=float)
    integ_a = np.asarray(integ)
    base = Ar @ x
    for j in [j for j in range(n_nodes, nvar) if integ_a[j] == 1]:
        c = A.getcol(j)
        best = 1.0
        for r, a in zip(c.indices, c.data):
            if a > 0 and np.isfinite(hi_a[r]):
                best = min(best, math.floor((hi_a[r] - base[r]) / a + 1e-9))
        x[j] = max(0.0, best)
    act = Ar @ x
    out: dict = {}
    for p, k in pen_of:
        if p == col[k]:
            continue
        c = A.getcol(p)
        need = 0.0
        for r, a in zip(c.indices, c.data):
            if a > 0 and np.isfinite(lo_a[r]):
                need = max(need, (lo_a[r] - (act[r] - a * x[p])) / a)
        out[k] = out.get(k, 0.0) + cost[p] * min(1.0, need)
    return out


@pytest.mark.parametrize("name", ["cnn", "squeezenet"])
def test_fallback_costs_equal_the_getcol_reference(name, monkeypatch):
    """On the real 0-1 programs of two tiny zoo models (fusion penalties and hosting variables),
    the fallback costs are the reference's: the same keys in the same order, the same floats."""
    calls = []
    orig = eqsat._fallback_at_original

    def spy(*args):
        out = orig(*args)
        calls.append((out, _fallback_by_getcol(*args), args))
        return out

    monkeypatch.setattr(eqsat, "_fallback_at_original", spy)
    EqSatSearch().run(mlir_opt.load(name, size="tiny"))
    assert calls
    for got, want, args in calls:
        assert list(got.items()) == list(want.items())
        assert [type(v) for v in got.values()] == [type(v) for v in want.values()]
        n_nodes, integ = args[2], args[4]
        # the program has what the column reads are for: auxiliary 0-1 columns and penalties
        assert any(integ[j] == 1 for j in range(n_nodes, len(integ)))
        assert got and any(v != 0.0 for v in got.values())
