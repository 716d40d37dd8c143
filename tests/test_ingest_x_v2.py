"""X API v2 importer: the hand-written fixture checked field by field, plus bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest

from swarmscope.ingest import IngestError, detect_format, ingest
from swarmscope.store import Case

from .conftest import FIXTURES

if TYPE_CHECKING:
    import pyarrow as pa

    from swarmscope.model import IngestCounts

PAGE = FIXTURES / "x_v2" / "page.jsonl"


def _posts(case: Path) -> dict[str, dict]:
    with Case(case, read_only=True) as db:
        return {r["post_id"]: r for r in db.table("posts").to_pylist()}


def test_detects_format():
    assert detect_format(PAGE).NAME == "x_v2"


def test_fixture_field_by_field(case_path):
    [res] = ingest(case_path, [PAGE], progress=False)
    # line 1: 3 data tweets + 1 included tweet (same as data[0], not a second record);
    # line 2: 2 bad tweets; line 3: truncated; line 4: empty page (no record); line 5: 1 tweet
    assert (res.records, res.inserted, res.duplicates, res.quarantined) == (7, 4, 0, 3)
    assert res.balanced
    posts = _posts(case_path)
    assert set(posts) == {"1001", "1002", "1003", "1007"}
    p = posts["1001"]
    assert p["account_id"] == "11" and p["platform"] == "x" and p["kind"] == "post"
    assert p["created_at"] == dt.datetime(2024, 3, 1, 10, 0, 0)
    assert p["hashtags"] == ["Peace"] and p["lang"] == "en" and p["lang_source"] == "platform"
    assert p["urls"] == ["https://www.Example.com/story?utm_source=tw&id=7#top"]
    assert (p["like_count"], p["repost_count"], p["reply_count"], p["quote_count"]) == (5, 2, 1, 0)
    assert p["client"] == "Twitter Web App" and p["source_record"] == 1
    rt = posts["1002"]
    assert (rt["kind"], rt["parent_post_id"], rt["parent_account_id"]) == ("repost", "1001", "11")
    assert rt["mentions"] == ["alice"]
    reply = posts["1003"]
    # +02:00 converted to UTC; 'und' replaced by offline detection
    assert reply["created_at"] == dt.datetime(2024, 3, 1, 10, 30, 0)
    assert (reply["kind"], reply["parent_post_id"], reply["parent_account_id"]) == ("reply", "1001", "11")
    assert reply["lang"] == "en" and reply["lang_source"] == "detected"
    assert posts["1007"]["account_id"] == "14"


def test_accounts_from_includes_and_flattened_author(case_path):
    ingest(case_path, [PAGE], progress=False)
    with Case(case_path, read_only=True) as db:
        acc = {r["account_id"]: r for r in db.table("accounts").to_pylist()}
    assert set(acc) == {"11", "12", "14"}
    a = acc["11"]
    assert (a["handle"], a["display_name"], a["description"]) == ("alice", "Alice", "bio")
    assert (a["followers"], a["following"], a["posts_count"], a["verified"]) == (100, 10, 50, False)
    assert a["created_at"] == dt.datetime(2020, 1, 1)
    assert a["snapshot_at"] == dt.datetime(2024, 3, 2)  # __twarc.retrieved_at
    assert acc["14"]["handle"] == "dave"


def test_quarantine_names_record_and_reason(case_path):
    ingest(case_path, [PAGE], progress=False)
    with Case(case_path, read_only=True) as db:
        q = sorted((r["record"], r["reason"]) for r in db.table("quarantine").to_pylist())
    assert q[0] == (2, "missing required field author_id")
    assert q[1][0] == 2 and q[1][1].startswith("unparseable timestamp created_at=yesterday (data[1])")
    assert q[2][0] == 3 and q[2][1].startswith("invalid JSON")


def test_rerun_never_duplicates(case_path):
    ingest(case_path, [PAGE], progress=False)
    [again] = ingest(case_path, [PAGE], progress=False)
    assert (again.inserted, again.duplicates) == (0, 4)
    with Case(case_path, read_only=True) as db:
        assert db.count("posts") == 4
        assert db.count("accounts") == 3
        n_actions = db.count("actions")
        assert (
            db.con.execute(
                "SELECT count(*) FROM (SELECT DISTINCT platform, post_id, object_type, object_id FROM actions)"
            ).fetchall()[0][0]
            == n_actions
        )


def test_same_post_in_two_files_is_one_post(case_path, tmp_path):
    other = tmp_path / "other.jsonl"
    tweet = {"id": "1001", "text": "Vote for #Peace now", "author_id": "11", "created_at": "2024-03-01T10:00:00.000Z"}
    other.write_text(json.dumps(tweet) + "\n")
    res = ingest(case_path, [PAGE, other], progress=False)
    assert res[1].duplicates == 1 and res[1].inserted == 0
    assert len(_posts(case_path)) == 4


def test_latest_account_snapshot_wins_and_keeps_missing_fields(case_path, tmp_path):
    ingest(case_path, [PAGE], progress=False)
    later = tmp_path / "later.jsonl"
    later.write_text(
        json.dumps(
            {
                "data": [
                    {"id": "2001", "text": "hello again", "author_id": "11", "created_at": "2024-04-01T00:00:00Z"}
                ],
                "includes": {
                    "users": [
                        {
                            "id": "11",
                            "username": "alice_renamed",
                            "name": "Alice",
                            "public_metrics": {"followers_count": 150},
                        }
                    ]
                },
            }
        )
        + "\n"
    )
    ingest(case_path, [later], progress=False)
    with Case(case_path, read_only=True) as db:
        a = {r["account_id"]: r for r in db.table("accounts").to_pylist()}["11"]
    assert a["handle"] == "alice_renamed" and a["followers"] == 150
    assert a["description"] == "bio"  # missing from the newer snapshot, kept from the older
    assert a["snapshot_at"] == dt.datetime(2024, 4, 1)


def test_unknown_format_is_quarantined_with_supported_list(case_path, tmp_path):
    junk = tmp_path / "notes.txt"
    junk.write_text("just some notes\nnothing to see\n")
    with pytest.raises(IngestError, match="unknown format. Supported formats: ") as err:
        detect_format(junk)
    for name in ("x_v2", "telegram_desktop", "tiktok", "youtube", "bluesky", "vk", "crowdtangle_csv"):
        assert name in str(err.value)
    [res] = ingest(case_path, [junk], progress=False)
    assert (res.format, res.records, res.quarantined) == ("unknown", 1, 1)
    with Case(case_path, read_only=True) as db:
        [q] = db.table("quarantine").to_pylist()
    assert "Supported formats" in q["reason"] and q["excerpt"].startswith("just some notes")


def test_empty_file_is_quarantined(case_path, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    [res] = ingest(case_path, [empty], progress=False)
    assert (res.records, res.quarantined) == (1, 1)
    with Case(case_path, read_only=True) as db:
        assert db.table("quarantine")["reason"].to_pylist() == ["empty file"]


def test_wrong_encoding_line_is_quarantined(case_path, tmp_path):
    f = tmp_path / "latin1.jsonl"
    good = json.dumps({"id": "1", "text": "ok", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"})
    bad = '{"id": "2", "text": "caf\xe9", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"}'
    f.write_bytes(good.encode() + b"\n" + bad.encode("latin-1") + b"\n" + good.replace('"1"', '"3"').encode() + b"\n")
    [res] = ingest(case_path, [f], progress=False, enrich=False)
    assert (res.records, res.inserted, res.quarantined) == (3, 2, 1)
    with Case(case_path, read_only=True) as db:
        [q] = db.table("quarantine").to_pylist()
    assert q["record"] == 2 and q["reason"].startswith("wrong encoding")


def test_oversized_line_is_quarantined_without_holding_it(case_path, tmp_path):
    """A 64 MB line: quarantined, and the lines around it still stored."""
    import tracemalloc

    f = tmp_path / "huge.jsonl"

    def tweet(i: int) -> bytes:
        return json.dumps({"id": str(i), "text": "t", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"}).encode()

    with open(f, "wb") as fh:
        fh.write(tweet(1) + b"\n")
        fh.write(b'{"id": "2", "text": "')
        block = b"x" * (1 << 20)
        for _ in range(64):
            fh.write(block)
        fh.write(b'"}\n')
        fh.write(tweet(3) + b"\n")
    from swarmscope.ingest import ReadOptions

    tracemalloc.start()
    [res] = ingest(
        case_path, [f], options=ReadOptions(max_record_bytes=4 << 20, batch_bytes=1 << 20), progress=False, enrich=False
    )
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    assert (res.records, res.inserted, res.quarantined) == (3, 2, 1)
    assert peak_mb < 16  # Python never held the 64 MB line whole (about two 4 MB buffers)
    with Case(case_path, read_only=True) as db:
        [q] = db.table("quarantine").to_pylist()
    assert q["record"] == 2 and "maximum record size" in q["reason"]
    assert q["excerpt"].startswith('{"id": "2"') and len(q["excerpt"]) <= 500


def test_crlf_and_blank_lines(case_path, tmp_path):
    f = tmp_path / "crlf.jsonl"
    t = json.dumps({"id": "1", "text": "x", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"})
    f.write_bytes(t.encode() + b"\r\n\r\n" + t.replace('"1"', '"2"').encode() + b"\r\n")
    [res] = ingest(case_path, [f], progress=False, enrich=False)
    assert (res.records, res.inserted, res.quarantined) == (2, 2, 0)
    assert _posts(case_path)["2"]["source_record"] == 3


def test_interrupted_batch_leaves_case_as_before(case_path, monkeypatch):
    """An exception inside a batch's transaction rolls the whole batch back."""
    ingest(case_path, [PAGE], progress=False)
    from swarmscope import store

    real = store.Case._merge_accounts

    def boom(self: Case, accounts: pa.Table) -> None:
        real(self, accounts)
        raise KeyboardInterrupt

    monkeypatch.setattr(store.Case, "_merge_accounts", boom)
    other = FIXTURES / "x_v2" / "page.jsonl"
    extra = case_path.parent / "more.jsonl"
    extra.write_text(other.read_text().replace('"1001"', '"9001"').replace('"1007"', '"9007"'))
    with pytest.raises(KeyboardInterrupt):
        ingest(case_path, [extra], progress=False)
    monkeypatch.undo()
    with Case(case_path, read_only=True) as db:
        assert db.count("posts") == 4
        statuses = [r["status"] for r in db.table("runs").to_pylist()]
    assert statuses == ["ok", "interrupted"]


# -- the fast path (DuckDB's native reader on the whole file) and the exact path agree --


def _table(case: Path, name: str, order: str) -> list[dict]:
    with Case(case, read_only=True) as db:
        rows = (
            db.con.sql(
                f"SELECT * EXCLUDE (source_file{', run_id' if name == 'posts' else ''}) FROM {name} ORDER BY {order}"
            )
            .to_arrow_table()
            .to_pylist()
        )
    return rows


@pytest.mark.scale
def test_fast_and_exact_paths_store_the_same(tmp_path, monkeypatch):
    from swarmscope.simulate import generate_x_v2_posts

    src = generate_x_v2_posts(tmp_path / "bulk.jsonl", 3000, seed=3)
    fast, exact, fast_case, exact_case = _ingest_both(tmp_path, src, monkeypatch)
    assert (fast.records, fast.inserted, fast.quarantined) == (exact.records, exact.inserted, exact.quarantined)
    assert fast.inserted == 3000
    assert _table(fast_case, "posts", "post_id") == _table(exact_case, "posts", "post_id")
    assert _table(fast_case, "accounts", "account_id") == _table(exact_case, "accounts", "account_id")


def test_files_the_fast_path_leaves_to_the_exact_path(tmp_path):
    from swarmscope.ingest import x_v2
    from swarmscope.ingest.base import ReadOptions

    tweet = json.dumps({"id": "1", "text": "x", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"})
    cases = {
        "blank line": tweet + "\n\n" + tweet + "\n",
        "leading blank line": "\n" + tweet + "\n",
        "truncated line": tweet + "\n" + tweet[:20] + "\n",
        "data as an object": json.dumps({"data": json.loads(tweet)}) + "\n",
    }
    for name, content in cases.items():
        f = tmp_path / f"{name}.jsonl"
        f.write_text(content)
        assert x_v2._read_fast(f, ReadOptions()) is None, name
    ok = tmp_path / "ok.jsonl"
    ok.write_text(tweet + "\n" + tweet.replace('"1"', '"2"'))  # no final newline is fine
    batches, lines = x_v2._read_fast(ok, ReadOptions())
    assert lines == 2 and [r["source_record"] for b in batches for r in b.posts.to_pylist()] == [1, 2]


def _ingest_both(
    tmp_path: Path, src: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[IngestCounts, IngestCounts, Path, Path]:
    """Ingest ``src`` by the fast path (the exact one forbidden), then by the exact path alone."""
    from swarmscope.ingest import x_v2

    fast_case, exact_case = tmp_path / "fast.duckdb", tmp_path / "exact.duckdb"
    exact_read = x_v2._read_exact
    monkeypatch.setattr(x_v2, "_read_exact", lambda *a: (_ for _ in ()).throw(AssertionError("exact path used")))
    [fast] = ingest(fast_case, [src], progress=False, enrich=False)
    monkeypatch.setattr(x_v2, "_read_exact", exact_read)
    monkeypatch.setattr(x_v2, "_read_fast", lambda *a: None)
    [exact] = ingest(exact_case, [src], progress=False, enrich=False)
    monkeypatch.undo()
    return fast, exact, fast_case, exact_case


def _quarantine(case: Path) -> list[tuple]:
    with Case(case, read_only=True) as db:
        return sorted(
            tuple(r.values())
            for r in db.con.sql("SELECT record, reason, excerpt FROM quarantine").to_arrow_table().to_pylist()
        )


def _pages() -> list[dict]:
    """Three pages and a flattened tweet, each case hand-checkable (see the test below)."""
    alice = {
        "id": "11",
        "username": "alice",
        "name": "Alice",
        "description": "bio",
        "public_metrics": {"followers_count": 100, "following_count": 1, "tweet_count": 5},
    }
    bob = {"id": "12", "username": "bob", "name": "Bob", "created_at": "2020-01-01T00:00:00.000Z"}

    def t(i: str, a: str, when: str, **kw: Any) -> dict:
        return {"id": i, "text": f"tweet {i}", "author_id": a, "created_at": f"2024-03-01T{when}.000Z", **kw}

    rt = [{"type": "retweeted", "id": "301"}]
    return [
        {
            "data": [
                t(
                    "101",
                    "11",
                    "10:00:00",
                    lang="en",
                    entities={
                        "urls": [
                            {
                                "url": "https://t.co/x",
                                "expanded_url": "https://e.com/a",
                                "unwound_url": "https://e.com/a?b",
                            }
                        ]
                    },
                ),
                t("102", "12", "10:01:00", referenced_tweets=rt, lang="und"),  # parent only in a later page
                {"id": "103", "text": "no author", "created_at": "2024-03-01T10:02:00.000Z"},
            ],
            "includes": {"users": [alice, bob], "tweets": [t("201", "13", "09:00:00")]},  # 201 is data on page 2
            "__twarc": {"retrieved_at": "2024-03-02T00:00:00+00:00"},
        },
        {
            "data": [
                t("201", "13", "09:00:00", note_tweet={"text": "the long text"}),
                t("101", "11", "10:00:00"),  # the same tweet again: a duplicate
                t(
                    "202",
                    "12",
                    "11:00:00",
                    referenced_tweets=[{"type": "quoted", "id": "101"}, {"type": "replied_to", "id": "201"}],
                    author={"id": "99", "username": "mallory"},
                ),
            ],  # nested in a page: not read
            "includes": {"users": [{"id": "11", "username": "alice2", "name": "Alice"}]},  # newer, no description
            "__twarc": {"retrieved_at": "2024-03-03T00:00:00+00:00"},
        },
        {"meta": {"result_count": 0}},
        {
            "data": [
                t("301", "14", "08:00:00", entities={"hashtags": [{"tag": "Vote"}], "mentions": [{"username": "bob"}]})
            ],
            "includes": {"tweets": [t("302", "14", "07:00:00", created_at="soon")]},
        },
        {**t("401", "15", "12:00:00"), "author": {"id": "15", "username": "eve", "name": "Eve"}},
    ]


def test_fast_and_exact_paths_agree_on_every_column(tmp_path, monkeypatch):
    src = tmp_path / "pages.jsonl"
    src.write_text("\n".join(json.dumps(p) for p in _pages()) + "\n")
    fast, exact, fast_case, exact_case = _ingest_both(tmp_path, src, monkeypatch)
    # records: 3 + 3 data on pages 1-2, 1 + 1 included on page 4 (201 of page 1 is data on page 2), 1 flattened
    assert (fast.records, fast.inserted, fast.duplicates, fast.quarantined) == (9, 6, 1, 2)
    assert (exact.records, exact.inserted, exact.duplicates, exact.quarantined) == (9, 6, 1, 2)
    assert _table(fast_case, "posts", "post_id") == _table(exact_case, "posts", "post_id")
    assert _table(fast_case, "accounts", "account_id") == _table(exact_case, "accounts", "account_id")
    assert _quarantine(fast_case) == _quarantine(exact_case)
    posts = _posts(fast_case)
    assert set(posts) == {"101", "102", "201", "202", "301", "401"}
    assert posts["202"]["account_id"] == "12"
    assert "99" not in {a["account_id"] for a in _table(fast_case, "accounts", "account_id")}
    assert posts["101"]["source_record"] == 1 and posts["101"]["urls"] == ["https://e.com/a?b"]
    # the parent's author found on a later page; a reply outranks a quote
    assert (posts["102"]["kind"], posts["102"]["parent_account_id"]) == ("repost", "14")
    assert (posts["202"]["kind"], posts["202"]["parent_post_id"], posts["202"]["parent_account_id"]) == (
        "reply",
        "201",
        "13",
    )
    assert posts["201"]["text"] == "the long text" and posts["201"]["source_record"] == 2
    assert posts["301"]["hashtags"] == ["Vote"] and posts["301"]["mentions"] == ["bob"]
    reasons = [r[:2] for r in _quarantine(fast_case)]
    assert reasons == [
        (1, "missing required field author_id (data[2])"),
        (4, "unparseable timestamp created_at=soon (includes.tweets[0])"),
    ]
    with Case(fast_case, read_only=True) as db:
        acc = {r["account_id"]: r for r in db.table("accounts").to_pylist()}
    # the newer snapshot wins; the description it lacks is kept from the older one
    assert (acc["11"]["handle"], acc["11"]["description"], acc["11"]["followers"]) == ("alice2", "bio", 100)
    assert acc["15"]["handle"] == "eve" and acc["15"]["snapshot_at"] == dt.datetime(2024, 3, 1, 12)


@pytest.mark.parametrize(
    "name, content",
    [
        ("type mismatch", '{"id": 7, "text": "x", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"}\n'),
        ("bare null line", "null\n"),
        ("null after a tweet", "{TWEET}\nnull\n"),
        ("two objects on a line", "{TWEET} {TWEET}\n"),
        ("blank line", "{TWEET}\n\n{TWEET}\n"),
        ("CRLF and a blank line", "{TWEET}\r\n\r\n{TWEET}\r\n"),
        ("byte-order mark", "\ufeff{TWEET}\n"),
        ("Latin-1 in a skipped field", None),
    ],
)
def test_odd_files_store_what_the_exact_path_stores(tmp_path, monkeypatch, name, content):
    """The fast path either takes a file and stores what the exact path stores, or leaves it to it."""
    from swarmscope.ingest import x_v2
    from swarmscope.ingest.base import ReadOptions

    tweet = json.dumps({"id": "1", "text": "x", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"})
    src = tmp_path / "odd.jsonl"
    if content is None:
        src.write_bytes(tweet[:-1].encode() + b', "junk": "caf\xe9"}\n')
    else:
        src.write_text(content.replace("{TWEET}", tweet), newline="")
    assert x_v2._read_fast(src, ReadOptions()) is None, name  # never a crash, never a different reading
    exact_case = tmp_path / "exact.duckdb"
    [res] = ingest(exact_case, [src], progress=False, enrich=False)
    assert res.balanced


def test_crlf_file_takes_the_fast_path(tmp_path, monkeypatch):
    def t(i: int) -> str:
        return json.dumps({"id": str(i), "text": "x", "author_id": "9", "created_at": "2024-01-01T00:00:00+02:00"})

    src = tmp_path / "crlf.jsonl"
    src.write_bytes(f"{t(1)}\r\n{t(2)}\r\n".encode())
    fast, exact, fast_case, exact_case = _ingest_both(tmp_path, src, monkeypatch)
    assert (fast.records, fast.inserted) == (exact.records, exact.inserted) == (2, 2)
    assert _table(fast_case, "posts", "post_id") == _table(exact_case, "posts", "post_id")
    assert _posts(fast_case)["2"]["created_at"] == dt.datetime(2023, 12, 31, 22)


def test_accounts_reduce_to_one_row_each_with_gaps_filled(tmp_path):
    """Many mentions of one account in a batch: one row, the latest values, older ones filling gaps."""
    import pyarrow as pa

    from swarmscope import store
    from swarmscope.ingest import x_v2

    n = 5000
    rng = np.random.default_rng(7)
    who = rng.integers(0, 50, n)
    snap = rng.integers(0, 1000, n)
    has_bio = rng.random(n) < 0.3
    u = pa.array(
        [
            {"id": str(w), "username": f"u{w}_{s}", "description": f"bio{s}" if b else None}
            for w, s, b in zip(who, snap, has_bio)
        ],
        x_v2._SCHEMA.field("includes").type.field("users").type.value_type,
    )
    users = pa.table(
        {
            "record": pa.array(np.arange(n)),
            "u": u,
            "snapshot_at": pa.array(snap * 1_000_000, pa.int64()).cast(pa.timestamp("us")),
        }
    )
    con = store.connect()
    out = {r["account_id"]: r for r in x_v2._accounts(con, users, Path("f")).to_pylist()}
    assert len(out) == len(set(who.tolist()))
    for w in set(who.tolist()):
        rows = [i for i in range(n) if who[i] == w]
        latest = max(rows, key=lambda i: (snap[i], i))
        bios = [i for i in rows if has_bio[i]]
        assert out[str(w)]["handle"] == f"u{w}_{snap[latest]}"
        assert out[str(w)]["description"] == (f"bio{snap[max(bios, key=lambda i: (snap[i], i))]}" if bios else None)


def test_large_files_go_by_segments_with_line_numbers_kept(tmp_path, monkeypatch):
    """A file over FAST_SEGMENT_BYTES is read segment by segment (memory bounded by the segment);
    a segment with a bad line takes the exact path alone, and record numbers stay line numbers."""
    from swarmscope.ingest import x_v2

    lines = [
        json.dumps(
            {"id": str(i), "text": f"t{i}", "author_id": str(100 + i % 7), "created_at": f"2024-01-01T00:{i:02d}:00Z"}
        )
        for i in range(40)
    ]
    lines[25] = lines[25][:30]  # truncated: its segment goes the exact way
    src = tmp_path / "big.jsonl"
    src.write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(x_v2, "FAST_SEGMENT_BYTES", 600)
    monkeypatch.setattr(x_v2, "FIRST_SEGMENT_BYTES", 150)
    segs = list(x_v2._segments(src))
    assert len(segs) > 3 and segs[0][0] == 0 and segs[-1][1] == src.stat().st_size
    # the first segments grow (150, 300, 600 bytes and the rest of a line each), then stay at 600
    sizes = [b - a for a, b in segs]
    assert sizes[0] < sizes[1] < sizes[2] and all(600 <= n < 700 for n in sizes[2:-1])
    assert all(a[1] == b[0] for a, b in zip(segs, segs[1:]))
    data = src.read_bytes()
    assert all(data[stop - 1 : stop] == b"\n" for _, stop in segs)  # no line is cut
    calls = {"fast": 0, "exact": 0}
    fast, exact = x_v2._parse_fast, x_v2._read_exact
    monkeypatch.setattr(x_v2, "_parse_fast", lambda *a: (calls.__setitem__("fast", calls["fast"] + 1), fast(*a))[1])
    monkeypatch.setattr(x_v2, "_read_exact", lambda *a: (calls.__setitem__("exact", calls["exact"] + 1), exact(*a))[1])
    case = tmp_path / "c.duckdb"
    [res] = ingest(case, [src], progress=False, enrich=False)
    assert calls["fast"] == len(segs) and calls["exact"] == 1
    assert (res.records, res.inserted, res.quarantined) == (40, 39, 1) and res.balanced
    with Case(case, read_only=True) as db:
        q = db.table("quarantine").to_pylist()
        posts = {r["post_id"]: r["source_record"] for r in db.table("posts").to_pylist()}
    assert [r["record"] for r in q] == [26]
    assert posts == {str(i): i + 1 for i in range(40) if i != 25}


@pytest.mark.parametrize("scan_bytes", [1 << 24, 4096, 5000])
def test_newlines_found_by_find_and_by_numpy_agree(tmp_path, monkeypatch, scan_bytes):
    """Long lines are found by find, short ones by numpy (over 2 KiB per window: 2 finds at 4096 bytes)."""
    import mmap
    import random

    from swarmscope.ingest import x_v2

    monkeypatch.setattr(x_v2, "_SCAN_BYTES", scan_bytes)
    rng = random.Random(3)
    lines = [b"x" * rng.choice([0, 1, 5, 300, 3000, 9000]) for _ in range(400)]
    data = b"\n".join(lines) + b"tail"
    f = tmp_path / "lines.bin"
    f.write_bytes(data)
    with open(f, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        for lo, hi in [(0, len(data)), (7, len(data) - 3), (4096, 20000)]:
            want = [i for i in range(lo, hi) if data[i] == 10]
            got = x_v2._newlines(mm, lo, hi)
            assert got.tolist() == want, (lo, hi)
            del got
