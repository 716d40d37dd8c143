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
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..duck import registered, scratch

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

CADENCE = pa.schema(
    [
        pa.field("platform", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("posts", pa.int64()),
        pa.field("first_at", pa.timestamp("us")),
        pa.field("last_at", pa.timestamp("us")),
        pa.field("gap_median_seconds", pa.float64()),
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
    test = (
        f"posts >= {params.min_posts}; flags: gap CV <= {params.max_cv:g}, gap entropy <= "
        f"{params.max_entropy:g} ({params.gap_bin_seconds}s bins), >= {params.min_peak_per_minute} "
        f"posts in a minute, automation-client share >= {params.min_automation_share:g}"
    )
    with scratch(con) as c, registered(c, _posts=posts):
        flagged = _flagged(c, params)
    n = flagged.num_rows
    automated = pc.greater(pc.list_value_length(flagged["flags"]), 0)
    result = flagged.append_column("automated_looking", automated).append_column(
        "test", pa.array([test] * n, pa.string())
    )
    return result.select(CADENCE.names).cast(CADENCE)


def _flagged(con: duckdb.DuckDBPyConnection, params: CadenceParams) -> pa.Table:
    """The figures and flags of the accounts in the posts registered as ``_posts`` on ``con``."""
    pattern = "|".join(_re_escape(c.lower()) for c in params.automation_clients) or "(?!)"
    out = con.sql(
        """WITH p AS (
               SELECT platform, account_id, created_at, client,
                      epoch_us(created_at - lag(created_at) OVER (PARTITION BY platform, account_id
                                                                ORDER BY created_at, post_id)) / 1e6 AS gap
               FROM _posts WHERE account_id IS NOT NULL AND created_at IS NOT NULL),
           acc AS (
               SELECT platform, account_id, count(*) AS posts, min(created_at) AS first_at, max(created_at) AS last_at,
                      median(gap) AS gap_median_seconds,
                      CASE WHEN avg(gap) > 0 THEN stddev_pop(gap) / avg(gap) END AS gap_cv,
                      avg(CASE WHEN regexp_matches(lower(client), ?) THEN 1.0 ELSE 0.0 END) AS automation_client_share,
                      mode(client) AS top_client
               FROM p GROUP BY ALL HAVING count(*) >= ?),
           ent AS (
               SELECT platform, account_id,
                      CASE WHEN sum(c) > 1 THEN (log2(sum(c)) - sum(c * log2(c)) / sum(c)) / log2(sum(c)) ELSE 0 END
                        AS gap_entropy
               FROM (SELECT platform, account_id, floor(gap / ?) AS b, count(*)::DOUBLE AS c
                     FROM p SEMI JOIN acc USING (platform, account_id) WHERE gap IS NOT NULL
                     GROUP BY platform, account_id, b)
               GROUP BY platform, account_id),
           peak AS (
               SELECT platform, account_id, max(c) AS peak_per_minute, first(m ORDER BY c DESC, m) AS peak_minute
               FROM (SELECT platform, account_id, date_trunc('minute', created_at) AS m, count(*) AS c
                     FROM p SEMI JOIN acc USING (platform, account_id) GROUP BY ALL)
               GROUP BY ALL)
           SELECT a.platform, a.account_id, a.posts, a.first_at, a.last_at, a.gap_median_seconds, a.gap_cv,
                  coalesce(e.gap_entropy, 0) AS gap_entropy, k.peak_per_minute, k.peak_minute,
                  a.automation_client_share, a.top_client
           FROM acc a LEFT JOIN ent e USING (platform, account_id) LEFT JOIN peak k USING (platform, account_id)
           ORDER BY a.platform, a.account_id""",
        params=[pattern, int(params.min_posts), float(max(params.gap_bin_seconds, 1e-6))],
    ).to_arrow_table()
    with registered(con, _acc=out):
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
