// A torch-level linear layer becomes a transposed weight, a linalg.matmul and a bias-add generic.
// RUN: python -m mlir_opt import %s | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<2x8xf32>) -> tensor<2x4xf32>
// CHECK-NOT:     torch.
// CHECK:         %[[WT:.*]] = linalg.transpose ins(%{{.*}} : tensor<4x8xf32>) outs(%{{.*}} : tensor<8x4xf32>) permutation = [1, 0]
// CHECK:         %[[ZERO:.*]] = linalg.fill
// CHECK:         %[[MM:.*]] = linalg.matmul ins(%[[X]], %[[WT]] : tensor<2x8xf32>, tensor<8x4xf32>) outs(%[[ZERO]] : tensor<2x4xf32>)
// CHECK:         %[[OUT:.*]] = linalg.generic
// CHECK-SAME:      ins(%[[MM]], %{{.*}} : tensor<2x4xf32>, tensor<4xf32>)
// CHECK:           arith.addf
// CHECK:         return %[[OUT]] : tensor<2x4xf32>
func.func @main(%arg0: !torch.vtensor<[2,8],f32>) -> !torch.vtensor<[2,4],f32> {
  %w = torch.vtensor.literal(dense<[[-0.3000, -0.1750, -0.0500, 0.0750, 0.2000, 0.3250, 0.4500, -0.3000], [-0.1750, -0.0500, 0.0750, 0.2000, 0.3250, 0.4500, -0.3000, -0.1750], [-0.0500, 0.0750, 0.2000, 0.3250, 0.4500, -0.3000, -0.1750, -0.0500], [0.0750, 0.2000, 0.3250, 0.4500, -0.3000, -0.1750, -0.0500, 0.0750]]> : tensor<4x8xf32>) : !torch.vtensor<[4,8],f32>
  %b = torch.vtensor.literal(dense<[0.1, -0.2, 0.3, 0.4]> : tensor<4xf32>) : !torch.vtensor<[4],f32>
  %0 = torch.aten.linear %arg0, %w, %b : !torch.vtensor<[2,8],f32>, !torch.vtensor<[4,8],f32>, !torch.vtensor<[4],f32> -> !torch.vtensor<[2,4],f32>
  return %0 : !torch.vtensor<[2,4],f32>
}
