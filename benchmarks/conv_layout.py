"""Calibrate the roofline's per-layout convolution efficiency: one convolution compiled alone by
IREE in NCHW (``conv_2d_nchw_fchw``) and in NHWC (``conv_2d_nhwc_hwcf``), same shapes, constant
filter and bias accumulator, timed interleaved; prints each shape's times and the NCHW/NHWC ratio,
and the median ratio, which is the ``Roofline.conv_nchw_slowdown`` default of
mlir_opt/graph/cost.py (see docs/layout-search.md).

    python benchmarks/conv_layout.py                 # the default shape set (CNN-like, batch 1)
    python benchmarks/conv_layout.py --quick         # three shapes, for a smoke run
    python benchmarks/conv_layout.py --shapes 64x28x3x64x1,32x56x1x64x1   # C x HW x K x F x stride

Figures taken while other jobs run are "under load".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

#: (in channels, spatial size, kernel, out channels, stride): ResNet/SqueezeNet/VGG-like convs.
SHAPES = ["16x56x3x16x1", "32x56x1x64x1", "64x28x3x64x1", "64x28x1x128x2", "128x14x3x128x1", "256x14x1x64x1",
          "3x112x7x32x2", "96x28x1x16x1", "16x28x3x64x1"]
QUICK = ["16x56x3x16x1", "64x28x1x128x2", "128x14x3x128x1"]


def _dense(a: np.ndarray) -> str:
    def rec(x):
        return "[" + ", ".join(rec(y) for y in x) + "]" if x.ndim else f"{float(x):.6g}"
    return f"dense<{rec(a)}>"


def conv_module(c: int, hw: int, k: int, f: int, stride: int, layout: str, seed: int = 0) -> str:
    """MLIR of one padded ("same") convolution with a constant filter and bias, in ``layout``."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal((f, c, k, k)).astype(np.float32) / np.sqrt(c * k * k)
    b = rng.standard_normal(f).astype(np.float32)
    p = k // 2
    o = (hw + 2 * p - k) // stride + 1
    # the input comes padded: in a CNN the pad is fused into the producer's dispatch
    if layout == "nchw":
        ps, os_, ws, ch = [1, c, hw + 2 * p, hw + 2 * p], [1, f, o, o], [f, c, k, k], 1
        wv, name = w, "linalg.conv_2d_nchw_fchw"
    else:
        ps, os_, ws, ch = [1, hw + 2 * p, hw + 2 * p, c], [1, o, o, f], [k, k, c, f], 3
        wv, name = np.transpose(w, (2, 3, 1, 0)), "linalg.conv_2d_nhwc_hwcf"
    t = lambda s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    return f"""func.func @main(%p: {t(ps)}) -> {t(os_)} {{
  %wr = arith.constant {_dense(np.ascontiguousarray(wv))} : {t(ws)}
  %b = arith.constant {_dense(b)} : tensor<{f}xf32>
  %e = tensor.empty() : {t(os_)}
  %i = linalg.generic {{indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d{ch})>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}} ins(%b : tensor<{f}xf32>) outs(%e : {t(os_)}) {{
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }} -> {t(os_)}
  %r = {name} {{dilations = dense<1> : tensor<2xi64>, strides = dense<{stride}> : tensor<2xi64>}} ins(%p, %wr : {t(ps)}, {t(ws)}) outs(%i : {t(os_)}) -> {t(os_)}
  return %r : {t(os_)}
}}
""", ps


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shapes", default=None, help="comma-separated CxHWxKxFxS (default: a CNN-like set)")
    ap.add_argument("--quick", action="store_true", help="three shapes only")
    ap.add_argument("--reps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args(argv)
    from mlir_opt.backend import benchmark_many, compile_module

    shapes = args.shapes.split(",") if args.shapes else (QUICK if args.quick else SHAPES)
    tmp = Path(tempfile.mkdtemp(prefix="conv_layout_"))
    ratios = []
    print(f"{'C x HW x K x F x S':20s} {'GFLOP':>7s} {'nchw ms':>9s} {'nhwc ms':>9s} {'nchw/nhwc':>9s}")
    for s in shapes:
        c, hw, k, f, st = map(int, s.split("x"))
        vm, ins = {}, {}
        for lay in ("nchw", "nhwc"):
            text, xs = conv_module(c, hw, k, f, st, lay)
            vm[lay] = compile_module(text, "llvm-cpu", output=tmp / f"{s}_{lay}.vmfb").vmfb
            ins[lay] = np.random.default_rng(1).standard_normal(xs).astype(np.float32)
        # each layout gets its own input (same values, transposed); time them interleaved
        times = {}
        for _ in range(3):
            for lay in ("nchw", "nhwc"):
                t = benchmark_many({lay: vm[lay]}, [ins[lay]], reps=max(1, args.reps // 3), rounds=1,
                                   threads=args.threads)[lay]
                times.setdefault(lay, []).extend(t.samples_ms)
        a, b = statistics.median(times["nchw"]), statistics.median(times["nhwc"])
        o = (hw + 2 * (k // 2) - k) // st + 1
        gf = 2 * o * o * f * c * k * k / 1e9
        ratios.append(a / b)
        print(f"{s:20s} {gf:7.3f} {a:9.4f} {b:9.4f} {a / b:8.2f}×", flush=True)
    print(f"median nchw/nhwc ratio over {len(ratios)} shapes: {statistics.median(ratios):.2f} "
          f"(geomean {float(np.exp(np.mean(np.log(ratios)))):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
