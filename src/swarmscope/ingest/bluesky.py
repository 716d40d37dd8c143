"""Bluesky (AT Protocol) JSON: searchPosts / getAuthorFeed responses, repository records, Jetstream events.

Accepted records (mixed freely; one response per file, arrays or JSON
lines, see jsonrecords.py):

- ``app.bsky.feed.searchPosts`` ``{"posts": [postView]}`` and bare
  ``postView`` objects: ``uri, cid, author{did, handle, displayName, avatar,
  createdAt}, record{text, createdAt, langs, facets, reply, embed, tags},
  embed (view), replyCount, repostCount, likeCount, quoteCount, indexedAt``;
- ``app.bsky.feed.getAuthorFeed`` / ``getTimeline`` ``{"feed":
  [feedViewPost]}``: ``{post: postView, reply?, reason?}``. A feed item with
  ``reason.$type`` ``app.bsky.feed.defs#reasonRepost`` is two records: the
  repost (by ``reason.by``, at ``reason.indexedAt``, id ``reason.uri`` where
  the server gives it, else ``<by.did>/repost/<post uri>``) and the original
  post;
- ``com.atproto.repo.listRecords`` ``{"records": [{uri, cid, value}]}``:
  ``app.bsky.feed.post`` and ``app.bsky.feed.repost`` (``subject.uri``)
  values; the author is the DID in the at-uri;
- Jetstream JSON lines ``{did, time_us, kind: "commit", commit{operation,
  collection, rkey, record}}``: creates of posts and reposts;
- collectors' ``{uri, cid, author, record}`` lines, ``author`` a profile or
  the DID alone (the atproto firehose examples, the feed generator kit).

Any of these dumped by the Python atproto SDK (``model_dump()``: snake_case
fields such as ``created_at``, ``indexed_at``, ``display_name``,
``like_count``, ``byte_start``, and the lexicon type as ``py_type``) is read
the same: ``_camel_sql`` renames those keys to the lexicon's before parsing,
in SQL, keys only (text that spells them is kept).

Other records (likes, follows, deletes, identity events) are not posts and
not records: skipped, not counted.

``post_id`` is the at-uri; accounts are DIDs. Kind: repost; ``record.reply``
→ reply to ``reply.parent.uri``; an ``app.bsky.embed.record`` (or
``recordWithMedia``) embed → quote of the embedded post. The parent's
account is the DID inside its at-uri. Facets give exact lists: ``#link``
URIs (plus an external embed's URI), ``#tag`` tags (plus ``record.tags``),
and ``#mention`` handles as written in the text (the facet's byte range).
Time: ``record.createdAt`` (as the client wrote it, converted to UTC).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from .base import Batch, Quarantine, ReadOptions
from .jsonrecords import collapse_accounts, note_sql, read_records
from .jsonsql import quarantine_where, required, utc
from .jsonstream import _BOM

NAME = "bluesky"
DESCRIPTION = "Bluesky JSON: searchPosts/getAuthorFeed responses, listRecords repo records, Jetstream events"

CONTAINERS = {"posts": "$.posts", "feed": "$.feed", "records": "$.records"}
_SNIFF = re.compile(rb'"(?:at://did:|app\.bsky\.feed\.)')

_PROFILE = {
    "did": "VARCHAR",
    "handle": "VARCHAR",
    "displayName": "VARCHAR",
    "avatar": "VARCHAR",
    "createdAt": "VARCHAR",
    "description": "VARCHAR",
}
_RECORD = {
    "$type": "VARCHAR",
    "text": "VARCHAR",
    "createdAt": "VARCHAR",
    "langs": ["VARCHAR"],
    "tags": ["VARCHAR"],
    "facets": [
        {
            "index": {"byteStart": "BIGINT", "byteEnd": "BIGINT"},
            "features": [{"$type": "VARCHAR", "uri": "VARCHAR", "did": "VARCHAR", "tag": "VARCHAR"}],
        }
    ],
    "reply": {"parent": {"uri": "VARCHAR"}},
    "embed": {
        "$type": "VARCHAR",
        "record": {"uri": "VARCHAR", "record": {"uri": "VARCHAR"}},
        "external": {"uri": "VARCHAR"},
    },
    "subject": {"uri": "VARCHAR"},
}
_VIEW = {
    "uri": "VARCHAR",
    "author": _PROFILE,
    "record": _RECORD,
    "embed": {"images": [{"fullsize": "VARCHAR"}], "media": {"images": [{"fullsize": "VARCHAR"}]}},
    "replyCount": "BIGINT",
    "repostCount": "BIGINT",
    "likeCount": "BIGINT",
    "quoteCount": "BIGINT",
    "indexedAt": "VARCHAR",
}
_ITEM = json.dumps(
    {
        **_VIEW,
        "post": _VIEW,
        "reason": {"$type": "VARCHAR", "by": _PROFILE, "indexedAt": "VARCHAR", "uri": "VARCHAR"},
        "value": _RECORD,
        "did": "VARCHAR",
        "kind": "VARCHAR",
        "commit": {"operation": "VARCHAR", "collection": "VARCHAR", "rkey": "VARCHAR", "record": _RECORD},
    }
)

_POST_TYPES = "('app.bsky.feed.post', 'app.bsky.feed.repost')"


def sniff(path: Path, head: bytes) -> bool:
    body = head.removeprefix(_BOM).lstrip()
    return body.startswith((b"{", b"[")) and bool(_SNIFF.search(body))


# The Python atproto SDK's models dumped with ``model_dump()`` (or ``.dict()``) name fields in
# snake_case and the lexicon type ``py_type``: renamed to the lexicon's names before parsing.
# A key: a string after '{' or ',' (group 1) and before ':' (the last group). A string value is
# never followed by ':', and inside a string a '"' is always escaped, so text is never renamed.
_KEY = r"([{,]\s*)"
_COLON = r"(\s*:)"
_SNAKE_KEYS = (
    (_KEY + r'"(created|indexed)_at"' + _COLON, r'\1"\2At"\3'),
    (_KEY + r'"(like|repost|reply|quote)_count"' + _COLON, r'\1"\2Count"\3'),
    (_KEY + r'"display_name"' + _COLON, r'\1"displayName"\2'),
    (_KEY + r'"byte_start"' + _COLON, r'\1"byteStart"\2'),
    (_KEY + r'"byte_end"' + _COLON, r'\1"byteEnd"\2'),
    (_KEY + r'"py_type"' + _COLON, r'\1"$type"\2'),
)


def _camel_sql(js: str) -> str:
    """SQL: the JSON text ``js`` with the atproto SDK's snake_case keys renamed to the lexicon's."""
    for pattern, repl in _SNAKE_KEYS:
        js = f"regexp_replace({js}, '{pattern}', '{repl}', 'g')"
    return js


# A collector's {uri, cid, author: "<did>", record} (the atproto firehose examples, the feed
# generator starter kit) names the author by DID alone: made {"author": {"did": ...}}.
_AUTHOR_DID = r'([{,]\s*"author"\s*:\s*)("did:[^"\\]*")'

_STAGE = f"""
CREATE OR REPLACE TEMP TABLE _bsi AS
WITH t AS (SELECT record, pos, src, j, CAST(j AS VARCHAR) AS js FROM _items),
n AS (
    SELECT record, pos, src, j,
           CASE WHEN contains(js, '"py_type"') OR contains(js, '_at"') OR contains(js, '_count"')
                THEN {_camel_sql("js")} ELSE js END AS js
    FROM t
),
a AS (
    SELECT record, pos, src, j,
           CASE WHEN contains(js, '"author":"did:') OR contains(js, '"author": "did:')
                THEN regexp_replace(js, '{_AUTHOR_DID}', '\\1{{"did": \\2}}', 'g') ELSE js END AS js
    FROM n
),
p AS (SELECT record, pos, src, j, TRY(from_json(js, '{_ITEM}')) AS i FROM a)
SELECT *, CASE
    WHEN i IS NULL THEN 'bad'
    WHEN i.post.uri IS NOT NULL THEN 'feed'
    WHEN i.uri IS NOT NULL AND i.author IS NOT NULL THEN
        -- a like or follow in a collector's uri + author + record is not a post
        CASE WHEN coalesce(i.record."$type", 'app.bsky.feed.post') IN {_POST_TYPES} THEN 'view' ELSE 'skip' END
    WHEN i.value IS NOT NULL THEN CASE WHEN i.value."$type" IN {_POST_TYPES} THEN 'repo' ELSE 'skip' END
    WHEN i.did IS NOT NULL AND i.kind IS NOT NULL THEN
        CASE WHEN i.commit.operation = 'create' AND i.commit.collection IN {_POST_TYPES} THEN 'jet' ELSE 'skip' END
    ELSE 'bad' END AS shape
FROM p
"""

# one row per post: the view (of a search result or feed item), a repost reason, a repo record, a Jetstream create
_ROWS = """
CREATE OR REPLACE TEMP TABLE _bs AS
SELECT record, pos, src, j, coalesce(i.post.uri, i.uri) AS uri, coalesce(i.post.author, i.author) AS au,
       coalesce(i.post.record, i.record) AS r, coalesce(i.post.embed, i.embed) AS ev,
       coalesce(i.post.likeCount, i.likeCount) AS like_count,
       coalesce(i.post.repostCount, i.repostCount) AS repost_count,
       coalesce(i.post.replyCount, i.replyCount) AS reply_count,
       coalesce(i.post.quoteCount, i.quoteCount) AS quote_count,
       coalesce(i.post.indexedAt, i.indexedAt) AS indexed_at, NULL::VARCHAR AS reposted, NULL::VARCHAR AS repost_time
FROM _bsi WHERE shape IN ('feed', 'view')
UNION ALL
SELECT record, pos, src, j, coalesce(i.reason.uri, i.reason.by.did || '/repost/' || i.post.uri), i.reason.by,
       NULL, NULL, NULL, NULL, NULL, NULL, i.reason.indexedAt, i.post.uri, i.reason.indexedAt
FROM _bsi WHERE shape = 'feed' AND i.reason."$type" = 'app.bsky.feed.defs#reasonRepost'
UNION ALL
SELECT record, pos, src, j, i.uri, NULL, i.value, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM _bsi WHERE shape = 'repo'
UNION ALL
SELECT record, pos, src, j, 'at://' || i.did || '/' || i.commit.collection || '/' || i.commit.rkey,
       {'did': i.did}, i.commit.record, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM _bsi WHERE shape = 'jet'
"""

_FEATURES = (
    "flatten(list_transform(r.facets, lambda f: list_transform(f.features, lambda x: "
    "{'t': x.\"$type\", 'uri': x.uri, 'tag': x.tag, 's': f.index.byteStart, 'e': f.index.byteEnd})))"
)

_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _posts AS
WITH k AS (
    SELECT *, {_FEATURES} AS feats,
           CASE WHEN reposted IS NOT NULL OR r."$type" = 'app.bsky.feed.repost' THEN 'repost'
                WHEN r.reply.parent.uri IS NOT NULL THEN 'reply'
                WHEN r.embed."$type" IN ('app.bsky.embed.record', 'app.bsky.embed.recordWithMedia') THEN 'quote'
                ELSE 'post' END AS kind
    FROM _bs
), p AS (
    SELECT *, CASE kind WHEN 'repost' THEN coalesce(reposted, r.subject.uri) WHEN 'reply' THEN r.reply.parent.uri
                        WHEN 'quote' THEN coalesce(r.embed.record.record.uri, r.embed.record.uri) END AS parent_uri,
              coalesce(repost_time, r.createdAt) AS created_raw
    FROM k
)
SELECT 'bluesky' AS platform, uri AS post_id,
       coalesce(au.did, CASE WHEN starts_with(uri, 'at://') THEN split_part(uri, '/', 3) END) AS account_id,
       {utc("created_raw")} AS created_at, created_raw,
       CASE WHEN kind <> 'repost' THEN r.text END AS text,
       lower(nullif(split_part(r.langs[1], '-', 1), '')) AS lang,
       kind, parent_uri AS parent_post_id,
       CASE WHEN starts_with(parent_uri, 'at://') THEN split_part(parent_uri, '/', 3) END AS parent_account_id,
       list_concat(list_transform(list_filter(feats, lambda x: x.t = 'app.bsky.richtext.facet#tag'), lambda x: x.tag),
                   coalesce(r.tags, [])) AS hashtags,
       list_filter(list_concat(list_transform(list_filter(feats, lambda x: x.t = 'app.bsky.richtext.facet#link'),
                                              lambda x: x.uri), [r.embed.external.uri]),
                   lambda u: u IS NOT NULL) AS urls,
       list_transform(list_filter(feats, lambda x: x.t = 'app.bsky.richtext.facet#mention'),
                      lambda x: ltrim(TRY(decode(encode(r.text)[x.s + 1:x.e])), '@')) AS mentions,
       list_transform(coalesce(ev.images, ev.media.images), lambda m: m.fullsize) AS media,
       like_count, repost_count, reply_count, quote_count, au, indexed_at,
       record, record AS source_record, pos, src, j
FROM p
"""


def _parse(con: duckdb.DuckDBPyConnection, q: Quarantine, source_file: str) -> tuple[pa.Table, pa.Table, None]:
    con.execute(_STAGE)
    quarantine_where(
        con,
        q,
        "_bsi",
        f"(CASE WHEN shape = 'bad' THEN 'not a Bluesky post, feed item or repo record "
        f"(expected uri + author + record, post, value or a Jetstream commit)' END || {note_sql()})",
        "j",
    )
    con.execute(_ROWS)
    con.execute(_POSTS)
    quarantine_where(
        con,
        q,
        "_posts",
        f"({required({'uri': 'post_id', 'author.did': 'account_id', 'createdAt': 'created_raw'})} || {note_sql()})",
        "j",
    )
    quarantine_where(
        con,
        q,
        "_posts",
        f"(CASE WHEN created_at IS NULL THEN 'unparseable timestamp createdAt=' || created_raw END || {note_sql()})",
        "j",
    )
    posts = con.sql(
        "SELECT * EXCLUDE (j, au, indexed_at), ? AS source_file, "
        "CASE WHEN lang IS NOT NULL THEN 'platform' END AS lang_source FROM _posts",
        params=[source_file],
    ).to_arrow_table()
    accounts = collapse_accounts(
        con,
        f"""SELECT 'bluesky' AS platform, account_id, au.handle AS handle, au.displayName AS display_name,
                        au.description AS description, {utc("au.createdAt")} AS created_at,
                        au.avatar AS profile_image_url,
                        coalesce({utc("indexed_at")}, created_at) AS snapshot_at, ? AS source_file
                 FROM _posts""",
        [source_file],
    )
    return posts, accounts, None


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    yield from read_records(
        path,
        options,
        CONTAINERS,
        lambda con, q: _parse(con, q, str(path)),
        "no Bluesky records: expected posts[], feed[], records[] or an array of posts",
    )
