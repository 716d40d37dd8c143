"""Streaming reader for large JSON documents whose records sit in arrays (Telegram exports, API dumps).

Pass 1 (``scan_arrays``) streams the file in ``SCAN_BYTES`` blocks and finds,
with numpy over whole blocks, where every element of the wanted arrays starts
(string and escape state carried across blocks); only brackets at the few top
nesting levels are looked at one by one. It keeps 8 bytes per record (its
offset). Pass 2 (``iter_elements``) reads the records back in ``batch_bytes``
slices as an Arrow column for DuckDB to parse. ``read_arrays`` wraps both with
what every JSON-document importer shares: an empty file, no array of records,
undecodable and invalid records, and a document cut short (every record
before the cut is kept; the cut is one quarantine row naming where reading
stopped).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import store
from .base import Batch, Quarantine, ReadOptions, make_batch
from .compressed import open_input
from .jsonsql import quarantine_invalid_json

SCAN_BYTES = 8 * 1024 * 1024
_BOM = b"\xef\xbb\xbf"


@dataclass
class JsonArray:
    """One array of records found in a document, by byte offsets into the file."""

    path: tuple[str, ...]  # keys from the root; "[]" stands for an array element
    start: int  # offset of '['
    seps: np.ndarray  # int64: '[', then each element-separating ',', then ']' (or EOF if cut)
    end: int | None = None  # offset of ']'; None when the file ends inside the array
    owner_start: int | None = None  # offset of the '{' of the object holding the array
    owner_end: int | None = None  # offset of its '}'; None when not closed
    first_record: int = 1  # 1-based number of its first element in the file


@dataclass
class ScanResult:
    arrays: list[JsonArray] = field(default_factory=list)
    size: int = 0
    problem: str | None = None  # why the document is incomplete or malformed, if it is
    problem_at: int | None = None  # byte offset where reading stopped
    empty: bool = True  # nothing but whitespace
    cut_record: int | None = None  # set by iter_elements: the record the problem fell inside
    records: int = 0  # set by iter_elements: elements numbered


_STRUCT = np.zeros(256, bool)
_STRUCT[list(b"{}[],")] = True
_DELTA = np.zeros(256, np.int64)
_DELTA[list(b"{[")] = 1
_DELTA[list(b"}]")] = -1
_KEY_BEFORE = re.compile(rb'"((?:[^"\\]|\\.){0,400})"\s*:\s*\Z', re.S)


def scan_arrays(
    path: Path, wanted: Callable[[tuple[str, ...]], bool], max_depth: int, block_bytes: int = SCAN_BYTES
) -> ScanResult:
    """Find the arrays whose key path ``wanted`` accepts, and their element boundaries.

    Column-wise per block: unescaped quotes → string state → structural
    characters outside strings → depth by cumulative sum. Python only visits
    brackets opening at depth <= ``max_depth`` outside wanted arrays.
    """
    res = ScanResult()
    depth = 0
    in_string = False
    trailing_bs = 0  # backslashes ending the previous block (escape state)
    stack: list[tuple[int, str | None, int]] = []  # (bracket byte, key, offset)
    target: JsonArray | None = None
    target_seps: list[np.ndarray] = []
    by_owner: dict[int, list[JsonArray]] = {}
    roots = 0
    tail = b""  # end of the previous block, to read the key before a bracket
    offset = 0
    with open_input(path) as fh:
        first = fh.read(3)
        offset = 3 if first == _BOM else 0
        fh.seek(offset)
        while res.problem is None:
            block = fh.read(block_bytes)
            if not block:
                break
            a = np.frombuffer(block, np.uint8)
            if res.empty and np.any(~np.isin(a, (9, 10, 13, 32))):
                res.empty = False
            quotes = np.flatnonzero(a == 34)
            backslashes = np.flatnonzero(a == 92)
            if quotes.size and (backslashes.size or trailing_bs):
                quotes = quotes[~_escaped(quotes, backslashes, trailing_bs)]
            s = np.flatnonzero(_STRUCT[a])
            outside = (np.searchsorted(quotes, s) + in_string) % 2 == 0
            s = s[outside]
            delta = _DELTA[a[s]]
            after = depth + np.cumsum(delta)
            events = np.flatnonzero(((delta == 1) & (after <= max_depth)) | ((delta == -1) & (after < max_depth)))
            data = tail + block
            i = 0
            n = s.size
            while i < n and res.problem is None:
                if target is not None:
                    d = len(stack)
                    below = np.flatnonzero(after[i:] < d)
                    stop = i + below[0] if below.size else n
                    commas = i + np.flatnonzero((delta[i:stop] == 0) & (after[i:stop] == d))
                    target_seps.append(offset + s[commas])
                    if not below.size:
                        i = n
                        break
                    if a[s[stop]] != ord("]"):
                        res.problem = (
                            f"malformed JSON: '{chr(a[s[stop]])}' closes an array at byte {offset + s[stop]:,}"
                        )
                        res.problem_at = int(offset + s[stop])
                        break
                    target.end = int(offset + s[stop])
                    target_seps.append(np.array([target.end], np.int64))
                    target.seps = np.concatenate(target_seps)
                    target, target_seps = None, []
                    stack.pop()
                    i = stop + 1
                    continue
                k = np.searchsorted(events, i)
                if k == events.size:
                    break
                j = int(events[k])
                i = j + 1
                ch = int(a[s[j]])
                pos = int(offset + s[j])
                if delta[j] == 1:
                    if not stack:
                        roots += 1
                        if roots > 1:
                            res.problem = f"extra data after the end of the JSON document at byte {pos:,}"
                            res.problem_at = pos
                            break
                        key = None
                    elif stack[-1][0] == ord("["):
                        key = "[]"
                    else:
                        m = _KEY_BEFORE.search(data[max(0, len(tail) + s[j] - 512) : len(tail) + s[j]])
                        key = m.group(1).decode("utf-8", "replace") if m else ""
                    keys = tuple(e[1] for e in stack[1:]) + ((key,) if stack else ())
                    stack.append((ch, key, pos))
                    if ch == ord("[") and wanted(keys):
                        owner = stack[-2] if len(stack) > 1 and stack[-2][0] == ord("{") else None
                        target = JsonArray(keys, pos, np.empty(0, np.int64), owner_start=owner[2] if owner else None)
                        target_seps = [np.array([pos], np.int64)]
                        res.arrays.append(target)
                        if owner:
                            by_owner.setdefault(owner[2], []).append(target)
                else:
                    if not stack:
                        res.problem = f"malformed JSON: unexpected '{chr(ch)}' at byte {pos:,}"
                        res.problem_at = pos
                        break
                    opener, _, opened_at = stack.pop()
                    if (opener, ch) not in ((ord("{"), ord("}")), (ord("["), ord("]"))):
                        res.problem = (
                            f"malformed JSON: '{chr(ch)}' at byte {pos:,} closes '{chr(opener)}' "
                            f"opened at byte {opened_at:,}"
                        )
                        res.problem_at = pos
                        break
                    for arr in by_owner.pop(opened_at, []):
                        arr.owner_end = pos
            depth = int(after[-1]) if after.size else depth
            in_string = bool((in_string + quotes.size) % 2)
            trailing_bs = _trailing_backslashes(a, backslashes, trailing_bs)
            tail = data[-512:]
            offset += len(block)
        res.size = offset
    if res.problem is None and (stack or in_string):
        res.problem = f"truncated: the file ends at byte {offset:,} before the JSON document closes"
        res.problem_at = offset
    if target is not None:  # reading stopped inside an array: its last element is cut
        target_seps.append(np.array([res.problem_at], np.int64))
        target.seps = np.concatenate(target_seps)
    return res


def _escaped(quotes: np.ndarray, backslashes: np.ndarray, carry: int) -> np.ndarray:
    """Which quotes follow an odd run of backslashes (carry: run ending the previous block)."""
    run_len = np.zeros(quotes.size, np.int64)
    if backslashes.size:
        breaks = np.flatnonzero(np.diff(backslashes) != 1) + 1
        starts = backslashes[np.r_[0, breaks]]
        ends = backslashes[np.r_[breaks - 1, backslashes.size - 1]]
        k = np.searchsorted(ends, quotes - 1)
        k_ok = np.minimum(k, ends.size - 1)
        hit = (k < ends.size) & (ends[k_ok] == quotes - 1)
        run_len[hit] = quotes[hit] - starts[k_ok[hit]] + np.where(starts[k_ok[hit]] == 0, carry, 0)
    run_len[quotes == 0] = carry
    return run_len % 2 == 1


def _trailing_backslashes(a: np.ndarray, backslashes: np.ndarray, carry: int) -> int:
    if not a.size or a[-1] != 92:
        return 0
    nonbs = np.flatnonzero(a != 92)
    return int(a.size - 1 - nonbs[-1]) if nonbs.size else carry + int(a.size)


@dataclass
class Elements:
    """A slice of consecutive records of one array, read back from the file."""

    array: JsonArray
    records: np.ndarray  # int64, 1-based record numbers
    raws: pa.Array  # string, one JSON text per record (undecodable ones left out)
    bytes_done: int


def iter_elements(
    path: Path,
    scan: ScanResult,
    q: Quarantine,
    batch_bytes: int,
    max_record_bytes: int,
) -> Iterator[Elements]:
    """The records of every array, ``batch_bytes`` at a time; oversized or undecodable ones quarantined.

    Records are numbered 1-based across the file. The last element of an
    array that reading stopped inside (a cut file) is kept only if it is
    complete JSON; otherwise ``scan.cut_record`` names it.
    """
    record = 1
    with open_input(path) as fh:
        for arr in scan.arrays:
            arr.first_record = record
            seps = arr.seps
            sizes = np.diff(seps) - 1
            if sizes.size == 1 and sizes[0] <= 4096 and not _read(fh, seps[0] + 1, sizes[0]).strip():
                sizes = sizes[:0]  # an empty array '[ ]'
            if arr.end is None and sizes.size:  # the cut element
                last = _read(fh, seps[-2] + 1, min(int(sizes[-1]), max_record_bytes))
                if not last.strip():
                    sizes = sizes[:-1]
                    scan.cut_record = None
                elif sizes[-1] > max_record_bytes or not _is_json(last):
                    sizes = sizes[:-1]
                    scan.cut_record = record + sizes.size
            record += sizes.size
            k = 0
            while k < sizes.size:
                if sizes[k] > max_record_bytes:
                    q.add(
                        arr.first_record + k,
                        f"record longer than the maximum record size ({max_record_bytes:,} bytes); skipped",
                        _read(fh, seps[k] + 1, 2000),
                    )
                    k += 1
                    continue
                m = int(np.searchsorted(seps, seps[k] + batch_bytes, side="right")) - 1
                m = max(k + 1, min(m, sizes.size))
                big = np.flatnonzero(sizes[k:m] > max_record_bytes)
                if big.size:
                    m = k + int(big[0])
                base = int(seps[k]) + 1
                want = int(seps[m]) + 1 - base
                data = _read(fh, base, want)
                data += b" " * (want - len(data))  # a cut file: its last element has no closing byte
                offsets = (seps[k : m + 1] + 1 - base).astype(np.int32)
                raw = pa.BinaryArray.from_buffers(pa.binary(), m - k, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
                raw = pc.binary_slice(raw, 0, -1)  # drop each element's trailing ',' or ']'
                records = np.arange(arr.first_record + k, arr.first_record + m, dtype=np.int64)
                raws, records = _decode(raw, records, q)
                raws = pc.utf8_trim_whitespace(raws)
                yield Elements(arr, records, raws, int(seps[m]))
                k = m
    scan.records = record - 1


def _read(fh, at: int, n: int) -> bytes:
    fh.seek(int(at))
    return fh.read(int(n))


def _is_json(raw: bytes) -> bool:
    try:
        json.loads(raw)
    except (ValueError, RecursionError):  # RecursionError: nested deeper than Python parses
        return False
    return True


def _decode(raw: pa.Array, records: np.ndarray, q: Quarantine) -> tuple[pa.Array, np.ndarray]:
    try:
        return raw.cast(pa.string()), records
    except pa.ArrowInvalid:
        pass
    keep, texts = [], []
    for i, b in enumerate(raw.to_pylist()):  # exact path, only for a slice with bad bytes
        try:
            texts.append(b.decode("utf-8"))
            keep.append(i)
        except UnicodeDecodeError as e:
            q.add(int(records[i]), f"wrong encoding: not valid UTF-8 ({e.reason} at byte {e.start} of the record)", b)
    return pa.array(texts, pa.string()), records[keep]


_BAD_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\x([0-9A-Fa-f]{2})")


def repair_escapes(con: duckdb.DuckDBPyConnection, name: str) -> str:
    """Rewrite ``\\xHH`` escapes (Telegram Desktop writes them for control characters) as ``\\u00HH``.

    Only records that are not valid JSON are looked at, so the common case
    costs one SQL scan. Returns the relation to read the records from.
    """
    bad = con.sql(f"SELECT record, raw FROM {name} WHERE NOT json_valid(raw) AND contains(raw, '\\x')").fetchall()
    if not bad:
        return name
    fixed = pa.table(
        {
            "record": pa.array([r for r, _ in bad], pa.int64()),
            "fixed": pa.array([_BAD_ESCAPE.sub(r"\1\\u00\2", raw) for _, raw in bad], pa.string()),
        }
    )
    con.register("_fixed", fixed)
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _repaired AS SELECT r.record, coalesce(f.fixed, r.raw) AS raw "
        f"FROM {name} r LEFT JOIN _fixed f USING (record)"
    )
    con.unregister("_fixed")
    return "_repaired"


# --------------------------------------------------------------------------
# Telegram ids
# --------------------------------------------------------------------------


def read_arrays(
    path: Path,
    options: ReadOptions,
    wanted: Callable[[tuple[str, ...]], bool],
    max_depth: int,
    parse: Callable[[duckdb.DuckDBPyConnection, Quarantine, Elements], tuple[pa.Table, pa.Table]],
    not_found: str,
) -> Iterator[Batch]:
    """Stream the records of the arrays ``wanted`` picks; ``parse`` turns ``_json`` (record, j) into posts, accounts.

    Handles what every JSON-document importer shares: an empty file, no
    array of records, undecodable and invalid records, and a document cut
    short (one quarantine row naming where reading stopped).
    """
    q = Quarantine(str(path))
    scan = scan_arrays(path, wanted, max_depth)
    if scan.empty:
        q.add(None, "empty file", None)
        yield make_batch(None, None, q, scan.size)
        return
    if not scan.arrays and scan.problem is None:
        q.add(None, not_found, _excerpt(path, 0))
        yield make_batch(None, None, q, scan.size)
        return
    con = store.connect()
    try:
        for part in iter_elements(path, scan, q, options.batch_bytes, options.max_record_bytes):
            con.register("_records_in", pa.table({"record": pa.array(part.records, pa.int64()), "raw": part.raws}))
            quarantine_invalid_json(con, q, repair_escapes(con, "_records_in"))
            posts, accounts = parse(con, q, part)
            con.unregister("_records_in")
            yield make_batch(posts, accounts, q, part.bytes_done)
    finally:
        con.close()
    if scan.problem is not None:
        q.add(scan.cut_record, problem_reason(scan), _excerpt(path, scan.problem_at))
    if len(q):
        yield make_batch(None, None, q, scan.size)


def problem_reason(scan: ScanResult) -> str:
    """The quarantine reason for a document that could not be read to its end."""
    if scan.cut_record is not None:
        return (
            f"{scan.problem}, inside record {scan.cut_record:,}; "
            f"the {scan.cut_record - 1:,} records before it were read"
        )
    return f"{scan.problem}; the {scan.records:,} records before that point were read"


def _excerpt(path: Path, at: int | None) -> bytes:
    """Bytes around ``at`` (where reading stopped; the start when 0), for a quarantine excerpt."""
    with open_input(path) as fh:
        if not at:
            return fh.read(500)
        fh.seek(max(0, at - 300))
        return fh.read(min(at, 300) + 200)
