"""Cadence on Spark: the same per-account table as detect/cadence.py (``detect.cadence.CADENCE``).

The data-parallel part is the one that reads every post: per account, the
gaps between consecutive posts and their aggregates. It runs here as
DataFrame operations (window functions and group-bys, no Python function
over rows) and yields the local engine's ``detect.cadence.FIGURES``, one row
per account with at least ``min_posts`` posts; ``detect.cadence.finish``
then computes the floats, flags and test on the driver, over that compact
table, with the local engine's own code. Step by step:

1. posts with an account and a time; ``t`` = epoch microseconds; the gap to
   the account's previous post by (created_at, post_id) (``lag``) and the
   account's post count, in one window (same partition and order);
2. accounts with ``posts >= min_posts``: posts, first and last time, the
   sum of the gaps and of their squares in microseconds (``DECIMAL(38,0)``,
   exact: the gaps of an account sum to its span, at most 3.2e17 us between
   the years 1 and 9999 that Spark's timestamps hold, so the squares stay
   below 1e35), and the median of the gaps as DuckDB's ``median``: the
   middle gap, or the mean ``(lo + hi) / 2`` of the two middle ones, with
   the gaps in seconds (``gap_us / 1e6``, the same IEEE operations, so the
   same bits);
3. the gap histogram: gaps per bin ``floor(gap_us / 1e6 / bin)`` (the local
   expression, in doubles), then bins per count, collected per account;
4. the busiest calendar minute: posts per ``t - pmod(t, 60 s)`` (DuckDB's
   ``date_trunc('minute')``, before 1970 too), the largest count, ties to
   the earliest minute;
5. clients: posts per (account, client); the most frequent client, ties to
   the smallest (byte order, as the local engine); the posts from
   automation clients, where which clients those are is decided on the
   driver by ``detect.cadence.automation_clients_among`` over the distinct
   clients (DuckDB's ``lower`` and RE2, not Java's, which lower-case some
   letters differently).

Steps 2 to 5 read the checkpointed output of step 1 (``localCheckpoint``:
read once, four branches). Skew: one account's posts are one window
partition, sorted in one task (an account has at most a few million posts;
Spark spills).
"""

from __future__ import annotations

import pyarrow as pa
from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ...detect.cadence import FIGURES, CadenceParams, automation_clients_among, bin_width, finish

KEY = ["platform", "account_id"]
MINUTE_US = 60_000_000


def cadence_posts(posts: DataFrame, params: CadenceParams) -> DataFrame:
    """Step 1: the posts of accounts with ``posts >= min_posts`` (platform, account_id, t, gap_us, client),
    ``gap_us`` NULL on an account's first post. Needs the session time zone UTC (session.use_utc)."""
    client = F.col("client") if "client" in posts.columns else F.lit(None).cast(T.StringType())
    p = posts.where(F.col("account_id").isNotNull() & F.col("created_at").isNotNull()).select(
        *KEY,
        "post_id",
        F.unix_micros(F.col("created_at").cast(T.TimestampType())).alias("t"),
        client.alias("client"),
    )
    ordered = Window.partitionBy(*KEY).orderBy("t", "post_id")
    whole = ordered.rowsBetween(Window.unboundedPreceding, Window.unboundedFollowing)
    return (
        p.withColumn("gap_us", F.col("t") - F.lag("t").over(ordered))
        .withColumn("n", F.count(F.lit(1)).over(whole))
        .where(F.col("n") >= int(params.min_posts))
        .select(*KEY, "t", "gap_us", "client")
    )


def cadence_figures(posts: DataFrame, params: CadenceParams | None = None) -> pa.Table:
    """``detect.cadence.FIGURES`` of ``posts`` (platform, account_id, post_id, created_at and, if present,
    client), one row per account with ``posts >= min_posts``, unordered."""
    params = params or CadenceParams()
    p = cadence_posts(posts, params).localCheckpoint(eager=True)
    dec = T.DecimalType(38, 0)
    g = F.col("gap_us").cast(dec)
    acc = p.groupBy(*KEY).agg(
        F.count(F.lit(1)).alias("posts"),
        F.min("t").alias("first_t"),
        F.max("t").alias("last_t"),
        F.sum(g).alias("gap_sum_us"),
        F.sum(g * g).cast(dec).alias("gap_sumsq_us"),
    )
    gaps = p.where(F.col("gap_us").isNotNull())
    by_acc = Window.partitionBy(*KEY)
    ranked = gaps.withColumn("r", F.row_number().over(by_acc.orderBy("gap_us"))).withColumn(
        "k", F.count(F.lit(1)).over(by_acc)
    )
    lo_r, hi_r = F.floor((F.col("k") - 1) / 2) + 1, F.ceil((F.col("k") - 1) / 2) + 1
    seconds = F.col("gap_us") / F.lit(1e6)
    median = ranked.groupBy(*KEY).agg(
        F.max(F.when(F.col("r") == lo_r, seconds)).alias("lo"), F.max(F.when(F.col("r") == hi_r, seconds)).alias("hi")
    )
    median = median.select(*KEY, ((F.col("lo") + F.col("hi")) / F.lit(2.0)).alias("gap_median_seconds"))
    bins = (
        gaps.groupBy(*KEY, F.floor(seconds / F.lit(bin_width(params))).alias("b"))
        .agg(F.count(F.lit(1)).alias("gaps"))
        .groupBy(*KEY, "gaps")
        .agg(F.count(F.lit(1)).alias("bins"))
        .groupBy(*KEY)
        .agg(F.collect_list(F.struct("gaps", "bins")).alias("gap_bins"))
    )
    minute = F.col("t") - F.pmod(F.col("t"), F.lit(MINUTE_US))
    peak = (
        p.groupBy(*KEY, minute.alias("m"))
        .agg(F.count(F.lit(1)).alias("c"))
        .groupBy(*KEY)
        .agg(
            F.max("c").alias("peak_per_minute"),
            F.min(F.struct((-F.col("c")).alias("neg_c"), F.col("m"))).getField("m").alias("peak_m"),
        )
    )
    clients = p.where(F.col("client").isNotNull()).groupBy(*KEY, "client").agg(F.count(F.lit(1)).alias("c")).cache()
    try:
        distinct = clients.select("client").distinct().toArrow()
        matched = automation_clients_among(distinct["client"], params)
        auto = F.col("client").isin(matched) if matched else F.lit(False)
        top = clients.groupBy(*KEY).agg(
            F.min(F.struct((-F.col("c")).alias("neg_c"), F.col("client"))).getField("client").alias("top_client"),
            F.sum(F.when(auto, F.col("c")).otherwise(0)).alias("automation_posts"),
        )
        out = (
            acc.join(median, KEY, "left")
            .join(bins, KEY, "left")
            .join(peak, KEY, "left")
            .join(top, KEY, "left")
            .select(
                *KEY,
                "posts",
                "first_t",
                "last_t",
                "gap_median_seconds",
                "gap_sum_us",
                "gap_sumsq_us",
                "peak_per_minute",
                "peak_m",
                F.coalesce("automation_posts", F.lit(0)).cast(T.LongType()).alias("automation_posts"),
                "top_client",
                "gap_bins",
            )
            .toArrow()
        )
    finally:
        clients.unpersist()
    return _as_figures(out)


def _as_figures(out: pa.Table) -> pa.Table:
    """Spark's output (times as epoch microseconds) as ``FIGURES``. An account without a gap (one post,
    ``min_posts <= 1``) has no histogram: NULL here, an empty list locally; ``finish`` reads both as none."""
    us = pa.timestamp("us")
    times = {"first_at": "first_t", "last_at": "last_t", "peak_minute": "peak_m"}
    return pa.table({name: out[times[name]].cast(us) if name in times else out[name] for name in FIGURES.names}).cast(
        FIGURES
    )


def cadence(posts: DataFrame, params: CadenceParams | None = None) -> pa.Table:
    """``detect.cadence.cadence`` on Spark: ``detect.cadence.CADENCE``, one row per account with
    ``posts >= min_posts``, ordered by platform and account, equal to the local engine's table
    (tests/test_spark_cadence.py). The figures on Spark, the floats and flags on the driver."""
    params = params or CadenceParams()
    return finish(cadence_figures(posts, params), params)
