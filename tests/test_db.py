"""The tuning database: records, lookups, top-k, and survival of a kill -9 mid-run."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from mlir_opt.db import Database, Record

ROOT = Path(__file__).resolve().parent.parent


def test_commit_lookup_topk():
    db = Database(":memory:")
    db.add_workload("w", "matmul", {"M": 4})
    db.add_workload("w", "matmul", {"M": 4})  # idempotent
    for i, t in enumerate([3.0, 1.0, 2.0]):
        db.commit(Record("w", "llvm-cpu", "double_tiling", {"a": i}, [], "v", "ok", t, [t]))
    db.commit(Record("w", "llvm-cpu", "double_tiling", {"a": 9}, [], "v", "wrong_result", 0.1, [0.1], 0.5, "bad"))
    assert [r.median_ms for r in db.top_k("w", "llvm-cpu", 2)] == [1.0, 2.0]  # wrong result never selected
    hit = db.lookup("w", "llvm-cpu", "double_tiling", {"a": 9}, [], "v")
    assert hit is not None and hit.status == "wrong_result" and hit.error == "bad"
    assert db.lookup("w", "llvm-cpu", "double_tiling", {"a": 9}, [], "other-version") is None
    assert len(db.records("w", "llvm-cpu")) == 4 and db.workloads()[0][0] == "w"


WRITER = """
import sys, time
from mlir_opt.db import Database, Record
db = Database(sys.argv[1])
i = 0
while True:
    db.commit(Record("w", "llvm-cpu", "double_tiling", {"i": i}, [], "v", "ok", float(i), [float(i)]))
    print(i, flush=True)
    i += 1
    time.sleep(0.005)
"""


def test_survives_kill_9(tmp_path):
    path = tmp_path / "tuning.sqlite"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(path)], stdout=subprocess.PIPE, text=True, env=env)
    seen = 0
    deadline = time.time() + 60
    while seen < 40 and time.time() < deadline:
        line = proc.stdout.readline()
        if line:
            seen = int(line) + 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert seen >= 40
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    db = Database(path)
    # Every record the writer reported as committed is there after the kill.
    assert db.count() >= seen
    assert db.lookup("w", "llvm-cpu", "double_tiling", {"i": seen - 1}, [], "v") is not None
