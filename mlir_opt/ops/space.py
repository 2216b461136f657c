"""Schedule spaces: knobs as data, sketches per root-op kind, validity rules with reasons.

A *sketch* fixes the structure of a schedule (which IREE CPU pipeline, which flags); its *knobs*
are the free parameters (tile sizes per level). ``transform.tune.knob`` is not available in IREE
3.13's bindings, so knobs are modelled here in Python, mirroring it: ``Knob(name, options)``.

CPU contraction sketches (matmul / batch_matmul root ops):

* ``default``      — IREE's own configuration (no decisions): the baseline.
* ``double_tiling``— ``DoubleTilingExpert``: distribution tiles (workgroup level, M×N), vector
  tiles (register level, m×n) and a reduction tile k. Rendered as ``compilation_info``.
* ``transform_script`` — a transform-dialect codegen script IREE executes instead of its pipeline
  (see :mod:`.transform_script`): workgroup tiles ``wg_m``×``wg_n``, register tiles ``vec_m``×
  ``vec_n`` in loop ``order`` (0: m outer, 1: n outer), reduction tile ``vec_k`` unrolled
  ``unroll`` times, optionally inside a cache-level reduction tile ``cache_k`` (K blocking, the
  outermost loop of the workgroup; 0: none), then vectorization. f32 matmul / batch_matmul; for convolutions (batch 1
  included, which the config form cannot reach) workgroup tiles ``wg_oh wg_ow wg_oc``, register
  tiles ``vec_ow vec_oc`` (OH = 1), reduction tile ``vec_ic`` (KH = KW = 1), loop ``order``, then
  decomposition to 1-D convs and vectorization.
* ``data_tiling``  — ``--iree-opt-data-tiling`` (pack to a blocked layout + mmt4d), optionally with
  IREE's mmt4d micro-kernels (``ukernels`` knob), vector-contract lowering with intrinsics instead
  of inline asm (``mmt4d_intrinsics``: ``--iree-codegen-mmt4d-use-intrinsics``), LLVM loop
  unrolling (``llvm_unroll``: ``--iree-llvmcpu-loop-unrolling``), the distribution tile budget of
  data-tiled matmuls (``tile_bytes``: ``--iree-llvmcpu-matmul-tile-bytes``, 0 = IREE's 256 KiB;
  it sets the mmt4d workgroup tiles, e.g. [2, 4] at 256 KiB, [8, 16] at 1 MiB for 1024³) and the
  lowering of the encoded matmul (``inner_tiled``: 0 = ``linalg.mmt4d`` with 8×8×1 register tiles
  on AVX2; 1 = ``--iree-llvmcpu-enable-inner-tiled``, ``iree_codegen.inner_tiled`` with
  ``MMA_X86_AVX2_FMA_1x8x1`` × ``intrinsics_m = 13``, a 13×8 register tile; 2 = that plus IREE's
  LLVM-bitcode ukernel for it, ``--iree-llvmcpu-enable-llvm-ukernels=inner_tiled``). A
  module-level choice: IREE 3.13 applies tuning specs before encodings are materialized, so mmt4d
  tiles cannot be set per op (verified), and no flag sets mmt4d inner tile sizes. It is measured
  once per contraction workload in a few fixed decision sets (:data:`FIXED_SCHEDULES`) besides the
  searched sketch, and can be searched itself (``--sketch data_tiling``).

* ``mmt4d_script`` — the matmul written as ``linalg.pack`` (A: ``m0``×1 tiles, B: ``n0``×1,
  N-major) + ``linalg.mmt4d`` + ``linalg.unpack`` (:func:`.transform_script.packed_module`), the
  mmt4d compiled by a transform-dialect strategy (``transform_scripts/mmt4d_strategy.mlir``):
  workgroup tiles ``wg_m1``×``wg_n1`` over (M1, N1), optional K blocking ``cache_k``, one
  ``m0``×``n0`` register tile per (m1, n1) in loop ``order``, unit dims folded so the tile is an
  outer product per k step, ``unroll``, accumulators hoisted. Register tiles IREE's own mmt4d
  pipeline does not vectorize (4×16, 6×16; 3.13 scalarizes them) become broadcast + FMA kernels.
  The tile options, the register rule and the seed follow the target's fp32 vector lanes
  (:func:`mmt4d_tile_options`, :func:`mmt4d_register_rule`, :func:`search_seeds`): AVX2 ymm tiles
  (4×16 seed), AVX-512 zmm tiles (8×32 seed). ``pack_a`` 0 packs B alone: the contraction
  ``C[m, n1, n0] += A[m, k] · B[n1, k, n0]`` reads A in place (m0 rows broadcast per k step) and
  writes C in place (no pack of A, no unpack; unbatched matmuls whose M, N the tiles divide).
  f32 ``linalg.matmul`` and ``batch_matmul`` only (a unit batch is collapsed to a matmul; a batch
  > 1 packs every slice alike into one ``linalg.batch_mmt4d``, whose strategy tiles the batch by 1
  over workgroup z, then runs the same kernel); searched alone with ``--sketch
  mmt4d_script``, and on llvm-cpu by default besides the per-kind sketch (:data:`ALSO_SEARCHED`:
  its seed plus :data:`ALSO_SHARE` of the trials); in a model, confirmed winners are applied by the ``packed+library`` module
  variant of :func:`.tuner.tune_model` (:mod:`.packing` rewrites those contractions;
  :data:`NEEDS_MODULE_REWRITE` keeps them out of the spec and the plain library).

CPU convolution sketches (``linalg.conv_2d_nhwc_hwcf`` / ``conv_2d_nchw_fchw`` root ops):

* ``default``       — IREE's own configuration (``ConvTileAndDecomposeExpert``).
* ``conv_tiling``   — ``ConvTileAndDecomposeExpert`` with distribution tiles over OH, OW, OC, vector
  tiles over OW, OC (OH = 1, as decomposition to 1-D convs needs) and a reduction tile over IC
  (KH = KW = 1). Rendered as ``compilation_info``, matched by ``transform.iree.match.convolution``.
  Only for batch > 1: IREE 3.13 strips a unit batch before dispatch formation and its
  ``InsertBatchDimForBatchlessConvPass`` rebuilds the op after the tuning spec ran, dropping the
  lowering config (verified; see docs/op-level.md), so batch-1 schedules are rejected with that reason.
* ``img2col``       — IREE's img2col pre-pass (the conv becomes an im2col copy + ``linalg.matmul``)
  with IREE's default matmul config: a module-level choice with no knobs.
* ``img2col_tiling``— the img2col pre-pass plus ``DoubleTilingExpert`` tiles on that matmul
  (``dist_m``… as ``double_tiling``, over :meth:`ConvWorkload.gemm_view`), a ``cache_parallel``
  level ``cache_n`` (0: none) and loop peeling ``peel``; batch 1 only.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .dispatches import ConvWorkload, Workload

__all__ = ["Knob", "Sketch", "sketches_for", "search_sketch", "fixed_sketches", "fixed_schedules", "FIXED_SCHEDULES",
           "SKETCH_FLAGS", "IMG2COL_FLAG", "DATA_TILING_KNOB_FLAGS", "NEEDS_MODULE_REWRITE", "SEARCH_SEEDS",
           "SKETCH_SEEDS", "LANE_SEEDS", "search_seeds", "fit_seed", "SEED_CACHE_K", "host_vector_lanes", "mmt4d_tile_options",
           "mmt4d_register_rule", "VECTOR_REGISTERS",
           "ALSO_SEARCHED", "ALSO_SHARE", "also_sketches", "SCRIPT_UNSUPPORTED", "BATCH1_CONV_REASON",
           "KNOB_DEFAULTS", "SMEM_OPTIN_BYTES", "complete"]

#: Module-level iree-compile flags each sketch needs (decisions may add to them).
IMG2COL_FLAG = ("--iree-preprocessing-pass-pipeline=builtin.module(util.func("
                "iree-global-opt-convert-conv2d-to-img2col))")
SKETCH_FLAGS = {"default": [], "double_tiling": [], "data_tiling": ["--iree-opt-data-tiling"],
                "gpu_simt": [], "gpu_mma": [], "conv_tiling": [], "img2col": [IMG2COL_FLAG],
                "img2col_tiling": [IMG2COL_FLAG], "transform_script": [], "mmt4d_script": [],
                "spirv_simt": [], "spirv_coopmat": [], "gpu_script": [], "gpu_script_mma": []}

#: Op kinds whose script form IREE 3.13 does not execute, and why (as data; docs/op-level.md).
#: (The unit-dim compile hang first seen with batch_matmul and conv scripts came from the
#: vector.lower_shape_cast / vector.lower_broadcast patterns, which the strategy no longer applies.)
SCRIPT_UNSUPPORTED: dict[str, str] = {}
# (NCHW conv scripts used to give wrong results: the strategy's vectorize_children_and_apply_patterns
# vectorized the rank-reducing insert_slice around each decomposed 1-D NCW conv with a minor-identity
# write; NCHW scripts now vectorize the linalg ops alone and fold the slices; docs/op-level.md.)

#: Shared memory a workgroup may opt in to on Hopper (H100 / H200: 227 KiB; cudaDevAttrMaxSharedMemoryPerBlockOptin).
SMEM_OPTIN_BYTES = 232448

#: Knobs added to a sketch after records were stored: the value older decision sets implicitly had.
#: :func:`complete` fills them in, so history from earlier rounds stays usable.
KNOB_DEFAULTS = {"data_tiling": {"tile_bytes": 0, "inner_tiled": 0}, "transform_script": {"cache_k": 0},
                 "mmt4d_script": {"pack_a": 1},
                 "gpu_simt": {"prefetch": 0}, "gpu_mma": {"pipeline": "TileAndFuse"},
                 "gpu_script": {"inner_k": 0, "pad_smem": 0, "wg_order": 0, "one_group": 0, "min_blocks": 0},
                 "gpu_script_mma": {"wg_order": 0, "smem_optin": 0}}


#: Known good decision sets per sketch, shipped first in a workload's first remote round (where they are
#: valid for its shape): the best schedules measured on the lent H100 (docs/gpu.md, 2026-11-26).
SKETCH_SEEDS: dict[str, list[dict]] = {
    "gpu_script_mma": [  # fp16 4096^3, --timing cached on 5 H100s (sixth session): red_k 64 0.430-0.441 ms a
        # call (faster than red_k 32 in 8 of 9 paired passes), ncu kernel 355 us; red_k 32 0.436-0.446 ms, 366 us;
        # cuBLAS kernel 183 us (docs/gpu.md)
        dict(wg_m=128, wg_n=256, warp_m=64, warp_n=64, red_k=64, depth=3, sched=1, pad=1, wg_order=0, smem_optin=0),
        dict(wg_m=128, wg_n=256, warp_m=64, warp_n=64, red_k=32, depth=3, sched=1, pad=1, wg_order=0, smem_optin=0),
        dict(wg_m=256, wg_n=128, warp_m=64, warp_n=64, red_k=32, depth=4, sched=1, pad=1, wg_order=0, smem_optin=0),
        dict(wg_m=256, wg_n=128, warp_m=64, warp_n=64, red_k=32, depth=3, sched=1, pad=1, wg_order=0, smem_optin=0),
    ],
    "gpu_script": [
        dict(wg_m=64, wg_n=128, th_m=16, th_n=4, red_k=32, prefetch=2, inner_k=8, pad_smem=0, wg_order=0,
             one_group=0, min_blocks=0),
        dict(wg_m=128, wg_n=64, th_m=16, th_n=4, red_k=32, prefetch=2, inner_k=8, pad_smem=0, wg_order=0,
             one_group=0, min_blocks=0),
        dict(wg_m=64, wg_n=64, th_m=8, th_n=4, red_k=32, prefetch=2, inner_k=8, pad_smem=0, wg_order=0,
             one_group=0, min_blocks=0),
    ],
}


def complete(sketch: str, decisions: dict) -> dict:
    """``decisions`` with knobs added later (:data:`KNOB_DEFAULTS`) set to their implicit value."""
    extra = KNOB_DEFAULTS.get(sketch)
    if not extra or all(k in decisions for k in extra):
        return decisions
    return {**extra, **decisions}


@dataclass(frozen=True)
class Knob:
    """A named tunable with a finite list of options (as ``transform.tune.knob``)."""

    name: str
    options: tuple


def _pow2_upto(limit: int, lo: int = 1, hi: int = 1024) -> tuple[int, ...]:
    out, v = [], lo
    while v <= min(limit, hi):
        out.append(v)
        v *= 2
    return tuple(out) or (lo,)


@dataclass(frozen=True)
class Sketch:
    """A schedule structure for one workload with its knobs.

    ``validate(decisions)`` returns None or the reason a decision set is rejected *before*
    compiling (a tile that does not divide its level, a tile larger than the loop, …).
    """

    name: str
    workload: Workload
    knobs: tuple[Knob, ...]
    #: fp32 vector lanes of the target its register rule counts in (``mmt4d_script``; None: not lane-sized)
    lanes: int | None = field(default=None, compare=False)

    def sample(self, rng: random.Random, tries: int = 200) -> dict | None:
        """A random valid decision set (None when the space is empty)."""
        for _ in range(tries):
            d = {k.name: rng.choice(k.options) for k in self.knobs}
            if self.validate(d) is None:
                return d
        return None

    def mutate(self, decisions: dict, rng: random.Random, tries: int = 50) -> dict | None:
        """Change one knob to a neighbouring or random option, keeping the set valid."""
        for _ in range(tries):
            k = rng.choice(self.knobs)
            opts = list(k.options)
            i = opts.index(decisions[k.name]) if decisions[k.name] in opts else 0
            j = min(len(opts) - 1, max(0, i + rng.choice((-1, 1)))) if rng.random() < 0.7 else rng.randrange(len(opts))
            d = dict(decisions, **{k.name: opts[j]})
            if d != decisions and self.validate(d) is None:
                return d
        return None

    def size(self) -> int:
        n = 1
        for k in self.knobs:
            n *= len(k.options)
        return n

    def validate(self, d: dict) -> str | None:
        if set(d) != {k.name for k in self.knobs}:
            return f"decisions {sorted(d)} do not match knobs {[k.name for k in self.knobs]}"
        for k in self.knobs:
            if d[k.name] not in k.options:
                return f"{k.name}={d[k.name]} is not one of {k.options}"
        if self.name == "gpu_simt":
            return _validate_gpu_simt(self.workload, d)
        if self.name == "gpu_mma":
            return _validate_gpu_mma(self.workload, d)
        if self.name == "gpu_script":
            return _validate_gpu_script(self.workload, d)
        if self.name == "gpu_script_mma":
            return _validate_gpu_script_mma(self.workload, d)
        if self.name == "conv_tiling":
            return _validate_conv_tiling(self.workload, d)
        if self.name == "transform_script":
            return _validate_transform_script(self.workload, d)
        if self.name == "img2col_tiling":
            if self.workload.extents["N"] != 1:
                return "img2col_tiling needs batch 1 (img2col of a batched conv is not a linalg.matmul)"
            if d["cache_n"] and (d["cache_n"] % d["vec_n"] or d["dist_n"] % d["cache_n"]):
                return f"cache_n={d['cache_n']} must be a multiple of vec_n and divide dist_n"
            return _validate_double_tiling(self.workload.gemm_view(), d)
        if self.name == "spirv_simt":
            return _validate_spirv_simt(self.workload, d)
        if self.name == "spirv_coopmat":
            return _validate_spirv_coopmat(self.workload, d)
        if self.name == "data_tiling":
            return _validate_data_tiling(self.workload, d)
        if self.name == "mmt4d_script":
            return _validate_mmt4d_script(self.workload, d, self.lanes or host_vector_lanes())
        if self.name != "double_tiling":
            return None
        return _validate_double_tiling(self.workload, d)

    def flags(self, d: dict) -> list[str]:
        """Module-level iree-compile flags for these decisions."""
        fl = list(SKETCH_FLAGS[self.name])
        if self.name == "data_tiling":
            for knob, render in DATA_TILING_KNOB_FLAGS.items():
                if d.get(knob):
                    fl.extend(render(d[knob]))
        return fl


#: data_tiling knob -> the iree-compile flags a true / non-zero value adds (verified on IREE 3.13).
DATA_TILING_KNOB_FLAGS = {
    "ukernels": lambda v: ["--iree-llvmcpu-enable-ukernels=mmt4d"],
    "mmt4d_intrinsics": lambda v: ["--iree-codegen-mmt4d-use-intrinsics"],
    "llvm_unroll": lambda v: ["--iree-llvmcpu-loop-unrolling"],
    "tile_bytes": lambda v: [f"--iree-llvmcpu-matmul-tile-bytes={v}"],
    "inner_tiled": lambda v: ["--iree-llvmcpu-enable-inner-tiled"]
    + (["--iree-llvmcpu-enable-llvm-ukernels=inner_tiled"] if v == 2 else []),
}


def _validate_data_tiling(w: Workload, d: dict) -> str | None:
    if d.get("inner_tiled") and w.op != "linalg.matmul":
        # "failed to legalize operation 'linalg.batch_matmul'" in encoding materialization (verified)
        return f"inner_tiled: IREE 3.13 does not materialize encodings of {w.op} to inner_tiled (compile error)"
    if d.get("inner_tiled") and d.get("tile_bytes"):
        # inner_tiled's distribution stays [1, 1, 0] from 64 KiB to 16 MiB (1024³ f32, znver3, verified)
        return "tile_bytes does not change inner_tiled's workgroup tiles (always one register tile)"
    if d.get("inner_tiled") and d.get("mmt4d_intrinsics"):
        # same .vmfb byte for byte with and without the flag (1024³ f32, znver3, 2026-11-26)
        return "mmt4d_intrinsics acts on linalg.mmt4d, which inner_tiled does not produce (identical code)"
    return None


#: Decision sets measured once per workload besides its searched sketch (CPU contractions): module-level
#: routes the per-op search space cannot express (see docs/op-level.md, "Closing the 1024³ gap").
FIXED_SCHEDULES: dict[str, list[dict]] = {
    "data_tiling": [
        dict(ukernels=False, mmt4d_intrinsics=False, llvm_unroll=False, tile_bytes=0, inner_tiled=0),
        dict(ukernels=True, mmt4d_intrinsics=False, llvm_unroll=False, tile_bytes=0, inner_tiled=0),
        dict(ukernels=False, mmt4d_intrinsics=False, llvm_unroll=False, tile_bytes=0, inner_tiled=1),
    ],
}
#: Known good decision sets measured first when a search explores that sketch (``--sketch``): the
#: 4x16 packed kernel matched torch single-threaded on 1024³ (docs/op-level.md, 2026-11-26).
SEARCH_SEEDS: dict[str, list[dict]] = {
    "mmt4d_script": [dict(m0=4, n0=16, wg_m1=8, wg_n1=8, cache_k=0, unroll=4, order=0, pack_a=1)],
}
#: Seeds of lane-sized sketches for targets whose fp32 vector lanes differ from AVX2's 8 (those are
#: :data:`SEARCH_SEEDS`): sketch -> lanes -> decision sets. AVX-512 (16 lanes): 8x32 (16 of 32 zmm
#: accumulators) in 128x128 workgroup tiles, the fastest of the tiles measured on 1024³ on an Intel Xeon
#: (Emerald Rapids, 2 cores, under load, 2026-11-27): 1.41x torch at 1 thread CPU time where 4x16 was
#: 2.32x; no K blocking, so it is valid wherever K is a multiple of 4 (docs/op-level.md, "mmt4d_script on
#: AVX-512"; benchmarks/results/matmul-1024-mmt4d-avx512-tiles-xeon-avx512-load-2026-11-27.txt). First the
#: same tile with B packed alone (``pack_a`` 0: 1.08x torch at 1 thread where the packed-A form was 1.24x,
#: same run, eleventh session), valid where 128 divides M and 128 divides N; elsewhere the packed-A seed.
LANE_SEEDS: dict[str, dict[int, list[dict]]] = {
    "mmt4d_script": {16: [dict(m0=8, n0=32, wg_m1=16, wg_n1=4, cache_k=0, unroll=4, order=0, pack_a=0),
                          dict(m0=8, n0=32, wg_m1=16, wg_n1=4, cache_k=0, unroll=4, order=0, pack_a=1)]},
}


#: K-block sizes a fitted seed tries, largest first (:func:`fit_seed`).
SEED_CACHE_K = (256, 128, 64, 32)


def fit_seed(w: Workload, sketch: str, d: dict, l2_bytes: int | None = None) -> dict:
    """Seed ``d`` of ``sketch`` fitted to ``w``: an ``mmt4d_script`` seed without K blocking gets the
    largest valid ``cache_k`` of :data:`SEED_CACHE_K` when one workgroup's operands — its
    ``m0 * wg_m1`` rows of A and ``wg_n1`` panels of ``n0`` columns of B, ``K`` deep — exceed the
    per-core L2 (``l2_bytes``, default this machine's: :func:`~mlir_opt.backend.targets.cpu_cache_bytes`).
    Measured on an Intel Xeon (2 MiB L2, AVX-512 8x32 B-packed seed, 2026-11-27): BERT's FFN-down
    ``128x768x3072`` (3 MiB a workgroup) ran 17 % faster at 1 thread and 10 % at 2 with ``cache_k`` 256,
    while 1024³ (1 MiB), 2048³ (2 MiB) and FFN-up (K 768) were unchanged within the noise — so the rule
    leaves them alone. Other sketches and seeds that already block K are returned as they are."""
    if sketch != "mmt4d_script" or d.get("cache_k"):
        return d
    k = w.extents.get("K", 0)
    if l2_bytes is None:
        from ..backend.targets import cpu_cache_bytes

        l2_bytes = cpu_cache_bytes(2)
    if (d["m0"] * d["wg_m1"] + d["n0"] * d["wg_n1"]) * k * 4 <= l2_bytes:
        return d
    for kc in SEED_CACHE_K:
        if kc < k and k % kc == 0 and kc % d["unroll"] == 0:
            return {**d, "cache_k": kc}
    return d


def search_seeds(sketch: str, lanes: int | None = None) -> list[dict]:
    """The seeds of ``sketch`` for a target of ``lanes`` fp32 vector lanes (default: this machine's,
    :func:`host_vector_lanes`): :data:`LANE_SEEDS` where it has that width, else :data:`SEARCH_SEEDS`
    ([] for a sketch without seeds)."""
    by_lanes = LANE_SEEDS.get(sketch)
    if by_lanes:
        got = by_lanes.get(lanes or host_vector_lanes())
        if got is not None:
            return got
    return SEARCH_SEEDS.get(sketch, [])


#: Sketches searched *besides* :func:`search_sketch` when no sketch is named (``tune`` without
#: ``--sketch``, ``optimize --op-search S`` without ``--op-sketch``), per target: on llvm-cpu the
#: packed route, so that a model's f32 matmuls / batch_matmuls get it without the flag. Each such
#: sketch is measured with its :data:`SEARCH_SEEDS` right after IREE's default and gets
#: :data:`ALSO_SHARE` of the workload's search trials; its winners reach the model through the
#: packed module variants of :func:`.tuner.tune_model` (docs/op-level.md, "Packed route by default").
ALSO_SEARCHED: dict[str, tuple[str, ...]] = {"llvm-cpu": ("mmt4d_script",)}
#: Share of a workload's search trials (after the fixed schedules) each :data:`ALSO_SEARCHED` sketch gets.
ALSO_SHARE = 0.25


def also_sketches(w: Workload, target: str = "llvm-cpu", searched: str | None = None) -> list[Sketch]:
    """The :data:`ALSO_SEARCHED` sketches of ``target`` that apply to ``w`` (have knobs for it),
    other than ``searched``."""
    names = ALSO_SEARCHED.get(target, ())
    return [s for s in sketches_for(w, target) if s.name in names and s.knobs and s.name != searched]


#: Sketches whose payload is a rewritten module (not the model's op): measured on single-op modules
#: (op_search, ``--sketch``); a model gets their winners only through a module variant that performs
#: the rewrite (``packed+library`` in :func:`.tuner.tune_model`), never through the spec.
NEEDS_MODULE_REWRITE: dict[str, str] = {
    "mmt4d_script": "its payload is the matmul rewritten as pack + linalg.mmt4d + unpack: a model "
                    "gets it as the packed+library module variant (packing.pack_contractions), "
                    "not through the spec or the plain library",
}


#: Why per-op conv configs are refused at batch 1 (verified on IREE 3.13, see docs/op-level.md).
BATCH1_CONV_REASON = ("IREE 3.13 drops per-op configs of batch-1 convolutions (the unit batch is folded "
                      "before dispatch formation; InsertBatchDimForBatchlessConvPass rebuilds the op after "
                      "the tuning spec ran, without its lowering_config): use img2col_tiling")


def _validate_conv_tiling(w: Workload, d: dict) -> str | None:
    e = w.extents
    if e["N"] == 1:
        return BATCH1_CONV_REASON
    return _check_conv_tiles(e, d, "dist")


def _check_conv_tiles(e: dict, d: dict, outer: str) -> str | None:
    """Outer (``dist_*``/``wg_*``) tiles must tile OH/OW/OC, vector tiles divide them, vec_ic divide IC."""
    for dim in ("OH", "OW", "OC"):
        t = f"{outer}_{dim.lower()}"
        if d[t] > e[dim] or e[dim] % d[t]:
            return f"{t}={d[t]} does not tile {dim}={e[dim]}"
    for dim in ("ow", "oc"):
        t, vec = f"{outer}_{dim}", f"vec_{dim}"
        if d[t] % d[vec]:
            return f"{vec}={d[vec]} does not divide {t}={d[t]}"
    if e["IC"] % d["vec_ic"]:
        return f"vec_ic={d['vec_ic']} does not divide IC={e['IC']}"
    if d["vec_ow"] * d["vec_oc"] > 256:
        return f"vector tile {d['vec_ow']}x{d['vec_oc']} exceeds 256 accumulators (register spill)"
    return None


def _validate_transform_script(w: Workload, d: dict) -> str | None:
    from .transform_script import script_supported

    why = script_supported(w)
    if why:
        return why
    e = w.extents
    if isinstance(w, ConvWorkload):
        return _check_conv_tiles(e, d, "wg")
    for dim, wg, vec in (("M", "wg_m", "vec_m"), ("N", "wg_n", "vec_n")):
        if d[wg] > e[dim] or e[dim] % d[wg]:
            return f"{wg}={d[wg]} does not tile {dim}={e[dim]}"
        if d[wg] % d[vec]:
            return f"{vec}={d[vec]} does not divide {wg}={d[wg]}"
    if e["K"] % d["vec_k"]:
        return f"vec_k={d['vec_k']} does not divide K={e['K']}"
    if (e["K"] // d["vec_k"]) % d["unroll"]:
        return f"unroll={d['unroll']} does not divide the {e['K'] // d['vec_k']} reduction steps"
    ck = d.get("cache_k")
    if ck and (ck >= e["K"] or e["K"] % ck or ck % (d["vec_k"] * d["unroll"])):
        return (f"cache_k={d['cache_k']} must divide K={e['K']} (and be smaller) and be a multiple of "
                f"vec_k*unroll={d['vec_k'] * d['unroll']}")
    if d["vec_m"] * d["vec_n"] > 256:
        return f"vector tile {d['vec_m']}x{d['vec_n']} exceeds 256 accumulators (register spill)"
    return None


def _packable(w: Workload) -> bool:
    """f32 ``linalg.matmul`` or ``linalg.batch_matmul`` with standard operand layouts (a unit batch is
    collapsed to a matmul, a larger one packed into ``linalg.batch_mmt4d``)."""
    return (w.types == ("f32", "f32", "f32") and not isinstance(w, ConvWorkload)
            and w.op in ("linalg.matmul", "linalg.batch_matmul"))


_LANES_MEMO: list = [None, 8]  # [the detection function asked, its answer]


def host_vector_lanes() -> int:
    """fp32 vector lanes of this machine (:func:`~mlir_opt.backend.targets.cpu_vector_lanes`): what
    lane-sized sketches count in by default. Remembered per detection function (reading /proc/cpuinfo
    costs ~70 us and sketches are built per validation), so a test that replaces that function is heard."""
    from ..backend import targets

    fn = targets.cpu_vector_lanes
    if _LANES_MEMO[0] is not fn:
        _LANES_MEMO[:] = [fn, fn()]
    return _LANES_MEMO[1]


#: x86 vector registers by fp32 lanes: 16 xmm (SSE, 4 lanes), 16 ymm (AVX2, 8), 32 zmm (AVX-512, 16).
VECTOR_REGISTERS: dict[int, tuple[int, str]] = {4: (16, "xmm"), 8: (16, "ymm"), 16: (32, "zmm")}
#: Registers an ``mmt4d_script`` kernel keeps free of accumulators: the B row vectors and the A broadcast.
MMT4D_SPARE_REGISTERS = 4


def mmt4d_tile_options(lanes: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(m0 options, n0 options)`` of the ``mmt4d_script`` register tile for ``lanes`` fp32 lanes.

    n0 is a whole number of vectors; m0 rows are broadcast from A. AVX2 (8 lanes): m0 4, 6, 8 and
    n0 8, 16 (1 or 2 ymm columns; the options every AVX2 record was searched with). AVX-512 (16 lanes,
    32 zmm): n0 16, 32, 64 (1, 2 or 4 zmm columns) and m0 up to 14 rows (14 x 2 zmm = 28 accumulators),
    filtered by :func:`mmt4d_register_rule`; not 3 columns: an 8x48 tile's mmt4d kernel took 237 ms on
    1024³ where 8x32's took 15-18 ms (Xeon AVX-512, 2026-11-27, docs/op-level.md "mmt4d_script on AVX-512").
    Other widths: 1 or 2 vectors of m0 4, 6, 8."""
    if lanes == 8:
        return (4, 6, 8), (8, 16)
    if lanes == 16:
        return (4, 6, 8, 12, 14), (16, 32, 64)
    return (4, 6, 8), (lanes, 2 * lanes)


def mmt4d_register_rule(m0: int, n0: int, lanes: int) -> str | None:
    """None if an ``m0`` x ``n0`` register tile's accumulators (m0 rows x n0/lanes vectors) leave
    :data:`MMT4D_SPARE_REGISTERS` of the target's vector registers free, else why it would spill."""
    regs, name = VECTOR_REGISTERS.get(lanes, (16, "vector"))
    acc = m0 * -(-n0 // lanes)
    if acc > regs - MMT4D_SPARE_REGISTERS:
        return (f"register tile {m0}x{n0} needs {acc} of {regs} {name} accumulators "
                f"(> {regs - MMT4D_SPARE_REGISTERS}: spills)")
    return None


def _validate_mmt4d_script(w: Workload, d: dict, lanes: int = 8) -> str | None:
    if not _packable(w):
        return f"mmt4d_script packs f32 linalg.matmul / batch_matmul only (not {w.key})"
    e = w.extents
    if why := mmt4d_register_rule(d["m0"], d["n0"], lanes):
        return why
    kc = d["cache_k"] or e["K"]
    if d["cache_k"] and (d["cache_k"] >= e["K"] or e["K"] % d["cache_k"]):
        return f"cache_k={d['cache_k']} must divide K={e['K']} and be smaller (0: no K blocking)"
    if kc % d["unroll"]:
        return f"unroll={d['unroll']} does not divide the {kc} k steps of a block"
    if not d.get("pack_a", 1):  # B packed only: no padding, whole register and workgroup tiles
        from .transform_script import packb_reason

        if why := packb_reason(w, d["n0"]):
            return why
        if e["M"] % (d["m0"] * d["wg_m1"]):
            return (f"pack_a=0 needs M={e['M']} a multiple of m0 x wg_m1 = {d['m0'] * d['wg_m1']} "
                    "(A is not padded; partial tiles put the accumulators on the stack)")
        if (e["N"] // d["n0"]) % d["wg_n1"]:
            return f"pack_a=0 needs wg_n1={d['wg_n1']} to divide the {e['N'] // d['n0']} B panels"
    return None


def _validate_double_tiling(w: Workload, d: dict) -> str | None:
    e = w.extents
    for dim, dist, vec in (("M", "dist_m", "vec_m"), ("N", "dist_n", "vec_n")):
        if d[dist] > e[dim]:
            return f"{dist}={d[dist]} exceeds {dim}={e[dim]}"
        if d[dist] % d[vec]:
            return f"{vec}={d[vec]} does not divide {dist}={d[dist]}"
    if e["K"] % d["vec_k"]:
        return f"vec_k={d['vec_k']} does not divide K={e['K']}"
    if d["vec_m"] * d["vec_n"] > 1024:
        return f"vector tile {d['vec_m']}x{d['vec_n']} exceeds 1024 elements (register spill)"
    return None


def _validate_simt_tiles(w: Workload, d: dict, min_threads: int) -> str | None:
    """Checks shared by the CUDA and SPIR-V SIMT sketches: workgroup/thread/reduction tiles divide
    the problem, a multiple of 32 threads in [min_threads, 1024], at most 128 accumulators."""
    e = w.extents
    for dim, wg, th in (("M", "wg_m", "th_m"), ("N", "wg_n", "th_n")):
        if d[wg] > e[dim] or e[dim] % d[wg]:
            return f"{wg}={d[wg]} does not tile {dim}={e[dim]}"
        if d[wg] % d[th]:
            return f"{th}={d[th]} does not divide {wg}={d[wg]}"
    if e["K"] % d["red_k"]:
        return f"red_k={d['red_k']} does not divide K={e['K']}"
    threads = (d["wg_m"] // d["th_m"]) * (d["wg_n"] // d["th_n"])
    if threads < min_threads or threads > 1024 or threads % 32:
        return f"{threads} threads per workgroup (need a multiple of 32 in [{min_threads}, 1024])"
    if d["th_m"] * d["th_n"] > 128:
        return f"thread tile {d['th_m']}x{d['th_n']} exceeds 128 accumulators"
    return None


def _validate_gpu_simt(w: Workload, d: dict) -> str | None:
    if err := _validate_simt_tiles(w, d, 64):
        return err
    if d["prefetch"] and not d["promote"]:
        return "prefetch needs promote=1 (operands staged in shared memory)"
    smem = (d["wg_m"] + d["wg_n"]) * d["red_k"] * 4 * (1 if d["promote"] else 0) * max(1, d["prefetch"] - 1)
    if smem > 96 * 1024:
        return f"shared memory {smem} B exceeds 96 KiB"
    return None


def _validate_gpu_script(w: Workload, d: dict) -> str | None:
    from .transform_script import gpu_script_layout, script_supported

    if why := script_supported(w):
        return why
    if err := _validate_simt_tiles(w, d, 64):
        return err
    lay = gpu_script_layout(w, d)
    if d["inner_k"] and (d["inner_k"] >= d["red_k"] or d["red_k"] % d["inner_k"]):
        return f"inner_k={d['inner_k']} must divide red_k={d['red_k']} and be smaller (0: no inner slices)"
    if d["wg_n"] // 4 > lay["threads"]:
        return f"red_k={d['red_k']}, wg_n={d['wg_n']}: the staging copies need 4-wide rows and wg_n/4 <= threads"
    am, ak = lay["a_threads"]
    bk, bn = lay["b_threads"]
    if d["wg_m"] % am or lay["threads"] % ak or d["red_k"] % bk:
        return f"the staging copies do not divide evenly over {lay['threads']} threads"
    if d["prefetch"] >= 2 and (d["inner_k"] == 2 or d["red_k"] < 4):
        return "cp.async staging (prefetch >= 2) needs 4-float aligned fragment reads (inner_k != 2, red_k >= 4)"
    if d["one_group"] and d["prefetch"] < 2:
        return "one_group (one cp.async group per reduction step) applies to cp.async staging (prefetch >= 2)"
    if d["prefetch"] >= 2 and d["pad_smem"]:
        return ("pad_smem with cp.async staging gave wrong results on the H100 (relative error 0.38, "
                "2026-11-26): not combined")
    if d["prefetch"] == 1 and (am * ak < lay["threads"] or bk * bn < lay["threads"]):
        return ("prefetch needs every thread in both staging copies (IREE's prefetch transform does not "
                "pipeline guarded copies)")
    smem = (d["wg_m"] * (d["red_k"] + 4 * d["pad_smem"]) + (d["wg_n"] + 4 * d["pad_smem"]) * d["red_k"]) * 4
    smem *= max(1, d["prefetch"])  # prefetch >= 2: that many rotating buffers
    # sm_80's 163 KiB workgroup limit less room, as gpu_script_mma (IREE launches kernels above 48 KiB with
    # dynamic shared memory; f32 staging above 48 KiB checked on the H200, docs/gpu.md ninth session)
    if smem > 160 * 1024:
        return f"shared memory {smem} B exceeds 160 KiB"
    regs = min(255, 2 * d["th_m"] * d["th_n"] + 32)  # accumulators + operand fragments (ptxas: 8x8 -> ~160)
    if mb := d.get("min_blocks", 0):
        # nvvm.minctasm: ptxas caps registers so that mb workgroups fit an SM together (65536 registers,
        # 2048 threads, 227 KiB of shared memory on the H100 / H200, 1 KiB of it reserved per workgroup)
        cap = 65536 // (mb * lay["threads"]) // 8 * 8
        if mb * lay["threads"] > 2048 or mb * (smem + 1024) > SMEM_OPTIN_BYTES + 1024:
            return f"min_blocks={mb}: {mb} workgroups of {lay['threads']} threads and {smem} B do not fit an SM"
        if cap < d["th_m"] * d["th_n"] + 48:
            return (f"min_blocks={mb} caps registers at {cap}: too few for {d['th_m']}x{d['th_n']} accumulators "
                    f"and their operands")
        regs = min(regs, cap)
    if lay["threads"] * regs > 65536:
        return f"{lay['threads']} threads x ~{regs} registers exceed the SM's 65536 registers (launch would fail)"
    return None


def _validate_gpu_script_mma(w: Workload, d: dict) -> str | None:
    from .transform_script import gpu_mma_layout

    if w.kind not in ("matmul", "batch_matmul", "matmul_like") or tuple(w.types) != ("f16", "f16", "f32"):
        return "the mma.sync script template is for linalg.matmul / batch_matmul / matmul_like f16 x f16 -> f32"
    e = w.extents
    if e["M"] % d["wg_m"] or e["N"] % d["wg_n"] or e["K"] % d["red_k"]:
        return f"tiles {d['wg_m']}x{d['wg_n']}x{d['red_k']} do not divide {e['M']}x{e['N']}x{e['K']}"
    if d["wg_m"] % d["warp_m"] or d["wg_n"] % d["warp_n"]:
        return f"warp tile {d['warp_m']}x{d['warp_n']} does not divide the workgroup tile {d['wg_m']}x{d['wg_n']}"
    lay = gpu_mma_layout(w, d)
    if not 64 <= lay["threads"] <= 512:
        return f"{lay['threads']} threads per workgroup (64-512 supported)"
    am, ak = lay["a_threads"]
    bk, bn = lay["b_threads"]
    if d["wg_m"] % am or d["red_k"] % bk or am * ak > lay["threads"] or bk * bn > lay["threads"]:
        return f"the 16-byte staging copies do not divide evenly over {lay['threads']} threads"
    if d["depth"] == 1 and (am * ak != lay["threads"] or bk * bn != lay["threads"]):
        return ("depth 1 (register prefetch) needs every thread in both staging copies (IREE's prefetch "
                "transform does not pipeline guarded copies)")
    if d["sched"] and (d["depth"] < 3 or d["red_k"] < 32):
        return ("sched 1 (IREE's tensor-core pipeline schedule) needs depth >= 3 and two k16 steps a stage "
                "(red_k >= 32); IREE silently leaves the loop unpipelined otherwise")
    pad = 8 * d["pad"]  # halves
    smem = (d["wg_m"] * (d["red_k"] + pad) + d["red_k"] * (d["wg_n"] + pad)) * 2 * max(1, d["depth"])
    limit = (SMEM_OPTIN_BYTES - 3 * 1024) if d.get("smem_optin") else 160 * 1024
    if smem > limit:  # sm_80's max_workgroup_memory_bytes is 166912 (IREE uses dynamic shared memory);
        # smem_optin compiles against Hopper's 227 KiB opt-in (transform_script.smem_optin_module)
        return f"shared memory {smem} B exceeds {limit // 1024} KiB"
    if d.get("smem_optin") and smem <= 160 * 1024:
        return f"smem_optin is for staging above 160 KiB ({smem} B fits without it)"
    # accumulators (warp_m*warp_n/32 floats a thread) + A/B fragments of one k16 step + addressing
    regs = d["warp_m"] * d["warp_n"] // 32 + d["warp_m"] // 4 + d["warp_n"] // 4 + 40
    if regs > 255 or lay["threads"] * regs > 65536:
        return f"{lay['threads']} threads x ~{regs} registers exceed the SM's register file (launch would fail)"
    return None


#: SPIR-V cooperative-matrix shape IREE uses for f16 on NVIDIA Vulkan targets (16x16x16).
COOPMAT = 16


def _validate_spirv_simt(w: Workload, d: dict) -> str | None:
    if err := _validate_simt_tiles(w, d, 32):
        return err
    if d["th_n"] not in (1, 2, 4, 8, 16):
        return f"th_n={d['th_n']} is not a vector width"
    smem = (d["wg_m"] + d["wg_n"]) * d["red_k"] * 4 * (d["depth"] + 1)
    if smem > 48 * 1024:
        return f"shared memory {smem} B exceeds Vulkan's 48 KiB"
    return None


def _validate_spirv_coopmat(w: Workload, d: dict) -> str | None:
    e = w.extents
    for dim, wg, sub in (("M", "wg_m", "sub_m"), ("N", "wg_n", "sub_n")):
        if d[wg] > e[dim] or e[dim] % d[wg]:
            return f"{wg}={d[wg]} does not tile {dim}={e[dim]}"
        if d[wg] % d[sub] or d[sub] % COOPMAT:
            return f"{sub}={d[sub]} does not divide {wg}={d[wg]} in {COOPMAT}-wide tiles"
    if e["K"] % d["red_k"] or d["red_k"] % COOPMAT:
        return f"red_k={d['red_k']} does not tile K={e['K']} in steps of {COOPMAT}"
    subgroups = (d["wg_m"] // d["sub_m"]) * (d["wg_n"] // d["sub_n"])
    if not 1 <= subgroups <= 16:
        return f"{subgroups} subgroups per workgroup (need 1..16)"
    smem = (d["wg_m"] + d["wg_n"]) * d["red_k"] * 2 * (d["depth"] + 1)
    if smem > 48 * 1024:
        return f"shared memory {smem} B exceeds Vulkan's 48 KiB"
    return None


#: The MMA intrinsic IREE 3.13 uses for f16 on sm_80 (Ampere mma.sync; no wgmma without sm_90).
MMA_F16 = ("NV_MMA_SYNC_F32_16x8x16_F16", 16, 8, 16)


def _validate_gpu_mma(w: Workload, d: dict) -> str | None:
    e = w.extents
    _, mm, mn, mk = MMA_F16
    for dim, wg, sub, unit in (("M", "wg_m", "sub_m", mm), ("N", "wg_n", "sub_n", mn)):
        if d[wg] > e[dim] or e[dim] % d[wg]:
            return f"{wg}={d[wg]} does not tile {dim}={e[dim]}"
        if d[wg] % (unit * d[sub]):
            return f"{sub}={d[sub]} MMA tiles of {unit} do not divide {wg}={d[wg]}"
    if e["K"] % (mk * d["red_k"]):
        return f"red_k={d['red_k']} MMA steps of {mk} do not divide K={e['K']}"
    subgroups = gpu_subgroups(d)
    if not 1 <= subgroups <= 16:
        return f"{subgroups} subgroups per workgroup (need 1..16)"
    smem = (d["wg_m"] + d["wg_n"]) * mk * d["red_k"] * 2 * max(1, d["prefetch"] - 1)
    if smem > 160 * 1024:  # sm_80's max_workgroup_memory_bytes is 166912
        return f"shared memory {smem} B exceeds 160 KiB"
    return None


def gpu_subgroups(d: dict) -> int:
    """Subgroups (warps) of a gpu_mma schedule."""
    _, mm, mn, _ = MMA_F16
    return (d["wg_m"] // (mm * d["sub_m"])) * (d["wg_n"] // (mn * d["sub_n"]))


def gpu_workgroup_size(d: dict) -> list[int]:
    """``workgroup_size`` for a gpu_simt schedule: [threads along M, threads along N, 1]."""
    return [d["wg_m"] // d["th_m"], d["wg_n"] // d["th_n"], 1]


def _divisors(n: int, lo: int = 1, hi: int = 1 << 30) -> tuple[int, ...]:
    return tuple(v for v in range(lo, min(n, hi) + 1) if n % v == 0) or (n,)


def _conv_sketches(w: ConvWorkload) -> list[Sketch]:
    e = w.extents
    out = [Sketch("default", w, ()), Sketch("img2col", w, ())]
    if e["N"] == 1:
        g = w.gemm_view().extents
        out.append(Sketch("img2col_tiling", w, (
            Knob("dist_m", _pow2_upto(g["M"], 8, 256)),
            Knob("dist_n", _pow2_upto(g["N"], 8, 512)),
            Knob("vec_m", (1, 2, 4, 8, 16)),
            Knob("vec_n", (4, 8, 16, 32, 64)),
            Knob("vec_k", (1, 2, 4, 8, 16)),
            Knob("cache_n", (0, 16, 32, 64, 128)),
            Knob("peel", (0, 1)),
        )))
    out.append(Sketch("transform_script", w, (
        Knob("wg_oh", _divisors(e["OH"], 1, 32)),
        Knob("wg_ow", _divisors(e["OW"], 1, 64)),
        Knob("wg_oc", _divisors(e["OC"], 4, 256)),
        Knob("vec_ow", tuple(v for v in (1, 2, 4, 7, 8, 14, 16) if e["OW"] % v == 0)),
        Knob("vec_oc", tuple(v for v in (4, 8, 16, 32) if e["OC"] % v == 0) or (e["OC"],)),
        Knob("vec_ic", _divisors(e["IC"], 1, 64)),
        Knob("order", (0, 1)),
        Knob("cache_k", (0,)),  # K blocking is rendered for matmul scripts only (shared knob set)
    )))
    out.append(Sketch("conv_tiling", w, (
        Knob("dist_oh", _divisors(e["OH"], 1, 32)),
        Knob("dist_ow", _divisors(e["OW"], 1, 64)),
        Knob("dist_oc", _divisors(e["OC"], 4, 256)),
        Knob("vec_ow", tuple(v for v in (1, 2, 4, 7, 8, 14, 16) if e["OW"] % v == 0)),
        Knob("vec_oc", tuple(v for v in (4, 8, 16, 32) if e["OC"] % v == 0) or (e["OC"],)),
        Knob("vec_ic", _divisors(e["IC"], 1, 64)),
    )))
    return out


def search_sketch(w: Workload, target: str = "llvm-cpu") -> Sketch:
    """The sketch a search explores for ``w``: double_tiling for contractions; for convolutions
    conv_tiling (batch > 1) or img2col_tiling (batch 1, where IREE 3.13 drops per-op conv configs)."""
    names = ("img2col_tiling", "conv_tiling") if isinstance(w, ConvWorkload) else \
        ("double_tiling", "gpu_mma", "gpu_simt", "spirv_simt")
    sks = {s.name: s for s in sketches_for(w, target)}
    return next(sks[n] for n in names if n in sks)


def fixed_sketches(w: Workload, target: str = "llvm-cpu") -> list[Sketch]:
    """Knob-less sketches measured once per workload besides the default (e.g. img2col for convs)."""
    return [s for s in sketches_for(w, target) if not s.knobs and s.name != "default"
            and isinstance(w, ConvWorkload)]


def fixed_schedules(w: Workload, target: str = "llvm-cpu", searched: str | None = None,
                    also: tuple[str, ...] = (), lanes: int | None = None) -> list[tuple[str, dict]]:
    """``(sketch, decisions)`` measured once per workload besides the default: the knob-less
    sketches of :func:`fixed_sketches` (img2col for convs) and, for CPU contractions, the data
    tiling routes of :data:`FIXED_SCHEDULES` (module-level flags; a winner among them is carried
    to the model as a module-level variant, not by the tuning spec), plus the
    :data:`SEARCH_SEEDS` of the ``searched`` sketch (those first) and then of the sketches
    searched ``also`` (:data:`ALSO_SEARCHED`); lane-sized seeds for ``lanes`` fp32 vector lanes
    (default: this machine's; :func:`search_seeds`), each fitted to ``w`` (:func:`fit_seed`: K blocking
    where one workgroup's operands overflow the L2; the seed as it is if the fit is not valid)."""
    out = [(s.name, {}) for s in fixed_sketches(w, target)]
    if isinstance(w, ConvWorkload):
        return out
    sks = {s.name: s for s in sketches_for(w, target, lanes)}
    # the named sketch's seeds first: with a small budget they are what --sketch asked for
    sets = {searched: search_seeds(searched, lanes)} if searched in SEARCH_SEEDS else {}
    sets.update((n, search_seeds(n, lanes)) for n in also if n in SEARCH_SEEDS and n not in sets)
    sets.update((k, v) for k, v in FIXED_SCHEDULES.items() if k not in sets)
    for name, ds in sets.items():
        if name in sks:
            fitted = []
            for d in ds:  # each seed fitted to w (K blocking where a workgroup overflows the L2), else as it is
                f = next((c for c in (fit_seed(w, name, dict(d)), dict(d)) if sks[name].validate(c) is None), None)
                if f is not None and f not in fitted:
                    fitted.append(f)
            out += [(name, f) for f in fitted]
    return out


def _spirv_simt(w: Workload) -> Sketch:
    return Sketch("spirv_simt", w, (
        Knob("wg_m", (8, 16, 32, 64, 128, 256)),
        Knob("wg_n", (32, 64, 128, 256)),
        Knob("th_m", (1, 2, 4, 8, 16)),
        Knob("th_n", (1, 2, 4, 8, 16)),
        Knob("red_k", (4, 8, 16, 32, 64)),
        Knob("depth", (1, 2, 3, 4)),
        Knob("store_stage", (0, 1)),
    ))


def _gpu_script(w: Workload) -> Sketch:
    """CUDA f32 contraction as a transform-dialect strategy (see transform_scripts/gpu_matmul_strategy.mlir)."""
    return Sketch("gpu_script", w, (
        Knob("wg_m", (32, 64, 128, 256)),
        Knob("wg_n", (32, 64, 128, 256)),
        Knob("th_m", (2, 4, 8, 16)),
        Knob("th_n", (4, 8)),
        Knob("red_k", (4, 8, 16, 32, 64)),
        Knob("prefetch", (0, 1, 2, 3)),
        Knob("inner_k", (0, 2, 4, 8)),
        Knob("pad_smem", (0, 1)),
        Knob("wg_order", (0, 1)),
        Knob("one_group", (0, 1)),
        Knob("min_blocks", (0, 2, 3, 4)),
    ))


def _gpu_script_mma(w: Workload) -> Sketch:
    """CUDA f16 x f16 -> f32 matmul or batch_matmul (batch on the grid's z) as a transform-dialect mma.sync strategy
    (see transform_scripts/gpu_mma_strategy.mlir): workgroup and warp tiles, reduction step, ``depth``
    (0: plain staging, 1: register prefetch of the next step, 2-4: that many cp.async shared buffers,
    software-pipelined), ``sched`` (0: IREE's generic pipeline schedule, 1: its tensor-core schedule) and
    ``pad`` (16-byte row padding of the staged tiles against ldmatrix bank conflicts), ``wg_order``
    (1: consecutive workgroups walk M instead of N) and ``smem_optin`` (1: staging buffers above sm_80's
    163 KiB, up to the 227 KiB a Hopper workgroup may opt in to; the module is compiled against that limit,
    :func:`.transform_script.smem_optin_module`, and only launches on H100/H200-class GPUs)."""
    return Sketch("gpu_script_mma", w, (
        Knob("wg_m", (64, 128, 256)),
        Knob("wg_n", (64, 128, 256)),
        Knob("warp_m", (32, 64)),
        Knob("warp_n", (32, 64)),
        Knob("red_k", (16, 32, 64)),
        Knob("depth", (0, 1, 2, 3, 4)),
        Knob("sched", (0, 1)),
        Knob("pad", (0, 1)),
        Knob("wg_order", (0, 1)),
        Knob("smem_optin", (0, 1)),
    ))


def sketches_for(w: Workload, target: str = "llvm-cpu", lanes: int | None = None) -> list[Sketch]:
    """The sketches for a workload on ``target``.

    CUDA, f16 operands: for an f16 x f16 -> f32 ``linalg.matmul`` / ``batch_matmul`` first ``gpu_script_mma`` (a
    transform-dialect mma.sync strategy, the default of ``tune-remote``), then ``gpu_mma`` (mma.sync
    through TileAndFuse or VectorDistribute; the only one for other f16 contractions); f32:
    ``gpu_simt`` (TileAndFuse SIMT) and ``gpu_script`` (a transform-dialect SIMT strategy, f32).
    Vulkan (SPIR-V): ``spirv_coopmat`` (f16, cooperative matrix)
    or ``spirv_simt`` (MatmulPromoteVectorize). CPU: double tiling and data tiling; convolutions: see :func:`_conv_sketches`.
    The CPU ``mmt4d_script`` register tiles are sized to ``lanes`` fp32 vector lanes (default: this
    machine's, :func:`host_vector_lanes`; :func:`mmt4d_tile_options`).
    """
    if isinstance(w, ConvWorkload):
        if target in ("cuda", "vulkan"):
            return [Sketch("default", w, ())]
        return _conv_sketches(w)
    if w.kind == "matmul_like" and target != "cuda":
        # the Q/K/V merge's stacked generic: GPU sketches only (CUDA; verified there, docs/gpu.md)
        return [Sketch("default", w, ())]
    f16 = w.types[:2] == ("f16", "f16")
    if target == "vulkan" and f16:
        return [Sketch("default", w, ()), _spirv_simt(w), Sketch("spirv_coopmat", w, (
            Knob("wg_m", (32, 64, 128, 256)),
            Knob("wg_n", (32, 64, 128, 256)),
            Knob("sub_m", (16, 32, 64, 128)),
            Knob("sub_n", (16, 32, 64, 128)),
            Knob("red_k", (16, 32, 64)),
            Knob("depth", (1, 2, 3)),
            Knob("store_stage", (0, 1)),
        ))]
    if target == "vulkan":
        return [Sketch("default", w, ()), _spirv_simt(w)]
    if target == "cuda" and f16:
        # gpu_script_mma first where it applies: the sketch tune-remote searches unless --sketch names another
        # (1.5x faster than gpu_mma's best in run g23); gpu_mma for the rest (f16 results, ...)
        script = ([_gpu_script_mma(w)] if w.kind in ("matmul", "batch_matmul", "matmul_like") and w.types[2] == "f32"
                  else [])
        return [Sketch("default", w, ()), *script, Sketch("gpu_mma", w, (
            Knob("wg_m", (32, 64, 128, 256)),
            Knob("wg_n", (32, 64, 128, 256)),
            Knob("sub_m", (1, 2, 4, 8)),
            Knob("sub_n", (1, 2, 4, 8)),
            Knob("red_k", (1, 2, 4, 8)),
            Knob("prefetch", (0, 2, 3)),
            Knob("pipeline", ("TileAndFuse", "VectorDistribute")),
        ))]
    if target == "cuda":
        return [Sketch("default", w, ()), Sketch("gpu_simt", w, (
            Knob("wg_m", (16, 32, 64, 128, 256, 512)),
            Knob("wg_n", (16, 32, 64, 128, 256, 512)),
            Knob("th_m", (1, 2, 4, 8, 16)),
            Knob("th_n", (1, 2, 4, 8, 16, 32)),
            Knob("red_k", (4, 8, 16, 32, 64)),
            Knob("promote", (0, 1)),
            Knob("prefetch", (0, 2, 3)),
        )), _gpu_script(w)]
    e = w.extents
    double = Sketch("double_tiling", w, (
        Knob("dist_m", _pow2_upto(e["M"], 8, 256)),
        Knob("dist_n", _pow2_upto(e["N"], 16, 512)),
        Knob("vec_m", (1, 2, 4, 8, 16)),
        Knob("vec_n", (8, 16, 32, 64)),
        Knob("vec_k", (1, 2, 4, 8, 16)),
    ))
    script = Sketch("transform_script", w, (
        Knob("wg_m", _pow2_upto(e["M"], 8, 256)),
        Knob("wg_n", _pow2_upto(e["N"], 8, 512)),
        Knob("vec_m", (1, 2, 4, 8)),
        Knob("vec_n", (4, 8, 16, 32)),
        Knob("vec_k", (1, 2, 4, 8, 16)),
        Knob("order", (0, 1)),
        Knob("unroll", (1, 2, 4)),
        Knob("cache_k", (0, 128, 256, 512)),
    ))
    lanes = lanes or host_vector_lanes()
    m0s, n0s = mmt4d_tile_options(lanes)
    mmt4d = Sketch("mmt4d_script", w, (
        Knob("m0", m0s),
        Knob("n0", n0s),
        Knob("wg_m1", (4, 8, 16)),
        Knob("wg_n1", (4, 8, 16)),
        Knob("cache_k", tuple(v for v in (0, 32, 64, 128, 256) if v == 0 or (v < e["K"] and e["K"] % v == 0))),
        Knob("unroll", (1, 2, 4)),
        Knob("order", (0, 1)),
        Knob("pack_a", (1, 0)),
    ), lanes=lanes)
    packed = [mmt4d] if _packable(w) else []
    return [Sketch("default", w, ()), double, *packed, Sketch("data_tiling", w, (
        Knob("ukernels", (False, True)),
        # IREE 3.13 has no flag for mmt4d tile sizes; these are the mmt4d lowering knobs it exposes
        Knob("mmt4d_intrinsics", (False, True)),
        Knob("llvm_unroll", (False, True)),
        Knob("tile_bytes", (0, 65536, 1048576, 4194304)),
        Knob("inner_tiled", (0, 1, 2)),
    )), script]
