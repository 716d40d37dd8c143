"""Progress bars for long work (rich), quiet when output is not a terminal or disabled."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn


@contextmanager
def progress_bar(total: int, label: str, enabled: bool = True, unit: str = "bytes") -> Iterator[Callable[[int], None]]:
    """Yields ``advance(n)``. Draws on stderr only when it is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield lambda n: None
        return
    columns = [TextColumn("[bold]{task.description}"), BarColumn()]
    columns.append(DownloadColumn() if unit == "bytes" else TextColumn("{task.completed:,}/{task.total:,}"))
    columns.append(TimeRemainingColumn())
    with Progress(*columns, transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n: bar.advance(task, n)
