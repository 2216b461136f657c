"""``gpu_script_mma``'s ``smem_optin``: staging buffers above sm_80's 163 KiB (up to Hopper's 227 KiB opt-in),
compiled for CUDA here (the H200 run that timed them is in docs/gpu.md); and the bundle delta packer that
ships a merged BERT-base bundle under 40 MiB."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import struct
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mlir_opt.backend import compile_module, get_target, iree_tool
from mlir_opt.ops.dispatches import Workload
from mlir_opt.ops.schedule import Schedule
from mlir_opt.ops.space import SKETCH_SEEDS
from mlir_opt.ops.transform_script import (SM80_DEVICE_TARGET, payload_module, render_transform_library,
                                           smem_optin_flag)

#: the best fp16 4096^3 schedule (W3: 128x256, warp 64x64, red_k 64, 3 cp.async stages, 156 KiB of staging)
W3 = SKETCH_SEEDS["gpu_script_mma"][0]
W = "matmul_256x256x256_f16xf16xf32"


def test_smem_optin_validation():
    """The opt-in lifts the staging limit to Hopper's (less a margin), is refused where it is not needed, and
    records stored before the knob read as smem_optin = 0."""
    w = Workload.from_key(W)
    assert W3["smem_optin"] == 0 and Schedule(w, "gpu_script_mma", W3, "cuda").validate() is None
    d4 = dict(W3, depth=4)  # 4 x (128 x 72 + 64 x 264) halves = 208896 B
    assert "exceeds 160 KiB" in Schedule(w, "gpu_script_mma", d4, "cuda").validate()
    assert Schedule(w, "gpu_script_mma", dict(d4, smem_optin=1), "cuda").validate() is None
    assert "fits without it" in Schedule(w, "gpu_script_mma", dict(W3, smem_optin=1), "cuda").validate()
    big = dict(W3, wg_m=256, wg_n=256, warp_m=64, warp_n=64, depth=4, smem_optin=1)  # 266 KiB
    assert "exceeds 224 KiB" in Schedule(w, "gpu_script_mma", big, "cuda").validate()
    old = {k: v for k, v in W3.items() if k != "smem_optin"}
    assert Schedule(w, "gpu_script_mma", old, "cuda").decisions["smem_optin"] == 0


def test_sm80_device_target_is_irees_own(tmp_path):
    """The device the opt-in module names is exactly IREE 3.13's sm_80 target, bar the shared-memory limit."""
    w = Workload.from_key(W)
    (tmp_path / "m.mlir").write_text(w.single_op_module())
    out = tmp_path / "src.mlir"
    subprocess.run([iree_tool("iree-compile"), str(tmp_path / "m.mlir"), *get_target("cuda").flags,
                    "--compile-to=executable-sources", "-o", str(out)], check=True, capture_output=True)
    dev = re.search(r"util\.global private @__device_0 = (#hal\.device\.target<.*>) : !hal\.device", out.read_text())
    assert dev and dev.group(1) == SM80_DEVICE_TARGET.replace("{smem}", "166912")


def test_smem_optin_compiles_four_stages_of_red_k_64(tmp_path):
    """W3 with a fourth cp.async stage (204 KiB): IREE refuses the strategy on the plain module (sm_80's limit)
    and compiles it on the opt-in payload; the PTX keeps W3's loop (128 mma.sync, 12 cp.async, one barrier) and
    waits for the stage two behind (wait_group 2, W3: 1), the staging reaching past 163 KiB."""
    w = Workload.from_key(W)
    s = Schedule(w, "gpu_script_mma", dict(W3, depth=4, smem_optin=1), "cuda")
    assert s.validate() is None
    (tmp_path / "lib.mlir").write_text(render_transform_library([s]))
    lib = f"--iree-codegen-transform-dialect-library={tmp_path / 'lib.mlir'}"
    plain = compile_module(w.single_op_module(), "cuda", output=tmp_path / "p.vmfb", flags=[lib],
                           raise_on_error=False)
    assert not plain.ok and "exceeded the limit of 166912 bytes" in plain.error
    src = payload_module(s)
    assert "max_workgroup_memory_bytes = 232448" in src and "linalg.matmul" in src
    res = compile_module(src, "cuda", output=tmp_path / "m.vmfb", raise_on_error=False,
                         flags=[lib, f"--iree-hal-dump-executable-binaries-to={tmp_path / 'bin'}"])
    assert res.ok, res.error
    ptx = next((tmp_path / "bin").glob("*.ptx")).read_text()
    loop = ptx[ptx.index("$L__BB0_1:"):]
    loop = loop[:loop.index("bra")]
    assert loop.count("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32") == 128
    assert loop.count("cp.async.cg.shared.global") == 12 and loop.count("bar.sync") == 1
    assert re.findall(r"cp\.async\.wait_group\s+(\d+)", loop) == ["2"]
    # the kernel's dynamic shared memory (a u32 of the executable's flatbuffer): 4 x (128 x 72 + 64 x 264) halves
    assert struct.pack("<I", 208896) in (tmp_path / "m.vmfb").read_bytes()
    # the same device as a flag (best.json's target_flag; for plain iree-compile of the library): the same kernel
    (tmp_path / "plain.mlir").write_text(w.single_op_module())
    subprocess.run([iree_tool("iree-compile"), str(tmp_path / "plain.mlir"), smem_optin_flag(), lib,
                    f"--iree-hal-dump-executable-binaries-to={tmp_path / 'bin2'}", "-o", str(tmp_path / "f.vmfb")],
                   check=True, capture_output=True)
    assert next((tmp_path / "bin2").glob("*.ptx")).read_text() == ptx


def _delta():
    path = Path(__file__).resolve().parent.parent / "benchmarks" / "bundle_delta.py"
    spec = importlib.util.spec_from_file_location("bundle_delta", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bundle_delta_roundtrip(tmp_path):
    """A file made of runs of a reference (shifted, as a module's inline weights sit in its .vmfb) plus
    literal bytes is stored as a small delta and restored byte for byte; a changed reference is refused."""
    bd = _delta()
    rng = np.random.default_rng(0)
    ref = rng.standard_normal(150_000).astype(np.float32).tobytes()  # 600 KB, like weights
    junk = rng.integers(0, 256, 5000, dtype=np.uint8).tobytes()
    target = junk[:777] + ref[4096:400_000] + junk[777:] + ref[:131_072 + 13]
    (tmp_path / "io").mkdir()
    (tmp_path / "io" / "ref.irpa").write_bytes(ref)
    (tmp_path / "m.vmfb").write_bytes(target)
    old, new = bd.pack(tmp_path, "io/ref.irpa", "m.vmfb")
    assert old == len(target) and new < 12_000 and not (tmp_path / "m.vmfb").exists()
    assert bd.unpack(tmp_path) == [str(tmp_path / "m.vmfb")]
    assert hashlib.sha256((tmp_path / "m.vmfb").read_bytes()).digest() == hashlib.sha256(target).digest()
    bd.pack(tmp_path, "io/ref.irpa", "m.vmfb")
    (tmp_path / "io" / "ref.irpa").write_bytes(ref[:10_000] + b"\0\0\0\0" + ref[10_004:])  # a byte run it copies
    with pytest.raises(SystemExit, match="sha256"):
        bd.unpack(tmp_path)


def test_smem_optin_winner_carries_its_target_flag(tmp_path):
    """tune-remote's outputs for an opt-in winner: best.json names the device flag plain iree-compile needs with
    the transform library (the library alone is refused against sm_80's limit, test above); a model bundle never
    takes such a schedule (its model is compiled for plain sm_80)."""
    import json

    from mlir_opt.db import Database, Record
    from mlir_opt.ops.dispatches import Dispatch
    from mlir_opt.remote import model_winners
    from mlir_opt.remote.loop import write_outputs

    w = Workload.from_key("matmul_4096x4096x4096_f16xf16xf32")
    target = "cuda:NVIDIA H200"
    d4 = dict(W3, depth=4, smem_optin=1)
    db = Database(tmp_path / "t.sqlite")
    for sketch, dec, ms in (("default", {}, 0.97), ("gpu_script_mma", W3, 0.4397), ("gpu_script_mma", d4, 0.4390)):
        db.commit(Record(w.key, target, sketch, dec, [], "3.13.0", "ok", ms, [ms], timing="cached"))
    rows = write_outputs(db, [w], "cuda", tmp_path)
    assert rows[w.key]["decisions"] == d4 and rows[w.key]["target_flag"] == smem_optin_flag()
    assert json.loads((tmp_path / "best.json").read_text())[w.key]["target_flag"].endswith(
        "max_workgroup_memory_bytes = 232448, max_workgroup_counts = [2147483647, 65535, 65535]>>}>]>")
    assert (tmp_path / "transform_library.mlir").exists()

    # a model dispatch of this workload with no epilogue (the form gpu_script_mma handles in a model)
    d = Dispatch("main_dispatch_0_matmul_4096x4096x4096_f16xf16xf32", "linalg.matmul", 1, w, info={"epilogue": "none"})
    winners, _, notes = model_winners([d], db, "cuda")
    assert [s.decisions for s in winners] == [W3], notes
    assert any("smem_optin" in n and "left out" in n for n in notes), notes
