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
   space and joiners, ZWNJ, word joiner, bidi marks, soft hyphen, combining
   grapheme joiner) deleted and Hangul fillers made spaces, since inserting
   them inside words is a known evasion. Characters whose compatibility
   form is several letters (``ﬁ``, ``ﻻ``) are kept as they are;
4. confusables folded (Unicode TR39's confusables.txt, through ``disarm``'s
   Latin and Cyrillic tables: ``confusable_folds``), towards the text's
   dominant script: in a Latin text Cyrillic, Greek, Armenian, Cherokee
   look-alikes become Latin (Cyrillic ``а`` → ``a``, Armenian ``օ`` →
   ``o``); in a Cyrillic text Latin look-alikes become Cyrillic. The
   dominant script counts only letters that have no look-alike in the
   other script, which a homoglyph swap never touches: a swapped copy is
   folded the same way as its original even when most of its letters
   were swapped. Letters fold by their lower case (upper- and lower-case
   copies stay equal), Greek capitals as what they look like;
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

Why this module is long: the one definition of "the same text" must stay
in one place, tables and both paths with it (pure-ASCII texts folded byte
by byte in numpy, the rest through the per-code-point tables); split, the
two paths could drift apart and copies would stop matching.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache, partial

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..parallel import THREADS, in_order
from ..progress import detail

URL_RE = (
    r"(?i)\b(?:https?://|www\.)\S+"
    # bare domain with a path (t.me/x, bit.ly/y): a link without its scheme
    r"|\b[\pL\pN-]+(?:\.[\pL\pN-]+)*\.\pL{2,}/\S*"
)
MENTION_RE = r"(?:^|[^\pL\pM\pN_])@[\pL\pM\pN_]+(?:\.[\pL\pM\pN_]+)*"
RT_RE = r"(?i)^\s*rt\s*:"  # retweet prefix left after removing the mention

# Confusables (homoglyphs) come from Unicode TR39's confusables data (confusables.txt 17.0.0),
# through the maintained ``disarm`` package's target-script tables: in a Latin text, every
# letter of these scripts that looks like a Latin letter becomes it; in a Cyrillic text, a
# Latin look-alike becomes the Cyrillic letter. Scripts whose own texts the operations write
# (Arabic, Persian, Hebrew, Georgian, CJK ...) are left to their own rules below: TR39 would
# turn Arabic alef into "l" and heh into "o", changing every Arabic text's fingerprint.
CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC", "LISU")
# Letters that informal Azerbaijani and Turkish typing swaps (not confusables).
_LATIN_EXTRA = {"ı": "i", "ə": "e", "ǝ": "e"}
# Hangul fillers: letters by category, blank on screen, used as invisible padding (TR39 default ignorables).
_FILLERS = "\u115f\u1160\u3164\uffa0"
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
NORMALISE_CHARS = 16_000_000  # bytes of text per slice of ``normalise``: its copies stay small
MIN_SLICE = 8_192  # texts: fewer are folded in one slice (threads would cost more than they gain)


def _strip(ch: str) -> str:
    """Compatibility form, marks dropped, lower case: the letter the tables are keyed on."""
    return "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)).lower()


def script_name(ch: str) -> str:
    """The first word of the character's Unicode name: LATIN, CYRILLIC, GREEK ... (the script, for letters)."""
    return unicodedata.name(ch, "").split(" ", 1)[0]


@lru_cache(maxsize=1)
def confusable_folds() -> tuple[dict[str, str], dict[str, str], frozenset[str]]:
    """TR39 confusables as folds of stripped lower-case letters: ``(to_latin, to_cyrillic, confusable)``.

    ``to_latin[x]``: the Latin letter that ``x`` (a letter of ``CONFUSABLE_SCRIPTS``)
    looks like, in lower or else upper case (``а`` → ``a``, ``в`` → ``b`` as ``В``
    looks like ``B``, ``ʙ`` → ``b``, Armenian ``օ`` → ``o``). ``to_cyrillic[x]``: the
    Cyrillic letter that a non-Cyrillic ``x`` looks like, upper case first (``b`` →
    ``в`` as ``B`` looks like ``В``, ``h`` → ``н``), else its Latin fold. ``confusable``:
    the Latin and Cyrillic letters that have a look-alike in the other script: they
    do not count towards a text's dominant script, so a homoglyph swap (which only
    trades such letters) never changes which way a text is folded.
    From ``disarm.normalize_confusables`` (its Latin and Cyrillic target tables of
    TR39 confusables.txt), asked once per letter; one-letter results only (``ы`` →
    ``bi`` is left alone), and digits are never a target (``б`` is not ``6``).
    """
    from disarm import normalize_confusables

    def one(ch: str, target: str) -> str | None:
        out = normalize_confusables(ch, target_script=target)
        if out == ch or len(out) != 1 or not out.isalpha():
            return None
        out = _strip(out)
        return out if len(out) == 1 and out != ch.lower() and script_name(out) == target.upper() else None

    letters = set()
    for cp in range(0x110000):
        ch = chr(cp)
        if unicodedata.category(ch)[0] == "L" and script_name(ch) in CONFUSABLE_SCRIPTS:
            b = _strip(ch)
            if len(b) == 1 and b.isalpha():
                letters.add(b)
    to_latin: dict[str, str] = {}
    to_cyrillic: dict[str, str] = {}
    for b in sorted(letters):
        t = one(b, "latin") or one(b.upper(), "latin")
        if t:
            to_latin[b] = t
    for b in sorted(letters):
        if script_name(b) == "CYRILLIC":
            continue
        latin = to_latin.get(b, b)
        t = one(b.upper(), "cyrillic") or one(b, "cyrillic")
        t = t or one(latin.upper(), "cyrillic") or one(latin, "cyrillic")
        if t or b in to_latin:
            to_cyrillic[b] = t or latin
    # pairs of a Cyrillic letter and an ASCII one: the swaps seen in the wild (exotic Latin
    # letters such as ᴎ would make nearly every Cyrillic letter a "look-alike")
    confusable = {
        c
        for pair in (*to_latin.items(), *to_cyrillic.items())
        if {script_name(pair[0]), script_name(pair[1])} == {"LATIN", "CYRILLIC"} and any(x.isascii() for x in pair)
        for c in pair
    }
    return to_latin, to_cyrillic, frozenset(confusable)


def _greek_capitals() -> dict[int, tuple[str, str | None]]:
    """Greek capital letters that look like a Latin capital: code point -> (Latin, Cyrillic twin or None), lower case.

    Every other letter folds by its lower case, so that upper- and lower-case copies
    stay equal; Greek capitals are the exception because their lower cases look like
    other Latin letters (Η/η: H/n, Μ/μ: M/u, Ν/ν: N/v, Υ/υ: Y/u), and Greek in a Latin
    text is a homoglyph far more often than Greek text: a genuine Greek text in capitals
    and the same in lower case may fold apart.
    """
    from disarm import normalize_confusables

    out = {}
    for cp in range(0x370, 0x2000):
        ch = chr(cp)
        if not unicodedata.name(ch, "").startswith("GREEK CAPITAL LETTER"):
            continue
        bare = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        lat = normalize_confusables(bare, target_script="latin")
        if len(lat) == 1 and lat.isascii() and lat.isalpha():
            cyr = normalize_confusables(bare, target_script="cyrillic")
            out[cp] = (lat.lower(), cyr.lower() if len(cyr) == 1 and script_name(cyr) == "CYRILLIC" else None)
    return out


@lru_cache(maxsize=1)
def _tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-code-point maps, built once per process (about a second).

    Returns ``(maps, second, script)``: ``maps[v, cp]`` is the code point
    ``cp`` becomes under variant ``v`` (``DELETE`` or ``SPACE`` included),
    ``second[v, cp]`` a second code point where one letter becomes two
    (ß → ss; Cyrillic я → ya when transliterating), else 0;
    ``script[cp]`` is 1 for a Latin letter, 2 for a Cyrillic one, 3 and 4 for those
    with a look-alike in the other script (``confusable_folds``), else 0.
    """
    n = 0x110000
    to_latin, to_cyrillic, confusable = confusable_folds()
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
            stripped = _strip(ch)
            if len(stripped) == 1:
                base[cp] = ord(stripped)
            elif len(ch.lower()) == 1:
                base[cp] = ord(ch.lower())
            name = unicodedata.name(ch, "")
            script[cp] = 1 if name.startswith("LATIN") else 2 if name.startswith("CYRILLIC") else 0
            if script[cp] and chr(base[cp]) in confusable:
                script[cp] += 2  # 3, 4: a Latin or Cyrillic letter with a look-alike in the other script
        elif cat[0] != "N":
            base[cp] = SPACE  # punctuation, symbols (emoji), separators, controls
    for ch in _FILLERS:
        base[ord(ch)] = SPACE
    maps = np.stack([base, base.copy(), base.copy()])
    second = np.zeros_like(maps)  # a second code point, for the few letters that become two
    valid = base < n
    clipped = np.where(valid, base, 0)

    def fold(v: int, mapping: dict[str, str]) -> None:
        # keyed on the stripped lower-case letter, so both cases and every
        # accented form follow it (Ѐ, ѐ → е → e); one vectorised pass per table
        remap = np.arange(n, dtype=np.uint32)
        for src, dst in mapping.items():
            remap[ord(src)] = ord(dst) if dst else DELETE
        hit = valid & (remap[clipped] != clipped)
        maps[v, hit] = remap[clipped[hit]]

    common = {**_ARABIC, _DELETE: "", **_LATIN_EXTRA}
    fold(LATIN, {**to_latin, **common})
    fold(CYRILLIC, {**to_cyrillic, **common})
    # Azerbaijani Cyrillic to Latin: a Latin look-alike goes through its Cyrillic twin (p → р → r);
    # one without an Azerbaijani letter stays itself; other Cyrillic look-alikes (ѕ, ԁ) become Latin
    az = {c: t for c, t in to_latin.items() if script_name(c) == "CYRILLIC"}
    for src, cyr in to_cyrillic.items():
        az[src] = _AZ_CYRILLIC_TO_LATIN.get(cyr) or (src if script_name(src) == "LATIN" else to_latin.get(src, cyr))
    fold(CYRILLIC_AZ, {**az, **_AZ_CYRILLIC_TO_LATIN, **{c: "" for c in _AZ_DELETE}, **common})
    for cp, (lat, cyr) in _greek_capitals().items():
        # Greek capitals fold as what they look like (Η is H, Υ is Y), not as their lower case (η is n, υ is u)
        maps[LATIN, cp] = ord(lat)
        maps[CYRILLIC, cp] = ord(cyr or lat)
        maps[CYRILLIC_AZ, cp] = ord(_AZ_CYRILLIC_TO_LATIN.get(cyr or "", lat))
    for v, pairs in ((LATIN, _TWO), (CYRILLIC, _TWO), (CYRILLIC_AZ, {**_TWO, **_AZ_MULTI})):
        for src, (one, two) in pairs.items():
            sel = base == ord(src)
            maps[v, sel] = ord(one)
            second[v, sel] = ord(two)
    for t in (maps, second, script):
        t.setflags(write=False)
    return maps, second, script


@lru_cache(maxsize=1)
def latin_translation() -> dict[int, str | None]:
    """``str.translate`` table of the Latin fold (variant LATIN) for letters, digits, marks and format characters.

    The per-post columnar path is ``normalise``/``skeleton``; this is the same
    table for code that holds a few Python strings (impersonation: handles and
    names). Built once from ``_tables``; characters left out map to themselves.
    """
    maps, second, _ = _tables()
    cps = np.flatnonzero((maps[LATIN] != np.arange(maps.shape[1])) & (maps[LATIN] != SPACE))
    out: dict[int, str | None] = {}
    for cp in cps.tolist():
        m = int(maps[LATIN, cp])
        out[cp] = None if m == DELETE else chr(m) + (chr(second[LATIN, cp]) if second[LATIN, cp] else "")
    for ch in _FILLERS:
        out[ord(ch)] = " "
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
    # a slice at a time (three regex passes over 8M texts at once held three copies of them, 3.4 GiB),
    # THREADS slices at once: the regexes and the numpy fold release the GIL (2M texts on 2 cores:
    # 6.6 s in 64 MB slices one by one, 3.0 s in 16 MB slices on two threads)
    slices = []
    for piece in texts.chunks if chunked else [texts]:
        step = max(1, min(NORMALISE_CHARS // _mean_bytes(piece), max(MIN_SLICE, -(-len(piece) // THREADS))))
        slices.extend(piece.slice(start, step) for start in range(0, len(piece), step))
    out = []
    for done, folded in enumerate(in_order(partial(_normalise_slice, az_latin=az_latin), slices, THREADS), 1):
        out.extend(folded)
        if len(slices) > 1:
            detail(f"folding texts {done}/{len(slices)}")
    if chunked:
        return pa.chunked_array(out, pa.string())
    return pa.concat_arrays(out) if out else pa.array([], pa.string())


def _normalise_slice(t: pa.Array, az_latin: bool) -> list[pa.Array]:
    t = pc.replace_substring_regex(t, URL_RE, " ")
    t = pc.replace_substring_regex(t, MENTION_RE, " ")
    t = pc.replace_substring_regex(t, RT_RE, " ")
    return _fold_array(t, az_latin)


def normalise_repeated(texts: pa.Array | pa.ChunkedArray, *, az_latin: bool = False) -> pa.DictionaryArray:
    """``normalise`` of texts that repeat, each distinct text folded once: a dictionary array (indices per
    row, the normalised distinct texts as its dictionary; two texts may normalise alike). NULL stays NULL.

    A case's posts repeat their texts (retweets carry their original's, an operation posts the same
    message thousands of times): at 10M posts folding every row took 40-57 s a pass. Read the strings
    with ``dictionary.take(indices)`` where a plain column is needed.
    """
    if texts.type != pa.string():
        texts = texts.cast(pa.string())
    indices, distinct = distinct_texts(texts)
    return pa.DictionaryArray.from_arrays(indices, normalise(distinct, az_latin=az_latin))


def distinct_texts(texts: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """(each row's index among the distinct texts, NULL for NULL; the distinct texts in order of first
    appearance): what ``pc.dictionary_encode`` gives, without its hash table.

    At 10M posts (8M distinct texts) ``dictionary_encode`` took 27 s and the ``combine_chunks`` before it
    8 s. Here DuckDB hashes the texts on all cores (64 bits each), numpy sorts the hashes, and the rows
    that share a hash are compared with their first text, byte for byte: two texts merge only when equal.
    Should two different texts ever share a hash, ``dictionary_encode`` does the work instead.
    """
    if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
        texts = texts.cast(pa.string())
    n = len(texts)
    valid = texts.is_valid().to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(valid)
    detail(f"distinct texts among {n:,}: hashing")
    hashes = _hashes(texts)[rows]
    detail(f"distinct texts among {n:,}: sorting")
    order = np.argsort(hashes, kind="stable")  # equal hashes keep their rows' order: the first is the first
    ordered = hashes[order]
    starts = np.ones(ordered.size, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    group = np.cumsum(starts) - 1  # per sorted row: its hash's rank
    first = rows[order[starts]]  # per hash: the row it first appears in
    by_appearance = np.argsort(first, kind="stable")
    rank = np.empty(first.size, dtype=np.int64)
    rank[by_appearance] = np.arange(first.size)
    ids = np.full(n, -1, dtype=np.int32)
    ids[rows[order]] = rank[group]
    detail(f"distinct texts among {n:,}: {first.size:,} found, checking repeats")
    distinct = _take_ascending(texts, first[by_appearance])
    repeats = np.sort(rows[order[~starts]])  # rows that are not the first of their hash: compared with it
    if repeats.size:
        same = pc.equal(_take_ascending(texts, repeats), distinct.take(pa.array(ids[repeats])))
        if not pc.all(same).as_py():  # a 64-bit collision between different texts: exact hashing instead
            whole = texts.cast(pa.large_string())  # one array, even past 2 GiB of text
            posted = pc.dictionary_encode(whole.combine_chunks() if isinstance(whole, pa.ChunkedArray) else whole)
            return posted.indices, posted.dictionary.cast(texts.type)
    return pa.array(ids, mask=~valid), distinct


def _hashes(texts: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each text (uint64), DuckDB's, on all cores."""
    from ..duck import registered, scratch

    with scratch() as con, registered(con, _texts=pa.table({"t": texts})):
        return con.sql("SELECT hash(t) AS h FROM _texts").to_arrow_table()["h"].to_numpy()


def _take_ascending(texts: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """``texts.take(rows)`` for ascending ``rows``, one chunk at a time (no copy of the whole column)."""
    if isinstance(texts, pa.Array):
        return texts.take(pa.array(rows))
    parts, start = [], 0
    for chunk in texts.chunks:
        lo, hi = np.searchsorted(rows, [start, start + len(chunk)])
        if hi > lo:
            parts.append(chunk.take(pa.array(rows[lo:hi] - start)))
        start += len(chunk)
    return pa.concat_arrays(parts) if parts else pa.array([], texts.type)


def plain(norm: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """A string column from ``normalise_repeated``'s dictionary array (other arrays as they are)."""
    if pa.types.is_dictionary(norm.type):
        if isinstance(norm, pa.ChunkedArray):
            return pa.chunked_array([plain(c) for c in norm.chunks], pa.string())
        return norm.dictionary.take(norm.indices)
    return norm


def skeleton(texts: pa.Array | pa.ChunkedArray, *, az_latin: bool = False) -> pa.ChunkedArray:
    """The per-character folding (steps 2-7) without URL and mention removal: for names and bios."""
    pieces = texts.chunks if isinstance(texts, pa.ChunkedArray) else [texts]
    return pa.chunked_array([p for piece in pieces for p in _fold_array(piece, az_latin)], pa.string())


def _fold_array(arr: pa.Array, az_latin: bool) -> list[pa.Array]:
    """The fold of ``arr``: ASCII texts by ``_fold_ascii``, the others through the code-point tables."""
    ascii_ = pc.string_is_ascii(arr).fill_null(True).to_numpy(zero_copy_only=False)
    if ascii_.all():
        return [_fold_ascii(arr)]
    if ascii_.any():  # fold each part its way, then put the rows back in order
        other = np.flatnonzero(~ascii_)
        parts = [_fold_ascii(arr.filter(pa.array(ascii_))), *_fold_tables(arr.take(pa.array(other)), az_latin)]
        order = np.empty(len(arr), np.int64)
        order[np.flatnonzero(ascii_)] = np.arange(len(arr) - len(other))
        order[other] = np.arange(len(arr) - len(other), len(arr))
        return [pa.concat_arrays(parts).take(pa.array(order))]
    return _fold_tables(arr, az_latin)


def _fold_ascii(arr: pa.Array) -> pa.Array:
    """The fold of pure-ASCII texts, byte-wise in numpy: exactly what the tables give them.

    Under every table variant an ASCII letter or digit becomes its lower case (a text without
    Cyrillic letters is folded to Latin, and no ASCII character folds to another letter or
    deletes), everything else a space; runs of spaces fold to one, none at either end
    (tests/test_enrich_fast.py checks this against the tables for every ASCII character).
    """
    step = max(1, CHUNK_CHARS // max(1, _mean_bytes(arr)))
    if len(arr) <= step:
        return _fold_ascii_chunk(arr)
    return pa.concat_arrays([_fold_ascii_chunk(arr.slice(i, step)) for i in range(0, len(arr), step)])


def _fold_ascii_chunk(arr: pa.Array) -> pa.Array:
    n = len(arr)
    if n == 0:
        return pa.array([], pa.string())
    bufs = arr.buffers()
    offs = np.frombuffer(bufs[1], dtype=np.int32)[arr.offset : arr.offset + n + 1].astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    data = data[offs[0] : offs[-1]]
    offs = offs - offs[0]
    size = data.size
    mapped = _ASCII_FOLD[data]
    word = mapped != SPACE
    # a space is kept only when a word byte of the same text follows it (runs fold, no trailing space)
    follows = np.zeros(size, dtype=bool)
    follows[:-1] = word[1:]
    follows[offs[1:-1][offs[1:-1] < size] - 1] = False  # ... of the same text: not the next text's first byte
    keep = word | follows
    kept = np.zeros(size + 1, dtype=np.int32)
    np.cumsum(keep.view(np.uint8), dtype=np.int32, out=kept[1:])
    out = mapped[keep]
    new_offs = kept[offs]
    # and no leading space: a text whose first kept byte is a space loses it
    first = new_offs[:-1]
    lead = (new_offs[1:] > first) & (out[np.minimum(first, out.size - 1)] == SPACE) if out.size else None
    if lead is not None and lead.any():
        drop = np.zeros(out.size, dtype=bool)
        drop[first[lead]] = True
        out = out[~drop]
        new_offs = new_offs - np.concatenate(([0], np.cumsum(lead)))
    result = pa.StringArray.from_buffers(n, pa.py_buffer(new_offs.astype(np.int32)), pa.py_buffer(out))
    if arr.null_count:
        result = pc.if_else(arr.is_valid(), result, pa.scalar(None, pa.string()))
    return result


# ASCII byte -> its fold (letters and digits lower case, everything else a space)
_ASCII_FOLD = np.array(
    [ord(chr(b).lower()) if chr(b).isalnum() else int(SPACE) for b in range(128)] + [int(SPACE)] * 128, np.uint8
)


def _fold_tables(arr: pa.Array, az_latin: bool) -> list[pa.Array]:
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
    # dominant script per text: more Cyrillic letters than Latin ones, counting only letters
    # without a look-alike in the other script. A homoglyph swap trades only letters that have
    # one, so it never changes which way a text is folded; a text of look-alikes only (it reads
    # the same in both scripts) is folded to Latin
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
    # each text's bytes end where its last character's do: a running sum read at the character
    # offsets (a weighted bincount over a text id per character took most of this function)
    wide = np.int32 if cp.size < 2**29 else np.int64  # at most 4 bytes a character: int32 cannot overflow
    byte_offs = np.concatenate(([0], np.cumsum(nb, dtype=wide)))[np.asarray(offs, np.int64)]
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
