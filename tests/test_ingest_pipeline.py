"""How the ingest driver overlaps its work: the reader one batch ahead in a thread
(ingest.read_ahead), the store's appends in one DuckDB thread (Case.bulk_load)."""

from __future__ import annotations

import threading
import time

import pytest

from swarmscope.ingest import read_ahead
from swarmscope.store import Case


def test_batches_come_out_in_order_and_all_of_them():
    assert list(read_ahead(iter(range(50)))) == list(range(50))
    assert list(read_ahead(iter([]))) == []


def test_the_next_batch_is_read_while_this_one_is_stored():
    """The consumer holds batch 0 until the reader has started batch 1: without a reader
    thread this would wait forever (here: time out and fail)."""
    started = {i: threading.Event() for i in range(3)}

    def reader():
        for i in range(3):
            started[i].set()
            yield i

    out = []
    for item in read_ahead(reader()):
        if item == 0:
            assert started[1].wait(5), "the reader did not go on while batch 0 was being stored"
        out.append(item)
    assert out == [0, 1, 2]


def test_a_reader_error_is_raised_after_the_batches_before_it():
    def reader():
        yield 1
        yield 2
        raise ValueError("bad segment")

    got = []
    with pytest.raises(ValueError, match="bad segment"):
        for item in read_ahead(reader()):
            got.append(item)
    assert got == [1, 2]


def test_a_consumer_that_stops_early_closes_the_reader():
    closed = threading.Event()
    produced = []

    def reader():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    batches = read_ahead(reader())
    with pytest.raises(KeyboardInterrupt):
        for item in batches:
            if item == 2:
                raise KeyboardInterrupt
    batches.close()
    assert closed.wait(5), "the reader was not closed"
    time.sleep(0.2)
    assert len(produced) <= 5  # it stopped at once (one batch ahead, one waiting), not at the end


def _threads(db: Case) -> int:
    return int(db.con.execute("SELECT current_setting('threads')").fetchall()[0][0])


def test_bulk_load_appends_in_one_thread_and_restores_the_setting(tmp_path):
    with Case(tmp_path / "c.duckdb") as db:
        db.con.execute("SET threads = 2")
        with db.bulk_load():
            assert _threads(db) == 1
        assert _threads(db) == 2
        with pytest.raises(RuntimeError), db.bulk_load():
            raise RuntimeError("a reader failed")
        assert _threads(db) == 2


def test_the_run_records_each_input_file_sha256(tmp_path):
    """Hashed from the mapped file in 16 MiB steps; an empty file has the empty digest."""
    import hashlib
    import json
    from pathlib import Path

    from swarmscope.ingest import ingest, sha256_file
    from swarmscope.store import Case

    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * (17 * 4096 + 3))  # over one 16 MiB step, not a multiple of it
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    for f in (big, empty):
        assert sha256_file(f) == hashlib.sha256(f.read_bytes()).hexdigest(), f.name
    tweet = tmp_path / "t.jsonl"
    tweet.write_text('{"id": "1", "text": "x", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"}\n')
    ingest(tmp_path / "c.duckdb", [tweet, empty], progress=False, enrich=False)
    with Case(tmp_path / "c.duckdb", read_only=True) as db:
        [run] = db.table("runs").to_pylist()
    digests = {Path(i["path"]).name: i["sha256"] for i in json.loads(run["inputs"])}
    assert digests == {
        "t.jsonl": hashlib.sha256(tweet.read_bytes()).hexdigest(),
        "empty.jsonl": hashlib.sha256(b"").hexdigest(),
    }


# -- coalesce: the store's transactions of whole row groups ------------------------------------------


def _batch(first: int, n: int, accounts: list[dict] | None = None, bad: int = 0):
    import datetime as dt

    import pyarrow as pa

    from swarmscope.ingest.base import Quarantine, make_batch

    posts = pa.Table.from_pylist(
        [
            {
                "platform": "x",
                "post_id": str(i),
                "account_id": "a",
                "created_at": dt.datetime(2024, 1, 1),
                "kind": "post",
            }
            for i in range(first, first + n)
        ]
    )
    q = Quarantine("f.csv")
    for k in range(bad):
        q.add(first + n + k, "unparseable", "raw")
    acc = pa.Table.from_pylist(accounts) if accounts else None
    return make_batch(posts, acc, q, bytes_done=first + n)


def test_coalesce_joins_batches_into_whole_transactions_and_keeps_every_record():
    from swarmscope.ingest import coalesce

    batches = [_batch(0, 40, bad=1), _batch(100, 40), _batch(200, 150), _batch(400, 120), _batch(600, 30, bad=2)]
    batches.append(_batch(700, 10))
    out = list(coalesce(iter(batches), min_posts=100))
    assert [b.posts.num_rows for b in out] == [230, 120, 40]  # 40+40 < 100 goes on; then at the end, the rest
    assert out[1] is batches[3]  # a batch big enough by itself is not copied
    assert sum(b.records for b in out) == sum(b.records for b in batches)
    assert [b.bytes_done for b in out] == [350, 520, 710]
    ids = [p for b in out for p in b.posts["post_id"].to_pylist()]
    assert ids == [p for b in batches for p in b.posts["post_id"].to_pylist()]
    assert out[0].quarantine.num_rows == 1 and out[2].quarantine.num_rows == 2


def test_coalesce_stores_a_files_first_batches_sooner_then_whole_transactions():
    from swarmscope.ingest import coalesce

    batches = [_batch(100 * i, 30) for i in range(12)]
    out = list(coalesce(iter(batches), min_posts=100, first_posts=25))
    # goals 25, 50, 100, 100...: the first batch alone, then two, then whole transactions of four
    assert [b.posts.num_rows for b in out] == [30, 60, 120, 120, 30]
    ids = [p for b in out for p in b.posts["post_id"].to_pylist()]
    assert ids == [p for b in batches for p in b.posts["post_id"].to_pylist()]
    assert [b.posts.num_rows for b in coalesce(iter(batches), min_posts=100)] == [120, 120, 120]


def test_coalesce_hands_on_what_was_read_before_a_reader_error():
    from swarmscope.ingest import coalesce

    def reader():
        yield _batch(0, 10)
        yield _batch(10, 10)
        raise ValueError("bad segment")

    got = []
    with pytest.raises(ValueError, match="bad segment"):
        for b in coalesce(reader(), min_posts=1000):
            got.append(b)
    assert [b.posts.num_rows for b in got] == [20]


def test_coalesce_keeps_an_accounts_file_apart_from_posts():
    from swarmscope.ingest import coalesce
    from swarmscope.ingest.base import make_batch

    acc = make_batch(None, None, None, record_kind="accounts")
    out = list(coalesce(iter([_batch(0, 5), acc, _batch(5, 5)]), min_posts=1000))
    assert [b.record_kind for b in out] == ["posts", "accounts", "posts"]


def test_joined_batches_merge_accounts_as_one_by_one(tmp_path):
    """An account in two joined batches: the store merges each batch's accounts in turn, so a
    field the later batch lacks is kept from the earlier one, as appending them apart does."""
    import datetime as dt

    from swarmscope.ingest import coalesce

    snap = dt.datetime(2024, 1, 2)
    first = [{"platform": "x", "account_id": "a", "handle": "anna", "display_name": "Anna", "snapshot_at": snap}]
    later = [{"platform": "x", "account_id": "a", "handle": "anna_2", "display_name": None, "snapshot_at": snap}]
    batches = [_batch(0, 3, first), _batch(3, 3, later)]
    (joined,) = coalesce(iter(batches), min_posts=1000)
    assert joined.account_parts == (1, 1)
    got = {}
    for name, parts in (
        ("apart", [[b.posts, b.account_tables] for b in batches]),
        ("joined", [[joined.posts, joined.account_tables]]),
    ):
        with Case(tmp_path / f"{name}.duckdb") as db:
            results = [db.append(posts, accounts) for posts, accounts in parts]
            got[name] = db.con.execute("SELECT account_id, handle, display_name FROM accounts").fetchall()
            assert sum(r.accounts for r in results) == 2 and sum(r.account_rows for r in results) == 2
    assert got["joined"] == got["apart"] == [("a", "anna_2", "Anna")]


def test_coalesce_joins_the_actions_a_format_states():
    import dataclasses
    import datetime as dt

    import pyarrow as pa

    from swarmscope.ingest import coalesce

    def stated(first: int) -> pa.Table:
        return pa.Table.from_pylist(
            [
                {"platform": "tiktok", "account_id": "a", "post_id": str(i), "created_at": dt.datetime(2024, 1, 1)}
                | {"object_type": "sound", "object_id": f"s{i % 2}"}
                for i in range(first, first + 3)
            ]
        )

    batches = [dataclasses.replace(_batch(f, 3), extra_actions=stated(f)) for f in (0, 3)]
    batches.append(_batch(6, 3))  # a batch without stated actions
    (joined,) = coalesce(iter(batches), min_posts=1000)
    assert joined.extra_actions["post_id"].to_pylist() == [str(i) for i in range(6)]
    assert joined.extra_actions["object_id"].to_pylist() == ["s0", "s1"] * 3
