"""Backend: compile with IREE, run through iree.runtime, check numbers, time."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import mlir_opt
from mlir_opt.backend import (Runner, benchmark_many, compare_outputs, compile_module, get_target,
                              rel_error)
from mlir_opt.errors import CompileError, MlirOptError
from helpers import MATMUL_MLIR


@pytest.fixture(scope="module")
def matmul_vmfb(tmp_path_factory):
    out = tmp_path_factory.mktemp("mm") / "mm.vmfb"
    res = compile_module(MATMUL_MLIR, "llvm-cpu", output=out)
    assert res.ok and out.stat().st_size > 0 and res.seconds > 0
    return out


def test_run_matches_numpy(matmul_vmfb):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((32, 64)).astype(np.float32)
    b = rng.standard_normal((64, 16)).astype(np.float32)
    (out,) = Runner(matmul_vmfb)([a, b])
    assert out.shape == (32, 16)
    assert rel_error(out, a @ b) < 1e-5


def test_benchmark_interleaved(matmul_vmfb):
    rng = np.random.default_rng(0)
    ins = [rng.standard_normal((32, 64)).astype(np.float32), rng.standard_normal((64, 16)).astype(np.float32)]
    t = benchmark_many({"x": matmul_vmfb, "y": matmul_vmfb}, ins, reps=4, rounds=2, warmup_s=0.01,
                       min_time_s=0.01)
    for timing in t.values():
        assert len(timing.samples_ms) == 4
        assert 0 < timing.min_ms <= timing.median_ms <= timing.max_ms
        assert timing.spread >= 0


def test_benchmark_cpu_time_is_recorded(matmul_vmfb):
    rng = np.random.default_rng(0)
    ins = [rng.standard_normal((32, 64)).astype(np.float32), rng.standard_normal((64, 16)).astype(np.float32)]
    kw = dict(reps=2, rounds=1, warmup_s=0.01, min_time_s=0.01, threads=1)
    cpu = benchmark_many({"x": matmul_vmfb}, ins, cpu_time=True, **kw)["x"]
    wall = benchmark_many({"x": matmul_vmfb}, ins, **kw)["x"]
    assert len(cpu.samples_ms) == 2 and cpu.min_ms > 0
    # the same kernel on one thread: CPU time per call is of the order of its wall time. For a kernel
    # this small the wall time (local-task: a worker wakes per call) can be >10x the CPU time
    # (local-sync: inline), measured 0.072 vs 0.006 ms on a quiet machine; a units slip would be 1000x.
    assert 0.01 * wall.median_ms < cpu.median_ms < 10 * wall.median_ms


def test_compile_error_is_one_line(tmp_path):
    bad = MATMUL_MLIR.replace("tensor<64x16xf32>) outs", "tensor<64x17xf32>) outs")
    with pytest.raises((CompileError, MlirOptError)) as exc:
        compile_module(bad, "llvm-cpu", output=tmp_path / "x.vmfb")
    assert "\n" not in str(exc.value)
    res = compile_module(bad, "llvm-cpu", output=tmp_path / "x.vmfb", raise_on_error=False)
    assert not res.ok and res.vmfb is None and res.error


@pytest.mark.parametrize("target,flag", [("cuda", "--iree-cuda-target=sm_80"),
                                         ("vulkan", "--iree-vulkan-target=ampere")])
def test_gpu_targets_compile_here(tmp_path, target, flag):
    tgt = get_target(target)
    assert flag in tgt.flags
    res = compile_module(MATMUL_MLIR, tgt, output=tmp_path / f"{target}.vmfb")
    assert res.ok and (tmp_path / f"{target}.vmfb").stat().st_size > 0


def test_unknown_target():
    with pytest.raises(MlirOptError, match="unknown target 'tpu'"):
        get_target("tpu")


def test_numerics():
    ref = np.array([1.0, 2.0, 3.0])
    assert rel_error(ref, ref) == 0.0
    assert rel_error(ref * (1 + 1e-3), ref) == pytest.approx(1e-3)
    chk = compare_outputs([ref * 1.1], [ref], 1e-4)
    assert not chk.ok and "relative error" in chk.describe()
    chk = compare_outputs([ref[:2]], [ref], 1e-4)
    assert not chk.ok and "shape" in chk.describe()
    assert not compare_outputs([ref, ref], [ref], 1e-4).ok
    assert rel_error(np.array([np.nan, 1.0]), ref[:2]) == float("inf")


def test_api_compile_run_bench(tmp_path):
    vmfb = mlir_opt.compile("mlp", tmp_path / "mlp.vmfb", size="tiny")
    res = mlir_opt.run("mlp", vmfb, size="tiny")
    assert res.check.ok and res.check.max_error < 1e-5
    assert res.outputs[0].shape == (4, 16) and np.std(res.outputs[0]) > 0
    t = mlir_opt.bench("mlp", vmfb, size="tiny", reps=3)
    assert t.median_ms > 0 and len(t.samples_ms) >= 3


def test_watchdog_catches_hangs_and_timeouts():
    from mlir_opt.backend.compile import run_watched

    rc, _, why = run_watched(["sleep", "60"], timeout=30, stall_s=2)  # asleep: no CPU progress
    assert rc is None and why.startswith("hung")
    rc, _, why = run_watched([sys.executable, "-c", "while True: pass"], timeout=3, stall_s=60)
    assert rc is None and why == "timed out after 3 s"
    assert run_watched(["echo", "ok"], timeout=10) == (0, "ok\n", "")
