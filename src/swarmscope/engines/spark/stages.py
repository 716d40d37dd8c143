"""Run the Spark stages on a dataset and write their compact Parquet outputs under one directory.

``run_stages(spark, dataset, out, networks)`` writes::

    OUT/_swarmscope_spark.json                 what was run: networks and their parameters, row counts
    OUT/coaction_edges/network=<name>/*.parquet one edge table per network (engines/spark/coaction.py)
    OUT/account_half_hours/*.parquet           per-account series (engines/spark/series.py)
    OUT/account_week/*.parquet
    OUT/account_days/*.parquet
    OUT/duplicate_clusters/*.parquet           with ``duplicates=``: near-duplicate clusters (neardup.py)
    OUT/duplicate_members/*.parquet            one row per clustered post
    OUT/duplicate_pairs/*.parquet              verified variant pairs (the evidence of every edge)
    OUT/bursts/*.parquet                       with ``bursts=``: bursts (engines/spark/bursts.py)

The single-machine layers read them with DuckDB
(``read_parquet('OUT/coaction_edges/*/*.parquet', hive_partitioning = true)``).
``OUT`` must be absent, empty, or an output directory written before (its
manifest is there), which is replaced; anything else is refused.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from ...detect.bursts import BurstParams
from ...detect.coaction import CoactionParams
from ...detect.duplicates import DuplicateParams
from .bursts import find_bursts
from .coaction import SplitParams, coaction_edges
from .neardup import near_duplicates
from .series import account_days, account_half_hours, account_week
from .session import dataset_manifest, read_table, use_utc

MANIFEST = "_swarmscope_spark.json"
OUTPUTS = (
    "coaction_edges",
    "account_half_hours",
    "account_week",
    "account_days",
    "duplicate_clusters",
    "duplicate_members",
    "duplicate_pairs",
    "bursts",
)


def _prepare(out: Path) -> None:
    if out.is_dir() and any(out.iterdir()):
        if not (out / MANIFEST).is_file() or any(p.name not in {MANIFEST, *OUTPUTS} for p in out.iterdir()):
            raise ValueError(f"{out}: not empty and not a swarmscope Spark output directory; choose another")
        for name in OUTPUTS:
            shutil.rmtree(out / name, ignore_errors=True)
        (out / MANIFEST).unlink()
    out.mkdir(parents=True, exist_ok=True)


def _write(df: DataFrame, path: Path, files: int | None) -> int:
    if files is not None:
        df = df.coalesce(files)
    df.write.mode("error").parquet(str(path))
    return int(df.sparkSession.read.parquet(str(path)).count())


def _spark_schema(table):
    """Spark's schema for an Arrow table whose naive timestamps are UTC (TIMESTAMP_NTZ, as the dataset)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(table.schema, prefer_timestamp_ntz=True)


def run_stages(
    spark: SparkSession,
    dataset: str | Path,
    out: str | Path,
    networks: dict[str, CoactionParams],
    split: SplitParams | None = None,
    files: int | None = 1,
    *,
    duplicates: DuplicateParams | None = None,
    bursts: BurstParams | None = None,
    burst_group: str | None = "all",
) -> dict:
    """Run co-action (one edge table per entry of ``networks``) and the per-account series on the
    dataset at ``dataset``; write them under ``out`` (module docstring); return the manifest.

    ``files``: Parquet files per output (None: one per Spark partition; 1 suits cases whose outputs
    fit one machine, which is what the campaign layer reads).
    ``duplicates``: also the near-duplicate clusters, members and verified pairs with these parameters
    (as ``swarmscope duplicates``: reposts and forwards left out; no embedding stage).
    ``bursts``: also the bursts with these parameters, per hashtag and, unless ``burst_group`` is None,
    for all posts as one object named ``burst_group`` (as the signals stage)."""
    use_utc(spark)
    dataset_manifest(spark, dataset)  # a complete dataset (a path or a URI), or DatasetError
    out = Path(out)
    _prepare(out)
    split = split or SplitParams()
    rows: dict[str, int] = {}
    actions = read_table(spark, dataset, "actions")
    for name, params in networks.items():
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"network name {name!r}: letters, digits, '-' and '_' only")
        edges = coaction_edges(actions, params, split)
        try:
            rows[f"coaction_edges/{name}"] = _write(edges, out / "coaction_edges" / f"network={name}", files)
        finally:
            edges.unpersist()
    half = account_half_hours(read_table(spark, dataset, "posts")).cache()
    try:
        rows["account_half_hours"] = _write(half, out / "account_half_hours", files)
        rows["account_week"] = _write(account_week(half), out / "account_week", files)
        rows["account_days"] = _write(account_days(half), out / "account_days", files)
    finally:
        half.unpersist()
    extra: dict = {}
    posts = read_table(spark, dataset, "posts")
    if duplicates is not None:
        found = near_duplicates(posts, duplicates)
        rows["duplicate_clusters"] = _write(found.clusters, out / "duplicate_clusters", files)
        rows["duplicate_members"] = _write(found.members, out / "duplicate_members", files)
        rows["duplicate_pairs"] = _write(found.pairs, out / "duplicate_pairs", files)
        extra["duplicates"] = {"params": dataclasses.asdict(duplicates), "counts": found.counts}
    if bursts is not None:
        table = find_bursts(posts, bursts, burst_group)
        rows["bursts"] = _write(spark.createDataFrame(table, schema=_spark_schema(table)), out / "bursts", files)
        extra["bursts"] = {"params": dataclasses.asdict(bursts), "group": burst_group}
    doc = {
        **extra,
        "dataset": str(dataset),
        "networks": {k: dataclasses.asdict(v) for k, v in networks.items()},
        "split": dataclasses.asdict(split),
        "rows": rows,
        "spark_version": spark.version,
        "master": spark.sparkContext.master,
    }
    (out / MANIFEST).write_text(json.dumps(doc, indent=2, sort_keys=True, default=list) + "\n", encoding="utf-8")
    return doc
