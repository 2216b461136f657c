"""The tuning database (SQLite), shared by the operator-level search and the graph-level cost model.

Every measurement is committed as it is taken (WAL journal, ``synchronous=FULL``), so a run killed
at any point — even with ``kill -9`` — keeps everything measured before the kill, and a rerun
skips those candidates. Records store decisions, not binaries (as MetaSchedule's do).

Tables:
    workload(key, kind, info_json, created)
    record(id, workload_key, target, sketch, decisions_json, flags_json, compiler_version,
           status, median_ms, times_json, rel_error, error, created)
    dispatch_cost(signature, target, compiler_version, root_op, median_us, times_json, error,
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

__all__ = ["Database", "Record", "default_db_path", "STATUSES"]

#: Record statuses: ``ok`` is the only one a search may select.
STATUSES = ("ok", "invalid", "compile_error", "compile_timeout", "run_error", "run_timeout", "wrong_result")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS workload (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    info_json TEXT NOT NULL,
    created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS record (
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
    UNIQUE (workload_key, target, sketch, decisions_json, flags_json, compiler_version)
);
CREATE INDEX IF NOT EXISTS record_by_workload ON record (workload_key, target, status, median_ms);
CREATE TABLE IF NOT EXISTS dispatch_cost (
    signature TEXT NOT NULL,
    target TEXT NOT NULL,
    compiler_version TEXT NOT NULL,
    root_op TEXT NOT NULL,
    median_us REAL,
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

    @property
    def ok(self) -> bool:
        return self.status == "ok"


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
            "compiler_version, status, median_ms, times_json, rel_error, error, created) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (rec.workload_key, rec.target, rec.sketch, _canon(rec.decisions), _canon(rec.flags),
             rec.compiler_version, rec.status, rec.median_ms, _canon(rec.times_ms), rec.rel_error,
             rec.error, rec.created))
        self._con.commit()
        rec.id = cur.lastrowid
        return rec

    def _rows(self, where: str, args: tuple) -> Iterator[Record]:
        q = ("SELECT id, workload_key, target, sketch, decisions_json, flags_json, compiler_version, "
             "status, median_ms, times_json, rel_error, error, created FROM record WHERE " + where)
        for row in self._con.execute(q, args):
            yield Record(row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), row[6], row[7],
                         row[8], json.loads(row[9]), row[10], row[11], row[12], row[0])

    def lookup(self, workload_key: str, target: str, sketch: str, decisions: dict, flags: list[str],
               compiler_version: str) -> Record | None:
        """The stored record of exactly this candidate, if it was measured before."""
        rows = list(self._rows("workload_key=? AND target=? AND sketch=? AND decisions_json=? AND "
                               "flags_json=? AND compiler_version=?",
                               (workload_key, target, sketch, _canon(decisions), _canon(flags),
                                compiler_version)))
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

    def top_k(self, workload_key: str, target: str, k: int = 1, sketch: str | None = None) -> list[Record]:
        """The ``k`` fastest correct records (status ``ok``)."""
        where = "workload_key=? AND target=? AND status='ok'"
        args: tuple = (workload_key, target)
        if sketch is not None:
            where += " AND sketch=?"
            args += (sketch,)
        return list(self._rows(where + " ORDER BY median_ms LIMIT ?", args + (k,)))

    def count(self) -> int:
        return self._con.execute("SELECT COUNT(*) FROM record").fetchone()[0]

    # -- graph level: measured dispatch costs (see mlir_opt.graph.measured) -------------------------

    def dispatch_cost(self, signature: str, target: str, compiler_version: str) -> dict | None:
        """The stored time of one dispatch (``median_us`` None and ``error`` set if it failed)."""
        row = self._con.execute("SELECT root_op, median_us, times_json, error, info_json FROM dispatch_cost "
                                "WHERE signature=? AND target=? AND compiler_version=?",
                                (signature, target, compiler_version)).fetchone()
        if row is None:
            return None
        return {"root_op": row[0], "median_us": row[1], "times_us": json.loads(row[2]), "error": row[3],
                "info": json.loads(row[4])}

    def put_dispatch_cost(self, signature: str, target: str, compiler_version: str, *, root_op: str,
                          median_us: float | None, times_us: list[float], error: str | None = None,
                          info: dict | None = None) -> None:
        """Store (or replace) one dispatch's measured time and commit it at once."""
        self._con.execute("INSERT OR REPLACE INTO dispatch_cost VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          (signature, target, compiler_version, root_op, median_us, _canon(times_us), error,
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
