// An add of two transposes by the same permutation becomes one transpose of the add on the
// untransposed inputs (NHWC shapes). The transpose of %a has another user (it is returned) and
// stays for it.
// RUN: python -m mlir_opt rewrite %s --rule transpose-through-elementwise | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[A:[^:]*]]: tensor<1x3x3x2xf32>, %[[B:[^:]*]]: tensor<1x3x3x2xf32>)
// CHECK:         %[[TA:.*]] = linalg.transpose ins(%[[A]]
// CHECK:         %[[G:.*]] = linalg.generic {{.*}} ins(%[[A]], %[[B]] : tensor<1x3x3x2xf32>, tensor<1x3x3x2xf32>) outs(%{{.*}} : tensor<1x3x3x2xf32>)
// CHECK:           arith.addf
// CHECK:         %[[T:.*]] = linalg.transpose ins(%[[G]] : tensor<1x3x3x2xf32>) outs(%{{.*}} : tensor<1x2x3x3xf32>) permutation = [0, 3, 1, 2]
// CHECK:         return %[[T]], %[[TA]]
func.func @main(%a: tensor<1x3x3x2xf32>, %b: tensor<1x3x3x2xf32>) -> (tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) {
  %e = tensor.empty() : tensor<1x2x3x3xf32>
  %ta = linalg.transpose ins(%a : tensor<1x3x3x2xf32>) outs(%e : tensor<1x2x3x3xf32>) permutation = [0, 3, 1, 2]
  %tb = linalg.transpose ins(%b : tensor<1x3x3x2xf32>) outs(%e : tensor<1x2x3x3xf32>) permutation = [0, 3, 1, 2]
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%ta, %tb : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>) outs(%e : tensor<1x2x3x3xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<1x2x3x3xf32>
  return %r, %ta : tensor<1x2x3x3xf32>, tensor<1x2x3x3xf32>
}
