// The mmt4d_script matcher checks the packed operand types: a module holding two linalg.mmt4d ops
// of different shapes, with a library tuned for the 64^3 matmul packed as 4x16 tiles
// (A 16x64x4x1, B 4x64x16x1), gets the strategy on that mmt4d dispatch only (a k loop carrying the
// 4x16 accumulator, 4 rows x 2 unrolled steps = 8 broadcast FMAs); the other mmt4d (8x32x4x1,
// same inner tiles, other outer extents) keeps IREE's own Mmt4dTilingExpert pipeline.
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.schedule import Schedule; \
// RUN:   from mlir_opt.ops.transform_script import render_transform_library; \
// RUN:   w = Workload.from_key('matmul_64x64x64_f32xf32xf32'); \
// RUN:   print(render_transform_library([Schedule(w, 'mmt4d_script', dict(m0=4, n0=16, wg_m1=8, wg_n1=2, cache_k=0, unroll=2, order=0))]))" > %t.lib.mlir
// RUN: iree-compile %s --iree-hal-target-device=local --iree-hal-local-target-device-backends=llvm-cpu \
// RUN:   --iree-llvmcpu-target-cpu=host --iree-codegen-transform-dialect-library=%t.lib.mlir \
// RUN:   --mlir-print-ir-after=iree-codegen-lower-executable-using-transform-dialect --mlir-disable-threading \
// RUN:   -o /dev/null 2>&1 | filecheck %s

// CHECK-LABEL: func.func @main_dispatch_0_mmt4d_16x4x64x4x16x1_f32()
// CHECK-SAME:    pipeline = #iree_codegen.no_pipeline
// CHECK:         scf.for %{{.+}} = %c0 to %c64 step %c2 iter_args(%{{.+}} = %{{.+}}) -> (vector<4x16xf32>)
// CHECK-COUNT-8:   vector.fma %{{.+}}, %{{.+}}, %{{.+}} : vector<16xf32>
// CHECK-NOT:       vector.fma
// CHECK:           scf.yield
// CHECK-LABEL: func.func @main_dispatch_1_mmt4d_8x2x32x4x16x1_f32()
// CHECK-SAME:    pipeline = #iree_cpu.pipeline<Mmt4dTilingExpert>
// CHECK-NOT:     pipeline = #iree_codegen.no_pipeline
func.func @main(%a: tensor<16x64x4x1xf32>, %b: tensor<4x64x16x1xf32>, %c: tensor<8x32x4x1xf32>, %d: tensor<2x32x16x1xf32>) -> (tensor<16x4x4x16xf32>, tensor<8x2x4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<16x4x4x16xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<16x4x4x16xf32>) -> tensor<16x4x4x16xf32>
  %r0 = linalg.mmt4d ins(%a, %b : tensor<16x64x4x1xf32>, tensor<4x64x16x1xf32>) outs(%f0 : tensor<16x4x4x16xf32>) -> tensor<16x4x4x16xf32>
  %e1 = tensor.empty() : tensor<8x2x4x16xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<8x2x4x16xf32>) -> tensor<8x2x4x16xf32>
  %r1 = linalg.mmt4d ins(%c, %d : tensor<8x32x4x1xf32>, tensor<2x32x16x1xf32>) outs(%f1 : tensor<8x2x4x16xf32>) -> tensor<8x2x4x16xf32>
  return %r0, %r1 : tensor<16x4x4x16xf32>, tensor<8x2x4x16xf32>
}
