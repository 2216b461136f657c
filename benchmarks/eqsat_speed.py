"""Equality-saturation search speed per phase, earlier paths against the current one, on bundled models.

For each model (imported once and cached as ``.mlirbc`` under ``$MLIR_OPT_CACHE_DIR/eqsat_speed``):
runs ``EqSatSearch`` once per path, back to back, and prints the search seconds, the phase
breakdown from ``stats``, the ILP objective and whether each result is the same as the first
path's (realized rewrites, modelled cost, IR). Paths: ``old`` (``fast=False, ilp_decompose=False``:
one egglog command per value, the whole 0-1 program at once), ``whole`` (``ilp_decompose=False``:
bulk loading, the whole program at once), ``fast`` (the defaults: bulk loading, the decomposed
program). ``--profile`` prints the top cProfile entries of the last run.

    PYTHONPATH=. python benchmarks/eqsat_speed.py --models inception_v3,nasrnn,resnext50 --size small
    PYTHONPATH=. python benchmarks/eqsat_speed.py --models nasrnn --size small --paths whole,fast
    PYTHONPATH=. python benchmarks/eqsat_speed.py --models nasrnn --size small --only fast --profile
"""

from __future__ import annotations

import argparse
from collections import Counter
import cProfile
import io
import os
import pstats
import sys
import time
from pathlib import Path

# the package of this checkout, or of --root (e.g. another checkout: the code before a change)
_root = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--root=")), None)
sys.path.insert(0, _root or str(Path(__file__).resolve().parent.parent))

SUBPHASES = ("serialize_seconds", "egraph_seconds", "ilp_build_seconds", "ilp_solve_seconds")
PHASES = ("prepare_seconds", "translate_seconds", "saturation_seconds", "extraction_seconds", "realize_seconds",
          "cost_seconds")


def load(name: str, size: str):
    """Bundled model ``name`` at ``size``, from a bytecode cache when there is one."""
    import mlir_opt
    from mlir_opt.importers.mlir import load_mlir

    cache = Path(os.environ.get("MLIR_OPT_CACHE_DIR", Path.home() / ".cache" / "mlir_opt")) / "eqsat_speed"
    cache.mkdir(parents=True, exist_ok=True)
    path = cache / f"{name}-{size}.mlirbc"
    if not path.exists():
        mlir_opt.load(name, size=size).save(path)
    return load_mlir(path, name=name)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="inception_v3,nasrnn,resnext50")
    ap.add_argument("--size", default="small")
    ap.add_argument("--only", choices=("old", "whole", "fast", "base"),
                    help="run one path only; base: EqSatSearch() with no arguments (for --root=OTHER_CHECKOUT)")
    ap.add_argument("--paths", default="old,whole,fast", help="paths to run, comma-separated (old, whole, fast)")
    ap.add_argument("--root", help="import mlir_opt from this checkout (write --root=DIR)")
    ap.add_argument("--no-header", action="store_true")
    ap.add_argument("--profile", action="store_true", help="cProfile the (last) run, top 30 by cumulative time")
    args = ap.parse_args(argv)
    from mlir_opt.graph.search import EqSatSearch

    paths = [args.only] if args.only else args.paths.split(",")
    kwargs = {"old": {"fast": False, "ilp_decompose": False}, "whole": {"ilp_decompose": False}, "fast": {}}
    EqSatSearch(rules=[]).run(load("bert", "tiny"))  # warm-up: imports, rule verification cache
    if not args.no_header:
        print(f"{'model':14} {'path':5} {'search s':>9} " + " ".join(f"{p.split('_')[0][:9]:>9}" for p in PHASES)
              + f" {'enodes':>7} {'ilp vars':>8} {'ilp obj':>10} {'cost before':>12} {'cost after':>12}  same as the first path")
    for name in args.models.split(","):
        m = load(name, args.size)
        res = {}
        for p in paths:
            s = EqSatSearch() if p == "base" else EqSatSearch(**kwargs[p])
            prof = cProfile.Profile() if args.profile else None
            t0 = time.perf_counter()
            if prof:
                prof.enable()
            r = s.run(m.clone())
            if prof:
                prof.disable()
            wall = time.perf_counter() - t0
            res[p] = r
            st = r.stats
            same = ""
            if p != paths[0]:
                o = res[paths[0]]
                same = "yes" if (sorted(o.applied) == sorted(r.applied)
                                 and abs(o.cost_after - r.cost_after) <= 1e-6 * max(1.0, abs(o.cost_after))) else "NO"
                same += ", same IR" if o.model.text() == r.model.text() else ", other IR"
            print(f"{name:14} {p:5} {wall:9.2f} " + " ".join(f"{st.get(k, float('nan')):9.3f}" for k in PHASES)
                  + f" {st.get('enodes', 0):7d} {st.get('ilp_vars', 0):8d} {st.get('ilp_objective_us', float('nan')):10.3f}"
                  + f" {r.cost_before:12.2f} {r.cost_after:12.2f}  {same}", flush=True)
            if any(k in st for k in SUBPHASES):
                print(f"  {name} {p}: extraction = " + ", ".join(f"{k.replace('_seconds', '')} {st[k]}" for k in SUBPHASES
                                                                 if k in st) + " s", flush=True)
            if prof:
                out = io.StringIO()
                pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(30)
                print(out.getvalue())
            print(f"  {name} {p}: applied {dict(sorted(Counter(r.applied).items()))}"
                  + (f", ilp parts {st['ilp_components']} ({st['ilp_component_milps']} HiGHS calls, "
                     f"{st.get('ilp_components_batched', 0)} small ones in one call, {st['ilp_components_reused']} reused, "
                     f"largest {st['ilp_largest_component']} vars), "
                     f"HiGHS {st['ilp_solve_seconds']} s" if "ilp_components" in st else ""), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
