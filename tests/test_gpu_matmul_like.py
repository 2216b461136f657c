"""GPU schedules for the Q/K/V merge's ``matmul_like`` contraction, and script-form schedules in a model's
fused dispatches (real CUDA compiles here; execution is on the remote H100, docs/gpu.md)."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from mlir_opt.backend import compile_module
from mlir_opt.db import Database, Record
from mlir_opt.ops.dispatches import MatmulLikeWorkload, Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.space import sketches_for
from mlir_opt.ops.transform_script import render_transform_library

ML = "matmul_like_3x128x256x128_f32xf32xf32"
#: a gpu_script schedule valid for BERT-tiny's 16x64 projections (64 threads: 8 x 8 thread tiles of 2 x 8)
TINY = dict(wg_m=16, wg_n=64, th_m=2, th_n=8, red_k=16, prefetch=0, inner_k=0, pad_smem=0, wg_order=0, one_group=0)


def test_matmul_like_workload():
    """Key, extents, reference (the LHS shared by the stack) and sketches of the merged contraction."""
    w = Workload.from_key(ML)
    assert isinstance(w, MatmulLikeWorkload) and w.key == ML and w.kind == "matmul_like"
    assert w.extents == {"B": 3, "M": 128, "N": 256, "K": 128}
    assert w.operand_types == ("tensor<128x128xf32>", "tensor<3x128x256xf32>", "tensor<3x128x256xf32>")
    assert w.contraction_dims == ([], [128], [3, 256], [128])  # IREE counts the stack dim as an N dim
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((128, 128)), rng.standard_normal((3, 128, 256))
    ref = w.reference([a, b])
    assert ref.shape == (3, 128, 256) and np.allclose(ref[2], a @ b[2])
    assert [s.name for s in sketches_for(w, "cuda")] == ["default", "gpu_simt", "gpu_script"]
    assert [s.name for s in sketches_for(w, "llvm-cpu")] == ["default"]
    f16 = Workload.from_key("matmul_like_3x128x256x128_f16xf16xf32")
    assert [s.name for s in sketches_for(f16, "cuda")] == ["default", "gpu_script_mma", "gpu_mma"]
    assert Workload.from_types("linalg.generic", *w.operand_types).key == ML


def test_matmul_like_gpu_script_strategy_compiles(tmp_path):
    """The gpu_script strategy matches the generic (exact extents, the stack dim among the N dims) and runs:
    the kernel has the strategy's thread count, cp.async staging (2 buffers) and 8x4 FMA register tiles."""
    w = Workload.from_key(ML)
    s = Schedule(w, "gpu_script", dict(wg_m=64, wg_n=64, th_m=8, th_n=4, red_k=32, prefetch=2, inner_k=8, pad_smem=0,
                                       wg_order=0, one_group=0), "cuda")
    assert s.validate() is None
    (tmp_path / "lib.mlir").write_text(render_transform_library([s]))
    res = compile_module(w.single_op_module(), "cuda", output=tmp_path / "m.vmfb",
                         flags=[f"--iree-codegen-transform-dialect-library={tmp_path / 'lib.mlir'}",
                                f"--iree-hal-dump-executable-binaries-to={tmp_path / 'bin'}"])
    assert res.ok, res.error
    ptx = next((tmp_path / "bin").glob("*.ptx")).read_text()
    assert ".maxntid 16, 8, 1" in ptx  # [wg_n/th_n, wg_m/th_m, 1]; IREE's own config differs
    assert "cp.async" in ptx and "%ctaid.z" in ptx  # the stack dim on the grid's z
    assert len(re.findall(r"fma\.rn\.f32", ptx)) >= 8 * 4 * 32


def _kernels(ptx: str) -> dict[str, str]:
    """PTX kernel name -> its ``.maxntid``."""
    return {m.group(1): m.group(2) for m in re.finditer(r"\.entry (\w+)\([^{]*?\.maxntid ([\d, ]+)", ptx, re.S)}


@pytest.mark.slow  # heavy: out of the default run for CI time (run with -m slow)
def test_bundle_model_takes_script_winners_for_merged_bert(tmp_path):
    """``bundle-model --rule merge-parallel-matmuls`` on CUDA: the merged graph's ``matmul_like`` dispatch and
    the contractions with an elementwise epilogue get the database's gpu_script winners through the shipped
    transform library (the epilogue form), read back from the PTX of a plain iree-compile of the model."""
    import mlir_opt
    from mlir_opt.graph import apply_rules
    from mlir_opt.ops.dispatches import list_dispatches

    m = apply_rules(mlir_opt.load("bert", size="tiny"), ["merge-parallel-matmuls"]).model
    ds = {d.workload.key: d.info["epilogue"] for d in list_dispatches(m, "cuda") if d.workload}
    assert ds["matmul_like_3x16x64x64_f32xf32xf32"] == "elementwise"
    assert ds["batch_matmul_4x16x16x16_f32xf32xf32"] == "other"  # attention x V, transposed into the output
    # measurements as a remote round would have ingested them (device-qualified target)
    db = Database(tmp_path / "t.sqlite")
    simt = dict(wg_m=16, wg_n=64, th_m=2, th_n=8, red_k=16, promote=1, prefetch=0)
    for key in ("matmul_like_3x16x64x64_f32xf32xf32", "batch_matmul_1x16x128x64_f32xf32xf32"):
        for sketch, d, ms in (("default", {}, 0.05), ("gpu_simt", simt, 0.03), ("gpu_script", TINY, 0.02)):
            db.commit(Record(key, "cuda:NVIDIA H100 80GB HBM3", sketch, d, median_ms=ms))
    out = tmp_path / "b"
    p = subprocess.run([sys.executable, "-m", "mlir_opt", "bundle-model", "bert", "--size", "tiny", "--target", "cuda",
                        "--both", "--rule", "merge-parallel-matmuls", "--db", db.path, "-o", str(out)],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    assert "2 workloads tuned (2 by script" in p.stdout, p.stdout
    man = json.loads((out / "manifest.json").read_text())
    assert [e["id"] for e in man["entries"]] == ["bert_default", "bert_tuned"] and not man["failed"]
    assert man["entries"][1]["flags"] == ["--iree-codegen-transform-dialect-library=transform_library.mlir"]
    lib = (out / "transform_library.mlir").read_text()
    assert lib.count('transform.match.operation_name %user ["linalg.generic"]') == 2  # epilogue form, both keys
    # bufferization's copy of the shared output tile is spread over the threads (not run whole by each)
    assert lib.count("iree-codegen-gpu-distribute-shared-memory-copy") == 2
    # the user's path: the rewritten model and the shipped library, compiled without mlir_opt
    (tmp_path / "m.mlir").write_text(m.text())
    res = compile_module(tmp_path / "m.mlir", "cuda", output=tmp_path / "m.vmfb",
                         flags=[f"--iree-codegen-transform-dialect-library={out / 'transform_library.mlir'}",
                                f"--iree-hal-dump-executable-binaries-to={tmp_path / 'bin'}"])
    assert res.ok, res.error
    ks = _kernels("".join(p.read_text() for p in (tmp_path / "bin").glob("*.ptx")))
    tuned = {k: v for k, v in ks.items() if "matmul_like_3x16x64x64" in k or "batch_matmul_1x16x128x64" in k}
    assert len(tuned) == 2 and set(tuned.values()) == {"8, 8, 1"}, ks  # [wg_n/th_n, wg_m/th_m, 1] of TINY
    others = {k: v for k, v in ks.items() if "batch_matmul_4x16" in k}
    assert others and "8, 8, 1" not in others.values()  # left to IREE
