"""Bursts: windows where an object's volume far exceeds its own baseline.

An object is anything posts can be grouped by: a hashtag, a URL, a text
fingerprint, or a whole account group (``object_type='group'``). For each
object, every post anchors a sliding window ``[t, t + window)``; a window is
a burst candidate when it holds at least ``min_posts`` posts, at least
``min_ratio`` times the object's baseline, and its Poisson upper-tail p-value
against the baseline is below ``alpha`` divided by the number of windows in
the object's span (Bonferroni). Overlapping candidate windows merge into one
burst; the busiest window is reported as the burst's window.

The baseline is the median of the object's post counts in tumbling windows
over its whole active span, zeros included: a median is not dragged up by
the burst it is meant to expose (a mean would be).

Each burst is then labelled from what its posts look like, never from the
volume alone (a goal in a football match is a genuine burst):

- ``automated-looking``: copies dominate (``copy_share >= copy_share_automated``)
  and either few accounts carry the posts (``accounts_per_post <= 0.5``) or
  the posts are packed tight (central 80 % within ``tight_seconds``);
- ``organic-looking``: texts are diverse (``copy_share < copy_share_organic``)
  and most posts come from different accounts;
- ``mixed``: anything else.

Copies are counted on normalised texts of at least ``min_copy_chars``
characters; shorter texts ("GOAL!!!", one emoji) count as distinct, since
many people typing the same two words is no evidence of copying.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
from scipy.stats import poisson

from ..duck import registered, scratch
from ..enrich.text import normalise

LABELS = ("automated-looking", "organic-looking", "mixed")

BURSTS = pa.schema(
    [
        pa.field("object_type", pa.string()),
        pa.field("object_id", pa.string()),
        pa.field("start", pa.timestamp("us")),  # first post of the burst
        pa.field("end", pa.timestamp("us")),  # last post of the burst
        pa.field("window_start", pa.timestamp("us")),  # busiest window [start, end)
        pa.field("window_end", pa.timestamp("us")),
        pa.field("window_posts", pa.int64()),
        pa.field("posts", pa.int64()),
        pa.field("accounts", pa.int64()),
        pa.field("distinct_texts", pa.int64()),
        pa.field("copy_share", pa.float64()),
        pa.field("accounts_per_post", pa.float64()),
        pa.field("central_span_seconds", pa.float64()),  # span of the central 80 % of posts
        pa.field("baseline_per_window", pa.float64()),
        pa.field("ratio", pa.float64()),
        pa.field("p_value", pa.float64()),
        pa.field("label", pa.string()),
        pa.field("test", pa.string()),
        pa.field("post_ids", pa.list_(pa.string())),
    ]
)


@dataclass(frozen=True)
class BurstParams:
    # Ten minutes: the unit in which analysts and platform reports state
    # bursts ("1,000 posts in ten minutes"); long enough to hold a scheduled
    # wave, short enough that a whole evening's conversation is not one window.
    window_seconds: int = 600
    # Below ~30 posts a "burst" is a handful of replies; nothing to explain.
    min_posts: int = 30
    # A window must hold at least 5x the median rate: Poisson tests alone flag
    # every wobble in overdispersed social data.
    min_ratio: float = 5.0
    # Floor of the baseline (posts per window): an object with a median of 0
    # must not turn every first use into an infinite ratio.
    min_baseline: float = 1.0
    # Family-wise error per object (Bonferroni over its windows).
    alpha: float = 0.001
    # Same-text threshold as the text fingerprint (enrich.actions): shorter
    # normalised texts are not treated as copies.
    min_copy_chars: int = 20
    copy_share_automated: float = 0.5
    copy_share_organic: float = 0.3
    # 80 % of posts within two minutes is faster than a crowd reacts.
    tight_seconds: float = 120.0


def burst_events(
    posts: pa.Table,
    norm: pa.Array | pa.ChunkedArray | None = None,
    group: str | None = "all",
    *,
    params: BurstParams = BurstParams(),
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """Events for ``find_bursts`` from canonical posts: one per hashtag use and, when
    ``group`` is set, one per post for the whole group (``object_type='group'``).

    ``norm`` is the normalised text (``enrich.text.normalise``), if already computed.
    Each event carries ``text_key``, a 64-bit hash of its post's normalised text when that
    text has at least ``params.min_copy_chars`` characters (else NULL): the bursts compare
    texts for equality only, so the events never copy the texts themselves (at 10M posts
    the copies were a gigabyte, one per hashtag use and one per post).
    ``con``: a DuckDB connection to work on; default: a scratch connection.
    """
    if norm is None:
        norm = normalise(posts["text"])
    base = pa.table(
        {
            "post_id": posts["post_id"],
            "account_id": posts["account_id"],
            "created_at": posts["created_at"],
            "hashtags": posts["hashtags"],
            "norm_text": norm,
        }
    )
    key = f"CASE WHEN length(norm_text) >= {int(params.min_copy_chars)} THEN hash(norm_text) END AS text_key"
    keyed = f"SELECT post_id, account_id, created_at, hashtags, {key} FROM _p"
    parts = [
        f"""SELECT 'hashtag' AS object_type, lower(nfc_normalize(ltrim(h, '#'))) AS object_id,
                       post_id, account_id, created_at, text_key
                FROM (SELECT *, unnest(hashtags) AS h FROM ({keyed})) WHERE h IS NOT NULL AND ltrim(h, '#') <> ''"""
    ]
    if group is not None:
        parts.append(f"SELECT 'group', ?, post_id, account_id, created_at, text_key FROM ({keyed})")
    args = [group] if group is not None else []
    with scratch(con) as c, registered(c, _p=base):
        return c.sql(" UNION ALL ".join(parts), params=args).to_arrow_table()


# the temporary tables find_bursts builds on its connection (dropped again at the end)
_TEMP_TABLES = ("ev", "obj", "base", "islands")


@contextmanager
def _temp_tables_dropped(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """``con``; when the block ends, even on an error, the temporary tables of _TEMP_TABLES it made are
    dropped, so a caller's connection is left as it was (a scratch connection drops them on close anyway).
    A temporary table of that name that was there before is the caller's: left alone (and the block fails
    on creating it)."""
    before = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND schema_name = 'main'"
        ).fetchall()
    }
    try:
        yield con
    finally:
        for name in reversed(_TEMP_TABLES):
            if name in before:
                continue
            try:
                con.execute(f"DROP TABLE IF EXISTS temp.main.{name}")
            except duckdb.Error:  # the connection itself failed; nothing left to clean
                pass


def find_bursts(
    events: pa.Table, params: BurstParams = BurstParams(), *, con: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Bursts per object, with window, counts, copy share, label and post ids.

    ``events`` columns: object_type, object_id, post_id, account_id, created_at
    (naive UTC) and optionally either ``text_key`` (as ``burst_events`` makes it: a
    hash of the normalised text, NULL when too short to count as a copy) or
    ``norm_text`` (the normalised text itself); with neither, all texts are distinct.
    ``con``: a DuckDB connection to work on; default: a scratch connection. Its
    temporary tables ev, obj, base and islands are used and dropped.
    """
    cols = ["object_type", "object_id", "post_id", "account_id", "created_at"]
    if "text_key" in events.column_names:
        events = events.select([*cols, "text_key"])
        key = "text_key"
    else:
        if "norm_text" not in events.column_names:
            events = events.append_column("norm_text", pa.nulls(events.num_rows, pa.string()))
        events = events.select([*cols, "norm_text"])
        key = f"CASE WHEN length(norm_text) >= {int(params.min_copy_chars)} THEN hash(norm_text) END"
    with scratch(con) as c, registered(c, _events=events), _temp_tables_dropped(c):
        table = _bursts(c, params, key)
    return _label(table, params)


def _bursts(con: duckdb.DuckDBPyConnection, params: BurstParams, key: str = "text_key") -> pa.Table:
    """The unlabelled bursts of the events registered as ``_events`` on ``con``; ``key``: the SQL of
    each event's text key (equal keys are copies; NULL is a text too short to be one)."""
    w_us = int(params.window_seconds) * 1_000_000
    con.execute(
        f"""CREATE TEMP TABLE ev AS
            SELECT object_type, object_id, post_id, account_id, created_at, {key} AS text_key
            FROM _events WHERE created_at IS NOT NULL AND object_id IS NOT NULL"""
    )
    con.execute(
        f"""CREATE TEMP TABLE obj AS
            SELECT object_type, object_id, min(created_at) AS t0,
                   floor(epoch_us(max(created_at) - min(created_at)) / {w_us})::BIGINT + 1 AS nbins
            FROM ev GROUP BY ALL HAVING count(*) >= {int(params.min_posts)}"""
    )
    # Median of tumbling-window counts, zeros included: with z empty bins the
    # lower median is 0 when z >= m, else the (m - z)-th smallest non-empty count.
    con.execute(
        f"""CREATE TEMP TABLE base AS
            WITH bins AS (
                SELECT object_type, object_id, floor(epoch_us(e.created_at - o.t0) / {w_us})::BIGINT AS b, count(*) AS c
                FROM ev e JOIN obj o USING (object_type, object_id) GROUP BY ALL),
            ranked AS (
                SELECT b.object_type, b.object_id, b.c, o.nbins,
                       row_number() OVER (PARTITION BY b.object_type, b.object_id ORDER BY b.c) AS r,
                       count(*) OVER (PARTITION BY b.object_type, b.object_id) AS k
                FROM bins b JOIN obj o USING (object_type, object_id))
            SELECT row_number() OVER () - 1 AS oid, * FROM (
                SELECT object_type, object_id, any_value(nbins) AS nbins,
                       greatest(coalesce(max(c) FILTER (WHERE r = ceil(nbins / 2.0) - (nbins - k)), 0), ?)
                         AS baseline
                FROM ranked GROUP BY ALL)""",
        [float(params.min_baseline)],
    )
    # Overlapping candidate windows form one burst (gaps and islands).
    with registered(con, anchors=_anchors(con, w_us, params)):
        con.execute(
            f"""CREATE TEMP TABLE islands AS
                WITH a AS (
                    SELECT b.object_type, b.object_id, x.t, x.c, b.baseline, b.nbins
                    FROM anchors x JOIN base b USING (oid)),
                f AS (
                    SELECT *, CASE WHEN t > lag(t) OVER w + to_microseconds({w_us}) THEN 1 ELSE 0 END AS brk
                    FROM a WINDOW w AS (PARTITION BY object_type, object_id ORDER BY t)),
                g AS (SELECT *, sum(brk) OVER (PARTITION BY object_type, object_id ORDER BY t
                                               ROWS UNBOUNDED PRECEDING) AS island FROM f)
                SELECT object_type, object_id, island, min(t) AS lo, max(t) + to_microseconds({w_us}) AS hi,
                       first(t ORDER BY c DESC, t) AS window_start, max(c) AS window_posts,
                       any_value(baseline) AS baseline, any_value(nbins) AS nbins
                FROM g GROUP BY ALL"""
        )
    # Each event's island, by a hash join on the object and the window-wide bucket of the time: an
    # island is listed once per bucket it touches (an island lasts at least a window and islands are
    # disjoint, so a bucket touches at most two). On the object alone, then filtered by the range, the join paired
    # every event of an object with each of its islands (the IRA archive's one 'all posts' object:
    # 1.67M events x 5,598 islands, 13 s of the signals step). An as-of join was as fast there but
    # sorted all events: at 10M posts 10.4 s and 3.9 GiB, against 6.7 s and 1.4 GiB for the old join.
    return con.sql(
        f"""WITH ib AS (
                SELECT *, unnest(range(epoch_us(lo) // {w_us}, (epoch_us(hi) - 1) // {w_us} + 1)) AS bucket
                FROM islands),
            bp AS (
                SELECT i.object_type, i.object_id, i.island, e.post_id, e.account_id, e.created_at, e.text_key
                FROM ev e JOIN ib i ON e.object_type = i.object_type AND e.object_id = i.object_id
                 AND epoch_us(e.created_at) // {w_us} = i.bucket AND e.created_at >= i.lo AND e.created_at < i.hi)
            SELECT i.object_type, i.object_id, a.start, a."end", i.window_start,
                   i.window_start + to_microseconds({w_us}) AS window_end, i.window_posts,
                   a.posts, a.accounts, a.distinct_texts, a.central_span_seconds,
                   i.baseline, i.nbins, a.post_ids
            FROM islands i JOIN (
                SELECT object_type, object_id, island, min(created_at) AS start, max(created_at) AS "end",
                       count(*) AS posts, count(DISTINCT account_id) AS accounts,
                       count(DISTINCT text_key) + count(*) FILTER (WHERE text_key IS NULL) AS distinct_texts,
                       epoch_us(quantile_disc(created_at, 0.9) - quantile_disc(created_at, 0.1)) / 1e6
                         AS central_span_seconds,
                       list(post_id ORDER BY created_at, post_id) AS post_ids
                FROM bp GROUP BY ALL) a USING (object_type, object_id, island)
            ORDER BY i.window_posts DESC, i.object_type, i.object_id, i.window_start"""
    ).to_arrow_table()


_KEY_RANGE = 2**62  # the sorted keys of one searchsorted pass stay below it (int64)


def _anchors(con: duckdb.DuckDBPyConnection, w_us: int, params: BurstParams) -> pa.Table:
    """Every time at which a post opens a window [t, t + w) holding a burst's worth of its object's
    posts: (oid, t, c), ``oid`` the object's code in the temporary table ``base``, one row per object
    and time. Posts at the same time (timestamps to the minute, as in the IRA archive) give one
    anchor, with the count of their window: with one row per post, the islands' running sum ordered
    the tied rows differently from the ``lag`` that set their breaks, so a post could fall in the
    previous island. Islands then overlapped, counted some posts twice, and changed from run to run.

    Sliding-window counts by binary search over each object's sorted times
    (numpy): one SQL RANGE window over a single huge object (the group-wide
    'all posts' object) ran on one thread and grew faster than linearly.
    The events are read as (object code, time) only: with each event's object
    type and id as strings, this was the signals step's peak at 10M posts
    (13.4M events, 2.1 GiB above its start).
    """
    ev = con.sql(
        """SELECT b.oid, epoch_us(e.created_at) AS t
           FROM ev e JOIN base b USING (object_type, object_id)
           ORDER BY b.oid, e.created_at"""
    ).to_arrow_table()
    baselines = con.sql("SELECT baseline FROM base ORDER BY oid").to_arrow_table()["baseline"].to_numpy()
    empty = pa.table(
        {"oid": pa.array([], pa.int64()), "t": pa.array([], pa.timestamp("us")), "c": pa.array([], pa.int64())}
    )
    if not ev.num_rows:
        return empty
    oid = ev["oid"].to_numpy().astype(np.int64, copy=False)
    # rows are sorted by object, so each object's rows are one contiguous segment
    starts = np.flatnonzero(np.concatenate([[True], oid[1:] != oid[:-1]]))
    seg_oid = oid[starts]
    del oid
    t = ev["t"].to_numpy().astype(np.int64, copy=False)
    del ev
    sizes = np.diff(np.append(starts, len(t)))
    span = int((t[np.append(starts[1:], len(t)) - 1] - t[starts]).max()) + int(w_us) + 1
    per_chunk = max(1, _KEY_RANGE // span)  # segments per searchsorted pass without int64 overflow
    count = np.empty(len(t), np.int64)
    for lo in range(0, len(starts), per_chunk):
        hi = min(lo + per_chunk, len(starts))
        a, b = starts[lo], starts[hi] if hi < len(starts) else len(t)
        # one sorted key for the chunk: the segment's number times span, plus the time since its first post
        k = np.repeat(np.arange(hi - lo, dtype=np.int64) * span - t[starts[lo:hi]], sizes[lo:hi])
        k += t[a:b]
        c = np.searchsorted(k, k + int(w_us), side="left")
        del k
        c -= np.arange(b - a)
        count[a:b] = c
        del c
    baseline = np.repeat(np.asarray(baselines, float)[seg_oid], sizes)
    keep = (count >= int(params.min_posts)) & (count >= params.min_ratio * baseline)
    del baseline
    # Of posts at one time, the first counts the whole window (the others count from themselves on):
    # it is the time's anchor.
    tied = np.zeros(len(t), bool)
    tied[1:] = t[1:] == t[:-1]
    tied[starts] = False
    keep &= ~tied
    del tied
    if not keep.any():
        return empty
    return pa.table(
        {
            "oid": pa.array(np.repeat(seg_oid, sizes)[keep], pa.int64()),
            "t": pa.array(t[keep], pa.timestamp("us")),
            "c": pa.array(count[keep], pa.int64()),
        }
    )


def _label(t: pa.Table, params: BurstParams) -> pa.Table:
    posts = t["posts"].to_numpy().astype(float)
    peak = t["window_posts"].to_numpy().astype(float)
    base = t["baseline"].to_numpy().astype(float)
    nbins = t["nbins"].to_numpy().astype(float)
    p = poisson.sf(peak - 1, base) if len(peak) else np.zeros(0)
    keep = p <= params.alpha / np.maximum(nbins, 1)
    copy_share = 1.0 - t["distinct_texts"].to_numpy().astype(float) / np.maximum(posts, 1)
    acc_per_post = t["accounts"].to_numpy().astype(float) / np.maximum(posts, 1)
    span = t["central_span_seconds"].to_numpy().astype(float)
    automated = (copy_share >= params.copy_share_automated) & ((acc_per_post <= 0.5) | (span <= params.tight_seconds))
    organic = (copy_share < params.copy_share_organic) & (acc_per_post > 0.5)
    label = np.where(automated, LABELS[0], np.where(organic, LABELS[1], LABELS[2]))
    test = (
        f"window {params.window_seconds}s: posts >= {params.min_posts}, >= {params.min_ratio:g}x median "
        f"window count (floor {params.min_baseline:g}), Poisson upper tail p <= {params.alpha:g}/windows"
    )
    out = pa.table(
        {
            "object_type": t["object_type"],
            "object_id": t["object_id"],
            "start": t["start"],
            "end": t["end"],
            "window_start": t["window_start"],
            "window_end": t["window_end"],
            "window_posts": t["window_posts"].cast(pa.int64()),
            "posts": t["posts"].cast(pa.int64()),
            "accounts": t["accounts"].cast(pa.int64()),
            "distinct_texts": t["distinct_texts"].cast(pa.int64()),
            "copy_share": pa.array(copy_share),
            "accounts_per_post": pa.array(acc_per_post),
            "central_span_seconds": pa.array(span),
            "baseline_per_window": pa.array(base),
            "ratio": pa.array(peak / np.maximum(base, 1e-9)),
            "p_value": pa.array(p, pa.float64()),
            "label": pa.array(label, pa.string()),
            "test": pa.array([test] * len(posts), pa.string()),
            "post_ids": t["post_ids"],
        },
        schema=BURSTS,
    )
    return out.filter(pa.array(keep, pa.bool_())) if len(keep) else out
