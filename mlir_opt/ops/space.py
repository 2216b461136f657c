"""Schedule spaces: knobs as data, sketches per root-op kind, validity rules with reasons.

A *sketch* fixes the structure of a schedule (which IREE CPU pipeline, which flags); its *knobs*
are the free parameters (tile sizes per level). ``transform.tune.knob`` is not available in IREE
3.13's bindings, so knobs are modelled here in Python, mirroring it: ``Knob(name, options)``.

CPU contraction sketches (matmul / batch_matmul root ops):

* ``default``      — IREE's own configuration (no decisions): the baseline.
* ``double_tiling``— ``DoubleTilingExpert``: distribution tiles (workgroup level, M×N), vector
  tiles (register level, m×n) and a reduction tile k. Rendered as ``compilation_info``.
* ``data_tiling``  — ``--iree-opt-data-tiling`` (pack to a blocked layout + mmt4d), optionally with
  IREE's mmt4d micro-kernels (``ukernels`` knob). A module-level choice: IREE 3.13 applies tuning
  specs before encodings are materialized, so mmt4d tiles cannot be set per op (verified).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from .dispatches import Workload

__all__ = ["Knob", "Sketch", "sketches_for", "SKETCH_FLAGS", "KNOB_DEFAULTS", "complete"]

#: Module-level iree-compile flags each sketch needs (decisions may add to them).
SKETCH_FLAGS = {"default": [], "double_tiling": [], "data_tiling": ["--iree-opt-data-tiling"],
                "gpu_simt": [], "gpu_mma": [], "spirv_simt": [], "spirv_coopmat": []}

#: Knobs added to a sketch after records were stored: the value older decision sets implicitly had.
#: :func:`complete` fills them in, so history from earlier rounds stays usable.
KNOB_DEFAULTS = {"gpu_simt": {"prefetch": 0}, "gpu_mma": {"pipeline": "TileAndFuse"}}


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
        if self.name == "spirv_simt":
            return _validate_spirv_simt(self.workload, d)
        if self.name == "spirv_coopmat":
            return _validate_spirv_coopmat(self.workload, d)
        if self.name != "double_tiling":
            return None
        e = self.workload.extents
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

    def flags(self, d: dict) -> list[str]:
        """Module-level iree-compile flags for these decisions."""
        fl = list(SKETCH_FLAGS[self.name])
        if self.name == "data_tiling" and d.get("ukernels"):
            fl.append("--iree-llvmcpu-enable-ukernels=mmt4d")
        return fl


def _validate_gpu_simt(w: Workload, d: dict) -> str | None:
    e = w.extents
    for dim, wg, th in (("M", "wg_m", "th_m"), ("N", "wg_n", "th_n")):
        if d[wg] > e[dim] or e[dim] % d[wg]:
            return f"{wg}={d[wg]} does not tile {dim}={e[dim]}"
        if d[wg] % d[th]:
            return f"{th}={d[th]} does not divide {wg}={d[wg]}"
    if e["K"] % d["red_k"]:
        return f"red_k={d['red_k']} does not divide K={e['K']}"
    threads = (d["wg_m"] // d["th_m"]) * (d["wg_n"] // d["th_n"])
    if threads < 64 or threads > 1024 or threads % 32:
        return f"{threads} threads per workgroup (need a multiple of 32 in [64, 1024])"
    if d["th_m"] * d["th_n"] > 128:
        return f"thread tile {d['th_m']}x{d['th_n']} exceeds 128 accumulators"
    if d["prefetch"] and not d["promote"]:
        return "prefetch needs promote=1 (operands staged in shared memory)"
    smem = (d["wg_m"] + d["wg_n"]) * d["red_k"] * 4 * (1 if d["promote"] else 0) * max(1, d["prefetch"] - 1)
    if smem > 96 * 1024:
        return f"shared memory {smem} B exceeds 96 KiB"
    return None


#: SPIR-V cooperative-matrix shape IREE uses for f16 on NVIDIA Vulkan targets (16x16x16).
COOPMAT = 16


def _validate_spirv_simt(w: Workload, d: dict) -> str | None:
    e = w.extents
    for dim, wg, th in (("M", "wg_m", "th_m"), ("N", "wg_n", "th_n")):
        if d[wg] > e[dim] or e[dim] % d[wg]:
            return f"{wg}={d[wg]} does not tile {dim}={e[dim]}"
        if d[wg] % d[th]:
            return f"{th}={d[th]} does not divide {wg}={d[wg]}"
    if e["K"] % d["red_k"]:
        return f"red_k={d['red_k']} does not divide K={e['K']}"
    threads = (d["wg_m"] // d["th_m"]) * (d["wg_n"] // d["th_n"])
    if threads < 32 or threads > 1024 or threads % 32:
        return f"{threads} threads per workgroup (need a multiple of 32 in [32, 1024])"
    if d["th_m"] * d["th_n"] > 128:
        return f"thread tile {d['th_m']}x{d['th_n']} exceeds 128 accumulators"
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


def sketches_for(w: Workload, target: str = "llvm-cpu") -> list[Sketch]:
    """The sketches for a contraction workload on ``target``.

    CUDA: ``gpu_mma`` (f16 operands: mma.sync through TileAndFuse or VectorDistribute) or
    ``gpu_simt`` (TileAndFuse SIMT). Vulkan (SPIR-V): ``spirv_coopmat`` (f16, cooperative matrix)
    or ``spirv_simt`` (MatmulPromoteVectorize). CPU: double tiling and data tiling.
    """
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
        return [Sketch("default", w, ()), Sketch("gpu_mma", w, (
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
        ))]
    e = w.extents
    double = Sketch("double_tiling", w, (
        Knob("dist_m", _pow2_upto(e["M"], 8, 256)),
        Knob("dist_n", _pow2_upto(e["N"], 16, 512)),
        Knob("vec_m", (1, 2, 4, 8, 16)),
        Knob("vec_n", (8, 16, 32, 64)),
        Knob("vec_k", (1, 2, 4, 8, 16)),
    ))
    return [Sketch("default", w, ()), double, Sketch("data_tiling", w, (Knob("ukernels", (False, True)),))]
