"""CSV files written by Telethon-based Telegram scrapers: one message per row, columns found by name.

There is no one layout: every scraper picks its own columns from Telethon's
``Message``. The names below are those of real scrapers (see
docs/formats.md for the layouts checked), matched case-insensitively; the
first present wins:

- message id: ``message_id``, ``msg_id``, ``id``;
- time: ``date``, ``datetime`` (Telethon's UTC datetime as text, e.g. pandas'
  ``2024-01-01 12:00:00+00:00`` or ``isoformat()``; an offset is applied, no
  offset is UTC; POSIX seconds accepted). A ``time`` column is joined to a
  date-only ``date``; a date with no time of day is quarantined, because a
  midnight stand-in would make every post of a day look simultaneous;
- text: ``text``, ``message``, ``message_text``, ``content``;
- sender: ``sender_id``, ``from_id``, ``msg_from_id``; chat: ``channel_id``,
  ``chat_id``, ``peer_id``, else the file name ``<chat id>….csv``, else a
  sender that is a channel or group (marked ``-100…``/``-…`` id). Ids may be
  bare, marked, or Telethon's repr ``PeerChannel(channel_id=123)``;
- reply: ``reply_to_msg_id``, ``reply_to_message_id``, ``reply_to`` (a
  number or ``MessageReplyHeader(reply_to_msg_id=12, …)``);
- forward: ``is_forward``/``is_forwarded``/``forwarded`` true, a
  ``fwd_from`` that is not empty or ``None`` (Telethon's repr or JSON is
  searched for ``channel_id``/``user_id``, ``channel_post``, ``from_name``),
  or a source column: id ``fwd_from_id``, ``fwd_from_channel_id``,
  ``forward_from_id``, ``forward_msg_from_peer_id``; name ``fwd_from_name``,
  ``forward_from_name``, ``forward_msg_from_peer_name``; post
  ``fwd_channel_post``, ``fwd_from_channel_post``, ``channel_post``, else the
  number ending ``forward_msg_link``;
- counts: ``views``; ``forwards``/``number_forwards``; ``replies``/
  ``number_replies``/``reply_count`` (a number or ``MessageReplies(replies=3, …)``);
- lists: ``url``/``urls``/``links`` and ``hashtags`` columns plus what the
  text holds (same patterns as telethon_json); media ``media_path``,
  ``document_id`` (as ``document:<id>``), ``photo_id`` (``photo:<id>``);
- accounts: the chat with ``channel_name``/``channel_title``/``chat_title``/
  ``chat_name``/``channel``; senders with ``sender_username`` and
  ``sender_name`` (else ``sender_first_name``/``first_name`` +
  ``sender_last_name``/``last_name``).

Identity as telethon_json and telegram_desktop (``"<chat id>/<message
id>"``, bare peer ids), so a message in a CSV and in a JSON dump is one post.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import tabular as t
from .base import Batch, ReadOptions
from .jsonsql import required
from .telegram_desktop import marked_id_sql
from .telethon_json import URL_SCHEME_SQL, chat_id_from_name, distinct_in_order, lit, text_lists_sql

NAME = "telethon_csv"
DESCRIPTION = "Telethon scraper CSV: message_id/msg_id/id, date, text/message, sender_id/from_id, views, forwards, ..."

IDS = ("message_id", "msg_id", "id")
DATES = ("date", "datetime")
_MARKERS = {
    "sender_id",
    "from_id",
    "msg_from_id",
    "reply_to_msg_id",
    "fwd_from",
    "fwd_from_id",
    "forward_from_id",
    "forward_msg_from_peer_id",
    "forwards",
    "number_forwards",
    "peer_id",
}


def sniff(path: Path, head: bytes) -> bool:
    names = t.header_names(head)
    if not names:
        return False
    cols = set(names)
    if "thread_id" in cols and "body" in cols:  # a 4CAT export (its Telegram datasource has views, forwards)
        return False
    return bool(cols & set(IDS)) and bool(cols & set(DATES)) and bool(cols & _MARKERS)


def _check(header: t.Header) -> None:
    missing = [f"one of {', '.join(group)}" for group in (IDS, DATES) if not any(header.find(c) for c in group)]
    if missing:
        raise t.FileProblem(
            f"not a Telethon scraper CSV: no {' and no '.join(missing)} column; found {', '.join(header.names[:20])}"
        )


_LIST_SEP = "[,\\s]+"  # url/urls columns: comma- or space-separated


def _whole(expr: str) -> str:
    """SQL: an integer written by pandas as a float ("12.0", where the column had gaps) back to "12"."""
    return f"regexp_replace({expr}, '^(-?[0-9]+)\\.0+$', '\\1')"


def _peer_sql(expr: str) -> str:
    """SQL: bare peer id from a bare or marked number, or from Telethon's repr / a JSON peer object."""
    expr = _whole(expr)
    return (
        f"CASE WHEN regexp_full_match({expr}, '-?[0-9]+') THEN {marked_id_sql(expr)} "
        f"ELSE nullif(regexp_extract({expr}, "
        "'(?:channel_id|chat_id|user_id)[\"'']?\\s*[=:]\\s*([0-9]+)', 1), '') END"
    )


def _number_in(expr: str, key: str) -> str:
    """SQL: ``expr`` when it is a number, else the number after ``key=`` / ``"key":`` inside it
    (Telethon repr, JSON)."""
    expr = _whole(expr)
    return (
        f"CASE WHEN regexp_full_match({expr}, '[0-9]+') THEN {expr} "
        f"ELSE nullif(regexp_extract({expr}, '{key}[\"'']?\\s*[=:]\\s*([0-9]+)', 1), '') END"
    )


def _key_number(expr: str, key: str) -> str:
    """SQL: the number after ``key=`` / ``"key":`` inside a Telethon repr or JSON text."""
    return f"nullif(regexp_extract({expr}, '{key}[\"'']?\\s*[=:]\\s*([0-9]+)', 1), '')"


def _present(expr: str) -> str:
    """SQL: a cell that holds something (not empty, 'None', 'null', 'nan', '0', 'false')."""
    return f"(coalesce(lower({expr}), '') NOT IN ('', 'none', 'null', 'nan', '0', 'false', '[]', '{{}}'))"


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    file_chat = chat_id_from_name(path)

    def transform(con, h: t.Header, q) -> dict:
        def f(*names: str) -> str:
            return t.first_field(h, *names)

        def has(*names: str) -> bool:
            return any(h.find(n) for n in names)

        date_col = next(h.find(c) for c in DATES if h.find(c))
        date = f(date_col)
        if h.find("time"):
            date = (
                f"CASE WHEN regexp_full_match({date}, '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}') "
                f"AND {f('time')} IS NOT NULL THEN {date} || ' ' || {f('time')} ELSE {date} END"
            )
        text = f"coalesce({', '.join(t.text_field(h, c) for c in ('text', 'message', 'message_text', 'content'))})"
        fwd_from = f("fwd_from")
        fwd_id = f("fwd_from_id", "fwd_from_channel_id", "forward_from_id", "forward_msg_from_peer_id")
        fwd_name = f("fwd_from_name", "forward_from_name", "forward_msg_from_peer_name")
        fwd_post = f("fwd_channel_post", "fwd_from_channel_post", "channel_post")
        fwd_link_post = f"nullif(regexp_extract({f('forward_msg_link')}, '/([0-9]+)/?$', 1), '')"
        fwd_repr_name = (
            f"nullif(regexp_extract({fwd_from}, 'from_name[\"'']?\\s*[=:]\\s*[\"'']([^\"'']+)[\"'']', 1), '')"
        )
        sender_name = (
            f("sender_name")
            if has("sender_name")
            else f"nullif(concat_ws(' ', {f('sender_first_name', 'first_name')}, "
            f"{f('sender_last_name', 'last_name')}), '')"
        )
        url_col = f"coalesce({t.list_of(f('url', 'urls', 'links'), sep=_LIST_SEP)}, [])"
        media_parts = [f("media_path")]
        if has("document_id"):
            media_parts.append(f"'document:' || {f('document_id')}")
        if has("photo_id"):
            media_parts.append(f"'photo:' || {f('photo_id')}")
        t.stage(
            con,
            q,
            f"""WITH b AS (
                    SELECT *, {_whole(f(*IDS))} AS msg_id, {date} AS created_raw, {text} AS body,
                           {_peer_sql(f("sender_id", "from_id", "msg_from_id"))} AS sender,
                           coalesce({_peer_sql(f("channel_id", "chat_id", "peer_id"))},
                                    {lit(file_chat) if file_chat else "NULL"},
                                    CASE WHEN starts_with({f("sender_id", "from_id", "msg_from_id")}, '-')
                                         THEN {_peer_sql(f("sender_id", "from_id", "msg_from_id"))} END) AS chat,
                           {_number_in(f("reply_to_msg_id", "reply_to_message_id", "reply_to"), "reply_to_msg_id")}
                               AS reply_msg,
                           coalesce({_peer_sql(fwd_id)}, {_peer_sql(fwd_from)}) AS fwd_account,
                           coalesce({_whole(fwd_post)}, {_key_number(fwd_from, "channel_post")}, {fwd_link_post})
                               AS fwd_post,
                           coalesce({fwd_name}, {fwd_repr_name}) AS fwd_name
                    FROM _rows
                ),
                k AS (
                    SELECT *, CASE WHEN {t.truthy(f("is_forward", "is_forwarded", "forwarded"))} OR {_present(fwd_from)}
                                        OR fwd_account IS NOT NULL OR fwd_name IS NOT NULL THEN 'forward'
                                   WHEN reply_msg IS NOT NULL AND reply_msg <> '0' THEN 'reply' ELSE 'post' END AS kind,
                              {text_lists_sql("body")}
                    FROM b
                ),
                l AS (
                    SELECT *,
                           list_concat(coalesce({t.list_of(f("hashtags"), strip="#")}, []), text_hashtags)
                               AS all_hashtags,
                           list_transform(list_concat({url_col}, text_urls), lambda x: {URL_SCHEME_SQL}) AS all_urls
                    FROM k
                )
                SELECT 'telegram' AS platform, chat || '/' || msg_id AS post_id, coalesce(sender, chat) AS account_id,
                       {t.any_time("created_raw")} AS created_at, created_raw,
                       body AS text, kind,
                       CASE WHEN kind = 'reply' THEN chat || '/' || reply_msg
                            WHEN kind = 'forward' AND fwd_post IS NOT NULL THEN fwd_account || '/' || fwd_post END
                           AS parent_post_id,
                       CASE WHEN kind = 'forward' THEN fwd_account END AS parent_account_id,
                       CASE WHEN kind = 'forward' THEN fwd_name END AS parent_account_name,
                       {distinct_in_order("all_hashtags")} AS hashtags, {distinct_in_order("all_urls")} AS urls,
                       {distinct_in_order("text_mentions")} AS mentions,
                       list_filter([{", ".join(media_parts)}], lambda x: x IS NOT NULL) AS media,
                       {t.integer(f("views", "view_count"))} AS view_count,
                       {t.integer(f("forwards", "number_forwards", "forward_count"))} AS repost_count,
                       {t.integer(_number_in(f("replies", "number_replies", "reply_count"), "replies"))} AS reply_count,
                       chat, sender, msg_id,
                       {f("channel_name", "channel_title", "chat_title", "chat_name", "channel")} AS chat_name,
                       {f("sender_username")} AS sender_handle, {sender_name} AS sender_name,
                       {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
                FROM l""",
            [
                required({"message_id": "msg_id", "date": "created_raw"}),
                "CASE WHEN NOT regexp_full_match(msg_id, '[0-9]+') THEN 'unparseable message id: ' || msg_id END",
                "CASE WHEN chat IS NULL THEN 'cannot tell the chat: no channel_id/chat_id/peer_id column, "
                "the file name does not start with a chat id (rename it <chat id>_messages.csv), "
                "and the sender is not a channel' END",
                "CASE WHEN regexp_full_match(trim(created_raw), '[0-9]{4}-[0-9]{2}-[0-9]{2}') "
                "THEN 'date without a time of day: ' || created_raw "
                "|| ' (add a time column or export full timestamps)' END",
                "CASE WHEN created_at IS NULL THEN 'unparseable date=' || created_raw || "
                "' (ISO 8601, with offset or UTC, or POSIX seconds expected)' END",
            ],
        )
        posts = con.sql(
            "SELECT * EXCLUDE (chat, sender, msg_id, chat_name, sender_handle, sender_name), "
            "? AS source_file FROM _stage",
            params=[q.source_file],
        ).to_arrow_table()
        accounts = con.sql(
            """WITH seen AS (
                   SELECT chat AS account_id, NULL AS handle, chat_name AS display_name, created_at, record FROM _stage
                   UNION ALL
                   SELECT sender, sender_handle, CASE WHEN sender = chat THEN chat_name ELSE sender_name END,
                          created_at, record FROM _stage WHERE sender IS NOT NULL
                   UNION ALL
                   SELECT parent_account_id, NULL, parent_account_name, created_at, record FROM _stage
                   WHERE parent_account_id IS NOT NULL
               )
               SELECT 'telegram' AS platform, account_id,
                      arg_max(handle, created_at) FILTER (WHERE handle IS NOT NULL) AS handle,
                      arg_max(display_name, created_at) FILTER (WHERE display_name IS NOT NULL) AS display_name,
                      max(created_at) AS snapshot_at, ? AS source_file
               FROM seen GROUP BY account_id""",
            params=[q.source_file],
        ).to_arrow_table()
        return {"posts": posts, "accounts": accounts}

    yield from t.drive(path, options, _check, transform)
