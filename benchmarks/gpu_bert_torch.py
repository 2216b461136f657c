"""Torch eager time of the BERT encoder layer on CUDA (fp32, TF32 off), the peer of the IREE model bundles.

Runs on the GPU host with torch alone (loads ``mlir_opt/models/bert.py`` by path, no mlir_opt import):

    python3 benchmarks/gpu_bert_torch.py mlir_opt/models/bert.py base 30 > torch_bert.json

Per repetition: CUDA-event time per forward over 10 back-to-back calls (``events_ms``) and wall time of 10
(forward + synchronize) pairs (``call_ms``, the counterpart of an IREE call timed with a host wait).
The layer's own random weights are used (torch is the reference the bundles' outputs are checked against).
"""

import importlib.util
import json
import statistics
import sys
import time

import torch


def main(path: str, size: str = "base", reps: int = 30) -> dict:
    spec = importlib.util.spec_from_file_location("bert_layer", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    model, (x,) = mod.build_bert_layer(size)
    model, x = model.cuda().eval(), x.cuda()
    ev, calls = [], []
    with torch.no_grad():
        for _ in range(10):
            model(x)
        torch.cuda.synchronize()
        for _ in range(reps):
            s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            s.record()
            for _ in range(10):
                model(x)
            e.record()
            torch.cuda.synchronize()
            ev.append(s.elapsed_time(e) / 10)
            t0 = time.perf_counter()
            for _ in range(10):
                model(x)
                torch.cuda.synchronize()
            calls.append((time.perf_counter() - t0) * 100)
    return {"id": f"torch_eager_bert_{size}", "device": torch.cuda.get_device_name(), "torch": torch.__version__,
            "events_ms": statistics.median(ev), "call_ms": statistics.median(calls), "reps": reps,
            "events_all": ev, "call_all": calls}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "base",
                          int(sys.argv[3]) if len(sys.argv) > 3 else 30), indent=1))
