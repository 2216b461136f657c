"""Measured effect of the conv/concat/algebra graph rules on small building blocks (IREE, CPU).

For each block (an Inception-like branch group, a SqueezeNet fire module, a low-rank linear pair,
a sum of two linears) the script imports the torch module, applies a rule sequence (or the OCGGS
search), checks the rewritten module against torch, and prints the roofline cost and the measured
median latency (``iree-benchmark-module``) before and after, side by side::

    python benchmarks/graph_rules.py              # default sizes
    python benchmarks/graph_rules.py --tiny       # smallest sizes (a smoke run)
    python benchmarks/graph_rules.py --reps 20 --threads 1
    python benchmarks/graph_rules.py --matches squeezenet inception_v3   # which rules match a model

Timings depend on the machine and its load; rerun on a quiet machine for figures to report.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mlir_opt  # noqa: E402
from mlir_opt.backend import Runner, benchmark_many, compare_outputs, compile_module  # noqa: E402
from mlir_opt.graph import STRATEGIES, apply_rules, prepare  # noqa: E402
from mlir_opt.graph.cost import analyze  # noqa: E402
from mlir_opt.graph.view import GraphView  # noqa: E402


class Inception(nn.Module):
    def __init__(self, cin, c1, c3a, c3b):
        super().__init__()
        self.b1, self.b3a = nn.Conv2d(cin, c1, 1), nn.Conv2d(cin, c3a, 3, padding=1)
        self.b3b = nn.Conv2d(cin, c3b, 3, padding=1)

    def forward(self, x):
        return torch.relu(torch.cat([self.b1(x), self.b3a(x), self.b3b(x)], 1))


class Fire(nn.Module):
    def __init__(self, cin, s, e):
        super().__init__()
        self.sq, self.e1, self.e3 = nn.Conv2d(cin, s, 1), nn.Conv2d(s, e, 1), nn.Conv2d(s, e, 3, padding=1)

    def forward(self, x):
        x = torch.relu(self.sq(x))
        return torch.cat([torch.relu(self.e1(x)), torch.relu(self.e3(x))], 1)


class LowRank(nn.Module):
    def __init__(self, d, r, o):
        super().__init__()
        self.a, self.b = nn.Linear(d, r, bias=False), nn.Linear(r, o, bias=False)

    def forward(self, x):
        return self.b(self.a(x))


class SumLinear(nn.Module):
    def __init__(self, d, o):
        super().__init__()
        self.a, self.b = nn.Linear(d, o, bias=False), nn.Linear(d, o, bias=False)

    def forward(self, x):
        return self.a(x) + self.b(x)


class Conv3(nn.Module):
    """A 3x3 pad-1 conv + ReLU, then a 3x3 stride-2 conv (a ResNet-like stem step)."""

    def __init__(self, c, o):
        super().__init__()
        self.a, self.b = nn.Conv2d(c, o, 3, padding=1), nn.Conv2d(o, o, 3, stride=2, padding=1)

    def forward(self, x):
        return self.b(torch.relu(self.a(x)))


NHWC = ["conv-nchw-to-nhwc", "transpose-of-pad", "transpose-through-elementwise", "transpose-transpose"]


def blocks(tiny: bool):
    s = 4 if tiny else 1
    return [
        ("inception 3x3+3x3 (+1x1)", Inception(64 // s, 32 // s, 64 // s, 32 // s), (1, 64 // s, 28 // s, 28 // s),
         ["merge-parallel-convs", "concat-of-slices"]),
        ("squeezenet fire (ocggs)", Fire(128 // s, 16 // s, 64 // s), (1, 128 // s, 28 // s, 28 // s), "ocggs"),
        ("low-rank linear (x·A)·B", LowRank(256 // s, 512 // s, 128 // s), (64 // s, 256 // s),
         ["matmul-reassociate"]),
        ("x·A + x·B", SumLinear(256 // s, 256 // s), (64 // s, 256 // s), ["distribute-matmul"]),
        # the bundled CNN after the default rewrites (batch-norm folds), then turned NHWC
        ("cnn NCHW -> NHWC", "cnn", "tiny" if tiny else "small", NHWC),
        # conv -> im2col gather + matmul (opt-in rule): IREE's own conv codegen vs a matmul
        ("conv 3x3 -> im2col", Conv3(32 // s, 32 // s), (1, 32 // s, 56 // s, 56 // s), ["conv-to-im2col"]),
        ("cnn conv -> im2col", "cnn", "tiny" if tiny else "small", ["conv-to-im2col"]),
    ]


def matches(names) -> int:
    """Per model: matches of every rule on the imported graph, the fixpoint's rewrites, roofline."""
    from mlir_opt.graph.rules import RULES

    for name in names:
        m = prepare(mlir_opt.load(name, size="tiny"))
        v = GraphView(m)
        counts = {rn: len(r.match(v)) for rn, r in RULES.items()}
        res = apply_rules(m)
        print(f"{name}: matches {({k: c for k, c in counts.items() if c})}")
        print(f"  rewrite applies {({k: res.applied.count(k) for k in dict.fromkeys(res.applied)})}; "
              f"roofline {analyze(v).us:.1f} -> {analyze(GraphView(res.model)).us:.1f} us", flush=True)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tiny", action="store_true", help="smallest sizes (smoke run)")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--only", nargs="+", metavar="TEXT", help="only the blocks whose label contains one of these")
    ap.add_argument("--matches", nargs="+", metavar="MODEL",
                    help="only list, per bundled model (tiny), how often each rule matches and what "
                         "the rewrite fixpoint applies")
    args = ap.parse_args(argv)
    if args.matches:
        return matches(args.matches)
    torch.manual_seed(0)
    print(f"{'block':28s} {'rewrites':58s} {'model us':>17s} {'measured ms':>19s} {'speedup':>7s} {'rel err':>8s}")
    for label, mod, shape, seq in blocks(args.tiny):
        if args.only and not any(t in label for t in args.only):
            continue
        if isinstance(mod, str):  # a bundled model (shape = size preset), default rewrites first
            m = mlir_opt.load(mod, size=shape)
            m.module = apply_rules(m).model.module
        else:
            m = mlir_opt.load(mod.eval(), (torch.randn(*shape),))
        t0 = time.perf_counter()
        if seq == "ocggs":
            res = STRATEGIES["ocggs"](verify=True).run(m)
        else:
            res = apply_rules(m, seq)
        search_s = time.perf_counter() - t0
        before, after = analyze(GraphView(prepare(m))).us, analyze(GraphView(res.model)).us
        with tempfile.TemporaryDirectory() as tmp:
            vm = {k: compile_module(x.bytecode(), "llvm-cpu", output=Path(tmp) / f"{k}.vmfb").vmfb
                  for k, x in (("orig", m), ("new", res.model))}
            x = m.random_inputs(0)
            err = compare_outputs(Runner(vm["new"], m.entry)(x), m.reference(x), 1e-4)
            t = benchmark_many(vm, x, entry=m.entry, reps=args.reps, rounds=2, threads=args.threads)
        a, b = t["orig"].median_ms, t["new"].median_ms
        print(f"{label:28s} {','.join(res.applied)[:58]:58s} {before:7.1f} -> {after:7.1f} "
              f"{a:8.3f} -> {b:8.3f} {a / b:7.2f} {err.max_error:8.1e}"
              + ("" if err.ok else "  MISMATCH") + f"  (rewrite {search_s:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
