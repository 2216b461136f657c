"""Confirmation of tuned bests against IREE's default (interleaved re-timing, real IREE)."""

from __future__ import annotations

import pytest

from mlir_opt.backend import Timing, benchmark_interleaved, paired_ratio
from mlir_opt.ops.confirm import confirm_schedule, decide, workload_inputs
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.evaluate import build_schedule
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.tuner import MIN_GAIN, WorkloadResult, confirm_bests

MM = Workload.from_key("matmul_128x128x128_f32xf32xf32")
#: one workgroup (one of the two threads idle), 1x8 register tiles, no reduction tiling:
#: about 4x slower than IREE's default on this machine
BAD = Schedule(MM, "double_tiling", dict(dist_m=128, dist_n=128, vec_m=1, vec_n=8, vec_k=1))


def test_decide_is_paired_and_needs_both_medians():
    assert decide([0.9, 0.9, 0.9], [1.0, 1.0, 1.0], 0.97).confirmed
    c = decide([0.99, 1.0, 1.01], [1.0, 1.0, 1.0], 0.97)
    assert not c.confirmed and c.ratio == pytest.approx(1.0) and "not confirmed" in c.describe()
    # a noisy neighbour slows both modules in round 2: the paired ratio is unaffected
    assert decide([0.5, 5.0, 0.5], [1.0, 10.0, 1.0], 0.97).ratio == pytest.approx(0.5)
    with pytest.raises(ValueError):
        paired_ratio(Timing([1.0]), Timing([1.0, 2.0]))  # not from the same rounds


def test_interleaved_timing_rounds_are_paired(tmp_path):
    b = build_schedule(Schedule(MM, "default", {}), tmp_path / "d")
    assert b.ok
    t = benchmark_interleaved({"a": b.vmfb, "b": b.vmfb}, workload_inputs(MM), rounds=4, min_time_s=0.01)
    assert [len(x.samples_ms) for x in t.values()] == [4, 4] and all(x.median_ms > 0 for x in t.values())


def test_slower_candidate_is_not_confirmed_and_keeps_default():
    # The search saw a lucky (selection-biased) figure for BAD: it looked 2x faster than the default.
    r = WorkloadResult(MM, default_ms=0.2, best=BAD, best_ms=0.1)
    assert r.beats_default and r.kept
    confirm_bests({MM.key: r}, rounds=5)
    c = r.confirmation
    assert c is not None and c.error is None and not c.confirmed
    assert c.best_ms > c.default_ms and c.ratio > 1.5  # truly slower, in both medians and paired
    assert not r.kept and r.to_dict()["confirmation"]["confirmed"] is False


def test_faster_schedule_is_confirmed_against_a_slow_baseline():
    # The reverse pairing: IREE's default measured against the bad tiling as the bar to beat.
    c = confirm_schedule(Schedule(MM, "default", {}), baseline=BAD, margin=MIN_GAIN, rounds=5)
    assert c.confirmed and c.ratio < 0.7 and c.best_ms < MIN_GAIN * c.default_ms
