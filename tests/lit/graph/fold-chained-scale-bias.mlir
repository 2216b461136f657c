// x * g + b, then / g (g = [2, 4, 8], b = [1, 2, 3]) is x * 1 + b / g: one generic adding the
// folded shift [0.5, 0.5, 0.375]; the scale of 1 is left out.
// RUN: python -m mlir_opt rewrite %s --rule fold-chained-scale-bias | filecheck %s
// The egglog counterpart (equality saturation) reaches the same graph:
// RUN: python -m mlir_opt rewrite %s --eqsat --rule fold-chained-scale-bias | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<2x3xf32>)
// CHECK:         %[[T:.*]] = arith.constant dense<[5.000000e-01, 5.000000e-01, 3.750000e-01]> : tensor<3xf32>
// CHECK:         %[[R:.*]] = linalg.generic {{.*}} ins(%[[X]], %[[T]] : tensor<2x3xf32>, tensor<3xf32>)
// CHECK-NEXT:    ^bb0
// CHECK-NEXT:      arith.addf
// CHECK-NEXT:      linalg.yield
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[R]]
func.func @main(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %g = arith.constant dense<[2.0, 4.0, 8.0]> : tensor<3xf32>
  %b = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %y0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x, %g : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.mulf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %y1 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%y0, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %y2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%y1, %g : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.divf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  return %y2 : tensor<2x3xf32>
}
