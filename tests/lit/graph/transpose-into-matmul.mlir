// Transposes (last two dims) of non-constant contraction operands are absorbed into indexing
// maps: q·transpose(k) (batch_matmul, transpose_b form) and transpose(w)·c (matmul, transpose_a
// form). The transposed constant RHS of the last matmul is left to fold-constant-transpose.
// RUN: python -m mlir_opt rewrite %s --rule transpose-into-matmul | filecheck %s

// CHECK-DAG:   #[[A:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>
// CHECK-DAG:   #[[BT:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>
// CHECK-DAG:   #[[AT:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[Q:.*]]: tensor<2x5x8xf32>, %[[K:.*]]: tensor<2x7x8xf32>, %[[W:.*]]: tensor<3x4xf32>)
// CHECK:         %[[S:.*]] = linalg.batch_matmul indexing_maps = [#[[A]], #[[BT]], #{{.*}}] ins(%[[Q]], %[[K]] : tensor<2x5x8xf32>, tensor<2x7x8xf32>)
// CHECK:         %[[M:.*]] = linalg.matmul indexing_maps = [#[[AT]], #{{.*}}, #{{.*}}] ins(%[[W]], %{{.*}} : tensor<3x4xf32>, tensor<3x3xf32>)
// CHECK:         %[[CT:.*]] = linalg.transpose
// CHECK:         %[[M2:.*]] = linalg.matmul ins(%[[W]], %[[CT]] : tensor<3x4xf32>, tensor<4x3xf32>)
// CHECK:         return %[[S]], %[[M]], %[[M2]]
func.func @main(%q: tensor<2x5x8xf32>, %k: tensor<2x7x8xf32>, %w: tensor<3x4xf32>) -> (tensor<2x5x7xf32>, tensor<4x3xf32>, tensor<3x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %te = tensor.empty() : tensor<2x8x7xf32>
  %kt = linalg.transpose ins(%k : tensor<2x7x8xf32>) outs(%te : tensor<2x8x7xf32>) permutation = [0, 2, 1]
  %e = tensor.empty() : tensor<2x5x7xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<2x5x7xf32>) -> tensor<2x5x7xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x5x8xf32>, tensor<2x8x7xf32>) outs(%f : tensor<2x5x7xf32>) -> tensor<2x5x7xf32>
  %e2 = tensor.empty() : tensor<4x3xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<4x3xf32>) -> tensor<4x3xf32>
  %wt_e = tensor.empty() : tensor<4x3xf32>
  %wt = linalg.transpose ins(%w : tensor<3x4xf32>) outs(%wt_e : tensor<4x3xf32>) permutation = [1, 0]
  %cm = arith.constant dense<2.0> : tensor<3x3xf32>
  %m = linalg.matmul ins(%wt, %cm : tensor<4x3xf32>, tensor<3x3xf32>) outs(%f2 : tensor<4x3xf32>) -> tensor<4x3xf32>
  %c = arith.constant dense<1.0> : tensor<3x4xf32>
  %ce = tensor.empty() : tensor<4x3xf32>
  %ct = linalg.transpose ins(%c : tensor<3x4xf32>) outs(%ce : tensor<4x3xf32>) permutation = [1, 0]
  %e3 = tensor.empty() : tensor<3x3xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<3x3xf32>) -> tensor<3x3xf32>
  %m2 = linalg.matmul ins(%w, %ct : tensor<3x4xf32>, tensor<4x3xf32>) outs(%f3 : tensor<3x3xf32>) -> tensor<3x3xf32>
  return %s, %m, %m2 : tensor<2x5x7xf32>, tensor<4x3xf32>, tensor<3x3xf32>
}
