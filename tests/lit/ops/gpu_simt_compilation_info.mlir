// A gpu_simt schedule renders to a TileAndFuse compilation_info that IREE's CUDA backend honours.
// (IREE 3.13 does not apply tuning specs on CUDA, so GPU schedules travel as op attributes.)
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.schedule import Schedule; \
// RUN:   w = Workload.from_key('matmul_256x256x128_f32xf32xf32'); \
// RUN:   s = Schedule(w, 'gpu_simt', dict(wg_m=64, wg_n=128, th_m=4, th_n=8, red_k=16, promote=1), 'cuda'); \
// RUN:   print(w.single_op_module(s.compilation_info()))" > %t.mlir
// RUN: iree-compile %t.mlir --iree-hal-target-device=cuda --iree-cuda-target=sm_80 \
// RUN:   --compile-to=executable-configurations | filecheck %s

// CHECK: pipeline = #iree_gpu.pipeline<TileAndFuse> workgroup_size = [16, 16, 1] subgroup_size = 32
// CHECK: lowering_config = #iree_gpu.lowering_config<{promote_operands = [0, 1], reduction = [0, 0, 16], thread = [4, 8, 0], workgroup = [64, 128, 0]}>
