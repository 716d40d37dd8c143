"""Terms of a post's text, in SQL: one tokeniser for search and for narrative evidence.

- ``fold_sql``: lower case, accents stripped, Arabic/Persian and Turkic
  letter variants unified, so 'korpu' finds 'körpü' and a Persian kaf
  matches an Arabic one;
- ``terms_sql``: the folded word tokens of a text (letters, digits, marks,
  underscore), duplicates kept (they are term frequency);
- ``content_terms_sql``: the same without links, @mentions, #hashtags,
  HTML entities (``&amp;``), numbers, one- and two-letter tokens, and the stop words of the post's
  language (``stopwords`` table, see below), for describing what a group
  talks about.

Stop words come from stopwords-iso (the ``stopwordsiso`` package, MIT; 58
languages by ISO 639-1 code, the codes the ``lang`` column holds). Languages
it lacks (Azerbaijani, Kazakh, ...) keep their function words; that dilutes a
narrative comparison (it makes a shift harder to find, never easier).
"""

from __future__ import annotations

from functools import lru_cache

import pyarrow as pa

MAX_TERM_CHARS = 64
TOKEN_RE = r"[\p{L}\p{N}\p{M}_]+"
# One translate() pass (no regex): dotless ı -> i, Arabic kaf/yeh/alef maksura -> Persian kaf/yeh; then
# deleted (no counterpart): tatweel, Arabic harakat, superscript alef, the combining dot of lower('İ').
FOLD_FROM = "ıكيى" + "\u0640" + "".join(chr(c) for c in range(0x064B, 0x0660)) + "\u0670\u0307"
FOLD_TO = "iکیی"
# What content_terms_sql removes before tokenising: links, @mentions and #hashtags (hashtags are
# counted as hashtags), and HTML entities left in by exports (&amp;), in one pass.
_NOT_WORDS = r"(https?://|www\.)\S+|[@#][\p{L}\p{N}\p{M}_]+|&#?[A-Za-z0-9]+;"


def fold_sql(expr: str) -> str:
    """SQL: ``expr`` folded for search (lower case, accents stripped so 'korpu' finds 'körpü';
    Arabic/Persian and Turkic letter variants unified)."""
    # translate() only where one of its letters is: a regex test of the text costs a tenth of the
    # translate, which most texts do not need (1M texts: 2.7 -> 1.8 s; DuckDB computes the lower-cased
    # text once for the three uses)
    folded = f"strip_accents(lower({expr}))"
    return (
        f"(CASE WHEN regexp_matches({folded}, '[{FOLD_FROM}]') "
        f"THEN translate({folded}, '{FOLD_FROM}', '{FOLD_TO}') ELSE {folded} END)"
    )


def terms_sql(expr: str) -> str:
    """SQL: the search terms of text ``expr``, as a list (duplicates kept: they are term frequency)."""
    return (
        f"list_filter(regexp_extract_all({fold_sql(f'coalesce({expr}, {chr(39) * 2})')}, '{TOKEN_RE}'), "
        f"lambda t: length(t) <= {MAX_TERM_CHARS})"
    )


def content_terms_sql(expr: str) -> str:
    """SQL: the content words of text ``expr`` (a list): no links, mentions, hashtags, numbers or
    tokens under three letters. Stop words are removed by an anti-join on ``stopwords_table()``."""
    stripped = f"regexp_replace(coalesce({expr}, ''), '{_NOT_WORDS}', ' ', 'g')"
    return (
        f"list_filter(regexp_extract_all({fold_sql(stripped)}, '{TOKEN_RE}'), "
        f"lambda t: length(t) BETWEEN 3 AND {MAX_TERM_CHARS} AND NOT regexp_full_match(t, '[0-9_]+'))"
    )


@lru_cache(maxsize=1)
def stopwords_table() -> pa.Table:
    """(lang, term): every stopwords-iso word, folded the way ``fold_sql`` folds text (in Python once:
    a few tens of thousands of words; the same folding as the SQL, checked by a test)."""
    import unicodedata

    import stopwordsiso

    fold = str.maketrans(FOLD_FROM[:4], FOLD_TO, FOLD_FROM[4:])
    langs, terms = [], []
    for lang in sorted(stopwordsiso.langs()):
        words = set()
        for w in stopwordsiso.stopwords(lang):
            decomposed = unicodedata.normalize("NFD", w.lower())
            words.add("".join(c for c in decomposed if not unicodedata.combining(c)).translate(fold))
        for w in sorted(words):
            langs.append(lang)
            terms.append(w)
    return pa.table({"lang": pa.array(langs, pa.string()), "term": pa.array(terms, pa.string())})
