// Two 3x3 convs reading the same zero-padded input (torch-mlir's tensor.pad form) with equal
// stride/dilation merge: filters concatenated along output channels (1 + 2 = 3), biases
// concatenated ([0.5] from linalg.broadcast, [0, 0] from a zero fill) into one broadcast
// accumulator, one conv, one slice per original result. The stride-2 conv on the same input
// has another geometry and stays.
// RUN: python -m mlir_opt rewrite %s --rule merge-parallel-convs | filecheck %s
// RUN: python -m mlir_opt rewrite %s --rule merge-parallel-convs --rule concat-of-slices | filecheck %s --check-prefix=CAT

// CHECK-LABEL: func.func @main(
// CHECK:         %[[P:.*]] = tensor.pad
// CHECK-DAG:     %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00, 1.000000e+00, 1.000000e+00], {{.*}} : tensor<3x1x3x3xf32>
// CHECK-DAG:     %[[B:.*]] = arith.constant dense<[5.000000e-01, 0.000000e+00, 0.000000e+00]> : tensor<3xf32>
// CHECK:         %[[I:.*]] = linalg.generic {{.*}} ins(%[[B]] : tensor<3xf32>) outs(%{{.*}} : tensor<1x3x4x4xf32>)
// CHECK:         %[[C:.*]] = linalg.conv_2d_nchw_fchw {{.*}} ins(%[[P]], %[[W]] : tensor<1x1x6x6xf32>, tensor<3x1x3x3xf32>) outs(%[[I]] : tensor<1x3x4x4xf32>)
// CHECK:         %[[S0:.*]] = tensor.extract_slice %[[C]][0, 0, 0, 0] [1, 1, 4, 4] [1, 1, 1, 1] : tensor<1x3x4x4xf32> to tensor<1x1x4x4xf32>
// CHECK:         %[[S1:.*]] = tensor.extract_slice %[[C]][0, 1, 0, 0] [1, 2, 4, 4] [1, 1, 1, 1] : tensor<1x3x4x4xf32> to tensor<1x2x4x4xf32>
// CHECK:         %[[C2:.*]] = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%[[P]]
// CHECK:         %[[CC:.*]] = tensor.concat dim(1) %[[S0]], %[[S1]]
// CHECK:         return %[[CC]], %[[C2]]

// With concat-of-slices the concat of the two slices is the merged conv itself.
// CAT-LABEL: func.func @main(
// CAT:         %[[C:.*]] = linalg.conv_2d_nchw_fchw {{.*}} -> tensor<1x3x4x4xf32>
// CAT-NOT:     tensor.concat
// CAT:         return %[[C]], %{{.*}} : tensor<1x3x4x4xf32>, tensor<1x1x2x2xf32>
func.func @main(%x: tensor<1x1x4x4xf32>) -> (tensor<1x3x4x4xf32>, tensor<1x1x2x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<1.0> : tensor<1x1x3x3xf32>
  %w1 = arith.constant dense<[[[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]], [[[0.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 0.0]]]]> : tensor<2x1x3x3xf32>
  %w2 = arith.constant dense<2.0> : tensor<1x1x3x3xf32>
  %b0 = arith.constant dense<[0.5]> : tensor<1xf32>
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a0: index, %a1: index, %a2: index, %a3: index):
    tensor.yield %zero : f32
  } : tensor<1x1x4x4xf32> to tensor<1x1x6x6xf32>
  %e0 = tensor.empty() : tensor<1x1x4x4xf32>
  %i0 = linalg.broadcast ins(%b0 : tensor<1xf32>) outs(%e0 : tensor<1x1x4x4xf32>) dimensions = [0, 2, 3]
  %c0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%p, %w0 : tensor<1x1x6x6xf32>, tensor<1x1x3x3xf32>) outs(%i0 : tensor<1x1x4x4xf32>) -> tensor<1x1x4x4xf32>
  %e1 = tensor.empty() : tensor<1x2x4x4xf32>
  %i1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %c1 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%p, %w1 : tensor<1x1x6x6xf32>, tensor<2x1x3x3xf32>) outs(%i1 : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %e2 = tensor.empty() : tensor<1x1x2x2xf32>
  %i2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%p, %w2 : tensor<1x1x6x6xf32>, tensor<1x1x3x3xf32>) outs(%i2 : tensor<1x1x2x2xf32>) -> tensor<1x1x2x2xf32>
  %cat = tensor.concat dim(1) %c0, %c1 : (tensor<1x1x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x3x4x4xf32>
  return %cat, %c2 : tensor<1x3x4x4xf32>, tensor<1x1x2x2xf32>
}
