"""Schedules: a sketch plus decisions, rendered to IREE ``compilation_info`` and tuning specs.

A tuning spec is a transform-dialect library that plain ``iree-compile
--iree-codegen-tuning-spec-path=spec.mlir`` accepts: one matcher per workload
(``transform.iree.match.contraction`` + ``dims_equal`` on the exact extents and element types) and
an ``@__kernel_config`` entry that annotates matched root ops with their ``compilation_info``.
Convolutions (``conv_tiling``) are matched with ``transform.iree.match.convolution`` (the op's
indexing maps, element types, and ``dims_equal`` on batch, output image, output channel, filter,
input channel, stride and dilation); ``img2col_tiling`` schedules are matched as the matmul that
IREE's img2col pre-pass makes of the conv (and need that pre-pass flag).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from .dispatches import ConvWorkload, Workload
from .space import SKETCH_FLAGS, Sketch, sketches_for

__all__ = ["Schedule", "render_compilation_info", "render_conv_compilation_info", "render_tuning_spec",
           "render_gpu_simt", "render_gpu_mma", "render_spirv_simt", "render_spirv_coopmat",
           "attach_schedules"]


@dataclass(frozen=True)
class Schedule:
    """A point in a workload's space: ``sketch`` name and its knob ``decisions``."""

    workload: Workload
    sketch: str
    decisions: dict = field(default_factory=dict, hash=False)
    target: str = "llvm-cpu"

    def __post_init__(self):
        from .space import complete

        object.__setattr__(self, "decisions", complete(self.sketch, dict(self.decisions)))

    @property
    def sketch_obj(self) -> Sketch | None:
        """The sketch on this workload and target (None where it does not apply)."""
        return next((s for s in sketches_for(self.workload, self.target) if s.name == self.sketch), None)

    def validate(self) -> str | None:
        """None if valid, else the reason it cannot apply (checked before compiling)."""
        if self.sketch not in SKETCH_FLAGS:
            return f"unknown sketch {self.sketch}"
        sk = self.sketch_obj
        if sk is None:
            if self.sketch == "transform_script":
                from .transform_script import script_supported

                why = script_supported(self.workload)
                if why:
                    return why
            return f"sketch {self.sketch} does not apply to {self.workload.kind} on {self.target}"
        return sk.validate(self.decisions)

    def flags(self) -> list[str]:
        """Module-level iree-compile flags this schedule needs."""
        sk = self.sketch_obj
        return sk.flags(self.decisions) if sk is not None else list(SKETCH_FLAGS.get(self.sketch, []))

    def compilation_info(self) -> str | None:
        """The ``#iree_codegen.compilation_info`` text, or None when IREE's default applies."""
        if self.sketch == "gpu_simt":
            return render_gpu_simt(self.decisions, batched="B" in self.workload.extents)
        if self.sketch == "gpu_mma":
            return render_gpu_mma(self.decisions, batched="B" in self.workload.extents)
        if self.sketch == "conv_tiling":
            return render_conv_compilation_info(self.workload, self.decisions)
        if self.sketch == "img2col_tiling":
            return render_compilation_info(self.workload.gemm_view(), self.decisions)
        if self.sketch == "spirv_simt":
            return render_spirv_simt(self.decisions, batched="B" in self.workload.extents)
        if self.sketch == "spirv_coopmat":
            return render_spirv_coopmat(self.decisions, batched="B" in self.workload.extents)
        if self.sketch != "double_tiling":
            return None
        return render_compilation_info(self.workload, self.decisions)

    @property
    def spec_workload(self) -> Workload:
        """The op the tuning spec must match: the conv itself, or its img2col matmul."""
        return self.workload.gemm_view() if self.sketch == "img2col_tiling" else self.workload

    def describe(self) -> str:
        if not self.decisions:
            return self.sketch
        return self.sketch + "(" + ", ".join(f"{k}={v}" for k, v in self.decisions.items()) + ")"


def render_compilation_info(w: Workload, d: dict) -> str:
    """``DoubleTilingExpert`` compilation_info for a matmul / batch_matmul with decisions ``d``.

    Optional decisions (img2col_tiling): ``cache_n`` > 0 adds a ``cache_parallel`` level
    ``[dist_m, cache_n, 0]`` between distribution and vector tiles; ``peel`` = 1 sets
    ``{enable_loop_peeling}`` on the translation_info (remainder loops peeled, not masked).
    """
    batch = [1] if "B" in w.extents else []
    zb = [0] if batch else []
    dist = batch + [d["dist_m"], d["dist_n"], 0]
    vec = batch + [d["vec_m"], d["vec_n"], 0]
    red = zb + [0, 0, d["vec_k"]]
    fmt = lambda xs: "[" + ", ".join(map(str, xs)) + "]"  # noqa: E731
    cache = f"cache_parallel = {fmt(batch + [d['dist_m'], d['cache_n'], 0])}, " if d.get("cache_n") else ""
    peel = ", {enable_loop_peeling}" if d.get("peel") else ""
    return ("#iree_codegen.compilation_info<lowering_config = #iree_cpu.lowering_config<"
            f"{cache}distribution = {fmt(dist)}, vector_common_parallel = {fmt(vec)}, "
            f"vector_reduction = {fmt(red)}>, translation_info = #iree_codegen.translation_info<"
            f"pipeline = #iree_cpu.pipeline<DoubleTilingExpert>{peel}>>")


def render_conv_compilation_info(w: ConvWorkload, d: dict) -> str:
    """``ConvTileAndDecomposeExpert`` compilation_info for a 2-D conv with decisions ``d``.

    Loop order of IREE's (generalized) conv: NHWC (N, OH, OW, OC, KH, KW, IC); NCHW (N, OC, OH, OW,
    IC, KH, KW). Vector tiles keep OH = KH = KW = 1 so the conv decomposes to 1-D convs.
    """
    n = 1 if w.extents["N"] > 1 else 0
    if w.layout == "nhwc_hwcf":
        dist = [n, d["dist_oh"], d["dist_ow"], d["dist_oc"], 0, 0, 0]
        vec = [1, 1, d["vec_ow"], d["vec_oc"], 0, 0, 0]
        red = [0, 0, 0, 0, 1, 1, d["vec_ic"]]
    else:
        dist = [n, d["dist_oc"], d["dist_oh"], d["dist_ow"], 0, 0, 0]
        vec = [1, d["vec_oc"], 1, d["vec_ow"], 0, 0, 0]
        red = [0, 0, 0, 0, d["vec_ic"], 1, 1]
    fmt = lambda xs: "[" + ", ".join(map(str, xs)) + "]"  # noqa: E731
    return ("#iree_codegen.compilation_info<lowering_config = #iree_cpu.lowering_config<"
            f"distribution = {fmt(dist)}, vector_common_parallel = {fmt(vec)}, "
            f"vector_reduction = {fmt(red)}>, translation_info = #iree_codegen.translation_info<"
            "pipeline = #iree_cpu.pipeline<ConvTileAndDecomposeExpert>>>")


#: Indexing maps of the conv ops as IREE sees them (generalized, batch kept): input, filter, output.
_CONV_MAPS = {
    "nhwc_hwcf": ("affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1 * {sh} + d4 * {dh}, d2 * {sw} + d5 * {dw}, d6)>",
                  "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d4, d5, d6, d3)>",
                  "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>"),
    "nchw_fchw": ("affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d4, d2 * {sh} + d5 * {dh}, d3 * {sw} + d6 * {dw})>",
                  "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d1, d4, d5, d6)>",
                  "affine_map<(d0, d1, d2, d3, d4, d5, d6) -> (d0, d1, d2, d3)>"),
}


def _conv_matcher(name: str, w: ConvWorkload, config: str) -> str:
    e = w.extents
    x, f, o = w.types
    (sh, sw), (dh, dw) = w.strides, w.dilations
    maps = ", ".join(m.format(sh=sh, sw=sw, dh=dh, dw=dw) for m in _CONV_MAPS[w.layout])
    return f"""  transform.named_sequence @{name}(%op: !transform.any_op {{transform.readonly}})
      -> (!transform.any_op, !transform.any_param) {{
    %batch, %out_img, %out_ch, %filt, %in_ch, %depth, %strides, %dilations = transform.iree.match.convolution %op, lhs_type = {x}, rhs_type = {f}, output_type = {o}, indexing_maps = [{maps}] : !transform.any_op -> !transform.param<i64>
    transform.iree.match.dims_equal %batch, [{e['N']}] : !transform.param<i64>
    transform.iree.match.dims_equal %out_img, [{e['OH']}, {e['OW']}] : !transform.param<i64>
    transform.iree.match.dims_equal %out_ch, [{e['OC']}] : !transform.param<i64>
    transform.iree.match.dims_equal %filt, [{e['KH']}, {e['KW']}] : !transform.param<i64>
    transform.iree.match.dims_equal %in_ch, [{e['IC']}] : !transform.param<i64>
    transform.iree.match.dims_equal %depth, [] : !transform.param<i64>
    transform.iree.match.dims_equal %strides, [{sh}, {sw}] : !transform.param<i64>
    transform.iree.match.dims_equal %dilations, [{dh}, {dw}] : !transform.param<i64>
    %config = transform.param.constant {config} -> !transform.any_param
    transform.yield %op, %config : !transform.any_op, !transform.any_param
  }}
"""


def render_gpu_simt(d: dict, batched: bool = False) -> str:
    """``TileAndFuse`` (SIMT) compilation_info for a GPU (batch) matmul with decisions ``d``."""
    from .space import gpu_workgroup_size

    b, z = ("1, ", "0, ") if batched else ("", "")
    promote = "promote_operands = [0, 1], " if d["promote"] else ""
    ws = ", ".join(map(str, gpu_workgroup_size(d)))
    pf = (f", {{gpu_pipeline_options = #iree_gpu.pipeline_options<prefetch_num_stages = {d['prefetch']}>}}"
          if d.get("prefetch") else "")
    return ("#iree_codegen.compilation_info<lowering_config = #iree_gpu.lowering_config<{"
            f"{promote}reduction = [{z}0, 0, {d['red_k']}], thread = [{b}{d['th_m']}, {d['th_n']}, 0], "
            f"workgroup = [{b}{d['wg_m']}, {d['wg_n']}, 0]}}>, translation_info = #iree_codegen.translation_info<"
            f"pipeline = #iree_gpu.pipeline<TileAndFuse> workgroup_size = [{ws}] subgroup_size = 32{pf}>>")


def render_gpu_mma(d: dict, batched: bool = False) -> str:
    """compilation_info with the f16 MMA intrinsic (mma.sync) for a GPU (batch) matmul.

    ``pipeline`` ``TileAndFuse`` takes per-subgroup tiles (``subgroup``) and a reduction tile in
    intrinsic steps; ``VectorDistribute`` takes the subgroup grid (``subgroup_basis``) and a
    reduction tile in elements.
    """
    from .space import MMA_F16, gpu_subgroups

    b, z = ("1, ", "0, ") if batched else ("", "")
    pf = (f", {{gpu_pipeline_options = #iree_gpu.pipeline_options<prefetch_num_stages = {d['prefetch']}>}}"
          if d["prefetch"] else "")
    if d.get("pipeline") == "VectorDistribute":
        _, mm, mn, mk = MMA_F16
        sg_m, sg_n = d["wg_m"] // (mm * d["sub_m"]), d["wg_n"] // (mn * d["sub_n"])
        basis = f"[[{'1, ' if batched else ''}{sg_m}, {sg_n}, 1], [{'0, 1, 2, 3' if batched else '0, 1, 2'}]]"
        return ("#iree_codegen.compilation_info<lowering_config = #iree_gpu.lowering_config<{"
                f"mma_kind = #iree_gpu.mma_layout<{MMA_F16[0]}>, promote_operands = [0, 1], "
                f"reduction = [{z}0, 0, {mk * d['red_k']}], subgroup_basis = {basis}, "
                f"workgroup = [{b}{d['wg_m']}, {d['wg_n']}, 0]}}>, translation_info = #iree_codegen.translation_info<"
                f"pipeline = #iree_gpu.pipeline<VectorDistribute> workgroup_size = [{32 * sg_m * sg_n}, 1, 1] "
                f"subgroup_size = 32{pf}>>")
    return ("#iree_codegen.compilation_info<lowering_config = #iree_gpu.lowering_config<{convert_acc_gemm, "
            f"mma_kind = #iree_gpu.mma_layout<{MMA_F16[0]}>, promote_operands = [0, 1], "
            f"reduction = [{z}0, 0, {d['red_k']}], subgroup = [{b}{d['sub_m']}, {d['sub_n']}, 0], "
            f"workgroup = [{b}{d['wg_m']}, {d['wg_n']}, 0]}}>, translation_info = #iree_codegen.translation_info<"
            f"pipeline = #iree_gpu.pipeline<TileAndFuse> workgroup_size = [{32 * gpu_subgroups(d)}, 1, 1] "
            f"subgroup_size = 32{pf}>>")


def render_spirv_simt(d: dict, batched: bool = False) -> str:
    """Vulkan ``MatmulPromoteVectorize`` compilation_info (IREE 3.13's SPIR-V SIMT matmul pipeline).

    One tile level ``[wg_m, wg_n, red_k]`` (the reduction tile merged in, as IREE's own SPIR-V
    configs write it); thread tiles follow from ``workgroup_size = [wg_n/th_n, wg_m/th_m, 1]``;
    ``pipeline_depth`` / ``store_stage`` drive shared-memory multi-buffering.
    """
    b = "1, " if batched else ""
    return ("#iree_codegen.compilation_info<lowering_config = #iree_codegen.lowering_config<tile_sizes = "
            f"[[{b}{d['wg_m']}, {d['wg_n']}, {d['red_k']}]]>, translation_info = #iree_codegen.translation_info<"
            "pipeline = #iree_gpu.spirv_pipeline<MatmulPromoteVectorize> workgroup_size = "
            f"[{d['wg_n'] // d['th_n']}, {d['wg_m'] // d['th_m']}, 1], "
            f"{{pipeline_depth = {d['depth']} : i64, store_stage = {d['store_stage']} : i64}}>>")


def render_spirv_coopmat(d: dict, batched: bool = False) -> str:
    """Vulkan ``CooperativeMatrixVectorize`` compilation_info (f16 on cooperative-matrix 16x16x16).

    Tile levels: workgroup ``[wg_m, wg_n]``, subgroup ``[sub_m, sub_n]``, reduction
    ``[0, 0, red_k]``, native ``[16, 16, 16]``; ``workgroup_size = [32 * wg_n/sub_n, wg_m/sub_m, 1]``.
    """
    from .space import COOPMAT

    b, z = ("1, ", "0, ") if batched else ("", "")
    c = COOPMAT
    return ("#iree_codegen.compilation_info<lowering_config = #iree_codegen.lowering_config<tile_sizes = "
            f"[[{b}{d['wg_m']}, {d['wg_n']}], [{b}{d['sub_m']}, {d['sub_n']}], [{z}0, 0, {d['red_k']}], "
            f"[{b}{c}, {c}, {c}]]>, translation_info = #iree_codegen.translation_info<"
            "pipeline = #iree_gpu.spirv_pipeline<CooperativeMatrixVectorize> workgroup_size = "
            f"[{32 * (d['wg_n'] // d['sub_n'])}, {d['wg_m'] // d['sub_m']}, 1] subgroup_size = 32, "
            f"{{pipeline_depth = {d['depth']} : i64, store_stage = {d['store_stage']} : i64}}>>")


def _matcher(name: str, w: Workload, config: str, gpu: bool = False) -> str:
    lhs, rhs, out = w.types
    fmt = lambda xs: "[" + ", ".join(map(str, xs)) + "]"  # noqa: E731
    batch, m, n, k = map(fmt, w.contraction_dims)
    # On GPU targets IREE generalizes named contractions to linalg.generic before configuration,
    # so the op name is not matched there: the contraction matcher and exact extents suffice.
    name_check = "" if gpu else f'    transform.match.operation_name %op ["{w.op}"] : !transform.any_op\n'
    return f"""  transform.named_sequence @{name}(%op: !transform.any_op {{transform.readonly}})
      -> (!transform.any_op, !transform.any_param) {{
{name_check}    %batch, %m, %n, %k = transform.iree.match.contraction %op, lhs_type = {lhs}, rhs_type = {rhs}, output_type = {out} : !transform.any_op -> !transform.param<i64>
    transform.iree.match.dims_equal %batch, {batch} : !transform.param<i64>
    transform.iree.match.dims_equal %m, {m} : !transform.param<i64>
    transform.iree.match.dims_equal %n, {n} : !transform.param<i64>
    transform.iree.match.dims_equal %k, {k} : !transform.param<i64>
    %config = transform.param.constant {config} -> !transform.any_param
    transform.yield %op, %config : !transform.any_op, !transform.any_param
  }}
"""


def render_tuning_spec(schedules: Iterable[Schedule]) -> str | None:
    """One tuning spec for all schedules that carry a compilation_info (None if there are none)."""
    entries = [(s, s.compilation_info()) for s in schedules]
    entries = [(s, c) for s, c in entries if c is not None]
    if not entries:
        return None
    parts = ["// mlir_opt tuning spec: pass to iree-compile --iree-codegen-tuning-spec-path=<this file>\n",
             "module attributes {transform.with_named_sequence, iree_codegen.tuning_spec_with_default_entrypoint} {\n",
             """  transform.named_sequence @apply_op_config(%op: !transform.any_op {transform.readonly},
                                            %config: !transform.any_param {transform.readonly}) {
    transform.annotate %op "compilation_info" = %config : !transform.any_op, !transform.any_param
    transform.yield
  }
"""]
    names = []
    for i, (s, cfg) in enumerate(entries):
        name = f"match_{i}_{s.workload.key}"
        names.append(name)
        if s.sketch == "conv_tiling":
            parts.append(_conv_matcher(name, s.workload, cfg))
        else:
            parts.append(_matcher(name, s.spec_workload, cfg, gpu=s.sketch.startswith(("gpu_", "spirv_"))))
    pairs = ",\n        ".join(f"@{n} -> @apply_op_config" for n in names)
    parts.append(f"""  transform.named_sequence @__kernel_config(%variant_op: !transform.any_op {{transform.consumed}})
      -> !transform.any_op attributes {{iree_codegen.tuning_spec_entrypoint}} {{
    %res = transform.foreach_match in %variant_op
        {pairs}
      : (!transform.any_op) -> !transform.any_op
    transform.yield %res : !transform.any_op
  }}
}}
""")
    return "".join(parts)


def attach_schedules(model, schedules: Iterable[Schedule]) -> int:
    """Set ``compilation_info`` on every op of ``model`` whose workload a schedule targets.

    This is how GPU schedules reach a whole model (IREE 3.13's CUDA path ignores tuning specs but
    honours the attribute through dispatch formation). Returns how many ops were annotated.
    """
    from .. import ir as _ir
    from .dispatches import contraction_workload

    by_key = {s.workload.key: s.compilation_info() for s in schedules}
    by_key = {k: v for k, v in by_key.items() if v is not None}
    n = 0
    for op in _ir.iter_ops(model.module):
        w = contraction_workload(op)
        if w is not None and w.key in by_key:
            op.attributes["compilation_info"] = _ir.ir.Attribute.parse(by_key[w.key], model.module.context)
            n += 1
    return n
