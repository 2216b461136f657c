// A conv_tiling schedule renders to a tuning spec (transform.iree.match.convolution on layout, types,
// extents, stride and dilation) that plain iree-compile accepts and that lands on that conv only
// (batch 2: IREE 3.13 keeps per-op configs of batched convs).
// RUN: python -m mlir_opt render-spec --sketch conv_tiling conv2d_nhwc_hwcf_2x16x16x8x3x3x16_s1_f32 dist_oh=2 dist_ow=7 dist_oc=16 vec_ow=7 vec_oc=8 vec_ic=4 > %t.spec.mlir
// RUN: filecheck %s --check-prefix=SPEC < %t.spec.mlir
// RUN: iree-compile %s --iree-hal-target-device=local --iree-hal-local-target-device-backends=llvm-cpu \
// RUN:   --iree-llvmcpu-target-cpu=host --iree-codegen-tuning-spec-path=%t.spec.mlir \
// RUN:   --compile-to=executable-configurations | filecheck %s
// Batch 1: the conv schedule is refused before compiling, with the reason.
// RUN: not python -m mlir_opt render-spec --sketch conv_tiling conv2d_nhwc_hwcf_1x16x16x8x3x3x16_s1_f32 dist_oh=2 dist_ow=7 dist_oc=16 vec_ow=7 vec_oc=8 vec_ic=4 2>&1 | filecheck %s --check-prefix=BATCH1

// SPEC: transform.named_sequence @match_0_conv2d_nhwc_hwcf_2x16x16x8x3x3x16_s1_f32
// SPEC:   transform.iree.match.convolution %op, lhs_type = f32, rhs_type = f32, output_type = f32, indexing_maps = [affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * 1 + d4 * 1, d2 * 1 + d5 * 1, d6)>
// SPEC:   transform.iree.match.dims_equal %batch, [2]
// SPEC:   transform.iree.match.dims_equal %out_img, [14, 14]
// SPEC:   transform.iree.match.dims_equal %filt, [3, 3]
// SPEC:   transform.iree.match.dims_equal %strides, [1, 1]
// SPEC:   pipeline = #iree_cpu.pipeline<ConvTileAndDecomposeExpert>

// CHECK-LABEL: func.func @main_dispatch_0_conv_2x14x14x16x3x3x8_f32()
// CHECK-SAME:    pipeline = #iree_cpu.pipeline<ConvTileAndDecomposeExpert>
// CHECK:         linalg.generic
// CHECK-SAME:      lowering_config = #iree_cpu.lowering_config<distribution = [1, 2, 7, 16, 0, 0, 0], vector_common_parallel = [1, 1, 7, 8, 0, 0, 0], vector_reduction = [0, 0, 0, 0, 1, 1, 4]>
// The stride-2 conv of the same input is left to IREE's default.
// CHECK-LABEL: func.func @main_dispatch_1_conv_2x7x7x16x3x3x8_f32()
// CHECK-NOT:     distribution = [1, 2, 7, 16, 0, 0, 0]
// CHECK:         lowering_config

// BATCH1: error: schedule rejected before compiling: IREE 3.13 drops per-op configs of batch-1 convolutions
func.func @main(%x: tensor<2x16x16x8xf32>, %w: tensor<3x3x8x16xf32>) -> (tensor<2x14x14x16xf32>, tensor<2x7x7x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x14x14x16xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x14x14x16xf32>) -> tensor<2x14x14x16xf32>
  %r = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
       ins(%x, %w : tensor<2x16x16x8xf32>, tensor<3x3x8x16xf32>) outs(%f : tensor<2x14x14x16xf32>) -> tensor<2x14x14x16xf32>
  %e2 = tensor.empty() : tensor<2x7x7x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x7x7x16xf32>) -> tensor<2x7x7x16xf32>
  %r2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
       ins(%x, %w : tensor<2x16x16x8xf32>, tensor<3x3x8x16xf32>) outs(%f2 : tensor<2x7x7x16xf32>) -> tensor<2x7x7x16xf32>
  return %r, %r2 : tensor<2x14x14x16xf32>, tensor<2x7x7x16xf32>
}
