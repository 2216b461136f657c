// ONNX-level IR (as iree-import-onnx emits it) lowers to a linalg matmul plus a bias generic.
// RUN: python -m mlir_opt import %s | filecheck %s

// CHECK-LABEL: func.func @main_graph(
// CHECK-SAME:    tensor<3x5xf32>, %{{.*}}: tensor<5x2xf32>, %{{.*}}: tensor<2xf32>) -> tensor<3x2xf32>
// CHECK-NOT:     torch.operator
// CHECK:         linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<3x5xf32>, tensor<5x2xf32>)
// CHECK:         linalg.generic
// CHECK:           arith.addf
func.func @main_graph(%a: !torch.vtensor<[3,5],f32>, %b: !torch.vtensor<[5,2],f32>, %c: !torch.vtensor<[2],f32>) -> !torch.vtensor<[3,2],f32> attributes {torch.onnx_meta.opset_version = 17 : si64} {
  %0 = torch.operator "onnx.Gemm"(%a, %b, %c) : (!torch.vtensor<[3,5],f32>, !torch.vtensor<[5,2],f32>, !torch.vtensor<[2],f32>) -> !torch.vtensor<[3,2],f32>
  return %0 : !torch.vtensor<[3,2],f32>
}
