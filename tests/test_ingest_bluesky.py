"""Bluesky importer: searchPosts, getAuthorFeed with reposts, listRecords and Jetstream field by field;
bad input; scale."""

from __future__ import annotations

import datetime as dt
import json

from swarmscope.store import Case

from .conftest import FIXTURES
from .test_ingest_tiktok import assert_sniff_exclusive, quarantine, rows, run

DIR = FIXTURES / "bluesky"
P1 = "at://did:plc:alice/app.bsky.feed.post/3k1"


def test_sniff_is_exclusive():
    assert_sniff_exclusive("bluesky", sorted(DIR.glob("*")))


def test_search_posts_field_by_field(case_path):
    [res] = run(case_path, [DIR / "search_posts.json"], "bluesky")
    assert (res.records, res.inserted, res.quarantined) == (4, 3, 1)
    posts = rows(case_path, "posts", "post_id")
    p = posts[P1]
    assert (p["account_id"], p["kind"], p["lang"]) == ("did:plc:alice", "post", "en")
    assert p["created_at"] == dt.datetime(2024, 3, 1, 9, 0)  # +01:00 converted
    # facets: the full link (the text shows it shortened), the tag, the mention as written
    assert (p["urls"], p["hashtags"], p["mentions"]) == (["https://exa.mple/full/path"], ["Vote"], ["bob.bsky.social"])
    assert (p["like_count"], p["repost_count"], p["reply_count"], p["quote_count"]) == (3, 2, 1, 4)
    assert p["media"] == ["https://cdn/img1.jpg"]
    r = posts["at://did:plc:bob/app.bsky.feed.post/3k2"]
    assert (r["kind"], r["parent_post_id"], r["parent_account_id"]) == ("reply", P1, "did:plc:alice")
    qt = posts["at://did:plc:carol/app.bsky.feed.post/3k3"]  # recordWithMedia embed
    assert (qt["kind"], qt["parent_post_id"]) == ("quote", P1)
    a = rows(case_path, "accounts", "account_id")["did:plc:alice"]
    assert (a["handle"], a["display_name"], a["created_at"]) == ("alice.bsky.social", "Alice", dt.datetime(2023, 5, 1))
    assert a["snapshot_at"] == dt.datetime(2024, 3, 1, 9, 0, 1)  # indexedAt
    assert quarantine(case_path) == [(4, "unparseable timestamp createdAt=not a date")]


def test_feed_reposts_repo_records_and_jetstream(case_path):
    [res] = run(case_path, [DIR / "author_feed.jsonl"], "bluesky")
    # line 1: post, post again + its repost, one without createdAt; line 2: a repost record (a like is skipped);
    # line 3: a Jetstream create; line 4: an identity event (skipped)
    assert (res.records, res.inserted, res.duplicates, res.quarantined) == (6, 4, 1, 1)
    posts = rows(case_path, "posts", "post_id")
    rp = posts[f"did:plc:dave/repost/{P1}"]
    assert (rp["kind"], rp["account_id"], rp["parent_post_id"], rp["parent_account_id"], rp["text"]) == (
        "repost",
        "did:plc:dave",
        P1,
        "did:plc:alice",
        None,
    )
    assert rp["created_at"] == dt.datetime(2024, 3, 1, 9, 10)
    rr = posts["at://did:plc:erin/app.bsky.feed.repost/3r1"]
    assert (rr["kind"], rr["account_id"], rr["parent_post_id"]) == ("repost", "did:plc:erin", P1)
    jet = posts["at://did:plc:fred/app.bsky.feed.post/3j1"]
    assert (jet["account_id"], jet["text"], jet["lang"], jet["source_record"]) == ("did:plc:fred", "jet #Vote", "de", 3)
    assert rows(case_path, "accounts", "account_id")["did:plc:dave"]["display_name"] == "Dave"
    assert quarantine(case_path) == [(1, "missing required field createdAt (feed[2])")]


SDK_P1 = "at://did:plc:ana/app.bsky.feed.post/3ksdk1"


def test_atproto_sdk_model_dump_lines(case_path):
    """A collector's JSON lines of the Python atproto SDK's ``model_dump()``: snake_case keys, ``py_type``."""
    [res] = run(case_path, [DIR / "atproto_sdk_posts.jsonl"], None)
    # 7 lines: 4 posts, line 6 repeats line 1, line 7 has no created_at; a like (line 5) is not a record
    assert (res.format, res.records, res.inserted, res.duplicates, res.quarantined) == ("bluesky", 6, 4, 1, 1)
    posts = rows(case_path, "posts", "post_id")
    p = posts[SDK_P1]
    assert (p["account_id"], p["kind"], p["lang"], p["created_at"]) == (
        "did:plc:ana",
        "post",
        "pt",
        dt.datetime(2024, 3, 1, 13, 0),  # created_at with -03:00, converted
    )
    # facets with byte_start/byte_end and py_type features, the images view, the counts
    assert (p["hashtags"], p["urls"], p["mentions"]) == (["Sim"], ["https://exa.mple/x/full"], ["bo.bsky.social"])
    assert (p["media"], p["like_count"], p["repost_count"], p["reply_count"], p["quote_count"]) == (
        ["https://cdn.bsky.app/img/feed_fullsize/p1.jpg"],
        4,
        2,
        1,
        1,
    )
    assert {k: (v["kind"], v["parent_post_id"], v["parent_account_id"]) for k, v in posts.items() if k != SDK_P1} == {
        "at://did:plc:bo/app.bsky.feed.post/3ksdk2": ("reply", SDK_P1, "did:plc:ana"),
        "at://did:plc:bo/app.bsky.feed.post/3ksdk3": ("quote", SDK_P1, "did:plc:ana"),
        # the firehose example's {uri, cid, author: <did>, record}
        "at://did:plc:cy/app.bsky.feed.post/3ksdk4": ("post", None, None),
    }
    a = rows(case_path, "accounts", "account_id")["did:plc:ana"]
    assert (a["handle"], a["display_name"], a["created_at"], a["snapshot_at"]) == (
        "ana.bsky.social",
        "Ana",
        dt.datetime(2023, 6, 1, 12, 0),
        dt.datetime(2024, 3, 1, 10, 0, 1),  # indexed_at
    )
    assert quarantine(case_path) == [(7, "missing required field createdAt")]


def test_atproto_sdk_author_feed_document(case_path):
    """``client.get_author_feed(...).model_dump()`` saved as one JSON document: a post, its repost, a post."""
    [res] = run(case_path, [DIR / "atproto_sdk_author_feed.json"], None)
    # 3 feed items = 4 records (the repost item is the repost and the post again)
    assert (res.format, res.records, res.inserted, res.duplicates, res.quarantined) == ("bluesky", 4, 3, 1, 0)
    rp = rows(case_path, "posts", "post_id")[f"did:plc:dave/repost/{SDK_P1}"]
    assert (rp["kind"], rp["account_id"], rp["parent_post_id"], rp["created_at"]) == (
        "repost",
        "did:plc:dave",
        SDK_P1,
        dt.datetime(2024, 3, 1, 15, 0),  # reason.indexed_at
    )


def test_snake_case_words_in_text_are_not_renamed(case_path, tmp_path):
    """Only keys are renamed: a post's text or tags that spell the SDK's names stay as written."""
    text = 'say "created_at": 1, {"py_type": "x"} ,"like_count":'
    line = {
        "uri": "at://did:plc:x/app.bsky.feed.post/1",
        "author": "did:plc:x",
        "record": {
            "text": text,
            "created_at": "2024-01-01T00:00:00Z",
            "tags": ["created_at"],
            "py_type": "app.bsky.feed.post",
        },
    }
    f = tmp_path / "x.jsonl"
    f.write_text(json.dumps(line) + "\n")
    [res] = run(case_path, [f], None)
    assert (res.records, res.inserted) == (1, 1)
    p = rows(case_path, "posts", "post_id")["at://did:plc:x/app.bsky.feed.post/1"]
    assert (p["text"], p["hashtags"], p["account_id"]) == (text, ["created_at"], "did:plc:x")


def test_bad_input(case_path, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(
        b'{"uri": "at://did:plc:x/app.bsky.feed.post/1", "author": {"did": "did:plc:x"}, '
        b'"record": {"text": "caf\xe9", "createdAt": "2024-01-01T00:00:00Z"}}\n'
        b'{"hello": "world"}\n{"posts": [{"uri": "at://did:plc:x/app.bsky.feed.post/2"\n'
    )
    res = run(case_path, [empty, mixed], "bluesky")
    assert [(r.records, r.inserted, r.quarantined) for r in res] == [(1, 0, 1), (3, 0, 3)]
    reasons = [r for _, r in quarantine(case_path)]
    assert "empty file" in reasons and any(r.startswith("wrong encoding") for r in reasons)
    assert any(r.startswith("not a Bluesky post") for r in reasons)
    assert any(r.startswith("invalid JSON") for r in reasons)


def test_scale_generated(case_path, tmp_path):
    n = 20_000
    data = tmp_path / "jet.jsonl"
    with open(data, "w") as fh:
        for i in range(n):
            if i % 4 == 3:
                rec = {
                    "$type": "app.bsky.feed.repost",
                    "subject": {"uri": f"at://did:plc:u{i % 97}/app.bsky.feed.post/p{i - 1}"},
                    "createdAt": "2024-03-01T10:00:00Z",
                }
                coll = "app.bsky.feed.repost"
            else:
                rec = {
                    "$type": "app.bsky.feed.post",
                    "text": f"post {i} #t{i % 5}",
                    "createdAt": "2024-03-01T10:00:00Z",
                    "facets": [
                        {
                            "index": {"byteStart": 0, "byteEnd": 4},
                            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": f"t{i % 5}"}],
                        }
                    ],
                }
                coll = "app.bsky.feed.post"
            fh.write(
                json.dumps(
                    {
                        "did": f"did:plc:u{i % 97}",
                        "time_us": i,
                        "kind": "commit",
                        "commit": {"operation": "create", "collection": coll, "rkey": f"p{i}", "record": rec},
                    }
                )
                + "\n"
            )
    [res] = run(case_path, [data], "bluesky")
    assert (res.records, res.inserted, res.quarantined) == (n, n, 0)
    with Case(case_path, read_only=True) as db:
        kinds = db.con.execute("SELECT kind, count(*), count(hashtags[1]) FROM posts GROUP BY 1 ORDER BY 1").fetchall()
    assert kinds == [("post", n * 3 // 4, n * 3 // 4), ("repost", n // 4, 0)]
