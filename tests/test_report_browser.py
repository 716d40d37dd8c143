"""The sample report in headless Chromium (Debian's chromium package): it renders, shows its key
elements, and logs nothing to the console (no CSP violation, no script, no blocked fetch)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from swarmscope.report.html import write_html

FIXTURES = Path(__file__).parent / "fixtures"
CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium not on PATH: install Debian's chromium package (apt-get install -y chromium) "
    "to run the headless-browser report test",
)

# The console check reads Chromium's log: every console message, CSP violations included, is a
# line with ':CONSOLE' in it on stderr.
CONSOLE = re.compile(r":CONSOLE[:(]")


def chromium(tmp: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        CHROMIUM or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={tmp / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
        page.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    findings = json.loads((FIXTURES / "findings_sample.json").read_text(encoding="utf-8"))
    posts = json.loads((FIXTURES / "findings_sample_posts.json").read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("report") / "report.html"
    return write_html(findings, out, posts=posts, case_info={"title": "Sample case"})


def test_screenshot(report: Path, tmp_path: Path) -> None:
    shot = tmp_path / "r.png"
    run = chromium(tmp_path, report, f"--screenshot={shot}", "--window-size=1280,2000")
    assert shot.exists(), run.stderr[-2000:]
    with Image.open(shot) as im:
        assert im.size == (1280, 2000)
        # not a blank page: the header, charts and tables put many distinct colours on it
        assert len(im.convert("RGB").getcolors(maxcolors=1 << 20) or []) > 20
    assert not [line for line in run.stderr.splitlines() if CONSOLE.search(line)]


def test_dom_has_the_key_elements_and_no_console_messages(report: Path, tmp_path: Path) -> None:
    run = chromium(tmp_path, report, "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    for marker in (
        'id="camp-C1"',
        'id="camp-C2"',
        'id="sig-S1"',
        'id="msg-D12"',
        'id="method"',
        'id="limits"',
        "Campaign C1",
        "Top messages and their copies",
        "Holiday comparison",
        "<svg",
    ):
        assert marker in dom, marker
    # C1: timeline, heatmap, holiday bars, network; C2: timeline, network; the case-wide rhythm
    assert dom.count("<svg") == 7
    assert "<script" not in dom.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom  # hostile text shown, not run
    console = [line for line in run.stderr.splitlines() if CONSOLE.search(line)]
    assert not console, console


def test_console_check_catches_a_violation(tmp_path: Path) -> None:
    """The console check can fail: a page that tries to fetch an image and run a script is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
        "content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"></head>"
        '<body><img src="http://example.invalid/x.png"><script>console.log(1)</script></body></html>',
        encoding="utf-8",
    )
    run = chromium(tmp_path, bad, "--dump-dom")
    assert len([line for line in run.stderr.splitlines() if CONSOLE.search(line)]) >= 2


def test_print_to_pdf_starts_each_campaign_on_a_new_page(tmp_path: Path) -> None:
    """Three tiny campaigns fit on one screen page; printed, each starts its own page."""
    findings = {
        "campaigns": [
            {"id": f"C{i}", "score": 0.5, "explanation": [{"text": "short", "evidence": []}]} for i in (1, 2, 3)
        ],
        "signals": [],
    }
    page = write_html(findings, tmp_path / "tiny.html")
    pdf = tmp_path / "tiny.pdf"
    run = chromium(tmp_path, page, f"--print-to-pdf={pdf}", "--no-pdf-header-footer")
    assert pdf.exists(), run.stderr[-2000:]
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf.read_bytes()))
    # contents; overview; C1; C2; C3; method and limits
    assert pages >= 6, pages
