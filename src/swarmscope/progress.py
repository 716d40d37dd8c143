"""Progress bars for long work (rich), quiet when output is not a terminal or disabled."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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


@contextmanager
def progress_bar(total: int, label: str, enabled: bool = True, unit: str = "bytes") -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``. Draws on stderr only when it is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    columns = [TextColumn("[bold]{task.description}"), BarColumn()]
    columns.append(DownloadColumn() if unit == "bytes" else TextColumn("{task.completed:,}/{task.total:,}"))
    columns.append(TimeRemainingColumn())
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)


@contextmanager
def step_bar(label: str, enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    """A bar over the steps of a long command (``detect``): the step running, steps done of all, the
    time elapsed and an estimate of the time left. Redrawn every second, so no step looks frozen; the
    steps' own bars (embedding, pairing) draw beneath it. Yields ``progress(step, done, total)``
    (pipeline.Progress). Draws on stderr only when it is a terminal."""
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
    with Progress(*columns, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task(label, total=None)

        def update(step: str, done: int, total: int) -> None:
            bar.update(task, description=f"{label}: {step}", completed=done, total=total)

        yield update
