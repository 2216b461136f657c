// The Q/K/V merge's stacked contraction (a linalg.generic whose LHS is shared by the stack, IREE's
// "matmul_like" dispatch) takes a gpu_simt schedule: the batch-style tiles (stack dim 1) reach IREE's
// TileAndFuse configuration unchanged.
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.schedule import Schedule; \
// RUN:   w = Workload.from_key('matmul_like_3x128x256x128_f32xf32xf32'); \
// RUN:   s = Schedule(w, 'gpu_simt', dict(wg_m=64, wg_n=64, th_m=4, th_n=4, red_k=16, promote=1, prefetch=0), 'cuda'); \
// RUN:   assert s.validate() is None; print(w.single_op_module(s.compilation_info()))" > %t.mlir
// RUN: filecheck --check-prefix=PAYLOAD %s < %t.mlir
// RUN: iree-compile %t.mlir --iree-hal-target-device=cuda --iree-cuda-target=sm_80 \
// RUN:   --compile-to=executable-configurations | filecheck %s

// PAYLOAD: linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>]
// PAYLOAD-SAME: ins(%lhs, %rhs : tensor<128x128xf32>, tensor<3x128x256xf32>)

// CHECK: hal.executable.export public @main_dispatch_0_matmul_like_3x128x256x128_f32
// CHECK: pipeline = #iree_gpu.pipeline<TileAndFuse> workgroup_size = [16, 16, 1] subgroup_size = 32
// CHECK: lowering_config = #iree_gpu.lowering_config<{promote_operands = [0, 1], reduction = [0, 0, 0, 16], thread = [1, 4, 4, 0], workgroup = [1, 64, 64, 0]}>
