// A rendered tuning spec is accepted by plain iree-compile and sets the matmul's lowering config;
// a matmul of other extents is left to IREE's default.
// RUN: python -m mlir_opt render-spec matmul_64x128x32_f32xf32xf32 dist_m=32 dist_n=64 vec_m=8 vec_n=32 vec_k=4 > %t.spec.mlir
// RUN: filecheck %s --check-prefix=SPEC < %t.spec.mlir
// RUN: iree-compile %s --iree-hal-target-device=local --iree-hal-local-target-device-backends=llvm-cpu \
// RUN:   --iree-llvmcpu-target-cpu=host --iree-codegen-tuning-spec-path=%t.spec.mlir \
// RUN:   --compile-to=executable-configurations | filecheck %s

// SPEC: module attributes {transform.with_named_sequence, iree_codegen.tuning_spec_with_default_entrypoint}
// SPEC: transform.named_sequence @match_0_matmul_64x128x32_f32xf32xf32
// SPEC:   transform.match.operation_name %op ["linalg.matmul"]
// SPEC:   transform.iree.match.contraction %op, lhs_type = f32, rhs_type = f32, output_type = f32
// SPEC:   transform.iree.match.dims_equal %m, [64]
// SPEC:   transform.iree.match.dims_equal %n, [128]
// SPEC:   transform.iree.match.dims_equal %k, [32]
// SPEC:   distribution = [32, 64, 0], vector_common_parallel = [8, 32, 0], vector_reduction = [0, 0, 4]
// SPEC: transform.named_sequence @__kernel_config
// SPEC:   iree_codegen.tuning_spec_entrypoint

// CHECK-LABEL: func.func @main_dispatch_0_matmul_64x128x32_f32()
// CHECK-SAME:    pipeline = #iree_cpu.pipeline<DoubleTilingExpert>
// CHECK:         linalg.matmul {lowering_config = #iree_cpu.lowering_config<distribution = [32, 64, 0], vector_common_parallel = [8, 32, 0], vector_reduction = [0, 0, 4]>}
// CHECK-LABEL: func.func @main_dispatch_1_matmul_64x64x32_f32()
// CHECK-NOT:     distribution = [32, 64, 0]
// CHECK:         linalg.matmul
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
