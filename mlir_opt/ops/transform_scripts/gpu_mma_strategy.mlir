  // GPU script-form schedule for $key (CUDA, f16 x f16 -> f32 on mma.sync m16n8k16): IREE runs this
  // strategy instead of its pipeline. Workgroup tile $wg_tiles, reduction step $red_tiles staged through
  // shared memory (16-byte copies over all threads), warp tiles $warp_tiles; the accumulators are carried
  // across the reduction loop in registers (one vector<16x8xf32> per mma.sync tile).
  transform.named_sequence @$name(%root: !transform.any_op {transform.readonly}) {
    %op = transform.collect_matching @$matcher in %root : (!transform.any_op) -> !transform.any_op
    %fill = transform.structured.match ops{["linalg.fill"]} in %root : (!transform.any_op) -> !transform.any_op
    // workgroup tiles -> scf.forall mapped to IREE workgroups; the fill fused into it
    %tiled, %forall = transform.structured.tile_using_forall %op tile_sizes $wg_tiles
        (mapping = $wg_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.iree.populate_workgroup_count_region_using_num_threads_slice %forall : (!transform.any_op) -> ()
    %ffill, %forall2 = transform.structured.fuse_into_containing_op %fill into %forall
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    // reduction loop; both operand slices staged: a nofold pad becomes alloc_tensor + linalg.copy
    %tk, %kloop = transform.structured.tile_using_for %tiled tile_sizes $red_tiles
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %padded, %pad, %copy_back = transform.structured.pad %tk <{padding_values = [0.0 : f16, 0.0 : f16, 0.0 : f32],
        padding_dimensions = $pad_dims, nofold_flags = [1, 1, 0], copy_back_op = "none"}>
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %pad_a = transform.get_producer_of_operand %padded[0] : (!transform.any_op) -> !transform.any_op
    %pad_b = transform.get_producer_of_operand %padded[1] : (!transform.any_op) -> !transform.any_op
    %copy_a = transform.structured.rewrite_in_destination_passing_style %pad_a : (!transform.any_op) -> !transform.any_op
    %copy_b = transform.structured.rewrite_in_destination_passing_style %pad_b : (!transform.any_op) -> !transform.any_op
    // the copies over all threads (8 halves = 16 bytes along the contiguous dim), the product and the
    // fill over a grid of warps
    %fa, %ta = transform.structured.tile_using_forall %copy_a num_threads $a_threads
        (mapping = $lin_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %fb, %tb = transform.structured.tile_using_forall %copy_b num_threads $b_threads
        (mapping = $lin_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %tm, %fm = transform.structured.tile_using_forall %padded tile_sizes $warp_tiles
        (mapping = $warp_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %tf, %ff = transform.structured.tile_using_forall %ffill tile_sizes $warp_tiles
        (mapping = $warp_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %func = transform.structured.match ops{["func.func"]} in %root : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %func {
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.scf.for_loop_canonicalization
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %func : !transform.any_op
    // vectorize; fold the f16 -> f32 extensions into the contraction (else it lowers to f32 FMAs)
    %vfunc = transform.structured.vectorize_children_and_apply_patterns %func : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %vfunc {
      transform.apply_patterns.vector.fold_arith_extension
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %vfunc : !transform.any_op
    // bufferize (allocations go to workgroup memory), map foralls to blocks, warps and threads
    transform.iree.eliminate_empty_tensors %root : (!transform.any_op) -> ()
    %mfunc = transform.iree.bufferize <{target_gpu}> %vfunc : (!transform.any_op) -> (!transform.any_op)
    transform.iree.forall_to_workgroup %mfunc : (!transform.any_op) -> ()
    transform.iree.map_nested_forall_to_gpu_threads %mfunc workgroup_dims = $wg_dims subgroup_size = 32
        : (!transform.any_op) -> ()
    // one staging group per reduction step: the barrier the thread mapping puts between the A and B
    // copies (which write disjoint buffers) goes, replaced by a dead op (there is no erase op); the
    // loop keeps the barrier after the copies and the one after the products
    %kfor0 = transform.structured.match ops{["scf.for"]} in %mfunc : (!transform.any_op) -> !transform.any_op
    %kbars = transform.structured.match ops{["gpu.barrier"]} in %kfor0 : (!transform.any_op) -> !transform.any_op
    %bar_ab, %bar_bc, %bar_cd = transform.split_handle %kbars : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %nobar = transform.structured.replace %bar_ab {
      arith.constant 0 : index
    } : (!transform.any_op) -> !transform.any_op
    transform.iree.hoist_static_alloc %mfunc : (!transform.any_op) -> ()
$bank_op    // the pass form of canonicalize also erases bufferization's self-copies (they touch the accumulator)
    %cfunc = transform.apply_registered_pass "canonicalize" to %mfunc : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %cfunc {
      transform.apply_patterns.memref.fold_memref_alias_ops
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %cfunc : !transform.any_op
    transform.iree.apply_licm %cfunc : !transform.any_op
    transform.apply_cse to %cfunc : !transform.any_op
    // accumulators out of the reduction loop while each warp's is one 2-D vector transfer pair (hoisting
    // after the unrolling hoists none of the 16x8 pairs: seen in the IR, with loop-invariant indices on
    // the output binding); the initial read is then forwarded from the fill's zero write
    %hfunc = transform.structured.hoist_redundant_vector_transfers %cfunc : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %hfunc {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %hfunc : !transform.any_op
    %ffunc = transform.apply_registered_pass "iree-codegen-optimize-vector-transfer" to %hfunc : (!transform.any_op) -> !transform.any_op
    // unroll to the m16n8k16 shape; the loop-carried accumulator becomes one iter_arg per tile
    transform.apply_patterns to %ffunc {
      transform.apply_patterns.iree.prepare_vector_to_mma
    } : !transform.any_op
    transform.apply_patterns to %ffunc {
      transform.apply_patterns.iree.unroll_vectors_gpu_mma_sync
    } : !transform.any_op
    %ufunc = transform.apply_registered_pass "iree-codegen-hoist-vector-extract-insert-slice" to %ffunc : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %ufunc {
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %ufunc : !transform.any_op
    transform.iree.vector.vector_to_mma_conversion %ufunc <{use_mma_sync}> : (!transform.any_op) -> ()
    transform.apply_patterns to %ufunc {
      transform.apply_patterns.memref.fold_memref_alias_ops
      transform.apply_patterns.canonicalization
    } : !transform.any_op
    transform.apply_cse to %ufunc : !transform.any_op
    %bfunc = transform.iree.eliminate_gpu_barriers %ufunc : (!transform.any_op) -> !transform.any_op
$pipeline_op    %none = transform.param.constant #iree_codegen.translation_info<pipeline = #iree_codegen.no_pipeline workgroup_size = $wg_dims subgroup_size = 32> -> !transform.any_param
    transform.annotate %bfunc "translation_info" = %none : !transform.any_op, !transform.any_param
    transform.yield
  }
  transform.named_sequence @$setter(%op: !transform.any_op {transform.readonly}) {
    %func = transform.get_parent_op %op <{op_name = "func.func"}> : (!transform.any_op) -> !transform.any_op
    %ti = transform.param.constant #iree_codegen.translation_info<pipeline = #iree_codegen.transform_dialect_codegen codegen_spec = @$name workgroup_size = $wg_dims subgroup_size = 32> -> !transform.any_param
    transform.annotate %func "translation_info" = %ti : !transform.any_op, !transform.any_param
    transform.yield
  }
