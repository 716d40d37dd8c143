"""Operator rhythm: when a group posts, and the UTC offset of an office day.

The group's posts make an hour-of-week profile (half-hour bins, UTC). Two
templates are fitted at every UTC offset from -12 to +14 hours:

- office: weekdays 09:00-18:00 local are "in", everything else "out";
- evenings: weekdays 18:00-24:00 and weekend days 10:00-24:00 local are "in",
  the pattern of people posting in their free time.

Each template is a two-rate model (one rate per "in" bin, one per "out"
bin); its log-likelihood against the flat one-rate model gives a likelihood
ratio (chi-square, one degree of freedom). The office fit's best offset is
the estimate; its confidence is the share of bootstrap resamples over days
(days drawn with replacement, ``bootstrap`` times) whose best offset lies
within one hour of it.

The pattern is the template with the larger likelihood when it beats flat
(p below ``alpha`` and in/out rate ratio at least ``min_rate_ratio``);
``shift-work`` when neither does but the volume is enough to tell (posts
spread round the clock, as in a shift-staffed troll farm or a scheduler);
``undetermined`` below ``min_posts``.

A fitted offset says "office hours line up with UTC+3", nothing more: many
countries share an offset and offices can work any hours.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from scipy.stats import chi2

BINS_PER_DAY = 48  # half hours
WEEK = 7 * BINS_PER_DAY
PATTERNS = ("office-hours", "evenings", "shift-work", "undetermined")


@dataclass(frozen=True)
class RhythmParams:
    # Offsets in use on Earth: UTC-12 to UTC+14.
    min_offset_hours: int = -12
    max_offset_hours: int = 14
    # 60: whole hours. 30 adds the half-hour zones (India, Iran, parts of Australia).
    offset_step_minutes: int = 60
    office_start_hour: int = 9
    office_end_hour: int = 18
    # Below ~200 posts an hour-of-week profile (336 bins) is mostly noise.
    min_posts: int = 200
    alpha: float = 0.01
    # "In" bins must be at least 1.5x as busy as "out" bins to call a pattern.
    min_rate_ratio: float = 1.5
    bootstrap: int = 200
    seed: int = 0


@dataclass(frozen=True)
class RhythmFit:
    posts: int
    days: int
    utc_offset_hours: float | None  # office template's best offset
    confidence: float  # bootstrap share within +-1 h of the estimate
    offset_interval: tuple[float, float] | None  # 2.5 / 97.5 % bootstrap percentiles
    office_rate_ratio: float  # in-office rate / out-of-office rate at the best offset
    office_share: float  # share of posts in local office hours at the best offset
    office_lr: float  # likelihood ratio against flat
    office_p: float
    evening_offset_hours: float | None
    evening_rate_ratio: float
    evening_lr: float
    evening_p: float
    pattern: str
    offsets: tuple[float, ...]  # candidate offsets
    office_loglik: tuple[float, ...]  # log-likelihood gain over flat, per offset
    profile_utc: tuple[int, ...]  # 168 hourly counts, Monday 00 UTC first
    profile_local: tuple[int, ...]  # the same, shifted to the fitted offset
    test: str


def _templates(params: RhythmParams, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(offsets in hours, mask[offset, utc_bin]) for a template."""
    slot = np.arange(WEEK)
    dow, half = slot // BINS_PER_DAY, slot % BINS_PER_DAY
    if kind == "office":
        local = (dow < 5) & (half >= 2 * params.office_start_hour) & (half < 2 * params.office_end_hour)
    else:
        local = ((dow < 5) & (half >= 36)) | ((dow >= 5) & (half >= 20))
    step = params.offset_step_minutes // 30
    shifts = np.arange(2 * params.min_offset_hours, 2 * params.max_offset_hours + 1, step)
    # local bin = utc bin + shift
    masks = np.stack([np.roll(local, -s) for s in shifts])
    return shifts / 2.0, masks


def _loglik_gain(profiles: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two-rate minus flat log-likelihood, and rate ratio, for profiles[b, bin] x masks[o, bin].
    Fits where "in" is not busier than "out" gain nothing."""
    n = profiles.sum(axis=1, keepdims=True).astype(float)
    k_in = masks.sum(axis=1)[None, :].astype(float)
    k_out = WEEK - k_in
    n_in = profiles @ masks.T.astype(float)
    n_out = n - n_in
    with np.errstate(divide="ignore", invalid="ignore"):
        r_in, r_out = n_in / k_in, n_out / k_out
        r_flat = n / WEEK
        ll = np.where(n_in > 0, n_in * np.log(r_in / r_flat), 0.0) + np.where(
            n_out > 0, n_out * np.log(r_out / r_flat), 0.0
        )
        ratio = np.where(r_out > 0, r_in / r_out, np.inf)
    ll = np.where(r_in > r_out, ll, 0.0)
    return ll, ratio


def operator_rhythm(
    created_at: pa.Array | pa.ChunkedArray | np.ndarray, params: RhythmParams = RhythmParams()
) -> RhythmFit:
    """Hour-of-week profile, office-hours UTC offset with bootstrap confidence, and pattern."""
    t = _minutes(created_at)
    day = t // 1440
    # 1970-01-01 was a Thursday: Monday = 0
    dow = (day + 3) % 7
    half = (t % 1440) // 30
    profile = np.bincount(dow * BINS_PER_DAY + half, minlength=WEEK)
    hourly = profile.reshape(168, 2).sum(axis=1)
    n = int(t.size)
    offsets, office = _templates(params, "office")
    _, evening = _templates(params, "evening")
    test = (
        f"two-rate template (office: weekdays {params.office_start_hour:02d}-{params.office_end_hour:02d} local; "
        f"evenings: weekdays 18-24, weekends 10-24) vs flat, likelihood ratio chi2(1), alpha {params.alpha:g}, "
        f"rate ratio >= {params.min_rate_ratio:g}; offsets {params.min_offset_hours}..+{params.max_offset_hours} h "
        f"step {params.offset_step_minutes} min; confidence = bootstrap over days ({params.bootstrap}) within +-1 h"
    )
    days_n = int(np.unique(day).size) if n else 0
    if n == 0:
        return RhythmFit(
            0,
            0,
            None,
            0.0,
            None,
            0.0,
            0.0,
            0.0,
            1.0,
            None,
            0.0,
            0.0,
            1.0,
            "undetermined",
            tuple(offsets.tolist()),
            tuple([0.0] * len(offsets)),
            tuple(hourly.tolist()),
            tuple(hourly.tolist()),
            test,
        )
    ll_o, ratio_o = _loglik_gain(profile[None, :], office)
    ll_e, ratio_e = _loglik_gain(profile[None, :], evening)
    io, ie = int(np.argmax(ll_o[0])), int(np.argmax(ll_e[0]))
    lr_o, lr_e = 2 * ll_o[0, io], 2 * ll_e[0, ie]
    p_o, p_e = float(chi2.sf(lr_o, 1)), float(chi2.sf(lr_e, 1))
    best = float(offsets[io])

    # bootstrap over days: each day's half-hour counts placed at its weekday
    days, day_idx = np.unique(day, return_inverse=True)
    per_day = np.zeros((days.size, BINS_PER_DAY))
    np.add.at(per_day, (day_idx, half), 1)
    day_dow = (days + 3) % 7
    placed = np.zeros((days.size, WEEK))
    for d in range(7):  # seven slices, not a loop over posts
        rows = day_dow == d
        placed[rows, d * BINS_PER_DAY : (d + 1) * BINS_PER_DAY] = per_day[rows]
    rng = np.random.default_rng(params.seed)
    weights = rng.multinomial(days.size, np.full(days.size, 1.0 / days.size), size=params.bootstrap)
    boot_ll, _ = _loglik_gain(weights @ placed, office)
    boot = offsets[np.argmax(boot_ll, axis=1)]
    confidence = float(np.mean(np.abs(boot - best) <= 1.0))
    interval = (float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5)))

    office_ok = p_o < params.alpha and ratio_o[0, io] >= params.min_rate_ratio
    evening_ok = p_e < params.alpha and ratio_e[0, ie] >= params.min_rate_ratio
    if n < params.min_posts:
        pattern = "undetermined"
    elif office_ok and (not evening_ok or lr_o >= lr_e):
        pattern = "office-hours"
    elif evening_ok:
        pattern = "evenings"
    else:
        pattern = "shift-work"
    shift_hours = int(round(best))
    local = np.roll(hourly, shift_hours)
    in_office = float((profile * office[io]).sum() / n)
    return RhythmFit(
        posts=n,
        days=days_n,
        utc_offset_hours=best,
        confidence=confidence,
        offset_interval=interval,
        office_rate_ratio=float(ratio_o[0, io]),
        office_share=in_office,
        office_lr=float(lr_o),
        office_p=p_o,
        evening_offset_hours=float(offsets[ie]),
        evening_rate_ratio=float(ratio_e[0, ie]),
        evening_lr=float(lr_e),
        evening_p=p_e,
        pattern=pattern,
        offsets=tuple(offsets.tolist()),
        office_loglik=tuple(ll_o[0].tolist()),
        profile_utc=tuple(int(x) for x in hourly),
        profile_local=tuple(int(x) for x in local),
        test=test,
    )


def _minutes(created_at: pa.Array | pa.ChunkedArray | np.ndarray) -> np.ndarray:
    """Minutes since the epoch (int64), nulls dropped."""
    if isinstance(created_at, (pa.Array, pa.ChunkedArray)):
        arr = created_at.drop_null().cast(pa.timestamp("us")).to_numpy()
    else:
        arr = np.asarray(created_at)
        if arr.dtype.kind == "M":
            arr = arr[~np.isnat(arr)]
    return np.asarray(arr, dtype="datetime64[m]").astype(np.int64)
