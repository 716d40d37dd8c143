"""The Spark engine against the local engine: the same edges and series, as exact sets of rows.

Runs on ``local[2]`` with one session for the module (tests/test_spark_cluster.py runs on
``local-cluster``). Skips when pyspark or Java is absent, except in CI (CI=true), which installs both.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

if not os.environ.get("CI"):  # in CI (.ci/run installs Java and pyspark) a missing piece is a failure, not a skip
    pytest.importorskip("pyspark")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("the Spark engine needs Java 17", allow_module_level=True)

from swarmscope import model
from swarmscope.detect import rhythm
from swarmscope.detect.coaction import CoactionParams
from swarmscope.detect.coaction import coaction_edges as local_edges
from swarmscope.engines.dataset import write_dataset
from swarmscope.engines.spark import SplitParams, coaction_edges, read_table, spark_session, split_shares
from swarmscope.engines.spark.series import account_days, account_half_hours, account_week
from swarmscope.store import Case

T0 = dt.datetime(2024, 3, 4, 9, 0, 0)  # a Monday
ORDER = "ORDER BY platform, post_id, object_type, object_id"  # the pipeline's order (pipeline._network)


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def actions_table(rows: list[tuple]) -> pa.Table:
    """(platform, account, post, seconds after T0, type, object) rows as an actions table."""
    cols = list(zip(*rows))
    return pa.table(
        {
            "platform": pa.array(cols[0], pa.string()),
            "account_id": pa.array(cols[1], pa.string()),
            "post_id": pa.array(cols[2], pa.string()),
            "created_at": pa.array([T0 + dt.timedelta(seconds=s) for s in cols[3]], model.TS),
            "object_type": pa.array(cols[4], pa.string()),
            "object_id": pa.array(cols[5], pa.string()),
        }
    )


def dataset_of(tmp: Path, actions: pa.Table, posts: pa.Table | None = None) -> Path:
    """``actions`` (and ``posts``) stored in a case and written as a dataset, as ``export`` does."""
    with Case(tmp / "case.duckdb") as c:
        for name, table in (("actions", actions), ("posts", posts)):
            if table is not None:
                c.con.register("_in", model.conform(table, name))
                c.con.execute(f"INSERT INTO {name} SELECT * FROM _in")
                c.con.unregister("_in")
        write_dataset(c.con, tmp / "ds")
    return tmp / "ds"


def posts_of(actions: pa.Table) -> pa.Table:
    """One plain post per action (platform, post id, account, time), for the account series."""
    return pa.table(
        {
            "platform": actions["platform"],
            "post_id": actions["post_id"],
            "account_id": actions["account_id"],
            "created_at": actions["created_at"],
            "kind": pa.array(["post"] * actions.num_rows, pa.string()),
        }
    )


def local_ordered(actions: pa.Table) -> pa.Table:
    import duckdb

    con = duckdb.connect()
    con.register("a", actions)
    return con.sql(f"SELECT * FROM a {ORDER}").to_arrow_table()


def as_set(table: pa.Table, cols: list[str]) -> set[tuple]:
    return {tuple(r[c] for c in cols) for r in table.select(cols).to_pylist()}


def assert_same_edges(local: pa.Table, spark: pa.Table) -> None:
    assert sorted(local.column_names) == sorted(spark.column_names)
    cols = sorted(local.column_names)
    assert local.num_rows == spark.num_rows
    assert as_set(local, cols) == as_set(spark, cols)


def both(spark, ds: Path, actions: pa.Table, params: CoactionParams, split: SplitParams | None = None):
    ours = coaction_edges(read_table(spark, ds, "actions"), params, split)
    try:
        out = ours.toArrow()
    finally:
        ours.unpersist()
    return local_edges(local_ordered(actions), params), out


# -- hand-checked ------------------------------------------------------------------------------

HAND = [
    # o1: A at 0 s, B at 10 s, C at 100 s; o2: A and B at 0 s and 30 s (the same second for A and C);
    # o3: C's post 9 is the object itself (a loop); o4: B twice (same account)
    ("x", "A", "1", 0, "url", "o1"),
    ("x", "B", "2", 10, "url", "o1"),
    ("x", "C", "3", 100, "url", "o1"),
    ("x", "A", "4", 200, "hashtag", "o2"),
    ("x", "C", "5", 200, "hashtag", "o2"),
    ("x", "B", "6", 230, "hashtag", "o2"),
    ("x", "C", "9", 300, "repost_of", "9"),
    ("x", "B", "7", 300, "repost_of", "9"),
    ("x", "B", "8", 310, "url", "o4"),
    ("x", "B", "10", 320, "url", "o4"),
]


def test_hand_checked_edges(spark, tmp_path):
    actions = actions_table(HAND)
    ds = dataset_of(tmp_path, actions)
    local, ours = both(spark, ds, actions, CoactionParams(time_window=60))
    assert_same_edges(local, ours)
    got = {(r["from"], r["to"]): r for r in ours.to_pylist()}
    # A-B: o1 (10 s) and o2 (30 s); A-C: o2 (0 s); B-C: o2 (30 s), and the loop on 9 is dropped
    assert set(got) == {("A", "B"), ("A", "C"), ("B", "C")}
    assert got[("A", "B")]["weight"] == 2 and got[("A", "B")]["avg_time_delta"] == 20.0
    assert got[("A", "B")]["n_objects"] == 2 and got[("A", "B")]["weight_url"] == 1
    assert got[("A", "C")]["avg_time_delta"] == 0.0 and got[("B", "C")]["weight_hashtag"] == 1
    assert got[("B", "C")]["weight_repost_of"] == 0
    # weights 2, 1, 1: the median is 1, so only A-B is above it
    assert {k: r["weight_threshold"] for k, r in got.items()} == {("A", "B"): 1, ("A", "C"): 0, ("B", "C"): 0}


@pytest.mark.parametrize(
    "params",
    [
        CoactionParams(time_window=0),
        CoactionParams(time_window=60, min_participation=1, remove_loops=False),
        CoactionParams(time_window=90, min_participation=3),
        CoactionParams(time_window=60, object_types=("hashtag", "repost_of"), edge_weight=0.9),
        CoactionParams(time_window=60, fast_time_window=10),  # the fast sub-network, nulls outside it
        CoactionParams(time_window=90, min_participation=3, fast_time_window=20),
    ],
    ids=["window0", "loops-kept", "participation3", "types", "fast", "fast-participation3"],
)
def test_random_actions_equal_local(spark, tmp_path, params):
    """Ties at one second, accounts on two platforms with one id, loops, posts with several objects."""
    rng = np.random.default_rng(5)
    n = 600
    acc = rng.integers(0, 40, n)
    rows = [
        (
            ["x", "telegram"][int(a) % 2 if a < 6 else 0],
            f"u{a % 30}",  # u0..u5 exist on x and on telegram
            f"p{rng.integers(0, 400)}",
            int(rng.integers(0, 120)) * 10,  # a 10 s grid: many shares at the same second
            ["hashtag", "repost_of", "url"][int(rng.integers(0, 3))],
            f"o{rng.integers(0, 25)}",
        )
        for a in acc
    ]
    rows += [("x", "u1", "p7", 50, "repost_of", "p7"), ("x", "u2", "p8", 50, "repost_of", "p7")]
    seen, uniq = set(), []
    for r in rows:  # the case keys actions by (platform, post, type, object); a post has one author and time
        key = (r[0], r[2])
        if (key, r[4], r[5]) in seen:
            continue
        seen.add((key, r[4], r[5]))
        uniq.append(r)
    author = {}
    uniq = [
        (p, author.setdefault((p, post), (a, s))[0], post, author[(p, post)][1], ty, o) for p, a, post, s, ty, o in uniq
    ]
    actions = actions_table(uniq)
    ds = dataset_of(tmp_path, actions)
    local, ours = both(spark, ds, actions, params)
    assert local.num_rows > 10
    if params.fast_time_window is not None:  # some edges in the fast network, some outside it (nulls)
        assert 0 < local["weight_fast"].null_count < local.num_rows
    assert_same_edges(local, ours)


# -- skew --------------------------------------------------------------------------------------


def test_a_hot_object_is_split_and_gives_the_same_edges(spark, tmp_path):
    """One object shared by 400 accounts over an hour plus a burst of 120 in one second, split into
    one-window ranges and salted: the same edges as the local engine and as no split at all."""
    rng = np.random.default_rng(11)
    rows = [("x", f"a{i}", f"h{i}", int(rng.integers(0, 3600)), "repost_of", "viral") for i in range(400)]
    rows += [("x", f"a{i}", f"b{i}", 4000, "repost_of", "viral") for i in range(0, 240, 2)]  # the burst
    rows += [("x", f"a{i}", f"c{i}", int(rng.integers(0, 3600)), "repost_of", f"q{i % 7}") for i in range(300)]
    actions = actions_table(rows)
    ds = dataset_of(tmp_path, actions)
    split = SplitParams(bucket_seconds=600, hot_object_shares=100, salt_shares=30, max_salts=8)
    params = CoactionParams(time_window=60)

    from pyspark.sql import functions as F

    from swarmscope.engines.spark.coaction import _SIDE, KEY, _typed

    shares = _typed(read_table(spark, ds, "actions"), params).select(*KEY, *_SIDE)
    older, newer = split_shares(shares, 60_000_000, split)
    tasks = older.groupBy(*KEY, "bucket", "salt").count().where(F.col("object_id") == "viral").toArrow()
    assert tasks.num_rows >= 50  # the hour in one-minute ranges, the burst's range in salts
    assert max(tasks["count"].to_pylist()) <= 60  # no range-salt holds the whole object (520 shares)
    assert older.count() == len(rows)  # every share is an older side exactly once

    local, ours = both(spark, ds, actions, params, split)
    assert_same_edges(local, ours)
    _, unsplit = both(spark, ds, actions, params, SplitParams(bucket_seconds=10**6, hot_object_shares=10**6))
    assert_same_edges(unsplit, ours)


# -- series ------------------------------------------------------------------------------------


def test_account_series_match_the_rhythm_bins(spark, tmp_path):
    rng = np.random.default_rng(3)
    n = 500
    seconds = rng.integers(-86400 * 3, 86400 * 20, n)
    posts = pa.table(
        {
            "platform": pa.array(rng.choice(["x", "telegram"], n), pa.string()),
            "post_id": pa.array([f"p{i}" for i in range(n)], pa.string()),
            "account_id": pa.array([f"u{i}" for i in rng.integers(0, 12, n)], pa.string()),
            "created_at": pa.array([T0 + dt.timedelta(seconds=int(s), microseconds=7) for s in seconds], model.TS),
            "kind": pa.array(["post"] * n, pa.string()),
        }
    )
    ds = dataset_of(tmp_path, actions_table(HAND), posts)
    half = account_half_hours(read_table(spark, ds, "posts")).cache()
    try:
        got_half = as_set(half.toArrow(), ["platform", "account_id", "day", "half_hour", "posts"])
        got_week = as_set(account_week(half).toArrow(), ["platform", "account_id", "slot", "posts"])
        got_days = as_set(account_days(half).toArrow(), ["platform", "account_id", "day", "posts"])
    finally:
        half.unpersist()
    # the local bins: rhythm.py's minutes, days and half hours, Monday = 0
    minute = rhythm._minutes(posts["created_at"])
    day, hh = minute // 1440, (minute % 1440) // 30
    slot = ((day + 3) % 7) * rhythm.BINS_PER_DAY + hh
    keys = list(zip(posts["platform"].to_pylist(), posts["account_id"].to_pylist()))
    epoch = dt.date(1970, 1, 1)

    def count(extra):
        out: dict[tuple, int] = {}
        for k, e in zip(keys, extra):
            out[(*k, *e)] = out.get((*k, *e), 0) + 1
        return {(*k, v) for k, v in out.items()}

    dates = [epoch + dt.timedelta(days=int(d)) for d in day]
    assert got_half == count(list(zip(dates, hh.tolist())))
    assert got_week == count([(int(s),) for s in slot])
    assert got_days == count([(d,) for d in dates])
    assert sum(r[-1] for r in got_week) == n


# -- the demo case -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_dataset(tmp_path_factory) -> tuple[Path, pa.Table]:
    from swarmscope.ingest import ingest
    from swarmscope.simulate import ScenarioParams, generate

    tmp = tmp_path_factory.mktemp("demo")
    scenario = generate(tmp / "input", ScenarioParams(seed=7))  # the demo's scenario (swarmscope demo)
    ingest(tmp / "case.duckdb", scenario.files, progress=False)
    with Case(tmp / "case.duckdb") as c:
        write_dataset(c.con, tmp / "ds")
        actions = c.con.sql(f"SELECT * FROM actions {ORDER}").to_arrow_table()
    return tmp / "ds", actions


@pytest.mark.parametrize(
    "params",
    [
        CoactionParams(time_window=60, object_types=("repost_of",)),  # the reposts network
        CoactionParams(time_window=900, object_types=("text_fingerprint", "url", "domain")),  # texts and links
    ],
    ids=["reposts", "texts-links"],
)
def test_demo_case_edges_equal_local(spark, demo_dataset, params):
    ds, actions = demo_dataset
    local, ours = both(spark, ds, actions, params)
    assert local.num_rows > 1000
    assert_same_edges(local, ours)


# -- the stage runner --------------------------------------------------------------------------


def test_run_stages_writes_outputs_duckdb_reads(spark, tmp_path):
    import duckdb

    from swarmscope.engines.spark import run_stages

    actions = actions_table(HAND)
    posts = posts_of(actions)
    ds = dataset_of(tmp_path, actions, posts)
    out = tmp_path / "out"
    params = CoactionParams(time_window=60)
    doc = run_stages(spark, ds, out, {"all": params})
    edges = duckdb.sql(
        f"SELECT * EXCLUDE (network) FROM read_parquet('{out}/coaction_edges/*/*.parquet', hive_partitioning = true)"
    ).to_arrow_table()
    assert_same_edges(local_edges(local_ordered(actions), params), edges)
    week = duckdb.sql(f"SELECT sum(posts) FROM read_parquet('{out}/account_week/*.parquet')").fetchall()[0][0]
    assert week == actions.num_rows and doc["rows"]["coaction_edges/all"] == 3
    assert len(list((out / "account_days").glob("*.parquet"))) == 1  # compact: one file per output
    (tmp_path / "foreign").mkdir()
    (tmp_path / "foreign" / "x.txt").write_text("x")
    with pytest.raises(ValueError, match="not empty"):
        run_stages(spark, ds, tmp_path / "foreign", {"all": params})


def test_run_stages_writes_to_a_uri_and_replaces_only_its_own_outputs(spark, tmp_path):
    """OUT at a URI goes through Spark's writers and Hadoop's FileSystem API (``file://`` is what this
    machine can test; ``s3a://`` is the same code with another connector): the same files as at a local
    path, the manifest written last; a re-run replaces it, an unfinished output (no manifest) too, and a
    folder with anything else in it is refused, at a URI as at a path."""
    import duckdb

    from swarmscope.engines.spark import run_stages
    from swarmscope.engines.spark.stages import MANIFEST

    actions = actions_table(HAND)
    posts = posts_of(actions)
    ds = dataset_of(tmp_path, actions, posts)
    params = {"all": CoactionParams(time_window=60), "short": CoactionParams(time_window=5)}
    at_path, at_uri = tmp_path / "out_path", tmp_path / "out_uri"
    doc_path = run_stages(spark, ds, at_path, params)
    doc_uri = run_stages(spark, ds.resolve().as_uri(), at_uri.resolve().as_uri(), params)
    assert doc_uri["rows"] == doc_path["rows"] and doc_uri["rows"]["coaction_edges/all"] == 3

    def read(out: Path, name: str) -> set:
        pattern = f"{out}/{name}/**/*.parquet"
        return set(duckdb.sql(f"SELECT * FROM read_parquet('{pattern}', hive_partitioning = true)").fetchall())

    for name in ("coaction_edges", "account_half_hours", "account_week", "account_days"):
        assert read(at_uri, name) == read(at_path, name) and read(at_uri, name)
    manifest = json.loads((at_uri / MANIFEST).read_text(encoding="utf-8"))
    assert manifest["rows"] == doc_uri["rows"] and not (at_uri / (MANIFEST + ".tmp")).exists()
    # a re-run with one network fewer replaces the whole output
    run_stages(spark, ds, at_uri.resolve().as_uri(), {"all": params["all"]})
    assert sorted(p.name for p in (at_uri / "coaction_edges").iterdir()) == ["network=all"]
    # a run stopped part way: outputs, no manifest; the next run completes it
    (at_uri / MANIFEST).unlink()
    doc = run_stages(spark, ds, at_uri.resolve().as_uri(), params)
    assert (at_uri / MANIFEST).is_file() and doc["rows"] == doc_path["rows"]
    (at_uri / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(ValueError, match="not empty"):
        run_stages(spark, ds, at_uri.resolve().as_uri(), params)
    assert (at_uri / "notes.txt").read_text(encoding="utf-8") == "mine"  # nothing deleted
    (tmp_path / "a_file").write_text("x", encoding="utf-8")
    for target in (tmp_path / "a_file", (tmp_path / "a_file").resolve().as_uri()):
        with pytest.raises(ValueError, match="a file, not a folder"):
            run_stages(spark, ds, target, params)


# -- a dataset at a URI (object storage) -----------------------------------------------------------


def test_a_dataset_is_read_through_spark_at_a_uri(spark, tmp_path):
    """``s3a://``, ``gs://``, ``hdfs://`` go through Hadoop's file systems, manifest included; ``file://``
    is the one this machine can test. The manifest is checked as for a local path."""
    from swarmscope.engines.dataset import MANIFEST, DatasetError
    from swarmscope.engines.spark.session import dataset_manifest

    actions = actions_table(HAND)
    ds = dataset_of(tmp_path, actions)
    uri = ds.resolve().as_uri()  # file:///...
    assert uri.startswith("file://")
    assert dataset_manifest(spark, uri)["tables"]["actions"]["rows"] == actions.num_rows
    params = CoactionParams(time_window=10)
    cols = ["from", "to", "weight", "n_objects"]
    at_uri = {tuple(r) for r in coaction_edges(read_table(spark, uri, "actions"), params).select(*cols).collect()}
    at_path = {tuple(r) for r in coaction_edges(read_table(spark, ds, "actions"), params).select(*cols).collect()}
    assert len(at_uri) > 0 and at_uri == at_path
    with pytest.raises(DatasetError, match="not a swarmscope dataset"):
        dataset_manifest(spark, (tmp_path / "nowhere").as_uri())
    (ds / MANIFEST).write_text('{"complete": false}', encoding="utf-8")
    with pytest.raises(DatasetError, match="not written to the end"):
        read_table(spark, uri, "actions")
