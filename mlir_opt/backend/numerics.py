"""Numerical checks shared by the pipeline, the rewrite-rule verifier and the schedule search."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

__all__ = ["rel_error", "Check", "compare_outputs", "default_tolerance"]


def rel_error(out: np.ndarray, ref: np.ndarray) -> float:
    """``‖out − ref‖₂ / ‖ref‖₂`` in float64 (absolute error when ``ref`` is all zeros)."""
    o = np.asarray(out, dtype=np.float64).ravel()
    r = np.asarray(ref, dtype=np.float64).ravel()
    if o.shape != r.shape:
        return float("inf")
    if not np.all(np.isfinite(o)) and not np.array_equal(np.isfinite(o), np.isfinite(r)):
        return float("inf")
    num = float(np.linalg.norm(np.nan_to_num(o - r)))
    den = float(np.linalg.norm(np.nan_to_num(r)))
    return num / den if den > 0 else num


def default_tolerance(dtypes: Sequence[str]) -> float:
    """Relative-error tolerance: 1e-4 for fp32/fp64/int outputs, 1e-2 when any output is fp16."""
    return 1e-2 if any(np.dtype(d) == np.float16 for d in dtypes) else 1e-4


@dataclass
class Check:
    """Per-output relative errors against a reference, and whether all are within ``tol``."""

    errors: list[float]
    tol: float
    problems: list[str]

    @property
    def max_error(self) -> float:
        return max(self.errors) if self.errors else 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.max_error <= self.tol

    def describe(self) -> str:
        if self.problems:
            return "; ".join(self.problems)
        worst = int(np.argmax(self.errors)) if self.errors else 0
        return f"output {worst}: relative error {self.max_error:.3g} (tolerance {self.tol:.1g})"


def compare_outputs(outs: Sequence[np.ndarray], refs: Sequence[np.ndarray], tol: float) -> Check:
    """Compare outputs to references (count, shapes, then relative error per output)."""
    problems = []
    if len(outs) != len(refs):
        problems.append(f"{len(outs)} outputs but the reference has {len(refs)}")
    errors = []
    for i, (o, r) in enumerate(zip(outs, refs)):
        o, r = np.asarray(o), np.asarray(r)
        if o.shape != r.shape:
            problems.append(f"output {i} has shape {o.shape}, reference {r.shape}")
            errors.append(float("inf"))
            continue
        errors.append(rel_error(o, r))
    return Check(errors, tol, problems)
