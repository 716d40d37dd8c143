"""Detectors on a caller's DuckDB connection: the same results as on their own scratch
connection, and the connection left as it was (no registered views, no temporary tables,
still open), also when a query fails half-way."""

from __future__ import annotations

import datetime as dt
import os

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from swarmscope import duck, graph, model
from swarmscope.detect import coaction_prepare
from swarmscope.detect.accounts import AccountParams, account_patterns
from swarmscope.detect.bursts import BurstParams, burst_events, find_bursts
from swarmscope.detect.cadence import CadenceParams, cadence
from swarmscope.detect.coaction import CoactionParams, coaction_edges, prepare_actions
from swarmscope.detect.runs import RunParams, find_runs

T0 = dt.datetime(2024, 3, 1, 9)


def leftovers(con: duckdb.DuckDBPyConnection) -> tuple[list, list]:
    views = con.execute("SELECT view_name FROM duckdb_views() WHERE NOT internal").fetchall()
    tables = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()
    return views, tables


@pytest.fixture
def con():
    c = duck.session(duckdb.connect())
    yield c
    c.close()


@pytest.fixture
def posts():
    rng = np.random.default_rng(5)
    rows = []
    for i in range(200):  # background chatter
        rows.append((f"u{rng.integers(0, 60)}", float(rng.uniform(0, 48 * 3600)), f"ordinary remark {i}", "#news"))
    for i in range(60):  # a burst of copies on one tag by a few accounts, every 3 s
        rows.append((f"bot{i % 3}", 20 * 3600 + 3.0 * i, "the very same copied text of the campaign", "#wave"))
    return pa.table(
        {
            "platform": ["x"] * len(rows),
            "post_id": [f"p{i}" for i in range(len(rows))],
            "account_id": [r[0] for r in rows],
            "created_at": pa.array([T0 + dt.timedelta(seconds=r[1]) for r in rows], pa.timestamp("us")),
            "text": [r[2] for r in rows],
            "kind": ["post"] * len(rows),
            "hashtags": [[r[3]] for r in rows],
            "client": ["Twitter Web App" if r[0].startswith("u") else "dlvr.it" for r in rows],
        }
    )


@pytest.fixture
def accounts():
    rows = [
        {
            "platform": "x",
            "account_id": f"a{i}",
            "handle": f"anna_petrova{1980 + i}",
            "created_at": T0 + dt.timedelta(hours=i),
            "followers": 3,
            "posts_count": 5000,
            "description": "the same long biography text of every account",
            "display_name": f"Anna {i}",
        }
        for i in range(8)
    ]
    return model.conform(pa.Table.from_pylist(rows), "accounts")


def test_detectors_on_a_given_connection(con, posts, accounts):
    params = BurstParams(min_posts=20, min_ratio=2.0)
    events = burst_events(posts)
    assert burst_events(posts, con=con).equals(events)
    found = find_bursts(events, params)
    assert found.num_rows >= 1
    assert find_bursts(events, params, con=con).equals(found)
    assert find_bursts(events, params, con=con).equals(found)  # twice: its temporary tables are gone
    assert find_runs(posts, RunParams(min_run=3), con=con).equals(find_runs(posts, RunParams(min_run=3)))
    assert cadence(posts, CadenceParams(), con=con).equals(cadence(posts, CadenceParams()))
    mine, own = account_patterns(accounts, AccountParams(), con=con), account_patterns(accounts, AccountParams())
    assert mine.handle_templates.num_rows == 1
    for name in ("batches", "handle_templates", "default_handles", "shared_profiles", "low_followers"):
        assert getattr(mine, name).equals(getattr(own, name)), name
    assert leftovers(con) == ([], [])
    assert con.execute("SELECT 42").fetchall() == [(42,)]  # still open


def test_a_caller_temporary_table_is_left_alone(con, posts):
    con.execute("CREATE TEMP TABLE ev AS SELECT 1 AS mine")
    with pytest.raises(duckdb.Error):  # find_bursts needs the name for itself
        find_bursts(burst_events(posts), con=con)
    assert con.execute("SELECT mine FROM ev").fetchall() == [(1,)]
    assert leftovers(con) == ([], [("ev",)])


def test_a_failing_query_leaves_the_connection_clean(con, posts):
    broken = posts.set_column(
        posts.schema.get_field_index("created_at"), "created_at", pa.array(["not a time"] * posts.num_rows)
    )
    with pytest.raises(duckdb.Error):
        cadence(broken, con=con)
    events = burst_events(posts).drop_columns(["created_at"])
    events = events.append_column("created_at", pa.array(["not a time"] * events.num_rows))
    with pytest.raises(duckdb.Error):  # fails after its first temporary table
        find_bursts(events, con=con)
    assert leftovers(con) == ([], [])
    assert con.execute("SELECT 42").fetchall() == [(42,)]


def test_clusters_and_prepared_actions_on_a_given_connection(con, posts, monkeypatch):
    monkeypatch.setattr(coaction_prepare, "PROOF_ROWS", 0)  # post codes by the hash proof, on ``con``
    actions = pa.table(
        {
            "platform": posts["platform"],
            "account_id": posts["account_id"],
            "post_id": posts["post_id"],
            "created_at": posts["created_at"],
            "object_type": pa.array(["hashtag"] * posts.num_rows),
            "object_id": pa.array([h[0] for h in posts["hashtags"].to_pylist()]),
        }
    )
    params = CoactionParams(time_window=10)
    edges = coaction_edges(prepare_actions(actions, params))
    assert edges.num_rows >= 3
    assert coaction_edges(prepare_actions(actions, params, con=con)).equals(edges)
    cp = graph.ClusterParams(edges_used="all")
    mine, own = graph.clusters(edges, params=cp, con=con), graph.clusters(edges, params=cp)
    assert mine.membership.equals(own.membership) and mine.stats.equals(own.stats)
    assert leftovers(con) == ([], [])


def test_a_scratch_connection_with_a_memory_limit_spills_to_its_own_folder_and_removes_it():
    with duck.scratch(memory_gib=0.25) as c:
        limit, spill = c.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchall()[0]
        assert limit == "256.0 MiB" and "swarmscope-spill-" in spill
        # a grouping of 3M keys with their lists needs more than 256 MiB: it spills, and still answers
        (n,) = c.execute(
            "SELECT count(*) FROM (SELECT range % 3000017 AS k, list(range) FROM range(9000000) GROUP BY k)"
        ).fetchall()[0]
        assert n == 3000017
    assert not os.path.exists(spill)
    with pytest.raises(duckdb.ConnectionException):
        c.execute("SELECT 1")


_CACHED = "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory() WHERE tag = 'BASE_TABLE'"
_LIMIT = "SELECT current_setting('memory_limit')"


def _read_file_table(tmp_path) -> duckdb.DuckDBPyConnection:
    """A fresh connection to a case-like file whose 4M-row table it has just read: DuckDB keeps the
    table's blocks cached after the query (up to its limit, 80 % of the RAM by default)."""
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    con.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(4000000)")
    con.execute("CHECKPOINT")
    con.close()
    con = duckdb.connect(str(tmp_path / "c.duckdb"))
    assert con.sql("SELECT count(DISTINCT s) FROM t").fetchall()[0][0] == 4000000
    assert con.execute(_CACHED).fetchall()[0][0] > 48 * 2**20  # the 4M md5 strings' blocks
    return con


def test_a_memory_cap_evicts_the_cached_table_blocks_and_puts_the_limit_back(tmp_path):
    """``memory_at_most`` lowers the limit for a block, which evicts the cached blocks, then restores it."""
    con = _read_file_table(tmp_path)
    old = con.execute(_LIMIT).fetchall()[0][0]
    with duck.memory_at_most(con, 16 / 1024):
        assert con.execute(_LIMIT).fetchall()[0][0] == "16.0 MiB"
        assert con.execute(_CACHED).fetchall()[0][0] <= 16 * 2**20
    assert con.execute(_LIMIT).fetchall()[0][0] == old
    with duck.memory_at_most(con, 1e6):  # never raised
        assert con.execute(_LIMIT).fetchall()[0][0] == old


def test_release_cache_gives_the_cached_blocks_back_and_keeps_the_limit(tmp_path):
    con = _read_file_table(tmp_path)
    old = con.execute(_LIMIT).fetchall()[0][0]
    duck.release_cache(con)
    assert con.execute(_CACHED).fetchall()[0][0] <= 2**30 / 16
    assert con.execute(_LIMIT).fetchall()[0][0] == old
    # an in-memory table cannot be evicted: nothing happens, no error, the limit stays
    mem = duckdb.connect()
    mem.execute("CREATE TABLE t AS SELECT range AS i, md5(range::VARCHAR) AS s FROM range(4000000)")
    before = mem.execute(_LIMIT).fetchall()[0][0]
    duck.release_cache(mem)
    assert mem.execute(_LIMIT).fetchall()[0][0] == before
