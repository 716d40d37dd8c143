"""CSV and Parquet tables of a run's campaigns, safe to open in a spreadsheet.

Post text, handles and display names are written by the accounts under
investigation. A cell that starts with ``=``, ``+``, ``-`` or ``@`` is run as
a formula by Excel, LibreOffice and Google Sheets (CSV injection, e.g.
``=HYPERLINK("http://evil","x")``). Following OWASP's advice, ``write_table``
puts a single quote in front of any such CSV string cell: the spreadsheet
then shows the text instead of running it. Parquet files keep the exact
values, because spreadsheets do not open Parquet and analysts need the
original text.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

# A formula trigger (OWASP: = + - @ tab CR, plus their full-width forms), optionally after
# leading whitespace, which some spreadsheet imports strip. RE2 syntax (pyarrow.compute).
FORMULA_START = r"^[\s\p{Z}]*[=+\-@\t\r\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}]"
CSV_SUFFIXES = (".csv",)
PARQUET_SUFFIXES = (".parquet", ".pq")


def _is_text(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def neutralise_formulas(column: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A string column with a leading ``'`` added to every cell a spreadsheet would run as a formula."""
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
            raise ValueError(f"column {field.name!r} is {t}: CSV holds flat columns only; "
                             "write Parquet, or join the values into a string first")
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



def write_parquet_batches(batches: Iterable[pa.RecordBatch], path: str | Path,
                          as_written: Callable[[pa.RecordBatch], pa.RecordBatch] | None = None,
                          plain_columns: tuple[str, ...] = (),
                          **writer_options: Any) -> list[pa.RecordBatch]:
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
        except BaseException as e:  # noqa: BLE001 - handed to the producer's thread
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

ACCOUNTS = pa.schema([
    pa.field("campaign_id", pa.string()), pa.field("campaign_score", pa.float64()),
    pa.field("platform", pa.string()), pa.field("account_id", pa.string()),
    pa.field("handle", pa.string()), pa.field("display_name", pa.string()),
    pa.field("role", pa.string()), pa.field("signals", pa.string()),  # signal ids, ';'-joined
])
SIGNALS = pa.schema([
    pa.field("campaign_id", pa.string()), pa.field("signal_id", pa.string()), pa.field("type", pa.string()),
    pa.field("summary", pa.string()), pa.field("test", pa.string()),
    pa.field("accounts", pa.int64()), pa.field("evidence_posts", pa.int64()),
    pa.field("figures", pa.string()),  # JSON text: the figures differ by signal type
])
EVIDENCE = pa.schema([
    pa.field("campaign_id", pa.string()), pa.field("signal_id", pa.string()),
    pa.field("platform", pa.string()), pa.field("post_id", pa.string()), pa.field("time", pa.string()),
])


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _signals_of(campaign: Mapping[str, Any], signals: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    wanted = set(campaign.get("signals") or [])
    cid = campaign.get("id")
    return [s for s in signals if s.get("id") in wanted or (cid is not None and s.get("campaign") == cid)]


def campaign_tables(findings: Mapping[str, Any]) -> dict[str, pa.Table]:
    """Per-campaign tables from a findings.json dict: ``accounts``, ``signals`` and ``evidence``.

    Every row carries its ``campaign_id``. A signal that two campaigns cite is
    listed under each, so one campaign's rows are the whole story. ``evidence``
    has one row per evidence post, with its time when the signal gives one
    time per post.
    """
    signals = list(findings.get("signals") or [])
    acc: dict[str, list] = {f.name: [] for f in ACCOUNTS}
    sig: dict[str, list] = {f.name: [] for f in SIGNALS}
    ev: dict[str, list] = {f.name: [] for f in EVIDENCE}
    for campaign in findings.get("campaigns") or []:
        cid = _str(campaign.get("id"))
        for a in campaign.get("accounts") or []:
            row = {"campaign_id": cid, "campaign_score": campaign.get("score"),
                   "platform": _str(a.get("platform")), "account_id": _str(a.get("account_id")),
                   "handle": _str(a.get("handle")), "display_name": _str(a.get("display_name")),
                   "role": _str(a.get("role")), "signals": ";".join(map(str, a.get("signals") or []))}
            for k, v in row.items():
                acc[k].append(v)
        for s in _signals_of(campaign, signals):
            evidence = s.get("evidence") or {}
            post_ids = evidence.get("post_ids") or []
            times = evidence.get("times") or []
            paired = len(times) == len(post_ids)
            row = {"campaign_id": cid, "signal_id": _str(s.get("id")), "type": _str(s.get("type")),
                   "summary": _str(s.get("summary")), "test": _str(s.get("test")),
                   "accounts": len(s.get("accounts") or []), "evidence_posts": len(post_ids),
                   "figures": json.dumps(s.get("figures") or {}, ensure_ascii=False, sort_keys=True)}
            for k, v in row.items():
                sig[k].append(v)
            for i, (platform, post_id) in enumerate(post_ids):
                ev["campaign_id"].append(cid)
                ev["signal_id"].append(row["signal_id"])
                ev["platform"].append(_str(platform))
                ev["post_id"].append(_str(post_id))
                ev["time"].append(_str(times[i]) if paired else None)
    return {"accounts": pa.table(acc, schema=ACCOUNTS), "signals": pa.table(sig, schema=SIGNALS),
            "evidence": pa.table(ev, schema=EVIDENCE)}


LABELS = pa.schema([
    pa.field("label_id", pa.string()), pa.field("target_type", pa.string()), pa.field("platform", pa.string()),
    pa.field("target_id", pa.string()), pa.field("label", pa.string()), pa.field("note", pa.string()),
    pa.field("author", pa.string()), pa.field("created_at", pa.timestamp("us")),
    pa.field("members", pa.string()),  # campaign label: JSON list of [platform, account_id]
    pa.field("run_id", pa.string()), pa.field("current", pa.bool_()),
    pa.field("campaign", pa.string()),  # the campaign of these findings a current campaign label applies to
    pa.field("overlap", pa.float64()),  # Jaccard overlap of its members with that campaign's
])


def labels_table(rows: list[Mapping[str, Any]]) -> pa.Table:
    """Analyst labels (labels.label_rows) as a flat table, one row per label, history included."""
    cols: dict[str, list] = {f.name: [] for f in LABELS}
    for r in rows:
        for name in cols:
            v = r.get(name)
            if name == "members":
                v = None if v is None else json.dumps(v, ensure_ascii=False)
            elif name == "created_at" and isinstance(v, str):
                v = dt.datetime.fromisoformat(v)
            cols[name].append(v)
    return pa.table(cols, schema=LABELS)


def write_campaign_tables(findings: Mapping[str, Any], directory: str | Path, fmt: str = "csv",
                          labels: list[Mapping[str, Any]] | None = None) -> dict[str, Path]:
    """``campaign_tables`` written as ``accounts.<fmt>``, ``signals.<fmt>``, ``evidence.<fmt>`` in ``directory``;
    with ``labels`` (labels.label_rows) also ``labels.<fmt>``."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"table format must be 'csv' or 'parquet', got {fmt!r}")
    directory = Path(directory)
    tables = campaign_tables(findings)
    if labels is not None:
        tables["labels"] = labels_table(labels)
    return {name: write_table(t, directory / f"{name}.{fmt}") for name, t in tables.items()}
