#!/bin/bash
# Limits of the f16 4096^3 kernel on the GPU host (seventh session, runs g33/g36; iree-base-runtime on PYTHONPATH):
# (1) the mma.sync ceiling of the card (benchmarks/gpu_mma_peak.cu, registers only), (2) ncu: tensor-pipe activity,
# stall reasons, L2/DRAM throughput of MODULE (an f16 4096^3 vmfb) and of cuBLAS (torch.matmul), (3) SM clock, power
# and throttle reasons (nvidia-smi every 50 ms) while MODULE and torch are called back to back for 3 s each.
# Usage: bash benchmarks/gpu_f16_limits.sh MODULE.vmfb
MOD=$1; HERE=$(dirname "$0")
nvcc -O3 -arch=sm_90 -o /tmp/mma_peak $HERE/gpu_mma_peak.cu || exit 1
for cfg in "4 1" "8 1" "8 2" "16 1" "16 2"; do /tmp/mma_peak $cfg 20000; done
B=$(python3 -c "import iree.runtime as rt, pathlib; print(next(p for p in pathlib.Path(rt.__file__).parent.parent.rglob('iree-benchmark-module') if p.is_file()))")
python3 -c "
import numpy as np; r=np.random.default_rng(0)
np.save('/tmp/a.npy', r.standard_normal((4096,4096)).astype(np.float16)); np.save('/tmp/b.npy', r.standard_normal((4096,4096)).astype(np.float16))"
A="--module=$MOD --device=cuda --function=main --input=@/tmp/a.npy --input=@/tmp/b.npy"
cat > /tmp/tm.py <<'PY'
import torch
a=torch.randn(4096,4096,dtype=torch.float16,device='cuda'); b=torch.randn(4096,4096,dtype=torch.float16,device='cuda')
for _ in range(4): c=a@b
torch.cuda.synchronize()
PY
M=sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,sm__cycles_elapsed.avg.per_second,gpu__time_duration.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,lts__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_bytes.sum.per_second,dram__throughput.avg.pct_of_peak_sustained_elapsed,launch__registers_per_thread
for s in barrier long_scoreboard short_scoreboard math_pipe_throttle mio_throttle wait; do M=$M,smsp__average_warp_latency_issue_stalled_$s.ratio; done
timeout 150 ncu --clock-control none --metrics $M --launch-count 1 /tmp/mma_peak 8 1 20000 2>&1 | grep -E "__" | sed 's/^/peak8x1 /'
timeout 150 ncu --clock-control none --metrics $M -k regex:main --launch-skip 2 --launch-count 1 $B $A --benchmark_min_time=4x 2>&1 | grep -E "__" | sed 's/^/iree /'
timeout 150 ncu --clock-control none --metrics $M --launch-skip 2 --launch-count 1 python3 /tmp/tm.py 2>&1 | grep -E "__" | sed 's/^/cublas /'
S="--query-gpu=clocks.sm,power.draw,temperature.gpu,clocks_event_reasons.active --format=csv,noheader -lms 50"
nvidia-smi $S > /tmp/s_iree.txt & P=$!
$B $A --device_allocator=caching --cuda_async_allocations=false --benchmark_min_time=3s 2>&1 | grep -E "real_time" | head -2
kill $P
nvidia-smi $S > /tmp/s_torch.txt & P=$!
python3 -c "
import torch, time
a=torch.randn(4096,4096,dtype=torch.float16,device='cuda'); b=torch.randn(4096,4096,dtype=torch.float16,device='cuda')
t=time.time(); n=0
while time.time()-t<3:
    for _ in range(10): c=a@b; torch.cuda.synchronize()
    n+=10
print('torch call+sync', round((time.time()-t)/n*1e3,4), 'ms')"
kill $P
for f in iree torch; do python3 -c "
import statistics as s, collections
rows=[[x.strip() for x in l.split(',')] for l in open('/tmp/s_$f.txt') if 'MHz' in l]
rows=[r for r in rows if float(r[1].split()[0])>250]
print('$f busy samples', len(rows), 'SM MHz median', s.median(float(r[0].split()[0]) for r in rows), 'W median', s.median(float(r[1].split()[0]) for r in rows), 'reasons', collections.Counter(r[3] for r in rows).most_common(3))"; done
