"""GPU timeline of IREE calls (CUPTI through torch.profiler, process-wide): kernel time vs gap per call (run g33b).

Usage (GPU host, iree-base-runtime and torch importable): python3 gpu_iree_timeline.py MODULE.vmfb [HAL FLAG ...]
(an f16 4096x4096x4096 module; the flags as for iree-run-module, e.g. --device_allocator=caching). The Python loop
adds its own overhead to every gap, so only the kernel durations compare with iree-benchmark-module's figures.
"""
import sys, time, json, statistics as st
import numpy as np
import torch
from torch.profiler import profile, ProfilerActivity
import iree.runtime as rt

vmfb, flags = sys.argv[1], sys.argv[2:]
if flags:
    rt.flags.parse_flags(*flags)
dev = rt.get_device("cuda", cache=False)
cfg = rt.Config(device=dev)
ctx = rt.SystemContext(config=cfg)
ctx.add_vm_module(rt.VmModule.mmap(cfg.vm_instance, vmfb))
f = ctx.modules.module.main
r = np.random.default_rng(0)
a = rt.asdevicearray(dev, r.standard_normal((4096, 4096)).astype(np.float16))
b = rt.asdevicearray(dev, r.standard_normal((4096, 4096)).astype(np.float16))
torch.zeros(1, device="cuda")
for _ in range(20):
    out = f(a, b); del out
n = 200
t = time.perf_counter()
for _ in range(n):
    out = f(a, b); del out
wall = (time.perf_counter() - t) / n * 1e3
with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
    for _ in range(30):
        out = f(a, b); del out
ev = [e for e in prof.events() if e.device_type.name == "CUDA"]
ev.sort(key=lambda e: e.time_range.start)
names = {}
for e in ev:
    names.setdefault(e.name[:60], []).append(e.time_range.elapsed_us())
ks = [e for e in ev if "main" in e.name]
gaps = [ks[i + 1].time_range.start - ks[i].time_range.end for i in range(len(ks) - 1)]
print(f"{vmfb} {' '.join(flags)}: python call loop {wall:.4f} ms/call")
for k, v in names.items():
    print(f"  gpu op {k!r}: n={len(v)} median {st.median(v):.1f} us")
if gaps:
    print(f"  gap between consecutive main kernels: median {st.median(gaps):.1f} us, min {min(gaps):.1f}, max {max(gaps):.1f}")
cpu = {}
for e in prof.key_averages():
    if e.count >= 25 and e.device_type.name == "CPU":
        cpu[e.key] = (e.count, e.cpu_time_total / e.count)
for k, (c, us) in sorted(cpu.items(), key=lambda x: -x[1][1])[:12]:
    print(f"  cpu {k[:70]!r}: n={c} {us:.1f} us each")
