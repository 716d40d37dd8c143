"""Array work on the machine's cores, in threads: numpy, pyarrow and DuckDB release the GIL in their
sorts, gathers, hashing and regular expressions, so threads use every core without copying the data
to other processes. Results never depend on the number of threads."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor

THREADS = max(1, min(4, os.cpu_count() or 1))  # work items at once


def in_order(fn: Callable, items: Iterable, threads: int = THREADS) -> Iterator:
    """``fn`` over ``items`` on ``threads`` threads, its results yielded in the items' order. At most
    ``threads`` items run or wait for the caller at once, so memory stays that of ``threads`` items."""
    if threads < 2:
        yield from map(fn, items)
        return
    with ThreadPoolExecutor(threads) as ex:
        running: deque = deque()
        for x in items:
            running.append(ex.submit(fn, x))
            if len(running) >= threads:
                yield running.popleft().result()
        while running:
            yield running.popleft().result()
