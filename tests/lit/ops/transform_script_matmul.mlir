// A transform_script schedule renders to transform-dialect IR that (1) applies under the plain
// transform interpreter to a matmul: register tiles 8x16 with the N loop outside (order=1), a
// reduction tile of 4 unrolled twice, vectorized; and (2) as a codegen library is picked up by
// iree-compile for that matmul only (its function gets the transform_dialect_codegen strategy).
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.transform_script import interpreter_module; \
// RUN:   w = Workload.from_key('matmul_64x128x32_f32xf32xf32'); \
// RUN:   print(w.single_op_module() + interpreter_module(w, dict(wg_m=32, wg_n=64, vec_m=8, vec_n=16, vec_k=4, order=1, unroll=2)))" > %t.mlir
// RUN: iree-opt %t.mlir --transform-interpreter --canonicalize | filecheck %s
// RUN: python -c "from mlir_opt.ops.dispatches import Workload; from mlir_opt.ops.schedule import Schedule; \
// RUN:   from mlir_opt.ops.transform_script import render_transform_library; \
// RUN:   w = Workload.from_key('matmul_64x128x32_f32xf32xf32'); \
// RUN:   print(render_transform_library([Schedule(w, 'transform_script', dict(wg_m=32, wg_n=64, vec_m=8, vec_n=16, vec_k=4, order=1, unroll=2))]))" > %t.lib.mlir
// RUN: iree-compile %s --iree-hal-target-device=local --iree-hal-local-target-device-backends=llvm-cpu \
// RUN:   --iree-llvmcpu-target-cpu=host --iree-codegen-transform-dialect-library=%t.lib.mlir \
// RUN:   --compile-to=executable-configurations | filecheck %s --check-prefix=IREE

// CHECK-LABEL: func.func @main
// CHECK-DAG:     %[[C16:.+]] = arith.constant 16 : index
// CHECK-DAG:     %[[C8:.+]] = arith.constant 8 : index
// CHECK:         scf.for %[[N:.+]] = %{{.+}} to %{{.+}} step %[[C16]]
// CHECK:           scf.for %[[M:.+]] = %{{.+}} to %{{.+}} step %[[C8]]
// CHECK:             scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %[[C8]]
// CHECK:               vector.contract {{.+}} vector<8x4xf32>, vector<4x16xf32> into vector<8x16xf32>
// CHECK:               vector.contract {{.+}} vector<8x4xf32>, vector<4x16xf32> into vector<8x16xf32>
// CHECK-NOT:           vector.contract
// CHECK:               scf.yield

// IREE-LABEL: func.func @main_dispatch_0_matmul_64x128x32_f32()
// IREE-SAME:    translation_info = #iree_codegen.translation_info<pipeline = #iree_codegen.transform_dialect_codegen codegen_spec = @strategy_0>
// IREE-LABEL: func.func @main_dispatch_1_matmul_64x64x32_f32()
// IREE-SAME:    pipeline = #iree_cpu.pipeline<DoubleTilingExpert>
func.func @main(%a: tensor<64x32xf32>, %b: tensor<32x128xf32>, %c: tensor<32x64xf32>) -> (tensor<64x128xf32>, tensor<64x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x128xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<64x128xf32>) -> tensor<64x128xf32>
  %r = linalg.matmul ins(%a, %b : tensor<64x32xf32>, tensor<32x128xf32>) outs(%f : tensor<64x128xf32>) -> tensor<64x128xf32>
  %e2 = tensor.empty() : tensor<64x64xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<64x64xf32>) -> tensor<64x64xf32>
  %r2 = linalg.matmul ins(%a, %c : tensor<64x32xf32>, tensor<32x64xf32>) outs(%f2 : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r, %r2 : tensor<64x128xf32>, tensor<64x64xf32>
}
