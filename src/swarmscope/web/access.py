"""The workbench's hold on the case: open only while requests need it, so the command line can use it too.

DuckDB lets one process open a file read-write, or any number of processes
read-only, never both. The server therefore holds no connection of its own
between requests:

- a read opens the case read-only (or shares what this process already has
  open) and lets go when the last read is done, after ``LINGER`` seconds
  without a request, so the few calls of one page share one open (opening
  costs about 13 ms, most of it DuckDB building its catalogue);
- a write (a label, a detection run started from the page) waits for the
  reads of this process to finish, opens the case read-write through
  ``store.Case`` (which names this process in the case's owner file), and
  closes it as soon as the write is done; reads that come meanwhile use the
  read-write connection (one process, one database instance).

A command that reads (``info``, ``evaluate``, ``export``, ``report``) opens
the case read-only and runs beside the server at any time, except during one
of its writes; a command that writes (``ingest``, ``detect``, ``label``)
waits for a moment without a request (``duck.open_file`` retries). When
another process writes, a read waits ``READ_WAIT`` seconds and then answers
503 with ``CaseBusy``'s message: who holds the case and what to do.

One registry per process and file (``for_case``): two apps over one case in
one process (the tests do that) must not open it both ways at once.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from ..store import Case, CaseBusy, connect

LINGER = 0.5  # seconds a read-only open outlives the last request
READ_WAIT = 2.0  # seconds a request waits for another process's write before a 503
WRITE_WAIT = 5.0  # seconds a label write waits for other processes' reads or writes


class CaseAccess:
    """Connections to one case for the server's threads; see the module's docstring."""

    def __init__(
        self, case: str | Path, *, linger: float = LINGER, read_wait: float = READ_WAIT, write_wait: float = WRITE_WAIT
    ) -> None:
        self.case = Path(case)
        self.linger, self.read_wait, self.write_wait = linger, read_wait, write_wait
        self._cond = threading.Condition()
        self._con: duckdb.DuckDBPyConnection | None = None  # the open connection (read-only, or _db's)
        self._db: Case | None = None  # set while the case is open read-write
        self._holds = 0  # reads and writes using _con
        self._busy: tuple[float, CaseBusy] | None = None  # the last failed read-only open, and when
        self._waiting_writes = 0  # writes waiting for this process's reads to finish
        self._idle = 0  # bumped whenever _holds drops to 0: a linger timer closes only its own idle spell
        self.opens = 0  # how many times the case was opened (for tests and measurements)

    @property
    def is_open(self) -> bool:
        return self._con is not None

    @contextlib.contextmanager
    def read(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor for reading; CaseBusy when another process writes and does not finish within ``read_wait``."""
        with self._cond:
            while self._waiting_writes and self._db is None:
                self._cond.wait()
            if self._con is None:
                # requests queued behind one that waited in vain fail at once, with its reason
                if self._busy is not None and time.monotonic() - self._busy[0] < self.read_wait:
                    raise self._busy[1]
                try:
                    self._con = connect(self.case, read_only=True, wait=self.read_wait)
                except CaseBusy as e:
                    self._busy = (time.monotonic(), e)
                    raise
                self._busy = None
                self.opens += 1
            cur = self._hold(self._con)
        with self._session(cur):
            yield cur

    @contextlib.contextmanager
    def write(self, wait: float | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor of a read-write connection, held only for the block (a detection run holds it for the run)."""
        with self._cond:
            self._waiting_writes += 1
            try:
                while self._db is None and self._holds:
                    self._cond.wait()  # this process's reads on the read-only open: let them finish
                if self._db is None:
                    self._close()
                    self._db = Case(self.case, wait=self.write_wait if wait is None else wait)
                    self._con, self._busy = self._db.con, None
                    self.opens += 1
            finally:
                self._waiting_writes -= 1
                self._cond.notify_all()
            cur = self._hold(self._db.con)
        with self._session(cur):
            yield cur

    def _hold(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
        """A cursor of ``con``, counted as a hold (called with ``self._cond`` held)."""
        self._holds += 1
        try:
            return con.cursor()
        except BaseException:
            self._let_go()
            raise

    @contextlib.contextmanager
    def _session(self, cur: duckdb.DuckDBPyConnection) -> Iterator[None]:
        """The block a request runs in with ``cur``: UTC session; then the cursor closed and the hold let go."""
        try:
            cur.execute("SET TimeZone = 'UTC'")
            yield
        finally:
            cur.close()
            with self._cond:
                self._let_go()

    def close(self) -> None:
        """Close now (server shutdown); a later request opens again."""
        with self._cond:
            if not self._holds:
                self._close()

    # -- under self._cond ----------------------------------------------------------------
    def _let_go(self) -> None:
        self._holds -= 1
        if self._holds:
            return
        self._idle += 1
        if self._db is not None or self._waiting_writes or self.linger <= 0:
            self._close()  # never keep the write lock; a waiting write needs the read-only open gone
        else:
            timer = threading.Timer(self.linger, self._close_if_idle, args=(self._idle,))
            timer.daemon = True
            timer.start()
        self._cond.notify_all()

    def _close_if_idle(self, idle: int) -> None:
        with self._cond:
            if not self._holds and self._idle == idle:
                self._close()

    def _close(self) -> None:
        if self._db is not None:
            db, self._db, self._con = self._db, None, None
            db.close()
        elif self._con is not None:
            con, self._con = self._con, None
            con.close()


_registry: dict[Path, CaseAccess] = {}
_registry_lock = threading.Lock()


def for_case(case: str | Path) -> CaseAccess:
    """This process's CaseAccess for ``case`` (one per file)."""
    key = Path(case).resolve()
    with _registry_lock:
        if key not in _registry:
            _registry[key] = CaseAccess(key)
        return _registry[key]
