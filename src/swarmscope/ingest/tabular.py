"""Streaming CSV reading shared by the tabular importers, and the SQL pieces they share.

Why not DuckDB ``read_csv`` or pyarrow's streaming reader alone: once a bad
row was skipped, neither tells the record number of the rows it keeps
(DuckDB's reject table names physical lines of the rejects only; pyarrow's
streaming ``invalid_row_handler`` gets no row number at all). Analysts need
the record number of every stored post and every quarantined row, so:

1. numpy finds record boundaries in a large binary chunk: a newline ends a
   record when the number of quote characters before it is even (RFC 4180
   doubles quotes inside quoted fields, so a quoted newline is never a
   boundary). Memory stays at about two chunks whatever the file size.
2. Each record gets its number, its raw text (for excerpts), a size check
   and a UTF-8 check, column-wise (Arrow cast; DuckDB ``try(decode())`` only
   for a chunk that holds bad bytes).
3. pyarrow parses the chunk's fields serially, so its invalid-row handler
   reports the position of a ragged row within the chunk.
4. The importer transforms the string columns in DuckDB SQL.

Record numbers are data-row numbers: the first row after the header is
record 1; blank lines are skipped and not numbered (as pyarrow does). The
header row itself is read by csvheader.py.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from .. import model
from ..duck import quiet
from .base import Batch, Quarantine, ReadOptions, make_batch
from .compressed import open_input
from .csvheader import FileProblem, Header, first_record_end, read_header
from .csvheader import header_names as header_names  # the importers' sniffers call t.header_names

RECORD = "__record"
RAW = "__raw"
_QUOTE = ord('"')
_NL = ord("\n")


@dataclass
class RowChunk:
    rows: pa.Table  # one string column per header name + RECORD (int64) + RAW (string)
    bytes_done: int


def iter_rows(path: Path, header: Header, q: Quarantine, options: ReadOptions) -> Iterator[RowChunk]:
    """Parsed rows of the CSV at ``path``, chunk by chunk; bad records go to ``q``."""
    max_rec = options.max_record_bytes
    chunk_bytes = max(1 << 16, min(options.batch_bytes, max_rec)) if max_rec else options.batch_bytes
    next_record = 1  # number of the next non-blank record
    carry = b""
    skipping = False  # inside an oversized record, dropping bytes until it ends
    skip_parity = 0
    done = header.data_offset
    with open_input(path) as fh:
        fh.seek(header.data_offset)
        while True:
            block = fh.read(chunk_bytes)
            done += len(block)
            if not block:
                break
            if skipping:
                end = first_record_end(block, skip_parity)
                if end < 0:
                    skip_parity = (skip_parity + block.count(b'"')) % 2
                    continue
                block, skipping = block[end + 1 :], False
            data = carry + block
            ends = _record_ends(data)
            if len(ends):
                last = int(ends[-1])
                carry = data[last + 1 :]
                chunk = _parse(data[: last + 1], ends, next_record, header, q, max_rec)
                next_record += chunk.pop("count")
                if chunk["table"] is not None:
                    yield RowChunk(chunk["table"], done - len(carry))
            else:
                carry = data
            if max_rec and len(carry) > max_rec:
                reason = f"record longer than the maximum record size ({max_rec:,} bytes); skipped"
                if carry.count(b'"') % 2:
                    reason += " (an unterminated quoted field: is there a stray '\"' in an unquoted field?)"
                q.add(next_record, reason, carry[:2000])
                next_record += 1
                skip_parity = carry.count(b'"') % 2
                carry, skipping = b"", True
    if carry.strip() and not skipping:
        data = carry if carry.endswith(b"\n") else carry + b"\n"
        chunk = _parse(data, _record_ends(data, final=True), next_record, header, q, max_rec)
        if chunk["table"] is not None:
            yield RowChunk(chunk["table"], done)


def _record_ends(data: bytes, final: bool = False) -> np.ndarray:
    arr = np.frombuffer(data, np.uint8)
    nl = np.flatnonzero(arr == _NL)
    quotes = np.flatnonzero(arr == _QUOTE)
    ends = nl[np.searchsorted(quotes, nl) % 2 == 0]
    if final and (not len(ends) or ends[-1] != len(data) - 1):
        ends = np.append(ends, len(data) - 1)  # an unterminated quote at end of file: one last record
    return ends


def _parse(data: bytes, ends: np.ndarray, first: int, header: Header, q: Quarantine, max_rec: int) -> dict:
    """Parse the complete records in ``data`` (each ends at an index of ``ends``)."""
    starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
    body_len = ends - starts  # without the newline
    last_byte = np.frombuffer(data, np.uint8)[np.maximum(ends - 1, 0)]
    blank = (body_len == 0) | ((body_len == 1) & (last_byte == ord("\r")))
    offsets = np.concatenate((starts, [len(data)])).astype(np.int32)
    records = pa.BinaryArray.from_buffers(pa.binary(), len(starts), [None, pa.py_buffer(offsets), pa.py_buffer(data)])
    keep = ~blank
    numbers = np.zeros(len(starts), np.int64)
    numbers[keep] = first + np.arange(int(keep.sum()), dtype=np.int64)
    count = int(keep.sum())
    if max_rec:
        big = keep & (body_len > max_rec)
        for i in np.flatnonzero(big):  # rare: only oversized records
            q.add(
                int(numbers[i]),
                f"record longer than the maximum record size ({max_rec:,} bytes); skipped",
                data[starts[i] : starts[i] + 2000],
            )
        keep &= ~big
    records = records.filter(pa.array(keep))
    numbers = numbers[keep]
    try:
        text = records.cast(pa.string())
    except pa.ArrowInvalid:  # some record is not UTF-8: find which, column-wise in DuckDB
        con = quiet(duckdb.connect())
        con.register("_r", pa.table({"n": numbers, "b": records}))
        bad = con.sql("SELECT n, b FROM _r WHERE try(decode(b)) IS NULL").fetchall()
        con.close()
        for n, b in bad:
            q.add(int(n), _encoding_reason(bytes(b)), bytes(b))
        good = ~np.isin(numbers, [n for n, _ in bad])
        records, numbers = records.filter(pa.array(good)), numbers[good]
        text = records.cast(pa.string())
    if not len(numbers):
        return {"table": None, "count": count}
    table = _fields(records, text, numbers, header, q)
    return {"table": table, "count": count}


def _encoding_reason(raw: bytes) -> str:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"wrong encoding: not valid UTF-8 ({e.reason} at byte {e.start} of the record)"
    return "wrong encoding: not valid UTF-8"


def _fields(
    records: pa.BinaryArray, text: pa.StringArray, numbers: np.ndarray, header: Header, q: Quarantine
) -> pa.Table | None:
    """Split each record into the header's columns; ragged rows go to quarantine."""
    names = list(header.names)
    buf = records.buffers()
    offsets = np.frombuffer(buf[1], np.int32)[records.offset : records.offset + len(records) + 1]
    payload = buf[2].slice(int(offsets[0]), int(offsets[-1] - offsets[0]))  # no copy
    rejected: list[tuple[int | None, int, int, str]] = []

    def on_bad(row: pacsv.InvalidRow) -> str:
        rejected.append((row.number, row.expected_columns, row.actual_columns, row.text))
        return "skip"

    try:
        table = pacsv.read_csv(
            pa.BufferReader(payload),
            read_options=pacsv.ReadOptions(
                column_names=names, use_threads=False, block_size=max(payload.size + 1, 1 << 20)
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=header.delimiter,
                quote_char='"',
                double_quote=True,
                escape_char=False,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=on_bad,
            ),
            convert_options=pacsv.ConvertOptions(
                column_types={n: pa.string() for n in names},
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid:
        table, rejected = None, []
    if table is None or table.num_rows + len(rejected) != len(numbers) or any(r[0] is None for r in rejected):
        # pyarrow split the records differently (a '"' inside an unquoted field, a bare CR):
        # fall back to one record at a time, only for this chunk.
        return _fields_slow(text, numbers, header, q)
    keep = np.ones(len(numbers), bool)
    for number, expected, actual, row_text in rejected:
        keep[number - 1] = False
        q.add(int(numbers[number - 1]), f"malformed CSV row: expected {expected} fields, found {actual}", row_text)
    if not keep.all():
        mask = pa.array(keep)
        text, numbers = text.filter(mask), numbers[keep]
    return table.append_column(RECORD, pa.array(numbers, pa.int64())).append_column(RAW, text)


def _fields_slow(text: pa.StringArray, numbers: np.ndarray, header: Header, q: Quarantine) -> pa.Table | None:
    n_cols = len(header.names)
    cols: list[list[str]] = [[] for _ in range(n_cols)]
    kept_numbers, kept_raw = [], []
    for number, raw in zip(numbers.tolist(), text.to_pylist()):
        try:
            rows = list(csv.reader(io.StringIO(raw.rstrip("\r\n")), delimiter=header.delimiter, strict=True))
        except csv.Error as e:
            q.add(number, f"malformed CSV row: {e}", raw)
            continue
        if len(rows) != 1 or len(rows[0]) != n_cols:
            found = len(rows[0]) if len(rows) == 1 else f"{len(rows)} rows"
            q.add(number, f"malformed CSV row: expected {n_cols} fields, found {found}", raw)
            continue
        for c, v in zip(cols, rows[0]):
            c.append(v)
        kept_numbers.append(number)
        kept_raw.append(raw)
    if not kept_numbers:
        return None
    arrays = {n: pa.array(c, pa.string()) for n, c in zip(header.names, cols)}
    arrays[RECORD] = pa.array(kept_numbers, pa.int64())
    arrays[RAW] = pa.array(kept_raw, pa.string())
    return pa.table(arrays)


def problem_batch(path: Path, reason: str) -> Batch:
    """A batch holding one quarantine row for a file that cannot be read as the format."""
    q = Quarantine(str(path))
    with open_input(path) as fh:
        q.add(None, reason, fh.read(model.EXCERPT_CHARS))
    return make_batch(None, None, q, path.stat().st_size)


# -- SQL pieces -------------------------------------------------------------


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def literal(text: str) -> str:
    """``text`` as an SQL string literal (a header name may hold a quote)."""
    return "'" + text.replace("'", "''") + "'"


def field(header: Header, name: str) -> str:
    """SQL for a source column as trimmed text, NULL where empty or absent."""
    actual = header.find(name)
    return f"nullif(trim({ident(actual)}), '')" if actual else "CAST(NULL AS VARCHAR)"


def first_field(header: Header, *names: str) -> str:
    exprs = [field(header, n) for n in names if header.find(n)]
    return f"coalesce({', '.join(exprs)})" if exprs else "CAST(NULL AS VARCHAR)"


def text_field(header: Header, name: str) -> str:
    """SQL for a free-text column kept verbatim (no trimming); NULL where empty or absent."""
    actual = header.find(name)
    return f"nullif({ident(actual)}, '')" if actual else "CAST(NULL AS VARCHAR)"


def epoch(expr: str, millis_heuristic: bool = False) -> str:
    """SQL turning POSIX seconds written as decimal text into a naive UTC TIMESTAMP, exact to the µs.

    Parsed digit by digit (not through a double), so "1623881091.123456" is
    exactly .123456; more digits are rounded to the microsecond. With
    ``millis_heuristic`` a value of 1e11 or more (year 5138 in seconds) is read
    as milliseconds, as JavaScript-based exporters write them.
    """
    s = f"trim({expr})"
    scale = (
        f"CASE WHEN abs(TRY_CAST(split_part({s}, '.', 1) AS BIGINT)) >= 100000000000 THEN 1000 ELSE 1 END"
        if millis_heuristic
        else "1"
    )
    micros = (
        f"(TRY_CAST(split_part({s}, '.', 1) AS BIGINT) * 1000000"
        f" + (CASE WHEN starts_with({s}, '-') THEN -1 ELSE 1 END)"
        f" * ((CAST(rpad(left(split_part({s}, '.', 2), 7), 7, '0') AS BIGINT) + 5) // 10))"
    )
    return (
        f"(CASE WHEN regexp_full_match({s}, '-?[0-9]{{1,15}}(\\.[0-9]*)?')"
        f" THEN try(make_timestamp(CAST({micros} // ({scale}) AS BIGINT)))"
        f" WHEN regexp_full_match({s}, '-?[0-9]*\\.?[0-9]+[eE][-+]?[0-9]+')"
        f" THEN try(make_timestamp(CAST(round(TRY_CAST({s} AS DOUBLE) * 1000000) AS BIGINT))) END)"
    )


_TEXT_FORMATS = "['%m/%d/%Y %H:%M:%S', '%m/%d/%Y %H:%M', '%m/%d/%Y', '%d.%m.%Y %H:%M:%S', '%d.%m.%Y']"


def text_time(expr: str) -> str:
    """SQL turning a date/time string into a naive UTC TIMESTAMP.

    ISO 8601 with an offset or 'Z' is converted to UTC; without a zone it is
    taken as UTC. US-style "7/17/2019" (older X archive files) is accepted too.
    """
    return f"coalesce(TRY_CAST({expr} AS TIMESTAMPTZ) AT TIME ZONE 'UTC', try_strptime({expr}, {_TEXT_FORMATS}))"


def any_time(expr: str, millis_heuristic: bool = False) -> str:
    """SQL: POSIX seconds when ``expr`` is a number, else a date/time string."""
    return (
        f"(CASE WHEN regexp_full_match(trim({expr}), '-?[0-9.]+([eE][-+]?[0-9]+)?')"
        f" THEN {epoch(expr, millis_heuristic)} ELSE {text_time(expr)} END)"
    )


def list_of(expr: str, sep: str = ",", strip: str = "") -> str:
    """SQL turning a list written as text into VARCHAR[].

    Accepts a JSON or Python list literal ("['a', 'b']", '["a","b"]'), a
    bracketed bare list ("[a, b]", as the X archive writes them) or items
    separated by the regular expression ``sep``. Items are trimmed, ``strip``
    characters are removed from their start, empty items dropped.
    """
    s = f"trim({expr})"
    items = (
        f"CASE WHEN regexp_full_match({s}, '\\[.*\\]') AND regexp_matches({s}, '^\\[\\s*[''\"]')"
        f" THEN regexp_extract_all({s}, '[''\"]([^''\"]*)[''\"]', 1)"
        f" WHEN regexp_full_match({s}, '\\[.*\\]') THEN string_split_regex(trim({s}, '[]'), ',')"
        f" ELSE string_split_regex({s}, '{sep}') END"
    )
    clean = f"ltrim(trim(x), '{strip}')" if strip else "trim(x)"
    return (
        f"(CASE WHEN {s} IS NULL OR {s} = '' THEN CAST(NULL AS VARCHAR[]) ELSE"
        f" list_filter(list_transform({items}, lambda x: {clean}), lambda x: x <> '') END)"
    )


def integer(expr: str) -> str:
    """SQL for a count written as text ("12", "12.0"); NULL where not a number."""
    return f"TRY_CAST(TRY_CAST({expr} AS DOUBLE) AS BIGINT)"


def truthy(expr: str) -> str:
    return f"(lower(trim(coalesce({expr}, ''))) IN ('true', 't', '1', 'yes', 'y'))"


# -- the read loop every CSV importer shares -----------------------------------


def stage(con: duckdb.DuckDBPyConnection, q: Quarantine, select_sql: str, checks: list[str]) -> None:
    """Build ``_stage`` from ``select_sql`` (which must carry ``record`` and ``raw``), then
    quarantine the rows each check SQL (a reason or NULL) flags, in order."""
    from .jsonsql import quarantine_where

    con.execute(f"CREATE OR REPLACE TEMP TABLE _stage AS {select_sql}")
    for reason in checks:
        quarantine_where(con, q, "_stage", reason, "raw")


def drive(
    path: Path,
    options: ReadOptions,
    check: Callable[[Header], None],
    transform: Callable[[duckdb.DuckDBPyConnection, Header, Quarantine], dict],
) -> Iterator[Batch]:
    """Read ``path`` chunk by chunk: ``check(header)`` raises FileProblem for a file that is
    not the format; ``transform(con, header, q)`` turns the registered ``_rows`` into
    ``make_batch`` keyword arguments (posts, accounts, extra_actions, record_kind)."""
    from .. import store

    q = Quarantine(str(path))
    try:
        header = read_header(path, options.max_record_bytes)
        check(header)
    except FileProblem as e:
        yield problem_batch(path, str(e))
        return
    con = store.connect()
    try:
        for chunk in iter_rows(path, header, q, options):
            con.register("_rows", chunk.rows)
            parts = transform(con, header, q)
            con.unregister("_rows")
            yield make_batch(
                parts.get("posts"),
                parts.get("accounts"),
                q,
                chunk.bytes_done,
                extra_actions=parts.get("extra_actions"),
                record_kind=parts.get("record_kind", "posts"),
            )
        if len(q):  # bad records after the last good chunk
            yield make_batch(None, None, q, path.stat().st_size)
    finally:
        con.close()


def require_columns(header: Header, names: list[str], fmt: str) -> None:
    missing = [n for n in names if header.find(n) is None]
    if missing:
        raise FileProblem(
            f"not a {fmt} file: missing column(s) {', '.join(missing)}; found {', '.join(header.names[:20])}"
        )
