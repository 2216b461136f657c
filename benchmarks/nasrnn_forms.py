"""NasRNN cell forms on IREE's CPU backend: is TENSAT's NasRNN rewrite worth having here?

TENSAT's 68.9 % on NasRNN comes from turning each step's sixteen matmuls (``x·Wx_i + h·Wh_i``, eight
gates) into one: ``concat(x, h) · concat(Wx_i; Wh_i)`` (K concatenation, TASO's matmul/concat
substitution) and then one contraction for the eight gates. This script builds four hand-written
torch forms of NasRNN (hidden ``H``, 5 steps, batch 1, random weights), checks them against each
other in torch, compiles each with IREE's default CPU pipeline and times them interleaved:

* ``orig`` — the model as written (16 matmuls + 8 adds per step);
* ``x`` — only the x matmuls merged into one stacked contraction per step (the searches' choice
  under the roofline: merging the h matmuls too unfuses the gates' adds);
* ``xh`` — the x and h matmuls each merged into one stacked contraction (what
  ``merge-parallel-matmuls`` produces);
* ``kc`` — one stacked contraction per step on ``concat(x, h)`` (the TENSAT form).

    python benchmarks/nasrnn_forms.py --hidden 256
    python benchmarks/nasrnn_forms.py --hidden 128 --bundle out/nasrnn-cuda --target cuda   # for a GPU host
    #   (on the GPU host)  python3 out/nasrnn-cuda/runner.py out/nasrnn-cuda --out r.json
"""
import argparse
import pathlib
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


import torch
from torch import nn
import mlir_opt
from mlir_opt.backend import compile_module
from mlir_opt.backend.bench import benchmark_interleaved
from mlir_opt.report import machine_info
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument('--hidden', type=int, default=256)
ap.add_argument('--rounds', type=int, default=9)
ap.add_argument('--bundle', type=pathlib.Path, default=None,
                help='write a model bundle of the forms for --target instead of timing here')
ap.add_argument('--target', default='cuda', help='target of --bundle (default cuda)')
args = ap.parse_args()
H, S = args.hidden, 5
torch.manual_seed(0)
Wx = torch.randn(S, 8, H, H) * H**-0.5; Wh = torch.randn(S, 8, H, H) * H**-0.5
h0 = torch.randn(1, H) * 0.1
def mix(t):
    m0 = torch.relu(t[0]) + torch.sigmoid(t[3]); m1 = torch.sigmoid(t[1]) + torch.tanh(t[2])
    m2 = torch.sigmoid(t[4]) * torch.tanh(t[5]); m3 = torch.sigmoid(t[6]) * torch.relu(t[7])
    m4 = torch.sigmoid(m1) + torch.tanh(m2); m5 = torch.tanh(m0) * torch.tanh(m3)
    return torch.tanh(torch.tanh(m4) * torch.tanh(m5))
class Orig(nn.Module):
    def forward(self, xs):
        h = h0
        for s in range(S):
            h = mix([xs[s] @ Wx[s, i] + h @ Wh[s, i] for i in range(8)])
        return h
class XH(nn.Module):  # x and h each merged (stacked), like merge-parallel-matmuls
    def forward(self, xs):
        h = h0
        for s in range(S):
            X = torch.einsum("mk,gkn->gmn", xs[s], Wx[s]); Hh = torch.einsum("mk,gkn->gmn", h, Wh[s])
            h = mix([X[i] + Hh[i] for i in range(8)])
        return h
class X(nn.Module):  # only the x matmuls merged (what the searches' roofline picks on NasRNN)
    def forward(self, xs):
        h = h0
        for s in range(S):
            X = torch.einsum("mk,gkn->gmn", xs[s], Wx[s])
            h = mix([X[i] + h @ Wh[s, i] for i in range(8)])
        return h
Wc = torch.cat([Wx, Wh], dim=2)  # S,8,2H,H
class KC(nn.Module):  # one contraction per step on cat([x,h])
    def forward(self, xs):
        h = h0
        for s in range(S):
            xh = torch.cat([xs[s], h], dim=1)
            T = torch.einsum("mk,gkn->gmn", xh, Wc[s])
            h = mix([T[i] for i in range(8)])
        return h
xs = torch.randn(S, 1, H)
ref = Orig()(xs)
forms = {"orig": Orig(), "x": X(), "xh": XH(), "kc": KC()}
for name, mod in forms.items():
    assert torch.allclose(mod(xs), ref, atol=1e-5), name
models = {name: mlir_opt.load(mod.eval(), (xs,), name=f"nasrnn_{name}") for name, mod in forms.items()}
if args.bundle:
    from mlir_opt import remote

    man = remote.write_model_bundle({k: (m, []) for k, m in models.items()}, args.bundle, target=args.target, reps=50)
    print(f"{args.bundle}: {man['bytes'] / 2**20:.1f} MiB, variants {[e['id'] for e in man['entries']]}")
    raise SystemExit(0)
vm = {}
tmp = pathlib.Path(tempfile.mkdtemp())
for name, m in models.items():
    r = compile_module(m.bytecode(), "llvm-cpu", output=tmp / f"{name}.vmfb")
    vm[name] = r.vmfb
m = models["orig"]
for thr, cpu in [(2, False), (1, True)]:
    t = benchmark_interleaved(vm, [xs.numpy()], entry=m.entry, rounds=args.rounds, min_time_s=0.2, threads=thr,
                              cpu_time=cpu)
    print(f"# {machine_info(thr)['cpu']}, H={H} threads={thr} cpu_time={cpu}: "
          + ", ".join(f"{k} {v.median_ms:.3f} ms ({t['orig'].median_ms / v.median_ms:.2f}x faster than orig)"
                      for k, v in t.items()))
