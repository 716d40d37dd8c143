"""The plausible time window: every batch of every importer passes through it before it is stored.

A post dated year 1 or 99999 (X API v2 accepts both) is not an observation
of anyone's behaviour, and one such post makes any step that spans the data
in time (days, hours, bins) allocate for millennia. So, per platform, a post
must lie in ``[PLATFORM_SINCE[platform], ingest time + FUTURE_SLACK]``;
a post outside is moved to quarantine with the reason, and counts as
quarantined (docs/formats.md, "Time window"). Account times (``created_at``,
``snapshot_at``) outside the same window are set to NULL and counted in the
input's notes: an account is not a record of a posts file, and a wrong
creation date should not cost the analyst the account's posts.

Columnar: one comparison per batch in Arrow; only the rows outside the
window are formatted (in DuckDB, which prints year 99999 as such), so a
clean batch costs two vector comparisons.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import model
from ..duck import registered, scratch
from .base import Batch

# A little before each platform opened (the day it opened in the comment). Posts earlier than
# this are not the platform's. "other" (generic tables, CooRTweet layouts) starts with the web.
PLATFORM_SINCE: dict[str, dt.date] = {
    "x": dt.date(2006, 1, 1),  # Twitter, 2006-03-21
    "telegram": dt.date(2013, 1, 1),  # 2013-08-14
    "tiktok": dt.date(2014, 1, 1),  # musical.ly (2014-08), whose videos kept their dates in TikTok
    "youtube": dt.date(2005, 1, 1),  # 2005-02-14 (first video 2005-04-23)
    "facebook": dt.date(2004, 1, 1),  # 2004-02-04
    "instagram": dt.date(2010, 1, 1),  # 2010-10-06
    "bluesky": dt.date(2006, 1, 1),  # opened 2023, but createdAt is the client's: imported X archives keep X dates
    "vk": dt.date(2006, 1, 1),  # 2006-10-10
    "other": dt.date(1990, 1, 1),
}
# Clock skew and a local time read as UTC (at most 14 h ahead) stay inside; a post dated later
# than this after the ingest is not a post yet.
FUTURE_SLACK = dt.timedelta(days=2)

_US = np.timedelta64(1, "us")


def _micros(d: dt.date | dt.datetime) -> int:
    return int((np.datetime64(d, "us") - np.datetime64(0, "us")) // _US)


_PLATFORMS = pa.array(list(PLATFORM_SINCE), pa.string())
_FLOORS = pa.array([_micros(d) for d in PLATFORM_SINCE.values()], pa.int64())
_OTHER = list(PLATFORM_SINCE).index("other")


def ceiling(now: dt.datetime | None = None) -> dt.datetime:
    """The window's end for an ingest at ``now`` (naive UTC; default: the current time)."""
    now = now or dt.datetime.now(dt.UTC).replace(tzinfo=None)
    return now + FUTURE_SLACK


def _floors(platform: pa.ChunkedArray | pa.Array) -> pa.Array:
    at = pc.fill_null(pc.index_in(platform, value_set=_PLATFORMS), _OTHER)
    return pc.take(_FLOORS, at)


_FLOOR_OF = dict(zip(PLATFORM_SINCE, _FLOORS.to_pylist()))
_LATEST_FLOOR = max(_FLOOR_OF.values())


def _outside(times: pa.ChunkedArray | pa.Array, platform: pa.ChunkedArray | pa.Array, hi: int) -> pa.Array | None:
    """Mask of the times outside their platform's window (NULL times are inside: not this check's business).

    None when every time is inside: the batch's earliest and latest time decide that for almost
    every batch (one pass, no per-row platform lookup).
    """
    t = pc.cast(times, pa.int64())
    span = pc.min_max(t).as_py()
    if span["min"] is None:
        return None
    platforms = pc.min_max(platform).as_py()
    one = platforms["min"] == platforms["max"]  # one platform (most batches): one floor
    lo = _FLOOR_OF.get(platforms["min"], _FLOOR_OF["other"]) if one else _LATEST_FLOOR
    if span["min"] >= lo and span["max"] <= hi:
        return None
    floors = lo if one else _floors(platform)
    return pc.fill_null(pc.or_(pc.less(t, floors), pc.greater(t, hi)), False)


_REASON = (
    "'implausible created_at=' || CAST(created_at AS VARCHAR) || ', outside the time window of ' || platform "
    "|| ' posts (' || CASE WHEN late THEN 'more than 2 days after the ingest' "
    "ELSE 'before ' || CAST(since AS VARCHAR) END || '; see docs/formats.md, Time window)'"
)


def bound_times(batch: Batch, now: dt.datetime | None = None) -> tuple[Batch, dict[str, int]]:
    """``batch`` with its posts outside the window quarantined and its accounts' times outside it NULLed.

    Returns the batch and counts of what was changed (``posts``, ``accounts.created_at``,
    ``accounts.snapshot_at``, ``actions``): the records in the batch are the same records,
    so ``Batch.records`` does not change.
    """
    hi = _micros(ceiling(now))
    notes: dict[str, int] = {}
    posts, quarantine = batch.posts, batch.quarantine
    if posts.num_rows:
        bad = _outside(posts["created_at"], posts["platform"], hi)
        n_bad = 0 if bad is None else pc.sum(bad).as_py() or 0
        if n_bad:
            out = posts.filter(bad).select(["platform", "post_id", "account_id", "created_at", "text", "source_file"])
            out = out.append_column(
                "since", pc.cast(pc.cast(_floors(out["platform"]), pa.timestamp("us")), pa.date32())
            )
            out = out.append_column("record", posts["source_record"].filter(bad))
            out = out.append_column("late", pc.greater(pc.cast(out["created_at"], pa.int64()), hi))
            with scratch() as con, registered(con, _bad=out):
                q = con.sql(
                    f"SELECT source_file, record, {_REASON} AS reason, "
                    "left('post ' || post_id || ' by ' || coalesce(account_id, '?') || ' at ' "
                    "|| CAST(created_at AS VARCHAR) || ': ' || coalesce(text, ''), 500) AS excerpt FROM _bad"
                ).to_arrow_table()
            quarantine = pa.concat_tables([quarantine, model.conform(q, "quarantine")])
            posts = posts.filter(pc.invert(bad))
            notes["posts"] = n_bad
    accounts = batch.accounts
    for col in ("created_at", "snapshot_at"):
        if not accounts.num_rows:
            break
        bad = _outside(accounts[col], accounts["platform"], hi)
        n_bad = 0 if bad is None else pc.sum(bad).as_py() or 0
        if n_bad:
            values = pc.if_else(bad, pa.scalar(None, model.TS), accounts[col])
            accounts = accounts.set_column(accounts.schema.get_field_index(col), col, values)
            notes[f"accounts.{col}"] = n_bad
    actions = batch.extra_actions
    if actions is not None and actions.num_rows:
        bad = _outside(actions["created_at"], actions["platform"], hi)
        n_bad = 0 if bad is None else pc.sum(bad).as_py() or 0
        if n_bad:  # the action of a post quarantined above (CooRTweet layout: one per record)
            actions = actions.filter(pc.invert(bad))
            notes["actions"] = n_bad
    if not notes:
        return batch, notes
    return replace(batch, posts=posts, accounts=accounts, quarantine=quarantine, extra_actions=actions), notes


def describe_notes(notes: dict[str, int]) -> list[str]:
    """Human sentences for the account-time counts of ``bound_times`` (the posts are in quarantine)."""
    out = []
    for key, what in (("accounts.created_at", "account creation"), ("accounts.snapshot_at", "account snapshot")):
        if notes.get(key):
            out.append(
                f"{notes[key]:,} {what} time(s) outside the plausible time window set to NULL "
                "(see docs/formats.md, Time window)"
            )
    return out
