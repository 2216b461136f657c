#!/bin/bash
# Run g38 (seventh session): a CUPTI timeline (kernels, memsets, driver-API calls) of iree-benchmark-module's call loop
# and of torch's call+synchronize loop, through an injection library (CUDA_INJECTION64_PATH), to split a call into
# kernel time (as it runs back to back) and the gap between kernels. Usage (GPU host, repository root, iree runtime
# on PYTHONPATH): bash benchmarks/gpu_cupti_trace.sh MODULE_4096.vmfb MODULE_256.vmfb
D=benchmarks
INC=$(dirname $(find / -name cupti.h -path "*include*" 2>/dev/null | head -1)); LIB=$(dirname $(find / -name "libcupti.so*" 2>/dev/null | head -1))
echo "cupti: $INC $LIB"
for KT in CUpti_ActivityKernel10 CUpti_ActivityKernel9 CUpti_ActivityKernel8; do
  gcc -shared -fPIC -O2 -DKTYPE=$KT -I$INC -I/usr/local/cuda/include benchmarks/gpu_cupti_trace.c -o /tmp/libcupti_trace.so -L$LIB -lcupti -Wl,-rpath,$LIB 2>/tmp/gcc.err && { echo "built with $KT"; break; }
done
[ -f /tmp/libcupti_trace.so ] || { tail -5 /tmp/gcc.err; exit 1; }
B=$(python3 -c "import iree.runtime as rt, pathlib; print(next(p for p in pathlib.Path(rt.__file__).parent.parent.rglob('iree-benchmark-module') if p.is_file()))")
python3 -c "
import numpy as np; r=np.random.default_rng(0)
np.save('/tmp/a.npy', r.standard_normal((4096,4096)).astype(np.float16)); np.save('/tmp/b.npy', r.standard_normal((4096,4096)).astype(np.float16))"
for m in "$1" "$2"; do
  [ "$m" = "$2" ] && python3 -c "
import numpy as np; r=np.random.default_rng(0)
np.save('/tmp/a.npy', r.standard_normal((256,256)).astype(np.float16)); np.save('/tmp/b.npy', r.standard_normal((256,256)).astype(np.float16))"
  echo "== $m (cached flags), traced"
  CUDA_INJECTION64_PATH=/tmp/libcupti_trace.so CUPTI_TRACE_OUT=/tmp/tr.txt $B --module=$m --device=cuda --function=main --input=@/tmp/a.npy --input=@/tmp/b.npy --device_allocator=caching --cuda_async_allocations=false --benchmark_min_time=300x 2>&1 | grep real_time | head -1
  python3 benchmarks/gpu_cupti_trace_summary.py /tmp/tr.txt
done
echo "== torch, traced"
CUDA_INJECTION64_PATH=/tmp/libcupti_trace.so CUPTI_TRACE_OUT=/tmp/tt.txt python3 -c "
import torch, time
a=torch.randn(4096,4096,dtype=torch.float16,device='cuda'); b=torch.randn(4096,4096,dtype=torch.float16,device='cuda')
for _ in range(300): c=a@b; torch.cuda.synchronize()
t=time.perf_counter()
for _ in range(300): c=a@b; torch.cuda.synchronize()
print('torch call+sync', round((time.perf_counter()-t)/300*1e3,4), 'ms')"
python3 benchmarks/gpu_cupti_trace_summary.py /tmp/tt.txt
