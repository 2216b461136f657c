#!/usr/bin/env python3
"""Summarise a cupti_trace.c trace of a benchmark loop: kernel durations and gaps, driver calls per kernel."""
import sys, statistics as st, collections
K, D = [], []
for line in open(sys.argv[1]):
    p = line.split()
    if p[0] in ("K", "S"):
        K.append((int(p[1]), int(p[2]), p[3][:50]))
    elif p[0] == "D":
        D.append((int(p[1]), int(p[2]), p[3], p[4]))
K.sort(); D.sort()
K = K[len(K) // 3:]  # steady state
dur = collections.defaultdict(list)
for s, e, n in K:
    dur[n].append((e - s) / 1e3)
for n, v in dur.items():
    print(f"  gpu {n}: n={len(v)} median {st.median(v):.1f} us min {min(v):.1f} max {max(v):.1f}")
gaps = [(K[i + 1][0] - K[i][1]) / 1e3 for i in range(len(K) - 1)]
if gaps:
    print(f"  gap between GPU ops: median {st.median(gaps):.1f} us, p10 {sorted(gaps)[len(gaps)//10]:.1f}, p90 {sorted(gaps)[9*len(gaps)//10]:.1f}")
    per = (K[-1][1] - K[0][0]) / 1e3 / len(K)
    print(f"  wall per GPU op (steady): {per:.1f} us")
t0, t1 = K[0][0], K[-1][1]
api = collections.defaultdict(list)
for s, e, n, tid in D:
    if t0 <= s <= t1:
        api[(n, tid)].append((e - s) / 1e3)
nk = len(K)
for (n, tid), v in sorted(api.items(), key=lambda x: -sum(x[1]))[:14]:
    print(f"  api {n} (thread {tid}): {len(v)/nk:.2f} per op, median {st.median(v):.1f} us, total/op {sum(v)/nk:.1f} us")
