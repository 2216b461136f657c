// mlir_opt transform-script template: the loop transformations of one 2-D convolution
// (IREE's generalized conv, batch dim restored). Filled by mlir_opt.ops.transform_script.
// Register tiles over the output (OH tile 1), reduction tiles KH = KW = 1 and an IC tile, then
// decomposition of the 2-D window into 1-D convolutions (vectorizable).
  transform.named_sequence @$name(%op: !transform.any_op {transform.consumed}) {
    %t1, %loops:$n_par = transform.structured.tile_using_for %op tile_sizes $vec_tiles interchange = $interchange
      : (!transform.any_op) -> (!transform.any_op$par_handles)
    %t2, %rloops:3 = transform.structured.tile_using_for %t1 tile_sizes $red_tiles
      : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op, !transform.any_op)
    %conv1d = transform.structured.decompose %t2 : (!transform.any_op) -> !transform.any_op
    transform.yield
  }
