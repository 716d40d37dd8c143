"""Cadence on Spark (engines/spark/cadence.py) against the local engine (detect/cadence.py).

The table must be equal, every column and row, floats included: both engines compute the same exact
figures (integer sums, the median's two middle gaps, the gap histogram) and the floats are computed
once from them by ``detect.cadence.finish``, so no tolerance is needed anywhere. Runs on ``local[2]``;
the last test on ``local-cluster[2,1,1024]`` (two executor processes, as tests/test_spark_cluster.py).
Skips when pyspark or Java is absent, except in CI (CI=true), which installs both.
"""

from __future__ import annotations

import datetime as dt
import math
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
from swarmscope.detect.cadence import CADENCE, CadenceParams
from swarmscope.detect.cadence import cadence as local_cadence
from swarmscope.engines.spark import read_table, spark_session
from swarmscope.engines.spark.cadence import cadence
from swarmscope.engines.spark.detect import SparkDetect
from swarmscope.store import Case

from .test_spark import dataset_of, demo_dataset  # noqa: F401 (a fixture)
from .test_spark_cluster import cluster  # noqa: F401 (a fixture)

T0 = dt.datetime(2024, 3, 4, 9, 0, 0)
EPOCH = dt.datetime(1970, 1, 1)
HUMAN_GAPS = [37, 5000, 120, 86400, 15, 900, 3600, 61, 7200, 45, 250000, 30]
HUMAN_GAPS += [400, 1800, 95, 13000, 70, 600, 2, 43200, 150, 5, 10000, 300.5]  # 24 gaps, all distinct


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def hand_rows() -> list[tuple]:
    """(platform, account, time or None, client) rows; post ids are given in this order."""
    rows = [("x", "sched", T0 + dt.timedelta(seconds=600 * i), "Buffer") for i in range(25)]  # a scheduler
    rows += [("y", "sched", T0 + dt.timedelta(seconds=60 * i), None) for i in range(20)]  # same id, other platform
    # human-like: irregular gaps; a tie between two clients (12 each) and one post without a client
    t, human = T0, [T0]
    for g in HUMAN_GAPS:
        t += dt.timedelta(seconds=g)
        human.append(t)
    clients = ["Twitter for iPhone", "Twitter Web App"] * 12 + [None]
    rows += [("x", "human", at, c) for at, c in zip(human, clients)]
    # three posts in 09:01 (two in the same microsecond) and three in 09:02: the earlier minute wins;
    # a tie between an automation client (upper case) and a client of people, 10 posts each
    spray = [T0 + dt.timedelta(seconds=s) for s in (60, 60, 110, 130, 140, 150)]
    spray += [T0 + dt.timedelta(hours=h) for h in range(1, 15)]
    rows += [("x", "spray", at, "ZAPIER" if i % 2 else "Tweetbot for iOS") for i, at in enumerate(spray)]
    # before 1970: minutes are floored, not truncated toward zero (23:58: 5 posts, 23:59: 8, 00:00: 7)
    old = dt.datetime(1969, 12, 31, 23, 58, 30)
    rows += [("y", "old", old + dt.timedelta(seconds=7 * i), "IFTTT") for i in range(20)]
    rows += [("x", "few", T0 + dt.timedelta(seconds=60 * i), "IFTTT") for i in range(19)]  # one short of 20
    # 19 timed posts and 5 without a time: not enough; 30 posts without an account: left out
    rows += [("x", "late", T0 + dt.timedelta(seconds=60 * i), "IFTTT") for i in range(19)]
    rows += [("x", "late", None, "IFTTT") for _ in range(5)]
    rows += [("x", None, T0 + dt.timedelta(seconds=i), "IFTTT") for i in range(30)]
    return rows


def posts_table(rows: list[tuple]) -> pa.Table:
    cols = list(zip(*rows))
    return pa.table(
        {
            "platform": pa.array(cols[0], pa.string()),
            "post_id": pa.array([f"p{i:04d}" for i in range(len(rows))], pa.string()),
            "account_id": pa.array(cols[1], pa.string()),
            "created_at": pa.array(cols[2], model.TS),
            "client": pa.array(cols[3], pa.string()),
            "text": pa.array(["a post"] * len(rows), pa.string()),
            "kind": pa.array(["post"] * len(rows), pa.string()),
        }
    )


@pytest.fixture(scope="module")
def hand_case(tmp_path_factory) -> tuple[Path, pa.Table]:
    tmp = tmp_path_factory.mktemp("cadence")
    posts = posts_table(hand_rows())
    return dataset_of(tmp, None, posts), posts


def both(spark, ds: Path, posts: pa.Table, params: CadenceParams) -> tuple[pa.Table, pa.Table]:
    local = local_cadence(posts, params)
    ours = cadence(read_table(spark, ds, "posts"), params)
    assert ours.schema == CADENCE
    return local, ours


def by_account(table: pa.Table) -> dict[tuple[str, str], dict]:
    return {(r["platform"], r["account_id"]): r for r in table.to_pylist()}


def test_hand_checked_accounts(spark, hand_case):
    ds, posts = hand_case
    local, ours = both(spark, ds, posts, CadenceParams())
    assert ours.equals(local)  # every column, floats included, in the same order
    r = by_account(ours)
    assert list(r) == [("x", "human"), ("x", "sched"), ("x", "spray"), ("y", "old"), ("y", "sched")]

    s = r[("x", "sched")]
    assert (s["posts"], s["first_at"], s["last_at"]) == (25, T0, T0 + dt.timedelta(seconds=600 * 24))
    assert (s["gap_median_seconds"], s["gap_cv"], s["gap_entropy"]) == (600.0, 0.0, 0.0)
    assert (s["peak_per_minute"], s["peak_minute"], s["automation_client_share"], s["top_client"]) == (
        1,
        T0,
        1.0,
        "Buffer",
    )
    assert s["flags"] == ["regular-gaps", "repeated-gaps", "automation-client"] and s["automated_looking"]
    y = r[("y", "sched")]
    assert (y["gap_median_seconds"], y["automation_client_share"], y["top_client"]) == (60.0, 0.0, None)
    assert y["flags"] == ["regular-gaps", "repeated-gaps"]

    h = r[("x", "human")]
    assert h["posts"] == 25 and h["gap_median_seconds"] == 350.25  # (300.5 + 400) / 2: an even count of gaps
    gaps = np.array(HUMAN_GAPS)
    assert h["gap_cv"] == pytest.approx(gaps.std() / gaps.mean(), rel=1e-12) and h["gap_cv"] > 2
    assert h["gap_entropy"] == 1.0  # 24 gaps in 24 distinct one-second bins
    assert h["top_client"] == "Twitter Web App"  # 12 each: the smaller value in byte order
    assert h["flags"] == [] and not h["automated_looking"]

    p = r[("x", "spray")]
    assert (p["peak_per_minute"], p["peak_minute"]) == (3, T0 + dt.timedelta(minutes=1))  # 09:01 before 09:02
    assert (p["top_client"], p["automation_client_share"]) == ("Tweetbot for iOS", 0.5)
    assert p["flags"] == ["automation-client"]
    assert 0.0 < p["gap_entropy"] < 1.0

    o = r[("y", "old")]
    assert (o["peak_per_minute"], o["peak_minute"]) == (8, dt.datetime(1969, 12, 31, 23, 59))
    assert (o["gap_median_seconds"], o["first_at"]) == (7.0, dt.datetime(1969, 12, 31, 23, 58, 30))


def test_min_posts_and_bins(spark, hand_case):
    """Just under ``min_posts`` is out; one fewer lets it in. Wider bins and other thresholds."""
    ds, posts = hand_case
    local, ours = both(spark, ds, posts, CadenceParams(min_posts=19))
    assert ours.equals(local)
    r = by_account(ours)
    assert r[("x", "few")]["posts"] == 19 and r[("x", "late")]["posts"] == 19  # the untimed posts do not count
    assert all(a is not None for _, a in r)
    params = CadenceParams(min_posts=2, gap_bin_seconds=60, max_cv=2.5, min_peak_per_minute=3, automation_clients=())
    local, ours = both(spark, ds, posts, params)
    assert ours.equals(local)
    r = by_account(ours)
    assert r[("x", "spray")]["automation_client_share"] == 0.0 and "posts-per-minute" in r[("x", "spray")]["flags"]
    assert 0.0 < r[("x", "human")]["gap_entropy"] < 1.0  # 2, 5, 15, 30, 37, 45 s share the first minute bin


def test_random_posts_equal_local(spark, tmp_path):
    """Many accounts, gaps drawn with ties (a 10 s grid) and even and odd counts, clients with ties."""
    rng = np.random.default_rng(5)
    clients = ["Twitter Web App", "dlvr.it", "Buffer", "Twitter for Android", None]
    rows = []
    for a in range(120):
        n = int(rng.integers(1, 40))
        start = T0 + dt.timedelta(seconds=int(rng.integers(0, 86400)))
        offsets = np.sort(rng.integers(0, 3000, size=n) * 10 + (rng.integers(0, 1_000_000, size=n) if a % 3 else 0))
        k = int(rng.integers(1, len(clients) + 1))
        rows += [
            (
                "x" if a % 4 else "t",
                f"a{a}",
                start + dt.timedelta(microseconds=int(o)),
                clients[int(rng.integers(0, k))],
            )
            for o in offsets
        ]
    posts = posts_table(rows)
    ds = dataset_of(tmp_path, None, posts)
    for params in (CadenceParams(min_posts=2), CadenceParams(min_posts=1, gap_bin_seconds=30)):
        local, ours = both(spark, ds, posts, params)
        assert local.num_rows > 100
        assert ours.equals(local)


def test_demo_case_cadence_equals_local(spark, demo_dataset):  # noqa: F811
    ds, _ = demo_dataset
    with Case(ds.parent / "case.duckdb", read_only=True) as c:
        posts = c.con.sql("SELECT platform, post_id, account_id, created_at, client FROM posts").to_arrow_table()
    for params in (CadenceParams(), CadenceParams(min_posts=2)):
        local, ours = both(spark, ds, posts, params)
        assert local.num_rows > 300 and sum(local["automated_looking"].to_pylist()) > 0
        assert ours.equals(local)


def test_spark_detect_stage_reads_the_case(spark, hand_case):
    """``SparkDetect.cadence``, as ``detect --engine spark`` calls it: the case's posts written as a
    dataset, the signals stage's table back."""
    ds, posts = hand_case
    with Case(ds.parent / "case.duckdb", read_only=True) as c, SparkDetect("local[2]") as run:
        ours = run.cadence(c.con, CadenceParams())
        assert run.spark.sparkContext._jsc.getPersistentRDDs().isEmpty()  # the stage's checkpoint released
    assert ours.equals(local_cadence(posts, CadenceParams())) and ours.num_rows == 5
    assert math.isclose(by_account(ours)[("x", "human")]["gap_median_seconds"], 350.25)


# -- on two executor processes (last: the fixture stops this module's local[2] session) -------------


def test_local_cluster_gives_the_local_cadence(cluster, hand_case):  # noqa: F811
    assert cluster.sparkContext.master == "local-cluster[2,1,1024]"
    ds, posts = hand_case
    for params in (CadenceParams(), CadenceParams(min_posts=2, gap_bin_seconds=60)):
        local, ours = both(cluster, ds, posts, params)
        assert local.num_rows >= 5
        assert ours.equals(local)
    assert cluster.sparkContext._jsc.sc().getExecutorMemoryStatus().size() == 3
