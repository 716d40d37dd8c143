"""The Spark engine's near-duplicate clusters and bursts against the local engine: exact sets of rows.

Runs on ``local[2]`` with one session for the module. Skips when pyspark or Java is absent, except in
CI (CI=true), which installs both. The engine's Arrow batch functions run Python on the workers:
``PYSPARK_PYTHON`` is set to this interpreter before the session starts.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

if not os.environ.get("CI"):  # in CI (.ci/run installs Java and pyspark) a missing piece is a failure, not a skip
    pytest.importorskip("pyspark")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("the Spark engine needs Java 17", allow_module_level=True)
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers import swarmscope

from swarmscope import model
from swarmscope.detect.bursts import BurstParams, burst_events
from swarmscope.detect.bursts import find_bursts as local_find_bursts
from swarmscope.detect.duplicates import DuplicateParams, find_duplicates
from swarmscope.engines.dataset import write_dataset
from swarmscope.engines.spark import read_table, spark_session
from swarmscope.engines.spark.bursts import find_bursts
from swarmscope.engines.spark.neardup import near_duplicates
from swarmscope.enrich.text import normalise
from swarmscope.store import Case

from .test_spark import HAND, actions_table, demo_dataset  # noqa: F401 (a fixture)

T0 = dt.datetime(2024, 3, 4, 9, 0, 0)


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def rows(table: pa.Table, cols: list[str] | None = None) -> set[tuple]:
    cols = cols or table.column_names
    return {tuple(tuple(v) if isinstance(v, list) else v for v in r.values()) for r in table.select(cols).to_pylist()}


def local_duplicates(case: Path, params: DuplicateParams):
    """find_duplicates on the posts duplicates.py reads, in its order."""
    with Case(case, read_only=True) as c:
        posts = c.con.sql(
            """SELECT platform || ':' || post_id AS key, text FROM posts
               WHERE kind NOT IN ('repost', 'forward') ORDER BY platform, post_id"""
        ).to_arrow_table()
    return find_duplicates(posts["key"], posts["text"], params)


def local_bursts(case: Path, params: BurstParams) -> pa.Table:
    """The signals stage's bursts (signals.py): hashtags and the group of all posts."""
    with Case(case, read_only=True) as c:
        posts = c.con.sql("SELECT * FROM posts").to_arrow_table()
    return local_find_bursts(burst_events(posts, normalise(posts["text"]), group="all"), params)


def assert_same_duplicates(spark, ds: Path, case: Path, params: DuplicateParams) -> dict:
    local = local_duplicates(case, params)
    ours = near_duplicates(read_table(spark, ds, "posts"), params)
    clusters, members, pairs = ours.clusters.toArrow(), ours.members.toArrow(), ours.pairs.toArrow()
    assert {frozenset(p) for p in local.clusters["post_ids"].to_pylist()} == {
        frozenset(p) for p in clusters["post_ids"].to_pylist()
    }
    assert rows(local.clusters) == rows(clusters, local.clusters.column_names)  # every column, lists in order
    assert rows(local.members) == rows(members, local.members.column_names)
    assert rows(local.pairs) == rows(pairs, local.pairs.column_names)
    assert local.pairs.num_rows == pairs.num_rows and local.clusters.num_rows == clusters.num_rows
    expected = {k: v for k, v in local.counts.as_dict().items() if k not in ("semantic_pairs", "translation_pairs")}
    assert ours.counts == expected
    return ours.counts


def posts_table(rows_: list[tuple]) -> pa.Table:
    """(platform, post_id, account, seconds after T0, text, kind, hashtags) rows as a posts table."""
    cols = list(zip(*rows_))
    return pa.table(
        {
            "platform": pa.array(cols[0], pa.string()),
            "post_id": pa.array(cols[1], pa.string()),
            "account_id": pa.array(cols[2], pa.string()),
            "created_at": pa.array([T0 + dt.timedelta(seconds=s) for s in cols[3]], model.TS),
            "text": pa.array(cols[4], pa.string()),
            "kind": pa.array(cols[5], pa.string()),
            "hashtags": pa.array(cols[6], pa.list_(pa.string())),
        }
    )


def case_of(tmp: Path, posts: pa.Table) -> tuple[Path, Path]:
    """``posts`` stored in a case and written as a dataset: (dataset, case)."""
    with Case(tmp / "case.duckdb") as c:
        c.con.register("_in", model.conform(posts, "posts"))
        c.con.execute("INSERT INTO posts SELECT * FROM _in")
        c.con.unregister("_in")
        c.con.register("_in", model.conform(actions_table(HAND), "actions"))
        c.con.execute("INSERT INTO actions SELECT * FROM _in")
        c.con.unregister("_in")
        write_dataset(c.con, tmp / "ds")
    return tmp / "ds", tmp / "case.duckdb"


WORDS = "the city bridge green project vote future together support people every day more new build".split()


def edited(rng, base: str, edits: int) -> str:
    words = base.split()
    for _ in range(edits):
        words[int(rng.integers(0, len(words)))] = WORDS[int(rng.integers(0, len(WORDS)))]
    return " ".join(words)


def random_posts(seed: int, n: int = 1500) -> pa.Table:
    """Messages copied with small edits, exact copies, reposts (left out), NULL, empty and short texts,
    texts over 60 characters, one post id on two platforms, hashtags in several spellings."""
    rng = np.random.default_rng(seed)
    messages = [" ".join(WORDS[int(i)] for i in rng.integers(0, len(WORDS), 14)) for _ in range(25)]
    out = []
    for i in range(n):
        r = rng.random()
        if r < 0.55:
            text = edited(rng, messages[int(rng.integers(0, 25))], int(rng.integers(0, 3)))
        elif r < 0.62:
            text = None
        elif r < 0.66:
            text = "🙂 https://t.co/x @someone"  # empty after normalisation
        elif r < 0.72:
            text = "thank you all"  # short
        else:
            text = " ".join(WORDS[int(k)] for k in rng.integers(0, len(WORDS), 12))
        kind = ["post", "repost", "reply", "forward"][int(rng.choice(4, p=[0.8, 0.1, 0.07, 0.03]))]
        tags = [["#Körpü", "körpü", "#KÖRPÜ"][int(rng.integers(0, 3))]] if rng.random() < 0.4 else []
        seconds = int(rng.integers(0, 86400 * 3)) if rng.random() < 0.8 else 3600 + int(rng.integers(0, 300))
        platform = "telegram" if i % 10 == 0 else "x"
        out.append((platform, f"p{i}", f"u{rng.integers(0, 80)}", seconds, text, kind, tags))
    out.append(("telegram", "p1", "u1", 5, messages[0], "post", []))  # p1 on two platforms
    return posts_table(out)


# -- near duplicates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        DuplicateParams(),
        DuplicateParams(max_bucket=3, max_chars=60),  # large buckets as stars; texts cut at 60 characters
        DuplicateParams(threshold=0.6, shingle=4, min_posts=3),
    ],
    ids=["default", "stars-truncated", "threshold0.6"],
)
def test_random_posts_give_the_local_clusters(spark, tmp_path, params):
    ds, case = case_of(tmp_path, random_posts(3))
    counts = assert_same_duplicates(spark, ds, case, params)
    assert counts["clusters"] > 5 and counts["verified_pairs"] > 20
    assert counts["null"] and counts["empty"] and counts["short"]
    if params.max_chars == 60:
        assert counts["truncated"] > 0


def test_one_text_copied_by_many_accounts_is_one_variant(spark, tmp_path):
    """Skew: 6,000 accounts post one message (exact copies) and 300 more an edited copy within ten
    minutes: it is sketched once, and the clusters and bursts equal the local engine's."""
    rng = np.random.default_rng(9)
    message = "Vote for the green bridge project on Sunday, the future of our city is in your hands #Körpü"
    rows_ = [
        ("x", f"c{i}", f"a{i}", 7200 + int(rng.integers(0, 600)), message, "post", ["#Körpü"]) for i in range(6000)
    ]
    rows_ += [
        ("x", f"e{i}", f"b{i}", 7200 + int(rng.integers(0, 600)), edited(rng, message, 1), "post", ["#Körpü"])
        for i in range(300)
    ]
    rows_ += [
        ("x", f"o{i}", f"o{i % 50}", int(rng.integers(0, 86400)), edited(rng, message, 6), "post", ["#körpü"])
        for i in range(400)
    ]
    ds, case = case_of(tmp_path, posts_table(rows_))
    counts = assert_same_duplicates(spark, ds, case, DuplicateParams())
    assert counts["eligible"] == len(rows_) and counts["variants"] < 800  # 6,000 copies: one variant
    params = BurstParams()
    local = local_bursts(case, params)
    ours = find_bursts(read_table(spark, ds, "posts"), params)
    assert local.num_rows >= 2 and rows(local) == rows(ours)
    assert set(ours["object_type"].to_pylist()) == {"hashtag", "group"}


def test_no_copies_gives_empty_tables(spark, tmp_path):
    rows_ = [("x", f"p{i}", f"u{i}", i, text, "post", []) for i, text in enumerate(["short", None, "🙂", "ok then"])]
    rows_.append(("x", "p9", "u9", 9, "one long enough text that nobody else posted at all", "post", []))
    ds, case = case_of(tmp_path, posts_table(rows_))
    counts = assert_same_duplicates(spark, ds, case, DuplicateParams())
    assert counts["clusters"] == 0 and counts["variants"] == 1 and counts["null"] == 1


def test_demo_case_duplicates_equal_local(spark, demo_dataset):  # noqa: F811
    ds, _ = demo_dataset
    counts = assert_same_duplicates(spark, ds, ds.parent / "case.duckdb", DuplicateParams())
    assert counts["clusters"] > 20


# -- bursts ------------------------------------------------------------------------------------


def test_random_posts_give_the_local_bursts(spark, tmp_path):
    ds, case = case_of(tmp_path, random_posts(4, 2500))
    params = BurstParams(min_posts=10, min_ratio=3.0)
    local = local_bursts(case, params)
    ours = find_bursts(read_table(spark, ds, "posts"), params)
    assert local.num_rows >= 1
    assert local.schema == ours.schema and rows(local) == rows(ours)


def test_demo_case_bursts_equal_local(spark, demo_dataset):  # noqa: F811
    ds, _ = demo_dataset
    params = BurstParams()
    local = local_bursts(ds.parent / "case.duckdb", params)
    ours = find_bursts(read_table(spark, ds, "posts"), params)
    assert local.num_rows > 10
    assert local.schema == ours.schema and rows(local) == rows(ours)


# -- the stage runner --------------------------------------------------------------------------


def test_run_stages_writes_duplicates_and_bursts(spark, tmp_path):
    import duckdb

    from swarmscope.detect.coaction import CoactionParams
    from swarmscope.engines.spark import run_stages

    ds, case = case_of(tmp_path, random_posts(5))
    out = tmp_path / "out"
    plain = run_stages(spark, ds, out, {"all": CoactionParams(time_window=60)})  # as before: no new outputs
    assert not (out / "duplicate_clusters").exists() and "duplicates" not in plain
    dparams, bparams = DuplicateParams(), BurstParams(min_posts=10, min_ratio=3.0)
    doc = run_stages(spark, ds, out, {"all": CoactionParams(time_window=60)}, duplicates=dparams, bursts=bparams)
    local = local_duplicates(case, dparams)
    got = duckdb.sql(f"SELECT * FROM read_parquet('{out}/duplicate_clusters/*.parquet')").to_arrow_table()
    assert rows(local.clusters) == rows(got, local.clusters.column_names)
    pairs = duckdb.sql(f"SELECT * FROM read_parquet('{out}/duplicate_pairs/*.parquet')").to_arrow_table()
    assert rows(local.pairs) == rows(pairs)
    bursts = duckdb.sql(f"SELECT * FROM read_parquet('{out}/bursts/*.parquet')").to_arrow_table()
    assert rows(local_bursts(case, bparams)) == rows(bursts)
    assert doc["rows"]["duplicate_clusters"] == local.clusters.num_rows
    assert doc["duplicates"]["counts"]["verified_pairs"] == local.pairs.num_rows
    assert doc["rows"]["bursts"] == bursts.num_rows and doc["bursts"]["group"] == "all"
    assert (out / "coaction_edges").is_dir()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bucket_pairs_are_formed_and_filtered_across_batch_boundaries(seed):
    """The in-bucket pairing (no Spark needed): buckets cut by batch boundaries at random, every pair of
    a bucket checked by hand against the pre-filter's bar."""
    from swarmscope.detect.duplicates import BINS
    from swarmscope.engines.spark.neardup import _bucket_pairs_passing

    rng = np.random.default_rng(seed)
    n = 60
    base = rng.integers(0, 1 << 16, BINS)
    sig = np.where(rng.random((n, BINS)) < 0.15, rng.integers(0, 1 << 16, (n, BINS)), base)  # most agree
    sig[::7] = rng.integers(0, 1 << 16, (len(sig[::7]), BINS))  # some agree with nobody
    var = np.sort(rng.choice(10_000, n, replace=False)).astype(np.int64)
    rows = [(band, int(rng.integers(0, 4)), i) for band in range(3) for i in range(n) if rng.random() < 0.8]
    rows.sort(key=lambda r: (r[0], r[1]))
    bar = 0.55 * BINS
    expected = set()
    for i, (b1, k1, v1) in enumerate(rows):
        for b2, k2, v2 in rows[i + 1 :]:
            if (b1, k1) == (b2, k2) and np.count_nonzero(sig[v1] == sig[v2]) >= bar:
                expected.add((int(min(var[v1], var[v2])), int(max(var[v1], var[v2]))))
    cuts = np.sort(rng.choice(np.arange(1, len(rows)), 8, replace=False))
    batches = []
    for part in np.split(np.arange(len(rows)), cuts):
        chosen = [rows[j] for j in part]
        batches.append(
            pa.RecordBatch.from_arrays(
                [
                    pa.array([r[0] for r in chosen], pa.int32()),
                    pa.array([r[1] for r in chosen], pa.int64()),
                    pa.array([var[r[2]] for r in chosen], pa.int64()),
                    pa.array(
                        [sig[r[2]].astype(np.uint16).view(np.int16).tolist() for r in chosen], pa.list_(pa.int16())
                    ),
                ],
                names=["band", "bkey", "var_id", "sig16"],
            )
        )
    got = pa.Table.from_batches(
        list(_bucket_pairs_passing(bar)(iter(batches))), schema=pa.schema([("a", pa.int64()), ("b", pa.int64())])
    )
    pairs = set(zip(got["a"].to_pylist(), got["b"].to_pylist()))
    assert 20 < len(expected) and pairs == expected
    assert all(a < b for a, b in pairs)
