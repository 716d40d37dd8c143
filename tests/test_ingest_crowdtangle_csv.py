"""CrowdTangle / Meta Content Library CSV importer: Facebook, Instagram and MCL rows field by field;
bad input; scale."""

from __future__ import annotations

import csv
import datetime as dt

from swarmscope.ingest import ReadOptions, ingest
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
            "unknown zone abbreviation XYZT in Post Created=2021-07-05 18:00:13 XYZT (expected YYYY-MM-DD HH:MM:SS "
            "and a zone abbreviation listed in docs/formats.md)",
        ),
        (4, "missing required field URL"),
    ]


ZONES = DIR / "facebook_zones.csv"


def run_in(case_path, paths, zone: str) -> list:
    """``ingest --format crowdtangle_csv --timezone zone``, balance checked."""
    res = ingest(
        case_path, paths, format="crowdtangle_csv", options=ReadOptions(timezone=zone), progress=False, enrich=False
    )
    assert all(r.balanced for r in res), res
    return res


UNKNOWN = (
    8,
    "unknown zone abbreviation XYZT in Post Created=2021-07-05 09:00:00 XYZT (expected YYYY-MM-DD HH:MM:SS "
    "and a zone abbreviation listed in docs/formats.md)",
)


def _times(case_path) -> dict[str, dt.datetime]:
    return {k.rsplit("/", 1)[-1]: v["created_at"] for k, v in rows(case_path, "posts", "post_id").items()}


def test_zone_abbreviations_and_ambiguous_ones(case_path):
    [res] = run(case_path, [ZONES], "crowdtangle_csv")
    # 9 rows: 4 stored, the repeat of row 1 a duplicate, IST/BST/CST ambiguous and XYZT unknown quarantined
    assert (res.records, res.inserted, res.duplicates, res.quarantined) == (9, 4, 1, 4)
    assert _times(case_path) == {
        "1001": dt.datetime(2021, 7, 5, 5, 33, 41),  # BRT = UTC-3
        "1002": dt.datetime(2021, 7, 5, 5, 40),  # "-03"
        "5001": dt.datetime(2021, 7, 5, 7, 0),  # CEST = UTC+2
        "6001": dt.datetime(2021, 7, 5, 6, 0),  # MSK = UTC+3
    }
    assert rows(case_path, "accounts", "account_id")["200300400"]["created_at"] == dt.datetime(2015, 3, 1, 13, 0)
    assert quarantine(case_path) == [
        (
            3,
            "ambiguous zone abbreviation IST in Post Created=2021-07-05 09:00:00 IST (India +05:30 or Irish summer "
            "time +01:00 or Israel +02:00): rerun with --timezone ZONE (IANA name, e.g. Asia/Kolkata, Europe/Dublin, "
            "Asia/Jerusalem)",
        ),
        (
            4,
            "ambiguous zone abbreviation BST in Post Created=2021-07-05 09:00:00 BST (British summer time +01:00 or "
            "Bangladesh +06:00): rerun with --timezone ZONE (IANA name, e.g. Europe/London, Asia/Dhaka)",
        ),
        (
            5,
            "ambiguous zone abbreviation CST in Post Created=2021-01-05 09:00:00 CST (US Central -06:00 or China "
            "+08:00 or Cuba -05:00): rerun with --timezone ZONE (IANA name, e.g. America/Chicago, Asia/Shanghai, "
            "America/Havana)",
        ),
        UNKNOWN,
    ]


def test_timezone_resolves_only_the_ambiguous_abbreviation_it_matches(case_path):
    [res] = run_in(case_path, [ZONES], "Asia/Kolkata")
    assert (res.records, res.inserted, res.duplicates, res.quarantined) == (9, 5, 1, 3)
    times = _times(case_path)
    assert times["2001"] == dt.datetime(2021, 7, 5, 3, 30)  # IST read as India, UTC+5:30
    assert times["1001"] == dt.datetime(2021, 7, 5, 5, 33, 41)  # a known abbreviation ignores --timezone
    q = quarantine(case_path)
    assert [r for r, _ in q] == [4, 5, 8]
    assert q[0][1].endswith(
        "(British summer time +01:00 or Bangladesh +06:00): --timezone Asia/Kolkata gives "
        "UTC+05:30 at that time, none of them"
    )
    assert q[2] == UNKNOWN


def test_timezone_resolves_us_central_and_reads_zoneless_times(case_path, tmp_path):
    f = tmp_path / "ct.csv"
    f.write_text(
        "Page Name,Facebook Id,Post Created,URL,Message\n"
        "P,1,2021-01-05 09:00:00 CST,https://facebook.com/1/posts/1,winter\n"
        "P,1,2021-07-05 09:00:00 CDT,https://facebook.com/1/posts/2,summer\n"
        "P,1,2021-07-05 09:00:00,https://facebook.com/1/posts/3,no zone\n"
        "P,1,2021-07-05 09:00:00 BST,https://facebook.com/1/posts/4,not Chicago\n"
    )
    [res] = run_in(case_path, [f], "America/Chicago")
    assert (res.records, res.inserted, res.duplicates, res.quarantined) == (4, 3, 0, 1)
    assert _times(case_path) == {
        "1": dt.datetime(2021, 1, 5, 15, 0),  # CST as US Central, UTC-6
        "2": dt.datetime(2021, 7, 5, 14, 0),  # CDT, UTC-5
        "3": dt.datetime(2021, 7, 5, 14, 0),  # no zone: Chicago's clock (UTC without --timezone)
    }
    assert [r for r, _ in quarantine(case_path)] == [4]


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
