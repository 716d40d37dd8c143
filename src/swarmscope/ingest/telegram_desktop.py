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
  computer's local clock with no zone: it is read only for a message without
  ``date_unixtime`` (exports before Telegram Desktop 3.0), and only as the
  local time of ``ReadOptions.timezone`` (``ingest --timezone ZONE``);
  without that option such a message is quarantined with a reason naming it.
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
never loaded whole: jsonstream.py finds each message's byte range in one
streaming pass and parses the messages about 32 MiB at a time in DuckDB. A
file cut short keeps every message before the cut; the cut message (or the
document's missing tail) is one quarantine row.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from .base import Batch, Quarantine, ReadOptions
from .compressed import open_input
from .jsonsql import quarantine_where, required
from .jsonstream import _BOM, Elements, JsonArray, read_arrays

# A compressed result.json is unpacked to a temporary file first: it is read again once per chat.
NEEDS_FILE = True
NAME = "telegram_desktop"
DESCRIPTION = "Telegram Desktop chat export JSON (result.json: one chat or a full-account export)"

# POSIX seconds accepted as a message time: Telegram's launch (2013) to 2100.
MIN_UNIX, MAX_UNIX = 1_370_000_000, 4_102_444_800
# A chat header (everything of a chat object but its messages) larger than this is not read.
MAX_HEADER_BYTES = 1024 * 1024

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


def prefixed_id_sql(expr: str) -> str:
    """SQL: bare peer id from a Desktop export's "user123" / "channel123" / "chat123" (or a bare number)."""
    return f"nullif(regexp_extract(CAST({expr} AS VARCHAR), '^(?:user|channel|chat)?([0-9]+)$', 1), '')"


def marked_id_sql(expr: str) -> str:
    """SQL: bare peer id from a Bot-API/Telethon "marked" id: -100<id> (channel), -<id> (group), <id> (user)."""
    v = f"TRY_CAST(CAST({expr} AS VARCHAR) AS HUGEINT)"
    return (
        f"CAST(CASE WHEN {v} <= -1000000000000 THEN -{v} - 1000000000000 "
        f"WHEN {v} < 0 THEN -{v} ELSE {v} END AS VARCHAR)"
    )


# A date-time string that ends in a zone: "Z" or an offset right after the time of day.
_HAS_ZONE = r"[0-9]:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?\s*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)$"
_DATE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}"
ZONE_HINT = "rerun with --timezone ZONE (IANA name, e.g. Europe/Moscow)"
_UNPARSEABLE_DATE = (
    "'unparseable timestamp date=' || left(date_raw, 64) || ' (YYYY-MM-DDTHH:MM:SS between 2013-06 and 2100 expected)'"
)


def has_zone_sql(expr: str) -> str:
    """SQL: does the date-time string end in "Z" or a UTC offset?"""
    return f"regexp_matches(trim({expr}), '{_HAS_ZONE}')"


def local_time_sql(expr: str, zone: str) -> str:
    """SQL: naive UTC TIMESTAMP from an ISO date-time string; its own "Z"/offset is applied, else it
    is read as the local clock of the zone named by SQL ``zone`` (NULL zone → NULL). NULL for a
    value that is not a date with a time of day, or outside [MIN_UNIX, MAX_UNIX].

    In the hour repeated when clocks go back, the later (standard-time) reading is taken; a time in
    the hour skipped when they go forward is read with the offset before the change (ICU's rule).
    """
    v = f"trim({expr})"
    ts = (
        f"(CASE WHEN NOT regexp_matches({v}, '{_DATE_TIME}') THEN NULL "
        f"WHEN {has_zone_sql(v)} THEN TRY_CAST({v} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' "
        f"WHEN {zone} IS NOT NULL THEN timezone({zone}, TRY_CAST({v} AS TIMESTAMP)) AT TIME ZONE 'UTC' END)"
    )
    return (
        f"(CASE WHEN {ts} BETWEEN to_timestamp({MIN_UNIX}) AT TIME ZONE 'UTC' "
        f"AND to_timestamp({MAX_UNIX}) AT TIME ZONE 'UTC' THEN {ts} END)"
    )


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


_FIELDS, _FIELD_NAMES = fields_sql(
    {
        "type_j": "$.type",
        "id_j": "$.id",
        "unix_j": "$.date_unixtime",
        "date_j": "$.date",
        "from_id_j": "$.from_id",
        "from_j": "$.from",
        "fwd_j": "$.forwarded_from",
        "fwd_id_j": "$.forwarded_from_id",
        "reply_j": "$.reply_to_message_id",
        "reply_peer_j": "$.reply_to_peer_id",
        "text_j": "$.text",
        "entities_j": "$.text_entities",
        "photo_j": "$.photo",
        "file_j": "$.file",
        "via_bot_j": "$.via_bot",
        "reactions_j": "$.reactions",
    }
)

_MESSAGES = f"""
CREATE OR REPLACE TEMP TABLE _msg AS
WITH f AS (SELECT record, j, {_FIELDS} FROM _json),
g AS (SELECT record, j, {_FIELD_NAMES} FROM f)
SELECT record, j AS m, ?::VARCHAR AS chat_id, ?::VARCHAR AS chat_name, ?::VARCHAR AS chat_type,
       ?::VARCHAR AS zone,
       coalesce({str_sql("type_j")}, 'message') AS mtype,
       {str_sql("id_j")} AS msg_id,
       {str_sql("unix_j")} AS unix_raw, {str_sql("date_j")} AS date_raw,
       {str_sql("from_id_j")} AS from_raw, {str_sql("from_j")} AS from_name,
       fwd_j IS NOT NULL OR fwd_id_j IS NOT NULL AS forwarded,
       {str_sql("fwd_j")} AS fwd_name, {str_sql("fwd_id_j")} AS fwd_raw,
       {str_sql("reply_j")} AS reply_msg, {str_sql("reply_peer_j")} AS reply_peer,
       text_j,
       CASE WHEN json_type(entities_j) = 'ARRAY' THEN json_extract(entities_j, '$[*]')
            WHEN json_type(text_j) = 'ARRAY' THEN json_extract(text_j, '$[*]') ELSE [] END AS parts,
       {str_sql("photo_j")} AS photo, {str_sql("file_j")} AS file, {str_sql("via_bot_j")} AS via_bot, reactions_j
FROM g
"""


def _part_texts(types: str, value: str = "text") -> str:
    """SQL: the ``value`` ('text' or 'href') of the text parts whose type is in ``types``."""
    return (
        f"list_filter(list_transform(list_filter(typed, lambda p: p[1] IN ({types})), "
        f"lambda p: p[{2 if value == 'text' else 3}]), "
        f"lambda x: x IS NOT NULL AND x <> '')"
    )


_URL = "CASE WHEN regexp_matches(x, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN x ELSE 'https://' || x END"

_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _posts AS
WITH k AS (
    SELECT *,
           CASE WHEN forwarded THEN 'forward' WHEN reply_msg IS NOT NULL THEN 'reply' ELSE 'post' END AS kind,
           {prefixed_id_sql("from_raw")} AS from_id,
           -- each text part as [type, text, href], parsed once
           list_transform(parts, lambda p: json_extract_string(p, ['$.type', '$.text', '$.href'])) AS typed
    FROM _msg
)
SELECT
    'telegram' AS platform,
    chat_id || '/' || msg_id AS post_id,
    coalesce(from_id, chat_id) AS account_id,
    CASE WHEN unix_raw IS NOT NULL THEN {timestamp_sql("unix_raw")} ELSE {local_time_sql("date_raw", "zone")} END
        AS created_at,
    nullif(CASE json_type(text_j)
        WHEN 'VARCHAR' THEN {str_sql("text_j")}
        WHEN 'ARRAY' THEN array_to_string(list_transform(json_extract(text_j, '$[*]'), lambda p:
            CASE WHEN json_type(p) = 'VARCHAR' THEN json_extract_string(p, '$')
                 ELSE coalesce(json_extract_string(p, '$.text'), '') END), '')
        ELSE array_to_string(list_transform(typed, lambda p: coalesce(p[2], '')), '')
    END, '') AS text,
    kind,
    CASE WHEN kind = 'reply' THEN coalesce({prefixed_id_sql("reply_peer")}, chat_id) || '/' || reply_msg END
        AS parent_post_id,
    CASE WHEN kind = 'forward' THEN {prefixed_id_sql("fwd_raw")} END AS parent_account_id,
    CASE WHEN kind = 'forward' THEN fwd_name END AS parent_account_name,
    list_transform({_part_texts("'hashtag'")}, lambda x: ltrim(x, '#')) AS hashtags,
    list_concat(list_transform({_part_texts("'link', 'url'")}, lambda x: {_URL}),
                {_part_texts("'text_link'", "href")}) AS urls,
    list_transform({_part_texts("'mention'")}, lambda x: ltrim(x, '@')) AS mentions,
    list_filter([photo, file], lambda x: x IS NOT NULL AND x <> '' AND NOT starts_with(x, '(')) AS media,
    via_bot AS client,
    CASE WHEN json_type(reactions_j) = 'ARRAY' THEN  -- a sum past BIGINT (a HUGEINT) is no count: NULL
        TRY_CAST(list_sum(list_transform(json_extract(reactions_j, '$[*]'),
                                         lambda r: TRY_CAST(json_extract_string(r, '$.count') AS BIGINT))) AS BIGINT)
    END AS like_count,
    record AS source_record, record,
    chat_id, chat_name, from_id, from_name, unix_raw, date_raw, m
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
        con.execute(_MESSAGES, [chat.id, chat.name, chat.type, options.timezone])
        con.execute("DELETE FROM _msg WHERE mtype = 'service'")  # not posts, not records
        if chat.id is None:
            quarantine_where(con, q, "_msg", _sql_str(f"chat id unknown: {chat.problem}"), "m")
        quarantine_where(
            con,
            q,
            "_msg",
            "CASE WHEN mtype = 'unsupported' THEN "
            "'unsupported message: the export holds no date or content for it' END",
            "m",
        )
        quarantine_where(con, q, "_msg", required({"id": "msg_id"}), "m")
        quarantine_where(
            con,
            q,
            "_msg",
            "CASE WHEN unix_raw IS NOT NULL THEN NULL "
            "WHEN date_raw IS NULL OR trim(date_raw) = '' THEN 'missing required field date_unixtime (and no date)' "
            f"WHEN NOT regexp_matches(trim(date_raw), '{_DATE_TIME}') THEN {_UNPARSEABLE_DATE} "
            f"WHEN zone IS NULL AND NOT {has_zone_sql('date_raw')} THEN 'time without a zone: {ZONE_HINT}, the zone "
            "of the computer that made the export (date=' || left(date_raw, 64) || ' is its local clock; an export "
            "made before Telegram Desktop 3.0 has no date_unixtime)' END",
            "m",
        )
        quarantine_where(
            con,
            q,
            "_msg",
            "CASE WHEN NOT regexp_matches(msg_id, '^[0-9]+$') THEN 'unparseable message id: id=' || msg_id END",
            "m",
        )
        con.execute(_POSTS)
        quarantine_where(
            con,
            q,
            "_posts",
            "CASE WHEN created_at IS NOT NULL THEN NULL WHEN unix_raw IS NOT NULL THEN "
            f"'unparseable date_unixtime=' || unix_raw || "
            f"' (POSIX seconds between {MIN_UNIX} and {MAX_UNIX} expected)' "
            f"ELSE {_UNPARSEABLE_DATE} END",
            "m",
        )
        posts = con.sql("SELECT *, ? AS source_file FROM _posts", params=[str(path)]).to_arrow_table()
        return posts, con.sql(_ACCOUNTS, params=[str(path)]).to_arrow_table()

    yield from read_arrays(
        path,
        options,
        lambda keys: keys in _MESSAGE_ARRAYS,
        5,
        parse,
        "no messages array: not a Telegram Desktop chat export (expected "
        '{"name", "type", "id", "messages": [...]} or a full export with chats.list)',
    )


def _sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _chat_header(path: Path, arr: JsonArray) -> Chat:
    """name/type/id of the chat holding ``arr``: its object with the messages left out."""
    if arr.owner_start is None:
        return Chat(None, None, None, "the messages array is not inside a chat object")
    if arr.start - arr.owner_start > MAX_HEADER_BYTES:
        return Chat(None, None, None, "chat header too large")
    with open_input(path) as fh:
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
    except RecursionError:  # a value nested thousands deep somewhere in the chat object
        return Chat(None, None, None, "chat header nested too deeply to read")
    raw_id = obj.get("id")
    # an integer (not true/false) or ASCII digits (str.isdigit also takes "١٢", Arabic-Indic digits)
    number = isinstance(raw_id, int) and not isinstance(raw_id, bool)
    chat_id = str(raw_id) if number or (isinstance(raw_id, str) and raw_id.isascii() and raw_id.isdigit()) else None
    name = obj.get("name") if isinstance(obj.get("name"), str) else None
    return Chat(
        chat_id,
        name,
        obj.get("type") if isinstance(obj.get("type"), str) else None,
        None if chat_id else f"the chat object has no numeric id (id={raw_id!r})",
    )
