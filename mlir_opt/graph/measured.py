"""Measured, dispatch-aware graph cost: the sum over IREE's own dispatches of time × invocations.

IREE (not mlir_opt) decides which ops fuse into which dispatch, so the candidate graph is compiled
by IREE up to its executable configurations (``--compile-to=executable-configurations``, no LLVM
code generation) with ``--iree-hal-dump-executable-benchmarks-to``: one standalone benchmark module
per dispatch, with the lowering configuration IREE chose. The host program (read as bytecode) says
how often each dispatch runs per call. Each dispatch is keyed by a *signature*: the SHA-256 of its
executable's text with names, source locations, constant values and buffer offsets elided — the
same fused computation on the same shapes and layouts gets the same signature in any graph.

A signature's time is looked up in the tuning database (table ``dispatch_cost``, keyed by
signature, target key and compiler version); only missing ones are compiled (in parallel) and then
timed one by one with iree-benchmark-module (µs per invocation, the minimum over the repetitions: on a
shared machine the median of a microsecond dispatch is dominated by descheduled worker threads), and
committed at once. The
list of (signature, count) of a whole graph is cached too (table ``graph_dispatches``, keyed by the
module's fingerprint), so re-costing a graph seen in an earlier run compiles nothing at all.

IREE 3.13 cannot always recompile its own dumped benchmark with the configuration pinned: the NCHW
convolutions' ``ConvTileAndDecomposeExpert`` dispatches fail with "large vector sizes" although the
same dispatch compiles inside the model. Such a benchmark is recompiled once with its
``lowering_config`` / ``translation_info`` attributes removed (:func:`strip_configurations`): IREE
then derives the configuration again, from the same dispatch and target — for the convolutions
checked, the configuration it pinned — and the record says ``reconfigured``. A dispatch that
still cannot be compiled or timed is recorded as failed (never retried) and makes the graph's cost
``inf``: the searches then never prefer that candidate.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .. import ir as _ir
from ..backend.compile import compile_module, compiler_version, iree_tool
from ..backend.targets import Target, default_threads, get_target
from ..db import Database
from ..errors import MlirOptError
from ..model import Model

__all__ = ["MeasuredDispatch", "DispatchCostModel", "dispatch_signature", "strip_configurations", "target_key"]

log = logging.getLogger("mlir_opt.graph")


@dataclass
class MeasuredDispatch:
    """One dispatch IREE forms: its signature, root op, invocations per call and time (µs each)."""

    name: str
    signature: str
    count: int
    root_op: str = ""
    us: float | None = None
    cached: bool = False
    error: str | None = None

    @property
    def total_us(self) -> float:
        return float("inf") if self.us is None else self.us * self.count

    def to_dict(self) -> dict:
        return {"name": self.name, "signature": self.signature, "count": self.count, "root_op": self.root_op,
                "us": self.us, "cached": self.cached, "error": self.error}


_LOC = re.compile(r"\s*loc\((?:[^()]|\([^()]*\))*\)")
_DENSE = re.compile(r"dense(_resource)?<[^>]*>")


def _executable_text(bench_text: str) -> str:
    """The ``hal.executable`` part of a dumped benchmark module (the host part follows from it)."""
    start = bench_text.find("hal.executable ")
    end = bench_text.find("util.global private mutable", start)
    return bench_text[start:end if end > 0 else None] if start >= 0 else bench_text


def dispatch_signature(bench_text: str) -> str:
    """A stable key of a dispatch from its dumped benchmark module.

    Elided: symbol names (they carry the model's function name and dispatch index), source
    locations, constant values (``dense<…>`` / ``dense_resource<…>``; timing does not depend on
    them) and binding offsets (where the graph's allocator placed the buffers). Kept: the fused ops,
    shapes, element types, indexing maps, the lowering configuration and the target attributes.
    """
    text = _executable_text(bench_text)
    names = set(re.findall(r"hal\.executable(?:\.export)? (?:private |public )*@([\w$.-]+)", text))
    names |= set(re.findall(r"func\.func @([\w$.-]+)", text))
    names |= set(re.findall(r"dispatch_config @([\w$.-]+)", text))
    for i, n in enumerate(sorted(names, key=len, reverse=True)):
        text = re.sub(rf"@{re.escape(n)}\b", f"@S{i}", text)
    text = _LOC.sub("", text)
    text = _DENSE.sub(lambda m: "dense<_>", text)
    # binding offsets: `offset(%c12288)` and their `%c12288 = arith.constant 12288 : index`
    offs = set(re.findall(r"offset\((%[\w]+)\)", text))
    for o in offs:
        if len(re.findall(rf"{re.escape(o)}\b", text)) == 2:
            text = re.sub(rf"\n\s*{re.escape(o)} = arith\.constant \d+ : index", "", text)
    text = re.sub(r"offset\(%[\w]+\)", "offset(_)", text)
    text = re.sub(r"[ \t]+", " ", text)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def strip_configurations(bench_text: str) -> str | None:
    """``bench_text`` without the ``lowering_config`` / ``translation_info`` attributes IREE chose, so
    that recompiling it derives them again; ``None`` if the module does not parse or has none."""
    ctx = _ir.new_context()
    try:
        mod = _ir.parse(bench_text, ctx)
    except Exception:  # noqa: BLE001 -- any parse failure means "cannot strip", not a crash
        return None
    n = 0
    for op in _ir.iter_ops(mod):
        for name in ("lowering_config", "translation_info", "compilation_info"):
            if name in op.attributes:
                del op.attributes[name]
                n += 1
    return str(mod) if n else None


def target_key(target: Target, threads: int, flags: Sequence[str] = ()) -> str:
    """The database's target field for dispatch costs: target, arch, threads and extra flags."""
    key = f"{target.name}:{target.arch}:t{threads}"
    if flags:
        key += ":" + hashlib.sha256("\0".join(flags).encode()).hexdigest()[:8]
    return key


def _root_op(exe_text: str) -> str:
    ops = re.findall(r"\b(linalg\.[a-z_0-9]+|iree_linalg_ext\.[a-z_]+|linalg\.generic)\b", exe_text)
    ops = [o for o in ops if o not in ("linalg.yield", "linalg.fill", "linalg.index")]
    for o in ops:
        if o.startswith(("linalg.conv", "linalg.depthwise", "linalg.matmul", "linalg.batch_matmul",
                         "iree_linalg_ext.")):
            return o
    return ops[-1] if ops else "none"


def _dispatch_counts(host_bc: Path) -> dict[str, int]:
    """Invocations per call of each dispatch entry point (its export name) in the host program."""
    ctx = _ir.new_context()
    mod = _ir.parse(host_bc.read_bytes(), ctx, source_name=str(host_bc))
    counts: dict[str, int] = {}
    for op in _ir.iter_ops(mod):
        if op.name != "stream.cmd.dispatch":
            continue
        for ref in _ir.ir.ArrayAttr(op.attributes["entry_points"]):
            name = str(ref).rsplit("::@", 1)[-1].strip('"')
            counts[name] = counts.get(name, 0) + 1
    return counts


class DispatchCostModel:
    """Graph cost = Σ over IREE's dispatches of (measured time of the dispatch alone × invocations).

    Args:
        target: IREE target.
        db: a :class:`Database` or path (default: the tuning database, ``$MLIR_OPT_DB``).
        reps: iree-benchmark-module repetitions per dispatch (the minimum is taken).
        threads: CPU threads when timing (default: all cores); part of the cache key.
        flags: extra iree-compile flags (part of the cache key).
        workers: parallel compiles of the dispatch benchmarks.
        batch: invocations per timed command buffer (iree-benchmark-module ``--batch_size``; the
            reported time is per invocation).

    Counters: ``compiles`` (dispatch benchmark modules compiled), ``listings`` (graphs compiled to
    list their dispatches), ``db_hits`` (dispatch times and dispatch lists taken from the database).
    """

    def __init__(self, target: str | Target = "llvm-cpu", *, db: Database | str | Path | None = None,
                 reps: int = 5, threads: int | None = None, flags: Sequence[str] = (), workers: int = 2,
                 batch: int = 16):
        self.target = get_target(target)
        if not self.target.is_cpu:
            raise MlirOptError(f"measured graph cost times on this machine's CPU; target '{self.target.name}' "
                               "needs a GPU host (use --graph-cost roofline)")
        self.db = db if isinstance(db, Database) else Database(db)
        self.reps, self.threads = reps, threads or default_threads()
        self.flags = list(flags)
        self.workers = max(1, workers)
        self.batch = max(1, batch)
        self.key = target_key(self.target, self.threads, self.flags)
        self.version = compiler_version()
        self.compiles = self.listings = self.db_hits = 0
        self.last: list[MeasuredDispatch] = []

    # -- listing -----------------------------------------------------------------------------------

    def dispatches(self, model: Model, workdir: Path | None = None) -> list[MeasuredDispatch]:
        """The dispatches IREE forms for ``model`` with their signatures and counts (not timed).

        With ``workdir``, the dumped benchmark modules are left there (``<signature>.mlir``).
        """
        fp = model.fingerprint()
        if workdir is None:
            cached = self.db.graph_dispatches(fp, self.key, self.version)
            if cached is not None:
                self.db_hits += 1
                return [MeasuredDispatch(d["name"], d["signature"], d["count"], d.get("root_op", "")) for d in cached]
        with tempfile.TemporaryDirectory(prefix="mlir_opt_dcost_") as tmp:
            out, _ = self._list(model, Path(tmp), workdir)
        self.db.put_graph_dispatches(fp, self.key, self.version, [
            {"name": d.name, "signature": d.signature, "count": d.count, "root_op": d.root_op} for d in out])
        return out

    def _list(self, model: Model, tmp: Path, keep: Path | None) -> tuple[list[MeasuredDispatch], dict[str, str]]:
        """Dispatches with a count > 0, and each signature's benchmark module text."""
        m = model.clone()
        _ir.materialize_resources(m.module)  # dumped benchmarks lose resource blobs; inline them
        src = tmp / "model.mlirbc"
        src.write_bytes(m.bytecode())
        bench = tmp / "bench"
        host = tmp / "host.mlirbc"
        cmd = [iree_tool("iree-compile"), str(src), *self.target.flags, *self.flags,
               "--compile-to=executable-configurations", "--emit-mlir-bytecode",
               f"--iree-hal-dump-executable-benchmarks-to={bench}", "-o", str(host)]
        self.listings += 1
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            lines = [l for l in proc.stderr.splitlines() if "error" in l] or proc.stderr.splitlines()[-1:]
            raise MlirOptError(f"listing dispatches failed: {lines[0][:300] if lines else proc.returncode}")
        counts = _dispatch_counts(host)
        out, texts = [], {}
        for f in sorted(bench.glob("*_benchmark.mlir")):
            text = f.read_text()
            exports = re.findall(r"hal\.executable\.export public @([\w$.-]+)", text)
            if not exports:
                continue
            sig = dispatch_signature(text)
            if keep is not None:
                keep.mkdir(parents=True, exist_ok=True)
                (keep / f"{sig}.mlir").write_text(text)
            out.append(MeasuredDispatch(exports[0], sig, counts.get(exports[0], 0),
                                        _root_op(_executable_text(text))))
            texts[sig] = text
        return [d for d in out if d.count > 0], texts

    # -- measuring ---------------------------------------------------------------------------------

    def __call__(self, model: Model) -> float:
        """Measured cost of ``model`` in µs; ``inf`` if a dispatch cannot be compiled or timed."""
        ds = self.measure(model)
        return sum(d.total_us for d in ds)

    def measure(self, model: Model) -> list[MeasuredDispatch]:
        """Every dispatch of ``model`` with its time (from the database, or compiled and timed now)."""
        fp = model.fingerprint()
        listed = self.db.graph_dispatches(fp, self.key, self.version)
        if listed is not None:
            self.db_hits += 1
            ds = [MeasuredDispatch(d["name"], d["signature"], d["count"], d.get("root_op", "")) for d in listed]
            if self._fill_from_db(ds):
                self.last = ds
                return ds
        with tempfile.TemporaryDirectory(prefix="mlir_opt_dcost_") as tmp:
            tmp = Path(tmp)
            ds, texts = self._list(model, tmp, None)
            self.db.put_graph_dispatches(fp, self.key, self.version, [
                {"name": d.name, "signature": d.signature, "count": d.count, "root_op": d.root_op} for d in ds])
            if not self._fill_from_db(ds):
                self._measure_missing(ds, texts, tmp)
        self.last = ds
        return ds

    def _fill_from_db(self, ds: list[MeasuredDispatch]) -> bool:
        """Take known times from the database; True when every dispatch is known."""
        complete = True
        for d in ds:
            row = self.db.dispatch_cost(d.signature, self.key, self.version)
            if row is not None and "large vector sizes" in (row["error"] or ""):
                row = None  # recorded before the reconfigured retry existed: measure it again
            if row is None:
                complete = False
                continue
            self.db_hits += 1
            d.us, d.error, d.cached = row["time_us"], row["error"], True
        return complete

    def _measure_missing(self, ds: list[MeasuredDispatch], texts: dict[str, str], tmp: Path) -> None:
        todo = {d.signature: d for d in ds if not d.cached}
        # compile all missing ones first (in parallel), then time them alone, one by one
        reconfigured: set[str] = set()

        def build(sig: str):
            src = tmp / f"{sig}.mlir"
            src.write_text(texts[sig])
            res = compile_module(src, self.target, output=tmp / f"{sig}.vmfb", flags=self.flags,
                                 raise_on_error=False, retries=0)
            if not res.ok and "large vector sizes" in (res.error or ""):
                stripped = strip_configurations(texts[sig])
                if stripped is not None:
                    src.write_text(stripped)
                    again = compile_module(src, self.target, output=tmp / f"{sig}.vmfb", flags=self.flags,
                                           raise_on_error=False, retries=0)
                    if again.ok:
                        reconfigured.add(sig)
                        res = again
            return sig, res

        with ThreadPoolExecutor(self.workers) as pool:
            built = dict(pool.map(build, todo))
        self.compiles += len(built)
        for sig, res in built.items():
            d = todo[sig]
            times: list[float] = []
            err = None if res.ok else f"compile: {res.error}"
            if res.ok:
                fn = re.search(r"util\.func public @([\w$.-]+)\(", texts[sig])
                try:
                    times = self._time(res.vmfb, fn.group(1))
                except MlirOptError as e:
                    err = f"run: {e}"
            us = float(min(times)) if times and err is None else None
            if err:
                log.info("dispatch %s (%s) not timed: %s", d.name, sig, err)
            info = {"example_name": d.name}
            if sig in reconfigured:
                info["reconfigured"] = True
            self.db.put_dispatch_cost(sig, self.key, self.version, root_op=d.root_op, time_us=us,
                                      times_us=times, error=err, info=info)
            for other in ds:
                if other.signature == sig:
                    other.us, other.error = us, err

    def _time(self, vmfb: Path, function: str) -> list[float]:
        """µs per invocation, one sample per repetition; ``batch`` invocations per command buffer
        amortize the submit/wait overhead that a whole model pays once per call, not per dispatch."""
        cmd = [iree_tool("iree-benchmark-module"), f"--module={vmfb}", f"--function={function}",
               *self.target.runtime_flags(self.threads), f"--batch_size={self.batch}",
               f"--benchmark_repetitions={self.reps}", "--benchmark_min_time=0.02s", "--benchmark_format=json"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise MlirOptError("timed out") from None
        if proc.returncode != 0:
            lines = [l for l in proc.stderr.splitlines() if l.strip()]
            raise MlirOptError(lines[-1][:300] if lines else f"exit {proc.returncode}")
        scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
        return [b["real_time"] * scale[b["time_unit"]] for b in json.loads(proc.stdout)["benchmarks"]
                if b.get("run_type") == "iteration"]

    def stats(self) -> dict:
        return {"dispatch_compiles": self.compiles, "graph_listings": self.listings, "db_hits": self.db_hits,
                "target_key": self.key}
