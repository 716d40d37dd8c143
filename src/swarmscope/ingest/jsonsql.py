"""SQL pieces shared by the JSON importers: validate records in DuckDB, quarantine the bad.

Records arrive as an Arrow table ``(record BIGINT, raw VARCHAR)``; DuckDB's
JSON functions parse them column-wise. Only the records that fail go back to
Python, as quarantine rows.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from .base import Quarantine


def utc(expr: str) -> str:
    """SQL turning an ISO-8601 string into a naive UTC TIMESTAMP.

    A string with an offset or 'Z' is converted to UTC; one without a zone is
    taken as UTC (the connection's TimeZone is UTC, see store.connect).
    """
    return f"(TRY_CAST({expr} AS TIMESTAMPTZ) AT TIME ZONE 'UTC')"


def unix_utc(expr: str) -> str:
    """SQL turning POSIX seconds (number or numeric string) into a naive UTC TIMESTAMP."""
    # to_timestamp raises (not NULL) beyond its range: years 1..9999 only, else NULL
    v = f"TRY_CAST({expr} AS DOUBLE)"
    return f"(CASE WHEN {v} BETWEEN -62135596800 AND 253402300799 THEN to_timestamp({v}) AT TIME ZONE 'UTC' END)"


def register_records(con: duckdb.DuckDBPyConnection, records, raws: pa.Array, name: str = "_records") -> None:
    con.register(name, pa.table({"record": pa.array(records, pa.int64()), "raw": raws}))


def quarantine_invalid_json(con: duckdb.DuckDBPyConnection, q: Quarantine, name: str = "_records") -> None:
    """Move records that are not valid JSON objects to quarantine; keep the rest in ``_json``."""
    bad = con.sql(
        f"""
        SELECT record,
               CASE WHEN NOT json_valid(raw) THEN 'invalid JSON (truncated or malformed record)'
                    ELSE 'not a JSON object (found ' || lower(json_type(raw::JSON)) || ')' END AS reason,
               left(raw, 500) AS excerpt
        FROM {name}
        WHERE NOT json_valid(raw) OR json_type(raw::JSON) <> 'OBJECT'
        """
    ).to_arrow_table()
    if bad.num_rows:
        q.add_many(bad["record"].to_pylist(), bad["reason"].to_pylist(), bad["excerpt"].to_pylist())
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _json AS SELECT record, raw::JSON AS j FROM {name} "
        f"WHERE json_valid(raw) AND json_type(raw::JSON) = 'OBJECT'"
    )


def quarantine_where(
    con: duckdb.DuckDBPyConnection, q: Quarantine, table: str, reason_sql: str, excerpt_sql: str
) -> None:
    """Quarantine rows of ``table`` whose ``reason_sql`` is not NULL, then delete them."""
    bad = con.sql(
        f"SELECT record, {reason_sql} AS reason, left(CAST({excerpt_sql} AS VARCHAR), 500) AS excerpt "
        f"FROM {table} WHERE {reason_sql} IS NOT NULL"
    ).to_arrow_table()
    if bad.num_rows:
        q.add_many(bad["record"].to_pylist(), bad["reason"].to_pylist(), bad["excerpt"].to_pylist())
        con.execute(f"DELETE FROM {table} WHERE {reason_sql} IS NOT NULL")


def required(fields: dict[str, str]) -> str:
    """SQL CASE naming the first missing required field; ``fields`` maps name -> SQL expression."""
    whens = " ".join(  # a name is a source column's (a CSV header may hold a quote): escaped
        f"WHEN {expr} IS NULL OR CAST({expr} AS VARCHAR) = '' THEN "
        f"'missing required field {name.replace(chr(39), chr(39) * 2)}'"
        for name, expr in fields.items()
    )
    return f"(CASE {whens} ELSE NULL END)"
