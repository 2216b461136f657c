"""Search-efficiency accounting (trials to 95 % of the best) used by benchmarks/op_search.py."""

from __future__ import annotations

import itertools
import statistics

import pytest

from mlir_opt.ops.efficiency import (best_so_far, charge_reuse, expected_random_trials, harmonize, ratio_summary,
                                     reference_ms, trials_to)


def _log(*times, fixed=(2.0,)):
    return [("default", {}, t) for t in fixed] + [("double_tiling", {"i": i}, t) for i, t in enumerate(times)]


def test_expected_random_trials_is_exact_over_the_pool():
    log = _log(1.5, None, 0.9, 1.2, 0.95)  # default 2.0, then 5 proposals (one failed)
    target = 1.0
    e, n, m = expected_random_trials([log], 1, target)
    assert (n, m) == (5, 2) and e == pytest.approx(1 + 6 / 3)
    # brute force: mean first-hit position over every order of the pool, after the fixed trial
    pool = [t for _, _, t in log[1:]]
    firsts = [1 + next(i + 1 for i, t in enumerate(p) if t is not None and t <= target)
              for p in itertools.permutations(pool)]
    assert e == pytest.approx(statistics.mean(firsts))
    # pooled seeds: a schedule measured twice counts once, at its median ({"i": 0}: 1.5 and 0.9 -> 1.2,
    # not a hit; {"i": 1}: failed once, 3.0 once); a fixed hit ends it at once
    e2, n2, m2 = expected_random_trials([log, _log(0.9, 3.0)], 1, target)
    assert (n2, m2) == (5, 2) and e2 == pytest.approx(1 + 6 / 3)
    assert expected_random_trials([_log(1.5, fixed=(0.5,))], 1, target)[0] == 1.0
    assert expected_random_trials([_log(1.5, 2.5)], 1, target)[0] is None  # no pooled hit


def test_harmonize_gives_one_figure_per_schedule():
    a, b = _log(1.0, fixed=(2.0,)), _log(3.0, fixed=(2.4,))  # default measured 2.0 and 2.4
    ha, hb = harmonize([a, b])
    assert ha[0][2] == hb[0][2] == pytest.approx(2.2)
    assert ha[1][2] == hb[1][2] == 2.0  # {"i": 0} measured 1.0 and 3.0: median 2.0 in both
    assert reference_ms([ha, hb]) == pytest.approx(2.0)
    assert trials_to(best_so_far(ha), 2.0 / 0.95) == 2 and trials_to(best_so_far(ha), 2.2) == 1
    assert trials_to([3.0, 2.0], 1.0) is None


def test_reuse_is_charged_the_donor_trials_it_relied_on():
    order = ["A", "B", "C", "D"]
    own = {"A": 3, "B": 2, "C": 1, "D": None}
    trials = {"A": 10, "B": 10, "C": 10, "D": 10}
    donors = {"B": ["A"], "C": ["A", "B"], "D": []}
    last_used = {"A": 8, "B": 2}  # A's transferred schedules were found by trial 8, B's by trial 2
    ch = charge_reuse(order, own, trials, donors, last_used)
    assert ch["A"].total == 3 and ch["B"].share == pytest.approx(2.5) and ch["C"].total == pytest.approx(3.5)
    assert ch["D"].total is None
    # summed over the set: own trials-to-95 plus each donor's surplus exactly once
    assert sum(c.total for c in ch.values() if c.total) == pytest.approx(3 + 2 + 1 + (8 - 3) + 0)


def test_ratio_summary_with_censoring():
    s = ratio_summary([(10.0, 2.0, 33, 33), (4.0, 4.0, 33, 33), (None, 3.0, 33, 33), (None, None, 33, 33)])
    assert s.n == 3 and s.censored == 1
    assert s.median == pytest.approx(5.0) and s.total == pytest.approx((10 + 4 + 33) / 9)
    assert s.geomean == pytest.approx((5 * 1 * 11) ** (1 / 3))
    assert "censored" in s.describe() and ratio_summary([]).n == 0


def test_efficiency_all_trials_and_searched_sketch_only():
    from mlir_opt.ops.efficiency import efficiency

    def L(*ts, tag="u", fixed=(("default", 2.0), ("img2col", 1.0))):  # distinct schedules per tag
        return [(sk, {}, t) for sk, t in fixed] + [("tiling", {tag: i}, t) for i, t in enumerate(ts)]

    runs = {"A": {"random": [L(1.6, 0.9, 1.2, tag="r")], "reuse": [L(1.5, 0.8, 1.4, 1.3)]},
            "B": {"random": [L(1.7, 1.1, 0.7, tag="r")], "reuse": [L(0.72, 1.9)]}}
    kw = dict(n_fixed={"A": 2, "B": 2}, searched={"A": "tiling", "B": "tiling"}, donors={"B": ["A"]},
              transferred={"A": [("tiling", {"u": 1}), ("tiling", {"u": 3})]})
    allt = efficiency(runs, ["A", "B"], **kw)
    # A: reference 0.8 (target 0.842): random pool {1.6, 0.9, 1.2} has no hit; reuse reaches at trial 4
    assert allt["A"]["reference_ms"] == 0.8 and allt["A"]["random_expected_trials_to_95"] is None
    assert allt["A"]["reuse_trials_to_95"] == 4 and allt["A"]["random_cap"] == 6
    # B: reference 0.7: random expected 2 + 4/2 = 4; reuse reaches at its first proposal (trial 3) and is
    # charged A's surplus: A's transferred schedules were found by trial 6, A needed 4 -> +2
    assert allt["B"]["random_expected_trials_to_95"] == 4.0 and allt["B"]["reuse_trials_to_95"] == 3
    assert allt["B"]["reuse_donor_share"] == 2 and allt["B"]["reuse_charged_trials_to_95"] == 5
    srch = efficiency(runs, ["A", "B"], search_only=True, **kw)  # the two fixed trials are not counted
    assert srch["B"]["random_expected_trials_to_95"] == 2.0 and srch["B"]["reuse_trials_to_95"] == 1
    assert srch["B"]["reuse_charged_trials_to_95"] == 1 + (4 - 2)
