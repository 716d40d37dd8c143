"""X (Twitter) information-operations archive CSV: the tweets file and the users file.

The platform's state-linked takedown disclosures ship two CSVs per
operation. The tweets file (``tweetid, userid, ..., tweet_time, ...``) gives
one post per row plus the author's profile as of that tweet; the users file
(``userid, user_display_name, ..., account_language``) gives one account per
row (``record_kind="accounts"``). Columns are found by name, in any order.

Times (``tweet_time`` "2019-05-01 12:34", ``account_creation_date``
"2019-05-01" or "7/17/2019" in older files) carry no zone; the archive
publishes them in UTC and they are read as UTC.

Kind: ``is_retweet`` true → repost of ``retweet_tweetid`` by
``retweet_userid``; else ``in_reply_to_tweetid`` → reply (parent account
``in_reply_to_userid``); else ``quoted_tweet_tweetid`` → quote. List columns
(``hashtags``, ``urls``, ``user_mentions``) are written "[a, b]" or
"['a', 'b']"; ``user_mentions`` holds user ids, not handles, and is stored
as written. ``latitude``/``longitude`` and ``user_profile_url`` have no
canonical column and are not stored.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import tabular as t
from .base import Batch, ReadOptions
from .jsonsql import required

NAME = "x_archive"
DESCRIPTION = "X (Twitter) information-operations archive CSV (tweets file or users file)"

_TWEETS = ("tweetid", "userid", "tweet_time")
_USERS = ("userid", "user_screen_name", "account_creation_date")


def sniff(path: Path, head: bytes) -> bool:
    names = t.header_names(head)
    if not names:
        return False
    cols = set(names)
    return set(_TWEETS) <= cols or (set(_USERS) <= cols and "tweetid" not in cols)


def _check(header: t.Header) -> None:
    if not header.has(*_TWEETS) and not header.has("userid"):
        t.require_columns(header, list(_TWEETS), "X archive tweets or users")


def _account_fields(h: t.Header, created: str = "created_at", raw: str = "created_raw") -> str:
    return f"""
        {t.field(h, "user_screen_name")} AS handle,
        {t.text_field(h, "user_display_name")} AS display_name,
        {t.text_field(h, "user_profile_description")} AS description,
        {t.text_time(t.field(h, "account_creation_date"))} AS {created},
        {t.field(h, "account_creation_date")} AS {raw},
        {t.integer(t.field(h, "follower_count"))} AS followers,
        {t.integer(t.field(h, "following_count"))} AS following,
        {t.text_field(h, "user_reported_location")} AS location,
        {t.field(h, "account_language")} AS account_lang"""


def _tweets(con, h: t.Header, q) -> dict:
    def f(name: str) -> str:
        return t.field(h, name)

    t.stage(
        con,
        q,
        f"""
        WITH base AS (
            SELECT *, {t.truthy(f("is_retweet"))} OR ({f("is_retweet")} IS NULL AND {f("retweet_tweetid")} IS NOT NULL)
                      AS is_rt
            FROM _rows
        )
        SELECT 'x' AS platform,
               {f("tweetid")} AS post_id,
               {f("userid")} AS account_id,
               {t.text_time(f("tweet_time"))} AS created_at,
               {f("tweet_time")} AS created_raw,
               {t.text_field(h, "tweet_text")} AS text,
               nullif({f("tweet_language")}, 'und') AS lang,
               CASE WHEN is_rt THEN 'repost' WHEN {f("in_reply_to_tweetid")} IS NOT NULL THEN 'reply'
                    WHEN {f("quoted_tweet_tweetid")} IS NOT NULL THEN 'quote' ELSE 'post' END AS kind,
               CASE WHEN is_rt THEN {f("retweet_tweetid")} WHEN {f("in_reply_to_tweetid")} IS NOT NULL
                    THEN {f("in_reply_to_tweetid")} ELSE {f("quoted_tweet_tweetid")} END AS parent_post_id,
               CASE WHEN is_rt THEN {f("retweet_userid")} WHEN {f("in_reply_to_tweetid")} IS NOT NULL
                    THEN {f("in_reply_to_userid")} END AS parent_account_id,
               {t.list_of(f("hashtags"), strip="#")} AS hashtags,
               {t.list_of(f("urls"))} AS urls,
               {t.list_of(f("user_mentions"), strip="@")} AS mentions,
               {f("tweet_client_name")} AS client,
               {t.integer(f("like_count"))} AS like_count,
               {t.integer(f("retweet_count"))} AS repost_count,
               {t.integer(f("reply_count"))} AS reply_count,
               {t.integer(f("quote_count"))} AS quote_count,
               {_account_fields(h, "account_created_at", "account_created_raw")},
               {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
        FROM base
        """,
        [
            required({"tweetid": "post_id", "userid": "account_id", "tweet_time": "created_raw"}),
            "CASE WHEN created_at IS NULL THEN 'unparseable timestamp tweet_time=' || created_raw END",
        ],
    )
    posts = con.sql(
        "SELECT *, ? AS source_file, CASE WHEN lang IS NOT NULL THEN 'platform' END AS lang_source FROM _stage",
        params=[q.source_file],
    ).to_arrow_table()
    accounts = con.sql(
        """SELECT platform, account_id, handle, display_name, description, account_created_at AS created_at,
                  followers, following, location, account_lang, created_at AS snapshot_at, ? AS source_file
           FROM _stage
           QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY created_at DESC, record DESC) = 1""",
        params=[q.source_file],
    ).to_arrow_table()
    return {"posts": posts, "accounts": accounts}


def _users(con, h: t.Header, q) -> dict:
    t.stage(
        con,
        q,
        f"""SELECT 'x' AS platform, {t.field(h, "userid")} AS account_id, {_account_fields(h)},
                   {t.RECORD} AS record, {t.RAW} AS raw
            FROM _rows""",
        [
            required({"userid": "account_id"}),
            "CASE WHEN created_at IS NULL AND created_raw IS NOT NULL "
            "THEN 'unparseable timestamp account_creation_date=' || created_raw END",
        ],
    )
    accounts = con.sql("SELECT *, ? AS source_file FROM _stage", params=[q.source_file]).to_arrow_table()
    return {"accounts": accounts, "record_kind": "accounts"}


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    def transform(con, header: t.Header, q) -> dict:
        return _tweets(con, header, q) if header.has("tweetid") else _users(con, header, q)

    yield from t.drive(path, options, _check, transform)
