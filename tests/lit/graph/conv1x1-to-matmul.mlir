// 1x1 stride-1 convolutions become matmuls on collapsed tensors: NCHW (batch 1) as
// W[F,C] · X[C,H*W] with the bias accumulator collapsed alongside; NHWC (batch 2) as
// X[N*H*W,C] · W[C,F]. The results are expanded back to the conv's shape.
// RUN: python -m mlir_opt rewrite %s --rule conv1x1-to-matmul | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<1x2x2x3xf32>, %[[Y:.*]]: tensor<2x2x2x2xf32>)
// CHECK:         %[[BIAS:.*]] = linalg.broadcast
// CHECK:         %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2, 3]] : tensor<1x2x2x3xf32> into tensor<2x6xf32>
// CHECK:         %[[W2:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] : tensor<3x2x1x1xf32> into tensor<3x2xf32>
// CHECK:         %[[I2:.*]] = tensor.collapse_shape %[[BIAS]] {{\[\[}}0, 1], [2, 3]] : tensor<1x3x2x3xf32> into tensor<3x6xf32>
// CHECK:         %[[M:.*]] = linalg.matmul ins(%[[W2]], %[[X2]] : tensor<3x2xf32>, tensor<2x6xf32>) outs(%[[I2]] : tensor<3x6xf32>)
// CHECK:         %[[R:.*]] = tensor.expand_shape %[[M]] {{\[\[}}0, 1], [2, 3]] output_shape [1, 3, 2, 3]
// CHECK:         %[[Y2:.*]] = tensor.collapse_shape %[[Y]] {{\[\[}}0, 1, 2], [3]] : tensor<2x2x2x2xf32> into tensor<8x2xf32>
// CHECK:         %[[M2:.*]] = linalg.matmul ins(%[[Y2]], %{{.*}} : tensor<8x2xf32>, tensor<2x1xf32>)
// CHECK:         %[[R2:.*]] = tensor.expand_shape %[[M2]] {{\[\[}}0, 1, 2], [3]] output_shape [2, 2, 2, 1]
// CHECK-NOT:     linalg.conv
// CHECK:         return %[[R]], %[[R2]]
func.func @main(%x: tensor<1x2x2x3xf32>, %y: tensor<2x2x2x2xf32>) -> (tensor<1x3x2x3xf32>, tensor<2x2x2x1xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]], [[[5.0]], [[6.0]]]]> : tensor<3x2x1x1xf32>
  %b = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %e = tensor.empty() : tensor<1x3x2x3xf32>
  %i = linalg.broadcast ins(%b : tensor<3xf32>) outs(%e : tensor<1x3x2x3xf32>) dimensions = [0, 2, 3]
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x2x2x3xf32>, tensor<3x2x1x1xf32>) outs(%i : tensor<1x3x2x3xf32>) -> tensor<1x3x2x3xf32>
  %w2 = arith.constant dense<[[[[1.0], [2.0]]]]> : tensor<1x1x2x1xf32>
  %e2 = tensor.empty() : tensor<2x2x2x1xf32>
  %i2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x2x2x1xf32>) -> tensor<2x2x2x1xf32>
  %c2 = linalg.conv_2d_nhwc_hwcf {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%y, %w2 : tensor<2x2x2x2xf32>, tensor<1x1x2x1xf32>) outs(%i2 : tensor<2x2x2x1xf32>) -> tensor<2x2x2x1xf32>
  return %c, %c2 : tensor<1x3x2x3xf32>, tensor<2x2x2x1xf32>
}
