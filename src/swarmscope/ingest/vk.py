"""VK (VKontakte) API JSON: wall.get, wall.getById and newsfeed.search responses.

``{"response": {"count", "items": [post...], "profiles": [...], "groups":
[...]}}`` (``profiles``/``groups`` with ``extended=1``), or the bare
``response`` object, or arrays / JSON lines of either (jsonrecords.py). A
post has ``id, owner_id, from_id, date`` (POSIX seconds, UTC), ``text,
post_type, copy_history[], attachments[], likes{count}, reposts{count},
comments{count}, views{count}, post_source{type, platform}``.

Each element of ``items`` is a record; ``profiles`` and ``groups`` are
accounts, not records. ``post_id`` is VK's own ``<owner_id>_<id>`` (as in
``vk.com/wall-1_2``); ``account_id`` is ``from_id`` (else ``owner_id``):
users positive, communities negative, and a group from ``groups`` is stored
as ``-<id>`` so the two agree.

Kind: ``copy_history`` (a repost chain, the immediate source first) →
``repost`` of its first element when the post adds no text, ``quote`` when
it does; the source is referenced, not stored. Hashtags and URLs come from
the text (and ``link`` attachments); mentions are VK's inline links
``[id123|Name]`` / ``[club123|Name]`` stored as ``id123`` / ``club123``.
Media: attachment ids ``photo<owner>_<id>``, ``video…``, ``doc…``.
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
from .youtube import _lit, text_lists

NAME = "vk"
DESCRIPTION = "VK API JSON: wall.get / newsfeed.search responses (items, profiles, groups)"

CONTAINERS = {
    "items": "$.response.items",
    "profiles": "$.response.profiles",
    "groups": "$.response.groups",
    "response_items": "$.items",
    "response_profiles": "$.profiles",
    "response_groups": "$.groups",
}
_SNIFF = re.compile(rb'"owner_id"\s*:\s*-?\d')
_MENTION_RE = r"\[((?:id|club|public|event)[0-9]+)\|"


def sniff(path: Path, head: bytes) -> bool:
    body = head.removeprefix(_BOM).lstrip()
    return (
        body.startswith((b"{", b"["))
        and bool(_SNIFF.search(body))
        and b'"date"' in body
        and (b'"from_id"' in body or b'"post_type"' in body or b'"copy_history"' in body)
    )


_ATT = {
    "type": "VARCHAR",
    "photo": {"id": "VARCHAR", "owner_id": "VARCHAR"},
    "video": {"id": "VARCHAR", "owner_id": "VARCHAR"},
    "doc": {"id": "VARCHAR", "owner_id": "VARCHAR"},
    "audio": {"id": "VARCHAR", "owner_id": "VARCHAR"},
    "link": {"url": "VARCHAR"},
}
_ITEM = json.dumps(
    {
        "id": "VARCHAR",
        "owner_id": "VARCHAR",
        "from_id": "VARCHAR",
        "date": "VARCHAR",
        "text": "VARCHAR",
        "post_type": "VARCHAR",
        "copy_history": [{"id": "VARCHAR", "owner_id": "VARCHAR", "from_id": "VARCHAR"}],
        "attachments": [_ATT],
        "likes": {"count": "BIGINT"},
        "reposts": {"count": "BIGINT"},
        "comments": {"count": "BIGINT"},
        "views": {"count": "BIGINT"},
        "post_source": {"type": "VARCHAR", "platform": "VARCHAR"},
        # profiles / groups
        "first_name": "VARCHAR",
        "last_name": "VARCHAR",
        "name": "VARCHAR",
        "screen_name": "VARCHAR",
        "photo_100": "VARCHAR",
        "photo_50": "VARCHAR",
        "followers_count": "BIGINT",
        "members_count": "BIGINT",
        "description": "VARCHAR",
        "status": "VARCHAR",
        "verified": "BOOLEAN",
    }
)

_STAGE = f"""
CREATE OR REPLACE TEMP TABLE _vki AS
SELECT record, pos, src, j, TRY(from_json(j, '{_ITEM}')) AS i,
       CASE WHEN src LIKE '%profiles' THEN 'profile' WHEN src LIKE '%groups' THEN 'group' ELSE 'post' END AS shape
FROM _items
"""

_MEDIA = (
    "list_filter(list_transform(p.attachments, lambda a: CASE WHEN a.type IN ('photo', 'video', 'doc', 'audio') "
    "THEN a.type || coalesce(a.photo.owner_id, a.video.owner_id, a.doc.owner_id, a.audio.owner_id) || '_' || "
    "coalesce(a.photo.id, a.video.id, a.doc.id, a.audio.id) END), lambda x: x IS NOT NULL)"
)

_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _posts AS
WITH v AS (SELECT *, i AS p, i.copy_history[1] AS src_post, coalesce(i.text, '') AS body
           FROM _vki WHERE shape = 'post'),
l AS (SELECT *, {text_lists("body")} FROM v)
SELECT 'vk' AS platform, p.owner_id || '_' || p.id AS post_id,
       coalesce(p.from_id, p.owner_id) AS account_id,
       {t.epoch("p.date")} AS created_at, p.date AS created_raw,
       nullif(p.text, '') AS text,
       CASE WHEN src_post IS NULL THEN 'post' WHEN trim(body) = '' THEN 'repost' ELSE 'quote' END AS kind,
       src_post.owner_id || '_' || src_post.id AS parent_post_id,
       coalesce(src_post.from_id, src_post.owner_id) AS parent_account_id,
       hashtags,
       list_concat(urls, list_filter(list_transform(p.attachments, lambda a: a.link.url), lambda u: u IS NOT NULL))
           AS urls,
       regexp_extract_all(body, {_lit(_MENTION_RE)}, 1) AS mentions,
       {_MEDIA} AS media,
       coalesce(p.post_source.platform, p.post_source.type) AS client,
       p.likes.count AS like_count, p.reposts.count AS repost_count, p.comments.count AS reply_count,
       p.views.count AS view_count,
       record, record AS source_record, pos, src, j
FROM l
"""

_ACCOUNTS = """
SELECT 'vk' AS platform, account_id, NULL AS handle, NULL AS display_name, NULL AS description,
       NULL::BIGINT AS followers, NULL AS profile_image_url, NULL::BOOLEAN AS verified,
       created_at AS snapshot_at, ? AS source_file
FROM _posts
UNION ALL
SELECT 'vk', CASE WHEN shape = 'group' THEN '-' || ltrim(i.id, '-') ELSE i.id END,
       i.screen_name, coalesce(i.name, concat_ws(' ', i.first_name, i.last_name)), coalesce(i.description, i.status),
       coalesce(i.followers_count, i.members_count), coalesce(i.photo_100, i.photo_50), i.verified, NULL, ?
FROM _vki WHERE shape IN ('profile', 'group') AND i.id IS NOT NULL
"""


def _parse(con: duckdb.DuckDBPyConnection, q: Quarantine, source_file: str) -> tuple[pa.Table, pa.Table, None]:
    con.execute(_STAGE)
    quarantine_where(
        con,
        q,
        "_vki",
        f"(CASE WHEN shape = 'post' AND (i IS NULL OR json_type(j) <> 'OBJECT') "
        f"THEN 'not a VK post (expected a JSON object)' END || {note_sql()})",
        "j",
    )
    con.execute(_POSTS)
    quarantine_where(
        con,
        q,
        "_posts",
        f"({required({'id': 'post_id', 'owner_id': 'account_id', 'date': 'created_raw'})} || {note_sql()})",
        "j",
    )
    quarantine_where(
        con,
        q,
        "_posts",
        f"(CASE WHEN created_at IS NULL THEN 'unparseable timestamp date=' || created_raw "
        f"|| ' (POSIX seconds expected)' END || {note_sql()})",
        "j",
    )
    posts = con.sql("SELECT * EXCLUDE (j), ? AS source_file FROM _posts", params=[source_file]).to_arrow_table()
    accounts = collapse_accounts(con, _ACCOUNTS, [source_file, source_file])
    return posts, accounts, None


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    yield from read_records(
        path,
        options,
        CONTAINERS,
        lambda con, q: _parse(con, q, str(path)),
        "no VK posts: expected response.items[] (wall.get, newsfeed.search) or an array of posts",
    )
