"""Automation cadence: how machine-like each account's posting rhythm is.

Per account, from the gaps between consecutive posts:

- coefficient of variation (CV = std / mean of the gaps). A Poisson process
  has CV = 1 and human posting is burstier still (CV > 1, Barabási 2005);
  a scheduler posting every n minutes, even with jitter, has CV near 0;
- normalised entropy of the gaps, rounded to ``gap_bin_seconds``: 0 when
  every gap is the same value (or alternates among a few), near 1 when gaps
  never repeat. It catches schedulers with a few fixed gaps whose CV is not
  small;
- the busiest calendar minute (posts per minute peak);
- the share of posts sent from a known automation or scheduling client,
  where the platform names the client (X ``source``).

An account is ``automated_looking`` when it has at least ``min_posts``
posts and at least one flag fires. Automation is not inauthenticity: news
feeds and weather bots post by script too. The flags say "a machine posts
here", with the figures; what that means is for the analyst.

Two steps, so that another engine can do the first: ``_figures`` (DuckDB)
reads every post and gives one row of exact figures per account
(``FIGURES``: counts, times, integer sums of the gaps and their squares,
the median, the gap histogram, the busiest minute, the top client);
``finish`` computes the floats, flags and test from them on one machine.
engines/spark/cadence.py computes the same ``FIGURES`` on Spark and calls
``finish``, so both engines give the same table, bit for bit. Ties are
broken by value: the busiest minute is the earliest, the top client the
most frequent and then the smallest name (byte order).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..duck import registered, scratch
from ..progress import detail

# Client names (substrings, case-insensitive) of services whose purpose is
# automated or scheduled posting. Sources: X's own list of third-party
# automation apps in the 2017-2023 transparency archives and the clients
# most frequent in bot studies (e.g. Gorwa & Guilbeault 2020).
AUTOMATION_CLIENTS = (
    "ifttt",
    "dlvr.it",
    "twitterfeed",
    "twittbot",
    "botize",
    "cheap bots, done quick",
    "zapier",
    "integromat",
    "make (formerly integromat)",
    "buffer",
    "hootsuite",
    "socialoomph",
    "roundteam",
    "sprout social",
    "later.com",
    "publer",
    "socialbee",
    "tweetdeck scheduler",
    "tweepy",
    "autopost",
    "auto post",
    "scheduler",
)
# Not "bot": Tweetbot was a popular client for people. Buffer and Hootsuite
# are scheduling tools of ordinary social-media teams: scheduled is automated,
# not inauthentic.

# the columns CADENCE and the engines' FIGURES (below) begin with
_ACCOUNT_SPAN = [
    pa.field("platform", pa.string()),
    pa.field("account_id", pa.string()),
    pa.field("posts", pa.int64()),
    pa.field("first_at", pa.timestamp("us")),
    pa.field("last_at", pa.timestamp("us")),
    # DuckDB's median of the gaps in seconds (epoch_us / 1e6): the middle one, or (lo + hi) / 2
    pa.field("gap_median_seconds", pa.float64()),
]

CADENCE = pa.schema(
    [
        *_ACCOUNT_SPAN,
        pa.field("gap_cv", pa.float64()),
        pa.field("gap_entropy", pa.float64()),  # normalised to [0, 1]
        pa.field("peak_per_minute", pa.int64()),
        pa.field("peak_minute", pa.timestamp("us")),
        pa.field("automation_client_share", pa.float64()),
        pa.field("top_client", pa.string()),
        pa.field("flags", pa.list_(pa.string())),
        pa.field("automated_looking", pa.bool_()),
        pa.field("test", pa.string()),
    ]
)


@dataclass(frozen=True)
class CadenceParams:
    # Fewer than 20 gaps say little about a rhythm: the CV of 10 random
    # gaps already ranges widely.
    min_posts: int = 20
    # CV below 0.3 is far below the Poisson value 1 and the human > 1;
    # scheduled posting with jitter sits at 0.0-0.2.
    max_cv: float = 0.3
    # Entropy below 0.3 of its maximum: gaps repeat a handful of values.
    max_entropy: float = 0.3
    gap_bin_seconds: int = 1
    # Ten posts in one minute is beyond fast typing, even for live-tweeting.
    min_peak_per_minute: int = 10
    # Half of an account's posts from automation clients.
    min_automation_share: float = 0.5
    automation_clients: tuple[str, ...] = AUTOMATION_CLIENTS


# The per-account figures an engine computes (``figures``), before ``finish`` turns them into CADENCE:
# exact integers where a float would depend on the order of a sum, so that every engine's figures are
# equal and the floats are computed once, here, by the same code (engines/spark/cadence.py).
FIGURES = pa.schema(
    [
        *_ACCOUNT_SPAN,
        pa.field("gap_sum_us", pa.decimal128(38, 0)),  # sum of the gaps in microseconds, exact
        pa.field("gap_sumsq_us", pa.decimal128(38, 0)),  # sum of their squares, exact
        pa.field("peak_per_minute", pa.int64()),
        pa.field("peak_minute", pa.timestamp("us")),
        pa.field("automation_posts", pa.int64()),  # posts from an automation client
        pa.field("top_client", pa.string()),  # most frequent client; ties: the smallest (byte order)
        # the gap histogram, compacted: how many bins (of gap_bin_seconds) hold ``gaps`` gaps each
        pa.field("gap_bins", pa.list_(pa.struct([pa.field("gaps", pa.int64()), pa.field("bins", pa.int64())]))),
    ]
)


def cadence(
    posts: pa.Table, params: CadenceParams = CadenceParams(), *, con: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Per-account cadence figures and flags, accounts with ``posts >= min_posts`` only.

    ``posts`` needs platform, account_id, post_id, created_at and (optionally) client.
    ``con``: a DuckDB connection to work on; default: a scratch connection.
    """
    if "client" not in posts.column_names:
        posts = posts.append_column("client", pa.nulls(posts.num_rows, pa.string()))
    posts = posts.select(["platform", "account_id", "post_id", "created_at", "client"])
    with scratch(con) as c:
        posts = _active(c, posts, params.min_posts)
        parts = max(1, -(-posts.num_rows // PART_POSTS))
        with registered(c, _posts=posts):
            figures = []
            for k in range(parts):
                detail(f"cadence {k + 1}/{parts}" if parts > 1 else "cadence")
                figures.append(_figures(c, params, k, parts))
        return finish(pa.concat_tables(figures), params, con=c)


def _active(con: duckdb.DuckDBPyConnection, posts: pa.Table, min_posts: int) -> pa.Table:
    """The posts of accounts with at least ``min_posts`` timed posts: the figures' window sorts only these.

    An account's figures read its own posts alone, and an account below ``min_posts`` has none, so
    leaving the others out changes nothing. Where most accounts post a few times (a keyword
    collection: half of the 10M simulated posts are of accounts under 20), the sort shrinks as much."""
    with registered(con, _all_posts=posts):
        return con.sql(
            """SELECT * FROM _all_posts SEMI JOIN (
                   SELECT platform, account_id FROM _all_posts
                   WHERE account_id IS NOT NULL AND created_at IS NOT NULL
                   GROUP BY ALL HAVING count(*) >= ?) USING (platform, account_id)""",
            params=[int(min_posts)],
        ).to_arrow_table()


# Posts per part of the accounts' figures: each account's posts fall in one part (by a hash of the
# account), so the figures are the same; the parts show progress (DuckDB gives none for this window over
# an Arrow table: one statement took 14.6 s at 10M posts), and their sorts are smaller.
PART_POSTS = 2_500_000


def rule_text(params: CadenceParams) -> str:
    """The ``test`` column: the rule every row was judged by."""
    return (
        f"posts >= {params.min_posts}; flags: gap CV <= {params.max_cv:g}, gap entropy <= "
        f"{params.max_entropy:g} ({params.gap_bin_seconds}s bins), >= {params.min_peak_per_minute} "
        f"posts in a minute, automation-client share >= {params.min_automation_share:g}"
    )


def bin_width(params: CadenceParams) -> float:
    """The gap bin in seconds, as both engines divide by it: ``floor(gap_seconds / bin_width)``."""
    return float(max(params.gap_bin_seconds, 1e-6))


def client_pattern(params: CadenceParams) -> str:
    """The regular expression (RE2, DuckDB's ``regexp_matches``) that a lower-cased automation client matches."""
    # no clients: a class that matches no character (RE2 has no look-ahead, so not "(?!)")
    return "|".join(_re_escape(c.lower()) for c in params.automation_clients) or r"[^\s\S]"


def automation_clients_among(
    clients: pa.Array, params: CadenceParams, *, con: duckdb.DuckDBPyConnection | None = None
) -> list[str]:
    """The values of ``clients`` that name an automation client, matched as the local engine matches
    them (DuckDB's ``lower`` and RE2): another engine sends its distinct clients here rather than
    re-implementing Unicode lower-casing and the regular expression."""
    with scratch(con) as c, registered(c, _clients=pa.table({"client": pa.array(clients, pa.string())})):
        rows = c.execute(
            "SELECT DISTINCT client FROM _clients WHERE regexp_matches(lower(client), ?) ORDER BY client",
            [client_pattern(params)],
        ).fetchall()
    return [r[0] for r in rows]


def _figures(con: duckdb.DuckDBPyConnection, params: CadenceParams, part: int = 0, parts: int = 1) -> pa.Table:
    """``FIGURES`` of the accounts in the posts registered as ``_posts`` on ``con``; with ``parts`` > 1,
    of the accounts whose hash falls in ``part`` (every account in exactly one part)."""
    figures = con.sql(
        """WITH p AS (
               SELECT platform, account_id, created_at, client,
                      epoch_us(created_at - lag(created_at) OVER (PARTITION BY platform, account_id
                                                                ORDER BY created_at, post_id)) AS gap_us
               FROM _posts WHERE account_id IS NOT NULL AND created_at IS NOT NULL
                    AND hash(platform, account_id) % ? = ?),
           acc AS (
               SELECT platform, account_id, count(*) AS posts, min(created_at) AS first_at, max(created_at) AS last_at,
                      median(gap_us / 1e6) AS gap_median_seconds,
                      sum(gap_us)::DECIMAL(38, 0) AS gap_sum_us,
                      sum(gap_us::HUGEINT * gap_us)::DECIMAL(38, 0) AS gap_sumsq_us
               FROM p GROUP BY ALL HAVING count(*) >= ?),
           q AS (SELECT p.* FROM p SEMI JOIN acc USING (platform, account_id)),
           ent AS (
               SELECT platform, account_id, list({'gaps': gaps, 'bins': bins}) AS gap_bins
               FROM (SELECT platform, account_id, gaps, count(*) AS bins
                     FROM (SELECT platform, account_id, count(*) AS gaps FROM q WHERE gap_us IS NOT NULL
                           GROUP BY platform, account_id, floor(gap_us / 1e6 / ?))
                     GROUP BY ALL)
               GROUP BY ALL),
           peak AS (
               SELECT platform, account_id, max(c) AS peak_per_minute, first(m ORDER BY c DESC, m) AS peak_minute
               FROM (SELECT platform, account_id, date_trunc('minute', created_at) AS m, count(*) AS c
                     FROM q GROUP BY ALL)
               GROUP BY ALL),
           cl AS (
               SELECT platform, account_id,
                      first(client ORDER BY c DESC, client) AS top_client,
                      sum(CASE WHEN regexp_matches(lower(client), ?) THEN c ELSE 0 END) AS automation_posts
               FROM (SELECT platform, account_id, client, count(*) AS c FROM q WHERE client IS NOT NULL GROUP BY ALL)
               GROUP BY ALL)
           SELECT a.*, k.peak_per_minute, k.peak_minute, coalesce(l.automation_posts, 0) AS automation_posts,
                  l.top_client, coalesce(e.gap_bins, []) AS gap_bins
           FROM acc a LEFT JOIN peak k USING (platform, account_id) LEFT JOIN cl l USING (platform, account_id)
                LEFT JOIN ent e USING (platform, account_id)""",
        params=[int(parts), int(part), int(params.min_posts), bin_width(params), client_pattern(params)],
    ).to_arrow_table()
    return figures.select(FIGURES.names).cast(FIGURES)


def finish(
    figures: pa.Table,
    params: CadenceParams = CadenceParams(),
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """``CADENCE`` from an engine's per-account ``FIGURES`` (one row per account with
    ``posts >= min_posts``): CV, entropy, client share, flags and the test, ordered by platform and
    account. The floats come from exact integers in a fixed order, so they do not depend on the
    engine or on how it split the sums.

    - gap CV = std / mean of the gaps = sqrt(n * sum(g^2) - sum(g)^2) / sum(g) over the n = posts - 1
      gaps in microseconds (Python integers, then one square root); NULL when the mean is 0 or no gap;
    - normalised entropy = (log2 N - sum(c log2 c) / N) / log2 N over the gap bins' counts c
      (N = sum c = n; 0 when N <= 1), the sum ``math.fsum`` (exactly rounded, order-free);
    - automation-client share = automation posts / posts.
    """
    figures = (
        figures.select(FIGURES.names).cast(FIGURES).sort_by([("platform", "ascending"), ("account_id", "ascending")])
    )
    n_posts = figures["posts"].to_pylist()
    cv = [
        _cv(n - 1, int(s1), int(s2)) if s1 is not None else None
        for n, s1, s2 in zip(n_posts, figures["gap_sum_us"].to_pylist(), figures["gap_sumsq_us"].to_pylist())
    ]
    entropy = [_entropy(n - 1, bins or ()) for n, bins in zip(n_posts, figures["gap_bins"].to_pylist())]
    share = pc.divide(pc.cast(figures["automation_posts"], pa.float64()), pc.cast(figures["posts"], pa.float64()))
    acc = pa.table(
        {
            **{k: figures[k] for k in ("platform", "account_id", "posts", "first_at", "last_at", "gap_median_seconds")},
            "gap_cv": pa.array(cv, pa.float64()),
            "gap_entropy": pa.array(entropy, pa.float64()),
            **{k: figures[k] for k in ("peak_per_minute", "peak_minute")},
            "automation_client_share": share,
            "top_client": figures["top_client"],
        }
    )
    with scratch(con) as c:
        flagged = _flag(c, acc, params)
    n = flagged.num_rows
    automated = pc.greater(pc.list_value_length(flagged["flags"]), 0)
    result = flagged.append_column("automated_looking", automated).append_column(
        "test", pa.array([rule_text(params)] * n, pa.string())
    )
    return result.select(CADENCE.names).cast(CADENCE)


def _cv(n: int, s1: int, s2: int) -> float | None:
    if n <= 0 or s1 <= 0:
        return None
    return math.sqrt(n * s2 - s1 * s1) / s1


def _entropy(n: int, bins) -> float:
    if n <= 1:
        return 0.0
    total = math.fsum(b["bins"] * b["gaps"] * math.log2(b["gaps"]) for b in bins)
    return (math.log2(n) - total / n) / math.log2(n)


def _flag(con: duckdb.DuckDBPyConnection, acc: pa.Table, params: CadenceParams) -> pa.Table:
    """``acc`` (the figures, one row per account) with its ``flags``, in its order."""
    with registered(con, _acc=acc):
        return con.sql(
            """SELECT *, list_filter([
                          CASE WHEN gap_cv <= ? THEN 'regular-gaps' END,
                          CASE WHEN gap_entropy <= ? THEN 'repeated-gaps' END,
                          CASE WHEN peak_per_minute >= ? THEN 'posts-per-minute' END,
                          CASE WHEN automation_client_share >= ? THEN 'automation-client' END],
                        lambda f: f IS NOT NULL) AS flags
               FROM _acc""",
            params=[
                float(params.max_cv),
                float(params.max_entropy),
                int(params.min_peak_per_minute),
                float(params.min_automation_share),
            ],
        ).to_arrow_table()


def _re_escape(s: str) -> str:
    return "".join("\\" + ch if ch in r".^$*+?()[]{}|\\" else ch for ch in s)
