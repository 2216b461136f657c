"""Operator-level search: IREE default vs tuned vs torch (oneDNN), and search efficiency.

For each workload (sets: ``matmul`` = fp32 matmul 512³/1024³/2048³, ``bert`` = the matmuls of a
BERT-base layer, seq 128, ``resnet50`` = the 23 distinct convolutions of ResNet-50 at 224×224,
batch 1, NCHW as torch exports them, input extents after padding):

* IREE default, the best schedule each strategy found, the module-level alternative (data tiling
  for matmuls, the img2col pre-pass for convs), and torch (oneDNN) with the same threads — timed
  side by side, the IREE modules interleaved in one process on one runtime device (``--rounds``
  alternating rounds). A tuned pick is shown only if it beats IREE's default there by the tuner's
  margin (paired median ratio, :mod:`mlir_opt.ops.confirm`); otherwise the column shows the
  default's time marked ``d`` — what the tuner would ship — so it is never slower than the default;
* search efficiency (:mod:`mlir_opt.ops.efficiency`): trials each strategy needed to reach 95 % of
  the best schedule any strategy found. ``--efficiency-metric retimed`` (default): every schedule
  whose search time is within ``1 / --retime-within`` of the fastest (of all, and of the searched
  sketch), from every strategy, plus IREE's default, is re-timed in the same interleaved session as
  the finalists and those re-timed medians decide (other trials cannot reach 95 %);
  ``single``: the search measurements as they are (one figure per schedule across runs). Both
  are computed and saved; the option picks the one the main table shows. Random as the
  expected value over the pooled random trials of ``--random-seeds`` runs of ``--random-budget``
  trials each (default ``--budget``; larger, so that random's figure is measured rather than
  censored — the reference stays the best schedule of all strategies); reuse charged the donor
  trials it relied on; per set the median / geometric-mean / total ratio random ÷ strategy, over
  all trials and over the searched sketch's trials only.

    python benchmarks/op_search.py                       # matmul + bert sets, budget 32 per strategy
    python benchmarks/op_search.py --set bert,resnet50 --budget 32 --random-seeds 2   # the issue's target
    python benchmarks/op_search.py --set bert --strategies random,reuse --budget 48 --random-budget 288 \
        --random-seeds 2 --reuse-donor-pool retimed --threads 1 --cpu-time   # random measured, not censored
    python benchmarks/op_search.py --set bert --strategies random,reuse --budget 48 --random-budget 288 \
        --random-seeds 2 --reuse-donor-pool retimed --threads 1 --cpu-time --random-from earlier.json  # reuse only
    python benchmarks/op_search.py --set bert,resnet50 --quick --limit 2 --budget 6    # smoke run
    python benchmarks/op_search.py --set resnet50 --sketch transform_script
    python benchmarks/op_search.py --workloads matmul_512x512x512_f32xf32xf32 --budget 12
    python benchmarks/op_search.py --set bert,resnet50 --quick --threads 1 --cpu-time   # load-robust clock

``--threads 1 --cpu-time``: every IREE timing (search trials, reuse's donor re-timing, the final
side-by-side timing that the retimed metric uses) runs one worker thread and records process CPU
time per call, which time spent descheduled by other jobs does not inflate; torch is still timed
by wall time at the same threads. The trials are stored under a clock-tagged target
(:func:`mlir_opt.ops.evaluate.record_target`), never mixed with wall-time records.

Random and evolutionary get a fresh in-memory database per workload. ``reuse`` (ETO-style) shares
one database across the workloads in the order given, so each workload can start from schedules of
the ones tuned before it whose extents dominate or are dominated by its own. A workload with no
donor (an *anchor*: the first of each kind in a run) starts from a hand-picked register-tile family
(:data:`mlir_opt.ops.search.reuse.ANCHOR_FAMILY`) and gets ``--reuse-anchor-budget`` (default 1) times the
budget; every one of those trials is counted as its own, and the transferred records it found after
its own 95 % are charged to its users as donor surplus (:mod:`mlir_opt.ops.efficiency`). Two
tables give trials to 95 %: per workload in both views (all trials | the searched sketch only),
and per set; read the searched-sketch rows for reuse vs random *search* (the fixed, knob-less trials
such as data tiling or img2col tie every strategy at trial 2 where they are within 95 %).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's mlir_opt

SETS = {
    "matmul": [
        "matmul_512x512x512_f32xf32xf32",
        "matmul_1024x1024x1024_f32xf32xf32",
        "matmul_2048x2048x2048_f32xf32xf32",
    ],
    # BERT-base layer, seq 128 (IREE keeps torch's unit batch): QKV/out proj, FFN up, FFN down,
    # attention scores and context (12 heads).
    "bert": [
        "batch_matmul_1x128x768x768_f32xf32xf32",
        "batch_matmul_1x128x3072x768_f32xf32xf32",
        "batch_matmul_1x128x768x3072_f32xf32xf32",
        "batch_matmul_12x128x128x64_f32xf32xf32",
        "batch_matmul_12x128x64x128_f32xf32xf32",
    ],
    # ResNet-50 (torchvision, 224x224, batch 1): every distinct conv, N x H x W x C (padded input)
    # x KH x KW x F, in network order (stem, then layer1..layer4: 1x1 reduce, 3x3, 1x1 expand,
    # downsample).
    "resnet50": ["conv2d_nchw_fchw_" + s for s in (
        "1x230x230x3x7x7x64_s2_f32",
        "1x56x56x64x1x1x64_s1_f32", "1x58x58x64x3x3x64_s1_f32", "1x56x56x64x1x1x256_s1_f32",
        "1x56x56x256x1x1x64_s1_f32",
        "1x56x56x256x1x1x128_s1_f32", "1x58x58x128x3x3x128_s2_f32", "1x28x28x128x1x1x512_s1_f32",
        "1x56x56x256x1x1x512_s2_f32", "1x28x28x512x1x1x128_s1_f32", "1x30x30x128x3x3x128_s1_f32",
        "1x28x28x512x1x1x256_s1_f32", "1x30x30x256x3x3x256_s2_f32", "1x14x14x256x1x1x1024_s1_f32",
        "1x28x28x512x1x1x1024_s2_f32", "1x14x14x1024x1x1x256_s1_f32", "1x16x16x256x3x3x256_s1_f32",
        "1x14x14x1024x1x1x512_s1_f32", "1x16x16x512x3x3x512_s2_f32", "1x7x7x512x1x1x2048_s1_f32",
        "1x14x14x1024x1x1x2048_s2_f32", "1x7x7x2048x1x1x512_s1_f32", "1x9x9x512x3x3x512_s1_f32",
    )],
}
#: ``--quick`` subsets: the second workload is dominated by the first (reuse has a donor).
QUICK = {"matmul": SETS["matmul"][:1], "bert": [SETS["bert"][1], SETS["bert"][0]],
         "resnet50": ["conv2d_nchw_fchw_1x56x56x256x1x1x128_s1_f32", "conv2d_nchw_fchw_1x56x56x64x1x1x64_s1_f32",
                      "conv2d_nchw_fchw_1x30x30x128x3x3x128_s1_f32"]}
DEFAULT_WORKLOADS = SETS["matmul"] + SETS["bert"]


def _load_random(path: Path, keys: list[str], ap, args) -> dict[str, tuple[list, float | None]]:
    """``{key: (random's trial logs, its search seconds)}`` from an earlier ``--json`` (see
    ``--random-from``); a key the file lacks is searched as usual. The file's random budget, seeds
    and clock must be this run's."""
    try:
        d = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        ap.error(f"--random-from {path}: {err}")
    want = {"random_budget": args.random_budget or args.budget, "random_seeds": args.random_seeds,
            "seed": args.seed, "cpu_time": args.cpu_time}
    got = {"random_budget": d.get("random_budget"), "random_seeds": d.get("random_seeds"),
           "seed": d.get("seed", want["seed"]), "cpu_time": "cpu time" in str(d.get("machine", {}).get("clock", ""))
           if "clock" in d.get("machine", {}) else want["cpu_time"]}
    if got != want:
        ap.error(f"--random-from {path}: it was run with {got}, this run asks for {want}")
    rows = {r["workload"]: r for r in d.get("rows", [])}
    out = {}
    for k in keys:
        logs = d.get("logs", {}).get(k, {}).get("random")
        if logs:
            out[k] = ([[(sk, dict(dec), t) for sk, dec, t in lg] for lg in logs],
                      rows.get(k, {}).get("random_seconds"))
    print(f"random search's logs of {len(out)}/{len(keys)} workloads from {path} "
          f"({d.get('machine', {}).get('cpu', '?')}, {d.get('date', '?')}; random budget "
          f"{d.get('random_budget')} x {d.get('random_seeds')} seed(s))", file=sys.stderr)
    return out


def _result_from_log(w, log):
    """The search result a trial log stands for (first seed), as :func:`tune_workloads` builds it."""
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.tuner import WorkloadResult

    r = WorkloadResult(w, log=list(log), trials=len(log))
    for sk, dec, t in log:
        r.failures += t is None
        if sk == "default":
            r.default_ms = t
        elif t is not None and (r.best_ms is None or t < r.best_ms):
            r.best, r.best_ms = Schedule(w, sk, dict(dec)), t
    return r


def _fmt(x, spec="{:.3f}") -> str:
    return "-" if x is None else spec.format(x)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", default=None, help="comma-separated workload keys (overrides --set)")
    ap.add_argument("--set", default="matmul,bert", help=f"comma-separated sets: {', '.join(SETS)}")
    ap.add_argument("--quick", action="store_true", help="a small subset of each set (smoke runs)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N workloads of each set")
    ap.add_argument("--layout", choices=["nchw", "nhwc"], default="nchw",
                    help="layout of the resnet50 convs (torch exports NCHW)")
    ap.add_argument("--sketch", default=None,
                    help="search this sketch where it applies (e.g. transform_script for f32 matmuls)")
    ap.add_argument("--strategies", default="random,evolutionary,reuse")
    ap.add_argument("--budget", type=int, default=32, help="trials per strategy and workload")
    ap.add_argument("--random-budget", type=int, default=None,
                    help="random search's trials per seed and workload (default: --budget); larger than "
                         "--budget so that random's trials to 95 %% is measured rather than censored (the "
                         "reference stays the best schedule of all strategies; mlir_opt.ops.efficiency)")
    ap.add_argument("--random-seeds", type=int, default=1,
                    help="random-search runs per workload (seeds seed, seed+1, …) pooled for the expected "
                         "random trials-to-95 %% (each run costs --random-budget trials)")
    ap.add_argument("--random-from", type=Path, default=None,
                    help="take random search's trial logs from an earlier --json of this benchmark (same "
                         "machine, workloads, budgets and seeds) instead of running it again: its schedules "
                         "are still re-timed side by side in this run (metric retimed), only the search "
                         "measurements that pick the candidates are reused")
    ap.add_argument("--rounds", type=int, default=7, help="interleaved rounds of the final side-by-side timing")
    ap.add_argument("--reuse-relation", choices=["similar", "dominance"], default="similar",
                    help="reuse donors: any same-kind workload, nearest first (similar) or ETO's dominance rule")
    ap.add_argument("--reuse-no-model", action="store_true", help="reuse without the cost model's ranking")
    ap.add_argument("--reuse-retime", type=int, default=6,
                    help="reuse: re-time each donor's top N side by side and transfer its top 3 by those "
                         "(0: by the search measurements); the re-timings are charged to the recipients")
    ap.add_argument("--reuse-anchor-budget", type=float, default=1.0,
                    help="reuse: a workload with no donor (an anchor) gets this many times --budget trials; "
                         "they count as its own trials (default 1: in one run under load 2x was worse than the old "
                         "behaviour on both quick sets, 1x better on resnet50; docs/op-level.md)")
    ap.add_argument("--reuse-anchor", choices=["family", "evolutionary"], default="family",
                    help="reuse: an anchor starts from the hand-picked register-tile family and is searched "
                         "by the pruned neighbourhood search (family), or by evolutionary search")
    ap.add_argument("--reuse-first", choices=["neighbours", "transferred"], default="neighbours",
                    help="reuse: the first batch after transfer mixes in the transferred schedules' one-knob "
                         "neighbours ranked by the cost model (neighbours), or holds transferred ones only")
    ap.add_argument("--reuse-lanes", type=int, default=None,
                    help="reuse: fp32 vector lanes the anchor family's register tiles are sized to "
                         "(default: this machine's, 16 with AVX-512, 8 with AVX2; 8 = the AVX2 family as "
                         "before the tenth session)")
    ap.add_argument("--reuse-donor-pool", choices=("best", "early", "retimed"), default="best",
                    help="reuse: transfer a donor's best schedules overall (best), or its best among its trials "
                         "up to the first within 95 %% of its best (early: fewer donor trials relied on; "
                         "retimed: that first record found by re-timing the donor's top records)")
    ap.add_argument("--reuse-transfer", choices=("top", "shape"), default="top",
                    help="reuse: transfer a donor's best schedules overall (top), or its best schedule of each "
                         "register-tile shape first (shape; not better in an A/B on ResNet-50 convs 17-23)")
    ap.add_argument("--reuse-family-prior", choices=("on", "off"), default="on",
                    help="reuse: a workload with donors also measures the anchor family in its first batches, "
                         "after the first transferred schedules (on; off: as before the fourteenth session)")
    ap.add_argument("--efficiency-metric", choices=["retimed", "single"], default="retimed",
                    help="trials to 95 %%: re-timed side by side near-best schedules (retimed) or the "
                         "single search measurements (single, the old metric); both are saved")
    ap.add_argument("--retime-within", type=float, default=0.8,
                    help="metric retimed: re-time schedules whose search time is ≤ fastest / this")
    ap.add_argument("--retime-max", type=int, default=8,
                    help="metric retimed: at most this many per group (all / searched sketch), fastest first")
    ap.add_argument("--retime-each", type=int, default=8,
                    help="metric retimed: also re-time each strategy's own fastest N (within --retime-within of "
                         "its fastest), so that a strategy with fewer trials is not crowded out of the capped "
                         "groups by another's lucky measurements (0: off, the metric before 2026-11-27's twelfth "
                         "session; 3 until the fourteenth, when a schedule measured in a slow phase as reuse's "
                         "fourth fastest was never re-timed)")
    ap.add_argument("--threads", type=int, default=None, help="IREE (and torch) threads (default: all cores)")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time IREE by process CPU time per call instead of wall time (steady under load "
                         "with --threads 1)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    if args.workloads:
        groups = {"workloads": args.workloads.split(",")}
    else:
        unknown = [x for x in args.set.split(",") if x not in SETS]
        if unknown:
            ap.error(f"unknown set(s) {', '.join(unknown)} (available: {', '.join(SETS)})")
        groups = {x: (QUICK if args.quick else SETS)[x][: args.limit] for x in args.set.split(",")}
    if args.layout == "nhwc":
        groups = {g: [k.replace("conv2d_nchw_fchw_", "conv2d_nhwc_hwcf_") for k in ks] for g, ks in groups.items()}
    keys = [k for ks in groups.values() for k in ks]
    strats = args.strategies.split(",")
    prior = _load_random(args.random_from, keys, ap, args) if args.random_from else {}

    import torch
    from rich.console import Console
    from rich.table import Table

    from mlir_opt.backend import benchmark_interleaved, compile_module, default_threads, time_callable
    from mlir_opt.backend.targets import cpu_vector_lanes
    from mlir_opt.db import Database
    from mlir_opt.ops.confirm import decide, workload_inputs
    from mlir_opt.ops.dispatches import ConvWorkload, Workload
    from mlir_opt.ops.efficiency import efficiency, ratio_summary, retime_candidates
    from mlir_opt.ops.evaluate import Evaluator, build_schedule
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.search.reuse import ReuseStrategy
    from mlir_opt.ops.space import IMG2COL_FLAG, fixed_schedules, search_sketch, sketches_for
    from mlir_opt.ops.tuner import MIN_GAIN, tune_workloads
    from mlir_opt.report import machine_info

    threads = args.threads or default_threads()
    random_budget = args.random_budget or args.budget
    if random_budget < 1 or args.budget < 1:
        ap.error("--budget and --random-budget must be at least 1")
    clock = "cpu time" if args.cpu_time else "wall time"
    torch.set_num_threads(threads)
    console = Console(stderr=True)
    rows = {}
    tmp = Path(tempfile.mkdtemp(prefix="op_search_"))
    reuse_db = Database(":memory:")
    runs, reuse_donors, reuse_used, searched, n_fixed = {}, {}, {}, {}, {}
    reuse_retimed, reuse_retime_cost, retimed, retimed_info = {}, {}, {}, {}
    reuse_budget, reuse_anchor = {}, {}
    for key in keys:
        w = Workload.from_key(key)
        conv = isinstance(w, ConvWorkload)
        found, runs[key] = {}, {}
        n_fixed[key] = 1 + len(fixed_schedules(w, searched=args.sketch))
        for strat in strats:
            seeds = [args.seed + i for i in range(args.random_seeds)] if strat == "random" else [args.seed]
            if strat == "random" and key in prior:  # --random-from: the earlier run's logs
                logs, secs = prior[key]
                runs[key]["random"] = [list(lg) for lg in logs]
                found["random"] = (_result_from_log(w, logs[0]), secs)
                continue
            for sd in seeds:
                ev = Evaluator(db=reuse_db if strat == "reuse" else Database(":memory:"), reps=5, seed=args.seed,
                               threads=threads, cpu_time=args.cpu_time)
                st = ReuseStrategy(reuse_db, ev.target.name, relation=args.reuse_relation,
                                   cost_model=not args.reuse_no_model, retime=args.reuse_retime,
                                   retimed=reuse_retimed, rounds=args.rounds, db_target=ev.db_target,
                                   threads=threads, cpu_time=args.cpu_time, anchor=args.reuse_anchor,
                                   first_neighbours=args.reuse_first == "neighbours",
                                   donor_pool=args.reuse_donor_pool, vector_lanes=args.reuse_lanes,
                                   transfer=args.reuse_transfer,
                                   family_prior=args.reuse_family_prior == "on") \
                    if strat == "reuse" else strat
                budget = random_budget if strat == "random" else args.budget
                if strat == "reuse":  # an anchor (no donor yet) gets a larger budget, counted as its own trials
                    named = [s_ for s_ in sketches_for(w, ev.target.name) if s_.name == args.sketch and s_.knobs]
                    anchor = not st.has_donor(named[0] if named else search_sketch(w, ev.target.name))
                    reuse_anchor[key] = anchor
                    budget = max(args.budget, round(args.budget * args.reuse_anchor_budget)) if anchor else args.budget
                    reuse_budget[key] = budget
                t0 = time.perf_counter()
                with console.status(f"{key}: {strat} search, seed {sd} ({budget} trials)"):
                    res, _ = tune_workloads({key: (w, 1.0)}, strategy=st, budget=budget, seed=sd,
                                            evaluator=ev, sketch=args.sketch)
                ev.close()
                r = res[key]
                if sd == args.seed:
                    found[strat] = (r, time.perf_counter() - t0)
                runs[key].setdefault(strat, []).append(r.log)
                if strat == "reuse":
                    reuse_donors[key] = st.donors.get(key, [])
                    for d, n in st.retime_cost.items():
                        reuse_retime_cost[d] = reuse_retime_cost.get(d, 0) + n
                    for d, recs in st.used.items():  # the donor records reuse relied on (charged)
                        reuse_used.setdefault(d, []).extend(x for x in recs if x not in reuse_used[d])
                searched.setdefault(key, next((sk for sk, _, _ in r.log[n_fixed[key]:]), None))
        # Side-by-side timing of the finalists, interleaved in one process (same device and threads);
        # each tuned pick must beat IREE's default there too (paired, by MIN_GAIN), else it falls back.
        with console.status(f"{key}: final timing"):
            default = build_schedule(Schedule(w, "default", {}), tmp / key / "default")
            vmfbs = {"iree_default": default.vmfb}
            # module-level alternative: data tiling (matmul) / the img2col pre-pass (conv)
            vmfbs["iree_data_tiling"] = compile_module(
                w.single_op_module(), "llvm-cpu", output=tmp / key / "dt.vmfb",
                flags=[IMG2COL_FLAG] if conv else ["--iree-opt-data-tiling"]).vmfb
            built = {("default", ()): default.vmfb}

            def build(sk, dec, name):
                k = (sk, tuple(sorted(dec.items())))
                if k not in built:
                    b = build_schedule(Schedule(w, sk, dec), tmp / key / name)
                    built[k] = b.vmfb if b.ok else None
                return built[k]

            for strat, (r, _) in found.items():
                if r.best is not None:
                    v = build(r.best.sketch, r.best.decisions, strat)
                    if v:
                        vmfbs[f"tuned_{strat}"] = v
            # metric "retimed": the near-best schedules of every strategy, re-timed in the same session
            all_logs, per_strat = [], []
            for ls in runs[key].values():
                per_strat.append(list(range(len(all_logs), len(all_logs) + len(ls))))
                all_logs.extend(ls)
            cands = retime_candidates(all_logs, searched=searched.get(key), within=args.retime_within,
                                      max_n=args.retime_max, strategies=per_strat, max_each=args.retime_each)
            cand_names = {}
            for i, (sk, dec) in enumerate(cands):
                v = build(sk, dec, f"cand{i}")
                if v and v not in vmfbs.values():
                    vmfbs[f"cand{i}"] = v
                if v:
                    cand_names[(sk, tuple(sorted(dec.items())))] = next(n for n, x in vmfbs.items() if x == v)
            ins = workload_inputs(w, 0)
            times = benchmark_interleaved(vmfbs, ins, rounds=args.rounds, threads=threads, cpu_time=args.cpu_time)
            retimed[key] = {k: times[n].median_ms for k, n in cand_names.items()}
            retimed_info[key] = [[k[0], dict(k[1]), times[n].median_ms, times[n].spread]
                                 for k, n in cand_names.items()]
            ta, tb = (torch.from_numpy(x) for x in ins)
            if conv:  # oneDNN convolution in torch's NCHW; NHWC workloads are permuted once, outside timing
                if w.layout == "nhwc_hwcf":
                    ta = ta.permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
                    tb = tb.permute(3, 2, 0, 1).contiguous()
                torch_t = time_callable(lambda: torch.nn.functional.conv2d(ta, tb, stride=w.strides,
                                                                           dilation=w.dilations), reps=9)
            else:
                torch_t = time_callable(lambda: torch.matmul(ta, tb), reps=9)
        d_ms = times["iree_default"].median_ms
        row = {"workload": key, "gflop": w.flops / 1e9, "torch_ms": torch_t.median_ms, "iree_default_ms": d_ms,
               "iree_data_tiling_ms": times["iree_data_tiling"].median_ms, "final_rounds": args.rounds}
        for strat, (r, secs) in found.items():
            t = times.get(f"tuned_{strat}")
            c = decide(t.samples_ms, times["iree_default"].samples_ms, MIN_GAIN) if t else None
            kept = bool(c and c.confirmed and r.beats_default)
            row[f"tuned_{strat}_raw_ms"] = t.median_ms if t else None
            row[f"tuned_{strat}_ratio"] = c.ratio if c else None
            row[f"tuned_{strat}_confirmed"] = kept
            row[f"tuned_{strat}_ms"] = t.median_ms if kept else d_ms  # falls back to IREE's default
        for strat, (r, secs) in found.items():
            row[f"{strat}_seconds"] = secs
            row[f"{strat}_best"] = r.best.describe() if r.best else None
            row[f"{strat}_failures"] = r.failures
        if "reuse" in found:
            row["reuse_budget"], row["reuse_anchor"] = reuse_budget.get(key), reuse_anchor.get(key)
        rows[key] = row
        console.print(f"{key}: " + ", ".join(f"{k} {v.median_ms:.3f} ms" for k, v in times.items())
                      + f", torch {torch_t.median_ms:.3f} ms")

    # Search efficiency (mlir_opt.ops.efficiency): all trials, and the searched sketch's trials only.
    transferred = {d: reuse_used.get(d, []) for d in {d for ds in reuse_donors.values() for d in ds}}
    metrics = [args.efficiency_metric] + [m for m in ("retimed", "single") if m != args.efficiency_metric]
    for metric in metrics:  # the chosen metric unprefixed (tables), every metric also as "<metric>_"
        for mode, prefix in (("all", ""), ("search", "search_")):
            eff = efficiency(runs, keys, n_fixed=n_fixed, searched=searched, donors=reuse_donors,
                             transferred=transferred, search_only=mode == "search",
                             retimed=retimed if metric == "retimed" else None, retime_cost=reuse_retime_cost)
            for k, e in eff.items():
                rows[k].update({f"{metric}_{prefix}{n}": v for n, v in e.items()})
                if metric == args.efficiency_metric:
                    rows[k].update({prefix + n: v for n, v in e.items()})
    for k in keys:
        for s in strats:
            n95, secs, n = rows[k].get(f"{s}_trials_to_95"), rows[k].get(f"{s}_seconds"), rows[k].get(f"{s}_trials")
            rows[k][f"{s}_seconds_to_95"] = secs * n95 / max(1, n) if n95 and secs else None

    t = Table(title=f"Operator-level search, fp32, {machine_info(threads)['cpu']}, {threads} threads, {clock}, "
                    f"budget {args.budget}/strategy"
                    + (f", random {random_budget}/seed" if random_budget != args.budget else "")
                    + f" (median ms, side by side, {args.rounds} interleaved rounds)")
    cols = ["workload", "IREE default", "data tiling / img2col"] + [f"tuned ({s})" for s in strats] + \
           ["torch", "best/default", "best/torch"] + [f"trials→95% {s}" for s in strats]
    for c in cols:
        t.add_column(c, justify="right", no_wrap=c == "workload")
    for key in keys:
        r = rows[key]
        tuned = [r.get(f"tuned_{s}_ms") for s in strats]
        best = min([x for x in tuned + [r["iree_default_ms"], r["iree_data_tiling_ms"]] if x])
        cells = [(f"{r[f'tuned_{s}_ms']:.3f}" + ("" if r[f"tuned_{s}_confirmed"] else " d")) for s in strats]
        eff = []
        for s in strats:
            if s == "random" and "random_expected_trials_to_95" in r:
                one = _fmt(r["random_trials_to_95"], "{}")
                eff.append(_fmt(r["random_expected_trials_to_95"], "{:.1f}") + f" ({one})")
            elif s == "reuse" and r.get("reuse_donor_share"):
                eff.append(f"{_fmt(r['reuse_trials_to_95'], '{}')}+{r['reuse_donor_share']:.1f}")
            else:
                eff.append(_fmt(r.get(f"{s}_trials_to_95"), "{}"))
        t.add_row(key, f"{r['iree_default_ms']:.3f}", f"{r['iree_data_tiling_ms']:.3f}", *cells,
                  f"{r['torch_ms']:.3f}", f"{r['iree_default_ms'] / best:.2f}×", f"{best / r['torch_ms']:.2f}×", *eff)
    out = Console(width=220)
    out.print(t)
    # trials to 95 % per workload in both views side by side: all trials (IREE's default and the
    # knob-less alternatives included, identical for every strategy) and the searched sketch only
    vt = Table(title="Trials to 95 % of the best per workload: all trials | searched sketch only "
                     f"(metric {args.efficiency_metric}; random = expected over the pooled seeds, "
                     "reuse = own + donor share; '≥': censored, counted at its own trials run + 1)")
    vt.add_column("workload", no_wrap=True)
    if "reuse" in strats:
        vt.add_column("reuse budget", justify="right")
    for s in strats:
        vt.add_column(f"{s} all", justify="right")
        vt.add_column(f"{s} searched", justify="right")
    for key in keys:
        r, cells = rows[key], []
        for s in strats:
            for p in ("", "search_"):
                if s == "random" and f"{p}random_expected_trials_to_95" in r:
                    v, cap = r[f"{p}random_expected_trials_to_95"], r.get(f"{p}random_cap")
                    cells.append(f"{v:.1f}" if v is not None else f"≥{cap}")
                elif s == "reuse":
                    v = r.get(f"{p}reuse_charged_trials_to_95")
                    sh = r.get(f"{p}reuse_donor_share") or 0.0
                    own = r.get(f"{p}reuse_trials_to_95")
                    cells.append(f"{own}+{sh:.1f}" if v is not None and sh else
                                 (f"{own}" if v is not None else f"≥{r.get(f'{p}reuse_trials', 0) + 1}"))
                else:
                    v = r.get(f"{p}{s}_trials_to_95")
                    cells.append(f"{v}" if v is not None else f"≥{r.get(f'{p}{s}_trials', 0) + 1}")
        head = [key] + ([f"{reuse_budget.get(key, args.budget)}" + (" anchor" if reuse_anchor.get(key) else "")]
                        if "reuse" in strats else [])
        vt.add_row(*head, *cells)
    out.print(vt)
    out.print(f"'d': the tuned pick was not faster than IREE's default by {1 - MIN_GAIN:.0%} (paired median over the "
              "interleaved rounds, or already in the search), so the tuner keeps the default: its time is shown. "
              "trials→95%: random = expected over the pooled random trials (one run's figure in brackets); "
              "reuse = own + share of donor trials (mlir_opt.ops.efficiency). Metric: "
              f"{args.efficiency_metric} (retimed: near-best schedules re-timed side by side decide). "
              f"Budgets: random {random_budget} trials per seed × {args.random_seeds} seed(s), pooled; "
              f"{', '.join(s for s in strats if s != 'random')} {args.budget} per workload"
              + (f" (reuse anchors ×{args.reuse_anchor_budget:g})"
                 if "reuse" in strats and args.reuse_anchor_budget != 1 else "")
              + ". 95 % of the best = of the fastest re-timed schedule found by ANY strategy (random's longer runs "
                "included: they can only raise the bar); a side that never reached it is censored at its own "
                "trials run + 1 — a censored random makes the ratio a lower bound, a censored strategy an "
                "upper bound.")
    summary = {}
    if "random" in strats and len(strats) > 1:
        st = Table(title="Search efficiency per set: trials to 95 % of the best, ratio random / strategy "
                         "(issue #5 target for reuse: ≥ 5×)")
        for c in ("set", "metric", "trials counted", "strategy", "workloads", "median", "geo. mean", "total",
                  "censored random", "censored strategy"):
            st.add_column(c, justify="right")
        for g, ks in groups.items():
            for metric, mode, p0 in [(m, md, p) for m in metrics for md, p in (("all", ""),
                                                                                  ("searched sketch", "search_"))]:
                p = f"{metric}_{p0}"
                for s in [x for x in strats if x != "random"]:
                    pairs = []
                    for k in ks:
                        r = rows[k]
                        v = r.get(f"{p}reuse_charged_trials_to_95") if s == "reuse" else r.get(f"{p}{s}_trials_to_95")
                        pairs.append((r.get(f"{p}random_expected_trials_to_95"), v,
                                      r.get(f"{p}random_cap", random_budget + 1), r.get(f"{p}{s}_trials", 0) + 1))
                    sm = ratio_summary(pairs)
                    summary[f"{g}/{metric}/{mode}/{s}"] = sm.__dict__
                    st.add_row(g, metric, mode, s, str(sm.n), _fmt(sm.median, "{:.2f}×"), _fmt(sm.geomean, "{:.2f}×"),
                               _fmt(sm.total, "{:.2f}×"), str(sm.censored_base), str(sm.censored_strategy))
        out.print(st)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"date": dt.date.today().isoformat(), "machine": {**machine_info(threads), "clock": clock},
                                         "budget": args.budget, "random_budget": random_budget,
                                         "random_seeds": args.random_seeds, "seed": args.seed,
                                         "random_from": str(args.random_from) if args.random_from else None,
                                         "rows": list(rows.values()), "efficiency": summary,
                                         # every trial (sketch, decisions, ms) per workload / strategy / run,
                                         # and reuse's donors and relied-on donor records: for diagnosis
                                         "logs": runs, "reuse_donors": reuse_donors,
                                         "reuse_used": transferred,
                                         # metric "retimed": [sketch, decisions, re-timed ms, IQR/median]
                                         "retimed": retimed_info, "reuse_retimed": reuse_retimed,
                                         "reuse_retime_cost": reuse_retime_cost,
                                         "efficiency_metric": args.efficiency_metric,
                                         "reuse_anchor_budget": args.reuse_anchor_budget,
                                         "reuse_anchor": args.reuse_anchor, "reuse_first": args.reuse_first, "reuse_donor_pool": args.reuse_donor_pool, "reuse_transfer": args.reuse_transfer,
                                         "reuse_family_prior": args.reuse_family_prior,
                                         "reuse_lanes": args.reuse_lanes or cpu_vector_lanes(),
                                         "retime_within": args.retime_within,
                                         "retime_max": args.retime_max, "retime_each": args.retime_each}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
