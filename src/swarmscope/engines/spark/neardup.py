"""Near-duplicate text clusters on Spark: the same clusters and verified pairs as detect/duplicates.py.

The stages are detect/duplicates.py's, run as DataFrame operations, with the
local engine's own functions where a bit-exact definition matters (so the two
engines cannot drift):

1. normalise: ``enrich.text.normalise`` in an Arrow batch function
   (``mapInArrow``), each distinct text of a batch once; texts under
   ``min_chars`` normalised characters are counted and left out. Posts are
   those the case-level step reads (duplicates.py): kind not ``repost`` or
   ``forward``;
2. exact copies collapsed before anything else (the skew rule): one
   *variant* per distinct normalised text (a ``groupBy`` with map-side
   partial aggregation, so a text posted 100,000 times is one row before
   any shuffle of it). A variant's id follows its first post in
   (platform, post_id) order, which is the local engine's variant order when
   it reads posts ``ORDER BY platform, post_id`` as duplicates.py does;
3. sketch: ``detect.duplicates._shingles`` and ``_signatures`` (one-permutation
   MinHash, densified) in an Arrow batch function, per variant, and the LSH
   band keys by the local engine's own ``band_key``;
4. candidates: variants sharing a band key. A bucket of at most
   ``max_bucket`` variants gives all its pairs, a larger one a star around
   its lowest variant (its head): no key's work grows with the square of a
   campaign's size. Pairs whose signatures agree in fewer than
   (threshold - 0.25) x 64 bins are dropped, as locally. A window over
   (band, key) sizes the buckets; the rows of small ones take their 16-bit
   signatures and are paired and filtered bucket by bucket in numpy by the
   local engine's own functions (``_bucket_pairs_passing``), so the bucket
   pairs, which grow with the square of a bucket, never enter a shuffle;
5. verification: the exact Jaccard index of the two shingle sets
   (``size(array_intersect(...))``, native), kept at or above ``threshold``;
6. clustering: greedy star clustering is sequential (a centre takes its
   neighbours before the next centre is chosen), so the verified pairs, one
   row per edge, go to the driver and ``detect.duplicates.star_clusters``
   runs on them. Variants without an edge (exact copies only) never leave
   the executors;
7. tables: cluster ids (``dup-`` + sha1 of the centre's normalised text),
   Levenshtein similarity to the centre (Spark's ``levenshtein``, over code
   points, as rapidfuzz), match and cluster types, as locally.

Not on Spark: the embedding stage (cross-lingual ``translation`` clusters,
detect/semantic.py); it needs a model on every executor.

The batch functions run Python on the executors, so executors need
swarmscope and its dependencies (numpy, pyarrow) and ``PYSPARK_PYTHON``
pointing at that interpreter. They are Arrow batch functions, not per-row
UDFs: the normalisation and hashes are numpy over whole batches.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T
from pyspark.sql.window import Window

from ...detect.duplicates import (
    BINS,
    DuplicateParams,
    _agree_at_least,
    _bucket_pair_chunks,
    _shingles,
    _signatures,
    band_key,
    bands_for,
    star_clusters,
)
from ...enrich.text import normalise

EXCLUDED_KINDS = ("repost", "forward")  # duplicates.py: they carry their parent's text

_SKETCH_SCHEMA = T.StructType(
    [
        T.StructField("var_id", T.LongType()),
        T.StructField("var_text", T.StringType()),
        T.StructField("sig16", T.ArrayType(T.ShortType())),  # each bin's low 16 bits: all the pre-filter reads
        T.StructField("bands", T.ArrayType(T.LongType())),
        T.StructField("shingles", T.ArrayType(T.IntegerType())),
    ]
)


@dataclass(frozen=True)
class NearDupResult:
    """The Spark counterpart of ``detect.duplicates.DuplicateResult``.

    - ``clusters``: ``detect.duplicates.CLUSTERS``'s columns (``post_ids`` in
      (platform, post_id) order), one row per cluster;
    - ``members``: ``MEMBERS``'s columns plus platform, account_id, created_at
      (the ``near_dup_cluster`` action of the post);
    - ``pairs``: verified variant pairs, ``PAIRS``'s columns (each variant by its
      first post);

    Post ids are ``platform:post_id``, the keys duplicates.py passes to the
    local engine. ``counts``: ``DuplicateCounts``' figures (without the
    embedding ones).
    """

    clusters: DataFrame
    members: DataFrame
    pairs: DataFrame
    counts: dict[str, int]


def _key(platform: str = "platform", post_id: str = "post_id"):
    return F.concat_ws(":", F.col(platform), F.col(post_id))


def normalise_batches(az_latin: bool):
    """An Arrow batch function for ``mapInArrow``: the input's columns without ``text``, plus ``norm``
    (``enrich.text.normalise``) and ``n_chars`` (its length in code points; -1 for no text). Each
    distinct text of a batch is normalised once (copies of one message are one text)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            posted = pc.dictionary_encode(batch.column("text"))
            norm = normalise(posted.dictionary, az_latin=az_latin)
            length = pc.utf8_length(norm).fill_null(-1)
            idx = posted.indices
            n_chars = pc.fill_null(pc.take(length, idx), -1).cast(pa.int64())
            keep = [n for n in batch.schema.names if n != "text"]
            yield pa.RecordBatch.from_arrays(
                [batch.column(n) for n in keep] + [pc.take(norm, idx), n_chars], names=[*keep, "norm", "n_chars"]
            )

    return run


def with_norm(df: DataFrame, az_latin: bool) -> DataFrame:
    """``df`` (with a ``text`` column) with ``text`` replaced by ``norm`` and ``n_chars`` (``normalise_batches``)."""
    fields = [f for f in df.schema.fields if f.name != "text"]
    schema = T.StructType([*fields, T.StructField("norm", T.StringType()), T.StructField("n_chars", T.LongType())])
    return df.withColumn("text", F.col("text").cast(T.StringType())).mapInArrow(normalise_batches(az_latin), schema)


def _band_keys(sig: np.ndarray, r: int) -> np.ndarray:
    """(variants x BINS // r) LSH band keys, the local engine's (detect.duplicates.band_key)."""
    out = np.zeros((sig.shape[0], BINS // r), np.uint64)
    for band in range(BINS // r):
        out[:, band] = band_key(sig, band, r)
    return out


def _lists(values: np.ndarray, offsets: np.ndarray, type_: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)), pa.array(values, type_))


def _sketch_batches(params: DuplicateParams):
    r = bands_for(params.threshold, params.recall)

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            n = batch.num_rows
            if not n:
                continue
            var_text = pc.utf8_slice_codeunits(batch.column("norm"), 0, params.max_chars)
            sh, offs = _shingles(var_text, params.shingle)
            sig = _signatures(sh, offs, params.seed)
            bands = _band_keys(sig, r)
            # each variant's distinct shingles (the set the local verification intersects)
            text = np.repeat(np.arange(n, dtype=np.uint64), np.diff(offs))
            keys = np.unique((text << np.uint64(32)) | sh.astype(np.uint64))
            per_text = np.bincount((keys >> np.uint64(32)).astype(np.int64), minlength=n)
            sets = (keys & np.uint64(0xFFFFFFFF)).astype(np.uint32).view(np.int32)
            set_offs = np.concatenate(([0], np.cumsum(per_text)))
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column("var_id"),
                    var_text,
                    _lists(
                        (sig.reshape(-1) & 0xFFFF).astype(np.uint16).view(np.int16), np.arange(n + 1) * BINS, pa.int16()
                    ),
                    _lists(bands.reshape(-1).view(np.int64), np.arange(n + 1) * (BINS // r), pa.int64()),
                    _lists(sets, set_offs, pa.int32()),
                ],
                names=["var_id", "var_text", "sig16", "bands", "shingles"],
            )

    return run


def normalised_posts(posts: DataFrame, params: DuplicateParams, exclude_kinds=EXCLUDED_KINDS) -> DataFrame:
    """(platform, post_id, norm, n_chars) of the posts duplicates.py reads (kind not excluded)."""
    p = posts
    if exclude_kinds:
        p = p.where(~F.col("kind").isin(list(exclude_kinds)))  # NULL kind: left out, as DuckDB's NOT IN
    return with_norm(p.select("platform", "post_id", "text"), params.az_latin)


_PAIR_SCHEMA = T.StructType([T.StructField("a", T.LongType()), T.StructField("b", T.LongType())])


def _bucket_pairs_passing(bar: float):
    """An Arrow batch function over band rows (band, bkey, var_id, sig16) sorted by (band, bkey) within
    a partition that holds whole buckets: each bucket's pairs (``_bucket_pair_chunks``, the local
    engine's), kept when their 16-bit signatures agree in at least ``bar`` bins (``_agree_at_least``),
    as (a, b) var_ids with a < b. A bucket cut by a batch boundary waits for the next batch."""

    def pairs_of(rows: pa.Table) -> Iterator[pa.RecordBatch]:
        band = rows["band"].to_numpy()
        bkey = rows["bkey"].to_numpy()
        new = np.concatenate(([True], (band[1:] != band[:-1]) | (bkey[1:] != bkey[:-1])))
        group = np.cumsum(new)
        var = rows["var_id"].to_numpy()
        sig16 = rows["sig16"].combine_chunks().flatten().to_numpy().reshape(-1, BINS)
        for a, b in _bucket_pair_chunks(group, np.iinfo(np.int64).max):
            keep = _agree_at_least(sig16, a, b, bar)
            va, vb = var[a[keep]], var[b[keep]]
            if va.size:
                yield pa.RecordBatch.from_arrays(
                    [pa.array(np.minimum(va, vb)), pa.array(np.maximum(va, vb))], names=["a", "b"]
                )

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        pending: pa.Table | None = None
        for batch in batches:
            if not batch.num_rows:
                continue
            rows = (
                pa.Table.from_batches([batch])
                if pending is None
                else pa.concat_tables([pending, pa.Table.from_batches([batch])])
            )
            band = rows["band"].to_numpy()
            bkey = rows["bkey"].to_numpy()
            last = np.flatnonzero((band != band[-1]) | (bkey != bkey[-1]))
            cut = int(last[-1]) + 1 if last.size else 0  # the last bucket may go on in the next batch
            if cut:
                yield from pairs_of(rows.slice(0, cut))
            pending = rows.slice(cut)
        if pending is not None and pending.num_rows:
            yield from pairs_of(pending)

    return run


def _candidates(sketch: DataFrame, params: DuplicateParams) -> DataFrame:
    """Variant pairs (a < b) sharing an LSH band key: in a bucket of at most ``max_bucket`` those past
    the signature pre-filter, in a larger one a star around its lowest variant (not yet filtered).

    A bucket's size and head come from a window over (band, key) on rows of three numbers. Rows in
    small buckets of two or more then take their variant's 16-bit signature and go, bucket by bucket,
    to ``_bucket_pairs_passing``, which forms each bucket's pairs and filters them in numpy as the
    local engine does: the bucket pairs, which grow with the square of a bucket (hundreds of millions
    at 10M posts), are never rows of a shuffle, only the few that pass are."""
    bucket = Window.partitionBy("band", "bkey")
    rows = (
        sketch.select("var_id", F.posexplode("bands").alias("band", "bkey"))
        .withColumn("n", F.count(F.lit(1)).over(bucket))
        .withColumn("head", F.min("var_id").over(bucket))
        .where(F.col("n") >= 2)
    )
    small = rows.where(F.col("n") <= params.max_bucket).select("band", "bkey", "var_id")
    bar = (params.threshold - 0.25) * BINS  # the local pre-filter's float, compared as there
    passing = (
        small.join(sketch.select("var_id", "sig16"), "var_id")
        .repartition("band", "bkey")
        .sortWithinPartitions("band", "bkey")
        .select("band", "bkey", "var_id", "sig16")
        .mapInArrow(_bucket_pairs_passing(bar), _PAIR_SCHEMA)
    )
    star = rows.where((F.col("n") > params.max_bucket) & (F.col("var_id") != F.col("head"))).select(
        F.col("head").alias("a"), F.col("var_id").alias("b")
    )
    return passing.unionByName(star).distinct()


def _with_sides(pairs: DataFrame, sketch: DataFrame, column: str) -> DataFrame:
    """``pairs`` (a, b) with ``column`` of each side's sketch as ``{column}_a`` and ``{column}_b``. Only
    the pairs' variants are shuffled: their ids (far fewer than the variants) are broadcast."""
    ids = pairs.select(F.col("a").alias("var_id")).unionByName(pairs.select(F.col("b").alias("var_id"))).distinct()
    side = sketch.select("var_id", column).join(F.broadcast(ids), "var_id", "left_semi")
    a = side.select(F.col("var_id").alias("a"), F.col(column).alias(f"{column}_a"))
    b = side.select(F.col("var_id").alias("b"), F.col(column).alias(f"{column}_b"))
    return pairs.join(a, "a").join(b, "b")


def _scored(pairs: DataFrame, sketch: DataFrame, params: DuplicateParams) -> DataFrame:
    """Candidates past the signature pre-filter, with their exact Jaccard index.

    Two passes, as the local engine filters before it verifies: the pre-filter reads 128 bytes of
    signature a side; the shingle sets (several times larger) are joined to the few pairs that pass.
    One pass carrying both to every bucket pair wrote 1.2 GiB of shuffle on 1M posts."""
    pairs = pairs.localCheckpoint(eager=True)  # read three times below
    agree = F.aggregate(
        # the local pre-filter compares each bin's low 16 bits (detect.duplicates._lsh_candidates)
        F.zip_with("sig16_a", "sig16_b", lambda x, y: F.when(x == y, 1).otherwise(0)),
        F.lit(0),
        lambda acc, x: acc + x,
    )
    bar = (params.threshold - 0.25) * BINS  # the local pre-filter's float, compared as there
    passed = _with_sides(pairs, sketch, "sig16").where(agree >= F.lit(bar)).select("a", "b")
    passed = passed.localCheckpoint(eager=True)
    inter = F.size(F.array_intersect("shingles_a", "shingles_b")).cast(T.LongType())
    union = F.size("shingles_a").cast(T.LongType()) + F.size("shingles_b").cast(T.LongType()) - inter
    return _with_sides(passed, sketch, "shingles").select(
        "a", "b", (inter.cast(T.DoubleType()) / union.cast(T.DoubleType())).alias("jaccard")
    )


def _stars(verified: pa.Table, weights: pa.Table) -> pa.Table:
    """``star_clusters`` on the driver over the verified edges: (var_id, centre, sim) of every node
    with an edge. Nodes are numbered in var_id order, the local engine's variant order."""
    if not verified.num_rows:
        return pa.table(
            {"var_id": pa.array([], pa.int64()), "centre": pa.array([], pa.int64()), "sim": pa.array([], pa.float64())}
        )
    ids = np.sort(weights["var_id"].to_numpy())
    w = weights.sort_by("var_id")["posts"].to_numpy()
    a = np.searchsorted(ids, verified["a"].to_numpy())
    b = np.searchsorted(ids, verified["b"].to_numpy())
    centre, sim = star_clusters(ids.size, a, b, verified["jaccard"].to_numpy(), w)
    return pa.table({"var_id": pa.array(ids), "centre": pa.array(ids[centre]), "sim": pa.array(sim, pa.float64())})


def near_duplicates(
    posts: DataFrame,
    params: DuplicateParams | None = None,
    exclude_kinds: tuple[str, ...] = EXCLUDED_KINDS,
) -> NearDupResult:
    """Exact and near-duplicate clusters of ``posts`` (the posts table's columns), equal as sets to
    ``detect.duplicates.find_duplicates`` on the same posts read as duplicates.py reads them
    (module docstring). Runs the jobs up to the clustering (they are checkpointed); the returned
    DataFrames read those checkpoints. ``params.recall`` etc. as locally; no embedding stage."""
    params = params or DuplicateParams()
    spark = posts.sparkSession
    normed = normalised_posts(posts, params, exclude_kinds).localCheckpoint(eager=True)
    c = normed.agg(
        F.count(F.lit(1)).alias("texts"),
        F.sum(F.when(F.col("n_chars") < 0, 1).otherwise(0)).alias("null"),
        F.sum(F.when(F.col("n_chars") == 0, 1).otherwise(0)).alias("empty"),
        F.sum(F.when((F.col("n_chars") > 0) & (F.col("n_chars") < params.min_chars), 1).otherwise(0)).alias("short"),
        F.sum(F.when(F.col("n_chars") >= params.min_chars, 1).otherwise(0)).alias("eligible"),
        F.sum(F.when(F.col("n_chars") > params.max_chars, 1).otherwise(0)).alias("truncated"),
    ).collect()[0]
    counts = {k: int(c[k] or 0) for k in ("texts", "null", "empty", "short", "eligible", "truncated")}
    counts["repaired"] = 0
    eligible = normed.where(F.col("n_chars") >= params.min_chars).select("platform", "post_id", "norm")

    # 2. exact copies collapsed: one variant per normalised text, numbered in first-post order
    variants = (
        eligible.groupBy("norm")
        .agg(F.min(F.struct("platform", "post_id")).alias("first"), F.count(F.lit(1)).alias("posts"))
        .orderBy("first")
        .withColumn("var_id", F.monotonically_increasing_id())  # increasing in sort order: partitions are ranges
        .localCheckpoint(eager=True)  # the ids are fixed here (recomputing could renumber)
    )
    counts["variants"] = variants.count()

    # 3-5. sketch, candidates, verification
    sketch = (
        variants.select("var_id", "norm")
        .mapInArrow(_sketch_batches(params), _SKETCH_SCHEMA)
        .localCheckpoint(eager=True)
    )
    scored = _scored(_candidates(sketch, params), sketch, params).localCheckpoint(eager=True)
    counts["candidate_pairs"] = scored.count()
    verified = scored.where(F.col("jaccard") >= F.lit(float(params.threshold)))
    edges = verified.toArrow()
    counts["verified_pairs"] = edges.num_rows

    # 6. star clustering on the driver (sequential by nature; one row per verified edge)
    node_ids = pa.array(np.unique(np.concatenate((edges["a"].to_numpy(), edges["b"].to_numpy()))), pa.int64())
    nodes = spark.createDataFrame(pa.table({"var_id": node_ids}))
    weights = variants.join(F.broadcast(nodes), "var_id", "left_semi").select("var_id", "posts").toArrow()
    stars = _stars(edges, weights)

    # 7. tables
    assigned = spark.createDataFrame(stars)
    var = (
        variants.join(F.broadcast(assigned), "var_id", "left")
        .join(sketch.select("var_id", "var_text"), "var_id")
        .select(
            "var_id",
            "norm",
            "posts",
            "var_text",
            F.col("first.platform").alias("first_platform"),
            F.col("first.post_id").alias("first_post_id"),
            F.coalesce("centre", "var_id").alias("centre"),
            F.coalesce("sim", F.lit(1.0)).alias("sim"),
        )
    )
    kept_centres = (
        var.groupBy("centre")
        .agg(F.sum("posts").alias("cluster_posts"))
        .where(F.col("cluster_posts") >= params.min_posts)
    )
    cen = var.where(F.col("var_id") == F.col("centre")).select(
        F.col("var_id").alias("centre"),
        F.col("var_text").alias("centre_text"),
        F.col("first_platform").alias("rep_platform"),
        F.col("first_post_id").alias("rep_post_id"),
    )
    lev = F.levenshtein("var_text", "centre_text").cast(T.DoubleType())
    longest = F.greatest(F.char_length("var_text"), F.char_length("centre_text")).cast(T.DoubleType())
    kept = (
        var.join(kept_centres.select("centre"), "centre", "left_semi")
        .join(cen, "centre")
        .withColumn(
            "edit",
            F.when(F.col("var_id") == F.col("centre"), F.lit(1.0)).otherwise(
                # rapidfuzz's cpdist (the local engine) returns float32: the same rounding
                (F.lit(1.0) - lev / longest).cast(T.FloatType()).cast(T.DoubleType())
            ),
        )
        .withColumn("cluster_id", F.concat(F.lit("dup-"), F.substring(F.sha1(F.col("centre_text")), 1, 16)))
        .withColumn(
            "match",
            F.when(F.col("var_id") == F.col("centre"), "exact")
            .when(F.col("edit") >= F.lit(float(params.copypasta_similarity)), "copypasta")
            .otherwise("rewording"),
        )
        .localCheckpoint(eager=True)
    )
    post_cols = posts.select("platform", "post_id", "account_id", "created_at", "text")
    members = (
        eligible.join(kept.select("norm", "cluster_id", "match", "sim", "edit"), "norm")
        .join(post_cols.drop("text"), ["platform", "post_id"])
        .select(
            _key().alias("post_id"),
            "cluster_id",
            "match",
            F.col("sim").alias("similarity"),
            F.col("edit").alias("edit_similarity"),
            "platform",
            F.col("post_id").alias("platform_post_id"),
            "account_id",
            "created_at",
        )
    )
    per_cluster = kept.groupBy("cluster_id", "rep_platform", "rep_post_id").agg(
        F.count(F.lit(1)).alias("variants"),
        F.sum("posts").alias("posts"),
        F.min("sim").alias("min_similarity"),
        F.min("edit").alias("min_edit_similarity"),
        F.max(F.when(F.col("match") == "rewording", 1).otherwise(0)).alias("reworded"),
    )
    lists = members.groupBy("cluster_id").agg(
        F.transform(
            F.sort_array(F.collect_list(F.struct("platform", "platform_post_id", "post_id"))), lambda s: s["post_id"]
        ).alias("post_ids")
    )
    rep = post_cols.select(
        F.col("platform").alias("rep_platform"),
        F.col("post_id").alias("rep_post_id"),
        F.col("text").alias("representative_text"),
    )
    clusters = (
        per_cluster.join(rep, ["rep_platform", "rep_post_id"])
        .join(lists, "cluster_id")
        .select(
            "cluster_id",
            F.when(F.col("reworded") == 1, "rewording").otherwise("copypasta").alias("type"),
            F.col("posts").cast(T.LongType()).alias("posts"),
            F.col("variants").cast(T.LongType()).alias("variants"),
            _key("rep_platform", "rep_post_id").alias("representative_post_id"),
            "representative_text",
            "min_similarity",
            "min_edit_similarity",
            "post_ids",
        )
    )
    first = variants.select("var_id", _key("first.platform", "first.post_id").alias("k"))
    pairs = (
        verified.join(first.withColumnRenamed("var_id", "a").withColumnRenamed("k", "post_id_a"), "a")
        .join(first.withColumnRenamed("var_id", "b").withColumnRenamed("k", "post_id_b"), "b")
        .select("post_id_a", "post_id_b", "jaccard")
    )
    counts["clusters"] = kept.select("cluster_id").distinct().count()
    counts["clustered_posts"] = int(kept.agg(F.sum("posts")).collect()[0][0] or 0)
    return NearDupResult(clusters, members, pairs, counts)
