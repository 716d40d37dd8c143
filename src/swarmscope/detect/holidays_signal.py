"""Holiday fingerprint: which country's calendar does the group's activity follow?

Model comparison (see docs/methods/signals.md, "Holiday fingerprint"). The
group's daily post counts on local days at the given UTC offset (the first
and last days dropped: a collection window cuts them; days inside the span
without posts count as zero) are fitted by a Poisson log-linear model:

- baseline ("no calendar"): a level per block of ISO weeks (one week by
  default: volume changes over weeks and months are not holidays) plus a
  weekday effect (7 levels: the group's own weekly cycle);
- per country: the baseline plus an indicator for the country's public
  holidays on its working weekdays (a drop expected) and, where the country
  has them in the span, an indicator for its transferred working days
  (weekend days made working days, ``HolidayBase.weekend_workdays``; a rise
  expected).

The week levels are profiled out in closed form (the likelihood given each
block's total is multinomial), so each country's fit is a Newton-Raphson
(IRLS) on at most nine parameters, vectorised over countries. Overdispersion:
the dispersion phi is the baseline's Pearson chi2 / residual df or, when
smaller, its median squared Pearson residual over chi2(1)'s median (a burst
day must not hide every calendar), floored at 1, and every model is compared by quasi-likelihood (deviance / phi) and
QAIC = -2 loglik / phi + 2K (Burnham & Anderson 2002; McCullagh & Nelder
1989). A calendar whose holiday coefficient is not negative (as many or more
posts on its holidays) gains nothing: it is ranked as the baseline; a
transferred-day term that comes out negative is dropped from that country's
model. ``p_value``: quasi-likelihood F test of the country's model against
the baseline; ``p_family``: Bonferroni over the countries tested.

The top of the ranking is a hint, never an attribution: countries share
holidays, operators can follow a client's calendar, and a drop on a holiday
can have other causes.

Why this module is long: the series, the per-country indicators, the
profiled Newton fit, the profile-likelihood intervals and the separating
dates all work on the same week-block arrays; kept together, one reading
explains the whole test, and nothing else uses the pieces.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

import holidays as holidays_pkg
import numpy as np
import pyarrow as pa
from scipy import special, stats

from .rhythm import _minutes

NOTE = (
    "A ranking of calendars the activity follows: a hint for the analyst, never an attribution. "
    "Countries share holidays, and operators can keep a client's or another country's calendar."
)

HOLIDAYS = pa.schema(
    [
        pa.field("rank", pa.int64()),  # by QAIC, lowest first
        pa.field("country", pa.string()),  # ISO 3166-1 alpha-2
        pa.field("country_name", pa.string()),
        pa.field("holidays", pa.int64()),  # public holidays on working weekdays in the span
        pa.field("holiday_mean", pa.float64()),  # posts per holiday
        pa.field("workday_mean", pa.float64()),  # posts per ordinary working day
        pa.field("holiday_ratio", pa.float64()),  # holiday_mean / workday_mean (raw, no model)
        pa.field("transferred", pa.int64()),  # transferred working days in the span
        pa.field("transferred_mean", pa.float64()),
        pa.field("weekend_mean", pa.float64()),
        pa.field("score", pa.float64()),  # signed root of the scaled deviance gain; < 0 = the wrong way
        pa.field("p_value", pa.float64()),  # quasi-likelihood F test against no calendar
        pa.field("p_family", pa.float64()),  # Bonferroni over the countries tested
        pa.field("holiday_dates", pa.list_(pa.date32())),
        pa.field("transferred_dates", pa.list_(pa.date32())),
        pa.field("loglik_gain", pa.float64()),  # quasi-log-likelihood gain over no calendar (0 = none)
        pa.field("qaic", pa.float64()),
        pa.field("delta_qaic", pa.float64()),  # to the best calendar (rank 1 = 0)
        pa.field("akaike_weight", pa.float64()),  # among all calendars and the no-calendar model
        pa.field("rate_ratio", pa.float64()),  # posts on a holiday / on an ordinary day, same week and weekday
        pa.field("rate_ratio_low", pa.float64()),  # 95 % profile-likelihood interval
        pa.field("rate_ratio_high", pa.float64()),
        pa.field("transferred_ratio", pa.float64()),  # transferred working day / ordinary weekend day
        pa.field("indistinguishable", pa.list_(pa.string())),  # rank 1 only: rivals with delta_qaic < 2
        pa.field("separates_from", pa.string()),  # the calendar separating_dates compare with
        pa.field("separating_dates", pa.list_(pa.date32())),  # span dates where the two models differ
        pa.field("comparison", pa.string()),  # the comparison in words
        pa.field("test", pa.string()),
    ]
)


@dataclass(frozen=True)
class HolidayParams:
    # Public holidays only: bank, optional or religious-group days are not
    # days off for an office.
    categories: tuple[str, ...] = ("public",)
    # Countries with fewer weekday holidays in the span are not ranked: one
    # day off says little.
    min_holidays: int = 3
    countries: tuple[str, ...] | None = None  # None = every supported country
    # The slow trend: one level per block of this many ISO weeks.
    trend_weeks: int = 1
    # Longest span of local days modelled (20 years); a longer span is cut to
    # the window of this many days holding the most posts.
    max_days: int = 7305
    # Calendars closer than this to the best (QAIC units) cannot be told apart from it.
    indistinguishable_qaic: float = 2.0
    ci_level: float = 0.95
    # Unused since the permutation test gave way to model comparison; kept so
    # configurations and callers that set them still load.
    permutations: int = 1999
    seed: int = 0
    smoothing: float = 0.5


@dataclass(frozen=True)
class HolidayFingerprint:
    ranking: pa.Table  # HOLIDAYS, best first
    utc_offset_hours: float
    first_day: dt.date | None
    last_day: dt.date | None
    days: int
    note: str = NOTE
    dispersion: float | None = None  # phi, Pearson chi2 / df of the baseline, >= 1
    no_calendar_weight: float | None = None  # Akaike weight of the baseline (no calendar)


# -- calendars -----------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def _calendars(codes: tuple[str, ...], years: tuple[int, ...], categories: tuple[str, ...]) -> list:
    names = {v[1]: v[0] for v in holidays_pkg.registry.COUNTRIES.values()}
    out = []
    for code in codes:
        cal = _calendar(code, years, categories)
        if cal is not None:
            out.append((code, _readable(names.get(code, code)), cal))
    return out


def _calendar(code: str, years: tuple[int, ...], categories: tuple[str, ...]):
    try:
        return holidays_pkg.country_holidays(code, years=years, categories=categories)
    except (NotImplementedError, ValueError, KeyError, OverflowError):  # category not offered by this country
        try:
            return holidays_pkg.country_holidays(code, years=years)
        except (NotImplementedError, ValueError, KeyError, OverflowError):
            return None


def _readable(class_name: str) -> str:
    """'TimorLeste' -> 'Timor Leste': the package names countries by their class names."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", class_name)


def _indicators(cal, first: int, n: int, weekday: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(holiday on a working weekday, transferred working day on a weekend day, any holiday) over the
    ``n`` days from ordinal ``first``. Loops over the calendar's dates (tens a year), not over days."""
    weekend = np.zeros(7, bool)
    weekend[list(cal.weekend)] = True
    is_weekend = weekend[weekday]
    hol_i = _positions(list(cal.keys()), first, n)
    tr_i = _positions(list(getattr(cal, "weekend_workdays", ())), first, n)
    any_hol = np.zeros(n, bool)
    any_hol[hol_i] = True
    hol = any_hol & ~is_weekend
    tr = np.zeros(n, bool)
    tr[tr_i] = True
    return hol, tr & is_weekend, any_hol


def _positions(days: list, first: int, n: int) -> np.ndarray:
    i = np.fromiter((d.toordinal() for d in days if isinstance(d, dt.date)), np.int64) - first
    return i[(i >= 0) & (i < n)]


# -- the daily series ----------------------------------------------------------------------------

_EPOCH = dt.date(1970, 1, 1).toordinal()
# Local days (since 1970) that Python dates can hold, with a year of margin for the calendars.
_DAY_MIN = dt.date(2, 1, 1).toordinal() - _EPOCH
_DAY_MAX = dt.date(9998, 12, 31).toordinal() - _EPOCH


def _window(day: np.ndarray, max_days: int) -> tuple[int, int]:
    """The ``max_days``-long window of days holding the most posts (the earliest such window).
    Sorts the posts' days; nothing is sized by the span."""
    u, c = np.unique(day, return_counts=True)
    cum = np.concatenate([[0], np.cumsum(c)])
    end = np.searchsorted(u, u + max_days - 1, side="right")
    i = int(np.argmax(cum[end] - cum[np.arange(u.size)]))
    return int(u[i]), int(u[i]) + max_days - 1


@dataclass
class _Series:
    """Daily counts laid out as (blocks, cells): a block is ``trend_weeks`` ISO weeks, cell 0 a Monday."""

    y: np.ndarray  # (NB, L) posts per local day, 0 outside the span
    valid: np.ndarray  # (NB, L) cells that inform the fit
    yb: np.ndarray  # (NB,) block totals
    V: np.ndarray  # (NB, 7) valid cells per block and weekday
    ywd: np.ndarray  # (7,) posts per weekday
    wd_active: np.ndarray  # (7,) weekday levels fitted (the reference and empty weekdays are not)
    pre: int  # cells before the first day
    n_eff: int  # informative days
    p0: int  # no-calendar model's parameters: non-empty blocks + weekdays - 1
    const: float  # log-likelihood terms the profile leaves out

    @property
    def L(self) -> int:
        return self.y.shape[1]


def _series(counts: np.ndarray, first_weekday: int, trend_weeks: int) -> _Series:
    L = 7 * trend_weeks
    pre = first_weekday
    nb = -(-(pre + counts.size) // L)
    y = np.zeros(nb * L)
    y[pre : pre + counts.size] = counts
    span = np.zeros(nb * L, bool)
    span[pre : pre + counts.size] = True
    y, span = y.reshape(nb, L), span.reshape(nb, L)
    wd = np.arange(L) % 7
    wd_tot = np.bincount(wd, weights=y.sum(axis=0), minlength=7)
    yb = y.sum(axis=1)
    # Empty blocks and weekdays without a post carry nothing once their levels are free.
    valid = span & (yb > 0)[:, None] & (wd_tot > 0)[wd][None, :]
    V = valid.reshape(nb, trend_weeks, 7).sum(axis=1).astype(float)
    wd_active = wd_tot > 0
    wd_active[int(np.argmax(wd_tot))] = False  # the reference weekday
    pos = yb > 0
    const = float(np.sum(yb[pos] * np.log(yb[pos]) - yb[pos]) - special.gammaln(y + 1).sum())
    p0 = int(pos.sum()) + int(wd_active.sum())
    return _Series(y, valid, yb, V, wd_tot, wd_active, pre, int(valid.sum()), p0, const)


@dataclass
class _Cells:
    """One kind of calendar day (holidays, or transferred working days) per country, as padded lists
    of the valid cells they fall on: a country's calendar touches tens of days a year, not all."""

    b: np.ndarray  # (C, K) block
    w: np.ndarray  # (C, K) weekday
    y: np.ndarray  # (C, K) posts that day
    m: np.ndarray  # (C, K) a real entry
    total: np.ndarray  # (C,) posts on these days

    @classmethod
    def of(cls, s: _Series, days: np.ndarray) -> _Cells:
        """``days``: (C, n) bool over the span's days."""
        C = days.shape[0]
        cell = [s.pre + np.flatnonzero(d) for d in days]
        cell = [c[s.valid.ravel()[c]] for c in cell]
        K = max(1, max((c.size for c in cell), default=0))
        idx = np.zeros((C, K), np.int64)
        m = np.zeros((C, K), bool)
        for i, c in enumerate(cell):
            idx[i, : c.size] = c
            m[i, : c.size] = True
        y = np.where(m, s.y.ravel()[idx], 0.0)
        return cls(idx // s.L, (idx % s.L) % 7, y, m, y.sum(axis=1))

    def __getitem__(self, i) -> _Cells:
        return _Cells(self.b[i], self.w[i], self.y[i], self.m[i], self.total[i])

    def any(self) -> np.ndarray:
        return self.m.any(axis=1)


# -- the fit -------------------------------------------------------------------------------------

_RIDGE = 1e-4  # keeps coefficients finite under separation (e.g. no post on any ordinary weekend day)
_K = 9  # 7 weekday levels, holiday, transferred working day


@dataclass
class _Fit:
    theta: np.ndarray  # (C, 9)
    ll: np.ndarray  # (C,) Poisson log-likelihood, block levels at their maximum


def _scatter(cols: np.ndarray, weights: np.ndarray, width: int) -> np.ndarray:
    """out[c, cols[c, k]] += weights[c, k], as a (C, width) array."""
    C = cols.shape[0]
    flat = (np.arange(C)[:, None] * width + cols).ravel()
    return np.bincount(flat, weights.ravel(), minlength=C * width).reshape(C, width)


def _terms(s: _Series, H: _Cells, T: _Cells, theta: np.ndarray):
    """Per country: log-likelihood (block levels profiled out) and the pieces of its derivatives.
    Cell rates are exp(weekday level) except on the calendar's days, handled sparsely."""
    NB = s.yb.size
    theta = np.clip(theta, -300.0, 300.0)  # the same clipped values in rates and in the linear terms
    g = theta[:, :7]
    eg = np.exp(g)
    parts = []
    S = eg @ s.V.T  # (C, NB): sum of the cells' rates per block
    for cells, beta in ((H, theta[:, 7]), (T, theta[:, 8])):
        e0 = np.take_along_axis(eg, cells.w, axis=1) * cells.m
        e1 = e0 * np.exp(beta)[:, None]
        S = S + _scatter(cells.b, e1 - e0, NB)
        parts.append((cells, beta, e0, e1))
    pos = s.yb > 0
    S = np.where(pos[None, :], np.maximum(S, 1e-300), 1.0)
    ll = g @ s.ywd - np.log(S) @ s.yb + s.const
    for cells, beta, _, _ in parts:
        ll = ll + beta * cells.total
    R = np.where(pos[None, :], s.yb[None, :] / S, 0.0)  # posts per unit rate, per block
    return ll, eg, R, parts


def _derivatives(s: _Series, H: _Cells, T: _Cells, theta: np.ndarray, info: bool = True):
    """Score (C, 9) and observed information (C, 9, 9) of the profile log-likelihood."""
    C, NB = theta.shape[0], s.yb.size
    _, eg, R, parts = _terms(s, H, T, theta)
    mw = eg * (R @ s.V)  # expected posts per weekday
    grad = np.zeros((C, _K))
    D = np.zeros((C, _K, _K))
    sparse = []
    for j, (cells, _, e0, e1) in zip((7, 8), parts):
        Rc = np.take_along_axis(R, cells.b, axis=1)
        mu1, mu0 = e1 * Rc, e0 * Rc
        mw = mw + _scatter(cells.w, mu1 - mu0, 7)
        grad[:, j] = cells.total - mu1.sum(axis=1)
        D[:, j, j] = mu1.sum(axis=1)
        D[:, :7, j] = D[:, j, :7] = _scatter(cells.w, mu1, 7)
        sparse.append((cells, mu1, mu0))
    grad[:, :7] = s.ywd - mw
    if not info:
        return grad, None
    D[:, np.arange(7), np.arange(7)] = mw
    # minus the sum over blocks of m_b m_b' / Y_b (m_b: block b's expected posts by parameter):
    # the block levels profiled out
    mb = R[:, :, None] * s.V[None] * eg[:, None, :]
    cols = []
    for cells, mu1, mu0 in sparse:
        mb = mb + _scatter(cells.b * 7 + cells.w, mu1 - mu0, NB * 7).reshape(C, NB, 7)
        cols.append(_scatter(cells.b, mu1, NB)[..., None])
    F = np.concatenate([mb, *cols], axis=2) / np.sqrt(np.where(s.yb > 0, s.yb, np.inf))[None, :, None]
    return grad, D - np.matmul(F.transpose(0, 2, 1), F)


def _newton(
    s: _Series,
    H: _Cells,
    T: _Cells,
    active: np.ndarray,
    theta: np.ndarray,
    max_iter: int = 100,
    info: np.ndarray | None = None,
) -> _Fit:
    """Maximise the (ridge-stabilised) profile log-likelihood over the active parameters, every country
    at once; Newton-Raphson with step halving, each country until its own convergence. ``info``: a
    fixed information matrix to use instead of the current one (steps near a known fit)."""
    C = theta.shape[0]
    theta = theta.copy()
    ll = _terms(s, H, T, theta)[0]

    def objective(th, a, lik):
        return lik - 0.5 * _RIDGE * np.sum(np.where(a, th, 0.0) ** 2, axis=1)

    obj = objective(theta, active, ll)
    live = np.ones(C, bool)
    eye = np.eye(_K)[None]
    for _ in range(max_iter):
        idx = np.flatnonzero(live)
        if idx.size == 0:
            break
        th, act, h, t = theta[idx], active[idx], H[idx], T[idx]
        grad, J = _derivatives(s, h, t, th, info is None)
        J = (J if info is None else info[idx]) + _RIDGE * eye
        off = ~act
        J = np.where(off[:, :, None] | off[:, None, :], 0.0, J) + eye * off[:, :, None]
        grad = np.where(act, grad - _RIDGE * np.where(act, th, 0.0), 0.0)
        step = np.where(act, np.linalg.solve(J, grad[..., None])[..., 0], 0.0)
        frac = np.ones(idx.size)
        o = obj[idx]
        for _ in range(40):
            new = th + frac[:, None] * step
            ll_new = _terms(s, h, t, new)[0]
            obj_new = objective(new, act, ll_new)
            bad = ~(obj_new >= o - 1e-10 * (1.0 + np.abs(o)))
            if not bad.any():
                break
            frac = np.where(bad, frac / 2, frac)
        keep = ~bad  # a country whose step still fails has converged as far as it can
        theta[idx[keep]] = new[keep]
        ll[idx[keep]], obj[idx[keep]] = ll_new[keep], obj_new[keep]
        moved = np.max(np.abs(frac[:, None] * step), axis=1)
        live[idx] = keep & (moved > 1e-8)
    return _Fit(theta, ll)


_CI_REFIT_ITERATIONS = 2


def _profile_interval(
    s: _Series, H: _Cells, T: _Cells, active: np.ndarray, fit: _Fit, crit: float, phi: float
) -> tuple[np.ndarray, np.ndarray]:
    """Profile-likelihood interval of the holiday coefficient: where the scaled deviance rises by
    ``crit``, the other parameters refitted at each value. Bisection between the estimate and 30
    log units away (far outside, unless the interval is open), all countries at once; each refit is
    a Newton step from the previous point's fit, which is close. -inf / +inf: open on that side (no
    post on any holiday; every post of the holidays' weeks on the holidays)."""
    bh = np.maximum(fit.theta[:, 7], -30.0)
    nuisance = active.copy()
    nuisance[:, 7] = False
    blocks = _scatter(H.b, H.m.astype(float), s.yb.size) > 0
    open_low = H.total == 0
    open_high = H.total >= (blocks * s.yb[None, :]).sum(axis=1)
    has = H.any()
    info = _derivatives(s, H, T, fit.theta)[1]  # the nuisance's curvature barely moves near the fit
    bounds = []
    for direction, open_end in ((-1.0, open_low), (1.0, open_high)):
        inner, outer = bh.copy(), bh + direction * 30.0
        theta = fit.theta.copy()
        for _ in range(18):  # 30 / 2**18: 0.01 % on the rate ratio
            mid = (inner + outer) / 2
            theta[:, 7] = mid
            f = _newton(s, H, T, nuisance, theta, max_iter=_CI_REFIT_ITERATIONS, info=info)
            theta = f.theta
            inside = 2 * (fit.ll - f.ll) / phi <= crit
            inner, outer = np.where(inside, mid, inner), np.where(inside, outer, mid)
        root = (inner + outer) / 2
        bounds.append(np.where(has, np.where(open_end, direction * np.inf, root), np.nan))
    return bounds[0], bounds[1]


# -- the ranking ---------------------------------------------------------------------------------


def holiday_fingerprint(
    created_at: pa.Array | pa.ChunkedArray | np.ndarray,
    utc_offset_hours: float,
    params: HolidayParams = HolidayParams(),
) -> HolidayFingerprint:
    """Rank countries' calendars by how well each explains the group's daily activity (QAIC)."""
    t = _minutes(created_at) + int(round(utc_offset_hours * 60))
    day = t // 1440
    day = day[(day >= _DAY_MIN) & (day <= _DAY_MAX)]
    notes: list[str] = []

    def empty(first=None, last=None, n=0, why=None) -> HolidayFingerprint:
        text = " ".join([NOTE, *notes, *([why] if why else [])])
        return HolidayFingerprint(HOLIDAYS.empty_table(), utc_offset_hours, first, last, n, text)

    if day.size == 0:
        return empty()
    if int(day.max()) - int(day.min()) + 1 > params.max_days:
        lo, hi = _window(day, params.max_days)
        kept = (day >= lo) & (day <= hi)
        notes.append(
            f"The posts span more than {params.max_days:,} local days; only the {params.max_days:,}-day window "
            f"holding the most posts ({int(kept.sum()):,} of {day.size:,}) is modelled."
        )
        day = day[kept]
    # The first and last local days are cut by the collection window; leave them out.
    d0, d1 = int(day.min()) + 1, int(day.max()) - 1
    if d1 < d0:
        return empty()
    counts = np.bincount(day[(day >= d0) & (day <= d1)] - d0, minlength=d1 - d0 + 1).astype(float)
    n = counts.size
    first = _EPOCH + d0
    dates = [dt.date.fromordinal(first + i) for i in range(n)]
    weekday = (np.arange(n) + dates[0].weekday()) % 7
    s = _series(counts, int(weekday[0]), max(1, params.trend_weeks))
    df = s.n_eff - s.p0
    if df < 7:
        return empty(dates[0], dates[-1], n, "Too few days with posts to fit a weekly pattern; nothing ranked.")

    years = tuple(range(dates[0].year, dates[-1].year + 1))
    codes = params.countries or tuple(sorted(holidays_pkg.list_supported_countries(include_aliases=False)))
    rows = []
    for code, name, cal in _calendars(tuple(codes), years, tuple(params.categories)):
        hol, tr, any_hol = _indicators(cal, first, n, weekday)
        weekend = np.zeros(7, bool)
        weekend[list(cal.weekend)] = True
        is_weekend = weekend[weekday]
        work = ~is_weekend & ~hol
        wkend = is_weekend & ~tr & ~any_hol
        if hol.sum() < params.min_holidays or not work.any():
            continue
        rows.append(
            {
                "country": code,
                "country_name": name,
                "hol": hol,
                "tr": tr,
                "holiday_mean": float(counts[hol].mean()),
                "workday_mean": float(counts[work].mean()),
                "transferred_mean": float(counts[tr].mean()) if tr.any() else float("nan"),
                "weekend_mean": float(counts[wkend].mean()) if wkend.any() else 0.0,
            }
        )
    if not rows:
        return empty(dates[0], dates[-1], n, "No calendar has enough holidays in the span; nothing ranked.")
    C = len(rows)
    H = _Cells.of(s, np.array([r["hol"] for r in rows]))
    T = _Cells.of(s, np.array([r["tr"] for r in rows]))
    has_h, has_t = H.any(), T.any()

    # no calendar: block levels + weekday effect
    base_active = np.zeros((1, _K), bool)
    base_active[0, :7] = s.wd_active
    none = _Cells.of(s, np.zeros((1, n), bool))
    base = _newton(s, none, none, base_active, np.zeros((1, _K)))
    eg = np.exp(base.theta[0, :7])
    rate0 = s.yb / np.where(s.yb > 0, s.V @ eg, 1.0)
    mu0 = rate0[:, None] * eg[np.arange(s.L) % 7][None, :]
    v = s.valid & (mu0 > 0)
    r2 = (s.y[v] - mu0[v]) ** 2 / mu0[v]
    pearson = float(np.sum(r2))
    # A burst day is one huge residual: it would inflate the Pearson estimate and hide every calendar.
    # The median squared residual over chi2(1)'s median (0.4549) is not moved by a few days; the smaller
    # of the two is used, floored at 1 (for small counts the median rule reads low, the floor holds).
    robust = float(np.median(r2)) / stats.chi2.ppf(0.5, 1) if r2.size else 1.0
    phi = max(1.0, min(pearson / df, robust))
    ll0 = float(base.ll[0])

    # each country: its holidays, then holidays + transferred working days where it has them.
    # No post on any holiday: the coefficient is -inf (its cells drop out), exactly.
    act1 = np.zeros((C, _K), bool)
    act1[:, :7] = s.wd_active
    act1[:, 7] = has_h & (H.total > 0)
    start = np.repeat(base.theta, C, axis=0)
    start[:, 7] = np.where(has_h & (H.total == 0), -np.inf, 0.0)
    hol_fit = _newton(s, H, T, act1, start)
    both = np.flatnonzero(has_h & has_t)
    act2 = act1[both].copy()
    act2[:, 8] = True
    full_fit = _newton(s, H[both], T[both], act2, hol_fit.theta[both]) if both.size else None

    q = np.zeros(C, int)  # parameters the calendar adds: 0 = ranked as no calendar
    ll = np.full(C, ll0)
    theta = hol_fit.theta.copy()
    act = act1.copy()
    ok1 = has_h & (hol_fit.theta[:, 7] < 0)
    q[ok1], ll[ok1] = 1, hol_fit.ll[ok1]
    if full_fit is not None:
        ok2 = (full_fit.theta[:, 7] < 0) & (full_fit.theta[:, 8] > 0)
        sel = both[ok2]
        q[sel], ll[sel] = 2, full_fit.ll[ok2]
        theta[sel], act[sel] = full_fit.theta[ok2], act2[ok2]
    gain = np.maximum(ll - ll0, 0.0) / phi  # quasi-log-likelihood gain
    qaic = -2 * ll / phi + 2 * (s.p0 + q + 1)
    qaic0 = -2 * ll0 / phi + 2 * (s.p0 + 1)
    qq = np.maximum(q, 1)
    p = np.where(q > 0, stats.f.sf(2 * gain / qq, qq, df), 1.0)
    m = C
    p_family = np.minimum(1.0, p * m)
    wrong_gain = np.maximum(hol_fit.ll - ll0, 0.0) / phi
    score = np.where(q > 0, np.sqrt(2 * gain), np.where(has_h, -np.sqrt(2 * wrong_gain), 0.0))

    crit = float(stats.f.ppf(params.ci_level, 1, df))
    fit_ci = _Fit(theta, np.where(q > 0, ll, hol_fit.ll))
    low, high = _profile_interval(s, H, T, act, fit_ci, crit, phi)
    rate = np.where(has_h, np.exp(theta[:, 7]), np.nan)
    with np.errstate(over="ignore"):
        rate_low, rate_high = np.exp(low), np.exp(high)
    # Posts on transferred days while the other days of their weekdays have none: an infinite ratio
    # (the fit's finite value is only where the stabilising ridge stopped it).
    others = s.ywd[None, :] - _scatter(T.w, T.y, 7)
    on_wd = _scatter(T.w, T.m.astype(float), 7) > 0
    tr_open = (T.total > 0) & ~((others > 0) & on_wd).any(axis=1)
    tr_ratio = np.where(q == 2, np.where(tr_open, np.inf, np.exp(theta[:, 8])), np.nan)

    codes_arr = np.array([r["country"] for r in rows])
    order = np.lexsort((codes_arr, np.round(qaic, 6)))  # ties (identical calendars) by code
    all_q = np.append(qaic, qaic0)
    w = np.exp(-(all_q - all_q.min()) / 2)
    w /= w.sum()
    delta = qaic - qaic.min()

    top = int(order[0])
    mark = np.array([r["hol"] | r["tr"] for r in rows])
    rivals = [int(i) for i in order[1:] if delta[i] < params.indistinguishable_qaic]
    # separating dates: each calendar against the top one; the top one against the runner-up
    versus = {int(i): top for i in order[1:]} | {top: int(order[1]) if C > 1 else None}
    sep: dict[int, list[dt.date]] = {}
    for i, j in versus.items():
        differ = (
            np.zeros(n, bool) if j is None else (rows[i]["hol"] != rows[j]["hol"]) | (rows[i]["tr"] != rows[j]["tr"])
        )
        sep[i] = [dates[k] for k in np.flatnonzero(differ)]

    def pair_text(a: int, b: int) -> str:  # a: the top calendar
        ds = sep[b]
        if not ds:
            nxt = _next_separating(rows[a]["country"], rows[b]["country"], first + n - 1, params.categories)
            later = f"; the next that would: {_dates_text(nxt, 5)}" if nxt else ""
            return f"no date in the span separates {rows[a]['country']} from {rows[b]['country']}{later}"
        lab = [(d, rows[a]["country"] if mark[a][(d.toordinal() - first)] else rows[b]["country"]) for d in ds]
        return f"dates that separate {rows[a]['country']} from {rows[b]['country']}: {_dates_text(lab, 12)}"

    comparison: dict[int, str] = {}
    if qaic[top] >= qaic0:
        comparison[top] = (
            "No calendar explains the daily activity better than the no-calendar model "
            f"(its Akaike weight {w[-1]:.2g}); nothing to tell apart."
        )
    elif rivals:
        names = ", ".join(rows[i]["country"] for i in rivals[:10]) + (
            f" and {len(rivals) - 10} more" if len(rivals) > 10 else ""
        )
        parts = [pair_text(top, i) for i in rivals[:5]]
        comparison[top] = (
            f"{rows[top]['country']} cannot be told apart from {names} "
            f"(QAIC within {params.indistinguishable_qaic:g}); " + "; ".join(parts) + "."
        )
    elif C > 1:
        j = int(order[1])
        comparison[top] = (
            f"{rows[top]['country']} is {delta[j]:.1f} QAIC units ahead of {rows[j]['country']}; {pair_text(top, j)}."
        )
    else:
        comparison[top] = f"Only {rows[top]['country']} was tested."
    for i in order[1:]:
        i = int(i)
        text = f"{delta[i]:.1f} QAIC units behind {rows[top]['country']}"
        if delta[i] < params.indistinguishable_qaic:
            text += " (cannot be told apart)"
        text += f"; {len(sep[i])} separating dates in the span" if sep[i] else "; no date in the span separates them"
        if q[i] == 0 and has_h[i]:
            text = f"no fewer posts on its holidays (rate ratio {rate[i]:.2g}): ranked as no calendar; " + text
        comparison[i] = text
    if qaic[top] < qaic0 and rivals and not all(sep[i] for i in rivals):
        notes.append(comparison[top])

    tw = max(1, params.trend_weeks)
    trend = "ISO week" if tw == 1 else f"{tw} ISO weeks"
    test = (
        f"local days at UTC{utc_offset_hours:+g}; quasi-Poisson log-linear model of daily posts: a level per "
        f"{trend} + weekday effect, + the country's holidays on working weekdays "
        f"(+ transferred working days); dispersion {phi:.3g} (Pearson or median residual, no-calendar model, "
        "floor 1); ranked by "
        f"QAIC; p: quasi-likelihood F test against no calendar (df {df}); p_family: Bonferroni over {m} calendars"
    )
    out = pa.table(
        {
            "rank": pa.array(np.arange(1, C + 1), pa.int64()),
            "country": [rows[i]["country"] for i in order],
            "country_name": [rows[i]["country_name"] for i in order],
            "holidays": pa.array([int(rows[i]["hol"].sum()) for i in order], pa.int64()),
            "holiday_mean": [rows[i]["holiday_mean"] for i in order],
            "workday_mean": [rows[i]["workday_mean"] for i in order],
            "holiday_ratio": [
                rows[i]["holiday_mean"] / rows[i]["workday_mean"] if rows[i]["workday_mean"] > 0 else float("nan")
                for i in order
            ],
            "transferred": pa.array([int(rows[i]["tr"].sum()) for i in order], pa.int64()),
            "transferred_mean": [rows[i]["transferred_mean"] for i in order],
            "weekend_mean": [rows[i]["weekend_mean"] for i in order],
            "score": score[order],
            "p_value": p[order],
            "p_family": p_family[order],
            "holiday_dates": [[dates[k] for k in np.flatnonzero(rows[i]["hol"])] for i in order],
            "transferred_dates": [[dates[k] for k in np.flatnonzero(rows[i]["tr"])] for i in order],
            "loglik_gain": gain[order],
            "qaic": qaic[order],
            "delta_qaic": delta[order],
            "akaike_weight": w[:-1][order],
            "rate_ratio": _nullable(rate[order]),
            "rate_ratio_low": _nullable(rate_low[order]),
            "rate_ratio_high": _nullable(rate_high[order]),
            "transferred_ratio": _nullable(tr_ratio[order]),
            "indistinguishable": [[rows[j]["country"] for j in rivals]] + [[] for _ in range(C - 1)],
            "separates_from": [None if versus[int(i)] is None else rows[versus[int(i)]]["country"] for i in order],
            "separating_dates": [sep[int(i)] for i in order],
            "comparison": [comparison[int(i)] for i in order],
            "test": [test] * C,
        },
        schema=HOLIDAYS,
    )
    return HolidayFingerprint(
        out, utc_offset_hours, dates[0], dates[-1], n, " ".join([NOTE, *notes]), phi, float(w[-1])
    )


def _nullable(x: np.ndarray) -> pa.Array:
    """NaN as null (not applicable); infinities kept (an open interval)."""
    return pa.array(x, pa.float64(), mask=np.isnan(x))


def _dates_text(labelled: list[tuple[dt.date, str]], limit: int) -> str:
    shown = ", ".join(f"{d.isoformat()} ({c})" for d, c in labelled[:limit])
    return shown + (f" and {len(labelled) - limit} more" if len(labelled) > limit else "")


def _next_separating(a: str, b: str, last: int, categories: tuple[str, ...], limit: int = 5) -> list:
    """The first dates after the span (two years at most) that would separate calendars a and b."""
    first = last + 1
    start = dt.date.fromordinal(first)
    if start.year > 9996:
        return []
    years = (start.year, start.year + 1, start.year + 2)
    ca, cb = _calendar(a, years, tuple(categories)), _calendar(b, years, tuple(categories))
    if ca is None or cb is None:
        return []
    n = 731
    weekday = (np.arange(n) + start.weekday()) % 7
    ha, ta, _ = _indicators(ca, first, n, weekday)
    hb, tb, _ = _indicators(cb, first, n, weekday)
    out = []
    for k in np.flatnonzero((ha != hb) | (ta != tb))[:limit]:
        out.append((dt.date.fromordinal(first + int(k)), a if (ha[k] or ta[k]) else b))
    return out
