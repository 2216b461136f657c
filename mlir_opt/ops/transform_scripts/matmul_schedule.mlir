// mlir_opt transform-script template: the loop transformations of one matmul-like op.
// Filled by mlir_opt.ops.transform_script (filled with string.Template).
// Input: a handle to the op (inside its workgroup tile). Upstream transform ops only, so the
// sequence also runs under plain `iree-opt --transform-interpreter` (see tests/lit/ops).
  transform.named_sequence @$name(%op: !transform.any_op {transform.consumed}) {
$cache_op    // register tiles (parallel dims), in the chosen loop order
    %t1, %loops:$n_par = transform.structured.tile_using_for $reg_in tile_sizes $vec_tiles interchange = $interchange
      : (!transform.any_op) -> (!transform.any_op$par_handles)
    // reduction tile, unrolled by $unroll
    %t2, %kloop = transform.structured.tile_using_for %t1 tile_sizes $red_tiles
      : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
$unroll_op$pad_op    transform.yield
  }
