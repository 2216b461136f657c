"""Benchmark bundles: write, run with the standalone runner (here on the CPU), ingest, refuse mismatches."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlir_opt.db import Database
from mlir_opt.errors import MlirOptError
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.space import sketches_for
from mlir_opt.remote import ingest, write_bundle

W = Workload.from_key("matmul_64x128x32_f32xf32xf32")


def _run_runner(bundle: Path) -> Path:
    # The runner must work with numpy + iree.runtime alone: run it from the bundle, not the repo.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([sys.executable, "runner.py", ".", "--out", "results.json", "--reps", "2"], cwd=bundle,
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    return bundle / "results.json"


def test_cpu_bundle_roundtrip(tmp_path):
    scheds = [Schedule(W, "default", {}),
              Schedule(W, "double_tiling", dict(dist_m=32, dist_n=64, vec_m=8, vec_n=32, vec_k=4)),
              Schedule(W, "double_tiling", dict(dist_m=32, dist_n=64, vec_m=3, vec_n=32, vec_k=4))]  # invalid
    man = write_bundle(scheds, tmp_path / "b", target="llvm-cpu")
    assert len(man["entries"]) == 2 and len(man["failed"]) == 1 and "invalid" in man["failed"][0]["error"]
    assert (tmp_path / "b" / "runner.py").exists() and man["bytes"] < 2**20
    res = json.loads(_run_runner(tmp_path / "b").read_text())
    assert res["device"]["driver"] == "local-task"
    # the runner's default timing is the caching allocator ("cached"; docs/gpu.md, 2026-11-26 sixth session)
    assert res["timing"]["mode"] == "cached" and res["timing"]["hal_flags"]["cached"] == ["--device_allocator=caching"]
    assert [r["status"] for r in res["results"]] == ["ok", "ok"]
    assert all(r["rel_error"] < 1e-5 and r["median_ms"] > 0 for r in res["results"])
    db = Database(":memory:")
    summ = ingest(tmp_path / "b" / "results.json", db=db)
    assert summ["statuses"] == {"ok": 2, "compile_error": 1} and summ["timing"] == "cached"
    assert summ["best"][W.key]["best_ms"] > 0 and summ["best"][W.key]["default_ms"] > 0
    assert len(db.records(W.key, "llvm-cpu")) == 3
    assert {r.timing for r in db.records(W.key, "llvm-cpu")} == {"cached"}  # the runner's mode is stored


def test_cpu_bundle_ships_the_packed_mmt4d_script_payload(tmp_path):
    """An ``mmt4d_script`` candidate's bundled module is the packed payload (pack + mmt4d + unpack
    dispatches, the mmt4d one compiled by the schedule's strategy), not IREE's default for the plain
    matmul (what bundles shipped before they compiled every schedule from ``payload_module``); the
    runner checks and times it on the same inputs as the default, and ingest records it as its schedule."""
    import re

    mm = Workload.from_key("matmul_40x72x64_f32xf32xf32")  # 40 rows = 7 tiles of 6 (padded), 72 columns = 5 of 16
    d = dict(m0=6, n0=16, wg_m1=4, wg_n1=4, cache_k=32, unroll=2, order=1)
    cfg = tmp_path / "cfg"
    man = write_bundle([Schedule(mm, "default", {}), Schedule(mm, "mmt4d_script", d)], tmp_path / "b",
                       target="llvm-cpu", extra_flags=[f"--iree-hal-dump-executable-configurations-to={cfg}"])
    assert [e["sketch"] for e in man["entries"]] == ["default", "mmt4d_script"] and not man["failed"]
    assert man["entries"][0]["io"] == man["entries"][1]["io"]  # same inputs, same float64 reference

    def exports(i):  # the dispatch functions the shipped module carries
        return set(re.findall(rb"main_dispatch_\d+_[a-z0-9]+(?:_[0-9x]+)?_f32", (tmp_path / "b" / "modules" /
                                                                                 f"c{i}.vmfb").read_bytes()))

    assert exports(0) == {b"main_dispatch_0_matmul_40x72x64_f32"}
    packed = exports(1)
    assert b"main_dispatch_2_mmt4d_7x5x64x6x16x1_f32" in packed and not any(b"matmul" in x for x in packed)
    assert any(b"_pack_" in x for x in packed) and any(b"_unpack_" in x for x in packed)
    # the mmt4d dispatch (only the packed module has one) is compiled by the schedule's strategy
    mmt4d_cfg = [p.read_text() for p in cfg.glob("*.mlir") if "mmt4d_7x5x64x6x16x1" in p.read_text()]
    assert len(mmt4d_cfg) == 1 and "codegen_spec = @mmt4d_strategy_0" in mmt4d_cfg[0]
    res = json.loads(_run_runner(tmp_path / "b").read_text())
    assert [(r["id"], r["status"]) for r in res["results"]] == [("c0", "ok"), ("c1", "ok")], res
    assert all(r["rel_error"] < 1e-5 and r["median_ms"] > 0 for r in res["results"])
    db = Database(":memory:")
    assert ingest(tmp_path / "b" / "results.json", db=db)["statuses"] == {"ok": 2}
    recs = {r.sketch: r for r in db.records(mm.key, "llvm-cpu")}
    # stored with the knobs the sketch has now (pack_a 1: the pack + mmt4d + unpack form shipped here)
    assert set(recs) == {"default", "mmt4d_script"} and recs["mmt4d_script"].decisions == dict(d, pack_a=1)


def test_ingest_refuses_other_device(tmp_path):
    man = write_bundle([Schedule(W, "default", {})], tmp_path / "b", target="llvm-cpu")
    (tmp_path / "b" / "results.json").write_text(json.dumps({
        "bundle": man["id"], "target": "llvm-cpu", "device": {"driver": "cuda", "name": "NVIDIA H100"},
        "results": [{"id": "c0", "status": "ok", "median_ms": 1.0, "times_ms": [1.0]}]}))
    with pytest.raises(MlirOptError, match="come from a 'cuda' device but the bundle targets llvm-cpu"):
        ingest(tmp_path / "b" / "results.json", db=Database(":memory:"))
    (tmp_path / "b" / "results.json").write_text(json.dumps({"bundle": "other", "device": {"driver": "local-task"},
                                                             "results": []}))
    with pytest.raises(MlirOptError, match="results are for bundle other"):
        ingest(tmp_path / "b" / "results.json", db=Database(":memory:"))


def test_cuda_bundle_compiles_here(tmp_path):
    """CUDA candidates compile on this CPU machine; running them needs a GPU host (skipped here)."""
    big = Workload.from_key("matmul_256x256x128_f32xf32xf32")
    sk = next(s for s in sketches_for(big, "cuda") if s.name == "gpu_simt")
    d = dict(wg_m=64, wg_n=64, th_m=4, th_n=4, red_k=16, promote=1, prefetch=0)
    assert sk.validate(d) is None
    assert "threads" in sk.validate(dict(d, th_m=1, th_n=1))  # 4096 threads: rejected before compiling
    man = write_bundle([Schedule(big, "default", {}, "cuda"), Schedule(big, "gpu_simt", d, "cuda")],
                       tmp_path / "g", target="cuda")
    assert man["driver"] == "cuda" and man["arch"] == "sm_80"
    assert [e.get("peer") for e in man["entries"]] == [None, None, "torch_matmul"]
    assert all((tmp_path / "g" / e["module"]).stat().st_size > 1000 for e in man["entries"] if "module" in e)


@pytest.mark.skipif(not Path("/dev/nvidiactl").exists(), reason="no NVIDIA GPU on this machine: CUDA bundles "
                    "are run on a GPU host (see README: bundle/ingest)")
def test_cuda_bundle_runs_on_gpu(tmp_path):
    script = dict(wg_m=32, wg_n=64, th_m=4, th_n=4, red_k=16, prefetch=1, inner_k=4, pad_smem=1)
    write_bundle([Schedule(W, "default", {}, "cuda"), Schedule(W, "gpu_script", script, "cuda")], tmp_path / "g",
                 target="cuda", peers=False)
    res = json.loads(_run_runner(tmp_path / "g").read_text())
    assert [r["status"] for r in res["results"]] == ["ok", "ok"], res


def test_model_bundle_roundtrip_on_cpu(tmp_path):
    import mlir_opt
    from mlir_opt.ops.schedule import attach_schedules
    from mlir_opt.remote import write_model_bundle

    m = mlir_opt.load("bert", size="tiny")
    tuned = m.clone()
    w = Workload.from_key("batch_matmul_1x16x128x64_f32xf32xf32")  # the FFN-up projection
    n = attach_schedules(tuned, [Schedule(w, "double_tiling", dict(dist_m=16, dist_n=64, vec_m=4, vec_n=32, vec_k=4))])
    assert n == 1
    man = write_model_bundle({"default": (m, []), "tuned": (tuned, [])}, tmp_path / "mb", target="llvm-cpu")
    assert [e["id"] for e in man["entries"]] == ["default", "tuned"]
    res = json.loads(_run_runner(tmp_path / "mb").read_text())
    assert [r["status"] for r in res["results"]] == ["ok", "ok"], res
    assert all(r["rel_error"] < 1e-4 for r in res["results"])
    summ = ingest(tmp_path / "mb" / "results.json", db=Database(":memory:"))
    assert set(summ["models"]) == {"default", "tuned"}


@pytest.mark.parametrize("target,sketch,d", [
    ("vulkan", "spirv_simt", dict(wg_m=64, wg_n=128, th_m=16, th_n=4, red_k=16, depth=2, store_stage=0)),
    ("vulkan", "spirv_coopmat", dict(wg_m=64, wg_n=128, sub_m=32, sub_n=64, red_k=32, depth=2, store_stage=1)),
    ("cuda", "gpu_mma", dict(wg_m=64, wg_n=64, sub_m=2, sub_n=4, red_k=2, prefetch=2, pipeline="VectorDistribute")),
    ("cuda", "gpu_simt", dict(wg_m=64, wg_n=64, th_m=8, th_n=4, red_k=16, promote=1, prefetch=2)),
])
def test_gpu_schedules_reach_the_compiler(tmp_path, target, sketch, d):
    """Each GPU sketch compiles here and IREE keeps its configuration (read back from IREE's dump)."""
    from mlir_opt.backend import compile_module

    f16 = sketch in ("spirv_coopmat", "gpu_mma")
    w = Workload.from_key(f"matmul_256x256x128_{'f16xf16xf32' if f16 else 'f32xf32xf32'}")
    s = Schedule(w, sketch, d, target)
    assert s.validate() is None
    res = compile_module(w.single_op_module(s.compilation_info()), target, output=tmp_path / "m.vmfb",
                         flags=[f"--iree-hal-dump-executable-configurations-to={tmp_path / 'cfg'}"])
    assert res.ok, res.error
    cfg = "".join(p.read_text() for p in (tmp_path / "cfg").glob("*.mlir"))
    expect = {"spirv_simt": ["spirv_pipeline<MatmulPromoteVectorize> workgroup_size = [32, 4, 1]",
                             "tile_sizes = [[64, 128, 16]]", "pipeline_depth = 2"],
              "spirv_coopmat": ["spirv_pipeline<CooperativeMatrixVectorize> workgroup_size = [64, 2, 1]",
                                "[32, 64], [0, 0, 32], [16, 16, 16]"],
              "gpu_mma": ["pipeline<VectorDistribute> workgroup_size = [128, 1, 1]", "subgroup_basis = [[2, 2, 1]",
                          "NV_MMA_SYNC_F32_16x8x16_F16",
                          "prefetch_num_stages = 2"],
              "gpu_simt": ["pipeline<TileAndFuse> workgroup_size = [8, 16, 1]", "thread = [8, 4, 0]",
                           "prefetch_num_stages = 2"]}[sketch]
    for e in expect:
        assert e in cfg, (e, cfg[:3000])


#: A gpu_script schedule and the PTX facts that show IREE ran its strategy (not its own pipeline):
#: 8x4 register tiles over a 32-wide reduction step, unrolled twice by the prefetch transform.
GPU_SCRIPT = dict(wg_m=64, wg_n=64, th_m=8, th_n=4, red_k=32, prefetch=1, inner_k=8, pad_smem=1, wg_order=0,
                  one_group=0, min_blocks=0)

def _gpu_script_ptx(s, d):
    """Compile schedule ``s`` (a gpu_script) for CUDA as a transform library; the PTX text."""
    from mlir_opt.backend import compile_module
    from mlir_opt.ops.transform_script import render_transform_library

    d.mkdir(parents=True, exist_ok=True)
    (d / "lib.mlir").write_text(render_transform_library([s]))
    res = compile_module(s.workload.single_op_module(), "cuda", output=d / "m.vmfb",
                         flags=[f"--iree-codegen-transform-dialect-library={d / 'lib.mlir'}",
                                f"--iree-hal-dump-executable-binaries-to={d / 'bin'}"])
    assert res.ok, res.error
    return next((d / "bin").glob("*.ptx")).read_text()



@pytest.mark.parametrize("key", ["matmul_256x256x128_f32xf32xf32", "batch_matmul_2x128x128x256_f32xf32xf32"])
def test_gpu_script_strategy_compiles_for_cuda(tmp_path, key):
    """The transform-dialect strategy of a gpu_script schedule drives IREE's CUDA codegen: staged
    operands (16-byte shared-memory loads), register tiles with accumulators in registers, software
    pipelined reduction loop; read back from the PTX IREE emits."""
    import re

    w = Workload.from_key(key)
    s = Schedule(w, "gpu_script", GPU_SCRIPT, "cuda")
    assert s.validate() is None and s.compilation_info() is None
    ptx = _gpu_script_ptx(s, tmp_path)
    assert ".maxntid 16, 8, 1" in ptx  # workgroup_size [wg_n/th_n, wg_m/th_m, 1]
    assert len(re.findall(r"fma\.rn\.f32", ptx)) == 2 * 8 * 4 * 32  # loop body + prefetch epilogue
    assert "ld.shared.v4.b32" in ptx and "ld.shared.f32" not in ptx and "ld.shared.v2" not in ptx


def test_gpu_script_cp_async_staging_keeps_vector_loads(tmp_path):
    """prefetch=2: cp.async into two rotating shared buffers; the loads from them stay 16 bytes wide
    (the strategy states their alignment, which LLVM cannot see through the loop-carried buffers)."""
    w = Workload.from_key("matmul_256x256x128_f32xf32xf32")
    s = Schedule(w, "gpu_script", dict(GPU_SCRIPT, prefetch=2, pad_smem=0), "cuda")
    assert s.validate() is None
    assert "pad_smem" in Schedule(w, "gpu_script", dict(GPU_SCRIPT, prefetch=2), "cuda").validate()
    ptx = _gpu_script_ptx(s, tmp_path)
    assert "cp.async.cg.shared.global" in ptx and "cp.async.wait_group" in ptx
    # one step: an 8x32 A fragment and a 32x4 B fragment, all in 16-byte loads
    assert ptx.count("ld.shared.v4.b32") == 8 * 32 // 4 + 32 * 4 // 4 and "ld.shared.f32" not in ptx


def test_gpu_script_space_rejects_bad_layouts():
    big = Workload.from_key("matmul_4096x4096x4096_f32xf32xf32")
    sk = next(s for s in sketches_for(big, "cuda") if s.name == "gpu_script")
    assert [s.name for s in sketches_for(big, "cuda")] == ["default", "gpu_simt", "gpu_script"]
    assert sk.validate(GPU_SCRIPT) is None
    # records from before inner_k / pad_smem / wg_order existed are completed with their implicit value
    first = {k: GPU_SCRIPT[k] for k in ("wg_m", "wg_n", "th_m", "th_n", "red_k", "prefetch")}
    assert Schedule(big, "gpu_script", first, "cuda").decisions == dict(GPU_SCRIPT, inner_k=0, pad_smem=0)
    assert "inner_k" in sk.validate(dict(GPU_SCRIPT, inner_k=32))
    # 128 threads copy a 32x8 slice of A in 64 4-wide pieces: guarded copies cannot be pipelined
    assert "prefetch needs every thread" in sk.validate(dict(GPU_SCRIPT, wg_m=32, wg_n=128, th_m=2, th_n=4, red_k=8,
                                                             inner_k=0))
    assert "registers" in sk.validate(dict(GPU_SCRIPT, wg_m=256, wg_n=128, th_m=8, th_n=8, red_k=16))
    # staging up to 160 KiB (sm_80's 163 KiB less room): 3 x (128 + 128) x 64 floats is 192 KiB
    assert "exceeds 160 KiB" in sk.validate(dict(GPU_SCRIPT, wg_m=128, wg_n=128, th_m=8, th_n=8, red_k=64,
                                                 prefetch=3, pad_smem=0))
    f16 = Workload.from_key("matmul_4096x4096x4096_f16xf16xf32")
    assert "gpu_script" not in [s.name for s in sketches_for(f16, "cuda")]
    assert "does not apply" in Schedule(f16, "gpu_script", GPU_SCRIPT, "cuda").validate()


def test_tune_remote_searches_gpu_script_when_asked(tmp_path):
    """``tune-remote --sketch gpu_script`` ships gpu_script candidates (compiled here for CUDA)."""
    from mlir_opt.cli import main

    big = Workload.from_key("matmul_256x256x128_f32xf32xf32")
    assert main(["tune-remote", big.key, "--target", "cuda", "--candidates", "2", "--sketch", "gpu_script",
                 "-o", str(tmp_path / "w"), "--db", str(tmp_path / "db.sqlite"), "--prepare-only"]) == 0
    man = json.loads((tmp_path / "w" / "round0" / "bundle" / "manifest.json").read_text())
    shipped = [e.get("sketch", e.get("peer")) for e in man["entries"]]
    failed = [f["sketch"] for f in man["failed"]]
    assert shipped.count("default") == 1 and shipped[-1] == "torch_matmul"
    assert sorted(shipped[1:-1] + failed) == ["gpu_script", "gpu_script"] and not failed, man["failed"]
    # a first round ships the sketch's known good schedules (valid for this shape) before new ones
    from mlir_opt.ops.space import SKETCH_SEEDS

    assert [e["decisions"] for e in man["entries"][1:3]] == SKETCH_SEEDS["gpu_script"][:2]


def test_runner_timing_modes_apply_to_every_module(tmp_path):
    """``--timing all``: every module timed plain, cached and batched (the same HAL flags for all, recorded),
    ``median_ms`` from ``cached``; extra compile flags reach every module and the manifest."""
    flag = "--iree-execution-model=async-external"
    scheds = [Schedule(W, "default", {}), Schedule(W, "double_tiling", dict(dist_m=32, dist_n=64, vec_m=8, vec_n=32,
                                                                           vec_k=4))]
    man = write_bundle(scheds, tmp_path / "t", target="llvm-cpu", extra_flags=[flag])
    assert flag in man["compile_flags"] and len(man["entries"]) == 2
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([sys.executable, "runner.py", ".", "--out", "results.json", "--reps", "2", "--timing", "all"],
                       cwd=tmp_path / "t", capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 0, p.stderr
    res = json.loads((tmp_path / "t" / "results.json").read_text())
    assert res["timing"]["mode"] == "all" and res["timing"]["median_ms_from"] == "cached"
    assert res["timing"]["hal_flags"]["plain"] == [] and "--device_allocator=caching" in res["timing"]["hal_flags"]["cached"]
    for r in res["results"]:
        assert r["status"] == "ok" and r["rel_error"] < 1e-5, r
        assert set(r["timings"]) == {"plain", "cached", "batched"}
        assert all(t["median_ms"] > 0 for t in r["timings"].values())
        assert r["median_ms"] == r["timings"]["cached"]["median_ms"]
    # ingest stores every mode's time under its own mode (median_ms's mode: cached)
    db = Database(":memory:")
    assert ingest(tmp_path / "t" / "results.json", db=db)["timing"] == "cached"
    assert sorted(r.timing for r in db.records(W.key, "llvm-cpu") if r.sketch == "default") == ["batched", "cached", "plain"]
    # unknown modes are refused by argparse with a one-line usage error
    p = subprocess.run([sys.executable, "runner.py", ".", "--timing", "fast"], cwd=tmp_path / "t",
                       capture_output=True, text=True, env=env, timeout=60)
    assert p.returncode == 2 and "invalid choice" in p.stderr


def test_tune_remote_f16_searches_gpu_script_mma_by_default(tmp_path):
    """CUDA f16 x f16 -> f32 matmul: tune-remote searches gpu_script_mma unless --sketch names gpu_mma;
    batch_matmul (f32 result) gets it too; other f16 contractions (f16 results) keep gpu_mma only."""
    from mlir_opt.cli import main
    from mlir_opt.ops.space import SKETCH_SEEDS

    f16 = Workload.from_key("matmul_256x256x128_f16xf16xf32")
    assert [s.name for s in sketches_for(f16, "cuda")] == ["default", "gpu_script_mma", "gpu_mma"]
    bmm = Workload.from_key("batch_matmul_4x256x256x128_f16xf16xf32")
    assert [s.name for s in sketches_for(bmm, "cuda")] == ["default", "gpu_script_mma", "gpu_mma"]
    f16out = Workload.from_key("matmul_256x256x128_f16xf16xf16")
    assert [s.name for s in sketches_for(f16out, "cuda")] == ["default", "gpu_mma"]
    for extra, want in (([], "gpu_script_mma"), (["--sketch", "gpu_mma"], "gpu_mma")):
        out = tmp_path / want
        assert main(["tune-remote", f16.key, "--target", "cuda", "--candidates", "1", *extra, "-o", str(out),
                     "--db", str(tmp_path / "db.sqlite"), "--prepare-only"]) == 0
        man = json.loads((out / "round0" / "bundle" / "manifest.json").read_text())
        assert [e.get("sketch", e.get("peer")) for e in man["entries"]] == ["default", want, "torch_matmul"], man
    assert man["entries"][1]["sketch"] == "gpu_mma"
    gs = json.loads((tmp_path / "gpu_script_mma" / "round0" / "bundle" / "manifest.json").read_text())
    assert gs["entries"][1]["decisions"] == SKETCH_SEEDS["gpu_script_mma"][0]


def test_broken_transform_library_is_a_compile_error(tmp_path):
    """iree-compile 3.13 exits 0 and falls back to its own codegen when the library does not parse:
    that must not pass for the requested schedule."""
    from mlir_opt.backend import compile_module

    (tmp_path / "lib.mlir").write_text("module attributes {transform.with_named_sequence} { transform.oops }\n")
    res = compile_module(W.single_op_module(), "cuda", output=tmp_path / "m.vmfb", raise_on_error=False,
                         flags=[f"--iree-codegen-transform-dialect-library={tmp_path / 'lib.mlir'}"])
    assert not res.ok and res.error


def test_old_decisions_are_completed():
    """Records stored before a knob existed stay valid: the knob takes its implicit value."""
    big = Workload.from_key("matmul_256x256x128_f32xf32xf32")
    s = Schedule(big, "gpu_simt", dict(wg_m=64, wg_n=64, th_m=4, th_n=4, red_k=16, promote=1), "cuda")
    assert s.decisions["prefetch"] == 0 and s.validate() is None
    assert "prefetch_num_stages" not in s.compilation_info()


@pytest.mark.skipif(Path("/dev/nvidiactl").exists(), reason="a GPU driver is present: the missing-driver path "
                    "is only observable without one")
def test_runner_says_driver_is_missing(tmp_path):
    man = write_bundle([Schedule(W, "default", {}, "vulkan")], tmp_path / "v", target="vulkan")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([sys.executable, "runner.py", ".", "--out", "results.json"], cwd=tmp_path / "v",
                       capture_output=True, text=True, env=env, timeout=300)
    assert p.returncode == 3
    assert "no vulkan driver" in p.stderr or "no vulkan device" in p.stderr, p.stderr
    res = json.loads((tmp_path / "v" / "results.json").read_text())
    assert res["bundle"] == man["id"] and res["results"][0]["status"] == "run_error"
    with pytest.raises(MlirOptError, match="runner could not run the bundle: no vulkan (driver|device)"):
        ingest(tmp_path / "v" / "results.json", db=Database(":memory:"))


def test_tune_remote_loop_on_cpu(tmp_path):
    """The bundle → run → ingest loop end to end, with the local CPU as the 'remote' machine."""
    from mlir_opt.cli import main

    db, work = tmp_path / "db.sqlite", tmp_path / "work"
    runner = f"{sys.executable} {{bundle}}/runner.py {{bundle}} --out {{results}} --reps 2"
    env_py = os.environ.pop("PYTHONPATH", None)  # the runner must not need mlir_opt
    try:
        rc = main(["tune-remote", W.key, "--target", "llvm-cpu", "--rounds", "2", "--candidates", "1",
                   "--runner-cmd", runner, "-o", str(work), "--db", str(db), "--reps", "2"])
    finally:
        if env_py is not None:
            os.environ["PYTHONPATH"] = env_py
    assert rc == 0
    assert all((work / f"round{i}" / "ingested").exists() for i in (0, 1))
    recs = Database(db).records(W.key, "llvm-cpu", any_device=True)
    # default and the incumbent are re-measured (their records updated); two distinct new candidates
    assert sum(r.ok for r in recs) >= 3 and len({json.dumps(r.decisions, sort_keys=True) for r in recs}) == 3
    r1 = json.loads((work / "round1" / "bundle" / "manifest.json").read_text())
    d0 = [e["decisions"] for e in json.loads((work / "round0" / "bundle" / "manifest.json").read_text())["entries"]]
    assert [e["sketch"] for e in r1["entries"]][:2] == ["default", "double_tiling"]  # default + incumbent
    assert r1["entries"][1]["decisions"] in d0  # the incumbent is re-measured
    best = json.loads((work / "best.json").read_text())
    assert best[W.key]["best_ms"] > 0 and best[W.key]["default_ms"] > 0
    # The same loop by hand: prepare, run, ingest.
    assert main(["tune-remote", W.key, "--target", "llvm-cpu", "--candidates", "1", "-o", str(work),
                 "--db", str(db), "--prepare-only"]) == 0
    bundle = work / "round2" / "bundle"
    subprocess.run([sys.executable, "runner.py", ".", "--out", str(tmp_path / "r.json"), "--reps", "2"], cwd=bundle,
                   check=True, capture_output=True, timeout=300)
    assert main(["tune-remote", W.key, "--target", "llvm-cpu", "-o", str(work), "--db", str(db),
                 "--ingest-only", str(tmp_path / "r.json")]) == 0
    assert (work / "round2" / "ingested").exists()
    assert main(["tune-remote", W.key, "--target", "llvm-cpu", "-o", str(work), "--db", str(db),
                 "--ingest-only"]) == 2  # already ingested: one clear error (MlirOptError)


@pytest.mark.slow
def test_model_bundle_shares_one_parameter_archive(tmp_path):
    """Default and tuned variants ship their weights once (.irpa) and both run against it."""
    import mlir_opt
    from mlir_opt.ops.schedule import attach_schedules
    from mlir_opt.remote import write_model_bundle

    m = mlir_opt.load("bert", size="tiny")
    tuned = m.clone()
    w = Workload.from_key("batch_matmul_1x16x128x64_f32xf32xf32")
    assert attach_schedules(tuned, [Schedule(w, "double_tiling", dict(dist_m=16, dist_n=64, vec_m=4, vec_n=32,
                                                                      vec_k=4))]) == 1
    man = write_model_bundle({"default": (m, []), "tuned": (tuned, [])}, tmp_path / "pb", target="llvm-cpu",
                             parameters=True)
    archives = sorted(p.name for p in (tmp_path / "pb" / "io").glob("*.irpa"))
    assert archives == ["default.irpa"], archives
    assert [e["parameters"] for e in man["entries"]] == [["model=io/default.irpa"]] * 2
    res = json.loads(_run_runner(tmp_path / "pb").read_text())
    assert [r["status"] for r in res["results"]] == ["ok", "ok"], res
    assert all(r["rel_error"] < 1e-4 for r in res["results"])


def test_gpu_script_one_group_issues_one_cp_async_group_per_step(tmp_path):
    """one_group=1: the barrier between the A and B staging copies goes, so each reduction step is one
    cp.async group (half the commits of one_group=0) and the loop waits for one group, not two; the
    barriers after the wait and after the products stay."""
    import re

    w = Workload.from_key("matmul_256x256x128_f32xf32xf32")
    facts = []
    for og in (0, 1):
        s = Schedule(w, "gpu_script", dict(GPU_SCRIPT, prefetch=2, pad_smem=0, one_group=og), "cuda")
        assert s.validate() is None
        ptx = _gpu_script_ptx(s, tmp_path / str(og))
        loop = ptx[ptx.index("$L__BB0_1:"):]
        loop = loop[:loop.index("bra")]
        facts.append((ptx.count("cp.async.commit_group"), loop.count("cp.async.wait_group"),
                      loop.count("bar.sync"), len(re.findall(r"fma\.rn\.f32", ptx))))
    (c0, w0, b0, f0), (c1, w1, b1, f1) = facts
    assert "one_group" in Schedule(w, "gpu_script", dict(GPU_SCRIPT, one_group=1), "cuda").validate()
    assert c1 * 2 == c0 and (w0, w1) == (2, 1) and (b0, b1) == (3, 2) and f0 == f1, facts


#: The fp32 4096^3 incumbent (SKETCH_SEEDS["gpu_script"][0]) with a third cp.async buffer: 72 KiB of staging.
INCUMBENT_P3 = dict(wg_m=64, wg_n=128, th_m=16, th_n=4, red_k=32, prefetch=3, inner_k=8, pad_smem=0, wg_order=0,
                    one_group=0, min_blocks=0)


def test_gpu_script_min_blocks_validation():
    """min_blocks (nvvm.minctasm) is refused where that many workgroups cannot share an SM (threads, shared
    memory) or where the register cap leaves too few registers for the register tile; records stored before
    the knob read as min_blocks = 0."""
    big = Workload.from_key("matmul_4096x4096x4096_f32xf32xf32")
    inc = dict(INCUMBENT_P3, prefetch=2)
    assert Schedule(big, "gpu_script", dict(inc, min_blocks=4), "cuda").validate() is None
    # four workgroups of 72 KiB staging are more than an SM's 228 KiB
    assert "do not fit an SM" in Schedule(big, "gpu_script", dict(INCUMBENT_P3, min_blocks=4), "cuda").validate()
    # 256 threads x 4: 64 registers a thread, too few for 64 accumulators and their operands
    assert "caps registers at 64" in Schedule(big, "gpu_script", dict(inc, wg_m=128, red_k=16, min_blocks=4),
                                              "cuda").validate()
    old = {k: v for k, v in inc.items() if k != "min_blocks"}
    assert Schedule(big, "gpu_script", old, "cuda").decisions["min_blocks"] == 0


def test_gpu_script_min_blocks_and_staging_above_48k(tmp_path):
    """min_blocks=4 puts .minnctapersm 4 on the kernel (ptxas then caps registers at 65536 / (4 x 128) = 128,
    where -maxrregcount is ignored); a 72 KiB three-buffer staging (above the former 48 KiB limit) compiles
    with its cp.async pipeline intact (IREE gives the kernel 72 KiB of dynamic shared memory)."""
    import re
    import shutil
    import struct

    w = Workload.from_key("matmul_256x256x128_f32xf32xf32")
    s = Schedule(w, "gpu_script", dict(INCUMBENT_P3, prefetch=2, min_blocks=4), "cuda")
    assert s.validate() is None
    ptx = _gpu_script_ptx(s, tmp_path / "mb")
    assert ".minnctapersm 4" in ptx and ".maxntid 32, 4, 1" in ptx
    base = _gpu_script_ptx(Schedule(w, "gpu_script", dict(INCUMBENT_P3, prefetch=2), "cuda"), tmp_path / "b")
    assert ".minnctapersm" not in base
    if shutil.which("ptxas"):  # the CUDA toolkit's assembler, where installed: the register cap holds
        ptx_file = next((tmp_path / "mb" / "bin").glob("*.ptx"))
        info = subprocess.run(["ptxas", "-arch=sm_90", "-v", str(ptx_file), "-o", str(tmp_path / "k.cubin")],
                              capture_output=True, text=True).stderr
        assert int(re.search(r"Used (\d+) registers", info).group(1)) <= 128, info
    s3 = Schedule(w, "gpu_script", INCUMBENT_P3, "cuda")
    assert s3.validate() is None
    ptx3 = _gpu_script_ptx(s3, tmp_path / "p3")
    assert "cp.async.cg.shared.global" in ptx3 and "ld.shared.f32" not in ptx3
    # one step more in flight than with two buffers: each wait lets two steps' groups stay pending
    waits = lambda text: re.findall(r"cp\.async\.wait_group\s+(\d+)", text)  # noqa: E731
    assert waits(base) == ["1", "1"] and waits(ptx3) == ["2", "2"]
    # 3 x (64 x 32 + 32 x 128) floats of dynamic shared memory in the executable
    assert struct.pack("<I", 3 * (64 * 32 + 32 * 128) * 4) in (tmp_path / "p3" / "m.vmfb").read_bytes()


GPU_MMA_SCRIPT = dict(wg_m=128, wg_n=128, warp_m=64, warp_n=64, red_k=32, depth=0, sched=0, pad=0, wg_order=0)


@pytest.mark.parametrize("extra", [{}, {"depth": 2}, {"depth": 1, "pad": 1}, {"depth": 3, "pad": 1}])
def test_gpu_script_mma_keeps_accumulators_in_registers(tmp_path, extra):
    """gpu_script_mma (f16 x f16 -> f32): the strategy lowers to mma.sync m16n8k16 fed by ldmatrix, and
    the reduction loop touches global memory only to read A and B (16-byte loads or cp.async): the
    accumulators are loop-carried registers, not re-read and re-written each step as in the first
    probe; depth 2-3 pipeline the staging with cp.async (one group per step), padded too (the padding
    once stopped the multi-buffering: one buffer, wrong results)."""
    w = Workload.from_key("matmul_256x256x128_f16xf16xf32")
    s = Schedule(w, "gpu_script_mma", dict(GPU_MMA_SCRIPT, **extra), "cuda")
    assert s.validate() is None and s.compilation_info() is None
    ptx = _gpu_script_ptx(s, tmp_path)
    assert "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32" in ptx and "ldmatrix.sync.aligned" in ptx
    loop = ptx[ptx.index("$L__BB0_1:"):]
    loop = loop[:loop.index("bra")]
    # a 64x64 warp tile: 4x8 m16n8 tiles x 2 k16 steps per red_k = 32 -> 64 mma.sync per iteration
    assert loop.count("mma.sync") == 64, loop.count("mma.sync")
    assert "st.global" not in loop
    global_loads = [ln for ln in loop.splitlines() if "ld.global" in ln]
    if extra.get("depth", 0) >= 2:
        assert not global_loads and loop.count("cp.async.cg.shared.global") == 8
        assert loop.count("cp.async.commit_group") == 1
    else:
        assert global_loads and all(".v4." in ln for ln in global_loads), global_loads
    if extra.get("pad"):  # rows of 32 + 8 halves: 80-byte stride in the staged A tile
        assert "+80]" in ptx
    if extra.get("pad") and extra.get("depth", 0) >= 2:  # depth A buffers of 128 x 40 halves before B's
        assert f"+{extra['depth'] * 128 * 40 * 2}]" in ptx


def test_gpu_script_mma_batch_matmul(tmp_path):
    """gpu_script_mma on a batch_matmul: one batch element per workgroup (grid z = the batch), the same
    pipelined mma.sync loop as the plain matmul (64 mma.sync and 8 cp.async an iteration at 128x128x32)."""
    from mlir_opt.ops.transform_script import render_transform_library

    w = Workload.from_key("batch_matmul_4x256x256x128_f16xf16xf32")
    s = Schedule(w, "gpu_script_mma", dict(GPU_MMA_SCRIPT, depth=3, sched=1, pad=1), "cuda")
    assert s.validate() is None
    lib = render_transform_library([s])
    assert "[1, 128, 128]" in lib and "#gpu.block<z>" in lib and "#gpu.warp<z>" in lib
    ptx = _gpu_script_ptx(s, tmp_path)
    assert "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32" in ptx and "%ctaid.z" in ptx
    loop = ptx[ptx.index("$L__BB0_1:"):]
    loop = loop[:loop.index("bra")]
    assert loop.count("mma.sync") == 64 and loop.count("cp.async.cg.shared.global") == 8, loop


def test_gpu_script_mma_validation():
    """Combinations known to fail are refused before compiling, with the reason."""
    w = Workload.from_key("matmul_256x256x128_f16xf16xf32")
    bad = {"sched 1": dict(GPU_MMA_SCRIPT, depth=2, sched=1),
           "shared memory": dict(GPU_MMA_SCRIPT, wg_m=256, wg_n=256, red_k=64, depth=4),
           "every thread": dict(GPU_MMA_SCRIPT, wg_m=64, warp_m=32, warp_n=32, red_k=16, depth=1)}
    for what, d in bad.items():
        why = Schedule(w, "gpu_script_mma", d, "cuda").validate()
        assert why and what.split()[0] in why, (what, why)
    f32 = Workload.from_key("matmul_256x256x128_f32xf32xf32")
    assert "does not apply" in Schedule(f32, "gpu_script_mma", GPU_MMA_SCRIPT, "cuda").validate()
    assert "gpu_script_mma" in [sk.name for sk in sketches_for(w, "cuda")]
