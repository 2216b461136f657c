"""Learned cost models that rank candidate schedules before they are measured.

A cost model maps (workload, decisions) features to predicted log-latency. It is trained online
from the measurements of the current search plus, as a warm start, every ``ok`` record in the
tuning database for the same target and sketch — so what was learned on one operator carries over
to similar ones (the features include the workload's extents). Interface as in MetaSchedule:
``update / predict / save / load``.

* :class:`GBTCostModel` — gradient-boosted trees (scikit-learn), the default.
* :class:`RandomModel`  — random scores; the control in tests and benchmarks.
"""

from __future__ import annotations

import math
import pickle
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from .dispatches import Workload

__all__ = ["CostModel", "GBTCostModel", "RandomModel", "featurize"]

_DIMS = ("B", "M", "N", "K")
_KNOBS = ("dist_m", "dist_n", "vec_m", "vec_n", "vec_k")
_N_EXTRA = 8  # feature slots for knobs beyond the double-tiling ones


def _as_gemm(w: Workload, d: dict) -> tuple[Workload, dict]:
    """Convolutions are featurized as their GEMM view (M = N·OH·OW, N = OC, K = KH·KW·IC), and
    conv_tiling knobs as the matching GEMM tiles, so one model serves both kinds."""
    from .dispatches import ConvWorkload

    if not isinstance(w, ConvWorkload):
        return w, d
    e = w.extents
    if "dist_m" in d and e["N"] == 1:  # img2col_tiling: the tiles are those of the img2col matmul
        return w.gemm_view(), d
    m, n, k = e["N"] * e["OH"] * e["OW"], e["OC"], e["KH"] * e["KW"] * e["IC"]
    g = Workload.from_types("linalg.matmul", f"tensor<{m}x{k}xf32>", f"tensor<{k}x{n}xf32>", f"tensor<{m}x{n}xf32>")
    if "dist_oh" in d:
        d = {"dist_m": d["dist_oh"] * d["dist_ow"], "dist_n": d["dist_oc"], "vec_m": d["vec_ow"],
             "vec_n": d["vec_oc"], "vec_k": d["vec_ic"]}
    return g, d


def _extra(d: dict) -> list[float]:
    """Features of knobs other than the CPU double-tiling ones (GPU sketches): log2 of numbers,
    a stable small code for names; sorted by knob name so one sketch always gives one layout.
    Padded/truncated to :data:`_N_EXTRA` slots, so mixed histories (e.g. img2col_tiling next to
    conv_tiling records) still stack into one matrix."""
    out = []
    for k in sorted(set(d) - set(_KNOBS)):
        v = d[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            out.append(float(sum(map(ord, str(v))) % 97))
        else:
            out.append(math.log2(max(v, 1)))
    return (out + [0.0] * _N_EXTRA)[:_N_EXTRA]


def featurize(w: Workload, d: dict) -> np.ndarray:
    """Numeric features of a schedule on a workload (log2 scale where it helps).

    The double-tiling knobs get derived features (workgroups, register tile, bytes touched); the
    knobs of other sketches (GPU) are appended as they are (see :func:`_extra`).
    """
    w, d = _as_gemm(w, d)
    e = {k: w.extents.get(k, 1) for k in _DIMS}
    lg = lambda x: math.log2(max(x, 1))  # noqa: E731
    dm, dn, vm, vn, vk = (d.get(k, 1) for k in _KNOBS)
    wg = e["B"] * math.ceil(e["M"] / dm) * math.ceil(e["N"] / dn)
    return np.array([
        *(lg(e[k]) for k in _DIMS),
        *(lg(d.get(k, 1)) for k in _KNOBS),
        lg(wg),                                   # workgroups (parallelism)
        lg(vm * vn),                              # register tile size
        lg(vm * vn * vk),                         # unrolled FMAs per step
        lg(dm * e["K"] + e["K"] * dn),            # bytes touched per workgroup (~ L2 pressure)
        (e["M"] % dm == 0) + (e["N"] % dn == 0),  # full tiles
        lg(w.flops),
        *_extra(d),
    ], dtype=np.float64)


class CostModel(Protocol):
    """Predicts log-latency of schedules; lower is better."""

    def update(self, workloads: Sequence[Workload], decisions: Sequence[dict], times_ms: Sequence[float]) -> None: ...

    def predict(self, workloads: Sequence[Workload], decisions: Sequence[dict]) -> np.ndarray: ...


class GBTCostModel:
    """Gradient-boosted regression trees on :func:`featurize` features (needs >= 4 samples)."""

    def __init__(self, n_estimators: int = 120, max_depth: int = 3, seed: int = 0):
        self.params = dict(n_estimators=n_estimators, max_depth=max_depth, learning_rate=0.1,
                           subsample=0.9, random_state=seed)
        self.X: list[np.ndarray] = []
        self.y: list[float] = []
        self._model = None
        self._dirty = False

    @property
    def trained(self) -> bool:
        return len(self.y) >= 4

    def update(self, workloads, decisions, times_ms) -> None:
        for w, d, t in zip(workloads, decisions, times_ms):
            if t is not None and t > 0:
                self.X.append(featurize(w, d))
                self.y.append(math.log(t))
                self._dirty = True

    def _fit(self) -> None:
        from sklearn.ensemble import GradientBoostingRegressor

        self._model = GradientBoostingRegressor(**self.params).fit(np.stack(self.X), np.array(self.y))
        self._dirty = False

    def predict(self, workloads, decisions) -> np.ndarray:
        if not self.trained:
            return np.zeros(len(decisions))
        if self._dirty or self._model is None:
            self._fit()
        return self._model.predict(np.stack([featurize(w, d) for w, d in zip(workloads, decisions)]))

    def save(self, path: str | Path) -> None:
        Path(path).write_bytes(pickle.dumps((self.params, self.X, self.y)))

    def load(self, path: str | Path) -> None:
        self.params, self.X, self.y = pickle.loads(Path(path).read_bytes())
        self._dirty = True


class RandomModel:
    """Random predictions (a control: ranking by it is random search)."""

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)

    def update(self, workloads, decisions, times_ms) -> None:
        pass

    def predict(self, workloads, decisions) -> np.ndarray:
        return self.rng.random(len(decisions))
