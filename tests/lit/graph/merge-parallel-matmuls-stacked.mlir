// Two linears of equal width in torch's nn.Linear form (batch_matmul on [1, M, K], weights
// transposed and broadcast) become the stacked form: one contraction of %x ([M, K]) by the
// stacked weights [2, K, n] into [2, M, n] (a linalg.generic whose LHS map omits the stack dim),
// one bias-add over the stacked biases [2, n], and contiguous slices [k] — no last-dim slices
// (IREE turns those into slow_memcpy dispatches). Equality saturation realizes the same form.
// RUN: python -m mlir_opt rewrite %s --rule merge-parallel-matmuls | filecheck %s
// RUN: python -m mlir_opt rewrite %s --eqsat | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<1x2x3xf32>)
// CHECK-DAG:     %[[W:.*]] = arith.constant dense<{{\[\[\[}}1.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00], [3.000000e+00, 6.000000e+00]], {{\[\[}}0.000000e+00, 1.000000e+00], [1.000000e+00, 0.000000e+00], [2.000000e+00, 2.000000e+00]]]> : tensor<2x3x2xf32>
// CHECK-DAG:     %[[B:.*]] = arith.constant dense<{{\[\[}}1.000000e-01, 2.000000e-01], [3.000000e-01, 4.000000e-01]]> : tensor<2x2xf32>
// CHECK:         %[[X2:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<1x2x3xf32> into tensor<2x3xf32>
// CHECK:         %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x2x2xf32>)
// CHECK:         %[[MM:.*]] = linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "parallel", "reduction"]{{.*}} ins(%[[X2]], %[[W]] : tensor<2x3xf32>, tensor<2x3x2xf32>) outs(%[[F]] : tensor<2x2x2xf32>)
// CHECK:           arith.mulf
// CHECK:           arith.addf
// CHECK:         %[[BA:.*]] = linalg.generic {{.*}} ins(%[[MM]], %[[B]] : tensor<2x2x2xf32>, tensor<2x2xf32>)
// CHECK-DAG:     %[[S0:.*]] = tensor.extract_slice %[[BA]][0, 0, 0] [1, 2, 2] [1, 1, 1] : tensor<2x2x2xf32> to tensor<1x2x2xf32>
// CHECK-DAG:     %[[S1:.*]] = tensor.extract_slice %[[BA]][1, 0, 0] [1, 2, 2] [1, 1, 1] : tensor<2x2x2xf32> to tensor<1x2x2xf32>
// CHECK-NOT:     linalg.batch_matmul
// CHECK:         return %[[S0]], %[[S1]]
func.func @main(%x: tensor<1x2x3xf32>) -> (tensor<1x2x2xf32>, tensor<1x2x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %w1 = arith.constant dense<[[0.0, 1.0, 2.0], [1.0, 0.0, 2.0]]> : tensor<2x3xf32>
  %b0 = arith.constant dense<[0.1, 0.2]> : tensor<2xf32>
  %b1 = arith.constant dense<[0.3, 0.4]> : tensor<2xf32>
  %te = tensor.empty() : tensor<3x2xf32>
  %t0 = linalg.transpose ins(%w0 : tensor<2x3xf32>) outs(%te : tensor<3x2xf32>) permutation = [1, 0]
  %t1 = linalg.transpose ins(%w1 : tensor<2x3xf32>) outs(%te : tensor<3x2xf32>) permutation = [1, 0]
  %be = tensor.empty() : tensor<1x3x2xf32>
  %wb0 = linalg.broadcast ins(%t0 : tensor<3x2xf32>) outs(%be : tensor<1x3x2xf32>) dimensions = [0]
  %wb1 = linalg.broadcast ins(%t1 : tensor<3x2xf32>) outs(%be : tensor<1x3x2xf32>) dimensions = [0]
  %e = tensor.empty() : tensor<1x2x2xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %m0 = linalg.batch_matmul ins(%x, %wb0 : tensor<1x2x3xf32>, tensor<1x3x2xf32>) outs(%f : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %m1 = linalg.batch_matmul ins(%x, %wb1 : tensor<1x2x3xf32>, tensor<1x3x2xf32>) outs(%f : tensor<1x2x2xf32>) -> tensor<1x2x2xf32>
  %r0 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m0, %b0 : tensor<1x2x2xf32>, tensor<2xf32>) outs(%e : tensor<1x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2xf32>
  %r1 = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m1, %b1 : tensor<1x2x2xf32>, tensor<2xf32>) outs(%e : tensor<1x2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x2x2xf32>
  return %r0, %r1 : tensor<1x2x2xf32>, tensor<1x2x2xf32>
}
