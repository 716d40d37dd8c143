"""The HTML report: one self-contained, offline file from a findings document.

``render_html(findings)`` turns the findings.json dict
(docs/findings-schema.md) into one HTML page: per campaign the summary
sentences with links to their evidence, score parts, scale, timeline,
hour-of-week heatmap, holiday comparison, network picture, top messages and
their copies, hashtags, narratives, DISARM ids, accounts and one evidence
table per signal; then method, parameters and limits.

Safety: post text, handles, names and bios are written by the adversary.
Jinja2 autoescapes everything; SVG is built with ``svg.esc``; only http(s)
URLs become links (``rel="noopener noreferrer"``); the page carries no
script and a Content-Security-Policy that forbids loading anything, so a
hostile string can neither run nor make the reader's browser fetch a URL.

Size: tables are capped (``ReportLimits``) with an "and N more in
findings.json" line, so a big case still gives a file a browser opens.
docs/report.md describes each section.

Why this module is long: one builder per report section, each short, kept
in the one module that escapes every string, so no section can bypass it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

from ..campaigns import disarm
from ..campaigns.verdict import LABELS, TIERS
from . import svg
from .svg import clean, num

TEMPLATES = Path(__file__).parent / "templates"
PLATFORM_NAMES = {
    "x": "X",
    "telegram": "Telegram",
    "tiktok": "TikTok",
    "youtube": "YouTube",
    "facebook": "Facebook",
    "instagram": "Instagram",
    "bluesky": "Bluesky",
    "vk": "VK",
    "other": "other platforms",
}
SCORE_PARTS = ("coordination", "copypasta", "automation", "rhythm", "account_patterns", "impersonation")
DISARM_ID = re.compile(r"T\d{4}(\.\d{3})?")
DISARM_URL = disarm.DISARM_REPOSITORY + "/blob/" + disarm.DISARM_COMMIT + "/generated_pages/techniques/{}.md"
LIMITS_TEXT = (
    "Scores are evidence for an analyst, not an attribution: a high score says that these accounts behave "
    "in a coordinated, possibly automated way, not who runs them or why.",
    "The holiday ranking is a hint, never an attribution: countries share holidays, and operators can keep "
    "a client's or another country's calendar. A fitted UTC offset says that office hours line up with it; "
    "many countries share an offset.",
    "Absence is not innocence: only the posts in the case were analysed, and platforms' exports omit "
    "deleted and suspended accounts.",
    "Tables in this report are capped; the complete evidence (every post id) is in findings.json.",
)


@dataclass(frozen=True)
class ReportLimits:
    """Caps that keep a big case's report a file a browser opens (the full data is in findings.json).

    - ``evidence_rows`` 50 per signal: enough to read the pattern, and to print.
    - ``evidence_rows_per_campaign`` 300: later signals of a big campaign
      get fewer rows (never under 10), so 50 campaigns stay a file of MBs.
    - ``signal_blocks`` 12 per campaign get a full evidence table (cited
      signals first); the rest are listed one line each, still linkable.
    - ``network_nodes`` 300: beyond that a static drawing is a hairball.
    """

    evidence_rows: int = 50
    evidence_rows_per_campaign: int = 300
    account_rows: int = 200
    signal_blocks: int = 12
    signal_lines: int = 200
    messages: int = 10
    copies: int = 5
    hashtags: int = 25
    narratives: int = 30
    network_nodes: int = 300
    network_edges: int = 1200
    holiday_countries: int = 4
    excerpt_chars: int = 200
    figures: int = 30
    figure_rows: int = 100  # rows of a signal's table of figures (impersonation matches, a batch's accounts)
    parameters: int = 400
    labels: int = 500


def safe_url(value: Any) -> str | None:
    """``value`` when it is an absolute http(s) URL without spaces or control characters, else None.

    Anything else (``javascript:``, ``data:``, relative paths) stays text.
    """
    if not isinstance(value, str):
        return None
    url = value.strip()
    if not url or len(url) > 2048 or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme.lower() in ("http", "https") and parts.netloc else None


def excerpt(text: Any, limit: int) -> str:
    """At most ``limit`` characters of cleaned text, whitespace runs as one space."""
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    s = " ".join(clean(raw[: 4 * limit]).split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


ISO_TIME = re.compile(r"(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(:\d{2})?)(\.\d+)?(Z|[+-]00:?00)?")


def fmt_time(value: Any) -> str:
    """ISO time as 'YYYY-MM-DD HH:MM:SS' (UTC as stored), anything else as text."""
    if value is None:
        return ""
    s = clean(value)
    m = ISO_TIME.fullmatch(s)
    return f"{m.group(1)} {m.group(2)}" if m else s


def _records(value: Any) -> bool:
    """A non-empty list of flat-ish records (dicts), shown as a table."""
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


# Figures that are columns of one table, by signal type: lists of one length, row i of each about one thing.
PARALLEL_FIGURES = {"creation_batch": ("handles", "created")}


def _parallel(sig: dict[str, Any]) -> list[str]:
    """The signal's figures that are columns of one table (``PARALLEL_FIGURES``), when all are there and of
    one length; else none."""
    fig = _mapping(sig.get("figures"))
    keys = PARALLEL_FIGURES.get(clean(sig.get("type")), ())
    lists = [fig.get(k) for k in keys]
    if not keys or not all(isinstance(v, list) for v in lists) or len({len(v) for v in lists}) != 1:
        return []
    return list(keys)


def fmt_value(value: Any) -> str:
    """A figure for a key/value table: numbers rounded, long lists and objects summarised."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (list, tuple)):
        if all(not isinstance(v, (list, dict)) for v in value):
            shown = ", ".join(fmt_value(v) for v in value[:12])
            return shown if len(value) <= 12 else f"{shown} and {len(value) - 12:,} more (findings.json)"
        return f"({len(value):,} values in findings.json)"
    if isinstance(value, dict):
        return f"({len(value):,} fields in findings.json)"
    text = excerpt(value, 200)
    return fmt_time(text) if ISO_TIME.fullmatch(text) else text


@lru_cache(maxsize=256)
def language_name(code: str) -> str:
    """'az' -> 'Azerbaijani' (lingua's table), unknown codes as given."""
    from lingua import IsoCode639_1, Language

    try:
        return Language.from_iso_code_639_1(IsoCode639_1.from_str(code.strip().lower())).name.title()
    except (ValueError, AttributeError, TypeError):
        return {"und": "undetermined", "": "undetermined"}.get(code, code)


def platform_name(code: Any) -> str:
    return PLATFORM_NAMES.get(str(code).lower(), clean(code))


class _Anchors:
    """Unique, attribute-safe ids for signals, messages and campaigns (ids come from the data)."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], str] = {}
        self.used: set[str] = set()

    def add(self, kind: str, ident: Any) -> str:
        key = (kind, clean(ident))
        if key not in self.by_key:
            base = f"{kind}-" + (re.sub(r"[^A-Za-z0-9_.-]", "_", key[1])[:64] or "x")
            anchor, i = base, 1
            while anchor in self.used:
                i += 1
                anchor = f"{base}-{i}"
            self.used.add(anchor)
            self.by_key[key] = anchor
        return self.by_key[key]

    def get(self, kind: str, ident: Any) -> str | None:
        return self.by_key.get((kind, clean(ident)))


def _post_ref(ref: Any) -> tuple[str, str]:
    """An evidence post id as (platform, post_id): [platform, id], 'platform:id' or a bare id."""
    if isinstance(ref, (list, tuple)) and len(ref) == 2:
        return clean(ref[0]), clean(ref[1])
    s = clean(ref)
    if ":" in s:
        platform, _, post_id = s.partition(":")
        return platform, post_id
    return "", s


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, (list, tuple)) else []


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, (list, tuple)) else []


def _mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


class _Builder:
    """Turns a findings dict into the plain values the template shows (no logic left in the template)."""

    def __init__(
        self,
        findings: dict[str, Any],
        posts: Mapping[str, dict[str, Any]] | None,
        limits: ReportLimits,
        labels: list[dict[str, Any]] | None = None,
    ) -> None:
        self.f = findings
        self.posts = posts or {}
        self.lim = limits
        self.labels = _dicts(labels)
        from ..labels import applied_to

        # label_id -> {campaign, overlap}: which campaign of this document each campaign label applies to
        self.applied = applied_to(self.labels, findings)
        self.label_of = {v["campaign"]: k for k, v in self.applied.items()}
        self.anchors = _Anchors()
        self.signals = {clean(s.get("id")): s for s in _dicts(findings.get("signals"))}
        self.campaigns = _dicts(findings.get("campaigns"))
        self.camp_ids = {clean(c.get("id")) for c in self.campaigns}
        # which signals get a full section, which one line, which only findings.json; only the
        # first two get anchors, so no link points at nothing
        self.plan: list[tuple[list[dict[str, Any]], list[dict[str, Any]], int]] = []
        placed: set[str] = set()
        self.offsets: dict[str, float | None] = {}
        self.sig_offset: dict[str, float | None] = {}
        for c in self.campaigns:
            self.anchors.add("camp", c.get("id"))
            # a signal cited by two campaigns is shown once, in the first
            sigs = [s for s in self.campaign_signals(c) if clean(s.get("id")) not in placed]
            cited = {clean(e) for s in _dicts(c.get("explanation")) for e in _list(s.get("evidence"))}
            self.plan.append(self._split(sorted(sigs, key=lambda s: clean(s.get("id")) not in cited)))
            placed.update(clean(s.get("id")) for s in sigs)
            # times in this campaign's tables get the operators' local time beside them, where inferred
            offset = inferred_offset(self.campaign_signals(c))
            self.offsets[clean(c.get("id"))] = offset
            for s in sigs:
                self.sig_offset[clean(s.get("id"))] = offset
        self.loose = self._split([s for sid, s in self.signals.items() if sid not in placed])
        for full, lines, _ in [*self.plan, self.loose]:
            for s in full + lines:
                self.anchors.add("sig", s.get("id"))
        techniques = findings.get("disarm_techniques")
        if isinstance(techniques, Mapping):
            self.disarm_names = {clean(k): clean(v) for k, v in techniques.items()}
        else:
            self.disarm_names = {clean(t.get("id")): clean(t.get("name", "")) for t in _dicts(techniques)}

    def _split(self, sigs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        full, rest = sigs[: self.lim.signal_blocks], sigs[self.lim.signal_blocks :]
        return full, rest[: self.lim.signal_lines], max(len(rest) - self.lim.signal_lines, 0)

    # -- small pieces -----------------------------------------------------------------------
    def post(self, platform: str, post_id: str) -> dict[str, Any]:
        p = self.posts.get(f"{platform}:{post_id}")
        return p if isinstance(p, dict) else {}

    def refs(self, ids: Any) -> list[dict[str, Any]]:
        """Cited ids as links where the document has them (signals, then messages), text otherwise."""
        out = []
        for ident in _list(ids):
            anchor = self.anchors.get("sig", ident) or self.anchors.get("msg", ident)
            out.append({"label": clean(ident), "anchor": anchor})
        return out

    def campaign_signals(self, c: dict[str, Any]) -> list[dict[str, Any]]:
        return campaign_signals(self.signals, c)

    def post_rows(
        self, refs: list[Any], times: list[Any], cap: int, offset: float | None = None
    ) -> list[dict[str, Any]]:
        """Table rows for cited posts: platform, id, time (UTC, and local at ``offset``), account, excerpt,
        link (http(s) only)."""
        rows = []
        for i, ref in enumerate(refs[:cap]):
            platform, post_id = _post_ref(ref)
            p = self.post(platform, post_id)
            when = times[i] if i < len(times) else p.get("created_at")
            rows.append(
                {
                    "platform": platform_name(platform) if platform else "",
                    "post_id": post_id,
                    "time": fmt_time(when),
                    "local": local_time(when, offset),
                    "account": clean(p.get("handle") or p.get("account_id") or ""),
                    "text": excerpt(p.get("text"), self.lim.excerpt_chars) if p else "",
                    "url": safe_url(p.get("url")),
                }
            )
        return rows

    def evidence_rows(self, sig: dict[str, Any], cap: int) -> tuple[list[dict[str, Any]], int]:
        ev = _mapping(sig.get("evidence"))
        offset = self.sig_offset.get(clean(sig.get("id")))
        rows = self.post_rows(_list(ev.get("post_ids")), _list(ev.get("times")), cap, offset)
        return rows, _evidence_total(ev) - len(rows)

    def figures(self, sig: dict[str, Any]) -> list[tuple[str, str]]:
        items = [(k, v) for k, v in _mapping(sig.get("figures")).items() if k not in self._tabled(sig)]
        return [(clean(k), fmt_value(v)) for k, v in items[: self.lim.figures]]

    @staticmethod
    def _tabled(sig: dict[str, Any]) -> set[str]:
        """Figures shown as a table (``figure_tables``), not as a count of values."""
        fig = _mapping(sig.get("figures"))
        records = {k for k, v in fig.items() if _records(v)}
        return records | set(_parallel(sig))

    def figure_tables(self, sig: dict[str, Any]) -> list[dict[str, Any]]:
        """The signal's tabular figures, whole up to ``figure_rows``: a list of records (impersonation's
        matches: one row each, a column per field) and lists of equal length side by side (a creation
        batch's handles and creation times). The rest of a long list: "and N more in findings.json"."""
        fig = _mapping(sig.get("figures"))
        cap = self.lim.figure_rows
        tables = []
        for key, value in fig.items():
            if not _records(value):
                continue
            heads = list(dict.fromkeys(k for r in value for k in r if not isinstance(r.get(k), (dict, list))))
            shared = {
                h: value[0].get(h) for h in heads if len({clean(r.get(h)) for r in value}) == 1 and len(value) > 1
            }
            heads = [h for h in heads if h not in shared]  # a value every row shares is said once, below
            rows = [[fmt_value(r.get(h)) if r.get(h) is not None else "" for h in heads] for r in value[:cap]]
            note = "; ".join(f"{clean(h).replace('_', ' ')}: {fmt_value(v)}" for h, v in shared.items())
            tables.append(self._figure_table(key, heads, rows, len(value) - len(rows), note))
        columns = _parallel(sig)
        if columns:
            n = len(fig[columns[0]])
            rows = [[fmt_value(fig[c][i]) for c in columns] for i in range(min(n, cap))]
            tables.append(self._figure_table(" and ".join(columns), columns, rows, n - len(rows), ""))
        return tables

    @staticmethod
    def _figure_table(title: str, heads: list[str], rows: list[list[str]], more: int, note: str) -> dict[str, Any]:
        return {
            "title": clean(title).replace("_", " "),
            "heads": [clean(h).replace("_", " ") for h in heads],
            "rows": rows,
            "more": more,
            "note": note,
        }

    def signal_view(self, sig: dict[str, Any], chart: bool, rows_cap: int | None = None) -> dict[str, Any]:
        rows, more = self.evidence_rows(sig, self.lim.evidence_rows if rows_cap is None else rows_cap)
        accounts = _list(sig.get("accounts"))
        view = {
            "id": clean(sig.get("id")),
            "anchor": self.anchors.get("sig", sig.get("id")),
            "type": clean(sig.get("type") or "signal"),
            "summary": clean(sig.get("summary") or ""),
            "test": clean(sig.get("test") or ""),
            "figures": self.figures(sig),
            "figure_tables": self.figure_tables(sig),
            "accounts": len(accounts),
            "rows": rows,
            "more": more,
            "chart": None,
            "caption": "",
        }
        if chart:
            view["chart"], view["caption"] = self.signal_chart(sig)
        return view

    def blocks(self, sigs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Full signal sections sharing the campaign's evidence-row budget, in order."""
        out, left = [], self.lim.evidence_rows_per_campaign
        for s in sigs:
            view = self.signal_view(s, False, max(min(self.lim.evidence_rows, left), 10))
            left -= len(view["rows"])
            out.append(view)
        return out

    def signal_line(self, sig: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": clean(sig.get("id")),
            "anchor": self.anchors.get("sig", sig.get("id")),
            "type": clean(sig.get("type") or "signal"),
            "summary": excerpt(sig.get("summary"), 300),
            "posts": _evidence_total(_mapping(sig.get("evidence"))),
        }

    def signal_chart(self, sig: dict[str, Any]) -> tuple[Markup | None, str]:
        return signal_chart(sig, self.lim.holiday_countries)

    # -- campaign parts ---------------------------------------------------------------------
    def timeline(
        self, c: dict[str, Any], sigs: list[dict[str, Any]], members: set[tuple[str, str]]
    ) -> tuple[Markup, str]:
        return campaign_timeline(c, sigs, self.posts, members)

    def messages(self, c: dict[str, Any], sigs: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], int]:
        raw = _dicts(c.get("messages"))
        if not raw:
            for s in sigs:
                if s.get("type") != "copypasta":
                    continue
                fig, ev = _mapping(s.get("figures")), _mapping(s.get("evidence"))
                raw.append(
                    {
                        "id": fig.get("cluster_id") or s.get("id"),
                        "signal": s.get("id"),
                        "text": fig.get("text"),
                        "posts": fig.get("posts"),
                        "accounts": fig.get("accounts", len(_list(s.get("accounts")))),
                        "post_ids": ev.get("post_ids"),
                        "times": ev.get("times"),
                    }
                )
        raw.sort(key=lambda m: -num(m.get("posts"), len(_list(m.get("post_ids")))))
        out = []
        for m in raw[: self.lim.messages]:
            refs = _list(m.get("post_ids"))
            copies = self.post_rows(refs, _list(m.get("times")), self.lim.copies, self.offsets.get(clean(c.get("id"))))
            text = m.get("text")
            if not text and refs:
                text = self.post(*_post_ref(refs[0])).get("text")
            n_posts = int(num(m.get("posts"), len(refs)))
            out.append(
                {
                    "id": clean(m.get("id")),
                    "anchor": self.anchors.add("msg", m.get("id")),
                    "text": excerpt(text or "(text not in the report's posts)", 4 * self.lim.excerpt_chars),
                    "posts": n_posts,
                    "accounts": int(num(m.get("accounts"))),
                    "signal": self.refs([m["signal"]]) if m.get("signal") else [],
                    "copies": copies,
                    "more": max(len(refs) - len(copies), n_posts - len(copies), 0),
                }
            )
        return out, max(len(raw) - len(out), 0)

    def accounts(self, c: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
        accs = _dicts(c.get("accounts"))
        accs = sorted(accs, key=lambda a: a.get("role") != "core")  # stable: core first, input order kept
        rows = []
        for a in accs[: self.lim.account_rows]:
            rows.append(
                {
                    "role": clean(a.get("role") or ""),
                    "platform": platform_name(a.get("platform")),
                    "handle": clean(a.get("handle") or ""),
                    "display_name": excerpt(a.get("display_name"), 80),
                    "account_id": clean(a.get("account_id") or ""),
                    "url": safe_url(a.get("url")),
                    "signals": self.refs(a.get("signals")),
                }
            )
        return rows, len(accs) - len(rows)

    def network(self, c: dict[str, Any]) -> svg.NetworkPicture | None:
        net = _mapping(c.get("network"))
        edges = [e for e in _list(net.get("edges")) if isinstance(e, (dict, list, tuple))]
        if not edges:
            return None
        nodes = _dicts(c.get("accounts")) + _dicts(net.get("nodes"))
        return svg.network(nodes, edges, self.lim.network_nodes, self.lim.network_edges)

    @staticmethod
    def network_truncated(c: dict[str, Any]) -> int:
        return int(num(_mapping(c.get("network")).get("truncated")))

    def disarm(self, c: dict[str, Any]) -> list[dict[str, Any]]:
        """Technique ids with their names and pages from the packaged DISARM table (pinned commit)."""
        known = disarm.techniques()
        out = []
        for t in _list(c.get("disarm")):
            tid, name = (t.get("id"), t.get("name")) if isinstance(t, dict) else (t, None)
            tid = clean(tid)
            tech = known.get(tid)
            url = tech.url if tech else (DISARM_URL.format(tid) if DISARM_ID.fullmatch(tid) else None)
            out.append(
                {"id": tid, "name": clean(name or (tech.name if tech else self.disarm_names.get(tid, ""))), "url": url}
            )
        return out

    def campaign(self, c: dict[str, Any], index: int) -> dict[str, Any]:
        sigs = self.campaign_signals(c)
        full, lines, omitted = self.plan[index]
        messages, more_messages = self.messages(c, sigs)  # before explanation: message anchors
        counts = _mapping(c.get("counts"))
        per_platform = sorted(_mapping(counts.get("per_platform")).items(), key=lambda kv: -num(kv[1]))
        per_language = sorted(_mapping(counts.get("per_language")).items(), key=lambda kv: -num(kv[1]))
        parts = _mapping(c.get("score_parts"))
        contrib = _mapping(c.get("score_contributions"))
        keys = [k for k in SCORE_PARTS if k in parts] + [k for k in parts if k not in SCORE_PARTS]
        keys += [k for k in contrib if k not in keys]
        members = {(clean(a.get("platform")), clean(a.get("account_id"))) for a in _dicts(c.get("accounts"))}
        timeline, timeline_source = self.timeline(c, sigs, members)
        rhythm = next((s for s in sigs if s.get("type") == "rhythm"), None)
        holiday = next((s for s in sigs if s.get("type") == "holiday"), None)
        accounts, more_accounts = self.accounts(c)
        hashtags = _dicts(c.get("hashtags"))
        narratives = _dicts(c.get("narratives"))
        shifts = [s for s in sigs if s.get("type") == "narrative_shift"]
        offset = self.offsets.get(clean(c.get("id")))
        return {
            "id": clean(c.get("id")),
            "anchor": self.anchors.add("camp", c.get("id")),
            "label": self.campaign_label(c),
            "score": num(c.get("score")),
            "verdict": _verdict(c),
            # bars: each part's contribution to the score where given, else the part's own value (0-1)
            "parts": [
                {
                    "name": clean(k).replace("_", " "),
                    "value": parts.get(k),
                    "contribution": contrib.get(k) if contrib else None,
                    "pct": round(100 * min(max(num(contrib.get(k) if contrib else parts.get(k)), 0.0), 1.0), 1),
                }
                for k in keys
            ],
            "has_contributions": bool(contrib),
            "explanation": [
                {"text": clean(s.get("text") or ""), "refs": self.refs(s.get("evidence"))}
                for s in _dicts(c.get("explanation"))
            ],
            "counts": {k: int(num(counts.get(k))) for k in ("accounts", "posts", "profiles") if k in counts},
            "per_platform": [{"name": platform_name(k), "n": int(num(v))} for k, v in per_platform],
            "per_language": [
                {"name": language_name(clean(k)), "code": clean(k), "n": int(num(v))} for k, v in per_language
            ],
            "first_seen": fmt_time(c.get("first_seen")),
            "last_seen": fmt_time(c.get("last_seen")),
            "seen_local": (
                f"{local_time(c.get('first_seen'), offset)} to {local_time(c.get('last_seen'), offset)}"
                if local_time(c.get("first_seen"), offset)
                else ""
            ),
            "active_days": c.get("active_days"),
            "timeline": timeline,
            "timeline_source": timeline_source,
            "rhythm": self.signal_view(rhythm, False) if rhythm else None,
            "heatmap": self.signal_chart(rhythm) if rhythm else (None, ""),
            "holiday": self.signal_view(holiday, False) if holiday else None,
            "holiday_chart": self.signal_chart(holiday) if holiday else (None, ""),
            "network": self.network(c),
            "network_truncated": self.network_truncated(c),
            "messages": messages,
            "more_messages": more_messages,
            "hashtags": [
                {
                    "tag": clean(h.get("tag") or ""),
                    "posts": int(num(h.get("posts"))),
                    "share": h.get("share_of_all_uses"),
                    "pct": round(100 * min(max(num(h.get("share_of_all_uses")), 0.0), 1.0), 1),
                }
                for h in hashtags[: self.lim.hashtags]
            ],
            "more_hashtags": max(len(hashtags) - self.lim.hashtags, 0),
            "domains": [
                {"domain": clean(d.get("domain") or ""), "posts": int(num(d.get("posts")))}
                for d in _dicts(c.get("domains"))[: self.lim.hashtags]
            ],
            "narratives": [
                {
                    "period": clean(n.get("period") or ""),
                    "keywords": [clean(k) for k in _list(n.get("keywords"))[:12]],
                    "terms": [clean(k) for k in _list(n.get("terms"))[:12]],
                    "messages": self.refs(_list(n.get("messages"))[:8]),
                }
                for n in narratives[: self.lim.narratives]
            ],
            "narrative_messages": any(_list(n.get("messages")) for n in narratives),
            "more_narratives": max(len(narratives) - self.lim.narratives, 0),
            "shifts": [self.signal_view(s, False, 0) | {"date": _shift_day(s)} for s in shifts],
            "disarm": self.disarm(c),
            "accounts": accounts,
            "more_accounts": more_accounts,
            "signal_blocks": self.blocks(full),
            "signal_lines": [self.signal_line(s) for s in lines],
            "signals_omitted": omitted,
        }

    # -- analyst labels ---------------------------------------------------------------------
    def _label_view(self, lab: dict[str, Any]) -> dict[str, Any]:
        return {
            "label": clean(lab.get("label") or ""),
            "author": clean(lab.get("author") or ""),
            "when": fmt_time(lab.get("created_at")),
            "note": clean(lab.get("note") or ""),
            "history": int(num(lab.get("history"), 1)),
        }

    def campaign_label(self, c: dict[str, Any]) -> dict[str, Any] | None:
        """The label that applies to this campaign (carried from an earlier run by member overlap)."""
        lid = self.label_of.get(c.get("id"))
        lab = next((x for x in self.labels if x.get("label_id") == lid), None) if lid else None
        if lab is None:
            return None
        run = _mapping(self.f.get("manifest")).get("run_id")
        carried = lab.get("target_id") != c.get("id") or (lab.get("run_id") not in (None, run))
        return self._label_view(lab) | {
            "overlap": self.applied[lid]["overlap"],
            "carried": carried,
            "origin": clean(lab.get("target_id") or ""),
        }

    def label_rows(self) -> tuple[list[dict[str, Any]], int]:
        """Current labels, campaigns first, each with its target in words and where it applies now."""
        members: dict[tuple[str, str], list[str]] = {}
        for c in self.campaigns:
            for a in _dicts(c.get("accounts")):
                members.setdefault((clean(a.get("platform")), clean(a.get("account_id"))), []).append(
                    clean(c.get("id"))
                )
        rows = []
        ordered = sorted(self.labels, key=lambda x: x.get("target_type") != "campaign")
        for lab in ordered[: self.lim.labels]:
            view = self._label_view(lab)
            if lab.get("target_type") == "campaign":
                hit = self.applied.get(lab.get("label_id"))
                view |= {
                    "kind": "campaign",
                    "target": f"campaign {clean(lab.get('target_id'))}",
                    "detail": f"{len(_list(lab.get('members')))} member accounts; "
                    f"run {clean(lab.get('run_id') or '?')}",
                    "applies": self.refs_to_campaign(hit["campaign"]) if hit else None,
                    "overlap": hit["overlap"] if hit else None,
                }
            else:
                key = (clean(lab.get("platform")), clean(lab.get("target_id")))
                handle = clean(lab.get("handle") or "")
                view |= {
                    "kind": "account",
                    "target": f"{platform_name(key[0])} account {key[1]}" + (f" (@{handle})" if handle else ""),
                    "detail": "",
                    "applies": [self.refs_to_campaign(cid) for cid in members.get(key, [])],
                    "overlap": None,
                }
            rows.append(view)
        return rows, max(len(self.labels) - len(rows), 0)

    def refs_to_campaign(self, cid: Any) -> dict[str, Any]:
        return {"label": clean(cid), "anchor": self.anchors.get("camp", cid)}

    # -- whole document ---------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        m = _mapping(self.f.get("manifest"))
        params = list(_flatten(m.get("parameters")))
        return {
            "tool": clean(m.get("tool") or "swarmscope"),
            "tool_version": clean(m.get("tool_version") or "?"),
            "run_id": clean(m.get("run_id") or ""),
            "created_at": fmt_time(m.get("created_at")),
            "parameters": params[: self.lim.parameters],
            "more_parameters": max(len(params) - self.lim.parameters, 0),
            "inputs": [
                {
                    "path": clean(i.get("path") or ""),
                    "sha256": clean(i.get("sha256") or ""),
                    "format": clean(i.get("format") or ""),
                    "records": i.get("records"),
                    "quarantined": i.get("quarantined"),
                }
                for i in _dicts(m.get("inputs"))
            ],
            "dependencies": [(clean(k), clean(v)) for k, v in _mapping(m.get("dependencies")).items()],
        }

    def build(self, case_info: Mapping[str, Any] | None) -> dict[str, Any]:
        campaigns = [self.campaign(c, i) for i, c in enumerate(self.campaigns)]
        label_rows, more_labels = self.label_rows()
        loose_full, loose_lines, loose_omitted = self.loose
        case = _mapping(self.f.get("case"))
        info = _mapping(case_info)
        title = clean(info.pop("title", None) or "swarmscope report")
        return {
            "title": title,
            "case_info": [
                (clean(k).replace("_", " "), fmt_value(v)) for k, v in info.items() if not isinstance(v, (dict, list))
            ],
            "schema_version": clean(self.f.get("schema_version") or ""),
            "case": {
                "posts": int(num(case.get("posts"))),
                "accounts": int(num(case.get("accounts"))),
                "first_post": fmt_time(case.get("first_post")),
                "last_post": fmt_time(case.get("last_post")),
                "per_platform": [
                    {"name": platform_name(k), "n": int(num(v))}
                    for k, v in sorted(_mapping(case.get("per_platform")).items(), key=lambda kv: -num(kv[1]))
                ],
            },
            "campaigns": campaigns,
            "labels": label_rows,
            "more_labels": more_labels,
            "loose_signals": [self.signal_view(s, True) for s in loose_full],
            "loose_lines": [self.signal_line(s) for s in loose_lines],
            "loose_omitted": loose_omitted,
            "manifest": self.manifest(),
            "limits": LIMITS_TEXT,
            "lim": self.lim,
        }


# -- the campaign charts, shared with the workbench (web/app.py draws the same pictures) -------


def campaign_signals(signals: Mapping[str, dict[str, Any]], c: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The campaign's signals: those it lists, then those that name it, each once. ``signals`` by cleaned id."""
    cid = clean(c.get("id"))
    ids = [clean(s) for s in _list(c.get("signals"))]
    ids += [sid for sid, s in signals.items() if clean(s.get("campaign")) == cid and sid not in ids]
    return [signals[i] for i in dict.fromkeys(ids) if i in signals]


def inferred_offset(sigs: Iterable[Mapping[str, Any]]) -> float | None:
    """The operators' UTC offset where the campaign's rhythm signal infers one (an office-hours pattern),
    else None: the one offset both the report and the workbench write local times at."""
    for sig in sigs:
        if sig.get("type") == "rhythm":
            fig = _mapping(sig.get("figures"))
            if clean(fig.get("pattern")) == "office-hours" and fig.get("utc_offset_hours") is not None:
                return num(fig.get("utc_offset_hours"))
    return None


def local_time(value: Any, utc_offset_hours: float | None) -> str:
    """An ISO UTC time as the operators' local time ('10:00:12 UTC+3', the date added when it differs),
    or '' without an offset or a parsable time."""
    if utc_offset_hours is None or value is None:
        return ""
    m = ISO_TIME.fullmatch(clean(value))
    if not m:
        return ""
    try:
        t = dt.datetime.fromisoformat(f"{m.group(1)}T{m.group(2)}")
    except ValueError:
        return ""
    local = t + dt.timedelta(hours=num(utc_offset_hours))
    clock = local.strftime("%H:%M:%S" if m.group(3) else "%H:%M")
    day = "" if local.date() == t.date() else local.date().isoformat() + " "
    return f"{day}{clock} {svg.zone(utc_offset_hours)}"


def rhythm_caption(fig: Mapping[str, Any]) -> str:
    offset, pattern = fig.get("utc_offset_hours"), clean(fig.get("pattern") or "undetermined")
    parts = [f"Pattern: {pattern}."]
    if offset is not None and pattern == "office-hours":
        parts.append(
            f"Office hours line up best with UTC{num(offset):+g} (bootstrap confidence {num(fig.get('confidence')):.0%}"
        )
        interval = _list(fig.get("offset_interval"))
        if len(interval) == 2:
            parts[-1] += f", 95 % of resamples between UTC{num(interval[0]):+g} and UTC{num(interval[1]):+g}"
        parts[-1] += "). The chart is in UTC; the row under it gives the local hour at that offset."
    elif offset is not None:
        # no office pattern: the template's best offset is not a finding, so no local time is shown
        parts.append(
            f"No office-hours pattern, so no local time is inferred (the office template's best offset, "
            f"UTC{num(offset):+g}, says little here); the chart is in UTC."
        )
    if fig.get("posts") is not None:
        parts.append(f"{int(num(fig.get('posts'))):,} posts over {int(num(fig.get('days'))):,} days.")
    return " ".join(parts)


def holiday_caption(fig: Mapping[str, Any]) -> str:
    note = fig.get("note") or (
        "A ranking of calendars the activity follows: a hint for the analyst, never an attribution."
    )
    offset = fig.get("utc_offset_hours")
    days = f" Local days at UTC{num(offset):+g}." if offset is not None else ""
    return clean(note) + days


def signal_chart(sig: Mapping[str, Any], holiday_countries: int = 4) -> tuple[Markup | None, str]:
    """A rhythm signal's hour-of-week heatmap (UTC, local hour beside it when an office-hours offset is
    inferred) or a holiday signal's bars, with its caption; (None, '') for other signals."""
    kind, fig = sig.get("type"), _mapping(sig.get("figures"))
    if kind == "rhythm":
        profile = svg.utc_profile(fig)
        if profile is not None:
            return svg.heatmap(profile, inferred_offset([sig])), rhythm_caption(fig)
    if kind == "holiday" and _dicts(fig.get("ranking")):
        return svg.holiday_bars(_dicts(fig.get("ranking")), holiday_countries), holiday_caption(fig)
    return None, ""


def timeline_marks(sigs: Iterable[Mapping[str, Any]]) -> list[svg.Mark]:
    """Bursts (spans) and narrative shifts (days) over the timeline, each with its signal id."""
    marks = []
    for s in sigs:
        fig = _mapping(s.get("figures"))
        sid = clean(s.get("id"))
        if s.get("type") == "burst":
            start = svg.parse_day(fig.get("start") or fig.get("window_start"))
            end = svg.parse_day(fig.get("end") or fig.get("window_end")) or start
            if start:
                marks.append(
                    svg.Mark(start, max(start, end), f"{sid}: {clean(s.get('summary') or 'burst')}", "burst", sid)
                )
        elif s.get("type") == "narrative_shift":
            day = _shift_day(s)
            if day:
                marks.append(svg.Mark(day, day, f"{sid}: {clean(s.get('summary') or 'narrative shift')}", "shift", sid))
    return marks


def campaign_timeline(
    c: Mapping[str, Any],
    sigs: list[dict[str, Any]],
    posts: Mapping[str, dict[str, Any]] | None = None,
    members: set[tuple[str, str]] | None = None,
) -> tuple[Markup, str]:
    """The campaign's posts per UTC day with its bursts and narrative shifts, and where the counts came from:
    findings.json's daily counts, else the ``posts`` given by ``members``, else the evidence posts."""
    daily: list[tuple[dt.date | None, int]] = []
    source = "the campaign's daily post counts"
    tl = c.get("timeline")
    if isinstance(tl, Mapping):
        daily = [(svg.parse_day(k), int(num(v))) for k, v in tl.items()]
    elif isinstance(tl, list):
        daily = [(svg.parse_day(d.get("day") or d.get("date")), int(num(d.get("posts")))) for d in _dicts(tl)]
    if not daily and posts:
        daily = [
            (svg.parse_day(p.get("created_at")), 1)
            for k, p in posts.items()
            if isinstance(p, dict) and (k.partition(":")[0], clean(p.get("account_id"))) in (members or set())
        ]
        source = "the posts given to the report by the campaign's accounts"
    if not daily:
        seen: dict[tuple[str, str], Any] = {}
        for s in sigs:
            ev = _mapping(s.get("evidence"))
            for ref, t in zip(_list(ev.get("post_ids")), _list(ev.get("times"))):
                seen.setdefault(_post_ref(ref), t)
        daily = [(svg.parse_day(t), 1) for t in seen.values()]
        source = "evidence posts only (no daily counts in findings.json)"
    return svg.timeline([d for d in daily if d[0] is not None], timeline_marks(sigs)), source


def _verdict(c: Mapping[str, Any]) -> dict[str, str]:
    """The campaign's verdict (campaigns/verdict.py); findings without one get it from likely_inauthentic."""
    v = c.get("verdict") if isinstance(c.get("verdict"), Mapping) else {}
    tier = (
        clean(v.get("tier")) if v.get("tier") in TIERS else ("weak" if c.get("likely_inauthentic") else "inconclusive")
    )
    return {"tier": tier, "label": clean(v.get("label")) or LABELS[tier], "basis": clean(v.get("basis"))}


def _evidence_total(ev: dict[str, Any]) -> int:
    """How many evidence posts a signal has: ``post_count`` when findings.json capped ``post_ids``."""
    return max(int(num(ev.get("post_count"), 0)), len(_list(ev.get("post_ids"))))


def _shift_day(sig: dict[str, Any]) -> dt.date | None:
    """The date of a narrative shift: figures date / week / at, else its first evidence time."""
    fig, ev = _mapping(sig.get("figures")), _mapping(sig.get("evidence"))
    return svg.parse_day(fig.get("date") or fig.get("week") or fig.get("at") or (_list(ev.get("times")) or [None])[0])


def _flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    """Nested parameters as ('bursts.window_seconds', '600') rows."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(v, f"{prefix}.{clean(k)}" if prefix else clean(k))
    elif prefix:
        text = (
            json.dumps(value, ensure_ascii=False, default=str)
            if isinstance(value, (list, tuple))
            else ("null" if value is None else str(value))
        )
        yield prefix, excerpt(text, 300)


def _finalize(value: Any) -> Any:
    """Every {{ }} value: Markup (our SVG) as-is, None as empty, text cleaned, then autoescaped."""
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, str):
        return clean(value)
    return value


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["thousands"] = lambda v: "" if v is None or v == "" else f"{int(num(v)):,}"
    env.filters["pct"] = lambda v: f"{100 * num(v):.0f} %"
    env.filters["score"] = lambda v: f"{num(v):.2f}"
    return env


def render_html(
    findings: dict[str, Any],
    *,
    case_info: dict[str, Any] | None = None,
    posts: dict[str, dict[str, Any]] | None = None,
    limits: ReportLimits = ReportLimits(),
    labels: list[dict[str, Any]] | None = None,
) -> str:
    """The report as one HTML string (UTF-8 safe, self-contained, no script).

    ``posts`` maps "platform:post_id" to {text, created_at, account_id,
    handle, url, ...} for evidence excerpts and top messages; without it the
    tables show ids and times only. ``case_info`` adds a title and key/value
    lines (case path, analyst...) to the header. ``labels``: the analysts'
    current labels (labels.current_labels; an account label may carry its
    ``handle``), shown in an "Analyst labels" section and on each campaign.
    """
    if not isinstance(findings, dict):
        raise TypeError(f"findings must be a dict (the findings.json document), got {type(findings).__name__}")
    view = _Builder(findings, posts, limits, labels).build(case_info)
    return _environment().get_template("report.html.j2").render(**view)


def write_html(findings: dict[str, Any], path: str | Path, **kw: Any) -> Path:
    """Render and write the report (UTF-8); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(findings, **kw), encoding="utf-8")
    return path
