from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest

from swarmscope import model
from swarmscope.detect.accounts import (
    AccountParams,
    account_patterns,
    creation_batches,
    handle_templates,
    shared_profiles,
)
from swarmscope.enrich.text import normalise
from swarmscope.store import connect

from .conftest import SHARED


def accounts(rows: list[dict]) -> pa.Table:
    keys = {k for r in rows for k in r}
    full = [{"platform": "x", **{k: r.get(k) for k in keys}} for r in rows]
    return model.conform(pa.Table.from_pylist(full), "accounts")


def organic_accounts(rng, n=3000, start=dt.datetime(2012, 1, 1), years=10):
    days = rng.uniform(0, 365 * years, n)
    return [
        {
            "account_id": f"o{i}",
            "handle": f"person_{i}_{rng.integers(0, 99)}",
            "created_at": start + dt.timedelta(days=float(d)),
            "followers": int(rng.integers(0, 5000)),
            "posts_count": int(rng.integers(0, 20000)),
            "description": f"my own bio number {i}",
            "display_name": f"Person {i}",
        }
        for i, d in enumerate(days)
    ]


def test_planted_batch_found_and_organic_growth_is_not():
    rng = np.random.default_rng(0)
    org = organic_accounts(rng)
    assert creation_batches(accounts(org)).num_rows == 0
    day = dt.datetime(2019, 6, 3)
    batch = [
        {"account_id": f"b{i}", "handle": f"bot{i}", "created_at": day + dt.timedelta(hours=float(h))}
        for i, h in enumerate(rng.uniform(0, 48, 40))
    ]
    b = creation_batches(accounts(org + batch)).to_pylist()
    assert len(b) == 1
    (r,) = b
    assert r["first_day"] <= dt.date(2019, 6, 3) and r["last_day"] >= dt.date(2019, 6, 4)
    assert (r["last_day"] - r["first_day"]).days <= 3
    assert set(f"b{i}" for i in range(40)) <= set(r["account_ids"])
    assert r["accounts"] - 40 <= 6  # organic accounts of those days (~0.8 a day) fall inside too
    assert r["p_value"] < 1e-10 and r["ratio"] > 15  # ~40 in a 3-day window against ~2.5 expected


def test_hand_checkable_handles_and_profiles():
    rows = [
        {"account_id": "1", "handle": "Anna_Petrova1985"},
        {"account_id": "2", "handle": "anna_petrova1990"},
        {"account_id": "3", "handle": "anna_petrova7"},
        {"account_id": "4", "handle": "anna_petrova"},  # no digits: not part of the template
        {"account_id": "5", "handle": "jo1", "description": "Patriot. Mother. Truth seeker 🇺🇸"},
        {
            "account_id": "6",
            "handle": "jo2",
            "description": "patriot.  mother. truth seeker 🇺🇸",
            "profile_image_url": "https://pbs.twimg.com/p/abc.jpg",
        },
        {
            "account_id": "7",
            "handle": "jo3",
            "profile_image_url": "https://pbs.twimg.com/p/abc.jpg",
            "description": "I love music",
        },
        {
            "account_id": "8",
            "handle": "zz",
            "description": "I love music",
            "profile_image_url": "https://abs.twimg.com/sticky/default_profile_images/default_profile.png",
        },
        {
            "account_id": "9",
            "handle": "yy",
            "profile_image_url": "https://abs.twimg.com/sticky/default_profile_images/default_profile.png",
        },
    ]
    t = handle_templates(accounts(rows)).to_pylist()
    assert [(r["template"], r["accounts"]) for r in t] == [("anna_petrova<digits>", 3)]
    assert t[0]["account_ids"] == ["1", "2", "3"]
    s = {(r["field"], r["value"]): r["account_ids"] for r in shared_profiles(accounts(rows)).to_pylist()}
    assert s == {
        ("description", normalise(pa.array(["Patriot. Mother. Truth seeker 🇺🇸"]))[0].as_py()): ["5", "6"],
        ("profile_image_url", "https://pbs.twimg.com/p/abc.jpg"): ["6", "7"],
    }


def test_low_followers_and_default_handles():
    rows = [
        {"account_id": "1", "handle": "maria84736251", "followers": 2, "posts_count": 30_000},
        {"account_id": "2", "handle": "news", "followers": 2_000_000, "posts_count": 300_000},
        {"account_id": "3", "handle": "quiet", "followers": 0, "posts_count": 12},
        {"account_id": "4", "handle": "seen", "followers": 1, "posts_count": None},
    ]
    obs = pa.table({"platform": ["x"], "account_id": ["4"], "posts": pa.array([1500], pa.int64())})
    p = account_patterns(accounts(rows), observed_posts=obs)
    assert [(r["account_id"], r["posts"]) for r in p.low_followers.to_pylist()] == [("1", 30_000), ("4", 1500)]
    assert p.default_handles["account_id"].to_pylist() == ["1"]
    assert p.batches.num_rows == 0


def test_empty_and_null_fields():
    p = account_patterns(accounts([{"account_id": "1"}]))
    assert all(x.num_rows == 0 for x in (p.batches, p.handle_templates, p.shared_profiles, p.low_followers))


@pytest.mark.shared_data
def test_real_operation_creation_batches():
    """The Xinjiang (CNHU, Dec 2021) takedown set has accounts created in bulk in March 2020."""
    path = (
        SHARED / "io_archive_users" / "People_s_Republic_of_China_Xinjiang_hashed_2021_12_CNHU_0621_CNHU_0621_users.csv"
    )
    con = connect()
    t = con.sql(
        """SELECT 'x' AS platform, userid AS account_id, user_screen_name AS handle,
                  user_display_name AS display_name, user_profile_description AS description,
                  try_strptime(account_creation_date, ['%Y-%m-%d', '%m/%d/%Y']) AS created_at,
                  TRY_CAST(follower_count AS BIGINT) AS followers
           FROM read_csv(?, all_varchar = true, header = true)""",
        params=[str(path)],
    ).to_arrow_table()
    b = creation_batches(model.conform(t, "accounts"), AccountParams()).to_pylist()
    assert b, "no creation batch found in a known bulk-created operation"
    top = b[0]
    assert top["first_day"] <= dt.date(2020, 3, 12) <= top["last_day"]
    assert top["accounts"] >= 433  # 433 accounts were created on 2020-03-12 alone
    assert top["p_value"] < 1e-10
    # a large share of the whole operation sits in flagged batches
    assert sum(r["accounts"] for r in b) / t.num_rows > 0.5
