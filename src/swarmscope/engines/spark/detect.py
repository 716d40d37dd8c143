"""``detect --engine spark``: the co-action pairing of a case's networks on Spark, read back for the campaign layer.

The pipeline (pipeline.py) hands the networks it is about to build to
``network_edges``; this module writes the case's actions as the partitioned
dataset (engines/dataset.py), runs engines/spark/coaction.py for each network
on ``master``, writes each edge table as Parquet and reads it back as Arrow.
The pipeline then orders those edges and adds their significance exactly as
the local engine does (detect.coaction.edges_with_significance), so the findings are the
same whichever engine paired the shares (tests/test_spark_detect.py).

What stays local: enrichment, near-duplicates, the significance test (it
needs every account's objects, one machine's work at case sizes), clusters,
signals and campaigns. The pairing is the stage that grows with the square of
an object's popularity, and the one Spark spreads.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ...detect.coaction import CoactionParams
from ..dataset import write_dataset
from .coaction import SplitParams, coaction_edges
from .session import read_table, spark_session


def network_edges(
    con: duckdb.DuckDBPyConnection,
    networks: Mapping[str, CoactionParams],
    master: str | None = None,
    workdir: str | Path | None = None,
    config: dict[str, str] | None = None,
) -> dict[str, pa.Table]:
    """Each network's co-action edges (no significance), computed on Spark at ``master``
    (default ``local[*]``) from the actions of the case open on ``con``.

    ``networks``: name -> parameters, with ``object_types`` set (the actions each network reads).
    ``workdir``: where the dataset and the edge files go (default: a temporary folder, removed).
    """
    with tempfile.TemporaryDirectory(prefix="swarmscope-spark-", dir=workdir) as tmp:
        dataset = Path(tmp) / "dataset"
        write_dataset(con, dataset, tables=("actions",))
        spark = spark_session(master or "local[*]", config=config)
        spark.sparkContext.setLogLevel("ERROR")  # the command's own output, not Spark's warnings, on stderr
        actions = read_table(spark, dataset, "actions")
        out: dict[str, pa.Table] = {}
        for name, params in networks.items():
            if not params.object_types:
                raise ValueError(f"network {name!r}: give its object_types")
            edges = coaction_edges(actions, params, SplitParams())  # reads only params.object_types
            target = Path(tmp) / f"edges-{len(out)}"
            try:
                edges.write.mode("error").parquet(str(target))
            finally:
                edges.unpersist()
            out[name] = _read(target)
        return out


def _read(directory: Path) -> pa.Table:
    """The Parquet files Spark wrote (none when the network is empty: then no columns are known)."""
    files = sorted(directory.glob("*.parquet"))
    if not files:
        return pa.table({})
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
