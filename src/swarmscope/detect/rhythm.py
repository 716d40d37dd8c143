"""Operator rhythm: when a group posts, the UTC window of its working day, and what that says about the offset.

The group's posts make an hour-of-week profile (half-hour bins, UTC). Every
template below is a two-rate model (one rate for its "in" bins, one for the
"out" bins); its log-likelihood gain over the flat one-rate model, doubled,
is a likelihood ratio (chi-square, one degree of freedom).

- office (the reference): weekdays 09:00-18:00 local, fitted at every UTC
  offset from -12 to +14 hours. Its best offset is ``utc_offset_hours``:
  the offset *if they work 9-18 local*.
- evenings: weekdays 18:00-24:00 and weekend days 10:00-24:00 local, people
  posting in their free time.
- the office family: weekdays, local start 07..11 h, length 8..11 h
  ("08-17", "10-20", ...), at every offset. A template at local start s and
  offset o covers the UTC window starting at s - o, so 09-18 at UTC+1,
  08-17 at UTC+0 and 10-19 at UTC+2 are one and the same mask: the data pin
  down the UTC working window, never the offset on their own. Identical
  masks are fitted once, as one *window* that stands for all its
  (template, offset) pairs.

Uncertainty. Days are resampled with replacement (``bootstrap`` times); each
resample's profile is refitted (matrix products only). Counts are more
variable than Poisson when daily volume swings, so likelihood differences
are scaled by a dispersion factor ``phi``: for every weekday x half-hour
cell, the between-day variance of its total over the Poisson variance (its
mean), the median of these ratios weighted by the cell's posts (robust to a
single burst), at least 1. A window is *consistent* with the data when it is
not clearly worse than the best: ``2 * (loglik_best - loglik) / phi`` below
the chi-square(1) quantile at ``consistent_level`` (3.84 at 95 %), or it
fits best in at least ``consistent_min_share`` of the resamples. The second
rule matters: two windows are not nested models, and when both miss the
true shape their difference wanders by about sqrt(posts), more than
chi-square(1) allows; the bootstrap sees that, the threshold does not.

Confidences. A resample counts only if its best window beats flat as a
pattern must (p below ``alpha``, rate ratio at least ``min_rate_ratio``);
otherwise it is a "no window" resample (``flat_share``) that favours every
offset alike. ``window_confidence`` is the share of resamples whose best
window starts within +-1 h of the fitted one (same weekdays): what the data
can pin. ``confidence`` is the share whose best window stands for offsets
within +-1 h of ``utc_offset_hours``, a window's weight split evenly over
the offsets it stands for (a flat prior on the local start hour 7..11), a
"no window" resample's over all offsets: it is high only when windows at
other offsets are clearly worse. With start hours 7..11 allowed, even
perfect data give 3/5: the window stands for five offsets, three of them
within +-1 h.

The pattern is the 09-18 or evenings template, whichever fits better when
it beats flat (p below ``alpha`` and in/out rate ratio at least
``min_rate_ratio``); ``shift-work`` when neither does but the volume is
enough to tell (posts spread round the clock, as in a shift-staffed troll
farm or a scheduler); ``undetermined`` below ``min_posts``.

A fitted offset says "office hours line up with UTC+3", nothing more: many
countries share an offset and offices can work any hours.

Why this module is long: the reference fit, the template family, the day
bootstrap and the consistent set share one profile, one set of masks and
one set of resamples; split apart, each piece would recompute or pass
around the same arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
from scipy.stats import chi2

BINS_PER_DAY = 48  # half hours
WEEK = 7 * BINS_PER_DAY
PATTERNS = ("office-hours", "evenings", "shift-work", "undetermined")
# Day index from the first day by bincount while the span is at most this long, else np.unique.
_DENSE_DAYS = 50_000


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
    # The office family: plausible local start hours and day lengths (weekdays).
    family_start_hours: tuple[int, ...] = (7, 8, 9, 10, 11)
    family_lengths: tuple[int, ...] = (8, 9, 10, 11)
    # Consistent: scaled deviance within the chi2(1) quantile at this level of the best ...
    consistent_level: float = 0.95
    # ... or best in at least this share of the bootstrap resamples.
    consistent_min_share: float = 0.05
    # Rows of `consistent` kept (best first); the offsets and counts cover them all.
    max_consistent_rows: int = 10

    def __post_init__(self) -> None:
        if not self.family_start_hours or not self.family_lengths:
            raise ValueError("family_start_hours and family_lengths must not be empty")
        if any(not 0 <= s <= 23 for s in self.family_start_hours) or any(not 1 <= n <= 24 for n in self.family_lengths):
            raise ValueError("family_start_hours must be 0..23 and family_lengths 1..24")
        if not 0 < self.consistent_level < 1 or not 0 < self.consistent_min_share <= 1:
            raise ValueError("consistent_level must be in (0, 1) and consistent_min_share in (0, 1]")
        if self.bootstrap < 1 or self.offset_step_minutes not in (30, 60):
            raise ValueError("bootstrap must be >= 1 and offset_step_minutes 30 or 60")


@dataclass(frozen=True)
class RhythmAlternative:
    """One UTC working window of the office family, with every (template, offset) it stands for."""

    window_utc: tuple[float, float]  # start, end hour UTC (end < start: past midnight)
    days: str  # UTC days the window starts on: "Mon-Fri", or "Sun-Thu" when it starts the evening before
    templates: tuple[str, ...]  # local templates, "09-18" ...
    utc_offsets: tuple[float, ...]  # the offset of each template
    delta: float  # 2 * (loglik best - loglik) / dispersion; 0 for the best
    bootstrap_share: float  # share of resamples in which this window fits best


@dataclass(frozen=True)
class RhythmFit:
    posts: int
    days: int
    utc_offset_hours: float | None  # the 09-18 template's best offset ("if they work 9-18 local")
    confidence: float  # bootstrap share whose best family window means an offset within +-1 h of it
    offset_interval: tuple[float, float] | None  # 2.5 / 97.5 % bootstrap percentiles, given a 09-18 day
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
    window_utc: tuple[float, float] | None  # best family window, start and end hour UTC
    window_start_interval: tuple[float, float] | None  # 2.5 / 97.5 % bootstrap percentiles, hour UTC
    window_end_interval: tuple[float, float] | None
    window_confidence: float  # bootstrap share whose best window starts within +-1 h of window_utc
    consistent: tuple[RhythmAlternative, ...]  # windows not clearly worse than the best, best first
    consistent_windows: int  # how many windows are consistent (rows beyond max_consistent_rows dropped)
    window_beats_flat: bool  # the best window beats flat (p < alpha, rate ratio >= min_rate_ratio)
    flat_share: float  # share of resamples in which no window beats flat
    offsets_consistent: tuple[float, ...]  # every offset some consistent (template, offset) pair claims
    offset_range: tuple[float, float] | None  # min, max of offsets_consistent
    dispersion: float  # phi: between-day / Poisson variance of the cell counts, >= 1
    threshold: float  # chi2(1) quantile the scaled deviance difference is held to
    summary: str  # one sentence for a reader


def _templates(params: RhythmParams, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """(offsets in hours, mask[offset, utc_bin]) for a template."""
    slot = np.arange(WEEK)
    dow, half = slot // BINS_PER_DAY, slot % BINS_PER_DAY
    if kind == "office":
        local = (dow < 5) & (half >= 2 * params.office_start_hour) & (half < 2 * params.office_end_hour)
    else:
        local = ((dow < 5) & (half >= 36)) | ((dow >= 5) & (half >= 20))
    shifts = _shifts(params)
    # local bin = utc bin + shift
    masks = np.stack([np.roll(local, -s) for s in shifts])
    return shifts / 2.0, masks


def _shifts(params: RhythmParams) -> np.ndarray:
    """Candidate offsets in half hours."""
    step = params.offset_step_minutes // 30
    return np.arange(2 * params.min_offset_hours, 2 * params.max_offset_hours + 1, step)


@dataclass(frozen=True)
class _Family:
    """The office family, one row per distinct UTC mask (window), and the templates each stands for."""

    start2: np.ndarray  # window start, half hours from Monday 00 UTC (negative: the evening before)
    length: np.ndarray  # window length, hours
    masks: np.ndarray  # [window, utc_bin]
    window: np.ndarray  # per template: its window
    start: np.ndarray  # per template: local start hour
    offset: np.ndarray  # per template: UTC offset, hours
    count: np.ndarray  # per window: how many templates


def _family(params: RhythmParams) -> _Family:
    return _family_for(
        params.min_offset_hours,
        params.max_offset_hours,
        params.offset_step_minutes,
        tuple(sorted(set(params.family_start_hours))),
        tuple(sorted(set(params.family_lengths))),
    )


@lru_cache(maxsize=16)
def _family_for(lo: int, hi: int, step: int, starts: tuple[int, ...], lengths: tuple[int, ...]) -> _Family:
    """A template at local start s and offset o covers UTC from s - o, so its mask depends on s - o only."""
    shifts = np.arange(2 * lo, 2 * hi + 1, step // 30)
    s_hour, n_hours, shift = (a.ravel() for a in np.meshgrid(starts, lengths, shifts, indexing="ij"))
    keys, window = np.unique(np.stack([2 * s_hour - shift, n_hours], axis=1), axis=0, return_inverse=True)
    start2, length = keys[:, 0], keys[:, 1]
    j = (np.arange(WEEK)[None, :] - start2[:, None]) % WEEK  # bin index counted from the window's first start
    masks = (j // BINS_PER_DAY < 5) & (j % BINS_PER_DAY < 2 * length[:, None])
    window = window.ravel()
    fam = _Family(start2, length, masks, window, s_hour, shift / 2.0, np.bincount(window, minlength=len(keys)))
    for a in (fam.start2, fam.length, fam.masks, fam.window, fam.start, fam.offset, fam.count):
        a.flags.writeable = False  # shared through the cache
    return fam


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


def _best_share(ll: np.ndarray) -> np.ndarray:
    """Per row, 1 on the best column, split evenly over exact ties."""
    top = ll.max(axis=1, keepdims=True)
    best = ll >= top - 1e-9 * np.maximum(1.0, np.abs(top))
    return best / best.sum(axis=1, keepdims=True)


def _stands_out(gain: np.ndarray, ratio: np.ndarray, params: RhythmParams) -> np.ndarray:
    """A window beats flat as a pattern must: p below alpha and in/out rate ratio at least min_rate_ratio."""
    return (chi2.sf(2.0 * gain, 1) < params.alpha) & (ratio >= params.min_rate_ratio)


def _dispersion(per_day: np.ndarray, day_dow: np.ndarray) -> float:
    """phi: between-day variance of each weekday x half-hour total over its Poisson variance (the total),
    median over cells weighted by posts, at least 1."""
    ratios, weights = [], []
    for d in range(7):  # seven slices, not a loop over posts
        x = per_day[day_dow == d]
        m = x.shape[0]
        if m < 2:
            continue
        total = x.sum(axis=0)
        var = m / (m - 1) * ((x * x).sum(axis=0) - total * total / m)
        keep = total > 0
        ratios.append(var[keep] / total[keep])
        weights.append(total[keep])
    if not ratios:
        return 1.0
    r, w = np.concatenate(ratios), np.concatenate(weights)
    order = np.argsort(r)
    cum = np.cumsum(w[order])
    median = float(r[order][np.searchsorted(cum, cum[-1] / 2.0)])
    return max(1.0, median)


def _weighted_quantiles(values: np.ndarray, weights: np.ndarray, qs: tuple[float, ...]) -> list[float]:
    order = np.argsort(values, kind="stable")
    v, cum = values[order], np.cumsum(weights[order])
    cum = cum / cum[-1]
    return [float(v[min(np.searchsorted(cum, q - 1e-12), v.size - 1)]) for q in qs]


def _hour(h: float) -> str:
    h = h % 24
    return f"{int(h):02d}" if h == int(h) else f"{int(h):02d}:{int(round(60 * (h - int(h)))):02d}"


def _utc(o: float) -> str:
    return f"UTC{o:+g}"


def operator_rhythm(
    created_at: pa.Array | pa.ChunkedArray | np.ndarray, params: RhythmParams = RhythmParams()
) -> RhythmFit:
    """Hour-of-week profile, office-hours UTC window and offset with honest bootstrap confidence, and pattern."""
    t = _minutes(created_at)
    n = int(t.size)
    offsets, office = _templates(params, "office")
    _, evening = _templates(params, "evening")
    family = _family(params)
    start2, length, fam = family.start2, family.length, family.masks
    threshold = float(chi2.ppf(params.consistent_level, 1))
    starts = sorted(set(params.family_start_hours))
    test = (
        f"two-rate template vs flat, likelihood ratio chi2(1), alpha {params.alpha:g}, rate ratio >= "
        f"{params.min_rate_ratio:g} (office: weekdays {params.office_start_hour:02d}-{params.office_end_hour:02d} "
        f"local; evenings: weekdays 18-24, weekends 10-24); offsets {params.min_offset_hours}..+"
        f"{params.max_offset_hours} h step {params.offset_step_minutes} min; office family: weekdays, local start "
        f"{starts[0]}..{starts[-1]} h, length {min(params.family_lengths)}..{max(params.family_lengths)} h, "
        f"identical UTC masks fitted once; consistent: 2*delta loglik / phi < {threshold:.2f} "
        f"(chi2(1) {params.consistent_level:.0%}) or best in >= {params.consistent_min_share:.0%} of the bootstrap; "
        f"phi = post-weighted median over weekday x half-hour cells of between-day / Poisson variance, >= 1; "
        f"bootstrap over days ({params.bootstrap}): confidence = share whose best family window means an offset "
        f"within +-1 h (ties split over offsets), window confidence = share whose best window starts within +-1 h"
    )
    if n == 0:
        hourly = np.zeros(168, dtype=np.int64)
        return RhythmFit(
            posts=0,
            days=0,
            utc_offset_hours=None,
            confidence=0.0,
            offset_interval=None,
            office_rate_ratio=0.0,
            office_share=0.0,
            office_lr=0.0,
            office_p=1.0,
            evening_offset_hours=None,
            evening_rate_ratio=0.0,
            evening_lr=0.0,
            evening_p=1.0,
            pattern="undetermined",
            offsets=tuple(offsets.tolist()),
            office_loglik=tuple([0.0] * len(offsets)),
            profile_utc=tuple(hourly.tolist()),
            profile_local=tuple(hourly.tolist()),
            test=test,
            window_utc=None,
            window_start_interval=None,
            window_end_interval=None,
            window_confidence=0.0,
            consistent=(),
            consistent_windows=0,
            window_beats_flat=False,
            flat_share=1.0,
            offsets_consistent=(),
            offset_range=None,
            dispersion=1.0,
            threshold=threshold,
            summary="no posts",
        )

    # per-day half-hour counts, days with posts only
    day = t // 1440
    half = (t % 1440) // 30
    d0, d1 = int(day.min()), int(day.max())
    if d1 - d0 < _DENSE_DAYS:
        counts = np.bincount((day - d0) * BINS_PER_DAY + half, minlength=(d1 - d0 + 1) * BINS_PER_DAY)
        counts = counts.reshape(d1 - d0 + 1, BINS_PER_DAY)
        active = np.flatnonzero(counts.sum(axis=1))
        per_day, days = counts[active].astype(float), active + d0
    else:
        days, day_idx = np.unique(day, return_inverse=True)
        per_day = np.bincount(day_idx * BINS_PER_DAY + half, minlength=days.size * BINS_PER_DAY)
        per_day = per_day.reshape(days.size, BINS_PER_DAY).astype(float)
    # 1970-01-01 was a Thursday: Monday = 0
    day_dow = (days + 3) % 7
    profile = np.zeros(WEEK)
    for d in range(7):  # seven slices, not a loop over posts
        profile[d * BINS_PER_DAY : (d + 1) * BINS_PER_DAY] = per_day[day_dow == d].sum(axis=0)
    hourly = profile.reshape(168, 2).sum(axis=1).astype(np.int64)

    ll_o, ratio_o = _loglik_gain(profile[None, :], office)
    ll_e, ratio_e = _loglik_gain(profile[None, :], evening)
    ll_f, ratio_f = _loglik_gain(profile[None, :], fam)
    io, ie = int(np.argmax(ll_o[0])), int(np.argmax(ll_e[0]))
    lr_o, lr_e = 2 * ll_o[0, io], 2 * ll_e[0, ie]
    p_o, p_e = float(chi2.sf(lr_o, 1)), float(chi2.sf(lr_e, 1))
    best = float(offsets[io])

    # bootstrap over days: each weekday's resampled days summed into its slice of the week
    rng = np.random.default_rng(params.seed)
    draws = rng.integers(0, days.size, (params.bootstrap, days.size))  # days drawn with replacement
    draws += days.size * np.arange(params.bootstrap)[:, None]
    weights = np.bincount(draws.ravel(), minlength=params.bootstrap * days.size).reshape(params.bootstrap, -1)
    weights = weights.astype(float)
    boot_profiles = np.zeros((params.bootstrap, WEEK))
    for d in range(7):
        rows = day_dow == d
        boot_profiles[:, d * BINS_PER_DAY : (d + 1) * BINS_PER_DAY] = weights[:, rows] @ per_day[rows]
    boot_ll, _ = _loglik_gain(boot_profiles, office)
    boot = offsets[np.argmax(boot_ll, axis=1)]
    interval = (float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5)))
    boot_f, boot_ratio = _loglik_gain(boot_profiles, fam)
    top = np.argmax(boot_f, axis=1)
    pick = np.arange(params.bootstrap)
    stands_out = _stands_out(boot_f[pick, top], boot_ratio[pick, top], params)
    share = (_best_share(boot_f) * stands_out[:, None]).mean(axis=0)  # per window
    flat_share = 1.0 - float(stands_out.mean())  # resamples in which no window beats flat

    # the family: best window, scaled deviance differences, consistent set
    phi = _dispersion(per_day, day_dow)
    delta = 2.0 * (ll_f[0].max() - ll_f[0]) / phi
    tied = np.flatnonzero(_best_share(ll_f)[0])
    iw = int(tied[np.argmax(share[tied])])  # the best window; among exact ties the bootstrap's favourite
    consistent = (delta < threshold) | (share >= params.consistent_min_share)
    consistent[iw] = True
    near = np.abs(family.offset - best) <= 1.0
    near_offset = np.bincount(family.window, weights=near, minlength=fam.shape[0]) / family.count
    near_all = float(np.mean(np.abs(offsets - best) <= 1.0))  # "no window": every offset alike
    confidence = float(np.clip(share @ near_offset + flat_share * near_all, 0.0, 1.0))
    start_h = start2 / 2.0
    window_confidence = float(np.clip(share[np.abs(start_h - start_h[iw]) <= 1.0].sum(), 0.0, 1.0))
    if share.sum() > 0:
        lo_s, hi_s = _weighted_quantiles(start_h, share, (0.025, 0.975))
        lo_e, hi_e = _weighted_quantiles(start_h + length, share, (0.025, 0.975))
        start_interval, end_interval = (lo_s % 24, hi_s % 24), (lo_e % 24, hi_e % 24)
    else:
        start_interval = end_interval = None
    window_ok = bool(_stands_out(ll_f[0, iw : iw + 1], ratio_f[0, iw : iw + 1], params)[0])

    order = np.lexsort((-share, delta))
    order = order[consistent[order]]
    rows = []
    for k in order[: params.max_consistent_rows].tolist():
        mine = np.flatnonzero(family.window == k)
        mine = mine[np.lexsort((family.offset[mine], np.abs(family.offset[mine] - best)))]
        pairs = [(int(family.start[i]), int(length[k]), float(family.offset[i])) for i in mine]
        rows.append(
            RhythmAlternative(
                window_utc=(float(start_h[k] % 24), float((start_h[k] + length[k]) % 24)),
                days="Mon-Fri" if start_h[k] >= 0 else "Sun-Thu",
                templates=tuple(f"{s:02d}-{s + n:02d}" for s, n, _ in pairs),
                utc_offsets=tuple(o for _, _, o in pairs),
                delta=float(delta[k]),
                bootstrap_share=float(share[k]),
            )
        )
    if window_ok:
        offs = np.unique(family.offset[np.isin(family.window, order)]).tolist()
    else:  # no window beats flat: nothing ties the group to an offset
        offs = offsets.tolist()

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
    fit = dict(
        posts=n,
        days=int(days.size),
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
        window_utc=rows[0].window_utc,
        window_start_interval=start_interval,
        window_end_interval=end_interval,
        window_confidence=window_confidence,
        consistent=tuple(rows),
        consistent_windows=int(consistent.sum()),
        window_beats_flat=window_ok,
        flat_share=flat_share,
        offsets_consistent=tuple(offs),
        offset_range=(offs[0], offs[-1]),
        dispersion=phi,
        threshold=threshold,
    )
    return RhythmFit(**fit, summary=_summary(fit, params))


def _summary(fit: dict, params: RhythmParams) -> str:
    """The sentence a reader sees: the UTC window, the (template, offset) pairs consistent with it, both confidences."""
    n, pattern, rows = fit["posts"], fit["pattern"], fit["consistent"]
    lo, hi = fit["offset_range"]
    conf = f"offset confidence {fit['confidence']:.2f}, window confidence {fit['window_confidence']:.2f}"
    if pattern == "undetermined":
        return f"activity pattern undetermined: {n} posts, fewer than {params.min_posts}"
    if pattern != "office-hours":
        if pattern == "evenings":
            return f"activity pattern evenings: posting in free time, fits best at {_utc(fit['evening_offset_hours'])}"
        office = "no office window beats flat" if not fit["window_beats_flat"] else "no clear office pattern"
        return (
            f"activity pattern shift-work: posts spread round the clock; {office}, "
            f"offsets {_utc(lo)}..{hi:+g} consistent; {conf}"
        )
    best = fit["utc_offset_hours"]
    pairs = [(t, o) for r in rows for t, o in zip(r.templates, r.utc_offsets)]
    ref = f"{params.office_start_hour:02d}-{params.office_end_hour:02d}"
    lead = next(((t, o) for t, o in pairs if t == ref and o == best), pairs[0])
    others = [p for p in pairs if p != lead]
    w = rows[0]
    days = "" if w.days == "Mon-Fri" else f" {w.days}"
    text = f"office hours {_hour(w.window_utc[0])}-{_hour(w.window_utc[1])} UTC{days}: {lead[0]} at {_utc(lead[1])}"
    if others:
        more = len(others) - 2 + (fit["consistent_windows"] > len(rows))
        text += ", also consistent with " + ", ".join(f"{t} at {_utc(o)}" for t, o in others[:2])
        text += f" and more (offsets {_utc(lo)}..{hi:+g})" if more > 0 else ""
    return f"{text}; {conf}"


def _minutes(created_at: pa.Array | pa.ChunkedArray | np.ndarray) -> np.ndarray:
    """Minutes since the epoch (int64), nulls dropped."""
    if isinstance(created_at, (pa.Array, pa.ChunkedArray)):
        arr = created_at.drop_null().cast(pa.timestamp("us")).to_numpy()
    else:
        arr = np.asarray(created_at)
        if arr.dtype.kind == "M":
            arr = arr[~np.isnat(arr)]
    return np.asarray(arr, dtype="datetime64[m]").astype(np.int64)
