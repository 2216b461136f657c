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


@pytest.mark.slow  # heavy: out of the default run for CI time (run with -m slow)
def test_reuse_similar_donor_model_and_sequential_tuning():
    """Two workloads with no dominance relation, tuned by reuse in one call: the heavier one first
    (no donor: an anchor, started from the register-tile family), then the lighter one starts from its schedules."""
    db = Database(":memory:")
    strat = ReuseStrategy(db, k=2)
    assert strat.order([("a", ATTN, 1.0), ("p", PROJ, 3.0)]) == ["p", "a"]
    res, _ = tune_workloads({ATTN.key: (ATTN, 1.0), PROJ.key: (PROJ, 3.0)}, strategy=strat, budget=12, db=db,
                            reps=2)
    assert strat.donors[PROJ.key] == [] and strat.donors[ATTN.key] == [PROJ.key]
    recs = {k: db.records(k, "llvm-cpu") for k in (PROJ.key, ATTN.key)}
    # the anchor (no donor) measured the hand-picked register-tile family first
    from mlir_opt.ops.search.reuse import anchor_seeds

    assert strat.anchors == {PROJ.key}
    proj = [r.decisions for r in recs[PROJ.key] if r.sketch == "double_tiling"]
    assert proj[0] == anchor_seeds(search_sketch(PROJ))[0]
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


def _donor_db(donor: Workload, target: str = "llvm-cpu") -> Database:
    """A database holding a donor's searched-sketch records. The times are a fixed function of the
    decisions (data for the pure-logic tests below; nothing is compiled or timed)."""
    from mlir_opt.db import Record

    db = Database(":memory:")
    db.add_workload(donor.key, donor.kind, donor.to_dict())
    sk = search_sketch(donor)
    rng = random.Random(3)
    for _ in range(12):
        d = sk.sample(rng)
        ms = 1.0 + abs(d["vec_n"] - 16) / 16 + abs(d["vec_m"] - 8) / 8 + 0.1 * d["vec_k"]
        db.commit(Record(donor.key, target, sk.name, d, median_ms=ms, times_ms=[ms]))
    return db


def test_anchor_starts_from_the_register_tile_family():
    """A workload with no donor (an anchor) measures the hand-picked family first, fitted to its
    extents, then searches the neighbourhood of its best; anchor="evolutionary" keeps the old fallback."""
    from mlir_opt.ops.search.reuse import ANCHOR_FAMILY, anchor_family, anchor_seeds

    conv = Workload.from_key("conv2d_nchw_fchw_1x30x30x128x3x3x128_s1_f32")
    for w in (Workload.from_key("batch_matmul_1x128x768x768_f32xf32xf32"), conv, ATTN):
        sk = search_sketch(w)
        seeds = anchor_seeds(sk)
        assert seeds and all(sk.validate(d) is None for d in seeds)
        assert len({tuple(sorted(d.items())) for d in seeds}) == len(seeds)
        assert anchor_seeds(sk, 8)[0] == nearest_valid(sk, anchor_family(sk.name, 8)[0])
    sk = search_sketch(Workload.from_key("batch_matmul_1x128x768x768_f32xf32xf32"))
    assert anchor_seeds(sk, 8)[0] == anchor_family("double_tiling", 8)[0]  # every option exists at 768x768
    assert ANCHOR_FAMILY["double_tiling"][0]["min_lanes"] == 16  # the tall 8x32 member: AVX-512 only
    strat = ReuseStrategy(Database(":memory:"), retime=0)  # sized to this machine's vectors
    assert not strat.has_donor(sk)
    first = strat.propose(sk, [], 4, random.Random(0))
    assert first == anchor_seeds(sk)[:4] and strat.anchors == {sk.workload.key}
    hist = [(d, 1.0 + i) for i, d in enumerate(first)]  # the family's first member measured fastest
    nxt = strat.propose(sk, hist, 4, random.Random(0))
    assert len(nxt) == 4 and all(sk.validate(d) is None for d in nxt)
    assert not {tuple(sorted(d.items())) for d in nxt} & {tuple(sorted(d.items())) for d in first}
    # all but (at most) the one exploration pick are one knob from a measured schedule or crossovers
    # of measured ones: each value comes from some measured schedule or differs in one knob
    near = sum(1 for d in nxt if min(sum(d[k] != b[k] for k in d) for b, _ in hist) == 1)
    assert near >= 2
    evo = ReuseStrategy(Database(":memory:"), retime=0, anchor="evolutionary")
    assert evo.propose(sk, [], 4, random.Random(0)) != first and not evo.anchors
    with pytest.raises(ValueError):
        ReuseStrategy(anchor="bogus")


def test_conv_anchor_family_spans_peel_and_cache_n():
    """The img2col_tiling family also tries loop peeling and a cache-level N tile (snapped to each
    conv's GEMM view); an anchor measures all of them; every member compiles and computes the conv
    right."""
    from mlir_opt.ops.evaluate import Evaluator
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.search.reuse import anchor_seeds

    for key in ("conv2d_nchw_fchw_1x230x230x3x7x7x64_s2_f32", "conv2d_nchw_fchw_1x56x56x64x1x1x256_s1_f32",
                "conv2d_nhwc_hwcf_1x18x18x16x3x3x32_s1_f32"):
        seeds = anchor_seeds(search_sketch(Workload.from_key(key)), 8)
        assert len(seeds) == 4 and [d["peel"] for d in seeds] == [0, 1, 0, 1], key
        assert [bool(d["cache_n"]) for d in seeds] == [False, False, False, True], key
    small = Workload.from_key("conv2d_nchw_fchw_1x18x18x16x3x3x32_s1_f32")  # GEMM view 32x256x144
    sk = search_sketch(small)
    seeds = anchor_seeds(sk, 8)
    assert sk.name == "img2col_tiling" and seeds[3] == dict(dist_m=32, dist_n=256, vec_m=4, vec_n=32, vec_k=4,
                                                            cache_n=64, peel=1)
    info = Schedule(small, sk.name, seeds[3]).compilation_info()
    assert "cache_parallel = [32, 64, 0]" in info and "{enable_loop_peeling}" in info
    # an anchor measures its whole family even in batches smaller than it: members 3 and 4 lead the
    # second batch of 2 (not ranked against the neighbourhood by the cost model)
    strat = ReuseStrategy(Database(":memory:"), retime=0, vector_lanes=8)
    first = strat.propose(sk, [], 2, random.Random(0))
    assert first == seeds[:2]
    second = strat.propose(sk, [(d, 1.0 + i) for i, d in enumerate(first)], 3, random.Random(0))
    assert second[:2] == seeds[2:4] and len(second) == 3
    # 16 lanes (AVX-512): the 8x32 outer-product tile (vec_k 1) first, the four at doubled width, then
    # the tall 16x16 tile in 128 x 32 workgroups (both left out at 8 lanes); the members past the first
    # batch of 4 lead the second
    wide = anchor_seeds(sk, 16)
    assert [(d["vec_m"], d["vec_n"]) for d in wide] == [(8, 32), (8, 32), (4, 32), (8, 32), (4, 64), (16, 16)]
    assert wide[0]["vec_k"] == 1 and wide[0]["peel"] == 0 and wide[5]["peel"] == 1
    assert all(sk.validate(d) is None for d in wide)
    strat = ReuseStrategy(Database(":memory:"), retime=0, vector_lanes=16)
    first = strat.propose(sk, [], 4, random.Random(0))
    assert first == wide[:4]
    second = strat.propose(sk, [(d, 1.0 + i) for i, d in enumerate(first)], 4, random.Random(0))
    assert second[:2] == wide[4:6] and len(second) == 4
    ev = Evaluator(db=Database(":memory:"), reps=1)
    res = ev.evaluate([Schedule(small, sk.name, d) for d in seeds + wide[:1] + wide[5:]])
    ev.close()
    for r in res:
        assert r.status == "ok" and r.rel_error < 1e-5, (r.schedule.describe(), r.error)


def test_first_batch_after_transfer_mixes_in_model_ranked_neighbours():
    donor = Workload.from_key("batch_matmul_1x128x768x768_f32xf32xf32")
    rec = Workload.from_key("batch_matmul_1x128x3072x768_f32xf32xf32")
    sk = search_sketch(rec)
    db = _donor_db(donor)
    strat = ReuseStrategy(db, retime=0)
    assert strat.has_donor(sk)
    seeds = strat.transferred(sk)
    assert len(seeds) >= 3 and strat.model.trained
    strat = ReuseStrategy(db, retime=0, family_prior=False)
    batch = strat.propose(sk, [], 6, random.Random(0))
    assert len(batch) == 6 and all(sk.validate(d) is None for d in batch)
    assert batch[:3] == seeds[:3] and strat.donors[rec.key] == [donor.key] and not strat.anchors
    # the rest: the model's best among the other transferred schedules and the head's one-knob neighbours
    key = lambda d: tuple(sorted(d.items()))  # noqa: E731
    pool, taken = [], {key(d) for d in seeds[:3]}
    for d in seeds[3:] + strat._neighbours(sk, seeds[:3]):
        if key(d) not in taken:
            taken.add(key(d))
            pool.append(d)
    scores = strat.model.predict([rec] * len(pool), pool)
    want = [pool[i] for i in sorted(range(len(pool)), key=lambda i: scores[i])[:3]]
    assert batch[3:] == want
    assert any(key(d) not in {key(s) for s in seeds} for d in batch[3:])  # a neighbour made it in
    # first_neighbours=False: the transferred schedules only, in transfer order
    only = ReuseStrategy(db, retime=0, first_neighbours=False, family_prior=False).propose(sk, [], 6,
                                                                                        random.Random(0))
    assert only == seeds[:6]


def test_family_prior_measured_after_the_first_transferred():
    """family_prior (the default): a workload with a donor measures the first ceil(n/2) transferred
    schedules, then the anchor family fitted to it (those not transferred already); members that do not
    fit the first batch lead the second; the neighbourhood search follows. The members are compiled
    and checked against numpy on a small matmul."""
    from mlir_opt.ops.evaluate import Evaluator
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.search.reuse import anchor_seeds

    donor = Workload.from_key("batch_matmul_1x128x768x768_f32xf32xf32")
    rec = Workload.from_key("batch_matmul_1x128x3072x768_f32xf32xf32")
    sk = search_sketch(rec)
    db = _donor_db(donor)
    seeds = ReuseStrategy(db, retime=0).transferred(sk)
    key = lambda d: tuple(sorted(d.items()))  # noqa: E731
    fam = [d for d in anchor_seeds(sk) if key(d) not in {key(s) for s in seeds[:3]}]
    assert len(fam) >= 3
    strat = ReuseStrategy(db, retime=0)
    first = strat.propose(sk, [], 4, random.Random(0))
    assert first[:2] == seeds[:2] and first[2:] == [d for d in fam if key(d) not in {key(s) for s in seeds}][:2]
    hist = [(d, 1.0 + i) for i, d in enumerate(first)]
    second = strat.propose(sk, hist, 4, random.Random(0))
    rest = [d for d in strat._prior[rec.key] if key(d) not in {key(d_) for d_ in first}]
    assert rest and second[:len(rest[:4])] == rest[:4] and len(second) == 4
    assert not {key(d) for d in second} & {key(d) for d in first}
    # after the family: the neighbourhood (nothing from the prior is proposed twice)
    third = strat.propose(sk, hist + [(d, 2.0) for d in second], 4, random.Random(0))
    assert len(third) == 4 and not {key(d) for d in third} & {key(d) for d in first + second + fam}
    # a batch larger than half the transferred schedules plus the family: the rest are the other
    # transferred schedules and neighbours of the first ceil(n/2) transferred ones
    big = ReuseStrategy(db, retime=0).propose(sk, [], 16, random.Random(0))
    nt = min(8, len(seeds))
    rest_fam = [d for d in anchor_seeds(sk) if key(d) not in {key(s) for s in seeds[:nt]}]
    assert big[:nt] == seeds[:nt] and big[nt:nt + len(rest_fam)] == rest_fam
    tail = big[nt + len(rest_fam):]
    allowed = {key(d) for d in seeds[nt:] + strat._neighbours(sk, seeds[:nt])}
    assert tail and all(key(d) in allowed for d in tail) and len({key(d) for d in big}) == len(big)
    # without a model the pool keeps its order: the transferred schedules past the head come first
    # (the AVX2 family of 4, so that head + family leave room in a batch of 10 for the 6 transferred)
    plain = ReuseStrategy(db, retime=0, cost_model=False, vector_lanes=8)
    pseeds = ReuseStrategy(db, retime=0, cost_model=False).transferred(sk)
    pfam = [d for d in anchor_seeds(sk, 8) if key(d) not in {key(s) for s in pseeds[:5]}]
    assert len(pseeds) > 5 and len(pfam) < 5
    pb = plain.propose(sk, [], 10, random.Random(0))
    assert pb[:5] == pseeds[:5] and pb[5:5 + len(pfam)] == pfam and pb[5 + len(pfam)] == pseeds[5]
    # off: the first batch has no family member that was not transferred or a neighbour anyway
    off = ReuseStrategy(db, retime=0, family_prior=False)
    assert off.propose(sk, [], 4, random.Random(0))[:2] == seeds[:2] and not off._prior
    small = Workload.from_key("batch_matmul_1x64x96x128_f32xf32xf32")
    ssk = search_sketch(small)
    ev = Evaluator(db=Database(":memory:"), reps=1)
    res = ev.evaluate([Schedule(small, ssk.name, d) for d in anchor_seeds(ssk)])
    ev.close()
    assert res and all(r.status == "ok" and r.rel_error < 1e-5 for r in res), [(r.schedule.describe(), r.error) for r in res]


def test_anchor_keys_first_of_each_kind_without_donor():
    """tune_workloads gives anchors (the first workload of each kind with no donor) a larger share."""
    conv = Workload.from_key("conv2d_nchw_fchw_1x30x30x128x3x3x128_s1_f32")
    items = [(w.key, search_sketch(w)) for w in (PROJ, ATTN, conv)]
    assert ReuseStrategy(Database(":memory:")).anchor_keys(items) == [PROJ.key, conv.key]
    # a batch_matmul donor in the database: only the conv is an anchor
    db = _donor_db(Workload.from_key("batch_matmul_1x128x768x768_f32xf32xf32"))
    assert ReuseStrategy(db).anchor_keys(items) == [conv.key]


def test_early_donor_pool_stops_at_the_donors_own_95_percent():
    """donor_pool="early" takes a donor's best records only among those up to its first record within
    95 % of its best, so the donor trials relied on (``used``) end there; "best" takes the best overall."""
    from mlir_opt.db import Record
    from mlir_opt.ops.search.reuse import ReuseStrategy

    donor = Workload.from_key("batch_matmul_1x128x3072x768_f32xf32xf32")
    sk = search_sketch(donor)
    db = Database(":memory:")
    db.add_workload(donor.key, donor.kind, donor.to_dict())
    rng = random.Random(5)
    seen, ds = set(), []
    while len(ds) < 10:
        d = sk.sample(rng)
        if tuple(sorted(d.items())) not in seen:
            seen.add(tuple(sorted(d.items())))
            ds.append(d)
    # trial order: slow, slow, 1.04 (within 95 % of the best 1.0), slower, ..., 1.0 found at trial 9
    times = [3.0, 2.5, 1.04, 1.8, 1.06, 2.2, 1.9, 1.5, 1.0, 1.02]
    for d, ms in zip(ds, times):
        db.commit(Record(donor.key, "llvm-cpu", sk.name, d, median_ms=ms, times_ms=[ms]))
    best = ReuseStrategy(db, "llvm-cpu", retime=0, k=3)
    early = ReuseStrategy(db, "llvm-cpu", retime=0, k=3, donor_pool="early")
    assert [r.median_ms for r in best._donor_pool(donor.key, sk.name, 3)] == [1.0, 1.02, 1.04]
    assert [r.median_ms for r in early._donor_pool(donor.key, sk.name, 3)] == [1.04, 2.5, 3.0]
    assert max(r.id for r in early._donor_pool(donor.key, sk.name, 3)) == 3  # nothing after trial 3
    recipient = search_sketch(Workload.from_key("batch_matmul_1x128x768x768_f32xf32xf32"))
    early.transferred(recipient)
    assert early.donors[recipient.workload.key] == [donor.key]
    assert all(d in ds[:3] for _, d in early.used[donor.key])
    with pytest.raises(ValueError, match="donor_pool"):
        ReuseStrategy(db, "llvm-cpu", donor_pool="latest")


def test_anchor_family_is_sized_to_the_target_vectors():
    """The register-tile family keeps its shape in vectors: 16-lane (AVX-512) tiles are twice as wide
    as the AVX2 ones, rows unchanged; the host's lanes are read off /proc/cpuinfo's flags."""
    from mlir_opt.backend.targets import cpu_vector_lanes
    from mlir_opt.ops.search.reuse import ANCHOR_FAMILY, anchor_family, anchor_seeds

    assert cpu_vector_lanes(cpuinfo="processor : 0\nflags : fpu sse2 avx avx2 fma\n") == 8
    assert cpu_vector_lanes(cpuinfo="flags : fpu sse2 avx avx2 avx512f avx512bw\n") == 16
    assert cpu_vector_lanes(cpuinfo="flags : fpu sse2 sse4_2\n") == 4
    assert cpu_vector_lanes("znver3") == 8 and cpu_vector_lanes("sapphirerapids") == 16
    assert cpu_vector_lanes() in (4, 8, 16)
    for name, fam in ANCHOR_FAMILY.items():
        keys = ("min_lanes", "max_lanes")
        narrow = [{k: v for k, v in d.items() if k not in keys} for d in fam if d.get("min_lanes", 0) <= 8]
        assert anchor_family(name, 8) == narrow
        assert all(not set(keys) & set(d) for d in anchor_family(name, 16))
        wide, wfam = anchor_family(name, 16), [d for d in fam if d.get("max_lanes", 16) >= 16]
        assert [d["vec_n"] for d in wide] == [2 * d["vec_n"] for d in wfam]
        assert [d["vec_m"] for d in wide] == [d["vec_m"] for d in wfam]
        assert all(d.get("cache_n", 0) in (0,) or d["cache_n"] >= d["vec_n"] for d in wide)
    sk = search_sketch(Workload.from_key("batch_matmul_1x128x768x768_f32xf32xf32"))
    wide = anchor_seeds(sk, 16)
    assert wide[0] == dict(dist_m=128, dist_n=32, vec_m=8, vec_n=32, vec_k=4)  # the tall member first
    assert wide[1] == dict(dist_m=64, dist_n=128, vec_m=8, vec_n=32, vec_k=8) and len(wide) == 5
    assert all(sk.validate(d) is None for d in wide) and wide != anchor_seeds(sk, 8)
    strat = ReuseStrategy(Database(":memory:"), retime=0, vector_lanes=16)
    assert strat.propose(sk, [], 4, random.Random(0)) == wide[:4]


def test_transfer_per_register_tile_shape():
    """transfer="shape" hands over a donor's best record of each register-tile shape first, then the rest by
    time; "top" (default) its k best overall. With a donor whose three best share one tall tile, "shape" gives a
    recipient the best other-shaped tiles too (tried with the conv anchor family's tall member, thirteenth
    session; measured worse, so not the default)."""
    from mlir_opt.db import Record
    from mlir_opt.ops.search.reuse import by_shape

    donor = Workload.from_key("conv2d_nchw_fchw_1x16x16x256x3x3x256_s1_f32")
    sk = search_sketch(donor)
    assert sk.name == "img2col_tiling"
    base = dict(dist_m=128, dist_n=64, vec_m=16, vec_n=16, vec_k=4, cache_n=0, peel=1)
    variants = [dict(base, vec_k=4), dict(base, vec_k=8), dict(base, vec_k=2),  # tall 16x16: the 3 best
                dict(base, vec_m=8, vec_n=32, dist_n=128),                      # 8x32
                dict(base, vec_m=4, vec_n=64, dist_n=128),                      # 4x64
                dict(base, vec_m=8, vec_n=32, dist_n=128, vec_k=8)]             # 8x32 again, slower
    assert all(sk.validate(d) is None for d in variants)
    times = [1.0, 1.01, 1.02, 1.10, 1.20, 1.15]
    db = Database(":memory:")
    db.add_workload(donor.key, donor.kind, donor.to_dict())
    for d, ms in zip(variants, times):
        db.commit(Record(donor.key, "llvm-cpu", sk.name, d, median_ms=ms, times_ms=[ms]))
    recs = db.top_k(donor.key, "llvm-cpu", 6, sketch=sk.name)
    assert [r.median_ms for r in by_shape(recs, sk.name, 3)] == [1.0, 1.10, 1.20]
    assert [r.median_ms for r in by_shape(recs, sk.name, 5)] == [1.0, 1.10, 1.20, 1.01, 1.02]
    assert by_shape(recs, "no_such_sketch", 2) == recs[:2]
    top = ReuseStrategy(db, "llvm-cpu", retime=0, k=3)
    shape = ReuseStrategy(db, "llvm-cpu", retime=0, k=3, transfer="shape")
    assert top.transfer == "top"
    assert [r.median_ms for r in top._donor_top(donor.key, donor, sk.name)[1]] == [1.0, 1.01, 1.02]
    assert [r.median_ms for r in shape._donor_top(donor.key, donor, sk.name)[1]] == [1.0, 1.10, 1.20]
    recipient = search_sketch(Workload.from_key("conv2d_nchw_fchw_1x14x14x1024x1x1x512_s1_f32"))
    got = {(d["vec_m"], d["vec_n"]) for d in shape.transferred(recipient)}
    assert {(8, 32), (4, 64)} <= got
    assert {(d["vec_m"], d["vec_n"]) for d in top.transferred(recipient)} == {(16, 16)}
    with pytest.raises(ValueError, match="transfer"):
        ReuseStrategy(db, "llvm-cpu", transfer="best")


def test_retimed_donor_pool_ends_where_the_retiming_says():
    """donor_pool="retimed": the donor's fastest records by search time are re-timed (really compiled
    and run); a late search "best" that re-times slow no longer stretches the pool, which ends at the
    first record within 95 % of the fastest re-timed one. "early" would end at the late noise winner."""
    from mlir_opt.db import Record

    donor = Workload.from_key("batch_matmul_1x128x128x256_f32xf32xf32")
    sk = search_sketch(donor)
    db = Database(":memory:")
    db.add_workload(donor.key, donor.kind, donor.to_dict())
    good = dict(dist_m=64, dist_n=64, vec_m=8, vec_n=32, vec_k=1)      # an outer-product register tile
    good2 = dict(dist_m=32, dist_n=64, vec_m=2, vec_n=16, vec_k=1)  # clearly slower than good (2 rows)
    bad = dict(dist_m=8, dist_n=16, vec_m=1, vec_n=8, vec_k=16)        # one row, a long k reduction
    slow = dict(dist_m=16, dist_n=16, vec_m=2, vec_n=8, vec_k=16)
    # trial order; search times as a noisy search might record them: the bad tile's lucky 0.5 is the "best"
    trials = [(slow, 3.0), (good, 0.9), (good2, 1.1), (slow | dict(dist_m=8), 2.0), (bad, 0.5)]
    for d, ms in trials:
        assert sk.validate(d) is None, d
        db.commit(Record(donor.key, "llvm-cpu", sk.name, d, median_ms=ms, times_ms=[ms]))
    ids = [r.id for r in db.records(donor.key, "llvm-cpu")]
    early = ReuseStrategy(db, "llvm-cpu", retime=4, k=3, donor_pool="early", rounds=5, threads=1)
    relied, _ = early._donor_top(donor.key, donor, sk.name)
    assert max(r.id for r in relied) == ids[4]  # "early": up to the search best, the bad tile's trial
    st = ReuseStrategy(db, "llvm-cpu", retime=4, k=3, donor_pool="retimed", rounds=5, threads=1)
    relied, top = st._donor_top(donor.key, donor, sk.name)
    ms = st.retimed[f"{donor.key}|{sk.name}"]["ms"]
    assert set(ms) == {ids[4], ids[1], ids[2], ids[3]}  # the 4 fastest by search time, all re-timed
    assert ms[ids[1]] < ms[ids[4]] / 2  # the outer-product tile really is the faster one
    assert st.retime_cost == {donor.key: 4}
    assert top[0].decisions == good and max(r.id for r in relied) <= ids[2]
    assert all(r.id <= ids[2] for r in top) and ids[4] not in {r.id for r in relied}
    recipient = search_sketch(Workload.from_key("batch_matmul_1x128x256x128_f32xf32xf32"))
    seeds = st.transferred(recipient)
    assert st.donors[recipient.workload.key] == [donor.key] and seeds
    assert (sk.name, bad) not in st.used[donor.key] and (sk.name, good) in st.used[donor.key]
    # a donor whose own best is a fixed trial of another sketch (data tiling, trial 1) and whose searched
    # records are all slow tiles: it converged before any of them, so it gives nothing to transfer — but it
    # is listed among the donors, so its re-timing (3 records) is charged to the workload that asked
    d2 = Workload.from_key("batch_matmul_1x128x128x128_f32xf32xf32")
    db.add_workload(d2.key, d2.kind, d2.to_dict())
    dt = {"ukernels": False, "mmt4d_intrinsics": False, "llvm_unroll": False, "tile_bytes": 0, "inner_tiled": 0}
    db.commit(Record(d2.key, "llvm-cpu", "data_tiling", dt, median_ms=0.2, times_ms=[0.2]))
    for d, ms in [(bad, 0.15), (slow, 0.3)]:
        db.commit(Record(d2.key, "llvm-cpu", sk.name, nearest_valid(search_sketch(d2), d), median_ms=ms, times_ms=[ms]))
    st2 = ReuseStrategy(db, "llvm-cpu", retime=4, k=3, donor_pool="retimed", rounds=5, threads=1, max_donors=1)
    relied, top = st2._donor_top(d2.key, d2, sk.name)
    ms2 = st2.retimed[f"{d2.key}|{sk.name}"]["ms"]
    first = db.records(d2.key, "llvm-cpu")[0].id
    assert min(ms2.values()) == ms2[first] and not top and not relied, ms2  # data tiling re-timed fastest
    assert st2.retime_cost == {d2.key: 3}
    r2 = search_sketch(Workload.from_key("batch_matmul_1x128x128x64_f32xf32xf32"))
    st2.transferred(r2)  # d2 is nearest: consulted, nothing taken; max_donors counts only givers
    assert st2.donors[r2.workload.key] == [donor.key, d2.key] and d2.key not in st2.used
    # converged at the fixed trial by its search times already (0.1 ms data tiling vs 0.2 ms for its best
    # searched record): given up without re-timing, so nothing is charged and it is not listed
    d3 = Workload.from_key("batch_matmul_1x128x64x128_f32xf32xf32")
    db.add_workload(d3.key, d3.kind, d3.to_dict())
    db.commit(Record(d3.key, "llvm-cpu", "data_tiling", dt, median_ms=0.1, times_ms=[0.1]))
    db.commit(Record(d3.key, "llvm-cpu", sk.name, nearest_valid(search_sketch(d3), good), median_ms=0.2,
                     times_ms=[0.2]))
    st3 = ReuseStrategy(db, "llvm-cpu", retime=4, k=3, donor_pool="retimed", rounds=5, threads=1)
    assert st3._donor_top(d3.key, d3, sk.name) == ([], []) and not st3.retime_cost and not st3.retimed
