"""VK importer: wall.get with profiles/groups and newsfeed.search lines field by field; bad input; scale."""

from __future__ import annotations

import datetime as dt
import json

from swarmscope.store import Case

from .conftest import FIXTURES
from .test_ingest_tiktok import assert_sniff_exclusive, quarantine, rows, run

DIR = FIXTURES / "vk"


def test_sniff_is_exclusive():
    assert_sniff_exclusive("vk", sorted(DIR.glob("*")))


def test_wall_get_field_by_field(case_path):
    [res] = run(case_path, [DIR / "wall_get.json"], "vk")
    assert (res.records, res.inserted, res.quarantined) == (4, 3, 1)  # profiles and groups are not records
    posts = rows(case_path, "posts", "post_id")
    p = posts["-5000_101"]
    assert (p["platform"], p["account_id"], p["kind"], p["client"]) == ("vk", "-5000", "post", "android")
    assert p["created_at"] == dt.datetime(2024, 3, 1, 10, 0)
    assert (p["hashtags"], p["mentions"], p["media"]) == (["выборы"], ["id77"], ["photo-5000_9001"])
    assert p["urls"] == ["https://example.ru/a", "https://example.ru/story"]
    assert (p["like_count"], p["repost_count"], p["reply_count"], p["view_count"]) == (12, 3, 1, 900)
    rp = posts["77_102"]
    assert (rp["kind"], rp["parent_post_id"], rp["parent_account_id"], rp["text"]) == (
        "repost",
        "-5000_101",
        "-5000",
        None,
    )
    assert (posts["78_103"]["kind"], posts["78_103"]["parent_post_id"]) == ("quote", "-5000_101")
    acc = rows(case_path, "accounts", "account_id")
    assert (acc["-5000"]["handle"], acc["-5000"]["display_name"]) == ("newsgroup", "News Group")
    assert (acc["77"]["handle"], acc["77"]["display_name"], acc["77"]["profile_image_url"]) == (
        "ivan_p",
        "Ivan Petrov",
        "https://sun/i.jpg",
    )
    assert acc["77"]["snapshot_at"] == dt.datetime(2024, 3, 1, 10, 1)
    assert quarantine(case_path) == [(4, "unparseable timestamp date=tomorrow (POSIX seconds expected)")]


def test_newsfeed_lines_and_bad_input(case_path, tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_text("")
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'{"response": {"items": [{"id": 1, "owner_id": 2, "date": 1709290000, "text": "\xe9"}]}}\n')
    res = run(case_path, [DIR / "newsfeed.jsonl", empty, latin], "vk")
    assert [(r.records, r.inserted, r.quarantined) for r in res] == [(3, 1, 2), (1, 0, 1), (1, 0, 1)]
    q = quarantine(case_path)
    assert (1, "missing required field id (items[1])") in q
    assert (2, "invalid JSON (truncated or malformed record)") in q
    assert any(r == "empty file" for _, r in q) and any(r.startswith("wrong encoding") for _, r in q)


def test_scale_generated(case_path, tmp_path):
    n = 20_000
    pages = []
    for start in range(0, n, 100):
        items = [
            {
                "id": i,
                "owner_id": i % 300,
                "from_id": i % 300,
                "date": 1_709_000_000 + i,
                "text": "" if i % 3 else f"t {i}",
                "copy_history": [{"id": 1, "owner_id": -1}] if i % 3 else [],
            }
            for i in range(start, start + 100)
        ]
        pages.append({"response": {"count": n, "items": items}})
    data = tmp_path / "pages.json"
    data.write_text(json.dumps(pages))  # an array of responses
    [res] = run(case_path, [data], "vk")
    assert (res.records, res.inserted, res.quarantined) == (n, n, 0)
    with Case(case_path, read_only=True) as db:
        kinds = db.con.execute("SELECT kind, count(*) FROM posts GROUP BY 1 ORDER BY 1").fetchall()
    assert kinds == [("post", sum(1 for i in range(n) if i % 3 == 0)), ("repost", sum(1 for i in range(n) if i % 3))]
