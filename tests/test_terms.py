"""The tokeniser shared by search and the narrative evidence (enrich/terms.py)."""

from __future__ import annotations

import duckdb
import stopwordsiso

from swarmscope.duck import registered
from swarmscope.enrich.terms import content_terms_sql, fold_sql, stopwords_table


def test_stop_words_are_folded_exactly_as_sql_folds_text():
    con = duckdb.connect()
    words = [(lang, w) for lang in ("fr", "tr", "fa", "ru", "ar", "de") for w in sorted(stopwordsiso.stopwords(lang))]
    folded = [
        r[0]
        for r in con.execute(f"SELECT {fold_sql('w')} FROM unnest($w) AS t(w)", {"w": [w for _, w in words]}).fetchall()
    ]
    table = stopwords_table()
    have = set(zip(table["lang"].to_pylist(), table["term"].to_pylist(), strict=True))
    missing = [(lang, w, f) for (lang, w), f in zip(words, folded, strict=True) if (lang, f) not in have]
    assert not missing, missing[:10]
    # accents and dotless i fold: French "été" and Turkish "için" are stored as the SQL folds them
    assert ("fr", "ete") in have and ("tr", "icin") in have


def test_content_terms_drop_links_mentions_hashtags_numbers_and_short_tokens():
    con = duckdb.connect()
    text = "Vote @Ali #Secim https://t.co/Ab12 www.x.org/y 2024 ok Körpü_2 &amp; SEÇİM"
    [terms] = con.execute(f"SELECT {content_terms_sql('$t')}", {"t": text}).fetchall()[0]
    assert terms == ["vote", "korpu_2", "secim"]


def test_stop_words_are_removed_by_the_post_language_only():
    con = duckdb.connect()
    posts = duckdb.sql(
        "SELECT * FROM (VALUES ('en', 'the bridge'), ('de', 'the bridge'), (NULL, 'the bridge')) t(lang, text)"
    ).arrow()
    with registered(con, _p=posts, _stop=stopwords_table()) as c:
        rows = c.sql(
            f"""SELECT lang, list_sort(list(term))
                FROM (SELECT lang, unnest({content_terms_sql("text")}) AS term FROM _p) t
                ANTI JOIN _stop USING (lang, term) GROUP BY lang ORDER BY lang NULLS LAST"""
        ).fetchall()
    # English drops "the"; German keeps it (not a German stop word); an undetected language keeps everything
    assert rows == [("de", ["bridge", "the"]), ("en", ["bridge"]), (None, ["bridge", "the"])]
