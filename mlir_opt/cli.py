"""``python -m mlir_opt <verb>``: each verb is a thin wrapper over one public function.

User mistakes end in one ``error: …`` line and exit status 2 (3 for a failed numerical check),
never a traceback. Set ``MLIR_OPT_DEBUG=1`` to get tracebacks for bug reports.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np

from .errors import MlirOptError

__all__ = ["main", "build_parser"]

MODEL_HELP = ("model: a bundled name (mlp, cnn, bert, resnet50, ...: see `models`), path/to/file.py:factory, a .onnx file, "
              "or a .mlir/.mlirbc file (torch, TOSA, StableHLO or linalg level)")


def _add_model_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", help=MODEL_HELP)
    p.add_argument("--size", choices=["tiny", "small", "base"], default=None,
                   help="size preset for bundled models (default: tiny)")
    p.add_argument("--entry", default=None, help="entry function of an MLIR file with several")
    p.add_argument("--name", default=None, help="model name in reports")


def _add_target_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", default="llvm-cpu", choices=["llvm-cpu", "cuda", "vulkan"],
                   help="IREE target (default: llvm-cpu, the host CPU)")
    p.add_argument("--arch", default=None,
                   help="target architecture (default: host for CPU, sm_80 for CUDA, ampere for Vulkan)")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for all verbs."""
    ap = argparse.ArgumentParser(prog="python -m mlir_opt",
                                 description="DNN inference optimizer on MLIR + IREE.")
    sub = ap.add_subparsers(dest="verb", required=True)

    p = sub.add_parser("import", help="import a model to linalg/tensor MLIR and print or save it")
    _add_model_args(p)
    p.add_argument("-o", "--output", help="write here (.mlir text or .mlirbc bytecode); default: stdout")
    p.add_argument("--elide", type=int, default=None, metavar="N",
                   help="elide constants with more than N elements in the printed IR")
    p.add_argument("--signature", action="store_true", help="print only the entry signature as JSON")

    p = sub.add_parser("compile", help="compile a model with IREE's default pipeline to a .vmfb")
    _add_model_args(p)
    _add_target_args(p)
    p.add_argument("-o", "--output", required=True, help="the .vmfb to write")
    p.add_argument("--flag", action="append", default=[], help="extra iree-compile flag (repeatable)")

    p = sub.add_parser("run", help="compile (or load a .vmfb), run on random inputs, check vs the reference")
    _add_model_args(p)
    p.add_argument("--vmfb", help="a compiled module of the model (default: compile it now)")
    p.add_argument("--input", action="append", default=[], metavar="FILE.npy",
                   help="input arrays in order (default: random from --seed)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rtol", type=float, default=None, help="relative-error tolerance (default 1e-4 fp32)")

    p = sub.add_parser("bench", help="time a model compiled with IREE's defaults")
    _add_model_args(p)
    p.add_argument("--vmfb", help="a compiled module of the model (default: compile it now)")
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--threads", type=int, default=None)

    p = sub.add_parser("optimize", help="the whole pipeline: import, graph, ops, compile, check, time, export")
    _add_model_args(p)
    _add_target_args(p)
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR",
                   help="directory for model.vmfb, optimized.mlir, report.json")
    p.add_argument("--graph-search", default="none",
                   help="graph-level strategy: none (default), greedy, backtrack (TASO, alpha 1.05), "
                        "ocggs (sequences of <= 8 rewrites, DP over graphs) or eqsat "
                        "(equality saturation with egglog + ILP extraction)")
    p.add_argument("--graph-cost", default="roofline", choices=["roofline", "measured", "whole"],
                   help="graph search cost: roofline (analytic, default), measured (IREE's dispatches each "
                        "timed alone, cached in the tuning DB) or whole (each candidate timed end to end)")
    p.add_argument("--no-graph-prune", action="store_true",
                   help="ocggs/backtrack: do not prune redundant orders of independent rewrites (slower, same result)")
    p.add_argument("--no-incremental", action="store_true",
                   help="greedy/backtrack/ocggs: build every candidate's graph view from scratch "
                        "(slower, same result)")
    p.add_argument("--no-incremental-match", action="store_true",
                   help="greedy/backtrack/ocggs: match every rule on every candidate's whole graph instead of "
                        "re-matching only around each rewrite (slower, same result)")
    p.add_argument("--no-incremental-cost", action="store_true",
                   help="greedy/backtrack/ocggs: hash and cost every candidate from scratch, and clone it through "
                        "bytecode (slower, same result)")
    p.add_argument("--op-search", default="none", choices=["none", "random", "evolutionary", "reuse"],
                   help="operator-level strategy (default: none)")
    p.add_argument("--budget", type=int, default=48, help="operator-level trials (default 48)")
    p.add_argument("--op-sketch", default=None,
                   help="operator-level sketch to search where it applies, alone, e.g. mmt4d_script or "
                        "double_tiling (default: per op kind, and on llvm-cpu also the packed route "
                        "mmt4d_script for f32 matmuls, measured end to end as the packed module variants)")
    p.add_argument("--db", default=None, help="tuning database (default: ~/.cache/mlir_opt/tuning.sqlite)")
    p.add_argument("--reps", type=int, default=10, help="timing repetitions per module")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: all cores)")
    p.add_argument("--rtol", type=float, default=None, help="relative-error tolerance (default 1e-4 fp32)")
    p.add_argument("--keep-slower", action="store_true",
                   help="export the optimized module even if it measures slower than the baseline "
                        "(default: keep the best, i.e. export the baseline then)")
    p.add_argument("--cpu-time", action="store_true",
                   help="time by process CPU time per call instead of wall time (steady under load with --threads 1)")
    p.add_argument("--json", action="store_true", help="print report.json instead of the table")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress output")

    p = sub.add_parser("tune", help="operator level alone: tune every dispatch, write a tuning spec")
    _add_model_args(p)
    p.add_argument("--strategy", default="evolutionary", choices=["random", "evolutionary", "reuse"])
    p.add_argument("--budget", type=int, default=48, help="total trials (default 48)")
    p.add_argument("--db", default=None, help="tuning database (default: ~/.cache/mlir_opt/tuning.sqlite)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("-o", "--output", default=None,
                   help="write the tuning spec here (the transform library, when a script-form variant wins)")
    p.add_argument("--sketch", default=None,
                   help="search this sketch alone where it applies, e.g. transform_script, mmt4d_script or "
                        "double_tiling (default: per op kind, and on llvm-cpu also the packed route mmt4d_script "
                        "for f32 matmuls, measured end to end as the packed module variants)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads of the trials (default: all cores)")
    p.add_argument("--cpu-time", action="store_true",
                   help="time trials and module variants by process CPU time per call (load-robust with --threads 1)")
    p.add_argument("--variants", default=None, metavar="PATTERN",
                   help="choose among the module-level variants matching PATTERN only, e.g. 'packed*' (fnmatch)")

    p = sub.add_parser("render-spec", help="print the tuning spec of one schedule (for tests and debugging)")
    p.add_argument("workload", help="workload key, e.g. matmul_64x128x32_f32xf32xf32")
    p.add_argument("decisions", nargs="*", metavar="KNOB=VALUE",
                   help="double-tiling decisions: dist_m dist_n vec_m vec_n vec_k")
    p.add_argument("--sketch", default=None,
                   help="sketch (default: the one searched for the workload, e.g. double_tiling, conv_tiling)")

    p = sub.add_parser("rewrite", help="apply graph rewrite rules to a model and print the linalg IR")
    p.add_argument("model", nargs="?", help=MODEL_HELP)
    p.add_argument("--size", choices=["tiny", "small", "base"], default=None,
                   help="size preset for bundled models (default: tiny)")
    p.add_argument("--entry", default=None, help="entry function of an MLIR file with several")
    p.add_argument("--rule", action="append", default=[], metavar="NAME",
                   help="rule to apply wherever it matches (repeatable; default: all)")
    p.add_argument("--list", action="store_true", help="list the rules with their descriptions")
    p.add_argument("--elide", type=int, default=None, metavar="N",
                   help="elide constants with more than N elements in the printed IR")
    p.add_argument("--eqsat", action="store_true",
                   help="rewrite by equality saturation (egglog) and cost-based extraction instead")
    p.add_argument("--print-term", action="store_true",
                   help="with --eqsat: print the extracted egglog term instead of the IR")

    p = sub.add_parser("rules", help="list the graph rewrite rules, or verify them numerically with IREE")
    p.add_argument("--verify", action="store_true",
                   help="compile and run every rule's test graphs before/after, print a table")
    p.add_argument("--rule", action="append", default=[], metavar="NAME", help="only these rules")
    p.add_argument("--no-cache", action="store_true", help="ignore cached verification results")

    p = sub.add_parser("bundle", help="compile candidate schedules of a workload into a benchmark bundle "
                                      "for a remote machine (GPU host)")
    p.add_argument("workload", help="workload key, e.g. matmul_4096x4096x4096_f32xf32xf32")
    _add_target_args(p)
    p.set_defaults(target="cuda")
    p.add_argument("--candidates", type=int, default=16, help="schedules besides IREE's default")
    p.add_argument("--strategy", default="random", choices=["random", "evolutionary"])
    p.add_argument("--db", default=None, help="tuning database (history for evolutionary proposals)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("-o", "--output", required=True, help="bundle directory to create")

    p = sub.add_parser("bundle-model", help="bundle a whole model for a remote device: IREE default, or with the "
                                            "best schedules in the database attached to its ops (--tuned)")
    _add_model_args(p)
    _add_target_args(p)
    p.set_defaults(target="cuda")
    p.add_argument("--tuned", action="store_true", help="attach the database's best schedules per workload")
    p.add_argument("--both", action="store_true", help="IREE default and tuned variants in one bundle (implies --tuned)")
    p.add_argument("--rule", action="append", default=[], metavar="NAME",
                   help="graph rewrite rule applied to the model first (repeatable), e.g. merge-parallel-matmuls")
    p.add_argument("--config-only", action="store_true",
                   help="config-form schedules only (no transform library for script-form winners)")
    p.add_argument("--params", action="store_true",
                   help="ship weights once as an IREE parameter archive (.irpa) shared by the variants")
    p.add_argument("--db", default=None)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("-o", "--output", required=True, help="bundle directory to create")

    p = sub.add_parser("ingest", help="load a bundle runner's results.json into the tuning database")
    p.add_argument("results", help="results.json written by the bundle's runner.py")
    p.add_argument("--bundle", default=None, help="bundle directory (default: the results file's)")
    p.add_argument("--db", default=None)

    p = sub.add_parser("tune-remote", help="operator search measured on a remote machine: rounds of bundle -> "
                                           "your runner command -> ingest (or one step at a time)")
    p.add_argument("subject", help="workload key (matmul_4096x4096x4096_f32xf32xf32) or " + MODEL_HELP)
    p.add_argument("--size", choices=["tiny", "small", "base"], default=None, help="size preset for bundled models")
    _add_target_args(p)
    p.set_defaults(target="cuda")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--candidates", type=int, default=16, help="new candidates per workload and round")
    p.add_argument("--runner-cmd", default=None,
                   help='command that runs a bundle and leaves its results, with {bundle} and {results}, e.g. '
                        '"scp -r {bundle} gpu:b && ssh gpu python3 b/runner.py b --out b/r.json && scp gpu:b/r.json {results}"')
    p.add_argument("-o", "--work-dir", required=True, help="directory for the rounds (round0/, round1/, ...)")
    p.add_argument("--strategy", default="evolutionary", choices=["random", "evolutionary"])
    p.add_argument("--db", default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--reps", type=int, default=10)
    p.add_argument("--timeout", type=float, default=None, help="seconds the runner command may take per round")
    p.add_argument("--sketch", default=None,
                   help="search this sketch where it applies, e.g. gpu_script for CUDA f32 (default: per op kind)")
    p.add_argument("--rule", action="append", default=[], metavar="NAME",
                   help="model subjects: graph rewrite rule applied first (repeatable), e.g. merge-parallel-matmuls")
    step = p.add_mutually_exclusive_group()
    step.add_argument("--prepare-only", action="store_true", help="only write the next round's bundle")
    step.add_argument("--ingest-only", nargs="?", const="", default=None, metavar="RESULTS",
                      help="only ingest the latest round's results.json (or RESULTS, copied there)")

    sub.add_parser("models", help="list the bundled models and their size presets")
    return ap


def _load(args):
    from .importers import load

    return load(args.model, name=args.name, entry=args.entry, size=args.size)


def _cmd_import(args) -> int:
    from .progress import stderr_console

    with stderr_console().status("importing …"):
        m = _load(args)
    if args.signature:
        sig = m.signature
        print(json.dumps({"entry": sig.name, "inputs": [str(t) for t in sig.inputs],
                          "outputs": [str(t) for t in sig.outputs]}))
    elif args.output:
        m.save(args.output)
        print(f"wrote {args.output} (entry @{m.entry})", file=sys.stderr)
    else:
        sys.stdout.write(m.text(elide_large=args.elide))
    return 0


def _cmd_compile(args) -> int:
    from .backend import compile_module, get_target
    from .progress import stderr_console

    console = stderr_console()
    with console.status("importing …"):
        m = _load(args)
    tgt = get_target(args.target, args.arch)
    with console.status(f"compiling for {tgt.name} ({tgt.arch}) …"):
        res = compile_module(m.bytecode(), tgt, output=args.output, flags=args.flag)
    console.print(f"wrote {args.output} in {res.seconds:.2f} s (entry @{m.entry})")
    return 0


def _cmd_run(args) -> int:
    from .api import run

    m = _load(args)
    inputs = None
    if args.input:
        inputs = []
        for f in args.input:
            if not Path(f).is_file():
                raise MlirOptError(f"no such input file: {f}")
            inputs.append(np.load(f))
        sig = m.signature
        if len(inputs) != len(sig.inputs):
            raise MlirOptError(f"{len(inputs)} inputs given; @{m.entry} takes {len(sig.inputs)}")
        for i, (a, t) in enumerate(zip(inputs, sig.inputs)):
            if tuple(a.shape) != t.shape or str(a.dtype) != t.dtype:
                raise MlirOptError(f"input {i} is {a.shape} {a.dtype}; expected {t}")
    res = run(m, args.vmfb, inputs, seed=args.seed, tol=args.rtol)
    for i, o in enumerate(res.outputs):
        print(f"output {i}: shape {tuple(o.shape)} {o.dtype}  mean {float(np.mean(o)):.6g}  "
              f"std {float(np.std(o)):.6g}")
    if res.check is None:
        print(f"no independent reference for {m.source} input; outputs not checked")
        return 0
    print(f"max relative error vs {m.reference_name}: {res.check.max_error:.3e} "
          f"(tolerance {res.check.tol:.0e}) -> {'OK' if res.check.ok else 'MISMATCH'}")
    if not res.check.ok:
        raise MlirOptError(f"outputs do not match {m.reference_name}: {res.check.describe()}")
    return 0


def _cmd_bench(args) -> int:
    from .api import bench

    m = _load(args)
    t = bench(m, args.vmfb, reps=args.reps, threads=args.threads)
    print(f"{m.name}: median {t.median_ms:.3f} ms  min {t.min_ms:.3f}  max {t.max_ms:.3f}  "
          f"IQR ±{100 * t.spread:.1f} %  ({len(t.samples_ms)} reps)")
    return 0


def _graph_options(args) -> dict | None:
    """Constructor options of the graph search from --no-graph-prune / --no-incremental."""
    opts = {}
    if args.no_graph_prune:
        opts["prune"] = False
    if args.no_incremental:
        opts["incremental"] = False
    if args.no_incremental_match:
        opts["incremental_match"] = False
    if args.no_incremental_cost:
        opts["incremental_cost"] = opts["fast_clone"] = False
    if opts and args.graph_search in ("none", "eqsat"):
        raise MlirOptError(f"--no-graph-prune/--no-incremental/--no-incremental-match/--no-incremental-cost apply to greedy, backtrack and ocggs, "
                           f"not --graph-search {args.graph_search}")
    return opts or None


def _cmd_optimize(args) -> int:
    from .pipeline import optimize
    from .report import print_summary

    res = optimize(args.model, args.output, target=args.target, arch=args.arch, graph_search=args.graph_search,
                   op_search=args.op_search, size=args.size, name=args.name, entry=args.entry,
                   reps=args.reps, tol=args.rtol, threads=args.threads, budget=args.budget, db=args.db,
                   quiet=args.quiet, graph_cost=args.graph_cost, keep_slower=args.keep_slower,
                   graph_options=_graph_options(args), cpu_time=args.cpu_time, op_sketch=args.op_sketch)
    if args.json:
        print(json.dumps(res.report, indent=2))
    elif "bundle" in res.report:  # a GPU target: graph search here, the bundle runs on the GPU host
        g = res.report["graph"]
        from collections import Counter

        before, after = g.get("cost_before"), g.get("cost_after")
        rewrites = ", ".join(f"{r} x{n}" if n > 1 else r for r, n in Counter(g.get("applied") or []).items())
        if isinstance(before, (int, float)) and isinstance(after, (int, float)) and after > 0:
            what = (f"graph cost {before:.1f} -> {after:.1f} us ({before / after:.2f}x modelled), "
                    f"rewrites: {rewrites or 'none'}")
        else:
            what = "no graph search"
        roofline = f" (roofline {res.report['roofline']})" if res.report.get("roofline") else ""
        print(f"{res.report['model']} for {res.report['target']}{roofline}: {what}")
        print(f"wrote {args.output}/optimized.mlir, report.json and {res.report['bundle']} "
              f"({res.report['bundle_mib']} MiB: {', '.join(res.report['variants'])}); on the GPU host: "
              f"{res.report['runner_command']}")
        return 0
    else:
        print_summary(res.report)
        print(f"wrote {args.output}/model.vmfb, optimized.mlir, report.json, report.html"
              + (", rejected/" if res.report.get("exported") == "baseline" else ""))
    return 0


def _cmd_tune(args) -> int:
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .db import Database
    from .ops.tuner import tune_model

    m = _load(args)
    db = Database(args.db)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=Console(stderr=True)) as bar:
        task = bar.add_task("tuning", total=args.budget)

        def progress(msg, done, total):
            bar.update(task, completed=done, total=total, description=msg[:60])

        res = tune_model(m, strategy=args.strategy, budget=args.budget, db=db, seed=args.seed,
                         progress=progress, sketch=args.sketch, threads=args.threads, cpu_time=args.cpu_time,
                         variants=args.variants)
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"{m.name}: {args.strategy} search, {res.trials} trials, {res.seconds:.1f} s "
                    f"(database {db.path})")
    for col in ("workload", "share ms", "IREE default ms", "best ms", "speedup", "trials", "failed", "best schedule"):
        t.add_column(col)
    for k, w in sorted(res.workloads.items(), key=lambda kv: -kv[1].weight):
        f = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
        t.add_row(k, f(w.weight), f(w.default_ms), f(w.best_ms), "-" if not w.speedup else f"{w.speedup:.2f}×",
                  str(w.trials), str(w.failures), escape((w.best.describe() if w.best else "-") + w.note(res.chosen)))
    Console(width=180).print(t)
    if res.also:
        print(f"also searched: {', '.join(res.also)} where it applies (default sketch; --sketch NAME searches one alone)")
    print("module variants (end to end, ms): " + ", ".join(f"{k} {v:.3f}" for k, v in res.variants_ms.items())
          + f" -> '{res.chosen}'" + (" (interrupted)" if res.interrupted else ""))
    if args.output:  # a new directory in -o is created, as optimize creates its output directory
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    if res.model is not None:  # packed+library: compile the rewritten module with the library
        packed = Path(args.output or f"{m.name}.mlir").with_suffix(".packed.mlirbc")
        packed.write_bytes(res.model.bytecode())
        print(f"wrote {packed} (the model with its tuned matmuls packed: compile this module, not the input)")
    if res.transform_library and args.output:
        Path(args.output).write_text(res.transform_library)
        print(f"wrote {args.output} (transform library)")
    elif res.candidate_spec and args.output:
        Path(args.output).write_text(res.candidate_spec)
        note = "" if res.tuning_spec else " (not used by the chosen variant)"
        print(f"wrote {args.output}{note}")
    flags = list(res.flags) + ([f"--iree-codegen-tuning-spec-path={args.output}"] if res.tuning_spec and args.output else [])
    if res.transform_library and args.output:
        flags.append(f"--iree-codegen-transform-dialect-library={args.output}")
    print("iree-compile flags: " + (" ".join(flags) or "(none: IREE's defaults are best)"))
    return 0


def _cmd_render_spec(args) -> int:
    from .ops.dispatches import Workload
    from .ops.schedule import Schedule, render_tuning_spec

    w = Workload.from_key(args.workload)
    d = {}
    for item in args.decisions:
        k, _, v = item.partition("=")
        if not v.lstrip("-").isdigit():
            raise MlirOptError(f"decision {item!r} must be KNOB=INTEGER")
        d[k] = int(v)
    from .ops.space import SKETCH_FLAGS, search_sketch

    sketch = args.sketch or search_sketch(w).name
    if sketch not in SKETCH_FLAGS:
        raise MlirOptError(f"unknown sketch {sketch!r} (available: {', '.join(SKETCH_FLAGS)})")
    s = Schedule(w, sketch, d)
    reason = s.validate()
    if reason:
        raise MlirOptError(f"schedule rejected before compiling: {reason}")
    sys.stdout.write(render_tuning_spec([s]))
    return 0
def _print_rule_list() -> None:
    from .graph.rules import RULES

    width = max(map(len, RULES))
    for r in RULES.values():
        print(f"{r.name:{width}s}  {r.family:7s}  {r.description}")


def _cmd_rewrite(args) -> int:
    from .graph import apply_rules

    if args.list:
        _print_rule_list()
        return 0
    if not args.model:
        raise MlirOptError("rewrite needs a MODEL (or --list)")
    m = _load(argparse.Namespace(model=args.model, name=None, entry=args.entry, size=args.size))
    if args.eqsat:
        from .graph.search.eqsat import EqSatSearch

        search = EqSatSearch(rules=args.rule or None, verify=False)
        res = search.run(m)
    else:
        res = apply_rules(m, args.rule or None)
    print(f"applied: {', '.join(res.applied) or 'nothing'}", file=sys.stderr)
    if args.eqsat and args.print_term:
        sys.stdout.write(search.extracted or "")
        return 0
    sys.stdout.write(res.model.text(elide_large=args.elide))
    return 0


def _cmd_rules(args) -> int:
    from .graph.rules import get_rules
    from .graph.verify import verify_rules

    if not args.verify:
        get_rules(args.rule or None)  # validates names
        _print_rule_list()
        return 0
    reps = verify_rules(args.rule or None, use_cache=not args.no_cache)
    w = max(len(r.rule) for r in reps)
    print(f"{'rule':{w}s}  {'family':7s}  {'shapes':>6s}  {'max rel err':>11s}  {'f16 err':>8s}  status")
    for r in reps:
        f16 = f"{r.max_rel_error_f16:8.1e}" if r.max_rel_error_f16 is not None else f"{'-':>8s}"
        print(f"{r.rule:{w}s}  {r.family:7s}  {len(r.shapes):6d}  {r.max_rel_error:11.2e}  {f16}  {r.status}"
              + (f" ({r.reason})" if r.reason else "") + (" [cached]" if r.cached else ""))
        for s in r.shapes:
            print(f"{'':{w}s}    - {s}")
    return 0 if all(r.ok for r in reps) else 1


def _cmd_bundle(args) -> int:
    import random

    from .backend import get_target
    from .db import Database, like_for_like
    from .ops.dispatches import Workload
    from .ops.schedule import Schedule
    from .ops.search import get_strategy
    from .ops.space import complete, search_sketch
    from .remote import write_bundle

    tgt = get_target(args.target, args.arch)
    w = Workload.from_key(args.workload)
    sk = search_sketch(w, tgt.name)
    history = []
    if args.db:
        every = Database(args.db).records(w.key, tgt.name, any_device=True)
        mode, _ = like_for_like(every)  # times of one timing mode only
        history = [(complete(sk.name, r.decisions), r.median_ms if r.ok else None)
                   for r in every if r.sketch == sk.name and (not r.ok or r.timing == mode)]
    props = get_strategy(args.strategy).propose(sk, history, args.candidates, random.Random(args.seed))
    scheds = [Schedule(w, "default", {}, tgt.name)] + [Schedule(w, sk.name, d, tgt.name) for d in props]
    man = write_bundle(scheds, args.output, target=tgt.name, arch=args.arch, seed=args.seed, reps=args.reps)
    print(f"wrote {args.output}: {len(man['entries'])} entries ({len(man['failed'])} failed to compile), "
          f"{man['bytes'] / 2**20:.2f} MiB for {tgt.name} ({tgt.arch})")
    print(f"on the remote machine: cd {Path(args.output).name} && {man['command']}")
    return 0


def _with_rules(m, rules):
    """``m`` after the graph rewrite ``rules`` (none: ``m``); a rule that does not apply is an error."""
    if not rules:
        return m
    from .graph import apply_rules

    res = apply_rules(m, rules)
    missing = [r for r in rules if r not in res.applied]
    if missing:
        raise MlirOptError(f"rule(s) {', '.join(missing)} did not apply to {m.name}")
    print(f"applied: {', '.join(res.applied)}")
    return res.model


def _cmd_bundle_model(args) -> int:
    import tempfile

    from .backend import get_target
    from .db import Database
    from .ops.dispatches import list_dispatches
    from .remote import model_winners, tuned_model, write_model_bundle

    tgt = get_target(args.target, args.arch)
    m = _with_rules(_load(args), args.rule)
    variant, flags, library = m, [], None
    args.tuned = args.tuned or args.both
    tmp = Path(tempfile.mkdtemp(prefix="mlir_opt_bundle_model_"))
    if args.tuned:
        # config-form winners go onto the ops (compilation_info); script-form winners (gpu_script, gpu_script_mma)
        # through a transform library, where their strategy handles every dispatch of the workload
        winners, forms, notes = model_winners(list_dispatches(m, tgt), Database(args.db), tgt.name,
                                              scripts=not args.config_only)
        for line in notes:
            print("  " + line)
        variant, library = tuned_model(m, winners, forms)
        if library:
            (tmp / "transform_library.mlir").write_text(library)
            flags = [f"--iree-codegen-transform-dialect-library={tmp / 'transform_library.mlir'}"]
    name = f"{m.name}_{'tuned' if args.tuned else 'default'}"
    variants = {f"{m.name}_default": (m, [])} if args.both else {}
    variants[name] = (variant, flags)
    man = write_model_bundle(variants, args.output, target=tgt.name, arch=args.arch, reps=args.reps,
                             parameters=args.params)
    out = Path(args.output)
    if library:  # shipped with the bundle: iree-compile MODEL --iree-codegen-transform-dialect-library=<it>
        shutil.copyfile(tmp / "transform_library.mlir", out / "transform_library.mlir")
        mf = out / "manifest.json"
        mf.write_text(mf.read_text().replace(str(tmp / "transform_library.mlir"), "transform_library.mlir"))
    shutil.rmtree(tmp, ignore_errors=True)
    note = ""
    if args.tuned:
        note = (f", {len(winners)} workloads tuned"
                + (f" ({sum(s.sketch in ('gpu_script', 'gpu_script_mma') for s in winners)} by script: "
                   f"{out / 'transform_library.mlir'})" if library else ""))
    print(f"wrote {args.output}: {', '.join(variants)} for {tgt.name} ({tgt.arch}), {man['bytes'] / 2**20:.1f} MiB{note}")
    print(f"on the remote machine: cd {Path(args.output).name} && {man['command']}")
    return 0


def _cmd_ingest(args) -> int:
    from .db import Database
    from .remote import ingest

    summ = ingest(args.results, args.bundle, db=Database(args.db))
    for name, r in summ.get("models", {}).items():
        ms = f"{r['median_ms']:.3f} ms" if r.get("median_ms") else "-"
        print(f"{name} on {summ['target']}: {r['status']} {ms}, max rel. error {r.get('rel_error')}"
              + (f" ({r['error']})" if r.get("error") else ""))
    if "models" in summ:
        return 0
    print(f"ingested for {summ['target']} (timed {summ['timing']}): "
          + ", ".join(f"{k} {v}" for k, v in summ["statuses"].items()))
    for key, b in summ["best"].items():
        peer = summ["peers"].get(key)
        f = lambda x: "-" if x is None else f"{x:.3f} ms"  # noqa: E731
        print(f"{key}: IREE default {f(b['default_ms'])}, best {f(b['best_ms'])} {b['best']}, "
              f"torch {f(peer)}")
    return 0


def _cmd_tune_remote(args) -> int:
    from .backend import get_target
    from .db import Database
    from .ops.dispatches import Workload, list_dispatches
    from .remote import loop

    tgt = get_target(args.target, args.arch)
    try:
        workloads = [Workload.from_key(args.subject)]
        model = None
    except MlirOptError:
        from .importers import load

        model = _with_rules(load(args.subject, size=args.size), args.rule)
        workloads = list({d.workload.key: d.workload for d in list_dispatches(model, tgt) if d.workload}.values())
        if not workloads:
            raise MlirOptError(f"{args.subject} has no tunable dispatch for {tgt.name}") from None
    db = Database(args.db)

    def show(rnd):
        print(f"round {rnd.index}: {rnd.candidates} results ingested ("
              + ", ".join(f"{k} {v}" for k, v in rnd.summary.get("statuses", {}).items()) + ")")
        for key, b in rnd.summary.get("best", {}).items():
            f = lambda x: "-" if x is None else f"{x:.3f} ms"  # noqa: E731
            peer = rnd.summary.get("peers", {}).get(key)
            print(f"  {key}: default {f(b['default_ms'])}, best {f(b['best_ms'])}, peer {f(peer)}")

    if args.prepare_only:
        rnd = loop.prepare_round(workloads, tgt.name, args.work_dir, arch=args.arch, candidates=args.candidates,
                                 strategy=args.strategy, db=db, seed=args.seed, reps=args.reps, sketch=args.sketch)
        print(f"wrote {rnd.directory / 'bundle'} ({rnd.candidates} entries). Run it on the remote machine "
              f"(python3 runner.py . --out results.json), copy results.json to {rnd.directory}/, then: "
              f"python -m mlir_opt tune-remote {args.subject}{' --size ' + args.size if args.size else ''} "
              f"--target {tgt.name} -o {args.work_dir} --ingest-only")
        return 0
    if args.ingest_only is not None:
        show(loop.ingest_round(args.work_dir, db=db, results=args.ingest_only or None))
    else:
        if not args.runner_cmd:
            raise MlirOptError("give --runner-cmd (or use --prepare-only / --ingest-only)")
        loop.tune_remote(workloads, tgt.name, args.work_dir, args.runner_cmd, arch=args.arch, rounds=args.rounds,
                         candidates=args.candidates, strategy=args.strategy, db=db, seed=args.seed, reps=args.reps,
                         timeout=args.timeout, on_round=show, sketch=args.sketch)
    rows = loop.write_outputs(db, workloads, tgt.name, args.work_dir)
    for key, r in rows.items():
        dflt = f"{r['default_ms']:.3f} ms" if r["default_ms"] else "-"
        print(f"best {key}: {r['best_ms']:.3f} ms (IREE default {dflt}) {r['sketch']} {r['decisions']}")
    extra = [f for f in ("tuning_spec.mlir", "transform_library.mlir") if (Path(args.work_dir) / f).exists()]
    print(f"wrote {Path(args.work_dir) / 'best.json'}" + "".join(f" and {f}" for f in extra))
    return 0


def _cmd_models(args) -> int:
    from .models import NAMES, SIZES, describe

    for n in NAMES:
        print(f"{n:13s} {describe(n)}  sizes: {', '.join(SIZES)}")
    return 0


COMMANDS = {"import": _cmd_import, "compile": _cmd_compile, "run": _cmd_run, "bench": _cmd_bench,
            "optimize": _cmd_optimize, "tune": _cmd_tune, "render-spec": _cmd_render_spec,
            "models": _cmd_models, "rewrite": _cmd_rewrite, "rules": _cmd_rules, "bundle": _cmd_bundle,
            "bundle-model": _cmd_bundle_model, "ingest": _cmd_ingest, "tune-remote": _cmd_tune_remote}


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    debug = bool(os.environ.get("MLIR_OPT_DEBUG"))
    try:
        return COMMANDS[args.verb](args)
    except MlirOptError as err:
        if debug:
            raise
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
