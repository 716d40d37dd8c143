"""TikTok importer: Research API, TikTokApi items and tiktok-scraper fixtures field by field, bad input, scale.

Also holds the helpers the other platform importer tests share (sniff
exclusivity, a balanced ingest).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
from pathlib import Path

from swarmscope.ingest import formats, ingest, tiktok
from swarmscope.ingest.base import ReadOptions
from swarmscope.store import Case

from .conftest import FIXTURES

DIR = FIXTURES / "tiktok"
NEW_MODULES = ("tiktok", "zeeschuimer", "youtube", "youtube_tools_csv", "bluesky", "vk", "crowdtangle_csv")
EXISTING_FIXTURES = (
    "x_v2",
    "telegram",
    "x_archive",
    "cnt_csv",
    "coortweet_csv",
    "fourcat_csv",
    "generic_table",
    "telethon_csv",
)


def _head(path: Path) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(64 * 1024)


def _module(name: str):
    try:
        return importlib.import_module(f"swarmscope.ingest.{name}")
    except ModuleNotFoundError:
        return None


def assert_sniff_exclusive(module: str, own: list[Path]) -> None:
    """``module`` claims its fixtures and nothing else; no other importer claims its fixtures."""
    mod = importlib.import_module(f"swarmscope.ingest.{module}")
    for p in own:
        assert mod.sniff(p, _head(p)), p
    others = [p for d in EXISTING_FIXTURES for p in sorted((FIXTURES / d).glob("*")) if p.is_file()]
    others += [p for m in NEW_MODULES if m != module for p in sorted((FIXTURES / m).glob("*")) if p.is_file()]
    for p in others:
        assert not mod.sniff(p, _head(p)), f"{module} claims {p}"
    rivals = [m for n, m in formats().items() if n != module]
    rivals += [m for n in NEW_MODULES if n != module and (m := _module(n)) is not None]
    for p in own:
        for rival in rivals:
            assert not rival.sniff(p, _head(p)), f"{rival.NAME} claims {p}"


def run(case: Path, paths: list[Path], fmt: str) -> list:
    """Ingest without enrichment (faster; actions from Batch.extra_actions only) and check the balance."""
    import swarmscope.ingest as registry

    before = registry._MODULES
    # until the platform modules are registered in _MODULES, make --format find them
    registry._MODULES = before + tuple(m for m in NEW_MODULES if m not in before and _module(m) is not None)
    try:
        res = ingest(case, paths, format=fmt, progress=False, enrich=False)
    finally:
        registry._MODULES = before
    for r in res:
        assert r.balanced, r
    return res


def rows(case: Path, table: str, key: str) -> dict:
    with Case(case, read_only=True) as db:
        return {r[key]: r for r in db.table(table).to_pylist()}


def quarantine(case: Path) -> list[tuple]:
    with Case(case, read_only=True) as db:
        return sorted((r["record"] or 0, r["reason"]) for r in db.table("quarantine").to_pylist())


# --------------------------------------------------------------------------


def test_sniff_is_exclusive():
    assert_sniff_exclusive("tiktok", sorted(DIR.glob("*")))


def test_research_api_lines_field_by_field(case_path):
    [res] = run(case_path, [DIR / "research.jsonl"], "tiktok")
    # line 1: 3 videos (one without username); line 2: 2 comments; line 3: a profile (no record);
    # line 4: truncated
    assert (res.records, res.inserted, res.quarantined) == (6, 4, 2)
    posts = rows(case_path, "posts", "post_id")
    v = posts["7300000000000000001"]
    assert (v["platform"], v["account_id"], v["kind"]) == ("tiktok", "alice_tt", "post")
    assert v["created_at"] == dt.datetime(2023, 11, 14, 22, 13, 20)
    assert v["text"] == "Join the march #Peace #unity @bob_tt"
    assert v["hashtags"] == ["peace", "unity"] and v["mentions"] == ["bob_tt"]
    assert (v["like_count"], v["repost_count"], v["reply_count"], v["view_count"]) == (10, 2, 3, 500)
    assert v["source_record"] == 1
    c = posts["7400000000000000001"]
    assert (c["kind"], c["parent_post_id"], c["account_id"], c["text"]) == (
        "comment",
        "7300000000000000001",
        None,
        "great",
    )
    r = posts["7400000000000000002"]
    assert (r["kind"], r["parent_post_id"], r["source_record"]) == ("reply", "7400000000000000001", 2)
    acc = rows(case_path, "accounts", "account_id")
    a = acc["alice_tt"]  # video snapshot merged with the profile object
    assert (a["handle"], a["display_name"], a["description"], a["followers"], a["posts_count"]) == (
        "Alice_TT",
        "Alice T",
        "bio here",
        1200,
        42,
    )
    assert a["profile_image_url"] == "https://p16/a.jpg" and a["verified"] is False
    assert quarantine(case_path) == [
        (1, "missing required field username (author.uniqueId, authorMeta.name) (videos[2])"),
        (4, "invalid JSON (truncated or malformed record)"),
    ]


def test_sound_and_effect_actions(case_path):
    run(case_path, [DIR / "research.jsonl", DIR / "tiktokapi_items.json", DIR / "scraper.json"], "tiktok")
    with Case(case_path, read_only=True) as db:
        got = sorted(
            (r["post_id"][-1], r["account_id"], r["object_type"], r["object_id"])
            for r in db.table("actions").to_pylist()
            if r["object_type"] in ("sound", "effect")
        )
    assert got == [
        ("1", "alice_tt", "effect", "111"),  # effect id "0" means none
        ("1", "alice_tt", "sound", "6900000000000000009"),
        ("2", "bob_tt", "sound", "6900000000000000009"),
        ("4", "carol_tt", "effect", "222"),
        ("4", "carol_tt", "sound", "6900000000000000009"),
        ("6", "erin_tt", "effect", "333"),
        ("6", "erin_tt", "sound", "6900000000000000010"),
    ]


def test_tiktokapi_items_duet_is_quote(case_path):
    [res] = run(case_path, [DIR / "tiktokapi_items.json"], "tiktok")
    assert (res.records, res.inserted, res.quarantined) == (2, 1, 1)
    p = rows(case_path, "posts", "post_id")["7300000000000000004"]
    assert (p["kind"], p["parent_post_id"], p["account_id"]) == ("quote", "7300000000000000001", "carol_tt")
    assert p["hashtags"] == ["peace"] and p["mentions"] == ["alice_tt"] and p["media"] == ["https://p16/cover4.jpg"]
    assert (p["like_count"], p["repost_count"], p["reply_count"], p["view_count"]) == (8, 1, 2, 300)
    a = rows(case_path, "accounts", "account_id")["carol_tt"]
    assert (a["display_name"], a["description"], a["verified"], a["followers"], a["following"]) == (
        "Carol",
        "hi",
        True,
        77,
        5,
    )
    assert quarantine(case_path) == [(2, "unparseable timestamp create_time=yesterday (POSIX seconds expected)")]


def test_duets_and_stitches_are_quotes(case_path):
    [res] = run(case_path, [DIR / "remixes.jsonl"], "tiktok")
    assert (res.records, res.inserted, res.quarantined) == (4, 4, 0)
    p = {
        k: (v["kind"], v["parent_post_id"], v["parent_account_id"])
        for k, v in rows(case_path, "posts", "post_id").items()
    }
    assert p == {
        # "#stitch with @Alice_TT": the Research API has no stitch field; the caption marker, the handle checked
        # against video_mention_list, no source video id anywhere
        "7300000000000000101": ("quote", None, "alice_tt"),
        # "#duet with @Jazie Deere": a display name, not among the mentions: no parent account guessed
        "7300000000000000102": ("quote", None, None),
        "7300000000000000103": ("post", None, None),  # "#stitching with" is no marker
        # web item: duetInfo.duetFromId names the video; textExtra's userUniqueId confirms the handle
        "7300000000000000104": ("quote", "7300000000000000001", "alice_tt"),
    }
    with Case(case_path, read_only=True) as db:
        assert db.con.execute(
            "SELECT count(*) FROM posts WHERE kind = 'quote' AND parent_post_id IS NULL AND parent_account_id IS NULL"
        ).fetchall() == [(1,)]


def test_scraper_collector(case_path):
    [res] = run(case_path, [DIR / "scraper.json"], "tiktok")
    assert (res.records, res.inserted) == (1, 1)
    p = rows(case_path, "posts", "post_id")["7300000000000000006"]
    assert (p["account_id"], p["text"], p["hashtags"], p["mentions"]) == (
        "erin_tt",
        "scraped #Unity",
        ["Unity"],
        ["alice_tt"],
    )
    assert p["created_at"] == dt.datetime(2023, 11, 14, 22, 21, 40)
    a = rows(case_path, "accounts", "account_id")["erin_tt"]
    assert (a["display_name"], a["followers"], a["posts_count"]) == ("Erin", 10, 3)


def test_bad_documents(case_path, tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_text(
        '{"collector": [{"id": "1", "text": "a", "createTime": 1700000000, "authorMeta": {"name": "x"}},'
        ' {"id": "2", "text": "b", "createTime": 17000'
    )
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    latin = tmp_path / "latin.jsonl"
    good = {"id": "3", "desc": "ok", "createTime": 1700000000, "author": {"uniqueId": "y"}}
    latin.write_bytes(json.dumps(good).encode() + b"\n" + b'{"id": "4", "desc": "caf\xe9", "createTime": 1}\n')
    res = run(case_path, [cut, empty, latin], "tiktok")
    assert [(r.records, r.inserted, r.quarantined) for r in res] == [(2, 1, 1), (1, 0, 1), (2, 1, 1)]
    reasons = [r for _, r in quarantine(case_path)]
    assert "empty file" in reasons
    assert any(r.startswith("truncated") for r in reasons)
    assert any(r.startswith("wrong encoding") for r in reasons)


def generate(path: Path, n: int, seed: int = 1) -> None:
    """``n`` Research API videos in pages of 100, one page per line; 1 in 10 shares sound 1."""
    import numpy as np

    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        for start in range(0, n, 100):
            videos = [
                {
                    "id": 7_000_000_000_000_000_000 + i,
                    "video_description": f"video {i} #tag{i % 50}",
                    "create_time": 1_700_000_000 + i,
                    "username": f"user{int(rng.integers(0, n // 20 + 1))}",
                    "hashtag_names": [f"tag{i % 50}"],
                    "music_id": 1 if i % 10 == 0 else 10_000 + i,
                    "effect_ids": [str(i % 7)],
                    "like_count": i % 13,
                    "view_count": i,
                }
                for i in range(start, min(n, start + 100))
            ]
            fh.write(json.dumps({"data": {"videos": videos, "cursor": start, "has_more": True}}) + "\n")


def test_scale_generated(case_path, tmp_path):
    n = 20_000
    data = tmp_path / "videos.jsonl"
    generate(data, n)
    [res] = run(case_path, [data], "tiktok")
    assert (res.records, res.inserted, res.quarantined) == (n, n, 0)
    with Case(case_path, read_only=True) as db:
        got = db.con.execute("SELECT object_type, count(*) FROM actions GROUP BY 1 ORDER BY 1").fetchall()
        sound1 = db.con.execute(
            "SELECT count(*) FROM actions WHERE object_type = 'sound' AND object_id = '1'"
        ).fetchall()
    # every video a sound; effects "1".."6" (effect "0" is none): 6 in 7
    assert got == [("effect", sum(1 for i in range(n) if i % 7)), ("sound", n)]
    assert sound1 == [(n // 10,)]


def test_small_batches_give_same_result(case_path, tmp_path):
    data = tmp_path / "videos.json"
    generate(tmp_path / "v.jsonl", 250)
    pages = [json.loads(line) for line in (tmp_path / "v.jsonl").read_text().splitlines()]
    data.write_text(json.dumps(pages, indent=1))  # an array of responses, read in many slices
    batches = list(tiktok.read(data, ReadOptions(batch_bytes=4096)))
    assert sum(b.posts.num_rows for b in batches) == 250 and len(batches) > 1
    assert sum(b.extra_actions.num_rows for b in batches if b.extra_actions is not None) == 250 + 250 - 36
