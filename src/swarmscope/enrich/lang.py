"""Offline language identification for posts whose platform gave none (docs/methods/language.md).

A cascade over each distinct cleaned text (``detect_languages``), cheapest first, each step deciding
only what it decides reliably and passing the rest on:

1. **Script.** A script that only one language (of those we can name) writes decides it: more
   than half the letters in Greek, Hangul, kana (with Han), Thai, Lao, Khmer, Armenian,
   Georgian, Gurmukhi, Gujarati, Tamil, Telugu, Kannada, Malayalam or Sinhala. Latin, Cyrillic
   (ru, uk, bg, kk, be, mk, sr, mn...), Arabic (ar, fa, ur, ps, ku...), Han alone (zh or ja),
   Devanagari (hi, mr, ne), Bengali (bn, as) and Hebrew (he, yi) are left to the models.
2. **CLD2** (pycld2, Chromium's compact detector, C++, ~150k short texts/s on one core): its
   answer is kept only when CLD2 calls it reliable. On real tweets it is wrong on 0.1 % of
   English posts, against 4 % for lingua's low-accuracy mode (bench/langid.py).
3. **lingua** (low-accuracy mode over all its languages, no language favoured) for what CLD2
   left undecided, when the text's letters take at least ``FALLBACK_BYTES`` bytes of UTF-8 (20
   Latin letters, 10 Cyrillic or Arabic ones: a letter of those scripts says more). CLD2
   declines long posts that mix scripts or words of two languages (a Russian post about
   "Kafka") and short ones, and lingua reads those well; on shorter Latin leftovers ("lol",
   "Idiots loooool") it guesses wrong about as often as right, and it is 60 times slower.

A language is kept only when the step that named it is sure (CLD2's reliability, lingua's
``MIN_CONFIDENCE``); otherwise the post stays undecided (NULL): for counts per language an
unknown is better than a wrong language ("On episode a traffic day" came out Tagalog at 0.56).
Texts are read on their first ``MAX_CHARS`` characters (the opening of a post is enough).
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_CHARS = 200
MIN_CONFIDENCE = 0.7  # lingua's confidence below which its answer is dropped
# CLD2-undecided texts with fewer UTF-8 bytes of letters than this stay undecided (module docstring):
# 20 Latin letters, 10 Cyrillic or Arabic ones, 7 Han characters (a script that says more per letter).
FALLBACK_BYTES = 20

# How fill_languages cleans posts before reading their language: SQL over a relation ``{source}``
# with a column ``text``, giving (text, clean). Links, @handles and the "RT @x:" prefix say nothing
# of the language (a retweet of an emoji-only post would be read as the handle's "language");
# hashtags go too, unless nothing else is left (one Azerbaijani letter in "#SəsVer" made an
# English sentence Tagalog). Rows with no letter left are dropped. Each pattern runs only on the
# texts holding the literal it needs ('http' or 'www.', '@', '#' or its full-width form): the same
# output, 30 % less time on IRA's texts (most have no link, handle or hashtag).
CLEAN_QUERY = """SELECT text, clean FROM (
    SELECT text, CASE WHEN regexp_matches(no_tags, '\\pL') THEN no_tags ELSE replace(clean, '#', ' ') END AS clean
    FROM (
        SELECT text, clean,
               CASE WHEN contains(clean, '#') OR contains(clean, '＃')
                    THEN trim(regexp_replace(clean, '[#＃][\\pL\\pN_]+', ' ', 'g')) ELSE clean END AS no_tags
        FROM (
            SELECT text,
                   trim(CASE WHEN contains(linkless, '@')
                             THEN regexp_replace(linkless, '(^|\\s)(RT\\s*)?@[\\pL\\pN_.]+:?', ' ', 'g')
                             ELSE linkless END) AS clean
            FROM (
                SELECT text,
                       CASE WHEN contains(text, 'http') OR contains(text, 'www.')
                            THEN regexp_replace(text, '(https?://|www\\.)\\S+', ' ', 'g') ELSE text END AS linkless
                FROM ({source})))))
    WHERE regexp_matches(clean, '\\pL')"""

# Scripts that one language writes (among those CLD2 and lingua name), as Unicode blocks. Kana
# decides Japanese beside Han; Han alone does not (Chinese or Japanese), nor do Devanagari (hi, mr,
# ne), Bengali (bn, as), Hebrew (he, yi), Ethiopic (am, ti), Tibetan (bo, dz) or Myanmar (my, shn).
_SCRIPT_BLOCKS = {
    "el": "\u0370-\u03ff\u1f00-\u1fff",  # Greek
    "ko": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",  # Hangul
    "ja": "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f",  # Hiragana, Katakana
    "th": "\u0e00-\u0e7f",
    "lo": "\u0e80-\u0eff",
    "km": "\u1780-\u17ff",
    "hy": "\u0530-\u058f",  # Armenian
    "ka": "\u10a0-\u10ff\u1c90-\u1cbf\u2d00-\u2d2f",  # Georgian
    "pa": "\u0a00-\u0a7f",  # Gurmukhi
    "gu": "\u0a80-\u0aff",
    "ta": "\u0b80-\u0bff",
    "te": "\u0c00-\u0c7f",
    "kn": "\u0c80-\u0cff",
    "ml": "\u0d00-\u0d7f",
    "si": "\u0d80-\u0dff",
}
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_ANY_SCRIPT = re.compile("[" + "".join(_SCRIPT_BLOCKS.values()) + "]")
_SCRIPT_RE = {code: re.compile(f"[{blocks}]") for code, blocks in _SCRIPT_BLOCKS.items()}
_JAPANESE = re.compile(f"[{_SCRIPT_BLOCKS['ja']}{_HAN}]")  # kana and the Han beside them
_LETTER = re.compile(r"[^\W\d_]")

# CLD2's codes that differ from lingua's ISO 639-1 (posts.lang): old Hebrew code, Norwegian Bokmål.
_CLD2_CODE = {"iw": "he", "no": "nb", "jw": "jv", "zh-Hant": "zh", "sr-ME": "sr"}


def by_script(text: str) -> str | None:
    """The language that more than half of the text's letters' script decides alone, else None."""
    if _ANY_SCRIPT.search(text) is None:
        return None
    letters = len(_LETTER.findall(text))
    for code, rx in _SCRIPT_RE.items():
        if 2 * len((_JAPANESE if code == "ja" else rx).findall(text)) > letters and rx.search(text):
            return code
    return None


@lru_cache(maxsize=1)
def _cld2():
    import pycld2

    return pycld2


def by_cld2(text: str) -> str | None:
    """CLD2's language when CLD2 calls it reliable and it has an ISO 639-1 code, else None."""
    cld2 = _cld2()
    try:
        reliable, _, found = cld2.detect(text)
    except (cld2.error, UnicodeError):  # bytes CLD2 refuses (control characters, lone surrogates)
        return None
    if not reliable:
        return None
    code = _CLD2_CODE.get(found[0][1], found[0][1])
    return code if len(code) == 2 and code not in ("un", "xx") else None


@lru_cache(maxsize=1)
def _lingua():
    from lingua import LanguageDetectorBuilder

    return LanguageDetectorBuilder.from_all_languages().with_low_accuracy_mode().build()


def by_lingua(texts: list[str]) -> list[str | None]:
    """lingua's language where its confidence is at least ``MIN_CONFIDENCE``, else None."""
    if not texts:
        return []
    try:
        ranked = _lingua().compute_language_confidence_values_in_parallel(texts)
    except UnicodeError:  # a lone surrogate (not from the store, whose strings are UTF-8)
        safe = [t.encode("utf-8", "replace").decode("utf-8") for t in texts]
        ranked = _lingua().compute_language_confidence_values_in_parallel(safe)
    return [r[0].language.iso_code_639_1.name.lower() if r and r[0].value >= MIN_CONFIDENCE else None for r in ranked]


def _letter_bytes(text: str) -> int:
    """UTF-8 bytes of the text's letters: a Latin letter 1, Cyrillic, Greek, Arabic, Hebrew 2, CJK 3."""
    return len("".join(_LETTER.findall(text)).encode("utf-8", "surrogatepass"))


def detect_languages(texts: list[str]) -> list[str | None]:
    """ISO 639-1 codes (lower case) for ``texts``, one per text, None where undecided.

    Call it once per distinct text: the cost is per text given (fill_languages deduplicates).
    """
    heads = [t[:MAX_CHARS] for t in texts]
    out = [by_script(t) or by_cld2(t) for t in heads]
    rest = [i for i, code in enumerate(out) if code is None and _letter_bytes(heads[i]) >= FALLBACK_BYTES]
    for i, code in zip(rest, by_lingua([heads[i] for i in rest])):
        out[i] = code
    return out
