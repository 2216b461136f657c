// A transpose of a zero-padded NCHW tensor becomes a pad of the transposed (NHWC) tensor with the
// padding amounts permuted.
// RUN: python -m mlir_opt rewrite %s --rule transpose-of-pad | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[X:.*]]: tensor<1x2x3x3xf32>)
// CHECK:         %[[T:.*]] = linalg.transpose ins(%[[X]] : tensor<1x2x3x3xf32>) outs(%{{.*}} : tensor<1x3x3x2xf32>) permutation = [0, 2, 3, 1]
// CHECK:         %[[P:.*]] = tensor.pad %[[T]] low[0, 1, 1, 0] high[0, 1, 1, 0]
// CHECK:         } : tensor<1x3x3x2xf32> to tensor<1x5x5x2xf32>
// CHECK-NOT:     linalg.transpose
// CHECK:         return %[[P]]
func.func @main(%x: tensor<1x2x3x3xf32>) -> tensor<1x5x5x2xf32> {
  %zero = arith.constant 0.0 : f32
  %p = tensor.pad %x low[0, 0, 1, 1] high[0, 0, 1, 1] {
  ^bb0(%a0: index, %a1: index, %a2: index, %a3: index):
    tensor.yield %zero : f32
  } : tensor<1x2x3x3xf32> to tensor<1x2x5x5xf32>
  %e = tensor.empty() : tensor<1x5x5x2xf32>
  %t = linalg.transpose ins(%p : tensor<1x2x5x5xf32>) outs(%e : tensor<1x5x5x2xf32>) permutation = [0, 2, 3, 1]
  return %t : tensor<1x5x5x2xf32>
}
