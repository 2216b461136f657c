// Slices of a concat that lie inside one operand read that operand: [0,3]+[2,4] is exactly %b;
// [0,4]+[2,2] is a slice of %b at column 1. The slice [0,2]+[2,3] straddles %a and %b and stays
// (so does the concat it reads).
// RUN: python -m mlir_opt rewrite %s --rule slice-of-concat | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<2x4xf32>)
// CHECK:         %[[CAT:.*]] = tensor.concat dim(1) %[[A]], %[[B]]
// CHECK:         %[[S1:.*]] = tensor.extract_slice %[[B]][0, 1] [2, 2] [1, 1] : tensor<2x4xf32> to tensor<2x2xf32>
// CHECK:         %[[S2:.*]] = tensor.extract_slice %[[CAT]][0, 2] [2, 3] [1, 1]
// CHECK:         return %[[B]], %[[S1]], %[[S2]]
func.func @main(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) -> (tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x3xf32>) {
  %cat = tensor.concat dim(1) %a, %b : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x7xf32>
  %s0 = tensor.extract_slice %cat[0, 3] [2, 4] [1, 1] : tensor<2x7xf32> to tensor<2x4xf32>
  %s1 = tensor.extract_slice %cat[0, 4] [2, 2] [1, 1] : tensor<2x7xf32> to tensor<2x2xf32>
  %s2 = tensor.extract_slice %cat[0, 2] [2, 3] [1, 1] : tensor<2x7xf32> to tensor<2x3xf32>
  return %s0, %s1, %s2 : tensor<2x4xf32>, tensor<2x2xf32>, tensor<2x3xf32>
}
