"""Command-line conventions (docs/cli.md): --json on stdout, plain tables in pipes, -o/--output, defaults.

CliRunner's stdout is not a terminal, exactly as in ``swarmscope info CASE | cut -f1``:
the plain-output rules apply.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from swarmscope.cli import app
from swarmscope.ingest import formats

from .conftest import FIXTURES

runner = CliRunner()
BOX = set("┏┃┡━│└┘┌┐─…")  # Rich's table borders and the ellipsis of a cut cell


@pytest.fixture
def detected(small_detected_case):
    return small_detected_case


def _tsv(text: str) -> dict[str, list[dict]]:
    """The ``# title`` separated TSV tables of plain output, by title."""
    tables: dict[str, list[dict]] = {}
    title, block = "", []
    for line in text.splitlines() + ["# end"]:
        if "\t" in line:
            block.append(line)
            continue
        if block:  # a line without a tab ends a table
            tables[title] = list(csv.DictReader(io.StringIO("\n".join(block)), delimiter="\t"))
            block = []
        if line.startswith("# "):
            title = line[2:]
    return tables


def test_formats_json_lists_every_format():
    r = runner.invoke(app, ["formats", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.stdout)
    assert [x["format"] for x in rows] == list(formats())
    assert all(x["description"] for x in rows)


def test_formats_in_a_pipe_is_tab_separated():
    r = runner.invoke(app, ["formats"])
    lines = r.stdout.splitlines()
    assert lines[0] == "format\tdescription" and len(lines) == len(formats()) + 1
    assert all(line.count("\t") == 1 for line in lines)


def test_info_json_and_plain_tables_say_the_same(case_path):
    assert runner.invoke(app, ["ingest", str(case_path), str(FIXTURES / "x_v2" / "page.jsonl")]).exit_code == 0
    r = runner.invoke(app, ["info", str(case_path), "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert (info["posts"], info["accounts"]) == (4, 3)
    reasons = [reason for reason, _ in info["quarantine_reasons"]]
    assert any(x.startswith("missing required field author_id") for x in reasons)
    r = runner.invoke(app, ["info", str(case_path)])
    assert r.exit_code == 0 and not BOX & set(r.stdout)
    tables = _tsv(r.stdout)
    assert [(t["platform"], int(t["posts"]), int(t["accounts"])) for t in tables["platforms"]] == [
        tuple(x) for x in info["per_platform"]
    ]
    # full width: every quarantine reason is whole, however long
    assert [t["reason"] for t in tables["quarantine"]] == reasons


def test_detect_json_and_plain_table(detected, tmp_path):
    case, findings = detected
    copy = tmp_path / "case.duckdb"
    copy.write_bytes(case.read_bytes())
    r = runner.invoke(app, ["detect", str(copy), "--json", "--no-translations"])
    assert r.exit_code == 0, r.output
    printed = json.loads(r.stdout)
    assert printed["findings"].endswith("case.findings.json")
    assert [c["campaign"] for c in printed["campaigns"]] == [c["id"] for c in findings["campaigns"]]
    assert printed["campaigns"] and all(c["accounts"] > 0 and c["signals"] for c in printed["campaigns"])
    r = runner.invoke(app, ["detect", str(copy), "--no-translations"])
    rows = _tsv(r.stdout)["campaigns"]
    assert [x["campaign"] for x in rows] == [c["campaign"] for c in printed["campaigns"]]
    assert [int(x["accounts"]) for x in rows] == [c["accounts"] for c in printed["campaigns"]]
    assert not BOX & set(r.stdout)


def test_report_writes_next_to_the_case_not_into_the_working_folder(detected, tmp_path, monkeypatch):
    case, _ = detected
    monkeypatch.chdir(tmp_path)
    r = runner.invoke(app, ["report", str(case)])
    assert r.exit_code == 0, r.output
    expected = case.with_name("case.report.html")
    assert expected.exists() and str(expected) in r.stdout
    assert not (tmp_path / "report.html").exists()


def test_every_command_that_writes_a_file_takes_dash_o():
    for command in ("network", "duplicates", "signals", "detect", "report", "export", "demo"):
        r = runner.invoke(app, [command, "--help"], terminal_width=200)
        assert "--output" in r.stdout and "-o" in r.stdout, command


def test_network_defaults_to_cooRTweets_ten_second_window(tmp_path):
    # a and b share t1 5 s apart (inside 10 s) and t2 30 s apart (outside 10 s, inside 60 s)
    src = tmp_path / "shares.csv"
    src.write_text(
        "object_id,account_id,content_id,timestamp_share\n"
        "t1,a,p1,1000\nt1,b,p2,1005\nt2,a,p3,2000\nt2,b,p4,2030\n"
        "t3,a,p5,3000\nt3,b,p6,3004\n"
    )
    out10, out60 = tmp_path / "e10.csv", tmp_path / "e60.csv"
    assert runner.invoke(app, ["network", str(src), "-o", str(out10), "--no-significance"]).exit_code == 0
    r = runner.invoke(app, ["network", str(src), "-o", str(out60), "--no-significance", "--time-window", "60"])
    assert r.exit_code == 0, r.output
    w10 = list(csv.DictReader(out10.open()))
    w60 = list(csv.DictReader(out60.open()))
    assert [int(x["weight"]) for x in w10] == [2] and [int(x["weight"]) for x in w60] == [3]


def test_start_up_does_not_load_the_data_stack():
    """``--version``, ``-h`` and the command table must not import duckdb, pyarrow or scipy (start-up time)."""
    code = (
        "import sys; from swarmscope.cli import app; "
        "print(sorted(m for m in ('duckdb', 'pyarrow', 'scipy', 'numpy') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert r.stdout.strip() == "[]"


# -- each command is one call of the public API ----------------------------------------------------

API_OPERATIONS = {  # the operations of swarmscope.api a command may call (open_case only names the case)
    "module": ("formats", "build_network", "run_demo"),
    "Case": ("ingest", "detect", "label", "labels", "duplicates", "behaviour", "report", "export")
    + ("evaluate", "info"),
    # serve starts the workbench, the other shell over the library (web/, an entry point like cli.py)
    "web": ("serve",),
}


@pytest.fixture
def api_calls(monkeypatch):
    """Every call of an API operation during the test, in order; each still does its work, except
    ``serve`` and ``run_demo`` (a server that runs until stopped, a demo tested in test_cli.py)."""
    from swarmscope import api

    calls: list[str] = []

    def spy(name, real):
        def run(*args, **kwargs):
            calls.append(name)
            if name in ("serve", "run_demo"):
                raise ValueError(f"{name}: not run in this test")
            return real(*args, **kwargs)

        return run

    for name in API_OPERATIONS["module"]:
        monkeypatch.setattr(api, name, spy(name, getattr(api, name)))
    for name in API_OPERATIONS["Case"]:
        monkeypatch.setattr(api.Case, name, spy(name, getattr(api.Case, name)))
    import swarmscope.web

    monkeypatch.setattr(swarmscope.web, "serve", spy("serve", swarmscope.web.serve))
    return calls


def test_each_command_calls_exactly_one_api_function(detected, tmp_path, api_calls):
    case, _ = detected
    work = tmp_path / "case.duckdb"
    shutil.copy(case, work)
    shutil.copy(case.with_name(case.stem + ".findings.json"), work.with_name("case.findings.json"))
    post = next((FIXTURES / "x_v2").glob("*.jsonl"))
    runs = {
        "formats": ["formats"],
        "info": ["info", str(work)],
        "ingest": ["ingest", str(tmp_path / "new.duckdb"), str(post)],
        "build_network": ["network", str(work), "-o", str(tmp_path / "edges.csv")],
        "duplicates": ["duplicates", str(work), "--no-translations"],
        "behaviour": ["signals", str(work)],
        "detect": ["detect", str(work), "--no-translations"],
        "report": ["report", str(work)],
        "export": ["export", str(work), "-f", "json", "-o", str(tmp_path / "f.json")],
        "label": ["label", str(work), "--campaign", "C1", "--label", "unsure"],
        "labels": ["label", str(work), "--list"],
        "evaluate": ["evaluate", str(work)],
        "serve": ["serve", str(work)],
        "run_demo": ["demo", "-o", str(tmp_path / "demo")],
    }
    for operation, argv in runs.items():
        api_calls.clear()
        r = runner.invoke(app, argv)
        assert api_calls == [operation], (argv, api_calls, r.output)
        if operation not in ("serve", "run_demo", "evaluate"):  # evaluate: no confirmed/dismissed labels yet
            assert r.exit_code == 0, (argv, r.output)
    assert set(runs) == {name for names in API_OPERATIONS.values() for name in names}
    commands = {c.name or c.callback.__name__ for c in app.registered_commands} - {"version"}
    assert commands == {argv[0] for argv in runs.values()}  # every command is in the table above
