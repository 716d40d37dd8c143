"""TikTok JSON: Research API videos, comments and user info; TikTokApi item dicts; tiktok-scraper output.

Accepted records (mixed freely; saved as single responses, arrays or JSON
lines, see jsonrecords.py):

- Research API ``/v2/research/video/query/``: ``{"data": {"videos": [...],
  "cursor", "has_more", "search_id"}, "error"}``; a video has ``id,
  video_description, create_time, username, region_code, hashtag_names,
  video_mention_list, music_id, effect_ids, like_count, share_count,
  comment_count, view_count``;
- Research API ``/v2/research/video/comment/list/``: ``{"data":
  {"comments": [...]}}``; a comment has ``id, video_id, text, like_count,
  reply_count, parent_comment_id, create_time`` and no author;
- Research API ``/v2/research/user/info/``: ``{"data": {display_name,
  bio_description, avatar_url, is_verified, follower_count, ...}}``. The API
  does not return the username it was asked for; a profile is read only when
  the collector added ``username`` (else quarantined). Profiles are
  accounts, not records;
- TikTokApi / web ``itemList`` item dicts (what Zeeschuimer captures too):
  ``id, desc, createTime, author{id, uniqueId, nickname, signature,
  avatarThumb, verified}, authorStats, stats{diggCount, shareCount,
  commentCount, playCount}, music{id}, challenges[{title}],
  textExtra[{hashtagName, userUniqueId}], duetInfo{duetFromId},
  effectStickers[{ID}]``; also ``{"itemList": [...]}`` pages;
- tiktok-scraper ``{"collector": [...]}`` items: ``id, text, createTime,
  authorMeta{id, name, nickName, ...}, musicMeta{musicId},
  hashtags[{name}], mentions["@x"], effectStickers[{id}], diggCount,
  shareCount, commentCount, playCount``.

Accounts are keyed on the lower-cased handle (``username`` / ``uniqueId`` /
``authorMeta.name``): the Research API gives no user id, and a case that
mixes the Research API with scraped items must see one account, not two.

Kind: a duet (``duetInfo.duetFromId`` not "0") → quote of that video. A
caption holding TikTok's "#duet with @handle" / "#stitch with @handle" marks a
duet or stitch in every format (the Research API has no duet or stitch
field, and no format names a stitch's source video): quote, with
``parent_account_id`` the handle where the record's own mention list
(``video_mention_list``, ``textExtra[].userUniqueId``, ``mentions``) holds it.
A Research API comment → comment on ``video_id`` (``parent_comment_id`` equal
to the video id or absent) or reply to ``parent_comment_id``. Times are
POSIX seconds (UTC). The sound (``music_id`` / ``music.id`` /
``musicMeta.musicId``) and each effect id become actions ``sound`` and
``effect`` (``Batch.extra_actions``): co-use of one sound within minutes is a
known TikTok coordination trace.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from . import tabular as t
from .base import Batch, Quarantine, ReadOptions
from .jsonrecords import collapse_accounts, note_sql, read_records
from .jsonsql import quarantine_where, required
from .jsonstream import _BOM

NAME = "tiktok"
DESCRIPTION = "TikTok JSON: Research API videos/comments/user info, TikTokApi item dicts, tiktok-scraper collector[]"

CONTAINERS = {
    "videos": "$.data.videos",
    "comments": "$.data.comments",
    "itemList": "$.itemList",
    "collector": "$.collector",
    "items": "$.items",
}

_SNIFF = re.compile(
    rb'"(?:video_description|collector|authorMeta|musicMeta|hashtag_names|region_code|parent_comment_id)"\s*:'
    rb'|"createTime"\s*:[^{}]{0,2000}?"(?:desc|stats|challenges)"\s*:'
    rb'|"(?:desc|stats|challenges)"\s*:[^{}]{0,2000}?"createTime"\s*:'
)


def sniff(path: Path, head: bytes) -> bool:
    body = head.removeprefix(_BOM).lstrip()
    if not body.startswith((b"{", b"[")):
        return False
    if b'"source_platform"' in body[:4096] or b'"item_id"' in body[:4096]:
        return False  # Zeeschuimer wraps TikTok items: its own format
    return bool(_SNIFF.search(body))


_USER = (
    '{"id": "VARCHAR", "uniqueId": "VARCHAR", "nickname": "VARCHAR", "signature": "VARCHAR", '
    '"avatarThumb": "VARCHAR", "avatarLarger": "VARCHAR", "verified": "BOOLEAN", "createTime": "VARCHAR"}'
)
ITEM = json.dumps(
    {
        "id": "VARCHAR",
        # Research API video
        "video_description": "VARCHAR",
        "create_time": "VARCHAR",
        "username": "VARCHAR",
        "region_code": "VARCHAR",
        "hashtag_names": ["VARCHAR"],
        "video_mention_list": ["VARCHAR"],
        "music_id": "VARCHAR",
        "effect_ids": ["VARCHAR"],
        "like_count": "BIGINT",
        "share_count": "BIGINT",
        "comment_count": "BIGINT",
        "view_count": "BIGINT",
        # Research API comment
        "video_id": "VARCHAR",
        "text": "VARCHAR",
        "parent_comment_id": "VARCHAR",
        "reply_count": "BIGINT",
        # Research API user info (username added by the collector)
        "data": {
            "display_name": "VARCHAR",
            "bio_description": "VARCHAR",
            "avatar_url": "VARCHAR",
            "is_verified": "BOOLEAN",
            "follower_count": "BIGINT",
            "following_count": "BIGINT",
            "video_count": "BIGINT",
            "username": "VARCHAR",
        },
        "display_name": "VARCHAR",
        "bio_description": "VARCHAR",
        # TikTokApi / web item
        "desc": "VARCHAR",
        "createTime": "VARCHAR",
        "author": "JSON",
        "nickname": "VARCHAR",
        "authorStats": {"followerCount": "BIGINT", "followingCount": "BIGINT", "videoCount": "BIGINT"},
        "stats": {"diggCount": "BIGINT", "shareCount": "BIGINT", "commentCount": "BIGINT", "playCount": "BIGINT"},
        "music": {"id": "VARCHAR"},
        "challenges": [{"title": "VARCHAR"}],
        "textExtra": [{"hashtagName": "VARCHAR", "userUniqueId": "VARCHAR"}],
        "duetInfo": {"duetFromId": "VARCHAR"},
        "effectStickers": ["JSON"],
        "video": {"cover": "VARCHAR"},
        # tiktok-scraper
        "authorMeta": {
            "id": "VARCHAR",
            "name": "VARCHAR",
            "nickName": "VARCHAR",
            "verified": "BOOLEAN",
            "signature": "VARCHAR",
            "avatar": "VARCHAR",
            "fans": "BIGINT",
            "following": "BIGINT",
            "video": "BIGINT",
        },
        "musicMeta": {"musicId": "VARCHAR"},
        "hashtags": [{"name": "VARCHAR"}],
        "mentions": ["VARCHAR"],
        "diggCount": "BIGINT",
        "shareCount": "BIGINT",
        "commentCount": "BIGINT",
        "playCount": "BIGINT",
        "covers": {"default": "VARCHAR"},
    }
)


# TikTok's caption marker of a duet or stitch; handles are 2-24 letters, digits, '_' and '.'.
REMIX_RE = r"(?i)#(duet|stitch) with @([A-Za-z0-9_.]{2,24})"


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def _nonempty(*exprs: str) -> str:
    return "coalesce(" + ", ".join(f"nullif(trim({e}), '')" for e in exprs) + ")"


def _ids(expr: str) -> str:
    """A list of ids without empties and zeros ("0" means none on TikTok)."""
    return f"list_filter({expr}, lambda x: x IS NOT NULL AND trim(x) NOT IN ('', '0'))"


_STAGE = f"""
CREATE OR REPLACE TEMP TABLE _tt AS
WITH p AS (SELECT record, pos, src, j, collected_at, TRY(from_json(j, '{ITEM}')) AS i FROM __ITEMS__),
a AS (SELECT *, TRY(from_json(i.author, '{_USER}')) AS au,
             CASE WHEN json_type(i.author) = 'VARCHAR' THEN json_extract_string(i.author, '$') END AS author_name
      FROM p)
SELECT record, pos, src, j, collected_at, i,
       CASE WHEN src = 'comments' OR (i.video_id IS NOT NULL AND i.create_time IS NOT NULL AND i.username IS NULL
                                       AND i.video_description IS NULL) THEN 'comment'
            WHEN i.data.display_name IS NOT NULL OR i.bio_description IS NOT NULL
                 OR (i.display_name IS NOT NULL AND i.id IS NULL) THEN 'profile'
            ELSE 'video' END AS shape,
       {_nonempty("i.username", "i.data.username", "au.uniqueId", "author_name", "i.authorMeta.name")} AS handle,
       au, i.authorMeta AS am
FROM a
"""

_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _posts AS
WITH v AS (
    SELECT *, coalesce(i.create_time, i.createTime) AS created_raw,
           {_nonempty("i.duetInfo.duetFromId")} AS duet_from,
           CASE WHEN shape = 'comment' THEN i.text ELSE coalesce(i.video_description, i.desc, i.text) END AS body,
           list_filter(list_transform(coalesce(i.video_mention_list,
                   list_transform(i.textExtra, lambda e: e.userUniqueId), i.mentions),
                   lambda m: ltrim(m, '@')), lambda m: m IS NOT NULL AND m <> '') AS mention_list
    FROM _tt WHERE shape <> 'profile'
),
r AS (
    -- TikTok writes "#duet with @handle" / "#stitch with @handle" into the caption of a duet or stitch
    SELECT *, CASE WHEN shape = 'video' THEN lower(regexp_extract(body, {_lit(REMIX_RE)}, 1)) END AS remix,
              CASE WHEN shape = 'video' THEN rtrim(lower(regexp_extract(body, {_lit(REMIX_RE)}, 2)), '.') END
                  AS remix_handle
    FROM v
)
SELECT 'tiktok' AS platform,
       i.id AS post_id,
       lower(handle) AS account_id,
       {t.epoch("created_raw")} AS created_at,
       created_raw,
       body AS text,
       CASE WHEN shape = 'comment' AND coalesce(i.parent_comment_id, i.video_id) <> i.video_id THEN 'reply'
            WHEN shape = 'comment' THEN 'comment'
            WHEN duet_from IS NOT NULL AND duet_from <> '0' THEN 'quote'
            WHEN remix <> '' THEN 'quote'
            ELSE 'post' END AS kind,
       CASE WHEN shape = 'comment' THEN coalesce(i.parent_comment_id, i.video_id)
            WHEN duet_from <> '0' THEN duet_from END AS parent_post_id,
       -- the handle after "#stitch with @", only where the platform lists it among the mentions
       -- (a caption can carry a display name there, which is no account id)
       CASE WHEN remix <> '' AND list_contains(list_transform(mention_list, lambda m: lower(m)), remix_handle)
            THEN remix_handle END AS parent_account_id,
       list_filter(coalesce(i.hashtag_names,
                   list_transform(i.challenges, lambda c: c.title),
                   list_transform(i.textExtra, lambda e: e.hashtagName),
                   list_transform(i.hashtags, lambda h: h.name)), lambda x: x IS NOT NULL AND x <> '')
           AS hashtags,
       mention_list AS mentions,
       list_filter([coalesce(i.video.cover, i.covers.default)], lambda x: x IS NOT NULL) AS media,
       coalesce(i.like_count, i.stats.diggCount, i.diggCount) AS like_count,
       coalesce(i.share_count, i.stats.shareCount, i.shareCount) AS repost_count,
       coalesce(i.comment_count, i.reply_count, i.stats.commentCount, i.commentCount) AS reply_count,
       coalesce(i.view_count, i.stats.playCount, i.playCount) AS view_count,
       {_nonempty("i.music_id", "i.music.id", "i.musicMeta.musicId")} AS sound_id,
       {
    _ids(
        "coalesce(i.effect_ids, list_transform(i.effectStickers, "
        "lambda e: coalesce(json_extract_string(e, '$.ID'), json_extract_string(e, '$.id'))))"
    )
} AS effect_ids,
       shape, handle, au, am, i, collected_at,
       record, record AS source_record, pos, src, j
FROM r
"""

_CHECKS = [
    f"({required({'id': 'post_id'})} || {note_sql()})",
    f"(CASE WHEN shape = 'video' AND account_id IS NULL THEN 'missing required field username "
    f"(author.uniqueId, authorMeta.name)' END || {note_sql()})",
    f"(CASE WHEN shape = 'comment' AND i.video_id IS NULL THEN 'missing required field video_id' END || {note_sql()})",
    f"({required({'create_time': 'created_raw'})} || {note_sql()})",
    f"(CASE WHEN created_at IS NULL THEN 'unparseable timestamp create_time=' || created_raw "
    f"|| ' (POSIX seconds expected)' END || {note_sql()})",
]

_ACCOUNTS = f"""
SELECT 'tiktok' AS platform, lower(handle) AS account_id, handle,
       coalesce(au.nickname, am.nickName, i.nickname) AS display_name,
       coalesce(au.signature, am.signature) AS description,
       {t.epoch("au.createTime")} AS created_at,
       coalesce(i.authorStats.followerCount, am.fans) AS followers,
       coalesce(i.authorStats.followingCount, am.following) AS following,
       coalesce(i.authorStats.videoCount, am.video) AS posts_count,
       coalesce(au.verified, am.verified) AS verified,
       coalesce(au.avatarLarger, au.avatarThumb, am.avatar) AS profile_image_url,
       coalesce(collected_at, created_at) AS snapshot_at, ? AS source_file
FROM _posts WHERE shape = 'video'
UNION ALL
SELECT 'tiktok', lower(handle), handle, coalesce(i.data.display_name, i.display_name),
       coalesce(i.data.bio_description, i.bio_description), NULL,
       i.data.follower_count, i.data.following_count, i.data.video_count, i.data.is_verified, i.data.avatar_url,
       collected_at, ?
FROM _tt WHERE shape = 'profile'
"""

SOUND_ACTIONS = """
SELECT platform, account_id, post_id, created_at, 'sound' AS object_type, sound_id AS object_id
FROM _posts WHERE sound_id IS NOT NULL AND account_id IS NOT NULL
UNION ALL
SELECT platform, account_id, post_id, created_at, 'effect', e
FROM (SELECT *, unnest(effect_ids) AS e FROM _posts WHERE account_id IS NOT NULL)
"""


def transform(
    con: duckdb.DuckDBPyConnection, q: Quarantine, source_file: str, items: str = "_items"
) -> tuple[pa.Table, pa.Table, pa.Table]:
    """Posts, accounts and sound/effect actions from ``items`` (record, pos, src, j, collected_at).

    Shared with zeeschuimer.py, whose TikTok captures are web item dicts.
    """
    con.execute(_STAGE.replace("__ITEMS__", items))
    quarantine_where(
        con,
        q,
        "_tt",
        f"(CASE WHEN i IS NULL OR json_type(j) <> 'OBJECT' THEN 'not a TikTok record "
        f"(expected a JSON object)' END || {note_sql()})",
        "j",
    )
    quarantine_where(
        con,
        q,
        "_tt",
        f"(CASE WHEN shape = 'profile' AND handle IS NULL THEN 'user info without "
        f'username: the Research API does not return it; add "username" to each saved profile\' END '
        f"|| {note_sql()})",
        "j",
    )
    con.execute(_POSTS)
    for check in _CHECKS:
        quarantine_where(con, q, "_posts", check, "j")
    posts = con.sql(
        "SELECT * EXCLUDE (i, au, am, j), ? AS source_file FROM _posts", params=[source_file]
    ).to_arrow_table()
    accounts = collapse_accounts(con, _ACCOUNTS, [source_file, source_file])
    actions = con.sql(SOUND_ACTIONS).to_arrow_table()
    return posts, accounts, actions


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    def parse(con: duckdb.DuckDBPyConnection, q: Quarantine):
        con.execute("CREATE OR REPLACE TEMP TABLE _items_t AS SELECT *, NULL::TIMESTAMP AS collected_at FROM _items")
        return transform(con, q, str(path), "_items_t")

    yield from read_records(
        path,
        options,
        CONTAINERS,
        parse,
        "no TikTok records: expected data.videos[], data.comments[], itemList[], collector[] or an array of items",
    )
