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
