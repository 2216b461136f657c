"""How far from the best known schedule does each img2col_tiling anchor family member land?

Builds, for each conv, the members of the anchor family sized to ``--lanes`` fp32 vector lanes
(:func:`mlir_opt.ops.search.reuse.anchor_family`; default: this machine's), each snapped to the conv's
valid options (:func:`mlir_opt.ops.search.reuse.nearest_valid`), and with ``--best-from`` the fastest
``img2col_tiling`` schedule of a strategy's logs in an ``op_search.py --json`` file (random's, by
default), and times them side by side (interleaved rounds in one process, as ``op_search.py``'s final
timing). The members' correctness is checked by
``tests/test_ops_reuse.py::test_conv_anchor_family_spans_peel_and_cache_n``.

    python benchmarks/anchor_family_check.py                       # ResNet-50's first 4 convs
    python benchmarks/anchor_family_check.py --limit 8 --rounds 9
    python benchmarks/anchor_family_check.py --workloads <keys> --best-from op-search.json --extra 'old4={"dist_m": 64, ...}'
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
    ap.add_argument("--workloads", help="comma-separated conv keys (default: the resnet50 set of op_search.py)")
    ap.add_argument("--limit", type=int, default=4, help="only the first N convs of the resnet50 set")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--wall-time", action="store_true", help="time wall clock (default: CPU time)")
    ap.add_argument("--lanes", type=int, default=None, help="fp32 vector lanes the family is sized to "
                                                            "(default: this machine's)")
    ap.add_argument("--best-from", type=Path, default=None,
                    help="an op_search.py --json file: also time the fastest img2col_tiling schedule of "
                         "--best-strategy's logs for each conv")
    ap.add_argument("--best-strategy", default="random")
    ap.add_argument("--extra", action="append", default=[],
                    help="NAME=JSON: one more img2col_tiling decision set (snapped to each conv), e.g. a former member")
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

        keys = SETS["resnet50"][: args.limit]
    lanes = args.lanes or host_vector_lanes()
    members = {f"m{i + 1}": d for i, d in enumerate(anchor_family("img2col_tiling", lanes))}
    for e in args.extra:
        name, _, js = e.partition("=")
        members[name] = json.loads(js)
    logs = {}
    if args.best_from:
        logs = json.loads(args.best_from.read_text()).get("logs", {})
    tmp = Path(tempfile.mkdtemp(prefix="anchor_family_"))
    print(f"img2col_tiling anchor family for {lanes} fp32 lanes, side by side ({args.rounds} interleaved rounds, "
          f"{args.threads} thread(s), {'wall' if args.wall_time else 'cpu'} time)"
          + (f"; 'best': the fastest of {args.best_strategy}'s logs in {args.best_from.name}" if logs else ""))
    for key in keys:
        w = Workload.from_key(key)
        sk = search_sketch(w)
        if sk.name != "img2col_tiling":
            print(f"{key}: searched sketch is {sk.name}, not img2col_tiling: skipped")
            continue
        vmfbs, chosen = {}, {}
        wanted = dict(members)
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
        print(key)
        for name in vmfbs:
            t = times[name]
            d = chosen[name]
            print(f"  {name:9s} {t.median_ms:9.3f} ms  (spread {t.spread:.2f}, {best / t.median_ms:6.1%} of the "
                  f"fastest)  {d['dist_m']}/{d['dist_n']} vec {d['vec_m']}x{d['vec_n']} k {d['vec_k']} "
                  f"cache_n {d['cache_n']} peel {d['peel']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
