"""Writing tables safely: CSV that a spreadsheet opens without running formulas, Parquet in batches.

Post text, handles and display names are written by the accounts under
investigation. A cell that starts with ``=``, ``+``, ``-`` or ``@`` is run as
a formula by Excel, LibreOffice and Google Sheets (CSV injection, e.g.
``=HYPERLINK("http://evil","x")``). Following OWASP's advice, ``write_table``
puts a single quote in front of any such CSV string cell: the spreadsheet
then shows the text instead of running it. Parquet files keep the exact
values, because spreadsheets do not open Parquet and analysts need the
original text.

A foundation module: the case-level steps (duplicates, network), the
report's campaign tables and the workbench's downloads all write through it.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .parallel import in_order

# A formula trigger (OWASP: = + - @ tab CR, plus their full-width forms), optionally after
# leading whitespace, which some spreadsheet imports strip. RE2 syntax (pyarrow.compute).
FORMULA_START = r"^[\s\p{Z}]*[=+\-@\t\r\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}]"
# every first character of a cell FORMULA_START can match: RE2's \s, the Unicode space separators (Z),
# and the formula characters themselves
_FIRST = pa.array(
    ["\t", "\n", "\x0b", "\x0c", "\r", " ", "\u00a0", "\u1680", *map(chr, range(0x2000, 0x200B))]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"]
)
_FIRST_BYTES = np.zeros(256, dtype=bool)
_FIRST_BYTES[list({c.encode("utf-8")[0] for c in _FIRST.to_pylist()})] = True
CSV_SUFFIXES = (".csv",)
CSV_SLICE_BYTES = 16 << 20  # of Arrow data per slice of a CSV written in parallel
PARQUET_SUFFIXES = (".parquet", ".pq")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _first_bytes_may_match(chunk: pa.Array) -> bool:
    """Whether a cell of ``chunk`` (string or large string) may start with one of _FIRST, read from
    the first UTF-8 byte of every non-empty cell: one gather, no copy of the strings. A superset test:
    its bytes include the lead byte of every multi-byte character of _FIRST."""
    if len(chunk) == 0:
        return False
    _, offsets_buf, data_buf = chunk.buffers()
    if data_buf is None:
        return False
    width = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    offsets = np.frombuffer(offsets_buf, dtype=width, count=len(chunk) + 1, offset=chunk.offset * width().itemsize)
    starts = offsets[:-1][offsets[1:] > offsets[:-1]]
    return bool(_FIRST_BYTES[np.frombuffer(data_buf, dtype=np.uint8)[starts]].any())


def _may_start_formula(column: pa.Array | pa.ChunkedArray) -> bool:
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return any(_first_bytes_may_match(c) for c in chunks)


def neutralise_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A string column with a leading ``'`` added to every cell a spreadsheet would run as a formula.

    Most columns (account ids, platforms) have no such cell: they are returned as they are, without
    the two copies that quoting costs (about 1.5 s per 10M ids)."""
    if not _may_start_formula(column):  # a formula starts with one of _FIRST: a cheap test first
        return column
    flagged = pc.match_substring_regex(column, FORMULA_START)
    quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column, pa.scalar("", column.type))
    return pc.if_else(flagged, quoted, column)


def _neutralise_name(name: str) -> str:
    hit = pc.match_substring_regex(pa.array([name]), FORMULA_START)[0].as_py()
    return "'" + name if hit else name


def csv_safe(table: pa.Table) -> pa.Table:
    """The table with every string column (and header) neutralised; nested columns are refused."""
    columns, names = [], []
    for field, column in zip(table.schema, table.columns):
        t = field.type
        if pa.types.is_dictionary(t) and _is_text(t.value_type):
            column, t = column.cast(t.value_type), t.value_type
        if pa.types.is_nested(t):
            raise ValueError(
                f"column {field.name!r} is {t}: CSV holds flat columns only; "
                "write Parquet, or join the values into a string first"
            )
        columns.append(neutralise_formulas(column) if _is_text(t) else column)
        names.append(_neutralise_name(field.name))
    return pa.table(columns, names=names)


def join_lists(table: pa.Table, sep: str = ";") -> pa.Table:
    """List columns of flat values joined into ``sep``-separated strings (for CSV); others untouched."""
    columns = []
    for field, column in zip(table.schema, table.columns):
        if pa.types.is_list(field.type) or pa.types.is_large_list(field.type):
            inner = field.type.value_type
            if not _is_text(inner):
                column = column.cast(pa.list_(pa.string()))
            column = pc.binary_join(column, sep)
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def write_table(table: pa.Table, path: str | Path, list_sep: str | None = None) -> Path:
    """Write ``table`` as CSV (formula-neutralised) or Parquet (exact), chosen by the file suffix.

    ``list_sep``: for CSV, join list columns with it (else a list column is an error).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise ValueError(f"{path}: unknown table format {path.suffix!r}; use .csv, .parquet or .pq")
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write next to the target and rename, so a failed export never leaves half a file.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        if suffix in CSV_SUFFIXES:
            _write_csv(join_lists(table, list_sep) if list_sep is not None else table, tmp)
        else:
            pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _csv_bytes(part: tuple[pa.Table, bool]) -> pa.Buffer:
    table, header = part
    out = pa.BufferOutputStream()
    pacsv.write_csv(csv_safe(table), out, pacsv.WriteOptions(include_header=header))
    return out.getvalue()


def _write_csv(table: pa.Table, path: str) -> None:
    """``table`` as formula-safe CSV, in slices of about CSV_SLICE_BYTES neutralised and formatted on
    THREADS threads (pyarrow's writer releases the GIL) and written in order: the same bytes as one
    ``write_csv`` of the whole table, in about half the time on two cores (14.7M edges: 6.2 -> 3 s)."""
    n = table.num_rows
    step = max(1024, int(CSV_SLICE_BYTES * n / max(table.nbytes, 1)))
    parts = [(table.slice(i, step), i == 0) for i in range(0, n, step)] or [(table, True)]
    with open(path, "wb") as f:
        for data in in_order(_csv_bytes, parts):
            f.write(data)


def write_parquet_batches(
    batches: Iterable[pa.RecordBatch],
    path: str | Path,
    as_written: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
    plain_columns: tuple[str, ...] = (),
    **writer_options: Any,
) -> list[pa.RecordBatch]:
    """Write record batches to Parquet as they come, on a second thread; returns the batches.

    The producer builds batch k+1 while batch k is encoded and compressed
    (pyarrow's writer releases the GIL), so a large table costs about the
    longer of the two rather than their sum. One row group per batch. As
    write_table: written next to the target and renamed, so a failure leaves
    no half file. ``as_written``: the form a batch is written in (the same
    values in cheaper-to-encode types; the batches returned are the originals).
    ``plain_columns``: written without dictionary encoding (many distinct
    values: hashing them costs more than it saves). ``writer_options`` go to
    pyarrow's ParquetWriter.
    """
    path = Path(path)
    if path.suffix.lower() not in PARQUET_SUFFIXES:
        raise ValueError(f"{path}: not a Parquet file name; use .parquet or .pq")
    path.parent.mkdir(parents=True, exist_ok=True)
    it = iter(batches)
    first = next(it)
    shape = as_written or (lambda b: b)
    schema = shape(first).schema
    if plain_columns:
        writer_options["use_dictionary"] = [c for c in schema.names if c not in plain_columns]
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    todo: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=2)
    failed: list[BaseException] = []

    def write() -> None:
        try:
            with pq.ParquetWriter(tmp, schema, **writer_options) as writer:
                while (batch := todo.get()) is not None:
                    writer.write_batch(batch, row_group_size=max(batch.num_rows, 1))
        except BaseException as e:  # handed to the producer's thread, raised there
            failed.append(e)
            while todo.get() is not None:  # keep the producer from blocking
                pass

    thread = threading.Thread(target=write, name="parquet-writer", daemon=True)
    thread.start()
    out: list[pa.RecordBatch] = []
    try:
        for batch in _chain(first, it):
            out.append(batch)
            todo.put(shape(batch))
    except BaseException:
        todo.put(None)
        thread.join()
        Path(tmp).unlink(missing_ok=True)
        raise
    todo.put(None)
    thread.join()
    if failed:
        Path(tmp).unlink(missing_ok=True)
        raise failed[0]
    os.replace(tmp, path)
    return out


def _chain(first: pa.RecordBatch, rest: Iterable[pa.RecordBatch]) -> Iterable[pa.RecordBatch]:
    yield first
    yield from rest
