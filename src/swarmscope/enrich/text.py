"""Text normalisation for matching copies, script-agnostic and columnar.

``normalise`` is the one definition of "the same text" used by the exact
fingerprint (``text_fingerprint`` actions) and by near-duplicate detection
(detect/duplicates.py). In order, over whole Arrow columns:

1. URLs and @mentions removed (RE2 over the column); mentions are matched
   with Unicode letters, not ASCII only (``@Алексей_1`` goes); a leading
   ``RT:`` goes too;
2. then one pass of numpy over the decoded code points, through a
   per-code-point table built once per process (about a second):
3. each character to its compatibility form, lower case, accents and other
   marks dropped (NFKD per character): full-width and maths letters,
   ``é``/``e``, ``ş``/``s``, ``İ``/``i``, Arabic short vowels and hamza seats
   (``أ``/``ا``); ``ß`` → ``ss``; invisible format characters (zero-width
   space, ZWNJ, bidi marks, soft hyphen) deleted, since inserting them
   inside words is a known evasion. Characters whose compatibility form is
   several letters (``ﬁ``, ``ﻻ``) are kept as they are: consistent, rare;
4. confusables folded to one skeleton, towards the text's dominant script:
   in a mostly-Latin text Cyrillic and Greek look-alikes become Latin
   (Cyrillic ``а`` → ``a``); in a mostly-Cyrillic text Latin look-alikes
   become Cyrillic. A homoglyph-swapped copy keeps its dominant script, so
   it meets its original whichever way the swap went;
5. Arabic-script letter forms folded (Arabic ``ي``/``ى`` and Persian ``ی``,
   ``ك``/``ک``, ``ة``/``ه`` and heh variants, ``ٱ``/``ا``; tatweel removed),
   Arabic-Indic and Persian digits to ASCII digits; Azerbaijani ``ə`` → ``e``
   and dotless ``ı`` → ``i`` (informal typing drops them);
6. optionally (``az_latin=True``) mostly-Cyrillic texts are transliterated
   to the Azerbaijani Latin alphabet, so ``Азәрбајҹан`` meets ``Azərbaycan``;
7. everything that is not a letter or a digit (punctuation, emoji, symbols,
   ``#``) becomes a space, whitespace folded. Hashtags stay, as words.

The result is a matching key, not display text: never show it to a reader
as what was posted. ``text_array`` converts Python strings to Arrow without
crashing on lone surrogates (``'\\ud800'``), and counts them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

URL_RE = (
    r"(?i)\b(?:https?://|www\.)\S+"
    # bare domain with a path (t.me/x, bit.ly/y): a link without its scheme
    r"|\b[\pL\pN-]+(?:\.[\pL\pN-]+)*\.\pL{2,}/\S*"
)
MENTION_RE = r"(?:^|[^\pL\pM\pN_])@[\pL\pM\pN_]+(?:\.[\pL\pM\pN_]+)*"
RT_RE = r"(?i)^\s*rt\s*:"  # retweet prefix left after removing the mention

# Cyrillic and Greek letters (lower case: folding runs after lower-casing)
# that look like a Latin letter in either case. Both cases are mapped so that
# upper- and lower-case copies of a genuine Cyrillic text stay equal.
_CYRILLIC_TO_LATIN = {
    "а": "a",
    "в": "b",
    "е": "e",
    "ё": "e",
    "к": "k",
    "м": "m",
    "н": "h",
    "о": "o",
    "р": "p",
    "с": "c",
    "т": "t",
    "у": "y",
    "х": "x",
    "ѕ": "s",
    "і": "i",
    "ї": "i",
    "ј": "j",
    "һ": "h",
    "ԁ": "d",
    "ԛ": "q",
    "ԝ": "w",
    "ӏ": "l",
    "ү": "y",
}
_GREEK_TO_LATIN = {
    "α": "a",
    "β": "b",
    "γ": "y",
    "ε": "e",
    "ζ": "z",
    "η": "n",
    "ι": "i",
    "κ": "k",
    "μ": "u",
    "ν": "v",
    "ο": "o",
    "ρ": "p",
    "τ": "t",
    "υ": "u",
    "χ": "x",
    "ω": "w",
    "ς": "c",
}
_LATIN_EXTRA = {"ı": "i", "ɑ": "a", "ɡ": "g", "ə": "e", "ǝ": "e"}
# In a mostly-Cyrillic text, Latin look-alikes go to Cyrillic (the inverse).
_LATIN_TO_CYRILLIC = {
    "a": "а",
    "b": "в",
    "e": "е",
    "k": "к",
    "m": "м",
    "h": "н",
    "o": "о",
    "p": "р",
    "c": "с",
    "t": "т",
    "y": "у",
    "x": "х",
    "i": "і",
    "j": "ј",
}
# Arabic-script letter forms and digits, folded in every text.
_ARABIC = {
    "ی": "ي",
    "ى": "ي",
    "ې": "ي",
    "ۍ": "ي",
    "ک": "ك",
    "ڪ": "ك",
    "ة": "ه",
    "ە": "ه",
    "ہ": "ه",
    "ھ": "ه",
    "ۀ": "ه",
    "ۃ": "ه",
    "ٱ": "ا",
    "ٲ": "ا",
    "ٳ": "ا",
    "ۓ": "ي",
    **{chr(0x0660 + d): str(d) for d in range(10)},  # Arabic-Indic digits
    **{chr(0x06F0 + d): str(d) for d in range(10)},  # Persian (extended) digits
}
_DELETE = "\u0640"  # tatweel (kashida): stretches a word, carries nothing

# Azerbaijani Cyrillic (1939-1991 alphabet) to the Latin alphabet of 1991,
# plus the Russian letters Azerbaijani Cyrillic borrowed. Diacritics are
# written here as later steps see them (ş→s, ç→c, ğ→g, ö→o, ü→u: marks are
# already stripped from Latin text), ə→e and ı→i as in _LATIN_EXTRA.
_AZ_CYRILLIC_TO_LATIN = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "q",
    "ғ": "g",
    "д": "d",
    "е": "e",
    "ә": "e",
    "ж": "j",
    "з": "z",
    "и": "i",
    "ы": "i",
    "ј": "y",
    "к": "k",
    "ҝ": "g",
    "л": "l",
    "м": "m",
    "н": "n",
    "о": "o",
    "ө": "o",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ү": "u",
    "ф": "f",
    "х": "x",
    "һ": "h",
    "ч": "c",
    "ҹ": "c",
    "ш": "s",
    "й": "y",
    "э": "e",
    "і": "i",
    "ї": "i",
    "ў": "u",
    "ҳ": "h",
    "қ": "q",
    "ң": "n",
}
_AZ_MULTI = {"ю": "yu", "я": "ya", "ц": "ts", "щ": "sc"}
_TWO = {"ß": "ss"}  # case-fold where one letter becomes two
_AZ_DELETE = "ьъ"


DELETE = np.uint32(0xFFFFFFFF)
SPACE = np.uint32(0x20)
LATIN, CYRILLIC, CYRILLIC_AZ = 0, 1, 2  # skeleton table variants, by dominant script
CHUNK_CHARS = 4_000_000  # characters per numpy pass: bounded memory, cache-friendly


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-code-point maps, built once per process (about a second).

    Returns ``(maps, second, script)``: ``maps[v, cp]`` is the code point
    ``cp`` becomes under variant ``v`` (``DELETE`` or ``SPACE`` included),
    ``second[v, cp]`` a second code point where one letter becomes two
    (ß → ss; Cyrillic я → ya when transliterating), else 0;
    ``script[cp]`` is 1 for a Latin letter, 2 for a Cyrillic one, else 0.
    """
    n = 0x110000
    base = np.arange(n, dtype=np.uint32)
    script = np.zeros(n, dtype=np.uint8)
    for cp in range(n):
        ch = chr(cp)
        cat = unicodedata.category(ch)
        if cat in ("Cn", "Cs", "Co"):  # unassigned in this Python's Unicode, surrogates, private use
            base[cp] = SPACE
            continue
        if cat in ("Mn", "Me", "Cf"):
            base[cp] = DELETE
            continue
        if cat == "Nd":
            base[cp] = ord(str(unicodedata.digit(ch)))
            continue
        if cat[0] == "L":
            name = unicodedata.name(ch, "")
            script[cp] = 1 if name.startswith("LATIN") else 2 if name.startswith("CYRILLIC") else 0
            stripped = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).lower()
            if len(stripped) == 1:
                base[cp] = ord(stripped)
            elif len(ch.lower()) == 1:
                base[cp] = ord(ch.lower())
        elif cat[0] != "N":
            base[cp] = SPACE  # punctuation, symbols (emoji), separators, controls
    script[ord("ı")] = 1
    maps = np.stack([base, base.copy(), base.copy()])
    second = np.zeros_like(maps)  # a second code point, for the few letters that become two

    def fold(v: int, mapping: dict[str, str]) -> None:
        # keyed on the stripped lower-case letter, so both cases and every
        # accented form follow it (Ѐ, ѐ → е → e)
        for src, dst in mapping.items():
            maps[v, base == ord(src)] = ord(dst) if dst else DELETE

    for v in (LATIN, CYRILLIC, CYRILLIC_AZ):
        fold(v, _ARABIC)
        fold(v, {_DELETE: ""})
        fold(v, _LATIN_EXTRA)
    fold(LATIN, _table(_GREEK_TO_LATIN, _CYRILLIC_TO_LATIN))
    to_cyr = _table({k: _LATIN_TO_CYRILLIC.get(v, v) for k, v in _GREEK_TO_LATIN.items()}, _LATIN_TO_CYRILLIC)
    fold(CYRILLIC, to_cyr)
    az = {k: _AZ_CYRILLIC_TO_LATIN.get(v, v) for k, v in to_cyr.items()}
    fold(CYRILLIC_AZ, _table(az, _AZ_CYRILLIC_TO_LATIN, {c: "" for c in _AZ_DELETE}))
    for v, pairs in ((LATIN, _TWO), (CYRILLIC, _TWO), (CYRILLIC_AZ, {**_TWO, **_AZ_MULTI})):
        for src, (one, two) in pairs.items():
            sel = base == ord(src)
            maps[v, sel] = ord(one)
            second[v, sel] = ord(two)
    for t in (maps, second, script):
        t.setflags(write=False)
    return maps, second, script


def _table(*maps: dict[str, str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for m in maps:
        out.update(m)
    return out


def normalise(texts: pa.Array | pa.ChunkedArray, *, az_latin: bool = False) -> pa.Array | pa.ChunkedArray:
    """Normalised text for matching (module docstring); NULL stays NULL.

    ``az_latin``: transliterate mostly-Cyrillic texts to Azerbaijani Latin,
    for corpora where Azerbaijani is written in both alphabets. Off by
    default: the ``text_fingerprint`` definition must not change under a
    stored case.
    """
    chunked = isinstance(texts, pa.ChunkedArray)
    if texts.type != pa.string():
        texts = texts.cast(pa.string())
    t = pc.replace_substring_regex(texts, URL_RE, " ")
    t = pc.replace_substring_regex(t, MENTION_RE, " ")
    t = pc.replace_substring_regex(t, RT_RE, " ")
    pieces = t.chunks if isinstance(t, pa.ChunkedArray) else [t]
    out = [part for piece in pieces for part in _fold_array(piece, az_latin)]
    if chunked:
        return pa.chunked_array(out, pa.string())
    return pa.concat_arrays(out) if out else pa.array([], pa.string())


def skeleton(texts: pa.Array | pa.ChunkedArray, *, az_latin: bool = False) -> pa.ChunkedArray:
    """The per-character folding (steps 2-7) without URL and mention removal: for names and bios."""
    pieces = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    return pa.chunked_array([p for piece in pieces for p in _fold_array(piece, az_latin)], pa.string())


def _fold_array(arr: pa.Array, az_latin: bool) -> list[pa.Array]:
    out = []
    step = max(1, CHUNK_CHARS // max(1, _mean_bytes(arr)))
    for start in range(0, len(arr), step):
        out.append(_fold_chunk(arr.slice(start, step), az_latin))
    return out or [pa.array([], pa.string())]


def _mean_bytes(arr: pa.Array) -> int:
    if not len(arr):
        return 1
    offs = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    return int((offs[-1] - offs[0]) // len(arr)) + 1


def _fold_chunk(arr: pa.Array, az_latin: bool) -> pa.Array:
    """Map every code point through its text's table, delete, fold spaces, re-encode."""
    maps, second, script = _tables()
    n = len(arr)
    cp, offs = codepoints(arr)
    text = np.repeat(np.arange(n, dtype=np.int32), np.diff(offs))
    # dominant script per text: more Cyrillic letters than Latin ones
    s = script[cp]
    cyrillic = np.bincount(text[s == 2], minlength=n) > np.bincount(text[s == 1], minlength=n)
    variant = np.where(cyrillic, CYRILLIC_AZ if az_latin else CYRILLIC, LATIN).astype(np.int64)
    at = variant[text] * maps.shape[1] + cp
    mapped = maps.reshape(-1)[at]
    two = second.reshape(-1)[at]
    keep = mapped != DELETE
    mapped, text, two = mapped[keep], text[keep], two[keep]
    if two.any():  # the few letters that become two
        reps = 1 + (two != 0)
        last = np.cumsum(reps) - 1
        mapped, text = np.repeat(mapped, reps), np.repeat(text, reps)
        mapped[last[two != 0]] = two[two != 0]
    # fold runs of spaces: keep a space only when a letter of the same text follows
    space = mapped == SPACE
    next_word = np.zeros(mapped.size, dtype=bool)
    next_word[:-1] = ~space[1:] & (text[1:] == text[:-1])
    keep = ~space | next_word
    mapped, text = mapped[keep], text[keep]
    offs = np.concatenate(([0], np.cumsum(np.bincount(text, minlength=n))))
    result = pc.utf8_ltrim(encode_utf8(mapped, offs), characters=" ")
    if arr.null_count:
        result = pc.if_else(arr.is_valid(), result, pa.scalar(None, pa.string()))
    return result


def codepoints(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Decode an Arrow string array to (code points uint32, per-text character offsets int64).

    The whole buffer goes through Python's C codecs at once: no Python
    string per text. NULL decodes as an empty text.
    """
    n = len(arr)
    if n == 0:
        return np.zeros(0, np.uint32), np.zeros(1, np.int64)
    bufs = arr.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int32)[arr.offset : arr.offset + n + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    data = data[offs[0] : offs[-1]]
    offs = offs - offs[0]
    cp = np.frombuffer(data.tobytes().decode("utf-8").encode("utf-32-le"), dtype=np.uint32)
    lengths = pc.utf8_length(arr).fill_null(0).to_numpy(zero_copy_only=False)
    return cp, np.concatenate(([0], np.cumsum(lengths, dtype=np.int64)))


def encode_utf8(cp: np.ndarray, offs: np.ndarray) -> pa.Array:
    """Encode code points with per-text character offsets back to an Arrow string array."""
    cp = cp.astype(np.uint32, copy=False)
    data = cp.tobytes().decode("utf-32-le").encode("utf-8")
    nb = 1 + (cp >= 0x80).astype(np.int8) + (cp >= 0x800) + (cp >= 0x10000)
    text = np.repeat(np.arange(len(offs) - 1), np.diff(offs))
    per_text = np.bincount(text, weights=nb, minlength=len(offs) - 1).astype(np.int64)
    byte_offs = np.concatenate(([0], np.cumsum(per_text)))
    if byte_offs[-1] >= 2**31:
        raise ValueError("normalised text chunk over 2 GiB; lower CHUNK_CHARS")
    return pa.StringArray.from_buffers(len(offs) - 1, pa.py_buffer(byte_offs.astype(np.int32)), pa.py_buffer(data))


def text_array(values: Sequence[str | None]) -> tuple[pa.Array, int]:
    """Python strings → Arrow string array, never failing on unencodable text.

    Lone UTF-16 surrogates (``'\\ud800'``, left by some JSON decoders and
    scrapers) cannot be UTF-8 encoded and make ``pa.array`` raise. A valid
    surrogate pair written as two code points is joined into its character;
    a lone one becomes U+FFFD. Returns the array and how many values were
    repaired. Clean input costs one ``pa.array`` call; only failing chunks
    are looked at value by value.
    """
    try:
        return pa.array(values, pa.string()), 0
    except (UnicodeEncodeError, pa.ArrowException):
        pass
    chunks: list[pa.Array] = []
    repaired = 0
    step = 10_000
    for start in range(0, len(values), step):
        part = list(values[start : start + step])
        try:
            chunks.append(pa.array(part, pa.string()))
            continue
        except (UnicodeEncodeError, pa.ArrowException):
            pass
        fixed = []
        for v in part:
            if isinstance(v, str):
                try:
                    v.encode("utf-8")
                except UnicodeEncodeError:
                    v = v.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
                    repaired += 1
            fixed.append(v)
        chunks.append(pa.array(fixed, pa.string()))
    return (pa.concat_arrays(chunks) if chunks else pa.array([], pa.string())), repaired
