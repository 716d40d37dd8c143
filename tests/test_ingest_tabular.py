"""Tabular importers: X archive, CooRTweet, Coordination Network Toolkit, 4CAT, generic table."""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swarmscope.ingest import IngestError, ReadOptions, detect_format, formats, ingest
from swarmscope.ingest.base import SNIFF_BYTES
from swarmscope.store import Case

FIX = Path(__file__).parent / "fixtures"
SHARED = Path("/work/shared/data")
TS = dt.datetime


def run(tmp_path: Path, paths, fmt=None, options=None):
    case = tmp_path / "case.duckdb"
    counts = ingest(case, [Path(p) for p in paths], format=fmt, options=options, progress=False, enrich=False)
    for c in counts:
        assert c.balanced, c
    return case, counts


def rows(case: Path, sql: str) -> list[tuple]:
    with Case(case, read_only=True) as db:
        return db.con.execute(sql).fetchall()


def posts(case: Path) -> dict[str, tuple]:
    got = rows(
        case,
        """SELECT post_id, account_id, created_at, text, lang, kind, parent_post_id, parent_account_id,
                               hashtags, urls, mentions, media, client, like_count, repost_count, reply_count,
                               quote_count, view_count, source_record, platform FROM posts""",
    )
    return {r[0]: r[1:] for r in got}


def quarantine(case: Path) -> list[tuple]:
    return rows(case, "SELECT record, reason FROM quarantine ORDER BY record NULLS FIRST")


# -- detection ----------------------------------------------------------------


@pytest.mark.parametrize(
    "path, name",
    [
        ("x_archive/tweets.csv", "x_archive"),
        ("x_archive/users.csv", "x_archive"),
        ("coortweet_csv/shares.csv", "coortweet_csv"),
        ("coortweet_csv/multi.csv", "coortweet_csv"),
        ("cnt_csv/messages.csv", "cnt_csv"),
        ("fourcat_csv/twitterv2-search-demo.csv", "fourcat_csv"),
        ("fourcat_csv/channel-export.csv", "fourcat_csv"),
        ("x_v2/page.jsonl", "x_v2"),
    ],
)
def test_detects_each_format_and_no_other(path, name):
    assert detect_format(FIX / path).NAME == name
    head = (FIX / path).read_bytes()[:SNIFF_BYTES]
    claimed = [n for n, m in formats().items() if m.sniff(FIX / path, head)]
    assert claimed[0] == name  # the first claimant wins; later ones may not steal it
    for other in ("x_archive", "coortweet_csv", "cnt_csv", "fourcat_csv"):
        if other != name:
            assert not formats()[other].sniff(FIX / path, head), (other, path)


def test_generic_table_never_sniffs_and_json_is_not_csv(tmp_path):
    generic = formats()["generic_table"]
    assert not generic.sniff(FIX / "generic_table/posts.csv", (FIX / "generic_table/posts.csv").read_bytes())
    with pytest.raises(IngestError, match="unknown format"):
        detect_format(FIX / "generic_table/posts.csv")
    js = tmp_path / "t.json"
    js.write_text('[{"id": 1, "thread_id": 1, "body": "x", "author": "a", "timestamp": 1}]')
    for name in ("x_archive", "coortweet_csv", "cnt_csv", "fourcat_csv"):
        assert not formats()[name].sniff(js, js.read_bytes())


# -- X archive ----------------------------------------------------------------


def test_x_archive_tweets_field_by_field(tmp_path):
    case, (c,) = run(tmp_path, [FIX / "x_archive/tweets.csv"])
    assert (c.records, c.inserted, c.quarantined) == (4, 4, 0)
    p = posts(case)
    assert p["100"] == (
        "u1",
        TS(2019, 5, 1, 12, 34),
        "Breaking: #Vote today, see https://ex.com/a",
        "en",
        "post",
        None,
        None,
        ["Vote", "Election"],
        ["https://ex.com/a"],
        ["u2", "u3"],
        None,
        "Twitter Web App",
        3,
        4,
        2,
        1,
        None,
        1,
        "x",
    )
    assert p["101"][4:7] == ("repost", "100", "u1")
    assert p["101"][1] == TS(2019, 5, 1, 12, 35)
    # spreadsheet formula kept verbatim; 'und' language is unknown; seconds kept
    assert p["102"][1:7] == (
        TS(2019, 5, 1, 13, 0, 30),
        '=HYPERLINK("http://evil.example","click")',
        None,
        "reply",
        "100",
        "u1",
    )
    assert p["103"][2:7] == ("Quoting this 🔥", "en", "quote", "101", None)
    assert p["103"][7] == ["Vote"]
    acc = rows(
        case,
        """SELECT account_id, handle, display_name, description, created_at, followers, following,
                               location, account_lang, snapshot_at FROM accounts ORDER BY account_id""",
    )
    # the latest snapshot (tweet 103), whose description is empty
    assert acc[0] == (
        "u1",
        "alice_news",
        "Alice News (new)",
        None,
        TS(2019, 3, 1),
        130,
        81,
        "Abuja",
        "en",
        TS(2019, 5, 2, 8, 0),
    )
    assert acc[1][:7] == ("u2", "bob_b", "Bob", None, TS(2019, 7, 17), 5, 7)  # "7/17/2019", "5.0"


def test_x_archive_users_file_is_accounts(tmp_path):
    case, (c,) = run(tmp_path, [FIX / "x_archive/users.csv"])
    assert (c.records, c.inserted, c.duplicates, c.quarantined) == (3, 2, 1, 0)
    assert rows(case, "SELECT count(*) FROM posts") == [(0,)]
    assert rows(case, "SELECT account_id, description, created_at FROM accounts ORDER BY 1") == [
        ("u1", "Line one\nline two", TS(2019, 3, 1)),
        ("u2", None, TS(2019, 7, 17)),
    ]


@pytest.mark.skipif(not (SHARED / "io_archive_users").is_dir(), reason="shared data not present")
def test_real_archive_users_files_all_stored(tmp_path):
    files = sorted((SHARED / "io_archive_users").glob("*.csv"))
    case, counts = run(tmp_path, files)
    for path, c in zip(files, counts):
        with open(path, newline="", encoding="utf-8") as fh:  # independent count: Python's csv module
            expected = sum(1 for _ in csv.DictReader(fh))
        assert c.format == "x_archive"
        assert (c.records, c.quarantined, c.inserted + c.duplicates) == (expected, 0, expected), path.name
    distinct = duckdb.sql(
        "SELECT count(DISTINCT userid) FROM read_csv(["
        + ", ".join(f"'{f}'" for f in files)
        + "], all_varchar=true, union_by_name=true)"
    ).fetchall()[0][0]
    assert rows(case, "SELECT count(*), count(created_at) FROM accounts") == [(distinct, distinct)]


# -- CooRTweet ----------------------------------------------------------------


def test_coortweet_one_object_layout(tmp_path):
    case, (c,) = run(tmp_path, [FIX / "coortweet_csv/shares.csv"])
    # c1 repeats with another object (a duplicate post), the last row repeats row 2 exactly
    assert (c.records, c.inserted, c.duplicates, c.quarantined) == (5, 3, 2, 0)
    p = posts(case)
    assert p["c2"][:2] == ("acc2", TS(2021, 6, 16, 22, 4, 51, 123456))
    assert p["c3"][1] == TS(2021, 6, 16, 22, 5, 0, 500000)
    assert p["c1"][4] == "post" and p["c1"][-1] == "other"
    assert rows(case, "SELECT account_id, post_id, created_at, object_type, object_id FROM actions ORDER BY all") == [
        ("acc1", "c1", TS(2021, 6, 16, 22, 4, 51), "object", "obj1"),
        ("acc1", "c1", TS(2021, 6, 16, 22, 5), "object", "obj2"),
        ("acc2", "c2", TS(2021, 6, 16, 22, 4, 51, 123456), "object", "obj1"),
        ("acc3", "c3", TS(2021, 6, 16, 22, 5, 0, 500000), "object", "obj2"),
    ]


def test_coortweet_platform_option(tmp_path):
    case, _ = run(tmp_path, [FIX / "coortweet_csv/shares.csv"], options=ReadOptions(platform="x"))
    assert rows(case, "SELECT DISTINCT platform FROM actions") == [("x",)]
    with pytest.raises(IngestError, match="unknown platform"):
        run(tmp_path / "b", [FIX / "coortweet_csv/shares.csv"], options=ReadOptions(platform="myspace"))


def test_coortweet_multi_object_layout(tmp_path):
    case, (c,) = run(tmp_path, [FIX / "coortweet_csv/multi.csv"])
    assert (c.records, c.inserted, c.duplicates, c.quarantined) == (5, 4, 1, 0)
    assert {k: (v[0], v[-1]) for k, v in posts(case).items()} == {
        "p1": ("fb_1", "facebook"),
        "p2": ("tw_2", "x"),
        "p3": ("tw_3", "x"),
        "p4": ("zz_4", "other"),
    }
    assert rows(case, "SELECT platform, post_id, object_type, object_id, created_at FROM actions ORDER BY all") == [
        ("facebook", "p1", "domain", "d5", TS(2021, 8, 21, 23, 50, 36)),
        ("facebook", "p1", "hashtag", "h7", TS(2021, 8, 21, 23, 50, 36)),
        ("facebook", "p1", "url", "u10", TS(2021, 8, 21, 23, 50, 36)),
        ("other", "p4", "url", "u11", TS(2021, 8, 21, 23, 51)),
        ("x", "p2", "domain", "d5", TS(2021, 8, 21, 23, 50, 40, 250000)),
        ("x", "p2", "hashtag", "h7", TS(2021, 8, 21, 23, 50, 40, 250000)),
        ("x", "p2", "image_hash", "i9", TS(2021, 8, 21, 23, 50, 40, 250000)),
        ("x", "p2", "url", "u10", TS(2021, 8, 21, 23, 50, 40, 250000)),
    ]


@pytest.mark.skipif(not (SHARED / "coortweet").is_dir(), reason="shared data not present")
def test_real_coortweet_russian_reproduces_every_share(tmp_path):
    path = SHARED / "coortweet/russian_coord_tweets.csv"
    case, (c,) = run(tmp_path, [path])
    src = f"read_csv('{path}', all_varchar=true)"
    n, distinct_posts = duckdb.sql(f"SELECT count(*), count(DISTINCT content_id) FROM {src}").fetchall()[0]
    assert (c.records, c.inserted, c.duplicates, c.quarantined) == (n, distinct_posts, n - distinct_posts, 0)
    # every distinct share, to the microsecond (timestamps here are whole seconds written as floats)
    missing = duckdb.connect()
    missing.execute(f"ATTACH '{case}' AS c (READ_ONLY)")
    expected = missing.execute(f"SELECT count(*) FROM (SELECT DISTINCT * FROM {src})").fetchall()[0][0]
    assert missing.execute("SELECT count(*) FROM c.actions WHERE object_type = 'object'").fetchall() == [(expected,)]
    assert missing.execute(
        f"""SELECT count(*) FROM (SELECT DISTINCT * FROM {src}) s ANTI JOIN c.actions a
            ON a.post_id = s.content_id AND a.object_id = s.object_id AND a.account_id = s.account_id
           AND epoch_us(a.created_at) = CAST(CAST(s.timestamp_share AS DECIMAL(38, 6)) * 1000000 AS BIGINT)"""
    ).fetchall() == [(0,)]
    missing.close()


@pytest.mark.skipif(not (SHARED / "coortweet").is_dir(), reason="shared data not present")
def test_real_coortweet_german_elections_action_counts(tmp_path):
    path = SHARED / "coortweet/german_elections.csv"
    case, (c,) = run(tmp_path, [path])
    src = f"read_csv('{path}', all_varchar=true)"
    n, no_post = duckdb.sql(f"SELECT count(*), count(*) FILTER (WHERE post_id IS NULL) FROM {src}").fetchall()[0]
    assert c.records == n and c.quarantined == no_post  # rows without a post id are the only bad ones
    assert quarantine(case) and {r for _, r in quarantine(case)} == {"missing required field post_id"}
    plat = (
        "CASE WHEN account_id LIKE 'fb\\_%' ESCAPE '\\' THEN 'facebook' "
        "WHEN account_id LIKE 'tw\\_%' ESCAPE '\\' THEN 'x' ELSE 'other' END"
    )
    expected = dict(
        ((p, k), v)
        for p, k, v in duckdb.sql(
            f"""SELECT platform, kind, count(DISTINCT (post_id, obj)) FROM (
              SELECT {plat} AS platform, post_id, unnest(['url', 'hashtag', 'domain', 'image_hash']) AS kind,
                     unnest([url_id, hashtag_id, domain_id, phash_id]) AS obj FROM {src} WHERE post_id IS NOT NULL)
            WHERE obj IS NOT NULL GROUP BY ALL"""
        ).fetchall()
    )
    got = {(p, k): v for p, k, v in rows(case, "SELECT platform, object_type, count(*) FROM actions GROUP BY ALL")}
    assert got == expected


# -- Coordination Network Toolkit ---------------------------------------------


def test_cnt_csv_field_by_field(tmp_path):
    case, (c,) = run(tmp_path, [FIX / "cnt_csv/messages.csv"])
    assert (c.records, c.inserted, c.quarantined) == (3, 3, 0)
    p = posts(case)
    assert p["m1"][:9] == (
        "uid0",
        TS(2020, 1, 1, 13, 43, 50),
        "Original text, with comma",
        None,
        "post",
        None,
        None,
        None,
        ["https://a.example/x", "https://b.example/y"],
    )
    assert p["m2"][1] == TS(2020, 1, 1, 13, 44, 36, 500000) and p["m2"][4:6] == ("repost", "m1")
    assert p["m3"][2:6] == ("a reply\nover two lines", None, "reply", "m1")
    assert rows(case, "SELECT account_id, handle FROM accounts ORDER BY 1")[0] == ("uid0", "user0")


def test_cnt_csv_forced_reads_by_position(tmp_path):
    f = tmp_path / "renamed.csv"
    f.write_text("a,b,c,d,e,f,g,h\n1,u,name,,,hello,1577836810,\n")
    assert not formats()["cnt_csv"].sniff(f, f.read_bytes())
    case, (c,) = run(tmp_path, [f], fmt="cnt_csv")
    assert posts(case)["1"][:3] == ("u", TS(2020, 1, 1, 0, 0, 10), "hello")


# -- 4CAT -----------------------------------------------------------------------


def test_fourcat_twitter_export(tmp_path):
    case, (c,) = run(tmp_path, [FIX / "fourcat_csv/twitterv2-search-demo.csv"])
    assert (c.records, c.inserted) == (3, 3)
    p = posts(case)
    assert p["1500"] == (
        "11",
        TS(2022, 2, 24, 5, 0),
        "Hello #world https://ex.com",
        "en",
        "post",
        None,
        None,
        ["world", "peace"],
        ["https://ex.com"],
        ["bob", "carol"],
        ["https://pbs.example/1.jpg"],
        "Twitter Web App",
        5,
        2,
        1,
        0,
        100,
        1,
        "x",
    )
    assert p["1501"][4] == "repost"
    # no unix_timestamp: the string is read as UTC; reply_to is a handle, not a post id
    assert p["1502"][1] == TS(2022, 2, 24, 5, 2) and p["1502"][4:6] == ("reply", None)
    assert rows(case, "SELECT account_id, handle, display_name FROM accounts ORDER BY 1")[0] == (
        "11",
        "alice",
        "Alice A",
    )


def test_fourcat_telegram_export(tmp_path):
    case, _ = run(tmp_path, [FIX / "fourcat_csv/channel-export.csv"])
    p = posts(case)
    assert {v[-1] for v in p.values()} == {"telegram"}  # hint from the columns
    assert p["news-10"][:2] == ("-1001", TS(2023, 1, 1, 10, 0)) and p["news-10"][8] == ["https://ex.org/a"]
    assert p["news-11"][4:6] == ("reply", "news-10") and p["news-11"][9] == ["other"]
    assert p["news-11"][16] == 50  # views
    # forwarded; unix_timestamp wins over a 'timestamp' written in server-local time
    assert p["news-12"][1] == TS(2023, 1, 1, 11, 5) and p["news-12"][4] == "forward"


def test_fourcat_platform_from_option_without_hint(tmp_path):
    f = tmp_path / "dataset.csv"
    f.write_text("id,thread_id,timestamp,body,author\n1,1,2020-01-01 00:00:00,hi,a\n")
    case, _ = run(tmp_path, [f], options=ReadOptions(platform="vk"))
    assert posts(case)["1"][-1] == "vk"


# -- generic table ----------------------------------------------------------------

MAP = dict(
    post_id="ID", account_id="Author", created_at="When", text="Message", hashtags="Tags", urls="Links", kind="Type"
)


def test_generic_csv_with_map(tmp_path):
    case, (c,) = run(
        tmp_path, [FIX / "generic_table/posts.csv"], "generic_table", ReadOptions(column_map=MAP, platform="vk")
    )
    assert (c.records, c.inserted) == (3, 3)
    p = posts(case)
    assert p["g1"][:9] == (
        "a1",
        TS(2024, 3, 1, 8, 0),
        "first post",
        None,
        "post",
        None,
        None,
        ["one", "two"],
        ["https://x.example/1", "https://x.example/2"],
    )
    assert p["g1"][-1] == "vk"
    assert p["g2"][1] == TS(2024, 3, 1, 8, 0) and p["g2"][4] == "repost" and p["g2"][7] == ["three"]
    assert p["g3"][1] == TS(2024, 3, 1, 8, 0, 0, 500000) and p["g3"][4] == "comment"  # milliseconds


def test_generic_table_without_a_hashtag_column_reads_them_from_the_text(tmp_path):
    """Archives such as the IRA release keep hashtags only in the text: read there, as the Telegram and
    YouTube importers do (not in a word, a URL or an HTML entity); a mapped column wins."""
    f = tmp_path / "t.csv"
    f.write_text(
        "id,who,at,body\n"
        "1,u,2016-11-01 10:00,#MAGA rally tonight #Trump2016 https://x.example/#frag\n"
        '2,u,2016-11-01 10:01,"RT @a: price is #1 &#39;ok&#39; mail@host #Ünïcode_ok"\n'
        "3,v,2016-11-01 10:02,no tags here\n"
    )
    cmap = dict(post_id="id", account_id="who", created_at="at", text="body")
    case, (c,) = run(tmp_path / "a", [f], "generic_table", ReadOptions(column_map=cmap))
    assert (c.records, c.inserted) == (3, 3)
    p = posts(case)
    assert [p[k][7] for k in ("1", "2", "3")] == [["MAGA", "Trump2016"], ["Ünïcode_ok"], []]
    # with a hashtags column, that column and only it
    g = tmp_path / "g.csv"
    g.write_text("id,who,at,body,tags\n1,u,2016-11-01 10:00,#MAGA in the text,other\n")
    case, _ = run(tmp_path / "b", [g], "generic_table", ReadOptions(column_map=cmap | {"hashtags": "tags"}))
    assert posts(case)["1"][7] == ["other"]


def test_generic_parquet_with_typed_columns(tmp_path):
    f = tmp_path / "t.parquet"
    pq.write_table(
        pa.table(
            {
                "pid": ["a", "b", None],
                "uid": ["u", "u", "v"],
                "t": pa.array([TS(2024, 1, 1, 12), TS(2024, 1, 2), TS(2024, 1, 3)], pa.timestamp("us", tz="UTC")),
                "tags": [["#x", "y"], [], None],
            }
        ),
        f,
    )
    case, (c,) = run(
        tmp_path,
        [f],
        "generic_table",
        ReadOptions(column_map=dict(post_id="pid", account_id="uid", created_at="t", hashtags="tags")),
    )
    assert (c.records, c.inserted, c.quarantined) == (3, 2, 1)
    p = posts(case)
    assert p["a"][:2] == ("u", TS(2024, 1, 1, 12)) and p["a"][7] == ["x", "y"] and p["a"][17] == 1
    assert quarantine(case) == [(3, "missing required field pid")]


def test_generic_table_option_and_map_errors(tmp_path):
    f = FIX / "generic_table/posts.csv"
    with pytest.raises(IngestError, match="needs a column map"):
        run(tmp_path / "a", [f], "generic_table")
    with pytest.raises(IngestError, match="lacks required created_at"):
        run(tmp_path / "b", [f], "generic_table", ReadOptions(column_map=dict(post_id="ID", account_id="Author")))
    case, (c,) = run(
        tmp_path / "c",
        [f],
        "generic_table",
        ReadOptions(column_map=dict(post_id="ID", account_id="Nobody", created_at="When")),
    )
    assert (c.records, c.quarantined) == (1, 1)
    assert "Nobody (for account_id)" in quarantine(case)[0][1]


# -- bad input, for every format ------------------------------------------------

# format -> (columns, id column, account column, time column, a good time, a free column, options)
BAD = {
    "x_archive": (
        ["tweetid", "userid", "tweet_text", "tweet_time", "is_retweet"],
        "tweetid",
        "userid",
        "tweet_time",
        "2019-05-01 12:34",
        "tweet_text",
        None,
    ),
    "coortweet_csv": (
        ["object_id", "account_id", "content_id", "timestamp_share"],
        "content_id",
        "account_id",
        "timestamp_share",
        "1623881091.5",
        "object_id",
        None,
    ),
    "cnt_csv": (
        ["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"],
        "message_id",
        "user_id",
        "timestamp",
        "1577886230",
        "message",
        None,
    ),
    "fourcat_csv": (
        ["id", "thread_id", "timestamp", "body", "author"],
        "id",
        "author",
        "timestamp",
        "2020-01-01 10:00:00",
        "body",
        None,
    ),
    "generic_table": (
        ["ID", "Author", "When", "Message"],
        "ID",
        "Author",
        "When",
        "2024-01-01T00:00:00Z",
        "Message",
        ReadOptions(column_map=dict(post_id="ID", account_id="Author", created_at="When", text="Message")),
    ),
}


def _csv_line(values: list[str]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(values)
    return buf.getvalue().encode()


@pytest.mark.parametrize("fmt", sorted(BAD))
def test_bad_records_are_quarantined_with_field_and_number(tmp_path, fmt):
    cols, id_col, acc_col, time_col, good_time, free, options = BAD[fmt]

    def row(post_id, account="acc", when=good_time, free_value="text, with comma") -> bytes:
        values = {c: "" for c in cols}
        values.update({id_col: post_id, acc_col: account, time_col: when, free: free_value})
        if fmt == "coortweet_csv":
            values["object_id"] = free_value
        return _csv_line([values[c] for c in cols])

    data = (
        _csv_line(cols)
        + row("1", free_value="multi\nline")
        + row("", account="x")
        + row("3", account="")
        + row("4", when="yesterday")
        + row("5", free_value="ENC").replace(b"ENC", b"caf\xe9")
        + row("6").rstrip(b"\n")
        + b",surplus\n"
        + b"\n"  # a blank line is not a record
        + row("7")
    )
    f = tmp_path / "bad.csv"
    f.write_bytes(data)
    case, (c,) = run(tmp_path, [f], fmt, options)
    assert (c.records, c.inserted, c.quarantined) == (7, 2, 5)
    assert {k: v[-2] for k, v in posts(case).items()} == {"1": 1, "7": 7}
    q = quarantine(case)
    assert [r for r, _ in q] == [2, 3, 4, 5, 6]
    assert q[0][1] == f"missing required field {id_col}"
    assert q[1][1] == f"missing required field {acc_col}"
    assert q[2][1].startswith(f"unparseable timestamp {time_col}=yesterday")
    assert q[3][1].startswith("wrong encoding: not valid UTF-8")
    assert q[4][1] == f"malformed CSV row: expected {len(cols)} fields, found {len(cols) + 1}"


@pytest.mark.parametrize("fmt", sorted(BAD))
def test_empty_and_header_only_files(tmp_path, fmt):
    options = BAD[fmt][-1]
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    case, (c,) = run(tmp_path / "a", [empty], fmt, options)
    assert (c.records, c.quarantined) == (1, 1) and quarantine(case) == [(None, "empty file: no header row")]
    header_only = tmp_path / "header.csv"
    header_only.write_bytes(_csv_line(BAD[fmt][0]).rstrip(b"\n"))
    _, (c,) = run(tmp_path / "b", [header_only], fmt, options)
    assert (c.records, c.quarantined) == (0, 0)


def test_not_utf8_and_wrong_columns_are_one_file_level_record(tmp_path):
    f = tmp_path / "utf16.csv"
    f.write_bytes("tweetid,userid,tweet_time\n".encode("utf-16"))
    case, (c,) = run(tmp_path / "a", [f], "x_archive")
    assert quarantine(case) == [(None, "wrong encoding: the file is UTF-16; save it as UTF-8 CSV")]
    g = tmp_path / "other.csv"
    g.write_text("a,b\n1,2\n")
    case, (c,) = run(tmp_path / "b", [g], "fourcat_csv")
    assert (c.records, c.quarantined) == (1, 1) and "missing column(s) id, body, author" in quarantine(case)[0][1]


def test_oversized_record_is_skipped_and_the_rest_read(tmp_path):
    f = tmp_path / "big.csv"
    f.write_bytes(
        b"message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
        + b'1,u,n,,,"'
        + b"x" * 200_000
        + b'",1577836810,\n'
        + b"2,u,n,,,short,1577836811,\n"
    )
    case, (c,) = run(tmp_path, [f], options=ReadOptions(max_record_bytes=100_000, batch_bytes=65_536))
    assert (c.records, c.inserted, c.quarantined) == (2, 1, 1)
    assert quarantine(case)[0][0] == 1 and "longer than the maximum record size" in quarantine(case)[0][1]
    assert posts(case)["2"][-2] == 2


def test_many_chunks_keep_exact_record_numbers(tmp_path):
    """Scale: 12,000 rows with quoted newlines, commas and quotes across ~12 chunks."""
    f = tmp_path / "gen.csv"
    lines = [_csv_line(["message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls"])]
    for i in range(1, 12_001):
        text = ["plain", 'with "quotes", commas', "two\nlines", "🔥 emoji", "=SUM(A1)"][i % 5] + f" {i}"
        lines.append(_csv_line([f"m{i}", f"u{i % 97}", "n", "", "", text, str(1_600_000_000 + i), ""]))
    f.write_bytes(b"".join(lines))
    case, (c,) = run(tmp_path, [f], options=ReadOptions(batch_bytes=65_536))
    assert (c.records, c.inserted, c.quarantined) == (12_000, 12_000, 0)
    assert rows(
        case,
        """SELECT count(*) FROM posts WHERE post_id <> 'm' || source_record
                         OR text NOT LIKE '% ' || source_record
                         OR epoch(created_at) <> 1600000000 + source_record""",
    ) == [(0,)]
