"""X (Twitter) API v2 JSON: twarc2 response pages and one-tweet-per-line JSONL.

Accepted line shapes (mixed freely within a file):

- a twarc2 page: ``{"data": [tweet...], "includes": {"users": [...],
  "tweets": [...], "media": [...]}, "meta": ..., "__twarc": ...}``;
- a single-tweet lookup response: ``{"data": {tweet}, "includes": ...}``;
- one tweet per line, as ``twarc2 flatten`` writes it (``author`` and
  referenced tweets embedded) or a bare v2 tweet object.

Each tweet of ``data`` is a record; tweets in ``includes.tweets`` (the
originals of retweets, quotes and replies) are stored as posts too, so the
parent's text and author are known. Records are numbered by line; a reason
names the tweet's position in the page. An empty page (``result_count`` 0)
holds no record.

Kind: ``referenced_tweets`` type ``retweeted`` → repost, ``replied_to`` →
reply, ``quoted`` → quote (a quote that is also a reply is a reply).
``created_at`` carries its zone ("Z"), converted to UTC.

Why this module is long: it holds both readers of one format, the fast
columnar path (pyarrow parses whole segments) and the exact per-record path
it falls back to, and the tests compare the two on the same files. Apart,
the two would drift.
"""

from __future__ import annotations

import json
import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from .. import store
from .base import Batch, Quarantine, ReadOptions, make_batch, read_ahead
from .compressed import is_packed
from .jsonsql import quarantine_where, register_records, utc
from .lines import iter_lines

NAME = "x_v2"
DESCRIPTION = "X API v2 JSON lines: twarc2 pages (data + includes) or one tweet per line"


_BOM = b"\xef\xbb\xbf"


def sniff(path: Path, head: bytes) -> bool:
    first = head.removeprefix(_BOM).lstrip().split(b"\n", 1)[0]
    if not first.startswith(b"{"):
        return False
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):  # longer than the head, or nested too deep to parse: look for v2 keys
        return b'"author_id"' in first or (b'"data"' in first and b'"includes"' in first)
    if not isinstance(obj, dict):
        return False
    data = obj.get("data")
    if isinstance(data, list):
        data = data[0] if data else {}
    if isinstance(data, dict) and "id" in data and ("text" in data or "author_id" in data):
        return True
    return "id" in obj and "text" in obj and ("author_id" in obj or "edit_history_tweet_ids" in obj)


_USER = (
    '{"id": "VARCHAR", "username": "VARCHAR", "name": "VARCHAR", "description": "VARCHAR", '
    '"created_at": "VARCHAR", "location": "VARCHAR", "verified": "BOOLEAN", "profile_image_url": "VARCHAR", '
    '"public_metrics": {"followers_count": "BIGINT", "following_count": "BIGINT", "tweet_count": "BIGINT"}}'
)
# Each tweet is parsed once into this struct (DuckDB's JSON functions re-parse
# the text on every call, so per-field json_extract would parse it ~25 times).
# A field of an unexpected type becomes NULL rather than failing the batch.
_TWEET_BODY = (  # a tweet as a page nests it (data[], includes.tweets[])
    '{"id": "VARCHAR", "text": "VARCHAR", "author_id": "VARCHAR", "created_at": "VARCHAR", "lang": "VARCHAR", '
    '"note_tweet": {"text": "VARCHAR"}, "source": "VARCHAR", "in_reply_to_user_id": "VARCHAR", '
    '"referenced_tweets": [{"type": "VARCHAR", "id": "VARCHAR", "author_id": "VARCHAR"}], '
    '"entities": {"hashtags": [{"tag": "VARCHAR"}], '
    '"urls": [{"url": "VARCHAR", "expanded_url": "VARCHAR", "unwound_url": "VARCHAR"}], '
    '"mentions": [{"username": "VARCHAR"}]}, '
    '"attachments": {"media_keys": ["VARCHAR"]}, '
    '"public_metrics": {"like_count": "BIGINT", "retweet_count": "BIGINT", "reply_count": "BIGINT", '
    '"quote_count": "BIGINT", "impression_count": "BIGINT"}}'
)
# A line that is a tweet itself may embed its author (twarc2 flatten). Only there: the
# nested tweets of a page carry author_id, and an author field in every nested tweet
# cost the parser a tenth of its time (nulls appended to the struct's 13 fields).
_TWEET = _TWEET_BODY[:-1] + f', "author": {_USER}}}'

# One parse per line: the whole line into typed structs (DuckDB's JSON
# functions re-parse the text on every call). TRY turns an unparseable line
# into NULL; only those lines are examined again, to say why.
# A line is a page (data, includes, ...) or a tweet itself (its fields at the top).
_LINE = (
    "{" + _TWEET[1:-1] + ', "data": [' + _TWEET_BODY + "], "
    '"includes": {"tweets": [' + _TWEET_BODY + '], "users": [' + _USER + "]}, "
    '"__twarc": {"retrieved_at": "VARCHAR"}, "meta": {"result_count": "BIGINT"}}'
)
_PARSED = f"""
CREATE OR REPLACE TEMP TABLE _parsed AS
SELECT record, raw, TRY(from_json(raw, '{_LINE}')) AS l FROM _records
"""

# The exact path's parsed lines, as the fast path's reader gives them: a single-tweet
# lookup response ({"data": {tweet}}) becomes a page of one tweet.
_EXACT_LINES = (
    "SELECT record, "
    + ", ".join(
        f"CASE WHEN l.data IS NULL AND json_type(raw, '$.data') = 'OBJECT' "
        f"THEN [from_json(json_extract(raw, '$.data'), '{_TWEET_BODY}')] ELSE l.data END AS data"
        if k == "data"
        else f'l."{k}" AS "{k}"'
        for k in json.loads(_LINE)
    )
    + " FROM _parsed ORDER BY record"
)


def _arrow_type(spec: object) -> pa.DataType:
    if isinstance(spec, str):
        return {"VARCHAR": pa.string(), "BIGINT": pa.int64(), "BOOLEAN": pa.bool_()}[spec]
    if isinstance(spec, list):
        return pa.list_(_arrow_type(spec[0]))
    return pa.struct([(k, _arrow_type(v)) for k, v in spec.items()])


# The parsed line as Arrow: pyarrow's JSON reader fills it on the fast path
# (fields not named here are skipped), DuckDB's from_json on the exact path.
_SCHEMA = pa.schema([(k, _arrow_type(v)) for k, v in json.loads(_LINE).items()])
_TWEET_KEYS = list(json.loads(_TWEET))
_KINDS = pa.array(["post", "repost", "reply", "quote"])
_REF_TYPES = pa.array(["retweeted", "replied_to", "quoted"])  # kind precedence: repost, reply, quote


FAST_SEGMENT_BYTES = 256 << 20  # the fast path's scope (memory about 1.5x this per segment in flight)
# the first segments: from this size, doubling up to FAST_SEGMENT_BYTES, so the first batch is stored (and
# the progress bar moves) in a second or two; a whole first segment kept it still 10.8 s at 10M posts
FIRST_SEGMENT_BYTES = 32 << 20


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """Segment by segment (whole lines, about FAST_SEGMENT_BYTES each): the fast path when the
    segment parses natively; else the exact path, line by line. Memory is bounded by the
    segments in flight: the next segment is parsed (a thread, with pyarrow's two) while this
    one is transformed, and the driver stores the batch before (see ingest.read_ahead).
    A compressed input streams through the exact path (the fast path maps the file)."""
    if is_packed(path):
        yield from _read_exact(path, options)
        return
    for seg in read_ahead(_parse_segments(path, options)):
        if seg.parsed is not None:
            con, pieces, _ = seg.parsed
            yield from _fast_batches(con, pieces, path, seg.lines, seg.start, seg.stop, seg.first_line)
        else:
            yield from _read_exact(path, options, seg.start, seg.stop, seg.first_line)


@dataclass
class _Segment:
    start: int
    stop: int
    first_line: int
    lines: int
    parsed: tuple | None  # (connection, flattened pieces, records) from _parse_fast; None: the exact path


def _parse_segments(path: Path, options: ReadOptions) -> Iterator[_Segment]:
    """The parse stage of ``read``: each segment parsed natively when it can be, in file order."""
    first_line = 0
    for start, stop in _segments(path):
        parsed = _parse_fast(path, options, start, stop, first_line)
        lines = parsed[2] if parsed is not None else _count_lines(path, start, stop)
        yield _Segment(start, stop, first_line, lines, parsed)
        first_line += lines


def _segments(path: Path) -> Iterator[tuple[int, int]]:
    """Byte ranges of whole lines, about FAST_SEGMENT_BYTES each (a line is never cut); the first ones
    smaller, from FIRST_SEGMENT_BYTES, twice the size each."""
    size = path.stat().st_size
    step = min(FIRST_SEGMENT_BYTES, FAST_SEGMENT_BYTES)
    with open(path, "rb") as fh:
        start = 3 if fh.read(3) == _BOM else 0  # a UTF-8 byte-order mark is not part of the first line
        while start < size:
            stop = start + step
            step = min(step * 2, FAST_SEGMENT_BYTES)
            if stop < size:
                fh.seek(stop)
                while True:  # on to the end of the line the cut falls in
                    block = fh.read(1 << 20)
                    if not block:
                        stop = size
                        break
                    nl = block.find(b"\n")
                    if nl >= 0:
                        stop += nl + 1
                        break
                    stop += len(block)
            stop = min(stop, size)
            yield start, stop
            start = stop


def _count_lines(path: Path, start: int, stop: int) -> int:
    """Lines in a segment, blank ones included (record numbers are line numbers)."""
    n, last = 0, b"\n"
    with open(path, "rb") as fh:
        fh.seek(start)
        left = stop - start
        while left > 0 and (block := fh.read(min(left, 1 << 20))):
            n += block.count(b"\n")
            left -= len(block)
            last = block[-1:]
    return n + (last != b"\n")


# -- the exact path: DuckDB parses line by line; bad lines are quarantined with their text ----


def _read_exact(
    path: Path, options: ReadOptions, start: int = 0, stop: int | None = None, first_line: int = 0
) -> Iterator[Batch]:
    q = Quarantine(str(path))
    con = store.connect()
    for chunk in iter_lines(path, q, options.batch_bytes, options.max_record_bytes, start, stop, first_line):
        register_records(con, chunk.numbers, chunk.lines)
        con.execute(_PARSED)
        quarantine_where(
            con,
            q,
            "_parsed",
            "CASE WHEN l IS NOT NULL THEN NULL "
            "WHEN NOT json_valid(raw) THEN 'invalid JSON (truncated or malformed record)' "
            "ELSE 'not a JSON object (found ' || lower(json_type(raw::JSON)) || ')' END",
            "raw",
        )
        # JSON, but no tweet at all; an empty page (result_count 0) holds no record
        quarantine_where(
            con,
            q,
            "_parsed",
            "CASE WHEN l.data IS NOT NULL OR l.id IS NOT NULL OR l.meta.result_count = 0 THEN NULL "
            "WHEN json_type(raw, '$.data') = 'OBJECT' THEN NULL "
            "ELSE 'no tweet in record: expected a v2 page with data[] or a tweet object with id' END",
            "raw",
        )
        parsed = con.sql(_EXACT_LINES).to_arrow_table()
        lines = pa.Table.from_arrays([parsed[f.name].cast(f.type) for f in _SCHEMA], schema=_SCHEMA)
        tweets, ok, users = _finish(con, [_flatten(con, lines, parsed["record"].to_numpy())], q)
        yield make_batch(
            _posts_out(tweets.filter(pa.array(ok)), path), _accounts(con, users, path), q, chunk.bytes_done
        )
    if len(q):  # bad lines after the last good chunk (e.g. an oversized last line)
        yield make_batch(None, None, q, path.stat().st_size if stop is None else stop)
    con.close()


# -- the fast path: pyarrow parses the whole file (C++, two threads), checked line by line ----

FAST_BLOCK_BYTES = 16 << 20  # pyarrow's parse unit at most; a line longer than the unit takes the exact path


def _block_bytes(options: ReadOptions) -> int:
    """pyarrow's parse unit: large (fewer, bigger pieces to transform), but no larger than a record may be
    (a longer line is not read natively anyway), so the buffers Python holds stay near the stated limit."""
    return max(1 << 20, min(FAST_BLOCK_BYTES, options.max_record_bytes + 2))


FAST_BATCH_POSTS = 250_000  # posts per yielded batch (one store transaction each) on the fast path


class _NotPlain(Exception):
    """The file needs the exact path (a line the native reader would read differently)."""


def _read_fast(
    path: Path, options: ReadOptions, start: int = 0, stop: int | None = None, first_line: int = 0
) -> tuple[Iterator[Batch], int] | None:
    """Parse the whole file with pyarrow's JSON reader (no Python per line).

    Only for a file whose every line is one JSON object of the expected types
    (``{`` first, ``}`` last, UTF-8, at most ``max_record_bytes``): record
    numbers are line numbers and the reader would skip blank lines. Any doubt
    (pyarrow refuses a value, a line of another shape, row count differs from
    line count) and the exact path reads the file. Scope: the whole file, as
    a chunk is on the exact path (an included tweet that is also in ``data``
    anywhere in the file is the same post; a parent's author is looked up in
    the whole file). With ``start``/``stop``, only that segment (its lines
    numbered after ``first_line``), and the segment is the scope. Returns the
    batches and the segment's line count, or None when it needs the exact path.
    """
    parsed = _parse_fast(path, options, start, stop, first_line)
    if parsed is None:
        return None
    con, pieces, records = parsed
    stop = path.stat().st_size if stop is None else stop
    return _fast_batches(con, pieces, path, records, start, stop, first_line), records


def _parse_fast(
    path: Path, options: ReadOptions, start: int = 0, stop: int | None = None, first_line: int = 0
) -> tuple | None:
    """The parse stage of _read_fast: (connection, flattened pieces, records), or None for the exact path."""
    try:
        data, lines = _checked_segment(path, options.max_record_bytes, start, stop)
    except _NotPlain:
        return None
    con = store.connect()
    pieces, records = [], 0
    try:
        reader = pj.open_json(
            pa.BufferReader(data),  # zero copy: pyarrow parses the mapped file's pages
            read_options=pj.ReadOptions(block_size=_block_bytes(options), use_threads=True),
            parse_options=pj.ParseOptions(explicit_schema=_SCHEMA, unexpected_field_behavior="ignore"),
        )
        for rb in reader:
            n = rb.num_rows
            first = first_line + records + 1
            pieces.append(_flatten(con, rb, np.arange(first, first + n, dtype=np.int64)))
            records += n
        if records != lines:
            raise _NotPlain("row count differs from line count")
    except (_NotPlain, pa.ArrowException, ValueError, UnicodeDecodeError, OSError):
        con.close()
        return None
    return con, pieces, records


def _fast_batches(con, pieces: list, path: Path, lines: int, start: int, stop: int, first_line: int) -> Iterator[Batch]:
    q = Quarantine(str(path))
    try:
        tweets, ok, users = _finish(con, pieces, q)
        del pieces[:]
        post_rec = tweets["record"].to_numpy()
        user_rec = users["record"].to_numpy()
        bounds = _record_bounds(post_rec[ok], FAST_BATCH_POSTS)
        for i, (lo, hi) in enumerate(bounds):
            take_p = ok & (post_rec >= lo) & (post_rec <= hi)
            take_u = (user_rec >= lo) & (user_rec <= hi)
            p = tweets if take_p.all() else tweets.filter(pa.array(take_p))  # one clean batch: no copy
            u = users if take_u.all() else users.filter(pa.array(take_u))
            yield make_batch(
                _posts_out(p, path),
                _accounts(con, u, path),
                q if i == 0 else None,
                start + int((stop - start) * (hi - first_line) / max(lines, 1)),
            )
        if not bounds and len(q):
            yield make_batch(None, None, q, stop)
    finally:
        con.close()


def _record_bounds(records: np.ndarray, per_batch: int) -> list[tuple[int, int]]:
    """Line ranges holding about ``per_batch`` posts each (a line is never split)."""
    if not len(records):
        return []
    lines, counts = np.unique(records, return_counts=True)
    bounds, start, n = [], None, 0
    for record, count in zip(lines.tolist(), counts.tolist()):  # one row per line, not per post
        start = record if start is None else start
        n += count
        if n >= per_batch:
            bounds.append((start, record))
            start, n = None, 0
    if start is not None:
        bounds.append((start, int(lines[-1])))
    return bounds


_SCAN_BYTES = 16 << 20  # newlines are looked for this many bytes at a time


def _checked_segment(path: Path, max_line: int, start: int = 0, stop: int | None = None) -> tuple[pa.Buffer, int]:
    """The segment's bytes, memory-mapped (no copy, no fresh pages), once checked, and its line count.

    Raises _NotPlain, before pyarrow sees the bytes, unless every line is one
    JSON object: ``{`` first, ``}`` last (a CR before the newline is fine),
    valid UTF-8, at most ``max_line`` bytes. pyarrow would read a blank line, a
    bare ``null`` or two objects on one line differently from the exact path
    (and crashes on a first line ``null``). The map lives as long as the buffer.
    """
    stop = path.stat().st_size if stop is None else stop
    if stop <= start:
        return pa.py_buffer(b""), 0
    base = start - start % mmap.ALLOCATIONGRANULARITY
    with open(path, "rb") as fh:
        mm = mmap.mmap(fh.fileno(), stop - base, access=mmap.ACCESS_READ, offset=base)
    lo, hi = start - base, stop - base
    nl = _newlines(mm, lo, hi)
    if not len(nl) or nl[-1] != hi - 1:  # a last line without its newline
        nl = np.append(nl, hi)
    buf = np.frombuffer(mm, np.uint8)
    starts = np.empty_like(nl)
    starts[0] = lo
    starts[1:] = nl[:-1] + 1
    end = nl - 1  # the last byte of each line, before a CR
    end -= buf[np.maximum(end, 0)] == 13
    if (
        (nl - starts > max_line).any() or (end <= starts).any() or (buf[starts] != 123).any() or (buf[end] != 125).any()
    ):  # '{' ... '}'
        raise _NotPlain("a line is not one JSON object or is too long")
    data = pa.py_buffer(mm).slice(lo, hi - lo)
    try:
        pa.Array.from_buffers(
            pa.large_string(), 1, [None, pa.py_buffer(np.array([0, hi - lo], np.int64)), data]
        ).validate(full=True)
    except pa.ArrowInvalid as e:
        raise _NotPlain("not valid UTF-8") from e
    return data, len(nl)


def _newlines(mm: mmap.mmap, lo: int, hi: int) -> np.ndarray:
    """Positions of the newlines in ``mm[lo:hi]``: a C-speed find per line while lines are long
    (over 2 KiB on average in a window), numpy over the window when they are short."""
    parts, scratch, pos = [], None, lo
    most = _SCAN_BYTES // 2048  # finds per window: beyond this, numpy's pass over the window is cheaper
    while pos < hi:
        end = min(hi, pos + _SCAN_BYTES)
        found = []
        i = mm.find(b"\n", pos, end)
        while i >= 0 and len(found) < most:
            found.append(i)
            i = mm.find(b"\n", i + 1, end)
        if i < 0:
            parts.append(np.array(found, np.int64))
        else:  # short lines: one pass over the window (its comparison in one reused buffer)
            scratch = np.empty(_SCAN_BYTES, np.bool_) if scratch is None else scratch
            window = np.frombuffer(mm, np.uint8, count=end - pos, offset=pos)
            parts.append(np.flatnonzero(np.equal(window, 10, out=scratch[: end - pos])) + pos)
        pos = end
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


# -- one transform for both paths: parsed lines (Arrow) -> posts, users, quarantine --------


def _field(arr: pa.Array | pa.ChunkedArray, *path: str) -> pa.Array | pa.ChunkedArray:
    """A nested field; NULL wherever a struct on the way is NULL."""
    return pc.struct_field(arr, list(path))


def _unnest(lists: pa.Array) -> tuple[pa.Array, np.ndarray, np.ndarray]:
    """(values, index of the owning row, 1-based position in its list); NULL lists hold nothing."""
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy().astype(np.int64)
    owner = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(len(owner), dtype=np.int64) - np.repeat(starts, lengths) + 1
    return pc.list_flatten(lists), owner, pos


def _relist(lists: pa.Array, values: pa.Array) -> pa.Array:
    """``values`` (one per element of ``lists``) regrouped as ``lists`` was; NULL lists stay NULL."""
    lengths = pc.list_value_length(lists).fill_null(0).to_numpy().astype(np.int32)
    offsets = np.zeros(len(lengths) + 1, np.int32)
    np.cumsum(lengths, out=offsets[1:])
    mask = pc.is_null(lists)
    return pa.ListArray.from_arrays(pa.array(offsets), values, mask=mask if mask.true_count else None)


def _np_bool(arr: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)


def _flatten(con: duckdb.DuckDBPyConnection, lines: pa.Table | pa.RecordBatch, records: np.ndarray) -> dict:
    """Parsed lines (``_SCHEMA``) -> their tweets (data, the line itself, includes.tweets) and users.

    Per-line and per-tweet work is columnar (Arrow kernels, numpy); DuckDB
    only converts timestamps and writes the JSON excerpt of a bad record.
    """
    data = lines.column("data")
    if isinstance(data, pa.ChunkedArray):
        data = data.combine_chunks()

    def col(k: str) -> pa.Array:
        c = lines.column(k)
        return c.combine_chunks() if isinstance(c, pa.ChunkedArray) else c

    has_data = _np_bool(pc.is_valid(data))
    has_id = _np_bool(pc.is_valid(col("id")))
    page = has_data | has_id
    empty = _np_bool(pc.equal(_field(col("meta"), "result_count"), 0))
    no_tweet = ~page & ~empty
    excerpts = None
    if no_tweet.any():
        idx = np.flatnonzero(no_tweet)
        bad = pa.StructArray.from_arrays([col(k).take(idx) for k in _SCHEMA.names], names=_SCHEMA.names)
        excerpts = (records[idx], _to_json(con, bad))
    # the tweets of each line: data[], else the line itself; then includes.tweets
    d_vals, d_owner, d_pos = _unnest(data)
    solo = np.flatnonzero(~has_data & has_id)
    pages = np.flatnonzero(page)
    includes = col("includes") if page.all() else col("includes").take(pages)
    c_vals, c_owner, c_pos = _unnest(_field(includes, "tweets"))
    u_vals, u_owner, _ = _unnest(_field(includes, "users"))
    sources = [(d_vals, d_owner, d_pos, False)]
    if len(solo):
        sources.append(
            (
                pa.StructArray.from_arrays([col(k).take(solo) for k in _TWEET_KEYS], names=_TWEET_KEYS),
                solo,
                np.ones(len(solo), np.int64),
                False,
            )
        )
    sources.append((c_vals, pages[c_owner], c_pos, True))
    tables, authors, base = [], [], 0
    for vals, owner, pos, context in sources:
        tw = _tweet_columns(vals)
        tw["record"] = pa.array(records[owner])
        tw["pos"] = pa.array(pos)
        tw["is_context"] = pa.array(np.full(len(owner), context))
        tw["created_at"] = _utc_fast(con, tw["created_raw"])
        # the JSON of each tweet that may be quarantined, now: the parsed page is not kept for it
        maybe_bad = _np_bool(pc.is_null(tw["created_at"]))
        for c in ("post_id", "account_id", "created_raw"):
            maybe_bad |= _blank(tw[c])
        excerpt = pa.nulls(len(owner), pa.string())
        if maybe_bad.any():
            at = np.flatnonzero(maybe_bad)
            slot = np.full(len(owner), -1, np.int64)
            slot[at] = np.arange(len(at))
            excerpt = pa.array(_to_json(con, vals.take(pa.array(at))), pa.string()).take(pa.array(slot, mask=slot < 0))
        tw["excerpt"] = excerpt
        has_author = _np_bool(pc.is_valid(_field(vals, "author", "id"))) if _embeds_author(vals) else None
        if has_author is not None and has_author.any():
            at = np.flatnonzero(has_author)
            authors.append(
                pa.table(
                    {
                        "row": pa.array(at + base),
                        "record": pa.array(records[owner[at]]),
                        "u": _field(vals, "author").take(pa.array(at)),
                    }
                )
            )
        base += len(owner)
        tables.append(pa.table(tw))
    retrieved = _field(col("__twarc"), "retrieved_at")
    retrieved = retrieved if page.all() else retrieved.take(pages)
    return {
        "tweets": pa.concat_tables(tables),
        "authors": authors,  # (row in this piece, record, author) of tweets with an embedded author
        "users": pa.table({"record": pa.array(records[pages[u_owner]]), "u": u_vals}),
        "lines": pa.table({"record": pa.array(records[pages]), "retrieved_at": retrieved}),
        "no_tweet": excerpts,
    }


def _embeds_author(t: pa.StructArray) -> bool:
    """Tweets of a line's own (``_TWEET``), which may embed their author; not a page's (``_TWEET_BODY``)."""
    return t.type.get_field_index("author") >= 0


def _tweet_columns(t: pa.StructArray) -> dict:
    """Canonical post columns of each tweet, before the chunk-wide steps (see _finish)."""
    n = len(t)
    refs = _field(t, "referenced_tweets")
    r_vals, r_owner, _ = _unnest(refs)
    rank = pc.index_in(_field(r_vals, "type"), value_set=_REF_TYPES).fill_null(3).to_numpy().astype(np.int64)
    # the first reference of the strongest kind: repost > reply > quote
    cand = np.flatnonzero(rank < 3)
    cand = cand[np.argsort(r_owner[cand] * 4 + rank[cand], kind="stable")]
    first = np.ones(len(cand), bool)
    first[1:] = r_owner[cand][1:] != r_owner[cand][:-1]
    chosen = cand[first]
    ref_at = np.full(n, -1, np.int64)
    ref_at[r_owner[chosen]] = chosen
    kind_code = np.zeros(n, np.int64)
    kind_code[r_owner[chosen]] = rank[chosen] + 1
    at = pa.array(ref_at, mask=ref_at < 0)
    kind = _KINDS.take(pa.array(kind_code))
    parent_account = pc.coalesce(
        _field(r_vals, "author_id").take(at),
        pc.if_else(pa.array(kind_code == 2), _field(t, "in_reply_to_user_id"), pa.nulls(n, pa.string())),
    )
    entities = _field(t, "entities")
    tags, urls, mentions = (_field(entities, k) for k in ("hashtags", "urls", "mentions"))
    url_vals = pc.list_flatten(urls)
    lang = _field(t, "lang")
    created_raw = _field(t, "created_at")
    metrics = _field(t, "public_metrics")
    return {
        "post_id": _field(t, "id"),
        "account_id": pc.coalesce(_field(t, "author_id"), _field(t, "author", "id"))
        if _embeds_author(t)
        else _field(t, "author_id"),
        "created_raw": created_raw,
        "text": pc.coalesce(_field(t, "note_tweet", "text"), _field(t, "text")),
        "lang": pc.if_else(pc.equal(lang, "und").fill_null(False), pa.nulls(n, pa.string()), lang),
        "kind": kind,
        "parent_post_id": _field(r_vals, "id").take(at),
        "parent_account_id": parent_account,
        "hashtags": _relist(tags, _field(pc.list_flatten(tags), "tag")),
        "urls": _relist(
            urls,
            pc.coalesce(_field(url_vals, "unwound_url"), _field(url_vals, "expanded_url"), _field(url_vals, "url")),
        ),
        "mentions": _relist(mentions, _field(pc.list_flatten(mentions), "username")),
        "media": _field(t, "attachments", "media_keys"),
        "client": _field(t, "source"),
        "like_count": _field(metrics, "like_count"),
        "repost_count": _field(metrics, "retweet_count"),
        "reply_count": _field(metrics, "reply_count"),
        "quote_count": _field(metrics, "quote_count"),
        "view_count": _field(metrics, "impression_count"),
    }


# A zone offset no clock uses (beyond +-14:00, e.g. "+99:00", which the cast accepts): unparseable.
_BAD_OFFSET = r"\d:\d\d(:\d\d(\.\d+)?)?\s*[+-](1[5-9]|[2-9]\d)(:?\d\d)?$"


def _utc(con: duckdb.DuckDBPyConnection, values: pa.Array) -> pa.Array:
    """ISO-8601 strings -> naive UTC timestamps, by DuckDB's cast (jsonsql.utc), NULL where unparseable.

    Years past 9999 parse (the store's window quarantines them); an offset beyond +-14:00 does not.
    """
    con.register("_ts_in", pa.table({"v": values}))
    out = con.sql(
        f"SELECT CASE WHEN NOT regexp_matches(v, '{_BAD_OFFSET}') THEN {utc('v')} END AS t FROM _ts_in"
    ).to_arrow_table()["t"]
    con.unregister("_ts_in")
    return out.combine_chunks().cast(pa.timestamp("us"))


# Twitter's own form (and any ISO-8601 time with a zone that Arrow's parser takes the same
# way DuckDB's cast does); anything else goes through DuckDB's cast.
_ISO_ZONED = (
    r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
    r"T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?(Z|[+-](0\d|1[0-4]):[0-5]\d)$"
)


def _utc_fast(con: duckdb.DuckDBPyConnection, values: pa.Array) -> pa.Array:
    """As _utc, in Arrow when every value is a zoned ISO-8601 time (no DuckDB round trip per piece)."""
    if values.null_count == 0 and pc.all(pc.match_substring_regex(values, _ISO_ZONED)).as_py() is not False:
        try:
            return values.cast(pa.timestamp("us", "UTC")).cast(pa.timestamp("us"))
        except pa.ArrowInvalid:
            pass
    return _utc(con, values)


def _to_json(con: duckdb.DuckDBPyConnection, values: pa.Array) -> list[str]:
    """DuckDB's JSON text of struct values (the excerpt of a bad record, as the native reader parsed it)."""
    con.register("_json_in", pa.table({"v": values}))
    out = con.sql("SELECT left(CAST(to_json(v) AS VARCHAR), 500) AS j FROM _json_in").to_arrow_table()["j"].to_pylist()
    con.unregister("_json_in")
    return out


def _finish(con: duckdb.DuckDBPyConnection, pieces: list[dict], q: Quarantine) -> tuple[pa.Table, np.ndarray, pa.Table]:
    """The chunk-wide steps over flattened pieces: duplicates of data in includes, parents' authors, bad tweets.

    Returns (tweets, the mask of those that are posts, users as (record, u, snapshot_at)).
    """
    for p in pieces:
        if p["no_tweet"] is not None:
            recs, ex = p["no_tweet"]
            n = len(recs)
            q.add_many(
                recs.tolist(), ["no tweet in record: expected a v2 page with data[] or a tweet object with id"] * n, ex
            )
    if not pieces:
        pieces = [_flatten(con, _SCHEMA.empty_table(), np.zeros(0, np.int64))]
    tw = pa.concat_tables([p["tweets"] for p in pieces])
    tw = tw.append_column("row", pa.array(np.arange(tw.num_rows, dtype=np.int64)))
    offsets = np.cumsum([0] + [p["tweets"].num_rows for p in pieces])
    authors = [
        a.set_column(0, "row", pc.add(a["row"], int(off))) for p, off in zip(pieces, offsets) for a in p["authors"]
    ]
    users = pa.concat_tables([p["users"] for p in pieces])
    lines = pa.concat_tables([p["lines"] for p in pieces])
    is_ctx = tw["is_context"].to_numpy()
    ids = tw["post_id"]
    # an included tweet that is also in this chunk's data is the same post: not a second record
    # (hash sets are built from the small side: a fifth of the tweets are included ones)
    alive = np.ones(tw.num_rows, bool)  # rows are masked, not copied: a batch copies its rows once
    if is_ctx.any():
        ctx_at = np.flatnonzero(is_ctx)
        ctx_ids = ids.take(ctx_at).combine_chunks()
        data_ids = ids.filter(pa.array(~is_ctx)).drop_null().combine_chunks()
        shared = data_ids.filter(pc.is_in(data_ids, value_set=pc.unique(ctx_ids.drop_null())))
        alive[ctx_at[_np_bool(pc.is_in(ctx_ids, value_set=shared)) | _np_bool(pc.is_null(ctx_ids))]] = False
    # the parent's author, from any tweet of this chunk (includes.tweets hold the originals)
    pacc = tw["parent_account_id"]
    need = alive & _np_bool(pc.and_(pc.is_null(pacc), pc.is_valid(tw["parent_post_id"])))
    if need.any():
        acc = tw["account_id"]
        wanted = tw["parent_post_id"].filter(pa.array(need)).combine_chunks()
        parents = pc.unique(wanted)
        known_at = np.flatnonzero(alive & _np_bool(pc.is_valid(acc)))
        hit = pc.index_in(ids.take(known_at), value_set=parents).fill_null(-1).to_numpy()
        rows = np.flatnonzero(hit >= 0)
        ids_hit, first = np.unique(hit[rows], return_index=True)  # the first tweet with each parent's id
        source = np.full(len(parents), -1, np.int64)
        source[ids_hit] = known_at[rows[first]]
        at = source[pc.index_in(wanted, value_set=parents).to_numpy()]
        found = acc.take(pa.array(at, mask=at < 0))
        fill = np.full(len(pacc), -1, np.int64)
        fill[np.flatnonzero(need)] = np.arange(int(need.sum()))
        pacc = pc.coalesce(pacc, found.take(pa.array(fill, mask=fill < 0)))
        tw = tw.set_column(tw.schema.get_field_index("parent_account_id"), "parent_account_id", pacc)
    ok = _quarantine_tweets(tw, alive, q)
    # snapshot time of a line's users: its collection time, else its latest tweet
    recs = tw["record"].to_numpy()
    created = tw["created_at"].cast(pa.int64()).fill_null(_NO_TIME).to_numpy()
    line_rec = lines["record"].to_numpy()
    hi = int(max(line_rec.max(initial=0), recs.max(initial=0))) + 1
    snap = np.full(hi, _NO_TIME, np.int64)
    np.maximum.at(snap, recs[ok], created[ok])
    retrieved = _utc(con, lines["retrieved_at"])
    got = _np_bool(pc.is_valid(retrieved))
    snap[line_rec[got]] = retrieved.filter(pa.array(got)).cast(pa.int64()).to_numpy()
    # users: the lines' includes.users, then the authors embedded in tweets (flattened files)
    if authors:
        authors = pa.concat_tables(authors)
        users = pa.concat_tables([users, authors.filter(pa.array(ok[authors["row"].to_numpy()])).drop_columns("row")])
    users = users.filter(pc.is_valid(_field(users["u"], "id")))
    s = snap[users["record"].to_numpy()]
    users = users.append_column("snapshot_at", pa.array(s, mask=s == _NO_TIME).cast(pa.timestamp("us")))
    return tw.drop_columns(["created_raw", "pos", "is_context", "excerpt", "row"]), ok, users


_NO_TIME = np.iinfo(np.int64).min


def _posts_out(tw: pa.Table, path: Path) -> pa.Table:
    """The canonical posts columns of checked tweets."""
    n = tw.num_rows

    def const(v: str) -> pa.Array:
        return pa.array([v], pa.string()).take(pa.array(np.zeros(n, np.int64)))

    return (
        tw.rename_columns({"record": "source_record"})
        .append_column("platform", const("x"))
        .append_column("source_file", const(str(path)))
        .append_column("lang_source", pc.if_else(pc.is_valid(tw["lang"]), "platform", pa.nulls(n, pa.string())))
    )


def _blank(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    return _np_bool(pc.or_kleene(pc.is_null(values), pc.equal(values, "")))


def _quarantine_tweets(tw: pa.Table, alive: np.ndarray, q: Quarantine) -> np.ndarray:
    """Tweets missing a required field, or with an unparseable time, to quarantine; returns the mask of the rest."""
    missing = [
        (_blank(tw[c]), name)
        for c, name in (("post_id", "id"), ("account_id", "author_id"), ("created_raw", "created_at"))
    ]
    bad_req = np.zeros(tw.num_rows, bool)
    for m, _ in missing:
        bad_req |= m
    bad_req &= alive
    bad_time = alive & ~bad_req & _np_bool(pc.is_null(tw["created_at"]))
    if not (bad_req.any() or bad_time.any()):
        return alive
    pos = tw["pos"].to_numpy()
    ctx = tw["is_context"].to_numpy()
    raw = tw["created_raw"].to_pylist()

    def note(i: int) -> str:
        if pos[i] > 1 or ctx[i]:
            return f" ({'includes.tweets' if ctx[i] else 'data'}[{pos[i] - 1}])"
        return ""

    rows, reasons = [], []
    for i in np.flatnonzero(bad_req).tolist():  # a few bad records, not every post
        name = next(name for m, name in missing if m[i])
        rows.append(i)
        reasons.append(f"missing required field {name}{note(i)}")
    for i in np.flatnonzero(bad_time).tolist():
        rows.append(i)
        reasons.append(f"unparseable timestamp created_at={raw[i]}{note(i)}")
    taken = pa.array(rows, pa.int64())
    q.add_many(tw["record"].take(taken).to_pylist(), reasons, tw["excerpt"].take(taken).to_pylist())
    return alive & ~(bad_req | bad_time)


_ACCOUNT_COLUMNS = (  # canonical column <- user field
    ("handle", ("username",)),
    ("display_name", ("name",)),
    ("description", ("description",)),
    ("created_at", ("created_at",)),
    ("followers", ("public_metrics", "followers_count")),
    ("following", ("public_metrics", "following_count")),
    ("posts_count", ("public_metrics", "tweet_count")),
    ("location", ("location",)),
    ("verified", ("verified",)),
    ("profile_image_url", ("profile_image_url",)),
)


def _accounts(con: duckdb.DuckDBPyConnection, users: pa.Table, path: Path) -> pa.Table | None:
    """One row per account of a batch: the latest snapshot, its gaps filled from older ones.

    The store's merge rule (store.Case._merge_accounts) applied within the
    batch already, so the store merges one row per account instead of one
    per mention (a page's includes.users repeat the same people). Order:
    ``snapshot_at`` (NULL oldest), then line, then position: a later line
    wins a tie, as a later batch does in the store. Columnar: one sort, then
    per field a gap fill only for the accounts whose latest row lacks it.
    """
    n = users.num_rows
    if not n:
        return None
    u = users["u"]
    enc = _field(u, "id").combine_chunks().dictionary_encode()
    group = enc.indices.to_numpy().astype(np.int64)
    snap = users["snapshot_at"].cast(pa.int64()).fill_null(_NO_TIME).to_numpy()
    order = np.lexsort((np.arange(n), users["record"].to_numpy(), snap, group))
    last = np.ones(n, bool)
    last[:-1] = group[order][1:] != group[order][:-1]
    winner = order[last]  # the latest row of each account, accounts in dictionary order
    out = {
        "platform": pa.array(["x"], pa.string()).take(pa.array(np.zeros(len(winner), np.int64))),
        "account_id": enc.dictionary,
    }
    for name, path_ in _ACCOUNT_COLUMNS:
        values = _field(u, *path_).combine_chunks()
        if name == "created_at":
            values = _utc_fast(con, values)
        rows = winner
        if values.null_count:
            valid = _np_bool(pc.is_valid(values))
            gap = ~valid[winner] & (np.bincount(group[valid], minlength=len(winner)) > 0)
            if gap.any():  # the latest snapshot lacks the field: the latest one that has it
                have = order[valid[order]]
                keep = np.ones(len(have), bool)
                keep[:-1] = group[have][1:] != group[have][:-1]
                fill = np.full(len(winner), -1, np.int64)
                fill[group[have[keep]]] = have[keep]
                rows = np.where(gap, fill, winner)
        out[name] = values.take(pa.array(rows))
    out["snapshot_at"] = users["snapshot_at"].take(pa.array(winner))
    out["source_file"] = pa.array([str(path)], pa.string()).take(pa.array(np.zeros(len(winner), np.int64)))
    return pa.table(out)
