"""Script-form schedules: transform-dialect scripts that IREE executes for a dispatch.

A ``transform_script`` schedule renders to a transform library (templates in
``transform_scripts/``) passed to ``iree-compile --iree-codegen-transform-dialect-library=lib.mlir``:

* ``@__kernel_config`` (run by IREE per dispatch function before its own strategy selection) matches
  the workload's root op and sets the function's ``translation_info`` to
  ``#iree_codegen.transform_dialect_codegen codegen_spec = @strategy_i``;
* ``@strategy_i`` (run by IREE's ``LowerExecutableUsingTransformDialectPass`` instead of a CPU
  pipeline) tiles the op to workgroups (``scf.forall``), applies the schedule's loop
  transformations (``@schedule_i``: register tiles in the chosen loop order, a reduction tile,
  unrolling), vectorizes, bufferizes, maps the forall to workgroups and lowers vector ops;
* config-form schedules (``compilation_info``) can share the same library: their matchers annotate
  the op as a tuning spec would (the library flag replaces ``--iree-codegen-tuning-spec-path``).

``@schedule_i`` uses upstream transform ops only, so it also runs under plain
``iree-opt --transform-interpreter`` (the FileCheck test in tests/lit/ops does that).

``mmt4d_script`` schedules (CPU, f32 ``linalg.matmul`` / ``batch_matmul``; a batch > 1 becomes a
``linalg.batch_mmt4d``, one slice per workgroup z) render the matmul as pack + ``linalg.mmt4d``
+ unpack (:func:`packed_module`, the payload the evaluator compiles) and ``@mmt4d_strategy_i`` from
``transform_scripts/mmt4d_strategy.mlir`` for the mmt4d dispatch: workgroup tiles over (M1, N1),
optional K blocking, one m0 x n0 register tile per (m1, n1), unit dims folded so the tile is an outer
product per k step (broadcast + FMA), accumulators hoisted out of the k loop.

``gpu_script`` schedules (CUDA, f32 contractions) render ``@gpu_strategy_i`` from
``transform_scripts/gpu_matmul_strategy.mlir``: workgroup tiles, operands staged in shared memory
(nofold pads rewritten to copies spread over the threads), register tiles per thread with the
accumulators hoisted into registers, and optionally a pipelined reduction loop (IREE's register
prefetch transform, or cp.async into rotating buffers). See docs/gpu.md.
"""

from __future__ import annotations

from pathlib import Path
from string import Template
from typing import Iterable

from .dispatches import ConvWorkload, Workload

__all__ = ["TEMPLATES", "SCRIPT_SKETCHES", "render_schedule_sequence", "render_transform_library", "packed_module",
           "smem_optin_module", "smem_optin_flag", "payload_module", "SM80_DEVICE_TARGET",
           "packed_types", "packb_generic", "packb_reason", "PACKB_MAPS",
           "interpreter_module", "script_supported", "gpu_script_layout", "gpu_mma_layout"]

#: Sketches rendered as transform-dialect strategies (passed with --iree-codegen-transform-dialect-library).
SCRIPT_SKETCHES = ("transform_script", "gpu_script", "gpu_script_mma", "mmt4d_script")

#: The template directory (installed with the package).
TEMPLATES = Path(__file__).parent / "transform_scripts"


def _tpl(name: str) -> Template:
    return Template((TEMPLATES / name).read_text())


def _fmt(xs) -> str:
    return "[" + ", ".join(map(str, xs)) + "]"


#: Vectorization of the dispatch function (``%func`` -> ``%vfunc``): every op, with upstream's pattern set.
VECTORIZE_CHILDREN = ("    %vfunc = transform.structured.vectorize_children_and_apply_patterns %func"
                      " : (!transform.any_op) -> !transform.any_op\n")
#: For NCHW convs: vectorize only the linalg ops, then fold the slices into the transfers.
#: ``vectorize_children_and_apply_patterns`` also vectorizes the rank-reducing ``tensor.insert_slice``
#: that ``structured.decompose`` leaves around each 1-D NCW conv (``tensor<1xFx OW>`` into
#: ``tensor<1xFx1xOW>``, dropping OH, dim 2); upstream ``vectorizeAsInsertSliceOp`` writes the
#: vector with a minor-identity map, i.e. as if the dropped dim were leading, so F lands on OH (a
#: ``transfer_write ... {in_bounds = [true, false, true]} : vector<1x4x2xf32>, tensor<1x4x1x2xf32>``)
#: and the result is wrong. NHWC only works by luck (the dropped OH follows the unit N).
#: ``fold_tensor_subset_ops_into_vector_transfers`` folds the slice with the right map
#: (``(d0, d1, d2, d3) -> (d0, d1, d3)``). See docs/op-level.md.
VECTORIZE_OPS = (
    "    %lops = transform.structured.match interface{LinalgOp} in %func : (!transform.any_op) -> !transform.any_op\n"
    "    transform.structured.vectorize %lops : !transform.any_op\n"
    "    %vfunc = transform.structured.match ops{[\"func.func\"]} in %root : (!transform.any_op) -> !transform.any_op\n"
    "    transform.apply_patterns to %vfunc {\n"
    "      transform.apply_patterns.tensor.fold_tensor_subset_ops_into_vector_transfers\n"
    "      transform.apply_patterns.canonicalization\n"
    "    } : !transform.any_op\n")


def _vectorize(w: Workload) -> str:
    """The vectorization step for ``w``'s script (:data:`VECTORIZE_OPS` for NCHW convs)."""
    return VECTORIZE_OPS if isinstance(w, ConvWorkload) and w.layout == "nchw_fchw" else VECTORIZE_CHILDREN


def script_supported(w: Workload) -> str | None:
    """None if IREE 3.13 executes the script form for ``w``'s op, else why not (as data)."""
    from .space import SCRIPT_UNSUPPORTED

    if w.kind in SCRIPT_UNSUPPORTED:
        return SCRIPT_UNSUPPORTED[w.kind]
    if isinstance(w, ConvWorkload):
        if w.dilations != (1, 1):
            return "the conv script template is for dilation 1"
    elif w.kind not in ("matmul", "batch_matmul", "matmul_like"):
        return f"no transform script template for {w.op}"
    if set(w.types) != {"f32"}:
        return "the script template is for f32 (f32 accumulation, outer-product lowering)"
    return None


def _conv_loops(w: ConvWorkload, d: dict) -> tuple[list, list, list, list]:
    """(workgroup tiles, vector tiles, reduction tiles, interchange) over IREE's conv loops."""
    if w.layout == "nhwc_hwcf":  # N, OH, OW, OC, KH, KW, IC
        wg = [0, d["wg_oh"], d["wg_ow"], d["wg_oc"]]
        vec = [1, 1, d["vec_ow"], d["vec_oc"], 0, 0, 0]
        red = [0, 0, 0, 0, 1, 1, d["vec_ic"]]
        inter = [0, 1, 3, 2, 4, 5, 6] if d["order"] else list(range(7))
    else:  # N, OC, OH, OW, IC, KH, KW
        wg = [0, d["wg_oc"], d["wg_oh"], d["wg_ow"]]
        vec = [1, d["vec_oc"], 1, d["vec_ow"], 0, 0, 0]
        red = [0, 0, 0, 0, d["vec_ic"], 1, 1]
        inter = [0, 3, 2, 1, 4, 5, 6] if d["order"] else list(range(7))
    return wg, vec, red, inter


def render_schedule_sequence(w: Workload, d: dict, name: str = "schedule") -> str:
    """``@name(%op)``: register tiles (loop order ``order``), reduction tile, unroll, for one op."""
    if isinstance(w, ConvWorkload):
        _, vec, red, inter = _conv_loops(w, d)
        return _tpl("conv_schedule.mlir").substitute(
            name=name, n_par=4, vec_tiles=_fmt(vec), interchange=_fmt(inter), par_handles=", !transform.any_op" * 4,
            red_tiles=_fmt(red))
    batch = "B" in w.extents
    b0 = [0] if batch else []
    perm = [1, 0, 2] if d["order"] else [0, 1, 2]
    interchange = ([0] + [p + 1 for p in perm]) if batch else perm
    unroll = (f"    transform.loop.unroll %kloop factor = {d['unroll']} : !transform.any_op\n"
              if d["unroll"] > 1 else "")
    cache = (f"    // cache-level reduction tile (K blocking: A/B panels of cache_k stay in L1/L2), outermost\n"
             "    %tc, %kcloop = transform.structured.tile_using_for %op tile_sizes "
             f"{_fmt(b0 + [0, 0, d['cache_k']])}\n"
             f"      : (!transform.any_op) -> (!transform.any_op, !transform.any_op)\n"
             if d.get("cache_k") else "")
    return _tpl("matmul_schedule.mlir").substitute(
        name=name, n_par=2, vec_tiles=_fmt(b0 + [d["vec_m"], d["vec_n"], 0]), interchange=_fmt(interchange),
        par_handles=", !transform.any_op" * 2, red_tiles=_fmt(b0 + [0, 0, d["vec_k"]]),
        unroll=d["unroll"], unroll_op=unroll, pad_op="", cache_op=cache, reg_in="%tc" if cache else "%op")


#: The op a dispatch's contraction result feeds, per epilogue kind (:func:`.dispatches.epilogue_kind`): a
#: matcher with ``consumer`` set fires only in dispatches of that form. ``none`` has no check (at kernel
#: configuration IREE may have folded a unit batch, so the result reaches the store through a reshape): its
#: entry comes after the ``elementwise`` one, and a model gets script forms only for keys whose dispatches are
#: all ``none`` or ``elementwise`` (cli ``bundle-model``).
CONSUMER_OP = {"elementwise": "linalg.generic"}


def _script_matcher(name: str, w: Workload, gpu: bool = False, consumer: str | None = None) -> str:
    lhs, rhs, out = w.types
    batch, m, n, k = map(_fmt, w.contraction_dims)
    # GPU targets generalize named contractions before configuration: no op-name check there
    name_check = "" if gpu else f'    transform.match.operation_name %op ["{w.op}"] : !transform.any_op\n'
    return f"""  transform.named_sequence @{name}(%op: !transform.any_op {{transform.readonly}}) -> !transform.any_op {{
{name_check}    %batch, %m, %n, %k = transform.iree.match.contraction %op, lhs_type = {lhs}, rhs_type = {rhs}, output_type = {out} : !transform.any_op -> !transform.param<i64>
    transform.iree.match.dims_equal %batch, {batch} : !transform.param<i64>
    transform.iree.match.dims_equal %m, {m} : !transform.param<i64>
    transform.iree.match.dims_equal %n, {n} : !transform.param<i64>
    transform.iree.match.dims_equal %k, {k} : !transform.param<i64>
{_consumer_check(consumer)}    transform.yield %op : !transform.any_op
  }}
"""


def _consumer_check(kind: str | None) -> str:
    if kind not in CONSUMER_OP:
        return ""
    return ("    %user = transform.match.structured failures(propagate) %op"
            " : (!transform.any_op) -> !transform.any_op {\n"
            "    ^bb0(%s: !transform.any_op):\n"
            "      %u = transform.match.structured.result %s[0] single : (!transform.any_op) -> !transform.any_op\n"
            "      transform.match.structured.yield %u : !transform.any_op\n"
            "    }\n"
            f'    transform.match.operation_name %user ["{CONSUMER_OP[kind]}"] : !transform.any_op\n')


def _conv_script_matchers(name: str, w: ConvWorkload) -> str:
    """Two matchers: ``name`` for @__kernel_config, which sees the conv as IREE formed the dispatch
    (a unit batch folded away: no batch dim), and ``name_any`` for the strategy, which runs after
    IREE restored the batch dim (the dispatch's only conv)."""
    e = w.extents
    x, f, o = w.types
    batch = "[]" if e["N"] == 1 else f"[{e['N']}]"
    head = f"""  transform.named_sequence @{{n}}(%op: !transform.any_op {{{{transform.readonly}}}}) -> !transform.any_op {{{{
    %batch, %out_img, %out_ch, %filt, %in_ch, %depth, %strides, %dilations = transform.iree.match.convolution %op, lhs_type = {x}, rhs_type = {f}, output_type = {o} : !transform.any_op -> !transform.param<i64>
"""
    dims = f"""    transform.iree.match.dims_equal %batch, {batch} : !transform.param<i64>
    transform.iree.match.dims_equal %out_img, [{e['OH']}, {e['OW']}] : !transform.param<i64>
    transform.iree.match.dims_equal %out_ch, [{e['OC']}] : !transform.param<i64>
    transform.iree.match.dims_equal %filt, [{e['KH']}, {e['KW']}] : !transform.param<i64>
    transform.iree.match.dims_equal %in_ch, [{e['IC']}] : !transform.param<i64>
    transform.iree.match.dims_equal %depth, [] : !transform.param<i64>
    transform.iree.match.dims_equal %strides, [{w.strides[0]}, {w.strides[1]}] : !transform.param<i64>
"""
    tail = "    transform.yield %op : !transform.any_op\n  }\n"
    return (head.format(n=name) + dims + tail + head.format(n=name + "_any") + tail)


def _strategy(i: int, w: Workload, d: dict) -> tuple[str, str, str]:
    """(text, matcher name, setter name) of the script entry ``i``."""
    matcher, setter, strat, sched = f"match_script_{i}", f"set_strategy_{i}", f"strategy_{i}", f"schedule_{i}"
    if isinstance(w, ConvWorkload):
        wg = _conv_loops(w, d)[0]
        mapping = "[#gpu.block<z>, #gpu.block<y>, #gpu.block<x>]"
        matchers, inner = _conv_script_matchers(matcher, w), matcher + "_any"
    else:
        batch = "B" in w.extents
        wg = ([1] if batch else []) + [d["wg_m"], d["wg_n"]]
        mapping = "[#gpu.block<z>, #gpu.block<y>, #gpu.block<x>]" if batch else "[#gpu.block<y>, #gpu.block<x>]"
        matchers, inner = _script_matcher(matcher, w), matcher
    text = (matchers + render_schedule_sequence(w, d, sched)
            + _tpl("codegen_strategy.mlir").substitute(key=w.key, name=strat, matcher=inner, wg_tiles=_fmt(wg),
                                                       wg_mapping=mapping, schedule=sched, setter=setter,
                                                       vectorize=_vectorize(w)))
    return text, matcher, setter


def gpu_script_layout(w: Workload, d: dict) -> dict:
    """Thread layout of a ``gpu_script`` schedule: ``threads`` per workgroup, ``workgroup_size``
    ([x along N, y along M, 1]), and the thread grids of the two staging copies (``a_threads`` over
    the [wg_m, red_k] slice of A, ``b_threads`` over the [red_k, wg_n] slice of B; 4-wide vectors
    along the contiguous dim, rows spread over the remaining threads)."""
    threads = (d["wg_m"] // d["th_m"]) * (d["wg_n"] // d["th_n"])
    vec_a = min(4, d["red_k"])
    a_k = d["red_k"] // vec_a
    a_m = min(d["wg_m"], max(1, threads // a_k))
    b_n = min(d["wg_n"] // 4, threads)
    b_k = min(d["red_k"], max(1, threads // b_n))
    return {"threads": threads, "workgroup_size": [d["wg_n"] // d["th_n"], d["wg_m"] // d["th_m"], 1],
            "a_threads": [a_m, a_k], "b_threads": [b_k, b_n]}


def _gpu_tiling_fields(d: dict, lay: dict, b0: list, b1: list, batch: bool, lhs_batch: bool = True) -> dict[str, str]:
    """Template fields both GPU strategies share: workgroup tiles and their block mapping (batch on
    z, ``wg_order`` swaps x/y), the reduction tile, the padded dims and the copy thread layouts
    (``lhs_batch`` False: the LHS has no batch dim, as in ``matmul_like``, so its copy is 2-D)."""
    return {
        "wg_tiles": _fmt(b1 + [d["wg_m"], d["wg_n"]]),
        "wg_mapping": _fmt((["#gpu.block<z>"] if batch else [])
                           + (["#gpu.block<x>", "#gpu.block<y>"] if d.get("wg_order")
                              else ["#gpu.block<y>", "#gpu.block<x>"])),
        "red_tiles": _fmt(b0 + [0, 0, d["red_k"]]),
        "pad_dims": _fmt(list(range(4 if batch else 3))),
        "a_threads": _fmt((b0 if lhs_batch else []) + lay["a_threads"]),
        "b_threads": _fmt(b0 + lay["b_threads"]),
    }


#: Workgroup tiling of a GPU strategy whose dispatch holds the contraction (and its fill) alone.
WG_TILING = """    // workgroup tiles -> scf.forall mapped to IREE workgroups; the fill fused into it
    %tiled, %forall = transform.structured.tile_using_forall %op tile_sizes $wg_tiles
        (mapping = $wg_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.iree.populate_workgroup_count_region_using_num_threads_slice %forall : (!transform.any_op) -> ()
    %ffill, %forall2 = transform.structured.fuse_into_containing_op %fill into %forall
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
"""
#: Workgroup tiling when the dispatch also holds an elementwise consumer of the contraction (a model's bias
#: add, GELU, residual: :func:`.dispatches.epilogue_kind` is ``elementwise``): the consumer is the root,
#: tiled to workgroups, and the contraction and its fill are fused into its forall (the fill then writes the
#: forall's output tile, so the contraction accumulates in place and the consumer reads its own tile).
WG_TILING_EPILOGUE = """    // the dispatch's elementwise consumer of the contraction is the root: its workgroup tiles ->
    // scf.forall, the contraction and its fill fused into it
    %epi = transform.get_consumers_of_result %op[0] : (!transform.any_op) -> !transform.any_op
    %tepi, %forall = transform.structured.tile_using_forall %epi tile_sizes $wg_tiles
        (mapping = $wg_mapping) : (!transform.any_op) -> (!transform.any_op, !transform.any_op)
    transform.iree.populate_workgroup_count_region_using_num_threads_slice %forall : (!transform.any_op) -> ()
    %tiled, %forall1 = transform.structured.fuse_into_containing_op %op into %forall
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
    %ffill, %forall2 = transform.structured.fuse_into_containing_op %fill into %forall1
        : (!transform.any_op, !transform.any_op) -> (!transform.any_op, !transform.any_op)
"""


def _gpu_strategy(i, w: Workload, d: dict, form: str | None = None) -> tuple[str, str, str]:
    """(text, matcher name, setter name) of the GPU script entry ``i`` (``gpu_script`` sketch).

    ``form`` (a model's dispatch, :func:`.dispatches.epilogue_kind`): None, any dispatch whose root matches
    (single-op modules); ``none``, only dispatches where the result goes straight to the output;
    ``elementwise``, only dispatches whose contraction feeds one elementwise consumer, which is then tiled
    with the contraction (its workgroup forall is the root; per thread, the register tile's results)."""
    epilogue = form == "elementwise"
    matcher, setter, strat = f"match_gpu_script_{i}", f"set_gpu_strategy_{i}", f"gpu_strategy_{i}"
    lay = gpu_script_layout(w, d)
    batch = "B" in w.extents
    b1, b0 = ([1], [0]) if batch else ([], [])
    lin = "[#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]"
    prefetch = ("    // software pipelining: next step's global loads issued before this step's products\n"
                "    %kfor = transform.structured.match ops{[\"scf.for\"]} in %bfunc"
                " : (!transform.any_op) -> !transform.op<\"scf.for\">\n"
                "    %pfor = transform.iree.prefetch_shared_memory_copies %kfor"
                " : (!transform.op<\"scf.for\">) -> !transform.op<\"scf.for\">\n"
                "    transform.apply_patterns to %bfunc {\n      transform.apply_patterns.canonicalization\n"
                "    } : !transform.any_op\n"
                "    // that transform marks its stages with an AMDGPU scheduling barrier, which the NVVM path\n"
                "    // cannot lower: a workgroup barrier takes its place (then removed as redundant)\n"
                "    %sched = transform.structured.match ops{[\"amdgpu.sched_barrier\"]} in %bfunc"
                " : (!transform.any_op) -> !transform.any_op\n"
                "    %nosched = transform.structured.replace %sched {\n      gpu.barrier\n"
                "    } : (!transform.any_op) -> !transform.any_op\n" if d.get("prefetch") == 1 else "")
    if d.get("prefetch", 0) >= 2:  # cp.async into prefetch-many shared buffers, loop software-pipelined
        prefetch = (
            "    // multi-buffered staging: cp.async copies (one group per step) issued prefetch-1 steps ahead\n"
            "    transform.apply_patterns to %bfunc {\n"
            "      transform.apply_patterns.vector.transfer_to_scf full_unroll = true\n"
            "      transform.apply_patterns.vector.cast_away_vector_leading_one_dim\n"
            "      transform.apply_patterns.canonicalization\n"
            "    } : !transform.any_op\n"
            "    %allocs = transform.structured.match ops{[\"memref.alloc\"]} in %bfunc"
            " : (!transform.any_op) -> !transform.op<\"memref.alloc\">\n"
            f"    %mbuf = transform.memref.multibuffer %allocs <{{factor = {d['prefetch']} : i64, skip_analysis}}>"
            " : (!transform.op<\"memref.alloc\">) -> !transform.any_op\n"
            "    transform.iree.create_async_groups %bfunc : (!transform.any_op) -> ()\n"
            "    %kfor = transform.structured.match ops{[\"scf.for\"]} in %bfunc"
            " : (!transform.any_op) -> !transform.op<\"scf.for\">\n"
            f"    %pfor = transform.iree.pipeline_shared_memory_copies %kfor <{{depth = {d['prefetch']} : i64}}>"
            " : (!transform.op<\"scf.for\">) -> !transform.op<\"scf.for\">\n"
            "    transform.apply_patterns to %bfunc {\n"
            "      transform.apply_patterns.vector.lower_transfer max_transfer_rank = 1\n"
            "      transform.apply_patterns.canonicalization\n"
            "    } : !transform.any_op\n"
            "    // the rotating buffers reach the loads as loop-carried memrefs, whose alignment LLVM cannot\n"
            "    // see: every load here reads 4-float aligned rows (validated), so say 16 bytes\n"
            "    %vloads = transform.structured.match ops{[\"vector.load\"]} in %bfunc"
            " : (!transform.any_op) -> !transform.any_op\n"
            "    %align16 = transform.param.constant 16 : i64 -> !transform.any_param\n"
            "    transform.annotate %vloads \"alignment\" = %align16 : !transform.any_op, !transform.any_param\n")
    ik = d.get("inner_k", 0)
    fa = "(!transform.any_op) -> (!transform.any_op, !transform.any_op)"
    thr = "(mapping = [#gpu.thread<y>, #gpu.thread<x>])"
    th = _fmt(b0 + [d["th_m"], d["th_n"]])
    tt = [f"    %tm, %fm = transform.structured.tile_using_forall %padded tile_sizes {th} {thr} : {fa}"]
    if ik and ik < d["red_k"]:
        tt += ["    // each thread walks its reduction step in slices of inner_k (fewer live operand registers)",
               f"    %tmk, %ikloop = transform.structured.tile_using_for %tm tile_sizes {_fmt(b0 + [0, 0, ik])} : {fa}",
               f"    transform.loop.unroll %ikloop factor = {d['red_k'] // ik} : !transform.any_op"]
    tt += [f"    %tf, %ff = transform.structured.tile_using_forall %ffill tile_sizes {th} {thr} : {fa}"]
    thread_tiling = "\n".join(tt) + "\n"
    # rows of the staged tiles padded by 16 bytes: fewer bank conflicts, 16-byte vector loads kept
    bank = ("    transform.iree.reduce_shared_memory_bank_conflicts %cfunc <{padding_size_bits = 128 : i64}>"
            " : (!transform.any_op) -> ()\n" if d.get("pad_smem") else "")
    # one cp.async group per reduction step: the barrier the thread mapping puts between the A and B
    # copies (kept by eliminate_gpu_barriers, whose alias analysis cannot tell the staged buffers from
    # the global operands) would split the group, and the pipeline's wait would then wait for the next
    # step's A copy too; the copies touch disjoint memory, so the barrier goes (replaced by a dead op)
    group = ("    %kfor0 = transform.structured.match ops{[\"scf.for\"]} in %mfunc"
             " : (!transform.any_op) -> !transform.any_op\n"
             "    %kbars = transform.structured.match ops{[\"gpu.barrier\"]} in %kfor0"
             " : (!transform.any_op) -> !transform.any_op\n"
             "    %bar_ab, %bar_bc, %bar_cd = transform.split_handle %kbars"
             " : (!transform.any_op) -> (!transform.any_op, !transform.any_op, !transform.any_op)\n"
             "    %nobar = transform.structured.replace %bar_ab {\n      arith.constant 0 : index\n"
             "    } : (!transform.any_op) -> !transform.any_op\n" if d.get("one_group") else "")
    # min_blocks: nvvm.minctasm on the kernel (PTX .minnctapersm; ptxas honours it where it ignores
    # -maxrregcount, as IREE always emits .maxntid): registers capped so that that many workgroups share an SM
    occupancy = ("    %minctasm = transform.param.constant " f"{d['min_blocks']}" " : i32 -> !transform.any_param\n"
                 "    transform.annotate %efunc \"nvvm.minctasm\" = %minctasm"
                 " : !transform.any_op, !transform.any_param\n"
                 if d.get("min_blocks") else "")
    fields = _gpu_tiling_fields(d, lay, b0, b1, batch, w.kind != "matmul_like")
    wg_tiling = Template(WG_TILING_EPILOGUE if epilogue else WG_TILING).substitute(fields)
    # the consumer's workgroup tile over the same thread grid as the product's register tiles
    epi = (f"    %tepi_t, %fepi = transform.structured.tile_using_forall %tepi tile_sizes {th} {thr} : {fa}\n"
           if epilogue else "")
    # epilogue form: the contraction and its consumer share the output tile, so bufferization gives the product
    # a workgroup buffer initialized with a copy of that tile (IREE's GPU memcpy, a linalg.generic that every
    # thread would run whole: ~0.5 ms of BERT-base's layer on the H100) before the fill overwrites it; the copy
    # cannot be erased by a transform op (structured.replace takes operand-free ops only), so IREE's pass spreads
    # it over the workgroup's threads (16-byte loads)
    dead = ("    %bcopies = transform.structured.match ops{[\"linalg.generic\", \"linalg.copy\"]} in %mfunc"
            " : (!transform.any_op) -> !transform.any_op\n"
            "    %wgmark = transform.param.constant \"copy_to_workgroup_memory\" -> !transform.any_param\n"
            "    transform.annotate %bcopies \"__internal_linalg_transform__\" = %wgmark"
            " : !transform.any_op, !transform.any_param\n"
            "    %dfunc = transform.apply_registered_pass \"iree-codegen-gpu-distribute-shared-memory-copy\" to %mfunc"
            " : (!transform.any_op) -> !transform.any_op\n" if epilogue else "")
    canon_in = "%dfunc" if epilogue else "%mfunc"
    text = (_script_matcher(matcher, w, gpu=True, consumer=form)
            + _tpl("gpu_matmul_strategy.mlir").substitute(
                key=w.key, name=strat, matcher=matcher, setter=setter, wg_tiling=wg_tiling, epilogue_threads=epi,
                dead_copy_op=dead, canon_in=canon_in,
                **fields, lin_mapping=lin,
                th_tiles=_fmt(b0 + [d["th_m"], d["th_n"]]), wg_dims=_fmt(lay["workgroup_size"]),
                prefetch_op=prefetch, thread_tiling=thread_tiling, bank_op=bank,
                group_op=group, occupancy_op=occupancy))
    return text, matcher, setter


def gpu_mma_layout(w: Workload, d: dict) -> dict:
    """Thread layout of a ``gpu_script_mma`` schedule: ``warps`` ([along M, along N]), ``threads``,
    ``workgroup_size`` ([32 * warps along N, warps along M, 1]) and the thread grids of the two staging
    copies (``a_threads`` over the [wg_m, red_k] slice of A, ``b_threads`` over the [red_k, wg_n] slice
    of B; 8 halves = 16 bytes per thread along the contiguous dim, rows over the remaining threads)."""
    warps = [d["wg_m"] // d["warp_m"], d["wg_n"] // d["warp_n"]]
    threads = 32 * warps[0] * warps[1]
    a_k = max(1, d["red_k"] // 8)
    b_n = max(1, d["wg_n"] // 8)
    return {"warps": warps, "threads": threads, "workgroup_size": [32 * warps[1], warps[0], 1],
            "a_threads": [min(d["wg_m"], max(1, threads // a_k)), a_k],
            "b_threads": [min(d["red_k"], max(1, threads // b_n)), b_n]}


def _gpu_mma_strategy(i: int, w: Workload, d: dict) -> tuple[str, str, str]:
    """(text, matcher name, setter name) of the f16 mma.sync script entry ``i`` (``gpu_script_mma``)."""
    matcher, setter, strat = f"match_gpu_mma_{i}", f"set_gpu_mma_{i}", f"gpu_mma_strategy_{i}"
    lay = gpu_mma_layout(w, d)
    batch = "B" in w.extents  # batch_matmul: one batch element per workgroup (block z) and per warp grid
    b1, b0 = ([1], [0]) if batch else ([], [])
    depth = d.get("depth", 0)
    pipeline = ""
    if depth == 1:  # register prefetch: next step's global loads before this step's products (one buffer)
        pipeline = (
            "    %kfor1 = transform.structured.match ops{[\"scf.for\"]} in %bfunc"
            " : (!transform.any_op) -> !transform.op<\"scf.for\">\n"
            "    %pfor1 = transform.iree.prefetch_shared_memory_copies %kfor1"
            " : (!transform.op<\"scf.for\">) -> !transform.op<\"scf.for\">\n"
            "    transform.apply_patterns to %bfunc {\n      transform.apply_patterns.canonicalization\n"
            "    } : !transform.any_op\n"
            "    // its AMDGPU scheduling barriers cannot be lowered by NVVM: workgroup barriers instead\n"
            "    %sched = transform.structured.match ops{[\"amdgpu.sched_barrier\"]} in %bfunc"
            " : (!transform.any_op) -> !transform.any_op\n"
            "    %nosched = transform.structured.replace %sched {\n      gpu.barrier\n"
            "    } : (!transform.any_op) -> !transform.any_op\n")
    if depth >= 2:  # cp.async into `depth` rotating shared buffers, the reduction loop software-pipelined
        cleanup = ("    transform.apply_patterns to %bfunc {\n"
                   "      transform.apply_patterns.memref.fold_memref_alias_ops\n"
                   "      transform.apply_patterns.canonicalization\n"
                   "    } : !transform.any_op\n"
                   "    transform.apply_cse to %bfunc : !transform.any_op\n")
        # rows padded after multi-buffering and a cleanup: padding first leaves the buffer's dealloc on a
        # subview, which makes memref.multibuffer silently keep one buffer (a race: wrong results);
        # padding right after multibuffer, without the cleanup, crashes iree-compile 3.13
        pad = ("    transform.apply_patterns to %bfunc {\n      transform.apply_patterns.canonicalization\n"
               "    } : !transform.any_op\n"
               "    transform.apply_cse to %bfunc : !transform.any_op\n"
               "    transform.iree.reduce_shared_memory_bank_conflicts %bfunc <{padding_size_bits = 128 : i64}>"
               " : (!transform.any_op) -> ()\n" + cleanup) if d.get("pad") else ""
        pipeline = (
            "    // multi-buffered staging: cp.async copies issued depth-1 steps ahead (sched 1: IREE's\n"
            "    // tensor-core schedule, which also moves the next k16 step's ldmatrix ahead of the mma.sync)\n"
            f"    transform.include @{strat}_multibuffer failures(propagate) (%bfunc) : (!transform.any_op) -> ()\n"
            + pad +
            "    transform.apply_patterns to %bfunc {\n"
            "      transform.apply_patterns.vector.transfer_to_scf max_transfer_rank = 1 full_unroll = true\n"
            "    } : !transform.any_op\n"
            "    transform.apply_patterns to %bfunc {\n      transform.apply_patterns.canonicalization\n"
            "    } : !transform.any_op\n"
            "    transform.apply_cse to %bfunc : !transform.any_op\n"
            "    transform.iree.create_async_groups %bfunc <{use_mma_sync}> : (!transform.any_op) -> ()\n"
            + cleanup +
            "    %mma = transform.structured.match ops{[\"nvgpu.mma.sync\"]} in %bfunc"
            " : (!transform.any_op) -> !transform.any_op\n"
            "    %kfor = transform.get_parent_op %mma <{deduplicate, op_name = \"scf.for\"}>"
            " : (!transform.any_op) -> !transform.any_op\n"
            f"    %pfor = transform.iree.pipeline_shared_memory_copies %kfor <{{depth = {depth} : i64"
            + (", use_mma_sync" if d.get("sched") else "") + "}>"
            " : (!transform.any_op) -> !transform.any_op\n"
            "    transform.apply_patterns to %bfunc {\n"
            "      transform.apply_patterns.vector.lower_masks\n"
            "      transform.apply_patterns.vector.materialize_masks\n"
            "      transform.apply_patterns.canonicalization\n"
            "    } : !transform.any_op\n")
    # multibuffer in its own sequence, so that no handle to the buffers outlives it: the padding below
    # replaces them without telling the transform interpreter (a dangling handle crashed iree-compile)
    mbuf = (f"  transform.named_sequence @{strat}_multibuffer(%f: !transform.any_op {{transform.readonly}}) {{\n"
            "    %allocs = transform.structured.match ops{[\"memref.alloc\"]} in %f"
            " : (!transform.any_op) -> !transform.op<\"memref.alloc\">\n"
            f"    %mbuf = transform.memref.multibuffer %allocs <{{factor = {depth} : i64, skip_analysis}}>"
            " : (!transform.op<\"memref.alloc\">) -> !transform.any_op\n"
            "    transform.yield\n  }\n") if depth >= 2 else ""
    warp_map = "[#gpu.warp<z>, #gpu.warp<y>, #gpu.warp<x>]" if batch else "[#gpu.warp<y>, #gpu.warp<x>]"
    # staged rows padded by 16 bytes: the 8 rows an ldmatrix reads fall in distinct banks (unpadded, the
    # 64-byte A rows give 4-way and the 256-byte B rows 8-way conflicts); 16-byte cp.async alignment kept
    bank = ("    transform.iree.reduce_shared_memory_bank_conflicts %mfunc <{padding_size_bits = 128 : i64}>"
            " : (!transform.any_op) -> ()\n" if d.get("pad") and depth < 2 else "")
    text = (_script_matcher(matcher, w, gpu=True) + mbuf
            + _tpl("gpu_mma_strategy.mlir").substitute(
                key=w.key, name=strat, matcher=matcher, setter=setter,
                **_gpu_tiling_fields(d, lay, b0, b1, batch, w.kind != "matmul_like"),
                lin_mapping="[#gpu.thread<linear_dim_1>, #gpu.thread<linear_dim_0>]",
                warp_tiles=_fmt(b1 + [d["warp_m"], d["warp_n"]]), warp_mapping=warp_map,
                wg_dims=_fmt(lay["workgroup_size"]), pipeline_op=pipeline, bank_op=bank))
    return text, matcher, setter


#: IREE 3.13's CUDA ``sm_80`` target (as ``--iree-cuda-target=sm_80`` builds it; checked by a test) with the
#: workgroup shared-memory limit as a placeholder: :func:`smem_optin_module` raises it to Hopper's opt-in.
SM80_DEVICE_TARGET = (
    '#hal.device.target<"cuda", [#hal.executable.target<"cuda", "cuda-nvptx-fb", {iree_codegen.target_info = '
    '#iree_gpu.target<arch = "sm_80", features = "+ptx76", wgp = <compute = fp64|fp32|fp16|int64|int32|int16|int8, '
    'storage = b64|b32|b16|b8, subgroup = shuffle|arithmetic, dot = dp4xi8toi32, mma = [<NV_MMA_SYNC_F32_16x8x16_F16>, '
    '<NV_MMA_SYNC_F16_16x8x16_F16>, <NV_MMA_SYNC_F32_16x8x16_BF16>, <NV_WMMA_F32_16x16x16_F16>, '
    '<NV_WMMA_F16_16x16x16_F16>], subgroup_size_choices = [32], max_workgroup_sizes = [1024, 1024, 1024], '
    'max_thread_count_per_workgroup = 1024, max_workgroup_memory_bytes = {smem}, '
    'max_workgroup_counts = [2147483647, 65535, 65535]>>}>]>')


def smem_optin_module(module: str, smem_bytes: int | None = None) -> str:
    """``module`` (a payload of top-level ``func.func`` ops) placed on an explicit CUDA sm_80 device whose
    workgroup shared-memory limit is ``smem_bytes`` (default: Hopper's 227 KiB opt-in,
    :data:`.space.SMEM_OPTIN_BYTES`) instead of sm_80's 166912 bytes. IREE 3.13 refuses a kernel over the
    target's limit ("uses N bytes of shared memory; exceeded the limit") and has no flag to raise it
    (``--iree-llvmgpu-shared-memory-limit`` does not reach that check); a device named in the module wins
    over ``--iree-hal-target-device``. The CUDA runtime opts each kernel in to its dynamic shared memory, so
    the module launches where the GPU allows it (H100, H200) and fails to launch elsewhere."""
    from .space import SMEM_OPTIN_BYTES

    dev = SM80_DEVICE_TARGET.replace("{smem}", str(smem_bytes or SMEM_OPTIN_BYTES))
    body = "\n".join("  " + ln if ln else ln for ln in module.strip("\n").splitlines())
    return ("module attributes {stream.affinity.default = #hal.device.affinity<@__device_0>} {\n"
            f"  util.global private @__device_0 = {dev} : !hal.device\n{body}\n}}\n")


def smem_optin_flag(smem_bytes: int | None = None) -> str:
    """The iree-compile flag that names the same device for a whole compile (a model, or plain ``iree-compile``
    with ``tune-remote``'s transform library): it replaces ``--iree-hal-target-device=cuda
    --iree-cuda-target=sm_80`` (given together, they would make two devices)."""
    from .space import SMEM_OPTIN_BYTES

    return "--iree-hal-target-device=" + SM80_DEVICE_TARGET.replace("{smem}", str(smem_bytes or SMEM_OPTIN_BYTES))


def payload_module(s) -> str:
    """The module a schedule ``s`` of a single-op workload is compiled from: the op (with its
    ``compilation_info``), written as pack + mmt4d + unpack for ``mmt4d_script``, on the Hopper
    shared-memory device for ``gpu_script_mma`` with ``smem_optin``."""
    if s.sketch == "mmt4d_script":
        return packed_module(s.workload, s.decisions)
    src = s.workload.single_op_module(s.compilation_info())
    if s.sketch == "gpu_script_mma" and s.decisions.get("smem_optin"):
        src = smem_optin_module(src)
    return src


def packed_types(w: Workload, d: dict) -> tuple[str, str, str]:
    """The ``linalg.mmt4d`` operand types of ``w`` packed with inner tiles ``m0`` x 1 (A) and
    ``n0`` x 1 (B): ``(A, B, C)`` = ``M1xKxm0x1``, ``N1xKxn0x1``, ``M1xN1xm0xn0`` (outer extents
    rounded up; a unit batch is dropped; a batch ``B`` > 1 leads each type: ``linalg.batch_mmt4d``).
    With ``pack_a`` 0 (B packed only, :data:`PACKB_MAPS`): ``MxK``, ``N1xKxn0``, ``MxN1xn0``."""
    e = w.extents
    m, n, k, m0, n0 = e["M"], e["N"], e["K"], d["m0"], d["n0"]
    mo, no = -(-m // m0), -(-n // n0)
    b = f"{e['B']}x" if e.get("B", 1) > 1 else ""
    if not d.get("pack_a", 1):  # B packed only: A as it is, C viewed as M x N1 x n0 (a free reshape)
        return f"tensor<{b}{m}x{k}xf32>", f"tensor<{b}{no}x{k}x{n0}xf32>", f"tensor<{b}{m}x{no}x{n0}xf32>"
    return (f"tensor<{b}{mo}x{k}x{m0}x1xf32>", f"tensor<{b}{no}x{k}x{n0}x1xf32>",
            f"tensor<{b}{mo}x{no}x{m0}x{n0}xf32>")


#: The ``mmt4d_script`` contraction with ``pack_a`` 0: ``C[m, n1, n0] += A[m, k] * B[n1, k, n0]`` over
#: (m, n1, n0, k) — A read in place (its m0 rows broadcast per k step), B packed N-major into
#: ``n0``-wide column panels (contiguous rows per k step), C written in place (``M x N`` viewed as
#: ``M x N1 x n0``): no pack of A and no unpack, which cost 0.8 of 17.7 ms on 1024³ (Xeon, 2026-11-27).
PACKB_MAPS = ("affine_map<(m, n1, n0, k) -> (m, k)>", "affine_map<(m, n1, n0, k) -> (n1, k, n0)>",
              "affine_map<(m, n1, n0, k) -> (m, n1, n0)>")


def packb_generic(a: str, b: str, c: str, ta: str, tb: str, tc: str, result: str = "%pc") -> str:
    """The B-packed contraction (``pack_a`` 0) of ``a`` (``ta``), packed ``b`` and accumulator ``c``, as
    one line of MLIR binding ``result`` (a ``linalg.generic`` with :data:`PACKB_MAPS`)."""
    maps = ", ".join(PACKB_MAPS)
    return (f"  {result} = linalg.generic {{indexing_maps = [{maps}], iterator_types = [\"parallel\", "
            f"\"parallel\", \"parallel\", \"reduction\"]}} ins({a}, {b} : {ta}, {tb}) outs({c} : {tc}) {{\n"
            "  ^bb0(%x: f32, %y: f32, %acc: f32):\n"
            "    %p = arith.mulf %x, %y : f32\n    %s = arith.addf %acc, %p : f32\n"
            f"    linalg.yield %s : f32\n  }} -> {tc}\n")


def packb_reason(w: Workload, n0: int) -> str | None:
    """None if ``w``'s contraction can be written with B packed alone into ``n0``-wide panels
    (``pack_a`` 0), else why not — the rule the sketch's validation, the single-op payload and the
    model rewrite (:func:`.packing.pack_contractions`) share."""
    e = w.extents
    if e.get("B", 1) > 1:
        return "pack_a=0 (B packed only) is for unbatched matmuls (a batch > 1 packs A too)"
    if e["N"] % n0:
        return f"pack_a=0 needs N={e['N']} a multiple of n0={n0} (B is packed without padding)"
    return None


def _packb_body(w: Workload, d: dict) -> str:
    """The ``pack_a`` 0 payload of an unbatched matmul: pack B, the B-packed contraction, reshape."""
    e = w.extents
    m, n, k, n0 = e["M"], e["N"], e["K"], d["n0"]
    if why := packb_reason(w, n0):
        raise ValueError(f"{w.key}: {why}")
    ta, tb, tc = packed_types(w, d)
    la, lb, lc = f"tensor<{m}x{k}xf32>", f"tensor<{k}x{n}xf32>", f"tensor<{m}x{n}xf32>"
    return (f"func.func @main(%lhs: {la}, %rhs: {lb}) -> {lc} {{\n"
            "  %zero = arith.constant 0.0 : f32\n"
            f"  %eb = tensor.empty() : {tb}\n"
            f"  %pb = linalg.pack %rhs outer_dims_perm = [1, 0] inner_dims_pos = [1] inner_tiles = [{n0}]"
            f" into %eb : {lb} -> {tb}\n"
            f"  %ec = tensor.empty() : {tc}\n"
            f"  %c0 = linalg.fill ins(%zero : f32) outs(%ec : {tc}) -> {tc}\n"
            + packb_generic("%lhs", "%pb", "%c0", ta, tb, tc) +
            f"  %r = tensor.collapse_shape %pc [[0], [1, 2]] : {tc} into {lc}\n"
            f"  return %r : {lc}\n}}\n")


def _pack_mmt4d_body(w: Workload, d: dict) -> str:
    """The plain (``B`` absent) or batched (``B`` > 1) payload: pack A and B, ``linalg.mmt4d`` or
    ``linalg.batch_mmt4d`` (each batch slice packed like a matmul), unpack; with ``pack_a`` 0 B
    alone is packed (:func:`_packb_body`)."""
    if not d.get("pack_a", 1):
        return _packb_body(w, d)
    e = w.extents
    m, n, k, m0, n0 = e["M"], e["N"], e["K"], d["m0"], d["n0"]
    batched = e.get("B", 1) > 1
    b, o = (f"{e['B']}x", 1) if batched else ("", 0)  # leading batch extent, dim offset
    ta, tb, tc = packed_types(w, d)
    pa = " padding_value(%zero : f32)" if m % m0 else ""
    pb = " padding_value(%zero : f32)" if n % n0 else ""
    la, lb, lc = f"tensor<{b}{m}x{k}xf32>", f"tensor<{b}{k}x{n}xf32>", f"tensor<{b}{m}x{n}xf32>"
    perm = "[0, 2, 1]" if batched else "[1, 0]"
    op = "linalg.batch_mmt4d" if batched else "linalg.mmt4d"
    return (f"func.func @main(%lhs: {la}, %rhs: {lb}) -> {lc} {{\n"
            "  %zero = arith.constant 0.0 : f32\n"
            f"  %ea = tensor.empty() : {ta}\n"
            f"  %pa = linalg.pack %lhs{pa} inner_dims_pos = [{o}, {o + 1}] inner_tiles = [{m0}, 1] into %ea"
            f" : {la} -> {ta}\n"
            f"  %eb = tensor.empty() : {tb}\n"
            f"  %pb = linalg.pack %rhs{pb} outer_dims_perm = {perm} inner_dims_pos = [{o + 1}, {o}] inner_tiles = [{n0}, 1]"
            f" into %eb : {lb} -> {tb}\n"
            f"  %ec = tensor.empty() : {tc}\n"
            f"  %c0 = linalg.fill ins(%zero : f32) outs(%ec : {tc}) -> {tc}\n"
            f"  %pc = {op} ins(%pa, %pb : {ta}, {tb}) outs(%c0 : {tc}) -> {tc}\n"
            f"  %e = tensor.empty() : {lc}\n"
            f"  %r = linalg.unpack %pc inner_dims_pos = [{o}, {o + 1}] inner_tiles = [{m0}, {n0}] into %e : {tc} -> {lc}\n"
            f"  return %r : {lc}\n}}\n")


def packed_module(w: Workload, d: dict) -> str:
    """``w``'s single-op module (a ``linalg.matmul``) written as ``linalg.pack`` of A (inner tiles
    ``m0`` x 1) and B (``n0`` x 1, N-major), ``linalg.mmt4d`` and ``linalg.unpack`` (the
    ``mmt4d_script`` sketch's payload; same signature and result as the plain module). Extents that
    are not multiples of the tiles are padded with zeros (and cut off again by the unpack). A
    batch_matmul with a batch > 1 packs every slice the same way into one ``linalg.batch_mmt4d``."""
    e = w.extents
    m, n, k = e["M"], e["N"], e["K"]
    m0, n0 = d["m0"], d["n0"]
    if e.get("B", 1) > 1:
        return _pack_mmt4d_body(w, d)
    if e.get("B") == 1:  # a unit-batch batch_matmul (as torch exports BERT's): drop the batch dim around it
        inner = packed_module(Workload("linalg.matmul", (("M", m), ("N", n), ("K", k)), w.types,
                                       (f"tensor<{m}x{k}xf32>", f"tensor<{k}x{n}xf32>", f"tensor<{m}x{n}xf32>")), d)
        body = inner.split("\n", 1)[1].rsplit("  return", 1)[0]
        return (f"func.func @main(%lhs3: tensor<1x{m}x{k}xf32>, %rhs3: tensor<1x{k}x{n}xf32>)"
                f" -> tensor<1x{m}x{n}xf32> {{\n"
                f"  %lhs = tensor.collapse_shape %lhs3 [[0, 1], [2]] : tensor<1x{m}x{k}xf32> into tensor<{m}x{k}xf32>\n"
                f"  %rhs = tensor.collapse_shape %rhs3 [[0, 1], [2]] : tensor<1x{k}x{n}xf32> into tensor<{k}x{n}xf32>\n"
                + body +
                f"  %r3 = tensor.expand_shape %r [[0, 1], [2]] output_shape [1, {m}, {n}]"
                f" : tensor<{m}x{n}xf32> into tensor<1x{m}x{n}xf32>\n"
                f"  return %r3 : tensor<1x{m}x{n}xf32>\n}}\n")
    return _pack_mmt4d_body(w, d)


def _mmt4d_strategy(i: int, w: Workload, d: dict) -> tuple[str, str, str]:
    """(text, matcher name, setter name) of an ``mmt4d_script`` entry; its matcher takes only the
    ``linalg.mmt4d`` ops whose operand types are ``w``'s packed types (:func:`packed_types`)."""
    matcher, setter = f"match_mmt4d_script_{i}", f"set_mmt4d_strategy_{i}"
    cache = (f"    // cache-level reduction tile over k1 (K blocking), outermost\n"
             f"    %tc, %kcloop = transform.structured.tile_using_for %op tile_sizes [0, 0, {d['cache_k']}, 0, 0, 0]\n"
             f"      : (!transform.any_op) -> (!transform.any_op, !transform.any_op)\n" if d.get("cache_k") else "")
    unroll = (f"    transform.loop.unroll %kloop factor = {d['unroll']} : !transform.any_op\n"
              if d["unroll"] > 1 else "")
    ta, tb, tc = packed_types(w, d)
    if not d.get("pack_a", 1):
        return _packb_strategy(i, w, d, unroll, matcher, setter)
    batched = w.extents.get("B", 1) > 1  # linalg.batch_mmt4d: the batch loop leads, one slice per workgroup
    lead = [0] if batched else []
    if batched and cache:
        cache = cache.replace("tile_sizes [0, 0, ", "tile_sizes [0, 0, 0, ")
    nl = len(lead) + 2
    order = [1, 0] if d["order"] else [0, 1]
    text = _tpl("mmt4d_strategy.mlir").substitute(
        lhs_type=ta, rhs_type=tb, acc_type=tc, key=w.key, name=f"mmt4d_strategy_{i}", matcher=matcher, setter=setter, schedule=f"mmt4d_schedule_{i}",
        m0=d["m0"], n0=d["n0"], wg_tiles=_fmt([1] * len(lead) + [d["wg_m1"], d["wg_n1"]]), cache_op=cache,
        reg_in="%tc" if cache else "%op",
        interchange=_fmt(lead + [len(lead) + o for o in order] + list(range(nl, nl + 4))),
        unroll_op=unroll, op_name="linalg.batch_mmt4d" if batched else "linalg.mmt4d",
        outer="b, m1, n1" if batched else "m1, n1", nloops=nl, reg_tiles=_fmt([1] * nl + [0] * 4),
        loop_types=", !transform.any_op" * nl,
        mapping="[#gpu.block<z>, #gpu.block<y>, #gpu.block<x>]" if batched else "[#gpu.block<y>, #gpu.block<x>]",
        form=f"the matmul written as pack + {'linalg.batch_mmt4d' if batched else 'linalg.mmt4d'} "
             f"({d['m0']} x {d['n0']} x 1 inner tiles) + unpack",
        unit_dims="m1, n1, k0", k_tiles="[1, 0, 0]")
    return text, matcher, setter


def _packb_strategy(i: int, w: Workload, d: dict, unroll: str, matcher: str, setter: str):
    """``_mmt4d_strategy`` for ``pack_a`` 0: the B-packed ``linalg.generic`` over (m, n1, n0, k) —
    workgroup tiles of ``wg_m1 * m0`` rows x ``wg_n1`` panels, K blocking on k, an ``m0`` x 1 panel
    register tile (n1 folded away: m0 x n0 per k step), k tiled by 1 and unrolled."""
    ta, tb, tc = packed_types(w, d)
    cache = (f"    // cache-level reduction tile over k (K blocking), outermost\n"
             f"    %tc, %kcloop = transform.structured.tile_using_for %op tile_sizes [0, 0, 0, {d['cache_k']}]\n"
             f"      : (!transform.any_op) -> (!transform.any_op, !transform.any_op)\n" if d.get("cache_k") else "")
    order = [1, 0] if d["order"] else [0, 1]
    text = _tpl("mmt4d_strategy.mlir").substitute(
        lhs_type=ta, rhs_type=tb, acc_type=tc, key=w.key, name=f"mmt4d_strategy_{i}", matcher=matcher,
        setter=setter, schedule=f"mmt4d_schedule_{i}", m0=d["m0"], n0=d["n0"],
        wg_tiles=_fmt([d["wg_m1"] * d["m0"], d["wg_n1"]]),
        cache_op=cache, reg_in="%tc" if cache else "%op", interchange=_fmt(order + [2, 3]), unroll_op=unroll,
        op_name="linalg.generic", outer="m, n1", nloops=2, reg_tiles=_fmt([d["m0"], 1, 0, 0]),
        loop_types=", !transform.any_op" * 2, mapping="[#gpu.block<y>, #gpu.block<x>]",
        form=f"the matmul with B packed into {d['n0']}-wide panels (pack_a=0: A read in place, C written "
             f"in place as M x N1 x n0)", unit_dims="n1", k_tiles="[0, 0, 1]")
    return text, matcher, setter


def render_transform_library(schedules: Iterable, dispatch_forms: dict[str, Iterable[str]] | None = None) -> str | None:
    """One transform library for ``schedules`` (script form and config form); None if none applies.

    ``dispatch_forms`` (for a model): workload key -> the epilogue kinds of its dispatches
    (:func:`.dispatches.epilogue_kind`, ``none`` / ``elementwise``); a ``gpu_script`` schedule of such a key
    gets one strategy per form, each matched only in dispatches of its form (:func:`_gpu_strategy`)."""
    from .schedule import _conv_matcher, _matcher

    forms = {k: sorted(v) for k, v in (dispatch_forms or {}).items()}
    entries, pairs = [], []
    for i, s in enumerate(schedules):
        if s.sketch == "gpu_script" and s.workload.key in forms:
            for form in forms[s.workload.key]:
                text, m, st = _gpu_strategy(f"{i}_{form}", s.workload, s.decisions, form=form)
                entries.append(text)
                pairs.append(f"@{m} -> @{st}")
            continue
        if s.sketch in SCRIPT_SKETCHES:
            render = {"transform_script": _strategy, "gpu_script": _gpu_strategy,
                      "gpu_script_mma": _gpu_mma_strategy, "mmt4d_script": _mmt4d_strategy}[s.sketch]
            text, m, st = render(i, s.workload, s.decisions)
            entries.append(text)
            pairs.append(f"@{m} -> @{st}")
            continue
        cfg = s.compilation_info()
        if cfg is None:
            continue
        name = f"match_{i}_{s.workload.key}"
        entries.append(_conv_matcher(name, s.workload, cfg) if s.sketch == "conv_tiling"
                       else _matcher(name, s.spec_workload, cfg, gpu=s.sketch.startswith("gpu_")))
        pairs.append(f"@{name} -> @apply_op_config")
    if not pairs:
        return None
    return _tpl("codegen_library.mlir").substitute(entries="".join(entries),
                                                   pairs=",\n        ".join(pairs))


def interpreter_module(w: Workload, d: dict) -> str:
    """A transform module for ``iree-opt --transform-interpreter``: the schedule applied to every
    op of ``w``'s kind in the payload, then vectorization (for inspecting / FileCheck-testing the
    transformed IR; append it to a payload module such as :meth:`Workload.single_op_module`)."""
    return ("module attributes {transform.with_named_sequence} {\n" + render_schedule_sequence(w, d, "schedule")
            + "  transform.named_sequence @__transform_main(%root: !transform.any_op {transform.readonly}) {\n"
            f"    %ops = transform.structured.match ops{{[\"{w.op}\"]}} in %root"
            " : (!transform.any_op) -> !transform.any_op\n"
            "    transform.include @schedule failures(propagate) (%ops) : (!transform.any_op) -> ()\n"
            "    %func = transform.structured.match ops{[\"func.func\"]} in %root"
            " : (!transform.any_op) -> !transform.any_op\n"
            + _vectorize(w) + "    transform.yield\n  }\n}\n")
