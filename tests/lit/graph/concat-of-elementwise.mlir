// The same ReLU (torch's cmpf/select form, reading the captured zero %cst) on every concat
// operand becomes one ReLU on the concat of the inputs.
// RUN: python -m mlir_opt rewrite %s --rule concat-of-elementwise | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[A:[^:]*]]: tensor<2x3xf32>, %[[B:[^:]*]]: tensor<2x1xf32>, %[[C:[^:]*]]: tensor<2x4xf32>)
// CHECK:         %[[Z:.*]] = arith.constant 0.000000e+00 : f32
// CHECK:         %[[CAT:.*]] = tensor.concat dim(1) %[[A]], %[[B]], %[[C]] : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
// CHECK:         %[[R:.*]] = linalg.generic {{.*}} ins(%[[CAT]] : tensor<2x8xf32>)
// CHECK:           arith.cmpf ugt, %{{.*}}, %[[Z]] : f32
// CHECK-NOT:     linalg.generic
// CHECK:         return %[[R]] : tensor<2x8xf32>
func.func @main(%x0: tensor<2x3xf32>, %x1: tensor<2x1xf32>, %x2: tensor<2x4xf32>) -> tensor<2x8xf32> {
  %zero = arith.constant 0.0 : f32
  %y0_e = tensor.empty() : tensor<2x3xf32>
  %y0 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x0 : tensor<2x3xf32>) outs(%y0_e : tensor<2x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    %cmp = arith.cmpf ugt, %in, %zero : f32
    %sel = arith.select %cmp, %in, %zero : f32
    linalg.yield %sel : f32
  } -> tensor<2x3xf32>
  %y1_e = tensor.empty() : tensor<2x1xf32>
  %y1 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x1 : tensor<2x1xf32>) outs(%y1_e : tensor<2x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %cmp = arith.cmpf ugt, %in, %zero : f32
    %sel = arith.select %cmp, %in, %zero : f32
    linalg.yield %sel : f32
  } -> tensor<2x1xf32>
  %y2_e = tensor.empty() : tensor<2x4xf32>
  %y2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]} ins(%x2 : tensor<2x4xf32>) outs(%y2_e : tensor<2x4xf32>) {
  ^bb0(%in: f32, %out: f32):
    %cmp = arith.cmpf ugt, %in, %zero : f32
    %sel = arith.select %cmp, %in, %zero : f32
    linalg.yield %sel : f32
  } -> tensor<2x4xf32>
  %cat = tensor.concat dim(1) %y0, %y1, %y2 : (tensor<2x3xf32>, tensor<2x1xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return %cat : tensor<2x8xf32>
}

