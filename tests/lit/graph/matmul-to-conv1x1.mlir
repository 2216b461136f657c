// The inverse of conv1x1-to-matmul: a matmul of a collapsed NHWC activation (batch 2) by a 3x2
// weight, expanded back to 4-D, becomes a 1x1 NHWC conv with the (constant) weight folded to
// 1x1x3x2 and the zero-fill accumulator expanded alongside; W[2,3] · collapse(x[1,3,2,2]) (NCHW,
// batch 1) becomes a 1x1 NCHW conv with the filter 2x3x1x1. The matmul whose collapsed activation
// has a second use stays.
// RUN: python -m mlir_opt rewrite %s --rule matmul-to-conv1x1 | filecheck %s
// Both inverse rules named: the rewriter stops at the first repeated graph (the round trip
// conv -> matmul -> conv gives the same graph back: no reshape chains pile up).
// RUN: python -m mlir_opt rewrite %s --rule matmul-to-conv1x1 --rule conv1x1-to-matmul | filecheck %s --check-prefix=TRIP

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<2x2x2x3xf32>, %[[Y:.*]]: tensor<1x3x2x2xf32>, %[[Z:.*]]: tensor<1x3x2x2xf32>)
// CHECK:         %[[F:.*]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00, 2.000000e+00], [3.000000e+00, 4.000000e+00], [5.000000e+00, 6.000000e+00]]]]> : tensor<1x1x3x2xf32>
// CHECK:         %[[I:.*]] = tensor.expand_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] output_shape [2, 2, 2, 2] : tensor<8x2xf32> into tensor<2x2x2x2xf32>
// CHECK:         %[[C:.*]] = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%[[X]], %[[F]] : tensor<2x2x2x3xf32>, tensor<1x1x3x2xf32>) outs(%[[I]] : tensor<2x2x2x2xf32>)
// CHECK:         %[[G:.*]] = arith.constant dense<{{.*}}> : tensor<2x3x1x1xf32>
// CHECK:         %[[C2:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%[[Y]], %[[G]] : tensor<1x3x2x2xf32>, tensor<2x3x1x1xf32>)
// CHECK:         %[[Z2:.*]] = tensor.collapse_shape %[[Z]]
// CHECK:         %[[M:.*]] = linalg.matmul ins(%{{.*}}, %[[Z2]]
// CHECK:         return %[[C]], %[[C2]], %{{.*}}, %[[Z2]]

// TRIP-COUNT-2:  linalg.conv_2d
// TRIP-NOT:      linalg.conv_2d
// TRIP:          linalg.matmul
// TRIP-NOT:      linalg.matmul
func.func @main(%x: tensor<2x2x2x3xf32>, %y: tensor<1x3x2x2xf32>, %z: tensor<1x3x2x2xf32>) -> (tensor<2x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<3x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]> : tensor<3x2xf32>
  %e = tensor.empty() : tensor<8x2xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<8x2xf32>) -> tensor<8x2xf32>
  %x2 = tensor.collapse_shape %x [[0, 1, 2], [3]] : tensor<2x2x2x3xf32> into tensor<8x3xf32>
  %m = linalg.matmul ins(%x2, %w : tensor<8x3xf32>, tensor<3x2xf32>) outs(%i : tensor<8x2xf32>) -> tensor<8x2xf32>
  %r = tensor.expand_shape %m [[0, 1, 2], [3]] output_shape [2, 2, 2, 2] : tensor<8x2xf32> into tensor<2x2x2x2xf32>
  %v = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %e2 = tensor.empty() : tensor<2x4xf32>
  %i2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %y2 = tensor.collapse_shape %y [[0, 1], [2, 3]] : tensor<1x3x2x2xf32> into tensor<3x4xf32>
  %m2 = linalg.matmul ins(%v, %y2 : tensor<2x3xf32>, tensor<3x4xf32>) outs(%i2 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %r2 = tensor.expand_shape %m2 [[0, 1], [2, 3]] output_shape [1, 2, 2, 2] : tensor<2x4xf32> into tensor<1x2x2x2xf32>
  %z2 = tensor.collapse_shape %z [[0, 1], [2, 3]] : tensor<1x3x2x2xf32> into tensor<3x4xf32>
  %m3 = linalg.matmul ins(%v, %z2 : tensor<2x3xf32>, tensor<3x4xf32>) outs(%i2 : tensor<2x4xf32>) -> tensor<2x4xf32>
  %r3 = tensor.expand_shape %m3 [[0, 1], [2, 3]] output_shape [1, 2, 2, 2] : tensor<2x4xf32> into tensor<1x2x2x2xf32>
  return %r, %r2, %r3, %z2 : tensor<2x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>, tensor<3x4xf32>
}
