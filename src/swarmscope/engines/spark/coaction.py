"""Co-action edges on Spark: the same edges as detect/coaction.py, from a join over time ranges.

Semantics are detect/coaction.py's (CooRTweet's), step by step:

1. accounts (platform, account_id) with at least ``min_participation``
   actions (of the object types asked for, loops included) take part;
2. with ``remove_loops``, shares whose post is the object are dropped;
3. two shares of one object whose times differ by at most ``time_window``
   are a pair; the older is side a. Shares at the same microsecond are
   ordered as the local engine orders them when it reads the actions in the
   pipeline's order (``ORDER BY platform, post_id, object_type, object_id``):
   by the account's first row in that order, then by (platform, post_id).
   Pairs of one account or one post are loops (dropped with ``remove_loops``);
4. participation: a post is kept when its account has at least
   ``min_participation`` actions (rows) whose post is in a pair; a pair stays
   when either side's post is kept;
5. one undirected edge per account pair, ``from`` the account with the lower
   account_id (equal ids on two platforms: the one whose first row comes
   first), with CooRTweet's columns: weight (pairs), avg_time_delta (s),
   n_content_id / n_content_id_y (distinct older / newer posts),
   edge_symmetry_score, weight_threshold (weight above the ``edge_weight``
   quantile, numpy's linear method, computed exactly from the weight
   histogram), and ours: from_platform, to_platform, n_objects,
   weight_<object_type> for every object type in the input.

With ``fast_time_window``, the fast sub-network's columns follow (``*_fast``,
null for edges outside it), as the local engine gives them. The significance
test and the order of the rows are not done here (docs/spark.md):
detect.coaction.edges_with_significance does both on one machine.

Splitting (the skew rule of issue #25). The pairs come from an equi-join on
(object, time range, salt) with a range condition on time, never on the
object alone:

- every object's shares are cut into time ranges of ``bucket_seconds``; an
  object with more than ``hot_object_shares`` shares (a viral post shared by
  200,000 accounts) into ranges of one ``time_window`` (at least 1 s);
- the newer side of a pair may sit in the next range: a share is also copied
  into the range before its own when it lies within one window of its
  range's start (the overlap). A pair is made only in the range of its older
  share, so no pair is made twice, and none is missed (ranges are at least a
  window wide);
- a range holding more than ``salt_shares`` shares is salted: its older
  sides are spread over ceil(n / salt_shares) salts (at most ``max_salts``) by
  a hash of the post, its newer sides copied into every salt. Each pair is
  made in its older share's one salt.

So one task holds at most one time range's share of a hot object, and the
edges are exactly those of the local engine (tests/test_spark.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from ...detect.coaction import CoactionParams

US = 1_000_000
KEY = ["object_type", "object_id"]
REQUIRED = ("platform", "account_id", "post_id", "created_at", "object_type", "object_id")


@dataclass(frozen=True)
class SplitParams:
    """How shares are split for the join (never changes the edges, only the work per task).

    - ``bucket_seconds`` 3600: the time ranges of an ordinary object. Only the
      shares within one window of a range's start are copied into the range
      before (60 s of 3,600: under 2 % more rows at the default window), and a
      range holds an hour of one object's shares: the join compares at most
      those pairwise.
    - ``hot_object_shares`` 10,000: objects with more shares are cut into
      ranges of one ``time_window`` (at least 1 s), so a viral object's
      day-long cascade becomes hundreds of small ranges.
    - ``salt_shares`` 10,000: a range with more shares (a burst inside one
      window) has its older sides spread over ceil(n / salt_shares) salts,
      about 10,000 x 10,000 comparisons per task at most.
    - ``max_salts`` 256: the newer sides of a salted range are copied once per
      salt; this bounds that copy.
    """

    bucket_seconds: float = 3600.0
    hot_object_shares: int = 10_000
    salt_shares: int = 10_000
    max_salts: int = 256

    def __post_init__(self) -> None:
        if not self.bucket_seconds > 0 or not math.isfinite(self.bucket_seconds):
            raise ValueError(f"bucket_seconds must be a positive number of seconds, got {self.bucket_seconds!r}")
        for name in ("hot_object_shares", "salt_shares", "max_salts"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)!r}")


def _check(actions: DataFrame, params: CoactionParams) -> None:
    missing = [c for c in REQUIRED if c not in actions.columns]
    if missing:
        raise ValueError(f"actions lack column(s) {', '.join(missing)}; needs {', '.join(REQUIRED)}")


def _typed(actions: DataFrame, params: CoactionParams) -> DataFrame:
    """The actions asked for, with ``t`` (epoch microseconds) and each account's row count and first row."""
    a = actions.select(*REQUIRED)
    if params.object_types is not None:
        a = a.where(F.col("object_type").isin(list(params.object_types)))
    a = a.withColumn("t", F.unix_micros(F.col("created_at").cast(T.TimestampType())))
    per_account = a.groupBy("platform", "account_id").agg(
        F.count(F.lit(1)).alias("n_rows"),
        F.min(F.struct("platform", "post_id", "object_type", "object_id")).alias("first"),
    )
    return a.join(per_account, ["platform", "account_id"])


def split_shares(shares: DataFrame, window_us: int, split: SplitParams) -> tuple[DataFrame, DataFrame]:
    """The two sides of the pair join: older sides (one row per share, in its range and salt) and
    newer sides (copied into the range before when within one window of their range's start, and
    into every salt of a salted range). Both carry ``bucket`` and ``salt``; join on KEY + both."""
    per_object = shares.groupBy(*KEY).agg(F.count(F.lit(1)).alias("n_object"))
    normal_us = max(round(split.bucket_seconds * US), window_us, 1)
    hot_us = max(window_us, US)
    s = shares.join(per_object, KEY).withColumn(
        "width", F.when(F.col("n_object") > split.hot_object_shares, F.lit(hot_us)).otherwise(F.lit(normal_us))
    )
    s = s.withColumn("bucket", F.floor(F.col("t") / F.col("width")).cast(T.LongType())).drop("n_object")
    per_bucket = s.groupBy(*KEY, "bucket").agg(F.count(F.lit(1)).alias("n_bucket"))
    salts = F.least(F.lit(split.max_salts), F.ceil(F.col("n_bucket") / F.lit(split.salt_shares))).cast(T.IntegerType())
    per_bucket = per_bucket.withColumn("n_salt", salts).drop("n_bucket")
    older = s.join(per_bucket, [*KEY, "bucket"]).withColumn(
        "salt", F.pmod(F.xxhash64("platform", "post_id"), F.col("n_salt")).cast(T.IntegerType())
    )
    own = s.withColumn("b_bucket", F.col("bucket"))
    overlap = s.where(F.col("t") - F.col("bucket") * F.col("width") <= window_us).withColumn(
        "b_bucket", F.col("bucket") - 1
    )
    newer = (
        own.unionByName(overlap)
        .drop("bucket")
        .withColumnRenamed("b_bucket", "bucket")
        .join(per_bucket, [*KEY, "bucket"])  # a range with no shares of its own makes no pairs
        .withColumn("salt", F.explode(F.sequence(F.lit(0), F.col("n_salt") - 1)))
    )
    return older.drop("n_salt", "width"), newer.drop("n_salt", "width")


_SIDE = ("platform", "account_id", "post_id", "t", "first")


def _pairs(shares: DataFrame, params: CoactionParams, split: SplitParams) -> DataFrame:
    """Every in-window pair of shares of one object (older side a), loops removed when asked."""
    window_us = round(params.time_window * US)
    older, newer = split_shares(shares, window_us, split)
    on = [*KEY, "bucket", "salt"]
    a = older.select(*on, *[F.col(c).alias(f"{c}_a") for c in _SIDE])
    b = newer.select(*on, *[F.col(c).alias(f"{c}_b") for c in _SIDE])
    ord_a = F.struct("first_a", "platform_a", "post_id_a")
    ord_b = F.struct("first_b", "platform_b", "post_id_b")
    later = (F.col("t_b") > F.col("t_a")) | ((F.col("t_b") == F.col("t_a")) & (ord_b > ord_a))
    pairs = a.join(b, on).where(later & (F.col("t_b") - F.col("t_a") <= window_us)).drop("bucket", "salt")
    if params.remove_loops:
        same_account = (F.col("platform_a") == F.col("platform_b")) & (F.col("account_id_a") == F.col("account_id_b"))
        same_post = (F.col("platform_a") == F.col("platform_b")) & (F.col("post_id_a") == F.col("post_id_b"))
        pairs = pairs.where(~same_account & ~same_post)
    return pairs


def _kept(pairs: DataFrame, typed: DataFrame, params: CoactionParams) -> DataFrame:
    """CooRTweet's participation filter over the candidate pairs (step 4 of the module docstring)."""
    if params.min_participation <= 1:
        return pairs  # every account with a share in a pair qualifies: every pair stays
    side = ["platform", "post_id"]
    in_pairs = (
        pairs.select(F.col("platform_a").alias("platform"), F.col("post_id_a").alias("post_id"))
        .unionByName(pairs.select(F.col("platform_b").alias("platform"), F.col("post_id_b").alias("post_id")))
        .distinct()
    )
    rows = typed.where(F.col("n_rows") >= params.min_participation).select("platform", "account_id", "post_id")
    hit = rows.join(in_pairs, side, "left_semi")
    qualifies = (
        hit.groupBy("platform", "account_id")
        .agg(F.count(F.lit(1)).alias("n_hit"))
        .where(F.col("n_hit") >= params.min_participation)
        .select("platform", "account_id")
    )
    keep = hit.join(qualifies, ["platform", "account_id"], "left_semi").select(*side).distinct()
    keep_a = keep.select(
        F.col("platform").alias("platform_a"), F.col("post_id").alias("post_id_a"), F.lit(True).alias("k_a")
    )
    keep_b = keep.select(
        F.col("platform").alias("platform_b"), F.col("post_id").alias("post_id_b"), F.lit(True).alias("k_b")
    )
    flagged = pairs.join(keep_a, ["platform_a", "post_id_a"], "left").join(keep_b, ["platform_b", "post_id_b"], "left")
    return flagged.where(F.col("k_a").isNotNull() | F.col("k_b").isNotNull()).drop("k_a", "k_b")


def _edges(pairs: DataFrame, type_names: list[str]) -> DataFrame:
    """Pairs reduced to one row per account pair (weight_threshold is added by ``coaction_edges``)."""
    a_low = (F.col("account_id_a") < F.col("account_id_b")) | (
        (F.col("account_id_a") == F.col("account_id_b")) & (F.col("first_a") < F.col("first_b"))
    )
    oriented = pairs.select(
        F.when(a_low, F.col("account_id_a")).otherwise(F.col("account_id_b")).alias("from"),
        F.when(a_low, F.col("account_id_b")).otherwise(F.col("account_id_a")).alias("to"),
        F.when(a_low, F.col("platform_a")).otherwise(F.col("platform_b")).alias("from_platform"),
        F.when(a_low, F.col("platform_b")).otherwise(F.col("platform_a")).alias("to_platform"),
        (F.col("t_b") - F.col("t_a")).alias("delta"),
        F.struct("platform_a", "post_id_a").alias("older"),
        F.struct("platform_b", "post_id_b").alias("newer"),
        *KEY,
    )
    by_type = [
        F.sum(F.when(F.col("object_type") == name, 1).otherwise(0)).cast(T.LongType()).alias(f"weight_{name}")
        for name in type_names
    ]
    agg = oriented.groupBy("from", "to", "from_platform", "to_platform").agg(
        F.count(F.lit(1)).alias("weight"),
        F.sum("delta").alias("delta_sum"),
        F.countDistinct("older").alias("n_content_id"),
        F.countDistinct("newer").alias("n_content_id_y"),
        F.countDistinct(*KEY).alias("n_objects"),
        *by_type,
    )
    lo, hi = F.least("n_content_id", "n_content_id_y"), F.greatest("n_content_id", "n_content_id_y")
    return agg.select(
        "from",
        "to",
        "weight",
        (F.col("delta_sum").cast(T.DoubleType()) / F.greatest(F.col("weight"), F.lit(1)) / F.lit(float(US))).alias(
            "avg_time_delta"
        ),
        "n_content_id",
        "n_content_id_y",
        (lo.cast(T.DoubleType()) / hi.cast(T.DoubleType())).alias("edge_symmetry_score"),
        "from_platform",
        "to_platform",
        "n_objects",
        *[f"weight_{name}" for name in type_names],
    )


def quantile_of_histogram(histogram: list[tuple[int, int]], q: float) -> float | None:
    """numpy's ``quantile(weights, q)`` (linear method), from (weight, count) rows: the same float.

    Follows numpy's own steps (virtual index (n-1)q, floor, gamma, and its two-sided lerp) so that
    ``weight > cut`` agrees with the local engine's to the last bit. None for no weights."""
    rows = sorted((int(w), int(c)) for w, c in histogram if c)
    n = sum(c for _, c in rows)
    if not n:
        return None

    def at(i: int) -> int:  # the i-th smallest weight (0-based)
        seen = 0
        for w, c in rows:
            seen += c
            if i < seen:
                return w
        return rows[-1][0]

    vi = (n - 1) * float(q)
    if vi >= n - 1:
        return float(at(n - 1))
    prev = math.floor(vi)
    a, b = at(prev), at(prev + 1)
    gamma = vi - prev
    diff = b - a
    return float(b - diff * (1 - gamma)) if gamma >= 0.5 else float(a + diff * gamma)


def coaction_edges(
    actions: DataFrame, params: CoactionParams | None = None, split: SplitParams | None = None
) -> DataFrame:
    """The co-action edges of ``actions`` (a DataFrame with the actions table's columns), equal as a
    set of rows to ``detect.coaction.coaction_edges`` without significance (module docstring).

    Runs one small job to list the object types and one for the weight histogram; the edges are
    persisted for that and returned as a DataFrame (unordered): ``unpersist()`` it when written.
    Needs the session time zone UTC (session.use_utc).
    """
    params = params or CoactionParams()
    split = split or SplitParams()
    _check(actions, params)
    # Read once and used by every branch below. localCheckpoint (eager) rather than persist: it also
    # cuts the lineage, which every later task would otherwise carry; with persist, task binaries grew
    # to 100 MiB on the demo case and the driver ran out of heap in the tests. The blocks live on the
    # executors (lost with one: on clusters that preempt executors, checkpoint() to reliable storage).
    typed = _typed(actions, params).localCheckpoint()
    type_names = sorted(r[0] for r in typed.select("object_type").distinct().collect())
    shares = typed.where(F.col("n_rows") >= params.min_participation)
    if params.remove_loops:
        shares = shares.where(F.col("post_id") != F.col("object_id"))
    pairs = _pairs(shares.select(*KEY, *_SIDE), params, split).localCheckpoint()
    kept = _kept(pairs, typed, params)
    edges = _edges(kept, type_names).persist(StorageLevel.MEMORY_AND_DISK)
    fast = None
    try:
        histogram = [(r["weight"], r["count"]) for r in edges.groupBy("weight").count().collect()]
        if params.fast_time_window is not None:
            fast = _fast_edges(kept, typed, params, type_names).persist(StorageLevel.MEMORY_AND_DISK)
            fast_histogram = [(r["weight_fast"], r["count"]) for r in fast.groupBy("weight_fast").count().collect()]
    except BaseException:
        edges.unpersist()
        if fast is not None:
            fast.unpersist()
        raise
    finally:
        typed.unpersist()  # the edges are materialised now (or failed): let the blocks go
        pairs.unpersist()
    cols = [c for c in edges.columns]
    at = cols.index("edge_symmetry_score") + 1
    out = edges.select(*cols[:at], _threshold(histogram, params, "weight").alias("weight_threshold"), *cols[at:])
    if fast is None:
        return out
    fast = fast.select(
        *[c for c in fast.columns if c != "weight_threshold_fast"],
        _threshold(fast_histogram, params, "weight_fast").alias("weight_threshold_fast"),
    )
    joined = out.join(fast, ["from", "to", "from_platform", "to_platform"], "left")
    # the local engine's order: the network's columns, then the fast ones
    return joined.select(*out.columns, *[f"{c}_fast" for c in _FAST_COLUMNS])


_FAST_COLUMNS = (
    "weight",
    "avg_time_delta",
    "n_content_id",
    "n_content_id_y",
    "edge_symmetry_score",
    "weight_threshold",
)


def _threshold(histogram: list[tuple[int, int]], params: CoactionParams, column: str):
    cut = quantile_of_histogram(histogram, params.edge_weight)
    return (F.lit(0) if cut is None else (F.col(column) > F.lit(cut)).cast(T.IntegerType())).cast(T.ByteType())


def _fast_edges(kept: DataFrame, typed: DataFrame, params: CoactionParams, type_names: list[str]) -> DataFrame:
    """The fast sub-network: the kept pairs within ``fast_time_window``, with the participation filter
    applied again to them alone (the local engine's keep_post_fast), reduced to edges; its columns
    carry the suffix ``_fast`` (weight_threshold_fast is added by the caller)."""
    fast_us = round(params.fast_time_window * US)
    quick = kept.where(F.col("t_b") - F.col("t_a") <= fast_us)
    edges = _edges(_kept(quick, typed, params), type_names)
    keys = ["from", "to", "from_platform", "to_platform"]
    return edges.select(
        *keys, *[F.col(c).alias(f"{c}_fast") for c in _FAST_COLUMNS if c != "weight_threshold"]
    ).withColumn("weight_threshold_fast", F.lit(0).cast(T.ByteType()))
