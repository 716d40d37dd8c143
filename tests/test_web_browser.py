"""The workbench in headless Chromium: pages render without console errors, the network is drawn in
WebGL, a label survives a reload and a detection re-run, hostile post text stays text, and sigma draws a
5,000-node / 50,000-edge graph.

Needs Debian's chromium and chromedriver (no browser download); skipped without them. The case is a
small generated scenario (seconds) with one hostile post inserted before detection, served by uvicorn
on a free loopback port in a thread.

Run as a script to refresh the README screenshot from the demo case:
    python tests/test_web_browser.py --screenshot docs/img/workbench-campaign.png [demo-out/case.duckdb]
"""

from __future__ import annotations

import io
import json
import shutil
import socket
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_POST_ID = "999000000000000001"
SHOTS = 1280, 900

if __name__ != "__main__":
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip(
            "headless browser tests need chromium and chromedriver (Debian: chromium chromium-driver)",
            allow_module_level=True,
        )
    pytest.importorskip("selenium", reason="browser tests need selenium")
    pytest.importorskip("uvicorn", reason="the workbench needs uvicorn")


# ---- the case -----------------------------------------------------------------------------------


def build_case(out: Path) -> tuple[Path, dict]:
    """A small scenario with a hostile post by a planted operator, detected; returns (case, info)."""
    from swarmscope.ingest import ingest
    from swarmscope.pipeline import detect
    from swarmscope.simulate import ScenarioParams, generate
    from swarmscope.store import connect

    params = ScenarioParams(
        seed=11,
        n_organic_accounts=300,
        n_organic_posts=2500,
        n_fan_accounts=100,
        n_copypaste_accounts=60,
        n_amplifier_accounts=30,
        n_amplified_posts=20,
        n_tiktok_organic_accounts=100,
        n_tiktok_organic_videos=500,
        n_tiktok_viral_sound_users=40,
        n_youtube_organic_accounts=100,
        n_youtube_organic_comments=400,
    )
    sc = generate(out / "input", params)
    case = out / "case.duckdb"
    ingest(case, sc.files, progress=False)
    operator = sc.truth["operations"][0]["account_ids"][0]
    con = connect(case)
    try:
        # the newest post of the account, so it heads the account page (posts newest first)
        con.execute(
            """INSERT INTO posts (platform, post_id, account_id, created_at, text, lang, kind, hashtags, urls,
                                          mentions, media)
                       SELECT 'x', ?, ?, max(created_at) + INTERVAL 1 HOUR, ?, 'en', 'post', [], [], [], []
                       FROM posts""",
            [HOSTILE_POST_ID, operator, HOSTILE],
        ).fetchall()
    finally:
        con.close()
    detect(case, watchlist=sc.watchlist_path)
    return case, {"hostile_account": operator}


class Server:
    """uvicorn serving the workbench app in a thread, on a free loopback port."""

    def __init__(self, case: Path) -> None:
        import uvicorn

        from swarmscope.web import create_app

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        config = uvicorn.Config(
            create_app(case), host="127.0.0.1", port=self.port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the workbench server did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)

    def get(self, path: str) -> dict:
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.loads(r.read())


def make_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--enable-unsafe-swiftshader",
        "--use-angle=swiftshader",
        f"--window-size={SHOTS[0]},{SHOTS[1]}",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    # the viewport itself 1280x900 (window size includes browser chrome)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": SHOTS[0], "height": SHOTS[1], "deviceScaleFactor": 1, "mobile": False},
    )
    # a busy page (the 50,000-edge graph on a loaded machine) may hold its main thread for a while
    driver.set_script_timeout(180)
    return driver


def open_page(driver, base: str, route: str, timeout: float = 60) -> None:
    """Load a hash route and wait until the page says it finished (main[data-ready])."""
    from selenium.webdriver.support.ui import WebDriverWait

    if driver.current_url.startswith(base + "/"):
        driver.execute_script(
            """document.getElementById('main').removeAttribute('data-ready');
                                 if (location.hash === arguments[0]) location.reload();
                                 else location.hash = arguments[0];""",
            route,
        )
    else:
        driver.get(f"{base}/{route}")
    from selenium.common.exceptions import TimeoutException

    # a poll that times out while the page is busy is one more poll, not a failure
    WebDriverWait(driver, timeout, ignored_exceptions=(TimeoutException,)).until(
        lambda d: d.execute_script("return document.getElementById('main').dataset.ready || null")
    )


def severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def error_bar(driver) -> str | None:
    return driver.execute_script(
        "const b = document.getElementById('errorbar'); return b.hidden ? null : b.textContent"
    )


def assert_no_alert(driver) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    with pytest.raises(NoAlertPresentException):
        _ = driver.switch_to.alert.text  # raises when no alert is open


# ---- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    case, info = build_case(tmp_path_factory.mktemp("workbench"))
    with Server(case) as server:
        yield server, info


@pytest.fixture(scope="module")
def driver():
    d = make_driver()
    yield d
    d.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    return tmp_path_factory.mktemp("screenshots")


def biggest_campaign(server: Server) -> dict:
    campaigns = server.get("/api/campaigns")["campaigns"]
    assert campaigns, "the scenario's planted operations make campaigns"
    return max(campaigns, key=lambda c: c["accounts"])


# ---- tests --------------------------------------------------------------------------------------


def test_pages_render_without_console_errors(served, driver, shots):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.support.ui import WebDriverWait

    server, info = served
    big = biggest_campaign(server)
    page = server.get(f"/api/campaigns/{big['id']}")
    member = page["accounts"][0]
    tag = urllib.parse.quote(page["hashtags"][0]["tag"])
    routes = {
        "overview": "#/",
        "campaigns": "#/campaigns",
        "campaign": f"#/campaign/{big['id']}",
        "account": f"#/account/{member['platform']}/{member['account_id']}",
        "search": f"#/search?hashtag={tag}",
    }
    driver.get(server.url + "/")
    for name, route in routes.items():
        open_page(driver, server.url, route)
        time.sleep(0.3)  # sigma draws on the next animation frame
        driver.save_screenshot(str(shots / f"{name}.png"))
        assert error_bar(driver) is None, (name, error_bar(driver))
        assert severe(driver) == [], name
        assert driver.execute_script("return document.querySelector('#main .page').dataset.page") == name
        if name in ("account", "search"):
            assert driver.find_elements("css selector", "#main td .post-text"), f"{name}: no posts listed"
        # every external link opens in a new tab without opener or referrer, and only http(s)
        for href, rel, target in driver.execute_script(
            "return [...document.querySelectorAll('#main a[target]')].map(a => [a.href, a.rel, a.target])"
        ):
            assert target == "_blank" and set(rel.split()) >= {"noopener", "noreferrer"}, href
            assert href.startswith(("http://", "https://")), href

    # the campaign page: explanation sentences link to their signals, the network is a WebGL canvas
    open_page(driver, server.url, routes["campaign"])
    time.sleep(0.3)
    ev_links = driver.execute_script(
        "return [...document.querySelectorAll('.explanation a.ev-signal')].map(a => a.hash)"
    )
    assert ev_links and all(h.startswith("#/signal/S") for h in ev_links)
    graph = server.get(f"/api/campaigns/{big['id']}/graph")
    net = driver.find_element("id", "network")
    assert int(net.get_attribute("data-nodes")) == len(graph["nodes"])
    assert driver.execute_script(
        "return [...document.querySelectorAll('#network canvas')]"
        ".some(c => !!(c.getContext('webgl2') || c.getContext('webgl')))"
    )
    assert rendered_colours(net.screenshot_as_png) > 3, "the network canvas is blank"
    # colour toggle: the legend names roles, then platforms, then the server's clusters
    driver.find_element("css selector", ".segmented .seg[data-mode=role]").click()
    legend = driver.find_element("css selector", ".graph-foot .legend").text
    assert "core" in legend, legend
    driver.find_element("css selector", ".segmented .seg[data-mode=platform]").click()
    legend = driver.find_element("css selector", ".graph-foot .legend").text
    assert all(p in legend for p in big["per_platform"]), legend
    if graph["clusters"]:
        driver.find_element("css selector", ".segmented .seg[data-mode=cluster]").click()
        legend = driver.find_element("css selector", ".graph-foot .legend").text
        assert "cluster 1" in legend, legend

    # the charts are the server's SVG (the report's drawing code), copied in through the whitelist
    charts = server.get(f"/api/campaigns/{big['id']}/charts")
    boxes = driver.execute_script(
        "return [...document.querySelectorAll('#main .chart-box svg.chart')].map(s => "
        "[s.getAttribute('aria-label'), s.querySelectorAll('rect').length, s.querySelectorAll('title').length])"
    )
    labels = [b[0] for b in boxes]
    assert "posts per day" in labels and any(lb.startswith("hour-of-week activity, UTC") for lb in labels), boxes
    assert all(rects > 0 and titles > 0 for _, rects, titles in boxes), boxes  # hover titles kept
    heat = driver.execute_script("return document.querySelector('#main svg.chart.heatmap').textContent")
    if charts["utc_offset_hours"] is not None:
        assert "local (UTC" in heat, heat[:200]
    marks = driver.find_elements("css selector", "#main svg.chart [data-signal].clickable")
    assert len(marks) == charts["timeline"].count("data-signal="), "every burst and shift opens its signal"
    # hovering a node names it; clicking it opens its account page
    node = max(graph["nodes"], key=lambda n: n["size"])
    x, y = driver.execute_script(
        "const p = document.getElementById('network').nodePosition(arguments[0]);return [p.x, p.y]", node["key"]
    )
    size = net.size
    ActionChains(driver).move_to_element_with_offset(
        net, int(x - size["width"] / 2), int(y - size["height"] / 2)
    ).perform()
    time.sleep(0.3)
    assert node["label"] in driver.find_element("css selector", ".graph-info").text
    ActionChains(driver).click().perform()
    platform, account_id = node["key"].split(":", 1)
    WebDriverWait(driver, 20).until(
        lambda d: d.execute_script(
            "return location.hash === arguments[0] && document.getElementById('main').dataset.ready === 'account'",
            f"#/account/{platform}/{account_id}",
        )
    )
    assert severe(driver) == []


def test_overview_lists_the_campaigns_and_draws_the_servers_chart(served, driver):
    server, _ = served
    driver.get(server.url + "/")
    open_page(driver, server.url, "#/")
    assert driver.execute_script(
        "return document.querySelector('#main .chart-box svg.chart').getAttribute('aria-label')"
    ).startswith("posts per day by platform")
    listed = driver.execute_script(
        "return [...document.querySelectorAll('#main a')].map(a => a.hash).filter(h => h.startsWith('#/campaign/'))"
    )
    ids = [c["id"] for c in server.get("/api/campaigns")["campaigns"]]
    assert ids and all(f"#/campaign/{cid}" in listed for cid in ids)
    assert severe(driver) == []


HOSTILE_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10" '
    'onload="alert(1)"><script>alert(2)</script><rect width="5" height="5" fill="url(#x)" onclick="alert(3)">'
    '<title>&lt;script&gt;alert(4)&lt;/script&gt;"onload=</title></rect>'
    '<foreignObject><img xmlns="http://www.w3.org/1999/xhtml" src="x" onerror="alert(5)"/></foreignObject>'
    '<a href="javascript:alert(6)"><text x="1" y="1">x</text></a><use xlink:href="#r"/>'
    '<animate attributeName="href" to="javascript:alert(7)"/><set attributeName="onmouseover" to="alert(8)"/>'
    '<text x="1" y="9" style="x" data-signal="S1">&lt;img src=x onerror=alert(9)&gt;</text></svg>'
)


def test_server_svg_goes_in_through_the_whitelist_only(served, driver):
    server, _ = served
    driver.get(server.url + "/")
    open_page(driver, server.url, "#/")
    out = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
           import('/static/charts.js').then((m) => {
             const box = m.serverChart(arguments[0]);
             document.getElementById('main').appendChild(box);
             const svg = box.querySelector('svg');
             done({elements: [svg, ...svg.querySelectorAll('*')].map((e) => [e.localName, e.getAttributeNames()]),
                   title: svg.querySelector('title').textContent, text: svg.textContent,
                   bad: m.safeSvg('<svg><rect></svg'), html: m.safeSvg('<p>x</p>')});
           }).catch((e) => done({error: String(e)}));""",
        HOSTILE_SVG,
    )
    assert "error" not in out, out
    assert [e[0] for e in out["elements"]] == ["svg", "rect", "title", "text"], out["elements"]
    attributes = {a for _, names in out["elements"] for a in names}
    assert attributes == {"viewBox", "class", "width", "height", "x", "y", "data-signal"}, attributes
    assert out["title"] == '<script>alert(4)</script>"onload='  # as text, in a title
    assert "<img src=x onerror=alert(9)>" in out["text"]
    assert out["bad"] is None and out["html"] is None
    assert driver.execute_script("return document.querySelectorAll('#main img, #main script').length") == 0
    time.sleep(0.3)
    assert_no_alert(driver)
    # Chromium checks the page's CSP on the parsed (inert) document's event attributes and logs that it
    # blocked them; nothing else may be logged
    assert all("Content Security Policy" in m and "blocked" in m for m in severe(driver))


def test_a_450_account_graph_opens_coloured_by_cluster(served, driver):
    """The page's network on a generated 450-account campaign graph (the server's layout and clusters)."""
    from selenium.webdriver.common.action_chains import ActionChains

    from swarmscope.web.findings import Findings, graph_layout
    from tests.test_web_api import _planted_campaign

    server, _ = served
    c = _planted_campaign()
    payload = graph_layout(Findings.build({"campaigns": [c], "signals": []}, (0, 0)), c)
    driver.get(server.url + "/")
    open_page(driver, server.url, "#/")
    err = driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
           import('/static/network.js').then((m) => {
             const main = document.getElementById('main');
             while (main.firstChild) main.removeChild(main.firstChild);
             const host = document.createElement('div');
             main.appendChild(host);
             window.__net = m.campaignNetwork(host, arguments[0]);
             done(null);
           }).catch((e) => done(String(e)));""",
        payload,
    )
    assert err is None, err
    time.sleep(0.5)
    net = driver.find_element("id", "network")
    assert net.get_attribute("data-nodes") == "450" and net.get_attribute("data-mode") == "cluster"
    assert int(net.get_attribute("data-clusters")) == payload["clusters"] >= 6
    legend = driver.find_element("css selector", ".graph-foot .legend").text
    assert "cluster 1" in legend and "no link (10)" in legend, legend
    assert rendered_colours(net.screenshot_as_png) > 8, "clusters drawn in their colours"
    node = max(payload["nodes"], key=lambda n: n["size"])
    x, y = driver.execute_script(
        "const p = document.getElementById('network').nodePosition(arguments[0]);return [p.x, p.y]", node["key"]
    )
    size = net.size
    ActionChains(driver).move_to_element_with_offset(
        net, int(x - size["width"] / 2), int(y - size["height"] / 2)
    ).perform()
    time.sleep(0.3)
    info = driver.find_element("css selector", ".graph-info").text
    assert node["label"] in info and f"cluster {node['cluster'] + 1}" in info, info
    driver.execute_script("window.__net.destroy()")
    assert severe(driver) == []


def rendered_colours(png: bytes) -> int:
    """Distinct colours in a screenshot: a drawn network has node and edge colours over the background."""
    from PIL import Image

    return len(Image.open(io.BytesIO(png)).convert("RGB").getcolors(maxcolors=1 << 20) or [])


def test_label_survives_reload_and_detection_rerun(served, driver):
    from selenium.webdriver.support.ui import WebDriverWait

    server, _ = served
    big = biggest_campaign(server)
    member = server.get(f"/api/campaigns/{big['id']}")["accounts"][1]
    route = f"#/account/{member['platform']}/{member['account_id']}"
    note = "same text as 40 others within a minute <b>checked</b>"
    driver.get(server.url + "/")
    open_page(driver, server.url, route)
    driver.find_element("css selector", ".label-form input[value=confirmed]").click()
    driver.find_element("css selector", ".label-form textarea").send_keys(note)
    driver.find_element("css selector", ".label-form button[type=submit]").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements("css selector", ".label-current .badge-confirmed"))
    assert error_bar(driver) is None

    def label_shown() -> None:
        badge = driver.find_element("css selector", ".label-current .badge-confirmed")
        assert badge.text.lower() == "confirmed"
        assert note in driver.find_element("css selector", ".label-current").text  # the note, as text
        assert driver.execute_script("return document.querySelectorAll('.label-box b').length") == 0

    driver.refresh()
    open_page(driver, server.url, route)
    label_shown()

    # run detection from the overview and wait for the progress bar to finish
    open_page(driver, server.url, "#/")
    driver.find_element("id", "run-detection").click()
    state = "const b = document.querySelector('.run-box'); return b ? b.dataset.state || null : null"
    WebDriverWait(driver, 180, poll_frequency=0.5).until(lambda d: d.execute_script(state) in ("ok", "failed"))
    assert driver.execute_script(state) == "ok", error_bar(driver)
    progress = driver.find_element("id", "run-progress")
    assert float(progress.get_attribute("value")) == float(progress.get_attribute("max"))
    open_page(driver, server.url, route)
    label_shown()
    assert severe(driver) == []


def test_hostile_post_text_is_shown_as_text(served, driver):
    server, info = served
    driver.get(server.url + "/")
    for route in ("#/search?q=onerror", f"#/account/x/{info['hostile_account']}"):
        open_page(driver, server.url, route)
        assert_no_alert(driver)
        cells = driver.execute_script(
            "return [...document.querySelectorAll('#main .post-text')].map(e => e.textContent)"
        )
        assert HOSTILE in cells, route
        assert driver.execute_script("return document.querySelectorAll('#main img').length") == 0
        assert HOSTILE in driver.find_element("id", "main").text  # visible, literally
        assert severe(driver) == []
    time.sleep(0.5)
    assert_no_alert(driver)


def test_api_error_shows_in_the_error_bar(served, driver):
    server, _ = served
    driver.get(server.url + "/")
    open_page(driver, server.url, "#/campaign/C999")
    message = error_bar(driver)
    assert message and "C999" in message
    # the 404 is the only console entry: a network log line, no uncaught exception
    assert all("404" in m for m in severe(driver))


def test_synthetic_graph_of_5000_nodes_and_50000_edges(served, driver, shots):
    from selenium.webdriver.support.ui import WebDriverWait

    server, _ = served
    driver.get(server.url + "/")
    open_page(driver, server.url, "#/graphtest?nodes=5000&edges=50000", timeout=120)
    from selenium.common.exceptions import TimeoutException

    WebDriverWait(driver, 120, ignored_exceptions=(TimeoutException,)).until(
        lambda d: d.execute_script("return window.__graphtest || null")
    )
    timings = driver.execute_script("return window.__graphtest")
    driver.save_screenshot(str(shots / "graphtest.png"))
    assert timings["nodes"] == 5000 and timings["edges"] == 50000
    assert rendered_colours(driver.find_element("id", "network").screenshot_as_png) > 3
    assert severe(driver) == []
    print("graphtest timings (ms):", json.dumps(timings))


# ---- README screenshot ------------------------------------------------------------------------------


def screenshot_campaign(case: Path, out: Path) -> None:
    """Serve a copy of ``case`` (and its findings) and save its biggest campaign page at 1280x900."""
    import tempfile

    from swarmscope.findings import findings_path

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / case.name
        shutil.copy(case, copy)
        shutil.copy(findings_path(case), findings_path(copy))
        with Server(copy) as server:
            big = biggest_campaign(server)
            driver = make_driver()
            try:
                driver.get(server.url + "/")
                open_page(driver, server.url, f"#/campaign/{big['id']}")
                time.sleep(1.0)
                out.parent.mkdir(parents=True, exist_ok=True)
                driver.save_screenshot(str(out))
                problems = severe(driver)
            finally:
                driver.quit()
    if problems:
        raise SystemExit(f"console errors: {problems}")
    print(f"saved {out}")


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--screenshot":
        src = (
            Path(sys.argv[3]) if len(sys.argv) > 3 else Path(__file__).resolve().parents[1] / "demo-out" / "case.duckdb"
        )
        screenshot_campaign(src, Path(sys.argv[2]))
    else:
        raise SystemExit(__doc__)
