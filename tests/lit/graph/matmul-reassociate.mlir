// (x·B)·C with constant B (4x8), C (8x2) becomes x·(B·C) with B·C folded (4x2): 3*4*8 + 3*8*2
// runtime MACs -> 3*4*2. w·(y·z) with a 16x16 middle (16*2*16 + 3*16*16 MACs) becomes
// (w·y)·z (3*16*2 + 3*2*16 MACs).
// RUN: python -m mlir_opt rewrite %s --rule matmul-reassociate | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:[^:]*]]: tensor<3x4xf32>, %[[Y:[^:]*]]: tensor<16x2xf32>, %[[Z:[^:]*]]: tensor<2x16xf32>, %[[W:[^:]*]]: tensor<3x16xf32>)
// CHECK:         %[[BC:.*]] = arith.constant dense<{{\[\[}}6.000000e+00, 0.000000e+00], [0.000000e+00, 6.000000e+00], [4.000000e+00, 4.000000e+00], [0.000000e+00, 3.000000e+00]]> : tensor<4x2xf32>
// CHECK:         %[[R0:.*]] = linalg.matmul ins(%[[X]], %[[BC]] : tensor<3x4xf32>, tensor<4x2xf32>)
// CHECK:         %[[WY:.*]] = linalg.matmul ins(%[[W]], %[[Y]] : tensor<3x16xf32>, tensor<16x2xf32>)
// CHECK:         %[[R1:.*]] = linalg.matmul ins(%[[WY]], %[[Z]] : tensor<3x2xf32>, tensor<2x16xf32>)
// CHECK-NOT:     linalg.matmul
// CHECK:         return %[[R0]], %[[R1]]
func.func @main(%x: tensor<3x4xf32>, %y: tensor<16x2xf32>, %z: tensor<2x16xf32>, %w: tensor<3x16xf32>) -> (tensor<3x2xf32>, tensor<3x16xf32>) {
  %zero = arith.constant 0.0 : f32
  %b = arith.constant dense<[[1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 2.0], [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 3.0]]> : tensor<4x8xf32>
  %c = arith.constant dense<[[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]]> : tensor<8x2xf32>
  %e0 = tensor.empty() : tensor<3x8xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<3x8xf32>) -> tensor<3x8xf32>
  %xb = linalg.matmul ins(%x, %b : tensor<3x4xf32>, tensor<4x8xf32>) outs(%f0 : tensor<3x8xf32>) -> tensor<3x8xf32>
  %e1 = tensor.empty() : tensor<3x2xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<3x2xf32>) -> tensor<3x2xf32>
  %r0 = linalg.matmul ins(%xb, %c : tensor<3x8xf32>, tensor<8x2xf32>) outs(%f1 : tensor<3x2xf32>) -> tensor<3x2xf32>
  %e2 = tensor.empty() : tensor<16x16xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %yz = linalg.matmul ins(%y, %z : tensor<16x2xf32>, tensor<2x16xf32>) outs(%f2 : tensor<16x16xf32>) -> tensor<16x16xf32>
  %e3 = tensor.empty() : tensor<3x16xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<3x16xf32>) -> tensor<3x16xf32>
  %r1 = linalg.matmul ins(%w, %yz : tensor<3x16xf32>, tensor<16x16xf32>) outs(%f3 : tensor<3x16xf32>) -> tensor<3x16xf32>
  return %r0, %r1 : tensor<3x2xf32>, tensor<3x16xf32>
}
