"""Probe (superseded by the ``gpu_script_mma`` sketch, mlir_opt/ops/transform_scripts/gpu_mma_strategy.mlir,
which keeps the accumulators in registers and pipelines correctly; docs/gpu.md): the first f16 x f16 -> f32
matmul strategy that IREE 3.13 lowers to mma.sync, kept as the record of that step.

Usage (from the repository root)::

    python benchmarks/gpu_f16_mma_probe.py matmul_128x128x64_f16xf16xf32 OUT_DIR [DEPTH]

writes OUT_DIR/lib.mlir (a transform library in the gpu_script layout: matcher + setter + strategy),
compiles the workload for CUDA sm_80 with it and dumps the PTX to OUT_DIR/bin. Workgroup 128x128,
2x2 warps of 64x64, reduction step 32 staged in shared memory, vector.contract unrolled to 16x8x16
(unroll_vectors_gpu_mma_sync) and converted with vector_to_mma_conversion <{use_mma_sync}>;
DEPTH > 0 adds cp.async multi-buffering (untested). State 2026-11-26: the PTX has
mma.sync.m16n8k16 and ldmatrix, but the accumulators are re-read/written in global memory every
step (not hoisted) and nothing was run on a GPU: see docs/gpu.md.
"""
import sys, pathlib, time
from string import Template
from mlir_opt.backend import compile_module
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.transform_script import _script_matcher, _tpl
key, out = sys.argv[1], pathlib.Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
P = dict(wg_m=128, wg_n=128, red_k=32, warps_m=2, warps_n=2, depth=int(sys.argv[3]) if len(sys.argv) > 3 else 0)
w = Workload.from_key(key)
thr = 32 * P["warps_m"] * P["warps_n"]
# copies: 8 f16 per thread (16 B) along the contiguous dim
a_k = P["red_k"] // 8; a_m = thr // a_k
b_n = P["wg_n"] // 8; b_k = thr // b_n
pipe = ""
if P["depth"]:
    pipe = f"""
    %allocs = transform.structured.match ops{{["memref.alloc"]}} in %mf : (!transform.any_op) -> !transform.op<"memref.alloc">
    %mbuf = transform.memref.multibuffer %allocs <{{factor = {P['depth']} : i64, skip_analysis}}> : (!transform.op<"memref.alloc">) -> !transform.any_op
    transform.apply_patterns to %mf {{
      transform.apply_patterns.vector.transfer_to_scf full_unroll = true
    }} : !transform.any_op
    transform.iree.create_async_groups %mf <{{use_mma_sync}}> : (!transform.any_op) -> ()
    %kfor = transform.structured.match ops{{["scf.for"]}} in %mf : (!transform.any_op) -> !transform.op<"scf.for">
    %pfor = transform.iree.pipeline_shared_memory_copies %kfor <{{depth = {P['depth']} : i64}}> : (!transform.op<"scf.for">) -> !transform.op<"scf.for">
    transform.apply_patterns to %mf {{
      transform.apply_patterns.vector.lower_masks
      transform.apply_patterns.vector.materialize_masks
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
"""
strat = f"""
  transform.named_sequence @mma_strategy(%root: !transform.any_op {{transform.readonly}}) {{
    %op = transform.collect_matching @m0 in %root : (!transform.any_op) -> !transform.any_op
    %fill = transform.structured.match ops{{["linalg.fill"]}} in %root : (!transform.any_op) -> !transform.any_op
    %tiled, %forall = transform.structured.tile_using_forall %op tile_sizes [{P['wg_m']}, {P['wg_n']}]
        (mapping = [#gpu.block<y>, #gpu.block<x>]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.iree.populate_workgroup_count_region_using_num_threads_slice %forall : (!transform.any_op) -> ()
    %ffill, %forall2 = transform.structured.fuse_into_containing_op %fill into %forall
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    %tk, %kloop = transform.structured.tile_using_for %tiled tile_sizes [0, 0, {P['red_k']}]
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %padded, %pad, %copy_back = transform.structured.pad %tk <{{padding_values = [0.0 : f16, 0.0 : f16, 0.0 : f32],
        padding_dimensions = [0, 1, 2], nofold_flags = [1, 1, 0], copy_back_op = "none"}}>
        : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)
    %pad_a = transform.get_producer_of_operand %padded[0] : (!transform.any_op) -> !transform.any_op
    %pad_b = transform.get_producer_of_operand %padded[1] : (!transform.any_op) -> !transform.any_op
    %copy_a = transform.structured.rewrite_in_destination_passing_style %pad_a : (!transform.any_op) -> !transform.any_op
    %copy_b = transform.structured.rewrite_in_destination_passing_style %pad_b : (!transform.any_op) -> !transform.any_op
    %fa, %ta = transform.structured.tile_using_forall %copy_a num_threads [{a_m}, {a_k}]
        (mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %fb, %tb = transform.structured.tile_using_forall %copy_b num_threads [{b_k}, {b_n}]
        (mapping = [#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %tm, %fm = transform.structured.tile_using_forall %padded tile_sizes [{P['wg_m']//P['warps_m']}, {P['wg_n']//P['warps_n']}]
        (mapping = [#gpu.warp<y>, #gpu.warp<x>]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %tf, %ff = transform.structured.tile_using_forall %ffill tile_sizes [{P['wg_m']//P['warps_m']}, {P['wg_n']//P['warps_n']}]
        (mapping = [#gpu.warp<y>, #gpu.warp<x>]) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    %func = transform.structured.match ops{{["func.func"]}} in %root : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %func {{
      transform.apply_patterns.linalg.tiling_canonicalization
      transform.apply_patterns.scf.for_loop_canonicalization
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
    transform.apply_cse to %func : !transform.any_op
    %vfunc = transform.structured.vectorize_children_and_apply_patterns %func : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %vfunc {{
      transform.apply_patterns.vector.fold_arith_extension
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
    transform.apply_cse to %vfunc : !transform.any_op
    transform.iree.eliminate_empty_tensors %root : (!transform.any_op) -> ()
    %mfunc = transform.iree.bufferize <{{target_gpu}}> %vfunc : (!transform.any_op) -> (!transform.any_op)
    transform.iree.forall_to_workgroup %mfunc : (!transform.any_op) -> ()
    transform.iree.map_nested_forall_to_gpu_threads %mfunc workgroup_dims = [{32 * P['warps_n']}, {P['warps_m']}, 1] subgroup_size = 32
        : (!transform.any_op) -> ()
    transform.iree.hoist_static_alloc %mfunc : (!transform.any_op) -> ()
    %cf = transform.apply_registered_pass "canonicalize" to %mfunc : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %cf {{
      transform.apply_patterns.memref.fold_memref_alias_ops
    }} : !transform.any_op
    transform.apply_patterns to %cf {{
      transform.apply_patterns.memref.extract_address_computations
    }} : !transform.any_op
    transform.apply_patterns to %cf {{
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
    transform.apply_cse to %cf : !transform.any_op
    transform.apply_patterns to %cf {{
      transform.apply_patterns.iree.prepare_vector_to_mma
    }} : !transform.any_op
    transform.apply_patterns to %cf {{
      transform.apply_patterns.iree.unroll_vectors_gpu_mma_sync
    }} : !transform.any_op
    %hf = transform.structured.hoist_redundant_vector_transfers %cf : (!transform.any_op) -> !transform.any_op
    transform.apply_patterns to %hf {{
      transform.apply_patterns.canonicalization
    }} : !transform.any_op
    transform.apply_cse to %hf : !transform.any_op
    transform.iree.vector.vector_to_mma_conversion %hf <{{use_mma_sync}}> : (!transform.any_op) -> ()
    transform.apply_patterns to %hf {{
      transform.apply_patterns.memref.fold_memref_alias_ops
    }} : !transform.any_op
    %mf = transform.iree.eliminate_gpu_barriers %hf : (!transform.any_op) -> !transform.any_op
{pipe}
    %none = transform.param.constant #iree_codegen.translation_info<pipeline = #iree_codegen.no_pipeline workgroup_size = [{32 * P['warps_n']}, {P['warps_m']}, 1] subgroup_size = 32> -> !transform.any_param
    transform.annotate %mf "translation_info" = %none : !transform.any_op, !transform.any_param
    transform.yield
  }}
  transform.named_sequence @set_mma(%op: !transform.any_op {{transform.readonly}}) {{
    %func = transform.get_parent_op %op <{{op_name = "func.func"}}> : (!transform.any_op) -> !transform.any_op
    %ti = transform.param.constant #iree_codegen.translation_info<pipeline = #iree_codegen.transform_dialect_codegen codegen_spec = @mma_strategy workgroup_size = [{32 * P['warps_n']}, {P['warps_m']}, 1] subgroup_size = 32> -> !transform.any_param
    transform.annotate %func "translation_info" = %ti : !transform.any_op, !transform.any_param
    transform.yield
  }}
"""
lib = _tpl("codegen_library.mlir").substitute(entries=_script_matcher("m0", w, gpu=True) + strat, pairs="@m0 -> @set_mma")
(out / "lib.mlir").write_text(lib)
t = time.time()
res = compile_module(w.single_op_module(), "cuda", output=out / "m.vmfb",
    flags=[f"--iree-codegen-transform-dialect-library={out / 'lib.mlir'}", f"--iree-hal-dump-executable-binaries-to={out / 'bin'}"])
print("ok", res.ok, res.error and res.error[-4000:], time.time() - t)
