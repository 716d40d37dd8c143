"""Runs: one account posting the same normalised text n times in a row.

Posts of each account are ordered by time (post id breaks ties); a run is a
maximal stretch of consecutive posts whose normalised text
(``enrich.text.normalise``) is identical. One SQL pass: ``lag`` marks where
the text changes and a running sum numbers the runs (gaps and islands), so
the cost is one sort of the posts, whatever the run lengths.

Reposts and forwards are left out by default: they carry the parent's text,
and a repost run is already visible as reposting. Empty normalised texts
(media-only posts) are left out: "no text" repeated is not a repeated text.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from ..duck import registered, scratch
from ..enrich.text import normalise

RUNS = pa.schema(
    [
        pa.field("platform", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("n", pa.int64()),
        pa.field("text", pa.string()),  # the normalised text, cut to 280 characters
        pa.field("first_at", pa.timestamp("us")),
        pa.field("last_at", pa.timestamp("us")),
        pa.field("span_seconds", pa.float64()),
        pa.field("median_interval_seconds", pa.float64()),
        pa.field("test", pa.string()),
        pa.field("post_ids", pa.list_(pa.string())),
    ]
)


@dataclass(frozen=True)
class RunParams:
    # Three identical posts in a row happen ("good morning" three days running
    # is rare but human); five in a row is where researchers of spam and
    # copypasta (e.g. the IRA "hashtag games" files) start to see scripts.
    min_run: int = 5
    excluded_kinds: tuple[str, ...] = ("repost", "forward")


def find_runs(
    posts: pa.Table,
    params: RunParams = RunParams(),
    norm: pa.Array | pa.ChunkedArray | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """Runs of at least ``min_run`` identical normalised texts per account, longest first.

    ``posts`` needs platform, post_id, account_id, created_at, text and kind;
    pass ``norm`` (normalised ``text``) when it is already computed. ``con``: a
    DuckDB connection to work on; default: a scratch connection.
    """
    if norm is None:
        norm = normalise(posts["text"])
    t = pa.table(
        {
            "platform": posts["platform"],
            "account_id": posts["account_id"],
            "post_id": posts["post_id"],
            "created_at": posts["created_at"],
            "kind": posts["kind"],
            "norm": norm,
        }
    )
    test = f"consecutive posts of one account with identical normalised text, n >= {params.min_run}"
    with scratch(con) as c, registered(c, _posts=t):
        out = c.sql(
            # Windows carry only keys and a hash of the text; runs are counted first,
            # and only the few long enough are gathered (at 10M posts, carrying the
            # texts and building a list for every one-post run spilled gigabytes).
            """WITH p AS (
                   SELECT platform, account_id, post_id, created_at, hash(norm) AS h
                   FROM _posts
                   WHERE account_id IS NOT NULL AND created_at IS NOT NULL AND norm IS NOT NULL AND norm <> ''
                     AND NOT list_contains(?, kind)),
               m AS (
                   SELECT *, CASE WHEN h IS DISTINCT FROM lag(h) OVER w THEN 1 ELSE 0 END AS brk,
                          epoch_us(created_at - lag(created_at) OVER w) / 1e6 AS gap
                   FROM p WINDOW w AS (PARTITION BY platform, account_id ORDER BY created_at, post_id)),
               r AS (
                   SELECT *, sum(brk) OVER (PARTITION BY platform, account_id ORDER BY created_at, post_id
                                            ROWS UNBOUNDED PRECEDING) AS run
                   FROM m),
               long AS (
                   SELECT platform, account_id, run FROM r GROUP BY ALL HAVING count(*) >= ?),
               g AS (
                   SELECT platform, account_id, run, count(*) AS n,
                          arg_min(post_id, (created_at, post_id)) AS first_post,
                          min(created_at) AS first_at, max(created_at) AS last_at,
                          epoch_us(max(created_at) - min(created_at)) / 1e6 AS span_seconds,
                          median(gap) FILTER (WHERE brk = 0) AS median_interval_seconds,
                          list(post_id ORDER BY created_at, post_id) AS post_ids
                   FROM r SEMI JOIN long USING (platform, account_id, run)
                   GROUP BY ALL)
               SELECT g.platform, g.account_id, g.n, left(t.norm, 280) AS text, g.first_at, g.last_at, g.span_seconds,
                      g.median_interval_seconds, ? AS test, g.post_ids
               FROM g JOIN _posts t ON t.platform = g.platform AND t.post_id = g.first_post
               ORDER BY n DESC, platform, account_id, first_at""",
            params=[list(params.excluded_kinds), int(params.min_run), test],
        ).to_arrow_table()
    return out.cast(RUNS)
