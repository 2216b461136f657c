// expand∘collapse and collapse∘expand pairs that return to the input type are the input. A pair
// that ends in another shape (%c -> %d, 4x16x16) stays.
// RUN: python -m mlir_opt rewrite %s --rule reshape-reshape | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<1x16x64xf32>, %[[Y:.*]]: tensor<6x4xf32>)
// CHECK:         %[[A:.*]] = tensor.expand_shape %[[X]]
// CHECK:         %[[C:.*]] = tensor.collapse_shape %[[A]] {{\[\[}}0, 1, 2], [3]]
// CHECK:         %[[D:.*]] = tensor.expand_shape %[[C]]
// CHECK-NOT:     tensor.collapse_shape
// CHECK:         return %[[X]], %[[Y]], %[[D]]
func.func @main(%x: tensor<1x16x64xf32>, %y: tensor<6x4xf32>) -> (tensor<1x16x64xf32>, tensor<6x4xf32>, tensor<4x16x16xf32>) {
  %a = tensor.expand_shape %x [[0], [1], [2, 3]] output_shape [1, 16, 4, 16] : tensor<1x16x64xf32> into tensor<1x16x4x16xf32>
  %b = tensor.collapse_shape %a [[0], [1], [2, 3]] : tensor<1x16x4x16xf32> into tensor<1x16x64xf32>
  %c = tensor.collapse_shape %a [[0, 1, 2], [3]] : tensor<1x16x4x16xf32> into tensor<64x16xf32>
  %d = tensor.expand_shape %c [[0, 1], [2]] output_shape [4, 16, 16] : tensor<64x16xf32> into tensor<4x16x16xf32>
  %p = tensor.expand_shape %y [[0, 1], [2]] output_shape [2, 3, 4] : tensor<6x4xf32> into tensor<2x3x4xf32>
  %q = tensor.collapse_shape %p [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  return %b, %q, %d : tensor<1x16x64xf32>, tensor<6x4xf32>, tensor<4x16x16xf32>
}
