"""``mmt4d_script`` sized to the target's vector lanes: AVX2 (8 fp32 lanes, 16 ymm) keeps its knob values,
register rule and seed exactly; AVX-512 (16 lanes, 32 zmm) gets zmm-column tiles, a 28-accumulator rule and
its own measured seed. The lanes are injected (explicitly, or by replacing only the detection function's
result); every compile and run is real IREE on this host (--iree-llvmcpu-target-cpu=host)."""

from __future__ import annotations

import re

import numpy as np
import pytest

from mlir_opt.backend import targets
from mlir_opt.db import Database
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.evaluate import Evaluator, build_schedule
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.space import (LANE_SEEDS, SEARCH_SEEDS, fixed_schedules, mmt4d_register_rule, search_seeds,
                                sketches_for)

# 40 rows and 72 columns: padded by every m0 / n0 below (packing's padding paths)
MM = Workload.from_key("matmul_40x72x64_f32xf32xf32")
AVX2_SEED = dict(m0=4, n0=16, wg_m1=8, wg_n1=8, cache_k=0, unroll=4, order=0, pack_a=1)


def _mmt4d(w, lanes=None):
    return next(s for s in sketches_for(w, lanes=lanes) if s.name == "mmt4d_script")


def test_avx2_knobs_rule_and_seed_unchanged():
    """8 lanes: m0 4/6/8, n0 8/16, at most 12 of 16 ymm accumulators (the same message), the 4x16 seed."""
    sk = _mmt4d(MM, lanes=8)
    assert sk.lanes == 8
    assert {k.name: k.options for k in sk.knobs}["m0"] == (4, 6, 8)
    assert {k.name: k.options for k in sk.knobs}["n0"] == (8, 16)
    assert sk.validate(dict(AVX2_SEED, m0=6)) is None
    assert sk.validate(dict(AVX2_SEED, m0=8)) == "register tile 8x16 needs 16 of 16 ymm accumulators (> 12: spills)"
    assert sk.validate(dict(AVX2_SEED, n0=32)) == "n0=32 is not one of (8, 16)"
    assert search_seeds("mmt4d_script", 8) == SEARCH_SEEDS["mmt4d_script"] == [AVX2_SEED]
    seeded = fixed_schedules(MM, searched="mmt4d_script", lanes=8)
    assert seeded[0] == ("mmt4d_script", AVX2_SEED)


def test_avx512_knobs_rule_and_seed():
    """16 lanes: zmm columns (n0 16..64), rows up to 14, at most 28 of 32 zmm accumulators, a wider seed."""
    sk = _mmt4d(MM, lanes=16)
    opts = {k.name: k.options for k in sk.knobs}
    assert all(n % 16 == 0 for n in opts["n0"]) and 32 in opts["n0"] and 48 not in opts["n0"]
    assert max(opts["m0"]) == 14
    assert sk.validate(dict(AVX2_SEED, m0=14, n0=32)) is None  # 28 accumulators
    assert sk.validate(dict(AVX2_SEED, m0=8, n0=16)) is None  # AVX2 rejects this one
    assert sk.validate(dict(AVX2_SEED, m0=8, n0=64)) == \
        "register tile 8x64 needs 32 of 32 zmm accumulators (> 28: spills)"
    assert "spills" in mmt4d_register_rule(12, 48, 16) and mmt4d_register_rule(6, 64, 16) is None
    seed = search_seeds("mmt4d_script", 16)
    assert seed == LANE_SEEDS["mmt4d_script"][16] and seed != SEARCH_SEEDS["mmt4d_script"]
    # first the B-packed 8x32 tile (pack_a 0: 128-row x 128-column workgroups, no padding), then the packed-A one
    assert [d["pack_a"] for d in seed] == [0, 1] and all(d["n0"] >= 32 for d in seed)
    assert "pack_a=0 needs N=72 a multiple of n0=32" in sk.validate(seed[0])
    assert sk.validate(seed[1]) is None
    assert fixed_schedules(MM, searched="mmt4d_script", lanes=16)[0] == ("mmt4d_script", seed[1])
    big = Workload.from_key("matmul_256x256x64_f32xf32xf32")
    assert fixed_schedules(big, searched="mmt4d_script", lanes=16)[:2] == [("mmt4d_script", d) for d in seed]


@pytest.mark.parametrize("lanes", [8, 16])
def test_detected_lanes_size_the_sketch_and_seeds_compile_right(monkeypatch, lanes):
    """With only cpu_vector_lanes' result replaced, the default sketch, its seed and Schedule.validate
    follow it; that seed and the widest valid tile compile (real IREE, this host's CPU) and match numpy."""
    monkeypatch.setattr(targets, "cpu_vector_lanes", lambda arch="host", cpuinfo=None: lanes)
    sk = _mmt4d(MM)
    assert sk.lanes == lanes
    seed = fixed_schedules(MM, searched="mmt4d_script")[0]
    assert seed == ("mmt4d_script", next(d for d in search_seeds("mmt4d_script", lanes) if sk.validate(d) is None))
    wide = dict(seed[1], m0=14, n0=32) if lanes == 16 else dict(seed[1], m0=6, n0=16)
    other = dict(seed[1], m0=14, n0=32) if lanes == 8 else dict(seed[1], m0=8, n0=64)
    assert Schedule(MM, "mmt4d_script", wide).validate() is None
    assert Schedule(MM, "mmt4d_script", other).validate() is not None  # not an option / spills at this width
    ev = Evaluator(db=Database(":memory:"), reps=2, threads=1)
    res = ev.evaluate([Schedule(MM, *seed), Schedule(MM, "mmt4d_script", wide)])
    ev.close()
    for r in res:
        assert r.status == "ok" and r.rel_error < 1e-5, (r.schedule.describe(), r.error)


@pytest.mark.skipif(targets.cpu_vector_lanes() != 16, reason="host has no avx512f (cpu_vector_lanes() != 16): the "
                                                             "AVX-512 tile's zmm code cannot run here")
def test_avx512_seed_runs_on_zmm_here(tmp_path):
    """On an AVX-512 host the AVX-512 seed's mmt4d kernel is 512-bit FMAs (zmm in the dumped assembly)
    and computes A @ B on shapes its tile pads (both operands)."""
    import iree.runtime as rt

    from mlir_opt.ops.confirm import workload_inputs

    for d in search_seeds("mmt4d_script", 16):  # B packed alone on a shape it tiles; packed A with padding
        w = Workload.from_key("matmul_128x128x96_f32xf32xf32" if d["pack_a"] == 0 else "matmul_50x100x96_f32xf32xf32")
        s = Schedule(w, "mmt4d_script", d)
        assert s.validate() is None
        x = tmp_path / f"pack_a{d['pack_a']}"
        res = build_schedule(s, x, extra_flags=[f"--iree-hal-dump-executable-intermediates-to={x / 'x'}"])
        assert res.ok, res.error
        asm = "\n".join(p.read_text(errors="replace") for p in (x / "x").glob("*.s"))
        fma = re.findall(r"vfmadd\w+\s+[^\n]*", asm)
        assert fma and sum("zmm" in f for f in fma) >= len(fma) // 2, fma[:8]
        a, b = workload_inputs(w, 0)
        cfg = rt.Config("local-task")
        ctx = rt.SystemContext(config=cfg)
        vm = rt.VmModule.mmap(ctx.instance, str(res.vmfb))
        ctx.add_vm_module(vm)
        out = np.asarray(ctx.modules[vm.name]["main"](a, b))
        ref = a.astype(np.float64) @ b.astype(np.float64)
        assert np.abs(out - ref).max() / np.abs(ref).max() < 1e-5


def test_cpu_cache_bytes_reads_sysfs_and_falls_back(tmp_path):
    """cpu_cache_bytes takes the level's Data / Unified entry (not Instruction) in K / M units."""
    for i, (lv, kind, size) in enumerate([(1, "Instruction", "32K"), (1, "Data", "48K"), (2, "Unified", "2048K"),
                                          (3, "Unified", "300M")]):
        d = tmp_path / f"index{i}"
        d.mkdir()
        (d / "level").write_text(f"{lv}\n")
        (d / "type").write_text(f"{kind}\n")
        (d / "size").write_text(f"{size}\n")
    assert targets.cpu_cache_bytes(1, str(tmp_path)) == 48 * 1024
    assert targets.cpu_cache_bytes(2, str(tmp_path)) == 2 * 1024 * 1024
    assert targets.cpu_cache_bytes(3, str(tmp_path)) == 300 * 1024 * 1024
    assert targets.cpu_cache_bytes(2, str(tmp_path / "absent")) == targets.DEFAULT_CACHE_BYTES[2]


def test_fit_seed_blocks_k_only_where_a_workgroup_overflows_the_l2():
    """The 8x32 seed (128 rows x 128 columns a workgroup) gets K blocking on BERT's FFN-down (K 3072: 3 MiB of
    operands > a 2 MiB L2), not on 1024³, 2048³ (exactly 2 MiB) or K 768; other sketches / blocked seeds as
    they are; the largest SEED_CACHE_K that divides K (and the unroll) is taken, none if none does."""
    from mlir_opt.ops.space import fit_seed

    seed = LANE_SEEDS["mmt4d_script"][16][0]
    l2 = 2 * 1024 * 1024
    ffn_down = Workload.from_key("batch_matmul_1x128x768x3072_f32xf32xf32")
    assert fit_seed(ffn_down, "mmt4d_script", seed, l2) == dict(seed, cache_k=256)
    for key in ("matmul_1024x1024x1024_f32xf32xf32", "matmul_2048x2048x2048_f32xf32xf32",
                "batch_matmul_1x128x3072x768_f32xf32xf32"):
        assert fit_seed(Workload.from_key(key), "mmt4d_script", seed, l2) == seed
    assert fit_seed(ffn_down, "mmt4d_script", dict(seed, cache_k=64), l2)["cache_k"] == 64
    assert fit_seed(ffn_down, "transform_script", {"cache_k": 0}, l2) == {"cache_k": 0}
    k96 = Workload.from_key("matmul_128x128x96_f32xf32xf32")
    assert fit_seed(k96, "mmt4d_script", seed, 1024)["cache_k"] == 32  # 256 / 128 / 64 do not divide 96
    k100 = Workload.from_key("matmul_128x128x100_f32xf32xf32")
    assert fit_seed(k100, "mmt4d_script", dict(seed, unroll=4), 1024) == dict(seed, unroll=4)


def test_fitted_seed_is_measured_blocked_and_computes_right(monkeypatch):
    """With the L2 read as 64 KiB, fixed_schedules measures the seeds of 128x128x512 K-blocked (256), each once;
    the blocked B-packed and packed-A seeds compile (real IREE) and match numpy."""
    monkeypatch.setattr(targets, "cpu_cache_bytes", lambda level, sysfs=None: 64 * 1024)
    w = Workload.from_key("matmul_128x128x512_f32xf32xf32")
    got = [d for n, d in fixed_schedules(w, searched="mmt4d_script", lanes=16) if n == "mmt4d_script"]
    assert got == [dict(d, cache_k=256) for d in LANE_SEEDS["mmt4d_script"][16]]
    if targets.cpu_vector_lanes() != 16:
        pytest.skip("host has no avx512f: the AVX-512 seeds' zmm code cannot run here")
    ev = Evaluator(db=Database(":memory:"), reps=2, threads=1)
    res = ev.evaluate([Schedule(w, "mmt4d_script", d) for d in got])
    ev.close()
    for r in res:
        assert r.status == "ok" and r.rel_error < 1e-5, (r.schedule.describe(), r.error)
