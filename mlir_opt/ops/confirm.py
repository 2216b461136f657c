"""Confirmation: re-time a workload's best schedule against IREE's default before it is kept.

The best of many noisy trials is biased low (min over trials picks lucky measurements), and on a
busy machine a schedule can win the search by noise. Before a best enters a tuning spec or a
transform library, it is rebuilt next to IREE's default and both are timed again in this process,
on one runtime device (the same worker threads), in alternating rounds
(:func:`~mlir_opt.backend.benchmark_interleaved`). It is kept only if the median of the per-round
ratios best/default is below ``margin`` *and* its median time is below ``margin`` × the default's;
otherwise the workload keeps IREE's default and the result says "not confirmed" with both figures.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..backend import benchmark_interleaved, default_threads, paired_ratio
from .dispatches import Workload
from .schedule import Schedule

__all__ = ["Confirmation", "confirm_schedule", "decide", "workload_inputs", "CONFIRM_ROUNDS"]

log = logging.getLogger("mlir_opt.ops")

#: Alternating rounds of the confirmation timing (each round times best and default once).
CONFIRM_ROUNDS = 7


@dataclass
class Confirmation:
    """Outcome of re-timing a best schedule against IREE's default (interleaved, paired).

    ``default_ms`` / ``best_ms`` are medians over the rounds, ``ratio`` the median per-round
    best/default ratio; ``confirmed`` is ``ratio < margin and best_ms < margin * default_ms``.
    ``error`` is set (and ``confirmed`` False) when the best could not be rebuilt or run.
    """

    default_ms: float | None
    best_ms: float | None
    ratio: float | None
    rounds: int
    margin: float
    confirmed: bool
    error: str | None = None

    def describe(self) -> str:
        if self.error:
            return f"not confirmed ({self.error})"
        word = "confirmed" if self.confirmed else "not confirmed"
        return (f"{word}: default {self.default_ms:.3f} ms, best {self.best_ms:.3f} ms, "
                f"paired ratio {self.ratio:.3f} (needs < {self.margin:g}, {self.rounds} rounds)")

    def to_dict(self) -> dict:
        return asdict(self)


def decide(best_samples: list[float], default_samples: list[float], margin: float) -> Confirmation:
    """The confirmation verdict from paired per-round samples (ms) of best and default."""
    from ..backend import Timing

    b, d = Timing(list(best_samples)), Timing(list(default_samples))
    ratio = paired_ratio(b, d)
    ok = ratio < margin and b.median_ms < margin * d.median_ms
    return Confirmation(d.median_ms, b.median_ms, ratio, len(b.samples_ms), margin, ok)


def workload_inputs(w: Workload, seed: int = 0) -> list[np.ndarray]:
    """Random (standard normal, never zeros) inputs for ``w``'s single-op module."""
    rng = np.random.default_rng(seed)
    shapes = [tuple(int(x) for x in t[len("tensor<"):-1].split("x")[:-1]) for t in w.operand_types[:2]]
    dt = np.dtype("float32" if w.types[0] == "f32" else w.types[0])
    return [rng.standard_normal(s).astype(dt) for s in shapes]


def confirm_schedule(best: Schedule, *, margin: float, target="llvm-cpu", rounds: int = CONFIRM_ROUNDS,
                     threads: int | None = None, min_time_s: float = 0.05, seed: int = 0,
                     compile_timeout: float = 300, baseline: Schedule | None = None,
                     cpu_time: bool = False) -> Confirmation:
    """Rebuild ``best`` and IREE's default for its workload and time them interleaved.

    Args:
        best: the schedule the search found best (already checked against the reference).
        margin: ratio best/default it must stay below (e.g. :data:`~mlir_opt.ops.tuner.MIN_GAIN`).
        rounds: alternating timing rounds; min_time_s: length of one sample.
        baseline: the schedule to beat instead of IREE's default (reported as ``default_ms``).
        cpu_time: time by process CPU time per call (see :func:`~mlir_opt.backend.benchmark_interleaved`).
    Returns:
        a :class:`Confirmation` (``confirmed`` False on any build or run failure, with ``error``).
    """
    from .evaluate import build_schedule

    w = best.workload
    default = baseline if baseline is not None else Schedule(w, "default", {}, best.target)
    with tempfile.TemporaryDirectory(prefix="mlir_opt_confirm_") as tmp:
        builds = {name: build_schedule(s, Path(tmp) / name, target, timeout=compile_timeout)
                  for name, s in (("default", default), ("best", best))}
        bad = [f"{k}: {b.error}" for k, b in builds.items() if not b.ok]
        if bad:
            c = Confirmation(None, None, None, 0, margin, False, error=f"rebuild failed ({bad[0][:200]})")
        else:
            try:
                t = benchmark_interleaved({k: b.vmfb for k, b in builds.items()}, workload_inputs(w, seed),
                                          target=target, rounds=rounds, min_time_s=min_time_s,
                                          threads=threads or default_threads(), cpu_time=cpu_time)
                c = decide(t["best"].samples_ms, t["default"].samples_ms, margin)
            except Exception as e:  # a run failure is a verdict, not a crash
                c = Confirmation(None, None, None, 0, margin, False, error=f"timing failed ({str(e)[:200]})")
    log.info("%s %s: %s", w.key, best.describe(), c.describe())
    return c
