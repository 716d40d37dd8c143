"""Holiday fingerprint: which country's calendar does the group's activity follow?

For every country the ``holidays`` package supports, the group's daily post
counts (local days at the given UTC offset) are compared on

- that country's public holidays falling on its working weekdays, against
  its ordinary working days (a drop: the office is closed), and
- its transferred working days (weekend days the government makes working
  days, ``HolidayBase.weekend_workdays``, e.g. Russia, China, Belarus),
  against its ordinary weekend days (a rise: the office is open).

Statistic per country: log((holiday mean + 0.5) / (working-day mean + 0.5)),
negated, plus, where transferred days exist, log((transferred mean + 0.5) /
(weekend mean + 0.5)); each standardised by its permutation distribution
and summed (Stouffer). The first and last local days are left out (a
collection window cuts them). Days inside the span with no posts count as
zero: a collection gap looks like a closed office, so check coverage. The
null is a permutation of daily counts among days of the same weekday
(Mondays among Mondays...), so the weekly cycle and each country's weekend
are kept and only the calendar labels are tested.
The same permutations serve every country, which gives a family-wise
p-value as well: how often the best of all countries under the null does as
well as this country (max-statistic, Westfall & Young 1993).

The top of the ranking is a hint, never an attribution: countries share
holidays, operators can follow a client's calendar, and a drop on a holiday
can have other causes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import holidays as holidays_pkg
import numpy as np
import pyarrow as pa

from .rhythm import _minutes

NOTE = (
    "A ranking of calendars the activity follows: a hint for the analyst, never an attribution. "
    "Countries share holidays, and operators can keep a client's or another country's calendar."
)

HOLIDAYS = pa.schema(
    [
        pa.field("rank", pa.int64()),
        pa.field("country", pa.string()),  # ISO 3166-1 alpha-2
        pa.field("country_name", pa.string()),
        pa.field("holidays", pa.int64()),  # public holidays on working weekdays in the span
        pa.field("holiday_mean", pa.float64()),  # posts per holiday
        pa.field("workday_mean", pa.float64()),  # posts per ordinary working day
        pa.field("holiday_ratio", pa.float64()),
        pa.field("transferred", pa.int64()),  # transferred working days in the span
        pa.field("transferred_mean", pa.float64()),
        pa.field("weekend_mean", pa.float64()),
        pa.field("score", pa.float64()),  # standardised; larger = follows the calendar more
        pa.field("p_value", pa.float64()),  # this country alone, permutation
        pa.field("p_family", pa.float64()),  # against the best of all countries, permutation
        pa.field("holiday_dates", pa.list_(pa.date32())),
        pa.field("transferred_dates", pa.list_(pa.date32())),
        pa.field("test", pa.string()),
    ]
)


@dataclass(frozen=True)
class HolidayParams:
    # Public holidays only: bank, optional or religious-group days are not
    # days off for an office.
    categories: tuple[str, ...] = ("public",)
    # 1,999 permutations: p-values down to 0.0005.
    permutations: int = 1999
    seed: int = 0
    # Countries with fewer weekday holidays in the span are not ranked: one
    # day off says little.
    min_holidays: int = 3
    # Add-half smoothing of daily means, so quiet groups do not give 0/0.
    smoothing: float = 0.5
    countries: tuple[str, ...] | None = None  # None = every supported country


@dataclass(frozen=True)
class HolidayFingerprint:
    ranking: pa.Table  # HOLIDAYS, best first
    utc_offset_hours: float
    first_day: dt.date | None
    last_day: dt.date | None
    days: int
    note: str = NOTE


@lru_cache(maxsize=4)
def _calendars(codes: tuple[str, ...], years: tuple[int, ...], categories: tuple[str, ...]) -> list:
    names = {v[1]: v[0] for v in holidays_pkg.registry.COUNTRIES.values()}
    out = []
    for code in codes:
        try:
            cal = holidays_pkg.country_holidays(code, years=years, categories=categories)
        except (NotImplementedError, ValueError):  # category not offered by this country
            try:
                cal = holidays_pkg.country_holidays(code, years=years)
            except (NotImplementedError, ValueError):
                continue
        out.append((code, _readable(names.get(code, code)), cal))
    return out


def _readable(class_name: str) -> str:
    """'TimorLeste' -> 'Timor Leste': the package names countries by their class names."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)


def holiday_fingerprint(
    created_at: pa.Array | pa.ChunkedArray | np.ndarray,
    utc_offset_hours: float,
    params: HolidayParams = HolidayParams(),
) -> HolidayFingerprint:
    """Rank countries by how the group's daily activity follows their holidays."""
    t = _minutes(created_at) + int(round(utc_offset_hours * 60))
    if t.size == 0:
        return HolidayFingerprint(HOLIDAYS.empty_table(), utc_offset_hours, None, None, 0)
    day = t // 1440
    # The first and last local days are cut by the collection window; leave them out.
    d0, d1 = int(day.min()) + 1, int(day.max()) - 1
    if d1 < d0:
        return HolidayFingerprint(HOLIDAYS.empty_table(), utc_offset_hours, None, None, 0)
    day = day[(day >= d0) & (day <= d1)]
    counts = np.bincount(day - d0, minlength=d1 - d0 + 1).astype(float)
    n_days = counts.size
    epoch = dt.date(1970, 1, 1)
    dates = [epoch + dt.timedelta(days=d0 + i) for i in range(n_days)]
    weekday = np.array([d.weekday() for d in dates])
    years = tuple(range(dates[0].year, dates[-1].year + 1))
    codes = params.countries or tuple(sorted(holidays_pkg.list_supported_countries(include_aliases=False)))
    index = {d: i for i, d in enumerate(dates)}

    rows, hol_m, work_m, tr_m, wkend_m = [], [], [], [], []
    for code, name, cal in _calendars(tuple(codes), years, tuple(params.categories)):
        weekend = set(cal.weekend)
        is_weekend = np.isin(weekday, list(weekend))
        hol = np.zeros(n_days, bool)
        for d in cal:  # the country's holidays in these years (tens per year)
            i = index.get(d)
            if i is not None and not is_weekend[i]:
                hol[i] = True
        tr = np.zeros(n_days, bool)
        for d in cal.weekend_workdays:
            i = index.get(d)
            if i is not None and is_weekend[i]:
                tr[i] = True
        work = ~is_weekend & ~hol
        wkend = is_weekend & ~tr & ~np.isin(np.arange(n_days), [index[d] for d in cal if d in index])
        if hol.sum() < params.min_holidays or work.sum() == 0:
            continue
        rows.append((code, name, hol, tr))
        hol_m.append(hol / hol.sum())
        work_m.append(work / work.sum())
        tr_m.append(tr / tr.sum() if tr.any() else tr * 0.0)
        wkend_m.append(wkend / wkend.sum() if wkend.any() else wkend * 0.0)
    test = (
        f"local days at UTC{utc_offset_hours:+g}; log mean ratio holiday vs working day (and transferred "
        f"working day vs weekend), +{params.smoothing:g} smoothing, standardised over {params.permutations} "
        f"permutations of daily counts within weekday; p_family = max over countries"
    )
    if not rows:
        return HolidayFingerprint(HOLIDAYS.empty_table(), utc_offset_hours, dates[0], dates[-1], n_days)
    H, W, T, E = (np.array(m) for m in (hol_m, work_m, tr_m, wkend_m))
    has_tr = np.array([r[3].any() for r in rows])

    rng = np.random.default_rng(params.seed)
    perms = _within_weekday_permutations(weekday, params.permutations, rng)
    xs = np.vstack([counts[None, :], counts[perms]])  # row 0 = observed
    s = params.smoothing
    drop = -np.log((xs @ H.T + s) / (xs @ W.T + s))  # (1 + P, countries)
    rise = np.log((xs @ T.T + s) / (xs @ E.T + s))
    score = _standardise(drop)
    score = np.where(has_tr[None, :], (score + _standardise(rise) * has_tr[None, :]) / np.sqrt(2), score)
    obs, null = score[0], score[1:]
    p = (1 + (null >= obs[None, :]).sum(axis=0)) / (1 + params.permutations)
    best_null = null.max(axis=1)
    p_family = (1 + (best_null[:, None] >= obs[None, :]).sum(axis=0)) / (1 + params.permutations)

    order = np.lexsort((np.array([r[0] for r in rows]), -obs))
    hm, wm, tm, em = (counts @ m.T for m in (H, W, T, E))
    out = pa.table(
        {
            "rank": pa.array(np.arange(1, len(rows) + 1), pa.int64()),
            "country": [rows[i][0] for i in order],
            "country_name": [rows[i][1] for i in order],
            "holidays": pa.array([int(rows[i][2].sum()) for i in order], pa.int64()),
            "holiday_mean": hm[order],
            "workday_mean": wm[order],
            "holiday_ratio": (hm / np.where(wm > 0, wm, np.nan))[order],
            "transferred": pa.array([int(rows[i][3].sum()) for i in order], pa.int64()),
            "transferred_mean": np.where(has_tr, tm, np.nan)[order],
            "weekend_mean": em[order],
            "score": obs[order],
            "p_value": p[order],
            "p_family": p_family[order],
            "holiday_dates": [[dates[j] for j in np.flatnonzero(rows[i][2])] for i in order],
            "transferred_dates": [[dates[j] for j in np.flatnonzero(rows[i][3])] for i in order],
            "test": [test] * len(rows),
        },
        schema=HOLIDAYS,
    )
    return HolidayFingerprint(out, utc_offset_hours, dates[0], dates[-1], n_days)


def _within_weekday_permutations(weekday: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n permutations of day indices, each day moved only among days of its weekday."""
    keys = rng.random((n, weekday.size)) + weekday[None, :] * 2.0
    by_weekday = np.argsort(weekday, kind="stable")
    perms = np.empty((n, weekday.size), dtype=np.int64)
    perms[:, by_weekday] = np.argsort(keys, axis=1)
    return perms


def _standardise(stat: np.ndarray) -> np.ndarray:
    null = stat[1:]
    sd = null.std(axis=0)
    return (stat - null.mean(axis=0)) / np.where(sd > 0, sd, np.inf)
