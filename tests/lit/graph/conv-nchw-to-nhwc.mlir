// NCHW -> NHWC for two convs with a ReLU and a tensor.pad between them (torch-mlir's form). Each
// conv becomes transpose -> conv_2d_nhwc_hwcf (filter folded to HWCF, bias broadcast along the
// last dim) -> transpose back; the transpose back then moves through the ReLU
// (transpose-through-elementwise), the next input transpose moves above the pad
// (transpose-of-pad, pads permuted to [0, 1, 1, 0]) and the pair cancels (transpose-transpose):
// one transpose at the input, one at the output.
// RUN: python -m mlir_opt rewrite %s --rule conv-nchw-to-nhwc | filecheck %s --check-prefix=ONE
// RUN: python -m mlir_opt rewrite %s --rule conv-nchw-to-nhwc --rule transpose-of-pad --rule transpose-through-elementwise --rule transpose-transpose | filecheck %s

// ONE-LABEL: func.func @main(
// ONE:         %[[W:.*]] = arith.constant dense<{{\[\[\[\[}}1.000000e+00, 3.000000e+00], [2.000000e+00, 4.000000e+00]]]]> : tensor<1x1x2x2xf32>
// ONE:         %[[XT:.*]] = linalg.transpose ins(%{{.*}} : tensor<1x2x3x3xf32>) outs(%{{.*}} : tensor<1x3x3x2xf32>) permutation = [0, 2, 3, 1]
// ONE:         %[[C:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[XT]], %[[W]] : tensor<1x3x3x2xf32>, tensor<1x1x2x2xf32>)
// ONE:         linalg.transpose ins(%[[C]] : tensor<1x3x3x2xf32>) outs(%{{.*}} : tensor<1x2x3x3xf32>) permutation = [0, 3, 1, 2]
// ONE:         linalg.conv_2d_nhwc_hwcf
// ONE-NOT:     linalg.conv_2d_nchw_fchw

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<1x2x3x3xf32>)
// CHECK:         %[[XT:.*]] = linalg.transpose ins(%[[X]] : tensor<1x2x3x3xf32>) {{.*}} permutation = [0, 2, 3, 1]
// CHECK:         %[[C:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[XT]], %{{.*}} : tensor<1x3x3x2xf32>, tensor<1x1x2x2xf32>)
// CHECK:         %[[R:.*]] = linalg.generic {{.*}} ins(%[[C]] : tensor<1x3x3x2xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[P:.*]] = tensor.pad %[[R]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK:         %[[C2:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[P]], %{{.*}} : tensor<1x5x5x2xf32>, tensor<3x3x2x2xf32>)
// CHECK:         %[[OUT:.*]] = linalg.transpose ins(%[[C2]] : tensor<1x3x3x2xf32>) {{.*}} permutation = [0, 3, 1, 2]
// CHECK-NOT:     linalg.transpose
// CHECK:         return %[[OUT]]
func.func @main(%x: tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32> {
  %zero = arith.constant 0.0 : f32
  %w = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x3x3xf32>
  %i = linalg.broadcast ins(%b : tensor<2xf32>) outs(%e : tensor<1x2x3x3xf32>) dimensions = [0, 2, 3]
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x2x3x3xf32>, tensor<2x2x1x1xf32>) outs(%i : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<1x2x3x3xf32>) outs(%e : tensor<1x2x3x3xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x3x3xf32>
  %p = tensor.pad %r low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a0: index, %a1: index, %a2: index, %a3: index):
    tensor.yield %zero : f32
  } : tensor<1x2x3x3xf32> to tensor<1x2x5x5xf32>
  %w2 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %e2 = tensor.empty() : tensor<1x2x3x3xf32>
  %i2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%p, %w2 : tensor<1x2x5x5xf32>, tensor<2x2x3x3xf32>) outs(%i2 : tensor<1x2x3x3xf32>) -> tensor<1x2x3x3xf32>
  return %c2 : tensor<1x2x3x3xf32>
}
