// x·B + x·C with constant B, C becomes x·(B + C): one matmul on the folded sum 11, 22, … and no
// elementwise add.
// RUN: python -m mlir_opt rewrite %s --rule distribute-matmul | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<2x2xf32>)
// CHECK:         %[[W:.*]] = arith.constant dense<{{\[\[}}1.100000e+01, 2.200000e+01, 3.300000e+01], [4.400000e+01, 5.500000e+01, 6.600000e+01]]> : tensor<2x3xf32>
// CHECK:         %[[F:.*]] = linalg.fill
// CHECK:         %[[M:.*]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<2x2xf32>, tensor<2x3xf32>) outs(%[[F]] : tensor<2x3xf32>)
// CHECK-NOT:     linalg.matmul
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[M]]
func.func @main(%x: tensor<2x2xf32>) -> tensor<2x3xf32> {
  %zero = arith.constant 0.0 : f32
  %b = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %c = arith.constant dense<[[10.0, 20.0, 30.0], [40.0, 50.0, 60.0]]> : tensor<2x3xf32>
  %e = tensor.empty() : tensor<2x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m0 = linalg.matmul ins(%x, %b : tensor<2x2xf32>, tensor<2x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m1 = linalg.matmul ins(%x, %c : tensor<2x2xf32>, tensor<2x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m0, %m1 : tensor<2x3xf32>, tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%p: f32, %q: f32, %o: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  return %r : tensor<2x3xf32>
}
