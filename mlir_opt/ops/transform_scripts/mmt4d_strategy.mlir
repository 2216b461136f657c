  // mmt4d_script schedule for $key: $form
  // (transform_script.packed_module / packing.pack_contractions); IREE runs this strategy on the
  // $op_name dispatches of exactly these operand types (others keep IREE's default).
  transform.named_sequence @$matcher(%op: !transform.any_op {transform.readonly}) -> !transform.any_op {
    transform.match.operation_name %op ["$op_name"] : !transform.any_op
    %lhs = transform.get_operand %op[0] : (!transform.any_op) -> !transform.any_value
    transform.iree.match.cast_compatible_type %lhs = $lhs_type : !transform.any_value
    %rhs = transform.get_operand %op[1] : (!transform.any_op) -> !transform.any_value
    transform.iree.match.cast_compatible_type %rhs = $rhs_type : !transform.any_value
    %acc = transform.get_operand %op[2] : (!transform.any_op) -> !transform.any_value
    transform.iree.match.cast_compatible_type %acc = $acc_type : !transform.any_value
    transform.yield %op : !transform.any_op
  }
  transform.named_sequence @$schedule(%op: !transform.any_op {transform.consumed}) {
$cache_op    // one m0 x n0 register tile per ($outer), loop order $interchange
    %t1, %loops:$nloops = transform.structured.tile_using_for $reg_in tile_sizes $reg_tiles interchange = $interchange
      : (!transform.any_op) -> (!transform.any_op$loop_types)
    // drop the unit dims ($unit_dims): the tile becomes C[m0, n0] += A[m0, k] * B[k, n0], an outer
    // product per k step that vectorizes to broadcasts of A + FMAs on contiguous packed rows of B
    %g = transform.structured.generalize %t1 : (!transform.any_op) -> !transform.any_op
    %f = transform.get_parent_op %g <{op_name = "func.func"}> : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %f {
      transform.apply_patterns.linalg.fold_unit_extent_dims_via_reshapes
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    %gs = transform.structured.match ops{["linalg.generic"]} in %f : (!transform.any_op) -> !transform.any_op
    %t2, %kloop = transform.structured.tile_using_for %gs tile_sizes $k_tiles
      : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
$unroll_op    transform.yield
  }
  transform.named_sequence @$name(%root: !transform.any_op {transform.readonly}) {
    %op = transform.collect_matching @$matcher in %root : (!transform.any_op) -> !transform.any_op
    // workgroup tiles over ($outer) -> scf.forall mapped to IREE workgroups
    %tiled, %forall = transform.structured.tile_using_forall %op tile_sizes $wg_tiles
        (mapping = $mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.iree.populate_workgroup_count_region_using_num_threads_slice %forall : (!transform.any_op) -> ()
    %fill = transform.structured.match ops{["linalg.fill"]} in %root : (!transform.any_op) -> !transform.any_op
    %ffill, %forall2 = transform.structured.fuse_into_containing_op %fill into %forall
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @$schedule failures(propagate) (%tiled) : (!transform.any_op) -> ()
    %func = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    %vfunc = transform.structured.vectorize_children_and_apply_patterns %func : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %vfunc {
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.scf.for_loop_canonicalization
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %vfunc : !transform.any_op
    // accumulators stay in registers across the k1 loop (read before, written after it)
    %allfor = transform.structured.match ops{["scf.for"]} in %vfunc : (!transform.any_op) -> !transform.any_op
    transform.loop.hoist_loop_invariant_subsets %allfor : !transform.any_op
    transform.iree.eliminate_empty_tensors %root : (!transform.any_op) -> ()
    %mfunc = transform.iree.bufferize %vfunc : (!transform.any_op) -> (!transform.any_op)
    transform.iree.forall_to_workgroup %mfunc : (!transform.any_op) -> ()
    transform.apply_patterns to %mfunc {
      transform.apply_patterns.vector.lower_contraction lowering_strategy = "outerproduct"
      transform.apply_patterns.vector.lower_outerproduct
      transform.apply_patterns.vector.transfer_permutation_patterns
      transform.apply_patterns.vector.lower_transfer max_transfer_rank = 1
      transform.apply_patterns.vector.lower_transpose
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %mfunc : !transform.any_op
    %none = transform.param.constant #iree_codegen.translation_info<pipeline = #iree_codegen.no_pipeline> -> !transform.any_param
    transform.annotate %mfunc "translation_info" = %none : !transform.any_op, !transform.any_param
    transform.yield
  }
  transform.named_sequence @$setter(%op: !transform.any_op {transform.readonly}) {
    %func = transform.get_parent_op %op <{op_name = "func.func"}> : (!transform.any_op) -> !transform.any_op
    %ti = transform.param.constant #iree_codegen.translation_info<pipeline = #iree_codegen.transform_dialect_codegen codegen_spec = @$name> -> !transform.any_param
    transform.annotate %func "translation_info" = %ti : !transform.any_op, !transform.any_param
    transform.yield
  }
