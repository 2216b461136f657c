"""How trustworthy is one search trial's time?  Repeats the evaluator's trial timing of a few schedules.

A search trial times a candidate once: one ``iree-benchmark-module`` process with
:class:`~mlir_opt.ops.evaluate.Evaluator`'s settings (``reps`` repetitions of ≥ ``min_time_s``
each, after a short warm-up; the trial's figure is their median). This script builds IREE's default
and a few random valid schedules of one workload and repeats that trial measurement ``--repeats``
times, interleaved (schedule A, B, C, A, B, C, …), for each ``--min-time`` setting and each clock
of ``--clocks`` (``wall``: wall time at ``--threads``, the default trials; ``cpu``: process CPU time
per call, the load-robust trials of ``--threads 1 --cpu-time``). Per schedule, clock and setting it
prints the median of the trial figures, their coefficient of variation (CV = stdev / mean: the
noise of one trial), spread (IQR / median), and min / median — how much lower the luckiest of N
trials reads than the typical one, i.e. the bias of a reference that is the lowest single
measurement — plus the seconds one trial's timing took. A "95 % of the best" criterion is
measurable when the CV is well below 5 %.

    python benchmarks/trial_noise.py --workload batch_matmul_1x128x768x768_f32xf32xf32 --repeats 8
    python benchmarks/trial_noise.py --threads 1 --clocks wall,cpu --repeats 6 --min-time 0.02
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's mlir_opt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workload", default="batch_matmul_1x128x768x768_f32xf32xf32")
    ap.add_argument("--schedules", type=int, default=2, help="random valid schedules besides IREE's default")
    ap.add_argument("--repeats", type=int, default=8, help="trial timings per schedule and setting")
    ap.add_argument("--reps", type=int, default=5, help="repetitions per trial (the evaluator's default: 5)")
    ap.add_argument("--min-time", default="0.02,0.1", help="comma-separated min seconds per repetition")
    ap.add_argument("--threads", type=int, default=None, help="IREE worker threads (default: all cores)")
    ap.add_argument("--clocks", default="wall", help="comma-separated: wall (wall time), cpu (process CPU time)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    from mlir_opt.backend import benchmark_many, default_threads, save_inputs
    from mlir_opt.ops.confirm import workload_inputs
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.evaluate import build_schedule
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.space import sketches_for

    w = Workload.from_key(args.workload)
    rng = random.Random(args.seed)
    sk = next(s for s in sketches_for(w) if s.knobs)
    scheds = [Schedule(w, "default", {})] + [Schedule(w, sk.name, sk.sample(rng)) for _ in range(args.schedules)]
    tmp = Path(tempfile.mkdtemp(prefix="trial_noise_"))
    vmfbs = {}
    for i, s in enumerate(scheds):
        b = build_schedule(s, tmp / str(i))
        if b.ok:
            vmfbs[s.describe()] = b.vmfb
    flags = save_inputs(workload_inputs(w, 0), tmp / "in")
    threads = args.threads or default_threads()
    clocks = args.clocks.split(",")
    if any(c not in ("wall", "cpu") for c in clocks):
        ap.error(f"--clocks: wall and/or cpu, not {args.clocks!r}")
    print(f"{w.key}, {threads} threads, {args.repeats} trial timings per schedule, clock and setting, "
          f"reps {args.reps}")
    print(f"{'clock':>5} {'min time/rep':>12} {'schedule':<56} {'median ms':>9} {'CV':>6} {'IQR/med':>8} "
          f"{'min/med':>8} {'s/trial':>8}")
    cvs = {c: [] for c in clocks}
    for mt in (float(x) for x in args.min_time.split(",")):
        figs = {(c, k): [] for c in clocks for k in vmfbs}
        secs = {(c, k): [] for c in clocks for k in vmfbs}
        for _ in range(args.repeats):  # interleaved: every schedule and clock once per repeat
            for k, v in vmfbs.items():
                for c in clocks:
                    t0 = time.perf_counter()
                    t = benchmark_many({"c": v}, [], reps=args.reps, rounds=1, warmup_s=0.05, min_time_s=mt,
                                       threads=threads, input_flags=flags, cpu_time=c == "cpu")["c"]
                    secs[c, k].append(time.perf_counter() - t0)
                    figs[c, k].append(t.median_ms)
        for c in clocks:
            for k in vmfbs:
                f = figs[c, k]
                med = statistics.median(f)
                cv = statistics.stdev(f) / statistics.mean(f) if len(f) > 1 else float("nan")
                cvs[c].append(cv)
                q = statistics.quantiles(f, n=4) if len(f) >= 4 else [min(f), med, max(f)]
                print(f"{c:>5} {mt:>12g} {k[:56]:<56} {med:>9.3f} {cv:>6.1%} {(q[2] - q[0]) / med:>8.2f} "
                      f"{min(f) / med:>8.2f} {statistics.median(secs[c, k]):>8.2f}")
    for c in clocks:
        print(f"{c}: median CV of one trial over schedules and settings {statistics.median(cvs[c]):.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
