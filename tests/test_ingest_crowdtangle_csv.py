"""CrowdTangle / Meta Content Library CSV importer: Facebook, Instagram and MCL rows field by field;
bad input; scale."""

from __future__ import annotations

import csv
import datetime as dt

from swarmscope.store import Case

from .conftest import FIXTURES
from .test_ingest_tiktok import assert_sniff_exclusive, quarantine, rows, run

DIR = FIXTURES / "crowdtangle_csv"


def test_sniff_is_exclusive():
    assert_sniff_exclusive("crowdtangle_csv", sorted(DIR.glob("*")))


def test_facebook_field_by_field(case_path):
    [res] = run(case_path, [DIR / "facebook_pages.csv"], "crowdtangle_csv")
    assert (res.records, res.inserted, res.quarantined) == (4, 2, 2)
    posts = rows(case_path, "posts", "post_id")
    p = posts["https://www.facebook.com/100200300/posts/555"]
    assert (p["platform"], p["account_id"], p["kind"]) == ("facebook", "100200300", "post")
    assert p["created_at"] == dt.datetime(2021, 1, 5, 23, 0, 13)  # EST = UTC-5
    assert (p["text"], p["hashtags"]) == ("Read this #Election\nnow", ["Election"])
    assert p["urls"] == ["https://news.example/story", "https://bit.ly/x1"]
    assert (p["like_count"], p["repost_count"], p["reply_count"], p["view_count"]) == (10, 7, 4, 0)
    assert posts["https://www.facebook.com/100200301/posts/556"]["created_at"] == dt.datetime(
        2021, 7, 5, 16, 0, 13
    )  # CEST
    a = rows(case_path, "accounts", "account_id")["100200300"]
    assert (a["handle"], a["display_name"], a["description"], a["followers"], a["location"]) == (
        "DailyNews",
        "Daily News",
        "All the news",
        6000,
        "US",
    )
    assert a["created_at"] == dt.datetime(2012, 1, 5, 15, 22, 33)
    assert quarantine(case_path) == [
        (
            3,
            "unparseable timestamp Post Created=2021-07-05 18:00:13 XYZT (expected YYYY-MM-DD HH:MM:SS and a known "
            "zone abbreviation)",
        ),
        (4, "missing required field URL"),
    ]


def test_instagram_and_mcl(case_path):
    res = run(case_path, [DIR / "instagram_accounts.csv", DIR / "mcl_facebook.csv"], "crowdtangle_csv")
    assert [(r.records, r.inserted, r.quarantined) for r in res] == [(1, 1, 0), (2, 1, 1)]
    posts = rows(case_path, "posts", "post_id")
    ig = posts["CxAbC123"]  # same id as the Zeeschuimer capture of this post
    assert (ig["platform"], ig["account_id"], ig["created_at"]) == (
        "instagram",
        "insta.gram",
        dt.datetime(2023, 11, 14, 22, 30),
    )
    assert (ig["mentions"], ig["media"], ig["like_count"]) == (["friend.one"], ["https://ig/img1.jpg"], 12)
    m = posts["987654321"]
    assert (m["platform"], m["account_id"], m["created_at"]) == ("facebook", "4444", dt.datetime(2024, 3, 1, 10, 0))
    assert (m["like_count"], m["repost_count"], m["reply_count"], m["view_count"], m["urls"]) == (
        20,
        5,
        2,
        300,
        ["https://example.org/a"],
    )
    assert (2, "unparseable timestamp creation_time=yesterday") in quarantine(case_path)


def test_bad_input(case_path, tmp_path):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        b"Page Name,Facebook Id,Post Created,URL,Message\n"
        b"P,1,2021-01-01 00:00:00 UTC,https://facebook.com/1/posts/1,ok\n"
        b"P,1,2021-01-01 00:00:00 UTC,https://facebook.com/1/posts/2,caf\xe9\n"
        b"P,1,2021-01-01 00:00:00 UTC\n"
    )
    res = run(case_path, [empty, latin], "crowdtangle_csv")
    assert [(r.records, r.inserted, r.quarantined) for r in res] == [(1, 0, 1), (3, 1, 2)]
    reasons = [r for _, r in quarantine(case_path)]
    assert any(r.startswith("empty file") for r in reasons) and any(r.startswith("wrong encoding") for r in reasons)
    assert any(r.startswith("malformed CSV row") for r in reasons)


def test_scale_generated(case_path, tmp_path):
    n = 20_000
    data = tmp_path / "ct.csv"
    with open(data, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            ["Page Name", "User Name", "Facebook Id", "Post Created", "Likes", "Shares", "URL", "Message", "Link"]
        )
        for i in range(n):
            w.writerow(
                [
                    f"Page {i % 400}",
                    f"page{i % 400}",
                    str(1000 + i % 400),
                    f"2021-01-05 {i % 24:02d}:00:00 EST",
                    str(i % 9),
                    "1",
                    f"https://www.facebook.com/{1000 + i % 400}/posts/{i}",
                    f"msg {i} #t{i % 3}",
                    f"https://news.example/{i % 50}",
                ]
            )
    [res] = run(case_path, [data], "crowdtangle_csv")
    assert (res.records, res.inserted, res.quarantined) == (n, n, 0)
    with Case(case_path, read_only=True) as db:
        got = db.con.execute("SELECT count(DISTINCT account_id), min(created_at), count(urls[1]) FROM posts").fetchall()
    assert got == [(400, dt.datetime(2021, 1, 5, 5, 0), n)]
