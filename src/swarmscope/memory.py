"""Process memory settings for bulk steps (an ingest, a detect, a network), restored when the step ends.

One job: how the process gets its pages from the kernel. Results never depend
on it; only time does.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa

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


@contextmanager
def ordinary_pages() -> Iterator[None]:
    """Ask for ordinary memory pages for numpy's big arrays while a step runs (a network, a detect).

    numpy advises the kernel to back big arrays with huge pages. Where the
    kernel then compacts memory on the page fault (transparent huge pages with
    defrag=madvise, a common default) and memory is fragmented (a full page
    cache), the co-action network, which allocates and frees many short-lived
    arrays of hundreds of MiB, spent more time in the kernel than computing:
    1M generated reposts, min_participation 1: 19 s system time of 30 s
    (docs/benchmarks.md). Results do not change; the previous setting is
    restored on exit. A no-op where numpy lacks the switch.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage as advise
    except ImportError:  # numpy < 2
        try:
            from numpy.core.multiarray import _set_madvise_hugepage as advise
        except ImportError:
            advise = None
    if advise is None:
        yield
        return
    before = advise(False)
    try:
        yield
    finally:
        advise(before)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -3, -4, -8  # glibc mallopt parameters
_GLIBC_MMAP_MAX = 65536  # glibc's default M_MMAP_MAX
_reuse_depth = 0  # reused_memory blocks open (the main thread's steps; nested ones change nothing)


@contextmanager
def reused_memory() -> Iterator[None]:
    """Keep freed heap memory in the process while a step runs (a network, a detect), give it back after.

    Big arrays are short-lived here (each step allocates and frees columns of
    10M values), and on a virtual machine faulting in fresh, zeroed pages costs
    more than the arithmetic. By default glibc serves big blocks with their own
    mmap and unmaps them on free, returns the top of its heap to the kernel as
    soon as 128 KiB are free there, and pyarrow allocates from its own pool
    (mimalloc). While the step runs:

    - glibc serves big blocks from its heap too (M_MMAP_MAX 0) and keeps up to
      1 GiB free at the top (M_TRIM_THRESHOLD), so a freed column's pages are
      reused by the next one (2 GiB, the most mallopt takes, pushed the peak
      of the 10M significance run to 4.05 GiB);
    - threads started from now on share the main heap (M_ARENA_MAX 1) rather
      than each growing its own, so the worker threads and the Parquet writer
      reuse the same pages;
    - pyarrow allocates from the same heap (its system pool), so Arrow and
      numpy reuse each other's pages.

    10M generated reposts, min_participation 1 (three runs each): 9.6-12 s of
    system time and 19-23 s in all with glibc's and pyarrow's defaults,
    5.6-6.4 s and 16-20 s, with 0.3-1 GiB less peak memory, this way
    (docs/benchmarks.md). A whole detect of 10M posts: 530 s, 215 of them
    in the kernel, with the defaults; 399 s, 88 in the kernel, with this and
    ``ordinary_pages`` (peak 12.3 and 12.7 GiB). Nested blocks change
    nothing; the outermost restores. On exit the previous Arrow pool, the mmap count and
    the trim threshold are restored and ``malloc_trim`` returns every free
    page. The arena limit stays for the rest of the process (glibc fixes it
    once), as does the 32 MiB mmap threshold, the value glibc's own
    adjustment reaches with arrays this size. Arrays made inside stay valid:
    each Arrow buffer keeps its pool. A no-op where the C library is not glibc.
    """
    global _reuse_depth
    previous_pool = pa.default_memory_pool()
    try:
        libc = ctypes.CDLL(None)
        mallopt, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        yield
        return
    if _reuse_depth:  # inside another such block (a network built in a detect): that one restores
        _reuse_depth += 1
        try:
            yield
        finally:
            _reuse_depth -= 1
        return
    _reuse_depth = 1
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    mallopt(_M_MMAP_MAX, 0)
    mallopt(_M_ARENA_MAX, 1)
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        _reuse_depth = 0
        pa.set_memory_pool(previous_pool)
        mallopt(_M_MMAP_MAX, _GLIBC_MMAP_MAX)
        mallopt(_M_TRIM_THRESHOLD, 128 << 10)
        trim(0)
