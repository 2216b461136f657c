"""Eqsat search, base commit against this checkout, side by side in one run: stage seconds and
whether both find the same graph.

Seconds: ``search s`` is the wall time of the best run, ``cpu s`` the least process CPU time (less
sensitive to other load on the machine; it counts every thread of the process).

Two worker processes, one importing ``mlir_opt`` from a base checkout (``--base-rev``: a git
revision exported with ``git archive`` to a temporary folder, or ``--base-dir``), one from this
checkout, run ``EqSatSearch().run`` on the same models, alternately (base, new, base, new, ...) so
that both see the same machine load. Per model it prints both runs' stage seconds (the best of
``--reps``) and checks that the results are the same: ILP objective, applied rewrites, modelled
cost before and after, and the structural hash of the result graph (also the SHA-256 of its
text, reported). Exit status 1 when any differs.

    PYTHONPATH=. python benchmarks/eqsat_same.py --base-rev b30a13c --size small \\
        --models nasrnn,resnext50,squeezenet,vgg19 --reps 3
    PYTHONPATH=. python benchmarks/eqsat_same.py --base-rev b30a13c --size small --reps 1   # all zoo models
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
STAGES = ("prepare", "translate", "saturation", "extraction", "realize", "cost", "layout")


def _worker(root: str) -> int:
    """Read model names (``name size``) from stdin, answer one JSON line each."""
    sys.path.insert(0, root)
    sys.path.insert(1, str(HERE))
    import mlir_opt  # first: eqsat_speed puts this checkout on the path

    from eqsat_speed import load  # the bytecode cache of the models
    from mlir_opt.graph.search import EqSatSearch
    from mlir_opt.graph.view import structural_hash

    assert Path(mlir_opt.__file__).resolve().is_relative_to(Path(root).resolve()), mlir_opt.__file__
    EqSatSearch(rules=[]).run(load("bert", "tiny"))  # warm-up: imports, rule verification cache
    print(json.dumps({"ready": True}), flush=True)
    models: dict = {}
    for line in sys.stdin:
        name, size = line.split()
        if (name, size) not in models:
            models[(name, size)] = load(name, size)
        m = models[(name, size)].clone()
        t0, c0 = time.perf_counter(), time.process_time()
        r = EqSatSearch().run(m)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        st = r.stats
        lay = st.get("layout")
        stages = {k: st.get(f"{k}_seconds", 0.0) for k in STAGES if k != "layout"}
        stages["layout"] = lay.get("seconds", 0.0) if isinstance(lay, dict) else 0.0
        print(json.dumps({
            "seconds": wall, "cpu": cpu, "stages": stages, "applied": dict(sorted(Counter(r.applied).items())),
            "ilp_objective_us": st.get("ilp_objective_us"), "cost_before": r.cost_before, "cost_after": r.cost_after,
            "hash": structural_hash(r.model), "text_sha": hashlib.sha256(r.model.text().encode()).hexdigest()[:16],
            "enodes": st.get("enodes")}), flush=True)
    return 0


class Worker:
    def __init__(self, root: str):
        env = dict(os.environ, PYTHONPATH=root)
        self.p = subprocess.Popen([sys.executable, __file__, "--worker", root], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, env=env, cwd=root)
        assert json.loads(self.p.stdout.readline())["ready"]

    def run(self, name: str, size: str) -> dict:
        self.p.stdin.write(f"{name} {size}\n")
        self.p.stdin.flush()
        line = self.p.stdout.readline()
        if not line:
            raise RuntimeError(f"worker died on {name}")
        return json.loads(line)

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def _same(a: dict, b: dict) -> list[str]:
    """The fields in which two results differ."""
    out = []
    for k in ("applied", "hash"):
        if a[k] != b[k]:
            out.append(k)
    for k in ("ilp_objective_us", "cost_before", "cost_after"):
        x, y = a[k], b[k]
        if (x is None) != (y is None) or (x is not None and abs(x - y) > 1e-9 * max(1.0, abs(x))):
            out.append(k)
    return out


def main(argv=None) -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--worker":
        return _worker(sys.argv[2])
    from mlir_opt.models import NAMES

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(NAMES))
    ap.add_argument("--size", default="small")
    ap.add_argument("--reps", type=int, default=1, help="runs per model and checkout; the best is reported")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--base-rev", help="git revision of the base (exported from this repository)")
    g.add_argument("--base-dir", help="a checkout of the base")
    args = ap.parse_args(argv)
    tmp = None
    if args.base_rev:
        tmp = tempfile.TemporaryDirectory(prefix="eqsat_same_base_")
        arch = subprocess.run(["git", "-C", str(HERE.parent), "archive", args.base_rev, "mlir_opt"],
                              check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", tmp.name], input=arch, check=True)
        base_root = tmp.name
    else:
        base_root = args.base_dir
    roots = {"base": base_root, "new": str(HERE.parent)}
    workers = {k: Worker(v) for k, v in roots.items()}
    print(f"{'model':13} {'run':4} {'search s':>8} {'cpu s':>6} " + " ".join(f"{s[:9]:>9}" for s in STAGES)
          + f" {'ilp obj':>10} {'cost after':>11} {'hash':>12}  same")
    bad = 0
    for name in args.models.split(","):
        res: dict = {"base": [], "new": []}
        for _ in range(args.reps):
            for k in ("base", "new"):
                res[k].append(workers[k].run(name, args.size))
        best = {k: min(v, key=lambda r: r["seconds"]) for k, v in res.items()}
        diffs = sorted({d for a in res["base"] for b in res["new"] for d in _same(a, b)}
                       | {d for v in res.values() for a in v for d in _same(a, v[0])})
        bad += bool(diffs)
        for k in ("base", "new"):
            r = best[k]
            same = "" if k == "base" else ("yes" if not diffs else "NO: " + ", ".join(diffs))
            same += "" if k == "base" else (", same text" if r["text_sha"] == best["base"]["text_sha"] else ", other text")
            obj = r["ilp_objective_us"] if r["ilp_objective_us"] is not None else float("nan")
            print(f"{name:13} {k:4} {r['seconds']:8.2f} {min(x['cpu'] for x in res[k]):6.2f} " + " ".join(f"{r['stages'][s]:9.3f}" for s in STAGES)
                  + f" {obj:10.3f} {r['cost_after']:11.2f} {r['hash'][:12]:>12}  {same}", flush=True)
        ratio = best["base"]["seconds"] / best["new"]["seconds"]
        cpu = min(r["cpu"] for r in res["base"]) / min(r["cpu"] for r in res["new"])
        print(f"  {name}: {ratio:.2f}x faster (wall), {cpu:.2f}x (CPU); applied {best['new']['applied']}", flush=True)
        if args.reps > 1:
            med = {k: (statistics.median(r["seconds"] for r in v), statistics.median(r["cpu"] for r in v))
                   for k, v in res.items()}
            print(f"  {name}: medians of {args.reps}: wall {med['base'][0]:.3f} -> {med['new'][0]:.3f} s "
                  f"({med['base'][0] / med['new'][0]:.2f}x), CPU {med['base'][1]:.3f} -> {med['new'][1]:.3f} s "
                  f"({med['base'][1] / med['new'][1]:.2f}x)", flush=True)
    for w in workers.values():
        w.close()
    if tmp:
        tmp.cleanup()
    print("all the same" if not bad else f"{bad} model(s) differ")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
