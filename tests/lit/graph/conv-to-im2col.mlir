// A 3x3 stride-2 dilation-2 NHWC conv (batch 2) and a 2x2 NCHW conv (batch 1, bias) become
// im2col gathers + matmuls: the NHWC patches P[N,OH,OW,KH,KW,C] read the input at
// (oh*2 + kh*2, ow*2 + kw*2); collapsed to [N*OH*OW, KH*KW*C] times the filter collapsed to
// [KH*KW*C, F]. The NCHW patches P[N,C,KH,KW,OH,OW] give W[F, C*KH*KW] · P[C*KH*KW, OH*OW]
// with the bias accumulator collapsed alongside. Results are expanded back to the conv shape.
// RUN: python -m mlir_opt rewrite %s --rule conv-to-im2col | filecheck %s
// The rule is opt-in: the cost-free rewriter leaves the convs alone.
// RUN: python -m mlir_opt rewrite %s | filecheck %s --check-prefix=AUTO

// CHECK-DAG:     #[[G1:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1 * 2 + d3 * 2, d2 * 2 + d4 * 2, d5)>
// CHECK-DAG:     #[[G2:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2 + d4, d3 + d5)>
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<2x9x9x3xf32>, %[[Y:.*]]: tensor<1x2x4x4xf32>)
// CHECK:         %[[P:.*]] = linalg.generic {indexing_maps = [#[[G1]], {{.*}}]} ins(%[[X]] : tensor<2x9x9x3xf32>) outs(%{{.*}} : tensor<2x3x3x3x3x3xf32>)
// CHECK-NEXT:    ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT:      linalg.yield %[[IN]] : f32
// CHECK:         %[[P2:.*]] = tensor.collapse_shape %[[P]] {{\[\[}}0, 1, 2], [3, 4, 5]] : tensor<2x3x3x3x3x3xf32> into tensor<18x27xf32>
// CHECK:         %[[W2:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<3x3x3x4xf32> into tensor<27x4xf32>
// CHECK:         %[[I2:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3]] : tensor<2x3x3x4xf32> into tensor<18x4xf32>
// CHECK:         %[[M:.*]] = linalg.matmul ins(%[[P2]], %[[W2]] : tensor<18x27xf32>, tensor<27x4xf32>) outs(%[[I2]] : tensor<18x4xf32>)
// CHECK:         %[[R:.*]] = tensor.expand_shape %[[M]] {{\[\[}}0, 1, 2], [3]] output_shape [2, 3, 3, 4] : tensor<18x4xf32> into tensor<2x3x3x4xf32>
// CHECK:         %[[BIAS:.*]] = linalg.broadcast
// CHECK:         %[[Q:.*]] = linalg.generic {indexing_maps = [#[[G2]], {{.*}}]} ins(%[[Y]] : tensor<1x2x4x4xf32>) outs(%{{.*}} : tensor<1x2x2x2x3x3xf32>)
// CHECK:         %[[Q2:.*]] = tensor.collapse_shape %[[Q]] {{\[\[}}0, 1, 2, 3], [4, 5]] : tensor<1x2x2x2x3x3xf32> into tensor<8x9xf32>
// CHECK:         %[[V2:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0], [1, 2, 3]] : tensor<3x2x2x2xf32> into tensor<3x8xf32>
// CHECK:         %[[J2:.*]] = tensor.collapse_shape %[[BIAS]] {{\[\[}}0, 1], [2, 3]] : tensor<1x3x3x3xf32> into tensor<3x9xf32>
// CHECK:         %[[M2:.*]] = linalg.matmul ins(%[[V2]], %[[Q2]] : tensor<3x8xf32>, tensor<8x9xf32>) outs(%[[J2]] : tensor<3x9xf32>)
// CHECK:         %[[R2:.*]] = tensor.expand_shape %[[M2]] {{\[\[}}0, 1], [2, 3]] output_shape [1, 3, 3, 3] : tensor<3x9xf32> into tensor<1x3x3x3xf32>
// CHECK-NOT:     linalg.conv
// CHECK:         return %[[R]], %[[R2]]

// AUTO-COUNT-2:  linalg.conv_2d
// AUTO-NOT:      linalg.matmul
func.func @main(%x: tensor<2x9x9x3xf32>, %y: tensor<1x2x4x4xf32>) -> (tensor<2x3x3x4xf32>, tensor<1x3x3x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<0.125> : tensor<3x3x3x4xf32>
  %e = tensor.empty() : tensor<2x3x3x4xf32>
  %i = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3x3x4xf32>) -> tensor<2x3x3x4xf32>
  %c = linalg.conv_2d_nhwc_hwcf {dilations = dense<2> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%x, %w : tensor<2x9x9x3xf32>, tensor<3x3x3x4xf32>) outs(%i : tensor<2x3x3x4xf32>) -> tensor<2x3x3x4xf32>
  %w2 = arith.constant dense<0.5> : tensor<3x2x2x2xf32>
  %b = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %e2 = tensor.empty() : tensor<1x3x3x3xf32>
  %i2 = linalg.broadcast ins(%b : tensor<3xf32>) outs(%e2 : tensor<1x3x3x3xf32>) dimensions = [0, 2, 3]
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%y, %w2 : tensor<1x2x4x4xf32>, tensor<3x2x2x2xf32>) outs(%i2 : tensor<1x3x3x3xf32>) -> tensor<1x3x3x3xf32>
  return %c, %c2 : tensor<2x3x3x4xf32>, tensor<1x3x3x3xf32>
}
