"""Holiday calendars ranked by model comparison (detect/holidays_signal.py), on synthetic daily series."""

from __future__ import annotations

import datetime as dt
import time

import holidays
import numpy as np
import pyarrow as pa
import pytest

from swarmscope.detect.holidays_signal import HolidayParams, holiday_fingerprint


def posts(first: dt.date, counts: np.ndarray, extra: list[str] = ()) -> pa.Array:
    """Post times from daily counts: ``counts[i]`` posts on ``first + i``, at noon (UTC)."""
    day = np.repeat(np.arange(counts.size), counts.astype(int))
    t = np.datetime64(first.isoformat(), "m") + (day * 1440 + 720).astype("timedelta64[m]")
    t = np.concatenate([t, np.array(list(extra), "datetime64[m]")])
    return pa.array(t.astype("datetime64[us]"))


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def weekday_holidays(code: str, span: list[dt.date]) -> set[dt.date]:
    cal = holidays.country_holidays(code, years={d.year for d in span}, categories=("public",))
    return {d for d in span if d in cal and d.weekday() < 5}


def office(span: list[dt.date], code: str, rng, per_day=30.0, weekend=3.0) -> np.ndarray:
    """Off on the country's public holidays on weekdays, at work on its transferred working days."""
    cal = holidays.country_holidays(code, years={d.year for d in span}, categories=("public",))
    off = weekday_holidays(code, span)
    lam = [0.0 if d in off else per_day if d.weekday() < 5 or d in cal.weekend_workdays else weekend for d in span]
    return rng.poisson(lam)


# The case: February-June 2024 holds 16 Azerbaijani public holidays on weekdays and one
# transferred working Saturday (6 April); Turkmenistan's 5 weekday holidays are among them.
AZ_SPAN = days(dt.date(2024, 2, 1), dt.date(2024, 6, 30))


def test_the_calendar_explaining_more_of_the_quiet_ranks_first():
    az, tm = weekday_holidays("AZ", AZ_SPAN), weekday_holidays("TM", AZ_SPAN)
    assert len(az) == 16 and len(tm) == 5 and tm <= az
    assert dt.date(2024, 4, 6) in holidays.country_holidays("AZ", years=2024).weekend_workdays
    rng = np.random.default_rng(1)
    # one day either side: the first and last local days are dropped
    counts = np.concatenate([[30], office(AZ_SPAN, "AZ", rng), [30]])
    fp = holiday_fingerprint(posts(AZ_SPAN[0] - dt.timedelta(days=1), counts), 0.0)
    assert (fp.first_day, fp.last_day) == (AZ_SPAN[0], AZ_SPAN[-1])
    rows = {r["country"]: r for r in fp.ranking.to_pylist()}
    top, second = fp.ranking.slice(0, 2).to_pylist()
    assert top["country"] == "AZ" and top["holidays"] == 16 and top["transferred"] == 1
    assert rows["TM"]["delta_qaic"] > 2 and rows["TM"]["rank"] > 1
    assert top["loglik_gain"] > rows["TM"]["loglik_gain"] > 0
    assert top["p_family"] < 0.05 and top["akaike_weight"] > 0.95
    # no post on any AZ holiday: rate ratio 0, the interval open below
    assert top["holiday_mean"] == 0 and top["rate_ratio"] == 0 and top["rate_ratio_low"] == 0
    assert 0 < top["rate_ratio_high"] < 0.2
    assert top["transferred_ratio"] > 3  # the transferred Saturday was worked
    assert top["indistinguishable"] == []
    # the top row's separating dates are against the runner-up
    assert top["separates_from"] == second["country"] and top["separating_dates"] == second["separating_dates"]
    assert "QAIC units ahead of" in top["comparison"]
    tm_only = set(rows["TM"]["holiday_dates"]) - set(top["holiday_dates"])
    assert not tm_only and set(rows["TM"]["separating_dates"]) == (az - tm) | {dt.date(2024, 4, 6)}


SPRING = days(dt.date(2024, 1, 8), dt.date(2024, 6, 30))


def test_calendars_sharing_every_holiday_cannot_be_told_apart():
    # Czechia and Slovakia: the same four weekday holidays in the span (29 Mar, 1 Apr, 1 and 8 May)
    assert weekday_holidays("CZ", SPRING) == weekday_holidays("SK", SPRING)
    counts = np.concatenate([[20], office(SPRING, "CZ", np.random.default_rng(2), per_day=20), [20]])
    fp = holiday_fingerprint(
        posts(SPRING[0] - dt.timedelta(days=1), counts), 0.0, HolidayParams(countries=("CZ", "SK"))
    )
    cz, sk = fp.ranking.to_pylist()
    assert (cz["country"], sk["country"]) == ("CZ", "SK")  # a tie, broken by code
    assert sk["delta_qaic"] == pytest.approx(0.0) and cz["akaike_weight"] == pytest.approx(sk["akaike_weight"])
    assert cz["indistinguishable"] == ["SK"] and sk["indistinguishable"] == []
    assert cz["separating_dates"] == [] and sk["separating_dates"] == [] and cz["separates_from"] == "SK"
    assert "no date in the span separates CZ from SK" in cz["comparison"]
    assert "2024-08-29 (SK)" in cz["comparison"]  # the next date that would: Slovak National Uprising
    assert "no date in the span separates" in fp.note


def test_separating_dates_are_exactly_where_the_calendars_differ():
    # Austria vs Germany (federal), January-June 2024: Good Friday is German, Corpus Christi Austrian
    counts = np.concatenate([[20], office(SPRING, "AT", np.random.default_rng(3), per_day=20), [20]])
    fp = holiday_fingerprint(
        posts(SPRING[0] - dt.timedelta(days=1), counts), 0.0, HolidayParams(countries=("AT", "DE"))
    )
    at, de = fp.ranking.to_pylist()
    assert (at["country"], de["country"]) == ("AT", "DE")
    expected = [dt.date(2024, 3, 29), dt.date(2024, 5, 30)]
    assert at["separating_dates"] == expected and at["separates_from"] == "DE"
    assert de["separating_dates"] == expected and de["separates_from"] == "AT"
    assert "2024-03-29 (DE), 2024-05-30 (AT)" in at["comparison"]


YEAR = days(dt.date(2023, 1, 2), dt.date(2023, 12, 31))


def _weekly(rng, level: np.ndarray) -> np.ndarray:
    """Poisson counts with a weekday effect (busier weekends, as people post) around ``level``."""
    wd = np.array([d.weekday() for d in YEAR])
    return rng.poisson(level * np.where(wd >= 5, 1.4, 1.0))


def test_flat_organic_series_fits_no_calendar():
    rng = np.random.default_rng(4)
    counts = _weekly(rng, np.full(len(YEAR), 40.0))
    fp = holiday_fingerprint(posts(YEAR[0], counts), 0.0)
    pf = np.array(fp.ranking["p_family"].to_pylist())
    assert fp.ranking.num_rows > 100 and pf.min() > 0.2 and np.median(pf) == 1.0
    assert fp.dispersion == pytest.approx(1.0, abs=0.3)


def test_volume_step_is_not_a_holiday():
    rng = np.random.default_rng(5)
    step = YEAR.index(dt.date(2023, 4, 5))  # a Wednesday: mid-week
    counts = _weekly(rng, np.where(np.arange(len(YEAR)) < step, 20.0, 40.0))
    fp = holiday_fingerprint(posts(YEAR[0], counts), 0.0)
    assert min(fp.ranking["p_family"].to_pylist()) > 0.05


def test_more_posts_on_holidays_give_no_support():
    rng = np.random.default_rng(6)
    fr = weekday_holidays("FR", YEAR)
    counts = rng.poisson([60.0 if d in fr else 20.0 for d in YEAR])
    fp = holiday_fingerprint(posts(YEAR[0], counts), 0.0, HolidayParams(countries=("FR",)))
    [row] = fp.ranking.to_pylist()
    assert row["rate_ratio"] > 2 and row["score"] < 0
    assert row["loglik_gain"] == 0 and row["p_value"] == 1 and row["p_family"] == 1
    assert row["akaike_weight"] == pytest.approx(fp.no_calendar_weight)  # ranked as no calendar


def test_far_future_post_allocates_nothing_for_the_span():
    rng = np.random.default_rng(7)
    counts = _weekly(rng, np.full(len(YEAR), 10.0))
    plain = holiday_fingerprint(posts(YEAR[0], counts), 0.0, HolidayParams(countries=("DE", "FR")))
    t = time.perf_counter()
    fp = holiday_fingerprint(
        posts(YEAR[0], counts, ["9000-01-01T00:00", "9999-12-31T23:59"]), 0.0, HolidayParams(countries=("DE", "FR"))
    )
    assert time.perf_counter() - t < 5
    assert (fp.first_day, fp.last_day, fp.days) == (plain.first_day, plain.last_day, plain.days)
    assert fp.ranking["qaic"].to_pylist() == plain.ranking["qaic"].to_pylist()
    assert "7,305-day window" in fp.note


def test_too_few_days_rank_nothing():
    fp = holiday_fingerprint(posts(dt.date(2024, 1, 1), np.array([5, 5, 5])), 0.0)
    assert fp.ranking.num_rows == 0 and "never an attribution" in fp.note
