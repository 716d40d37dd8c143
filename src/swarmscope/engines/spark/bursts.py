"""Bursts on Spark: the same bursts as detect/bursts.py (``find_bursts(burst_events(posts, norm, group))``).

Step by step as detect/bursts.py, as DataFrame operations:

1. events: one per hashtag use (object_id ``lower(nfc(ltrim(tag, '#')))``, in an
   Arrow batch function over the distinct tags, with pyarrow's utf8proc
   functions as DuckDB's) and, with ``group``, one per post for the whole
   group; each carries the post's normalised text (``enrich.text.normalise``,
   Arrow batch function, engines/spark/neardup.py) when at least
   ``min_copy_chars`` long;
2. objects with at least ``min_posts`` events; the baseline: the lower
   median of the tumbling-window counts over the object's span, zeros
   included (floored at ``min_baseline``);
3. anchors: every distinct event time t whose window [t, t + w) holds at
   least ``min_posts`` events and ``min_ratio`` x the baseline. The sliding
   count is a window sum over each object's distinct times (``rangeBetween``);
   events at one microsecond are one row first, so a copy-paste wave at one
   instant is one row;
4. islands: overlapping anchor windows merge (gaps and islands); each
   island's events give posts, accounts, distinct texts, the central 80 %
   span (``percentile_disc``, DuckDB's ``quantile_disc``) and the post ids;
5. the p-value, Bonferroni filter and label: ``detect.bursts._label`` on the
   driver, over one row per island (compact: the islands, not the events),
   so the floats are the local engine's own.

Skew: one object's events (the group-wide object holds every post) are one
window partition, sorted and summed in one task; Spark spills it to disk
rather than failing, and it is one row per distinct microsecond, but it is
one task: a prefix-sum over time ranges would spread it (not yet).
"""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ...detect.bursts import BURSTS, BurstParams, _label
from .neardup import with_norm

KEY = ["object_type", "object_id"]


def _tag_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        tag = batch.column("tag")
        object_id = pc.utf8_lower(pc.utf8_normalize(pc.utf8_ltrim(tag, characters="#"), "NFC"))
        yield pa.RecordBatch.from_arrays([tag, object_id], names=["tag", "object_id"])


def burst_events(posts: DataFrame, params: BurstParams, group: str | None = "all") -> DataFrame:
    """Events as ``detect.bursts.burst_events`` (object_type, object_id, post_id, account_id,
    created_at) with ``text_key`` (the normalised text when it counts as a copy, else NULL)."""
    p = with_norm(posts.select("post_id", "account_id", "created_at", "hashtags", "text"), az_latin=False)
    p = p.withColumn("text_key", F.when(F.col("n_chars") >= int(params.min_copy_chars), F.col("norm"))).drop(
        "norm", "n_chars"
    )
    uses = p.select("post_id", "account_id", "created_at", "text_key", F.explode("hashtags").alias("tag")).where(
        F.col("tag").isNotNull() & (F.expr("trim(LEADING '#' FROM tag)") != "")
    )
    tags = (
        uses.select("tag")
        .distinct()
        .mapInArrow(
            _tag_batches,
            T.StructType([T.StructField("tag", T.StringType()), T.StructField("object_id", T.StringType())]),
        )
    )
    cols = ["post_id", "account_id", "created_at", "text_key"]
    events = uses.join(tags, "tag").select(F.lit("hashtag").alias("object_type"), "object_id", *cols)
    if group is not None:
        events = events.unionByName(
            p.select(F.lit("group").alias("object_type"), F.lit(group).alias("object_id"), *cols)
        )
    return events.where(F.col("created_at").isNotNull() & F.col("object_id").isNotNull())


def burst_islands(events: DataFrame, params: BurstParams) -> DataFrame:
    """The unlabelled bursts (``detect.bursts._bursts``' columns) of ``events``."""
    w_us = int(params.window_seconds) * 1_000_000
    ev = events.withColumn("t", F.unix_micros(F.col("created_at").cast(T.TimestampType()))).localCheckpoint(eager=True)
    obj = (
        ev.groupBy(*KEY)
        .agg(F.count(F.lit(1)).alias("n"), F.min("t").alias("t0"), F.max("t").alias("t1"))
        .where(F.col("n") >= int(params.min_posts))
        .select(*KEY, "t0", (F.floor((F.col("t1") - F.col("t0")) / F.lit(w_us)) + 1).cast(T.LongType()).alias("nbins"))
    )
    bins = (
        ev.join(obj, KEY)
        .groupBy(*KEY, F.floor((F.col("t") - F.col("t0")) / F.lit(w_us)).alias("b"))
        .agg(F.count(F.lit(1)).alias("c"), F.first("nbins").alias("nbins"))
    )
    by_obj = Window.partitionBy(*KEY)
    ranked = bins.withColumn("r", F.row_number().over(by_obj.orderBy("c"))).withColumn("k", F.count("*").over(by_obj))
    pick = F.ceil(F.col("nbins") / F.lit(2.0)) - (F.col("nbins") - F.col("k"))
    base = ranked.groupBy(*KEY).agg(
        F.first("nbins").alias("nbins"),
        F.greatest(
            F.coalesce(F.max(F.when(F.col("r") == pick, F.col("c"))), F.lit(0)).cast(T.DoubleType()),
            F.lit(float(params.min_baseline)),
        ).alias("baseline"),
    )
    # sliding counts over each object's distinct times: [t, t + w)
    times = ev.join(base.select(*KEY), KEY, "left_semi").groupBy(*KEY, "t").agg(F.count(F.lit(1)).alias("n"))
    slide = Window.partitionBy(*KEY).orderBy("t").rangeBetween(0, w_us - 1)
    anchors = (
        times.withColumn("c", F.sum("n").over(slide))
        .join(base, KEY)
        .where(
            (F.col("c") >= int(params.min_posts)) & (F.col("c") >= F.lit(float(params.min_ratio)) * F.col("baseline"))
        )
    )
    ordered = Window.partitionBy(*KEY).orderBy("t")
    brk = F.when(F.col("t") > F.lag("t").over(ordered) + F.lit(w_us), 1).otherwise(0)
    islands = (
        anchors.withColumn("brk", brk)
        .withColumn("island", F.sum("brk").over(ordered.rowsBetween(Window.unboundedPreceding, 0)))
        .groupBy(*KEY, "island")
        .agg(
            F.min("t").alias("lo"),
            (F.max("t") + F.lit(w_us)).alias("hi"),
            F.min(F.struct((-F.col("c")).alias("neg_c"), F.col("t"))).getField("t").alias("window_t"),
            F.max("c").alias("window_posts"),
            F.first("baseline").alias("baseline"),
            F.first("nbins").alias("nbins"),
        )
    )
    bp = ev.join(islands, KEY).where((F.col("t") >= F.col("lo")) & (F.col("t") < F.col("hi")))
    agg = bp.groupBy(*KEY, "island").agg(
        F.min("created_at").alias("start"),
        F.max("created_at").alias("end"),
        F.min(F.when(F.col("t") == F.col("window_t"), F.col("created_at"))).alias("window_start"),
        F.count(F.lit(1)).alias("posts"),
        F.countDistinct("account_id").alias("accounts"),
        (F.countDistinct("text_key") + F.sum(F.when(F.col("text_key").isNull(), 1).otherwise(0))).alias(
            "distinct_texts"
        ),
        (
            (
                F.expr("percentile_disc(0.9) WITHIN GROUP (ORDER BY t)")
                - F.expr("percentile_disc(0.1) WITHIN GROUP (ORDER BY t)")
            )
            / F.lit(1e6)
        ).alias("central_span_seconds"),
        F.transform(F.sort_array(F.collect_list(F.struct("t", "post_id"))), lambda s: s["post_id"]).alias("post_ids"),
        F.first("window_posts").alias("window_posts"),
        F.first("baseline").alias("baseline"),
        F.first("nbins").alias("nbins"),
    )
    return agg.select(
        *KEY,
        "start",
        "end",
        "window_start",
        F.expr(f"window_start + make_dt_interval(0, 0, 0, {int(params.window_seconds)})").alias("window_end"),
        "window_posts",
        "posts",
        "accounts",
        "distinct_texts",
        "central_span_seconds",
        "baseline",
        "nbins",
        "post_ids",
    )


def find_bursts(posts: DataFrame, params: BurstParams | None = None, group: str | None = "all") -> pa.Table:
    """``detect.bursts.find_bursts(burst_events(posts, norm, group), params)`` on Spark: the bursts
    (``detect.bursts.BURSTS``), one row per burst, in the local engine's order. The islands are
    computed on Spark; the p-values and labels on the driver (one row per island)."""
    params = params or BurstParams()
    events = burst_events(posts, params, group)
    raw = burst_islands(events, params).toArrow()
    if not raw.num_rows:
        return BURSTS.empty_table()
    raw = raw.sort_by(
        [
            ("window_posts", "descending"),
            ("object_type", "ascending"),
            ("object_id", "ascending"),
            ("window_start", "ascending"),
        ]
    )
    return _label(raw, params)
