// A pair that cancels disappears; a pair that composes to [0, 2, 1] becomes one transpose of %y.
// RUN: python -m mlir_opt rewrite %s --rule transpose-transpose | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<2x3x4xf32>, %[[Y:.*]]: tensor<3x4x5xf32>)
// CHECK:         %[[T:.*]] = linalg.transpose ins(%[[Y]] : tensor<3x4x5xf32>) outs(%{{.*}} : tensor<3x5x4xf32>) permutation = [0, 2, 1]
// CHECK-NOT:     linalg.transpose
// CHECK:         return %[[X]], %[[T]] : tensor<2x3x4xf32>, tensor<3x5x4xf32>
func.func @main(%x: tensor<2x3x4xf32>, %y: tensor<3x4x5xf32>) -> (tensor<2x3x4xf32>, tensor<3x5x4xf32>) {
  %e1 = tensor.empty() : tensor<4x2x3xf32>
  %a = linalg.transpose ins(%x : tensor<2x3x4xf32>) outs(%e1 : tensor<4x2x3xf32>) permutation = [2, 0, 1]
  %e2 = tensor.empty() : tensor<2x3x4xf32>
  %b = linalg.transpose ins(%a : tensor<4x2x3xf32>) outs(%e2 : tensor<2x3x4xf32>) permutation = [1, 2, 0]
  %e3 = tensor.empty() : tensor<5x3x4xf32>
  %c = linalg.transpose ins(%y : tensor<3x4x5xf32>) outs(%e3 : tensor<5x3x4xf32>) permutation = [2, 0, 1]
  %e4 = tensor.empty() : tensor<3x5x4xf32>
  %d = linalg.transpose ins(%c : tensor<5x3x4xf32>) outs(%e4 : tensor<3x5x4xf32>) permutation = [1, 0, 2]
  return %b, %d : tensor<2x3x4xf32>, tensor<3x5x4xf32>
}
