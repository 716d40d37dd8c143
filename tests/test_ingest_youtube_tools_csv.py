"""YouTube Data Tools export importer: video list and comments (.tab) field by field; bad input; scale."""

from __future__ import annotations

import datetime as dt

from swarmscope.store import Case

from .conftest import FIXTURES
from .test_ingest_tiktok import assert_sniff_exclusive, quarantine, rows, run

DIR = FIXTURES / "youtube_tools_csv"
VIDEOS = DIR / "videolist_channels20_2024_03_05.tab"
COMMENTS = DIR / "videoinfo_vid00000001_2024_03_05-10_00_00_comments.tab"


def test_sniff_is_exclusive():
    assert_sniff_exclusive("youtube_tools_csv", [VIDEOS, COMMENTS])


def test_video_list_field_by_field(case_path):
    [res] = run(case_path, [VIDEOS], "youtube_tools_csv")
    assert (res.records, res.inserted, res.quarantined) == (3, 2, 1)
    posts = rows(case_path, "posts", "post_id")
    v = posts["vid00000001"]  # same ids as the API importer
    assert (v["platform"], v["account_id"], v["created_at"]) == (
        "youtube",
        "UCchan0000000000000000001",
        dt.datetime(2024, 3, 1, 10),
    )
    assert (v["text"], v["hashtags"], v["urls"]) == (
        "Breaking #News\n\nMore at https://example.com/story",
        ["News"],
        ["https://example.com/story"],
    )
    assert (v["lang"], v["like_count"], v["reply_count"], v["view_count"]) == ("en", 50, 2, 1000)
    assert posts["vid00000005"]["created_at"] == dt.datetime(2024, 3, 3, 8, 0)  # publishedAtSQL fallback
    assert rows(case_path, "accounts", "account_id")["UCchan0000000000000000001"]["display_name"] == "Chan One"
    assert quarantine(case_path) == [(3, "unparseable timestamp publishedAt=someday")]


def test_comments_parent_from_file_name(case_path):
    [res] = run(case_path, [COMMENTS], "youtube_tools_csv")
    assert (res.records, res.inserted, res.quarantined) == (3, 2, 1)
    posts = rows(case_path, "posts", "post_id")
    assert (posts["cmt1"]["kind"], posts["cmt1"]["parent_post_id"], posts["cmt1"]["reply_count"]) == (
        "comment",
        "vid00000001",
        1,
    )
    assert (posts["cmt1.r1"]["kind"], posts["cmt1.r1"]["parent_post_id"]) == ("reply", "cmt1")
    a = rows(case_path, "accounts", "account_id")["UCviewerA"]
    assert (a["handle"], a["display_name"]) == ("viewer_a", "@viewer_a")
    assert quarantine(case_path) == [(3, "missing required field authorChannelId")]


def test_bad_input(case_path, tmp_path):
    empty = tmp_path / "empty.tab"
    empty.write_bytes(b"")
    latin = tmp_path / "latin.tab"
    latin.write_bytes(
        b"videoId\tchannelId\tpublishedAt\tvideoTitle\n"
        b"v1\tUC1\t2024-01-01T00:00:00Z\tok\nv2\tUC1\t2024-01-01T00:00:00Z\tcaf\xe9\n"
    )
    res = run(case_path, [empty, latin], "youtube_tools_csv")
    assert [(r.records, r.inserted, r.quarantined) for r in res] == [(1, 0, 1), (2, 1, 1)]
    reasons = [r for _, r in quarantine(case_path)]
    assert any(r.startswith("empty file") for r in reasons) and any(r.startswith("wrong encoding") for r in reasons)


def test_scale_generated(case_path, tmp_path):
    n = 20_000
    data = tmp_path / "videoinfo_abcdefghijk_2024_comments.tab"
    with open(data, "w") as fh:
        fh.write("id\treplyCount\tlikeCount\tpublishedAt\tauthorName\ttext\tauthorChannelId\tisReply\tisReplyTo\n")
        for i in range(n):
            reply = i % 2 == 1
            fh.write(
                f"c{i}\t0\t{i % 5}\t2024-03-01T10:00:00Z\tname{i % 300}\tcomment {i}\tUC{i % 300}\t"
                f"{1 if reply else 0}\t{f'c{i - 1}' if reply else ''}\n"
            )
    [res] = run(case_path, [data], "youtube_tools_csv")
    assert (res.records, res.inserted, res.quarantined) == (n, n, 0)
    with Case(case_path, read_only=True) as db:
        got = db.con.execute(
            "SELECT kind, count(*), count(DISTINCT parent_post_id) FROM posts GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert got == [("comment", n // 2, 1), ("reply", n // 2, n // 2)]
