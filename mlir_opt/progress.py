"""Stage timing and progress display shared by the pipeline and the CLI."""

from __future__ import annotations

import time
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console

__all__ = ["Stages", "stderr_console"]


def stderr_console(quiet: bool = False) -> Console:
    """The console progress goes to (stderr, so stdout stays clean for reports and IR)."""
    return Console(stderr=True, quiet=quiet, highlight=False)


class Stages:
    """Times named stages and shows a spinner while each runs.

    ``times`` maps stage name -> seconds, in the order the stages ran; a stage that raised is
    recorded too, so an interrupted run still says where the time went.
    """

    def __init__(self, console: Console | None = None):
        self.console = console or stderr_console()
        self.times: dict[str, float] = {}
        self._status = None
        self._desc = ""

    def update(self, message: str, done: int | None = None, total: int | None = None) -> None:
        """Update the running stage's spinner text (e.g. search progress ``done/total``)."""
        if self._status is not None:
            frac = f" [{done}/{total}]" if done is not None and total else ""
            self._status.update(f"{self._desc}{frac} {message} …")

    @contextmanager
    def stage(self, name: str, description: str) -> Iterator[None]:
        t0 = time.perf_counter()
        ok = False
        try:
            with self.console.status(f"{description} …", spinner="dots") as status:
                self._status, self._desc = status, description
                yield
            ok = True
        finally:
            self._status = None
            dt = time.perf_counter() - t0
            self.times[name] = self.times.get(name, 0.0) + dt
            mark = "[green]✓[/green]" if ok else "[red]✗[/red]"
            self.console.print(f"{mark} {description} [dim]{dt:.2f} s[/dim]")
