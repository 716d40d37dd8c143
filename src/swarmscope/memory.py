"""Process memory settings for bulk steps (an ingest), restored when the step ends.

One job: how the process gets its pages from the kernel. Results never depend
on it; only time does.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager

_PR_SET_THP_DISABLE, _PR_GET_THP_DISABLE = 41, 42  # Linux prctl options


@contextmanager
def without_huge_pages() -> Iterator[None]:
    """No transparent huge pages for this process while the step runs (Linux; elsewhere a no-op).

    pyarrow's allocator (mimalloc) and numpy ask the kernel for huge pages, and
    an ingest frees and reallocates its buffers segment after segment: each time
    the kernel zeroes whole 2 MiB pages again. For 1M X v2 posts that was about
    500 huge-page faults (1 GiB zeroed) and 1.3 s of system time; with ordinary
    pages the system time falls to about 2 s in all and the peak memory does not
    grow (docs/benchmarks.md, Ingest notes). Pages already huge stay so; the
    previous setting is restored on exit.
    """
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        yield
        return
    before = prctl(_PR_GET_THP_DISABLE, 0, 0, 0, 0)
    if before < 0 or prctl(_PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0:  # a kernel without the switch
        yield
        return
    try:
        yield
    finally:
        prctl(_PR_SET_THP_DISABLE, before, 0, 0, 0)


def huge_pages_disabled() -> bool | None:
    """This process's switch (True: no transparent huge pages); None where it cannot be read."""
    try:
        state = ctypes.CDLL(None, use_errno=True).prctl(_PR_GET_THP_DISABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        return None
    return None if state < 0 else bool(state)
