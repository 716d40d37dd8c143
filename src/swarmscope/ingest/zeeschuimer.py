"""Zeeschuimer NDJSON captures (digitalmethodsinitiative/zeeschuimer): TikTok, Instagram and X items.

Zeeschuimer's ".ndjson" export writes one captured item per line as stored
in its browser database: ``{"id", "nav_index", "item_id",
"timestamp_collected" (ms), "source_platform" ("tiktok.com",
"instagram.com", "x.com"/"twitter.com"), "source_platform_url",
"source_url", "user_agent", "data": {the platform's own item}}``. The
extension writes the item under ``data``; ``item`` is accepted too. Each line
is a record; a line from another platform is quarantined naming it.

- TikTok items are web ``itemList`` dicts, read exactly as tiktok.py reads
  TikTokApi items (sound and effect actions included).
- Instagram items: the web API's media objects (``code``, ``taken_at``,
  ``user{pk, username, full_name, profile_pic_url, is_verified}``,
  ``caption{text}``, ``like_count``, ``comment_count``, ``play_count`` /
  ``view_count``) or GraphQL nodes (``shortcode``, ``taken_at_timestamp``,
  ``owner{id, username}``, ``edge_media_to_caption``, ``edge_liked_by`` /
  ``edge_media_preview_like``, ``edge_media_to_comment``,
  ``video_view_count``). ``post_id`` is the shortcode (the ``/p/<code>/``
  URL, as CrowdTangle exports name posts); accounts are keyed on the
  lower-cased username (CrowdTangle's Instagram exports have no user id).
  Hashtags and @mentions come from the caption text.
- X items: GraphQL tweet results (``rest_id``, ``legacy{full_text,
  created_at, entities, favorite_count, ...}``, ``core.user_results.result``)
  with the same ids as x_v2 (``rest_id``, the user's ``rest_id``), so a tweet
  seen in both is one post. ``created_at`` ("Wed Oct 10 20:19:24 +0000
  2018") carries its offset.

Times: TikTok and Instagram POSIX seconds, UTC; ``timestamp_collected`` (ms)
is the accounts' snapshot time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from .. import model, store
from . import tabular as t
from . import tiktok
from .base import Batch, Quarantine, ReadOptions, make_batch
from .jsonrecords import collapse_accounts, layout
from .jsonsql import quarantine_invalid_json, quarantine_where, register_records, required
from .jsonstream import _BOM
from .lines import iter_lines
from .telethon_json import HASHTAG_RE

NAME = "zeeschuimer"
DESCRIPTION = (
    "Zeeschuimer NDJSON capture (one {source_platform, timestamp_collected, data} per line): TikTok, Instagram, X"
)

PLATFORMS = {"tiktok.com": "tiktok", "instagram.com": "instagram", "x.com": "x", "twitter.com": "x"}
# Instagram usernames: letters, digits, '.' and '_', up to 30.
IG_MENTION_RE = r"(?:^|[^\pL\pN_.@])@([A-Za-z0-9._]{1,30}[A-Za-z0-9_])"


def sniff(path: Path, head: bytes) -> bool:
    body = head.removeprefix(_BOM).lstrip()
    return (
        body.startswith(b"{")
        and b'"source_platform"' in body[:8192]
        and (b'"timestamp_collected"' in body[:8192] or b'"item_id"' in body[:8192])
    )


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


_WRAP = json.dumps({"source_platform": "VARCHAR", "timestamp_collected": "VARCHAR", "data": "JSON", "item": "JSON"})

_STAGE = f"""
CREATE OR REPLACE TEMP TABLE _zs AS
SELECT record, j, 0::BIGINT AS pos, '' AS src,
       lower(regexp_replace(w.source_platform, '^www\\.', '')) AS source_platform,
       coalesce(w.data, w.item) AS item,
       {t.epoch("w.timestamp_collected", millis_heuristic=True)} AS collected_at
FROM (SELECT record, j, TRY(from_json(j, '{_WRAP}')) AS w FROM _json)
"""

_IG = json.dumps(
    {
        "code": "VARCHAR",
        "shortcode": "VARCHAR",
        "pk": "VARCHAR",
        "id": "VARCHAR",
        "taken_at": "VARCHAR",
        "taken_at_timestamp": "VARCHAR",
        "user": {
            "pk": "VARCHAR",
            "username": "VARCHAR",
            "full_name": "VARCHAR",
            "profile_pic_url": "VARCHAR",
            "is_verified": "BOOLEAN",
        },
        "owner": {
            "id": "VARCHAR",
            "username": "VARCHAR",
            "full_name": "VARCHAR",
            "profile_pic_url": "VARCHAR",
            "is_verified": "BOOLEAN",
        },
        "caption": {"text": "VARCHAR"},
        "edge_media_to_caption": {"edges": [{"node": {"text": "VARCHAR"}}]},
        "like_count": "BIGINT",
        "comment_count": "BIGINT",
        "play_count": "BIGINT",
        "view_count": "BIGINT",
        "edge_liked_by": {"count": "BIGINT"},
        "edge_media_preview_like": {"count": "BIGINT"},
        "edge_media_to_comment": {"count": "BIGINT"},
        "video_view_count": "BIGINT",
        "image_versions2": {"candidates": [{"url": "VARCHAR"}]},
        "display_url": "VARCHAR",
    }
)

_IG_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _ig AS
WITH m AS (SELECT record, pos, src, item AS j, collected_at, TRY(from_json(item, '{_IG}')) AS i
           FROM _zs WHERE source_platform = 'instagram.com'),
n AS (SELECT *, coalesce(i.user.username, i.owner.username) AS handle,
             coalesce(i.caption.text, i.edge_media_to_caption.edges[1].node.text) AS caption,
             coalesce(i.taken_at, i.taken_at_timestamp) AS created_raw FROM m)
SELECT 'instagram' AS platform, coalesce(i.code, i.shortcode) AS post_id, lower(handle) AS account_id, handle,
       {t.epoch("created_raw")} AS created_at, created_raw,
       caption AS text, 'post' AS kind,
       regexp_extract_all(coalesce(caption, ''), {_lit(HASHTAG_RE)}, 1) AS hashtags,
       regexp_extract_all(coalesce(caption, ''), {_lit(IG_MENTION_RE)}, 1) AS mentions,
       list_filter([coalesce(i.image_versions2.candidates[1].url, i.display_url)], lambda x: x IS NOT NULL) AS media,
       coalesce(i.like_count, i.edge_liked_by.count, i.edge_media_preview_like.count) AS like_count,
       coalesce(i.comment_count, i.edge_media_to_comment.count) AS reply_count,
       coalesce(i.play_count, i.view_count, i.video_view_count) AS view_count,
       coalesce(i.user.full_name, i.owner.full_name) AS display_name,
       coalesce(i.user.profile_pic_url, i.owner.profile_pic_url) AS profile_image_url,
       coalesce(i.user.is_verified, i.owner.is_verified) AS verified,
       collected_at, record, record AS source_record, pos, src, j
FROM n
"""

_TWEET = (
    '{"rest_id": "VARCHAR", "legacy": {"full_text": "VARCHAR", "created_at": "VARCHAR", "lang": "VARCHAR", '
    '"favorite_count": "BIGINT", "retweet_count": "BIGINT", "reply_count": "BIGINT", "quote_count": "BIGINT", '
    '"in_reply_to_status_id_str": "VARCHAR", "in_reply_to_user_id_str": "VARCHAR", '
    '"quoted_status_id_str": "VARCHAR", "retweeted_status_result": {"result": {"rest_id": "VARCHAR", '
    '"tweet": {"rest_id": "VARCHAR"}, "core": {"user_results": {"result": {"rest_id": "VARCHAR"}}}}}, '
    '"entities": {"hashtags": [{"text": "VARCHAR"}], "urls": [{"expanded_url": "VARCHAR"}], '
    '"user_mentions": [{"screen_name": "VARCHAR"}]}}, '
    '"views": {"count": "BIGINT"}, "source": "VARCHAR", '
    '"note_tweet": {"note_tweet_results": {"result": {"text": "VARCHAR"}}}, '
    '"core": {"user_results": {"result": {"rest_id": "VARCHAR", '
    '"core": {"screen_name": "VARCHAR", "name": "VARCHAR", "created_at": "VARCHAR"}, '
    '"legacy": {"screen_name": "VARCHAR", "name": "VARCHAR", "description": "VARCHAR", "created_at": "VARCHAR", '
    '"location": "VARCHAR", "followers_count": "BIGINT", "friends_count": "BIGINT", "statuses_count": "BIGINT", '
    '"profile_image_url_https": "VARCHAR", "verified": "BOOLEAN"}}}}}'
)


def _twitter_time(expr: str) -> str:
    return f"(try_strptime({expr}, '%a %b %d %H:%M:%S %z %Y') AT TIME ZONE 'UTC')"


_X_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _xz AS
WITH m AS (SELECT record, pos, src, item AS j, collected_at,
                  TRY(from_json(coalesce(json_extract(item, '$.tweet'), item), '{_TWEET}')) AS i
           FROM _zs WHERE source_platform IN ('x.com', 'twitter.com')),
n AS (SELECT *, i.core.user_results.result AS u, i.legacy AS l,
             coalesce(i.legacy.retweeted_status_result.result.rest_id,
                      i.legacy.retweeted_status_result.result.tweet.rest_id) AS rt_id FROM m)
SELECT 'x' AS platform, i.rest_id AS post_id, u.rest_id AS account_id,
       coalesce(u.core.screen_name, u.legacy.screen_name) AS handle,
       {_twitter_time("l.created_at")} AS created_at, l.created_at AS created_raw,
       coalesce(i.note_tweet.note_tweet_results.result.text, l.full_text) AS text,
       nullif(l.lang, 'und') AS lang,
       CASE WHEN rt_id IS NOT NULL THEN 'repost' WHEN l.in_reply_to_status_id_str IS NOT NULL THEN 'reply'
            WHEN l.quoted_status_id_str IS NOT NULL THEN 'quote' ELSE 'post' END AS kind,
       coalesce(rt_id, l.in_reply_to_status_id_str, l.quoted_status_id_str) AS parent_post_id,
       CASE WHEN rt_id IS NOT NULL THEN l.retweeted_status_result.result.core.user_results.result.rest_id
            WHEN l.in_reply_to_status_id_str IS NOT NULL THEN l.in_reply_to_user_id_str END AS parent_account_id,
       list_transform(l.entities.hashtags, lambda h: h.text) AS hashtags,
       list_transform(l.entities.urls, lambda x: x.expanded_url) AS urls,
       list_transform(l.entities.user_mentions, lambda x: x.screen_name) AS mentions,
       regexp_extract(i.source, '>([^<]*)<', 1) AS client,
       l.favorite_count AS like_count, l.retweet_count AS repost_count, l.reply_count AS reply_count,
       l.quote_count AS quote_count, i.views.count AS view_count,
       coalesce(u.core.name, u.legacy.name) AS display_name, u.legacy.description AS description,
       {_twitter_time("coalesce(u.core.created_at, u.legacy.created_at)")} AS account_created_at,
       u.legacy.followers_count AS followers, u.legacy.friends_count AS following,
       u.legacy.statuses_count AS posts_count, u.legacy.location AS location, u.legacy.verified AS verified,
       u.legacy.profile_image_url_https AS profile_image_url,
       collected_at, record, record AS source_record, pos, src, j
FROM n
"""


def _checks(con: duckdb.DuckDBPyConnection, q: Quarantine, table: str, fields: dict[str, str], time_name: str) -> None:
    quarantine_where(con, q, table, required(fields), "j")
    quarantine_where(
        con, q, table, f"CASE WHEN created_at IS NULL THEN 'unparseable timestamp {time_name}=' || created_raw END", "j"
    )


def _parse(con: duckdb.DuckDBPyConnection, q: Quarantine, source_file: str) -> dict:
    con.execute(_STAGE)
    known = ", ".join(_lit(p) for p in PLATFORMS)
    quarantine_where(
        con,
        q,
        "_zs",
        "CASE WHEN item IS NULL OR json_type(item) <> 'OBJECT' THEN 'not a Zeeschuimer "
        "item: no data object' WHEN source_platform IS NULL THEN 'missing required field source_platform' "
        f"WHEN source_platform NOT IN ({known}) THEN 'Zeeschuimer capture from ' || source_platform || "
        f"' is not supported (supported: {', '.join(PLATFORMS)})' END",
        "j",
    )
    posts, accounts, actions = [], [], []
    if con.sql("SELECT count(*) FROM _zs WHERE source_platform = 'tiktok.com'").fetchall()[0][0]:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _zs_tt AS SELECT record, pos, src, item AS j, collected_at "
            "FROM _zs WHERE source_platform = 'tiktok.com'"
        )
        p, a, x = tiktok.transform(con, q, source_file, "_zs_tt")
        posts.append(p), accounts.append(a), actions.append(x)
    if con.sql("SELECT count(*) FROM _zs WHERE source_platform = 'instagram.com'").fetchall()[0][0]:
        con.execute(_IG_POSTS)
        _checks(
            con, q, "_ig", {"code": "post_id", "user.username": "account_id", "taken_at": "created_raw"}, "taken_at"
        )
        posts.append(con.sql("SELECT * EXCLUDE (j), ? AS source_file FROM _ig", params=[source_file]).to_arrow_table())
        accounts.append(
            collapse_accounts(
                con,
                "SELECT platform, account_id, handle, display_name, profile_image_url, "
                "verified, coalesce(collected_at, created_at) AS snapshot_at, "
                "? AS source_file "
                "FROM _ig",
                [source_file],
            )
        )
    if con.sql("SELECT count(*) FROM _zs WHERE source_platform IN ('x.com', 'twitter.com')").fetchall()[0][0]:
        con.execute(_X_POSTS)
        _checks(
            con,
            q,
            "_xz",
            {
                "rest_id": "post_id",
                "core.user_results.result.rest_id": "account_id",
                "legacy.created_at": "created_raw",
            },
            "created_at",
        )
        posts.append(
            con.sql(
                "SELECT * EXCLUDE (j), ? AS source_file, CASE WHEN lang IS NOT NULL THEN 'platform' END "
                "AS lang_source FROM _xz",
                params=[source_file],
            ).to_arrow_table()
        )
        accounts.append(
            collapse_accounts(
                con,
                "SELECT platform, account_id, handle, display_name, description, account_created_at AS created_at, "
                "followers, following, posts_count, location, verified, profile_image_url, "
                "coalesce(collected_at, created_at) AS snapshot_at, ? AS source_file FROM _xz",
                [source_file],
            )
        )
    return {
        "posts": pa.concat_tables([model.conform(p, "posts") for p in posts]) if posts else None,
        "accounts": pa.concat_tables([model.conform(a, "accounts") for a in accounts]) if accounts else None,
        "actions": pa.concat_tables([model.conform(x, "actions") for x in actions]) if actions else None,
    }


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    q = Quarantine(str(path))
    if layout(path) == "empty":
        q.add(None, "empty file", None)
        yield make_batch(None, None, q, path.stat().st_size)
        return
    con = store.connect()
    try:
        for chunk in iter_lines(path, q, options.batch_bytes, options.max_record_bytes):
            register_records(con, chunk.numbers, chunk.lines)
            quarantine_invalid_json(con, q)
            parts = _parse(con, q, str(path))
            yield make_batch(parts["posts"], parts["accounts"], q, chunk.bytes_done, extra_actions=parts["actions"])
    finally:
        con.close()
    if len(q):
        yield make_batch(None, None, q, path.stat().st_size)
