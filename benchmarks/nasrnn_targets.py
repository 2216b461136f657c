"""NasRNN per target: what the graph searches pick under each roofline preset, and a CUDA bundle of it.

For NasRNN (``--size``, default small) this runs eqsat (and greedy with ``--greedy``) with the
``llvm-cpu`` and ``cuda`` roofline presets, prints each result's rewrites, modelled cost under both
presets, modelled dispatch count and search seconds, and writes CUDA bundles for a GPU host: every
bundle holds the original graph plus at most one other variant (NasRNN small's weights are 18 MB per
module; bundles must stay under 40 MiB). Variants: ``cuda-eqsat`` (the cuda search's result),
``cpu-eqsat`` (the llvm-cpu search's result, skipped when it is the original) and ``x-only`` (only the
x matmuls merged: the CPU eqsat result before the per-target presets).

    PYTHONPATH=. python benchmarks/nasrnn_targets.py --size small --bundle out/nasrnn-targets
    #   (on the GPU host, per bundle)  cd out/nasrnn-targets/cuda-eqsat && python3 runner.py . --out results.json --reps 100
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import mlir_opt  # noqa: E402
from mlir_opt.graph import optimize_graph, prepare  # noqa: E402
from mlir_opt.graph.cost import Roofline, analyze  # noqa: E402
from mlir_opt.graph.rules import RULES  # noqa: E402
from mlir_opt.graph.view import GraphView, structural_hash  # noqa: E402


def x_only(m):
    """merge-parallel-matmuls on the groups sharing an x_t (a slice of the input) only."""
    m = m.clone()
    rule = RULES["merge-parallel-matmuls"]
    while True:
        view = GraphView(m)
        for match in rule.match(view):
            src = view.producer(view.ops[match.ops[0]].operands[0])
            while src is not None and src.name in ("tensor.collapse_shape", "tensor.expand_shape"):
                src = view.producer(src.operands[0])
            if src is not None and src.name == "tensor.extract_slice":
                rule.apply(m.module, match)
                break
        else:
            return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", default="small")
    ap.add_argument("--greedy", action="store_true", help="also run greedy per preset")
    ap.add_argument("--bundle", type=Path, default=None, help="directory for the CUDA bundles")
    ap.add_argument("--reps", type=int, default=100)
    args = ap.parse_args()
    m = mlir_opt.load("nasrnn", size=args.size)
    presets = {t: Roofline.for_target(t) for t in ("llvm-cpu", "cuda")}
    variants = {"original": prepare(m)}
    for t in presets:
        for s in ["eqsat"] + (["greedy"] if args.greedy else []):
            t0 = time.perf_counter()
            r = optimize_graph(m.clone(), s, target=t)
            dt = time.perf_counter() - t0
            print(f"{s} {t}: {dt:.2f} s (measured under load), rewrites {len(r.applied)} x "
                  f"{sorted(set(r.applied)) or '-'}, modelled {r.cost_before:.1f} -> {r.cost_after:.1f} us "
                  f"(roofline {r.stats.get('roofline')})", flush=True)
            if s == "eqsat":
                variants[f"{'cpu' if t == 'llvm-cpu' else t}-eqsat"] = r.model
    variants["x-only"] = x_only(prepare(m))
    seen = {structural_hash(variants["original"]): "original"}
    for name, g in variants.items():
        h = structural_hash(g)
        same = seen.setdefault(h, name)
        costs = ", ".join(f"{t} {analyze(GraphView(g), rf).us:.1f} us" for t, rf in presets.items())
        print(f"  {name:10s} {len(analyze(GraphView(g)).dispatches):3d} dispatches, modelled {costs}"
              + (f" (same graph as {same})" if same != name else ""))
    if args.bundle:
        from mlir_opt import remote

        for name, g in variants.items():
            if name == "original" or seen[structural_hash(g)] != name:
                continue
            out = args.bundle / name
            man = remote.write_model_bundle({"original": (m, []), name: (g, [])}, out, target="cuda",
                                            reps=args.reps)
            print(f"{out}: {man['bytes'] / 2**20:.1f} MiB, {[e['id'] for e in man['entries']]}; "
                  f"on the GPU host: cd {out} && {man['command']}", flush=True)


if __name__ == "__main__":
    main()
