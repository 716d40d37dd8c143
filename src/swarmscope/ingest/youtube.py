"""YouTube Data API v3 responses saved as JSON: videos, search results, playlist items, comment threads,
comments, channels.

Pages (``{"kind": "youtube#videoListResponse", "items": [...],
"nextPageToken"...}``) or bare arrays of resources, as one document, an
array of pages or one page per line (jsonrecords.py). Each resource says
what it is in ``kind``:

- ``youtube#video`` (``videos.list``): a post. ``id``, ``snippet{publishedAt,
  channelId, channelTitle, title, description, tags, defaultLanguage,
  defaultAudioLanguage, thumbnails}``, ``statistics{viewCount, likeCount,
  commentCount}`` (counts arrive as strings);
- ``youtube#searchResult`` (``search.list``): a post when ``id.kind`` is
  ``youtube#video`` (``id.videoId``); channel and playlist results are not
  posts and not records (skipped, not counted);
- ``youtube#playlistItem``: a post for ``contentDetails.videoId`` (else
  ``snippet.resourceId.videoId``) by ``snippet.videoOwnerChannelId``. An item
  without it (responses from before the API had the field, and unavailable
  videos) is attributed to the playlist's owner ``snippet.channelId``: the
  uploader for an uploads playlist (``UU`` + the channel id's tail), else the
  channel that listed the video. Its time is
  ``contentDetails.videoPublishedAt``. Without it (``part=snippet`` only),
  ``snippet.publishedAt`` (when the video was *added*) is used only for an
  uploads playlist, where the two coincide; a "Deleted video" / "Private
  video" item with neither owner nor time is quarantined as unavailable;
- ``youtube#commentThread``: its ``snippet.topLevelComment`` is a post of
  kind ``comment`` with the video (``snippet.videoId``) as parent, and each
  ``replies.comments[]`` a post of kind ``reply`` with the parent comment
  (``snippet.parentId``) as parent. Replies are records too, numbered with
  their thread;
- ``youtube#comment`` (``comments.list``): ``reply`` when it has a
  ``parentId``, else ``comment`` on its ``videoId``;
- ``youtube#channel``: an account (not a record).

Text of a video is ``title``, a blank line, ``description``; hashtags,
URLs and @handles are taken from it. A comment's text is ``textOriginal``
(else ``textDisplay``, which is HTML). Accounts: channel ids; a commenter's
``authorDisplayName`` is their "@handle" since 2024, stored as handle when it
starts with '@'. Times are ISO 8601 with "Z", converted to UTC.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from .. import model
from .base import Batch, Quarantine, ReadOptions
from .jsonrecords import collapse_accounts, note_sql, read_records
from .jsonsql import quarantine_where, utc
from .jsonstream import _BOM
from .telethon_json import _URL_TAIL, HASHTAG_RE, URL_RE

NAME = "youtube"
DESCRIPTION = "YouTube Data API v3 JSON: videos, search results, playlistItems, commentThreads, comments, channels"

CONTAINERS = {"items": "$.items"}
# YouTube handles: 3 to 30 letters, digits, '.', '_', '-'.
HANDLE_RE = r"(?:^|[^\pL\pN_@./])@([A-Za-z0-9._-]{3,30})"
_SNIFF = re.compile(rb'"kind"\s*:\s*"youtube#')


def sniff(path: Path, head: bytes) -> bool:
    body = head.removeprefix(_BOM).lstrip()
    return body.startswith((b"{", b"[")) and bool(_SNIFF.search(body))


def _lit(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


_SNIPPET = {
    "publishedAt": "VARCHAR",
    "channelId": "VARCHAR",
    "channelTitle": "VARCHAR",
    "title": "VARCHAR",
    "description": "VARCHAR",
    "defaultLanguage": "VARCHAR",
    "defaultAudioLanguage": "VARCHAR",
    "thumbnails": {"high": {"url": "VARCHAR"}, "default": {"url": "VARCHAR"}},
    "videoOwnerChannelId": "VARCHAR",
    "videoOwnerChannelTitle": "VARCHAR",
    "resourceId": {"videoId": "VARCHAR"},
    "playlistId": "VARCHAR",
    "videoId": "VARCHAR",
    "topLevelComment": "JSON",
    "totalReplyCount": "BIGINT",
    "customUrl": "VARCHAR",
    "country": "VARCHAR",
}
_ITEM = json.dumps(
    {
        "kind": "VARCHAR",
        "id": "JSON",
        "snippet": _SNIPPET,
        "contentDetails": {"videoId": "VARCHAR", "videoPublishedAt": "VARCHAR"},
        "statistics": {
            "viewCount": "BIGINT",
            "likeCount": "BIGINT",
            "commentCount": "BIGINT",
            "subscriberCount": "BIGINT",
            "videoCount": "BIGINT",
        },
        "replies": {"comments": ["JSON"]},
    }
)
_COMMENT = json.dumps(
    {
        "id": "VARCHAR",
        "snippet": {
            "authorDisplayName": "VARCHAR",
            "authorProfileImageUrl": "VARCHAR",
            "authorChannelId": {"value": "VARCHAR"},
            "channelId": "VARCHAR",
            "videoId": "VARCHAR",
            "textOriginal": "VARCHAR",
            "textDisplay": "VARCHAR",
            "likeCount": "BIGINT",
            "publishedAt": "VARCHAR",
            "parentId": "VARCHAR",
        },
    }
)

_STAGE = f"""
CREATE OR REPLACE TEMP TABLE _yt AS
SELECT record, pos, src, j, i, i.kind AS kind,
       CASE WHEN i.kind = 'youtube#searchResult' THEN json_extract_string(i.id, '$.kind') END AS result_kind
FROM (SELECT record, pos, src, j, TRY(from_json(j, '{_ITEM}')) AS i FROM _items)
"""

_KNOWN = (
    "'youtube#video', 'youtube#searchResult', 'youtube#playlistItem', 'youtube#commentThread', "
    "'youtube#comment', 'youtube#channel'"
)


def text_lists(text: str) -> str:
    """SQL columns hashtags, urls, mentions taken from free text."""
    clean = f"regexp_replace(u, {_lit(_URL_TAIL)}, '')"
    return (
        f"regexp_extract_all(coalesce({text}, ''), {_lit(HASHTAG_RE)}, 1) AS hashtags, "
        f"list_filter(list_transform(regexp_extract_all(coalesce({text}, ''), {_lit(URL_RE)}), lambda u: {clean}), "
        f"lambda u: u <> '') AS urls, "
        f"regexp_extract_all(coalesce({text}, ''), {_lit(HANDLE_RE)}, 1) AS mentions"
    )


_VIDEOS = f"""
CREATE OR REPLACE TEMP TABLE _ytv AS
WITH v AS (
    SELECT record, pos, src, j, i, kind, 0 AS rpos,
           CASE kind WHEN 'youtube#video' THEN json_extract_string(i.id, '$')
                     WHEN 'youtube#searchResult' THEN json_extract_string(i.id, '$.videoId')
                     ELSE coalesce(i.contentDetails.videoId, i.snippet.resourceId.videoId) END AS post_id,
           -- a playlist item without the video's owner: the playlist's owner (docstring)
           CASE WHEN kind = 'youtube#playlistItem' THEN coalesce(i.snippet.videoOwnerChannelId, i.snippet.channelId)
                ELSE i.snippet.channelId END AS account_id,
           CASE WHEN kind = 'youtube#playlistItem' AND i.snippet.videoOwnerChannelId IS NOT NULL
                THEN i.snippet.videoOwnerChannelTitle ELSE i.snippet.channelTitle END AS channel_title,
           CASE WHEN kind <> 'youtube#playlistItem' THEN i.snippet.publishedAt
                WHEN i.contentDetails.videoPublishedAt IS NOT NULL THEN i.contentDetails.videoPublishedAt
                -- an uploads playlist: the video was added when it was uploaded
                WHEN i.snippet.channelId = i.snippet.videoOwnerChannelId
                     OR (i.snippet.videoOwnerChannelId IS NULL AND starts_with(i.snippet.playlistId, 'UU')
                         AND substr(i.snippet.playlistId, 3) = substr(i.snippet.channelId, 3))
                THEN i.snippet.publishedAt END AS created_raw,
           kind = 'youtube#playlistItem' AND i.snippet.videoOwnerChannelId IS NULL
               AND i.snippet.title IN ('Deleted video', 'Private video') AS unavailable,
           concat_ws(chr(10) || chr(10), nullif(i.snippet.title, ''), nullif(i.snippet.description, '')) AS body
    FROM _yt
    WHERE kind IN ('youtube#video', 'youtube#playlistItem')
       OR (kind = 'youtube#searchResult' AND result_kind = 'youtube#video')
)
SELECT 'youtube' AS platform, post_id, account_id, {utc("created_raw")} AS created_at, created_raw,
       nullif(body, '') AS text,
       lower(nullif(split_part(coalesce(i.snippet.defaultLanguage, i.snippet.defaultAudioLanguage), '-', 1), ''))
           AS lang,
       'post' AS kind, NULL::VARCHAR AS parent_post_id, NULL::VARCHAR AS parent_account_id,
       {text_lists("body")},
       list_filter([coalesce(i.snippet.thumbnails.high.url, i.snippet.thumbnails.default.url)], lambda x: x IS NOT NULL)
           AS media,
       i.statistics.likeCount AS like_count, i.statistics.commentCount AS reply_count,
       i.statistics.viewCount AS view_count,
       channel_title AS display_name, NULL::VARCHAR AS handle, NULL::VARCHAR AS profile_image_url,
       kind AS resource, unavailable, record, record AS source_record, pos, src, rpos, j
FROM v
"""

_COMMENTS = f"""
CREATE OR REPLACE TEMP TABLE _ytc AS
WITH raw AS (
    SELECT record, pos, src, i.snippet.topLevelComment AS cj, i.snippet.videoId AS video_id,
           i.snippet.channelId AS video_channel, i.snippet.totalReplyCount AS replies, 0 AS rpos
    FROM _yt WHERE kind = 'youtube#commentThread'
    UNION ALL
    SELECT record, pos, src, unnest(i.replies.comments), i.snippet.videoId, NULL, NULL,
           unnest(generate_series(1, len(i.replies.comments)))
    FROM _yt WHERE kind = 'youtube#commentThread' AND len(i.replies.comments) > 0
    UNION ALL
    SELECT record, pos, src, j, NULL, NULL, NULL, 0 FROM _yt WHERE kind = 'youtube#comment'
), c AS (SELECT *, TRY(from_json(cj, '{_COMMENT}')) AS cm FROM raw)
SELECT 'youtube' AS platform, cm.id AS post_id, cm.snippet.authorChannelId.value AS account_id,
       {utc("cm.snippet.publishedAt")} AS created_at, cm.snippet.publishedAt AS created_raw,
       coalesce(cm.snippet.textOriginal, cm.snippet.textDisplay) AS text, NULL::VARCHAR AS lang,
       CASE WHEN cm.snippet.parentId IS NOT NULL THEN 'reply' ELSE 'comment' END AS kind,
       coalesce(cm.snippet.parentId, cm.snippet.videoId, video_id) AS parent_post_id,
       CASE WHEN cm.snippet.parentId IS NULL THEN coalesce(video_channel, cm.snippet.channelId) END
           AS parent_account_id,
       {text_lists("coalesce(cm.snippet.textOriginal, cm.snippet.textDisplay)")},
       NULL::VARCHAR[] AS media, cm.snippet.likeCount AS like_count, replies AS reply_count, NULL::BIGINT AS view_count,
       cm.snippet.authorDisplayName AS display_name,
       CASE WHEN starts_with(cm.snippet.authorDisplayName, '@') THEN substr(cm.snippet.authorDisplayName, 2) END
           AS handle,
       cm.snippet.authorProfileImageUrl AS profile_image_url,
       'youtube#comment' AS resource, false AS unavailable, record, record AS source_record, pos, src, rpos, cj AS j
FROM c
"""

_NOTE = f"({note_sql()} || CASE WHEN rpos > 0 THEN ' (replies.comments[' || (rpos - 1) || '])' ELSE '' END)"

_CHANNELS = """
SELECT 'youtube' AS platform, json_extract_string(i.id, '$') AS account_id,
       CASE WHEN starts_with(i.snippet.customUrl, '@') THEN substr(i.snippet.customUrl, 2) ELSE i.snippet.customUrl END
           AS handle,
       i.snippet.title AS display_name, i.snippet.description AS description,
       {created} AS created_at, i.statistics.subscriberCount AS followers, i.statistics.videoCount AS posts_count,
       i.snippet.country AS location, i.snippet.thumbnails.default.url AS profile_image_url,
       NULL::TIMESTAMP AS snapshot_at, ? AS source_file
FROM _yt WHERE kind = 'youtube#channel'
""".format(created=utc("i.snippet.publishedAt"))


def _parse(con: duckdb.DuckDBPyConnection, q: Quarantine, source_file: str) -> tuple[pa.Table, pa.Table, None]:
    con.execute(_STAGE)
    quarantine_where(
        con,
        q,
        "_yt",
        f"(CASE WHEN i IS NULL THEN 'not a YouTube resource (expected a JSON object)' "
        f"WHEN kind IS NULL THEN 'missing required field kind' WHEN kind NOT IN ({_KNOWN}) "
        f"THEN 'not a supported YouTube resource: kind=' || kind END || {note_sql()})",
        "j",
    )
    con.execute(_VIDEOS)
    con.execute(_COMMENTS)
    con.execute("CREATE OR REPLACE TEMP TABLE _posts AS SELECT * FROM _ytc UNION ALL BY NAME SELECT * FROM _ytv")
    time_name = "CASE WHEN kind IN ('comment', 'reply') THEN 'snippet.publishedAt' ELSE 'publishedAt' END"
    quarantine_where(
        con,
        q,
        "_posts",
        "(CASE WHEN post_id IS NULL THEN 'missing required field id' "
        "WHEN account_id IS NULL THEN 'missing required field snippet.' || CASE resource "
        "WHEN 'youtube#comment' THEN 'authorChannelId' "
        "WHEN 'youtube#playlistItem' THEN 'videoOwnerChannelId (or snippet.channelId)' "
        f"ELSE 'channelId' END END || {_NOTE})",
        "j",
    )
    quarantine_where(
        con,
        q,
        "_posts",
        "(CASE WHEN created_raw IS NULL AND unavailable THEN 'video unavailable (snippet.title=' "
        "|| split_part(text, chr(10), 1) || '): the playlist item names neither its owner nor when it was published' "
        f"WHEN created_raw IS NULL THEN 'missing required field ' || {time_name} "
        f"|| CASE WHEN resource = 'youtube#playlistItem' "
        f"THEN ' (request part=contentDetails for videoPublishedAt)' ELSE '' END "
        f"WHEN created_at IS NULL THEN 'unparseable timestamp ' || {time_name} || '=' || created_raw END "
        f"|| {_NOTE})",
        "j",
    )
    # a reply's parent author, where the parent comment is in this chunk
    con.execute(
        "UPDATE _posts SET parent_account_id = m.account_id "
        "FROM (SELECT post_id, any_value(account_id) AS account_id FROM _posts GROUP BY 1) m "
        "WHERE _posts.kind = 'reply' AND _posts.parent_post_id = m.post_id"
    )
    posts = con.sql(
        "SELECT * EXCLUDE (j, rpos, resource, unavailable, display_name, handle, profile_image_url), "
        "? AS source_file, "
        "CASE WHEN lang IS NOT NULL THEN 'platform' END AS lang_source FROM _posts",
        params=[source_file],
    ).to_arrow_table()
    accounts = collapse_accounts(
        con,
        "SELECT platform, account_id, handle, display_name, NULL::VARCHAR AS description, "
        "NULL::TIMESTAMP AS created_at, NULL::BIGINT AS followers, NULL::BIGINT AS posts_count, "
        "NULL::VARCHAR AS location, profile_image_url, created_at AS snapshot_at, ? AS source_file FROM _posts "
        "UNION ALL " + _CHANNELS,
        [source_file, source_file],
    )
    return posts, model.conform(accounts, "accounts"), None


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    yield from read_records(
        path,
        options,
        CONTAINERS,
        lambda con, q: _parse(con, q, str(path)),
        "no YouTube resources: expected a response with items[] or an array of resources",
    )
