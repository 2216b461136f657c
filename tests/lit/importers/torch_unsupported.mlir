// An op with no lowering to linalg is named in one error line, with no traceback.
// RUN: not python -m mlir_opt import %s 2>&1 | filecheck %s

// CHECK: error: unsupported op 'torch.aten.special_zeta'
// CHECK-NOT: Traceback
func.func @main(%arg0: !torch.vtensor<[4],f32>) -> !torch.vtensor<[4],f32> {
  %0 = torch.operator "torch.aten.special_zeta"(%arg0, %arg0) : (!torch.vtensor<[4],f32>, !torch.vtensor<[4],f32>) -> !torch.vtensor<[4],f32>
  return %0 : !torch.vtensor<[4],f32>
}
