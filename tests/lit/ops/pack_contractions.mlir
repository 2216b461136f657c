// ops.packing.pack_contractions, before/after: a padded matmul with a zero init becomes pack A
// (6x1 tiles, padded), pack B (16x1, N-major, padded), a fill of the packed accumulator, mmt4d and
// unpack; a unit-batch batch_matmul accumulating into an argument is collapsed, its init packed like
// C, and expanded back; a batch-2 batch_matmul keeps its batch: each slice packed alike (A 8 rows
// padded to 2x6, B 8 columns to 1x16), one linalg.batch_mmt4d, unpacked back.
// RUN: python -c "import mlir_opt; from mlir_opt.ops.packing import pack_contractions; \
// RUN:   print(pack_contractions(mlir_opt.load('%s'), {'*': dict(m0=6, n0=16)}).model.text())" | filecheck %s

// CHECK-LABEL: func.func @main(
// CHECK-SAME:    %[[A:.+]]: tensor<40x64xf32>, %[[B:.+]]: tensor<64x72xf32>, %[[C:.+]]: tensor<1x20x64xf32>, %[[D:.+]]: tensor<1x64x24xf32>, %[[E:.+]]: tensor<1x20x24xf32>
// CHECK:         %[[PA:.+]] = linalg.pack %[[A]] padding_value(%{{.+}} : f32) inner_dims_pos = [0, 1] inner_tiles = [6, 1] into %{{.+}} : tensor<40x64xf32> -> tensor<7x64x6x1xf32>
// CHECK:         %[[PB:.+]] = linalg.pack %[[B]] padding_value(%{{.+}} : f32) outer_dims_perm = [1, 0] inner_dims_pos = [1, 0] inner_tiles = [16, 1] into %{{.+}} : tensor<64x72xf32> -> tensor<5x64x16x1xf32>
// CHECK:         %[[F:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<7x5x6x16xf32>)
// CHECK:         %[[M:.+]] = linalg.mmt4d ins(%[[PA]], %[[PB]] : tensor<7x64x6x1xf32>, tensor<5x64x16x1xf32>) outs(%[[F]] : tensor<7x5x6x16xf32>)
// CHECK:         %[[R0:.+]] = linalg.unpack %[[M]] inner_dims_pos = [0, 1] inner_tiles = [6, 16] into %{{.+}} : tensor<7x5x6x16xf32> -> tensor<40x72xf32>
// CHECK:         %[[CC:.+]] = tensor.collapse_shape %[[C]] {{\[\[}}0, 1], [2]] : tensor<1x20x64xf32> into tensor<20x64xf32>
// CHECK:         %[[CE:.+]] = tensor.collapse_shape %[[E]] {{\[\[}}0, 1], [2]] : tensor<1x20x24xf32> into tensor<20x24xf32>
// CHECK:         %[[PE:.+]] = linalg.pack %[[CE]] padding_value(%{{.+}} : f32) inner_dims_pos = [0, 1] inner_tiles = [6, 16] into %{{.+}} : tensor<20x24xf32> -> tensor<4x2x6x16xf32>
// CHECK:         %[[M1:.+]] = linalg.mmt4d ins(%{{.+}}, %{{.+}} : tensor<4x64x6x1xf32>, tensor<2x64x16x1xf32>) outs(%[[PE]] : tensor<4x2x6x16xf32>)
// CHECK:         %[[U1:.+]] = linalg.unpack %[[M1]] {{.+}} -> tensor<20x24xf32>
// CHECK:         %[[R1:.+]] = tensor.expand_shape %[[U1]] {{\[\[}}0, 1], [2]] output_shape [1, 20, 24]
// CHECK:         %[[PF:.+]] = linalg.pack %[[FA:.+]] padding_value(%{{.+}} : f32) inner_dims_pos = [1, 2] inner_tiles = [6, 1] into %{{.+}} : tensor<2x8x16xf32> -> tensor<2x2x16x6x1xf32>
// CHECK:         %[[PG:.+]] = linalg.pack %[[GA:.+]] padding_value(%{{.+}} : f32) outer_dims_perm = [0, 2, 1] inner_dims_pos = [2, 1] inner_tiles = [16, 1] into %{{.+}} : tensor<2x16x8xf32> -> tensor<2x1x16x16x1xf32>
// CHECK:         %[[FB:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<2x2x1x6x16xf32>)
// CHECK:         %[[MB:.+]] = linalg.batch_mmt4d ins(%[[PF]], %[[PG]] : tensor<2x2x16x6x1xf32>, tensor<2x1x16x16x1xf32>) outs(%[[FB]] : tensor<2x2x1x6x16xf32>)
// CHECK:         %[[R2:.+]] = linalg.unpack %[[MB]] inner_dims_pos = [1, 2] inner_tiles = [6, 16] into %{{.+}} : tensor<2x2x1x6x16xf32> -> tensor<2x8x8xf32>
// CHECK-NOT:     linalg.batch_matmul
// CHECK-NOT:     linalg.matmul
// CHECK:         return %[[R0]], %[[R1]], %[[R2]]
func.func @main(%a: tensor<40x64xf32>, %b: tensor<64x72xf32>, %c: tensor<1x20x64xf32>, %d: tensor<1x64x24xf32>,
                %e: tensor<1x20x24xf32>, %f: tensor<2x8x16xf32>, %g: tensor<2x16x8xf32>)
    -> (tensor<40x72xf32>, tensor<1x20x24xf32>, tensor<2x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %0 = tensor.empty() : tensor<40x72xf32>
  %1 = linalg.fill ins(%zero : f32) outs(%0 : tensor<40x72xf32>) -> tensor<40x72xf32>
  %2 = linalg.matmul ins(%a, %b : tensor<40x64xf32>, tensor<64x72xf32>) outs(%1 : tensor<40x72xf32>) -> tensor<40x72xf32>
  %3 = linalg.batch_matmul ins(%c, %d : tensor<1x20x64xf32>, tensor<1x64x24xf32>) outs(%e : tensor<1x20x24xf32>) -> tensor<1x20x24xf32>
  %4 = tensor.empty() : tensor<2x8x8xf32>
  %5 = linalg.fill ins(%zero : f32) outs(%4 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  %6 = linalg.batch_matmul ins(%f, %g : tensor<2x8x16xf32>, tensor<2x16x8xf32>) outs(%5 : tensor<2x8x8xf32>) -> tensor<2x8x8xf32>
  return %2, %3, %6 : tensor<40x72xf32>, tensor<1x20x24xf32>, tensor<2x8x8xf32>
}
