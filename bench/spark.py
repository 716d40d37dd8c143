"""Benchmark: the local engine (DuckDB + numpy) vs the Spark engine on ``local[*]``.

    python bench/spark.py                          # co-action: 100k and 1M generated reposts
    python bench/spark.py --sizes 100000 --viral 20000 --master 'local[4]'
    python bench/spark.py --texts CASE.duckdb      # near duplicates and bursts of a case's posts,
                                                   # and Spark MLlib's MinHashLSH on the same variants

``--texts``: the case is written as a dataset under ``--work``; the local
engine runs as ``swarmscope duplicates`` and the signals stage call it
(detect/duplicates.py, detect/bursts.py), Spark reads the dataset
(engines/spark/neardup.py, bursts.py); clusters, verified pairs and bursts
are compared as sets. MLlib: ``MinHashLSH(numHashTables=h)`` on the
variants' shingle sets (``HashingTF``, binary, 2^30 features),
``approxSimilarityJoin`` at Jaccard distance 1 - threshold; its pairs are
scored against ours (recall, precision) and timed.

Generated data: reposts over 30 days by n/5 accounts on skewed-popularity
objects, plus one object shared by ``--viral`` accounts within 24 hours (the
hot object Spark splits). Each size is written once as the partitioned
dataset (engines/dataset.py). The local engine reads the actions in the
pipeline's order; Spark reads the dataset. Both edge tables are compared as
sets (``equal``). Spark's session start is timed apart from the stage.

Results print as a markdown table and go to bench/out/spark.md with the
machine's description. Note the machine: on a shared, loaded one, Spark's
fixed cost per stage (tens of stages) dominates small inputs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from common import OUT, machine, table  # noqa: E402
from swarmscope import model  # noqa: E402
from swarmscope.detect.coaction import CoactionParams  # noqa: E402
from swarmscope.detect.coaction import coaction_edges as local_edges  # noqa: E402
from swarmscope.engines.dataset import write_dataset  # noqa: E402

ORDER = "ORDER BY platform, post_id, object_type, object_id"


def generate(n: int, viral: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    viral = min(viral, n)
    n_accounts = max(n // 5, viral)
    n_objects = max(n // 10, 1)
    rest = n - viral
    account = np.concatenate([rng.choice(n_accounts, viral, replace=False), rng.integers(0, n_accounts, rest)])
    obj = np.concatenate([np.full(viral, -1), (n_objects * rng.random(rest) ** 3).astype(np.int64)])
    day = 86_400_000_000
    t = np.concatenate([10 * day + rng.integers(0, day, viral), rng.integers(0, 30 * day, rest)])
    t += 1_700_000_000_000_000
    return pa.table(
        {
            "platform": pa.array(["x"] * n, pa.string()),
            "account_id": pa.array([f"u{a}" for a in account], pa.string()),
            "post_id": pa.array([f"p{i}" for i in range(n)], pa.string()),
            "created_at": pa.array(t, model.TS),
            "object_type": pa.array(["repost_of"] * n, pa.string()),
            "object_id": pa.array([f"o{o}" for o in obj], pa.string()),
        }
    )


def dataset(n: int, viral: int, work: Path) -> tuple[Path, pa.Table]:
    actions = generate(n, viral)
    ds = work / f"reposts_{n}_{viral}"
    con = duckdb.connect()
    con.execute(model.ddl("actions"))
    for name in ("posts", "accounts"):
        con.execute(model.ddl(name))
    con.register("_in", actions)
    con.execute("INSERT INTO actions SELECT * FROM _in")
    write_dataset(con, ds)
    return ds, con.sql(f"SELECT * FROM actions {ORDER}").to_arrow_table()


def as_set(t: pa.Table) -> set[tuple]:
    cols = sorted(t.column_names)
    return {tuple(r[c] for c in cols) for r in t.select(cols).to_pylist()}


def mllib_pairs(sketch, threshold: float, tables: int):
    """Variant pairs (a < b) MLlib's MinHashLSH finds at Jaccard >= threshold over the same shingle sets."""
    from pyspark.ml.feature import HashingTF, MinHashLSH
    from pyspark.sql import functions as F

    df = sketch.select("var_id", F.col("shingles").cast("array<string>").alias("sh"))
    vec = HashingTF(inputCol="sh", outputCol="v", numFeatures=1 << 30, binary=True).transform(df)
    model_ = MinHashLSH(inputCol="v", outputCol="h", numHashTables=tables, seed=1).fit(vec)
    joined = model_.approxSimilarityJoin(vec, vec, 1.0 - threshold + 1e-9, distCol="dist")
    return joined.select(F.col("datasetA.var_id").alias("a"), F.col("datasetB.var_id").alias("b")).where("a < b")


def texts(args) -> None:
    """Near duplicates and bursts of the case ``args.texts``: local vs Spark, and MLlib's MinHashLSH."""
    import os

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)

    from swarmscope.detect.bursts import BurstParams, burst_events, find_bursts
    from swarmscope.detect.duplicates import DuplicateParams, find_duplicates
    from swarmscope.engines.spark import bursts as spark_bursts
    from swarmscope.engines.spark import neardup, read_table, spark_session
    from swarmscope.enrich.text import normalise

    con = duckdb.connect(str(args.texts), read_only=True)
    ds = args.work / f"texts_{Path(args.texts).stem}"
    write_dataset(con, ds)
    posts = con.sql(
        """SELECT platform || ':' || post_id AS key, text FROM posts
           WHERE kind NOT IN ('repost', 'forward') ORDER BY platform, post_id"""
    ).to_arrow_table()
    all_posts = con.sql("SELECT * FROM posts").to_arrow_table()
    params, bparams = DuplicateParams(), BurstParams()
    t = time.perf_counter()
    local = find_duplicates(posts["key"], posts["text"], params)
    t_local = time.perf_counter() - t
    print(f"local near duplicates {t_local:.1f} s", flush=True)
    t = time.perf_counter()
    local_b = find_bursts(burst_events(all_posts, normalise(all_posts["text"]), group="all"), bparams)
    t_local_b = time.perf_counter() - t
    print(f"local bursts {t_local_b:.1f} s", flush=True)

    t = time.perf_counter()
    spark = spark_session(args.master)
    start = time.perf_counter() - t
    t = time.perf_counter()
    found = neardup.near_duplicates(read_table(spark, ds, "posts"), params)
    clusters, pairs = found.clusters.toArrow(), found.pairs.toArrow()
    t_spark = time.perf_counter() - t
    print(f"Spark near duplicates {t_spark:.1f} s, counts {found.counts}", flush=True)
    t = time.perf_counter()
    ours_b = spark_bursts.find_bursts(read_table(spark, ds, "posts"), bparams)
    t_spark_b = time.perf_counter() - t
    print(f"Spark bursts {t_spark_b:.1f} s", flush=True)

    def rows(tb, cols):
        return {tuple(tuple(v) if isinstance(v, list) else v for v in r.values()) for r in tb.select(cols).to_pylist()}

    same = rows(local.clusters, local.clusters.column_names) == rows(clusters, local.clusters.column_names)
    same_pairs = rows(local.pairs, local.pairs.column_names) == rows(pairs, local.pairs.column_names)
    same_b = rows(local_b, local_b.column_names) == rows(ours_b, local_b.column_names)
    c = found.counts
    lines = [
        f"Case {args.texts}: {c['texts']:,} posts read (reposts and forwards left out), {c['eligible']:,} "
        f"eligible, {c['variants']:,} variants, {c['candidate_pairs']:,} candidates, "
        f"{c['verified_pairs']:,} verified pairs, {c['clusters']:,} clusters. Spark on `{args.master}` "
        f"(session start {start:.1f} s, not included). {machine()}",
        "",
        table(
            ["stage", "output rows (local / Spark)", "local s", "Spark s", "equal"],
            [
                [
                    "near duplicates (clusters; verified pairs)",
                    f"{local.clusters.num_rows:,} / {clusters.num_rows:,}; "
                    f"{local.pairs.num_rows:,} / {pairs.num_rows:,}",
                    f"{t_local:.1f}",
                    f"{t_spark:.1f}",
                    f"{same and same_pairs}",
                ],
                [
                    "bursts",
                    f"{local_b.num_rows:,} / {ours_b.num_rows:,}",
                    f"{t_local_b:.1f}",
                    f"{t_spark_b:.1f}",
                    f"{same_b}",
                ],
            ],
        ),  # fmt: skip
    ]
    print("\n".join(lines), flush=True)
    # MLlib's MinHashLSH on the same variants (exact copies collapsed as ours)
    from pyspark.sql import functions as F

    variants = (
        neardup.normalised_posts(read_table(spark, ds, "posts"), params)
        .where(F.col("n_chars") >= params.min_chars)
        .groupBy("norm")
        .agg(F.min(F.struct("platform", "post_id")).alias("first"))
    )
    sketch = variants.select(F.monotonically_increasing_id().alias("var_id"), "norm", "first")
    sketch = sketch.mapInArrow(neardup._sketch_batches(params), neardup._SKETCH_SCHEMA).localCheckpoint(eager=True)
    t = time.perf_counter()
    ours = neardup._scored(neardup._candidates(sketch, params), sketch, params)
    ours_set = {
        (r["a"], r["b"])
        for r in ours.where(F.col("jaccard") >= params.threshold).select("a", "b").toArrow().to_pylist()
    }
    t_ours = time.perf_counter() - t
    print(f"ours on the variants: {len(ours_set):,} pairs, {t_ours:.1f} s", flush=True)
    ml_rows = []
    for h in args.tables:
        print(f"MLlib {h} tables: started {time.strftime('%H:%M:%S')}", flush=True)
        t = time.perf_counter()
        ml = {(r["a"], r["b"]) for r in mllib_pairs(sketch, params.threshold, h).toArrow().to_pylist()}
        t_ml = time.perf_counter() - t
        hit = len(ml & ours_set)
        ml_rows.append([f"MLlib MinHashLSH, {h} tables", f"{len(ml):,}", f"{hit / max(len(ours_set), 1):.4f}",
                        f"{hit / max(len(ml), 1):.4f}", f"{t_ml:.1f}"])  # fmt: skip
        print(ml_rows[-1], flush=True)
    lines += [
        "",
        f"Candidates and verification on the same {sketch.count():,} variants (sketches precomputed); "
        f"recall and precision against our verified pairs:",
        "",
        table(
            ["method", "pairs at Jaccard >= 0.8", "recall", "precision", "s"],
            [
                [
                    "ours: 16 bands x 4 rows, star buckets, exact verification",
                    f"{len(ours_set):,}",
                    "1",
                    "1",
                    f"{t_ours:.1f}",
                ],
                *ml_rows,
            ],
        ),  # fmt: skip
    ]
    spark.stop()
    md = "\n".join(lines)
    print(md)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"spark_texts_{Path(args.texts).stem}.md").write_text(md + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--texts", type=Path, help="a case: near duplicates and bursts instead of co-action")
    ap.add_argument("--tables", type=int, nargs="+", default=[5, 16], help="MLlib MinHashLSH hash tables")
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--viral", type=int, default=20_000)
    ap.add_argument("--window", type=float, default=60.0)
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--work", type=Path, default=Path("/tmp/swarmscope-bench-spark"))
    args = ap.parse_args()
    if args.texts is not None:
        texts(args)
        return

    from swarmscope.engines.spark import coaction_edges, read_table, spark_session

    t = time.perf_counter()
    spark = spark_session(args.master)
    start = time.perf_counter() - t
    params = CoactionParams(time_window=args.window)
    rows = []
    for n in args.sizes:
        ds, actions = dataset(n, args.viral, args.work)
        t = time.perf_counter()
        local = local_edges(actions, params)
        t_local = time.perf_counter() - t
        t = time.perf_counter()
        edges = coaction_edges(read_table(spark, ds, "actions"), params)
        ours = edges.toArrow()
        edges.unpersist()
        t_spark = time.perf_counter() - t
        rows.append([f"{n:,}", f"{args.viral:,}", f"{local.num_rows:,}", f"{t_local:.1f}", f"{t_spark:.1f}",
                     as_set(local) == as_set(ours)])  # fmt: skip
        print(rows[-1], flush=True)
    spark.stop()
    md = (
        f"Co-action edges, reposts, window {args.window:g} s; Spark on `{args.master}` (session start "
        f"{start:.1f} s, not included). {machine()}\n\n"
        + table(["actions", "viral object", "edges", "local s", "spark s", "equal"], rows)
    )
    print(md)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "spark.md").write_text(md + "\n")


if __name__ == "__main__":
    main()
