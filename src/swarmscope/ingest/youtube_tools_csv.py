"""YouTube Data Tools (Bernhard Rieder, tools.digitalmethods.net) tab/CSV exports: video lists and comments.

Two of its tables, found by their columns (tab-separated ``.tab`` as the
tool writes them, or re-saved as CSV):

- video lists (channel info, video list, search modules):
  ``channelId, channelTitle, videoId, publishedAt, videoTitle,
  videoDescription, tags, defaultLanguage, defaultLAudioLanguage,
  viewCount, likeCount, commentCount`` → posts, accounts from
  ``channelId``/``channelTitle``;
- comments of a video (video info module, ``videoinfo_<videoId>_…_comments.tab``):
  ``id, replyCount, likeCount, publishedAt, authorName, text,
  authorChannelId, authorChannelUrl, isReply, isReplyTo`` → posts of kind
  ``comment`` (parent: the video, from a ``videoId`` column or the file name)
  or ``reply`` (``isReply`` 1; parent ``isReplyTo``). Without either video
  id, a comment's parent is unknown (NULL).

Ids are the API's, so rows agree with youtube.py. ``publishedAt`` is the
API's ISO 8601 in UTC (``publishedAtSQL``, "YYYY-MM-DD HH:MM:SS", also UTC,
is the fallback). Text of a video is title, a blank line, description.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from . import tabular as t
from .base import Batch, ReadOptions
from .jsonsql import required
from .youtube import text_lists

NAME = "youtube_tools_csv"
DESCRIPTION = (
    "YouTube Data Tools .tab/.csv export: video list (videoId, channelId, ...) "
    "or comments (id, authorChannelId, isReplyTo)"
)

_VIDEOS = ("videoid", "channelid", "publishedat", "videotitle")
_COMMENTS = ("id", "authorchannelid", "publishedat", "isreplyto")
_VIDEO_IN_NAME = re.compile(r"videoinfo_([A-Za-z0-9_-]{11})_")


def sniff(path: Path, head: bytes) -> bool:
    names = t.header_names(head)
    return bool(names) and (set(_VIDEOS) <= set(names) or set(_COMMENTS) <= set(names))


def _check(header: t.Header) -> None:
    if not header.has(*_VIDEOS):
        t.require_columns(header, list(_COMMENTS), "YouTube Data Tools video list or comments")


def _videos(con, h: t.Header, q) -> dict:
    def f(*names: str) -> str:
        return t.first_field(h, *names)

    body = f"concat_ws(chr(10) || chr(10), {t.text_field(h, 'videoTitle')}, {t.text_field(h, 'videoDescription')})"
    t.stage(
        con,
        q,
        f"""WITH b AS (SELECT *, nullif({body}, '') AS body FROM _rows)
        SELECT 'youtube' AS platform, {f("videoId")} AS post_id, {f("channelId")} AS account_id,
               coalesce({t.text_time(f("publishedAt"))}, {t.text_time(f("publishedAtSQL"))}) AS created_at,
               {f("publishedAt", "publishedAtSQL")} AS created_raw,
               body AS text,
               lower(nullif(split_part({f("defaultLanguage", "defaultLAudioLanguage")}, '-', 1), '')) AS lang,
               'post' AS kind, {text_lists("body")},
               {t.integer(f("likeCount"))} AS like_count, {t.integer(f("commentCount"))} AS reply_count,
               {t.integer(f("viewCount"))} AS view_count, {f("channelTitle")} AS display_name,
               NULL AS handle, {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
        FROM b""",
        [
            required({"videoId": "post_id", "channelId": "account_id", "publishedAt": "created_raw"}),
            "CASE WHEN created_at IS NULL THEN 'unparseable timestamp publishedAt=' || created_raw END",
        ],
    )
    return _finish(con, q)


def _comments(con, h: t.Header, q, video_id: str | None) -> dict:
    def f(*names: str) -> str:
        return t.first_field(h, *names)

    file_video = "'" + video_id + "'" if video_id else "NULL::VARCHAR"  # 11 safe characters, see _VIDEO_IN_NAME
    t.stage(
        con,
        q,
        f"""WITH b AS (SELECT *, {t.text_field(h, "text")} AS body, {t.truthy(f("isReply"))} AS is_reply,
                              {f("authorName")} AS author FROM _rows)
        SELECT 'youtube' AS platform, {f("id")} AS post_id, {f("authorChannelId")} AS account_id,
               {t.text_time(f("publishedAt"))} AS created_at, {f("publishedAt")} AS created_raw,
               body AS text, NULL AS lang,
               CASE WHEN is_reply THEN 'reply' ELSE 'comment' END AS kind,
               CASE WHEN is_reply THEN {f("isReplyTo")} ELSE coalesce({f("videoId")}, {file_video}) END
                   AS parent_post_id,
               {text_lists("body")},
               {t.integer(f("likeCount"))} AS like_count, {t.integer(f("replyCount"))} AS reply_count,
               NULL::BIGINT AS view_count, author AS display_name,
               CASE WHEN starts_with(author, '@') THEN substr(author, 2) END AS handle,
               {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
        FROM b""",
        [
            required({"id": "post_id", "authorChannelId": "account_id", "publishedAt": "created_raw"}),
            "CASE WHEN created_at IS NULL THEN 'unparseable timestamp publishedAt=' || created_raw END",
        ],
    )
    return _finish(con, q)


def _finish(con, q) -> dict:
    posts = con.sql(
        "SELECT * EXCLUDE (display_name, handle), ? AS source_file, "
        "CASE WHEN lang IS NOT NULL THEN 'platform' END AS lang_source FROM _stage",
        params=[q.source_file],
    ).to_arrow_table()
    accounts = con.sql(
        """SELECT platform, account_id, handle, display_name, created_at AS snapshot_at, ? AS source_file FROM _stage
           QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY created_at DESC, record DESC) = 1""",
        params=[q.source_file],
    ).to_arrow_table()
    return {"posts": posts, "accounts": accounts}


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    m = _VIDEO_IN_NAME.search(path.name)
    video_id = m.group(1) if m else None

    def transform(con, header: t.Header, q) -> dict:
        if header.has(*_VIDEOS):
            return _videos(con, header, q)
        return _comments(con, header, q, video_id)

    yield from t.drive(path, options, _check, transform)
