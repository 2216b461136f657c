  // GPU script-form schedule for $key (CUDA, SIMT): IREE runs this strategy instead of its pipeline.
  // Workgroup tile $wg_tiles, reduction step $red_tiles staged through shared memory (nofold pads
  // rewritten to copies, each distributed over the workgroup's threads), a register tile
  // $th_tiles per thread with the accumulators kept in registers across the reduction loop.
  transform.named_sequence @$name(%root: !transform.any_op {transform.readonly}) {
    %op = transform.collect_matching @$matcher in %root : (!transform.any_op) -> !transform.any_op
    %fill = transform.structured.match ops{["linalg.fill"]} in %root : (!transform.any_op) -> !transform.any_op
$wg_tiling    // reduction loop; both operand slices staged: a nofold pad becomes alloc_tensor + linalg.copy
    %tk, %kloop = transform.structured.tile_using_for %tiled tile_sizes $red_tiles
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %padded, %pad, %copy_back = transform.structured.pad %tk <{padding_values = [0.0 : f32, 0.0 : f32, 0.0 : f32],
        padding_dimensions = $pad_dims, nofold_flags = [1, 1, 0], copy_back_op = "none"}>
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %pad_a = transform.get_producer_of_operand %padded[0] : (!transform.any_op) -> !transform.any_op
    %pad_b = transform.get_producer_of_operand %padded[1] : (!transform.any_op) -> !transform.any_op
    %copy_a = transform.structured.rewrite_in_destination_passing_style %pad_a : (!transform.any_op) -> !transform.any_op
    %copy_b = transform.structured.rewrite_in_destination_passing_style %pad_b : (!transform.any_op) -> !transform.any_op
    // the copies spread over all threads (vectors along the contiguous dim), the product and the
    // fill over a thread grid of register tiles
    %fa, %ta = transform.structured.tile_using_forall %copy_a num_threads $a_threads
        (mapping = $lin_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %fb, %tb = transform.structured.tile_using_forall %copy_b num_threads $b_threads
        (mapping = $lin_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
$thread_tiling$epilogue_threads    %func = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %func {
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.scf.for_loop_canonicalization
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %func : !transform.any_op
    // vectorize, bufferize (allocations go to workgroup memory), map foralls to blocks and threads
    %vfunc = transform.structured.vectorize_children_and_apply_patterns %func : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %vfunc {
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.scf.for_loop_canonicalization
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %vfunc : !transform.any_op
    transform.iree.eliminate_empty_tensors %root : (!transform.any_op) -> ()
    %mfunc = transform.iree.bufferize <{target_gpu}> %vfunc : (!transform.any_op) -> (!transform.any_op)
    transform.iree.forall_to_workgroup %mfunc : (!transform.any_op) -> ()
    transform.iree.map_nested_forall_to_gpu_threads %mfunc workgroup_dims = $wg_dims subgroup_size = 32
        : (!transform.any_op) -> ()
    transform.apply_patterns to %mfunc {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
$group_op    transform.iree.apply_licm %mfunc : !transform.any_op
    transform.apply_cse to %mfunc : !transform.any_op
    // the pass form of canonicalize also erases bufferization's self-copies
$dead_copy_op    %cfunc = transform.apply_registered_pass "canonicalize" to $canon_in : (!transform.any_op) -> !transform.any_op
    transform.iree.hoist_static_alloc %cfunc : (!transform.any_op) -> ()
$bank_op    transform.apply_patterns to %cfunc {
      transform.apply_patterns.memref.fold_memref_alias_ops
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %cfunc : !transform.any_op
    // accumulators out of the reduction loop (registers)
    %hfunc = transform.structured.hoist_redundant_vector_transfers %cfunc : (!transform.any_op) -> !transform.any_op
    // barriers that order no conflicting memory accesses are dropped (before and after pipelining)
    %bfunc = transform.iree.eliminate_gpu_barriers %hfunc : (!transform.any_op) -> !transform.any_op
$prefetch_op    %efunc = transform.iree.eliminate_gpu_barriers %bfunc : (!transform.any_op) -> !transform.any_op
    %none = transform.param.constant #iree_codegen.translation_info<pipeline = #iree_codegen.no_pipeline workgroup_size = $wg_dims subgroup_size = 32> -> !transform.any_param
    transform.annotate %efunc "translation_info" = %none : !transform.any_op, !transform.any_param
$occupancy_op    transform.yield
  }
  transform.named_sequence @$setter(%op: !transform.any_op {transform.readonly}) {
    %func = transform.get_parent_op %op <{op_name = "func.func"}> : (!transform.any_op) -> !transform.any_op
    %ti = transform.param.constant #iree_codegen.translation_info<pipeline = #iree_codegen.transform_dialect_codegen codegen_spec = @$name workgroup_size = $wg_dims subgroup_size = 32> -> !transform.any_param
    transform.annotate %func "translation_info" = %ti : !transform.any_op, !transform.any_param
    transform.yield
  }
