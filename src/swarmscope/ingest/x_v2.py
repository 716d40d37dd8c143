"""X (Twitter) API v2 JSON: twarc2 response pages and one-tweet-per-line JSONL.

Accepted line shapes (mixed freely within a file):

- a twarc2 page: ``{"data": [tweet...], "includes": {"users": [...],
  "tweets": [...], "media": [...]}, "meta": ..., "__twarc": ...}``;
- a single-tweet lookup response: ``{"data": {tweet}, "includes": ...}``;
- one tweet per line, as ``twarc2 flatten`` writes it (``author`` and
  referenced tweets embedded) or a bare v2 tweet object.

Each tweet of ``data`` is a record; tweets in ``includes.tweets`` (the
originals of retweets, quotes and replies) are stored as posts too, so the
parent's text and author are known. Records are numbered by line; a reason
names the tweet's position in the page. An empty page (``result_count`` 0)
holds no record.

Kind: ``referenced_tweets`` type ``retweeted`` → repost, ``replied_to`` →
reply, ``quoted`` → quote (a quote that is also a reply is a reply).
``created_at`` carries its zone ("Z"), converted to UTC.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from .. import store
from .base import Batch, Quarantine, ReadOptions, make_batch
from .jsonsql import quarantine_invalid_json, quarantine_where, register_records, required, utc
from .lines import iter_lines

NAME = "x_v2"
DESCRIPTION = "X API v2 JSON lines: twarc2 pages (data + includes) or one tweet per line"


def sniff(path: Path, head: bytes) -> bool:
    first = head.lstrip().split(b"\n", 1)[0]
    if not first.startswith(b"{"):
        return False
    try:
        obj = json.loads(first)
    except ValueError:  # first line longer than the head: look for v2 keys
        return b'"author_id"' in first or (b'"data"' in first and b'"includes"' in first)
    if not isinstance(obj, dict):
        return False
    data = obj.get("data")
    if isinstance(data, list):
        data = data[0] if data else {}
    if isinstance(data, dict) and "id" in data and ("text" in data or "author_id" in data):
        return True
    return "id" in obj and "text" in obj and ("author_id" in obj or "edit_history_tweet_ids" in obj)


_TWEETS = """
CREATE OR REPLACE TEMP TABLE _tw AS
WITH shaped AS (
    SELECT record, j,
           CASE WHEN json_type(j, '$.data') = 'ARRAY' THEN json_extract(j, '$.data[*]')
                WHEN json_type(j, '$.data') = 'OBJECT' THEN [json_extract(j, '$.data')]
                WHEN json_exists(j, '$.id') THEN [j]
                ELSE NULL END AS tweets,
           coalesce(json_extract(j, '$.includes.tweets[*]'), []) AS context,
           json_extract_string(j, '$.__twarc.retrieved_at') AS retrieved_at
    FROM _json
)
SELECT record, unnest(tweets) AS t, unnest(generate_series(1, len(tweets))) AS pos,
       FALSE AS is_context, retrieved_at
FROM shaped WHERE tweets IS NOT NULL
UNION ALL
SELECT record, unnest(context) AS t, unnest(generate_series(1, len(context))) AS pos,
       TRUE AS is_context, retrieved_at
FROM shaped WHERE tweets IS NOT NULL
"""

_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _posts AS
WITH refs AS (
    SELECT record, t, pos, is_context, retrieved_at,
           json_extract_string(t, '$.referenced_tweets[*].type') AS ref_types,
           json_extract_string(t, '$.referenced_tweets[*].id') AS ref_ids,
           json_extract_string(t, '$.referenced_tweets[*].author_id') AS ref_authors
    FROM _tw
), typed AS (
    SELECT *,
           CASE WHEN list_contains(ref_types, 'retweeted') THEN 'repost'
                WHEN list_contains(ref_types, 'replied_to') THEN 'reply'
                WHEN list_contains(ref_types, 'quoted') THEN 'quote'
                ELSE 'post' END AS kind,
           CASE WHEN list_contains(ref_types, 'retweeted') THEN list_position(ref_types, 'retweeted')
                WHEN list_contains(ref_types, 'replied_to') THEN list_position(ref_types, 'replied_to')
                WHEN list_contains(ref_types, 'quoted') THEN list_position(ref_types, 'quoted')
                END AS ref_at
    FROM refs
)
SELECT
    'x' AS platform,
    json_extract_string(t, '$.id') AS post_id,
    coalesce(json_extract_string(t, '$.author_id'), json_extract_string(t, '$.author.id')) AS account_id,
    {utc("json_extract_string(t, '$.created_at')")} AS created_at,
    json_extract_string(t, '$.created_at') AS created_raw,
    coalesce(json_extract_string(t, '$.note_tweet.text'), json_extract_string(t, '$.text')) AS text,
    nullif(json_extract_string(t, '$.lang'), 'und') AS lang,
    kind,
    ref_ids[ref_at] AS parent_post_id,
    coalesce(ref_authors[ref_at],
             CASE WHEN kind = 'reply' THEN json_extract_string(t, '$.in_reply_to_user_id') END) AS parent_account_id,
    json_extract_string(t, '$.entities.hashtags[*].tag') AS hashtags,
    list_transform(
        coalesce(json_extract(t, '$.entities.urls[*]'), []),
        lambda u: coalesce(json_extract_string(u, '$.unwound_url'), json_extract_string(u, '$.expanded_url'),
                      json_extract_string(u, '$.url'))) AS urls,
    json_extract_string(t, '$.entities.mentions[*].username') AS mentions,
    json_extract_string(t, '$.attachments.media_keys[*]') AS media,
    json_extract_string(t, '$.source') AS client,
    TRY_CAST(json_extract(t, '$.public_metrics.like_count') AS BIGINT) AS like_count,
    TRY_CAST(json_extract(t, '$.public_metrics.retweet_count') AS BIGINT) AS repost_count,
    TRY_CAST(json_extract(t, '$.public_metrics.reply_count') AS BIGINT) AS reply_count,
    TRY_CAST(json_extract(t, '$.public_metrics.quote_count') AS BIGINT) AS quote_count,
    TRY_CAST(json_extract(t, '$.public_metrics.impression_count') AS BIGINT) AS view_count,
    record, record AS source_record,
    pos, is_context, retrieved_at, t
FROM typed
-- an included tweet that is also in this chunk's data is the same post: not a second record
WHERE NOT (is_context AND json_extract_string(t, '$.id') IN
           (SELECT json_extract_string(t, '$.id') FROM _tw WHERE NOT is_context))
"""

_ACCOUNT_FIELDS = """
    json_extract_string(u, '$.username') AS handle,
    json_extract_string(u, '$.name') AS display_name,
    json_extract_string(u, '$.description') AS description,
    {created} AS created_at,
    TRY_CAST(json_extract(u, '$.public_metrics.followers_count') AS BIGINT) AS followers,
    TRY_CAST(json_extract(u, '$.public_metrics.following_count') AS BIGINT) AS following,
    TRY_CAST(json_extract(u, '$.public_metrics.tweet_count') AS BIGINT) AS posts_count,
    json_extract_string(u, '$.location') AS location,
    TRY_CAST(json_extract(u, '$.verified') AS BOOLEAN) AS verified,
    json_extract_string(u, '$.profile_image_url') AS profile_image_url
""".format(created=utc("json_extract_string(u, '$.created_at')"))

_ACCOUNTS = f"""
WITH line_time AS (
    SELECT source_record AS record, max(created_at) AS latest FROM _posts GROUP BY 1
), users AS (
    SELECT record, unnest(json_extract(j, '$.includes.users[*]')) AS u,
           json_extract_string(j, '$.__twarc.retrieved_at') AS retrieved_at
    FROM _json WHERE json_exists(j, '$.includes.users')
    UNION ALL
    SELECT source_record, json_extract(t, '$.author'), retrieved_at
    FROM _posts WHERE json_exists(t, '$.author')
)
SELECT 'x' AS platform, json_extract_string(u, '$.id') AS account_id, {_ACCOUNT_FIELDS},
       coalesce({utc("users.retrieved_at")}, lt.latest) AS snapshot_at,
       ? AS source_file
FROM users LEFT JOIN line_time lt USING (record)
WHERE json_extract_string(u, '$.id') IS NOT NULL
"""


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    q = Quarantine(str(path))
    con = store.connect()
    for chunk in iter_lines(path, q, options.batch_bytes, options.max_record_bytes):
        register_records(con, chunk.numbers, chunk.lines)
        quarantine_invalid_json(con, q)
        # A line that is JSON but no tweet at all; an empty page holds no record.
        quarantine_where(
            con, q, "_json",
            "CASE WHEN json_type(j, '$.data') IN ('ARRAY', 'OBJECT') OR json_exists(j, '$.id') THEN NULL "
            "WHEN TRY_CAST(json_extract(j, '$.meta.result_count') AS BIGINT) = 0 THEN NULL "
            "ELSE 'no tweet in record: expected a v2 page with data[] or a tweet object with id' END",
            "j",
        )
        con.execute("DELETE FROM _json WHERE TRY_CAST(json_extract(j, '$.meta.result_count') AS BIGINT) = 0 "
                    "AND json_type(j, '$.data') IS NULL")
        con.execute(_TWEETS)
        con.execute(_POSTS)
        # the parent's author, from any tweet of this chunk (includes.tweets hold the originals)
        con.execute(
            "UPDATE _posts SET parent_account_id = m.account_id "
            "FROM (SELECT post_id, any_value(account_id) AS account_id FROM _posts GROUP BY 1) m "
            "WHERE _posts.parent_account_id IS NULL AND _posts.parent_post_id = m.post_id"
        )
        pos_note = "|| CASE WHEN pos > 1 OR is_context THEN ' (' || CASE WHEN is_context THEN 'includes.tweets' ELSE 'data' END || '[' || (pos - 1) || '])' ELSE '' END"
        quarantine_where(
            con, q, "_posts",
            f"({required({'id': 'post_id', 'author_id': 'account_id', 'created_at': 'created_raw'})} {pos_note})",
            "t",
        )
        quarantine_where(
            con, q, "_posts",
            f"(CASE WHEN created_at IS NULL THEN 'unparseable timestamp created_at=' || created_raw END {pos_note})",
            "t",
        )
        posts = con.sql(
            "SELECT *, ? AS source_file, CASE WHEN lang IS NOT NULL THEN 'platform' END AS lang_source FROM _posts",
            params=[str(path)],
        ).to_arrow_table()
        accounts = con.sql(_ACCOUNTS, params=[str(path)]).to_arrow_table()
        yield make_batch(posts, accounts, q, chunk.bytes_done)
    if len(q):  # bad lines after the last good chunk (e.g. an oversized last line)
        yield make_batch(None, None, q, path.stat().st_size)
    con.close()
