// An mmt4d_script schedule: the matmul rendered as pack + linalg.mmt4d + unpack, and a transform
// library whose strategy IREE runs on the mmt4d dispatch only (the packs and the unpack keep IREE's
// DataTiling pipeline). After the strategy: K blocks of 32, one (m1, n1) register tile per
// iteration, a k loop carrying the 4x16 accumulator in registers (iter_args), unrolled twice, with
// one broadcast-FMA per accumulator row and k step (4 rows x 2 steps = 8 vector.fma on vector<16xf32>).
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.transform_script import packed_module; \
// RUN:   print(packed_module(Workload.from_key('matmul_64x64x64_f32xf32xf32'), dict(m0=4, n0=16)))" > %t.mlir
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.schedule import Schedule; \
// RUN:   from mlir_opt.ops.transform_script import render_transform_library; \
// RUN:   w = Workload.from_key('matmul_64x64x64_f32xf32xf32'); \
// RUN:   print(render_transform_library([Schedule(w, 'mmt4d_script', dict(m0=4, n0=16, wg_m1=8, wg_n1=2, cache_k=32, unroll=2, order=0))]))" > %t.lib.mlir
// RUN: iree-compile %t.mlir --iree-hal-target-device=local --iree-hal-local-target-device-backends=llvm-cpu \
// RUN:   --iree-llvmcpu-target-cpu=host --iree-codegen-transform-dialect-library=%t.lib.mlir \
// RUN:   --mlir-print-ir-after=iree-codegen-lower-executable-using-transform-dialect --mlir-disable-threading \
// RUN:   -o /dev/null 2>&1 | filecheck %s

// CHECK-LABEL: func.func @main_dispatch_0_pack_f32()
// CHECK-SAME:    pipeline = #iree_cpu.pipeline<DataTiling>
// CHECK-LABEL: func.func @main_dispatch_2_mmt4d_16x4x64x4x16x1_f32()
// CHECK:         scf.for %{{.+}} = %c0 to %c64 step %c32
// CHECK:           scf.for
// CHECK:             scf.for
// CHECK:               scf.for %{{.+}} = %c0 to %c32 step %c2 iter_args(%{{.+}} = %{{.+}}) -> (vector<4x16xf32>)
// CHECK-COUNT-8:         vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK-NOT:             vector.fma
// CHECK:                 scf.yield
// CHECK-LABEL: func.func @main_dispatch_3_unpack_f32()
// CHECK-SAME:    pipeline = #iree_cpu.pipeline<DataTiling>
