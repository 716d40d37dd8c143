"""Charts as inline SVG, drawn in Python: no JavaScript, nothing fetched.

The one chart implementation of the project: the HTML report embeds these
pictures, and the workbench asks its server for the same ones (web/app.py,
``/api/campaigns/{id}/charts``) and copies them into the page through a
whitelist of the elements and attributes drawn here (web/static/charts.js).
Times are UTC on every axis; where an operator's UTC offset is inferred the
local hour is written beside it (docs/report.md, "Time zones").

Every function returns ``markupsafe.Markup`` so the template embeds it
as-is; every string that reaches the SVG (handles, country names, labels)
goes through ``esc``, and every number through ``num``, so adversary-written
values cannot add elements or attributes. Charts read plain values
(lists and dicts from findings.json), never the case store.

Why this module is long: every chart of the report and the workbench is
here, so that one module escapes every string that reaches a picture and
the workbench's whitelist (web/static/charts.js) has one producer to match.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import igraph as ig
from markupsafe import Markup

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
# Colour-blind-safe (Okabe & Ito 2008), one per platform in model.PLATFORMS order.
PLATFORM_COLOURS = {
    "x": "#0072B2",
    "telegram": "#56B4E9",
    "tiktok": "#D55E00",
    "youtube": "#CC79A7",
    "facebook": "#009E73",
    "instagram": "#E69F00",
    "bluesky": "#332288",
    "vk": "#882255",
    "other": "#777777",
}
FONT = 'font-family="system-ui, sans-serif"'


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # category Cc less tab, LF, CR


def clean(value: Any) -> str:
    """Text safe to encode and show: lone surrogates replaced, control characters dropped.

    Post text can hold anything (invalid surrogates from a broken export,
    NULs, terminal escapes); none of it may break the UTF-8 file.
    """
    s = value if isinstance(value, str) else str(value)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        s = s.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", s)


def esc(value: Any) -> str:
    """``clean`` then HTML/XML-escape, quotes included (safe in text and attributes)."""
    return html.escape(clean(value), quote=True)


def num(value: Any, default: float = 0.0) -> float:
    """A finite float, or ``default`` for anything else (None, strings, NaN)."""
    if isinstance(value, bool):
        return float(value)
    try:
        x = float(value)
    except (TypeError, ValueError):
        return default
    return x if math.isfinite(x) else default


def _f(x: float) -> str:
    """Compact coordinate: one decimal, no trailing zeros."""
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _svg(width: int, height: int, body: Iterable[str], label: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="{esc(label)}" {FONT} font-size="11">' + "".join(body) + "</svg>"
    )


def parse_day(value: Any) -> dt.date | None:
    """The date of an ISO time or date string (UTC as stored), or None."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class Mark:
    """A span (burst) or a date (narrative shift) drawn over the timeline."""

    start: dt.date
    end: dt.date
    label: str
    kind: str  # 'burst' | 'shift'
    ref: str = ""  # the signal id, as data-signal (the workbench opens the signal on a click)


def _ref(m: Mark) -> str:
    return f' data-signal="{esc(m.ref)}"' if m.ref else ""


def _bins(days: Iterable[dt.date], marks: Sequence[Mark] = ()) -> tuple[dt.date, int, int]:
    """(first bin, number of bins, days per bin) for a day axis: per day, or per week (Monday start)
    when the span is over ``WEEK_AFTER_DAYS`` so that bars stay wider than a pixel."""
    days = list(days)
    first, last = min(days), max(days)
    for m in marks:
        first, last = min(first, m.start), max(last, m.end)
    step = 7 if (last - first).days + 1 > WEEK_AFTER_DAYS else 1
    if step == 7:
        first -= dt.timedelta(days=first.weekday())
    return first, (last - first).days // step + 1, step


def _bin_of(day: dt.date, step: int) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if step == 7 else day


def _day_axis(
    out: list[str], first: dt.date, n_bins: int, step: int, left: int, top: int, plot_w: float, plot_h: float, peak: int
) -> None:
    """Base line, y labels at 0, half and peak, and up to seven evenly spaced dates (UTC days)."""
    bar_w = plot_w / n_bins
    base = top + plot_h
    out.append(f'<line x1="{left}" y1="{_f(base)}" x2="{_f(left + plot_w)}" y2="{_f(base)}" stroke="#333"/>')
    for frac in (0.0, 0.5, 1.0):
        y = base - plot_h * frac
        out.append(f'<text x="{left - 4}" y="{_f(y + 4)}" text-anchor="end">{round(peak * frac):,}</text>')
    every = max(1, math.ceil(n_bins / 6))
    ticks = list(range(0, n_bins, every))
    # the last bin is labelled too: after the previous label when both fit (a date is about 66 units
    # wide, the last one right-aligned), else in its place
    if ticks[-1] != n_bins - 1:
        if (n_bins - 1 - ticks[-1]) * bar_w < 110 and len(ticks) > 1:
            ticks.pop()
        ticks.append(n_bins - 1)
    for t in ticks:
        day = first + dt.timedelta(days=t * step)
        x = left + t * bar_w + bar_w / 2
        # the end labels keep inside the picture
        anchor = "end" if t == n_bins - 1 and n_bins > 1 else ("start" if t == 0 else "middle")
        out.append(
            f'<line x1="{_f(x)}" y1="{_f(base)}" x2="{_f(x)}" y2="{_f(base + 4)}" stroke="#333"/>'
            f'<text x="{_f(x)}" y="{_f(base + 16)}" text-anchor="{anchor}">{day.isoformat()}</text>'
        )


WEEK_AFTER_DAYS = 400


def timeline(
    daily: Sequence[tuple[dt.date, int]], marks: Sequence[Mark] = (), width: int = 900, height: int = 200
) -> Markup:
    """Posts per UTC day as bars; bursts as shaded spans, narrative shifts as dashed lines.

    Spans longer than ``WEEK_AFTER_DAYS`` are drawn per week (Monday start)
    so the bars stay wider than a pixel.
    """
    counts: dict[dt.date, int] = {}
    for day, n in daily:
        if day is not None:
            counts[day] = counts.get(day, 0) + int(num(n))
    if not counts:
        return _svg(width, 40, ['<text x="8" y="24">No dated posts.</text>'], "empty timeline")
    first, n_bins, step = _bins(counts, marks)
    if step == 7:
        binned: dict[dt.date, int] = {}
        for day, n in counts.items():
            binned[_bin_of(day, 7)] = binned.get(_bin_of(day, 7), 0) + n
        counts = binned
    left, right, top, bottom = 44, 10, 14, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    bar_w = plot_w / n_bins
    peak = max(counts.values()) or 1

    def x_of(day: dt.date) -> float:
        return left + ((day - first).days // step) * bar_w

    out = []
    for m in marks:
        if m.kind == "burst":
            x0, x1 = x_of(m.start), x_of(m.end) + bar_w
            # from above the plot, so a burst on the busiest day still shows (and can be clicked)
            out.append(
                f'<rect x="{_f(x0)}" y="2" width="{_f(max(x1 - x0, 2))}" height="{plot_h + top - 2}" '
                f'fill="#D55E00" fill-opacity="0.18"{_ref(m)}><title>{esc(m.label)}</title></rect>'
            )
    for day, n in sorted(counts.items()):
        h = plot_h * n / peak
        out.append(
            f'<rect x="{_f(x_of(day))}" y="{_f(top + plot_h - h)}" width="{_f(max(bar_w - 0.5, 0.6))}" '
            f'height="{_f(h)}" fill="#0072B2"><title>{day.isoformat()}: {n:,} posts</title></rect>'
        )
    for m in (m for m in marks if m.kind == "shift"):
        x = x_of(m.start) + bar_w / 2
        out.append(
            f'<line x1="{_f(x)}" y1="{top - 4}" x2="{_f(x)}" y2="{top + plot_h}" stroke="#CC79A7" '
            f'stroke-width="1.5" stroke-dasharray="4 3"{_ref(m)}><title>{esc(m.label)}</title></line>'
            f'<text x="{_f(x + 3)}" y="{top + 6}" fill="#882255">shift</text>'
        )
    _day_axis(out, first, n_bins, step, left, top, plot_w, plot_h, peak)
    unit = "week" if step == 7 else "day"
    out.append(
        f'<text x="{left}" y="{height - 4}" fill="#555">posts per {unit} (UTC); shaded: bursts; '
        f"dashed: narrative shifts</text>"
    )
    return _svg(width, height, out, f"posts per {unit}")


def stacked_timeline(rows: Sequence[tuple[dt.date, str, int]], width: int = 900, height: int = 220) -> Markup:
    """Posts per UTC day (per week over ``WEEK_AFTER_DAYS``) stacked by platform, with a legend."""
    counts: dict[dt.date, dict[str, int]] = {}
    for day, platform, n in rows:
        if day is not None:
            per = counts.setdefault(day, {})
            per[clean(platform)] = per.get(clean(platform), 0) + int(num(n))
    if not counts:
        return _svg(width, 40, ['<text x="8" y="24">No dated posts.</text>'], "empty timeline")
    first, n_bins, step = _bins(counts)
    stacks: dict[dt.date, dict[str, int]] = {}
    for day, per in counts.items():
        into = stacks.setdefault(_bin_of(day, step), {})
        for p, n in per.items():
            into[p] = into.get(p, 0) + n
    platforms = sorted({p for per in stacks.values() for p in per})
    left, right, top, bottom = 44, 10, 10, 52
    plot_w, plot_h = width - left - right, height - top - bottom
    bar_w = plot_w / n_bins
    peak = max(sum(per.values()) for per in stacks.values()) or 1
    out = []
    for day, per in sorted(stacks.items()):
        x = left + ((day - first).days // step) * bar_w
        base = top + plot_h
        for p in platforms:
            n = per.get(p, 0)
            if not n:
                continue
            h = plot_h * n / peak
            base -= h
            colour = PLATFORM_COLOURS.get(p, PLATFORM_COLOURS["other"])
            out.append(
                f'<rect x="{_f(x)}" y="{_f(base)}" width="{_f(max(bar_w - 0.5, 0.6))}" height="{_f(h)}" '
                f'fill="{colour}"><title>{day.isoformat()} {esc(p)}: {n:,} posts</title></rect>'
            )
    _day_axis(out, first, n_bins, step, left, top, plot_w, plot_h, peak)
    legend_y = height - 24
    for i, p in enumerate(platforms[:9]):
        x = left + i * 90
        out.append(
            f'<rect x="{x}" y="{legend_y}" width="10" height="10" '
            f'fill="{PLATFORM_COLOURS.get(p, PLATFORM_COLOURS["other"])}"/>'
            f'<text x="{x + 14}" y="{legend_y + 9}">{esc(p)}</text>'
        )
    unit = "week" if step == 7 else "day"
    out.append(f'<text x="{left}" y="{height - 4}" fill="#555">posts per {unit} (UTC), stacked by platform</text>')
    return _svg(width, height, out, f"posts per {unit} by platform")


def zone(utc_offset_hours: float | None) -> str:
    """'UTC+3', 'UTC+5.5', 'UTC-4'; 'UTC' without an offset."""
    return "UTC" if utc_offset_hours is None else f"UTC{num(utc_offset_hours):+g}"


def _clock(hours: float) -> str:
    """'HH:MM' of a time of day given in hours (wrapped to one day)."""
    minutes = round(hours * 60) % 1440
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def utc_profile(figures: dict[str, Any]) -> list[float] | None:
    """The rhythm signal's 168 hourly counts in UTC (Monday 00:00 UTC first): ``profile_utc``, or, in
    findings that only have it, ``profile_local`` shifted back by ``utc_offset_hours`` (whole hours)."""
    utc = figures.get("profile_utc")
    if isinstance(utc, (list, tuple)):
        return [num(v) for v in utc]
    local = figures.get("profile_local")
    if not isinstance(local, (list, tuple)):
        return None
    values = [num(v) for v in list(local)[:168]] + [0.0] * max(0, 168 - len(local))
    shift = round(num(figures.get("utc_offset_hours")))
    # local hour i is UTC hour i - offset
    return [values[(i + shift) % 168] for i in range(168)]


def _office_cells(utc_offset_hours: float, office: tuple[int, int]) -> list[tuple[int, int, float, float]]:
    """The weekday office window (local hours) in UTC: (first day, days, first hour, last hour) boxes,
    one per run of days with the same hours (a window can cross midnight UTC, and Sunday into Monday)."""
    o0, o1 = office
    segments: set[tuple[int, float, float]] = set()
    for d in range(5):
        a = (d * 24 + o0 - utc_offset_hours) % 168
        b = a + (o1 - o0)
        while a < b:
            day_start = (a // 24) * 24
            end = min(b, day_start + 24)
            segments.add((int(day_start // 24) % 7, a - day_start, end - day_start))
            a = end
    boxes: list[tuple[int, int, float, float]] = []
    for day, h0, h1 in sorted(segments, key=lambda t: (t[1], t[2], t[0])):
        if boxes and boxes[-1][2:] == (h0, h1) and boxes[-1][0] + boxes[-1][1] == day:
            boxes[-1] = (boxes[-1][0], boxes[-1][1] + 1, h0, h1)
        else:
            boxes.append((day, 1, h0, h1))
    return sorted(boxes)


def heatmap(
    profile_utc: Sequence[Any], utc_offset_hours: float | None, office: tuple[int, int] = (9, 18), cell: int = 24
) -> Markup:
    """7 x 24 hour-of-week counts in UTC (Monday 00:00 UTC first), with the operators' local time beside it.

    With an inferred ``utc_offset_hours`` a second hour row under the grid
    gives the local hour ("local (UTC+3)"), every cell's title names the
    local day and time too, and the weekday office window (``office``, local
    hours) is outlined where it falls in UTC. Without one the chart is UTC
    only and nothing is outlined.
    """
    values = [max(num(v), 0.0) for v in list(profile_utc)[:168]]
    values += [0.0] * (168 - len(values))
    peak = max(values) or 1.0
    offset = None if utc_offset_hours is None else num(utc_offset_hours)
    local = zone(offset)
    left, top = 84, 18
    grid_bottom = top + 7 * cell
    width = left + 24 * cell + 10
    height = grid_bottom + (18 if offset is not None else 0) + 24
    out = [f'<text x="{left - 5}" y="{top - 5}" text-anchor="end" fill="#555">UTC</text>']
    for h in range(0, 24, 3):
        out.append(f'<text x="{_f(left + h * cell + cell / 2)}" y="{top - 5}" text-anchor="middle">{h:02d}</text>')
    if offset is not None:
        y = grid_bottom + 13
        out.append(f'<text x="{left - 5}" y="{y}" text-anchor="end" fill="#555">local ({esc(local)})</text>')
        for h in range(0, 24, 3):
            clock = _clock(h + offset)
            out.append(
                f'<text x="{_f(left + h * cell + cell / 2)}" y="{y}" text-anchor="middle" fill="#555">'
                f"{clock[:2] if clock.endswith(':00') else clock}</text>"
            )
    for d in range(7):
        y = top + d * cell
        out.append(f'<text x="{left - 5}" y="{_f(y + cell * 0.65)}" text-anchor="end">{DAYS[d]}</text>')
        for h in range(24):
            v = values[d * 24 + h]
            # square-root scale: a few very busy hours should not wash out the rest
            shade = math.sqrt(v / peak)
            r, g, b = (round(255 - shade * (255 - c)) for c in (8, 48, 107))
            beside = ""
            if offset is not None:
                at = d * 24 + h + offset
                beside = f" ({DAYS[int(at // 24) % 7]} {_clock(at)} {local})"
            out.append(
                f'<rect x="{left + h * cell}" y="{y}" width="{cell - 1}" height="{cell - 1}" '
                f'fill="#{r:02x}{g:02x}{b:02x}"><title>{DAYS[d]} {h:02d}:00-{h:02d}:59 UTC{esc(beside)}: '
                f"{v:,.0f} posts</title></rect>"
            )
    o0, o1 = office
    if offset is not None:
        for day, days, h0, h1 in _office_cells(offset, office):
            out.append(
                f'<rect x="{_f(left + h0 * cell - 1)}" y="{top + day * cell - 1}" width="{_f((h1 - h0) * cell)}" '
                f'height="{days * cell}" fill="none" stroke="#D55E00" stroke-width="2" stroke-dasharray="5 3"/>'
            )
        note = f"dashed: weekday office hours {o0:02d}-{o1:02d} {esc(local)}"
    else:
        note = "no UTC offset inferred"
    out.append(
        f'<text x="{left}" y="{height - 8}" fill="#555">UTC days and hours; {note}; '
        f"darkest = {peak:,.0f} posts/hour</text>"
    )
    label = "hour-of-week activity, UTC" + (f", local {local}" if offset is not None else "")
    return _svg(width, height, out, label)


HOLIDAY_BARS = (
    ("workday_mean", "ordinary working day", "#0072B2"),
    ("holiday_mean", "public holiday on a weekday", "#D55E00"),
    ("weekend_mean", "ordinary weekend day", "#999999"),
    ("transferred_mean", "transferred working day", "#009E73"),
)


def holiday_bars(ranking: Sequence[dict[str, Any]], top: int = 4, width: int = 640) -> Markup:
    """Mean posts per day on holidays vs working days (and transferred working days vs weekends)
    for the first ``top`` countries of the holiday ranking."""
    rows = [r for r in ranking if isinstance(r, dict)][:top]
    if not rows:
        return _svg(width, 40, ['<text x="8" y="24">No country ranked.</text>'], "empty holiday comparison")
    peak = max((num(r.get(k)) for r in rows for k, _, _ in HOLIDAY_BARS), default=0.0) or 1.0
    left, label_w, bar_h, gap = 8, 190, 13, 12
    plot_w = width - left - label_w - 70
    out, y = [], 8
    for r in rows:
        name = f"{r.get('rank', '')}. {r.get('country_name') or r.get('country') or '?'} ({r.get('country', '')})"
        out.append(
            f'<text x="{left}" y="{y + 11}"><tspan font-weight="bold">{esc(name)}</tspan>'
            f'<tspan fill="#555" dx="8">p = {num(r.get("p_value"), 1):.3g}, '
            f"family-wise p = {num(r.get('p_family'), 1):.3g}</tspan></text>"
        )
        y += 17
        for key, label, colour in HOLIDAY_BARS:
            if r.get(key) is None or (key == "transferred_mean" and not num(r.get("transferred"))):
                continue
            v = num(r.get(key))
            w = plot_w * v / peak
            out.append(
                f'<text x="{left + label_w - 6}" y="{y + 10}" text-anchor="end" fill="#333">{label}</text>'
                f'<rect x="{left + label_w}" y="{y}" width="{_f(max(w, 0.5))}" height="{bar_h - 2}" '
                f'fill="{colour}"><title>{esc(name)}: {label}, {v:,.1f} posts per day</title></rect>'
                f'<text x="{_f(left + label_w + w + 4)}" y="{y + 10}">{v:,.1f}</text>'
            )
            y += bar_h
        y += gap
    out.append(
        f'<text x="{left}" y="{y + 2}" fill="#555">mean posts per local day; a ranking is a hint, '
        f"never an attribution</text>"
    )
    return _svg(width, y + 10, out, "holiday comparison")


def _key(platform: Any, account_id: Any) -> tuple[str, str]:
    return (clean(platform if platform is not None else "other"), clean(account_id))


def _endpoint(edge: dict[str, Any] | Sequence[Any], side: str) -> tuple[str, str] | None:
    """An edge end as (platform, account_id). Edges are findings.json rows
    [from_platform, from, to_platform, to, weight, ...], or objects with 'from'/'to' (+ '<side>_platform')
    or 'source'/'target' [platform, id] pairs."""
    if isinstance(edge, (list, tuple)):
        if len(edge) < 4:
            return None
        return _key(edge[0], edge[1]) if side == "from" else _key(edge[2], edge[3])
    alt = {"from": "source", "to": "target"}[side]
    v = edge.get(side, edge.get(alt))
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return _key(v[0], v[1])
    if v is None:
        return None
    return _key(edge.get(f"{side}_platform", "other"), v)


def _pick_links(
    links: dict[tuple[tuple[str, str], tuple[str, str]], float], index: dict[tuple[str, str], int], max_edges: int
) -> list[tuple[float, tuple[tuple[str, str], tuple[str, str]]]]:
    """Links among drawn accounts: each account's strongest link first (so none floats free when
    the heaviest links all sit in one corner), then the heaviest others up to ``max_edges``."""
    inside = sorted(((w, p) for p, w in links.items() if p[0] in index and p[1] in index), key=lambda t: (-t[0], t[1]))
    chosen: dict[tuple[tuple[str, str], tuple[str, str]], float] = {}
    covered: set[tuple[str, str]] = set()
    for w, p in inside:
        if p[0] not in covered or p[1] not in covered:
            chosen[p] = w
            covered.update(p)
    for w, p in inside:
        if len(chosen) >= max_edges:
            break
        chosen.setdefault(p, w)
    return sorted(((w, p) for p, w in chosen.items()), key=lambda t: (-t[0], t[1]))


def _layout(g: ig.Graph, weights: list[float], start: list[list[float]]) -> list[list[float]]:
    """Fruchterman-Reingold from ``start``; igraph draws jitter from Python's ``random``, so seed it
    for the call and put the caller's random state back."""
    state = random.getstate()
    random.seed(0)
    try:
        return g.layout_fruchterman_reingold(weights=weights, seed=start, niter=150, grid="nogrid").coords
    finally:
        random.setstate(state)


@dataclass(frozen=True)
class NetworkPicture:
    svg: Markup
    nodes_total: int
    nodes_drawn: int
    edges_total: int
    edges_drawn: int


def network(
    nodes: Sequence[dict[str, Any]], edges: Sequence[Any], max_nodes: int = 300, max_edges: int = 1200, size: int = 760
) -> NetworkPicture:
    """Accounts as dots (colour = platform, dark ring = core) and co-action links, laid out
    by Fruchterman-Reingold (igraph) from a circle, so the same input gives the same picture.

    Above ``max_nodes`` the core accounts and then the best-connected ones
    are drawn; above ``max_edges`` the heaviest links among them.
    """
    info: dict[tuple[str, str], dict[str, Any]] = {}
    for n in nodes:
        if isinstance(n, dict):
            info.setdefault(_key(n.get("platform"), n.get("account_id")), n)
    strength: dict[tuple[str, str], float] = {}
    links: dict[tuple[tuple[str, str], tuple[str, str]], float] = {}
    for e in edges:
        if not isinstance(e, (dict, list, tuple)):
            continue
        a, b = _endpoint(e, "from"), _endpoint(e, "to")
        if a is None or b is None or a == b:
            continue
        w = num(e.get("weight") if isinstance(e, dict) else (e[4] if len(e) > 4 else None), 1.0)
        pair = (a, b) if a < b else (b, a)
        links[pair] = links.get(pair, 0.0) + w
        for k in pair:
            strength[k] = strength.get(k, 0.0) + w
            info.setdefault(k, {"platform": k[0], "account_id": k[1]})
    total_nodes, total_edges = len(info), len(links)
    if not info:
        svg = _svg(size, 40, ['<text x="8" y="24">No network edges for this campaign.</text>'], "empty network")
        return NetworkPicture(svg, 0, 0, 0, 0)
    ranked = sorted(info, key=lambda k: (info[k].get("role") != "core", -strength.get(k, 0.0), k))
    kept = ranked[:max_nodes]
    index = {k: i for i, k in enumerate(kept)}
    drawn = _pick_links(links, index, max_edges)
    n = len(kept)
    g = ig.Graph(n=n, edges=[(index[a], index[b]) for _, (a, b) in drawn])
    linked = [i for i, d in enumerate(g.degree()) if d > 0]
    alone = [i for i in range(n) if i not in set(linked)]
    start = [[math.cos(2 * math.pi * i / n), math.sin(2 * math.pi * i / n)] for i in range(n)]
    coords = _layout(g, [w for w, _ in drawn], start) if drawn else start
    # small networks get a small box: six dots on a page-wide canvas say less, not more
    pad, width = 16, min(size, 240 + 40 * n)
    height = int(width * 0.7)
    # accounts without a drawn link go in rows under the picture: the force layout would fling
    # them to the edges and squash the linked ones into a corner
    per_row = max(int((width - 2 * pad) // 14), 1)
    alone_rows = (len(alone) + per_row - 1) // per_row if linked else 0
    pos: list[tuple[float, float]] = [(0.0, 0.0)] * n
    box = linked or list(range(n))
    xs, ys = [coords[i][0] for i in box], [coords[i][1] for i in box]
    x0, y0 = min(xs), min(ys)
    # each axis stretched to the box: the picture shows who links to whom, not distances
    sx, sy = (width - 2 * pad) / max(max(xs) - x0, 1e-9), (height - 2 * pad) / max(max(ys) - y0, 1e-9)
    for i in box:
        pos[i] = (pad + (coords[i][0] - x0) * sx, pad + (coords[i][1] - y0) * sy)
    if linked:
        for j, i in enumerate(alone):
            pos[i] = (pad + (j % per_row) * 14, height + 8 + (j // per_row) * 14)
        height += alone_rows * 14 + (8 if alone_rows else 0)
    wmax = max((w for w, _ in drawn), default=1.0) or 1.0
    out = ['<g stroke="#555">']
    for w, (a, b) in drawn:
        (xa, ya), (xb, yb) = pos[index[a]], pos[index[b]]
        out.append(
            f'<line x1="{_f(xa)}" y1="{_f(ya)}" x2="{_f(xb)}" y2="{_f(yb)}" '
            f'stroke-opacity="{0.15 + 0.6 * w / wmax:.2f}"/>'
        )
    out.append("</g>")
    smax = max(strength.values(), default=1.0) or 1.0
    for k in kept:
        x, y = pos[index[k]]
        node = info[k]
        r = 2.5 + 4.5 * math.sqrt(strength.get(k, 0.0) / smax)
        colour = PLATFORM_COLOURS.get(k[0], PLATFORM_COLOURS["other"])
        ring = (
            ' stroke="#000" stroke-width="1.2"' if node.get("role") == "core" else ' stroke="#fff" stroke-width="0.5"'
        )
        name = node.get("handle") or k[1]
        out.append(
            f'<circle cx="{_f(x)}" cy="{_f(y)}" r="{_f(r)}" fill="{colour}"{ring}>'
            f"<title>{esc(name)} ({esc(k[0])}, {esc(node.get('role') or 'member')})</title></circle>"
        )
    platforms = sorted({k[0] for k in kept})
    legend_y = height + 4
    for i, p in enumerate(platforms[:8]):
        x = 8 + i * 90
        out.append(
            f'<circle cx="{x + 5}" cy="{legend_y + 6}" r="5" fill="{PLATFORM_COLOURS.get(p, "#777")}"/>'
            f'<text x="{x + 14}" y="{legend_y + 10}">{esc(p)}</text>'
        )
    out.append(
        f'<text x="8" y="{legend_y + 26}" fill="#555">dark ring: core account; size: link strength; '
        f"{n:,} of {total_nodes:,} accounts, {len(drawn):,} of {total_edges:,} links drawn</text>"
    )
    return NetworkPicture(
        _svg(width, height + 36, out, "coordination network"), total_nodes, n, total_edges, len(drawn)
    )
