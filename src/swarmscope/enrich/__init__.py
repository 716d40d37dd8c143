"""Enrich stored posts: fill missing languages and derive the actions table.

``enrich_pending`` runs at the end of every ingest and at the start of every
detect, on every post an ingest stored that is not enriched yet: the posts of
this run, and those of a run that was killed, or ingested with
``--no-enrich``. The ``enrichment`` table records, per ingest run
(``posts.run_id``), how far it has come (docs/data-model.md, enrichment).
Each batch of posts is one transaction with its watermark, and both steps are
idempotent (a language is filled only where there is none; an action already
stored is not stored again), so a kill at any point loses at most the batch
under way. See actions.py for what becomes an action.
"""

from __future__ import annotations

import datetime as dt
import os

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from .. import __version__
from ..memory import without_huge_pages
from ..progress import progress_bar
from ..store import Case, registered
from .actions import build_actions
from .lang import CLEAN_QUERY, detect_languages

LANG_BATCH = 20_000
KNOWN_TEXTS = 2_000_000  # cleaned texts whose language enrich_pending remembers across its batches (~300 MiB)
ENRICH_BATCH = 200_000  # posts per transaction of enrich_pending (each checks its actions against all stored)
BATCH_ENV = "SWARMSCOPE_ENRICH_BATCH"  # overrides ENRICH_BATCH (the fault-injection tests use small batches)


# The posts an ingest stored that lack enrichment: their run has no finished row, and they come after
# its watermark (a post without file or record number is done with the run's last batch).
_PENDING = """FROM posts p LEFT JOIN enrichment e ON e.run_id = p.run_id
    WHERE p.run_id IS NOT NULL AND NOT coalesce(e.finished, FALSE)
      AND (e.run_id IS NULL OR p.source_file IS NULL OR p.source_record IS NULL OR p.source_file > e.done_file
           OR (p.source_file = e.done_file AND p.source_record > e.done_record))"""


def enrich_pending(db: Case, progress: bool = True, known: dict[str, str | None] | None = None) -> int:
    """Enrich every post an ingest stored and no enrichment finished yet; returns actions added.

    Per ingest run, the posts after the run's watermark, in input order:
    batches of whole records of one file (about ``ENRICH_BATCH`` posts, by
    ``source_file`` and a ``source_record`` range, so each batch reads only
    its part of the table). A batch's languages, its actions and the new
    watermark are one transaction; the last batch marks the run finished.
    Posts stored without a run id (``Case.append`` called directly) are
    their caller's to enrich. ``known``: cleaned text -> language already
    detected in this process (the ingest's, ``detect_batch_languages``).
    """
    con = db.con
    todo = con.execute(
        "SELECT p.run_id, any_value(e.done_file), any_value(e.done_record), coalesce(any_value(e.posts), 0), "
        f"count(*) {_PENDING} GROUP BY p.run_id ORDER BY p.run_id"
    ).fetchall()
    size = _batch_size()
    added = 0
    known = {} if known is None else known  # cleaned text -> language, across this call's batches
    with (
        without_huge_pages(),
        progress_bar(sum(r[4] for r in todo), "enrich", enabled=progress, unit="posts") as advance,
    ):
        for run_id, done_file, done_record, done, n in todo:
            run = f"run_id = '{_quote(run_id)}'"
            batches = _plan(db, run, _after(done_file, done_record), size, n)
            for i, (where, last_file, last_record, count) in enumerate(batches):
                done += count
                con.execute("BEGIN TRANSACTION")
                try:
                    fill_languages(db, f"{run} AND {where}", progress=False, known=known)
                    added += build_actions(db, f"{run} AND {where}")
                    if last_file is not None:  # the batch of posts without a file or record moves no watermark
                        done_file, done_record = last_file, last_record
                    con.execute("DELETE FROM enrichment WHERE run_id = ?", [run_id])
                    con.execute(
                        "INSERT INTO enrichment VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [run_id, done_file, done_record, done, i == len(batches) - 1, __version__, _utcnow()],
                    )
                    con.execute("COMMIT")
                except BaseException:
                    con.execute("ROLLBACK")
                    raise
                advance(count)
    return added


def _plan(db: Case, run: str, after: str, size: int, n: int) -> list[tuple[str, str | None, int | None, int]]:
    """The batches of a run's posts after its watermark: (SQL condition, last file, last record, posts).

    Whole records of one file each, cut after about ``size`` posts: conditions a
    scan prunes by its zone maps (``source_file = ... AND source_record
    BETWEEN ...``), not a key range that every row group straddles.
    """
    rows = db.con.execute(
        f"""WITH recs AS (
                SELECT source_file, source_record, count(*) AS n FROM posts
                WHERE {run} AND {after} AND source_file IS NOT NULL AND source_record IS NOT NULL
                GROUP BY ALL),
            cut AS (
                SELECT *, (sum(n) OVER (ORDER BY source_file, source_record ROWS UNBOUNDED PRECEDING) - n) // ?
                       AS b
                FROM recs)
            SELECT source_file, min(source_record), max(source_record), sum(n)::BIGINT FROM cut
            GROUP BY source_file, b ORDER BY source_file, min(source_record)""",
        [size],
    ).fetchall()
    batches: list[tuple[str, str | None, int | None, int]] = [
        (f"source_file = '{_quote(f)}' AND source_record BETWEEN {int(lo)} AND {int(hi)}", f, int(hi), int(k))
        for f, lo, hi, k in rows
    ]
    rest = n - sum(b[3] for b in batches)
    if rest:
        batches.append(("(source_file IS NULL OR source_record IS NULL)", None, None, rest))
    return batches


def pending_posts(db: Case) -> int:
    """Posts an ingest stored whose enrichment has not been done (0 when every run's is finished)."""
    return int(db.con.execute(f"SELECT count(*) {_PENDING}").fetchall()[0][0])


def _after(done_file: str | None, done_record: int | None) -> str:
    """SQL: the post's input record comes after the watermark; TRUE without one."""
    if done_file is None:
        return "TRUE"
    f = _quote(done_file)
    return f"(source_file > '{f}' OR (source_file = '{f}' AND source_record > {int(done_record or 0)}))"


def _batch_size() -> int:
    try:
        return max(1, int(os.environ.get(BATCH_ENV, "") or ENRICH_BATCH))
    except ValueError:
        return ENRICH_BATCH


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def enrich_run(db: Case, run_id: str, progress: bool = True) -> int:
    """Detect languages and build actions for the posts stored by ``run_id``; returns actions added."""
    fill_languages(db, f"run_id = '{_quote(run_id)}'", progress)
    return build_actions(db, f"run_id = '{_quote(run_id)}'")


def fill_languages(db: Case, where: str, progress: bool = True, known: dict[str, str | None] | None = None) -> int:
    """Detect the language of posts with none (or 'und') matching ``where``; returns distinct texts read.

    Each distinct cleaned text is read once (lang.CLEAN_QUERY: links, handles and, unless nothing
    else is left, hashtags removed), so retweets and copies of one text cost one detection.
    ``known``: cleaned text -> language of earlier calls (enrich_pending passes one across its
    batches, so a text retweeted in many batches is read once per enrichment, not once per batch);
    the texts read here are added to it.
    """
    con = db.con
    found, n = _text_languages(
        con,
        f"""SELECT DISTINCT text FROM posts
            WHERE ({where}) AND (lang IS NULL OR lang = 'und') AND text IS NOT NULL""",
        known,
        progress,
    )
    with registered(con, _lang_found=found):
        con.execute(
            f"""UPDATE posts SET lang = f.lang, lang_source = 'detected' FROM _lang_found f
                WHERE posts.text = f.text AND ({where}) AND (posts.lang IS NULL OR posts.lang = 'und')"""
        )
    return n


def detect_batch_languages(con: duckdb.DuckDBPyConnection, posts: pa.Table, known: dict[str, str | None]) -> pa.Table:
    """``posts`` (canonical columns, not stored yet) with a detected language where they have none (or 'und').

    The rule and the answers of ``fill_languages``, on an ingest's batch before it is stored: the
    store then writes each post once, where filling it afterwards read every text again from the
    case and rewrote the stored rows (IRA, 1.67M untagged posts: docs/benchmarks.md). ``known`` is
    shared with the enrichment that follows, which then reads no text a second time.
    """
    need = pc.and_(pc.is_valid(posts["text"]), pc.fill_null(pc.equal(posts["lang"], "und"), True))
    if not pc.any(need).as_py():
        return posts
    with registered(con, _lang_batch=posts.select(["text", "lang"])):
        found, _ = _text_languages(
            con,
            "SELECT DISTINCT text FROM _lang_batch WHERE (lang IS NULL OR lang = 'und') AND text IS NOT NULL",
            known,
            progress=False,
        )
    at = pc.index_in(posts["text"], value_set=found["text"])
    hit = pc.and_(need, pc.is_valid(at))
    lang = pc.if_else(hit, pc.take(found["lang"], at), posts["lang"])
    source = pc.if_else(hit, "detected", posts["lang_source"])
    posts = posts.set_column(posts.schema.get_field_index("lang"), "lang", lang)
    return posts.set_column(posts.schema.get_field_index("lang_source"), "lang_source", source)


def _text_languages(
    con: duckdb.DuckDBPyConnection, texts_sql: str, known: dict[str, str | None] | None, progress: bool
) -> tuple[pa.Table, int]:
    """(text, lang) of the texts of ``texts_sql`` (distinct, one column ``text``) in which a language was
    found, and how many distinct cleaned texts they make."""
    con.execute("CREATE OR REPLACE TEMP TABLE _lang_todo AS " + CLEAN_QUERY.format(source=texts_sql))
    cleans = con.sql("SELECT DISTINCT clean FROM _lang_todo").to_arrow_table()["clean"].to_pylist()
    known = {} if known is None else known
    if len(known) > KNOWN_TEXTS:  # bounded memory: start afresh
        known.clear()
    todo = [c for c in cleans if c not in known]
    with progress_bar(len(todo), "languages", enabled=progress, unit="texts") as advance:
        for start in range(0, len(todo), LANG_BATCH):
            part = todo[start : start + LANG_BATCH]
            known.update(zip(part, detect_languages(part)))
            advance(len(part))
    langs = [known[c] for c in cleans]
    read = pa.table({"clean": pa.array(cleans, pa.string()), "lang": pa.array(langs, pa.string())})
    with registered(con, _lang_read=read):
        found = con.sql(
            "SELECT t.text, f.lang FROM _lang_todo t JOIN _lang_read f USING (clean) WHERE f.lang IS NOT NULL"
        ).to_arrow_table()
    con.execute("DROP TABLE _lang_todo")
    return found, len(cleans)


def _quote(s: str) -> str:
    return s.replace("'", "''")


__all__ = ["build_actions", "detect_batch_languages", "enrich_pending", "enrich_run", "fill_languages", "pending_posts"]
