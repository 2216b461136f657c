"""pytest configuration: the FileCheck plugin and shared fixtures.

Every ``tests/lit/**/*.mlir`` file with ``// RUN:`` lines becomes a pytest item. In a RUN line,
``%s`` is the file, ``%python`` (or a leading ``python``) is this interpreter, ``%t`` is a per-test temporary path
prefix, ``not CMD`` inverts CMD's exit status (as in LLVM lit), and ``filecheck`` is the ``filecheck`` PyPI package. Each line
runs under ``bash -o pipefail``.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOT = Path(__file__).resolve().parent / "tools" / "not.py"


def _filecheck() -> str:
    cand = Path(sys.executable).parent / "filecheck"
    return str(cand) if cand.exists() else "filecheck"


def expand_run_line(line: str, path: Path, tmp: Path | None = None) -> str:
    """Substitute %s, %t, %python, python, filecheck and `not` in one RUN line."""
    py = shlex.quote(sys.executable)
    line = line.replace("%s", shlex.quote(str(path))).replace("%python", py)
    if tmp is not None:
        line = line.replace("%t", shlex.quote(str(tmp / "t")))
    segments = []
    for seg in line.split("|"):
        seg = seg.strip()
        seg = re.sub(r"^not\s+", f"{py} {shlex.quote(str(NOT))} ", seg)
        seg = re.sub(r"(^|\s)python(\s)", rf"\g<1>{py}\g<2>", seg)
        seg = re.sub(r"(^|\s)filecheck(\s|$)", rf"\g<1>{shlex.quote(_filecheck())}\g<2>", seg)
        segments.append(seg)
    return " | ".join(segments)


def run_lines(path: Path) -> list[str]:
    lines, cur = [], ""
    for raw in path.read_text().splitlines():
        m = re.match(r"^\s*//\s*RUN:\s?(.*)$", raw)
        if not m:
            continue
        part = m.group(1).rstrip()
        if part.endswith("\\"):
            cur += part[:-1] + " "
            continue
        lines.append(cur + part)
        cur = ""
    return lines


#: seconds one RUN line may take (they compile single small modules in a few seconds)
LIT_TIMEOUT_S = 240


def _run_line(cmd: str, cwd: Path, env: dict) -> tuple[int | None, str, str]:
    """Run one expanded RUN line under bash; ``(None, out, err)`` if it timed out. The line runs in
    its own process group, killed whole on a timeout: killing bash alone would leave a hung
    iree-compile holding the pipes, and the wait for their end would never return."""
    import signal

    proc = subprocess.Popen(["bash", "-o", "pipefail", "-c", cmd], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd, env=env, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=LIT_TIMEOUT_S)
        return proc.returncode, out, err
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return None, out or "", err or ""


class LitFile(pytest.File):
    def collect(self):
        if run_lines(self.path):
            yield LitItem.from_parent(self, name=self.path.name)


class LitItem(pytest.Item):
    def runtest(self):
        import tempfile

        env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        tmp = Path(tempfile.mkdtemp(prefix="lit_"))
        for line in run_lines(self.path):
            cmd = expand_run_line(line, self.path, tmp)
            code, out, err = _run_line(cmd, self.path.parent, env)
            if code is None:  # iree-compile 3.13 rarely deadlocks (futex wait, 0 % CPU): one retry
                code, out, err = _run_line(cmd, self.path.parent, env)
            if code is None:
                raise LitFailure(line, "timeout", out, err + f"\n(timed out twice after {LIT_TIMEOUT_S} s)")
            if code != 0:
                raise LitFailure(line, code, out, err)

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, LitFailure):
            e = excinfo.value
            return (f"RUN: {e.line}\nexit status {e.code}\n--- stdout ---\n{e.stdout[-4000:]}"
                    f"\n--- stderr ---\n{e.stderr[-4000:]}")
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, 0, f"lit: {self.name}"


class LitFailure(Exception):
    def __init__(self, line, code, stdout, stderr):
        super().__init__(line)
        self.line, self.code, self.stdout, self.stderr = line, code, stdout, stderr


def pytest_collect_file(parent, file_path: Path):
    if file_path.suffix == ".mlir" and "lit" in file_path.relative_to(ROOT).parts:
        return LitFile.from_parent(parent, path=file_path)
    return None


@pytest.fixture(scope="session")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("work")
