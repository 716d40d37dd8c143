"""Per-account time series on Spark: post counts per UTC day and half hour, per hour-of-week slot, per day.

The rhythm, holiday and cadence signals read a group's posts as counts in
time bins; summed over the group's accounts, per-account counts give the same
figures, so the data-parallel part is one aggregation per account. The bins
are detect/rhythm.py's: minutes since the epoch (floor), ``day`` = minute //
1440 (a UTC date), ``half_hour`` = (minute % 1440) // 30 (0..47), and the
hour-of-week slot ``dow * 48 + half_hour`` with Monday = 0 (1970-01-01 was a
Thursday: ``dow = (day + 3) % 7``). Half-hour bins on UTC days also give
daily series on local days at any offset that is a multiple of 30 minutes
(shift the bins), which is what the holiday signal fits.

Outputs (one row per non-empty bin; posts without an account or a time are
left out, as rhythm.py drops null times):

- ``account_half_hours``: platform, account_id, day (DATE), half_hour, posts;
- ``account_week``: platform, account_id, slot (0..335), posts;
- ``account_days``: platform, account_id, day (DATE), posts.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

MINUTE_US = 60_000_000
BINS_PER_DAY = 48


def account_half_hours(posts: DataFrame) -> DataFrame:
    """Posts per (platform, account_id, UTC day, half hour) from a DataFrame with the posts table's
    platform, account_id and created_at. Needs the session time zone UTC (session.use_utc)."""
    t = F.unix_micros(F.col("created_at").cast(T.TimestampType()))
    minute = F.floor(t / F.lit(MINUTE_US)).cast(T.LongType())  # exact: |t| < 2^53 for years 1679..2255
    binned = (
        posts.where(F.col("account_id").isNotNull() & F.col("created_at").isNotNull())
        .select("platform", "account_id", minute.alias("minute"))
        .select(
            "platform",
            "account_id",
            F.date_from_unix_date(F.floor(F.col("minute") / 1440).cast(T.IntegerType())).alias("day"),
            (F.pmod(F.col("minute"), F.lit(1440)) / 30).cast(T.IntegerType()).alias("half_hour"),
        )
    )
    return binned.groupBy("platform", "account_id", "day", "half_hour").agg(F.count(F.lit(1)).alias("posts"))


def account_week(half_hours: DataFrame) -> DataFrame:
    """The hour-of-week profile per account (half-hour slots, Monday 00:00 UTC = 0) from ``account_half_hours``."""
    dow = F.pmod(F.unix_date("day") + 3, F.lit(7))
    slot = (dow * BINS_PER_DAY + F.col("half_hour")).cast(T.IntegerType())
    return half_hours.groupBy("platform", "account_id", slot.alias("slot")).agg(F.sum("posts").alias("posts"))


def account_days(half_hours: DataFrame) -> DataFrame:
    """Posts per account and UTC day from ``account_half_hours``."""
    return half_hours.groupBy("platform", "account_id", "day").agg(F.sum("posts").alias("posts"))
