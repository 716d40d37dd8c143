"""Rhythm and calendar evidence: the members' working hours, time zone and public holidays.

The hour-of-week profile of the members' posts is fitted to office-hours
templates at every UTC offset (detect/rhythm.py); the daily series is then
compared with each country's public holidays at that offset
(detect/holidays_signal.py). A holiday match is a hint, never an attribution.
"""

from __future__ import annotations

from ..detect.holidays_signal import holiday_fingerprint
from ..detect.rhythm import operator_rhythm
from ..findings import SignalLog
from .params import CampaignParams
from .view import CaseView, Evidence, Members


def rhythm(view: CaseView, members: Members, log: SignalLog, params: CampaignParams) -> Evidence:
    """The rhythm signal (always), the rhythm part, and a holiday signal when a calendar fits (its
    explanation names the calendars it cannot be told apart from, and the dates that would separate them)."""
    ev = Evidence()
    mposts = members.posts
    fit = operator_rhythm(mposts["created_at"], view.params.signals.rhythm)
    # The data pin the UTC working window, not the offset (8-17 at UTC+0 and 9-18 at UTC+1 are the same
    # hours): the part asks that the office day beats flat and that its window is stable under resampling.
    office = (
        fit.pattern == "office-hours"
        and fit.office_p < params.office_max_p
        and fit.window_confidence >= params.office_min_confidence
    )
    ev.parts["rhythm"] = 1.0 if office else 0.0
    sid = log.add(
        "rhythm",
        f"activity pattern: {fit.pattern}" + (f"; {fit.summary}" if fit.pattern == "office-hours" else ""),
        {
            "pattern": fit.pattern,
            "utc_offset_hours": fit.utc_offset_hours,
            "window_utc": list(fit.window_utc) if fit.window_utc else None,
            "window_confidence": fit.window_confidence,
            "confidence": fit.confidence,
            "offsets_consistent": list(fit.offsets_consistent),
            "offset_range": list(fit.offset_range) if fit.offset_range else None,
            "consistent": [
                {
                    "window_utc": list(a.window_utc),
                    "days": a.days,
                    "templates": list(a.templates),
                    "utc_offsets": list(a.utc_offsets),
                    "delta": a.delta,
                    "bootstrap_share": a.bootstrap_share,
                }
                for a in fit.consistent
            ],
            "consistent_windows": fit.consistent_windows,
            "dispersion": fit.dispersion,
            "office_p": fit.office_p,
            "office_share": fit.office_share,
            "summary": fit.summary,
            "profile_utc": list(fit.profile_utc),
            "profile_local": list(fit.profile_local),
        },
        fit.test,
        [],
        [],
    )
    ev.cite(sid, f"They work office hours: {fit.summary}." if office else None)
    offset = fit.utc_offset_hours if fit.utc_offset_hours is not None else 0.0
    hol = holiday_fingerprint(mposts["created_at"], offset, view.params.signals.holidays)
    top = hol.ranking.slice(0, 5).to_pylist()
    if top and top[0]["p_family"] is not None and top[0]["p_family"] < params.holiday_max_p:
        sid = log.add(
            "holiday",
            f"activity drops on {top[0]['country_name']}'s public holidays (a hint, never an attribution)",
            {
                "ranking": top,
                "utc_offset_hours": offset,
                "indistinguishable": top[0].get("indistinguishable") or [],
                "comparison": top[0].get("comparison"),
                "dispersion": hol.dispersion,
                "no_calendar_weight": hol.no_calendar_weight,
                "note": hol.note,
            },
            top[0]["test"],
            [],
            [],
        )
        h = top[0]
        if h.get("rate_ratio") is not None and h.get("rate_ratio_high") is not None:
            first = (
                f"Activity falls on {h['country_name']}'s public holidays: {h['rate_ratio']:.2g} x the posts of an "
                f"ordinary day of the same week (95 % CI {h['rate_ratio_low']:.2g}-{h['rate_ratio_high']:.2g}; "
                f"family-wise p = {h['p_family']:.3g})."
            )
        else:
            first = f"Activity falls on {h['country_name']}'s public holidays (family-wise p = {h['p_family']:.3g})."
        said = [first]
        if h.get("comparison"):
            said.append(h["comparison"].rstrip(".") + ".")
        said.append("A hint about the operators' calendar, not an attribution.")
        ev.cite(sid, " ".join(said))
    return ev
