"""YouTube Data API v3 importer: videos, search results, playlist items, comment threads field by field;
bad input; scale."""

from __future__ import annotations

import datetime as dt
import json

from swarmscope.store import Case

from .conftest import FIXTURES
from .test_ingest_tiktok import assert_sniff_exclusive, quarantine, rows, run

DIR = FIXTURES / "youtube"


def test_sniff_is_exclusive():
    assert_sniff_exclusive("youtube", sorted(DIR.glob("*")))


def test_videos_page_field_by_field(case_path):
    [res] = run(case_path, [DIR / "videos.json"], "youtube")
    # 6 items: 3 video posts, 1 bad time; a channel search result and a channel resource are not records
    assert (res.records, res.inserted, res.quarantined) == (4, 3, 1)
    posts = rows(case_path, "posts", "post_id")
    v = posts["vid00000001"]
    assert (v["platform"], v["account_id"], v["kind"]) == ("youtube", "UCchan0000000000000000001", "post")
    assert v["created_at"] == dt.datetime(2024, 3, 1, 10, 0)
    assert v["text"] == "Breaking #News\n\nMore at https://example.com/story. Thanks @helper_ch"
    assert (v["hashtags"], v["urls"], v["mentions"]) == (["News"], ["https://example.com/story"], ["helper_ch"])
    assert (v["lang"], v["lang_source"]) == ("en", "platform")
    assert (v["like_count"], v["reply_count"], v["view_count"]) == (50, 2, 1000)
    assert v["media"] == ["https://i.ytimg.com/vi/vid00000001/hqdefault.jpg"]
    s = posts["vid00000003"]  # search result, +01:00 converted
    assert (s["account_id"], s["created_at"], s["source_record"]) == (
        "UCchan0000000000000000002",
        dt.datetime(2024, 3, 1, 10, 0),
        4,
    )
    p = posts["vid00000004"]  # playlist item: the video's owner and publish time, not the playlist's
    assert (p["account_id"], p["created_at"]) == ("UCchan0000000000000000002", dt.datetime(2024, 3, 2, 9, 0))
    ch = rows(case_path, "accounts", "account_id")["UCchan0000000000000000001"]
    assert (ch["handle"], ch["display_name"], ch["description"], ch["followers"], ch["posts_count"]) == (
        "chanone",
        "Chan One",
        "news channel",
        12345,
        321,
    )
    assert (ch["created_at"], ch["location"]) == (dt.datetime(2015, 6, 1), "GB")
    assert quarantine(case_path) == [(2, "unparseable timestamp publishedAt=last week")]


def test_comment_threads(case_path):
    [res] = run(case_path, [DIR / "comment_threads.jsonl"], "youtube")
    # line 1: a thread = top-level comment + 2 replies (one without author); line 2: empty page; line 3: a playlist
    assert (res.records, res.inserted, res.quarantined) == (4, 2, 2)
    posts = rows(case_path, "posts", "post_id")
    c = posts["cmt1"]
    assert (c["kind"], c["parent_post_id"], c["parent_account_id"]) == (
        "comment",
        "vid00000001",
        "UCchan0000000000000000001",
    )
    assert (c["account_id"], c["text"], c["hashtags"], c["like_count"], c["reply_count"]) == (
        "UCviewerA",
        "So true & #sad",
        ["sad"],
        3,
        1,
    )
    r = posts["cmt1.r1"]
    assert (r["kind"], r["parent_post_id"], r["parent_account_id"], r["created_at"]) == (
        "reply",
        "cmt1",
        "UCviewerA",
        dt.datetime(2024, 3, 1, 12, 5),
    )
    a = rows(case_path, "accounts", "account_id")["UCviewerA"]
    assert (a["handle"], a["display_name"], a["profile_image_url"]) == ("viewer_a", "@viewer_a", "https://yt3/a.jpg")
    assert quarantine(case_path) == [
        (1, "missing required field snippet.authorChannelId (items[0]) (replies.comments[1])"),
        (3, "not a supported YouTube resource: kind=youtube#playlist"),
    ]


def test_comment_threads_with_replies_are_distinct_posts(case_path, tmp_path):
    """Every comment and reply is its own post (its own id); only the same comment seen twice is a duplicate."""
    src = DIR / "comment_threads_replies.jsonl"
    # page 1: T1 (+2 replies), T2; page 2: T3 (+1 reply), T1 again (the API's pages can overlap), T4 (+5 of 7)
    [res] = run(case_path, [src], "youtube")
    assert (res.records, res.inserted, res.duplicates, res.quarantined) == (15, 12, 3, 0)
    posts = rows(case_path, "posts", "post_id")
    t1, t2, t3, t4 = (
        f"Ug{c}T{n}{ch * 15}4AaABAg" for c, n, ch in (("z", 1, "a"), ("x", 2, "b"), ("w", 3, "c"), ("y", 4, "d"))
    )
    assert {k: v["kind"] for k, v in posts.items() if v["kind"] == "comment"} == dict.fromkeys(
        [t1, t2, t3, t4], "comment"
    )
    replies = {k: (v["parent_post_id"], v["account_id"]) for k, v in posts.items() if v["kind"] == "reply"}
    assert len(replies) == 8 and all(k.startswith(parent + ".") for k, (parent, _) in replies.items())
    # same text, same second, other account (T2, T3; T3's reply by T2's author): three posts, not duplicates
    assert [posts[k]["account_id"] for k in (t2, t3, t3 + ".9xR1" + "c" * 18)] == ["UCcy", "UCdi", "UCcy"]
    assert posts[t4]["reply_count"] == 7  # totalReplyCount, though only 5 replies came inline
    assert posts[t1 + ".9xR2" + "a" * 18]["parent_account_id"] == "UCana"
    # the same layout as one document (an array of the two pages) and as bare threads give the same counts
    pages = [json.loads(line) for line in src.read_text().splitlines()]
    doc, bare = tmp_path / "pages.json", tmp_path / "threads.json"
    doc.write_text(json.dumps(pages, indent=2))
    bare.write_text(json.dumps([t for p in pages for t in p["items"]]))
    for i, f in enumerate((doc, bare)):
        [r] = run(tmp_path / f"c{i}.duckdb", [f], "youtube")
        assert (r.records, r.inserted, r.duplicates, r.quarantined) == (15, 12, 3, 0)


def test_playlist_items_without_video_owner(case_path):
    [res] = run(case_path, [DIR / "playlist_items_no_owner.json"], "youtube")
    # 6 items without snippet.videoOwnerChannelId: 3 stored, vid00000005 listed twice, 2 without a time
    assert (res.records, res.inserted, res.duplicates, res.quarantined) == (6, 3, 1, 2)
    posts = rows(case_path, "posts", "post_id")
    got = {k: (v["account_id"], v["created_at"]) for k, v in posts.items()}
    assert got == {
        # an uploads playlist: the playlist's owner is the uploader; the video's publish time
        "vid00000005": ("UCchan0000000000000000003", dt.datetime(2019, 2, 3, 10, 0)),
        # uploads playlist, part=snippet only: added = uploaded
        "vid00000006": ("UCchan0000000000000000003", dt.datetime(2019, 2, 4, 11, 0)),
        # someone else's playlist: attributed to the channel that listed it, at the video's publish time
        "vid00000007": ("UCcurator000000000000000", dt.datetime(2018, 12, 24, 17, 30)),
    }
    assert rows(case_path, "accounts", "account_id")["UCcurator000000000000000"]["display_name"] == "The Curator"
    assert quarantine(case_path) == [
        (4, "missing required field publishedAt (request part=contentDetails for videoPublishedAt)"),
        (
            5,
            "video unavailable (snippet.title=Deleted video): the playlist item names neither its owner nor when it "
            "was published",
        ),
    ]


def test_bad_input(case_path, tmp_path):
    cut = tmp_path / "cut.json"
    text = (DIR / "videos.json").read_text()
    cut.write_text(text[: text.index('"vid00000003"') + 40])
    empty = tmp_path / "empty.json"
    empty.write_text("  \n")
    nokind = tmp_path / "nokind.json"
    nokind.write_bytes(
        b'[{"kind": "youtube#video", "id": "x1", "snippet": {"publishedAt": "2024-01-01T00:00:00Z", '
        b'"channelId": "UC1", "title": "caf\xe9"}}, {"id": "x2"}]'
    )
    res = run(case_path, [cut, empty, nokind], "youtube")
    assert [(r.records, r.inserted, r.quarantined) for r in res] == [(3, 1, 2), (1, 0, 1), (2, 0, 2)]
    reasons = [r for _, r in quarantine(case_path)]
    assert any(r.startswith("truncated") for r in reasons) and "empty file" in reasons
    assert any(r.startswith("wrong encoding") for r in reasons) and "missing required field kind" in reasons


def test_scale_generated(case_path, tmp_path):
    n = 20_000
    data = tmp_path / "threads.jsonl"
    with open(data, "w") as fh:
        for start in range(0, n, 100):  # 50 threads of 1 comment + 1 reply per page
            items = [
                {
                    "kind": "youtube#commentThread",
                    "id": f"t{i}",
                    "snippet": {
                        "videoId": f"v{i % 37}",
                        "channelId": "UCowner",
                        "totalReplyCount": 1,
                        "topLevelComment": {
                            "kind": "youtube#comment",
                            "id": f"c{i}",
                            "snippet": {
                                "authorChannelId": {"value": f"UC{i % 700}"},
                                "textOriginal": f"comment {i}",
                                "publishedAt": "2024-03-01T10:00:00Z",
                            },
                        },
                    },
                    "replies": {
                        "comments": [
                            {
                                "kind": "youtube#comment",
                                "id": f"c{i}.r",
                                "snippet": {
                                    "authorChannelId": {"value": f"UC{(i + 1) % 700}"},
                                    "textOriginal": "reply",
                                    "parentId": f"c{i}",
                                    "publishedAt": "2024-03-01T11:00:00Z",
                                },
                            }
                        ]
                    },
                }
                for i in range(start, start + 50)
            ]
            fh.write(json.dumps({"kind": "youtube#commentThreadListResponse", "items": items}) + "\n")
    [res] = run(case_path, [data], "youtube")
    assert (res.records, res.inserted, res.quarantined) == (n, n, 0)
    with Case(case_path, read_only=True) as db:
        kinds = db.con.execute(
            "SELECT kind, count(*), count(parent_account_id) FROM posts GROUP BY 1 ORDER BY 1"
        ).fetchall()
    assert kinds == [("comment", n // 2, n // 2), ("reply", n // 2, n // 2)]


def test_json_lines_with_a_first_line_longer_than_the_sniffing_head(tmp_path):
    """A commentThreads page of 100 threads is ~105 KB on one line: still JSON lines, not one document."""
    from swarmscope.ingest.base import SNIFF_BYTES
    from swarmscope.ingest.jsonrecords import layout

    page = {"kind": "youtube#commentThreadListResponse", "items": [], "pad": "x" * (SNIFF_BYTES + 1000)}
    f = tmp_path / "long.jsonl"
    f.write_text(json.dumps(page) + "\n" + json.dumps(page) + "\n")
    assert layout(f) == "lines"
    doc = tmp_path / "doc.json"
    doc.write_text(json.dumps(page, indent=1))
    assert layout(doc) == "document"
