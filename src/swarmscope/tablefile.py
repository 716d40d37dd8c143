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

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# A formula trigger (OWASP: = + - @ tab CR, plus their full-width forms), optionally after
# leading whitespace, which some spreadsheet imports strip. RE2 syntax (pyarrow.compute).
FORMULA_START = r"^[\s\p{Z}]*[=+\-@\t\r\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}]"
# every first character of a cell FORMULA_START can match: RE2's \s, the Unicode space separators (Z),
# and the formula characters themselves
_FIRST = pa.array(
    ["\t", "\n", "\x0b", "\x0c", "\r", " ", "\u00a0", "\u1680", *map(chr, range(0x2000, 0x200B))]
    + ["\u2028", "\u2029", "\u202f", "\u205f", "\u3000", "=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20"]
)
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def neutralise_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A string column with a leading ``'`` added to every cell a spreadsheet would run as a formula.

    Most columns (account ids, platforms) have no such cell: they are returned as they are, without
    the two copies that quoting costs (about 1.5 s per 10M ids)."""
    first = pc.utf8_slice_codeunits(column, 0, 1)  # a formula starts with one of FIRST: a cheap test first
    if not pc.any(pc.is_in(first, value_set=_FIRST)).as_py():
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
            pacsv.write_csv(csv_safe(join_lists(table, list_sep) if list_sep is not None else table), tmp)
        else:
            pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


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
