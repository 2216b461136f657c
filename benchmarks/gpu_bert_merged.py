"""BERT on CUDA: IREE default and tuned, for the original graph and the Q/K/V-merged one, in one device run.

Writes one model bundle per graph (``original``: the imported layer; ``merged``: after the graph rule
``merge-parallel-matmuls``, whose stacked-generic form IREE compiles to one ``matmul_like`` dispatch), each
with IREE's default and the tuned variant (the database's winners: config-form schedules on the ops,
script-form ``gpu_script`` strategies through a transform library, :func:`mlir_opt.remote.model_winners`),
weights as a shared parameter archive. With ``--plain``, the tuned variants are compiled a second time by a
plain ``iree-compile`` command line (the exported model .mlir + the exported transform library, no mlir_opt),
shipped as ``*_tuned_plain`` entries: the runner times them next to mlir_opt's own.

    PYTHONPATH=. python benchmarks/gpu_bert_merged.py OUT --size base --plain
    # on the GPU host (with --xz: python3 benchmarks/gpu_bert_merged.py --unpack OUT first), per bundle:
    #   python3 OUT/original/runner.py OUT/original --out r_original.json
    python benchmarks/gpu_bert_merged.py --summarize r_original.json r_merged.json

Bundle size: the merged graph's stacked Q/K/V weight (7 MiB at base size) stays inline in every merged module
(IREE 3.13 exports to the archive only weights that pass through a const-eval'ed op; moving it into a
``util.global`` did not change that), so a base-size pair of graphs is ~65 MiB with ``--xz``: ship
``*_tuned_plain`` of one graph only, or the graphs in separate runs.

``--probe`` uses ``gpu_script`` seed schedules for every workload where the strategy applies instead of the
database (a correctness check of the script forms in a model, before any tuning).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _probe_winners(dispatches, target):
    from mlir_opt.ops.schedule import Schedule
    from mlir_opt.ops.space import SKETCH_SEEDS
    from mlir_opt.remote import MODEL_SCRIPT_FORMS

    forms, works = {}, {}
    for d in dispatches:
        if d.workload is not None:
            forms.setdefault(d.workload.key, set()).add(d.info.get("epilogue", "other"))
            works[d.workload.key] = d.workload
    out = []
    for key, w in works.items():
        if not forms[key] <= set(MODEL_SCRIPT_FORMS["gpu_script"]):
            continue
        s = next((Schedule(w, "gpu_script", dict(d), target) for d in SKETCH_SEEDS["gpu_script"]
                  if Schedule(w, "gpu_script", dict(d), target).validate() is None), None)
        if s is not None:
            out.append(s)
    return out, forms, [f"{s.workload.key}: probe {s.describe()}" for s in out]


def _recorded_winners(path, gname, dispatches, target):
    """Winners recorded by an earlier run (``winners.json``, or a results file with a ``winners`` section),
    rebuilt as schedules on this model's workloads: reuse without a tuning database."""
    from mlir_opt.ops.schedule import Schedule

    data = json.loads(Path(path).read_text())
    data = data.get("winners", data)
    if gname not in data:
        raise SystemExit(f"{path}: no winners recorded for the {gname} graph")
    forms, works = {}, {}
    for d in dispatches:
        if d.workload is not None:
            forms.setdefault(d.workload.key, set()).add(d.info.get("epilogue", "other"))
            works[d.workload.key] = d.workload
    out, notes = [], []
    for rec in data[gname]["winners"]:
        if rec["workload"] not in works:
            raise SystemExit(f"{path}: {rec['workload']} is not a workload of the {gname} graph")
        s = Schedule(works[rec["workload"]], rec["sketch"], dict(rec["decisions"]), target)
        err = s.validate()
        if err:
            raise SystemExit(f"{path}: recorded winner {s.describe()} is not valid: {err}")
        out.append(s)
        notes.append(f"{rec['workload']}: recorded {s.describe()}")
    return out, forms, notes


def write(args) -> int:
    import mlir_opt
    import mlir_opt.remote as remote
    from mlir_opt.backend import get_target
    from mlir_opt.backend.compile import iree_tool
    from mlir_opt.db import Database
    from mlir_opt.graph import apply_rules
    from mlir_opt.ops.dispatches import list_dispatches

    tgt = get_target("cuda", args.arch)
    remote.MAX_BUNDLE_BYTES = max(remote.MAX_BUNDLE_BYTES, 60 * 2**20)
    base = mlir_opt.load("bert", size=args.size)
    graphs = {"original": base, "merged": apply_rules(base, ["merge-parallel-matmuls"]).model}
    out = Path(args.out)
    summary = {}
    for gname, m in graphs.items():
        if args.graphs and gname not in args.graphs.split(","):
            continue
        ds = list_dispatches(m, tgt)
        if args.probe:
            winners, forms, notes = _probe_winners(ds, tgt.name)
        elif args.winners:
            winners, forms, notes = _recorded_winners(args.winners, gname, ds, tgt.name)
        else:
            winners, forms, notes = remote.model_winners(ds, Database(args.db), tgt.name)
        variant, library = remote.tuned_model(m, winners, forms)
        bdir = out / gname
        exp = out / f"{gname}_export"
        exp.mkdir(parents=True, exist_ok=True)
        flags = []
        if library:
            (exp / "transform_library.mlir").write_text(library)
            flags = [f"--iree-codegen-transform-dialect-library={(exp / 'transform_library.mlir').resolve()}"]
        print(f"{gname}: " + "; ".join(notes))
        variants = {f"{gname}_default": (m, []), f"{gname}_tuned": (variant, flags)}
        if args.only_tuned:  # IREE's default of this graph left out (bundle size); --original-default adds that one
            variants.pop(f"{gname}_default")
        if args.original_default and gname != "original":
            variants = {"original_default": (base, []), **variants}
        man = remote.write_model_bundle(variants, bdir,
                                        target="cuda", arch=args.arch, reps=args.reps, parameters=True)
        if library:
            shutil.copyfile(exp / "transform_library.mlir", bdir / "transform_library.mlir")
        entry = {e["id"]: e for e in man["entries"]}
        if args.plain and f"{gname}_tuned" in entry:
            # the user's path without mlir_opt: the model as MLIR (tuned ops' compilation_info included) and the
            # transform library, compiled by iree-compile alone
            (exp / "model.mlir").write_text(variant.text())
            irpa = exp / "plain.irpa"
            cmd = [iree_tool("iree-compile"), str(exp / "model.mlir"), *tgt.flags, *flags,
                   f"--iree-parameter-export=model={irpa}", "--iree-parameter-export-minimum-size=1024",
                   "-o", str(bdir / "modules" / f"{gname}_tuned_plain.vmfb")]
            (exp / "compile.sh").write_text(" ".join(cmd) + "\n")
            subprocess.run(cmd, check=True)
            shipped = bdir / entry[f"{gname}_tuned"]["parameters"][0].split("=", 1)[1]
            same = hashlib.sha256(irpa.read_bytes()).digest() == hashlib.sha256(shipped.read_bytes()).digest()
            if not same:
                raise SystemExit(f"{gname}: the plain compile's parameter archive differs from the bundle's")
            irpa.unlink()
            man["entries"].append({**entry[f"{gname}_tuned"], "id": f"{gname}_tuned_plain",
                                   "module": f"modules/{gname}_tuned_plain.vmfb", "flags": ["(plain iree-compile)"]})
            (bdir / "manifest.json").write_text(json.dumps(man, indent=1))
        if gname in (args.config_variant or "").split(","):  # the earlier path: config-form winners only
            cw, cforms, cnotes = remote.model_winners(ds, Database(args.db), tgt.name, scripts=False)
            cvar, _ = remote.tuned_model(m, cw, cforms)
            extra = remote.write_model_bundle({f"{gname}_tuned_config": (cvar, [])}, out / f"{gname}_cfg", target="cuda",
                                              arch=args.arch, reps=args.reps, parameters=True)
            e = extra["entries"][0]
            shutil.move(str(out / f"{gname}_cfg" / e["module"]), str(bdir / e["module"]))
            shipped = entry[f"{gname}_tuned"]["parameters"]
            cirpa = out / f"{gname}_cfg" / e["parameters"][0].split("=", 1)[1]
            if hashlib.sha256(cirpa.read_bytes()).digest() != hashlib.sha256(
                    (bdir / shipped[0].split("=", 1)[1]).read_bytes()).digest():
                raise SystemExit(f"{gname}: the config-only variant's parameter archive differs")
            shutil.rmtree(out / f"{gname}_cfg")
            man["entries"].append({**e, "parameters": shipped})
            (bdir / "manifest.json").write_text(json.dumps(man, indent=1))
            notes = notes + [f"config only: {n}" for n in cnotes]
        summary[gname] = {"winners": [{"workload": s.workload.key, "sketch": s.sketch, "decisions": s.decisions}
                                      for s in winners], "notes": notes, "forms": {k: sorted(v) for k, v in forms.items()}}
        if args.xz:  # the host has no xz tool: python3 -c lzma ... (see --unpack) restores them
            import lzma

            for p in [*(bdir / "io").glob("*.irpa"), *(q for q in (bdir / "modules").glob("*.vmfb")
                                                       if q.stat().st_size > 2**20)]:
                p.with_name(p.name + ".xz").write_bytes(lzma.compress(p.read_bytes(), preset=6))
                p.unlink()
    (out / "winners.json").write_text(json.dumps(summary, indent=1))
    return 0


def summarize(paths) -> int:
    rows = []
    for p in paths:
        r = json.loads(Path(p).read_text())
        dev = r.get("device", {}).get("name", "?")
        for e in r.get("results", []):
            rows.append((e["id"], e.get("status"), e.get("median_ms"), e.get("rel_error"), dev, e.get("error", "")))
    base = {i: t for i, s, t, *_ in rows if s == "ok"}
    for i, s, t, err, dev, msg in rows:
        ref = base.get("original_default")
        ratio = f"{ref / t:5.2f}x" if (ref and t) else ""
        print(f"{i:24s} {s:12s} {t if t is None else round(t, 4)!s:>8s} ms {ratio:>7s}  rel.err {err}  {dev} {msg[:120]}")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?")
    ap.add_argument("--size", default="base", choices=["tiny", "small", "base"])
    ap.add_argument("--arch", default=None)
    ap.add_argument("--db", default=None)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--graphs", default=None, help="original,merged (default both)")
    ap.add_argument("--probe", action="store_true", help="gpu_script seed schedules instead of the database's winners")
    ap.add_argument("--winners", default=None,
                    help="take the tuned schedules from a recorded winners.json (or a results JSON with a 'winners' "
                         "section, e.g. benchmarks/results/gpu-bert-merged-tuned-h100-2026-11-27.json)")
    ap.add_argument("--only-tuned", action="store_true", help="leave each graph's IREE-default variant out")
    ap.add_argument("--original-default", action="store_true",
                    help="put the original graph's IREE default into the merged graph's bundle (one run times both)")
    ap.add_argument("--plain", action="store_true", help="also compile the tuned variants with plain iree-compile")
    ap.add_argument("--xz", action="store_true",
                    help="xz the parameter archives and modules over 1 MiB (the host restores them with --unpack DIR)")
    ap.add_argument("--config-variant", default=None,
                    help="graphs (original,merged) that also get a config-form-only tuned variant")
    ap.add_argument("--unpack", default=None, help="(on the host) decompress the .xz files under this directory")
    ap.add_argument("--summarize", nargs="+", default=None)
    args = ap.parse_args(argv)
    if args.unpack:
        import lzma

        for p in Path(args.unpack).rglob("*.xz"):
            p.with_name(p.name[:-3]).write_bytes(lzma.decompress(p.read_bytes()))
            p.unlink()
        return 0
    if args.summarize:
        return summarize(args.summarize)
    if not args.out:
        ap.error("OUT is required")
    return write(args)


if __name__ == "__main__":
    sys.exit(main())
