"""``detect --engine spark``: the data-parallel stages of a case's detection on Spark, read back for the
campaign layer.

The pipeline (pipeline.py) opens a ``SparkDetect`` for the run and hands it
four stages:

- ``near_duplicates``: the case's posts written as the partitioned dataset
  (engines/dataset.py), engines/spark/neardup.py on ``master``, its clusters,
  members and pairs read back as the local engine's ``DuplicateResult``;
  duplicates.py then stores them as actions and summarises them exactly as it
  does the local engine's. Only without the translation stage: the
  embeddings need the model on the driver and every variant's text there,
  so with ``translations`` on the pipeline keeps this stage local;
- ``bursts``: engines/spark/bursts.py over the same posts dataset, the case-wide
  bursts that the signals stage would compute (signals.py takes them as given);
- ``cadence``: engines/spark/cadence.py over the same posts dataset, every
  account's cadence figures and flags as the signals stage would compute them
  (``signals_from_tables(..., cadence=)``);
- ``network_edges``: the case's actions (near-duplicate actions included, so
  after the first stage) written as a dataset, engines/spark/coaction.py for
  each network, each edge table written as Parquet and read back as Arrow.
  The pipeline then orders those edges and adds their significance exactly
  as the local engine does (detect.coaction.edges_with_significance).

So the findings are the same whichever engine ran these stages
(tests/test_spark_detect.py). What stays local: enrichment, the translation
stage, the significance test (it needs every account's objects, one
machine's work at case sizes), clusters, the other signals and campaigns.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ...detect.bursts import BurstParams
from ...detect.cadence import CadenceParams
from ...detect.coaction import CoactionParams
from ...detect.duplicates import MEMBERS, PAIRS, DuplicateCounts, DuplicateParams, DuplicateResult
from ..dataset import write_dataset
from .bursts import find_bursts
from .cadence import cadence
from .coaction import SplitParams, coaction_edges
from .neardup import near_duplicates
from .session import read_table, spark_session


class SparkDetect:
    """One detection's Spark stages: a session on ``master`` (default ``local[*]``) and a scratch
    folder under ``workdir`` (default: the system's temporary folder) removed on close.

    The posts dataset is written once, on the first stage that reads posts; the actions dataset
    on each ``network_edges`` call (the near-duplicate stage adds actions in between)."""

    def __init__(self, master: str | None = None, workdir: str | Path | None = None, config: dict | None = None):
        self.master, self.config = master or "local[*]", config
        self.tmp = Path(tempfile.mkdtemp(prefix="swarmscope-spark-", dir=workdir))
        self._spark = None
        self._posts: Path | None = None
        self._written = 0

    def __enter__(self) -> SparkDetect:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    @property
    def spark(self):
        if self._spark is None:
            self._spark = spark_session(self.master, config=self.config)
            self._spark.sparkContext.setLogLevel("ERROR")  # the command's own output, not Spark's warnings
        return self._spark

    def _dataset(self, con: duckdb.DuckDBPyConnection, table: str) -> Path:
        self._written += 1
        directory = self.tmp / f"{table}-{self._written}"
        write_dataset(con, directory, tables=(table,))
        return directory

    def posts_frame(self, con: duckdb.DuckDBPyConnection):
        """The case's posts as a Spark DataFrame (the dataset written on the first call)."""
        if self._posts is None:
            self._posts = self._dataset(con, "posts")
        return read_table(self.spark, self._posts, "posts")

    def near_duplicates(self, con: duckdb.DuckDBPyConnection, params: DuplicateParams) -> DuplicateResult:
        """``detect.duplicates.find_duplicates`` of the posts duplicates.py reads (no repost or forward),
        without the embedding stage, as the local engine's result: clusters, members (post ids
        ``platform:post_id``) and pairs, equal as sets (tests/test_spark_neardup.py)."""
        found = near_duplicates(self.posts_frame(con), params)
        clusters = found.clusters.toArrow()
        members = found.members.toArrow()
        pairs = found.pairs.toArrow()
        self._release()
        return DuplicateResult(
            clusters=clusters.sort_by([("posts", "descending"), ("cluster_id", "ascending")]),
            members=members.select(MEMBERS.names).cast(MEMBERS) if members.num_rows else MEMBERS.empty_table(),
            pairs=pairs.select(PAIRS.names).cast(PAIRS) if pairs.num_rows else PAIRS.empty_table(),
            counts=DuplicateCounts(**found.counts),
            params=params,
        )

    def bursts(self, con: duckdb.DuckDBPyConnection, params: BurstParams, group: str = "all") -> pa.Table:
        """The case-wide bursts of the signals stage (``detect.bursts.BURSTS``, in the local order)."""
        try:
            return find_bursts(self.posts_frame(con), params, group)
        finally:
            self._release()

    def cadence(self, con: duckdb.DuckDBPyConnection, params: CadenceParams) -> pa.Table:
        """The accounts' cadence of the signals stage (``detect.cadence.CADENCE``, in the local order)."""
        try:
            return cadence(self.posts_frame(con), params)
        finally:
            self._release()

    def _release(self) -> None:
        """Free what a stage kept in the executors (its checkpointed and cached intermediate tables)
        once its output is on the driver, so the next stage has the executors' memory to itself."""
        for rdd in list(self.spark.sparkContext._jsc.getPersistentRDDs().values()):
            rdd.unpersist(False)

    def network_edges(
        self, con: duckdb.DuckDBPyConnection, networks: Mapping[str, CoactionParams]
    ) -> dict[str, pa.Table]:
        """Each network's co-action edges (no significance) from the actions of the case open on ``con``.

        ``networks``: name -> parameters, with ``object_types`` set (the actions each network reads)."""
        actions = read_table(self.spark, self._dataset(con, "actions"), "actions")
        out: dict[str, pa.Table] = {}
        for name, params in networks.items():
            if not params.object_types:
                raise ValueError(f"network {name!r}: give its object_types")
            edges = coaction_edges(actions, params, SplitParams())  # reads only params.object_types
            self._written += 1
            target = self.tmp / f"edges-{self._written}"
            try:
                edges.write.mode("error").parquet(str(target))
            finally:
                edges.unpersist()
            out[name] = _read(target)
        return out


def network_edges(
    con: duckdb.DuckDBPyConnection,
    networks: Mapping[str, CoactionParams],
    master: str | None = None,
    workdir: str | Path | None = None,
    config: dict[str, str] | None = None,
) -> dict[str, pa.Table]:
    """Each network's co-action edges (no significance), computed on Spark at ``master`` (default
    ``local[*]``) from the actions of the case open on ``con``: ``SparkDetect.network_edges`` alone."""
    with SparkDetect(master, workdir, config) as run:
        return run.network_edges(con, networks)


def _read(directory: Path) -> pa.Table:
    """The Parquet files Spark wrote (none when the network is empty: then no columns are known)."""
    files = sorted(directory.glob("*.parquet"))
    if not files:
        return pa.table({})
    return pa.concat_tables([pq.read_table(f) for f in files], promote_options="default")
