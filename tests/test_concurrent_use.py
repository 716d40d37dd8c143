"""The workbench and the command line on one case at once, each in its own process (file locks are per process).

A real `swarmscope serve` (uvicorn) runs over a copy of the demo case while
`info`, `evaluate`, `export`, `report` and `label` run as subprocesses; an
`info` runs during an `ingest`; a writer meets another writer. Every command
either gets through or exits 3 with a message naming the process that holds
the case, and the server answers 503 with that message, never a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ACCOUNT = ("x", "1796407247106999780")  # a core member of C1 in the demo case (seed 7)
DEMO = Path()
CLI = Path(sys.executable).with_name("swarmscope")


def swarmscope(*args: str, wait: float = 10.0, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    cmd = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "swarmscope.cli"]
    env = os.environ | {"SWARMSCOPE_LOCK_WAIT": str(wait), "COLUMNS": "200"}
    return subprocess.run(cmd + list(args), capture_output=True, text=True, timeout=timeout, env=env)


def holder(case: Path, command: str, read_only: bool = False) -> subprocess.Popen[str]:
    """A process holding ``case`` (read-write unless ``read_only``) until its stdin is closed; named ``command``."""
    code = (
        "import sys\n"
        "from swarmscope.store import Case\n"
        f"sys.argv = ['swarmscope', {command!r}]\n"
        f"with Case({str(case)!r}, read_only={read_only!r}):\n"
        "    print('holding', flush=True)\n"
        "    sys.stdin.read()\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "holding"
    return p


def release(p: subprocess.Popen[str]) -> None:
    assert p.stdin is not None
    p.stdin.close()
    p.wait(30)


@pytest.fixture(scope="module", autouse=True)
def _demo(tmp_path_factory: pytest.TempPathFactory) -> None:
    global DEMO
    from swarmscope.demo import demo

    DEMO = tmp_path_factory.mktemp("demo") / "demo-out"
    demo(DEMO, seed=7, progress=False)


def copy_demo(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO / "case.duckdb", folder / "case.duckdb")
    shutil.copyfile(DEMO / "case.findings.json", folder / "case.findings.json")
    return folder / "case.duckdb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """`swarmscope serve` in its own process over a copy of the demo case, and a client that loaded the page."""
    case = copy_demo(tmp_path_factory.mktemp("served"))
    port = free_port()
    cmd = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "swarmscope.cli"]
    server = subprocess.Popen(
        cmd + ["serve", str(case), "--port", str(port), "--analyst", "alice"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    # A new connection per request: uvicorn closes an idle keep-alive connection after 5 s, and a request sent on
    # it in that instant fails with "Server disconnected" (a browser retries; httpx does not). Seen in CI after
    # the report subprocess ran for more than 5 s.
    limits = httpx.Limits(max_keepalive_connections=0)
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60, limits=limits)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = client.get("/")
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        client.headers["X-CSRF-Token"] = r.cookies["swarmscope_csrf"]
        yield {"case": case, "client": client, "server": server}
    finally:
        client.close()
        server.terminate()
        server.wait(30)


def test_read_commands_and_labels_work_while_the_workbench_serves(served: dict[str, Any], tmp_path: Path):
    case, c = served["case"], served["client"]
    overview = c.get("/api/case").json()

    r = swarmscope("info", str(case))
    assert r.returncode == 0, r.stderr
    assert f"{overview['posts']:,} posts, {overview['accounts']:,} accounts" in r.stdout

    # a label from the command line, one from the page: each side sees both
    r = swarmscope(
        "label", str(case), "--account", f"{ACCOUNT[0]}:{ACCOUNT[1]}", "--label", "confirmed", "--note", "same texts"
    )
    assert r.returncode == 0, r.stderr
    assert f"account {ACCOUNT[0]}:{ACCOUNT[1]}: confirmed" in r.stdout
    assert c.get(f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}").json()["label"]["note"] == "same texts"
    page = {"target_type": "campaign", "target_id": "C3", "label": "dismissed", "note": "a fan crowd"}
    assert c.post("/api/labels", json=page).status_code == 201
    r = swarmscope("label", str(case), "--campaign", "C2", "--label", "unsure")
    assert r.returncode == 0, r.stderr
    r = swarmscope("label", str(case), "--list", "--json")
    assert r.returncode == 0, r.stderr
    listed = {(x["target_type"], x["target_id"]): x for x in json.loads(r.stdout)}
    assert set(listed) == {("account", ACCOUNT[1]), ("campaign", "C3"), ("campaign", "C2")}
    assert listed[("campaign", "C3")]["author"] == "alice" and listed[("campaign", "C3")]["members"]
    assert {x["label_id"] for x in c.get("/api/labels").json()["labels"]} == {x["label_id"] for x in listed.values()}

    r = swarmscope("evaluate", str(case), "--json")
    assert r.returncode == 0, r.stderr
    ev = json.loads(r.stdout)
    assert ev["labels"] == {"accounts": 1, "campaigns": 2}
    assert {k: ev[k] for k in ("tp", "fp", "fn", "tn")} == {
        k: v for k, v in c.get("/api/evaluate").json().items() if k in ("tp", "fp", "fn", "tn")
    }

    r = swarmscope("export", str(case), "-f", "json", "-o", str(tmp_path / "f.json"))
    assert r.returncode == 0, r.stderr
    assert len(json.loads((tmp_path / "f.json").read_text())["labels"]) == 3
    r = swarmscope("report", str(case), "-o", str(tmp_path / "r.html"))
    assert r.returncode == 0, r.stderr
    assert "a fan crowd" in (tmp_path / "r.html").read_text()
    assert c.get("/api/campaigns").status_code == 200  # and the server still answers
    assert not case.with_name(case.name + ".owner").exists()  # nobody holds it for writing now


def test_the_server_answers_503_naming_a_writer_of_another_process(served: dict[str, Any]):
    case, c = served["case"], served["client"]
    time.sleep(1)  # the server's read-only open lingers 0.5 s after a request
    h = holder(case, "ingest")
    try:
        r = c.get(f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}/posts")
        assert r.status_code == 503
        msg = r.json()["error"]
        assert f"process {h.pid} (swarmscope ingest" in msg and "being written" in msg
        assert str(case.parent) not in msg  # the case's name, not its folder
        r = c.post("/api/labels", json={"target_type": "campaign", "target_id": "C1", "label": "unsure"})
        assert r.status_code == 503 and f"process {h.pid}" in r.json()["error"]
    finally:
        release(h)
    assert c.get(f"/api/accounts/{ACCOUNT[0]}/{ACCOUNT[1]}/posts").status_code == 200


def test_a_writer_blocked_by_another_writer_fails_naming_it(tmp_path: Path):
    case = copy_demo(tmp_path)
    h = holder(case, "detect")
    try:
        started = time.monotonic()
        r = swarmscope("label", str(case), "--campaign", "C1", "--label", "confirmed", wait=1)
        assert r.returncode == 3, (r.stdout, r.stderr)
        assert time.monotonic() - started < 30
        err = " ".join(r.stderr.split())
        assert f"is being written by process {h.pid} (swarmscope detect" in err and "waited 1 s" in err
        assert "One process at a time can write" in err and "Traceback" not in r.stderr
        r = swarmscope("info", str(case), wait=0.5)
        assert r.returncode == 3 and f"process {h.pid} (swarmscope detect" in " ".join(r.stderr.split())
    finally:
        release(h)
    assert swarmscope("label", str(case), "--campaign", "C1", "--label", "confirmed").returncode == 0


def test_a_writer_waits_out_readers_or_names_them(tmp_path: Path):
    case = copy_demo(tmp_path)
    h = holder(case, "export", read_only=True)
    try:
        assert swarmscope("info", str(case), wait=0.5).returncode == 0  # readers share the case
        r = swarmscope("label", str(case), "--campaign", "C1", "--label", "confirmed", wait=0.5)
        assert r.returncode == 3
        err = " ".join(r.stderr.split())
        assert f"is open read-only by process {h.pid}" in err and "needs the case to itself" in err
    finally:
        release(h)


def test_info_during_an_ingest_works_or_names_the_ingest(tmp_path: Path):
    case = tmp_path / "new.duckdb"
    cmd = [str(CLI)] if CLI.exists() else [sys.executable, "-m", "swarmscope.cli"]
    ingest = subprocess.Popen(
        cmd + ["ingest", str(case), str(DEMO / "input" / "x_v2_search.jsonl")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    outcomes = []
    try:
        deadline = time.monotonic() + 120
        while ingest.poll() is None and time.monotonic() < deadline:
            if case.exists():
                r = swarmscope("info", str(case), wait=0.3)
                outcomes.append(r)
                if r.returncode != 0:
                    break
            time.sleep(0.1)
    finally:
        assert ingest.wait(120) == 0, ingest.stderr.read() if ingest.stderr else ""
    assert outcomes, "the ingest finished before info could run"
    for r in outcomes:
        assert r.returncode in (0, 3), (r.returncode, r.stdout, r.stderr)
        if r.returncode == 3:
            err = " ".join(r.stderr.split())
            assert f"process {ingest.pid} (swarmscope ingest" in err and "run this again" in err
        assert "Traceback" not in r.stderr
    assert swarmscope("info", str(case)).returncode == 0
