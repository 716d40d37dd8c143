"""Account patterns: the traces of accounts made in bulk.

- Creation batches: accounts created within ``batch_days`` of each other far
  more often than the population's own creation rate around that time
  predicts. Baseline for a day = creations in the surrounding
  ``baseline_days`` on each side, the ``batch_days`` window itself left out,
  per day (floored at ``min_daily_rate``); a window is flagged when its
  count has a Poisson upper-tail p below ``alpha`` divided by the number of
  days tested (Bonferroni) and at least ``min_accounts`` accounts.
  Overlapping flagged windows merge; the batch is then trimmed to its busy
  days (at least 2 creations and 3x the expected daily rate).
- Templated handles: handles that differ only in a trailing digit run
  (``anna_petrova1985``, ``anna_petrova1990``) or share a stem before a
  long digit run; plus the per-account default-handle shape (letters + 6 or
  more digits, what X suggests at sign-up).
- Shared profiles: one normalised bio, display name or profile-image URL
  across several accounts.
- Bare profiles: the platform's default profile picture and no bio (the
  "egg" accounts of takedown reports). Only where the export gives the
  picture's URL: a missing URL is missing data, not a default picture.
- Low followers, high activity: at most ``max_followers`` followers with at
  least ``min_posts`` posts (profile count or posts seen in the case).

Every finding lists its accounts. None of these is proof: people born the
same year pick the same handle, and platform growth has surges (a country
unblocking the platform). They are leads, with their figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import poisson

from ..duck import registered, scratch
from ..enrich.text import normalise

BATCHES = pa.schema(
    [
        pa.field("first_day", pa.date32()),
        pa.field("last_day", pa.date32()),
        pa.field("accounts", pa.int64()),
        pa.field("peak_window_start", pa.date32()),
        pa.field("peak_window_accounts", pa.int64()),
        pa.field("expected", pa.float64()),
        pa.field("ratio", pa.float64()),
        pa.field("p_value", pa.float64()),
        pa.field("test", pa.string()),
        pa.field("account_ids", pa.list_(pa.string())),
    ]
)

TEMPLATES = pa.schema(
    [
        pa.field("template", pa.string()),  # e.g. 'anna_petrova<digits>'
        pa.field("accounts", pa.int64()),
        pa.field("handles", pa.list_(pa.string())),
        pa.field("test", pa.string()),
        pa.field("account_ids", pa.list_(pa.string())),
    ]
)

SHARED = pa.schema(
    [
        pa.field("field", pa.string()),  # description | display_name | profile_image_url
        pa.field("value", pa.string()),
        pa.field("accounts", pa.int64()),
        pa.field("test", pa.string()),
        pa.field("account_ids", pa.list_(pa.string())),
    ]
)

LOW_FOLLOWERS = pa.schema(
    [
        pa.field("platform", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("handle", pa.string()),
        pa.field("followers", pa.int64()),
        pa.field("posts", pa.int64()),
        pa.field("test", pa.string()),
    ]
)


@dataclass(frozen=True)
class AccountParams:
    # Bulk registration happens over a day or a few (phone-verification
    # limits spread it); three days holds one batch without merging weeks.
    batch_days: int = 3
    # +-90 days: the population's own growth around that time (seasonality,
    # news surges) without reaching across years.
    baseline_days: int = 90
    # One creation a month: the floor for small populations.
    min_daily_rate: float = 1 / 30
    min_accounts: int = 5
    alpha: float = 0.001
    # X's suggested handles end in 8 digits; 6+ catches shortened ones.
    min_handle_digits: int = 6
    min_template_accounts: int = 3
    min_stem_chars: int = 4
    # Identical short bios ("I love music") are common among people.
    min_bio_chars: int = 20
    min_bio_accounts: int = 2
    # Display names collide among people ("Maria"): need three accounts and 6+ chars.
    min_name_chars: int = 6
    min_name_accounts: int = 3
    min_image_accounts: int = 2
    max_followers: int = 10
    min_posts: int = 1000


@dataclass(frozen=True)
class AccountPatterns:
    batches: pa.Table
    handle_templates: pa.Table
    default_handles: pa.Table  # platform, account_id, handle
    shared_profiles: pa.Table
    low_followers: pa.Table


def account_patterns(
    accounts: pa.Table,
    params: AccountParams = AccountParams(),
    observed_posts: pa.Table | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> AccountPatterns:
    """All account-pattern findings for canonical ``accounts``.

    ``observed_posts`` (platform, account_id, posts) adds activity seen in the case.
    ``con``: a DuckDB connection to work on (here and in every function below);
    default: a scratch connection per finding, closed when it is done.
    """
    return AccountPatterns(
        batches=creation_batches(accounts, params, con=con),
        handle_templates=handle_templates(accounts, params, con=con),
        default_handles=default_handles(accounts, params, con=con),
        shared_profiles=shared_profiles(accounts, params, con=con),
        low_followers=low_followers(accounts, params, observed_posts, con=con),
    )


def creation_batches(
    accounts: pa.Table, params: AccountParams = AccountParams(), *, con: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Windows of ``batch_days`` with far more creations than the surrounding population."""
    with scratch(con) as c, registered(c, _acc=accounts.select(["account_id", "created_at"])):
        return _creation_batches(c, params)


def _creation_batches(con: duckdb.DuckDBPyConnection, params: AccountParams) -> pa.Table:
    w, b = int(params.batch_days), int(params.baseline_days)
    daily = con.sql(
        f"""WITH d AS (SELECT created_at::DATE AS day, count(*) AS c FROM _acc
                       WHERE created_at IS NOT NULL GROUP BY ALL),
            span AS (SELECT unnest(generate_series(min(day), max(day), INTERVAL 1 DAY))::DATE AS day FROM d),
            full_days AS (SELECT s.day, coalesce(d.c, 0) AS c FROM span s LEFT JOIN d USING (day))
            SELECT day, c,
                   sum(c) OVER (ORDER BY day ROWS BETWEEN CURRENT ROW AND {w - 1} FOLLOWING) AS win,
                   sum(c) OVER (ORDER BY day ROWS BETWEEN {b} PRECEDING AND {b + w - 1} FOLLOWING) AS around,
                   count(*) OVER (ORDER BY day ROWS BETWEEN {b} PRECEDING AND {b + w - 1} FOLLOWING) AS around_days
            FROM full_days ORDER BY day"""
    ).to_arrow_table()
    if daily.num_rows == 0:
        return BATCHES.empty_table()
    win = daily["win"].to_numpy().astype(float)
    around = daily["around"].to_numpy().astype(float) - win
    around_days = daily["around_days"].to_numpy().astype(float) - w
    rate = around / around_days.clip(min=1)
    rate[around_days <= 0] = params.min_daily_rate
    expected = rate.clip(min=params.min_daily_rate) * w
    p = poisson.sf(win - 1, expected)
    flagged = (win >= params.min_accounts) & (p <= params.alpha / daily.num_rows)
    cand = pa.table({"day": daily["day"], "win": daily["win"], "expected": expected, "p": p}).filter(pa.array(flagged))
    # A flagged window can start before the batch; keep only its busy days.
    days = pa.table(
        {
            "day": daily["day"],
            "c": daily["c"],
            "busy": pa.array((daily["c"].to_numpy() >= 2) & (daily["c"].to_numpy() >= 3 * expected / w)),
        }
    )
    test = (
        f"{w}-day window count vs Poisson(rate of the surrounding +-{b} days x {w}, floor "
        f"{params.min_daily_rate:.3g}/day); count >= {params.min_accounts}, p <= {params.alpha:g}/days"
    )
    with registered(con, _cand=cand, _days=days):
        out = con.sql(
            f"""WITH g AS (
                    SELECT *, sum(brk) OVER (ORDER BY day ROWS UNBOUNDED PRECEDING) AS grp FROM (
                        SELECT *, CASE WHEN day > lag(day) OVER (ORDER BY day) + {w} THEN 1 ELSE 0 END AS brk
                        FROM _cand)),
                b AS (SELECT grp, min(day) AS lo, max(day) + {w - 1} AS hi,
                             first(day ORDER BY win DESC, day) AS peak_window_start, max(win) AS peak_window_accounts,
                             first(expected ORDER BY win DESC, day) AS expected, min(p) AS p_value
                      FROM g GROUP BY grp),
                busy AS (SELECT b.grp, min(d.day) AS lo, max(d.day) AS hi FROM b JOIN _days d
                           ON d.day BETWEEN b.lo AND b.hi AND d.busy GROUP BY b.grp),
                members AS (SELECT b.grp, list(a.account_id ORDER BY a.created_at, a.account_id) AS ids,
                                   min(a.created_at)::DATE AS first_day, max(a.created_at)::DATE AS last_day
                            FROM busy b JOIN _acc a ON a.created_at::DATE BETWEEN b.lo AND b.hi GROUP BY b.grp)
                SELECT m.first_day, m.last_day, len(m.ids) AS accounts, b.peak_window_start, b.peak_window_accounts,
                       b.expected, b.peak_window_accounts / b.expected AS ratio, b.p_value, ? AS test,
                       m.ids AS account_ids
                FROM b JOIN members m USING (grp) ORDER BY accounts DESC, first_day""",
            params=[test],
        ).to_arrow_table()
    return out.cast(BATCHES)


def _handles(accounts: pa.Table) -> pa.Table:
    return accounts.select(["platform", "account_id", "handle"])


def handle_templates(
    accounts: pa.Table, params: AccountParams = AccountParams(), *, con: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Groups of handles that differ only in a trailing run of digits."""
    test = (
        f"handles equal after removing a trailing digit run; stem >= {params.min_stem_chars} chars, "
        f">= {params.min_template_accounts} accounts"
    )
    with scratch(con) as c, registered(c, _acc=_handles(accounts)):
        out = c.sql(
            """WITH h AS (SELECT account_id, handle, lower(handle) AS lh FROM _acc WHERE handle IS NOT NULL),
               s AS (SELECT *, regexp_extract(lh, '^(.*?)[0-9]+$', 1) AS stem FROM h
                     WHERE regexp_matches(lh, '[0-9]$'))
               SELECT stem || '<digits>' AS template, count(DISTINCT account_id) AS accounts,
                      list(handle ORDER BY handle) AS handles, ? AS test,
                      list(account_id ORDER BY handle) AS account_ids
               FROM s WHERE length(regexp_replace(stem, '[^a-z]', '', 'g')) >= ?
               GROUP BY stem HAVING count(DISTINCT account_id) >= ?
               ORDER BY accounts DESC, template""",
            params=[test, int(params.min_stem_chars), int(params.min_template_accounts)],
        ).to_arrow_table()
    return out.cast(TEMPLATES)


def default_handles(
    accounts: pa.Table, params: AccountParams = AccountParams(), *, con: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Accounts whose handle is letters followed by a long digit run (a sign-up suggestion kept)."""
    with scratch(con) as c, registered(c, _acc=_handles(accounts)):
        return c.sql(
            "SELECT platform, account_id, handle FROM _acc WHERE regexp_matches(handle, ?) "
            "ORDER BY platform, account_id",
            params=[f"^[A-Za-z_]+[0-9]{{{int(params.min_handle_digits)},}}$"],
        ).to_arrow_table()


def shared_profiles(
    accounts: pa.Table, params: AccountParams = AccountParams(), *, con: duckdb.DuckDBPyConnection | None = None
) -> pa.Table:
    """Identical normalised bios and display names, and identical profile-image URLs."""
    t = pa.table(
        {
            "account_id": accounts["account_id"],
            "description": normalise(accounts["description"]),
            "display_name": normalise(accounts["display_name"]),
            "profile_image_url": accounts["profile_image_url"],
        }
    )
    parts = []
    args: list = []
    for field, min_chars, min_accounts in (
        ("description", params.min_bio_chars, params.min_bio_accounts),
        ("display_name", params.min_name_chars, params.min_name_accounts),
        ("profile_image_url", 1, params.min_image_accounts),
    ):
        extra = " AND NOT regexp_matches(v, 'default_profile')" if field == "profile_image_url" else ""
        what = field if field == "profile_image_url" else f"normalised {field}"
        test = f"identical {what}, >= {min_chars} chars, >= {min_accounts} accounts"
        parts.append(
            f"""SELECT '{field}' AS field, v AS value, count(DISTINCT account_id) AS accounts, ? AS test,
                       list(DISTINCT account_id ORDER BY account_id) AS account_ids
                FROM (SELECT account_id, {field} AS v FROM _acc) WHERE length(v) >= ?{extra}
                GROUP BY v HAVING count(DISTINCT account_id) >= ?"""
        )
        args += [test, int(min_chars), int(min_accounts)]
    with scratch(con) as c, registered(c, _acc=t):
        out = c.sql(" UNION ALL ".join(parts) + " ORDER BY accounts DESC, field, value", params=args).to_arrow_table()
    return out.cast(SHARED)


DEFAULT_PICTURE = "default_profile"  # X's default avatar URLs: .../default_profile_images/default_profile_*.png


def bare_profiles(accounts: pa.Table) -> pa.Table:
    """Accounts with the default profile picture and an empty bio: platform, account_id, handle."""
    image = accounts["profile_image_url"]
    bio = pc.fill_null(pc.utf8_trim_whitespace(accounts["description"]), "")
    bare = pc.and_(pc.fill_null(pc.match_substring(image, DEFAULT_PICTURE), False), pc.equal(bio, ""))
    return accounts.filter(bare).select(["platform", "account_id", "handle"])


def low_followers(
    accounts: pa.Table,
    params: AccountParams = AccountParams(),
    observed_posts: pa.Table | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    """Accounts with at most ``max_followers`` followers and at least ``min_posts`` posts."""
    if observed_posts is None:
        observed_posts = pa.table(
            {
                "platform": pa.array([], pa.string()),
                "account_id": pa.array([], pa.string()),
                "posts": pa.array([], pa.int64()),
            }
        )
    test = f"followers <= {params.max_followers} and posts (profile count or seen) >= {params.min_posts}"
    acc = accounts.select(["platform", "account_id", "handle", "followers", "posts_count"])
    with scratch(con) as c, registered(c, _acc=acc, _obs=observed_posts):
        out = c.sql(
            """SELECT a.platform, a.account_id, a.handle, a.followers,
                      greatest(coalesce(a.posts_count, 0), coalesce(o.posts, 0)) AS posts, ? AS test
               FROM _acc a LEFT JOIN _obs o USING (platform, account_id)
               WHERE a.followers IS NOT NULL AND a.followers <= ?
                 AND greatest(coalesce(a.posts_count, 0), coalesce(o.posts, 0)) >= ?
               ORDER BY posts DESC, a.platform, a.account_id""",
            params=[test, int(params.max_followers), int(params.min_posts)],
        ).to_arrow_table()
    return out.cast(LOW_FOLLOWERS)
