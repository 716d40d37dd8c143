"""Workbench benchmark: API latency of a real uvicorn server over a generated case, and the graph payload.

    python bench/web.py [--posts 1000000] [--requests 30] [--no-write]

The case is the demo scenario (``simulate.generate``: the three planted
operations, a fan crowd, TikTok and YouTube) with its organic crowd grown to
``--posts``, ingested and detected once and cached under bench/out/web_N/.
The server is ``swarmscope serve`` in its own process (uvicorn, one worker);
requests come one at a time from this process over HTTP (httpx), after one
warm-up request per URL, so the figures are what one analyst's browser sees.
Account pages are never cached by the server: each request runs its SQL.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, machine, table, write_section

WARM_SECONDS = 10


def build_case(posts: int) -> tuple[Path, dict[str, float]]:
    """The generated case with findings (cached), and the seconds each step took when it was built."""
    folder = OUT / f"web_{posts}"
    case = folder / "case.duckdb"
    timings_file = folder / "timings.json"
    if case.exists() and case.with_name("case.findings.json").exists() and timings_file.exists():
        return case, json.loads(timings_file.read_text())
    from swarmscope.ingest import ingest
    from swarmscope.pipeline import detect
    from swarmscope.simulate import ScenarioParams, generate

    folder.mkdir(parents=True, exist_ok=True)
    for stale in (case, case.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)
    extra = 15_000  # the operations, fan crowd, TikTok and YouTube posts of the default scenario
    params = ScenarioParams(
        seed=7,
        n_organic_posts=max(posts - extra, 12_000),
        n_organic_accounts=max(posts // 10, 1500),
        n_copypaste_accounts=150,
        n_amplifier_accounts=400,
    )
    timings = {}
    t = time.perf_counter()
    scenario = generate(folder / "input", params)
    timings["generate"] = time.perf_counter() - t
    t = time.perf_counter()
    ingest(case, scenario.files, progress=False)
    timings["ingest"] = time.perf_counter() - t
    t = time.perf_counter()
    detect(case, watchlist=scenario.watchlist_path)
    timings["detect"] = time.perf_counter() - t
    for f in scenario.files:  # keep the case, drop the bulky inputs (the watchlist stays)
        Path(f).unlink(missing_ok=True)
    timings_file.write_text(json.dumps(timings))
    return case, timings


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(client: httpx.Client, urls: list[str], n: int) -> tuple[np.ndarray, int, float]:
    """(latencies in ms of ``n`` requests cycling over ``urls``, bytes of the last answer, first-call ms)."""
    first = time.perf_counter()
    r = client.get(urls[0])
    first_ms = (time.perf_counter() - first) * 1000
    for u in urls[1:]:
        r = client.get(u)
        r.raise_for_status()
    out = []
    for i in range(n):
        t = time.perf_counter()
        r = client.get(urls[i % len(urls)])
        out.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    return np.array(out), len(r.content), first_ms


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--requests", type=int, default=30, help="requests per row of the table")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument(
        "--case", type=Path, help="an existing detected case (findings next to it), e.g. bench/pipeline.py's 10M one"
    )
    a = ap.parse_args()
    case, timings = (a.case, None) if a.case else build_case(a.posts)
    findings = json.loads(case.with_name("case.findings.json").read_text())
    from swarmscope.store import connect

    con = connect(case, read_only=True)
    # the busiest accounts: the slowest account pages (most posts and shared objects)
    busiest = [
        tuple(r)
        for r in con.execute(
            "SELECT platform, account_id FROM actions GROUP BY ALL ORDER BY count(*) DESC LIMIT 200"
        ).fetchall()
    ]
    con.close()
    load = os.getloadavg()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", f"from swarmscope.web import serve; serve({str(case)!r}, port={port})"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        client = httpx.Client(base_url=base, timeout=120)
        for _ in range(600):
            try:
                client.get("/api/campaigns").raise_for_status()
                break
            except httpx.TransportError:
                time.sleep(0.1)
        time.sleep(WARM_SECONDS)  # let the start-up work (co-actor index, graph layouts) finish first
        overview = client.get("/api/case").json()
        campaigns = client.get("/api/campaigns").json()["campaigns"]
        biggest = max(campaigns, key=lambda c: c["accounts"])
        cid = biggest["id"]
        page = client.get(f"/api/campaigns/{cid}").json()
        members = [(x["platform"], x["account_id"]) for x in page["accounts"]][:5]
        in_campaigns = {(x["platform"], x["account_id"]) for c in findings["campaigns"] for x in c["accounts"]}
        organic = [k for k in busiest if k not in in_campaigns][:5]
        accounts = [f"/api/accounts/{p}/{i}" for p, i in members + organic]
        tag = (page.get("hashtags") or [{"tag": "yeniyol"}])[0]["tag"]
        searches = [
            "/api/search?q=korpu",
            f"/api/search?hashtag={tag}",
            "/api/search?q=the%20news&lang=en",
            "/api/search?domain=example.com",
            f"/api/search?account={members[0][1]}",
        ]
        rows = []
        graph_bytes = 0
        for label, urls in (
            ("page `/` (index.html)", ["/"]),
            ("`GET /api/case` (overview)", ["/api/case"]),
            ("`GET /api/campaigns` (list)", ["/api/campaigns"]),
            (f"`GET /api/campaigns/{cid}`", [f"/api/campaigns/{cid}"]),
            (f"`GET /api/campaigns/{cid}/graph`", [f"/api/campaigns/{cid}/graph"]),
            (f"`GET /api/campaigns/{cid}/messages`", [f"/api/campaigns/{cid}/messages"]),
            ("`GET /api/accounts/...` (5 members, 5 busiest organic)", accounts),
            ("`GET /api/accounts/.../posts`", [u + "/posts" for u in accounts]),
            ("`GET /api/search` (5 queries)", searches),
        ):
            ms, size, first = measure(client, urls, a.requests)
            if "graph" in label:
                graph_bytes = size
            rows.append(
                [
                    label,
                    f"{first:,.0f}",
                    f"{np.percentile(ms, 50):,.0f}",
                    f"{np.percentile(ms, 95):,.0f}",
                    f"{ms.max():,.0f}",
                    f"{size / 1024:,.0f}",
                ]
            )
            print(rows[-1], flush=True)
    finally:
        server.terminate()
        server.wait(30)
    graph = page["counts"]
    md = (
        "## Workbench API (bench/web.py)\n\n"
        f"Machine: {machine()}; load average {load[0]:.1f} before and {os.getloadavg()[0]:.1f} after the "
        "requests (the machine is shared).\n\n"
        f"Case: the demo scenario grown to {overview['posts']:,} posts and {overview['accounts']:,} accounts "
        + (
            f"(`simulate.generate`, organic crowd scaled; built once: generate {timings['generate']:,.0f} s, ingest "
            f"{timings['ingest']:,.0f} s, detect {timings['detect']:,.0f} s)"
            if timings
            else f"(`{case.parent.name}/{case.name}`, built by bench/pipeline.py)"
        )
        + f"; {len(campaigns)} campaigns, the largest "
        f"({cid}) with {graph['accounts']:,} accounts and {len(page.get('signals', []))} signals.\n\n"
        f"Server: `swarmscope serve` (uvicorn, one process) on 127.0.0.1, measured from {WARM_SECONDS} s after it "
        "answered; client: httpx in another process, one "
        f"request at a time, {a.requests} timed requests per row after one warm-up per URL (the first call of a "
        "row is shown apart: it includes computing what the server caches per findings version, such as the "
        "hour-of-week grid, unless the server's start-up already did, as for the co-actor index and the top "
        "campaigns' graph layouts). Account pages and searches are never cached.\n\n"
        + table(["request", "first call ms", "p50 ms", "p95 ms", "max ms", "answer KiB"], rows)
        + f"\n\nGraph payload of {cid}: {graph_bytes / 1024:,.0f} KiB of JSON (nodes with layout, edges capped at "
        "5,000 per campaign by findings.json). Target (issue #9): p95 under 300 ms for list and account pages.\n"
    )
    print(md)
    if not a.no_write:
        write_section("web", md)


if __name__ == "__main__":
    main()
