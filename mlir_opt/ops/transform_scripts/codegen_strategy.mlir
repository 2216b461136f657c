  // Script-form schedule for $key: IREE runs this strategy on the dispatch (whole codegen).
  transform.named_sequence @$name(%root: !transform.any_op {transform.readonly}) {
    %op = transform.collect_matching @$matcher in %root : (!transform.any_op) -> !transform.any_op
    // workgroup tiles -> scf.forall mapped to IREE workgroups
    %tiled, %forall = transform.structured.tile_using_forall %op tile_sizes $wg_tiles
        (mapping = $wg_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.iree.populate_workgroup_count_region_using_num_threads_slice %forall : (!transform.any_op) -> ()
    %fill = transform.structured.match ops{["linalg.fill"]} in %root : (!transform.any_op) -> !transform.any_op
    %ffill, %forall2 = transform.structured.fuse_into_containing_op %fill into %forall
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.include @$schedule failures(propagate) (%tiled) : (!transform.any_op) -> ()
    // vectorize, bufferize, distribute, lower vectors for LLVM
    %func = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
$vectorize    transform.apply_patterns to %vfunc {
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.scf.for_loop_canonicalization
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %vfunc : !transform.any_op
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
