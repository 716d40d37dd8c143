"""Co-action pairs and edges (detect/coaction*.py): hand-checked fixtures, a literal CooRTweet
reference on random data, exact parity with CooRTweet's published outputs, and a viral object."""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from swarmscope.detect import coaction_kernel as kernel
from swarmscope.detect import coaction_prepare as prepare
from swarmscope.detect.coaction import CoactionParams, coaction_edges, coaction_pairs, prepare_actions

from .conftest import SHARED

T0 = dt.datetime(2024, 5, 1, 12, 0)
COORTWEET = SHARED / "coortweet"


def actions(rows, platform="x", object_type="repost_of"):
    """rows: (account, post, seconds after T0, object[, object_type])."""
    return pa.table(
        {
            "platform": [platform] * len(rows),
            "account_id": [r[0] for r in rows],
            "post_id": [r[1] for r in rows],
            "created_at": pa.array([T0 + dt.timedelta(seconds=r[2]) for r in rows], pa.timestamp("us")),
            "object_type": [r[4] if len(r) > 4 else object_type for r in rows],
            "object_id": [r[3] for r in rows],
        }
    )


def by_pair(table):
    return {tuple(sorted((r["from"], r["to"]))): r for r in table.to_pylist()}


HAND = [
    # o1: A and B 5 s apart; C 25 s after B
    ("A", "a1", 0, "o1"),
    ("B", "b1", 5, "o1"),
    ("C", "c1", 30, "o1"),
    # o2: A-B exactly 10 s (inside: CooRTweet's <=), C 10.000001 s after A, 0.000001 s after B
    ("A", "a2", 100, "o2"),
    ("B", "b2", 110, "o2"),
    ("C", "c2", 110.000001, "o2"),
    # o3: A twice (a self-pair, a loop) and B 5 s after A's first share
    ("A", "a3", 200, "o3"),
    ("A", "a4", 201, "o3"),
    ("B", "b3", 205, "o3"),
    # D shares once: dropped by min_participation before anything else
    ("D", "d1", 1, "o1"),
]


def test_hand_checked_edges_and_pairs():
    params = CoactionParams(time_window=10, min_participation=2)
    edges = by_pair(coaction_edges(actions(HAND), params))
    assert set(edges) == {("A", "B"), ("B", "C")}  # A-C on o2 is 10.000001 s: outside
    ab = edges[("A", "B")]
    # pairs: o1 a1-b1 (5), o2 a2-b2 (10), o3 a3-b3 (5), a4-b3 (4)
    assert ab["weight"] == 4
    assert ab["avg_time_delta"] == pytest.approx((5 + 10 + 5 + 4) / 4)
    assert (ab["n_content_id"], ab["n_content_id_y"]) == (4, 3)  # older: a1 a2 a3 a4; newer: b1 b2 b3
    assert ab["edge_symmetry_score"] == pytest.approx(3 / 4)
    assert ab["n_objects"] == 3 and ab["weight_repost_of"] == 4
    bc = edges[("B", "C")]
    assert bc["weight"] == 1 and bc["avg_time_delta"] == pytest.approx(0.000001)
    # median weight is 2.5: only A-B is above it
    assert (ab["weight_threshold"], bc["weight_threshold"]) == (1, 0)

    pairs = coaction_pairs(actions(HAND), params).to_pylist()
    assert len(pairs) == 5
    assert not any(p["account_a"] == p["account_b"] for p in pairs)  # A-A on o3 is a loop
    p = next(p for p in pairs if p["post_b"] == "c2")
    assert (p["account_a"], p["post_a"], p["object_id"]) == ("B", "b2", "o2")
    assert p["time_b"] - p["time_a"] == dt.timedelta(microseconds=1) and p["delta"] == pytest.approx(1e-6)


def test_min_participation_counts_actions_in_pairs():
    # C's two actions pass the pre-filter, but only one of C's posts is in a pair:
    # with min_participation 2, the B-C pair survives only because B qualifies.
    rows = [
        ("A", "a1", 0, "o1"),
        ("B", "b1", 3, "o1"),
        ("A", "a2", 50, "o2"),
        ("B", "b2", 52, "o2"),
        ("C", "c1", 53, "o2"),
        ("C", "c2", 500, "o3"),
    ]
    edges = by_pair(coaction_edges(actions(rows), CoactionParams(time_window=10)))
    assert set(edges) == {("A", "B"), ("A", "C"), ("B", "C")}
    # with 3, nobody has three actions: the pre-filter leaves nothing
    assert coaction_edges(actions(rows), CoactionParams(time_window=10, min_participation=3)).num_rows == 0


def test_remove_loops_drops_self_shares_and_own_objects():
    rows = [
        ("A", "a1", 0, "o1"),
        ("A", "a2", 1, "o1"),
        ("B", "o2", 0, "o2"),
        ("A", "a3", 2, "o2"),
        ("B", "b1", 3, "o1"),
    ]
    on = by_pair(coaction_edges(actions(rows), CoactionParams(time_window=10)))
    assert set(on) == {("A", "B")} and on[("A", "B")]["weight"] == 2  # B's post o2 is the object itself
    off = by_pair(coaction_edges(actions(rows), CoactionParams(time_window=10, remove_loops=False)))
    assert off[("A", "A")]["weight"] == 1 and off[("A", "B")]["weight"] == 3


def test_multiplex_types_and_filter():
    rows = [
        ("A", "a1", 0, "u1", "url"),
        ("B", "b1", 2, "u1", "url"),
        ("A", "a1", 0, "h1", "hashtag"),
        ("B", "b1", 2, "h1", "hashtag"),
        ("A", "a2", 60, "h2", "hashtag"),
        ("B", "b2", 61, "h2", "hashtag"),
        # same id, different type: not the same object
        ("C", "c1", 1, "h1", "url"),
        ("C", "c2", 900, "zz", "url"),
    ]
    edges = by_pair(coaction_edges(actions(rows), CoactionParams(time_window=10)))
    ab = edges[("A", "B")]
    assert (ab["weight"], ab["weight_url"], ab["weight_hashtag"]) == (3, 1, 2)
    assert (ab["n_content_id"], ab["n_objects"]) == (2, 3)  # a1 counted once across two objects
    assert ("A", "C") not in edges
    only_url = coaction_edges(actions(rows), CoactionParams(time_window=10, object_types=("url",)))
    assert only_url.num_rows == 0  # A and B have one url action each: pre-filtered
    assert "weight_hashtag" not in only_url.column_names


def test_fast_network_flags_subset():
    rows = [
        ("A", "a1", 0, "o1"),
        ("B", "b1", 2, "o1"),
        ("A", "a2", 100, "o2"),
        ("B", "b2", 103, "o2"),
        ("A", "a3", 200, "o3"),
        ("B", "b3", 240, "o3"),
        ("C", "c1", 250, "o3"),
        ("C", "c2", 999, "o9"),
    ]
    params = CoactionParams(time_window=60, fast_time_window=5)
    edges = by_pair(coaction_edges(actions(rows), params))
    ab = edges[("A", "B")]
    assert (ab["weight"], ab["weight_fast"]) == (3, 2)
    assert ab["avg_time_delta_fast"] == pytest.approx(2.5)
    assert edges[("B", "C")]["weight_fast"] is None  # 10 s apart: outside the fast network
    pairs = coaction_pairs(actions(rows), params)
    assert sorted(pairs.filter(pairs["fast"])["post_a"].to_pylist()) == ["a1", "a2"]


def test_relation_input_and_edge_restricted_pairs():
    con = duckdb.connect()
    tbl = actions(HAND)
    rel = con.from_arrow(tbl)
    params = CoactionParams(time_window=10)
    assert coaction_edges(rel, params).equals(coaction_edges(tbl, params))
    only = coaction_pairs(tbl, params, edges=pa.table({"from": ["C"], "to": ["B"]}))
    assert only.num_rows == 1 and {only["account_a"][0].as_py(), only["account_b"][0].as_py()} == {"B", "C"}
    # no edges (as when nothing is significant): no pairs, with the columns of the full pairs table
    none = coaction_pairs(
        tbl, params, edges=pa.table({"from": pa.array([], pa.string()), "to": pa.array([], pa.string())})
    )
    assert none.num_rows == 0 and none.schema == coaction_pairs(tbl, params).schema


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(time_window=-1), "time_window"),
        (dict(time_window=float("nan")), "time_window"),
        (dict(edge_weight=1.5), "between 0 and 1"),
        (dict(min_participation=0), "min_participation"),
        (dict(fast_time_window=120), "must not exceed"),
        (dict(object_types="url"), "tuple of strings"),
    ],
)
def test_bad_parameters(change, message):
    with pytest.raises(ValueError, match=message):
        CoactionParams(**change)


def test_bad_actions():
    tbl = actions(HAND)
    with pytest.raises(ValueError, match="lacks column.*object_id"):
        coaction_edges(tbl.drop(["object_id"]))
    with_null = tbl.set_column(
        3, "created_at", pa.array([None] + tbl["created_at"].to_pylist()[1:], pa.timestamp("us"))
    )
    with pytest.raises(ValueError, match="created_at is missing in row 0"):
        coaction_edges(with_null)
    as_text = tbl.set_column(3, "created_at", pa.array(["x"] * tbl.num_rows))
    with pytest.raises(ValueError, match="must be a timestamp"):
        coaction_edges(as_text)
    assert coaction_edges(tbl.slice(0, 0)).num_rows == 0


# -- CooRTweet, literally ------------------------------------------------------


def coortweet(rows, tw, mp, remove_loops=True):
    """detect_groups + generate_coordinated_network as written in R, O(n^2), on (object, account, content, ts)."""
    n_rows = Counter(r[1] for r in rows)
    accounts = list(dict.fromkeys(r[1] for r in rows))
    x = [r for a in accounts if n_rows[a] >= mp for r in rows if r[1] == a]  # data.table `by` keeps first-seen order
    result = []
    for o in dict.fromkeys(r[0] for r in x):
        g = [r for r in x if r[0] == o]
        for i in range(len(g)):
            for j in range(i + 1, len(g)):
                d = g[i][3] - g[j][3]
                if abs(d) <= tw:
                    result.append([o, g[i][2], g[j][2], g[i][1], g[j][1], d])
    if remove_loops:
        result = [r for r in result if r[0] != r[1] and r[0] != r[2] and r[1] != r[2] and r[3] != r[4]]
    contents = {r[1] for r in result} | {r[2] for r in result}
    per_account = Counter(r[1] for r in x if r[2] in contents)
    keep = {r[2] for r in x if r[2] in contents and per_account[r[1]] >= mp}
    result = [r for r in result if r[1] in keep or r[2] in keep]
    edges = {}
    for _o, c, cy, a, ay, d in result:
        if d > 0:
            c, cy, a, ay = cy, c, ay, a
        e = edges.setdefault((min(a, ay), max(a, ay)), {"w": 0, "d": [], "c": set(), "cy": set()})
        e["w"] += 1
        e["d"].append(abs(d))
        e["c"].add(c)
        e["cy"].add(cy)
    if not edges:
        return {}
    threshold = np.quantile([e["w"] for e in edges.values()], 0.5)
    return {
        k: (e["w"], float(np.mean(e["d"])), len(e["c"]), len(e["cy"]), int(e["w"] > threshold))
        for k, e in edges.items()
    }


def random_rows(seed):
    rng = random.Random(seed)
    rows = []
    for i in range(rng.randint(20, 70)):
        obj = f"o{rng.randint(1, 6)}"
        content = f"c{i}" if rng.random() > 0.1 else (f"c{max(i - 1, 0)}" if rng.random() > 0.5 else obj)
        rows.append((obj, f"u{rng.randint(1, 9)}", content, rng.randint(0, 80) / 2))  # ties, halves: exact floats
    return rows


@pytest.mark.parametrize("seed", range(25))
def test_matches_literal_coortweet_on_random_data(seed):
    rows = random_rows(seed)
    tw, mp = (10, 2) if seed % 2 else (5, 3)
    expected = coortweet(rows, tw, mp, remove_loops=seed % 5 != 0)
    tbl = pa.table(
        {
            "platform": ["other"] * len(rows),
            "account_id": [r[1] for r in rows],
            "post_id": [r[2] for r in rows],
            "created_at": pa.array([T0 + dt.timedelta(seconds=r[3]) for r in rows], pa.timestamp("us")),
            "object_type": ["object"] * len(rows),
            "object_id": [r[0] for r in rows],
        }
    )
    params = CoactionParams(time_window=tw, min_participation=mp, remove_loops=seed % 5 != 0, max_pairs_per_chunk=7)
    got = {
        k: (r["weight"], r["avg_time_delta"], r["n_content_id"], r["n_content_id_y"], r["weight_threshold"])
        for k, r in by_pair(coaction_edges(tbl, params)).items()
    }
    assert set(got) == set(expected)
    for k in expected:
        assert got[k][0] == expected[k][0] and got[k][2:] == expected[k][2:], k
        assert got[k][1] == pytest.approx(expected[k][1], abs=1e-9)


# -- CooRTweet's published outputs --------------------------------------------


def russian_actions():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con.sql(f"""
        SELECT 'other' AS platform, account_id, content_id AS post_id,
               make_timestamp(CAST(round(timestamp_share * 1000000) AS BIGINT)) AS created_at,
               'object' AS object_type, object_id
        FROM read_csv('{COORTWEET / "russian_coord_tweets.csv"}',
                      columns = {{'object_id': 'VARCHAR', 'account_id': 'VARCHAR', 'content_id': 'VARCHAR',
                                  'timestamp_share': 'DOUBLE'}}, header = true)
    """).to_arrow_table()


@pytest.mark.shared_data
@pytest.mark.parametrize(
    "name, tw, mp", [("edges_russian_tw60_mp2_ew0.5.csv", 60, 2), ("edges_russian_tw10_mp5_ew0.5.csv", 10, 5)]
)
def test_parity_with_coortweet(name, tw, mp):
    ref = by_pair(duckdb.sql(f"SELECT * FROM read_csv('{COORTWEET / name}', all_varchar = true)").to_arrow_table())
    params = CoactionParams(time_window=tw, min_participation=mp, edge_weight=0.5)
    got = by_pair(coaction_edges(russian_actions(), params))
    assert len(got) == len(ref) and set(got) == set(ref)
    for k, r in ref.items():
        g = got[k]
        for col in ("weight", "n_content_id", "n_content_id_y", "weight_threshold"):
            assert g[col] == int(r[col]), (k, col)
        for col in ("avg_time_delta", "edge_symmetry_score"):
            assert g[col] == pytest.approx(float(r[col]), abs=1e-6), (k, col)


# -- a viral object -------------------------------------------------------------


@pytest.mark.scale
def test_viral_object_is_output_sensitive_and_exact():
    """20,000 shares of one post over a day by 20,000 accounts: the pairs are exactly the
    in-window ones (checked by an independent count), and chunking changes nothing."""
    rng = np.random.default_rng(7)
    n = 20_000
    t = np.sort(rng.integers(0, 86_400_000_000, n))  # microseconds over one day
    tbl = pa.table(
        {
            "platform": ["x"] * n,
            "account_id": [f"u{a}" for a in rng.permutation(n)],
            "post_id": [f"v{i}" for i in range(n)],
            "created_at": pa.array(t, pa.timestamp("us")),
            "object_type": ["repost_of"] * n,
            "object_id": ["viral"] * n,
        }
    )
    window = 30
    in_window = int((np.searchsorted(t, t + window * 1_000_000, side="right") - np.arange(1, n + 1)).sum())
    params = CoactionParams(time_window=window, min_participation=1)
    big = coaction_edges(tbl, params)
    assert int(np.sum(big["weight"].to_numpy())) == in_window == big.num_rows  # distinct accounts: weight 1 each
    assert big["avg_time_delta"].to_numpy().max() <= window
    small = coaction_edges(tbl, CoactionParams(time_window=window, min_participation=1, max_pairs_per_chunk=997))
    assert small.equals(big)
    # candidates are the in-window pairs only, about 1/2,900 of the cartesian product
    p = prepare_actions(tbl, params)
    assert int((p.end - np.arange(1, len(p.end) + 1)).sum()) == in_window < n * (n - 1) // 2 // 1000


@pytest.mark.parametrize("seed", range(6))
def test_chunks_and_threads_do_not_change_edges(seed, monkeypatch):
    """The chunk merge is exact: posts with several actions (several types), objects and windows
    cut by chunk boundaries, one thread or several; compared on every column."""
    rng = np.random.default_rng(seed)
    n = 300
    rows = [
        (
            f"u{rng.integers(0, 12)}",
            f"p{rng.integers(0, 120)}",
            float(rng.integers(0, 120)),
            f"o{rng.integers(0, 4)}",
            ["repost_of", "url"][int(rng.integers(0, 2))],
        )
        for _ in range(n)
    ]
    tbl = actions(rows)
    base = dict(time_window=20, min_participation=2, fast_time_window=5)
    monkeypatch.setattr(kernel, "THREADS", 1)
    whole = coaction_edges(tbl, CoactionParams(**base))
    assert whole.num_rows > 20 and int(pc_sum(whole["weight"])) > whole.num_rows  # edges with several pairs
    for threads in (1, 2):
        monkeypatch.setattr(kernel, "THREADS", threads)
        for size in (1, 2, 5, 37):
            assert coaction_edges(tbl, CoactionParams(**base, max_pairs_per_chunk=size)).equals(whole), (threads, size)
    # rounds reduced without a merge: pairs partitioned by key range into work units
    monkeypatch.setattr(kernel, "UNIT_PAIRS", 3)
    for threads, buckets, size, per_round in ((1, 3, 5, None), (2, 4096, 3, 10**9), (3, 7, 37, 50), (2, 5, 4, 9)):
        monkeypatch.setattr(kernel, "THREADS", threads)
        monkeypatch.setattr(kernel, "N_BUCKETS", buckets)
        got = coaction_edges(tbl, CoactionParams(**base, max_pairs_per_chunk=size, max_pairs_per_round=per_round))
        assert got.equals(whole), (threads, buckets, size, per_round)


def test_one_round_is_partitioned_into_units(monkeypatch):
    """With the whole input in one round, several work units each reduce a disjoint key range: no merge."""
    rng = np.random.default_rng(3)
    rows = [
        (f"u{rng.integers(0, 40)}", f"p{i}", float(rng.integers(0, 200)), f"o{rng.integers(0, 3)}", "repost_of")
        for i in range(400)
    ]
    tbl = actions(rows)
    params = CoactionParams(time_window=30, min_participation=1, max_pairs_per_chunk=50, max_pairs_per_round=10**9)
    monkeypatch.setattr(kernel, "THREADS", 1)
    whole = coaction_edges(tbl, params)
    monkeypatch.setattr(kernel, "UNIT_PAIRS", 3)
    monkeypatch.setattr(kernel, "THREADS", 2)
    calls = []
    real_reduce, real_merge = kernel._reduce, kernel._merge
    monkeypatch.setattr(kernel, "_reduce", lambda *a: calls.append(len(a[2])) or real_reduce(*a))
    monkeypatch.setattr(
        kernel,
        "_merge",
        lambda parts, bits: real_merge(parts, bits) if len(parts) == 1 else pytest.fail("one round needs no merge"),
    )
    assert coaction_edges(tbl, params).equals(whole)
    assert len(calls) > 2 and sum(calls) == int(np.sum(whole["weight"].to_numpy()))


def pc_sum(col):
    return np.sum(col.to_numpy())


@pytest.mark.parametrize("seed", range(4))
def test_object_time_order_is_lexsort(seed):
    """The packed sort with tie runs equals numpy's stable lexsort (object, time, account, row),
    including many equal (object, time) keys and a time range too wide to pack."""
    rng = np.random.default_rng(seed)
    n = 5000
    obj = rng.integers(0, 30, n)
    t = rng.integers(0, 50, n) * 1_000_000  # whole seconds: many ties
    acc = rng.integers(0, 8, n)  # ties on the account too: the row decides
    if seed == 3:
        t[0] = 2**61  # does not fit beside the object bits: plain lexsort, no packed keys
    order, packed = prepare._object_time_order(obj, t, acc)
    assert np.array_equal(order, np.lexsort((acc, t, obj)))
    assert (packed is None) == (seed == 3)
    if packed is not None:
        assert np.all(packed[1:] >= packed[:-1])
    empty, _ = prepare._object_time_order(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert len(empty) == 0


def test_row_codes_are_the_encoding_when_rows_are_distinct(monkeypatch):
    """Post codes are the row numbers when every (platform, post_id) is distinct (proven by distinct
    hashes), else the hash encoding; either way what ``_codes`` gives."""
    monkeypatch.setattr(prepare, "PROOF_ROWS", 0)  # the proof on small inputs too
    monkeypatch.setattr(prepare, "_codes", lambda *cols: pytest.fail("distinct rows need no encoding"))
    assert prepare._row_codes(pa.chunked_array([["x", "x"]]), pa.chunked_array([["1", "2"]]))[1] == 2
    monkeypatch.undo()
    monkeypatch.setattr(prepare, "PROOF_ROWS", 0)
    distinct = (pa.chunked_array([["x", "x", "tg"], ["x"]]), pa.chunked_array([["1", "2", "1"], ["3"]]))
    codes, n = prepare._row_codes(*distinct)
    assert prepare._distinct_rows(*distinct)  # "1" on two platforms is two posts
    assert n == 4 and codes.tolist() == [0, 1, 2, 3] == prepare._codes(*distinct)[0].tolist()
    repeated = (pa.chunked_array([["x"] * 4]), pa.chunked_array([["1", "2", "1", "3"]]))
    assert not prepare._distinct_rows(*repeated)
    codes, n = prepare._row_codes(*repeated)
    assert n == 3 and codes.tolist() == [0, 1, 0, 2] == prepare._codes(*repeated)[0].tolist()
    assert prepare._distinct_rows(pa.chunked_array([["1"]], pa.string()))
    assert prepare._row_codes(pa.chunked_array([[]], pa.string()))[1] == 0


@pytest.mark.parametrize("seed", range(4))
def test_prepared_share_order_is_lexsort_of_eligible_rows(seed):
    """prepare_actions sorts every row by (object, time) beside the account encoding, then drops the
    rows min_participation and remove_loops exclude: the same order as numpy's stable lexsort
    (object, time, account's first appearance, input row) of the eligible rows alone."""
    rng = np.random.default_rng(seed)
    n = 3000
    acc = rng.integers(0, 60, n)
    obj = rng.integers(0, 40, n)
    post = np.arange(n) if seed % 2 else rng.integers(0, n // 2, n)  # posts with several actions, or not
    sec = rng.integers(0, 30, n)  # whole seconds: many ties
    rows = [(f"u{a}", f"p{p}", int(s), f"o{o}") for a, p, s, o in zip(acc, post, sec, obj)]
    rows[:50] = [(r[0], r[3], r[2], r[3]) for r in rows[:50]]  # loops: the post is the object
    tbl = actions(rows)
    params = CoactionParams(time_window=5, min_participation=40)
    prepared = prepare_actions(tbl, params)
    # the reference, from the columns alone
    acc_code = tbl["account_id"].combine_chunks().dictionary_encode().indices.to_numpy().astype(np.int64)
    obj_code = tbl["object_id"].combine_chunks().dictionary_encode().indices.to_numpy().astype(np.int64)
    t = tbl["created_at"].combine_chunks().cast(pa.int64()).to_numpy()
    counts = np.bincount(acc_code)
    eligible = (counts[acc_code] >= 40) & (np.array([r[1] for r in rows]) != np.array([r[3] for r in rows]))
    assert 0 < eligible.sum() < n  # the filters take some rows out, not all
    keep = np.flatnonzero(eligible)
    expected = keep[np.lexsort((acc_code[keep], t[keep], obj_code[keep]))]
    assert prepared.row.tolist() == expected.tolist()
    assert prepared.acc.tolist() == acc_code[expected].tolist()
    # the accounts' ranks: their order by id
    ids = prepared.account_id.to_pylist()
    assert [ids[i] for i in np.argsort(prepared.account_rank)] == sorted(ids)
