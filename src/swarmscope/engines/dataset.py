"""The partitioned posts dataset: the contract between the DuckDB engine and the Spark engine.

``write_dataset(con, directory)`` writes a case's canonical ``posts``,
``accounts`` and ``actions`` tables as Hive-partitioned Parquet with DuckDB's
``COPY ... (FORMAT PARQUET, PARTITION_BY ...)`` (columnar; no Python row
loop)::

    DIR/_swarmscope_dataset.json              the manifest (below)
    DIR/posts/platform=x/day=2024-05-01/data_0.parquet
    DIR/actions/platform=x/day=2024-05-01/data_0.parquet
    DIR/accounts/platform=x/data_0.parquet

- ``posts`` and ``actions`` are partitioned by ``platform`` and ``day`` (the
  UTC date of ``created_at``; a post without a time is in
  ``day=__HIVE_DEFAULT_PARTITION__``, which Spark and DuckDB read as NULL);
  ``accounts`` by ``platform`` only (an account has no day of its own).
- Columns and types are model.py's, in its order; the partition columns are
  in the directory names, not in the files (Hive layout: readers add them
  back). Times are UTC microseconds, stored as Parquet
  ``TIMESTAMP(isAdjustedToUTC=false, MICROS)`` like the case's naive
  ``TIMESTAMP``; ``day`` is a DATE.
- The manifest ``_swarmscope_dataset.json`` records the dataset version, the
  tool version, each table's columns and types, partition columns and row
  count, and ``complete`` (false while writing). A reader refuses a dataset
  whose manifest is missing or not complete.

A directory is written only if it is absent, empty, or holds a dataset
written before (its manifest is there and it holds nothing else than the
manifest and the table folders): that one is replaced. Anything else is
refused, so an export never deletes files it did not write.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from .. import model

DATASET_VERSION = 1
MANIFEST = "_swarmscope_dataset.json"
TABLES = ("posts", "accounts", "actions")
PARTITIONS: dict[str, tuple[str, ...]] = {
    "posts": ("platform", "day"),
    "accounts": ("platform",),
    "actions": ("platform", "day"),
}


class DatasetError(ValueError):
    """A directory that is not (or cannot become) a swarmscope dataset."""


@dataclass(frozen=True)
class DatasetInfo:
    """What ``write_dataset`` wrote: the directory and each table's row count."""

    directory: Path
    rows: dict[str, int]


def _owned(directory: Path) -> bool:
    """Whether ``directory`` holds a dataset written before and nothing else."""
    if not (directory / MANIFEST).is_file():
        return False
    allowed = {MANIFEST, *TABLES}
    return all(p.name in allowed for p in directory.iterdir())


def _prepare(directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        raise DatasetError(f"{directory}: exists and is not a directory")
    if directory.is_dir() and any(directory.iterdir()):
        if not _owned(directory):
            raise DatasetError(
                f"{directory}: not empty and not a swarmscope dataset (no {MANIFEST}, or other files in it); "
                "choose an empty or new directory"
            )
        for name in TABLES:  # a dataset written before: replaced
            if (directory / name).exists():
                shutil.rmtree(directory / name)
    directory.mkdir(parents=True, exist_ok=True)


def _select(name: str) -> str:
    cols = ", ".join(f.name for f in model.TABLES[name])
    if "day" in PARTITIONS[name]:
        return f"SELECT {cols}, CAST(created_at AS DATE) AS day FROM {name}"
    return f"SELECT {cols} FROM {name}"


def _schema(name: str) -> list[dict[str, str]]:
    fields = [{"name": f.name, "type": model.duckdb_type(f.type)} for f in model.TABLES[name]]
    if "day" in PARTITIONS[name]:
        fields.append({"name": "day", "type": "DATE"})
    return fields


def _write_manifest(directory: Path, doc: dict[str, Any]) -> None:
    tmp = directory / (MANIFEST + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(directory / MANIFEST)


def write_dataset(
    con: duckdb.DuckDBPyConnection, directory: str | Path, tables: tuple[str, ...] = TABLES
) -> DatasetInfo:
    """Write the case tables ``tables`` of ``con`` (a case connection) under ``directory`` as the
    partitioned dataset described in this module's docstring; return the row counts.

    Raises DatasetError when ``directory`` is not empty and is not a dataset written before.
    """
    from .. import __version__  # the package root: only its version (no cycle; see test_architecture)

    unknown = [t for t in tables if t not in TABLES]
    if unknown or not tables:
        raise DatasetError(f"unknown table(s) {unknown or '(none)'}; a dataset holds {', '.join(TABLES)}")
    directory = Path(directory)
    _prepare(directory)
    doc: dict[str, Any] = {
        "dataset_version": DATASET_VERSION,
        "tool": "swarmscope",
        "tool_version": __version__,
        "written_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "complete": False,
        "tables": {},
    }
    _write_manifest(directory, doc)
    rows: dict[str, int] = {}
    for name in tables:
        (n,) = con.execute(f"SELECT count(*) FROM {name}").fetchone()  # type: ignore[misc]
        rows[name] = int(n)
        if n:
            target = str(directory / name).replace("'", "''")
            parts = ", ".join(PARTITIONS[name])
            con.execute(f"COPY ({_select(name)}) TO '{target}' (FORMAT PARQUET, PARTITION_BY ({parts}))")
        else:
            (directory / name).mkdir()
        doc["tables"][name] = {"rows": int(n), "partition_by": list(PARTITIONS[name]), "columns": _schema(name)}
    doc["complete"] = True
    _write_manifest(directory, doc)
    return DatasetInfo(directory, rows)


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The manifest of a complete dataset on a local file system; DatasetError for a missing, unfinished
    or newer one. (engines/spark/session.py reads one on object storage through Spark.)"""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        raise DatasetError(f"{directory}: not a swarmscope dataset (no {MANIFEST}); write one with write_dataset")
    return parse_manifest(path.read_text(encoding="utf-8"), directory)


def parse_manifest(text: str, directory: str | Path) -> dict[str, Any]:
    """The manifest ``text`` of the dataset at ``directory``, checked (see ``read_manifest``)."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise DatasetError(f"{directory}: its {MANIFEST} is not JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise DatasetError(f"{directory}: its {MANIFEST} is not a JSON object")
    if not doc.get("complete"):
        raise DatasetError(f"{directory}: the dataset was not written to the end; write it again")
    if doc.get("dataset_version") != DATASET_VERSION:
        raise DatasetError(f"{directory}: dataset version {doc.get('dataset_version')}, expected {DATASET_VERSION}")
    return doc
