"""X API v2 importer: the hand-written fixture checked field by field, plus bad input."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from swarmscope.ingest import IngestError, detect_format, ingest
from swarmscope.store import Case

from .conftest import FIXTURES

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
        assert db.con.execute(
            "SELECT count(*) FROM (SELECT DISTINCT platform, post_id, object_type, object_id FROM actions)"
        ).fetchall()[0][0] == n_actions


def test_same_post_in_two_files_is_one_post(case_path, tmp_path):
    other = tmp_path / "other.jsonl"
    tweet = {"id": "1001", "text": "Vote for #Peace now", "author_id": "11",
             "created_at": "2024-03-01T10:00:00.000Z"}
    other.write_text(json.dumps(tweet) + "\n")
    res = ingest(case_path, [PAGE, other], progress=False)
    assert res[1].duplicates == 1 and res[1].inserted == 0
    assert len(_posts(case_path)) == 4


def test_latest_account_snapshot_wins_and_keeps_missing_fields(case_path, tmp_path):
    ingest(case_path, [PAGE], progress=False)
    later = tmp_path / "later.jsonl"
    later.write_text(json.dumps({
        "data": [{"id": "2001", "text": "hello again", "author_id": "11", "created_at": "2024-04-01T00:00:00Z"}],
        "includes": {"users": [{"id": "11", "username": "alice_renamed", "name": "Alice",
                                "public_metrics": {"followers_count": 150}}]},
    }) + "\n")
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
    tweet = lambda i: json.dumps({"id": str(i), "text": "t", "author_id": "9",  # noqa: E731
                                  "created_at": "2024-01-01T00:00:00Z"}).encode()
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
    [res] = ingest(case_path, [f], options=ReadOptions(max_record_bytes=4 << 20, batch_bytes=1 << 20),
                   progress=False, enrich=False)
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

    def boom(self, accounts):  # noqa: ANN001
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
        rows = db.con.sql(f"SELECT * EXCLUDE (source_file{', run_id' if name == 'posts' else ''}) "
                          f"FROM {name} ORDER BY {order}").to_arrow_table().to_pylist()
    return rows


@pytest.mark.scale
def test_fast_and_exact_paths_store_the_same(tmp_path, monkeypatch):
    from swarmscope.ingest import x_v2
    from swarmscope.simulate import generate_x_v2_posts

    src = generate_x_v2_posts(tmp_path / "bulk.jsonl", 3000, seed=3)
    fast_case, exact_case = tmp_path / "fast.duckdb", tmp_path / "exact.duckdb"
    exact_read = x_v2._read_exact
    monkeypatch.setattr(x_v2, "_read_exact", lambda *a: (_ for _ in ()).throw(AssertionError("exact path used")))
    [fast] = ingest(fast_case, [src], progress=False, enrich=False)
    monkeypatch.setattr(x_v2, "_read_exact", exact_read)
    monkeypatch.setattr(x_v2, "_read_fast", lambda *a: None)
    [exact] = ingest(exact_case, [src], progress=False, enrich=False)
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
    assert x_v2._plain_line_count(ok) == 2
    batches = list(x_v2._read_fast(ok, ReadOptions()))
    assert [r["source_record"] for b in batches for r in b.posts.to_pylist()] == [1, 2]
