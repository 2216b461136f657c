// TOSA input goes through IREE's TOSA input pipeline to elementwise linalg.generic ops.
// RUN: python -m mlir_opt import %s | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-NOT:     tosa.
// CHECK:         linalg.generic
// CHECK:           arith.addf
// CHECK:         linalg.generic
// CHECK:           math.tanh
func.func @main(%a: tensor<4x8xf32>, %b: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %0 = tosa.add %a, %b : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = tosa.tanh %0 : (tensor<4x8xf32>) -> tensor<4x8xf32>
  return %1 : tensor<4x8xf32>
}
