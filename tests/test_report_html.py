"""The HTML report: sections, links to evidence, inert hostile text, print styles, caps, charts."""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from swarmscope.report import svg
from swarmscope.report.html import ReportLimits, render_html, safe_url, write_html

FIXTURES = Path(__file__).parent / "fixtures"
CASE_INFO = {"title": "Sample </title><script>alert(1)</script>", "case": "demo.duckdb", "analyst": "<b>me</b>"}


@pytest.fixture(scope="module")
def sample() -> tuple[dict, dict]:
    findings = json.loads((FIXTURES / "findings_sample.json").read_text(encoding="utf-8"))
    posts = json.loads((FIXTURES / "findings_sample_posts.json").read_text(encoding="utf-8"))
    return findings, posts


@pytest.fixture(scope="module")
def page(sample: tuple[dict, dict]) -> str:
    findings, posts = sample
    return render_html(findings, case_info=CASE_INFO, posts=posts)


class Page(HTMLParser):
    """Every start tag with its attributes, the text, and the style element's content."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.style: list[str] = []
        self._in: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if tag in self._in:
            while self._in and self._in.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        (self.style if self._in and self._in[-1] == "style" else self.text).append(data)

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [a for t, a in self.tags if t == tag]

    @property
    def ids(self) -> list[str]:
        return [a["id"] for _, a in self.tags if a.get("id")]

    @property
    def body_text(self) -> str:
        return " ".join(" ".join(self.text).split())


def test_every_section_of_a_campaign_is_there(page: str) -> None:
    p = Page(page)
    ids = set(p.ids)
    assert {"overview", "camp-C1", "camp-C2", "other-signals", "method", "limits"} <= ids
    # every signal of the sample has its evidence anchor, the case-wide rhythm among "other signals"
    assert {f"sig-S{i}" for i in range(1, 16)} <= ids
    assert {"msg-D12", "msg-D20"} <= ids
    text = p.body_text
    for phrase in (
        "Campaign C1",
        "score 0.87",
        "4 accounts on X",
        "2 accounts on TikTok",
        "1 account on Telegram",
        "Russian (4)",
        "Azerbaijani (2)",
        "6 accounts (5 profiles across platforms)",
        "640 posts",
        "First seen 2024-03-04 09:00:01, last seen 2024-03-15 17:00:00",
        "UTC (12:00:01 UTC+3 to 20:00:00 UTC+3, the operators' inferred local time)",
        "active on 9 days",
        "Score and its parts",
        "account patterns",
        "Timeline",
        "Hour-of-week activity",
        "UTC+3",
        "bootstrap confidence 94%",
        "Holiday comparison",
        "Network",
        "Top messages and their copies",
        "Hashtags",
        "81.0 %",
        "Narratives and shifts",
        "2024-03-11",
        "DISARM techniques",
        "Accounts",
        "Evidence",
        "Method and parameters",
        "coaction.time_window",
        "9f86d081884c7d659a2feaa0c55ad015",
        "duckdb 2.0.0",
        "not an attribution",
        "a hint, never an attribution",
    ):
        assert phrase in text, phrase
    # the score parts as a bar list: one bar per part, width from its contribution to the score
    bars = page[page.index("Score and its parts") : page.index("<h3>Scale</h3>")]
    assert re.findall(r'style="width: ([\d.]+)%"', bars) == ["35.0", "22.0", "8.0", "7.0", "15.0", "0.0"]
    assert "Contribution to the score" in bars and "0.87" in bars
    # evidence capped upstream: post_count says how many there are
    s1 = page[page.index('id="sig-S1"') : page.index('id="sig-S2"')]
    assert "and 9 more posts in findings.json" in Page(s1).body_text
    # C2's network: pipeline list-form edges, with links findings.json already left out
    assert "2 of 2 links drawn (4 weaker links were already left out of findings.json)" in text


def test_summary_sentences_link_to_their_evidence(page: str) -> None:
    p = Page(page)
    explanation = page[page.index('<ol class="explanation">') :]
    explanation = explanation[: explanation.index("</ol>")]
    hrefs = re.findall(r'href="#([^"]+)"', explanation)
    assert hrefs[:4] == ["sig-S1", "sig-S2", "msg-D12", "sig-S6"]
    # a cited id the document lacks stays text, never a dangling link
    assert "S404" in explanation and "#sig-S404" not in page
    targets = set(p.ids)
    for a in p.all("a"):
        href = a.get("href") or ""
        if href.startswith("#"):
            assert href[1:] in targets, href
    assert len(p.ids) == len(set(p.ids)), "duplicate element ids"


def test_hostile_text_is_inert(page: str) -> None:
    p = Page(page)
    tags = {t for t, _ in p.tags}
    assert "script" not in tags
    assert not tags & {"img", "iframe", "object", "embed", "link", "base", "form", "input", "foreignobject"}
    for tag, attrs in p.tags:
        for name, value in attrs.items():
            assert not name.startswith("on"), (tag, name)
            assert name not in ("src", "srcdoc", "formaction", "xlink:href"), (tag, name)
            v = (value or "").strip().lower()
            assert "javascript:" not in v and not v.startswith("data:"), (tag, name, value)
    for a in p.all("a"):
        href = a["href"] or ""
        assert href.startswith("#") or re.match(r"https?://", href), href
        if not href.startswith("#"):
            assert set((a.get("rel") or "").split()) >= {"noopener", "noreferrer"}
    # the hostile strings survive as visible text, so the analyst sees what was posted
    text = " ".join(p.text)
    for s in (
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        '=HYPERLINK("http://evil","x")',
        '"><svg onload=alert(1)>',
        "<b onmouseover=alert(1)>Nowhere</b>",
        "</title><script>alert(1)</script>",
    ):
        assert s in text, s
    hrefs = [a["href"] for a in p.all("a")]
    assert "https://x.com/anna_petrova1/status/1001" in hrefs and "http://x.com/echo_one/status/4001" in hrefs
    assert not any("evil" in h for h in hrefs)
    # DISARM ids link to the pinned framework page; a malformed id stays text
    assert any(h.endswith("/generated_pages/techniques/T0049.md") and "DISARMframeworks/blob/" in h for h in hrefs)
    assert not any("T9999" in h for h in hrefs) and "T9999<script>" in text
    # the title element holds the hostile title as text only
    assert "<title>Sample &lt;/title&gt;&lt;script&gt;" in page


def test_self_contained_and_nothing_fetched(page: str) -> None:
    p = Page(page)
    metas = p.all("meta")
    csp = [m for m in metas if (m.get("http-equiv") or "").lower() == "content-security-policy"]
    assert csp and csp[0]["content"] == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert len(p.all("style")) == 1
    css = "".join(p.style)
    assert "url(" not in css and "@import" not in css and "@font-face" not in css
    for tag, attrs in p.tags:
        for name, value in attrs.items():
            if name not in ("href", "xmlns", "content"):
                assert "http://" not in (value or "") and "https://" not in (value or ""), (tag, name)


def test_print_stylesheet(page: str) -> None:
    css = "".join(Page(page).style)
    media = css[css.index("@media print") :]
    assert re.search(r"\.campaign[^{]*\{[^}]*break-before:\s*page", media)
    assert re.search(r"tr[^{]*\{[^}]*break-inside:\s*avoid", media)
    assert "thead { display: table-header-group; }" in media
    assert re.search(r"a\.ext::after\s*\{[^}]*attr\(href\)", media)
    assert "position: fixed" not in css and "position: sticky" not in css


def test_evidence_tables_are_capped(sample: tuple[dict, dict]) -> None:
    findings, posts = copy.deepcopy(sample)
    s1 = next(s for s in findings["signals"] if s["id"] == "S1")
    s1["evidence"] = {
        "post_ids": [["x", str(9000 + i)] for i in range(120)],
        "times": [f"2024-03-04T09:{i // 60:02d}:{i % 60:02d}" for i in range(120)],
    }
    html = render_html(findings, posts=posts, limits=ReportLimits(evidence_rows=50))
    block = html[html.index('id="sig-S1"') :]
    block = block[: block.index('class="signal" id="sig-S2"')]
    assert block.count("<tr><td>X</td>") == 50
    assert "and 70 more posts in findings.json" in " ".join(Page(block).text)
    assert "9049" in block and "9050" not in block


def test_signal_blocks_beyond_the_cap_become_lines(sample: tuple[dict, dict]) -> None:
    findings, posts = sample
    html = render_html(findings, posts=posts, limits=ReportLimits(signal_blocks=3, signal_lines=2))
    p = Page(html)
    # C1 cites S1, S2, S6, S7: the first three cited get full blocks; S7 and S3 one line each; 5 omitted
    blocks = [a["id"] for t, a in p.tags if t == "div" and a.get("class") == "signal"]
    assert blocks[:3] == ["sig-S1", "sig-S2", "sig-S6"]
    lines = [a["id"] for t, a in p.tags if t == "tr" and a.get("id")]
    assert lines[:2] == ["sig-S7", "sig-S3"]
    assert "and 5 more signals in findings.json" in p.body_text
    # the account table's links to omitted signals are text, not dangling links
    assert 'href="#sig-S9"' not in html and "S9" in p.body_text


def test_odd_text_never_breaks_the_file(tmp_path: Path, sample: tuple[dict, dict]) -> None:
    findings, posts = copy.deepcopy(sample)
    posts["x:1001"]["text"] = "bad \ud800 surrogate \x00 nul \x1b[31m red " + "🕊" * 10 + " x" * 300_000
    posts["x:1002"]["text"] = ""
    posts["x:1003"]["text"] = None
    findings["campaigns"][0]["accounts"][0]["handle"] = "\udfff"
    out = write_html(findings, tmp_path / "r" / "report.html", posts=posts)
    html = out.read_text(encoding="utf-8")
    assert "\x00" not in html and "\x1b" not in html
    assert "bad ? surrogate nul [31m red 🕊" in html
    assert len(html) < 200_000  # the 600 kB post is cut to an excerpt


def test_minimal_and_empty_documents_render() -> None:
    html = render_html({})
    p = Page(html)
    assert "0 campaigns found" in p.body_text and "script" not in {t for t, _ in p.tags}
    # a campaign with nothing but an id still renders, with an empty timeline
    html = render_html({"campaigns": [{"id": "C9", "score": "not a number"}], "signals": [{"id": "S1"}]})
    assert "Campaign C9" in Page(html).body_text and "No dated posts." in html
    with pytest.raises(TypeError):
        render_html([])  # type: ignore[arg-type]


def test_same_input_same_file(sample: tuple[dict, dict], page: str) -> None:
    findings, posts = sample
    assert render_html(findings, case_info=CASE_INFO, posts=posts) == page


def test_timeline_without_daily_counts_uses_the_posts(sample: tuple[dict, dict]) -> None:
    findings, posts = copy.deepcopy(sample)
    del findings["campaigns"][0]["timeline"]
    html = render_html(findings, posts=posts)
    assert "from the posts given to the report by the campaign&#39;s accounts" in html
    # 2024-03-04 has posts 1001, 1002, 1003 by members 111, 112, 113 (and 1004 by the periphery account)
    assert "2024-03-04: 4 posts" in html
    html = render_html(findings)
    assert "evidence posts only" in html


def test_safe_url() -> None:
    assert safe_url("https://x.com/a/status/1") == "https://x.com/a/status/1"
    assert safe_url("http://t.me/c/1") == "http://t.me/c/1"
    for bad in (
        "javascript:alert(1)",
        " JaVaScRiPt:alert(1)",
        "data:text/html,x",
        "/relative",
        "https://",
        "http://a b",
        "http://a\nb",
        "ftp://x.org/f",
        None,
        3,
        "vbscript:msgbox(1)",
        "//evil.com/x",
    ):
        assert safe_url(bad) is None, bad


def test_heatmap_puts_counts_in_the_right_cell() -> None:
    profile = [0] * 168
    profile[1 * 24 + 11] = 5  # Tuesday 11:00 UTC = 14:00 at UTC+3
    out = str(svg.heatmap(profile, 3.0))
    assert out.count("<rect") == 168 + 1  # cells + the office-hours frame (09-18 at UTC+3 = 06-15 UTC)
    assert "Tue 11:00-11:59 UTC (Tue 14:00 UTC+3): 5 posts" in out
    assert "Mon 00:00-00:59 UTC (Mon 03:00 UTC+3): 0 posts" in out
    assert 'fill="#08306b"' in out  # the busiest cell gets the darkest colour
    assert "local (UTC+3)" in out and 'x="227" y="17"' in out  # the frame starts at 06 UTC
    # without an inferred offset: UTC only, no local row, nothing outlined
    bare = str(svg.heatmap(profile, None))
    assert bare.count("<rect") == 168 and "local (" not in bare and "Tue 11:00-11:59 UTC: 5 posts" in bare


def test_office_window_crossing_midnight_utc() -> None:
    # 09-18 at UTC+10 is 23-08 UTC: Sunday 23:00 to Friday 08:00
    assert svg._office_cells(10, (9, 18)) == [(0, 4, 23, 24), (0, 5, 0, 8), (6, 1, 23, 24)]
    assert svg._office_cells(-5, (9, 18)) == [(0, 5, 14, 23)]


def test_utc_profile_from_old_findings_with_only_the_local_profile() -> None:
    local = [0] * 168
    local[1 * 24 + 14] = 5  # Tuesday 14:00 at UTC+3
    utc = svg.utc_profile({"profile_local": local, "utc_offset_hours": 3})
    assert utc is not None and utc[1 * 24 + 11] == 5 and sum(utc) == 5
    assert svg.utc_profile({"profile_utc": [1] * 168, "profile_local": local}) == [1.0] * 168


def test_local_time_beside_utc() -> None:
    from swarmscope.report.html import local_time

    assert local_time("2024-03-04T07:00:12Z", 3) == "10:00:12 UTC+3"
    assert local_time("2024-03-04T20:30:00", 5.5) == "2024-03-05 02:00:00 UTC+5.5"
    assert local_time("2024-03-04T07:00:12Z", None) == "" and local_time("soon", 3) == ""


def test_stacked_timeline_and_hostile_labels_are_escaped() -> None:
    d = dt.date(2024, 3, 4)
    out = str(svg.stacked_timeline([(d, "x", 3), (d, '"onload=alert(1) <script>', 2), (d, "x", 1)]))
    assert "2024-03-04 x: 4 posts" in out
    assert "<script>" not in out and '"onload' not in out and "&quot;onload=alert(1) &lt;script&gt;" in out
    marks = [svg.Mark(d, d, "S1: <script>alert(1)</script>", "burst", '"onload="x')]
    out = str(svg.timeline([(d, 1)], marks))
    assert "<script>" not in out and 'data-signal="&quot;onload=&quot;x"' in out


def test_timeline_marks_and_weekly_bins() -> None:
    d = dt.date(2024, 3, 4)
    out = str(
        svg.timeline(
            [(d, 10), (d + dt.timedelta(days=2), 30)],
            [svg.Mark(d, d, "S3: <burst>", "burst"), svg.Mark(d, d, "S10: shift", "shift")],
        )
    )
    assert "2024-03-06: 30 posts" in out and "S3: &lt;burst&gt;" in out and "stroke-dasharray" in out
    long = [(d + dt.timedelta(days=i), 1) for i in range(500)]
    out = str(svg.timeline(long))
    assert "posts per week" in out and "2024-03-04: 7 posts" in out  # a Monday: one full week


def test_holiday_bars_show_transferred_days_only_where_they_exist() -> None:
    rows = [
        {
            "rank": 1,
            "country": "RU",
            "country_name": "Russia",
            "holiday_mean": 3.0,
            "workday_mean": 40.0,
            "weekend_mean": 4.0,
            "transferred": 2,
            "transferred_mean": 38.0,
            "p_value": 0.001,
            "p_family": 0.01,
        },
        {
            "rank": 2,
            "country": "DE",
            "country_name": "Germany",
            "holiday_mean": 30.0,
            "workday_mean": 40.0,
            "weekend_mean": 4.0,
            "transferred": 0,
            "transferred_mean": None,
            "p_value": 0.4,
            "p_family": 0.9,
        },
    ]
    out = str(svg.holiday_bars(rows))
    assert out.count(">transferred working day<") == 1 and out.count(">public holiday on a weekday<") == 2
    assert "1. Russia (RU)" in out and ">38.0<" in out
    assert "<title>1. Russia (RU): transferred working day, 38.0 posts per day</title>" in out  # hover


def test_network_keeps_core_accounts_and_caps_the_drawing() -> None:
    nodes = [{"platform": "x", "account_id": f"c{i}", "handle": f"core{i}", "role": "core"} for i in range(5)]
    # findings.json rows: [from_platform, from, to_platform, to, weight, networks]
    edges = [["x", f"p{i}", "x", f"p{i + 1}", 9, ["texts"]] for i in range(400)]
    edges += [["x", "c0", "x", f"c{i}", 1, ["texts"]] for i in range(1, 5)]
    pic = svg.network(nodes, edges, max_nodes=50, max_edges=30)
    assert (pic.nodes_total, pic.nodes_drawn, pic.edges_total) == (406, 50, 404)
    out = str(pic.svg)
    assert all(f"<title>core{i} (x, core)</title>" in out for i in range(5))  # light links, kept for their role
    assert out.count("<circle") == 50 + 1  # nodes + one platform legend dot
    assert svg.network(nodes, edges, 50, 30).svg == out  # deterministic layout


def test_every_drawn_account_keeps_its_strongest_link() -> None:
    # ten accounts, all pairs linked; the five heaviest links all sit among accounts 0-3
    keys = [("x", str(i)) for i in range(10)]
    links = {(keys[i], keys[j]): (100.0 if j < 4 else 1.0 + i) for i in range(10) for j in range(i + 1, 10)}
    index = {k: i for i, k in enumerate(keys)}
    few = svg._pick_links(links, index, max_edges=5)

    def strongest(chosen: list[tuple[float, tuple[tuple[str, str], tuple[str, str]]]], k: tuple[str, str]) -> float:
        return max(w for w, pair in chosen if k in pair)

    everything = [(w, p) for p, w in links.items()]
    assert all(strongest(few, k) == strongest(everything, k) for k in keys)
    assert len(few) == 8 and [w for w, _ in few][:3] == [100.0] * 3  # heaviest first
    assert len(svg._pick_links(links, index, max_edges=20)) == 20


@pytest.mark.scale
def test_big_case_gives_a_bounded_file() -> None:
    """50 campaigns x 500 accounts, every signal with 2,000 evidence posts: the caps hold the size."""

    def findings(campaigns: int, accounts: int, posts_per_signal: int) -> tuple[dict, dict]:
        camps, sigs, posts = [], [], {}
        for c in range(campaigns):
            accs = [
                {
                    "platform": "x",
                    "account_id": f"{c}-{a}",
                    "handle": f"user_{c}_{a}",
                    "display_name": f"User {a}",
                    "role": "core" if a < 50 else "periphery",
                    "signals": [f"S{c}-0"],
                }
                for a in range(accounts)
            ]
            edges = [
                {
                    "from": f"{c}-{a}",
                    "to": f"{c}-{(a * 7 + 1) % accounts}",
                    "from_platform": "x",
                    "to_platform": "x",
                    "weight": 1 + a % 5,
                }
                for a in range(accounts * 3)
            ]
            ids = [f"S{c}-{s}" for s in range(16)]
            for s, sid in enumerate(ids):
                refs = [["x", f"{c}-{s}-{i}"] for i in range(posts_per_signal)]
                sigs.append(
                    {
                        "id": sid,
                        "type": ("coordination", "copypasta", "burst", "run")[s % 4],
                        "campaign": f"C{c}",
                        "summary": "x" * 100,
                        "test": "t",
                        "figures": {"posts": posts_per_signal, "text": "y" * 200},
                        "accounts": [["x", a["account_id"]] for a in accs[:100]],
                        "evidence": {"post_ids": refs, "times": ["2024-03-04T09:00:00"] * posts_per_signal},
                    }
                )
                for r in refs[:60]:
                    posts[f"x:{r[1]}"] = {
                        "account_id": f"{c}-0",
                        "handle": "h",
                        "text": "z" * 400,
                        "created_at": "2024-03-04T09:00:00",
                        "url": f"https://x.com/h/status/{r[1]}",
                    }
            camps.append(
                {
                    "id": f"C{c}",
                    "score": 0.5,
                    "accounts": accs,
                    "signals": ids,
                    "network": {"edges": edges},
                    "explanation": [{"text": "s", "evidence": ids[:3]}],
                    "timeline": [{"day": f"2024-03-{d:02d}", "posts": d} for d in range(1, 29)],
                    "hashtags": [{"tag": f"t{i}", "posts": i, "share_of_all_uses": 0.5} for i in range(100)],
                }
            )
        return {"campaigns": camps, "signals": sigs}, posts

    doc, posts = findings(50, 500, 2000)
    size = len(render_html(doc, posts=posts).encode())
    assert size < 16_000_000
    # twice the accounts and evidence per campaign: the file barely grows
    small = render_html(*findings(3, 500, 2000)[:1])
    big = render_html(*findings(3, 1000, 4000)[:1])
    assert len(big) < 1.05 * len(small)
    text = Page(small).body_text
    assert "and 1,950 more posts in findings.json" in text and "and 300 more accounts in findings.json" in text
    # 16 signals per campaign: 12 full sections, 4 one-line rows, none dropped
    assert small.count('<div class="signal" id="sig-') == 3 * 12 and small.count('<tr id="sig-') == 3 * 4


def test_rhythm_caption_claims_office_hours_only_for_an_office_pattern(page: str) -> None:
    campaign = Page(page[page.index('id="camp-C1"') : page.index('id="camp-C2"')]).body_text
    assert "Office hours line up best with UTC+3 (bootstrap confidence 94%" in campaign
    # C1's office-hours offset puts the local time beside every UTC time in its tables
    c1 = page[page.index('id="camp-C1"') : page.index('id="camp-C2"')]
    assert '<td class="time">2024-03-04 09:00:01<br><span class="meta">12:00:01 UTC+3</span></td>' in c1
    assert "local (UTC+3)" in c1  # and the heatmap's local hour row
    # the case-wide evenings pattern: drawn at an offset, but no office-hours claim
    other = Page(page[page.index('id="other-signals"') : page.index('id="method"')]).body_text
    assert "Pattern: evenings. No office-hours pattern, so no local time is inferred" in other
    assert "UTC+1, says little here); the chart is in UTC." in other
    assert "Office hours line up" not in other


def _tables_by_caption(html: str) -> dict[str, list[list[str]]]:
    """Each figure table of the page: caption -> rows of cell texts (header first)."""
    tables = {}
    for m in re.finditer(r'<table class="figtable">\s*<caption>(.*?)</caption>(.*?)</table>', html, re.S):
        rows = re.findall(r"<tr>(.*?)</tr>", m.group(2), re.S)
        cells = [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<t[hd]>(.*?)</t[hd]>", r, re.S)] for r in rows]
        tables.setdefault(m.group(1), []).append(cells)
    return tables


def test_impersonation_and_creation_batches_are_tables_not_counts() -> None:
    findings = {
        "schema_version": "1",
        "campaigns": [],
        "signals": [
            {
                "id": "S9",
                "type": "impersonation",
                "summary": "2 accounts impersonate watchlisted entities",
                "figures": {
                    "matches": [
                        {
                            "platform": "x",
                            "handle": "caspiandai1y",
                            "entity_handle": "caspiandaily",
                            "match": "handle-homoglyph",
                            "test": "skeleton equal",
                        },
                        {
                            "platform": "x",
                            "handle": "<b>minister_official</b>",
                            "entity_handle": "minister",
                            "match": "handle-affix",
                            "test": "skeleton equal",
                        },
                    ]
                },
                "evidence": {},
            },
            {
                "id": "S10",
                "type": "creation_batch",
                "summary": "3 accounts created within an hour",
                "figures": {"accounts": 3, "handles": ["a1", "a2", "a3"], "created": ["2024-05-31T05:03:58"] * 3},
                "evidence": {},
            },
        ],
    }
    html = render_html(findings)
    assert "values in findings.json" not in html
    tables = _tables_by_caption(html)
    (matches,) = tables["matches"]
    assert matches[0] == ["handle", "entity handle", "match"]  # platform and test are shared: said once
    assert matches[1] == ["caspiandai1y", "caspiandaily", "handle-homoglyph"]
    assert matches[2][0] == "&lt;b&gt;minister_official&lt;/b&gt;"  # escaped, never markup
    assert "platform: x; test: skeleton equal" in html
    (batch,) = tables["handles and created"]
    assert batch == [["handles", "created"]] + [[h, "2024-05-31 05:03:58"] for h in ("a1", "a2", "a3")]


def test_long_lists_of_figures_show_their_first_values() -> None:
    sig = {"id": "S1", "type": "narrative_shift", "figures": {"new_terms": [f"t{i}" for i in range(20)]}}
    html = render_html({"schema_version": "1", "campaigns": [], "signals": [sig]})
    assert "t0, t1" in html and "t11 and 8 more (findings.json)" in html
