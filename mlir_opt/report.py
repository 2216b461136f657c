"""The optimize report: a JSON-able dict and the summary table printed at the end of a run."""

from __future__ import annotations

import datetime as _dt
import platform
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .backend import compiler_version

__all__ = ["build_report", "print_summary", "machine_info", "plot_convergence", "write_html"]


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


def _counted(names) -> str:
    """``a ×3, b, c ×2`` in first-use order (``none`` when empty)."""
    counts: dict[str, int] = {}
    for n in names:
        counts[n] = counts.get(n, 0) + 1
    return ", ".join(n if c == 1 else f"{n} ×{c}" for n, c in counts.items()) or "none"


def print_summary(report: dict, console: Console | None = None) -> None:
    """Print the run's summary table (to stdout by default)."""
    if console is None:
        console = Console(highlight=False)
        if not console.is_terminal or console.width < 120:
            console = Console(highlight=False, width=150)
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
    if report.get("exported") == "baseline":
        r = report["rejected"]
        t.add_row("kept baseline", f"[yellow]the optimized candidate measured {r['optimized_ms']:.3f} ms "
                                   f"({r['speedup']:.3f}×): slower, so the baseline was exported; the "
                                   f"candidate is in rejected/ (--keep-slower exports it)[/]")
    t.add_row("max rel. error", f"{report['max_rel_error']:.2e} vs {report['reference']} "
                                f"(tolerance {report['tolerance']:.0e})")
    g = report["graph"]
    t.add_row("graph rewrites", _counted(g["applied"]))
    st = report["ops"]["stats"]
    op_line = f"{st.get('trials', 0)} trials"
    if st.get("chosen_variant"):
        op_line += (f", {st.get('strategy')} search {st.get('search_seconds', 0):.1f} s; module variant "
                    f"'{st['chosen_variant']}' (" + ", ".join(f"{k} {v:.3f} ms" for k, v in st.get("variants_ms", {}).items()) + ")")
    t.add_row("op-level", op_line)
    t.add_row("stages", "  ".join(f"{k} {v:.2f}s" for k, v in report["stages"].items()))
    clock = f" · {report['machine']['clock']}" if report["machine"].get("clock") == "cpu time" else ""
    t.add_row("machine", f"{report['machine']['cpu']} · {report['machine']['threads']} threads{clock}")
    console.print(t)
    wl = st.get("workloads") or {}
    if wl:
        d = Table(title="tuned workloads (single-op modules)")
        for col in ("workload", "share ms", "IREE default ms", "best ms", "speedup", "trials", "failed", "best schedule"):
            d.add_column(col, justify="right" if col not in ("workload", "best schedule") else "left")
        for k, w in sorted(wl.items(), key=lambda kv: -(kv[1].get("weight_ms") or 0)):
            f = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
            d.add_row(k, f(w.get("weight_ms")), f(w.get("default_ms")), f(w.get("best_ms")),
                      "-" if not w.get("speedup") else f"{w['speedup']:.2f}×", str(w.get("trials")),
                      str(w.get("failures")), escape((w.get("best") or "-") + _verdict_note(w, st.get("chosen_variant"))))
        console.print(d)


def _verdict_note(w: dict, chosen: str | None) -> str:
    """A workload row's verdict (report-dict form of :meth:`~mlir_opt.ops.tuner.WorkloadResult.note`)."""
    c = w.get("confirmation")
    return _confirm_note(c) + verdict_extras(w, chosen, confirmed=bool(c))


def verdict_extras(w: dict, chosen: str | None, *, confirmed: bool) -> str:
    """The part of a workload row's verdict besides the re-timing's (``w``: a
    :meth:`~mlir_opt.ops.tuner.WorkloadResult.to_dict`): that IREE's default is kept when the best
    did not beat it in the search (and was not re-timed), and, when the chosen module variant is
    ``packed_all+library``, what that variant did with the workload."""
    out = ""
    if not confirmed and w.get("best") and w.get("kept") is False:
        out = " [not faster than IREE's default in the search; IREE default kept]"
    if chosen == "packed_all+library" and w.get("packed_all"):
        out += f" [packed_all: {w['packed_all']}]"
    return out


def _confirm_note(c: dict | None) -> str:
    """The re-timing's verdict: ' [confirmed: …]' or ' [not confirmed: …; IREE default kept]'."""
    if not c:
        return ""
    if c.get("confirmed"):
        return f" [confirmed: default {c['default_ms']:.3f} ms, best {c['best_ms']:.3f} ms interleaved]"
    if c.get("error"):
        return f" [not confirmed: {c['error']}; IREE default kept]"
    return (f" [not confirmed: default {c['default_ms']:.3f} ms, best {c['best_ms']:.3f} ms interleaved; "
            f"IREE default kept]")


def plot_convergence(ops_stats: dict, path) -> None:
    """Best-so-far time (relative to IREE's default) against trials, one line per workload (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    for key, w in ops_stats.get("workloads", {}).items():
        ys = w.get("best_so_far_ms") or []
        if not ys or not w.get("default_ms"):
            continue
        ax.plot(range(1, len(ys) + 1), [w["default_ms"] / y for y in ys], marker=".", label=key)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_xlabel("trials (per workload)")
    ax.set_ylabel("best speedup over IREE default")
    ax.set_title(f"{ops_stats.get('strategy', '')} search convergence")
    ax.legend(fontsize=6, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _png_b64(fig) -> str:
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return base64.b64encode(buf.getvalue()).decode()


def _timing_figure(report: dict) -> str:
    """Per-repetition latencies of baseline and optimized (strip + median), as base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 2.6))
    names = [k for k in ("baseline", "optimized") if k in report.get("timing", {})]
    for i, k in enumerate(names):
        xs = report["timing"][k].get("samples_ms") or [report["timing"][k]["median_ms"]]
        ax.scatter(xs, [i] * len(xs), s=14, alpha=0.6)
        ax.plot([report["timing"][k]["median_ms"]] * 2, [i - 0.3, i + 0.3], color="black", lw=2)
    ax.set_yticks(range(len(names)), names)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_xlabel("latency per call (ms); bar = median")
    fig.tight_layout()
    out = _png_b64(fig)
    plt.close(fig)
    return out


def _stage_figure(report: dict) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    st = report.get("stages", {})
    fig, ax = plt.subplots(figsize=(6, 0.35 * max(3, len(st)) + 0.6))
    ax.barh(list(st)[::-1], list(st.values())[::-1], color="#4c72b0")
    ax.set_xlabel("seconds")
    fig.tight_layout()
    out = _png_b64(fig)
    plt.close(fig)
    return out


def write_html(report: dict, path, *, images=None) -> None:
    """Write a self-contained HTML report (tables + embedded plots) next to report.json.

    ``images``: a directory whose ``convergence.png`` (operator-level search) is embedded if present.
    """
    import base64
    import html
    from pathlib import Path

    e = html.escape

    def fmt(v):
        return f"{v:.4g}" if isinstance(v, float) else "-" if v is None else str(v)

    rows = [("model", f"{report['model']} ({report.get('source')}, {report.get('input_level')})"),
            ("target", f"{report['target']} {report.get('target_arch') or ''}"),
            ("inputs → outputs", ", ".join(report["signature"]["inputs"]) + " → "
             + ", ".join(report["signature"]["outputs"])),
            ("baseline (IREE default)", f"{report['baseline_ms']:.3f} ms"),
            ("exported module", f"{report['optimized_ms']:.3f} ms ({report.get('exported', 'optimized')})"),
            ("speedup", f"{report['speedup']:.3f}×"),
            ("max rel. error", f"{report['max_rel_error']:.2e} vs {report['reference']} "
                               f"(tolerance {report['tolerance']:.0e})"),
            ("machine", f"{report['machine']['cpu']} · {report['machine']['threads']} threads"),
            ("IREE", str(report.get("versions", {}).get("iree-base-compiler"))),
            ("created", str(report.get("created")))]
    if report.get("exported") == "baseline":
        rows.append(("kept baseline", report["rejected"]["reason"]))
    g = report.get("graph", {})
    gs = g.get("stats", {})
    graph_rows = [("rewrites applied", _counted(g.get("applied") or [])),
                  ("cost before → after", f"{fmt(g.get('cost_before'))} → {fmt(g.get('cost_after'))}")]
    graph_rows += [(k, str(v)) for k, v in gs.items() if isinstance(v, (int, float, str))]
    ops = report.get("ops", {}).get("stats", {})
    wl = ops.get("workloads") or {}

    def table(pairs):
        return "<table>" + "".join(f"<tr><th>{e(k)}</th><td>{e(fmt(v))}</td></tr>" for k, v in pairs) + "</table>"

    parts = [f"<h1>mlir_opt · {e(report['model'])} on {e(report['target'])}</h1>", table(rows),
             "<h2>Timing</h2>", f'<img alt="timing" src="data:image/png;base64,{_timing_figure(report)}">',
             "<h2>Graph level</h2>", table(graph_rows)]
    parts.append("<h2>Operator level</h2>")
    op_pairs = [(k, v) for k, v in ops.items() if isinstance(v, (int, float, str))]
    if ops.get("variants_ms"):
        op_pairs.append(("module variants (ms)", ", ".join(f"{k} {v:.3f}" for k, v in ops["variants_ms"].items())))
    parts.append(table(op_pairs) if op_pairs else "<p>no operator-level search</p>")
    if wl:
        hdr = ["workload", "share ms", "IREE default ms", "best ms", "speedup", "trials", "best schedule"]
        body = ""
        for k, w in sorted(wl.items(), key=lambda kv: -(kv[1].get("weight_ms") or 0)):
            f = lambda x: "-" if x is None else f"{x:.3f}"  # noqa: E731
            body += "<tr>" + "".join(f"<td>{e(str(c))}</td>" for c in (
                k, f(w.get("weight_ms")), f(w.get("default_ms")), f(w.get("best_ms")),
                f"{w['speedup']:.2f}×" if w.get("speedup") else "-", w.get("trials"), w.get("best") or "-")) + "</tr>"
        parts.append("<table><tr>" + "".join(f"<th>{h}</th>" for h in hdr) + "</tr>" + body + "</table>")
    conv = Path(images) / "convergence.png" if images is not None else None
    if conv is not None and conv.exists():
        parts.append(f'<img alt="convergence" src="data:image/png;base64,'
                     f'{base64.b64encode(conv.read_bytes()).decode()}">')
    parts += ["<h2>Stages</h2>", f'<img alt="stages" src="data:image/png;base64,{_stage_figure(report)}">']
    style = ("body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse;"
             "margin:.5em 0}th,td{border:1px solid #ccc;padding:.2em .6em;text-align:left;font-size:90%}")
    Path(path).write_text(f"<!doctype html><html><head><meta charset='utf-8'><title>mlir_opt report</title>"
                          f"<style>{style}</style></head><body>{''.join(parts)}</body></html>\n")
