// StableHLO input goes through IREE's StableHLO input pipeline to linalg.matmul.
// RUN: python -m mlir_opt import %s | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-NOT:     stablehlo.
// CHECK:         %[[F:.*]] = linalg.fill
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<4x8xf32>, tensor<8x3xf32>) outs(%[[F]] : tensor<4x3xf32>)
// CHECK:         math.tanh
func.func @main(%a: tensor<4x8xf32>, %b: tensor<8x3xf32>) -> tensor<4x3xf32> {
  %0 = stablehlo.dot %a, %b : (tensor<4x8xf32>, tensor<8x3xf32>) -> tensor<4x3xf32>
  %1 = stablehlo.tanh %0 : tensor<4x3xf32>
  return %1 : tensor<4x3xf32>
}
