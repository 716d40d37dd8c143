from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from swarmscope.detect.runs import RunParams, find_runs

T0 = dt.datetime(2024, 5, 1, 8)


def posts(rows):
    """rows: (account, minutes after T0, text[, kind])"""
    return pa.table(
        {
            "platform": ["x"] * len(rows),
            "post_id": [f"p{i}" for i in range(len(rows))],
            "account_id": [r[0] for r in rows],
            "created_at": pa.array([T0 + dt.timedelta(minutes=r[1]) for r in rows], pa.timestamp("us")),
            "text": [r[2] for r in rows],
            "kind": [r[3] if len(r) > 3 else "post" for r in rows],
        }
    )


def test_hand_checkable_runs():
    rows = (
        [("a", i, "Buy NOW https://x.co/1") for i in range(6)]  # p0..p5, URL differs below but normalises away
        + [("a", 6, "something else")]
        + [("a", 7 + i, "buy now https://y.co/2 ") for i in range(3)]  # only 3: below min_run
        + [("b", i, "hello") for i in range(4)]
        + [("b", 10, "hello", "repost")]  # reposts are left out, so b has 4 in a row
        + [("c", i, "") for i in range(9)]  # empty text is no run
        + [("d", i, "🔥 Fire sale 🔥") for i in range(5)]
    )
    r = find_runs(posts(rows)).to_pylist()
    assert [(x["account_id"], x["n"]) for x in r] == [("a", 6), ("d", 5)]
    a = r[0]
    assert a["post_ids"] == [f"p{i}" for i in range(6)]
    assert a["text"] == "buy now"
    assert a["span_seconds"] == 300.0
    assert a["median_interval_seconds"] == 60.0
    assert "n >= 5" in a["test"]
    assert [x["n"] for x in find_runs(posts(rows), RunParams(min_run=3)).to_pylist()] == [6, 5, 4, 3]


def test_planted_73_run_found_in_noise():
    rng = np.random.default_rng(3)
    rows = []
    for acc in range(200):  # organic accounts: varied texts, some accidental repeats
        for _ in range(30):
            rows.append((f"u{acc}", float(rng.uniform(0, 10_000)), f"thought {rng.integers(0, 40)}"))
    rows += [("bot", 5000 + 0.5 * i, "Sign the petition: FREE the truth! #now") for i in range(73)]
    rows += [("bot", 5100, "interruption")]
    rows += [("bot", 5200 + i, "Sign the petition: FREE the truth! #now") for i in range(10)]
    r = find_runs(posts(rows)).to_pylist()
    top = r[0]
    assert (top["account_id"], top["n"]) == ("bot", 73)
    assert top["span_seconds"] == 72 * 30
    assert [x["n"] for x in r if x["account_id"] == "bot"] == [73, 10]
    assert all(x["account_id"] == "bot" for x in r)


def test_odd_text_does_not_crash():
    rows = [("a", i, t) for i, t in enumerate([None, "", "\ufffd replaced surrogate", "x" * 100_000, "🙂"])]
    assert find_runs(posts(rows)).num_rows == 0
