// Batch-1 convs are tuned through IREE's img2col pre-pass: the img2col_tiling spec matches the
// matmul the pre-pass makes (M = OH*OW, N = OC, K = KH*KW*IC) and lands on it, with a cache level
// and loop peeling (M = 196 is not a multiple of the 32-row tile).
// RUN: python -m mlir_opt render-spec conv2d_nhwc_hwcf_1x16x16x8x3x3x16_s1_f32 dist_m=32 dist_n=16 vec_m=4 vec_n=16 vec_k=8 cache_n=16 peel=1 > %t.spec.mlir
// RUN: iree-compile %s --iree-hal-target-device=local --iree-hal-local-target-device-backends=llvm-cpu \
// RUN:   --iree-llvmcpu-target-cpu=host --iree-codegen-tuning-spec-path=%t.spec.mlir \
// RUN:   "--iree-preprocessing-pass-pipeline=builtin.module(util.func(iree-global-opt-convert-conv2d-to-img2col))" \
// RUN:   --compile-to=executable-configurations | filecheck %s

// CHECK-LABEL: func.func @main_dispatch_1_matmul_196x16x72_f32()
// CHECK-SAME:    pipeline = #iree_cpu.pipeline<DoubleTilingExpert>, {enable_loop_peeling}
// CHECK:         linalg.matmul {lowering_config = #iree_cpu.lowering_config<cache_parallel = [32, 16, 0], distribution = [32, 16, 0], vector_common_parallel = [4, 16, 0], vector_reduction = [0, 0, 8]>}
func.func @main(%x: tensor<1x16x16x8xf32>, %w: tensor<3x3x8x16xf32>) -> tensor<1x14x14x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<1x14x14x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x14x14x16xf32>) -> tensor<1x14x14x16xf32>
  %r = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<1x16x16x8xf32>, tensor<3x3x8x16xf32>) outs(%f : tensor<1x14x14x16xf32>) -> tensor<1x14x14x16xf32>
  return %r : tensor<1x14x14x16xf32>
}
