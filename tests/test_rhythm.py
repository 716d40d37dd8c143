from __future__ import annotations

import datetime as dt

import holidays
import numpy as np
import pyarrow as pa
import pytest

from swarmscope.detect.holidays_signal import HolidayParams, holiday_fingerprint
from swarmscope.detect.rhythm import RhythmParams, operator_rhythm

START = dt.date(2020, 1, 1)
DAYS = 731  # 2020-2021


def ts(minutes: np.ndarray) -> pa.Array:
    base = np.datetime64(START.isoformat(), "m")
    return pa.array((base + minutes.astype("timedelta64[m]")).astype("datetime64[us]"))


def office_operators(rng, utc_offset_h=3, country="RU", per_day=60, days=DAYS):
    """Posts at 09-18 local on the country's working days (transferred Saturdays included)."""
    cal = holidays.country_holidays(country, years=range(2020, 2022))
    out = []
    for i in range(days):
        d = START + dt.timedelta(days=i)
        if not cal.is_working_day(d):
            continue
        k = rng.poisson(per_day)
        local = i * 1440 + rng.uniform(9 * 60, 18 * 60, k)
        out.append(local - utc_offset_h * 60)
    return np.concatenate(out)


def organic(rng, per_day=400, days=DAYS):
    """People in many zones, posting mostly in their evenings and weekends, every day."""
    offsets = rng.integers(-8, 10, size=per_day * days)
    day = np.repeat(np.arange(days), per_day)
    weekend = ((day + 2) % 7) >= 5  # 2020-01-01 was a Wednesday
    hour = np.where(rng.random(day.size) < 0.6, rng.uniform(18, 24, day.size), rng.uniform(7, 24, day.size))
    hour = np.where(weekend & (rng.random(day.size) < 0.5), rng.uniform(10, 24, day.size), hour)
    return day * 1440 + hour * 60 - offsets * 60


def test_hand_checkable_profile():
    # Monday 2024-01-01 09:00 UTC and 09:45 UTC, Tuesday 23:59 UTC
    t = pa.array(
        [dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 1, 9, 45), dt.datetime(2024, 1, 2, 23, 59), None],
        pa.timestamp("us"),
    )
    r = operator_rhythm(t)
    assert r.posts == 3 and r.days == 2
    assert r.profile_utc[9] == 2 and r.profile_utc[24 + 23] == 1 and sum(r.profile_utc) == 3
    assert r.pattern == "undetermined"


@pytest.mark.parametrize("offset", [3, -5, 8])
def test_office_offset_recovered(offset):
    rng = np.random.default_rng(offset + 20)
    m = office_operators(rng, utc_offset_h=offset, per_day=30, days=180)
    r = operator_rhythm(ts(m))
    assert abs(r.utc_offset_hours - offset) <= 1
    assert r.pattern == "office-hours"
    assert r.confidence >= 0.9
    assert r.office_p < 1e-6 and r.office_share > 0.9
    assert r.profile_local[9] > 0 and r.profile_local[3] == 0  # Monday 09 local busy, 03 empty


def test_office_operators_inside_organic_noise():
    rng = np.random.default_rng(5)
    m = np.concatenate([office_operators(rng, 3, per_day=40, days=120), organic(rng, per_day=10, days=120)])
    r = operator_rhythm(ts(m))
    assert abs(r.utc_offset_hours - 3) <= 1


def test_evenings_and_shift_work():
    rng = np.random.default_rng(9)
    # people at UTC+2 posting 18-24 local, every day of the week
    one_zone = np.arange(90)[:, None] * 1440 + rng.uniform(18 * 60, 24 * 60, (90, 30)) - 120
    r = operator_rhythm(ts(one_zone.ravel()))
    assert r.pattern == "evenings"
    round_clock = rng.uniform(0, 90 * 1440, 20_000)
    r = operator_rhythm(ts(round_clock))
    assert r.pattern == "shift-work"
    assert r.office_rate_ratio < 1.5


def test_planted_holiday_country_ranked_first():
    rng = np.random.default_rng(1)
    m = office_operators(rng, utc_offset_h=3, country="RU")
    fit = operator_rhythm(ts(m))
    fp = holiday_fingerprint(ts(m), fit.utc_offset_hours)
    top = fp.ranking.slice(0, 1).to_pylist()[0]
    assert top["country"] == "RU"
    assert top["p_value"] < 0.01 and top["p_family"] < 0.01
    assert top["holiday_mean"] == 0 and top["workday_mean"] > 50
    assert top["transferred"] >= 1 and top["transferred_mean"] > 50  # 2021-02-20 worked
    assert dt.date(2021, 2, 23) in top["holiday_dates"]
    assert "never an attribution" in fp.note
    assert fp.ranking.num_rows > 100  # every supported country with enough holidays was tried


def test_organic_population_has_no_country_holiday_drop():
    rng = np.random.default_rng(2)
    m = organic(rng, per_day=200)
    fp = holiday_fingerprint(ts(m), 0.0)
    assert fp.ranking.num_rows > 100
    assert min(fp.ranking["p_family"].to_pylist()) > 0.01


def test_holiday_hand_checkable_small_calendar():
    # Germany-only, 2023: office posts 10 per working weekday; none on the holidays.
    cal = holidays.country_holidays("DE", years=2023)
    days = [dt.date(2023, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    mins = [((d - dt.date(2023, 1, 1)).days * 1440 + 600 + k) for d in days if cal.is_working_day(d) for k in range(10)]
    fp = holiday_fingerprint(
        ts(np.array(mins) + (dt.date(2023, 1, 1) - START).days * 1440),
        0.0,
        HolidayParams(countries=("DE", "US"), permutations=499),
    )
    rows = {r["country"]: r for r in fp.ranking.to_pylist()}
    de = rows["DE"]
    assert de["rank"] == 1 and de["holiday_mean"] == 0.0 and de["workday_mean"] == pytest.approx(10.0)
    # DE public holidays on weekdays in 2023 (federal): Jan 1 is a Sunday
    assert de["holidays"] == sum(1 for d in cal if d.weekday() < 5)
    assert de["p_value"] <= 0.01
    assert rows["US"]["holiday_mean"] > 0  # US-only holidays were worked


def test_rhythm_params_half_hours():
    rng = np.random.default_rng(4)
    m = office_operators(rng, utc_offset_h=5, per_day=30, days=120) - 30  # UTC+5:30
    r = operator_rhythm(ts(m), RhythmParams(offset_step_minutes=30))
    assert r.utc_offset_hours == 5.5
