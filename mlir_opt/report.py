"""The optimize report: a JSON-able dict and the summary table printed at the end of a run."""

from __future__ import annotations

import datetime as _dt
import platform
from typing import Any

from rich.console import Console
from rich.table import Table

from .backend import compiler_version

__all__ = ["build_report", "print_summary", "machine_info"]


def machine_info(threads: int | None = None) -> dict:
    """CPU model, core count and the threads used, for naming the machine in results."""
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import os

    return {"cpu": cpu, "cores": os.cpu_count(), "threads": threads, "system": platform.platform()}


def build_report(model, target, graph, ops, check: dict, timings: dict, stages: dict, *,
                 threads: int, compile_seconds: dict, flags: dict) -> dict[str, Any]:
    """Assemble report.json's content from the stage results."""
    sig = model.signature
    base, opt = timings["baseline"], timings["optimized"]
    return {
        "model": model.name,
        "source": model.source,
        "input_level": model.meta.get("input_level"),
        "target": target.name,
        "target_arch": target.arch,
        "entry": model.entry,
        "signature": {"inputs": [str(t) for t in sig.inputs], "outputs": [str(t) for t in sig.outputs]},
        "reference": check["reference"],
        "baseline_ms": base.median_ms,
        "optimized_ms": opt.median_ms,
        "speedup": base.median_ms / opt.median_ms,
        "max_rel_error": check["optimized"]["max_rel_error"],
        "baseline_rel_error": check["baseline"]["max_rel_error"] if model.reference is not None else 0.0,
        "tolerance": check["tolerance"],
        "check": {k: v for k, v in check.items() if k in ("baseline", "optimized")},
        "timing": {"baseline": base.to_dict(), "optimized": opt.to_dict()},
        "stages": dict(stages),
        "graph": graph.to_dict(),
        "ops": ops.to_dict(),
        "compile": {"seconds": compile_seconds, "flags": flags},
        "machine": machine_info(threads),
        "versions": {"iree-base-compiler": compiler_version()},
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def print_summary(report: dict, console: Console | None = None) -> None:
    """Print the run's summary table (to stdout by default)."""
    console = console or Console(highlight=False)
    t = Table(title=f"mlir_opt · {report['model']} on {report['target']}", show_header=False)
    t.add_column("key", style="bold")
    t.add_column("value")
    tb, to = report["timing"]["baseline"], report["timing"]["optimized"]
    t.add_row("model", f"{report['model']} ({report['source']}, {report.get('input_level')})")
    t.add_row("inputs → outputs", f"{', '.join(report['signature']['inputs'])} → "
                                  f"{', '.join(report['signature']['outputs'])}")
    t.add_row("baseline (IREE default)", f"{report['baseline_ms']:.3f} ms  (IQR ±{100 * tb['iqr_rel']:.1f} %, {tb['reps']} reps)")
    t.add_row("optimized", f"{report['optimized_ms']:.3f} ms  (IQR ±{100 * to['iqr_rel']:.1f} %, {to['reps']} reps)")
    note = "  (same module as baseline: the difference is timing noise)" if report.get("identical_to_baseline") else ""
    t.add_row("speedup", f"{report['speedup']:.3f}×{note}")
    t.add_row("max rel. error", f"{report['max_rel_error']:.2e} vs {report['reference']} "
                                f"(tolerance {report['tolerance']:.0e})")
    g = report["graph"]
    t.add_row("graph rewrites", ", ".join(g["applied"]) or "none")
    t.add_row("op-level", f"{report['ops']['stats'].get('trials', 0)} trials")
    t.add_row("stages", "  ".join(f"{k} {v:.2f}s" for k, v in report["stages"].items()))
    t.add_row("machine", f"{report['machine']['cpu']} · {report['machine']['threads']} threads")
    console.print(t)
