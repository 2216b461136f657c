"""Where an IREE call's time beyond the kernel goes: fp16 4096^3 W3 (``gpu_script_mma``) compiled twice, as the
runner's modules are (result allocated each call: ``hal.device.queue.alloca`` + ``queue.execute.indirect`` waiting
on it + ``hal.fence.await``) and with the result written into caller storage (``iree.abi.output``: one
``queue.execute.indirect`` with nothing to wait on + ``hal.fence.await``), each timed by iree-benchmark-module with
the runner's ``cached`` flags, alone and with ``--cuda_allow_inline_execution=true``; torch's matmul (CUDA events
over 10 back-to-back launches, and 10 x (call + synchronize)) interleaved, rounds alternating.

    PYTHONPATH=. python benchmarks/gpu_call_output_storage.py --build OUT        # here: OUT/w3.vmfb, OUT/w3out.vmfb
    PYTHONPATH=<iree runtime> python3 benchmarks/gpu_call_output_storage.py --run OUT --rounds 3 > r.json   # GPU host
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

__all__ = ["build", "run", "main"]

KEY = "matmul_4096x4096x4096_f16xf16xf32"
#: the module with its result in caller storage (the runner's is the same without %out)
OUT_MODULE = """func.func @main(%lhs: tensor<4096x4096xf16>, %rhs: tensor<4096x4096xf16>,
                %out: tensor<4096x4096xf32> {iree.abi.output = 0 : index}) -> tensor<4096x4096xf32> {
  %zero = arith.constant 0.0 : f32
  %empty = tensor.empty() : tensor<4096x4096xf32>
  %init = linalg.fill ins(%zero : f32) outs(%empty : tensor<4096x4096xf32>) -> tensor<4096x4096xf32>
  %r = linalg.matmul ins(%lhs, %rhs : tensor<4096x4096xf16>, tensor<4096x4096xf16>)
                     outs(%init : tensor<4096x4096xf32>) -> tensor<4096x4096xf32>
  return %r : tensor<4096x4096xf32>
}
"""
CACHED = ["--device_allocator=caching", "--cuda_async_allocations=false"]


def build(out: Path) -> None:
    """Compile W3 (the first ``SKETCH_SEEDS['gpu_script_mma']``) as the runner's module and with output storage."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from mlir_opt.backend import compile_module
    from mlir_opt.ops.dispatches import Workload
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.space import SKETCH_SEEDS
    from mlir_opt.ops.transform_script import render_transform_library

    w = Workload.from_key(KEY)
    s = Schedule(w, "gpu_script_mma", SKETCH_SEEDS["gpu_script_mma"][0], "cuda")
    out.mkdir(parents=True, exist_ok=True)
    (out / "w3_lib.mlir").write_text(render_transform_library([s]))
    flags = [f"--iree-codegen-transform-dialect-library={out / 'w3_lib.mlir'}"]
    for name, src in (("w3", w.single_op_module()), ("w3out", OUT_MODULE)):
        compile_module(src, "cuda", output=out / f"{name}.vmfb", flags=flags)
    print("wrote", out / "w3.vmfb", out / "w3out.vmfb")


def _bench(tool: str, module: Path, inputs: list[str], extra: list[str], reps: int) -> float:
    p = subprocess.run([tool, f"--module={module}", "--device=cuda", "--function=main", *inputs, *CACHED, *extra,
                        f"--benchmark_repetitions={reps}", "--benchmark_min_time=0.05s",
                        "--benchmark_min_warmup_time=0.1", "--benchmark_format=json"],
                       capture_output=True, text=True, timeout=120)
    if p.returncode:
        raise SystemExit(f"iree-benchmark-module failed: {p.stderr[-2000:]}")
    rows = [b for b in json.loads(p.stdout)["benchmarks"] if b.get("run_type") == "iteration"]
    return statistics.median(b["real_time"] / {"ms": 1, "us": 1e-3, "ns": 1e-6}[b["time_unit"]] for b in rows)


def _torch(reps: int) -> dict:
    import time

    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    a = torch.randn(4096, 4096, dtype=torch.float16, device="cuda")
    b = torch.randn(4096, 4096, dtype=torch.float16, device="cuda")
    for _ in range(10):
        a @ b
    torch.cuda.synchronize()
    ev, call = [], []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        for _ in range(10):
            a @ b
        e.record()
        torch.cuda.synchronize()
        ev.append(s.elapsed_time(e) / 10)
        t0 = time.perf_counter()
        for _ in range(10):
            a @ b
            torch.cuda.synchronize()
        call.append((time.perf_counter() - t0) * 100)  # ms per call
    return {"events_ms": statistics.median(ev), "call_ms": statistics.median(call)}


def run(d: Path, rounds: int, reps: int) -> dict:
    """Time the two modules (and inline execution) and torch, ``rounds`` times alternating; medians per round."""
    import numpy as np
    import iree.runtime as rt

    tools = Path(rt.__file__).parent.parent
    tool = next(str(p) for p in tools.rglob("iree-benchmark-module") if p.is_file() and "tracy" not in str(p))
    run_tool = next(str(p) for p in tools.rglob("iree-run-module") if p.is_file() and "tracy" not in str(p))
    r = np.random.default_rng(0)
    for n in ("a", "b"):
        np.save(d / f"{n}.npy", r.standard_normal((4096, 4096)).astype(np.float16))
    ins = [f"--input=@{d / 'a.npy'}", f"--input=@{d / 'b.npy'}"]
    cases = {"alloc_per_call": ("w3.vmfb", ins, []),
             "alloc_per_call_inline": ("w3.vmfb", ins, ["--cuda_allow_inline_execution=true"]),
             "output_storage": ("w3out.vmfb", [*ins, "--input=4096x4096xf32=0"], []),
             "output_storage_inline": ("w3out.vmfb", [*ins, "--input=4096x4096xf32=0"],
                                       ["--cuda_allow_inline_execution=true"])}
    out = {"rounds": []}
    # the output-storage module's result against torch (f32 product of the same f16 inputs, TF32 off)
    subprocess.run([run_tool, f"--module={d / 'w3out.vmfb'}", "--device=cuda", "--function=main", *ins,
                    "--input=4096x4096xf32=0", f"--output=@{d / 'o.npy'}"], check=True, capture_output=True, timeout=120)
    import torch

    torch.backends.cuda.matmul.allow_tf32 = False
    ref = (torch.from_numpy(np.load(d / "a.npy")).cuda().float() @ torch.from_numpy(np.load(d / "b.npy")).cuda().float())
    got = torch.from_numpy(np.load(d / "o.npy")).cuda()
    out["output_storage_rel_error"] = float((got - ref).norm() / ref.norm())
    for _ in range(rounds):
        row = {k: _bench(tool, d / m, i, x, reps) for k, (m, i, x) in cases.items()}
        row["torch"] = _torch(reps)
        out["rounds"].append(row)
        print(json.dumps(row), file=sys.stderr)
    try:
        import torch

        out["device"] = torch.cuda.get_device_name()
    except Exception as e:  # noqa: BLE001 - the timing above already needed torch
        out["device"] = f"? ({e})"
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", type=Path)
    ap.add_argument("--run", type=Path)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--reps", type=int, default=30)
    a = ap.parse_args(argv)
    if a.build:
        build(a.build)
    if a.run:
        print(json.dumps(run(a.run, a.rounds, a.reps), indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
