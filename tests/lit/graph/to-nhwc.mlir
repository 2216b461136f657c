// Whole-graph NCHW -> NHWC in one step (to-nhwc): conv (bias broadcast) -> ReLU -> maxpool -> pad
// -> conv -> global average pool. Every conv and the pool become NHWC, the filters are transposed to
// HWCF as constants, the pad amounts are permuted, the bias broadcast runs along the last dim, the
// average pool reads the NHWC tensor with permuted iterators; the only transpose is the model input's.
// RUN: python -m mlir_opt rewrite %s --rule to-nhwc | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<1x2x4x4xf32>) -> tensor<1x2xf32>
// CHECK:         %[[XT:.*]] = linalg.transpose ins(%[[X]] : tensor<1x2x4x4xf32>) {{.*}} permutation = [0, 2, 3, 1]
// CHECK:         %[[B:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}]{{.*}} outs(%{{.*}} : tensor<1x4x4x2xf32>)
// CHECK:         %[[C:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[XT]], %{{.*}} : tensor<1x4x4x2xf32>, tensor<1x1x2x2xf32>) outs(%[[B]] : tensor<1x4x4x2xf32>)
// CHECK:         %[[R:.*]] = linalg.generic {{.*}} ins(%[[C]] : tensor<1x4x4x2xf32>)
// CHECK:           arith.maximumf
// CHECK:         %[[MP:.*]] = linalg.pooling_nhwc_max {{.*}} ins(%[[R]], %{{.*}} : tensor<1x4x4x2xf32>, tensor<2x2xf32>) {{.*}} -> tensor<1x2x2x2xf32>
// CHECK:         %[[P:.*]] = tensor.pad %[[MP]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK:         %[[C2:.*]] = linalg.conv_2d_nhwc_hwcf {{.*}} ins(%[[P]], %{{.*}} : tensor<1x4x4x2xf32>, tensor<3x3x2x2xf32>)
// CHECK:         %[[G:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "reduction", "parallel"]} ins(%[[C2]] : tensor<1x2x2x2xf32>) outs(%{{.*}} : tensor<1x2xf32>)
// CHECK-NOT:     linalg.transpose
// CHECK-NOT:     nchw
// CHECK:         return %[[G]]
func.func @main(%x: tensor<1x2x4x4xf32>) -> tensor<1x2xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant -3.0e38 : f32
  %w = arith.constant dense<[[[[1.0]], [[2.0]]], [[[3.0]], [[4.0]]]]> : tensor<2x2x1x1xf32>
  %w2 = arith.constant dense<0.25> : tensor<2x2x3x3xf32>
  %b = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %e = tensor.empty() : tensor<1x2x4x4xf32>
  %i = linalg.broadcast ins(%b : tensor<2xf32>) outs(%e : tensor<1x2x4x4xf32>) dimensions = [0, 2, 3]
  %c = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%x, %w : tensor<1x2x4x4xf32>, tensor<2x2x1x1xf32>) outs(%i : tensor<1x2x4x4xf32>) -> tensor<1x2x4x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%c : tensor<1x2x4x4xf32>) outs(%e : tensor<1x2x4x4xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<1x2x4x4xf32>
  %pe = tensor.empty() : tensor<1x2x2x2xf32>
  %pf = linalg.fill ins(%ninf : f32) outs(%pe : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %win = tensor.empty() : tensor<2x2xf32>
  %mp = linalg.pooling_nchw_max {dilations = dense<1> : vector<2xi64>, strides = dense<2> : vector<2xi64>} ins(%r, %win : tensor<1x2x4x4xf32>, tensor<2x2xf32>) outs(%pf : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %p = tensor.pad %mp low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%i0: index, %i1: index, %i2: index, %i3: index):
    tensor.yield %zero : f32
  } : tensor<1x2x2x2xf32> to tensor<1x2x4x4xf32>
  %zf = linalg.fill ins(%zero : f32) outs(%pe : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %c2 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>} ins(%p, %w2 : tensor<1x2x4x4xf32>, tensor<2x2x3x3xf32>) outs(%zf : tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %ge = tensor.empty() : tensor<1x2xf32>
  %gf = linalg.fill ins(%zero : f32) outs(%ge : tensor<1x2xf32>) -> tensor<1x2xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1)>], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%c2 : tensor<1x2x2x2xf32>) outs(%gf : tensor<1x2xf32>) {
  ^bb0(%in: f32, %o: f32):
    %s = arith.addf %in, %o : f32
    linalg.yield %s : f32
  } -> tensor<1x2xf32>
  return %g : tensor<1x2xf32>
}
