"""The case store's appends: within-batch repeats, the latest account snapshot."""

from __future__ import annotations

import datetime as dt
import random

import pyarrow as pa

from swarmscope import model
from swarmscope.store import Case, _first_rows, connect


def _posts(rows):  # (post_id, source_file, source_record, text)
    return pa.Table.from_pylist(
        [
            {
                "platform": "x",
                "post_id": p,
                "account_id": "a",
                "kind": "post",
                "text": t,
                "source_file": f,
                "source_record": r,
                "created_at": dt.datetime(2024, 1, 1),
            }
            for p, f, r, t in rows
        ]
    )


def test_a_post_repeated_within_a_batch_keeps_its_first_record(tmp_path):
    rows = [
        ("1", "b.jsonl", 1, "b1"),
        ("2", "a.jsonl", 9, "a9"),
        ("1", "a.jsonl", 5, "a5"),
        ("2", "a.jsonl", 2, "a2"),
        ("3", "a.jsonl", 7, "a7"),
        ("1", "a.jsonl", 6, "a6"),
    ]
    with Case(tmp_path / "c.duckdb") as db:
        res = db.append(_posts(rows))
        got = {r["post_id"]: r["text"] for r in db.table("posts").to_pylist()}
    assert (res.inserted, res.duplicates) == (3, 3)
    assert got == {"1": "a5", "2": "a2", "3": "a7"}  # the first by (source file, record), not by batch order


def test_an_account_repeated_within_a_batch_keeps_its_latest_snapshot(tmp_path):
    def acc(handle, day, followers):
        return {
            "platform": "x",
            "account_id": "7",
            "handle": handle,
            "followers": followers,
            "snapshot_at": dt.datetime(2024, 1, day) if day else None,
        }

    with Case(tmp_path / "c.duckdb") as db:
        db.append(
            accounts=pa.Table.from_pylist(
                [acc("old", 1, 5), acc("none", None, 9), acc("new", 3, None), acc("mid", 2, 7)]
            )
        )
        [row] = db.table("accounts").to_pylist()
    # the latest snapshot; no older snapshot in the store, so its missing count stays missing
    assert (row["handle"], row["followers"], row["snapshot_at"]) == ("new", None, dt.datetime(2024, 1, 3))


def test_first_rows_matches_the_sql_window_on_random_batches():
    """The Arrow dedupe keeps the rows DuckDB's row_number() window keeps (ties aside, none here)."""
    rng = random.Random(7)
    con = connect()
    for trial in range(30):
        n = rng.randint(1, 60)
        keys = [rng.choice(["1", "2", "3", None]) for _ in range(n)]
        recs = rng.sample(range(1000), n)  # distinct, so the order has no ties
        files = [rng.choice(["a", "b", None]) for _ in range(n)]
        plats = [rng.choice(["x", "telegram"]) for _ in range(n)]
        t = pa.table(
            {
                "platform": plats,
                "post_id": keys,
                "source_file": files,
                "source_record": pa.array(recs, pa.int64()),
                "row": list(range(n)),
            }
        )
        got = _first_rows(t, "post_id", [("source_file", "ascending"), ("source_record", "ascending")])
        con.register("t", t)
        want = [
            r[0]
            for r in con.execute(
                "SELECT row FROM t QUALIFY row_number() OVER (PARTITION BY platform, post_id "
                "ORDER BY source_file, source_record) = 1 ORDER BY row"
            ).fetchall()
        ]
        assert got["row"].to_pylist() == want, trial
        desc = _first_rows(t, "post_id", [("source_record", "descending")])
        want = [
            r[0]
            for r in con.execute(
                "SELECT row FROM t QUALIFY row_number() OVER (PARTITION BY platform, post_id "
                "ORDER BY source_record DESC NULLS LAST) = 1 ORDER BY row"
            ).fetchall()
        ]
        assert desc["row"].to_pylist() == want, trial
        con.unregister("t")
    assert model.POSTS.field("source_record").type == pa.int64()


def test_a_post_already_stored_is_kept_and_counted_as_a_duplicate(tmp_path):
    with Case(tmp_path / "c.duckdb") as db:
        first = db.append(_posts([("1", "a.jsonl", 1, "old 1"), ("2", "a.jsonl", 2, "old 2")]))
        again = db.append(
            _posts(
                [
                    ("3", "b.jsonl", 1, "new 3"),
                    ("2", "b.jsonl", 2, "new 2"),
                    ("4", "b.jsonl", 3, "new 4"),
                    ("3", "b.jsonl", 4, "new 3 again"),
                ]
            )
        )
        none_new = db.append(_posts([("1", "c.jsonl", 1, "c1")]))
        got = {r["post_id"]: r["text"] for r in db.table("posts").to_pylist()}
    assert (first.inserted, first.duplicates) == (2, 0)
    assert (again.inserted, again.duplicates) == (2, 2)  # 2 already stored, 3 repeated in the batch
    assert (none_new.inserted, none_new.duplicates) == (0, 1)
    assert got == {"1": "old 1", "2": "old 2", "3": "new 3", "4": "new 4"}


def test_a_writer_names_itself_in_the_owner_file_while_it_holds_the_case(tmp_path):
    import json
    import os

    path = tmp_path / "c.duckdb"
    owner = tmp_path / "c.duckdb.owner"
    with Case(path):
        info = json.loads(owner.read_text())
        assert info["pid"] == os.getpid() and info["host"] and info["started"] and info["command"]
        with Case(path):  # a second open of this process: one name tag, kept until the last closes
            pass
        assert owner.exists()
    assert not owner.exists()
    with Case(path, read_only=True):
        assert not owner.exists()  # readers write nothing


def test_an_owner_file_of_a_dead_process_is_ignored(tmp_path):
    import json
    import socket
    import subprocess
    import sys

    from swarmscope.duck import holder, read_owner

    path = tmp_path / "c.duckdb"
    Case(path).close()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    owner = tmp_path / "c.duckdb.owner"
    owner.write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "command": "swarmscope ingest"}))
    assert read_owner(path) is None
    assert holder(path, 4242)["pid"] == 4242  # DuckDB named another process: the file says nothing of it
    owner.write_text("not json")
    assert read_owner(path) is None


def test_a_held_case_is_waited_for_then_refused_naming_the_holder(tmp_path):
    import subprocess
    import sys
    import time

    import pytest

    from swarmscope.store import CaseBusy

    path = tmp_path / "c.duckdb"
    Case(path).close()
    code = (
        "import sys\nfrom swarmscope.store import Case\nsys.argv = ['swarmscope', 'ingest']\n"
        f"with Case({str(path)!r}):\n    print('holding', flush=True)\n    sys.stdin.read()\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().strip() == "holding"
        started = time.monotonic()
        with pytest.raises(CaseBusy) as e:
            Case(path, read_only=True, wait=0.4)
        assert 0.4 <= time.monotonic() - started < 5
        assert (e.value.pid, e.value.command, e.value.holder_writes) == (p.pid, "swarmscope ingest", True)
        assert f"c.duckdb is being written by process {p.pid} (swarmscope ingest, on " in str(e.value)
        with pytest.raises(CaseBusy, match="One process at a time can write"):
            Case(path, wait=0)
    finally:
        p.stdin.close()
        p.wait(30)
    with Case(path, read_only=True, wait=0):  # free again
        pass
