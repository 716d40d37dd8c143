"""The command line is a thin shell: it calls the library and reports clearly."""

from __future__ import annotations

from typer.testing import CliRunner

from swarmscope.cli import app

from .conftest import FIXTURES

runner = CliRunner()


def test_ingest_then_info(case_path):
    r = runner.invoke(app, ["ingest", str(case_path), str(FIXTURES / "x_v2" / "page.jsonl")])
    assert r.exit_code == 0, r.output
    assert "x_v2" in r.output
    r = runner.invoke(app, ["info", str(case_path)])
    assert r.exit_code == 0, r.output
    assert "4 posts, 3 accounts" in r.output
    assert "missing required field author_id" in r.output


def test_info_on_missing_case_is_a_clear_error(tmp_path):
    r = runner.invoke(app, ["info", str(tmp_path / "nope.duckdb")])
    assert r.exit_code == 2
    assert "no such case file" in r.output


def test_ingest_missing_path_is_a_clear_error(case_path, tmp_path):
    r = runner.invoke(app, ["ingest", str(case_path), str(tmp_path / "missing.jsonl")])
    assert r.exit_code == 2 and "no such file or directory" in r.output


def test_forcing_an_unknown_format_lists_supported(case_path):
    r = runner.invoke(app, ["ingest", str(case_path), str(FIXTURES / "x_v2" / "page.jsonl"), "--format", "nope"])
    assert r.exit_code == 2 and "Supported formats" in r.output and "x_v2" in r.output


def test_formats_lists_importers():
    r = runner.invoke(app, ["formats"])
    assert r.exit_code == 0 and "x_v2" in r.output


def test_duplicates_cli_stores_clusters_and_writes_csv(case_path, tmp_path):
    import json

    text = "Vote for the new bridge project, it brings our city a future #bridge"
    lines = [
        json.dumps(
            {
                "id": str(i),
                "text": text + ("!" * (i % 3)),
                "author_id": f"a{i}",
                "created_at": f"2024-05-01T10:0{i}:00Z",
            }
        )
        for i in range(4)
    ]
    lines.append(
        json.dumps(
            {
                "id": "9",
                "text": "Something else entirely, about the weather in spring",
                "author_id": "b",
                "created_at": "2024-05-01T11:00:00Z",
            }
        )
    )
    f = tmp_path / "t.jsonl"
    f.write_text("\n".join(lines) + "\n")
    assert runner.invoke(app, ["ingest", str(case_path), str(f)]).exit_code == 0
    out = tmp_path / "clusters.csv"
    r = runner.invoke(app, ["duplicates", str(case_path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "1 clusters" in r.output and "video_support False" in r.output
    assert out.read_text().count("\n") == 2  # header + one cluster of the four copies
    from swarmscope.store import Case

    with Case(case_path, read_only=True) as db:
        n = db.con.execute("SELECT count(*) FROM actions WHERE object_type = 'near_dup_cluster'").fetchall()[0][0]
    assert n == 4


def test_unknown_platform_option_fails_before_reading(case_path):
    r = runner.invoke(app, ["ingest", str(case_path), str(FIXTURES / "x_v2" / "page.jsonl"), "--platform", "myspace"])
    assert r.exit_code == 2 and "unknown platform 'myspace'" in r.output
    assert not case_path.exists()


def test_version_help_and_python_dash_m_follow_conventions():
    import subprocess
    import sys

    from swarmscope import __version__

    for args in (["--version"], ["-V"]):
        r = subprocess.run([sys.executable, "-m", "swarmscope", *args], capture_output=True, text=True, check=False)
        assert r.returncode == 0 and r.stdout.strip() == __version__
    r = subprocess.run([sys.executable, "-m", "swarmscope", "info", "-h"], capture_output=True, text=True, check=False)
    assert r.returncode == 0 and "Usage: swarmscope info" in r.stdout
