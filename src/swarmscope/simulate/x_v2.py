"""The X writer: twarc2 pages of X API v2 search results, built by DuckDB and Arrow.

``_write_x`` lays every post out in chronological pages of 100 tweets with
``includes.users``, ``includes.tweets``, ``meta`` and ``__twarc``. DuckDB
builds each tweet's JSON (``_TWEET_SQL``: retweet text cut at 140 characters,
entities with code-point offsets) and each user's (``_USER_SQL``); public
metrics come from ``_metrics``; pages are assembled with grouped joins over
sorted arrays, 500 pages at a time, and written straight from Arrow buffers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import store
from .world import _Accounts, _iso, _join, _Posts, _string_bytes

# One tweet object per row of _want, as JSON text. Built by concatenation (the
# fixed fields) and to_json (escaped strings, entities): absent fields are left
# out, as the API does. Reposts carry "RT @user: " and the parent's text, cut at
# 140 characters like the API, and only the entities that survive the cut.
_TWEET_SQL = """
WITH base AS (
    SELECT p.*, par.body AS par_body, par.tags AS par_tags, par.urls AS par_urls, par.lang AS par_lang,
           pa.username AS par_user, pa.id AS par_author_id, par.id AS par_id
    FROM _want w JOIN _p p ON p.idx = w.idx
    LEFT JOIN _p par ON par.idx = p.parent
    LEFT JOIN _a pa ON pa.idx = par.author
), texts AS (
    SELECT *,
        CASE kind WHEN 1 THEN 'RT @' || par_user || ': ' ||
                      CASE WHEN length(par_body) > 140 THEN left(par_body, 139) || '…' ELSE par_body END
                  WHEN 2 THEN '@' || par_user || ' ' || body
                  ELSE body END AS text
    FROM base
), ents AS (
    SELECT *,
        CASE WHEN kind = 1 THEN list_filter(par_tags, lambda h: contains(text, '#' || h)) ELSE tags END AS h_list,
        CASE WHEN kind = 1 THEN list_filter(par_urls, lambda u: contains(text, u.url)) ELSE urls END AS u_list
    FROM texts
)
SELECT idx,
    '{"edit_history_tweet_ids":["' || id || '"],"id":"' || id || '","text":' || to_json(text)
    || ',"author_id":"' || author_id || '","created_at":"'
    || strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.000Z')
    || '","conversation_id":"' || CASE WHEN kind = 2 THEN par_id ELSE id END
    || '","lang":"' || CASE WHEN kind = 1 THEN coalesce(par_lang, 'und') ELSE coalesce(lang, 'und') END || '"'
    || CASE kind WHEN 1 THEN ',"referenced_tweets":[{"type":"retweeted","id":"' || par_id || '"}]'
                 WHEN 2 THEN ',"referenced_tweets":[{"type":"replied_to","id":"' || par_id
                             || '"}],"in_reply_to_user_id":"' || par_author_id || '"'
                 ELSE '' END
    || CASE WHEN len(h_list) > 0 OR len(u_list) > 0 OR kind > 0 THEN ',"entities":' || json_merge_patch('{}', to_json({
            'hashtags': CASE WHEN len(h_list) > 0 THEN list_transform(h_list, lambda h: {
                'start': strpos(text, '#' || h) - 1, 'end': strpos(text, '#' || h) + length(h), 'tag': h}) END,
            'mentions': CASE WHEN kind > 0 THEN [{'start': strpos(text, '@' || par_user) - 1,
                'end': strpos(text, '@' || par_user) + length(par_user), 'username': par_user,
                'id': par_author_id}] END,
            'urls': CASE WHEN len(u_list) > 0 THEN list_transform(u_list, lambda u: {
                'start': strpos(text, u.url) - 1, 'end': strpos(text, u.url) - 1 + length(u.url),
                'url': u.url, 'expanded_url': u.expanded_url,
                'display_url': left(regexp_replace(u.expanded_url, '^https?://(www\\.)?', ''), 26)}) END
        }))::VARCHAR ELSE '' END
    || ',"public_metrics":{"retweet_count":' || retweets || ',"reply_count":' || replies
    || ',"like_count":' || likes || ',"quote_count":0,"bookmark_count":' || bookmarks
    || ',"impression_count":' || impressions || '},"possibly_sensitive":false,"source":' || to_json(client)
    || '}' AS j
FROM ents
"""

_USER_SQL = """
SELECT idx, json_merge_patch('{}', to_json({
    'id': id, 'username': username, 'name': name,
    'created_at': strftime(to_timestamp(created) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%S.000Z'),
    'description': coalesce(description, ''), 'location': location,
    'profile_image_url': image, 'protected': false, 'verified': verified,
    'public_metrics': {'followers_count': followers, 'following_count': following,
                       'tweet_count': tweet_count, 'listed_count': listed_count}
}))::VARCHAR AS j
FROM _a
"""

_PAGE = 100  # tweets per twarc2 page, the API's maximum for search
_PAGES_PER_CHUNK = 500  # pages built at a time: bounded memory, linear time


def _metrics(rng: np.random.Generator, posts: _Posts, followers: np.ndarray) -> dict[str, np.ndarray]:
    """Public metrics consistent with the data: retweet and reply counts are the generated ones."""
    kind, parent, author = posts.col("kind"), posts.col("parent"), posts.col("author")
    n = len(kind)
    retweets = np.bincount(parent[kind == 1], minlength=n)[:n]
    replies = np.bincount(parent[kind == 2], minlength=n)[:n]
    reach = np.sqrt(followers[author] + 1.0)
    likes = np.where(kind == 1, 0, (retweets * rng.uniform(1.5, 5, n) + rng.poisson(reach / 6))).astype(np.int64)
    impressions = np.where(kind == 1, 0, (likes + 1) * rng.integers(20, 90, n) + (reach * 3).astype(np.int64))
    return {
        "retweets": np.where(kind == 1, 0, retweets),
        "replies": np.where(kind == 1, 0, replies),
        "likes": likes,
        "bookmarks": (likes * rng.uniform(0, 0.05, n)).astype(np.int64),
        "impressions": impressions.astype(np.int64),
    }


def _by_row(con: Any, sql: str, rows: int) -> pa.Array:
    """Run ``sql`` (columns idx, j) and return j laid out by idx (rows not returned are null)."""
    t = con.sql(sql).to_arrow_table()
    pos = np.full(rows, -1, np.int64)
    pos[t["idx"].to_numpy()] = np.arange(t.num_rows)
    return t["j"].combine_chunks(), pos


def _grouped_join(values: pa.Array, group: np.ndarray, n_groups: int, sep: str = ",") -> pa.Array:
    """Join ``values`` (sorted by ``group``) with ``sep`` per group 0..n_groups-1; '' for empty groups."""
    counts = np.bincount(group, minlength=n_groups)
    offsets = pa.array(np.concatenate([[0], np.cumsum(counts)]).astype(np.int32))
    return pc.binary_join(pa.ListArray.from_arrays(offsets, values), sep)


def _write_x(
    path: Path,
    posts: _Posts,
    acc: _Accounts,
    ids: np.ndarray,
    user_ids: np.ndarray,
    retrieved: int,
    rng: np.random.Generator,
    query: str,
) -> None:
    """twarc2 pages of 100 tweets (chronological) with includes.users, includes.tweets and meta.

    DuckDB writes each tweet's and user's JSON; the pages are assembled with
    numpy and Arrow (grouped joins over sorted arrays) and written straight
    from the Arrow buffers.
    """
    followers = acc.column("followers")
    author = posts.col("author")
    parent = posts.col("parent")
    m = _metrics(rng, posts, followers)
    n = posts.n
    s = posts.col("s")
    order = np.lexsort((np.arange(n), s))  # chronological
    p_tab = pa.table(
        {
            "idx": np.arange(n, dtype=np.int64),
            "id": pa.array(ids.astype(str)),
            "s": s,
            "author": author,
            "parent": parent,
            "kind": posts.col("kind"),
            "body": posts.col("body"),
            "lang": posts.col("lang"),
            "tags": posts.col("tags"),
            "urls": posts.col("urls"),
            "client": posts.col("client"),
            "author_id": pa.array(user_ids[author].astype(str)),
            **m,
        }
    )
    n_acc = len(user_ids)
    tweet_count = np.bincount(author, minlength=n_acc) + rng.lognormal(np.log(800), 1.3, n_acc).astype(np.int64)
    a_tab = pa.table(
        {
            "idx": np.arange(n_acc, dtype=np.int64),
            "id": pa.array(user_ids.astype(str)),
            "username": acc.column("username"),
            "name": acc.column("name"),
            "description": acc.column("description"),
            "created": acc.column("created"),
            "location": acc.column("location"),
            "image": acc.column("image"),
            "verified": acc.column("verified"),
            "followers": followers,
            "following": acc.column("following"),
            "tweet_count": tweet_count,
            "listed_count": (np.sqrt(followers) / 4).astype(np.int64),
        }
    )
    con = store.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("_p_in", p_tab)
    con.register("_a", a_tab)
    con.execute("CREATE TEMP TABLE _p AS SELECT * FROM _p_in")  # native storage: cheap repeated joins
    users, upos = _by_row(con, _USER_SQL, n_acc)
    n_pages = (n + _PAGE - 1) // _PAGE
    tokens = np.random.default_rng([int(s[0]) if n else 0, n]).integers(0, 2**62, n_pages)
    twarc = json.dumps(
        {
            "url": "https://api.twitter.com/2/tweets/search/all?query=" + query.replace(" ", "%20"),
            "version": "2.14.0",
            "retrieved_at": _iso(retrieved).replace("Z", "+00:00"),
        },
        ensure_ascii=False,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        for first in range(0, n_pages, _PAGES_PER_CHUNK):
            rows = order[first * _PAGE : (first + _PAGES_PER_CHUNK) * _PAGE]  # this chunk, in page order
            k = len(rows)
            page = np.arange(k) // _PAGE  # page within the chunk
            pages = int(page[-1]) + 1
            par = parent[rows]
            has = par >= 0
            # the tweets of the chunk and those they repost or reply to
            want = np.unique(np.concatenate([rows, par[has]]))
            con.register("_want", pa.table({"idx": want}))
            tweets, tpos = _by_row(con, _TWEET_SQL, n)
            data = _grouped_join(tweets.take(pa.array(tpos[rows])), page, pages)
            # includes.tweets: distinct parents per page
            key = np.unique(page[has] * n + par[has])
            ctx = _grouped_join(tweets.take(pa.array(tpos[key % n])), key // n, pages)
            ctx = pc.if_else(pc.equal(ctx, ""), "", _join(',"tweets":[', ctx, "]"))
            # includes.users: distinct authors of the page's tweets and of their parents
            who = np.concatenate([page * n_acc + author[rows], page[has] * n_acc + author[par[has]]])
            key = np.unique(who)
            people = _grouped_join(users.take(pa.array(upos[key % n_acc])), key // n_acc, pages)
            page_ids = ids[rows]
            starts = np.arange(0, k, _PAGE)
            ends = np.minimum(starts + _PAGE, k) - 1
            line = _join(
                '{"data":[',
                data,
                '],"includes":{"users":[',
                people,
                "]",
                ctx,
                '},"meta":{"newest_id":"',
                pa.array(page_ids[ends].astype(str)),
                '","oldest_id":"',
                pa.array(page_ids[starts].astype(str)),
                '","result_count":',
                pa.array((ends - starts + 1).astype(str)),
                ',"next_token":"',
                pa.array([f"{t:016x}" for t in tokens[first : first + pages]]),
                '"},"__twarc":',
                twarc,
                "}\n",
            )
            fh.write(_string_bytes(line))
            con.unregister("_want")
    con.close()
