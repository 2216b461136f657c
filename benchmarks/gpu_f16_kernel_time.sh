#!/bin/bash
# Kernel-only times on the GPU host (run g19, 2026-11-26): ncu's gpu__time_duration with boost clocks
# (--clock-control none) and random f16 4096x4096 inputs, for cuBLAS (torch.matmul) and IREE modules, so
# both sides are timed the same way (iree-benchmark-module's wall time per call also holds ~0.29 ms that
# is not kernel time; torch's CUDA events hold only the kernel).
# Usage (GPU host, iree-base-runtime on PYTHONPATH): bash gpu_f16_kernel_time.sh MODULE.vmfb...
B=$(python3 -c "import iree.runtime as rt, pathlib; print(next(p for p in pathlib.Path(rt.__file__).parent.parent.rglob('iree-benchmark-module') if p.is_file()))")
python3 -c "
import numpy as np; r=np.random.default_rng(0)
np.save('/tmp/a.npy', r.standard_normal((4096,4096)).astype(np.float16)); np.save('/tmp/b.npy', r.standard_normal((4096,4096)).astype(np.float16))"
cat > /tmp/tm.py <<'PY'
import torch
a=torch.randn(4096,4096,dtype=torch.float16,device='cuda'); b=torch.randn(4096,4096,dtype=torch.float16,device='cuda')
for _ in range(8): c=a@b
torch.cuda.synchronize()
PY
M="--metrics gpu__time_duration.sum,sm__cycles_elapsed.avg.per_second --clock-control none"
timeout 120 ncu $M --launch-skip 3 --launch-count 4 python3 /tmp/tm.py 2>&1 | grep -E "gpu__time_duration|per_second" | sed "s/^/cublas /"
for m in "$@"; do
  timeout 120 ncu $M -k regex:main --launch-skip 2 --launch-count 4 $B --module=$m --device=cuda \
    --function=main --input=@/tmp/a.npy --input=@/tmp/b.npy --benchmark_min_time=6x 2>&1 | grep -E "gpu__time_duration|per_second" | sed "s#^#$m #"
done
