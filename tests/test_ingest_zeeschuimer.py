"""Zeeschuimer NDJSON importer: TikTok, Instagram and X captures field by field, bad lines, scale."""

from __future__ import annotations

import datetime as dt
import json

from swarmscope.store import Case

from .conftest import FIXTURES
from .test_ingest_tiktok import assert_sniff_exclusive, quarantine, rows, run

CAPTURE = FIXTURES / "zeeschuimer" / "capture.ndjson"


def test_sniff_is_exclusive():
    assert_sniff_exclusive("zeeschuimer", [CAPTURE])


def test_capture_field_by_field(case_path):
    [res] = run(case_path, [CAPTURE], "zeeschuimer")
    assert (res.records, res.inserted, res.quarantined) == (7, 4, 3)
    posts = rows(case_path, "posts", "post_id")
    tt = posts["7300000000000000004"]
    assert (tt["platform"], tt["account_id"], tt["kind"], tt["hashtags"]) == ("tiktok", "carol_tt", "post", ["peace"])
    ig = posts["CxAbC123"]
    assert (ig["platform"], ig["account_id"], ig["text"]) == (
        "instagram",
        "insta.gram",
        "sunset #Beach with @friend.one",
    )
    assert ig["created_at"] == dt.datetime(2023, 11, 14, 22, 30)
    assert (ig["hashtags"], ig["mentions"], ig["like_count"], ig["reply_count"]) == (["Beach"], ["friend.one"], 12, 3)
    node = posts["CyDeF456"]  # GraphQL node under "item"
    assert (node["account_id"], node["text"], node["like_count"], node["media"]) == (
        "second_ig",
        "#Beach again",
        7,
        ["https://ig/img2.jpg"],
    )
    x = posts["1001"]
    assert (x["platform"], x["account_id"], x["client"], x["view_count"]) == ("x", "11", "Twitter Web App", 42)
    assert x["created_at"] == dt.datetime(2024, 3, 1, 10, 0)  # +0200 converted
    assert x["urls"] == ["https://example.com/a"] and x["lang"] == "en"
    acc = {(r["platform"], r["account_id"]): r for r in rows(case_path, "accounts", "account_id").values()}
    assert acc[("instagram", "insta.gram")]["handle"] == "Insta.Gram"
    alice = acc[("x", "11")]
    assert (alice["handle"], alice["followers"], alice["created_at"]) == ("alice", 100, dt.datetime(2020, 1, 1))
    assert alice["snapshot_at"] == dt.datetime(2023, 11, 14, 23, 13, 20)  # timestamp_collected (ms)
    assert quarantine(case_path) == [
        (
            5,
            "Zeeschuimer capture from facebook.com is not supported (supported: tiktok.com, instagram.com, x.com, "
            "twitter.com)",
        ),
        (6, "missing required field taken_at"),
        (7, "invalid JSON (truncated or malformed record)"),
    ]
    with Case(case_path, read_only=True) as db:
        acts = sorted((r["object_type"], r["object_id"]) for r in db.table("actions").to_pylist())
    assert acts == [("effect", "222"), ("sound", "6900000000000000009")]


def test_bad_input(case_path, tmp_path):
    empty = tmp_path / "empty.ndjson"
    empty.write_bytes(b"")
    bad = tmp_path / "bad.ndjson"
    line = {
        "source_platform": "instagram.com",
        "timestamp_collected": 1,
        "data": {"code": "A", "taken_at": "soon", "user": {"username": "u"}},
    }
    bad.write_bytes(
        json.dumps(line).encode() + b"\n" + b'{"source_platform": "tiktok.com", "data": {"desc": "\xff"}}\n'
    )
    res = run(case_path, [empty, bad], "zeeschuimer")
    assert [(r.records, r.quarantined) for r in res] == [(1, 1), (2, 2)]
    reasons = [r for _, r in quarantine(case_path)]
    assert "empty file" in reasons and "unparseable timestamp taken_at=soon" in reasons
    assert any(r.startswith("wrong encoding") for r in reasons)


def test_scale_generated(case_path, tmp_path):
    n = 20_000
    data = tmp_path / "zs.ndjson"
    with open(data, "w") as fh:
        for i in range(n):
            if i % 2:
                item = {
                    "code": f"C{i}",
                    "taken_at": 1_700_000_000 + i,
                    "user": {"username": f"u{i % 500}"},
                    "caption": {"text": f"post {i} #tag{i % 9}"},
                }
                platform = "instagram.com"
            else:
                item = {
                    "id": str(7_000_000 + i),
                    "desc": f"v {i}",
                    "createTime": 1_700_000_000 + i,
                    "author": {"uniqueId": f"t{i % 500}"},
                    "music": {"id": str(i % 100)},
                }
                platform = "tiktok.com"
            fh.write(
                json.dumps({"source_platform": platform, "timestamp_collected": 1_700_100_000_000, "data": item}) + "\n"
            )
    [res] = run(case_path, [data], "zeeschuimer")
    assert (res.records, res.inserted, res.quarantined) == (n, n, 0)
    with Case(case_path, read_only=True) as db:
        per = db.con.execute("SELECT platform, count(*) FROM posts GROUP BY 1 ORDER BY 1").fetchall()
        sounds = db.con.execute("SELECT count(*) FROM actions WHERE object_type = 'sound'").fetchall()
    assert per == [("instagram", n // 2), ("tiktok", n // 2)] and sounds == [(n // 2,)]


def test_tiktok_stitch_capture_is_quote(case_path, tmp_path):
    item = {
        "id": "7300000000000000201",
        "desc": "#stitch with @alice_tt no way",
        "createTime": 1700000000,
        "author": {"id": "9", "uniqueId": "hank_tt"},
        "textExtra": [{"hashtagName": "stitch"}, {"userUniqueId": "alice_tt"}],
        "duetInfo": {"duetFromId": "0"},
    }
    capture = tmp_path / "zs.ndjson"
    capture.write_text(
        json.dumps(
            {
                "id": 1,
                "item_id": item["id"],
                "timestamp_collected": 1700000100000,
                "source_platform": "tiktok.com",
                "data": item,
            }
        )
        + "\n"
    )
    run(case_path, [capture], "zeeschuimer")
    p = rows(case_path, "posts", "post_id")["7300000000000000201"]
    assert (p["kind"], p["parent_post_id"], p["parent_account_id"]) == ("quote", None, "alice_tt")
