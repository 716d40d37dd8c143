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
    OUT/actions/*.parquet                      with ``actions=True``: the posts' actions as enrichment
                                               derives them (engines/spark/actions.py)

The single-machine layers read them with DuckDB
(``read_parquet('OUT/coaction_edges/*/*.parquet', hive_partitioning = true)``).
``OUT`` is a local path or a URI (``s3a://bucket/out``: written through
Spark's writers and Hadoop's FileSystem API, like a dataset at a URI is
read). It must be absent, empty, or an output directory written before
(finished or stopped part way: only the names above in it), which is
replaced; anything else is refused. The manifest is written last, whole,
then renamed into place: an output with a manifest is complete.
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
from .actions import enrich_actions
from .bursts import find_bursts
from .coaction import SplitParams, coaction_edges
from .neardup import near_duplicates
from .series import account_days, account_half_hours, account_week
from .session import dataset_manifest, is_uri, read_table, use_utc

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
    "actions",
)


class _LocalOut:
    """The output folder on this machine's file system (one every executor sees)."""

    def __init__(self, out: str | Path) -> None:
        self.out = Path(out)

    def path(self, name: str) -> str:
        return str(self.out / name)

    def prepare(self) -> None:
        out = self.out
        if out.exists() and not out.is_dir():
            raise ValueError(f"{out}: a file, not a folder; choose another output folder")
        if out.is_dir() and any(out.iterdir()):
            _check_names(out, [p.name for p in out.iterdir()])
            (out / MANIFEST).unlink(missing_ok=True)  # first: a folder without one is an unfinished output
            for name in OUTPUTS:
                shutil.rmtree(out / name, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)

    def write_manifest(self, text: str) -> None:
        tmp = self.out / (MANIFEST + ".tmp")  # written whole, then renamed: a manifest means a complete output
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(self.out / MANIFEST)


class _HadoopOut:
    """The output folder at a URI (``s3a://``, ``gs://``, ``abfss://``, ``hdfs://``, ``file://``), through
    Hadoop's FileSystem API in the driver's JVM, as the dataset's manifest is read (session.py): the
    executors write the Parquet files with Spark's own writers, the driver lists, deletes and writes
    the manifest."""

    def __init__(self, spark: SparkSession, out: str) -> None:
        self.out = out.rstrip("/")
        self._jvm = spark.sparkContext._jvm
        self._root = self._jvm.org.apache.hadoop.fs.Path(self.out)
        try:
            self._fs = self._root.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        except Exception as exc:  # Py4JJavaError: no file system for the scheme
            raise ValueError(f"{out}: not writable ({str(exc).splitlines()[0]})") from None

    def path(self, name: str) -> str:
        return f"{self.out}/{name}"

    def _p(self, name: str):
        return self._jvm.org.apache.hadoop.fs.Path(self.path(name))

    def prepare(self) -> None:
        fs, root = self._fs, self._root
        if fs.exists(root):
            if not fs.getFileStatus(root).isDirectory():
                raise ValueError(f"{self.out}: a file, not a folder; choose another output folder")
            names = [s.getPath().getName() for s in fs.listStatus(root)]
            if names:
                _check_names(self.out, names)
                fs.delete(self._p(MANIFEST), False)  # first: a folder without one is an unfinished output
                for name in names:
                    fs.delete(self._p(name), True)
        fs.mkdirs(root)

    def write_manifest(self, text: str) -> None:
        tmp, final = self._p(MANIFEST + ".tmp"), self._p(MANIFEST)
        stream = self._fs.create(tmp, True)
        try:
            stream.write(bytearray(text.encode("utf-8")))
        finally:
            stream.close()
        self._fs.delete(final, False)
        if not self._fs.rename(tmp, final):
            raise OSError(f"{self.out}: could not rename {MANIFEST}.tmp to {MANIFEST}")


def _check_names(out: str | Path, names: list[str]) -> None:
    """A non-empty output folder is replaced only when it holds a previous output, finished or not (a run
    stopped part way leaves outputs without a manifest, or its ``.tmp``), and nothing else."""
    if any(n not in {MANIFEST, MANIFEST + ".tmp", *OUTPUTS} for n in names):
        raise ValueError(f"{out}: not empty and not a swarmscope Spark output directory; choose another")


def _out_dir(spark: SparkSession, out: str | Path) -> _LocalOut | _HadoopOut:
    return _HadoopOut(spark, out) if is_uri(out) else _LocalOut(out)


def _write(df: DataFrame, path: str, files: int | None) -> int:
    if files is not None:
        df = df.coalesce(files)
    df.write.mode("error").parquet(path)
    return int(df.sparkSession.read.parquet(path).count())


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
    actions: bool = False,
) -> dict:
    """Run co-action (one edge table per entry of ``networks``) and the per-account series on the
    dataset at ``dataset``; write them under ``out`` (module docstring); return the manifest.

    ``files``: Parquet files per output (None: one per Spark partition; 1 suits cases whose outputs
    fit one machine, which is what the campaign layer reads).
    ``duplicates``: also the near-duplicate clusters, members and verified pairs with these parameters
    (as ``swarmscope duplicates``: reposts and forwards left out; no embedding stage).
    ``bursts``: also the bursts with these parameters, per hashtag and, unless ``burst_group`` is None,
    for all posts as one object named ``burst_group`` (as the signals stage).
    ``actions``: also the enrichment of the posts into actions (what ingest stores in ``actions``), so
    a dataset's actions can be derived, or checked, on the cluster. The co-action stage reads the
    dataset's own actions table either way."""
    use_utc(spark)
    dataset_manifest(spark, dataset)  # a complete dataset (a path or a URI), or DatasetError
    target = _out_dir(spark, out)
    target.prepare()
    split = split or SplitParams()
    rows: dict[str, int] = {}
    actions = read_table(spark, dataset, "actions")
    for name, params in networks.items():
        if not name.replace("_", "").replace("-", "").isalnum():
            raise ValueError(f"network name {name!r}: letters, digits, '-' and '_' only")
        edges = coaction_edges(actions, params, split)
        try:
            rows[f"coaction_edges/{name}"] = _write(edges, target.path(f"coaction_edges/network={name}"), files)
        finally:
            edges.unpersist()
    half = account_half_hours(read_table(spark, dataset, "posts")).cache()
    try:
        rows["account_half_hours"] = _write(half, target.path("account_half_hours"), files)
        rows["account_week"] = _write(account_week(half), target.path("account_week"), files)
        rows["account_days"] = _write(account_days(half), target.path("account_days"), files)
    finally:
        half.unpersist()
    extra: dict = {}
    posts = read_table(spark, dataset, "posts")
    if duplicates is not None:
        found = near_duplicates(posts, duplicates)
        rows["duplicate_clusters"] = _write(found.clusters, target.path("duplicate_clusters"), files)
        rows["duplicate_members"] = _write(found.members, target.path("duplicate_members"), files)
        rows["duplicate_pairs"] = _write(found.pairs, target.path("duplicate_pairs"), files)
        extra["duplicates"] = {"params": dataclasses.asdict(duplicates), "counts": found.counts}
    if bursts is not None:
        table = find_bursts(posts, bursts, burst_group)
        rows["bursts"] = _write(spark.createDataFrame(table, schema=_spark_schema(table)), target.path("bursts"), files)
        extra["bursts"] = {"params": dataclasses.asdict(bursts), "group": burst_group}
    if actions:
        rows["actions"] = _write(enrich_actions(posts), target.path("actions"), files)
    doc = {
        **extra,
        "dataset": str(dataset),
        "networks": {k: dataclasses.asdict(v) for k, v in networks.items()},
        "split": dataclasses.asdict(split),
        "rows": rows,
        "spark_version": spark.version,
        "master": spark.sparkContext.master,
    }
    target.write_manifest(json.dumps(doc, indent=2, sort_keys=True, default=list) + "\n")
    return doc
