"""Telegram Desktop "Export chat history" JSON (``result.json``), one chat or a whole account.

Shapes: a single chat ``{"name", "type", "id", "messages": [...]}``, or a
full-account export whose chats sit in ``chats.list[*]`` and
``left_chats.list[*]`` (each the same chat object). Every element of a
``messages`` array is a record, numbered 1-based in file order across all
chats of the file (service messages included in the numbering).

- ``type: "service"`` (joins, pins, title changes...) is not a post and not a
  record: skipped, not counted. ``type: "unsupported"`` (the export wrote
  neither date nor content) is quarantined.
- Time: ``date_unixtime`` (POSIX seconds, UTC). ``date`` is the exporting
  computer's local clock with no zone and is never used; a message without
  ``date_unixtime`` (exports before Telegram Desktop 3.x) is quarantined.
- Identity (shared with telethon_json so a post seen in both is one post):
  ``account_id`` is the bare numeric peer id (``from_id`` "user123" /
  "channel123" / "chat123" → "123"; the chat's ``id`` is already bare),
  ``post_id`` = ``"<chat id>/<message id>"``.
- Kind: ``forwarded_from`` → forward (``parent_account_id`` =
  ``forwarded_from_id`` when the export has it, else NULL; the source's name
  goes to the ``parent_account_name`` column, see docs/formats.md);
  ``reply_to_message_id`` → reply (``parent_post_id`` in the same chat, or in
  ``reply_to_peer_id``'s chat); else post.

Memory: result.json is one JSON document, often hundreds of MB, so it is
never loaded whole. Pass 1 streams it in ``SCAN_BYTES`` blocks and finds, with
numpy over whole blocks, where every element of every ``messages`` array
starts (string and escape state carried across blocks); only brackets at the
few top nesting levels are looked at one by one. It keeps 8 bytes per message
(its offset). Pass 2 reads the messages back in ``batch_bytes`` slices as an
Arrow column and parses them in DuckDB. A file cut short keeps every message
before the cut; the cut message (or the document's missing tail) is one
quarantine row.
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
from .jsonsql import quarantine_invalid_json, quarantine_where, required

NAME = "telegram_desktop"
DESCRIPTION = "Telegram Desktop chat export JSON (result.json: one chat or a full-account export)"

SCAN_BYTES = 8 * 1024 * 1024
# POSIX seconds accepted as a message time: Telegram's launch (2013) to 2100.
MIN_UNIX, MAX_UNIX = 1_370_000_000, 4_102_444_800
# A chat header (everything of a chat object but its messages) larger than this is not read.
MAX_HEADER_BYTES = 1024 * 1024
_BOM = b"\xef\xbb\xbf"

_MESSAGE_ARRAYS = {("messages",), ("chats", "list", "[]", "messages"), ("left_chats", "list", "[]", "messages")}
_CHAT_TYPES = re.compile(
    rb'"type"\s*:\s*"(?:public_channel|private_channel|public_supergroup|private_supergroup|private_group'
    rb'|personal_chat|bot_chat|saved_messages|replies)"'
)


def sniff(path: Path, head: bytes) -> bool:
    body = head.removeprefix(_BOM).lstrip()
    if not body.startswith(b"{"):
        return False
    if b'"date_unixtime"' in body and b'"messages"' in body:
        return True
    if b'"messages"' in body and _CHAT_TYPES.search(body):
        return True
    return b'"personal_information"' in body or (b'"about"' in body and b'"chats"' in body)


# --------------------------------------------------------------------------
# Streaming scan of a JSON document for arrays of records (shared with telethon_json)
# --------------------------------------------------------------------------


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


def scan_arrays(path: Path, wanted: Callable[[tuple[str, ...]], bool], max_depth: int,
                block_bytes: int = SCAN_BYTES) -> ScanResult:
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
    with open(path, "rb") as fh:
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
                        res.problem = f"malformed JSON: '{chr(a[s[stop]])}' closes an array at byte {offset + s[stop]:,}"
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
                        m = _KEY_BEFORE.search(data[max(0, len(tail) + s[j] - 512): len(tail) + s[j]])
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
                        res.problem = f"malformed JSON: '{chr(ch)}' at byte {pos:,} closes '{chr(opener)}' opened at byte {opened_at:,}"
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


def iter_elements(path: Path, scan: ScanResult, q: Quarantine, batch_bytes: int, max_record_bytes: int,
                  ) -> Iterator[Elements]:
    """The records of every array, ``batch_bytes`` at a time; oversized or undecodable ones quarantined.

    Records are numbered 1-based across the file. The last element of an
    array that reading stopped inside (a cut file) is kept only if it is
    complete JSON; otherwise ``scan.cut_record`` names it.
    """
    record = 1
    with open(path, "rb") as fh:
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
                    q.add(arr.first_record + k,
                          f"record longer than the maximum record size ({max_record_bytes:,} bytes); skipped",
                          _read(fh, seps[k] + 1, 2000))
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
                offsets = (seps[k:m + 1] + 1 - base).astype(np.int32)
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
    except ValueError:
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
    fixed = pa.table({"record": pa.array([r for r, _ in bad], pa.int64()),
                      "fixed": pa.array([_BAD_ESCAPE.sub(r"\1\\u00\2", raw) for _, raw in bad], pa.string())})
    con.register("_fixed", fixed)
    con.execute(f"CREATE OR REPLACE TEMP TABLE _repaired AS SELECT r.record, coalesce(f.fixed, r.raw) AS raw "
                f"FROM {name} r LEFT JOIN _fixed f USING (record)")
    con.unregister("_fixed")
    return "_repaired"


# --------------------------------------------------------------------------
# Telegram ids
# --------------------------------------------------------------------------


def prefixed_id_sql(expr: str) -> str:
    """SQL: bare peer id from a Desktop export's "user123" / "channel123" / "chat123" (or a bare number)."""
    return f"nullif(regexp_extract(CAST({expr} AS VARCHAR), '^(?:user|channel|chat)?([0-9]+)$', 1), '')"


def marked_id_sql(expr: str) -> str:
    """SQL: bare peer id from a Bot-API/Telethon "marked" id: -100<id> (channel), -<id> (group), <id> (user)."""
    v = f"TRY_CAST(CAST({expr} AS VARCHAR) AS HUGEINT)"
    return (f"CAST(CASE WHEN {v} <= -1000000000000 THEN -{v} - 1000000000000 "
            f"WHEN {v} < 0 THEN -{v} ELSE {v} END AS VARCHAR)")


def timestamp_sql(expr: str) -> str:
    """SQL: naive UTC TIMESTAMP from POSIX seconds, NULL outside [MIN_UNIX, MAX_UNIX]."""
    v = f"TRY_CAST({expr} AS DOUBLE)"
    return f"(CASE WHEN {v} BETWEEN {MIN_UNIX} AND {MAX_UNIX} THEN to_timestamp({v}) AT TIME ZONE 'UTC' END)"


# --------------------------------------------------------------------------
# Messages → canonical rows
# --------------------------------------------------------------------------

def fields_sql(fields: dict[str, str], src: str = "j") -> tuple[str, str]:
    """SQL that parses each record once: ``json_extract`` of all ``fields`` (name -> JSON path) in one call.

    Returns (the extraction, the select list naming each field's JSON value).
    One multi-path call is about 4x faster than one call per field.
    """
    paths = ", ".join("'" + p + "'" for p in fields.values())
    names = ", ".join(f"_f[{i}] AS {name}" for i, name in enumerate(fields, 1))
    return f"json_extract({src}, [{paths}]) AS _f", names


def str_sql(col: str) -> str:
    """SQL: a JSON scalar as VARCHAR (NULL for a missing or null value)."""
    return f"json_extract_string({col}, '$')"


_FIELDS, _FIELD_NAMES = fields_sql({
    "type_j": "$.type", "id_j": "$.id", "unix_j": "$.date_unixtime", "from_id_j": "$.from_id", "from_j": "$.from",
    "fwd_j": "$.forwarded_from", "fwd_id_j": "$.forwarded_from_id", "reply_j": "$.reply_to_message_id",
    "reply_peer_j": "$.reply_to_peer_id", "text_j": "$.text", "entities_j": "$.text_entities",
    "photo_j": "$.photo", "file_j": "$.file", "via_bot_j": "$.via_bot", "reactions_j": "$.reactions",
})

_MESSAGES = f"""
CREATE OR REPLACE TEMP TABLE _msg AS
WITH f AS (SELECT record, j, {_FIELDS} FROM _json),
g AS (SELECT record, j, {_FIELD_NAMES} FROM f)
SELECT record, j AS m, ?::VARCHAR AS chat_id, ?::VARCHAR AS chat_name, ?::VARCHAR AS chat_type,
       coalesce({str_sql('type_j')}, 'message') AS mtype,
       {str_sql('id_j')} AS msg_id,
       {str_sql('unix_j')} AS unix_raw,
       {str_sql('from_id_j')} AS from_raw, {str_sql('from_j')} AS from_name,
       fwd_j IS NOT NULL OR fwd_id_j IS NOT NULL AS forwarded,
       {str_sql('fwd_j')} AS fwd_name, {str_sql('fwd_id_j')} AS fwd_raw,
       {str_sql('reply_j')} AS reply_msg, {str_sql('reply_peer_j')} AS reply_peer,
       text_j,
       CASE WHEN json_type(entities_j) = 'ARRAY' THEN json_extract(entities_j, '$[*]')
            WHEN json_type(text_j) = 'ARRAY' THEN json_extract(text_j, '$[*]') ELSE [] END AS parts,
       {str_sql('photo_j')} AS photo, {str_sql('file_j')} AS file, {str_sql('via_bot_j')} AS via_bot, reactions_j
FROM g
"""


def _part_texts(types: str, value: str = "text") -> str:
    """SQL: the ``value`` ('text' or 'href') of the text parts whose type is in ``types``."""
    return (f"list_filter(list_transform(list_filter(typed, lambda p: p[1] IN ({types})), lambda p: p[{2 if value == 'text' else 3}]), "
            f"lambda x: x IS NOT NULL AND x <> '')")


_URL = "CASE WHEN regexp_matches(x, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN x ELSE 'https://' || x END"

_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _posts AS
WITH k AS (
    SELECT *,
           CASE WHEN forwarded THEN 'forward' WHEN reply_msg IS NOT NULL THEN 'reply' ELSE 'post' END AS kind,
           {prefixed_id_sql('from_raw')} AS from_id,
           -- each text part as [type, text, href], parsed once
           list_transform(parts, lambda p: json_extract_string(p, ['$.type', '$.text', '$.href'])) AS typed
    FROM _msg
)
SELECT
    'telegram' AS platform,
    chat_id || '/' || msg_id AS post_id,
    coalesce(from_id, chat_id) AS account_id,
    {timestamp_sql('unix_raw')} AS created_at,
    nullif(CASE json_type(text_j)
        WHEN 'VARCHAR' THEN {str_sql('text_j')}
        WHEN 'ARRAY' THEN array_to_string(list_transform(json_extract(text_j, '$[*]'), lambda p:
            CASE WHEN json_type(p) = 'VARCHAR' THEN json_extract_string(p, '$')
                 ELSE coalesce(json_extract_string(p, '$.text'), '') END), '')
        ELSE array_to_string(list_transform(typed, lambda p: coalesce(p[2], '')), '')
    END, '') AS text,
    kind,
    CASE WHEN kind = 'reply' THEN coalesce({prefixed_id_sql('reply_peer')}, chat_id) || '/' || reply_msg END AS parent_post_id,
    CASE WHEN kind = 'forward' THEN {prefixed_id_sql('fwd_raw')} END AS parent_account_id,
    CASE WHEN kind = 'forward' THEN fwd_name END AS parent_account_name,
    list_transform({_part_texts("'hashtag'")}, lambda x: ltrim(x, '#')) AS hashtags,
    list_concat(list_transform({_part_texts("'link', 'url'")}, lambda x: {_URL}), {_part_texts("'text_link'", "href")}) AS urls,
    list_transform({_part_texts("'mention'")}, lambda x: ltrim(x, '@')) AS mentions,
    list_filter([photo, file], lambda x: x IS NOT NULL AND x <> '' AND NOT starts_with(x, '(')) AS media,
    via_bot AS client,
    CASE WHEN json_type(reactions_j) = 'ARRAY' THEN
        list_sum(list_transform(json_extract(reactions_j, '$[*]'), lambda r: TRY_CAST(json_extract_string(r, '$.count') AS BIGINT)))
    END AS like_count,
    record AS source_record, record,
    chat_id, chat_name, from_id, from_name, unix_raw, m
FROM k
"""

_ACCOUNTS = """
WITH seen AS (
    SELECT chat_id AS account_id, chat_name AS display_name, created_at FROM _posts
    UNION ALL
    SELECT from_id, from_name, created_at FROM _posts WHERE from_id IS NOT NULL
    UNION ALL
    SELECT parent_account_id, parent_account_name, created_at FROM _posts WHERE parent_account_id IS NOT NULL
)
SELECT 'telegram' AS platform, account_id,
       arg_max(display_name, created_at) FILTER (WHERE display_name IS NOT NULL) AS display_name,
       max(created_at) AS snapshot_at, ? AS source_file
FROM seen GROUP BY account_id
"""


@dataclass(frozen=True)
class Chat:
    id: str | None
    name: str | None
    type: str | None
    problem: str | None = None


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    chats: dict[int, Chat] = {}

    def parse(con: duckdb.DuckDBPyConnection, q: Quarantine, part: Elements) -> tuple[pa.Table, pa.Table]:
        if part.array.start not in chats:
            chats[part.array.start] = _chat_header(path, part.array)
        chat = chats[part.array.start]
        con.execute(_MESSAGES, [chat.id, chat.name, chat.type])
        con.execute("DELETE FROM _msg WHERE mtype = 'service'")  # not posts, not records
        if chat.id is None:
            quarantine_where(con, q, "_msg", _sql_str(f"chat id unknown: {chat.problem}"), "m")
        quarantine_where(con, q, "_msg", "CASE WHEN mtype = 'unsupported' THEN "
                         "'unsupported message: the export holds no date or content for it' END", "m")
        quarantine_where(con, q, "_msg", required({"id": "msg_id"}), "m")
        quarantine_where(con, q, "_msg", "CASE WHEN unix_raw IS NULL THEN 'missing required field date_unixtime "
                         "(the export''s \"date\" is the exporting computer''s local time with no zone, so it is not "
                         "used; re-export with Telegram Desktop 3.0 or later)' END", "m")
        quarantine_where(con, q, "_msg", "CASE WHEN NOT regexp_matches(msg_id, '^[0-9]+$') "
                         "THEN 'unparseable message id: id=' || msg_id END", "m")
        con.execute(_POSTS)
        quarantine_where(
            con, q, "_posts",
            f"CASE WHEN created_at IS NULL THEN 'unparseable date_unixtime=' || unix_raw || "
            f"' (POSIX seconds between {MIN_UNIX} and {MAX_UNIX} expected)' END", "m")
        posts = con.sql("SELECT *, ? AS source_file FROM _posts", params=[str(path)]).to_arrow_table()
        return posts, con.sql(_ACCOUNTS, params=[str(path)]).to_arrow_table()

    yield from read_arrays(
        path, options, lambda keys: keys in _MESSAGE_ARRAYS, 5, parse,
        "no messages array: not a Telegram Desktop chat export (expected "
        '{"name", "type", "id", "messages": [...]} or a full export with chats.list)',
    )


def read_arrays(path: Path, options: ReadOptions, wanted: Callable[[tuple[str, ...]], bool], max_depth: int,
                parse: Callable[[duckdb.DuckDBPyConnection, Quarantine, Elements], tuple[pa.Table, pa.Table]],
                not_found: str) -> Iterator[Batch]:
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
        return f"{scan.problem}, inside record {scan.cut_record:,}; the {scan.cut_record - 1:,} records before it were read"
    return f"{scan.problem}; the {scan.records:,} records before that point were read"


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _chat_header(path: Path, arr: JsonArray) -> Chat:
    """name/type/id of the chat holding ``arr``: its object with the messages left out."""
    if arr.owner_start is None:
        return Chat(None, None, None, "the messages array is not inside a chat object")
    if arr.start - arr.owner_start > MAX_HEADER_BYTES:
        return Chat(None, None, None, "chat header too large")
    with open(path, "rb") as fh:
        fh.seek(arr.owner_start)
        head = fh.read(arr.start - arr.owner_start)
        rest = b"}"
        if arr.end is not None and arr.owner_end is not None and arr.owner_end - arr.end <= MAX_HEADER_BYTES:
            fh.seek(arr.end + 1)
            rest = fh.read(arr.owner_end - arr.end)
    try:
        obj = json.loads((head + b"[]" + rest).decode("utf-8", "replace"))
    except ValueError as e:
        return Chat(None, None, None, f"chat header is not valid JSON ({e})")
    raw_id = obj.get("id")
    chat_id = str(raw_id) if isinstance(raw_id, int) or (isinstance(raw_id, str) and raw_id.isdigit()) else None
    name = obj.get("name") if isinstance(obj.get("name"), str) else None
    return Chat(chat_id, name, obj.get("type") if isinstance(obj.get("type"), str) else None,
                None if chat_id else f"the chat object has no numeric id (id={raw_id!r})")


def _excerpt(path: Path, at: int | None) -> bytes:
    """Bytes around ``at`` (where reading stopped; the start when 0), for a quarantine excerpt."""
    with open(path, "rb") as fh:
        if not at:
            return fh.read(500)
        fh.seek(max(0, at - 300))
        return fh.read(min(at, 300) + 200)
