"""The case database: one DuckDB file per case.

Open it, append canonical batches with dedupe in one transaction each, keep
quarantined records, and record every run. Nothing here knows a platform's
format; ``ingest/`` hands over canonical Arrow tables (see model.py).

Dedupe rules (docs/data-model.md):
- posts: one row per (platform, post_id); the first copy stored wins, so a
  post seen in two sources, or a file ingested twice, is one post;
- accounts: one row per (platform, account_id) holding the latest snapshot
  (by ``snapshot_at``); fields missing from the newer snapshot are kept from
  the older one;
- actions: one row per (platform, post_id, object_type, object_id);
- quarantine: a row equal to a stored one (file, record, reason, excerpt) is
  not stored again, so re-ingesting a file does not double its bad records.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__, model
from .duck import CaseBusy, claim, open_file, registered, release, scratch, session

__all__ = ["AppendResult", "Case", "CaseBusy", "connect", "registered", "scratch"]


@dataclass(frozen=True)
class AppendResult:
    inserted: int  # new posts
    duplicates: int  # post rows already stored (or repeated within the batch)
    accounts: int  # distinct accounts written (new or merged into a stored snapshot)
    account_rows: int  # account rows received
    quarantined: int


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# Runs this process has begun and not yet ended (any case). A run left 'running' that is not one of
# these belongs to a process that died: see Case._close_dead_runs.
_live_runs: set[str] = set()


def live_runs() -> frozenset[str]:
    """The run ids this process has begun and not ended."""
    return frozenset(_live_runs)


class Case:
    """A case store. Use as a context manager, or call ``close()``.

    Opening waits up to ``wait`` seconds (default ``$SWARMSCOPE_LOCK_WAIT``,
    10) while another process holds the file, then raises CaseBusy naming it.
    Read-write, the case's owner file names this process until ``close()``.
    """

    def __init__(self, path: str | Path, read_only: bool = False, wait: float | None = None):
        self.path = Path(path)
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self.con = connect(self.path, read_only=read_only, wait=wait)
        self._claimed = not read_only
        if not read_only:
            claim(self.path)
            for name in model.TABLES:
                self.con.execute(model.ddl(name))
            self._close_dead_runs()

    # -- lifecycle -------------------------------------------------------
    def close(self) -> None:
        self.con.close()
        if self._claimed:
            self._claimed = False
            release(self.path)

    def __enter__(self) -> Case:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- runs ------------------------------------------------------------
    def begin_run(self, command: str, parameters: dict[str, Any]) -> str:
        run_id = _utcnow().strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
        self.con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                __version__,
                command,
                json.dumps(parameters, sort_keys=True, default=str),
                "[]",
                _utcnow(),
                None,
                "running",
            ],
        )
        _live_runs.add(run_id)
        return run_id

    def _close_dead_runs(self) -> None:
        """Mark 'interrupted' every run left 'running' by a process that is gone (killed, out of power).

        This process has the file open read-write, and DuckDB's lock (the
        operating system's, per process, released when a process dies) lets
        no other process open it meanwhile: a 'running' run this process did
        not begin has no process left. Its ``ended_at`` stays NULL (when it
        died is not known).
        """
        self.con.execute(
            "UPDATE runs SET status = 'interrupted' WHERE status = 'running' "
            "AND NOT list_contains(?::VARCHAR[], run_id)",
            [sorted(_live_runs)],
        )

    def record_inputs(self, run_id: str, inputs: list[dict[str, Any]]) -> None:
        """Note the inputs a running run has finished so far (``end_run`` writes the final list)."""
        self.con.execute(
            "UPDATE runs SET inputs = ? WHERE run_id = ?", [json.dumps(inputs, sort_keys=True, default=str), run_id]
        )

    def end_run(self, run_id: str, inputs: list[dict[str, Any]], status: str = "ok") -> None:
        self.con.execute(
            "UPDATE runs SET inputs = ?, ended_at = ?, status = ? WHERE run_id = ?",
            [json.dumps(inputs, sort_keys=True, default=str), _utcnow(), status, run_id],
        )
        _live_runs.discard(run_id)

    # -- appends ---------------------------------------------------------
    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Appends in one DuckDB thread while this is open (an ingest; the reader has the other core).

        DuckDB's parallel insert leaves each thread's last row group partly filled,
        and the next checkpoint rewrites them, single-threaded: 1.2-1.4 s per 1M X
        posts at close. One thread writes whole row groups as it goes, no slower.
        """
        threads = self.con.execute("SELECT current_setting('threads')").fetchall()[0][0]
        self.con.execute("SET threads = 1")
        try:
            yield
        finally:
            self.con.execute(f"SET threads = {int(threads)}")

    def append(
        self,
        posts: pa.Table | None = None,
        accounts: pa.Table | Sequence[pa.Table] | None = None,
        quarantine: pa.Table | None = None,
        run_id: str | None = None,
    ) -> AppendResult:
        """Append one batch in one transaction; an interrupted batch leaves no trace.

        ``accounts``: a table, or several merged in turn (the reader's batches an ingest joined:
        the result is what appending them one by one gives).
        """
        posts = model.conform(posts, "posts") if posts is not None else model.empty("posts")
        parts = [accounts] if accounts is None or isinstance(accounts, pa.Table) else list(accounts)
        parts = [model.conform(a, "accounts") for a in parts if a is not None]
        quarantine = model.conform(quarantine, "quarantine") if quarantine is not None else model.empty("quarantine")
        if run_id is not None and quarantine.num_rows:
            quarantine = quarantine.set_column(
                quarantine.schema.get_field_index("run_id"),
                "run_id",
                pa.array([run_id] * quarantine.num_rows, pa.string()),
            )
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            inserted = self._insert_posts(posts, run_id)
            n_acc = sum(self._merge_accounts(a) for a in parts)
            if quarantine.num_rows:
                self._insert_quarantine(quarantine)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        n_rows = sum(a.num_rows for a in parts)
        return AppendResult(inserted, posts.num_rows - inserted, n_acc, n_rows, quarantine.num_rows)

    def _insert_quarantine(self, quarantine: pa.Table) -> int:
        """Quarantine rows not already stored; returns how many were written.

        A row equal to a stored one in file, record, reason and excerpt is the
        same bad record read again (a file ingested twice): it still counts as
        quarantined for the input, but is stored once.
        """
        with registered(self.con, _q_batch=quarantine):
            return int(
                self.con.execute(
                    """
                    INSERT INTO quarantine SELECT b.* FROM _q_batch b
                    WHERE NOT EXISTS (
                        SELECT 1 FROM quarantine q
                        WHERE q.source_file = b.source_file AND q.record IS NOT DISTINCT FROM b.record
                          AND q.reason = b.reason AND q.excerpt IS NOT DISTINCT FROM b.excerpt
                    )
                    """
                ).fetchall()[0][0]
            )

    def _insert_posts(self, posts: pa.Table, run_id: str | None) -> int:
        if not posts.num_rows:
            return 0
        con = self.con
        # Within-batch duplicates keep their first record (a mask column: no copy of the batch);
        # then the keys already stored are left out.
        first = _first_mask(posts, "post_id", [("source_file", "ascending"), ("source_record", "ascending")])
        conditions = []
        if first is not None:
            posts = posts.append_column("_first", pa.array(first))
            conditions.append("b._first")
        con.register("_p_batch", posts)
        cols = ", ".join("?::VARCHAR AS run_id" if f.name == "run_id" else f.name for f in model.POSTS)
        # The stored keys first, by a semi join (it hashes the batch and streams the store's keys
        # past it); then an anti join against those few. One anti join against the store hashed
        # every stored key for each batch: 0.96 against 0.80 CPU-s of inserts per 1M X posts.
        stored = con.sql(
            "SELECT b.platform, b.post_id FROM _p_batch b "
            "SEMI JOIN posts p ON p.platform = b.platform AND p.post_id = b.post_id"
        ).to_arrow_table()
        if stored.num_rows:
            con.register("_p_stored", stored)
            conditions.append(
                "NOT EXISTS (SELECT 1 FROM _p_stored s WHERE s.platform = b.platform AND s.post_id = b.post_id)"
            )
        where = "WHERE " + " AND ".join(conditions) if conditions else ""
        n = con.execute(f"INSERT INTO posts SELECT {cols} FROM _p_batch b {where}", [run_id]).fetchall()[0][0]
        if stored.num_rows:
            con.unregister("_p_stored")
        con.unregister("_p_batch")
        return int(n)

    def _merge_accounts(self, accounts: pa.Table) -> int:
        """Merge a batch's accounts into the store; returns the batch's distinct accounts.

        Only what changes is written: an account already stored with the same
        fields is left alone, one whose only change is a later ``snapshot_at``
        gets that column updated, and the rest are deleted and written again.
        Writing every batch account anew cost half of an X ingest's commits
        (2M posts, 1.5M account rows of which 0.9M repeats: commits 16.3 -> 10.6 s).
        """
        if not accounts.num_rows:
            return 0
        con = self.con
        accounts = _first_rows(accounts, "account_id", [("snapshot_at", "descending")])  # the latest snapshot
        con.register("_a_batch", accounts)
        fields = [f.name for f in model.ACCOUNTS if f.name not in ("platform", "account_id")]
        # newer snapshot first, then fill its gaps from the older one
        newer = "o.account_id IS NULL OR coalesce(n.snapshot_at >= o.snapshot_at, o.snapshot_at IS NULL)"
        merged = ", ".join(
            f"CASE WHEN {newer} THEN coalesce(n.{c}, o.{c}) ELSE coalesce(o.{c}, n.{c}) END AS {c}" for c in fields
        )
        old = ", ".join(f"o.{c} AS _o_{c}" for c in fields)
        same = " AND ".join(f"{c} IS NOT DISTINCT FROM _o_{c}" for c in fields if c != "snapshot_at")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE _a_new AS
            SELECT platform, account_id, {", ".join(fields)},
                   CASE WHEN _o_new THEN 'new'
                        WHEN NOT ({same}) THEN 'change'
                        WHEN snapshot_at IS DISTINCT FROM _o_snapshot_at THEN 'stamp'
                        ELSE 'same' END AS _how
            FROM (SELECT n.platform, n.account_id, {merged}, o.account_id IS NULL AS _o_new, {old}
                  FROM _a_batch n LEFT JOIN accounts o
                    ON o.platform = n.platform AND o.account_id = n.account_id)
            """
        )
        how = dict(con.execute("SELECT _how, count(*) FROM _a_new GROUP BY 1").fetchall())
        on = "accounts.platform = n.platform AND accounts.account_id = n.account_id"
        # each statement scans the stored accounts: skipped when it has nothing to do
        if how.get("stamp"):
            con.execute(
                f"UPDATE accounts SET snapshot_at = n.snapshot_at FROM _a_new n WHERE n._how = 'stamp' AND {on}"
            )
        if how.get("change"):
            con.execute(f"DELETE FROM accounts USING _a_new n WHERE n._how = 'change' AND {on}")
        if how.get("new") or how.get("change"):
            cols = ", ".join(f.name for f in model.ACCOUNTS)
            con.execute(f"INSERT INTO accounts SELECT {cols} FROM _a_new WHERE _how IN ('new', 'change')")
        con.execute("DROP TABLE _a_new")
        con.unregister("_a_batch")
        return accounts.num_rows

    def append_actions(self, actions: pa.Table) -> int:
        """Append action rows, skipping ones already stored (and repeats within ``actions``)."""
        actions = model.conform(actions, "actions")
        if not actions.num_rows:
            return 0
        con = self.con
        con.register("_x_batch", actions)
        # As for posts: the stored actions of the batch's posts first, by a semi join that streams the
        # store past the batch; then an anti join against those few. An anti join against the store built
        # a hash table of every stored action for each batch: 0.3 s a batch at the start of a 10M-post
        # enrichment, 0.7 s at its end.
        stored = con.sql(
            "SELECT a.platform, a.post_id, a.object_type, a.object_id FROM actions a "
            "SEMI JOIN _x_batch b ON a.platform = b.platform AND a.post_id = b.post_id"
        ).to_arrow_table()
        new = "TRUE"
        if stored.num_rows:
            con.register("_x_stored", stored)
            new = """NOT EXISTS (
                SELECT 1 FROM _x_stored a
                WHERE a.platform = b.platform AND a.post_id = b.post_id
                  AND a.object_type = b.object_type AND a.object_id = b.object_id)"""
        n = con.execute(
            f"""
            INSERT INTO actions
            SELECT b.* FROM _x_batch b
            WHERE {new}
            QUALIFY row_number() OVER (PARTITION BY b.platform, b.post_id, b.object_type, b.object_id
                                       ORDER BY b.created_at, b.account_id) = 1
            """
        ).fetchall()[0][0]
        if stored.num_rows:
            con.unregister("_x_stored")
        con.unregister("_x_batch")
        return int(n)

    def replace_actions(self, object_types: tuple[str, ...], *tables: pa.Table) -> int:
        """Drop every action of ``object_types`` and append ``tables``, in one transaction.

        For detector-made objects (near-duplicate and image clusters): a re-run
        with other parameters replaces the old clusters rather than adding to them.
        """
        con = self.con
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("DELETE FROM actions WHERE object_type IN (SELECT unnest(?::VARCHAR[]))", [list(object_types)])
            n = sum(self.append_actions(t) for t in tables if t is not None and t.num_rows)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return n

    # -- reads -----------------------------------------------------------
    def table(self, name: str) -> pa.Table:
        _check_table(name)
        return self.con.sql(f"SELECT * FROM {name}").to_arrow_table()

    def count(self, name: str) -> int:
        _check_table(name)
        return int(self.con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])


def _first_rows(batch: pa.Table, key: str, order: list[tuple[str, str]]) -> pa.Table:
    """``batch`` with one row per (platform, ``key``): the first in ``order`` (nulls last; ties: batch order).

    The batch itself when no key repeats (no copy). Rows keep their batch order.
    """
    first = _first_mask(batch, key, order)
    return batch if first is None else batch.filter(pa.array(first))


def _first_mask(batch: pa.Table, key: str, order: list[tuple[str, str]]) -> np.ndarray | None:
    """The rows ``_first_rows`` keeps, as a mask; None when every row is kept (no key repeats).

    Only the rows of repeated keys are sorted, in Arrow: DuckDB's window
    (row_number() over the partition) sorted whole rows, 0.45 s of a 0.8 s
    insert of 220k X posts, and sorting every row's keys still cost 0.1-0.3 s.
    """
    if batch.num_rows < 2:
        return None
    codes = _key_codes(batch, ["platform", key])
    counts = np.bincount(codes)
    if counts.max() < 2:
        return None
    rep = np.flatnonzero(counts[codes] > 1)  # the rows whose key repeats
    sub = batch.select([c for c, _ in order]).take(rep).append_column("_key", pa.array(codes[rep]))
    idx = pc.sort_indices(sub, sort_keys=[("_key", "ascending", "at_end")] + [(c, o, "at_end") for c, o in order])
    idx = idx.to_numpy()
    ranked = codes[rep][idx]
    first = np.ones(len(idx), bool)
    first[1:] = ranked[1:] != ranked[:-1]
    keep = np.ones(batch.num_rows, bool)
    keep[rep] = False
    keep[rep[idx[first]]] = True
    return keep


def _key_codes(batch: pa.Table, columns: list[str]) -> np.ndarray:
    """One integer per row, equal where the rows' ``columns`` are all equal (nulls equal each other)."""
    codes = np.zeros(batch.num_rows, np.int64)
    for c in columns:
        enc = batch[c].combine_chunks().dictionary_encode(null_encoding="encode")
        codes = codes * len(enc.dictionary) + enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    return codes


def _check_table(name: str) -> None:
    if name not in model.TABLES:
        raise ValueError(f"unknown table {name!r}; tables: {', '.join(model.TABLES)}")


def connect(
    path: str | Path | None = None, read_only: bool = False, wait: float | None = None
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the session settings every step relies on.

    ``read_only`` opens the file read-only, so other processes may read it too;
    where this process already has it open read-write, the connection shares
    that instance instead (see below). While another process holds the file
    (a writer, or readers when this one would write), it waits up to ``wait``
    seconds (duck.open_file), then raises CaseBusy naming that process.
    """
    try:
        con = open_file(path, read_only=read_only, wait=wait) if path else duckdb.connect(":memory:")
    except duckdb.ConnectionException as e:
        # This process already holds the file read-write (the workbench, a detection run in a
        # thread): DuckDB refuses a second, read-only configuration of the same file. Share
        # the open database instead; the caller keeps its promise not to write. Connections of
        # one process see each other's committed transactions only (MVCC).
        if not read_only or "different configuration" not in str(e):
            raise
        con = duckdb.connect(str(path))
    return session(con)
