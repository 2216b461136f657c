"""The bundle → run → ingest loop: operator-level search with measurements from a remote machine.

Each round proposes candidates per workload (the evolutionary search + cost model, from everything
the tuning database holds for the workload and target, any device), writes them as one benchmark
bundle (``ROUND/bundle``), runs the user's command on it (``--runner-cmd "CMD {bundle} {results}"``:
ssh + scp, a device tool, or a local ``python3 {bundle}/runner.py {bundle} --out {results}``), and
ingests the results, so the next round learns from them. IREE's default and the incumbent best are
re-measured in every round, next to the challengers.

Where no command can reach the remote machine (a tool you call by hand), the same loop runs in two
steps per round: ``prepare_round`` (``--prepare-only``) writes the next round's bundle, you run it,
copy ``results.json`` into the round's directory, and ``ingest_round`` (``--ingest-only``) loads it.
"""

from __future__ import annotations

import json
import logging
import random
import shlex
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..backend import get_target
from ..db import Database, like_for_like
from ..errors import MlirOptError
from ..ops.dispatches import Workload
from ..ops.schedule import Schedule, render_tuning_spec
from ..ops.search import get_strategy
from ..ops.space import SKETCH_SEEDS, complete, sketches_for
from ..ops.transform_script import SCRIPT_SKETCHES, render_transform_library, smem_optin_flag
from . import ingest, write_bundle

__all__ = ["RoundResult", "prepare_round", "ingest_round", "run_round", "tune_remote", "best_schedules"]

log = logging.getLogger("mlir_opt.remote")


@dataclass
class RoundResult:
    """What one round did: its directory, candidates shipped, ingest summary."""

    index: int
    directory: Path
    candidates: int
    summary: dict = field(default_factory=dict)


def _rounds(work_dir: Path) -> list[Path]:
    return sorted((p for p in work_dir.glob("round*") if p.is_dir() and p.name[5:].isdigit()),
                  key=lambda p: int(p.name[5:]))


def _target_records(db: Database, w: Workload, target: str):
    return db.records(w.key, target, any_device=True)


def best_schedules(db: Database, workloads, target: str) -> dict[str, tuple[Schedule, float, float | None]]:
    """Per workload key: (best measured schedule, its ms, IREE default's best ms) from the database,
    both among the records of one timing mode (:func:`~mlir_opt.db.like_for_like`)."""
    out = {}
    for w in workloads:
        _, recs = like_for_like(_target_records(db, w, target))
        if not recs:
            continue
        default = [r.median_ms for r in recs if r.sketch == "default"]
        b = min(recs, key=lambda r: r.median_ms)
        out[w.key] = (Schedule(w, b.sketch, b.decisions, target), b.median_ms, min(default) if default else None)
    return out


def prepare_round(workloads, target: str, work_dir: str | Path, *, arch: str | None = None, candidates: int = 16,
                  strategy: str = "evolutionary", db: Database | None = None, seed: int = 0, reps: int = 10,
                  seeds: dict | None = None, sketch: str | None = None) -> RoundResult:
    """Write the next round's bundle under ``work_dir/roundN/bundle``; returns the round.

    ``seeds`` maps a workload key to decision sets to ship first (e.g. known good configs); the
    strategy fills the rest up to ``candidates`` per workload; a workload's first round also ships the
    sketch's known good decisions (:data:`~mlir_opt.ops.space.SKETCH_SEEDS`). ``sketch`` names the sketch to search
    where it applies (e.g. ``gpu_script``); by default the first tunable sketch of each workload.
    """
    tgt = get_target(target, arch)
    db = db if db is not None else Database()
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    index = len(_rounds(work_dir))
    rdir = work_dir / f"round{index}"
    strat = get_strategy(strategy)
    rng = random.Random(seed * 1000 + index)
    scheds: list[Schedule] = []
    for w in workloads:
        tunable = [s for s in sketches_for(w, tgt.name) if s.name != "default"]
        sk = next((s for s in tunable if s.name == sketch), tunable[0])
        every = _target_records(db, w, tgt.name)
        # the strategy learns from one timing mode's times (failures count from any mode); a schedule timed
        # only in another mode may be proposed again, to be re-timed like the rest
        mode, _ = like_for_like(every)
        recs = [r for r in every if r.sketch == sk.name and (not r.ok or r.timing == mode)]
        history = [(complete(sk.name, r.decisions), r.median_ms if r.ok else None) for r in recs]
        seen = {tuple(sorted(d.items())) for d, _ in history}
        chosen = []
        known = SKETCH_SEEDS.get(sk.name, []) if not any(r.sketch == sk.name for r in every) else []  # first round only
        for d in [*(seeds or {}).get(w.key, []), *known]:
            d = complete(sk.name, d)
            if tuple(sorted(d.items())) not in seen and sk.validate(d) is None and len(chosen) < candidates:
                chosen.append(d)
                seen.add(tuple(sorted(d.items())))
        want = max(0, candidates - len(chosen))
        if want:
            chosen += strat.propose(sk, history + [(d, None) for d in chosen], want, rng)[:want]
        scheds.append(Schedule(w, "default", {}, tgt.name))
        ok = sorted((r for r in recs if r.ok), key=lambda r: r.median_ms)
        if ok:  # the incumbent (of the deciding timing mode), re-measured next to the challengers
            scheds.append(Schedule(w, ok[0].sketch, ok[0].decisions, tgt.name))
        scheds += [Schedule(w, sk.name, d, tgt.name) for d in chosen]
    rdir.mkdir()
    man = write_bundle(scheds, rdir / "bundle", target=tgt.name, arch=tgt.arch, seed=seed, reps=reps)
    (rdir / "round.json").write_text(json.dumps({"index": index, "target": tgt.name, "arch": tgt.arch,
                                                 "workloads": [w.key for w in workloads],
                                                 "strategy": strategy, "bundle": man["id"]}, indent=1) + "\n")
    log.info("round %d: %d modules in %s (%d failed to compile)", index, len(man["entries"]), rdir,
             len(man["failed"]))
    return RoundResult(index, rdir, len(man["entries"]))


def ingest_round(work_dir: str | Path, *, db: Database | None = None, results: str | Path | None = None) -> RoundResult:
    """Ingest the latest round's ``results.json`` (or ``results``, copied there) into the database."""
    rounds = _rounds(Path(work_dir))
    if not rounds:
        raise MlirOptError(f"no round under {work_dir}: run with --prepare-only first")
    rdir = rounds[-1]
    res_path = rdir / "results.json"
    if results is not None:
        res_path.write_bytes(Path(results).read_bytes())
    if not res_path.exists():
        raise MlirOptError(f"{res_path} does not exist: run the bundle {rdir / 'bundle'} and copy its results there")
    if (rdir / "ingested").exists():
        raise MlirOptError(f"{rdir.name} was already ingested: prepare the next round first")
    summary = ingest(res_path, rdir / "bundle", db=db)
    (rdir / "ingested").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) + "\n")
    return RoundResult(int(rdir.name[5:]), rdir, len(json.loads(res_path.read_text())["results"]), summary)


def run_round(rnd: RoundResult, runner_cmd: str, timeout: float | None = None) -> None:
    """Run ``runner_cmd`` with ``{bundle}`` and ``{results}`` replaced by the round's paths."""
    if "{bundle}" not in runner_cmd or "{results}" not in runner_cmd:
        raise MlirOptError("--runner-cmd must contain {bundle} and {results}, e.g. "
                           "\"python3 {bundle}/runner.py {bundle} --out {results}\"")
    cmd = runner_cmd.format(bundle=shlex.quote(str(rnd.directory / "bundle")),
                            results=shlex.quote(str(rnd.directory / "results.json")))
    log.info("round %d: %s", rnd.index, cmd)
    try:
        p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise MlirOptError(f"runner command timed out after {timeout:.0f} s: {cmd}") from None
    if not (rnd.directory / "results.json").exists():
        tail = (p.stderr or p.stdout).strip().splitlines()[-1:] or [f"exit status {p.returncode}"]
        raise MlirOptError(f"runner command wrote no results ({tail[0][:300]}): {cmd}")


def tune_remote(workloads, target: str, work_dir: str | Path, runner_cmd: str, *, arch: str | None = None,
                rounds: int = 3, candidates: int = 16, strategy: str = "evolutionary", db: Database | None = None,
                seed: int = 0, reps: int = 10, timeout: float | None = None, seeds: dict | None = None,
                on_round=None, sketch: str | None = None) -> list[RoundResult]:
    """``rounds`` × (prepare, run ``runner_cmd``, ingest); returns the rounds. See the module doc."""
    if "{bundle}" not in runner_cmd or "{results}" not in runner_cmd:  # fail before compiling anything
        run_round(RoundResult(-1, Path(work_dir), 0), runner_cmd)
    db = db if db is not None else Database()
    out = []
    for _ in range(rounds):
        rnd = prepare_round(workloads, target, work_dir, arch=arch, candidates=candidates, strategy=strategy, db=db,
                            seed=seed, reps=reps, seeds=seeds if not out else None, sketch=sketch)
        run_round(rnd, runner_cmd, timeout)
        rnd = ingest_round(work_dir, db=db)
        out.append(rnd)
        if on_round:
            on_round(rnd)
    return out


def write_outputs(db: Database, workloads, target: str, work_dir: str | Path) -> dict:
    """Write ``best.json`` and ``tuning_spec.mlir`` (best schedule per workload) into ``work_dir``, and
    ``transform_library.mlir`` (for ``--iree-codegen-transform-dialect-library``) when a winner is a
    script-form schedule (``gpu_script``)."""
    work_dir = Path(work_dir)
    best = best_schedules(db, workloads, target)
    rows = {k: {"sketch": s.sketch, "decisions": s.decisions, "best_ms": ms, "default_ms": dms}
            for k, (s, ms, dms) in best.items()}
    for k, (s, ms, dms) in best.items():  # staging above sm_80's limit: compile on the Hopper-limit device
        if s.decisions.get("smem_optin"):
            rows[k]["target_flag"] = smem_optin_flag()
    (work_dir / "best.json").write_text(json.dumps(rows, indent=1) + "\n")
    winners = [s for s, ms, dms in best.values() if dms is None or ms < dms]
    spec = render_tuning_spec(winners)
    if spec:
        (work_dir / "tuning_spec.mlir").write_text(spec)
    if any(s.sketch in SCRIPT_SKETCHES for s in winners):  # script-form winners need the library flag
        (work_dir / "transform_library.mlir").write_text(render_transform_library(winners))
    return rows
