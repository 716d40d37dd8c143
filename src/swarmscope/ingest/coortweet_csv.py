"""CooRTweet's input layouts: the one-object table and the multi-object table.

One-object layout (``object_id, account_id, content_id, timestamp_share``):
each row is one share of an object. It becomes a post (``post_id`` =
``content_id``, kind ``post``: the layout does not say what the share was)
and one action ``object_type='object'``, ``object_id`` verbatim, in
``Batch.extra_actions``. A content_id repeated with another object is a
second record: the post is stored once (the repeat counts as a duplicate)
and every distinct action is kept, with its own row's account and time.

Multi-object layout (``account_id, post_id, url_id, hashtag_id, domain_id,
phash_id, timestamp``), as CooRTweet's German-elections data: each non-empty
id column gives one action of type ``url``, ``hashtag``, ``domain`` or
``image_hash`` with the id verbatim (the ids are anonymised, so they are not
turned into URLs or hashtags on the post). A row with no object is a post
without actions.

Times are POSIX seconds, possibly with a fraction, parsed digit by digit so
the actions reproduce the file to the microsecond. Platform: an account id
prefixed ``fb_`` is Facebook, ``tw_`` is X; otherwise ``options.platform``,
else ``other``. An exact repeat of a row adds nothing (the action key is
platform, post, object type and object), as CooRTweet drops duplicate rows.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import tabular as t
from .base import Batch, ReadOptions
from .jsonsql import required

NAME = "coortweet_csv"
DESCRIPTION = "CooRTweet CSV: object_id, account_id, content_id, timestamp_share (or the multi-object layout)"

_ONE = ("object_id", "account_id", "content_id", "timestamp_share")
_MULTI = ("account_id", "post_id", "timestamp")
_OBJECTS = {"url_id": "url", "hashtag_id": "hashtag", "domain_id": "domain", "phash_id": "image_hash"}


def sniff(path: Path, head: bytes) -> bool:
    names = t.header_names(head)
    if not names:
        return False
    cols = set(names)
    return set(_ONE) <= cols or (set(_MULTI) <= cols and bool(cols & set(_OBJECTS)))


def _check(header: t.Header) -> None:
    if not header.has(*_ONE):
        t.require_columns(header, list(_MULTI), "CooRTweet")
        if not any(header.find(c) for c in _OBJECTS):
            raise t.FileProblem(
                "not a CooRTweet file: no object column (object_id, url_id, hashtag_id, domain_id or phash_id)"
            )


def _platform_sql(account: str, default: str) -> str:
    return (
        f"CASE WHEN starts_with({account}, 'fb_') THEN 'facebook' "
        f"WHEN starts_with({account}, 'tw_') THEN 'x' ELSE '{default}' END"
    )


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    default = options.platform or "other"

    def transform(con, h: t.Header, q) -> dict:
        one = h.has(*_ONE)
        post_col, time_col = ("content_id", "timestamp_share") if one else ("post_id", "timestamp")
        objects = {"object_id": "object"} if one else {c: k for c, k in _OBJECTS.items() if h.find(c)}
        account = t.field(h, "account_id")
        t.stage(
            con,
            q,
            f"""SELECT {_platform_sql(account, default)} AS platform,
                       {t.field(h, post_col)} AS post_id, {account} AS account_id,
                       {t.epoch(t.field(h, time_col))} AS created_at, {t.field(h, time_col)} AS created_raw,
                       'post' AS kind,
                       {", ".join(f'{t.field(h, c)} AS "obj_{c}"' for c in objects)},
                       {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
                FROM _rows""",
            [
                required({post_col: "post_id", "account_id": "account_id", time_col: "created_raw"}),
                f"CASE WHEN created_at IS NULL THEN 'unparseable timestamp {time_col}=' || created_raw "
                f"|| ' (expected POSIX seconds)' END",
            ]
            + ([required({"object_id": '"obj_object_id"'})] if one else []),
        )
        posts = con.sql("SELECT *, ? AS source_file FROM _stage", params=[q.source_file]).to_arrow_table()
        # one action per distinct (platform, post, object type, object): the action key;
        # the first record wins, as for posts
        union = " UNION ALL ".join(
            f"""SELECT platform, account_id, post_id, created_at, '{kind}' AS object_type,
                       "obj_{c}" AS object_id, record FROM _stage WHERE "obj_{c}" IS NOT NULL"""
            for c, kind in objects.items()
        )
        actions = con.sql(
            f"""SELECT platform, account_id, post_id, created_at, object_type, object_id FROM ({union})
                QUALIFY row_number() OVER (PARTITION BY platform, post_id, object_type, object_id
                                           ORDER BY record) = 1"""
        ).to_arrow_table()
        accounts = con.sql(
            """SELECT platform, account_id, max(created_at) AS snapshot_at, ? AS source_file
               FROM _stage GROUP BY platform, account_id""",
            params=[q.source_file],
        ).to_arrow_table()
        return {"posts": posts, "accounts": accounts, "extra_actions": actions}

    yield from t.drive(path, options, _check, transform)
