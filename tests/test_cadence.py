from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from swarmscope.detect.cadence import CadenceParams, cadence

T0 = dt.datetime(2024, 1, 10)


def posts(rows):
    """rows: (account, seconds after T0, client)"""
    return pa.table(
        {
            "platform": ["x"] * len(rows),
            "post_id": [f"p{i}" for i in range(len(rows))],
            "account_id": [r[0] for r in rows],
            "created_at": pa.array([T0 + dt.timedelta(seconds=float(r[1])) for r in rows], pa.timestamp("us")),
            "client": [r[2] for r in rows],
        }
    )


def by_account(t):
    return {r["account_id"]: r for r in t.to_pylist()}


def test_hand_checkable_accounts():
    rows = [("clock", 300 * i, "Twitter Web App") for i in range(25)]  # every 5 minutes exactly
    rows += [("feed", 1000 * i + (i % 7) * 37, "dlvr.it") for i in range(25)]  # RSS feed client
    rows += [("spray", i * 3, "Twitter for Android") for i in range(20)]  # 20 posts in one minute
    rows += [("spray", 100_000, "Twitter for Android")]
    rows += [("few", 60 * i, "IFTTT") for i in range(5)]  # too few posts to judge
    r = by_account(cadence(posts(rows)))
    assert set(r) == {"clock", "feed", "spray"}
    assert r["clock"]["gap_cv"] == 0.0 and r["clock"]["gap_entropy"] == 0.0
    assert r["clock"]["gap_median_seconds"] == 300.0
    assert r["clock"]["flags"] == ["regular-gaps", "repeated-gaps"]
    assert "automation-client" in r["feed"]["flags"] and r["feed"]["automation_client_share"] == 1.0
    assert r["feed"]["top_client"] == "dlvr.it"
    assert r["spray"]["peak_per_minute"] == 20 and "posts-per-minute" in r["spray"]["flags"]
    assert r["spray"]["peak_minute"] == T0
    assert all(x["automated_looking"] for x in r.values())


def test_humans_not_flagged_and_jittered_scheduler_is():
    rng = np.random.default_rng(11)
    rows = []
    for a in range(300):
        # human: bursty sessions (lognormal gaps), clients of people
        gaps = rng.lognormal(mean=7, sigma=1.8, size=60)
        for s in np.cumsum(gaps):
            rows.append((f"h{a}", float(s), "Twitter for iPhone" if a % 2 else "Twitter Web App"))
    for i in range(100):
        rows.append(("sched", 3600 * i + rng.uniform(-60, 60), "Twitter Web App"))
    r = by_account(cadence(posts(rows)))
    humans = [v for k, v in r.items() if k.startswith("h")]
    assert len(humans) == 300
    assert sum(v["automated_looking"] for v in humans) == 0
    assert min(v["gap_cv"] for v in humans) > 1.0
    assert r["sched"]["automated_looking"] and r["sched"]["gap_cv"] < 0.05


def test_params_and_missing_client_column():
    rows = [("a", 10 * i, None) for i in range(30)]
    t = posts(rows).drop_columns(["client"])
    r = cadence(t, CadenceParams(min_posts=31))
    assert r.num_rows == 0
    r = cadence(t).to_pylist()[0]
    assert r["automation_client_share"] == 0.0 and r["top_client"] is None


def test_ties_and_input_order_do_not_change_the_table():
    """Top client: the most frequent, ties to the smallest name; busiest minute: ties to the earliest.
    The same posts in any order give the same table, bit for bit (the CV from exact integer sums)."""
    rng = np.random.default_rng(3)
    rows = [("tie", 60 * i + (30 if i >= 10 else 0), "Twitter Web App" if i % 2 else "Buffer") for i in range(20)]
    rows += [("jit", 600 * i + float(rng.uniform(-9, 9)), ["b", "a", "c"][i % 3]) for i in range(30)]
    t = posts(rows)
    r = by_account(cadence(t))
    assert r["tie"]["top_client"] == "Buffer" and r["tie"]["automation_client_share"] == 0.5
    assert (r["tie"]["peak_per_minute"], r["tie"]["peak_minute"]) == (1, T0)
    assert r["jit"]["top_client"] == "a"  # 10 each of 'b', 'a', 'c'
    us = t.filter(pc.equal(t["account_id"], "jit"))["created_at"].cast(pa.int64()).to_numpy()
    gaps = np.diff(np.sort(us)) / 1e6  # the stored times, in microseconds
    assert r["jit"]["gap_cv"] == pytest.approx(gaps.std() / gaps.mean(), rel=1e-12)
    for seed in range(3):
        shuffled = t.take(pa.array(np.random.default_rng(seed).permutation(t.num_rows)))
        assert cadence(shuffled).equals(cadence(t))


def test_no_automation_clients_matches_none():
    rows = [("a", 10 * i, "IFTTT") for i in range(25)]
    r = cadence(posts(rows), CadenceParams(automation_clients=())).to_pylist()[0]
    assert r["automation_client_share"] == 0.0 and "automation-client" not in r["flags"]


def test_the_accounts_split_in_parts_give_the_same_table(monkeypatch):
    """Large inputs are worked on in parts by a hash of the account (progress, smaller sorts): every
    account falls in one part, so the table is the one of a single pass."""
    import swarmscope.detect.cadence as cad

    rng = np.random.default_rng(3)
    rows = [
        (f"a{i % 40}", float(t), "Twitter Web App" if i % 3 else "dlvr.it")
        for i, t in enumerate(rng.integers(0, 86_400, 2_000))
    ]
    whole = cadence(posts(rows))
    monkeypatch.setattr(cad, "PART_POSTS", 300)  # 7 parts
    parted = cadence(posts(rows))
    assert whole.num_rows == 40 and parted.equals(whole)


def test_only_accounts_with_enough_timed_posts_reach_the_window_and_the_table_is_the_same(monkeypatch):
    """The figures' window sorts the posts of accounts with >= min_posts timed posts only; the others
    have no row, so leaving them out first changes nothing."""
    import swarmscope.detect.cadence as cad

    rows = [("busy", 60.0 * i, "dlvr.it") for i in range(20)]  # exactly min_posts (20): kept
    rows += [("few", 7.0 * i, "dlvr.it") for i in range(19)]  # one short: left out before the window
    rows += [(f"once{i}", float(i), None) for i in range(30)]
    t = posts(rows)
    # a 20th post without a time does not make "few" an account of 20 timed posts
    t = pa.concat_tables(
        [
            t,
            pa.table(
                {
                    "platform": ["x"],
                    "post_id": ["late"],
                    "account_id": ["few"],
                    "created_at": pa.array([None], pa.timestamp("us")),
                    "client": pa.array([None], pa.string()),
                }
            ),
        ]
    )
    import duckdb

    kept = cad._active(duckdb.connect(), t, CadenceParams().min_posts)
    assert sorted(set(kept["account_id"].to_pylist())) == ["busy"] and kept.num_rows == 20
    filtered = cadence(t)
    monkeypatch.setattr(cad, "_active", lambda con, p, n: p)  # every post to the window, as before
    assert by_account(filtered).keys() == {"busy"}
    assert filtered.equals(cadence(t))
