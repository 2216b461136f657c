"""The tuning database (SQLite), shared by the operator-level search and the graph-level cost model.

Every measurement is committed as it is taken (WAL journal, ``synchronous=FULL``), so a run killed
at any point — even with ``kill -9`` — keeps everything measured before the kill, and a rerun
skips those candidates. Records store decisions, not binaries (as MetaSchedule's do).

Tables:
    workload(key, kind, info_json, created)
    record(id, workload_key, target, sketch, decisions_json, flags_json, compiler_version,
           status, median_ms, times_json, rel_error, error, created, timing)
                                        -- timing: how the time was taken (:data:`TIMING_MODES`)
    dispatch_cost(signature, target, compiler_version, root_op, time_us, times_json, error,
                  info_json, created)   -- graph level: one IREE dispatch timed alone
    graph_dispatches(graph_key, target, compiler_version, dispatches_json, created)
                                        -- graph level: the dispatches IREE forms for a graph
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

__all__ = ["Database", "Record", "default_db_path", "STATUSES", "TIMING_MODES", "DEFAULT_TIMING", "like_for_like"]

#: Record statuses: ``ok`` is the only one a search may select.
STATUSES = ("ok", "invalid", "compile_error", "compile_timeout", "run_error", "run_timeout", "wrong_result")

#: How a record's time was taken (the bundle runner's ``--timing``; docs/gpu.md): ``plain`` (IREE's default HAL
#: flags: on CUDA a stream-ordered result allocation every call; every local measurement and every record
#: stored before the mode was recorded), ``cached`` (caching allocator, synchronous allocations: the runner's
#: default since 2026-11-26), ``batched`` (10 calls issued together). Times of different modes are never
#: compared: the same CUDA module takes 0.65 ms ``plain`` and 0.43 ms ``cached``.
TIMING_MODES = ("plain", "cached", "batched")
#: The runner's default mode: the one whose records decide a ranking when several modes qualify.
DEFAULT_TIMING = "cached"
_PREFERENCE = (DEFAULT_TIMING, *[m for m in TIMING_MODES if m != DEFAULT_TIMING])

_RECORD_TABLE = """CREATE TABLE IF NOT EXISTS record (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    workload_key TEXT NOT NULL,
    target TEXT NOT NULL,
    sketch TEXT NOT NULL,
    decisions_json TEXT NOT NULL,
    flags_json TEXT NOT NULL,
    compiler_version TEXT NOT NULL,
    status TEXT NOT NULL,
    median_ms REAL,
    times_json TEXT NOT NULL,
    rel_error REAL,
    error TEXT,
    created TEXT NOT NULL,
    timing TEXT NOT NULL DEFAULT 'plain',
    UNIQUE (workload_key, target, sketch, decisions_json, flags_json, compiler_version, timing)
)"""
_RECORD_INDEX = "CREATE INDEX IF NOT EXISTS record_by_workload ON record (workload_key, target, status, median_ms)"
_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS workload (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    info_json TEXT NOT NULL,
    created TEXT NOT NULL
);
{_RECORD_TABLE};
{_RECORD_INDEX};
CREATE TABLE IF NOT EXISTS dispatch_cost (
    signature TEXT NOT NULL,
    target TEXT NOT NULL,
    compiler_version TEXT NOT NULL,
    root_op TEXT NOT NULL,
    time_us REAL,
    times_json TEXT NOT NULL,
    error TEXT,
    info_json TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (signature, target, compiler_version)
);
CREATE TABLE IF NOT EXISTS graph_dispatches (
    graph_key TEXT NOT NULL,
    target TEXT NOT NULL,
    compiler_version TEXT NOT NULL,
    dispatches_json TEXT NOT NULL,
    created TEXT NOT NULL,
    PRIMARY KEY (graph_key, target, compiler_version)
);
"""


def default_db_path() -> Path:
    """``$MLIR_OPT_DB`` or ``~/.cache/mlir_opt/tuning.sqlite``."""
    env = os.environ.get("MLIR_OPT_DB")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mlir_opt" / "tuning.sqlite"


def _canon(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"))


@dataclass
class Record:
    """One measurement of one schedule of one workload on one target."""

    workload_key: str
    target: str
    sketch: str
    decisions: dict
    flags: list[str] = field(default_factory=list)
    compiler_version: str = ""
    status: str = "ok"
    median_ms: float | None = None
    times_ms: list[float] = field(default_factory=list)
    rel_error: float | None = None
    error: str | None = None
    created: str = ""
    id: int | None = None
    #: how ``median_ms`` was taken (:data:`TIMING_MODES`); local measurements are ``plain``
    timing: str = "plain"

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def like_for_like(records, *, need_default: bool = False) -> tuple[str | None, list[Record]]:
    """``(mode, records)``: the correct, timed records of the one timing mode that decides a ranking.

    Records of different modes are never compared. A mode *qualifies* when it holds IREE's default
    (sketch ``default``) and at least one other schedule, so a winner and its baseline were timed
    alike; the first qualifying mode in the order :data:`DEFAULT_TIMING`, then the rest of
    :data:`TIMING_MODES` wins. Without one, the first mode that holds a default (``need_default``) or any
    correct record (else). ``(None, [])`` when nothing fits."""
    groups: dict[str, list[Record]] = {}
    for r in records:
        if r.ok and r.median_ms is not None:
            groups.setdefault(r.timing, []).append(r)
    order = [m for m in _PREFERENCE if m in groups] + sorted(m for m in groups if m not in _PREFERENCE)

    def has_default(m):
        return any(r.sketch == "default" for r in groups[m])

    full = [m for m in order if has_default(m) and any(r.sketch != "default" for r in groups[m])]
    rest = [m for m in order if has_default(m)] if need_default else order
    mode = (full or rest or [None])[0]
    return mode, (groups[mode] if mode else [])


class Database:
    """SQLite tuning records; ``Database(":memory:")`` for tests, a path otherwise.

    Usable as a context manager (closes on exit).
    """

    def __init__(self, path: str | Path | None = None):
        path = default_db_path() if path is None else path
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(self.path, timeout=30)
        if self.path != ":memory:":
            self._con.execute("PRAGMA journal_mode=WAL")
        self._con.execute("PRAGMA synchronous=FULL")
        self._con.executescript(_SCHEMA)
        self._con.commit()
        self._migrate()

    def _migrate(self) -> None:
        """Bring a database written before the timing mode was stored up to date: its records become
        ``plain`` (what they were timed with) and the mode joins the unique key, so one schedule may hold
        a ``plain`` and a ``cached`` record side by side. Done once, in one transaction (a concurrent
        opener waits and then finds it done)."""
        def has_timing():
            return any(c[1] == "timing" for c in self._con.execute("PRAGMA table_info(record)"))

        if has_timing():
            return
        cols = ("id, workload_key, target, sketch, decisions_json, flags_json, compiler_version, status, "
                "median_ms, times_json, rel_error, error, created")
        self._con.execute("BEGIN IMMEDIATE")
        try:
            if not has_timing():
                self._con.execute("ALTER TABLE record RENAME TO record_before_timing")
                self._con.execute("DROP INDEX IF EXISTS record_by_workload")
                self._con.execute(_RECORD_TABLE)
                self._con.execute(_RECORD_INDEX)
                self._con.execute(f"INSERT INTO record ({cols}, timing) SELECT {cols}, 'plain' FROM record_before_timing")
                self._con.execute("DROP TABLE record_before_timing")
            self._con.execute("COMMIT")
        except BaseException:
            self._con.execute("ROLLBACK")
            raise

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> "Database":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @staticmethod
    def _now() -> str:
        return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")

    def add_workload(self, key: str, kind: str, info: dict) -> None:
        """Register a workload (idempotent)."""
        self._con.execute("INSERT OR IGNORE INTO workload VALUES (?, ?, ?, ?)",
                          (key, kind, _canon(info), self._now()))
        self._con.commit()

    def workloads(self) -> list[tuple[str, str, dict]]:
        return [(k, kind, json.loads(info)) for k, kind, info in
                self._con.execute("SELECT key, kind, info_json FROM workload ORDER BY key")]

    def commit(self, rec: Record) -> Record:
        """Insert (or replace) one record and commit it to disk immediately."""
        rec.created = rec.created or self._now()
        cur = self._con.execute(
            "INSERT OR REPLACE INTO record (workload_key, target, sketch, decisions_json, flags_json, "
            "compiler_version, status, median_ms, times_json, rel_error, error, created, timing) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.workload_key, rec.target, rec.sketch, _canon(rec.decisions), _canon(rec.flags),
             rec.compiler_version, rec.status, rec.median_ms, _canon(rec.times_ms), rec.rel_error,
             rec.error, rec.created, rec.timing))
        self._con.commit()
        rec.id = cur.lastrowid
        return rec

    def _rows(self, where: str, args: tuple) -> Iterator[Record]:
        q = ("SELECT id, workload_key, target, sketch, decisions_json, flags_json, compiler_version, "
             "status, median_ms, times_json, rel_error, error, created, timing FROM record WHERE " + where)
        from .ops.space import complete  # knobs added after a record was stored get their implicit value

        for row in self._con.execute(q, args):
            yield Record(row[1], row[2], row[3], complete(row[3], json.loads(row[4])), json.loads(row[5]), row[6], row[7],
                         row[8], json.loads(row[9]), row[10], row[11], row[12], row[0], row[13])

    def lookup(self, workload_key: str, target: str, sketch: str, decisions: dict, flags: list[str],
               compiler_version: str, timing: str = "plain") -> Record | None:
        """The stored record of exactly this candidate, if it was measured before (with ``timing``)."""
        rows = list(self._rows("workload_key=? AND target=? AND sketch=? AND decisions_json=? AND "
                               "flags_json=? AND compiler_version=? AND timing=?",
                               (workload_key, target, sketch, _canon(decisions), _canon(flags),
                                compiler_version, timing)))
        return rows[0] if rows else None

    def records(self, workload_key: str, target: str, *, any_device: bool = False) -> list[Record]:
        """All records of a workload on a target, oldest first.

        ``any_device``: also records of that target measured on named remote devices
        (``cuda:NVIDIA H100 …``, as ingested from bundles).
        """
        if any_device:
            return list(self._rows("workload_key=? AND (target=? OR target LIKE ?) ORDER BY id",
                                   (workload_key, target, target + ":%")))
        return list(self._rows("workload_key=? AND target=? ORDER BY id", (workload_key, target)))

    def top_k(self, workload_key: str, target: str, k: int = 1, sketch: str | None = None,
              timing: str = "plain") -> list[Record]:
        """The ``k`` fastest correct records (status ``ok``) timed with ``timing`` (local ones: ``plain``)."""
        where = "workload_key=? AND target=? AND status='ok' AND timing=?"
        args: tuple = (workload_key, target, timing)
        if sketch is not None:
            where += " AND sketch=?"
            args += (sketch,)
        return list(self._rows(where + " ORDER BY median_ms LIMIT ?", args + (k,)))

    def count(self) -> int:
        return self._con.execute("SELECT COUNT(*) FROM record").fetchone()[0]

    # -- graph level: measured dispatch costs (see mlir_opt.graph.measured) -------------------------

    def dispatch_cost(self, signature: str, target: str, compiler_version: str) -> dict | None:
        """The stored time of one dispatch (``time_us`` None and ``error`` set if it failed)."""
        row = self._con.execute("SELECT root_op, time_us, times_json, error, info_json FROM dispatch_cost "
                                "WHERE signature=? AND target=? AND compiler_version=?",
                                (signature, target, compiler_version)).fetchone()
        if row is None:
            return None
        return {"root_op": row[0], "time_us": row[1], "times_us": json.loads(row[2]), "error": row[3],
                "info": json.loads(row[4])}

    def put_dispatch_cost(self, signature: str, target: str, compiler_version: str, *, root_op: str,
                          time_us: float | None, times_us: list[float], error: str | None = None,
                          info: dict | None = None) -> None:
        """Store (or replace) one dispatch's measured time and commit it at once."""
        self._con.execute("INSERT OR REPLACE INTO dispatch_cost VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (signature, target, compiler_version, root_op, time_us, _canon(times_us), error,
                           _canon(info or {}), self._now()))
        self._con.commit()

    def count_dispatch_costs(self) -> int:
        return self._con.execute("SELECT COUNT(*) FROM dispatch_cost").fetchone()[0]

    def graph_dispatches(self, graph_key: str, target: str, compiler_version: str) -> list[dict] | None:
        """The stored dispatch list (name, signature, count, root_op) of a graph, if listed before."""
        row = self._con.execute("SELECT dispatches_json FROM graph_dispatches WHERE graph_key=? AND target=? "
                                "AND compiler_version=?", (graph_key, target, compiler_version)).fetchone()
        return None if row is None else json.loads(row[0])

    def put_graph_dispatches(self, graph_key: str, target: str, compiler_version: str,
                             dispatches: list[dict]) -> None:
        self._con.execute("INSERT OR REPLACE INTO graph_dispatches VALUES (?, ?, ?, ?, ?)",
                          (graph_key, target, compiler_version, json.dumps(dispatches), self._now()))
        self._con.commit()
