"""The operator-level tuner: per-dispatch schedule search plus module-level choices, end to end.

1. Profile the dispatches IREE forms (time per invocation × invocations = share of the model).
2. For each tunable workload, measure IREE's default, then spend the trial budget across workloads
   in proportion to their share (a task scheduler, as in Ansor/MetaSchedule), in batches: the
   strategy proposes, the evaluator builds/checks/times/records.
3. Confirm each per-workload best that beat the default in the search: rebuild it next to IREE's
   default and time both again, interleaved in this process (:mod:`.confirm`); only bests still
   faster by :data:`MIN_GAIN` enter the tuning spec (or transform library); the others keep IREE's
   default and are reported as "not confirmed" with both figures.
4. Module-level choices (data tiling, micro-kernels; for models with convolutions also the
   channels-last and img2col layout pre-passes; ``packed+library``, the model with the confirmed
   ``mmt4d_script`` winners' contractions rewritten as pack + mmt4d + unpack and their strategies
   in the transform library; ``packed_all+library``, every packable contraction whose B is a constant
   weight (or whose packed schedule beat IREE's default alone) packed with its best measured
   ``mmt4d_script`` schedule (:func:`packed_all_plan`); on llvm-cpu ``mmt4d_script`` is searched by default besides
   each matmul's main sketch, :data:`.space.ALSO_SEARCHED`) cannot be set per op in IREE 3.13, so they are
   measured end to end on the whole model, next to "default" and "default + spec", interleaved in
   one run; every variant is checked against the reference first. The fastest correct one wins.

Ctrl-C during step 2 stops the search and keeps the best schedules found so far (all measurements
are already in the database).
"""

from __future__ import annotations

import logging
import random
import re
import tempfile
import time
from fnmatch import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..backend import benchmark_many, compile_module, default_threads, get_target
from ..db import Database
from ..errors import MlirOptError
from ..model import Model
from .dispatches import Dispatch, Workload, profile_dispatches
from .confirm import CONFIRM_ROUNDS, Confirmation, confirm_schedule
from .evaluate import Evaluator, MeasureResult
from .schedule import Schedule, render_tuning_spec
from .transform_script import SCRIPT_SKETCHES, render_transform_library
from .search import get_strategy
from .space import (ALSO_SEARCHED, ALSO_SHARE, IMG2COL_FLAG, NEEDS_MODULE_REWRITE, also_sketches,
                    fixed_schedules, search_sketch, sketches_for)

__all__ = ["WorkloadResult", "TuneResult", "tune_model", "tune_workloads", "confirm_bests", "packed_variant", "best_measured", "select_variants",
           "GLOBAL_VARIANTS", "MIN_GAIN"]

#: Module-level variants measured end to end: name -> (extra flags, use the tuning spec).
GLOBAL_VARIANTS = {
    "default": ([], False),
    "default+spec": ([], True),
    "data_tiling": (["--iree-opt-data-tiling"], False),
    "data_tiling+ukernels": (["--iree-opt-data-tiling", "--iree-llvmcpu-enable-ukernels=mmt4d"], False),
}
log = logging.getLogger("mlir_opt.ops")

#: Convolution layout pre-passes (IREE preprocessing), tried as module-level variants when the model
#: has convolution dispatches: channels-last (NHWC) and img2col (conv as matmul).
_PRE = "--iree-preprocessing-pass-pipeline=builtin.module(util.func({}))"
CONV_VARIANTS = {
    "channels_last": ([_PRE.format("iree-preprocessing-convert-conv-to-channels-last")], False),
    "img2col": ([_PRE.format("iree-global-opt-convert-conv2d-to-img2col")], False),
    "channels_last+data_tiling": ([_PRE.format("iree-preprocessing-convert-conv-to-channels-last"),
                                   "--iree-opt-data-tiling"], False),
    "img2col+data_tiling": ([_PRE.format("iree-global-opt-convert-conv2d-to-img2col"), "--iree-opt-data-tiling"],
                            False),
}
#: A tuned schedule must beat IREE's default by this factor to enter the spec (timing noise guard):
#: in the search's figures, then again in the interleaved confirmation timing (:mod:`.confirm`).
MIN_GAIN = 0.97


@dataclass
class WorkloadResult:
    """Search outcome for one workload."""

    workload: Workload
    weight: float = 0.0
    default_ms: float | None = None
    best: Schedule | None = None
    best_ms: float | None = None
    trials: int = 0
    failures: int = 0
    history: list[tuple[dict, float | None]] = field(default_factory=list)
    best_so_far: list[float] = field(default_factory=list)
    #: every trial in order: (sketch, decisions, median ms or None when it failed)
    log: list[tuple[str, dict, float | None]] = field(default_factory=list)
    #: the re-timing of ``best`` against IREE's default (None: not run)
    confirmation: Confirmation | None = None
    #: sketches searched besides the main one (``also`` of :func:`tune_workloads`): their history
    also_history: dict[str, list[tuple[dict, float | None]]] = field(default_factory=dict)
    #: what the ``packed_all+library`` module variant does with this workload and why (None: that
    #: variant was not built; :func:`packed_all_plan`)
    packed_all: str | None = None

    @property
    def speedup(self) -> float | None:
        """Search-time speedup of ``best`` over IREE's default (see :attr:`kept` for the verdict)."""
        if self.default_ms and self.best_ms:
            return self.default_ms / self.best_ms
        return None

    @property
    def beats_default(self) -> bool:
        """``best`` beat IREE's default by :data:`MIN_GAIN` in the search's own figures."""
        return self.best is not None and bool(self.default_ms) and self.best_ms < MIN_GAIN * self.default_ms

    @property
    def kept(self) -> bool:
        """``best`` goes into the spec/library: it beat the default and, if re-timed, was confirmed."""
        return self.beats_default and (self.confirmation is None or self.confirmation.confirmed)

    def to_dict(self) -> dict:
        return {"workload": self.workload.key, "weight_ms": self.weight, "default_ms": self.default_ms,
                "best_ms": self.best_ms, "speedup": self.speedup, "trials": self.trials,
                "failures": self.failures, "best": self.best.describe() if self.best else None,
                "best_so_far_ms": self.best_so_far, "kept": self.kept,
                "also_searched": {k: len(v) for k, v in self.also_history.items()},
                "confirmation": self.confirmation.to_dict() if self.confirmation else None,
                "packed_all": self.packed_all}

    def note(self, chosen: str | None = None) -> str:
        """The verdict shown after the best schedule in reports: the re-timing's (confirmed or not),
        else that IREE's default is kept when the best did not beat it; plus, when the chosen
        module variant is ``packed_all+library``, what that variant did with this workload."""
        from ..report import verdict_extras

        c = self.confirmation
        head = f" [{c.describe()}" + ("]" if c.confirmed else "; IREE default kept]") if c is not None else ""
        return head + verdict_extras(self.to_dict(), chosen, confirmed=c is not None)


@dataclass
class TuneResult:
    """What tuning a model produced: flags, spec, per-workload and per-variant results."""

    flags: list[str]
    tuning_spec: str | None
    chosen: str
    workloads: dict[str, WorkloadResult]
    dispatches: list[Dispatch]
    variants_ms: dict[str, float]
    trials: int
    seconds: float
    interrupted: bool = False
    history: list[float] = field(default_factory=list)
    candidate_spec: str | None = None  # the per-dispatch winners' spec, even when not chosen
    #: transform library (script-form winners + config entries) when the chosen variant uses it
    transform_library: str | None = None
    candidate_library: str | None = None
    #: the module to compile instead of the input when the chosen variant rewrites it
    #: (``packed+library``: the ``mmt4d_script`` winners' contractions packed, :mod:`.packing`)
    model: Model | None = None
    #: sketches searched besides each workload's main one (no sketch named: :data:`~.space.ALSO_SEARCHED`)
    also: tuple[str, ...] = ()


def _measure(ev: Evaluator, res: WorkloadResult, schedules: list[Schedule],
             search: str | None = None) -> list[MeasureResult]:
    """Evaluate and fold into ``res``; only the searched sketch's results enter its history (those
    of a sketch searched besides it, :attr:`WorkloadResult.also_history`, enter that one's)."""
    out = ev.evaluate(schedules)
    for r in out:
        res.trials += 1
        t = r.median_ms if r.ok else None
        res.log.append((r.schedule.sketch, r.schedule.decisions, t))
        if not r.ok:
            res.failures += 1
        if r.schedule.sketch == "default":
            res.default_ms = t
        else:
            if r.schedule.sketch == search:
                res.history.append((r.schedule.decisions, t))
            elif r.schedule.sketch in res.also_history:
                res.also_history[r.schedule.sketch].append((r.schedule.decisions, t))
            if t is not None and (res.best_ms is None or t < res.best_ms):
                res.best, res.best_ms = r.schedule, t
        cur = min([x for x in (res.best_ms, res.default_ms) if x is not None], default=None)
        if cur is not None:
            res.best_so_far.append(cur)
    return out


def tune_workloads(workloads: dict[str, tuple[Workload, float]], *, strategy="evolutionary", budget: int = 64,
                   db: Database | None = None, target: str = "llvm-cpu", seed: int = 0, batch: int | None = None,
                   reps: int = 5, progress: Callable[[str, int, int], None] | None = None,
                   evaluator: Evaluator | None = None,
                   sketch: str | None = None, threads: int | None = None,
                   cpu_time: bool = False, also: tuple[str, ...] = ()) -> tuple[dict[str, WorkloadResult], bool]:
    """Search schedules for ``{key: (workload, weight)}`` within ``budget`` trials in total.

    ``also`` names sketches searched *besides* each workload's main sketch where they apply (e.g.
    ``("mmt4d_script",)``, what :func:`tune_model` passes when no sketch is named on llvm-cpu,
    :data:`~.space.ALSO_SEARCHED`): their :data:`~.space.SEARCH_SEEDS` are measured right after
    IREE's default, and they get :data:`~.space.ALSO_SHARE` of the workload's search trials each
    (a separate strategy instance and history per sketch); their schedules compete for
    :attr:`WorkloadResult.best` like any other.

    ``threads`` / ``cpu_time`` configure the trials' timing when no ``evaluator`` is given
    (``threads=1, cpu_time=True``: process CPU time per call, steady under load; such records are
    kept apart from wall-time ones, :func:`~mlir_opt.ops.evaluate.record_target`).

    ``sketch`` names the sketch to search where it applies (e.g. ``transform_script`` for f32
    matmuls); elsewhere, and by default, each workload's :func:`search_sketch`.
    Returns per-workload results and whether the search was interrupted (Ctrl-C).
    """
    from .space import SKETCH_FLAGS

    if sketch is not None and sketch not in SKETCH_FLAGS:
        raise MlirOptError(f"unknown sketch {sketch!r} (available: {', '.join(SKETCH_FLAGS)})")
    ev = evaluator or Evaluator(target, db, reps=reps, seed=seed, threads=threads, cpu_time=cpu_time)
    if strategy == "reuse":
        from .search.reuse import ReuseStrategy

        strat = ReuseStrategy(ev.db, ev.target.name, db_target=ev.db_target, threads=ev.threads,
                              cpu_time=ev.cpu_time)
    else:
        strat = get_strategy(strategy)
    if hasattr(strat, "warm_start"):
        strat.warm_start(ev.db, ev.db_target)
    rng = random.Random(seed)
    batch = batch or 2 * ev.jobs
    results = {k: WorkloadResult(w, weight) for k, (w, weight) in workloads.items()}
    done = 0
    interrupted = False
    try:
        wanted = sketch
        sketch = {}
        side: dict[str, list] = {}  # key -> sketches searched besides sketch[key]
        for k, r in results.items():
            named = [s_ for s_ in sketches_for(r.workload, ev.target.name) if s_.name == wanted and s_.knobs]
            sketch[k] = named[0] if named else search_sketch(r.workload, ev.target.name)
            side[k] = [s_ for s_ in also_sketches(r.workload, ev.target.name, sketch[k].name) if s_.name in also]
            r.also_history = {s_.name: [] for s_ in side[k]}
        side_strat = {n: _fresh_strategy(strategy, ev) for n in {s_.name for v in side.values() for s_ in v}}
        for n, st in side_strat.items():
            if hasattr(st, "warm_start"):  # as the main strategy above, on the side sketch's records
                st.warm_start(ev.db, ev.db_target, sketch=n)
        first = {}
        for k, r in results.items():  # IREE's default first: the bar every schedule must clear
            # plus fixed alternatives (img2col for a conv, data tiling routes for a matmul), measured once
            first[k] = [Schedule(r.workload, "default", {})] + \
                [Schedule(r.workload, n, d, ev.target.name)
                 for n, d in fixed_schedules(r.workload, ev.target.name, sketch[k].name,
                                             tuple(s_.name for s_ in side[k]))]
        passes = [first]
        if any(side.values()):
            # side sketches: every workload's default and seeds before any workload's data tiling routes,
            # so that a small budget still measures the packed route everywhere (packed_all+library)
            seeded = {k: {sketch[k].name} | {s_.name for s_ in side[k]} for k in results}
            head = {k: 1 + next((i for i, x in enumerate(f[1:]) if x.sketch not in seeded[k]), len(f) - 1)
                    for k, f in first.items()}
            passes = [{k: f[: head[k]] for k, f in first.items()}, {k: f[head[k]:] for k, f in first.items()}]
        for i, todo in enumerate(passes):
            for k, r in results.items():
                n = min(len(todo[k]), max(1 if i == 0 else 0, budget - done))
                if n:
                    _measure(ev, r, todo[k][:n], sketch[k].name)
                    done += n
                    if progress:
                        progress(f"default {k}", done, budget)
        start = {k: r.trials for k, r in results.items()}
        left = max(0, budget - done)
        # Reuse searches one workload after the other (anchors first, :meth:`ReuseStrategy.order`),
        # so that later workloads find the earlier ones in the database as donors; other
        # strategies go round-robin over the workloads.
        seq = strat.order([(k, r.workload, r.weight) for k, r in results.items()]) \
            if callable(getattr(strat, "order", None)) else None
        wt = {k: max(r.weight, 1e-9) for k, r in results.items()}
        if seq is not None and callable(getattr(strat, "anchor_keys", None)):
            # anchors (no donor before them) get a larger share: later workloads inherit their bests
            for k in strat.anchor_keys([(k, sketch[k]) for k in seq]):
                wt[k] *= getattr(strat, "anchor_weight", 1.0)
        total_w = sum(wt.values())
        quota = {k: max(2, round(left * wt[k] / total_w)) for k in results}
        if seq is not None and sum(quota.values()) > left:
            # one after the other, rounded-up quotas would starve the last (lightest) workloads:
            # each gets 2 (while the budget lasts), the rest is split by weight, rounded down
            spare = max(0, left - 2 * len(seq))
            quota = {k: min(2, max(0, left - 2 * i)) + int(spare * wt[k] / total_w)
                     for i, k in enumerate(seq)}
            quota[seq[0]] += max(0, left - sum(quota.values()))  # the rounding remainder to the first
        # each workload's quota split between its sketches: ALSO_SHARE (rounded down) per side sketch
        share = {k: {s_.name: int(quota[k] * ALSO_SHARE) for s_ in side[k]} for k in results}
        share = {k: {sketch[k].name: quota[k] - sum(v.values()), **v} for k, v in share.items()}
        used = {k: {n: 0 for n in v} for k, v in share.items()}
        sks = {k: {sketch[k].name: (sketch[k], strat), **{s_.name: (s_, side_strat[s_.name]) for s_ in side[k]}}
               for k in results}
        while done < budget:
            active = [k for k in results if results[k].trials - start[k] < quota[k]]
            if seq is not None:
                active = [k for k in seq if k in active][:1]
            if not active:
                break
            progressed = False
            for k in active:
                r = results[k]
                # the sketch furthest behind its share of the trials (the main one on ties)
                open_ = [n for n in share[k] if used[k][n] < share[k][n]]
                if not open_:
                    quota[k] = r.trials - start[k]
                    continue
                name = min(open_, key=lambda n_: used[k][n_] / share[k][n_])
                sk, st = sks[k][name]
                n = min(batch, share[k][name] - used[k][name], budget - done)
                if n <= 0:
                    continue
                hist = r.history if name == sketch[k].name else r.also_history[name]
                props = st.propose(sk, hist, n, rng)
                if not props:
                    share[k][name] = used[k][name]  # space exhausted
                    quota[k] = sum(share[k].values())
                    continue
                used[k][name] += len(props)
                _measure(ev, r, [Schedule(r.workload, name, d, ev.target.name) for d in props],
                         sketch[k].name)
                done += len(props)
                progressed = True
                if progress:
                    best = f"{r.default_ms / r.best_ms:.2f}x" if r.best_ms and r.default_ms else "-"
                    progress(f"{k} best {best}", done, budget)
                if done >= budget:
                    break
            if not progressed:
                break
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if evaluator is None:
            ev.close()
    return results, interrupted


def _fresh_strategy(strategy, ev: Evaluator):
    """A new strategy instance like ``strategy`` (a name or an instance) for a side sketch, so that
    its state (cost model, seeds per workload) is not shared with the main sketch's."""
    name = strategy if isinstance(strategy, str) else getattr(strategy, "name", "random")
    if name == "reuse":
        from .search.reuse import ReuseStrategy

        return ReuseStrategy(ev.db, ev.target.name, db_target=ev.db_target, threads=ev.threads,
                             cpu_time=ev.cpu_time)
    try:
        return get_strategy(name)
    except MlirOptError:
        return get_strategy("random")


def confirm_bests(results: dict[str, WorkloadResult], *, target: str = "llvm-cpu", threads: int | None = None,
                  margin: float = MIN_GAIN, rounds: int = CONFIRM_ROUNDS,
                  progress: Callable[[str, int, int], None] | None = None, cpu_time: bool = False) -> None:
    """Re-time every best that beat its default in the search against IREE's default (interleaved).

    Sets ``confirmation`` on those results; :attr:`WorkloadResult.kept` then holds the verdict. On
    Ctrl-C the bests not re-timed yet are marked not confirmed (error "interrupted") and the
    KeyboardInterrupt propagates.
    """
    todo = [r for r in results.values() if r.beats_default]
    try:
        for i, r in enumerate(todo):
            if progress:
                progress(f"confirming {r.workload.key}", i, len(todo))
            r.confirmation = confirm_schedule(r.best, margin=margin, target=target, rounds=rounds, threads=threads,
                                              cpu_time=cpu_time)
    except KeyboardInterrupt:
        for r in todo:
            if r.confirmation is None:
                r.confirmation = Confirmation(None, None, None, 0, margin, False, error="interrupted")
        raise


def tune_model(model: Model, *, strategy="evolutionary", budget: int = 64, db: Database | None = None,
               target: str = "llvm-cpu", seed: int = 0, reps: int = 5, threads: int | None = None,
               progress: Callable[[str, int, int], None] | None = None, global_variants: bool = True,
               sketch: str | None = None, confirm: bool = True, cpu_time: bool = False,
               variants: str | None = None) -> TuneResult:
    """Tune every tunable dispatch of ``model`` and pick the fastest module-level variant.

    Args:
        model: the (graph-optimized) model.
        strategy: ``random`` or ``evolutionary`` (or a strategy object).
        budget: total per-dispatch trials (IREE defaults included).
        db: tuning database (records reused across runs and models; created if missing).
        progress: callback ``(message, done, total)``.
        global_variants: also measure data tiling / micro-kernels end to end.
        sketch: search this sketch where it applies (e.g. ``transform_script``); script-form
            winners go into a transform library (``--iree-codegen-transform-dialect-library``),
            measured end to end as the ``default+library`` variant. ``None`` (the default): each
            workload's :func:`~.space.search_sketch`, and on llvm-cpu also ``mmt4d_script`` for f32
            matmuls / batch_matmuls (:data:`~.space.ALSO_SEARCHED`: its seed plus a share of the
            trials), so the packed module variants below are measured without naming the sketch;
            naming a sketch (even ``double_tiling``) searches that one alone, as before.
        confirm: re-time each best against IREE's default before it enters the spec
            (:func:`confirm_bests`); unconfirmed workloads keep the default.
        threads, cpu_time: the trials, the confirmation and the variant timing run at ``threads``;
            ``cpu_time`` times them by process CPU time per call (load-robust with ``threads=1``;
            trial records go under :func:`~mlir_opt.ops.evaluate.record_target`).
        variants: restrict the module-level choice to the variants whose names match this
            ``fnmatch`` pattern, e.g. ``"packed*"`` (``default`` is still compiled as the
            reference); MlirOptError when none matches or none of them passes the check.
    """
    t0 = time.perf_counter()
    tgt = get_target(target)
    threads = threads or default_threads()
    db = db if db is not None else Database()
    if progress:
        progress("profiling dispatches", 0, budget)
    dispatches = profile_dispatches(model, tgt, threads=threads)
    wl: dict[str, tuple[Workload, float]] = {}
    for d in dispatches:
        if d.workload is None:
            continue
        w, acc = wl.get(d.workload.key, (d.workload, 0.0))
        wl[d.workload.key] = (w, acc + d.count * (d.time_ms or 0.0))
    # no sketch named: the packed route (mmt4d_script) is searched too where it applies (ALSO_SEARCHED)
    also = ALSO_SEARCHED.get(tgt.name, ()) if sketch is None else ()
    results, interrupted = tune_workloads(wl, strategy=strategy, budget=budget, db=db, target=tgt.name,
                                          seed=seed, reps=reps, progress=progress, sketch=sketch,
                                          threads=threads, cpu_time=cpu_time, also=also)
    if confirm:
        try:
            confirm_bests(results, target=tgt.name, threads=threads, cpu_time=cpu_time,
                          progress=(lambda msg, _d, _t: progress(msg, budget, budget)) if progress else None)
        except KeyboardInterrupt:
            interrupted = True
    winners = [r.best for r in results.values() if r.kept and r.best.sketch not in NEEDS_MODULE_REWRITE]
    packed_winners = [r.best for r in results.values() if r.kept and r.best.sketch == "mmt4d_script"]
    spec = render_tuning_spec(winners)
    library = render_transform_library(winners) if any(w.sketch in SCRIPT_SKETCHES for w in winners) else None
    models, packed_library = packed_variant(model, winners, packed_winners)
    libraries = {"packed_library": packed_library} if packed_library else {}
    if sketch == "mmt4d_script" or "mmt4d_script" in also:
        # The search times single-op modules whose B is an argument, packed on every call; in a model
        # a constant weight is packed once at compile time. So the route is also measured end to end
        # for every packable contraction, each with its best measured mmt4d_script schedule.
        best = packed_all_plan(model, results)
        if best and set(best) != {w.workload.key for w in packed_winners}:
            all_models, all_library = packed_variant(model, winners, list(best.values()))
            if all_library is not None:
                models["packed_all+library"] = all_models["packed+library"]
                libraries["packed_all_library"] = all_library
    history: list[float] = []
    for r in results.values():
        history.extend(r.best_so_far)
    pattern, variants = variants, {"default": GLOBAL_VARIANTS["default"]}
    if spec is not None:
        variants["default+spec"] = GLOBAL_VARIANTS["default+spec"]
    if any(IMG2COL_FLAG in w.flags() for w in winners if w.compilation_info()):
        # img2col_tiling schedules match the matmuls the img2col pre-pass makes: module-wide flag
        variants["img2col+spec"] = ([IMG2COL_FLAG], True)
    if library is not None:  # the library carries the config-form winners too
        variants["default+library"] = ([], "library")
        if "img2col+spec" in variants:
            variants["img2col+library"] = ([IMG2COL_FLAG], "library")
    if packed_library is not None:
        variants["packed+library"] = ([], "packed_library")
    if "packed_all_library" in libraries:
        variants["packed_all+library"] = ([], "packed_all_library")
    if global_variants:
        variants.update({k: v for k, v in GLOBAL_VARIANTS.items() if k.startswith("data_tiling")})
        if packed_library is not None:  # data tiling for the contractions left unpacked (verified: the
            # pre-packed mmt4d ops keep their strategy under --iree-opt-data-tiling)
            variants["packed+library+data_tiling"] = (["--iree-opt-data-tiling"], "packed_library")
            models["packed+library+data_tiling"] = models["packed+library"]
        if any(d.kind.startswith("conv") or d.root_op.startswith("linalg.conv") for d in dispatches):
            variants.update(CONV_VARIANTS)
    for w in winners:  # flag-form winners (data tiling routes): module-level, not in the spec
        if w.sketch == "data_tiling" and (w.flags(), False) not in variants.values():
            variants[w.describe()] = (w.flags(), False)
    variants, allowed = select_variants(variants, pattern)
    variants_ms, chosen = _pick_variant(model, tgt, variants, spec, threads, progress, budget, library,
                                        libraries, models, cpu_time, allowed)
    flags, use = variants[chosen]
    trials = sum(r.trials for r in results.values())
    chosen_library = library if use == "library" else libraries.get(use) if isinstance(use, str) else None
    return TuneResult(list(flags), spec if use is True else None, chosen, results, dispatches, variants_ms,
                      trials, time.perf_counter() - t0, interrupted, history, spec,
                      chosen_library, packed_library or library, models.get(chosen), tuple(also))


def select_variants(variants: dict, pattern: str | None) -> tuple[dict, set[str] | None]:
    """``(variants to compile, names the choice is restricted to)`` for a ``fnmatch`` pattern:
    the matching variants plus ``default`` (the reference); ``(variants, None)`` without a pattern."""
    if pattern is None:
        return variants, None
    allowed = {k for k in variants if fnmatch(k, pattern)}
    if not allowed:
        raise MlirOptError(f"--variants {pattern!r} matches none of the module-level variants of this run "
                           f"({', '.join(variants)})")
    return {k: v for k, v in variants.items() if k == "default" or k in allowed}, allowed


def best_measured(r: WorkloadResult, sketch: str) -> Schedule | None:
    """The fastest correct schedule of ``sketch`` measured for ``r``'s workload (None: none)."""
    got = _best_measured(r, sketch)
    return got[0] if got else None


def _best_measured(r: WorkloadResult, sketch: str) -> tuple[Schedule, float] | None:
    ok = [(t, d) for sk, d, t in r.log if sk == sketch and t is not None]
    if not ok:
        return None
    t, d = min(ok, key=lambda x: x[0])
    return Schedule(r.workload, sketch, dict(d)), t


def packed_all_plan(model: Model, results: dict[str, WorkloadResult]) -> dict[str, Schedule]:
    """The contractions the ``packed_all+library`` variant packs, each with its best measured
    ``mmt4d_script`` schedule; sets every result's :attr:`WorkloadResult.packed_all` to the reason.

    A workload is packed when its B operand is a compile-time constant in ``model``
    (:func:`~.packing.constant_rhs_keys`: a weight, packed once by IREE's const-eval, so the
    single-op search — which packs B on every call — understates the packed route), or when its
    packed schedule beat IREE's default alone by :data:`MIN_GAIN` anyway. Otherwise (both operands
    activations, e.g. attention's batch matmuls, and the packed schedule lost) it is left as it is:
    its single-op figure is what it would cost in the model too, and a tuned model must not run a
    dispatch slower than IREE's default."""
    from .packing import constant_rhs_keys

    const_b = constant_rhs_keys(model)
    out: dict[str, Schedule] = {}
    for k, r in results.items():
        got = _best_measured(r, "mmt4d_script")
        if got is None:
            continue
        sched, ms = got
        if const_b.get(k):
            r.packed_all = f"packed with {sched.describe()} (B is a constant, packed at compile time)"
        elif r.default_ms and ms < MIN_GAIN * r.default_ms:
            r.packed_all = (f"packed with {sched.describe()} ({ms:.3f} ms alone vs IREE's default "
                            f"{r.default_ms:.3f} ms)")
        else:
            r.packed_all = (f"not packed: B is not a constant and its best packed schedule ({ms:.3f} ms) "
                            f"did not beat IREE's default alone ({r.default_ms or float('nan'):.3f} ms)")
            log.info("packed_all: %s %s", k, r.packed_all)
            continue
        out[k] = sched
    return out


def packed_variant(model: Model, winners: list[Schedule],
                   packed_winners: list[Schedule]) -> tuple[dict[str, Model], str | None]:
    """The ``packed+library`` module variant for ``mmt4d_script`` winners: ``({"packed+library":
    model with their contractions packed}, transform library of all winners)``, or ``({}, None)``
    when there are none or none of their contractions could be packed (reasons logged)."""
    if not packed_winners:
        return {}, None
    from .packing import pack_contractions

    packed = pack_contractions(model, {w.workload.key: w.decisions for w in packed_winners})
    if not packed.packed:
        return {}, None
    return {"packed+library": packed.model}, render_transform_library(list(winners) + list(packed_winners))


def _pick_variant(model: Model, tgt, variants: dict, spec: str | None, threads: int, progress, budget,
                  library: str | None = None, libraries: dict[str, str] | None = None,
                  models: dict[str, Model] | None = None, cpu_time: bool = False,
                  allowed: set[str] | None = None):
    """Compile every variant (``models`` maps a variant to the module it compiles instead of
    ``model``; a variant whose use tag is a key of ``libraries`` compiles with that transform
    library), check each against the reference, time the correct ones end to end, interleaved;
    the fastest one (among ``allowed`` when given) is chosen."""
    from ..pipeline import check_against_reference

    models, libraries = models or {}, libraries or {}
    with tempfile.TemporaryDirectory(prefix="mlir_opt_variants_") as tmp:
        tmp = Path(tmp)
        src = tmp / "model.mlirbc"
        src.write_bytes(model.bytecode())
        if spec is not None:
            (tmp / "spec.mlir").write_text(spec)
        if library is not None:
            (tmp / "lib.mlir").write_text(library)
        for tag, text in libraries.items():
            (tmp / f"{tag}.mlir").write_text(text)
        vmfbs = {}
        for name, (flags, use_spec) in variants.items():
            if progress:
                progress(f"compiling variant {name}", budget, budget)
            fl = list(flags) + ([f"--iree-codegen-tuning-spec-path={tmp / 'spec.mlir'}"] if use_spec is True else [])
            if use_spec == "library":
                fl.append(f"--iree-codegen-transform-dialect-library={tmp / 'lib.mlir'}")
            if isinstance(use_spec, str) and use_spec in libraries:
                fl.append(f"--iree-codegen-transform-dialect-library={tmp / (use_spec + '.mlir')}")
            vsrc = src
            if name in models:
                vsrc = tmp / (re.sub(r'[^A-Za-z0-9_.-]', '_', name) + '.mlirbc')
                vsrc.write_bytes(models[name].bytecode())
            res = compile_module(vsrc, tgt, output=tmp / (re.sub(r'[^A-Za-z0-9_.-]', '_', name) + '.vmfb'), flags=fl,
                                 raise_on_error=False)
            if res.ok:
                vmfbs[name] = res.vmfb
        if progress:
            progress("checking variants", budget, budget)
        check = check_against_reference(model, vmfbs, target=tgt.name, threads=threads, seeds=(0,),
                                        reference_key="default")
        good = {k: v for k, v in vmfbs.items() if check[k]["ok"]}
        if "default" not in good:
            return {}, "default"
        if progress:
            progress("timing variants end to end", budget, budget)
        times = benchmark_many(good, model.random_inputs(0), entry=model.entry, target=tgt, reps=6, rounds=3,
                               threads=threads, cpu_time=cpu_time)
    ms = {k: t.median_ms for k, t in times.items()}
    pool = [k for k in ms if allowed is None or k in allowed]
    if not pool:
        bad = {k: "did not compile" if k not in vmfbs else check[k]["problem"] for k in sorted(allowed)}
        raise MlirOptError("none of the requested module-level variants compiled and passed the check: "
                           + "; ".join(f"{k}: {v}" for k, v in bad.items()))
    chosen = min(pool, key=ms.get)
    return ms, chosen
