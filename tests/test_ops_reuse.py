"""ETO-style reuse: similarity donors, relative transfer, cost-model ranking, sequential tuning."""

from __future__ import annotations

import random

import pytest

from mlir_opt.db import Database
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.search.reuse import ReuseStrategy, log_distance, nearest_valid, scaled_tiles, transfer_extents
from mlir_opt.ops.space import search_sketch
from mlir_opt.ops.tuner import tune_workloads

PROJ = Workload.from_key("batch_matmul_1x64x128x64_f32xf32xf32")   # a projection-like matmul
ATTN = Workload.from_key("batch_matmul_4x64x32x16_f32xf32xf32")    # attention-like: no dominance either way


def test_nearest_valid_and_relative_tiles():
    sk = search_sketch(Workload.from_key("batch_matmul_12x128x64x128_f32xf32xf32"))
    # dist_n=128 is no option for N=64: the nearest valid set keeps the other knobs
    assert nearest_valid(sk, dict(dist_m=128, dist_n=128, vec_m=4, vec_n=16, vec_k=4)) == \
        dict(dist_m=128, dist_n=64, vec_m=4, vec_n=16, vec_k=4)
    # vec_n=64 does not divide dist_n=16: the repair moves the cheaper knob, and the result is valid
    d = nearest_valid(sk, dict(dist_m=128, dist_n=16, vec_m=4, vec_n=64, vec_k=4))
    assert d is not None and sk.validate(d) is None and d["dist_m"] == 128
    src = {"B": 1, "M": 128, "N": 768, "K": 768}
    dst = {"B": 12, "M": 128, "N": 64, "K": 128}
    sc = scaled_tiles(dict(dist_m=64, dist_n=128, vec_m=4, vec_n=16, vec_k=4), src, dst)
    assert sc["dist_m"] == 64 and sc["dist_n"] == pytest.approx(128 * 64 / 768) and sc["vec_n"] == 16
    assert nearest_valid(sk, sc)["dist_n"] == 16  # 10.7 -> nearest option in log2 space
    # convolutions are compared in the GEMM view the img2col_tiling knobs tile
    c = Workload.from_key("conv2d_nchw_fchw_1x30x30x128x3x3x128_s1_f32")
    assert transfer_extents("img2col_tiling", c) == {"M": 128, "N": 784, "K": 1152}
    assert log_distance({"M": 4, "N": 8}, {"M": 8, "N": 2}) == pytest.approx(3.0)


def test_reuse_similar_donor_model_and_sequential_tuning():
    """Two workloads with no dominance relation, tuned by reuse in one call: the heavier one first
    (no donor: evolutionary fallback), then the lighter one starts from its schedules."""
    db = Database(":memory:")
    strat = ReuseStrategy(db, k=2)
    assert strat.order([("a", ATTN, 1.0), ("p", PROJ, 3.0)]) == ["p", "a"]
    res, _ = tune_workloads({ATTN.key: (ATTN, 1.0), PROJ.key: (PROJ, 3.0)}, strategy=strat, budget=12, db=db,
                            reps=2)
    assert strat.donors[PROJ.key] == [] and strat.donors[ATTN.key] == [PROJ.key]
    recs = {k: db.records(k, "llvm-cpu") for k in (PROJ.key, ATTN.key)}
    searched = [r for r in recs[ATTN.key] if r.sketch == "double_tiling"]
    # sequential: every record of the anchor's search precedes the recipient's proposals
    assert max(r.id for r in recs[PROJ.key]) < min(r.id for r in searched)
    # the donor's top 6 were rebuilt and re-timed side by side once (charged: one trial each); the
    # recipient's first proposal is the donor's best by the re-timed medians, fitted to its extents
    sk = search_sketch(ATTN)
    pool = db.top_k(PROJ.key, "llvm-cpu", 6, sketch="double_tiling")
    ms = strat.retimed[f"{PROJ.key}|double_tiling"]["ms"]
    assert strat.retime_cost == {PROJ.key: len(pool)} and set(ms) == {r.id for r in pool}
    assert all(m > 0 for m in ms.values())
    best = min(pool, key=lambda r: ms[r.id])
    assert searched[0].decisions == nearest_valid(sk, best.decisions)
    assert all(sk.validate(r.decisions) is None for r in searched)
    assert res[ATTN.key].best is not None and res[ATTN.key].best_ms > 0
    # the donor records reuse relied on are all the re-timed ones; the model saw only records up to the last
    used = strat.used[PROJ.key]
    assert len(used) == len(pool) and (best.sketch, best.decisions) in used
    last = max(r.id for r in recs[PROJ.key] if (r.sketch, r.decisions) in used)
    n_donor = sum(1 for r in recs[PROJ.key] if r.ok and r.sketch == "double_tiling" and r.id <= last)
    assert sum(1 for key, _ in strat._fed if key == PROJ.key) == n_donor
    # ETO's dominance rule finds no donor for this pair
    eto = ReuseStrategy(db, relation="dominance")
    assert eto.transferred(sk) == [] and eto.donors[ATTN.key] == []
    # later proposals stay in the neighbourhood: one or two knobs away from a measured schedule
    hist = [(r.decisions, r.median_ms) for r in searched]
    props = strat.propose(sk, hist, 3, random.Random(0))
    assert props and all(sk.validate(p) is None for p in props)
    assert not {tuple(sorted(p.items())) for p in props} & {tuple(sorted(d.items())) for d, _ in hist}


def test_neighbourhood_spreads_over_knobs():
    """Around the best, changes of knobs not yet varied come before more changes of varied ones."""
    from mlir_opt.ops.search.reuse import _spread_knobs

    sk = search_sketch(Workload.from_key("batch_matmul_1x128x768x768_f32xf32xf32"))
    best = dict(dist_m=128, dist_n=32, vec_m=16, vec_n=16, vec_k=2)
    measured = [dict(best, dist_m=32), dict(best, dist_m=64), dict(best, vec_k=4), dict(best, vec_n=8)]
    cands = [dict(best, dist_m=16), dict(best, vec_k=8), dict(best, vec_n=32), dict(best, vec_m=8),
             dict(best, dist_m=16, vec_m=8)]
    assert all(sk.validate(d) is None for d in cands)
    order = _spread_knobs(list(range(len(cands))), cands, best, measured)
    # vec_m (never varied) first; then vec_k / vec_n (varied once), by the given order; dist_m last
    assert [cands[i] for i in order[:3]] == [cands[3], cands[1], cands[2]]
    assert set(order[3:]) == {0, 4}
    # with nothing measured the given order stands
    assert _spread_knobs([4, 2, 0], cands, best, []) == [4, 2, 0]
