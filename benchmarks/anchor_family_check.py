"""How far from the best known schedule does each anchor family member land?

Builds, for each workload, the members of its searched sketch's anchor family (``img2col_tiling`` for
convs, ``double_tiling`` for matmuls) sized to ``--lanes`` fp32 vector lanes
(:func:`mlir_opt.ops.search.reuse.anchor_family`; default: this machine's), each snapped to the
workload's valid options (:func:`mlir_opt.ops.search.reuse.nearest_valid`), and with ``--best-from`` the
fastest schedule of that sketch in a strategy's logs in an ``op_search.py --json`` file (random's, by
default), and times them side by side (interleaved rounds in one process, as ``op_search.py``'s final
timing). The members' correctness is checked by
``tests/test_ops_reuse.py::test_conv_anchor_family_spans_peel_and_cache_n``.

    python benchmarks/anchor_family_check.py                       # ResNet-50's first 4 convs
    python benchmarks/anchor_family_check.py --limit 8 --rounds 9
    python benchmarks/anchor_family_check.py --workloads <keys> --best-from op-search.json --extra 'old4={"dist_m": 64, ...}'
    python benchmarks/anchor_family_check.py --set bert --best-from op-search-bert.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's mlir_opt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workloads", help="comma-separated workload keys (default: --set)")
    ap.add_argument("--set", default="resnet50", help="an op_search.py set (default: resnet50)")
    ap.add_argument("--limit", type=int, default=4, help="only the first N workloads of --set")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--wall-time", action="store_true", help="time wall clock (default: CPU time)")
    ap.add_argument("--lanes", type=int, default=None, help="fp32 vector lanes the family is sized to "
                                                            "(default: this machine's)")
    ap.add_argument("--best-from", type=Path, default=None,
                    help="an op_search.py --json file: also time the fastest schedule of the searched sketch "
                         "in --best-strategy's logs for each workload")
    ap.add_argument("--best-strategy", default="random")
    ap.add_argument("--extra", action="append", default=[],
                    help="NAME=JSON: one more decision set (snapped to each workload whose sketch has "
                         "these knobs), e.g. a former member")
    args = ap.parse_args(argv)

    from mlir_opt.backend import benchmark_interleaved
    from mlir_opt.ops.confirm import workload_inputs
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.evaluate import build_schedule
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.search.reuse import anchor_family, nearest_valid
    from mlir_opt.ops.space import host_vector_lanes, search_sketch

    if args.workloads:
        keys = args.workloads.split(",")
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from op_search import SETS

        if args.set not in SETS:
            ap.error(f"--set {args.set!r}: not one of {', '.join(SETS)}")
        keys = SETS[args.set][: args.limit]
    lanes = args.lanes or host_vector_lanes()
    extra = {}
    for e in args.extra:
        name, _, js = e.partition("=")
        extra[name] = json.loads(js)
    logs = {}
    if args.best_from:
        logs = json.loads(args.best_from.read_text()).get("logs", {})
    tmp = Path(tempfile.mkdtemp(prefix="anchor_family_"))
    print(f"anchor family for {lanes} fp32 lanes, side by side ({args.rounds} interleaved rounds, "
          f"{args.threads} thread(s), {'wall' if args.wall_time else 'cpu'} time)"
          + (f"; 'best': the fastest of {args.best_strategy}'s logs in {args.best_from.name}" if logs else ""))
    for key in keys:
        w = Workload.from_key(key)
        sk = search_sketch(w)
        members = {f"m{i + 1}": d for i, d in enumerate(anchor_family(sk.name, lanes))}
        if not members:
            print(f"{key}: searched sketch {sk.name} has no anchor family: skipped")
            continue
        vmfbs, chosen = {}, {}
        knobs = {k.name for k in sk.knobs}
        wanted = dict(members, **{n: d for n, d in extra.items() if set(d) <= knobs})
        runs = logs.get(key, {}).get(args.best_strategy) or []
        trials = [t for log in runs for t in log if t[2] is not None and t[0] == sk.name]
        if trials:
            wanted["best"] = min(trials, key=lambda t: t[2])[1]
        for name, want in wanted.items():
            d = want if name == "best" else nearest_valid(sk, want)
            if d is None:
                continue
            b = build_schedule(Schedule(w, sk.name, d), tmp / key / name.replace(" ", "_"))
            if b.ok:
                vmfbs[name], chosen[name] = b.vmfb, d
            else:
                print(f"  {key} {name}: compile error: {b.error.splitlines()[0] if b.error else '?'}")
        times = benchmark_interleaved(vmfbs, workload_inputs(w, 0), rounds=args.rounds, threads=args.threads,
                                      cpu_time=not args.wall_time)
        best = min(t.median_ms for t in times.values())
        print(f"{key} ({sk.name})")
        for name in vmfbs:
            t = times[name]
            d = chosen[name]
            extra_knobs = " ".join(f"{k} {d[k]}" for k in ("cache_n", "peel") if k in d)
            print(f"  {name:9s} {t.median_ms:9.3f} ms  (spread {t.spread:.2f}, {best / t.median_ms:6.1%} of the "
                  f"fastest)  {d['dist_m']}/{d['dist_n']} vec {d['vec_m']}x{d['vec_n']} k {d['vec_k']} {extra_knobs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
