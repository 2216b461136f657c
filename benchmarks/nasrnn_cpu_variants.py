"""NasRNN small on this CPU, side by side in one process: the original graph, x-side merges only (the
CPU eqsat result before the per-target presets) and every matmul group merged (the cuda preset's
result); several interleaved passes at 2 threads (wall) and one at 1 thread (CPU time).

    PYTHONPATH=. python benchmarks/nasrnn_cpu_variants.py
"""
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import mlir_opt  # noqa: E402
from mlir_opt.backend.bench import benchmark_interleaved  # noqa: E402
from mlir_opt.backend.compile import compile_module  # noqa: E402
from mlir_opt.graph import optimize_graph, prepare  # noqa: E402
from nasrnn_targets import x_only  # noqa: E402

m = mlir_opt.load("nasrnn", size="small")
v = {"orig": prepare(m), "xonly": x_only(prepare(m)), "all": optimize_graph(m.clone(), "eqsat", target="cuda").model}
tmp = pathlib.Path(tempfile.mkdtemp())
vm = {}
for k, mm in v.items():
    vm[k] = compile_module(mm.bytecode(), "llvm-cpu", output=tmp / f"{k}.vmfb").vmfb
ins = m.random_inputs(1)
print("inputs", [a.shape for a in ins])
for thr, cpu in [(2, False), (2, False), (1, True), (2, False), (2, False)]:
    t = benchmark_interleaved(vm, ins, entry=m.entry, rounds=9, min_time_s=0.2, threads=thr, cpu_time=cpu)
    print(f"threads={thr} cpu_time={cpu}: " + ", ".join(
        f"{k} {x.median_ms:.3f} ms ({t['orig'].median_ms / x.median_ms:.2f}x)" for k, x in t.items()), flush=True)
