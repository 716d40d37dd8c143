"""4CAT CSV exports (digitalmethodsinitiative/4cat): any datasource's flat item table.

Every 4CAT datasource maps its items to one flat row (``map_item``) with at
least ``id``, ``thread_id``, ``body``, ``author`` and a time: ``timestamp``
("YYYY-MM-DD HH:MM:SS", or POSIX seconds in older TikTok exports) and
usually ``unix_timestamp``. ``unix_timestamp`` is preferred where present:
some datasources wrote ``timestamp`` in the 4CAT server's local zone
(``datetime.fromtimestamp``), while ``unix_timestamp`` is unambiguous. A
``timestamp`` string without a zone is read as UTC.

Columns used where present (all others ignored):

- account: ``author_id``, else ``author`` (Telegram writes the sender id in
  ``author``); handle ``author_username``, else ``author``; display name
  ``author_fullname`` / ``author_name`` / ``author_full``; followers
  ``author_followers``;
- text: ``body``, with ``subject`` (a forum or Reddit title) before it;
- kind: ``is_retweet`` yes → repost; ``is_reply`` yes or a ``reply_to``
  message id (Telegram) → reply; ``is_quote_tweet`` yes → quote; a Telegram
  row with a forwarded-from author → forward;
- lists, comma-separated: ``hashtags``, ``urls`` (else ``link_attached``),
  ``mentions`` (else ``entities_mentioned``), media ``images`` + ``videos``;
- counts: likes (``like_count``/``likes``), reposts (``retweet_count``/
  ``shares``), replies (``reply_count``/``comments``), ``quote_count``, views
  (``impression_count``/``views``/``plays``); client ``source``; language
  ``language_guess``.

Platform: a datasource hint from the columns (``tiktok_url``/``music_name``
→ tiktok; ``is_retweet`` with ``is_quote_tweet`` → x; Telegram's
``author_forwarded_from_name``/``unix_timestamp_forwarded_from`` → telegram)
or from the file name's first word (``tiktok-…``, ``telegram-…``,
``twitterv2-…``, ``instagram-…``, ``youtube-…``, ``facebook-…``,
``bsky-…``); else ``options.platform``; else ``other``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from . import tabular as t
from .base import Batch, ReadOptions
from .jsonsql import required

NAME = "fourcat_csv"
DESCRIPTION = "4CAT CSV export (id, thread_id, body, author, timestamp/unix_timestamp, ...)"
# No retweet field: "RT @handle: text" rows are reposts (base.classic_retweets).
CLASSIC_RETWEETS = True

_FILE_HINTS = {
    "tiktok": "tiktok",
    "douyin": "other",
    "telegram": "telegram",
    "twitter": "x",
    "twitterv2": "x",
    "x": "x",
    "instagram": "instagram",
    "youtube": "youtube",
    "facebook": "facebook",
    "bsky": "bluesky",
    "bluesky": "bluesky",
    "vk": "vk",
}


def sniff(path: Path, head: bytes) -> bool:
    names = t.header_names(head)
    if not names:
        return False
    cols = set(names)
    return {"id", "thread_id", "body", "author"} <= cols and bool(cols & {"timestamp", "unix_timestamp"})


def _check(header: t.Header) -> None:
    t.require_columns(header, ["id", "body", "author"], "4CAT")
    if not (header.find("timestamp") or header.find("unix_timestamp")):
        raise t.FileProblem("not a 4CAT file: no timestamp or unix_timestamp column")


def platform_hint(header: t.Header, path: Path) -> str | None:
    """The platform a 4CAT export comes from, judged by its columns, then its file name."""
    if header.find("tiktok_url") or header.find("music_name"):
        return "tiktok"
    if header.has("is_retweet", "is_quote_tweet"):
        return "x"
    if header.find("author_forwarded_from_name") or header.find("unix_timestamp_forwarded_from"):
        return "telegram"
    first = re.split(r"[-_ .]", path.name.lower(), maxsplit=1)[0]
    return _FILE_HINTS.get(first)


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    def transform(con, h: t.Header, q) -> dict:
        platform = platform_hint(h, path) or options.platform or "other"

        def f(name: str) -> str:
            return t.field(h, name)

        def first(*names: str) -> str:
            return t.first_field(h, *names)

        when = ("unix_timestamp", f"{t.epoch(f('unix_timestamp'))}") if h.find("unix_timestamp") else None
        time_sql = t.any_time(f("timestamp")) if h.find("timestamp") else "CAST(NULL AS TIMESTAMP)"
        if when:
            time_sql = f"coalesce({when[1]}, {time_sql})"
        time_raw = first("unix_timestamp", "timestamp")
        time_name = "unix_timestamp" if h.find("unix_timestamp") else "timestamp"
        subject, body = t.text_field(h, "subject"), t.text_field(h, "body")
        forwarded = first(
            "author_forwarded_from_id",
            "author_forwarded_from_username",
            "author_forwarded_from_name",
            "unix_timestamp_forwarded_from",
        )
        reply_to = f("reply_to")
        # Telegram ids are "<chat>-<message>" in newer exports; reply_to is the bare message id
        thread = f("thread_id")
        parent = (
            f"CASE WHEN {reply_to} IS NULL THEN NULL "
            f"WHEN regexp_full_match({reply_to}, '[0-9]+') AND starts_with({f('id')}, {thread} || '-') "
            f"THEN {thread} || '-' || {reply_to} "
            f"WHEN regexp_full_match({reply_to}, '[0-9]+') THEN {reply_to} END"
        )
        media = (
            f"list_concat(coalesce({t.list_of(f('images'))}, []), coalesce({t.list_of(f('videos'))}, []))"
            if h.find("images") or h.find("videos")
            else "CAST(NULL AS VARCHAR[])"
        )
        t.stage(
            con,
            q,
            f"""WITH base AS (
                    SELECT *, {t.truthy(f("is_retweet"))} AS is_rt,
                           {t.truthy(f("is_reply"))} OR ({parent}) IS NOT NULL AS is_re,
                           {t.truthy(f("is_quote_tweet"))} AS is_qt,
                           ({forwarded}) IS NOT NULL AND ({forwarded}) <> '0' AS is_fwd,
                           {parent} AS reply_parent
                    FROM _rows
                )
                SELECT '{platform}' AS platform, {f("id")} AS post_id,
                       {first("author_id", "author")} AS account_id,
                       {first("author_username", "author")} AS handle,
                       {first("author_fullname", "author_name", "author_full")} AS display_name,
                       {t.integer(f("author_followers"))} AS followers,
                       {time_sql} AS created_at, {time_raw} AS created_raw,
                       CASE WHEN {subject} IS NOT NULL AND {body} IS NOT NULL
                            THEN {subject} || chr(10) || chr(10) || {body}
                            ELSE coalesce({subject}, {body}) END AS text,
                       nullif({f("language_guess")}, 'und') AS lang,
                       CASE WHEN is_rt THEN 'repost' WHEN is_re THEN 'reply' WHEN is_qt THEN 'quote'
                            WHEN is_fwd THEN 'forward' ELSE 'post' END AS kind,
                       CASE WHEN is_re AND NOT is_rt THEN reply_parent END AS parent_post_id,
                       {t.list_of(f("hashtags"), strip="#")} AS hashtags,
                       {t.list_of(first("urls", "link_attached"))} AS urls,
                       {t.list_of(first("mentions", "entities_mentioned"), strip="@")} AS mentions,
                       {media} AS media,
                       {f("source")} AS client,
                       {t.integer(first("like_count", "likes"))} AS like_count,
                       {t.integer(first("retweet_count", "shares"))} AS repost_count,
                       {t.integer(first("reply_count", "comments"))} AS reply_count,
                       {t.integer(f("quote_count"))} AS quote_count,
                       {t.integer(first("impression_count", "views", "plays"))} AS view_count,
                       {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
                FROM base""",
            [
                required({"id": "post_id", "author": "account_id", time_name: "created_raw"}),
                f"CASE WHEN created_at IS NULL THEN 'unparseable timestamp {time_name}=' || created_raw END",
            ],
        )
        posts = con.sql(
            "SELECT *, ? AS source_file, CASE WHEN lang IS NOT NULL THEN 'platform' END AS lang_source FROM _stage",
            params=[q.source_file],
        ).to_arrow_table()
        accounts = con.sql(
            """SELECT platform, account_id, handle, display_name, followers, created_at AS snapshot_at,
                      ? AS source_file FROM _stage
               QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY created_at DESC, record DESC) = 1""",
            params=[q.source_file],
        ).to_arrow_table()
        return {"posts": posts, "accounts": accounts}

    yield from t.drive(path, options, _check, transform)
