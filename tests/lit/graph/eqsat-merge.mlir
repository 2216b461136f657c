// Equality saturation (egglog) on two linears that read %x with constant weights and bias-adds:
// the extracted term is one matmul over the concatenated weights (CCat), one bias-add over the
// concatenated biases and two slices; the matmul by an argument is an MM term too, not merged
// (its RHS is not constant). The realized
// IR matches what the merge-parallel-matmuls rule builds.
// RUN: python -m mlir_opt rewrite %s --eqsat --print-term | filecheck %s --check-prefix=TERM
// RUN: python -m mlir_opt rewrite %s --eqsat | filecheck %s

// TERM-DAG:   [[BCAT:%t[0-9]+]] = (CCat %t{{[0-9]+}} %t{{[0-9]+}})
// TERM-DAG:   [[X:%t[0-9]+]] = (Arg 0)
// TERM-DAG:   [[WCAT:%t[0-9]+]] = (CCat %t{{[0-9]+}} %t{{[0-9]+}})
// TERM:       [[MM:%t[0-9]+]] = (MM 0 [[X]] [[WCAT]] %t{{[0-9]+}})
// TERM-NEXT:  [[BA:%t[0-9]+]] = (BiasAdd [[MM]] [[BCAT]])
// TERM-NEXT:  [[S0:%t[0-9]+]] = (Slice [[BA]] 0 3)
// TERM-NEXT:  [[S1:%t[0-9]+]] = (Slice [[BA]] 3 1)
// TERM:       [[Y:%t[0-9]+]] = (Arg 1)
// TERM-NEXT:  [[OTHER:%t[0-9]+]] = (MM 0 [[X]] [[Y]] %t{{[0-9]+}})
// TERM-NEXT:  (return [[S0]] [[S1]] [[OTHER]])

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<2x3xf32>, %[[Y:.*]]: tensor<3x2xf32>)
// CHECK-DAG:     %[[B:.*]] = arith.constant dense<[1.000000e-01, 2.000000e-01, 3.000000e-01, 4.000000e-01]> : tensor<4xf32>
// CHECK-DAG:     %[[W:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00, 7.000000e+00, 0.000000e+00], [2.000000e+00, 5.000000e+00, 8.000000e+00, 1.000000e+00], [3.000000e+00, 6.000000e+00, 9.000000e+00, 2.000000e+00]]> : tensor<3x4xf32>
// CHECK:         %[[F:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<2x4xf32>)
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<2x3xf32>, tensor<3x4xf32>) outs(%[[F]] : tensor<2x4xf32>)
// CHECK:         %[[BA:.*]] = linalg.generic {{.*}} ins(%[[MM]], %[[B]] : tensor<2x4xf32>, tensor<4xf32>)
// CHECK:         %[[S0:.*]] = tensor.extract_slice %[[BA]][0, 0] [2, 3] [1, 1] : tensor<2x4xf32> to tensor<2x3xf32>
// CHECK:         %[[S1:.*]] = tensor.extract_slice %[[BA]][0, 3] [2, 1] [1, 1] : tensor<2x4xf32> to tensor<2x1xf32>
// (the realization keeps the input's op order: the matmul by an argument stays last, as in the input)
// CHECK:         %[[OTHER:.*]] = linalg.matmul ins(%[[X]], %[[Y]] : tensor<2x3xf32>, tensor<3x2xf32>)
// CHECK-NOT:     linalg.transpose
// CHECK:         return %[[S0]], %[[S1]], %[[OTHER]]
func.func @main(%x: tensor<2x3xf32>, %y: tensor<3x2xf32>) -> (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x2xf32>) {
  %zero = arith.constant 0.0 : f32
  %w0 = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]]> : tensor<3x3xf32>
  %w1 = arith.constant dense<[[0.0, 1.0, 2.0]]> : tensor<1x3xf32>
  %b0 = arith.constant dense<[0.1, 0.2, 0.3]> : tensor<3xf32>
  %b1 = arith.constant dense<[0.4]> : tensor<1xf32>
  %t0e = tensor.empty() : tensor<3x3xf32>
  %t0 = linalg.transpose ins(%w0 : tensor<3x3xf32>) outs(%t0e : tensor<3x3xf32>) permutation = [1, 0]
  %t1e = tensor.empty() : tensor<3x1xf32>
  %t1 = linalg.transpose ins(%w1 : tensor<1x3xf32>) outs(%t1e : tensor<3x1xf32>) permutation = [1, 0]
  %e0 = tensor.empty() : tensor<2x3xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m0 = linalg.matmul ins(%x, %t0 : tensor<2x3xf32>, tensor<3x3xf32>) outs(%f0 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m0, %b0 : tensor<2x3xf32>, tensor<3xf32>) outs(%e0 : tensor<2x3xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %e1 = tensor.empty() : tensor<2x1xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<2x1xf32>) -> tensor<2x1xf32>
  %m1 = linalg.matmul ins(%x, %t1 : tensor<2x3xf32>, tensor<3x1xf32>) outs(%f1 : tensor<2x1xf32>) -> tensor<2x1xf32>
  %r1 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%m1, %b1 : tensor<2x1xf32>, tensor<1xf32>) outs(%e1 : tensor<2x1xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<2x1xf32>
  %e2 = tensor.empty() : tensor<2x2xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x2xf32>) -> tensor<2x2xf32>
  %m2 = linalg.matmul ins(%x, %y : tensor<2x3xf32>, tensor<3x2xf32>) outs(%f2 : tensor<2x2xf32>) -> tensor<2x2xf32>
  return %r0, %r1, %m2 : tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x2xf32>
}
