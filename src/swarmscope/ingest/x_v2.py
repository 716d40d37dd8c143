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
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb

from .. import store
from .base import Batch, Quarantine, ReadOptions, make_batch
from .jsonsql import quarantine_where, register_records, required, utc
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


_USER = (
    '{"id": "VARCHAR", "username": "VARCHAR", "name": "VARCHAR", "description": "VARCHAR", '
    '"created_at": "VARCHAR", "location": "VARCHAR", "verified": "BOOLEAN", "profile_image_url": "VARCHAR", '
    '"public_metrics": {"followers_count": "BIGINT", "following_count": "BIGINT", "tweet_count": "BIGINT"}}'
)
# Each tweet is parsed once into this struct (DuckDB's JSON functions re-parse
# the text on every call, so per-field json_extract would parse it ~25 times).
# A field of an unexpected type becomes NULL rather than failing the batch.
_TWEET = (
    '{"id": "VARCHAR", "text": "VARCHAR", "author_id": "VARCHAR", "created_at": "VARCHAR", "lang": "VARCHAR", '
    '"note_tweet": {"text": "VARCHAR"}, "source": "VARCHAR", "in_reply_to_user_id": "VARCHAR", '
    '"referenced_tweets": [{"type": "VARCHAR", "id": "VARCHAR", "author_id": "VARCHAR"}], '
    '"entities": {"hashtags": [{"tag": "VARCHAR"}], '
    '"urls": [{"url": "VARCHAR", "expanded_url": "VARCHAR", "unwound_url": "VARCHAR"}], '
    '"mentions": [{"username": "VARCHAR"}]}, '
    '"attachments": {"media_keys": ["VARCHAR"]}, '
    '"public_metrics": {"like_count": "BIGINT", "retweet_count": "BIGINT", "reply_count": "BIGINT", '
    '"quote_count": "BIGINT", "impression_count": "BIGINT"}, '
    f'"author": {_USER}}}'
)

# One parse per line: the whole line into typed structs (DuckDB's JSON
# functions re-parse the text on every call). TRY turns an unparseable line
# into NULL; only those lines are examined again, to say why.
# A line is a page (data, includes, ...) or a tweet itself (its fields at the top).
_LINE = (
    '{' + _TWEET[1:-1] + ', "data": [' + _TWEET + '], '
    '"includes": {"tweets": [' + _TWEET + '], "users": [' + _USER + ']}, '
    '"__twarc": {"retrieved_at": "VARCHAR"}, "meta": {"result_count": "BIGINT"}}'
)
# The top-level tweet fields of a line, as a tweet struct (one-tweet-per-line files).
_LINE_TWEET = "struct_pack(" + ", ".join(f'"{k}" := l."{k}"' for k in json.loads(_TWEET)) + ")"

_PARSED = f"""
CREATE OR REPLACE TEMP TABLE _parsed AS
SELECT record, raw, TRY(from_json(raw, '{_LINE}')) AS l FROM _records
"""

# Materialised: an expression left inline next to an unnest is re-evaluated
# for every unnested row.
_PAGES = f"""
CREATE OR REPLACE TEMP TABLE _pages AS
SELECT record,
       CASE WHEN l.data IS NOT NULL THEN l.data
            WHEN json_type(raw, '$.data') = 'OBJECT' THEN [from_json(json_extract(raw, '$.data'), '{_TWEET}')]
            WHEN l.id IS NOT NULL THEN [{_LINE_TWEET}]
            ELSE NULL END AS tweets,
       coalesce(l.includes.tweets, []) AS context,
       coalesce(l.includes.users, []) AS users,
       l.__twarc.retrieved_at AS retrieved_at
FROM _parsed
WHERE l IS NOT NULL AND NOT (l.data IS NULL AND l.id IS NULL AND l.meta.result_count = 0)
"""

_TWEETS = """
CREATE OR REPLACE TEMP TABLE _tw AS
SELECT record, unnest(tweets) AS t, unnest(generate_series(1, len(tweets))) AS pos,
       FALSE AS is_context, retrieved_at
FROM _pages WHERE tweets IS NOT NULL
UNION ALL
SELECT record, unnest(context) AS t, unnest(generate_series(1, len(context))) AS pos,
       TRUE AS is_context, retrieved_at
FROM _pages WHERE tweets IS NOT NULL
"""

_POSTS = f"""
CREATE OR REPLACE TEMP TABLE _posts AS
WITH refs AS (
    SELECT record, t, pos, is_context, retrieved_at,
           list_transform(t.referenced_tweets, lambda r: r.type) AS ref_types,
           list_transform(t.referenced_tweets, lambda r: r.id) AS ref_ids,
           list_transform(t.referenced_tweets, lambda r: r.author_id) AS ref_authors
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
    t.id AS post_id,
    coalesce(t.author_id, t.author.id) AS account_id,
    {utc("t.created_at")} AS created_at,
    t.created_at AS created_raw,
    coalesce(t.note_tweet.text, t.text) AS text,
    nullif(t.lang, 'und') AS lang,
    kind,
    ref_ids[ref_at] AS parent_post_id,
    coalesce(ref_authors[ref_at], CASE WHEN kind = 'reply' THEN t.in_reply_to_user_id END) AS parent_account_id,
    list_transform(t.entities.hashtags, lambda h: h.tag) AS hashtags,
    list_transform(t.entities.urls, lambda u: coalesce(u.unwound_url, u.expanded_url, u.url)) AS urls,
    list_transform(t.entities.mentions, lambda m: m.username) AS mentions,
    t.attachments.media_keys AS media,
    t.source AS client,
    t.public_metrics.like_count AS like_count,
    t.public_metrics.retweet_count AS repost_count,
    t.public_metrics.reply_count AS reply_count,
    t.public_metrics.quote_count AS quote_count,
    t.public_metrics.impression_count AS view_count,
    record, record AS source_record,
    pos, is_context, retrieved_at, t
FROM typed
-- an included tweet that is also in this chunk's data is the same post: not a second record
WHERE NOT (is_context AND t.id IN (SELECT t.id FROM _tw WHERE NOT is_context))
"""

_ACCOUNT_FIELDS = """
    u.username AS handle,
    u.name AS display_name,
    u.description AS description,
    {created} AS created_at,
    u.public_metrics.followers_count AS followers,
    u.public_metrics.following_count AS following,
    u.public_metrics.tweet_count AS posts_count,
    u.location AS location,
    u.verified AS verified,
    u.profile_image_url AS profile_image_url
""".format(created=utc("u.created_at"))

_USERS = """
CREATE OR REPLACE TEMP TABLE _users AS
SELECT record, unnest(users) AS u, retrieved_at FROM _pages
UNION ALL
SELECT source_record, t.author, retrieved_at
FROM _posts WHERE t.author.id IS NOT NULL
"""

_ACCOUNTS = f"""
WITH line_time AS (
    SELECT source_record AS record, max(created_at) AS latest FROM _posts GROUP BY 1
)
SELECT 'x' AS platform, u.id AS account_id, users.record AS record, {_ACCOUNT_FIELDS},
       coalesce({utc("users.retrieved_at")}, lt.latest) AS snapshot_at,
       ? AS source_file
FROM _users users LEFT JOIN line_time lt USING (record)
WHERE u.id IS NOT NULL
"""


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    """The fast path when the whole file parses natively; else the exact path, line by line."""
    fast = _read_fast(path, options)
    if fast is not None:
        yield from fast
        return
    yield from _read_exact(path, options)


def _transform(con, q: Quarantine, path: Path) -> tuple:
    """``_parsed`` (record, raw, l) -> canonical posts and accounts (Arrow), bad ones to ``q``."""
    quarantine_where(
        con, q, "_parsed",
        "CASE WHEN l IS NOT NULL THEN NULL "
        "WHEN NOT json_valid(raw) THEN 'invalid JSON (truncated or malformed record)' "
        "ELSE 'not a JSON object (found ' || lower(json_type(raw::JSON)) || ')' END",
        "raw",
    )
    # JSON, but no tweet at all; an empty page (result_count 0) holds no record
    quarantine_where(
        con, q, "_parsed",
        "CASE WHEN l.data IS NOT NULL OR l.id IS NOT NULL OR l.meta.result_count = 0 THEN NULL "
        "WHEN json_type(raw, '$.data') = 'OBJECT' THEN NULL "
        "ELSE 'no tweet in record: expected a v2 page with data[] or a tweet object with id' END",
        "coalesce(raw, to_json(l))",
    )
    con.execute(_PAGES)
    con.execute("DROP TABLE _parsed")
    con.execute(_TWEETS)
    con.execute(_POSTS)
    # the parent's author, from any tweet of this chunk (includes.tweets hold the originals)
    con.execute(
        "UPDATE _posts SET parent_account_id = m.account_id "
        "FROM (SELECT post_id, any_value(account_id) AS account_id FROM _posts GROUP BY 1) m "
        "WHERE _posts.parent_account_id IS NULL AND _posts.parent_post_id = m.post_id"
    )
    pos_note = (
        "|| CASE WHEN pos > 1 OR is_context THEN ' (' || CASE WHEN is_context THEN 'includes.tweets' "
        "ELSE 'data' END || '[' || (pos - 1) || '])' ELSE '' END"
    )
    quarantine_where(
        con, q, "_posts",
        f"({required({'id': 'post_id', 'author_id': 'account_id', 'created_at': 'created_raw'})} {pos_note})",
        "to_json(t)",
    )
    quarantine_where(
        con, q, "_posts",
        f"(CASE WHEN created_at IS NULL THEN 'unparseable timestamp created_at=' || created_raw END {pos_note})",
        "to_json(t)",
    )
    con.execute(_USERS)
    con.execute("DROP TABLE _pages")


_SELECT_POSTS = ("SELECT * EXCLUDE (t), ? AS source_file, CASE WHEN lang IS NOT NULL THEN 'platform' END AS lang_source "
                 "FROM _posts")


def _read_exact(path: Path, options: ReadOptions) -> Iterator[Batch]:
    q = Quarantine(str(path))
    con = store.connect()
    for chunk in iter_lines(path, q, options.batch_bytes, options.max_record_bytes):
        register_records(con, chunk.numbers, chunk.lines)
        con.execute(_PARSED)
        _transform(con, q, path)
        posts = con.sql(_SELECT_POSTS, params=[str(path)]).to_arrow_table()
        accounts = con.sql(_ACCOUNTS, params=[str(path)]).to_arrow_table()
        yield make_batch(posts, accounts, q, chunk.bytes_done)
    if len(q):  # bad lines after the last good chunk (e.g. an oversized last line)
        yield make_batch(None, None, q, path.stat().st_size)
    con.close()


FAST_MEMORY = "1GB"  # DuckDB's working memory on the fast path; it spills to disk beyond
FAST_BATCH_POSTS = 250_000  # posts per yielded batch (one store transaction each) on the fast path


def _read_fast(path: Path, options: ReadOptions) -> Iterator[Batch] | None:
    """Parse the whole file with DuckDB's own JSON reader (parallel, no Python per line).

    Only for a file that is UTF-8, valid JSON of the expected shape on every
    line, no line over ``max_record_bytes`` (the native reader refuses it),
    no blank line (record numbers are line numbers, and the native reader
    skips blanks; its row count must equal the line count): any doubt, and
    the exact path reads the file.
    Memory: DuckDB's buffer manager spills to a temporary folder past
    ``FAST_MEMORY``. Returns None when the file needs the exact path.
    """
    lines = _plain_line_count(path)
    if lines is None:
        return None
    con = store.connect()
    tmp = tempfile.mkdtemp(prefix="swarmscope-x_v2-")
    con.execute(f"SET temp_directory = '{tmp}'")
    con.execute(f"SET memory_limit = '{FAST_MEMORY}'")
    con.execute("SET preserve_insertion_order = true")
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _parsed AS "
            f"SELECT row_number() OVER () AS record, NULL::VARCHAR AS raw, l FROM ("
            f"  SELECT {_struct_of_columns()} AS l FROM read_json(?, format='newline_delimited', "
            f"  columns={_duck_columns()}, maximum_object_size={int(options.max_record_bytes)}))",
            [str(path)],
        )
        if con.execute("SELECT count(*) FROM _parsed").fetchall()[0][0] != lines:
            raise duckdb.Error("line count differs from the native reader's")
    except duckdb.Error:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)
        return None
    return _fast_batches(con, tmp, path, lines)


def _fast_batches(con, tmp: str, path: Path, lines: int) -> Iterator[Batch]:
    q = Quarantine(str(path))
    try:
        _transform(con, q, path)
        size = path.stat().st_size
        bounds = _record_bounds(con, FAST_BATCH_POSTS)
        for i, (lo, hi) in enumerate(bounds):
            posts = con.sql(_SELECT_POSTS + " WHERE record BETWEEN ? AND ?", params=[str(path), lo, hi]).to_arrow_table()
            accounts = con.sql(f"SELECT * FROM ({_ACCOUNTS}) WHERE record BETWEEN ? AND ?",
                               params=[str(path), lo, hi]).to_arrow_table()
            yield make_batch(posts, accounts, q if i == 0 else None, int(size * hi / max(lines, 1)))
        if not bounds and len(q):
            yield make_batch(None, None, q, size)
    finally:
        con.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _record_bounds(con, per_batch: int) -> list[tuple[int, int]]:
    """Line ranges holding about ``per_batch`` posts each."""
    rows = con.execute("SELECT record, count(*) FROM _posts GROUP BY 1 ORDER BY 1").fetchall()
    bounds, start, n = [], None, 0
    for record, count in rows:  # one row per line, not per post
        start = record if start is None else start
        n += count
        if n >= per_batch:
            bounds.append((start, record))
            start, n = None, 0
    if start is not None:
        bounds.append((start, rows[-1][0]))
    return bounds


def _plain_line_count(path: Path) -> int | None:
    """Lines of a file with no blank line, else None (C-speed scan; over-long lines are the reader's to refuse)."""
    lines, prev_end = 0, b"\n"
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            if b"\n\n" in block or b"\n\r\n" in block or (prev_end == b"\n" and block[:1] in (b"\n", b"\r")):
                return None
            lines += block.count(b"\n")
            prev_end = block[-1:]
    if prev_end != b"\n":
        lines += 1  # a last line without its newline
    return lines


def _duck_type(spec: object) -> str:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, list):
        return _duck_type(spec[0]) + "[]"
    return "STRUCT(" + ", ".join(f'"{k}" {_duck_type(v)}' for k, v in spec.items()) + ")"


def _duck_columns() -> str:
    return "{" + ", ".join(f"'{k}': '{_duck_type(v)}'" for k, v in json.loads(_LINE).items()) + "}"


def _struct_of_columns() -> str:
    return "struct_pack(" + ", ".join(f'"{k}" := "{k}"' for k in json.loads(_LINE)) + ")"
