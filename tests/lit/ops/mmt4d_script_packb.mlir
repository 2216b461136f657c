// mmt4d_script with pack_a=0 on matmul 64x128x64 (4 x 16 register tile, 16-row x 4-panel workgroups,
// K blocked by 32, n1 outer, k unrolled 2): the payload packs B alone (no pack of A, no unpack); the
// B-packed contraction's dispatch runs the transform strategy (no IREE pipeline): a K-block loop,
// the n1 and m loops, the k loop with the 4 x 16 accumulator tile as iter_args and 4 rows x 2 steps
// of FMAs on 16-wide rows of packed B.
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.transform_script import packed_module; \
// RUN:   print(packed_module(Workload.from_key('matmul_64x128x64_f32xf32xf32'), dict(m0=4, n0=16, pack_a=0)))" > %t.mlir
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.schedule import Schedule; \
// RUN:   from mlir_opt.ops.transform_script import render_transform_library; \
// RUN:   w = Workload.from_key('matmul_64x128x64_f32xf32xf32'); \
// RUN:   print(render_transform_library([Schedule(w, 'mmt4d_script', dict(m0=4, n0=16, wg_m1=4, wg_n1=4, cache_k=32, unroll=2, order=1, pack_a=0))]))" > %t.lib.mlir
// RUN: iree-compile %t.mlir --iree-hal-target-device=local --iree-hal-local-target-device-backends=llvm-cpu \
// RUN:   --iree-llvmcpu-target-cpu=host --iree-codegen-transform-dialect-library=%t.lib.mlir \
// RUN:   --mlir-print-ir-after=iree-codegen-lower-executable-using-transform-dialect --mlir-disable-threading \
// RUN:   -o /dev/null 2>&1 | filecheck %s

// CHECK-LABEL: func.func @main_dispatch_0_pack_f32()
// CHECK-SAME:    pipeline = #iree_cpu.pipeline<DataTiling>
// CHECK-LABEL: func.func @main_dispatch_1_
// CHECK-SAME:    pipeline = #iree_codegen.no_pipeline
// CHECK:         scf.for %{{.+}} = %c0 to %c64 step %c32
// CHECK:           scf.for
// CHECK:             scf.for
// CHECK:               scf.for %{{.+}} = %c0 to %c32 step %c2 iter_args(%{{.+}} = %{{.+}}) -> (vector<4x16xf32>)
// CHECK-COUNT-8:         vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK-NOT:             vector.fma
// CHECK:                 scf.yield
// CHECK-NOT:   unpack
