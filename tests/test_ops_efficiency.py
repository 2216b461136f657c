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
    # a recipient that reaches 95 % at a fixed trial (here img2col at trial 2, before any transferred
    # schedule) relied on no donor trial: no share, and the donor's surplus is charged to nobody
    runs["B"] = {"random": [L(1.7, 1.1, 0.7, tag="r", fixed=(("default", 2.0), ("img2col", 0.5)))],
                 "reuse": [L(0.72, 1.9, fixed=(("default", 2.0), ("img2col", 0.5)))]}
    fx = efficiency(runs, ["A", "B"], **kw)
    assert fx["B"]["reuse_trials_to_95"] == 2 and fx["B"]["reuse_reached_at_fixed_trial"]
    assert fx["B"]["reuse_donor_share"] == 0 and fx["B"]["reuse_charged_trials_to_95"] == 2
    assert fx["B"]["random_expected_trials_to_95"] == 2 and not fx["A"]["reuse_reached_at_fixed_trial"]


def test_retime_candidates_window_default_and_searched_group():
    from mlir_opt.ops.efficiency import retime_candidates

    a = [("default", {}, 3.0), ("img2col", {}, 1.0), ("tiling", {"i": 0}, 1.2), ("tiling", {"i": 1}, 1.3),
         ("tiling", {"i": 2}, 2.0), ("tiling", {"i": 3}, None)]
    b = [("default", {}, 3.4), ("tiling", {"i": 2}, 1.1)]  # {"i": 2}: median of 2.0 and 1.1 = 1.55
    c = retime_candidates([a, b], within=0.8)  # window: ≤ 1.0 / 0.8 = 1.25 of the fastest (img2col)
    assert c == [("default", {}), ("img2col", {}), ("tiling", {"i": 0})]
    # the searched sketch's own window (≤ 1.2 / 0.8 = 1.5) adds {"i": 1} but not {"i": 2} (1.55)
    c = retime_candidates([a, b], searched="tiling", within=0.8)
    assert c == [("default", {}), ("img2col", {}), ("tiling", {"i": 0}), ("tiling", {"i": 1})]
    assert retime_candidates([a, b], searched="tiling", within=0.8, max_n=1) == \
        [("default", {}), ("img2col", {}), ("tiling", {"i": 0})]


def test_retime_candidates_give_every_strategy_its_own_best():
    """With per-strategy groups, a strategy whose best single measurement is crowded out of the capped
    window by another strategy's (many, lucky) measurements still has its fastest re-timed."""
    from mlir_opt.ops.efficiency import retime_candidates

    rnd = [("default", {}, 3.0)] + [("tiling", {"i": i}, 1.0 + 0.01 * i) for i in range(10)]
    reuse = [("default", {}, 3.0), ("tiling", {"i": 50}, 1.1), ("tiling", {"i": 51}, 1.12), ("tiling", {"i": 52}, 2.5)]
    plain = retime_candidates([rnd, reuse], within=0.8, max_n=4)
    assert plain == [("default", {})] + [("tiling", {"i": i}) for i in range(4)]
    each = retime_candidates([rnd, reuse], within=0.8, max_n=4, strategies=[[0], [1]], max_each=1)
    assert each == plain + [("tiling", {"i": 50})]  # random's own best is already in; reuse's is added
    two = retime_candidates([rnd, reuse], within=0.8, max_n=4, strategies=[[0], [1]], max_each=2)
    assert two == plain + [("tiling", {"i": 50}), ("tiling", {"i": 51})]  # 2.5 is outside reuse's own window
    assert retime_candidates([rnd, reuse], within=0.8, max_n=4, strategies=[[0], [1]], max_each=0) == plain


def test_retimed_metric_lets_only_the_retimed_figures_decide():
    from mlir_opt.ops.efficiency import apply_retimed, efficiency

    # search figures: random's {"r": 1} is the single luckiest timing (0.5); reuse's {"u": 0} 0.6.
    # Side by side, {"r": 1} is really 1.0 and {"u": 0} 0.62; {"r": 0} (0.9 in the search) was not
    # re-timed (outside the window): it cannot reach, whatever its search figure.
    runs = {"A": {"random": [[("default", {}, 2.0), ("t", {"r": 0}, 0.9), ("t", {"r": 1}, 0.5), ("t", {"r": 2}, None)]],
                  "reuse": [[("default", {}, 2.2), ("t", {"u": 0}, 0.6), ("t", {"r": 1}, 0.55)]]}}
    kw = dict(n_fixed={"A": 1}, searched={"A": "t"})
    single = efficiency(runs, ["A"], **kw)
    # old metric: {"r": 1} (0.5 and 0.55, one figure 0.525) is the reference; random expects 1 + 4/2
    assert single["A"]["reference_ms"] == pytest.approx(0.525) and single["A"]["reuse_trials_to_95"] == 3
    assert single["A"]["random_expected_trials_to_95"] == 3.0
    retimed = {"A": {("default", ()): 2.5, ("t", (("r", 1),)): 1.0, ("t", (("u", 0),)): 0.62}}
    new = efficiency(runs, ["A"], retimed=retimed, **kw)
    assert new["A"]["reference_ms"] == 0.62 and new["A"]["reuse_trials_to_95"] == 2
    # random's pool {r0: inf, r1: 1.0, r2: failed} has no hit; the same rule for both strategies
    assert new["A"]["random_trials_to_95"] is None and new["A"]["random_expected_trials_to_95"] is None
    logs = apply_retimed(runs["A"]["random"], retimed["A"])
    assert [t for _, _, t in logs[0]] == [2.5, float("inf"), 1.0, None]


def test_donor_retiming_is_charged_to_its_users_once():
    ch = charge_reuse(["A", "B", "C"], {"A": 4, "B": 2, "C": 3}, {"A": 10, "B": 10, "C": 10},
                      {"B": ["A"], "C": ["A"]}, {"A": 6}, retime_cost={"A": 6})
    # A's surplus (6 - 4) plus its 6 re-timed schedules, split between B and C
    assert ch["B"].share == ch["C"].share == pytest.approx(4.0) and ch["A"].share == 0
    assert sum(c.total for c in ch.values()) == pytest.approx(4 + 2 + 3 + 2 + 6)


def test_anchor_extra_budget_counts_as_its_own_trials():
    """An anchor run with twice random's budget (op_search.py --reuse-anchor-budget 2): all its trials
    count — its own trials-to-95 as they fall, and the transferred records found after its own 95 %
    as surplus charged to its users; a censored anchor is capped at its (larger) trial count + 1."""
    from mlir_opt.ops.efficiency import efficiency

    def L(*ts, tag="u"):
        return [("default", {}, 2.0)] + [("t", {tag: i}, t) for i, t in enumerate(ts)]

    runs = {"A": {"random": [L(1.5, 1.4, 1.3, 1.2, tag="r")],
                  "reuse": [L(1.9, 1.8, 1.7, 1.6, 1.5, 0.9, 1.1, 1.0)]},  # 8 proposals: 2x the budget
            "B": {"random": [L(1.5, 1.2, 0.8, 1.4, tag="r")], "reuse": [L(0.8, 1.6, 1.7, 1.9)]}}
    kw = dict(n_fixed={"A": 1, "B": 1}, searched={"A": "t", "B": "t"}, donors={"B": ["A"]},
              transferred={"A": [("t", {"u": 5}), ("t", {"u": 7})]})
    e = efficiency(runs, ["A", "B"], **kw)
    # A reached 0.9 at trial 7 (1 fixed + 6 proposals), beyond random's 5 trials; random never reached
    assert e["A"]["reuse_trials"] == 9 and e["A"]["reuse_trials_to_95"] == 7
    assert e["A"]["random_expected_trials_to_95"] is None and e["A"]["random_cap"] == 6
    # B used A's {"u": 7}, found at A's trial 9 > 7: a surplus of 2 charged to B
    assert e["B"]["reuse_trials_to_95"] == 2 and e["B"]["reuse_donor_share"] == 2
    assert e["B"]["reuse_charged_trials_to_95"] == 4
    # the anchor censored: capped at its own 9 trials + 1 by op_search's summary, and no surplus
    runs["A"]["reuse"] = [L(1.9, 1.8, 1.7, 1.6, 1.5, 1.3, 1.1, 1.0)]
    runs["A"]["random"] = [L(1.5, 0.8, 1.3, 1.2, tag="r")]  # the reference (0.8) now from random
    e = efficiency(runs, ["A", "B"], **kw)
    assert e["A"]["reuse_trials_to_95"] is None and e["A"]["reuse_trials"] == 9
    assert e["A"]["random_expected_trials_to_95"] == pytest.approx(1 + 5 / 2)
    assert e["B"]["reuse_donor_share"] == 0 and e["B"]["reuse_charged_trials_to_95"] == 2


def test_longer_random_budget_is_measured_and_the_reference_stays_the_best_of_all():
    """op_search.py --random-budget: random runs more trials than reuse. Its trials to 95 % is then
    measured over its whole (larger) pool instead of censored at reuse's budget; the reference is still
    the fastest schedule of all strategies, so a better schedule found only in random's extra trials
    raises the bar for reuse (censored at its own trials + 1), and the summary counts each side's
    censoring separately."""
    from mlir_opt.ops.efficiency import efficiency

    def L(*ts, tag):
        return [("default", {}, 2.0)] + [("t", {tag: i}, t) for i, t in enumerate(ts)]

    kw = dict(n_fixed={"A": 1, "B": 1}, searched={"A": "t", "B": "t"}, donors={"B": ["A"]},
              transferred={"A": [("t", {"u": 1})]})
    short = [L(1.5, 1.4, 1.3, tag="r")]  # random with reuse's budget: 3 proposals, no hit
    longer = [L(1.5, 1.4, 1.3, 1.2, 0.95, 1.1, 1.6, 1.7, 1.25, tag="r")]  # 9 proposals, one hit
    runs = {"A": {"random": short, "reuse": [L(1.9, 1.0, 1.8, tag="u")]},
            "B": {"random": [L(1.5, 1.3, 1.6, tag="r")], "reuse": [L(1.0, 1.7, 1.8, tag="u")]}}
    e = efficiency(runs, ["A", "B"], **kw)
    assert e["A"]["reference_ms"] == 1.0 and e["A"]["random_expected_trials_to_95"] is None
    assert e["A"]["random_cap"] == 5  # censored at its own 4 trials + 1
    runs["A"]["random"] = longer
    e = efficiency(runs, ["A", "B"], **kw)
    # random's extra trials found 0.95: the reference (best of all strategies) is now 0.95, target 1.0
    assert e["A"]["reference_ms"] == 0.95 and e["A"]["random_trials"] == 10
    # random's pool of 9 has one hit (0.95) -> 1 + 10 / 2, measured; reuse's 1.0 still reaches at trial 3
    assert e["A"]["random_expected_trials_to_95"] == pytest.approx(1 + 10 / 2) and e["A"]["random_cap"] == 11
    assert e["A"]["reuse_trials_to_95"] == 3
    # a random-only best beyond reuse's reach: reuse is censored (None, capped at its 4 trials + 1)
    runs["A"]["random"] = [L(1.5, 1.4, 1.3, 1.2, 0.8, 1.1, 1.6, 1.7, 1.25, tag="r")]
    e = efficiency(runs, ["A", "B"], **kw)
    assert e["A"]["reference_ms"] == 0.8 and e["A"]["reuse_trials_to_95"] is None
    assert e["A"]["random_expected_trials_to_95"] == pytest.approx(1 + 10 / 2)
    # per-side censoring in the set summary (caps: each side's own trials + 1)
    s = ratio_summary([(e["A"]["random_expected_trials_to_95"], e["A"]["reuse_charged_trials_to_95"],
                        e["A"]["random_cap"], e["A"]["reuse_trials"] + 1),
                       (None, 2.0, 11, 5), (12.0, 3.0, 11, 5)])
    assert (s.censored, s.censored_base, s.censored_strategy) == (2, 1, 1)
    assert s.median == pytest.approx(4.0)  # ratios 6/5, 11/2, 12/3
    assert "lower bound" in s.describe()
