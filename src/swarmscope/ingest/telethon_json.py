"""Telethon message dumps: JSON arrays, JSON lines or ``{"messages": [...]}``, one file per chat.

Two record layouts, mixed freely:

- the flat layout scrapers commonly write:
  ``{message_id, sender_id, text, date, channel, ...}``;
- Telethon's own ``Message.to_dict()`` dumped with ``json.dumps(default=str)``:
  ``{"_": "Message", id, peer_id: {channel_id}, from_id: {user_id}, date,
  message, fwd_from: {from_id, channel_post, from_name}, reply_to:
  {reply_to_msg_id, reply_to_peer_id}, views, forwards, replies: {replies},
  entities: [...], media: {...}}``.

Three file layouts (jsonrecords.py tells them apart): a JSON array of
messages (each element a record, numbered by position); JSON lines, one
message per line (numbered by line); and telegram-tracker's
``{"messages": [...], "count": n}`` (each element of ``messages`` a record).
Documents stream through jsonstream (bounded memory, a cut file keeps every
message before the cut).

Identity is shared with telegram_desktop so a post seen in both is one post:
``account_id`` is the bare peer id (Telethon's "marked" ids ``-100<id>`` for
channels and ``-<id>`` for basic groups are unmarked), ``post_id`` is
``"<chat id>/<message id>"``. The chat is, in order: ``chat_id`` /
``channel_id`` / ``peer_id``; else the file name ``<chat id>_messages.json``
(a 13+ digit name starting ``100`` is a channel's marked id without its
minus sign); else ``sender_id`` when it is a channel or group.

Time: ``date`` with its offset converted to UTC; a date without an offset is
taken as UTC (Telethon's datetimes are UTC); POSIX seconds are accepted too.

Links, hashtags and @mentions: from Telethon's ``entities`` where the
message carries them (``MessageEntityTextUrl.url``, the text under
``MessageEntityUrl``, ``MessageEntityHashtag`` and ``MessageEntityMention``;
offsets are UTF-16 code units, see ``utf16_piece``) and a link preview's
``media.webpage.url``, then those found in the text (patterns in
docs/formats.md), each kept once in order. The flat layout carries no
entities: the text is all there is. The text pass also catches what a dump
with an empty or partial ``entities`` array left out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from .base import Batch, Quarantine, ReadOptions
from .jsonrecords import note_sql, read_records
from .jsonsql import quarantine_where, required, utc
from .jsonstream import _BOM
from .telegram_desktop import fields_sql, marked_id_sql, str_sql, timestamp_sql

NAME = "telethon_json"
DESCRIPTION = (
    "Telethon message dump: JSON array or JSON lines of {message_id, sender_id, text, date, channel} "
    'or Message.to_dict(), or {"messages": [...]}'
)

_SNIFF_KEYS = re.compile(rb'"(?:message_id|sender_id)"\s*:')
_SNIFF_TO_DICT = re.compile(rb'"_"\s*:\s*"Message(?:Service)?"')
_LINE_TO_DICT = re.compile(rb'^\{\s*"_"\s*:\s*"Message(?:Service)?"')
_MESSAGES_KEY = re.compile(rb'"messages"\s*:\s*\[')
_FILE_ID = re.compile(r"^(-?)(\d+)(?:_.*)?$")

# Hashtags: '#' then Unicode letters/digits/underscore, not inside a word or URL.
HASHTAG_RE = r"(?:^|[^\pL\pN_/#&])#([\pL\pN_]*[\pL_][\pL\pN_]*)"
# Telegram usernames: 4 to 32 ASCII letters, digits and underscores.
MENTION_RE = r"(?:^|[^\pL\pN_@])@([A-Za-z][A-Za-z0-9_]{3,31})"
# As enrich/text.URL_RE; trailing punctuation is cut afterwards.
URL_RE = r"(?i)\b(?:https?://|www\.)\S+"
_URL_TAIL = r"[.,;:!?)\]}»\"'…]+$"

CONTAINERS = {"messages": "$.messages"}


def sniff(path: Path, head: bytes) -> bool:
    body = head.removeprefix(_BOM).lstrip()
    if body.startswith(b"["):
        return b'"date"' in body and (bool(_SNIFF_KEYS.search(body)) or bool(_SNIFF_TO_DICT.search(body)))
    if not body.startswith(b"{"):
        return False
    if _LINE_TO_DICT.match(body):  # Message.to_dict() puts "_" first: JSON lines of messages
        return True
    if _MESSAGES_KEY.search(body) and _SNIFF_TO_DICT.search(body):  # telegram-tracker's {"messages": [...]}
        return True
    first = body.split(b"\n", 1)[0]
    try:
        obj = json.loads(first)
    except (ValueError, RecursionError):
        return False
    # a flat-layout message per line: the same keys the array layout is known by
    return isinstance(obj, dict) and "date" in obj and ("message_id" in obj or "sender_id" in obj)


def chat_id_from_name(path: Path) -> str | None:
    """The bare chat id a file name like ``1001000724666_messages.json`` or ``-1001000724666.json`` gives."""
    m = _FILE_ID.match(path.name.split(".", 1)[0])
    if not m:
        return None
    sign, digits = m.groups()
    n = int(digits)
    if sign or (len(digits) >= 13 and digits.startswith("100")):
        n = n - 1_000_000_000_000 if n >= 1_000_000_000_000 else n
    return str(n)


def _peer(obj: str) -> str:
    """SQL: bare id of a Telethon Peer object (PeerChannel/PeerChat/PeerUser), or of a marked scalar id."""
    scalar = marked_id_sql(f"json_extract_string({obj}, '$')")
    return (
        f"coalesce(json_extract_string({obj}, '$.channel_id'), json_extract_string({obj}, '$.chat_id'), "
        f"json_extract_string({obj}, '$.user_id'), "
        f"CASE WHEN json_type({obj}) IN ('BIGINT', 'UBIGINT', 'VARCHAR') THEN {scalar} END)"
    )


def _text(col: str) -> str:
    return f"CASE WHEN json_type({col}) = 'VARCHAR' THEN {str_sql(col)} END"


def lit(s: str) -> str:
    """A SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


# Characters outside the Basic Multilingual Plane are two UTF-16 code units (a surrogate pair).
_ASTRAL = r"[\x{10000}-\x{10FFFF}]"
_PAD = "chr(65535) || chr(65535)"  # U+FFFF, a noncharacter: never in real text


def utf16_units_sql(text: str) -> str:
    """SQL: ``text`` with each astral character replaced by two U+FFFF, so that character
    positions equal UTF-16 code-unit offsets (Telegram's entity offsets and lengths)."""
    return f"regexp_replace({text}, {lit(_ASTRAL)}, {_PAD}, 'g')"


def utf16_piece(units: str, offset: str, length: str) -> str:
    """SQL: the text under an entity, from the ``utf16_units_sql`` string. An entity over an
    emoji loses it (hashtags, mentions and URLs have none)."""
    return f"replace(substr({units}, TRY_CAST({offset} AS BIGINT) + 1, TRY_CAST({length} AS BIGINT)), chr(65535), '')"


URL_SCHEME_SQL = "CASE WHEN regexp_matches(x, '^[A-Za-z][A-Za-z0-9+.-]*://') THEN x ELSE 'https://' || x END"
CLEAN_URL_SQL = f"regexp_replace(u, {lit(_URL_TAIL)}, '')"


def text_lists_sql(body: str) -> str:
    """SQL select items: hashtags, urls, mentions found in the text ``body`` (no entities)."""
    return (
        f"regexp_extract_all(coalesce({body}, ''), {lit(HASHTAG_RE)}, 1) AS text_hashtags, "
        f"list_filter(list_transform(regexp_extract_all(coalesce({body}, ''), {lit(URL_RE)}), "
        f"lambda u: {CLEAN_URL_SQL}), lambda u: u <> '') AS text_urls, "
        f"regexp_extract_all(coalesce({body}, ''), {lit(MENTION_RE)}, 1) AS text_mentions"
    )


def distinct_in_order(col: str) -> str:
    """SQL: the non-NULL items of list column ``col``, first occurrence kept, order kept.

    Pass a column, not an expression: it is read again for every item."""
    return f"list_filter({col}, lambda u, k: u IS NOT NULL AND list_position({col}, u) = k)"


_FIELDS, _FIELD_NAMES = fields_sql(
    {
        "message_id_j": "$.message_id",
        "id_j": "$.id",
        "date_j": "$.date",
        "sender_j": "$.sender_id",
        "from_j": "$.from_id",
        "chat_j": "$.chat_id",
        "channel_id_j": "$.channel_id",
        "peer_j": "$.peer_id",
        "fwd_j": "$.fwd_from",
        "reply_msg_j": "$.reply_to_msg_id",
        "reply_to_j": "$.reply_to",
        "reply_message_j": "$.reply_to_message_id",
        "text_j": "$.text",
        "message_j": "$.message",
        "views_j": "$.views",
        "forwards_j": "$.forwards",
        "replies_j": "$.replies",
        "channel_j": "$.channel",
        "channel_title_j": "$.channel_title",
        "chat_title_j": "$.chat_title",
        "type_j": "$._",
        "entities_j": "$.entities",
        "media_j": "$.media",
    }
)

_UNIX_DATE = timestamp_sql("json_extract_string(date_j, '$')")
_ISO_DATE = utc("json_extract_string(date_j, '$')")

_MESSAGES = f"""
CREATE OR REPLACE TEMP TABLE _msg AS
WITH f AS (SELECT record, pos, src, j, {_FIELDS} FROM _items),
g AS (SELECT record, pos, src, j, {_FIELD_NAMES} FROM f),
h AS (
    SELECT record, pos, src, j,
           {str_sql("type_j")} AS tl_type,
           coalesce({str_sql("message_id_j")}, {str_sql("id_j")}) AS msg_id,
           date_j,
           {_peer("sender_j")} AS sender_id,
           {_peer("from_j")} AS from_id,
           coalesce({_peer("chat_j")}, {_peer("channel_id_j")}, {_peer("peer_j")}) AS stated_chat,
           CASE WHEN {str_sql("sender_j")} LIKE '-%' THEN {_peer("sender_j")} END AS sender_chat,
           CASE WHEN json_type(fwd_j) = 'OBJECT' THEN fwd_j END AS fwd,
           coalesce({str_sql("reply_msg_j")}, json_extract_string(reply_to_j, '$.reply_to_msg_id'),
                    {str_sql("reply_message_j")}) AS reply_msg,
           {_peer("json_extract(reply_to_j, '$.reply_to_peer_id')")} AS reply_chat,
           coalesce({_text("text_j")}, {_text("message_j")}) AS body,
           TRY_CAST({str_sql("views_j")} AS BIGINT) AS view_count,
           TRY_CAST({str_sql("forwards_j")} AS BIGINT) AS repost_count,
           coalesce(TRY_CAST(json_extract_string(replies_j, '$.replies') AS BIGINT),
                    CASE WHEN json_type(replies_j) IN ('BIGINT', 'UBIGINT')
                         THEN TRY_CAST({str_sql("replies_j")} AS BIGINT) END)
               AS reply_count,
           coalesce({_text("channel_j")}, {_text("channel_title_j")}, {_text("chat_title_j")}) AS chat_name,
           -- each entity as [type, offset, length, url], parsed once; NULL where the record has no entities array
           CASE WHEN json_type(entities_j) = 'ARRAY' THEN list_transform(json_extract(entities_j, '$[*]'),
               lambda e: json_extract_string(e, ['$._', '$.offset', '$.length', '$.url'])) END AS ents,
           CASE WHEN json_type(media_j) = 'OBJECT' THEN media_j END AS media_obj
    FROM g
)
SELECT *, coalesce(stated_chat, ?::VARCHAR, sender_chat) AS chat_id,
       coalesce(sender_id, from_id) AS author_id,
       CASE WHEN json_type(date_j) IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN {_UNIX_DATE} ELSE {_ISO_DATE} END
           AS created_at,
       {str_sql("date_j")} AS date_raw
FROM h
"""


def _entities(types: str, value: str) -> str:
    """SQL: ``value`` (over entity ``e`` and the UTF-16 string ``units``) for the entities whose type is
    in ``types``."""
    return f"list_transform(list_filter(ents, lambda e: e[1] IN ({types})), lambda e: {value})"


_PIECE = utf16_piece("units", "e[2]", "e[3]")
_WEBPAGE = "json_extract_string(media_obj, '$.webpage.url')"

_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _posts AS
WITH t AS (
    SELECT *,
           CASE WHEN fwd IS NOT NULL THEN 'forward' WHEN reply_msg IS NOT NULL THEN 'reply' ELSE 'post' END AS kind,
           {_peer("json_extract(fwd, '$.from_id')")} AS fwd_account,
           CASE WHEN ents IS NOT NULL THEN {utf16_units_sql("coalesce(body, '')")} END AS units,
           {text_lists_sql("body")}
    FROM _msg
),
e AS (
    SELECT *,
           {_entities("'MessageEntityHashtag'", f"ltrim({_PIECE}, '#')")} AS ent_hashtags,
           {_entities("'MessageEntityMention'", f"ltrim({_PIECE}, '@')")} AS ent_mentions,
           list_concat({
    _entities(
        "'MessageEntityUrl', 'MessageEntityTextUrl'",
        f"CASE WHEN e[1] = 'MessageEntityTextUrl' THEN e[4] ELSE {_PIECE} END",
    )
},
                       [{_WEBPAGE}]) AS ent_urls
    FROM t
),
l AS (
    -- entities first, then the text; materialised here so the de-duplication below reads columns
    SELECT *,
           list_filter(list_concat(coalesce(ent_hashtags, []), text_hashtags), lambda x: x <> '') AS all_hashtags,
           list_transform(list_filter(list_concat(coalesce(ent_urls, []), text_urls),
                                      lambda x: x IS NOT NULL AND x <> ''),
                          lambda x: {URL_SCHEME_SQL}) AS all_urls,
           list_filter(list_concat(coalesce(ent_mentions, []), text_mentions), lambda x: x <> '') AS all_mentions
    FROM e
)
SELECT
    'telegram' AS platform,
    chat_id || '/' || msg_id AS post_id,
    coalesce(author_id, chat_id) AS account_id,
    created_at,
    nullif(body, '') AS text,
    kind,
    CASE WHEN kind = 'reply' THEN coalesce(reply_chat, chat_id) || '/' || reply_msg
         WHEN kind = 'forward' AND json_exists(fwd, '$.from_id.channel_id')
              AND json_extract_string(fwd, '$.channel_post') IS NOT NULL
              THEN fwd_account || '/' || json_extract_string(fwd, '$.channel_post') END AS parent_post_id,
    CASE WHEN kind = 'forward' THEN fwd_account END AS parent_account_id,
    CASE WHEN kind = 'forward' THEN json_extract_string(fwd, '$.from_name') END AS parent_account_name,
    {distinct_in_order("all_hashtags")} AS hashtags,
    {distinct_in_order("all_urls")} AS urls,
    {distinct_in_order("all_mentions")} AS mentions,
    list_filter([CASE json_extract_string(media_obj, '$._')
                      WHEN 'MessageMediaPhoto' THEN 'photo:' || json_extract_string(media_obj, '$.photo.id')
                      WHEN 'MessageMediaDocument' THEN 'document:' || json_extract_string(media_obj, '$.document.id')
                 END],
                lambda x: x IS NOT NULL) AS media,
    view_count, repost_count, reply_count,
    record AS source_record, record, pos, src,
    chat_id, chat_name, author_id, date_raw, j
FROM l
"""

_ACCOUNTS = """
WITH seen AS (
    SELECT chat_id AS account_id, chat_name AS display_name, created_at FROM _posts
    UNION ALL
    SELECT author_id, CASE WHEN author_id = chat_id THEN chat_name END, created_at FROM _posts
    WHERE author_id IS NOT NULL
    UNION ALL
    SELECT parent_account_id, NULL, created_at FROM _posts WHERE parent_account_id IS NOT NULL
)
SELECT 'telegram' AS platform, account_id,
       arg_max(display_name, created_at) FILTER (WHERE display_name IS NOT NULL) AS display_name,
       max(created_at) AS snapshot_at, ? AS source_file
FROM seen GROUP BY account_id
"""

_CHECKS = [
    required({"message_id": "msg_id", "date": "date_raw"}),
    "CASE WHEN NOT regexp_matches(msg_id, '^[0-9]+$') THEN 'unparseable message id: message_id=' || msg_id END",
    "CASE WHEN chat_id IS NULL THEN 'cannot tell the chat: no chat_id or peer_id, the file name does not start "
    "with a chat id, and sender_id is not a channel' END",
    "CASE WHEN created_at IS NULL THEN 'unparseable date=' || date_raw || "
    "' (ISO 8601 with offset, or POSIX seconds, expected)' END",
]


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    file_chat = chat_id_from_name(path)

    def parse(con: duckdb.DuckDBPyConnection, q: Quarantine) -> tuple[pa.Table, pa.Table, None]:
        con.execute(_MESSAGES, [file_chat])
        # Telethon's MessageService (pins, joins, title changes) is not a post and not a record
        con.execute("DELETE FROM _msg WHERE tl_type = 'MessageService'")
        quarantine_where(
            con,
            q,
            "_msg",
            "(CASE WHEN json_type(j) <> 'OBJECT' THEN 'not a message (expected a JSON object)' END)",
            "j",
        )
        for check in _CHECKS:
            quarantine_where(con, q, "_msg", f"(({check}) || {note_sql()})", "j")
        con.execute(_POSTS)
        posts = con.sql(
            "SELECT * EXCLUDE (pos, src), ? AS source_file FROM _posts", params=[str(path)]
        ).to_arrow_table()
        return posts, con.sql(_ACCOUNTS, params=[str(path)]).to_arrow_table(), None

    yield from read_records(
        path,
        options,
        CONTAINERS,
        parse,
        'no messages: a Telethon dump is a JSON array [{...}, ...], JSON lines, or {"messages": [...]}',
    )
