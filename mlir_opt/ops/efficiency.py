"""Search efficiency: trials to reach 95 % of the best schedule, measured fairly across strategies.

Used by ``benchmarks/op_search.py``. Definitions (per workload):

* **one figure per schedule**: a schedule measured in several runs (IREE's default is measured by
  every strategy) gets the median of its measurements in all of them (:func:`harmonize`), so a
  lucky or unlucky timing of the same module in one run does not decide the comparison.
* **metric** ``retimed`` (the default of ``benchmarks/op_search.py``; :func:`retime_candidates`,
  :func:`apply_retimed`): the search's single measurements decide only which schedules *may*
  count. After all strategies ran on a workload, the distinct schedules whose (harmonized) search
  time is ≤ fastest / ``RETIME_WITHIN`` — the fastest of all schedules, and separately the fastest
  of the searched sketch — from every strategy, plus IREE's default, are rebuilt and re-timed side
  by side (interleaved rounds in one process). In every strategy's log, each such schedule then
  carries its re-timed median and every other successful trial counts as +inf (slower than
  anything re-timed: it cannot reach 95 %); failures stay failures. The reference and all
  trials-to-95 below are computed on these logs, for all strategies alike. Metric ``single`` (the
  old one) uses the harmonized search measurements as they are.
* **reference**: the fastest time any strategy measured for the workload (IREE's default and the
  knob-less alternatives included); a search *reaches 95 %* at the first trial whose best-so-far
  time is ≤ reference / 0.95. Trials count everything the search ran for the workload, in order:
  IREE's default and the fixed alternatives first (the same for every strategy), then the
  proposals, failures included.
* **random** (:func:`expected_random_trials`): not one run's luck but the expectation of random
  sampling without replacement over the pool of every random trial measured (one or several
  seeds, distinct decisions pooled): with ``N`` pooled trials of which ``m`` reach the target, the
  first hit of a uniformly random order is at ``(N + 1) / (m + 1)`` in expectation (exact for the
  pool), after the fixed trials. Random may run more trials per seed than the other strategies
  (``op_search.py --random-budget``) so that its figure is measured rather than censored: the pool
  is then larger, the expectation is the same statistic, and the reference stays the fastest
  schedule of *all* strategies' logs (random's extra trials can only lower it, i.e. raise the bar
  for every strategy, reuse included); each side is censored at its own trials run + 1.
* **reuse** (:func:`charge_reuse`): a workload's own trials to 95 %, plus a share of the *source*
  trials it relied on: a donor whose top schedules (those reuse transferred) were found only at
  its trial ``L`` must have run ``L`` trials, while its own search needed only its own
  trials-to-95 ``t``; the surplus ``max(0, L - t)`` is split evenly among the workloads that used
  that donor. A workload whose 95 % came at one of the fixed trials (IREE's default or a knob-less
  alternative, identical for every strategy and measured before any transferred schedule) relied
  on no donor trial and is charged none (it is not counted among the donor's users). Summed over a
  set, the charges are the set's own trials-to-95 plus the surplus of every donor that a workload
  relied on, so nothing is counted twice or left out. ``L`` covers everything reuse learned from a
  donor: :class:`~mlir_opt.ops.search.reuse.ReuseStrategy` trains its cost model only on the donor
  records measured up to the last schedule it transferred (``ReuseStrategy.used``). An anchor
  run with a larger budget (``op_search.py --reuse-anchor-budget``) is charged the same way: its own
  trials-to-95 as they fall (a censored anchor at its own, larger trial count + 1), and every
  transferred record it found after its own 95 % as its users' surplus. Evolutionary search (a fresh database per
  workload) uses no other workload's trials and is charged its own trials only.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import Iterable, Sequence

__all__ = ["LEVEL", "RETIME_WITHIN", "METRICS", "retime_candidates", "apply_retimed", "trials_to", "harmonize", "best_so_far", "reference_ms", "expected_random_trials", "Charge",
           "charge_reuse", "ratio_summary", "RatioSummary", "efficiency"]

#: The fraction of the best that counts as reached (95 %: time ≤ best / 0.95).
LEVEL = 0.95
#: Metric ``retimed``: schedules whose search time is ≤ fastest / RETIME_WITHIN are re-timed.
RETIME_WITHIN = 0.8
#: How trials-to-95 % reads times: ``retimed`` (side-by-side re-timing decides) or ``single``.
METRICS = ("retimed", "single")


def _sk(sketch: str, d: dict) -> tuple:
    return (sketch, tuple(sorted(d.items())))


def retime_candidates(logs: Sequence[Sequence[tuple[str, dict, float | None]]], *, searched: str | None = None,
                      within: float = RETIME_WITHIN, max_n: int | None = None,
                      strategies: Sequence[Sequence[int]] | None = None,
                      max_each: int | None = None) -> list[tuple[str, dict]]:
    """The schedules to re-time side by side for metric ``retimed`` (see the module docstring).

    ``logs``: every trial log of the workload, all strategies and seeds. Returns IREE's default
    (``("default", {})``) first, then every distinct schedule whose harmonized time is ≤ the
    fastest / ``within``, and those of the ``searched`` sketch ≤ its fastest / ``within``, fastest
    first; ``max_n`` caps each of the two groups (the fastest kept; None: no cap).

    ``strategies`` (indices into ``logs``, one group per strategy) with ``max_each``: each strategy's
    own fastest ``max_each`` schedules within ``within`` of *its* fastest are re-timed too. Without
    it, a strategy that ran many more trials (random with a larger budget, several seeds) fills the
    capped groups with its luckiest single measurements, and another strategy's best may never be
    re-timed — counted as not reaching 95 % although it might have.
    """
    harmonized = harmonize(logs)
    figures: dict[tuple, float] = {}
    dec: dict[tuple, tuple[str, dict]] = {}
    for log in harmonized:
        for sk, d, t in log:
            if t is not None:
                figures[_sk(sk, d)] = t
                dec[_sk(sk, d)] = (sk, dict(d))
    out = [_sk("default", {})]
    groups = [list(figures), [k for k in figures if k[0] == searched] if searched else []]
    for idx in (strategies or []) if max_each else []:
        own = {_sk(sk, d) for i in idx for sk, d, t in harmonized[i] if t is not None}
        groups.append([k for k in own if k[0] != "default"])
    for gi, group in enumerate(groups):
        cap = max_n if gi < 2 else max_each
        if not group:
            continue
        best = min(figures[k] for k in group)
        near = sorted((k for k in group if figures[k] <= best / within), key=lambda k: (figures[k], k))
        for k in near[:cap]:
            if k not in out:
                out.append(k)
    return [dec.get(k, ("default", {})) for k in out]


def apply_retimed(logs: Sequence[Sequence[tuple[str, dict, float | None]]],
                  retimed: dict[tuple, float]) -> list[list[tuple[str, dict, float | None]]]:
    """Logs for metric ``retimed``: a re-timed schedule (key ``(sketch, sorted decision items)``)
    gets its re-timed time, any other successful trial +inf, a failure stays None."""
    return [[(sk, d, None if t is None else retimed.get(_sk(sk, d), math.inf)) for sk, d, t in log]
            for log in logs]


def trials_to(curve: Sequence[float], target: float) -> int | None:
    """1-based index of the first best-so-far value ≤ ``target`` (None: never reached)."""
    for i, v in enumerate(curve):
        if v <= target:
            return i + 1
    return None


def reference_ms(logs: Iterable[Sequence[tuple[str, dict, float | None]]]) -> float | None:
    """The fastest time in any of the trial logs (``(sketch, decisions, ms or None)`` entries)."""
    ts = [t for log in logs for _, _, t in log if t is not None and t < math.inf]
    return min(ts) if ts else None


def harmonize(logs: Sequence[Sequence[tuple[str, dict, float | None]]]) -> list[list[tuple[str, dict, float | None]]]:
    """The logs with each schedule's time replaced by the median of its successful measurements
    across all the logs (a failure stays a failure)."""
    seen: dict[tuple, list[float]] = {}
    for log in logs:
        for sketch, d, t in log:
            if t is not None:
                seen.setdefault((sketch, tuple(sorted(d.items()))), []).append(t)
    return [[(sk, d, None if t is None else statistics.median(seen[(sk, tuple(sorted(d.items())))]))
             for sk, d, t in log] for log in logs]


def best_so_far(log: Sequence[tuple[str, dict, float | None]]) -> list[float]:
    """Best time after each trial of ``log`` (inf until a trial succeeds)."""
    out, cur = [], math.inf
    for _, _, t in log:
        if t is not None and t < cur:
            cur = t
        out.append(cur)
    return out


def expected_random_trials(logs: Sequence[Sequence[tuple[str, dict, float | None]]], n_fixed: int,
                           target: float) -> tuple[float | None, int, int]:
    """Expected trials to reach ``target`` for random sampling without replacement.

    Args:
        logs: trial logs of one or more random runs of the workload; the first ``n_fixed``
            entries of each are the fixed trials (IREE's default, knob-less alternatives).
        target: the time to reach (reference / 0.95).
    Returns:
        ``(expected trials or None if no pooled trial reaches it, pool size N, hits m)``.
    """
    fixed = logs[0][:n_fixed]
    hit = trials_to(best_so_far(fixed), target)
    pool: dict[tuple, list[float | None]] = {}
    for log in logs:
        for sketch, d, t in log[n_fixed:]:
            pool.setdefault((sketch, tuple(sorted(d.items()))), []).append(t)
    times = []
    for ts in pool.values():  # a schedule measured in several runs: its median (failures as None)
        ok = [t for t in ts if t is not None]
        times.append(statistics.median(ok) if ok else None)
    n, m = len(times), sum(1 for t in times if t is not None and t <= target)
    if hit is not None:
        return float(hit), n, m
    if m == 0:
        return None, n, m
    return n_fixed + (n + 1) / (m + 1), n, m


@dataclass
class Charge:
    """Reuse trials charged to one workload: its own trials-to-95 plus its share of donor surplus."""

    own: int | None
    share: float
    donors: list[str]

    @property
    def total(self) -> float | None:
        return None if self.own is None else self.own + self.share


def charge_reuse(order: Sequence[str], own: dict[str, int | None], trials: dict[str, int],
                 donors: dict[str, list[str]], last_used: dict[str, int],
                 retime_cost: dict[str, int] | None = None) -> dict[str, Charge]:
    """Charge reuse's trials fairly (see the module docstring).

    Args:
        order: workload keys in the order they were tuned.
        own: each workload's own trials-to-95 (None: not reached within its trials).
        trials: trials each workload's search ran.
        donors: the donors each workload drew on (tuned before it).
        last_used: for each donor, the trial at which the last of its transferred schedules was found.
        retime_cost: for each donor, the trials spent re-timing its top schedules (each rebuilt and
            re-timed schedule counts as one), split among its users like the surplus.
    """
    retime_cost = retime_cost or {}
    users: dict[str, list[str]] = {}
    for k in order:
        for d in donors.get(k, []):
            users.setdefault(d, []).append(k)
    surplus = {}
    for d, us in users.items():
        needed = own.get(d) if own.get(d) is not None else trials.get(d, 0)
        surplus[d] = (max(0, last_used.get(d, 0) - needed) + retime_cost.get(d, 0)) / len(us)
    return {k: Charge(own.get(k), sum(surplus[d] for d in donors.get(k, [])), list(donors.get(k, [])))
            for k in order}


@dataclass
class RatioSummary:
    """Per-set ratios baseline/strategy of trials to 95 % (≥ 5 meets the issue's reuse target)."""

    n: int
    median: float | None
    geomean: float | None
    total: float | None
    censored: int
    #: workloads where the baseline (random) never reached 95 %: its ratio is a lower bound
    censored_base: int = 0
    #: workloads where the strategy never reached 95 %: its ratio is an upper bound
    censored_strategy: int = 0

    def describe(self) -> str:
        if not self.n:
            return "no workload with both figures"
        cen = (f", {self.censored} censored (a side never reached 95 %: counted at its trials + 1; "
               f"baseline {self.censored_base} = ratio a lower bound, strategy {self.censored_strategy} "
               "= an upper bound)") if self.censored else ""
        return (f"median {self.median:.2f}×, geometric mean {self.geomean:.2f}×, "
                f"total {self.total:.2f}× over {self.n} workloads{cen}")


def ratio_summary(pairs: Sequence[tuple[float | None, float | None, float, float]]) -> RatioSummary:
    """Summarize ``(baseline, strategy, baseline_cap, strategy_cap)`` trial figures per workload.

    A None figure (never reached) is replaced by its cap (trials run + 1) and counted as censored,
    per side: a censored baseline makes that ratio a lower bound, a censored strategy an upper bound.
    The caps are each side's own: a baseline run longer than the strategy
    (``op_search.py --random-budget``) is capped at its own, larger trial count.
    """
    ratios, num, den, cb, cs = [], 0.0, 0.0, 0, 0
    for base, strat, bcap, scap in pairs:
        if base is None and strat is None:
            continue
        cb, cs = cb + (base is None), cs + (strat is None)
        b = base if base is not None else bcap
        s = strat if strat is not None else scap
        ratios.append(b / s)
        num, den = num + b, den + s
    if not ratios:
        return RatioSummary(0, None, None, None, 0)
    gm = math.exp(sum(math.log(r) for r in ratios) / len(ratios))
    return RatioSummary(len(ratios), statistics.median(ratios), gm, num / den, cb + cs, cb, cs)


Log = Sequence[tuple[str, dict, "float | None"]]


def efficiency(runs: dict[str, dict[str, list[Log]]], order: Sequence[str], *, n_fixed: dict[str, int],
               searched: dict[str, str | None], donors: dict[str, list[str]] | None = None,
               transferred: dict[str, list[tuple[str, dict]]] | None = None,
               search_only: bool = False, retimed: dict[str, dict[tuple, float]] | None = None,
               retime_cost: dict[str, int] | None = None) -> dict[str, dict]:
    """Trials-to-95 % figures for every workload and strategy, by the rules of this module.

    Args:
        runs: ``{workload: {strategy: [trial log, ...]}}``; several logs only for ``random``
            (seeds pooled for the expected figure; the first is "the" run).
        order: workloads in the order they were tuned (reuse donors come first).
        n_fixed: fixed trials (IREE's default + knob-less alternatives) at the head of each log.
        searched: the searched sketch's name per workload.
        donors: reuse's donors per workload; transferred: per donor, the ``(sketch, decisions)``
            reuse transferred from it (its top schedules).
        search_only: count only the searched sketch's trials (fixed trials dropped, reference =
            the best searched schedule): the search strategies' own efficiency, which the fixed
            trials (identical for all strategies) would otherwise mask where an alternative such as
            img2col is already within 95 % of the best.
    Returns:
        per workload: ``reference_ms``, ``<strategy>_trials``, ``<strategy>_trials_to_95``, for
        random ``random_expected_trials_to_95`` / ``random_pool`` / ``random_pool_hits`` /
        ``random_cap``, for reuse ``reuse_donor_share`` / ``reuse_charged_trials_to_95``.
    """
    donors, transferred = donors or {}, transferred or {}
    out: dict[str, dict] = {}
    logs_of: dict[str, dict[str, list]] = {}
    for key in order:
        flat = [(s, i) for s, ls in runs[key].items() for i in range(len(ls))]
        hl = harmonize([runs[key][s][i] for s, i in flat])
        if retimed is not None:
            hl = apply_retimed(hl, retimed.get(key, {}))
        logs: dict[str, list] = {}
        for (s, _), log in zip(flat, hl):
            if search_only:
                log = [e for e in log if e[0] == searched.get(key)]
            logs.setdefault(s, []).append(log)
        logs_of[key] = logs
        nf = 0 if search_only else n_fixed.get(key, 1)
        ref = reference_ms([lg for ls in logs.values() for lg in ls])
        target = ref / LEVEL if ref else 0.0
        row: dict = {"reference_ms": ref}
        for s, ls in logs.items():
            row[f"{s}_trials"] = len(ls[0])
            row[f"{s}_trials_to_95"] = trials_to(best_so_far(ls[0]), target) if ref else None
        if "random" in logs and ref:
            e, n, m = expected_random_trials(logs["random"], nf, target)
            row.update(random_expected_trials_to_95=e, random_pool=n, random_pool_hits=m, random_cap=nf + n + 1)
        out[key] = row
    if any("reuse" in runs[k] for k in order):
        last_used = {}
        for d in {d for k in order for d in donors.get(k, [])}:
            want = {(sk, tuple(sorted(dec.items()))) for sk, dec in transferred.get(d, [])}
            log = logs_of.get(d, {}).get("reuse", [[]])[0]
            idx = [i + 1 for i, (sk, dec, _) in enumerate(log) if (sk, tuple(sorted(dec.items()))) in want]
            last_used[d] = max(idx, default=0)
        ks = [k for k in order if "reuse" in runs[k]]

        def at_fixed(k: str) -> bool:  # 95 % reached before any proposal (the fixed trials): no donor relied on
            t = out[k]["reuse_trials_to_95"]
            return t is not None and t <= (0 if search_only else n_fixed.get(k, 1))

        ch = charge_reuse(ks, {k: out[k]["reuse_trials_to_95"] for k in ks}, {k: out[k]["reuse_trials"] for k in ks},
                          {k: [] if at_fixed(k) else donors.get(k, []) for k in ks}, last_used, retime_cost)
        for k, c in ch.items():
            out[k].update(reuse_donors=c.donors, reuse_donor_share=c.share, reuse_charged_trials_to_95=c.total,
                          reuse_reached_at_fixed_trial=at_fixed(k),
                          reuse_donor_last_used=last_used.get(k),
                          reuse_donor_retime_trials=(retime_cost or {}).get(k))
    return out
