"""Would a plateau stopping rule have cut reuse's trials without losing the best?  Offline, on logs.

Reads ``op_search.py --json`` files (with logs) and replays every reuse run with the rule "stop once
the last ``k`` trials brought no improvement of the incumbent (search time) by more than
``noise``" (the fixed head of the log, up to the first trial of the searched sketch, never stops it).
For each ``(k, noise)`` it prints how many workloads would have stopped *before* their own trial to
95 % of the best (metric retimed, as saved by op_search.py) — the best lost —, the share of trials
run that the rule saves, and how many donors would have stopped before the last record reuse
transferred from them (their transferred schedules would change, which no replay can tell).

Note what the rule can save: trials to 95 % ends at the first trial within 95 %, so stopping after
it changes no workload's own figure; it can only cut the donor surplus charged to recipients (and
the wall time of tuning).

    python benchmarks/reuse_stop_rule.py benchmarks/results/op-search-reuse-*-full-b48-*load-2026-11-27.json
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path


def stop_at(times: list[float | None], head: int, k: int, noise: float) -> int:
    """1-based trial after which the rule stops (``len(times)``: ran to the end)."""
    inc, last = math.inf, 0
    for i, t in enumerate(times):
        if t is not None and (inc == math.inf or t < inc * (1 - noise)):
            last = i + 1
        if t is not None:
            inc = min(inc, t)
        if i + 1 > head and i + 1 - max(last, head) >= k:
            return i + 1
    return len(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("json", type=Path, nargs="+")
    ap.add_argument("--k", default="8,12,16,20,24", help="plateau lengths (trials)")
    ap.add_argument("--noise", default="0,0.05,0.1,0.2", help="improvement margins (fraction of the incumbent)")
    args = ap.parse_args(argv)
    runs = []
    for f in args.json:
        d = json.loads(f.read_text())
        for r in d["rows"]:
            key = r["workload"]
            log = d["logs"][key]["reuse"][0]
            searched = next((sk for sk, _, _ in log if sk not in ("default", "data_tiling", "img2col")), None)
            head = next((i for i, (sk, _, _) in enumerate(log) if sk == searched), len(log))
            runs.append((f.name, key, [t for _, _, t in log], head, r.get("retimed_reuse_trials_to_95"),
                         r.get("retimed_reuse_donor_last_used")))
    print(f"{len(runs)} reuse runs from {len(args.json)} file(s)")
    for k in (int(x) for x in args.k.split(",")):
        for noise in (float(x) for x in args.noise.split(",")):
            lost, saved, total, cut = [], 0, 0, 0
            for name, key, times, head, t95, last_used in runs:
                s = stop_at(times, head, k, noise)
                total, saved = total + len(times), saved + len(times) - s
                if t95 is None or s < t95:
                    lost.append(f"{key} (stop {s}, 95 % at {t95})")
                cut += bool(last_used and s < last_used)
            print(f"k={k:2d} noise={noise:.2f}: best lost on {len(lost)}/{len(runs)}, trials run saved {saved}/{total} "
                  f"({saved / max(1, total):.0%}), donors stopped before their last transferred record: {cut}")
            for x in lost[:4]:
                print(f"    {x}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
