"""DuckDB sessions: the settings every step relies on, scratch connections, registered tables.

The lowest layer of the house: it imports nothing of swarmscope, so the
detectors (which never touch the case store) and the store itself can both
use it. ``store`` re-exports these helpers for code that already holds a case.

- ``session(con)`` applies the session settings (times without a zone are UTC).
- ``scratch(con=None)`` yields ``con`` when given, else a fresh in-memory
  connection that is closed when the block ends, even on an error.
- ``registered(con, name=table, ...)`` registers Arrow tables for the block
  and unregisters them in a ``finally``, so a failing query never leaves a
  stale view behind on a shared connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import duckdb


def session(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    """``con`` with the session settings: strings without a zone are read as UTC, TIMESTAMPTZ prints in UTC."""
    con.execute("SET TimeZone = 'UTC'")
    return con


@contextmanager
def scratch(con: duckdb.DuckDBPyConnection | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """``con`` itself (left open), or a fresh in-memory connection closed when the block ends."""
    if con is not None:
        yield con
        return
    own = session(duckdb.connect())
    try:
        yield own
    finally:
        own.close()


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
