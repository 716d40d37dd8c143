"""Shared building blocks: columnar helpers, the account and post accumulators, ids and handles.

Low-level pieces every other module uses: date and id formatting, Zipf
weights, Arrow string helpers that compose texts, hashtags and t.co links;
``_Accounts`` and ``_Posts``, which gather accounts and X posts as column
blocks (each post tagged with one of ``_ROLES``); per-language scattering and
local-time draws; X snowflake ids for posts and accounts; opaque ids and
organic and crew handles for TikTok and YouTube; and ``_string_bytes``, which
the writers use to write Arrow strings straight from their buffers.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .params import _DAY, _SNOWFLAKE_EPOCH_MS
from .words import _DIURNAL, _OP_FULLNAMES, LANGS

# --------------------------------------------------------------------------
# Small columnar helpers
# --------------------------------------------------------------------------


def _ts(d: dt.date) -> int:
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())


def _base36(i: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        i, r = divmod(int(i), 36)
        out = digits[r] + out
        if not i:
            return out


def _iso(s: int) -> str:
    return dt.datetime.fromtimestamp(int(s), dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zipf_p(n: int, s: float = 0.9) -> np.ndarray:
    p = 1.0 / np.arange(1, n + 1) ** s
    return p / p.sum()


def _join(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and scalars."""
    return pc.binary_join_element_wise(*parts, "")


def _pick(
    rng: np.random.Generator, values: tuple[str, ...] | list[str], n: int, p: np.ndarray | None = None
) -> pa.Array:
    return pa.array(list(values), pa.string()).take(pa.array(rng.choice(len(values), n, p=p)))


def _compose(rng: np.random.Generator, words: tuple[str, ...], n: int, lo: int, hi: int) -> pa.Array:
    """n texts of lo..hi words drawn with Zipf weights (common words first), capitalised."""
    lengths = rng.integers(lo, hi + 1, n)
    flat = rng.choice(len(words), int(lengths.sum()), p=_zipf_p(len(words)))
    offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32))
    lists = pa.ListArray.from_arrays(offsets, pa.array(list(words), pa.string()).take(pa.array(flat)))
    return pc.utf8_capitalize(pc.binary_join(lists, " "))


def _concat(parts: list) -> pa.Array:
    """One array of ``parts`` (cast to the first one's type). At a few million posts pyarrow's kernels
    may hand back chunked arrays: their chunks are arrays."""
    chunks = [c for p in parts for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
    return pa.concat_arrays([c.cast(chunks[0].type) for c in chunks])


def _tags_text(tags: pa.ListArray) -> pa.Array:
    """' #a #b' for each list of hashtags ('' for none)."""
    joined = pc.binary_join(tags, " #")
    return pc.if_else(pc.equal(joined, ""), "", _join(" #", joined))


def _tco(rng: np.random.Generator, n: int) -> pa.Array:
    alphabet = np.array(list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    codes = np.ascontiguousarray(alphabet[rng.integers(0, 62, (n, 10))]).view("<U10").ravel()
    return pc.binary_join_element_wise("https://t.co/", pa.array(codes, pa.string()), "")


def _url_lists(rng: np.random.Generator, expanded: pa.Array, has: np.ndarray) -> tuple[pa.Array, pa.Array]:
    """(list<struct<url, expanded_url>>, ' https://t.co/..' text) with one link where ``has``."""
    n = len(has)
    tco = _tco(rng, n)
    counts = has.astype(np.int32)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    idx = pa.array(np.flatnonzero(has))
    # at a few million posts pyarrow may hand back chunked arrays; a struct needs plain ones
    url, exp = (
        a.combine_chunks() if isinstance(a, pa.ChunkedArray) else a for a in (tco.take(idx), expanded.take(idx))
    )
    structs = pa.StructArray.from_arrays([url, exp], ["url", "expanded_url"])
    text = pc.if_else(pa.array(has), _join(" ", tco), "")
    return pa.ListArray.from_arrays(offsets, structs), text


def _random_urls(
    rng: np.random.Generator, domains: tuple[str, ...] | list[str], n: int, p: np.ndarray | None = None
) -> pa.Array:
    sections = ("news", "article", "story", "p", "watch", "blog", "2024")
    num = pa.array(rng.integers(100_000, 9_999_999, n).astype(str), pa.string())
    utm = pc.if_else(pa.array(rng.random(n) < 0.2), "?utm_source=twitter&utm_medium=social", "")
    return _join("https://", _pick(rng, domains, n, p), "/", _pick(rng, sections, n), "/", num, utm)


def _tag_lists(rng: np.random.Generator, pool: tuple[str, ...], n: int, k_max: int, share: float) -> pa.Array:
    """Lists of 0..k_max distinct hashtags from ``pool`` (Zipf), on a ``share`` of the rows."""
    k = np.where(rng.random(n) < share, rng.integers(1, k_max + 1, n), 0)
    draws = rng.choice(len(pool), (n, k_max), p=_zipf_p(len(pool), 1.1))
    keep = np.arange(k_max)[None, :] < k[:, None]
    for j in range(1, k_max):  # drop repeats within a row
        keep[:, j] &= ~(draws[:, j][:, None] == draws[:, :j]).any(axis=1)
    counts = keep.sum(axis=1)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(list(pool), pa.string()).take(pa.array(draws[keep])))


def _list_of(values: list[list[str]]) -> pa.Array:
    return pa.array(values, pa.list_(pa.string()))


_URL_T = pa.list_(pa.struct([("url", pa.string()), ("expanded_url", pa.string())]))


def _empty_lists(n: int, type_: pa.DataType) -> pa.Array:
    return pa.ListArray.from_arrays(pa.array(np.zeros(n + 1, np.int32)), pa.array([], type_.value_type))


def _string_bytes(arr: pa.Array) -> memoryview:
    """The concatenated values of a string array, from its data buffer (no per-value copies)."""
    width = 8 if pa.types.is_large_string(arr.type) else 4
    offsets = np.frombuffer(
        arr.buffers()[1], dtype=np.int64 if width == 8 else np.int32, count=len(arr) + 1, offset=arr.offset * width
    )
    return memoryview(arr.buffers()[2])[int(offsets[0]) : int(offsets[-1])]


# --------------------------------------------------------------------------
# Accumulators: accounts and posts as column blocks, concatenated at the end
# --------------------------------------------------------------------------


_ROLES = ("organic", "genuine", "fan", "copypaste", "run", "burst", "amplifier", "impersonator")


class _Accounts:
    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.n = 0

    def add(self, **cols: Any) -> np.ndarray:
        k = len(cols["username"])
        self.blocks.append(cols)
        idx = np.arange(self.n, self.n + k)
        self.n += k
        return idx

    def column(self, name: str) -> Any:
        parts = [b[name] for b in self.blocks]
        if isinstance(parts[0], np.ndarray):
            return np.concatenate(parts)
        return pa.array([x for part in parts for x in part], pa.string())


class _Posts:
    """Skeleton posts: author index, time, kind, parent index, body and entities."""

    def __init__(self) -> None:
        self.blocks: list[dict[str, Any]] = []
        self.n = 0

    def add(
        self,
        role: str,
        s: np.ndarray,
        author: np.ndarray,
        body: pa.Array | None,
        lang: pa.Array,
        tags: pa.Array | None = None,
        urls: pa.Array | None = None,
        parent: np.ndarray | None = None,
        kind: str = "post",
        client: pa.Array | None = None,
    ) -> np.ndarray:
        k = len(s)
        if k == 0:
            return np.arange(0)
        self.blocks.append(
            dict(
                s=np.asarray(s, np.int64),
                author=np.asarray(author, np.int64),
                kind=np.full(k, {"post": 0, "repost": 1, "reply": 2}[kind], np.int8),
                parent=np.full(k, -1, np.int64) if parent is None else np.asarray(parent, np.int64),
                body=body if body is not None else pa.nulls(k, pa.string()),
                lang=lang,
                tags=tags if tags is not None else _empty_lists(k, pa.list_(pa.string())),
                urls=urls if urls is not None else _empty_lists(k, _URL_T),
                client=client if client is not None else pa.repeat("Twitter Web App", k),
                role=np.full(k, _ROLES.index(role), np.int8),
            )
        )
        idx = np.arange(self.n, self.n + k)
        self.n += k
        return idx

    def col(self, name: str) -> Any:
        parts = [b[name] for b in self.blocks]
        if isinstance(parts[0], np.ndarray):
            return np.concatenate(parts)
        return _concat(parts)


# --------------------------------------------------------------------------
# Per-language texts and local times
# --------------------------------------------------------------------------


def _local_times(rng: np.random.Generator, n: int, start: int, days: int, offset: np.ndarray) -> np.ndarray:
    """UTC seconds of n posts whose local hour follows the diurnal profile, inside the window."""
    day = rng.integers(0, days, n)
    hour = rng.choice(24, n, p=_DIURNAL / _DIURNAL.sum())
    local = day * _DAY + hour * 3600 + rng.integers(0, 3600, n)
    utc = local - (offset * 3600).astype(np.int64)
    return start + np.mod(utc, days * _DAY)


def _by_lang(langs: np.ndarray, make: Any) -> pa.Array:
    """Call ``make(code, k)`` once per language and scatter its k values back to the rows of that language."""
    parts, where = [], []
    for code in LANGS:
        m = np.flatnonzero(langs == code)
        if len(m):
            parts.append(make(code, len(m)))
            where.append(m)
    if not parts:
        return pa.array([], pa.string())
    back = np.empty(len(langs), np.int64)
    back[np.concatenate(where)] = np.arange(len(langs))
    return _concat(parts).take(pa.array(back))


def _texts_by_lang(rng: np.random.Generator, langs: np.ndarray, lo: int, hi: int, words_of: str = "words") -> pa.Array:
    """One composed text per row in the row's language."""
    return _by_lang(langs, lambda code, k: _compose(rng, getattr(LANGS[code], words_of), k, lo, hi))


# --------------------------------------------------------------------------
# Ids and handles
# --------------------------------------------------------------------------


def _post_ids(posts: _Posts) -> np.ndarray:
    """Snowflake ids from the post time and the post's index: the index's low 22 bits are the sequence,
    its higher bits move the id's millisecond within the post's second (0 below 4,194,304 posts, so
    smaller worlds keep their ids), so every id is unique below 2**22 x 1,000 posts."""
    s = posts.col("s")
    idx = np.arange(len(s), dtype=np.int64)
    ids = ((s * 1000 + (idx >> 22) - _SNOWFLAKE_EPOCH_MS) << 22) | (idx & 0x3FFFFF)
    if len(np.unique(ids)) != len(ids):  # only past 4 billion posts
        raise ValueError("post id collision; generate fewer posts per second")
    return ids


def _user_ids(acc: _Accounts) -> np.ndarray:
    """Snowflake ids for accounts created after 2010-11 (X's practice); small sequential ids before."""
    created = acc.column("created")
    idx = np.arange(len(created), dtype=np.int64)
    snow = ((created * 1000 - _SNOWFLAKE_EPOCH_MS) << 22) | (idx & 0x3FFFFF)
    return np.where(created * 1000 > _SNOWFLAKE_EPOCH_MS + 86_400_000, snow, 14_000_000 + idx * 37)


_URLSAFE = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"))


def _random_ids(rng: np.random.Generator, n: int, width: int, prefix: str = "", suffix: str = "") -> list[str]:
    """n distinct opaque ids of ``width`` URL-safe characters (YouTube video, channel and comment ids)."""
    codes = np.ascontiguousarray(_URLSAFE[rng.integers(0, 64, (n, width))]).view(f"<U{width}").ravel()
    if len(np.unique(codes)) != n:  # 64**width: never in practice; a clear error rather than a silent merge
        raise ValueError("random id collision; use another seed")
    return [prefix + c + suffix for c in codes.tolist()]


def _handles(rng: np.random.Generator, langs: np.ndarray, seps: tuple[str, ...], capital_share: float) -> list[str]:
    """Organic handles from the language's names, some capitalised, unique ignoring case (per account: few)."""
    out, seen = [], set()
    for i, code in enumerate(langs.tolist()):
        L = LANGS[code]
        first, _ = L.names[int(rng.integers(len(L.names)))]
        last, _ = L.surnames[int(rng.integers(len(L.surnames)))]
        sep = seps[int(rng.integers(len(seps)))]
        tail = str(int(rng.integers(1, 10_000))) if rng.random() < 0.6 else ""
        h = f"{first}{sep}{last}{tail}"
        if rng.random() < capital_share:
            h = f"{first.capitalize()}{sep}{last.capitalize()}{tail}"
        if h.lower() in seen:
            h = f"{h}_{_base36(i)}"
        seen.add(h.lower())
        out.append(h)
    return out


def _crew_handles(rng: np.random.Generator, n: int, sep: str, width: int) -> list[str]:
    """The crew's templated handles: first name + sep + digits; the digits are a bijection of the index."""
    span = 9 * 10 ** (width - 1)
    shift = int(rng.integers(0, span))
    first = [_OP_FULLNAMES[i][0] for i in rng.integers(0, len(_OP_FULLNAMES), n)]
    return [f"{h}{sep}{10 ** (width - 1) + (i * 7919 + shift) % span}" for i, h in enumerate(first)]


def _people(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(language, UTC offset) of n organic users, with the X crowd's language shares and zones."""
    codes = list(LANGS)
    shares = np.array([LANGS[c].share for c in codes])
    lang = np.array(codes)[rng.choice(len(codes), n, p=shares / shares.sum())]
    offset = np.zeros(n)
    for code in codes:  # per language
        m = lang == code
        offs, sh = zip(*LANGS[code].utc_offsets)
        offset[m] = rng.choice(offs, int(m.sum()), p=np.array(sh) / sum(sh))
    return lang, offset
