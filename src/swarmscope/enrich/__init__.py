"""Enrich stored posts: fill missing languages and derive the actions table.

Runs after every ingest on the posts that ingest stored (``posts.run_id``),
so re-running it never duplicates actions. See actions.py for what becomes
an action.
"""

from __future__ import annotations

import pyarrow as pa

from ..progress import progress_bar
from ..store import Case
from .actions import build_actions
from .lang import detect_languages

LANG_BATCH = 20_000


def enrich_run(db: Case, run_id: str, progress: bool = True) -> int:
    """Detect languages and build actions for the posts stored by ``run_id``; returns actions added."""
    fill_languages(db, f"run_id = '{_quote(run_id)}'", progress)
    return build_actions(db, f"run_id = '{_quote(run_id)}'")


def fill_languages(db: Case, where: str, progress: bool = True) -> int:
    """Detect the language of posts with none (or 'und') matching ``where``, once per distinct text."""
    con = db.con
    # Links, @handles and the "RT @x:" prefix say nothing of the language: a
    # retweet of an emoji-only post would otherwise be read as the handle's
    # "language". Hashtags go too, unless nothing else is left: one Azerbaijani
    # letter in "#SəsVer" made an English sentence Tagalog.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _lang_todo AS
            SELECT text,
                   CASE WHEN regexp_matches(no_tags, '\\pL') THEN no_tags ELSE replace(clean, '#', ' ') END AS clean
            FROM (
                SELECT text, clean, trim(regexp_replace(clean, '[#＃][\\pL\\pN_]+', ' ', 'g')) AS no_tags FROM (
                    SELECT DISTINCT text, trim(regexp_replace(regexp_replace(text,
                        '(https?://|www\\.)\\S+', ' ', 'g'), '(^|\\s)(RT\\s*)?@[\\pL\\pN_.]+:?', ' ', 'g')) AS clean
                    FROM posts
                    WHERE ({where}) AND (lang IS NULL OR lang = 'und') AND text IS NOT NULL))
            WHERE regexp_matches(clean, '\\pL')"""
    )
    n = con.execute("SELECT count(*) FROM _lang_todo").fetchall()[0][0]
    done = 0
    with progress_bar(n, "languages", enabled=progress, unit="texts") as advance:
        for offset in range(0, n, LANG_BATCH):
            batch = con.sql(
                "SELECT text, clean FROM _lang_todo ORDER BY text LIMIT ? OFFSET ?", params=[LANG_BATCH, offset]
            ).to_arrow_table()
            texts = batch["text"].to_pylist()
            found = pa.table(
                {
                    "text": pa.array(texts, pa.string()),
                    "lang": pa.array(detect_languages(batch["clean"].to_pylist()), pa.string()),
                }
            )
            con.register("_lang_found", found)
            con.execute(
                f"""UPDATE posts SET lang = f.lang, lang_source = 'detected'
                    FROM _lang_found f
                    WHERE posts.text = f.text AND f.lang IS NOT NULL AND ({where})
                      AND (posts.lang IS NULL OR posts.lang = 'und')"""
            )
            con.unregister("_lang_found")
            done += len(texts)
            advance(len(texts))
    con.execute("DROP TABLE _lang_todo")
    return done


def _quote(s: str) -> str:
    return s.replace("'", "''")


__all__ = ["build_actions", "enrich_run", "fill_languages"]
