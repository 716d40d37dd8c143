"""Progress bars for long work (rich), quiet when output is not a terminal or disabled.

- ``progress_bar``: a bar with a count and an ETA (bytes read, posts enriched, texts embedded);
- ``step_bar``: the steps of a long command (``detect``), with the step running and what it is doing now;
- ``detail``: what the running step does now ("LSH candidates: band 3/18"), shown after its name;
- ``watching``: ``detail`` with DuckDB's own progress of a long SQL statement (a percentage).

Every bar draws on one console (stderr): a bar opened while another draws is drawn beneath it, not over
it. DuckDB's own progress bar never prints (it would write to stdout; ``duck.session``): its figures
reach the step bar through ``watching``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

_console: Console | None = None
_console_lock = threading.Lock()
# the detail setters of the step bars drawing now, innermost last (one per process in practice)
_details: list[Callable[[str], None]] = []
WATCH_SECONDS = 0.5  # how often ``watching`` reads DuckDB's progress of the running statement


def _stderr_console() -> Console:
    """The one console every bar of this process draws on. Two consoles would each redraw the same terminal
    line, the bars overwriting each other in turn; on one console rich draws a bar opened inside another
    beneath it."""
    global _console
    with _console_lock:
        if _console is None:
            _console = Console(stderr=True)
        return _console


@contextmanager
def progress_bar(total: int, label: str, enabled: bool = True, unit: str = "bytes") -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``. Draws on stderr only when it is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    columns = [TextColumn("[bold]{task.description}"), BarColumn()]
    columns.append(DownloadColumn() if unit == "bytes" else TextColumn("{task.completed:,}/{task.total:,}"))
    columns.append(TimeRemainingColumn())
    with Progress(*columns, transient=True, console=_stderr_console()) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def step_bar(label: str, enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A bar over the steps of a long command (``detect``): the step running and what it does now
    (``detail``), steps done of all, the time elapsed and an estimate of the time left. Redrawn every
    second, so no step looks frozen; the steps' own bars (embedding, pairing) draw beneath it. Yields
    ``progress(step, done, total)`` (pipeline.Progress). Draws on stderr only when it is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda step, done, total: None
        return
    columns = [
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} steps"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    ]
    with Progress(*columns, transient=True, console=_stderr_console()) as bar:
        task = bar.add_task(label, total=None)
        step_name = [label]

        def update(step: str, done: int, total: int) -> None:
            step_name[0] = f"{label}: {step}"
            bar.update(task, description=step_name[0], completed=done, total=total)

        def show(text: str) -> None:
            bar.update(task, description=f"{step_name[0]} · {text}" if text else step_name[0])

        _details.append(show)
        try:
            yield update
        finally:
            _details.remove(show)


def detail(text: str) -> None:
    """Show what the running step does now after its name on the step bar ("sketching 3/12"); the next
    step clears it. A no-op when no step bar draws (a pipe, the Python API without a terminal)."""
    if _details:
        _details[-1](text)


@contextmanager
def watching(con: Any, text: str) -> Iterator[None]:
    """``detail(text)`` while the block runs, with DuckDB's progress of the statement running on ``con``
    ("search index: terms 46 %"), read every WATCH_SECONDS. DuckDB's estimate, so it can pause or jump;
    without a step bar, nothing is read."""
    if not _details:
        yield
        return
    detail(text)
    stop = threading.Event()

    def poll() -> None:
        shown = -1
        while not stop.wait(WATCH_SECONDS):
            try:
                done = int(con.query_progress())
            except Exception:  # the connection closed under us, or this DuckDB cannot tell
                return
            if done >= 0 and done != shown:
                shown = done
                detail(f"{text} {done} %")

    reader = threading.Thread(target=poll, name="progress-watch", daemon=True)
    reader.start()
    try:
        yield
    finally:
        stop.set()
        reader.join()
