// TASO's kernel enlargement: the 1x1 conv (bias 0.5, weight 2) next to a 3x3 pad-1 sibling on the
// same input becomes a 3x3 conv whose filter is the 1x1 weight in the centre (zeros around) and
// whose input is padded by 1, so that the pair is mergeable. The second RUN line shows the
// sequence enlarge -> merge -> concat elimination ending in one conv.
// RUN: python -m mlir_opt rewrite %s --rule enlarge-conv-kernel | filecheck %s
// RUN: python -m mlir_opt rewrite %s --rule enlarge-conv-kernel --rule merge-parallel-convs --rule concat-of-slices | filecheck %s --check-prefix=SEQ

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<1x1x3x3xf32>)
// CHECK:         %[[BIAS:.*]] = linalg.broadcast
// CHECK:         %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}0.000000e+00, 0.000000e+00, 0.000000e+00], [0.000000e+00, 2.000000e+00, 0.000000e+00], [0.000000e+00, 0.000000e+00, 0.000000e+00]]]]> : tensor<1x1x3x3xf32>
// CHECK:         %[[P:.*]] = tensor.pad %[[X]] low[0, 0, 1, 1] high[0, 0, 1, 1]
// CHECK:         %[[C0:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%[[P]], %[[W]] : tensor<1x1x5x5xf32>, tensor<1x1x3x3xf32>) outs(%[[BIAS]] : tensor<1x1x3x3xf32>)
// CHECK:         %[[C1:.*]] = linalg.conv_2d_nchw_fchw {{.*}} tensor<2x1x3x3xf32>
// CHECK:         tensor.concat dim(1) %[[C0]], %[[C1]]

// SEQ-LABEL: func.func @main(
// SEQ:         %[[C:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x1x5x5xf32>, tensor<3x1x3x3xf32>)
// SEQ-NOT:     linalg.conv_2d_nchw_fchw
// SEQ-NOT:     tensor.concat
// SEQ:         return %[[C]] : tensor<1x3x3x3xf32>
func.func @main(%x: tensor<1x1x3x3xf32>) -> tensor<1x3x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<[[[[2.0]]]]> : tensor<1x1x1x1xf32>
  %w1 = arith.constant dense<1.0> : tensor<2x1x3x3xf32>
  %b0 = arith.constant dense<[0.5]> : tensor<1xf32>
  %e0 = tensor.empty() : tensor<1x1x3x3xf32>
  %i0 = linalg.broadcast ins(%b0 : tensor<1xf32>) outs(%e0 : tensor<1x1x3x3xf32>) dimensions = [0, 2, 3]
  %c0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w0 : tensor<1x1x3x3xf32>, tensor<1x1x1x1xf32>) outs(%i0 : tensor<1x1x3x3xf32>) -> tensor<1x1x3x3xf32>
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a0: index, %a1: index, %a2: index, %a3: index):
    tensor.yield %zero : f32
  } : tensor<1x1x3x3xf32> to tensor<1x1x5x5xf32>
  %e1 = tensor.empty() : tensor<1x2x3x3xf32>
  %i1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%p, %w1 : tensor<1x1x5x5xf32>, tensor<2x1x3x3xf32>) outs(%i1 : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %cat = tensor.concat dim(1) %c0, %c1 : (tensor<1x1x3x3xf32>, tensor<1x2x3x3xf32>) -> tensor<1x3x3x3xf32>
  return %cat : tensor<1x3x3x3xf32>
}
