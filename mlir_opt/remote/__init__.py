"""Benchmark bundles: compile here, time on a remote machine (a GPU host or another CPU box).

A bundle is a directory with the compiled candidate modules, a manifest (inputs as shapes + seed,
the reference as a kind computed there in float64, the schedule of each module), and ``runner.py``,
which needs only numpy and iree-base-runtime. ``ingest`` loads the runner's results.json into the
tuning database, where the searches use them like local measurements. Results from a device of
another kind than the bundle's target are refused.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..backend import compile_module, compiler_version, get_target
from ..db import TIMING_MODES, Database, Record, like_for_like
from ..errors import MlirOptError
from ..ops.dispatches import Workload
from ..ops.schedule import Schedule
from ..ops.transform_script import SCRIPT_SKETCHES, payload_module, render_transform_library

__all__ = ["write_bundle", "write_model_bundle", "ingest", "results_timing", "model_winners", "tuned_model",
           "MAX_BUNDLE_BYTES", "RUNNER"]

#: What a bundle may weigh (the remote host accepts 64 MiB per run; leave room for the wheel).
MAX_BUNDLE_BYTES = 40 * 2**20
RUNNER = Path(__file__).with_name("runner.py")
_DRIVER_NAMES = {"cuda": ("cuda",), "vulkan": ("vulkan",), "llvm-cpu": ("local-task", "local-sync")}


@dataclass
class BundleEntry:
    """One module of a bundle (or a peer such as torch's matmul when ``schedule`` is None)."""

    id: str
    schedule: Schedule | None
    peer: str | None = None


def _io(w: Workload, seed: int) -> dict:
    def shape(t):
        return [int(x) for x in t[len("tensor<"):-1].split("x")[:-1]]

    dt = {"f32": "float32", "f16": "float16"}
    return {"seed": seed, "reference": "matmul",
            "inputs": [{"shape": shape(t), "dtype": dt[e]} for t, e in zip(w.operand_types[:2], w.types[:2])]}


def write_bundle(schedules: Iterable[Schedule], out_dir: str | Path, *, target: str = "cuda",
                 arch: str | None = None, seed: int = 0, reps: int = 10, tol: float = 1e-4,
                 peers: bool = True, jobs: int | None = None, extra_flags: Iterable[str] = ()) -> dict:
    """Compile ``schedules`` for ``target`` and write a self-contained bundle directory.

    ``extra_flags`` are iree-compile flags added to every module alike (recorded in the manifest's
    ``compile_flags``), e.g. ``--iree-execution-model=async-external`` for pipelined timing.

    Candidates that fail to compile are recorded in the manifest's ``failed`` list (with reasons)
    and not shipped. Returns the manifest.
    """
    from concurrent.futures import ThreadPoolExecutor

    tgt = get_target(target, arch)
    extra_flags = list(extra_flags)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise MlirOptError(f"bundle directory {out} is not empty")
    (out / "modules").mkdir(parents=True, exist_ok=True)
    schedules = list(schedules)
    entries, failed = [], []

    def build(i_s):
        i, s = i_s
        reason = s.validate()
        if reason:
            return i, s, None, f"invalid: {reason}"
        src = payload_module(s)  # the op with its compilation_info; packed for mmt4d_script, smem_optin device
        flags = [*s.flags(), *extra_flags]
        if s.sketch in SCRIPT_SKETCHES:  # a transform-dialect strategy IREE runs for the dispatch
            lib = scratch / f"c{i}_lib.mlir"
            lib.write_text(render_transform_library([s]))
            flags = [*flags, f"--iree-codegen-transform-dialect-library={lib}"]
        res = compile_module(src, tgt, output=out / "modules" / f"c{i}.vmfb", flags=flags, raise_on_error=False)
        return i, s, res, res.error

    with tempfile.TemporaryDirectory(prefix="mlir_opt_bundle_") as tmp, \
            ThreadPoolExecutor(max_workers=jobs or 2) as pool:
        scratch = Path(tmp)
        for i, s, res, err in pool.map(build, enumerate(schedules)):
            if err:
                failed.append({"id": f"c{i}", "workload": s.workload.key, "sketch": s.sketch,
                               "decisions": s.decisions, "error": err})
                continue
            entries.append({"id": f"c{i}", "module": f"modules/c{i}.vmfb", "io": _io(s.workload, seed),
                            "workload": s.workload.key, "workload_info": s.workload.to_dict(),
                            "sketch": s.sketch, "decisions": s.decisions, "flags": s.flags()})
    if peers and tgt.name == "cuda":
        for w in {s.workload.key: s.workload for s in schedules}.values():
            entries.append({"id": f"torch_{w.key}", "peer": "torch_matmul", "io": _io(w, seed),
                            "workload": w.key, "workload_info": w.to_dict()})
    return _finish(out, tgt, entries, failed, reps, tol, compile_flags=[*tgt.flags, *extra_flags])


def write_model_bundle(variants: dict, out_dir: str | Path, *, target: str = "cuda", arch: str | None = None,
                       seed: int = 0, reps: int = 10, tol: float = 1e-4, parameters: bool = False) -> dict:
    """Bundle whole-model variants ``{name: (Model, extra_flags)}`` compiled for ``target``.

    All variants share one random input set (seed) and the reference outputs of the first
    variant's model reference (torch / ONNX Runtime), shipped as .npy files; the runner checks
    every variant against them before timing it end to end.

    With ``parameters``, weights leave the modules for an IREE parameter archive (``.irpa``, scope
    ``model``; ``--iree-parameter-export``); variants whose archives are byte-identical (the same
    weights under other schedules) share one file, so default and tuned fit in one bundle.
    """
    import numpy as np

    tgt = get_target(target, arch)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise MlirOptError(f"bundle directory {out} is not empty")
    (out / "modules").mkdir(parents=True)
    (out / "io").mkdir()
    first = next(iter(variants.values()))[0]
    if first.reference is None:
        raise MlirOptError("a model bundle needs a model with a reference (torch or ONNX)")
    ins = first.random_inputs(seed)
    refs = first.reference(ins)
    io = {"files": {"inputs": [], "reference": []}}
    for i, a in enumerate(ins):
        np.save(out / "io" / f"in{i}.npy", a)
        io["files"]["inputs"].append(f"io/in{i}.npy")
    for i, r in enumerate(refs):
        np.save(out / "io" / f"ref{i}.npy", np.asarray(r))
        io["files"]["reference"].append(f"io/ref{i}.npy")
    entries, failed = [], []
    archives: dict[str, str] = {}  # sha256 -> bundle-relative path
    for name, (model, flags) in variants.items():
        pflags = []
        if parameters:
            pflags = [f"--iree-parameter-export=model={out / 'io' / f'{name}.irpa'}",
                      "--iree-parameter-export-minimum-size=1024"]
        res = compile_module(model.bytecode(), tgt, output=out / "modules" / f"{name}.vmfb", flags=[*flags, *pflags],
                             raise_on_error=False)
        if not res.ok:
            failed.append({"id": name, "error": res.error})
            continue
        entry = {"id": name, "module": f"modules/{name}.vmfb", "function": model.entry, "io": io,
                 "model": model.name, "flags": list(flags), "timeout": 600}
        irpa = out / "io" / f"{name}.irpa"
        if parameters and irpa.exists():
            digest = hashlib.sha256(irpa.read_bytes()).hexdigest()
            if digest in archives:
                irpa.unlink()
            else:
                archives[digest] = f"io/{name}.irpa"
            entry["parameters"] = [f"model={archives[digest]}"]
        entries.append(entry)
    return _finish(out, tgt, entries, failed, reps, tol, kind="models")


#: Script-form sketches a model dispatch can take, with the dispatch forms (:func:`..ops.dispatches.epilogue_kind`)
#: their strategy handles: ``gpu_script`` fuses an elementwise consumer (bias add, GELU, residual, scale);
#: ``gpu_script_mma`` has no epilogue form yet (its warp-level accumulators would need the consumer tiled
#: over warps), so it applies only where the contraction's result goes straight to the output.
MODEL_SCRIPT_FORMS = {"gpu_script": ("none", "elementwise"), "gpu_script_mma": ("none",)}


def model_winners(dispatches, db: Database, target: str, *, scripts: bool = True,
                  min_gain: float | None = None) -> tuple[list[Schedule], dict[str, set[str]], list[str]]:
    """The database's best schedule per tunable workload of a model's ``dispatches`` (from
    :func:`..ops.dispatches.list_dispatches`), where it beats IREE's default by ``min_gain``.

    Config-form schedules always qualify; a script-form one (``scripts``) only where every dispatch of its
    workload has a form its strategy handles (:data:`MODEL_SCRIPT_FORMS`). Returns ``(winners, forms,
    notes)``: ``forms`` maps each workload key to its dispatches' epilogue kinds (for
    :func:`..ops.transform_script.render_transform_library`), ``notes`` says per workload what was chosen
    and why a faster script form was left out."""
    from ..ops.tuner import MIN_GAIN

    gain = MIN_GAIN if min_gain is None else min_gain
    forms: dict[str, set[str]] = {}
    works: dict[str, Workload] = {}
    for d in dispatches:
        if d.workload is not None:
            forms.setdefault(d.workload.key, set()).add(d.info.get("epilogue", "other"))
            works[d.workload.key] = d.workload
    winners, notes = [], []
    for key, w in works.items():
        # one timing mode's records only (a cached winner is never weighed against a plain default)
        mode, recs = like_for_like(db.records(key, target, any_device=True), need_default=True)
        default = [r.median_ms for r in recs if r.sketch == "default"]
        if not default:
            notes.append(f"{key}: no IREE default measured")
            continue
        allowed = [r for r in recs if r.sketch not in ("default", *SCRIPT_SKETCHES)]
        # (smem_optin schedules need their single-op module on a Hopper-limit device: not for a whole model)
        optin = [r for r in recs if r.sketch in MODEL_SCRIPT_FORMS and (r.decisions or {}).get("smem_optin")]
        script = [r for r in recs if r.sketch in MODEL_SCRIPT_FORMS and r not in optin]
        fits = [r for r in script if scripts and forms[key] <= set(MODEL_SCRIPT_FORMS[r.sketch])]
        best = min(allowed + fits, key=lambda r: r.median_ms, default=None)
        left = min((r for r in script if r not in fits), key=lambda r: r.median_ms, default=None)
        if left is not None and (best is None or left.median_ms < best.median_ms):
            notes.append(f"{key}: {left.sketch} {left.median_ms:.3f} ms left out (dispatch forms "
                         f"{sorted(forms[key])}; {left.sketch} handles {list(MODEL_SCRIPT_FORMS[left.sketch])})"
                         if scripts else f"{key}: {left.sketch} {left.median_ms:.3f} ms left out (config form only)")
        fastest = min(optin, key=lambda r: r.median_ms, default=None)
        if fastest is not None and (best is None or fastest.median_ms < best.median_ms):
            notes.append(f"{key}: {fastest.sketch} {fastest.median_ms:.3f} ms left out (smem_optin: compiled only on "
                         "the Hopper shared-memory device, not in a model)")
        if best is None or best.median_ms >= gain * min(default):
            notes.append(f"{key}: IREE default kept ({min(default):.3f} ms, timed {mode})")
            continue
        winners.append(Schedule(w, best.sketch, best.decisions, target))
        notes.append(f"{key}: {best.sketch} {best.median_ms:.3f} ms (IREE default {min(default):.3f} ms; "
                     f"timed {mode})")
    return winners, forms, notes


def tuned_model(model, winners: list[Schedule], forms: dict[str, set[str]]):
    """``(variant, library)``: a clone of ``model`` whose ops carry the config-form winners'
    ``compilation_info``, and the transform library text of the script-form winners (None if there are
    none), to pass with ``--iree-codegen-transform-dialect-library``."""
    from ..ops.schedule import attach_schedules

    variant = model.clone()
    attach_schedules(variant, [s for s in winners if s.sketch not in SCRIPT_SKETCHES])
    scripts = [s for s in winners if s.sketch in SCRIPT_SKETCHES]
    return variant, (render_transform_library(scripts, dispatch_forms=forms) if scripts else None)


def _finish(out: Path, tgt, entries: list, failed: list, reps: int, tol: float, **extra) -> dict:
    """Copy the runner, write manifest.json, and refuse a bundle over :data:`MAX_BUNDLE_BYTES`."""
    shutil.copyfile(RUNNER, out / "runner.py")
    manifest = {"id": hashlib.sha256(json.dumps(entries, sort_keys=True).encode()).hexdigest()[:12],
                **extra, "target": tgt.name, "arch": tgt.arch, "driver": tgt.driver,
                "compiler_version": compiler_version(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "reps": reps, "tol": tol, "entries": entries, "failed": failed,
                "command": "python3 runner.py . --out results.json"}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    if size > MAX_BUNDLE_BYTES:
        raise MlirOptError(f"bundle is {size / 2**20:.1f} MiB, over {MAX_BUNDLE_BYTES / 2**20:.0f} MiB: "
                           "split it into several bundles")
    manifest["bytes"] = size
    return manifest


def results_timing(res: dict) -> str:
    """The timing mode of a runner's results (``median_ms``'s mode): ``timing.median_ms_from``, else
    ``timing.mode``; results written before the runner recorded it were timed ``plain``."""
    t = res.get("timing") or {}
    mode = t.get("median_ms_from") or t.get("mode") or "plain"
    if mode not in TIMING_MODES:
        raise MlirOptError(f"results carry an unknown timing mode '{mode}' (known: {', '.join(TIMING_MODES)})")
    return mode


def ingest(results_path: str | Path, bundle_dir: str | Path | None = None, *, db: Database | None = None) -> dict:
    """Load a runner's results.json (with its bundle's manifest) into the tuning database.

    Every record keeps the timing mode it was taken with (:func:`results_timing`); a ``--timing all``
    run also stores each entry's other modes as records of their own. Returns a summary: records added
    per status, peers' times, the timing mode, and the best schedule per workload (among records of
    that mode). Refuses results whose device kind does not match the bundle's target.
    """
    results_path = Path(results_path)
    bundle_dir = Path(bundle_dir) if bundle_dir is not None else results_path.parent
    try:
        res = json.loads(results_path.read_text())
        man = json.loads((bundle_dir / "manifest.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise MlirOptError(f"cannot read results/manifest: {e}") from None
    if res.get("bundle") != man["id"]:
        raise MlirOptError(f"results are for bundle {res.get('bundle')}, the manifest is {man['id']}")
    if res.get("error"):
        raise MlirOptError(f"the runner could not run the bundle: {res['error']} (nothing ingested)")
    drv = res.get("device", {}).get("driver")
    if drv not in _DRIVER_NAMES.get(man["target"], ()):
        raise MlirOptError(f"results come from a '{drv}' device but the bundle targets {man['target']}: refused")
    target_key = man["target"] + (f":{res['device'].get('name')}" if res["device"].get("name") else "")
    mode = results_timing(res)
    db = db if db is not None else Database()
    by_id = {e["id"]: e for e in man["entries"]}
    summary: dict = {"target": target_key, "timing": mode, "statuses": {}, "peers": {}, "best": {}}
    if man.get("kind") == "models":  # whole-model variants: report, nothing per workload to record
        summary["models"] = {r["id"]: {k: r.get(k) for k in ("status", "median_ms", "rel_error", "error")}
                             for r in res["results"]}
        return summary
    for r in res["results"]:
        e = by_id.get(r["id"])
        if e is None:
            continue
        if e.get("peer"):
            summary["peers"][e["workload"]] = r.get("median_ms")
            continue
        db.add_workload(e["workload"], e["workload_info"]["op"].split(".", 1)[1], e["workload_info"])
        db.commit(Record(e["workload"], target_key, e["sketch"], e["decisions"], e["flags"], man["compiler_version"],
                         r["status"], r.get("median_ms"), r.get("times_ms", []), r.get("rel_error"), r.get("error"),
                         timing=mode))
        summary["statuses"][r["status"]] = summary["statuses"].get(r["status"], 0) + 1
        if r["status"] == "ok":  # --timing all: the other modes' medians, each under its own mode
            for m, t in (r.get("timings") or {}).items():
                if m != mode and m in TIMING_MODES and t.get("median_ms"):
                    db.commit(Record(e["workload"], target_key, e["sketch"], e["decisions"], e["flags"],
                                     man["compiler_version"], "ok", t["median_ms"], [t["median_ms"]],
                                     r.get("rel_error"), timing=m))
    for f in man.get("failed", []):
        info = Workload.from_key(f["workload"]).to_dict()
        db.add_workload(f["workload"], info["op"].split(".", 1)[1], info)
        db.commit(Record(f["workload"], target_key, f["sketch"], f["decisions"], [], man["compiler_version"],
                         "compile_error" if not f["error"].startswith("invalid") else "invalid",
                         None, [], None, f["error"], timing=mode))
        summary["statuses"]["compile_error"] = summary["statuses"].get("compile_error", 0) + 1
    for key in {e["workload"] for e in man["entries"]}:
        top = db.top_k(key, target_key, 1, timing=mode)
        default = [r for r in db.records(key, target_key) if r.sketch == "default" and r.ok and r.timing == mode]
        summary["best"][key] = {"best_ms": top[0].median_ms if top else None,
                                "best": (top[0].sketch, top[0].decisions) if top else None,
                                "default_ms": default[-1].median_ms if default else None}
    return summary
