"""The end-to-end ``optimize`` pipeline: import → graph → ops → compile → check → bench → export.

Each stage is a separate, timed step that can also be used alone (see :mod:`mlir_opt.api`). The
output directory is written atomically: files go to a temporary sibling directory that is renamed
into place only after every check passed, so a failed run never leaves a directory that looks valid.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from . import report as _report
from .backend import (Runner, benchmark_many, compare_outputs, compile_module, default_threads,
                      default_tolerance, get_target)
from .errors import MlirOptError, NumericsError
from .graph import optimize_graph
from .importers import load
from .model import Model
from .ops import optimize_ops
from .progress import Stages, stderr_console

__all__ = ["OptimizeResult", "optimize", "reference_outputs", "check_against_reference"]


@dataclass
class OptimizeResult:
    """What :func:`optimize` produced: the report dict, the optimized model and the files."""

    report: dict
    model: Model
    optimized: Model
    out_dir: Path | None

    @property
    def speedup(self) -> float:
        return self.report["speedup"]


def reference_outputs(model: Model, inputs: Sequence[np.ndarray], baseline_vmfb: Path | None,
                      *, target: str = "llvm-cpu", threads: int | None = None) -> list[np.ndarray]:
    """The reference outputs: the model's own reference, else the unoptimized IREE module."""
    if model.reference is not None:
        try:
            return model.reference(inputs)
        except Exception as err:
            raise MlirOptError(f"reference ({model.reference_name}) failed: {type(err).__name__}: {err}") from None
    if baseline_vmfb is None:
        raise MlirOptError("no reference available for this model")
    return Runner(baseline_vmfb, model.entry, target, threads)(inputs)


def check_against_reference(model: Model, vmfbs: dict[str, Path], *, target: str = "llvm-cpu",
                            tol: float | None = None, seeds: Sequence[int] = (0, 1),
                            threads: int | None = None, reference_key: str = "baseline") -> dict[str, Any]:
    """Run each module on random inputs (one set per seed) and compare with the reference.

    Returns ``{name: {"errors": [...], "max_rel_error": x, "ok": bool, "problem": str}}``; the
    reference is the model's own, or the ``reference_key`` entry of ``vmfbs`` when it has none.
    """
    tol = tol if tol is not None else default_tolerance([o.dtype for o in model.signature.outputs])
    runners = {k: Runner(v, model.entry, target, threads) for k, v in vmfbs.items()}
    result: dict[str, Any] = {k: {"errors": [], "ok": True, "problem": ""} for k in vmfbs}
    for seed in seeds:
        inputs = model.random_inputs(seed)
        ref = reference_outputs(model, inputs, vmfbs.get(reference_key), target=target, threads=threads)
        for name, run in runners.items():
            chk = compare_outputs(run(inputs), ref, tol)
            result[name]["errors"].extend(chk.errors)
            if not chk.ok and result[name]["ok"]:
                result[name]["ok"] = False
                result[name]["problem"] = f"inputs seed {seed}: {chk.describe()}"
    for r in result.values():
        r["max_rel_error"] = max(r["errors"]) if r["errors"] else 0.0
    result["tolerance"] = tol
    result["reference"] = model.reference_name
    return result


def _prepare_out_dir(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise MlirOptError(f"output path {out_dir} exists and is not a directory")
        if any(out_dir.iterdir()) and not (out_dir / "report.json").exists():
            raise MlirOptError(f"output directory {out_dir} is not empty and holds no mlir_opt report; "
                               "choose another -o")


def optimize(model: Any, out_dir: str | Path | None = None, *, example_inputs: Sequence[Any] | None = None,
             target: str = "llvm-cpu", arch: str | None = None, graph_search: Any = "none",
             op_search: Any = "none",
             size: str | None = None, name: str | None = None, entry: str | None = None,
             reps: int = 10, rounds: int = 3, tol: float | None = None, threads: int | None = None,
             budget: int = 48, db: Any = None, quiet: bool = False, graph_cost: str = "roofline",
             keep_slower: bool = False, graph_options: dict | None = None, cpu_time: bool = False,
             op_sketch: str | None = None) -> OptimizeResult:
    """Optimize a model for a target and (optionally) export the artifacts.

    Args:
        model: anything :func:`mlir_opt.load` accepts (module, file, bundled name, Model).
        out_dir: where to write ``model.vmfb``, ``optimized.mlir`` and ``report.json`` (None: nothing).
        example_inputs: with an ``nn.Module``.
        target: ``llvm-cpu`` (default); ``cuda``/``vulkan`` compile but need a GPU to run.
        arch: the GPU architecture to compile for (default: the target's, ``sm_80`` for CUDA); one
            IREE rejects raises a one-line error before the search. CPU runs take none.
        graph_search: graph-level strategy name or object (``none``, ``greedy``, ``backtrack``, ``ocggs``, …).
        graph_cost: the graph search's cost model: ``roofline`` (analytic, default), ``measured``
            (IREE's dispatches timed alone, cached in the tuning database ``db``) or ``whole``.
        graph_options: more constructor options of a graph strategy given by name, e.g.
            ``{"prune": False, "incremental": False}`` (OCGGS's pruning of redundant sequences and
            incremental graph views; both only change the search's speed).
        op_search: operator-level strategy name (``none``, ``random``, ``evolutionary``) or object.
        budget: trials for the operator-level search.
        op_sketch: the operator-level search's sketch where it applies (e.g. ``mmt4d_script``: its
            confirmed winners become the ``packed+library`` module variant), as ``tune --sketch``.
            None (default): the per-kind sketch, and on llvm-cpu also ``mmt4d_script`` for f32
            matmuls / batch_matmuls, so the packed module variants compete end to end
            (:data:`mlir_opt.ops.space.ALSO_SEARCHED`).
        db: tuning database (a Database or path; default ``~/.cache/mlir_opt/tuning.sqlite``).
        size: preset for bundled models.
        reps: timing repetitions per module; rounds: interleaved rounds they are split into.
        tol: relative-error tolerance (default 1e-4 for fp32).
        threads: CPU threads for IREE (default: all available cores).
        quiet: no progress output.
        keep_slower: export the optimized module even when it measures slower than the baseline.
        cpu_time: time baseline and optimized by process CPU time per call instead of wall time
            (steady on a loaded machine with ``threads=1``).
            By default (keep-best) a candidate that is slower by more than :data:`KEEP_MARGIN` in
            two interleaved measurements is not exported: the baseline is, and the candidate goes
            to ``rejected/`` with its figures in the report.
    Returns:
        :class:`OptimizeResult`; raises :class:`NumericsError` if the optimized module's outputs do
        not match the reference (nothing is exported then).
    """
    console = stderr_console(quiet)
    stages = Stages(console)
    tgt = get_target(target, arch)
    if tgt.is_cpu and arch not in (None, "host"):
        raise MlirOptError("optimize times on this machine's CPU; --arch applies to GPU targets and compile only")
    if not tgt.is_cpu:
        from .backend.compile import check_arch

        check_arch(tgt)  # before the search: an architecture IREE rejects fails fast, in one line
        if op_search != "none" or graph_cost != "roofline":
            raise MlirOptError(f"optimize --target {tgt.name} runs the graph search with the {tgt.name} roofline "
                               f"and writes a bundle for the GPU host; the operator level and measured graph "
                               f"costs need that host: use `tune-remote --target {tgt.name}`")
        if out_dir is None:
            raise MlirOptError(f"optimize --target {tgt.name} needs an output directory (it writes a bundle)")
        return _optimize_for_gpu(model, Path(out_dir), tgt, example_inputs=example_inputs, graph_search=graph_search,
                                 size=size, name=name, entry=entry, reps=reps, quiet=quiet,
                                 graph_options=graph_options)
    if op_sketch is not None:
        from .ops.space import SKETCH_FLAGS

        if op_sketch not in SKETCH_FLAGS:
            raise MlirOptError(f"unknown op sketch {op_sketch!r} (available: {', '.join(SKETCH_FLAGS)})")
    threads = threads or default_threads()
    out_path = Path(out_dir) if out_dir is not None else None
    if out_path is not None:
        _prepare_out_dir(out_path)

    with stages.stage("import", "import to linalg"):
        m = load(model, example_inputs, name=name, entry=entry, size=size)
    with stages.stage("graph", f"graph-level search ({getattr(graph_search, 'name', graph_search)})"):
        cost = None
        if graph_cost != "roofline":
            from .graph.cost import CostModel

            cost = CostModel(mode=graph_cost, target=tgt.name, threads=threads, db=db)
        g = optimize_graph(m.clone(), graph_search, target=tgt.name, cost=cost, options=graph_options)
    with stages.stage("ops", f"operator-level search ({getattr(op_search, 'name', op_search)})"):
        opts = {} if not isinstance(op_search, str) or op_search == "none" else \
            {"budget": budget, "db": db, "threads": threads, "progress": stages.update, "cpu_time": cpu_time,
             **({"sketch": op_sketch} if op_sketch else {})}
        o = optimize_ops(g.model, op_search, target=tgt.name, **opts)

    work = Path(tempfile.mkdtemp(prefix="mlir_opt_"))
    try:
        base_vmfb, opt_vmfb = work / "baseline.vmfb", work / "model.vmfb"
        opt_flags = list(o.compile_flags)
        if o.tuning_spec is not None:
            spec_path = work / "tuning_spec.mlir"
            spec_path.write_text(o.tuning_spec)
            opt_flags.append(f"--iree-codegen-tuning-spec-path={spec_path}")
        if getattr(o, "transform_library", None) is not None:  # script-form schedules
            (work / "transform_library.mlir").write_text(o.transform_library)
            opt_flags.append(f"--iree-codegen-transform-dialect-library={work / 'transform_library.mlir'}")
        with stages.stage("compile", "compile baseline and optimized with IREE"):
            base = compile_module(m.bytecode(), tgt, output=base_vmfb)
            same = o.model.fingerprint() == m.fingerprint() and not opt_flags
            if same:
                shutil.copyfile(base_vmfb, opt_vmfb)
                opt = base
            else:
                opt = compile_module(o.model.bytecode(), tgt, output=opt_vmfb, flags=opt_flags)
                # A clone renames weight resources, so compare what IREE made of it too.
                same = base_vmfb.read_bytes() == opt_vmfb.read_bytes()
        with stages.stage("check", f"check outputs against {m.reference_name}"):
            check = check_against_reference(m, {"baseline": base_vmfb, "optimized": opt_vmfb},
                                            target=tgt.name, tol=tol, threads=threads)
        if not check["optimized"]["ok"]:
            raise NumericsError(f"optimized module does not match the reference ({m.reference_name}): "
                                f"{check['optimized']['problem']}; nothing exported")
        clock = ", cpu time" if cpu_time else ""
        with stages.stage("bench", f"time baseline vs optimized ({reps} reps, {threads} threads{clock})"):
            bench = lambda: benchmark_many({"baseline": base_vmfb, "optimized": opt_vmfb},  # noqa: E731
                                           m.random_inputs(0), entry=m.entry, target=tgt, reps=reps,
                                           rounds=rounds, threads=threads, cpu_time=cpu_time)
            timings = bench()
            confirmed = False
            if not same and not keep_slower and _slower(timings):
                # One slow measurement on a shared machine is not enough to throw a result away:
                # measure again, interleaved, and decide on the pooled samples.
                stages.update("optimized measured slower: confirming")
                for k, t in bench().items():
                    timings[k].samples_ms += t.samples_ms
                confirmed = _slower(timings)
        rep = _report.build_report(m, tgt, g, o, check, timings, stages.times, threads=threads,
                                   compile_seconds={"baseline": base.seconds, "optimized": opt.seconds},
                                   flags={"baseline": base.flags, "optimized": opt.flags})
        rep["identical_to_baseline"] = same
        rep["machine"]["clock"] = "cpu time" if cpu_time else "wall time"
        rep["exported"] = "optimized"
        exported_model = o.model
        if confirmed:
            rep["exported"] = "baseline"
            rep["rejected"] = {"optimized_ms": rep["optimized_ms"], "speedup": rep["speedup"],
                               "graph_rewrites": list(g.applied), "files": "rejected/",
                               "reason": f"the optimized module measured {rep['speedup']:.3f}x of the "
                                         f"baseline (slower by more than {100 * KEEP_MARGIN:.0f} % in "
                                         f"two interleaved measurements); the baseline is exported "
                                         f"(pass keep_slower / --keep-slower to export it anyway)"}
            rep["optimized_ms"], rep["speedup"] = rep["baseline_ms"], 1.0
            exported_model = m
        if out_path is not None:
            with stages.stage("export", f"write {out_path}"):
                _export(out_path, o, base_vmfb if confirmed else opt_vmfb, rep, stages,
                        rejected=confirmed, original=m)
            rep["stages"] = dict(stages.times)
            (out_path / "report.json").write_text(json.dumps(rep, indent=2) + "\n")
            _report.write_html(rep, out_path / "report.html", images=out_path)
        rep["stages"] = dict(stages.times)
        return OptimizeResult(rep, m, exported_model, out_path)
    finally:
        shutil.rmtree(work, ignore_errors=True)


#: keep-best margin: a candidate slower than the baseline by more than this (median, in two
#: interleaved measurements) is not exported.
KEEP_MARGIN = 0.03


def _slower(timings: dict) -> bool:
    return timings["optimized"].median_ms > (1 + KEEP_MARGIN) * timings["baseline"].median_ms


def _export(out_path: Path, o, vmfb: Path, rep: dict, stages: Stages, *, rejected: bool = False,
            original: Model | None = None) -> None:
    parent = out_path.resolve().parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.tmp-", dir=parent))
    try:
        shutil.copyfile(vmfb, tmp / "model.vmfb")
        cand = tmp
        if rejected:  # the baseline ships; the slower candidate is kept aside for inspection
            original.save(tmp / "optimized.mlir")
            cand = tmp / "rejected"
            cand.mkdir()
        o.model.save(cand / "optimized.mlir")
        if o.tuning_spec is not None:
            (cand / "tuning_spec.mlir").write_text(o.tuning_spec)
        if getattr(o, "transform_library", None) is not None:
            (cand / "transform_library.mlir").write_text(o.transform_library)
        if o.stats.get("workloads"):
            _report.plot_convergence(o.stats, tmp / "convergence.png")
        rep["stages"] = dict(stages.times)
        (tmp / "report.json").write_text(json.dumps(rep, indent=2) + "\n")
        if out_path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out_path.name}.old-", dir=parent))
            os.replace(out_path, old / "prev")
            os.replace(tmp, out_path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out_path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _optimize_for_gpu(model, out: Path, tgt, *, example_inputs, graph_search, size, name, entry, reps, quiet,
                      graph_options) -> OptimizeResult:
    """``optimize`` for a GPU target: import, graph search with the target's roofline preset
    (``Roofline.for_target``), then a bundle of the original and the rewritten graph compiled for the
    target, which the GPU host's runner checks against the reference and times
    (``python3 OUT/bundle/runner.py OUT/bundle --out results.json``; docs/gpu.md)."""
    from .remote import write_model_bundle

    console = stderr_console(quiet)
    stages = Stages(console)
    _prepare_out_dir(out)
    with stages.stage("import", "import to linalg"):
        m = load(model, example_inputs, name=name, entry=entry, size=size)
    with stages.stage("graph", f"graph-level search ({getattr(graph_search, 'name', graph_search)}, "
                               f"{tgt.name} roofline)"):
        g = optimize_graph(m.clone(), graph_search, target=tgt.name, options=graph_options)
    variants = {"original": (m, [])}
    if g.applied:
        variants["optimized"] = (g.model, [])
    with stages.stage("bundle", f"compile for {tgt.name} ({tgt.arch}) and write {out / 'bundle'}"):
        man = write_model_bundle(variants, out / "bundle", target=tgt.name, arch=tgt.arch, reps=reps)
    (out / "optimized.mlir").write_text(g.model.text())
    rep = {"model": m.name, "target": tgt.name, "arch": tgt.arch, "graph": g.to_dict(),
           "roofline": g.stats.get("roofline"), "bundle": str(out / "bundle"),
           "bundle_mib": round(man["bytes"] / 2**20, 2), "variants": list(variants),
           "runner_command": man["command"], "stages": dict(stages.times),
           "note": "not run here: the bundle's runner checks every variant against the reference and "
                   "times it on the GPU host"}
    (out / "report.json").write_text(json.dumps(rep, indent=2, default=str) + "\n")
    return OptimizeResult(rep, m, g.model, out)
