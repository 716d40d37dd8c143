"""The workbench API (swarmscope.web) over a copy of the demo case: values checked against SQL on the case,
bad input always a 4xx with a message, the security guard (token, CSRF, Host, CSP), labels and a detection run."""

from __future__ import annotations

import io
import json
import shutil
import statistics
import threading
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest
from starlette.testclient import TestClient

from swarmscope.findings import findings_path
from swarmscope.web import create_app
from swarmscope.web.security import CSP

if TYPE_CHECKING:
    import httpx
    from starlette.applications import Starlette

DEMO = Path()  # the demo case (seed 7), built once for this module by _demo below
BASE = "http://127.0.0.1:8765"
TOKEN = "t0ken-for-the-tests-0123456789"
ACCOUNT = ("x", "1796407247106999780")  # a core member of C1 in the demo case (seed 7)


@pytest.fixture(scope="module", autouse=True)
def _demo(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Build the demo case exactly as `make demo` does (seed 7, about 20 s): CI has no demo-out/."""
    global DEMO
    from swarmscope.demo import demo

    DEMO = tmp_path_factory.mktemp("demo") / "demo-out"
    demo(DEMO, seed=7, progress=False)
    assert (DEMO / "case.duckdb").exists() and (DEMO / "case.findings.json").exists()


def copy_demo(folder: Path, findings: bool = True) -> Path:
    """The demo case (and its watchlist, where detect recorded it) under ``folder``/demo-out/."""
    out = folder / "demo-out"
    (out / "input").mkdir(parents=True)
    shutil.copyfile(DEMO / "case.duckdb", out / "case.duckdb")
    if findings:
        shutil.copyfile(DEMO / "case.findings.json", out / "case.findings.json")
    shutil.copyfile(DEMO / "input" / "watchlist.csv", out / "input" / "watchlist.csv")
    return out / "case.duckdb"


def browser(app: Starlette, **kw: Any) -> TestClient:
    """A client that loaded the page: it holds the CSRF cookie and sends it back as the header."""
    c = TestClient(app, base_url=BASE, **kw)
    r = c.get("/")
    assert r.status_code == 200
    c.headers["X-CSRF-Token"] = c.cookies["swarmscope_csrf"]
    return c


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    case = copy_demo(tmp_path_factory.mktemp("web"))
    app = create_app(case, analyst="tester")
    wb = app.state.workbench
    # a hostile post, for the CSV download and escaping checks
    with wb.access.write() as con:
        con.execute(
            "INSERT INTO posts (platform, post_id, account_id, created_at, text, kind) VALUES "
            "('x', '999000000000000001', ?, TIMESTAMP '2024-11-20 10:00:00', "
            "'=cmd|'' /C calc''!A1 formulatest', 'post')",
            [ACCOUNT[1]],
        )
    client = browser(app)
    findings = json.loads(findings_path(case).read_text())

    def sql(q: str, params: list | None = None) -> list[tuple]:
        with wb.access.read() as cur:
            return cur.execute(q, params or []).fetchall()

    yield {"app": app, "client": client, "case": case, "findings": findings, "sql": sql}


def ok(r: httpx.Response, status: int = 200) -> dict:
    assert r.status_code == status, r.text[:500]
    return r.json()


def bad(r: httpx.Response, status: int, words: str) -> None:
    assert r.status_code == status, (r.status_code, r.text[:500])
    msg = r.json()["error"]
    assert words.lower() in msg.lower(), msg


# -- pages and headers ---------------------------------------------------------------


def test_index_sets_the_csrf_cookie_readable_by_the_page(env: dict[str, Any]):
    c = TestClient(env["app"], base_url=BASE)
    r = c.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("swarmscope_csrf=") and "SameSite=Strict" in cookie and "HttpOnly" not in cookie
    assert len(c.cookies["swarmscope_csrf"]) >= 32
    # a page that already has one keeps it
    assert "set-cookie" not in c.get("/").headers


def test_security_headers_on_every_kind_of_response(env: dict[str, Any]):
    c = env["client"]
    static = next(p for p in (Path(__file__).parents[1] / "src/swarmscope/web/static").rglob("*") if p.is_file())
    static_url = "/static/" + static.relative_to(Path(__file__).parents[1] / "src/swarmscope/web/static").as_posix()
    responses = [
        c.get("/"),
        c.get("/api/case"),
        c.get(static_url),
        c.get("/static/nothing.js"),
        c.get("/api/nothing"),
        c.get("/api/export/json"),
        c.get("/api/search?q=formulatest&format=csv"),
        c.get("/api/campaigns/C1/messages?limit=x"),
        c.post("/api/labels", headers={"X-CSRF-Token": "no"}),
        c.get("/api/case", headers={"host": "evil.example"}),
        c.delete("/api/labels"),
    ]
    tc = TestClient(create_app(env["case"], token=TOKEN), base_url=BASE, follow_redirects=False)
    responses += [tc.get("/api/case"), tc.get(f"/?token={TOKEN}")]
    assert [r.status_code for r in responses] == [200, 200, 200, 404, 404, 200, 200, 400, 403, 403, 405, 403, 303]
    for r in responses:
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
        assert r.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
    assert responses[3].json()["error"].startswith("not found")


# -- overview and campaigns ------------------------------------------------------------


def test_case_overview_matches_the_case(env: dict[str, Any]):
    sql, f = env["sql"], env["findings"]
    d = ok(env["client"].get("/api/case"))
    assert d["name"] == "case.duckdb"
    assert d["posts"] == sql("SELECT count(*) FROM posts")[0][0]
    assert d["accounts"] == sql("SELECT count(*) FROM accounts")[0][0]
    assert d["per_platform"]["tiktok"] == {
        "posts": sql("SELECT count(*) FROM posts WHERE platform = 'tiktok'")[0][0],
        "accounts": sql("SELECT count(*) FROM accounts WHERE platform = 'tiktok'")[0][0],
    }
    assert d["per_language"]["az"] == sql("SELECT count(*) FROM posts WHERE lang = 'az'")[0][0]
    assert sum(t["posts"] for t in d["timeline"]) == d["posts"]
    day = [t for t in d["timeline"] if t["day"] == "2024-11-06" and t["platform"] == "x"][0]
    assert (
        day["posts"]
        == sql("SELECT count(*) FROM posts WHERE platform = 'x' AND created_at::DATE = DATE '2024-11-06'")[0][0]
    )
    assert [r["command"] for r in d["runs"]] == [c for (c,) in sql("SELECT command FROM runs ORDER BY started_at")]
    assert isinstance(d["runs"][-1]["parameters"], dict)
    assert d["quarantine"] == {"total": 0, "rows": []}
    assert d["findings"] == {
        "run_id": f["manifest"]["run_id"],
        "created_at": f["manifest"]["created_at"],
        "campaigns": len(f["campaigns"]),
    }


def test_campaign_list_summarises_the_findings(env: dict[str, Any]):
    f = env["findings"]
    d = ok(env["client"].get("/api/campaigns"))
    assert [c["id"] for c in d["campaigns"]] == [c["id"] for c in f["campaigns"]]
    c1, f1 = d["campaigns"][0], f["campaigns"][0]
    assert (c1["score"], c1["accounts"], c1["posts"], c1["first_seen"]) == (
        f1["score"],
        f1["counts"]["accounts"],
        f1["counts"]["posts"],
        f1["first_seen"],
    )
    assert c1["per_platform"] == f1["counts"]["per_platform"]
    types = {s["id"]: s["type"] for s in f["signals"]}
    assert c1["top_signals"] == list(dict.fromkeys(types[s] for s in f1["signals"]))
    assert c1["top_signals"][0] == "coordination" and "burst" in c1["top_signals"]


def test_campaign_page_adds_signals_rhythm_bursts_and_holidays(env: dict[str, Any]):
    sql, f = env["sql"], env["findings"]
    d = ok(env["client"].get("/api/campaigns/C1"))
    f1 = f["campaigns"][0]
    assert "network" not in d and d["explanation"] == f1["explanation"]
    assert [s["id"] for s in d["signals"]] == f1["signals"]
    core = [(a["platform"], a["account_id"]) for a in f1["accounts"] if a["role"] == "core"]
    pairs = " OR ".join(f"(platform = '{p}' AND account_id = '{a}')" for p, a in core)
    grid = d["hour_of_week"]
    assert len(grid) == 7 and all(len(row) == 24 for row in grid)
    # the hostile post added by the fixture belongs to a member: counts are live SQL, not findings
    assert sum(map(sum, grid)) == sql(f"SELECT count(*) FROM posts WHERE {pairs}")[0][0]
    # Wednesday 2024-11-06 07:00-08:00 UTC: the 1,000-post burst
    assert (
        grid[2][7]
        == sql(f"SELECT count(*) FROM posts WHERE ({pairs}) AND isodow(created_at) = 3 AND hour(created_at) = 7")[0][0]
        >= 1000
    )
    burst = [s for s in f["signals"] if s["type"] == "burst" and s["campaign"] == "C1"]
    assert [b["signal"] for b in d["bursts"]] == [s["id"] for s in burst]
    assert d["bursts"][0]["start"] == burst[0]["figures"]["start"] and d["bursts"][0]["posts"] == 1000
    assert d["holidays"]["ranking"][0]["country"] == "AZ"
    assert d["label"] is None or isinstance(d["label"], dict)


def test_campaign_graph_has_every_account_and_a_stable_layout(env: dict[str, Any]):
    from swarmscope.web.findings import Findings, graph_layout

    f1 = env["findings"]["campaigns"][0]
    d = ok(env["client"].get("/api/campaigns/C1/graph"))
    assert [n["key"] for n in d["nodes"]] == [f"{a['platform']}:{a['account_id']}" for a in f1["accounts"]]
    assert len(d["edges"]) == len(f1["network"]["edges"]) and d["truncated"] == f1["network"]["truncated"]
    keys = {n["key"] for n in d["nodes"]}
    assert all(e["source"] in keys and e["target"] in keys for e in d["edges"])
    assert all(0 <= n["x"] <= 1 and 0 <= n["y"] <= 1 for n in d["nodes"])
    assert min(n["x"] for n in d["nodes"]) == 0 and max(n["x"] for n in d["nodes"]) == 1
    assert {n["role"] for n in d["nodes"]} <= {"core", "periphery"}
    assert d["nodes"][0]["label"] == f1["accounts"][0]["handle"]
    again = graph_layout(Findings.build(env["findings"], (0, 0)), f1)  # a fresh computation
    assert [(n["x"], n["y"]) for n in again["nodes"]] == [(n["x"], n["y"]) for n in d["nodes"]]


def test_campaign_charts_are_the_reports_own_pictures(env: dict[str, Any]):
    from swarmscope.report.html import render_html

    f = env["findings"]
    page = render_html(f)
    for c in f["campaigns"][:3]:
        d = ok(env["client"].get(f"/api/campaigns/{c['id']}/charts"))
        assert d["timeline"].startswith("<svg") and d["timeline"] in page, c["id"]
        if d["heatmap_signal"]:  # the report draws a heatmap only from a rhythm signal
            assert d["heatmap"] in page, c["id"]
        if d["holidays"]:
            assert d["holidays"] in page, c["id"]
        assert d["utc_offset_hours"] == ok(env["client"].get(f"/api/campaigns/{c['id']}"))["utc_offset_hours"]
    d = ok(env["client"].get("/api/campaigns/C1/charts"))
    # the heatmap is in UTC, with the inferred local hour beside it when there is one
    assert "UTC" in d["heatmap"]
    if d["utc_offset_hours"] is not None:
        assert "local (UTC" in d["heatmap"]
    # bursts carry their signal id, so the page can open the evidence
    bursts = [s["id"] for s in f["signals"] if s["type"] == "burst" and s.get("campaign") == "C1"]
    assert all(f'data-signal="{b}"' in d["timeline"] for b in bursts)
    # the overview's stacked chart
    case = ok(env["client"].get("/api/case"))
    assert case["timeline_svg"].startswith("<svg") and "stacked by platform" in case["timeline_svg"]
    bad(env["client"].get("/api/campaigns/C999/charts"), 404, "C999")


def test_campaign_charts_escape_hostile_text(tmp_path: Path):
    case = copy_demo(tmp_path)
    doc = json.loads(findings_path(case).read_text())
    hostile = '<script>alert(1)</script>"onload="alert(2)'
    c1 = doc["campaigns"][0]
    for s in doc["signals"]:
        if s["id"] in c1["signals"] and s["type"] in ("burst", "narrative_shift"):
            s["summary"] = hostile
            s["id"] = s["id"]
    for s in doc["signals"]:
        if s["type"] == "holiday" and s["id"] in c1["signals"]:
            s["figures"]["ranking"][0]["country_name"] = hostile
    findings_path(case).write_text(json.dumps(doc))
    c = browser(create_app(case))
    d = ok(c.get("/api/campaigns/C1/charts"))
    for key in ("timeline", "heatmap", "holidays"):
        svg = d[key] or ""
        assert "<script" not in svg and '"onload' not in svg, key
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot;onload=&quot;alert(2)" in d["timeline"] + (d["holidays"] or "")


def test_top_messages_are_the_findings_messages_with_their_own_posts(env: dict[str, Any]):
    sql, f1 = env["sql"], env["findings"]["campaigns"][0]
    d = ok(env["client"].get("/api/campaigns/C1/messages?limit=3"))["messages"]
    # the page shows findings.json's messages, with the same counts, in the same order
    want = f1["messages"][:3]
    assert len(d) == 3 and [(m["copies"], m["accounts"]) for m in d] == [(m["posts"], m["accounts"]) for m in want]
    assert [(m["accounts"], m["copies"]) for m in d] == sorted(((m["accounts"], m["copies"]) for m in d), reverse=True)
    members = {(a["platform"], a["account_id"]) for a in f1["accounts"] if a["role"] == "core"}
    top, message = d[0], want[0]
    assert len(top["posts"]) == 20 and top["text"] == top["posts"][0]["text"]
    # every post shown is a member's post of this one message (text fingerprint or near-duplicate cluster)
    uses = sql(
        "SELECT platform, account_id, post_id, created_at FROM actions WHERE object_type = ? AND object_id = ?",
        [message["object_type"], message["id"]],
    )
    mine = [u for u in uses if (u[0], u[1]) in members]
    assert {(p["platform"], p["post_id"]) for p in top["posts"]} <= {(u[0], u[2]) for u in mine}
    assert top["copies"] == len(mine) and top["accounts"] == len({(u[0], u[1]) for u in mine})
    assert top["first"] == min(u[3] for u in mine).isoformat()
    assert all(p["url"] is None or p["url"].startswith("https://") for p in top["posts"])


# -- accounts and evidence ------------------------------------------------------------------


def _coactors_by_hand(sql: Callable[..., list[tuple]], platform: str, account: str, windows: dict[str, float]) -> dict:
    mine = sql(
        "SELECT object_type, object_id, epoch(created_at) FROM actions WHERE platform = ? AND account_id = ?",
        [platform, account],
    )
    shared: dict[tuple[str, str], dict[tuple[str, str], float]] = {}
    for t, o, at in mine:
        if t not in windows:
            continue
        for p2, a2, at2 in sql(
            "SELECT platform, account_id, epoch(created_at) FROM actions WHERE object_type = ? AND object_id = ?",
            [t, o],
        ):
            gap = abs(at2 - at)
            if (p2, a2) != (platform, account) and gap <= windows[t]:
                best = shared.setdefault((p2, a2), {})
                best[(t, o)] = min(best.get((t, o), gap), gap)
    return shared


def test_account_page_profile_campaigns_signals_and_coactors(env: dict[str, Any]):
    sql, f = env["sql"], env["findings"]
    d = ok(env["client"].get(f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}"))
    assert (
        d["account"]["handle"]
        == sql("SELECT handle FROM accounts WHERE platform = ? AND account_id = ?", list(ACCOUNT))[0][0]
    )
    n, first, last = sql(
        "SELECT count(*), min(created_at), max(created_at) FROM posts WHERE platform = ? AND account_id = ?",
        list(ACCOUNT),
    )[0]
    assert (d["posts_count"], d["first_post"], d["last_post"]) == (n, first.isoformat(), last.isoformat())
    entry = [a for a in f["campaigns"][0]["accounts"] if (a["platform"], a["account_id"]) == ACCOUNT][0]
    assert d["campaigns"] == [
        {
            "id": "C1",
            "score": f["campaigns"][0]["score"],
            "role": "core",
            "persona": entry["persona"],
            "signals": entry["signals"],
        }
    ]
    assert set(entry["signals"]) <= {s["id"] for s in d["signals"]}
    windows = {t: n["time_window"] for n in f["networks"].values() for t in n.get("object_types", [])}
    truth = _coactors_by_hand(sql, *ACCOUNT, windows)
    co = d["coactors"]
    assert 0 < len(co) <= 20
    strongest = max(len(v) for v in truth.values())
    assert co[0]["shared"] == strongest
    for c in co[:5]:
        gaps = truth[(c["platform"], c["account_id"])]
        assert c["shared"] == len(gaps)
        assert c["median_gap_seconds"] == pytest.approx(statistics.median(gaps.values()))
        assert 1 <= len(c["examples"]) <= 5
        for e in c["examples"]:
            assert e["gap_seconds"] == pytest.approx(gaps[(e["object_type"], e["object_id"])])
    assert [c["shared"] for c in co] == sorted((c["shared"] for c in co), reverse=True)


def test_account_posts_page_through_newest_first(env: dict[str, Any]):
    sql, c = env["sql"], env["client"]
    url = f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}/posts"
    p1, p2 = ok(c.get(url + "?limit=5")), ok(c.get(url + "?limit=5&offset=5"))
    assert (
        p1["total"]
        == p2["total"]
        == sql("SELECT count(*) FROM posts WHERE platform = ? AND account_id = ?", list(ACCOUNT))[0][0]
    )
    rows = p1["rows"] + p2["rows"]
    assert len({r["post_id"] for r in rows}) == 10
    assert [r["created_at"] for r in rows] == sorted((r["created_at"] for r in rows), reverse=True)
    assert set(rows[0]) == {"platform", "post_id", "account_id", "handle", "created_at", "kind", "lang", "text", "url"}
    assert rows[0]["url"] == f"https://x.com/i/status/{rows[0]['post_id']}"


def test_posts_by_id_in_the_order_asked(env: dict[str, Any]):
    ids = [f"{p}:{i}" for p, i in env["sql"]("SELECT platform, post_id FROM posts ORDER BY post_id DESC LIMIT 3")]
    d = ok(env["client"].get("/api/posts", params={"ids": ",".join(ids[::-1] + ["x:nope", ids[0]])}))
    assert [f"{r['platform']}:{r['post_id']}" for r in d["rows"]] == ids[::-1]


def test_signal_with_its_evidence_posts(env: dict[str, Any]):
    f = env["findings"]
    burst = next(s for s in f["signals"] if s["type"] == "burst")
    d = ok(env["client"].get(f"/api/signals/{burst['id']}"))
    assert d["summary"] == burst["summary"] and d["evidence"] == burst["evidence"]
    assert [[p["platform"], p["post_id"]] for p in d["posts"]] == burst["evidence"]["post_ids"][:200]
    assert all(p["text"] for p in d["posts"])


def test_search_json_and_csv_download_is_formula_safe(env: dict[str, Any]):
    sql, c = env["sql"], env["client"]
    d = ok(c.get("/api/search", params={"hashtag": "yeniyol", "platform": "x", "limit": 5}))
    assert (
        d["total"]
        == sql(
            "SELECT count(*) FROM posts WHERE platform = 'x' AND "
            "list_contains(list_transform(hashtags, lambda h: lower(h)), 'yeniyol')"
        )[0][0]
    )
    assert len(d["rows"]) == 5 and d["rows"][0]["url"].startswith("https://x.com/i/status/")
    d = ok(c.get("/api/search", params={"q": "formulatest"}))
    assert d["total"] == 1 and d["rows"][0]["text"].startswith("=cmd")
    r = c.get("/api/search", params={"q": "formulatest", "format": "csv"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"].startswith("attachment")
    assert "\"'=cmd|' /C calc'!A1 formulatest\"" in r.text or "'=cmd" in r.text
    assert '\n"=cmd' not in r.text and ',"=cmd' not in r.text
    # more than one search page (1,000) in one CSV
    r = c.get("/api/search", params={"platform": "x", "format": "csv", "limit": 1500})
    assert r.text.count("\n") == 1501


# -- labels, evaluation, exports --------------------------------------------------------------


def test_labels_round_trip_and_evaluate(env: dict[str, Any]):
    c = env["client"]
    body = {
        "target_type": "account",
        "platform": ACCOUNT[0],
        "target_id": ACCOUNT[1],
        "label": "unsure",
        "note": "<img src=x onerror=alert(1)>",
    }
    first = ok(c.post("/api/labels", json=body), 201)["label"]
    assert first["author"] == "tester" and first["note"] == body["note"] and first["history"] == 1
    second = ok(c.post("/api/labels", json=body | {"label": "confirmed", "note": "same texts as C1"}), 201)["label"]
    assert second["history"] == 2
    labels = ok(c.get("/api/labels"))["labels"]
    mine = [lab for lab in labels if lab["target_id"] == ACCOUNT[1]]
    assert len(mine) == 1 and mine[0]["label"] == "confirmed"
    hist = ok(c.get("/api/labels", params={"target_type": "account", "platform": ACCOUNT[0], "target_id": ACCOUNT[1]}))[
        "labels"
    ]
    assert [h["label"] for h in hist] == ["confirmed", "unsure"]  # the whole history, newest first
    assert c.get("/api/labels", params={"target_id": ACCOUNT[1]}).status_code == 400
    assert ok(c.get(f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}"))["label"]["label_id"] == second["label_id"]
    camp = ok(
        c.post(
            "/api/labels", json={"target_type": "campaign", "target_id": "C3", "label": "dismissed", "note": "checked"}
        ),
        201,
    )["label"]
    listed = {x["id"]: x["label"] for x in ok(c.get("/api/campaigns"))["campaigns"]}
    n3 = len(env["findings"]["campaigns"][2]["accounts"])
    assert listed["C3"]["label_id"] == camp["label_id"] and listed["C3"]["member_count"] == n3
    assert listed["C3"]["overlap"] == 1.0 and "members" not in listed["C3"]
    assert ok(c.get("/api/campaigns/C3"))["label"]["label"] == "dismissed"
    assert ok(c.get("/api/labels?target_type=campaign"))["labels"][0]["label_id"] == camp["label_id"]
    ev = ok(c.get("/api/evaluate"))
    assert ev["labels"] == {"accounts": 1, "campaigns": 1}
    assert ev["tp"] == 1 and ev["judged_accounts"]["dismissed"] == n3


def test_every_export_format_downloads(env: dict[str, Any]):
    c, case = env["client"], env["case"]
    r = c.get("/api/export/json")
    doc = json.loads(r.content)
    assert {k: v for k, v in doc.items() if k != "labels"} == json.loads(findings_path(case).read_text())
    assert r.headers["content-disposition"] == 'attachment; filename="case.findings.json"'
    assert json.loads(c.get("/api/export/stix").content)["type"] == "bundle"
    for fmt, start in (("gexf", b"<?xml"), ("graphml", b"<?xml"), ("html", b"<!")):
        r = c.get(f"/api/export/{fmt}")
        assert r.status_code == 200 and r.content.lstrip()[:5].startswith(start), fmt
    assert "formulatest" not in c.get("/api/export/html").text  # the report cites evidence posts only
    for fmt in ("csv", "parquet"):
        r = c.get(f"/api/export/{fmt}")
        names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
        assert r.headers["content-type"] == "application/zip" and names and all(n.startswith("case/") for n in names)
        assert any(n.endswith("." + fmt) for n in names)


# -- bad input: 4xx with a message, never a 500 ---------------------------------------------------


BAD_GETS = [
    ("/api/campaigns/C999", 404, "no campaign"),
    ("/api/campaigns/C999/graph", 404, "no campaign"),
    ("/api/campaigns/C1/messages?limit=abc", 400, "whole number"),
    ("/api/campaigns/C1/messages?limit=0", 400, "between"),
    ("/api/campaigns/C1/messages?limit=100000", 400, "between"),
    ("/api/accounts/x/no-such-account", 404, "no account"),
    ("/api/accounts/mars/123", 404, "no account"),
    ("/api/accounts/x/no-such-account/posts", 404, "no account"),
    (f"/api/accounts/x/{ACCOUNT[1]}/posts?offset=-1", 400, "offset"),
    (f"/api/accounts/x/{ACCOUNT[1]}/posts?limit=501", 400, "limit"),
    ("/api/posts", 400, "ids is required"),
    ("/api/posts?ids=nocolon", 400, "platform:post_id"),
    ("/api/posts?ids=" + ",".join(f"x:{i}" for i in range(501)), 400, "at most 500"),
    ("/api/signals/S99999", 404, "no signal"),
    ("/api/search?platform=mars", 400, "platform"),
    ("/api/search?lang=english", 400, "lang"),
    ("/api/search?from=yesterday", 400, "from must be"),
    ("/api/search?from=2024-12-01&to=2024-11-01", 400, "after"),
    ("/api/search?format=xml", 400, "format"),
    ("/api/search?limit=5000", 400, "limit"),
    ("/api/search?q=%F0%9F%98%80", 400, "no words"),
    ("/api/search?sort=asc", 400, "unknown search parameter"),
    ("/api/run/not-a-job", 404, "no such detection run"),
    ("/api/export/pdf", 404, "unknown export format"),
    ("/api/export/..%2F..%2Fetc%2Fpasswd", 404, "no such endpoint"),
    ("/static/..%2F..%2Fapp.py", 404, "not found"),
    ("/static/%2e%2e/%2e%2e/store.py", 404, "not found"),
    ("/api/labels?target_type=post", 400, "target_type"),
    ("/api/nothing/here", 404, "no such endpoint"),
]


@pytest.mark.parametrize("url,status,words", BAD_GETS)
def test_bad_requests_are_4xx_with_a_message(env: dict[str, Any], url: str, status: int, words: str):
    bad(env["client"].get(url), status, words)


BAD_LABELS = [
    (b"{not json", 400, "JSON object"),
    (b"[1, 2]", 400, "JSON object"),
    (b"\xff\xfe", 400, "JSON object"),
    (json.dumps({"target_type": "post", "target_id": "1", "label": "confirmed"}).encode(), 400, "target_type"),
    (
        json.dumps({"target_type": "account", "platform": "x", "target_id": ACCOUNT[1], "label": "guilty"}).encode(),
        400,
        "label must be",
    ),
    (json.dumps({"target_type": "account", "target_id": ACCOUNT[1], "label": "confirmed"}).encode(), 400, "platform"),
    (
        json.dumps({"target_type": "account", "platform": "x", "target_id": "nobody", "label": "confirmed"}).encode(),
        404,
        "no account",
    ),
    (json.dumps({"target_type": "campaign", "target_id": "C999", "label": "confirmed"}).encode(), 404, "no campaign"),
    (
        json.dumps(
            {"target_type": "account", "platform": "x", "target_id": ACCOUNT[1], "label": "unsure", "note": 5}
        ).encode(),
        400,
        "note",
    ),
    (
        json.dumps({"target_type": "account", "platform": "x", "target_id": ["a"], "label": "unsure"}).encode(),
        400,
        "target_id",
    ),
    (
        json.dumps(
            {
                "target_type": "account",
                "platform": "x",
                "target_id": ACCOUNT[1],
                "label": "unsure",
                "note": "n" * 10_001,
            }
        ).encode(),
        400,
        "note",
    ),
    (b"x" * (65 * 1024), 413, "64 KiB"),
    # deep nesting: a RecursionError in the parser was a 500
    (b"[" * 10_000 + b"]" * 10_000, 400, "nested more than 32 levels"),
    (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, 400, "nested more than 32 levels"),
    (b"[" * 10_000, 400, "nested more than 32 levels"),  # and never closed
    (
        b'{"target_type": "account", "platform": "x", "target_id": "1796407247106999780", "label": "unsure", '
        b'"note": ' + b'{"n": ' * 5_000 + b'"deep"' + b"}" * 5_000 + b"}",
        400,
        "nested more than 32 levels",
    ),
    (
        json.dumps(
            {"target_type": "account", "platform": "x", "target_id": ACCOUNT[1], "label": "unsure", "note": {"a": [1]}}
        ).encode(),
        400,
        "note must be a string",
    ),
    (  # brackets inside strings are text, not nesting
        json.dumps({"target_type": "campaign", "target_id": "C999", "label": "unsure", "note": "[" * 5_000}).encode(),
        404,
        "no campaign",
    ),
    # a lone surrogate (JSON's \ud800) in an id: it reached DuckDB's parameter binding, a 500
    (b'{"target_type": "account", "platform": "x", "target_id": "\\ud800", "label": "unsure"}', 400, "lone surrogate"),
    (b'{"target_type": "account", "platform": "x", "target_id": "12\\udfff", "label": "unsure"}', 400, "target_id"),
    (b'{"target_type": "account", "platform": "\\ud800", "target_id": "1", "label": "unsure"}', 400, "platform"),
    (b'{"target_type": "campaign", "target_id": "C1\\ud800", "label": "unsure"}', 400, "lone surrogate"),
]


@pytest.mark.parametrize("body,status,words", BAD_LABELS)
def test_bad_label_writes_are_4xx_with_a_message(env: dict[str, Any], body: bytes, status: int, words: str):
    bad(env["client"].post("/api/labels", content=body, headers={"content-type": "application/json"}), status, words)


def test_a_lone_surrogate_in_a_note_is_stored_as_a_replacement_character(env: dict[str, Any]):
    body = b'{"target_type": "campaign", "target_id": "C2", "label": "unsure", "note": "half \\ud83d a smile"}'
    r = env["client"].post("/api/labels", content=body, headers={"content-type": "application/json"})
    assert ok(r, 201)["label"]["note"] == "half \ufffd a smile"


def test_the_case_is_open_only_while_requests_use_it(tmp_path: Path):
    """No connection between requests: reads share a read-only open that lingers briefly, a write closes at once."""
    case = copy_demo(tmp_path)
    c = browser(create_app(case))
    access = c.app.state.workbench.access  # type: ignore[attr-defined]
    access.linger = 0.2
    ok(c.get(f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}/posts"))
    assert access.is_open
    deadline = time.monotonic() + 10
    while access.is_open and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not access.is_open
    body = {"target_type": "campaign", "target_id": "C1", "label": "confirmed", "note": ""}
    ok(c.post("/api/labels", json=body), 201)
    assert not access.is_open and not case.with_name(case.name + ".owner").exists()
    # another open of the case (another process would do the same) gets it read-write
    import duckdb

    duckdb.connect(str(case)).close()


def test_oversize_body_without_length_is_refused(env: dict[str, Any]):
    def chunks() -> Iterator[bytes]:  # chunked transfer: no Content-Length to check up front
        for _ in range(70):
            yield b"x" * 1024

    bad(env["client"].post("/api/labels", content=chunks()), 413, "64 KiB")


def test_no_findings_yet(tmp_path: Path):
    c = browser(create_app(copy_demo(tmp_path, findings=False)))
    assert ok(c.get("/api/case"))["findings"] is None
    assert ok(c.get("/api/campaigns"))["campaigns"] == []
    bad(c.get("/api/campaigns/C1"), 404, "no findings yet")
    bad(c.get("/api/evaluate"), 404, "no findings yet")
    bad(c.get("/api/export/json"), 404, "no findings")
    assert ok(c.get(f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}"))["campaigns"] == []


def test_missing_case_and_unsafe_settings_are_refused(tmp_path: Path, env: dict[str, Any]):
    with pytest.raises(FileNotFoundError):
        create_app(tmp_path / "none.duckdb")
    with pytest.raises(ValueError, match="needs a token"):
        create_app(env["case"], host="0.0.0.0")
    with pytest.raises(ValueError, match="token must be"):
        create_app(env["case"], token="short")
    with pytest.raises(ValueError, match="token must be"):
        create_app(env["case"], token="a" * 20 + "; Path=/")


# -- the guard: Host, token, CSRF ---------------------------------------------------------------


def test_host_header_must_name_this_server(env: dict[str, Any]):
    c = env["client"]
    for host in ("127.0.0.1:8765", "localhost:8765", "LOCALHOST", "127.0.0.1"):
        assert c.get("/api/campaigns", headers={"host": host}).status_code == 200, host
    for host in ("evil.example", "127.0.0.1.evil.example:8765", "", "[::1]:8765"):
        bad(c.get("/api/campaigns", headers={"host": host}), 403, "host name")


def test_token_mode(env: dict[str, Any]):
    app = create_app(env["case"], token=TOKEN, host="10.1.2.3")
    c = TestClient(app, base_url="http://10.1.2.3:8765", follow_redirects=False)
    bad(c.get("/api/campaigns"), 403, "access token")
    bad(c.get("/"), 403, "access token")
    bad(c.get("/api/campaigns", headers={"X-Swarmscope-Token": TOKEN[:-1]}), 403, "access token")
    assert c.get("/api/campaigns", headers={"X-Swarmscope-Token": TOKEN}).status_code == 200
    assert c.get("/api/campaigns", headers={"cookie": f"swarmscope_token={TOKEN}"}).status_code == 200
    bad(c.get("/?token=wrong"), 403, "wrong token")
    r = c.get(f"/?token={TOKEN}")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"swarmscope_token={TOKEN}") and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert c.get("/api/campaigns").status_code == 200  # the cookie now does it
    assert c.get("/").status_code == 200
    bad(c.get("/api/campaigns", headers={"host": "evil.example"}), 403, "host name")
    # a label write needs the token and the CSRF pair
    csrf = c.cookies["swarmscope_csrf"]
    body = {"target_type": "campaign", "target_id": "C2", "label": "unsure", "note": ""}
    c.cookies.delete("swarmscope_token")
    bad(c.post("/api/labels", json=body, headers={"X-CSRF-Token": csrf}), 403, "access token")
    assert (
        c.post("/api/labels", json=body, headers={"X-CSRF-Token": csrf, "X-Swarmscope-Token": TOKEN}).status_code == 201
    )


def test_every_interface_accepts_any_host_name_with_the_token(env: dict[str, Any]):
    c = TestClient(create_app(env["case"], token=TOKEN, host="0.0.0.0"), base_url="http://analyst-box.lan:8765")
    assert c.get("/api/campaigns", headers={"X-Swarmscope-Token": TOKEN}).status_code == 200
    bad(c.get("/api/campaigns"), 403, "access token")


def test_csrf_on_writes(env: dict[str, Any]):
    c = TestClient(env["app"], base_url=BASE)
    body = {"target_type": "campaign", "target_id": "C2", "label": "unsure", "note": "csrf"}
    bad(c.post("/api/labels", json=body), 403, "CSRF")  # no cookie, no header
    csrf = c.get("/").cookies["swarmscope_csrf"]
    bad(c.post("/api/labels", json=body), 403, "CSRF")  # cookie, no header
    bad(c.post("/api/labels", json=body, headers={"X-CSRF-Token": csrf + "x"}), 403, "CSRF")
    bad(c.post("/api/run", headers={"X-CSRF-Token": "guess"}), 403, "CSRF")
    for origin in ("http://evil.example", "null", "https://127.0.0.1:8765", "http://127.0.0.1:9999"):
        bad(c.post("/api/labels", json=body, headers={"X-CSRF-Token": csrf, "Origin": origin}), 403, "cross-origin")
    r = c.post("/api/labels", json=body, headers={"X-CSRF-Token": csrf, "Origin": BASE})
    assert r.status_code == 201
    assert c.post("/api/labels", json=body, headers={"X-CSRF-Token": csrf}).status_code == 201  # no Origin sent


# -- detection runs ---------------------------------------------------------------------------------


def test_one_run_at_a_time(tmp_path: Path):
    app = create_app(copy_demo(tmp_path))
    release, started = threading.Event(), threading.Event()

    def slow_detect(
        case: str | Path,
        params: object = None,
        watchlist: object = None,
        progress: Callable[[str, int, int], None] | None = None,
    ) -> NoReturn:
        assert progress is not None
        progress("networks", 1, 4)
        started.set()
        release.wait(30)
        raise ValueError(f"{Path(case).resolve().parent}/secret.csv: broken on purpose")

    app.state.workbench.jobs._detect = slow_detect
    c = browser(app)
    job = ok(c.post("/api/run"), 202)["job_id"]
    assert started.wait(10)
    bad(c.post("/api/run"), 409, "already going")
    state = ok(c.get(f"/api/run/{job}"))
    assert (state["state"], state["step"], state["done"], state["total"]) == ("running", "networks", 1, 4)
    assert ok(c.get("/api/run"))["running"]["job_id"] == job
    release.set()
    for _ in range(100):
        state = ok(c.get(f"/api/run/{job}"))
        if state["state"] != "running":
            break
        time.sleep(0.05)
    assert state["state"] == "failed" and "broken on purpose" in state["error"]
    assert str(tmp_path) not in state["error"]  # no path from inside the case's folder
    assert ok(c.get("/api/run"))["running"] is None


def test_detection_run_from_the_page_reloads_findings_and_keeps_labels(tmp_path: Path):
    case = copy_demo(tmp_path)
    c = browser(create_app(case))
    before = ok(c.get("/api/case"))["findings"]
    ok(
        c.post(
            "/api/labels",
            json={"target_type": "campaign", "target_id": "C1", "label": "confirmed", "note": "office crew"},
        ),
        201,
    )
    ok(
        c.post(
            "/api/labels",
            json={
                "target_type": "account",
                "platform": ACCOUNT[0],
                "target_id": ACCOUNT[1],
                "label": "confirmed",
                "note": "",
            },
        ),
        201,
    )
    job = ok(c.post("/api/run"), 202)["job_id"]
    steps = set()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        state = ok(c.get(f"/api/run/{job}"))
        steps.add(state["step"])
        assert ok(c.get("/api/campaigns"))["campaigns"]  # pages keep answering while the run writes
        if state["state"] != "running":
            break
        time.sleep(0.2)
    assert state["state"] == "ok", state
    assert state["done"] == state["total"] > 0 and state["campaigns"] == before["campaigns"]
    after = ok(c.get("/api/case"))["findings"]
    assert after["run_id"] != before["run_id"]  # reloaded from the new findings.json
    assert json.loads(findings_path(case).read_text())["manifest"]["run_id"] == after["run_id"]
    # the watchlist of the last run was used again: the impersonation campaign is still found
    assert any(s["type"] == "impersonation" for s in json.loads(findings_path(case).read_text())["signals"])
    labels = ok(c.get("/api/labels"))["labels"]
    assert {x["target_type"] for x in labels} == {"account", "campaign"}
    c1 = ok(c.get("/api/campaigns"))["campaigns"][0]
    assert c1["label"]["label"] == "confirmed" and c1["label"]["overlap"] >= 0.5
    assert ok(c.get(f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}"))["label"]["label"] == "confirmed"
    assert ok(c.get("/api/case"))["runs"][-1]["command"] == "detect"


def test_serve_prints_the_address_with_a_token_off_loopback(
    env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    import uvicorn

    from swarmscope.web import serve

    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    serve(env["case"], port=8800)
    assert capsys.readouterr().out.strip().endswith("http://127.0.0.1:8800/")
    serve(env["case"], host="0.0.0.0", port=8801)
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8801/?token=" in out and len(out.split("?token=")[1].split()[0]) >= 32
    serve(env["case"], host="10.0.0.5", token=TOKEN)
    assert f"http://10.0.0.5:8765/?token={TOKEN}" in capsys.readouterr().out
    assert [(k["host"], k["port"], k["access_log"]) for k in calls] == [
        ("127.0.0.1", 8800, False),
        ("0.0.0.0", 8801, False),
        ("10.0.0.5", 8765, False),
    ]


def test_coactor_index_counts_each_shared_object_once_within_its_window():
    """Hand-checkable: the window's edge is in, one second past it is out, hashtags are no network object."""
    import pyarrow as pa

    from swarmscope import model
    from swarmscope.store import connect
    from swarmscope.web.coactors import CoactorIndex

    t0 = 1_700_000_000
    rows = [
        ("A", "a1", 0, "repost_of", "R"),
        ("B", "b1", 60, "repost_of", "R"),
        ("C", "c1", 61, "repost_of", "R"),
        ("A", "a2", 0, "text_fingerprint", "F"),
        ("A", "a3", 10, "text_fingerprint", "F"),
        ("B", "b2", 900, "text_fingerprint", "F"),
        ("C", "c2", 5, "hashtag", "h"),
        ("A", "a4", 5, "hashtag", "h"),
        ("D", "d1", 11, "text_fingerprint", "F"),
        ("D", "d2", 3, "repost_of", "R"),
    ]
    con = connect()
    con.execute(model.ddl("actions"))
    con.register(
        "_a",
        pa.table(
            {
                "platform": ["x"] * len(rows),
                "account_id": [r[0] for r in rows],
                "post_id": [r[1] for r in rows],
                "created_at": pa.array([(t0 + r[2]) * 1_000_000 for r in rows], pa.timestamp("us")),
                "object_type": [r[3] for r in rows],
                "object_id": [r[4] for r in rows],
            }
        ),
    )
    con.execute("INSERT INTO actions SELECT * FROM _a")
    index = CoactorIndex.build(con, {"repost_of": 60.0, "text_fingerprint": 900.0, "url": 300.0})
    co = index.coactors("x", "A")
    assert [(c["account_id"], c["shared"], c["median_gap_seconds"]) for c in co] == [("D", 2, 2.0), ("B", 2, 475.0)]
    d = co[0]["examples"]
    assert [(e["object_type"], e["post_id"], e["other_post_id"], e["gap_seconds"]) for e in d] == [
        ("text_fingerprint", "a3", "d1", 1.0),
        ("repost_of", "a1", "d2", 3.0),
    ]
    # C reposted R 61 s after A (out of the 60 s window), 1 s after B and 58 s after D
    c = index.coactors("x", "C")
    assert [(x["account_id"], x["shared"], x["median_gap_seconds"]) for x in c] == [("B", 1, 1.0), ("D", 1, 58.0)]
    assert c[1]["examples"] == [
        {"object_type": "repost_of", "object_id": "R", "post_id": "c1", "other_post_id": "d2", "gap_seconds": 58.0}
    ]
    assert index.coactors("x", "nobody") == []


def _planted_campaign(n: int = 450, groups: int = 6, isolated: int = 10, seed: int = 3) -> dict:
    """A campaign of ``n`` X accounts in ``groups`` planted communities (dense inside, sparse across)
    and ``isolated`` accounts without an edge."""
    import random

    rng = random.Random(seed)
    accounts = [
        {"platform": "x", "account_id": str(1000 + i), "handle": f"op_{i}", "role": "core" if i % 3 else "periphery"}
        for i in range(n)
    ]
    edges = []
    linked = n - isolated
    for i in range(linked):
        for j in range(i + 1, linked):
            if rng.random() < (0.12 if i % groups == j % groups else 0.004):
                edges.append(["x", str(1000 + i), "x", str(1000 + j), round(rng.uniform(1, 5), 2), ["coaction"]])
    return {"id": "C450", "accounts": accounts, "network": {"edges": edges, "truncated": 0}}


def test_a_450_account_graph_is_clustered_and_spread_out():
    from collections import Counter

    import numpy as np

    from swarmscope.web.findings import Findings, graph_layout

    c = _planted_campaign()
    out = graph_layout(Findings.build({"campaigns": [c], "signals": []}, (0, 0)), c)
    nodes = out["nodes"]
    assert len(nodes) == 450 and out["clusters"] >= 6
    assert all(0 <= n["x"] <= 1 and 0 <= n["y"] <= 1 for n in nodes)
    assert nodes[0]["label"] == "op_0"  # the handle: what hovering a node shows
    # every linked account is in a community; the planted groups are found (each mostly one cluster)
    assert sum(n["cluster"] is None for n in nodes) == 10
    for g in range(6):
        members = Counter(n["cluster"] for n in nodes[:440] if int(n["key"].split(":")[1]) % 6 == (1000 + g) % 6)
        assert members.most_common(1)[0][1] >= 0.8 * sum(members.values()), members
    # not collapsed: the median distance to the nearest other account is well above a pixel's worth
    xy = np.array([[n["x"], n["y"]] for n in nodes])
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    nearest = d.min(axis=1)
    assert np.median(nearest) > 0.01 and (nearest < 1e-3).mean() < 0.02
    # clusters read as groups: accounts of one cluster sit closer together than accounts of two
    cl = np.array([-1 if n["cluster"] is None else n["cluster"] for n in nodes])
    both = (cl[:, None] >= 0) & (cl[None, :] >= 0) & np.isfinite(d)
    same = both & (cl[:, None] == cl[None, :])
    assert d[same].mean() < 0.6 * d[both & ~same].mean()
    # seeded: the same findings give the same clusters and positions
    again = graph_layout(Findings.build({"campaigns": [c], "signals": []}, (0, 0)), c)["nodes"]
    assert [(n["cluster"], n["x"], n["y"]) for n in again] == [(n["cluster"], n["x"], n["y"]) for n in nodes]


def test_the_pages_use_the_reports_platform_colours():
    import re

    from swarmscope.report.svg import PLATFORM_COLOURS
    from swarmscope.web.app import STATIC

    js = (STATIC / "dom.js").read_text(encoding="utf-8")
    block = js[js.index("export const PLATFORM_COLOURS = {") :].split("};", 1)[0]
    assert dict(re.findall(r'(\w+): "(#[0-9A-Fa-f]{6})"', block)) == PLATFORM_COLOURS
