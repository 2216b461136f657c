#!/bin/bash
# Usage (GPU host, iree-base-runtime in /tmp/site, bundle b6 of benchmarks/gpu_f16_script_batch.py under out/gpuf16/): bash gpu_f16_call_flags.sh
# Run g21 (2026-11-26): neither flag alone helps much; --cuda_async_allocations=false with --device_allocator=caching (the result buffer reused) removes ~0.24 ms of the ~0.31 ms a call spends outside the kernel.
# iree-benchmark-module call time of one module under CUDA HAL / allocator flags (random f16 inputs)
B=$(find /tmp/site -name iree-benchmark-module -type f | head -1)
python3 -c "
import numpy as np; r=np.random.default_rng(0)
np.save('/tmp/a.npy', r.standard_normal((4096,4096)).astype(np.float16)); np.save('/tmp/b.npy', r.standard_normal((4096,4096)).astype(np.float16))"
for m in out/gpuf16/b6/modules/c2.vmfb out/gpuf16/b6/modules/c0.vmfb; do
for f in "" "--cuda_async_allocations=false" "--device_allocator=caching" "--cuda_allow_inline_execution=true" \
         "--cuda_use_streams=false" "--cuda_async_allocations=false --device_allocator=caching" \
         "--cuda_async_allocations=false --device_allocator=caching --cuda_allow_inline_execution=true"; do
  $B --module=$m --device=cuda --function=main --input=@/tmp/a.npy --input=@/tmp/b.npy $f --benchmark_repetitions=10 \
     --benchmark_min_time=0.05s --benchmark_format=json 2>/tmp/err | python3 -c "
import json,sys,statistics
try:
  d=json.load(sys.stdin); t=[b['real_time'] for b in d['benchmarks'] if b.get('run_type')=='iteration']; print('$(basename $m)', repr('$f'), round(statistics.median(t),4), d['benchmarks'][0]['time_unit'])
except Exception as e: print('$(basename $m)', repr('$f'), 'failed', open('/tmp/err').read()[-200:])"
done; done
