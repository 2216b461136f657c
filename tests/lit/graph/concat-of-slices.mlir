// A concat of the three adjacent slices that cover %x is %x; in the second concat the run
// [2,3)+[5,6) of %x becomes one slice [2, 6) and the foreign operand %c stays.
// RUN: python -m mlir_opt rewrite %s --rule concat-of-slices | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<2x6xf32>, %[[C:.*]]: tensor<2x1xf32>)
// CHECK:         %[[S:.*]] = tensor.extract_slice %[[X]][0, 2] [2, 4] [1, 1] : tensor<2x6xf32> to tensor<2x4xf32>
// CHECK:         %[[CAT:.*]] = tensor.concat dim(1) %[[S]], %[[C]] : (tensor<2x4xf32>, tensor<2x1xf32>) -> tensor<2x5xf32>
// CHECK-NOT:     tensor.concat
// CHECK:         return %[[X]], %[[CAT]]
func.func @main(%x: tensor<2x6xf32>, %c: tensor<2x1xf32>) -> (tensor<2x6xf32>, tensor<2x5xf32>) {
  %s0 = tensor.extract_slice %x[0, 0] [2, 2] [1, 1] : tensor<2x6xf32> to tensor<2x2xf32>
  %s1 = tensor.extract_slice %x[0, 2] [2, 3] [1, 1] : tensor<2x6xf32> to tensor<2x3xf32>
  %s2 = tensor.extract_slice %x[0, 5] [2, 1] [1, 1] : tensor<2x6xf32> to tensor<2x1xf32>
  %cat = tensor.concat dim(1) %s0, %s1, %s2 : (tensor<2x2xf32>, tensor<2x3xf32>, tensor<2x1xf32>) -> tensor<2x6xf32>
  %cat2 = tensor.concat dim(1) %s1, %s2, %c : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<2x5xf32>
  return %cat, %cat2 : tensor<2x6xf32>, tensor<2x5xf32>
}
