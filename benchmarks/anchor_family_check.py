"""Do the img2col_tiling anchor family's peel / cache_n members land better than the plain ones they replaced?

Builds, for each conv, the four members of ``ANCHOR_FAMILY["img2col_tiling"]`` and the two members
they replaced in the ninth session (members 2 and 4 with ``peel`` 0 and ``cache_n`` 0), each snapped
to the conv's valid options (:func:`mlir_opt.ops.search.reuse.nearest_valid`), and times all six
side by side (interleaved rounds in one process, as ``op_search.py``'s final timing). The members'
correctness is checked by ``tests/test_ops_reuse.py::test_conv_anchor_family_spans_peel_and_cache_n``.

    python benchmarks/anchor_family_check.py                       # ResNet-50's first 4 convs
    python benchmarks/anchor_family_check.py --limit 8 --rounds 9
"""

from __future__ import annotations

import argparse
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
    args = ap.parse_args(argv)

    from mlir_opt.backend import benchmark_interleaved
    from mlir_opt.ops.confirm import workload_inputs
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.evaluate import build_schedule
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.search.reuse import ANCHOR_FAMILY, nearest_valid
    from mlir_opt.ops.space import search_sketch

    if args.workloads:
        keys = args.workloads.split(",")
    else:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from op_search import SETS

        keys = SETS["resnet50"][: args.limit]
    new = ANCHOR_FAMILY["img2col_tiling"]
    members = {"m1": new[0], "m2 plain": dict(new[1], cache_n=0, peel=0), "m2": new[1], "m3": new[2],
               "m4 plain": dict(new[3], cache_n=0, peel=0), "m4": new[3]}
    tmp = Path(tempfile.mkdtemp(prefix="anchor_family_"))
    print(f"img2col_tiling anchor family, side by side ({args.rounds} interleaved rounds, {args.threads} thread(s), "
          f"{'wall' if args.wall_time else 'cpu'} time); 'plain': the member before peel/cache_n were added")
    for key in keys:
        w = Workload.from_key(key)
        sk = search_sketch(w)
        if sk.name != "img2col_tiling":
            print(f"{key}: searched sketch is {sk.name}, not img2col_tiling: skipped")
            continue
        vmfbs, chosen = {}, {}
        for name, want in members.items():
            d = nearest_valid(sk, want)
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
