"""Enrichment into actions on Spark: the actions of a dataset's posts, equal to the local engine's.

Each post's actions depend on that post alone (its parent, hashtags,
mentions, URLs and their registered domains, the fingerprint of its
normalised text: enrich/actions.py), so the stage needs no shuffle: an Arrow
batch function (``mapInArrow``) runs the local engine's own
``enrich.actions.derive_actions`` on each batch of posts, in an in-memory
DuckDB inside the executor's Python worker. The SQL, the text folding
(``enrich.text.normalise``), the URL canonicalisation and the Public Suffix
List snapshot are the local engine's own, so the two engines cannot drift.
The executors' Python needs swarmscope's dependencies (duckdb, pyarrow,
numpy, tldextract), as for the near-duplicate stage.

``enrich_actions(posts)``: posts as ``read_table(spark, dataset, "posts")``
gives them; the actions enrichment adds to the case's ``actions`` table
(model.ACTIONS' columns; one row per action key), in no particular order.
The actions some importers store themselves (TikTok's ``sound``, the
objects of a CooRTweet CSV) are not derived from posts: they are in the
dataset's ``actions`` table only.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from ...enrich.actions import derive_actions

COLUMNS = [
    "platform",
    "post_id",
    "account_id",
    "created_at",
    "kind",
    "parent_post_id",
    "hashtags",
    "urls",
    "mentions",
    "text",
]
SCHEMA = T.StructType(
    [
        T.StructField("platform", T.StringType()),
        T.StructField("account_id", T.StringType()),
        T.StructField("post_id", T.StringType()),
        T.StructField("created_at", T.TimestampNTZType()),
        T.StructField("object_type", T.StringType()),
        T.StructField("object_id", T.StringType()),
    ]
)
_ARROW = pa.schema(
    [
        pa.field("platform", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("post_id", pa.string()),
        pa.field("created_at", pa.timestamp("us")),
        pa.field("object_type", pa.string()),
        pa.field("object_id", pa.string()),
    ]
)


def _action_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    import duckdb

    from ...duck import quiet

    con = quiet(duckdb.connect())  # one per Python worker and partition: the temp tables of derive_actions
    try:
        for batch in batches:
            if not batch.num_rows:
                continue
            con.register("_spark_posts", pa.Table.from_batches([batch]))
            try:
                # one row per action key, as Case.append_actions stores them ("#Tag" and "tag" in one
                # post are one hashtag action); a post's actions all come from its own batch
                con.register("_spark_new", derive_actions(con, "_spark_posts"))
                new = con.sql(f"SELECT DISTINCT {', '.join(_ARROW.names)} FROM _spark_new").to_arrow_table()
            finally:
                con.unregister("_spark_posts")
                con.unregister("_spark_new")
            yield from new.cast(_ARROW).to_batches()
    finally:
        con.close()


def enrich_actions(posts: DataFrame) -> DataFrame:
    """The actions of ``posts`` (a dataset's posts table), as the local enrichment writes them."""
    return posts.select(*COLUMNS).mapInArrow(_action_batches, SCHEMA)
