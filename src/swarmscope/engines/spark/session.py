"""A Spark session with the settings the engine relies on, and the dataset's tables as DataFrames.

Times in the dataset are naive UTC microseconds (``TIMESTAMP`` with
``isAdjustedToUTC=false``); Spark reads them as ``TIMESTAMP_NTZ`` and the
engine turns them into epoch microseconds with a cast to ``TIMESTAMP``, which
reads the session time zone: so every engine function runs with
``spark.sql.session.timeZone=UTC`` (``use_utc`` sets it on a session the
caller built).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ..dataset import MANIFEST, PARTITIONS, DatasetError, parse_manifest, read_manifest

_TYPES = {
    "VARCHAR": T.StringType(),
    "BIGINT": T.LongType(),
    "BOOLEAN": T.BooleanType(),
    "TIMESTAMP": T.TimestampNTZType(),
    "DATE": T.DateType(),
    "VARCHAR[]": T.ArrayType(T.StringType()),
    "BLOB": T.BinaryType(),
}


def spark_session(
    master: str = "local[*]", app_name: str = "swarmscope", config: dict[str, str] | None = None
) -> SparkSession:
    """A session (or the running one) on ``master`` with UTC times, AQE on and the UI off.

    ``config``: more Spark settings (e.g. ``{"spark.executor.memory": "4g"}``); they win over ours.
    On ``local``/``local-cluster`` masters (tests, laptops) ``spark.sql.shuffle.partitions`` defaults
    to 8, ``spark.driver.memory`` to 2g (it takes effect only when this call starts the JVM) and the
    executors' Python to this interpreter (``$PYSPARK_PYTHON`` if set); elsewhere Spark's own
    defaults hold (set ``spark.pyspark.python`` to an interpreter with swarmscope on the cluster).
    """
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.adaptive.enabled": "true",
        "spark.sql.adaptive.skewJoin.enabled": "true",
        # the pair join reuses one lineage many times; inferring constraints over it costs minutes of planning
        "spark.sql.constraintPropagation.enabled": "false",
        # no broadcast joins: adaptive execution broadcast a side of the pair join's inputs that then did not
        # fit the driver (OutOfMemoryError building the broadcast table, on 600 actions with 2g); sort-merge
        # joins spill instead, and cost the same here (docs/spark.md)
        "spark.sql.autoBroadcastJoinThreshold": "-1",
        "spark.sql.adaptive.autoBroadcastJoinThreshold": "-1",
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }
    if master.startswith("local"):
        # executors' Python workers (near duplicates, bursts: Arrow batch functions) run this interpreter,
        # which has swarmscope; pyspark's default, ``python3`` on PATH, may not even have pyarrow
        # (pyspark's SparkContext takes its workers' interpreter from $PYSPARK_PYTHON only, not from the
        # ``spark.pyspark.python`` setting, so the variable is set for this process when it is unset)
        settings["spark.pyspark.python"] = os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings["spark.sql.shuffle.partitions"] = "8"
        # local mode: the driver JVM runs the tasks too; Spark's 1g default is short for the pair join
        settings["spark.driver.memory"] = "2g"
    settings.update(config or {})
    builder = SparkSession.builder.master(master).appName(app_name)
    for key, value in settings.items():
        builder = builder.config(key, value)
    return use_utc(builder.getOrCreate())


def use_utc(spark: SparkSession) -> SparkSession:
    """``spark`` with its session time zone set to UTC (the dataset's naive times are UTC)."""
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    return spark


def _schema(columns: list[dict[str, str]], partition_by: list[str]) -> T.StructType:
    # Spark puts the Hive partition columns last, in directory order
    data = [c for c in columns if c["name"] not in partition_by]
    parts = [next(c for c in columns if c["name"] == p) for p in partition_by]
    if "platform" in partition_by and not any(c["name"] == "platform" for c in columns):
        parts = [{"name": "platform", "type": "VARCHAR"}, *parts]
    return T.StructType([T.StructField(c["name"], _TYPES[c["type"]]) for c in data + parts])


def is_uri(directory: str | Path) -> bool:
    """A location on a file system of Hadoop's (``s3a://``, ``gs://``, ``abfss://``, ``hdfs://``, ``file://``)."""
    return isinstance(directory, str) and "://" in directory


def _join(directory: str | Path, name: str) -> str:
    return f"{directory.rstrip('/')}/{name}" if is_uri(directory) else str(Path(directory) / name)


def dataset_manifest(spark: SparkSession, directory: str | Path) -> dict:
    """The dataset's manifest, checked: read with Python where ``directory`` is a local path, through
    Spark (so through whatever file systems its Hadoop configuration has: S3, GCS, ADLS, HDFS) where it
    is a URI."""
    if not is_uri(directory):
        return read_manifest(directory)
    # Hadoop's FileSystem API through the driver's JVM: Spark's readers skip files whose names start
    # with "_" (as the manifest's does), even when named
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(_join(directory, MANIFEST))
    try:
        fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
        if not fs.exists(path):
            raise DatasetError(f"{directory}: not a swarmscope dataset (no {MANIFEST}); write one with write_dataset")
        stream = fs.open(path)
        try:
            text = jvm.org.apache.commons.io.IOUtils.toString(stream, "UTF-8")
        finally:
            stream.close()
    except DatasetError:
        raise
    except Exception as exc:  # Py4JJavaError: no file system for the scheme, no access...
        raise DatasetError(f"{directory}: not readable ({str(exc).splitlines()[0]})") from None
    return parse_manifest(text, directory)


def read_table(spark: SparkSession, directory: str | Path, name: str) -> DataFrame:
    """Table ``name`` (posts, accounts, actions) of the dataset at ``directory`` (a local path, or a URI
    such as ``s3a://bucket/case-ds``), with the manifest's schema (partition columns included, as in the
    case; ``day`` for posts and actions)."""
    doc = dataset_manifest(spark, directory)
    if name not in doc["tables"]:
        raise ValueError(f"{directory}: the dataset has no {name} table (it has {', '.join(doc['tables'])})")
    table = doc["tables"][name]
    schema = _schema(table["columns"], table["partition_by"] or list(PARTITIONS[name]))
    if not table["rows"]:
        return spark.createDataFrame([], schema)
    path = _join(directory, name)
    df = spark.read.schema(schema).option("basePath", path).parquet(path)
    return df.select(*[F.col(c["name"]) for c in table["columns"]])
