"""DuckDB sessions: the settings every step relies on, scratch connections, registered tables.

The lowest layer of the house: it imports nothing of swarmscope, so the
detectors (which never touch the case store) and the store itself can both
use it. ``store`` re-exports these helpers for code that already holds a case.

- ``session(con)`` applies the session settings (times without a zone are UTC).
- ``scratch(con=None)`` yields ``con`` when given, else a fresh in-memory
  connection that is closed when the block ends, even on an error.
- ``memory_at_most(con, gib)`` caps DuckDB's memory for a block, evicting the
  table blocks it keeps cached beyond that, and puts the old limit back;
  ``release_cache(con)`` does it for a moment, to give the cache back.
- ``registered(con, name=table, ...)`` registers Arrow tables for the block
  and unregisters them in a ``finally``, so a failing query never leaves a
  stale view behind on a shared connection.
- ``open_file(path, read_only, wait)`` opens a case file, waiting up to
  ``wait`` seconds while another process holds a conflicting lock, then
  raising ``CaseBusy`` naming that process (pid, command, since when).
- ``claim(path)`` / ``release(path)`` keep ``CASE.duckdb.owner``, the lock-info file
  a process writes while it holds the case read-write (docs/data-model.md,
  Concurrent use): who holds it, for the message of the one who waits.

DuckDB lets one process open a file read-write, or several read-only, never
both; the lock is the operating system's (fcntl), so it is per process and
goes away with a process that dies. The owner file is only a name tag: one
whose process is gone, or that names another process than DuckDB's lock
does, is ignored.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

WAIT_ENV = "SWARMSCOPE_LOCK_WAIT"  # seconds a command waits for a case another process holds
DEFAULT_WAIT = 10.0
OWNER_SUFFIX = ".owner"


def session(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with the session settings: strings without a zone are read as UTC, TIMESTAMPTZ prints in UTC,
    and DuckDB's progress bar is kept but not printed (``quiet``)."""
    con.execute("SET TimeZone = 'UTC'")
    return quiet(con)


def quiet(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with DuckDB's own progress bar not printed. A connection prints it, on stdout, for any statement
    over two seconds, where a pipe or a redirect reads the command's output (``detect > out.tsv``); it stays
    computed, so ``progress.watching`` can show it on our bar on stderr. Cursors start with it off."""
    try:
        con.execute("SET enable_progress_bar_print = false")
        con.execute("SET enable_progress_bar = true")
    except duckdb.Error:
        # in Jupyter without ipywidgets DuckDB refuses any change to its bar (it has none to draw there):
        # nothing prints, and ``watching`` shows no percentage
        pass
    return con


@contextmanager
def scratch(
    con: duckdb.DuckDBPyConnection | None = None, memory_gib: float | None = None
) -> Iterator[duckdb.DuckDBPyConnection]:
    """``con`` itself (left open), or a fresh in-memory connection closed when the block ends.

    ``memory_gib``: the fresh connection's ``memory_limit`` (DuckDB's default is 80 % of the RAM for
    each connection), spilling beyond it to a temporary folder of its own, removed when the block ends
    (an in-memory DuckDB would otherwise spill to ``.tmp`` in the working directory)."""
    if con is not None:
        yield con
        return
    own = session(duckdb.connect())
    spill = None
    try:
        if memory_gib is not None:
            spill = tempfile.mkdtemp(prefix="swarmscope-spill-")
            own.execute(f"SET memory_limit = '{float(memory_gib)}GiB'")
            own.execute("SET temp_directory = ?", [spill])
        yield own
    finally:
        own.close()
        if spill is not None:
            shutil.rmtree(spill, ignore_errors=True)


@contextmanager
def memory_at_most(con: duckdb.DuckDBPyConnection, gib: float) -> Iterator[None]:
    """DuckDB's ``memory_limit`` on ``con`` lowered to ``gib`` for the block (never raised), then put back.

    Lowering it makes DuckDB evict at once what it holds beyond ``gib``, mostly the blocks of the
    tables it has read (DuckDB keeps them cached up to its limit, 80 % of the RAM by default): a
    step that has read its tables into Arrow gives that memory back for its own work. Queries in
    the block spill beyond ``gib`` to the connection's temporary folder.
    """
    old = con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    m = re.fullmatch(r"([\d.]+)\s*([KMGT]?)i?B", str(old).strip())
    units = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
    old_gib = float(m.group(1)) * 1024.0 ** (units[m.group(2)] - 3) if m else float("inf")
    if old_gib <= gib:
        yield
        return
    con.execute(f"SET memory_limit = '{float(gib)}GiB'")
    try:
        yield
    finally:
        # the setting reads back rounded ('18.8 GiB'): DuckDB's default (80 % of the RAM) is put back
        # by a reset, any other limit by its text
        con.execute("RESET memory_limit")
        if con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0] != old:
            con.execute(f"SET memory_limit = '{old}'")


def release_cache(con: duckdb.DuckDBPyConnection, keep_gib: float = 1 / 16) -> None:
    """Evict the table blocks DuckDB keeps cached on ``con`` beyond ``keep_gib``, then restore its limit.

    For a step that has read its tables into Arrow and works on them in Python: at 10M posts the
    posts and the co-action networks' actions left 1.3 GiB of blocks cached that nothing would read
    again. Best effort: when DuckDB holds more than ``keep_gib`` it cannot evict (pinned by a running
    query), the limit is left as it was.
    """
    try:
        with memory_at_most(con, keep_gib):
            pass
    except duckdb.OutOfMemoryException:
        pass


@contextmanager
def registered(con: duckdb.DuckDBPyConnection, **tables: Any) -> Iterator[duckdb.DuckDBPyConnection]:
    """Register each ``name=table`` (Arrow tables, record batch readers) on ``con`` for the block."""
    done: list[str] = []
    try:
        for name, table in tables.items():
            con.register(name, table)
            done.append(name)
        yield con
    finally:
        for name in reversed(done):
            try:
                con.unregister(name)
            except duckdb.Error:  # the connection itself failed; nothing left to clean
                pass


# -- opening a case file that other processes may hold ------------------------------------------


class CaseBusy(Exception):
    """Another process holds the case in a way that excludes this one; the message names it and says what to do.

    ``pid``, ``command``, ``host``, ``since``: the holder as far as known
    (None where not); ``holder_writes``: whether the holder has the case
    read-write; ``read_only``: whether this process asked only to read.
    """

    def __init__(self, path: Path, read_only: bool, waited: float, holder: dict[str, Any], holder_writes: bool) -> None:
        self.path, self.read_only, self.waited = Path(path), read_only, waited
        self.pid, self.command = holder.get("pid"), holder.get("command")
        self.host, self.since = holder.get("host"), holder.get("started")
        self.holder_writes = holder_writes
        super().__init__(self.message(str(path)))

    def message(self, name: str, hint: bool = True) -> str:
        """The explanation with the case called ``name`` (the web answer gives the file name, not its folder);
        ``hint``: end with how to wait longer (a command's wait; the server's are fixed)."""
        who = "another process" if self.pid is None else f"process {self.pid}"
        about = [x for x in (self.command, f"on {self.host}" if self.host else None) if x]
        if self.since:
            about.append(f"since {self.since} UTC")
        if about:
            who += f" ({', '.join(about)})"
        waited = f"waited {self.waited:g} s"
        if self.holder_writes:
            head = f"{name} is being written by {who}; {waited}."
            if self.read_only:
                tail = (
                    "Reading needs no writer on the case (reading next to `swarmscope serve` is fine): "
                    "run this again when that command has finished, or stop it."
                )
            else:
                tail = "One process at a time can write to a case: run this again when it has finished, or stop it."
        else:
            head = f"{name} is open read-only by {who}; {waited}."
            tail = "A command that writes needs the case to itself: run it again when the reading has finished."
        return f"{head} {tail}" + (f" ({WAIT_ENV}=SECONDS sets how long to wait.)" if hint else "")


def lock_wait() -> float:
    """Seconds to wait for a held case: ``$SWARMSCOPE_LOCK_WAIT``, else 10."""
    raw = os.environ.get(WAIT_ENV)
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_WAIT
    except ValueError:
        return DEFAULT_WAIT


_LOCK_PID = re.compile(r"\(PID (\d+)\)")


def open_file(path: str | Path, read_only: bool = False, wait: float | None = None) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect(path)``, retried for up to ``wait`` seconds (default ``lock_wait()``) while another process
    holds a conflicting lock; then CaseBusy naming the holder. Any other error is raised as it is."""
    wait = lock_wait() if wait is None else wait
    start = time.monotonic()
    pause = 0.02
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as e:
            text = str(e)
            if "Could not set lock" not in text:
                raise
            left = wait - (time.monotonic() - start)
            if left <= 0:
                m = _LOCK_PID.search(text)
                pid = int(m.group(1)) if m else None
                # asking to write and told that reading would do: the holders only read
                holder_writes = read_only or "read-only mode" not in text
                raise CaseBusy(Path(path), read_only, round(wait, 1), holder(Path(path), pid), holder_writes) from None
            time.sleep(min(pause, left))
            pause = min(pause * 2, 0.2)


def holder(path: Path, pid: int | None) -> dict[str, Any]:
    """What is known of the process holding ``path``: its owner file when that names ``pid`` (or DuckDB named no
    pid) and the process is alive, else the pid with the command from /proc where there is one."""
    info = read_owner(path)
    if info is not None and (pid is None or info.get("pid") == pid):
        return info
    return {"pid": pid, "command": _proc_command(pid) if pid is not None else None}


def owner_path(path: str | Path) -> Path:
    p = Path(path)
    return p.with_name(p.name + OWNER_SUFFIX)


def read_owner(path: str | Path) -> dict[str, Any] | None:
    """The case's owner file, or None when there is none, it is unreadable, or its process is gone."""
    try:
        info = json.loads(owner_path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("pid"), int):
        return None
    if info.get("host") == socket.gethostname() and not _alive(info["pid"]):
        return None
    return info


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _proc_command(pid: int) -> str | None:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    return describe_command([a.decode("utf-8", "replace") for a in argv if a]) or None


def describe_command(argv: list[str]) -> str:
    """A short name for a command line, without its arguments (they may hold a token or a private path):
    ``swarmscope serve`` for ``/venv/bin/swarmscope serve case.duckdb --token ...``."""
    args = list(argv)
    if args and re.fullmatch(r"python[0-9.]*(\.exe)?", Path(args[0]).name):
        args = args[1:]
        if args[:1] == ["-m"] and len(args) > 1:
            args = args[1:]
    if not args:
        return ""
    if args[0].startswith("-"):  # python -c ..., python -i
        return f"python {args[0]}"[:40]
    prog = Path(args[0]).name
    if prog in ("swarmscope.cli", "swarmscope") or Path(args[0]).parent.name == "swarmscope":
        prog = "swarmscope"
        sub = args[1] if len(args) > 1 else ""  # the subcommand comes first; anything later may be a secret
        if re.fullmatch(r"[a-z][a-z-]{0,30}", sub):
            return f"{prog} {sub}"
    return prog[:80]


_claims: dict[Path, int] = {}
_claims_lock = threading.Lock()


def claim(path: str | Path) -> None:
    """Note that this process holds ``path`` read-write: writes the owner file (pid, host, command, started) on
    the first claim; nested claims of one process count. Never fails: the file is only a name tag."""
    key = Path(path).resolve()
    with _claims_lock:
        _claims[key] = _claims.get(key, 0) + 1
        if _claims[key] > 1:
            return
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": describe_command(sys.argv) or "python",
            "started": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat(sep=" "),
        }
        target = owner_path(key)
        tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
        try:
            tmp.write_text(json.dumps(info), encoding="utf-8")
            os.replace(tmp, target)
        except OSError:
            tmp.unlink(missing_ok=True)


def release(path: str | Path) -> None:
    """Undo one ``claim``; the last removes the owner file (if it is still this process's)."""
    key = Path(path).resolve()
    with _claims_lock:
        n = _claims.get(key, 0) - 1
        if n > 0:
            _claims[key] = n
            return
        _claims.pop(key, None)
        _remove_owner(key)


def _remove_owner(key: Path) -> None:
    target = owner_path(key)
    try:
        if json.loads(target.read_text(encoding="utf-8")).get("pid") == os.getpid():
            target.unlink()
    except (OSError, ValueError, AttributeError):
        pass


@atexit.register
def _release_all() -> None:
    with _claims_lock:
        for key in list(_claims):
            _remove_owner(key)
        _claims.clear()
