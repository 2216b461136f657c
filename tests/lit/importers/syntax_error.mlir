// A syntax error is reported as file:line:col and the parser's message.
// RUN: not python -m mlir_opt import %s 2>&1 | filecheck %s

// CHECK: error: invalid MLIR: {{.*}}syntax_error.mlir:7:10: use of undeclared SSA value name
// CHECK-NOT: Traceback
func.func @main(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %c : tensor<4xf32>
}
