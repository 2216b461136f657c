"""Where did reuse's transferred schedules land?  Reads an ``op_search.py --json`` file (with logs).

For every workload that reuse tuned with a donor, prints the reference (fastest time any strategy
measured, one figure per schedule as in :mod:`mlir_opt.ops.efficiency`), and for reuse's first
batch of proposals (the transferred schedules) and its best: the time, the ratio to the reference,
and the *percentile among random search's samples* of the same workload (the share of random
samples that were faster) — a figure that does not depend on the single luckiest timing that sets
the reference. Also how many random samples reached 95 % of the reference. With metric
``retimed`` data (op_search.py since 2026-11-26), also the re-timed schedules, fastest first, and
the trial at which each strategy run first measured each of them.

    python benchmarks/reuse_diagnose.py benchmarks/results/op-search-….json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mlir_opt.ops.efficiency import LEVEL, harmonize  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", type=Path)
    ap.add_argument("--first", type=int, default=4, help="reuse proposals shown (the first batch)")
    args = ap.parse_args(argv)
    data = json.loads(args.json.read_text())
    if "logs" not in data:
        print("no trial logs in this file (written before op_search.py saved them)", file=sys.stderr)
        return 1
    donors = data.get("reuse_donors", {})
    rows = {r["workload"]: r for r in data.get("rows", [])}
    for key, by in data["logs"].items():
        flat = [(s, i) for s, ls in by.items() for i in range(len(ls))]
        hl = harmonize([by[s][i] for s, i in flat])
        logs: dict[str, list] = {}
        for (s, _), log in zip(flat, hl):
            logs.setdefault(s, []).append(log)
        ref = min(t for ls in logs.values() for log in ls for *_, t in log if t is not None)
        rnd = sorted({(sk, json.dumps(d, sort_keys=True)): t for log in logs.get("random", [])
                      for sk, d, t in log if t is not None}.values())
        hits = sum(1 for t in rnd if t <= ref / LEVEL)

        def pct(t):
            return 100.0 * sum(1 for x in rnd if x < t) / max(1, len(rnd))

        print(f"{key}: reference {ref:.3f} ms; random: {hits}/{len(rnd)} samples within 95 %, "
              f"best {rnd[0] if rnd else float('nan'):.3f} ms; reuse donors {donors.get(key, [])}"
              + (f" (anchor: {rows[key].get('reuse_budget')} trials, "
                 + ("first batch = the register-tile family)" if data.get("reuse_anchor", "family") == "family"
                    else "evolutionary fallback)")
                 if rows.get(key, {}).get("reuse_anchor") else ""))
        reuse = logs.get("reuse", [[]])[0]
        fixed = [i for i, (sk, d, _) in enumerate(reuse) if not d]
        start = max(fixed, default=-1) + 1
        ok = [(t, i) for i, (_, _, t) in enumerate(reuse) if t is not None]
        best_i = min(ok)[1] if ok else None
        for i, (sk, d, t) in enumerate(reuse):
            if not (start <= i < start + args.first or i == best_i or i in fixed):
                continue
            tag = "fixed" if i in fixed else ("best" if i == best_i and i >= start + args.first else "first batch")
            ts = "failed" if t is None else f"{t:.3f} ms = {ref / t:5.1%} of best, faster than {100 - pct(t):.0f} % " \
                                            f"of random samples"
            print(f"  trial {i + 1:2d} [{tag}] {sk} {d}: {ts}")
        if key in data.get("retimed", {}):
            _retimed_view(data["retimed"][key], by)
    return 0


def _retimed_view(retimed: list, by: dict) -> None:
    """Metric ``retimed``: the schedules re-timed side by side (fastest first), each with its ratio
    to the re-timed best, whether it reaches 95 %, and the trial at which each strategy run first
    measured it (``-``: never) — so one sees which schedule decides trials-to-95 and who found it when."""
    best = min(ms for *_, ms, _ in retimed)
    print(f"  re-timed (metric retimed): best {best:.3f} ms; first trial per run "
          f"({', '.join(f'{s}#{j}' for s, ls in by.items() for j in range(len(ls)))})")
    for sk, d, ms, spread in sorted(retimed, key=lambda r: r[2]):
        key = (sk, json.dumps(d, sort_keys=True))
        firsts = []
        for s, ls in by.items():
            for log in ls:
                idx = next((i + 1 for i, (k, dd, _) in enumerate(log)
                            if (k, json.dumps(dd, sort_keys=True)) == key), None)
                firsts.append("-" if idx is None else str(idx))
        hit = "≥95%" if ms <= best / LEVEL else "    "
        print(f"    {ms:9.3f} ms {best / ms:6.1%} {hit} ±{spread:4.0%} {sk} {d}: {' '.join(firsts)}")


if __name__ == "__main__":
    sys.exit(main())
