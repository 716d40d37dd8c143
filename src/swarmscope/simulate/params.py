"""What to generate and what was generated: ``ScenarioParams`` and ``Scenario``.

``ScenarioParams`` holds every knob of a scenario (the seed, the window, the
organic and fan crowds, the three planted operations, the TikTok and YouTube
shares) and checks on construction that the combination can produce the
traits the detectors must find, raising ``ValueError`` naming each problem.
``Scenario`` is what ``generate`` returns: the input files, truth.json and the
watchlist. The time constants shared by every other module live here too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import holidays

_DAY = 86_400
_SNOWFLAKE_EPOCH_MS = 1_288_834_974_657  # X's snowflake epoch


@dataclass(frozen=True)
class ScenarioParams:
    """What to generate. The defaults make the demo: about 20k X posts, a few seconds.

    The window (``start`` + ``days``) and the operation's calendar are chosen
    so that the traits a detector must find are present: the default window
    holds four Azerbaijani public holidays on weekdays (8, 11, 12, 13
    November 2024) and two transferred working Saturdays (16 and 23
    November), which ``holidays.country_holidays('AZ')`` lists.
    """

    seed: int = 7
    # Organic crowd: accounts in seven languages; posts are originals, reposts and replies
    # (about 8 per account, heavy-tailed: most accounts post little, a few a lot).
    n_organic_accounts: int = 1500
    n_organic_posts: int = 12_000
    start: dt.date = dt.date(2024, 10, 21)  # a Monday
    days: int = 42
    repost_share: float = 0.30  # share of organic posts that are reposts (X: roughly a third)
    reply_share: float = 0.08  # replies (with an @mention of the parent's author)
    # Fan crowd (hard negative): organic accounts bursting on one hashtag during a match.
    n_fan_accounts: int = 400
    fan_hashtag: str = "AuroraCupFinal"
    fan_event_date: dt.date = dt.date(2024, 11, 30)
    fan_event_utc_hour: int = 17  # kick-off 20:00 at UTC+3: a local evening
    fan_event_minutes: int = 120
    # a) copy-paste network run from an office.
    n_copypaste_accounts: int = 100  # the brief's range is 50-150
    waves_per_workday: int = 4  # texts pushed per working day, each by 30-60% of the accounts
    operator_utc_offset: float = 4.0  # Baku time; matches holiday_country
    holiday_country: str = "AZ"  # any code holidays.country_holidays() knows
    office_hours: tuple[int, int] = (9, 18)  # local, operators' time
    election_date: dt.date = dt.date(2024, 11, 27)  # narrative switch one week before
    run_length: int = 73  # DESIGN.md's automation examples: one text 73 times in a row,
    burst_posts: int = 1000  # and 1,000 posts in ten minutes
    burst_minutes: int = 10
    burst_hashtag: str = "KörpüGünü"
    # b) fast co-repost amplifier.
    n_amplifier_accounts: int = 50
    n_amplified_posts: int = 40
    amplifier_spread_seconds: int = 8  # all reposts of one target within this many seconds (< 10 s)
    # c) impersonators of watchlist entities.
    posts_per_impersonator: int = 25
    # Telegram channel the operation runs, posting each text minutes before the X wave.
    telegram: bool = True
    # TikTok share (a Research API video-query response). Part of the copy-paste crew runs TikTok
    # accounts that post each X wave's messages within minutes, most over the operation's own sound
    # (co-use of one sound within minutes is a known TikTok coordination trace); the organic TikTok
    # crowd posts diverse descriptions over many sounds, and one viral sound spreads over days
    # among many organic users (the hard negative for the sound object).
    tiktok: bool = True
    n_tiktok_operation_accounts: int = 30  # a slice of the crew, as in takedown reports' per-platform counts
    tiktok_wave_share: tuple[float, float] = (0.3, 0.6)  # share of them posting in each X wave
    tiktok_operation_sound_share: float = 0.75  # their videos over the operation's own sound
    n_tiktok_organic_accounts: int = 300
    n_tiktok_organic_videos: int = 1500
    n_tiktok_viral_sound_users: int = 120  # organic users posting one viral sound, spread over days
    # YouTube share (commentThreads responses): operation channels comment each chosen wave's
    # messages under one of a few videos within minutes, amid organic comments.
    youtube: bool = True
    n_youtube_operation_accounts: int = 20
    n_youtube_videos: int = 6
    youtube_wave_share: float = 0.25  # share of the X waves the YouTube crew joins
    n_youtube_organic_accounts: int = 400
    n_youtube_organic_comments: int = 1500  # 15% of them replies inside threads

    def __post_init__(self) -> None:
        end = self.start + dt.timedelta(days=self.days)
        problems = []
        if self.days < 21:
            problems.append("days must be at least 21 (the operation runs over weeks)")
        if not self.start < self.election_date - dt.timedelta(days=7) < end:
            problems.append("election_date - 7 days (the narrative switch) must fall inside the window")
        if not self.start <= self.fan_event_date < end:
            problems.append("fan_event_date must fall inside the window")
        if self.n_copypaste_accounts < 10 or not 5 <= self.n_amplifier_accounts <= 9000:
            problems.append("the operations need at least 10 copy-paste and 5-9,000 amplifier accounts")
        if self.n_organic_accounts < 2 * self.n_fan_accounts or self.n_organic_accounts < 50:
            problems.append("n_organic_accounts must be at least 50 and twice n_fan_accounts")
        if not 0 <= self.repost_share + self.reply_share < 0.9:
            problems.append("repost_share + reply_share must be below 0.9")
        if self.election_date - dt.timedelta(days=7) < self.start + dt.timedelta(days=14):
            problems.append(
                "the narrative switch (election_date - 7 days) must come at least 14 days after start: "
                "the run and the burst happen on working days before it"
            )
        h0, h1 = self.office_hours
        if not (0 <= h0 and h0 + 4 <= h1 <= 24):
            problems.append("office_hours must be (start, end) local hours at least 4 hours apart")
        if not 0 <= self.amplifier_spread_seconds < 10:
            problems.append("amplifier_spread_seconds must be 0-9 (co-reposts within seconds)")
        try:
            holidays.country_holidays(self.holiday_country)
        except NotImplementedError:
            problems.append(f"holiday_country {self.holiday_country!r} is not known to the holidays package")
        if self.burst_minutes < 1 or self.burst_posts < 1:
            problems.append("burst_posts and burst_minutes must be positive")
        if self.tiktok:
            lo, hi = self.tiktok_wave_share
            if self.n_tiktok_operation_accounts < 5 or not 0 < lo <= hi <= 1:
                problems.append("the TikTok crew needs at least 5 accounts and 0 < tiktok_wave_share[0] <= [1] <= 1")
            if not 0 <= self.tiktok_operation_sound_share <= 1:
                problems.append("tiktok_operation_sound_share must be within 0-1")
            if (
                self.n_tiktok_organic_accounts < 20
                or self.n_tiktok_organic_videos < self.n_tiktok_organic_accounts
                or not 0 <= self.n_tiktok_viral_sound_users <= self.n_tiktok_organic_accounts
            ):
                problems.append(
                    "n_tiktok_organic_accounts must be at least 20, at most n_tiktok_organic_videos, "
                    "and at least n_tiktok_viral_sound_users"
                )
        if self.youtube:
            if (
                self.n_youtube_operation_accounts < 5
                or self.n_youtube_videos < 1
                or not 0 < self.youtube_wave_share <= 1
            ):
                problems.append("the YouTube crew needs at least 5 accounts, 1 video and 0 < youtube_wave_share <= 1")
            if (
                self.n_youtube_organic_accounts < 20
                or self.n_youtube_organic_comments < self.n_youtube_organic_accounts
            ):
                problems.append("n_youtube_organic_accounts must be at least 20 and at most n_youtube_organic_comments")
        if problems:
            raise ValueError("ScenarioParams: " + "; ".join(problems))


@dataclass(frozen=True)
class Scenario:
    """What ``generate`` wrote: the input files, truth.json, and the watchlist."""

    files: list[Path]  # inputs to ingest (X v2 JSONL, Telegram result.json, TikTok and YouTube JSONL)
    truth_path: Path
    truth: dict
    watchlist_path: Path | None = None
    x_files: list[Path] = field(default_factory=list)
    telegram_files: list[Path] = field(default_factory=list)
    tiktok_files: list[Path] = field(default_factory=list)
    youtube_files: list[Path] = field(default_factory=list)
