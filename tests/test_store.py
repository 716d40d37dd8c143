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


def _merge_by_hand(stored: dict, batch: list[dict]) -> dict:
    """The merge rule, one account at a time: the batch's latest snapshot per account (nulls last), then
    the newer of it and the stored row (a tie goes to the batch; a missing time loses to a known one) wins
    each field it has, and the other fills the gaps."""
    fields = ("handle", "followers", "snapshot_at")
    latest: dict = {}
    for row in batch:
        k, old = row["account_id"], latest.get(row["account_id"])
        if old is None or (
            row["snapshot_at"] is not None and (old["snapshot_at"] is None or row["snapshot_at"] > old["snapshot_at"])
        ):
            latest[k] = row
    out = dict(stored)
    for k, n in latest.items():
        o = stored.get(k)
        if o is None:
            out[k] = {f: n[f] for f in fields}
            continue
        newer = o["snapshot_at"] is None or (n["snapshot_at"] is not None and n["snapshot_at"] >= o["snapshot_at"])
        a, b = (n, o) if newer else (o, n)
        out[k] = {f: a[f] if a[f] is not None else b[f] for f in fields}
    return out


def test_accounts_merged_over_many_batches_follow_the_rule_and_unchanged_rows_stay_put(tmp_path):
    rng = random.Random(11)
    with Case(tmp_path / "c.duckdb") as db:
        want: dict = {}
        for _ in range(12):
            batch = []
            for k in rng.sample(range(8), rng.randint(1, 6)):  # each account once per batch: no ties within
                day = rng.choice([None, 1, 2, 3, 4])
                batch.append(
                    {
                        "platform": "x",
                        "account_id": str(k),
                        "handle": rng.choice([None, "h1", "h2"]),
                        "followers": rng.choice([None, 5, 6]),
                        "snapshot_at": dt.datetime(2024, 1, day) if day else None,
                    }
                )
            want = _merge_by_hand(want, batch)
            db.append(accounts=pa.Table.from_pylist(batch))
            got = {
                r["account_id"]: {f: r[f] for f in ("handle", "followers", "snapshot_at")}
                for r in db.table("accounts").to_pylist()
            }
            assert got == want
        # the same rows again change nothing, so nothing is rewritten: every row keeps its place
        before = db.con.execute("SELECT account_id, rowid FROM accounts ORDER BY 1").fetchall()
        again = [{"platform": "x", "account_id": k} | v for k, v in want.items()]
        res = db.append(accounts=pa.Table.from_pylist(again))
        assert res.accounts == len(want)
        assert db.con.execute("SELECT account_id, rowid FROM accounts ORDER BY 1").fetchall() == before
        # a later snapshot of the same fields moves the time alone, in place
        later = dict(again[0], snapshot_at=dt.datetime(2024, 2, 1))
        db.append(accounts=pa.Table.from_pylist([later]))
        assert db.con.execute("SELECT account_id, rowid FROM accounts ORDER BY 1").fetchall() == before
        row = db.con.execute(
            "SELECT handle, followers, snapshot_at FROM accounts WHERE account_id = ?", [later["account_id"]]
        ).fetchall()
        assert row == [(later["handle"], later["followers"], dt.datetime(2024, 2, 1))]


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


def test_actions_already_stored_or_repeated_in_a_batch_are_appended_once(tmp_path):
    def acts(rows):  # (post_id, object_id, account_id, day)
        return pa.Table.from_pylist(
            [
                {
                    "platform": "x",
                    "account_id": a,
                    "post_id": p,
                    "created_at": dt.datetime(2024, 1, d),
                    "object_type": "hashtag",
                    "object_id": o,
                }
                for p, o, a, d in rows
            ]
        )

    with Case(tmp_path / "c.duckdb") as db:
        assert db.append_actions(acts([("1", "a", "u", 1), ("1", "b", "u", 1), ("2", "a", "v", 2)])) == 3
        # stored ("1", "a"), ("2", "a"); new ("1", "c") twice, the earlier kept; ("3", "a") new
        again = acts(
            [("1", "a", "u", 1), ("1", "c", "w", 3), ("2", "a", "v", 2), ("1", "c", "u", 2), ("3", "a", "v", 1)]
        )
        assert db.append_actions(again) == 2
        assert db.append_actions(again) == 0
        rows = db.con.execute("SELECT post_id, object_id, account_id FROM actions ORDER BY 1, 2").fetchall()
    assert rows == [("1", "a", "u"), ("1", "b", "u"), ("1", "c", "u"), ("2", "a", "v"), ("3", "a", "v")]
