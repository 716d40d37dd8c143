"""signals() end to end on a case, and its command line."""

from __future__ import annotations

import datetime as dt
import json

import pyarrow as pa
from typer.testing import CliRunner

from swarmscope.cli import app
from swarmscope.detect.cadence import cadence
from swarmscope.signals import POST_COLUMNS, signals, signals_from_tables
from swarmscope.store import Case

T0 = dt.datetime(2024, 3, 4, 6, 0)  # a Monday


def _case(path):
    """One account posting the same text 73 times a minute apart, plus 20 accounts chatting."""
    rows = []
    for i in range(73):
        rows.append(
            {
                "platform": "x",
                "post_id": f"r{i}",
                "account_id": "bot",
                "kind": "post",
                "created_at": T0 + dt.timedelta(minutes=i),
                "text": "Vote for the bridge project today!",
            }
        )
    for a in range(20):
        for k in range(10):
            rows.append(
                {
                    "platform": "x",
                    "post_id": f"o{a}-{k}",
                    "account_id": f"u{a}",
                    "kind": "post",
                    "created_at": T0 + dt.timedelta(hours=3 * k + a % 5, minutes=a),
                    "text": f"user {a} thinks thought number {k} about lunch",
                }
            )
    accounts = [
        {"platform": "x", "account_id": "bot", "handle": "minlstry_news", "display_name": "Ministry News"},
        {"platform": "x", "account_id": "m1", "handle": "ministry", "display_name": "Ministry"},
    ]
    with Case(path) as db:
        db.append(pa.Table.from_pylist(rows), pa.Table.from_pylist(accounts))


def test_signals_on_a_case_finds_the_run(case_path, tmp_path):
    _case(case_path)
    wl = tmp_path / "watchlist.csv"
    wl.write_text("name,handle,platform\nMinistry,ministry,x\n")
    r = signals(case_path, watchlist=wl)
    assert (r.posts, r.accounts) == (273, 2)
    [run] = [x for x in r.runs.to_pylist() if x["account_id"] == "bot"]
    assert run["n"] == 73 and len(run["post_ids"]) == 73
    imp = r.impersonation.to_pylist()
    assert [x["account_id"] for x in imp] == ["bot"]  # the genuine 'ministry' account is not flagged
    # a group restricts the posts read
    g = signals(case_path, group=["u1", "u2"])
    assert g.posts == 20 and g.runs.num_rows == 0


def test_another_engines_cadence_is_used_as_given(case_path):
    """``cadence=``, as ``detect --engine spark`` passes Spark's table: used instead of computing it here."""
    _case(case_path)
    with Case(case_path, read_only=True) as db:
        posts = db.con.sql(f"SELECT {', '.join(POST_COLUMNS)} FROM posts").to_arrow_table()
        accounts = db.con.sql("SELECT * FROM accounts").to_arrow_table()
    own = signals_from_tables(posts, accounts).cadence
    assert own.equals(cadence(posts)) and own["account_id"].to_pylist() == ["bot"]
    given = own.slice(0, 0)  # another engine's (here: empty) table
    assert signals_from_tables(posts, accounts, cadence=given).cadence is given


def test_signals_cli_writes_json(case_path, tmp_path):
    _case(case_path)
    out = tmp_path / "signals.json"
    r = CliRunner().invoke(app, ["signals", str(case_path), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "runs: 1" in r.output
    data = json.loads(out.read_text())
    assert data["runs"][0]["n"] == 73 and "holidays" in data and "never an attribution" in data["holidays"]["note"]
    # --json prints the same findings on stdout (the "written to" line goes to stderr)
    r = CliRunner().invoke(app, ["signals", str(case_path), "--json"])
    assert r.exit_code == 0, r.output
    printed = json.loads(r.stdout)
    assert printed["runs"] == data["runs"] and printed["posts"] == data["posts"]


def test_bad_watchlist_is_a_clear_error(case_path, tmp_path):
    _case(case_path)
    wl = tmp_path / "wl.csv"
    wl.write_text("who,where\nx,y\n")
    r = CliRunner().invoke(app, ["signals", str(case_path), "--watchlist", str(wl)])
    assert r.exit_code == 2 and "missing handle, name" in r.output
