"""Analyst labels: validation, append-only history, campaign labels carried across re-runs, evaluation,
labels in the report and exports; and the pipeline hooks the workbench relies on (progress, atomic
findings.json, transactions)."""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pytest
from typer.testing import CliRunner

from swarmscope import labels, search
from swarmscope.campaigns import CampaignParams
from swarmscope.cli import app
from swarmscope.config import DetectParams
from swarmscope.export import export, report
from swarmscope.findings import write_json_atomic
from swarmscope.ingest import ingest
from swarmscope.pipeline import detect
from swarmscope.simulate import generate
from swarmscope.store import Case, connect

from .conftest import small_scenario_params

SCHEMA = Path(__file__).resolve().parents[1] / "src" / "swarmscope" / "report" / "findings.schema.json"
HOSTILE = "<img src=x onerror=alert(1)>"

ACCOUNTS = [("x", "1"), ("x", "2"), ("x", "3"), ("x", "4"), ("x", "5"), ("telegram", "9")]


@pytest.fixture
def db(tmp_path: Path):
    case = Case(tmp_path / "case.duckdb")
    case.append(
        accounts=pa.table(
            {
                "platform": [a[0] for a in ACCOUNTS],
                "account_id": [a[1] for a in ACCOUNTS],
                "handle": [f"h{a[1]}" for a in ACCOUNTS],
            }
        )
    )
    yield case
    case.close()


def add(con, target_type="account", target_id="1", platform="x", label="confirmed", note="", author="ana", **kw):
    return labels.add_label(
        con,
        target_type=target_type,
        target_id=target_id,
        platform=platform,
        label=label,
        note=note,
        author=author,
        **kw,
    )


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"label": "guilty"}, "label must be one of"),
        ({"target_type": "post"}, "target_type must be one of"),
        ({"target_id": "  "}, "target_id is empty"),
        ({"target_id": "77"}, "no account x:77 in the case"),
        ({"platform": "myspace"}, "platform must be one of"),
        ({"platform": None}, "platform must be one of"),
        ({"note": "n" * 10_001}, "note is 10,001 characters"),
        ({"note": 5}, "note must be text"),
        ({"author": ""}, "author is empty"),
        ({"members": [("x", "1")]}, "only a campaign label"),
        ({"target_type": "campaign", "target_id": "C1", "platform": None}, "members: a campaign label needs"),
        ({"target_type": "campaign", "target_id": "C1", "platform": None, "members": [("x",)]}, "members: each member"),
        (
            {"target_type": "campaign", "target_id": "C1", "platform": "x", "members": [("x", "1")]},
            "a campaign label has no platform",
        ),
    ],
)
def test_bad_labels_are_refused_with_the_field_named(db, kw, message):
    with pytest.raises(ValueError, match=message):
        add(db.con, **kw)
    assert labels.current_labels(db.con) == []


def test_history_is_kept_and_the_latest_label_is_current(db):
    first = add(db.con, label="confirmed", note="same text 40 times")
    add(db.con, label="unsure", author="bo", note="could be a fan")
    last = add(db.con, label="dismissed", note="a real journalist\nchecked by phone", author="cy")
    add(db.con, target_id="2", label="confirmed")
    assert last["history"] == 3 and first["history"] == 1
    current = {(x["platform"], x["target_id"]): x for x in labels.current_labels(db.con, "account")}
    assert (current[("x", "1")]["label"], current[("x", "1")]["author"], current[("x", "1")]["history"]) == (
        "dismissed",
        "cy",
        3,
    )
    history = labels.label_history(db.con, "account", "1", "x")
    assert [h["label"] for h in history] == ["dismissed", "unsure", "confirmed"]  # newest first
    times = [h["created_at"] for h in history]
    assert times == sorted(set(times), reverse=True)  # strictly ordered, even within one microsecond
    assert labels.current_labels(db.con, "campaign") == []
    rows = labels.all_labels(db.con)
    assert len(rows) == 4 and [r["current"] for r in rows] == [False, False, True, True]


def test_odd_note_text_is_stored_without_crashing(db):
    out = add(db.con, note="\ud800 broken \x00 =1+2 🌻 " + HOSTILE)
    assert out["note"] == "\ufffd broken \ufffd =1+2 🌻 " + HOSTILE


def test_campaign_label_is_matched_by_member_overlap():
    old = {
        "target_type": "campaign",
        "label_id": "a",
        "label": "confirmed",
        "created_at": "2024-01-01T00:00:00",
        "members": [["x", "1"], ["x", "2"], ["x", "3"], ["x", "4"]],
    }
    # 4 shared of 6 in the union: Jaccard 0.667, carried
    hit = labels.match_campaign_label([old], {("x", "1"), ("x", "2"), ("x", "3"), ("x", "4"), ("x", "5"), ("x", "6")})
    assert (hit["label"], hit["overlap"], hit["shared"]) == ("confirmed", 0.6667, 4)
    # 2 of 5: 0.4, not carried
    assert labels.match_campaign_label([old], {("x", "1"), ("x", "2"), ("x", "8")}) is None
    # 2 of 4: exactly 0.5, carried
    assert labels.match_campaign_label([old], {("x", "1"), ("x", "2")})["overlap"] == 0.5
    newer = old | {
        "label_id": "b",
        "label": "dismissed",
        "created_at": "2024-02-01T00:00:00",
        "members": [["x", "1"], ["x", "2"], ["x", "3"]],
    }
    assert (
        labels.match_campaign_label([old, newer], {("x", "1"), ("x", "2"), ("x", "3"), ("x", "4")})["label"]
        == "dismissed"
    )  # the analyst's latest judgement of the group wins, at overlap 0.75
    assert labels.match_campaign_label([old], set()) is None


def _findings(report_score: float = 0.5) -> dict:
    return {
        "manifest": {"run_id": "R2", "parameters": {"campaigns": {"report_score": report_score}}},
        "campaigns": [
            {"id": "C1", "score": 0.9, "accounts": [{"platform": "x", "account_id": a} for a in ("1", "2", "3")]},
            {"id": "C2", "score": 0.3, "accounts": [{"platform": "x", "account_id": a} for a in ("4", "5")]},
        ],
        "signals": [],
    }


def test_evaluate_by_hand(db):
    con = db.con
    with pytest.raises(ValueError, match="no labels"):
        labels.evaluate(con, _findings())
    add(
        con,
        target_type="campaign",
        target_id="C7",
        platform=None,
        label="confirmed",
        run_id="R1",
        members=[("x", "1"), ("x", "2"), ("x", "3")],
    )
    add(con, target_id="3", label="dismissed")  # overrides its campaign's label
    add(con, target_id="4", label="confirmed")  # in C2, scored under 0.5: missed
    add(con, target_id="5", label="unsure")  # left out
    add(con, target_id="9", platform="telegram", label="dismissed")  # in no campaign: a true negative
    r = labels.evaluate(con, _findings())
    # flagged: 1, 2, 3. truth: 1, 2, 4 confirmed; 3, 9 dismissed
    assert (r["tp"], r["fp"], r["fn"], r["tn"]) == (2, 1, 1, 1)
    assert (r["precision"], r["recall"], r["f1"]) == (0.6667, 0.6667, 0.6667)
    assert r["true_positives"] == [["x", "1"], ["x", "2"]] and r["false_positives"] == [["x", "3"]]
    assert r["false_negatives"] == [["x", "4"]]
    assert r["judged_accounts"] == {
        "confirmed": 3,
        "dismissed": 2,
        "unsure": 1,
        "from_account_labels": 4,
        "from_campaign_labels": 2,
    }
    c1, c2 = r["campaigns"]
    assert (c1["confirmed"], c1["dismissed"], c1["precision"], c1["label"]["label"], c1["label"]["overlap"]) == (
        2,
        1,
        0.6667,
        "confirmed",
        1.0,
    )
    assert (c2["likely_inauthentic"], c2["confirmed"], c2["unsure"], c2["unlabelled"], c2["label"]) == (
        False,
        1,
        1,
        0,
        None,
    )
    # a lower report_score flags C2 too: 4 becomes a true positive, 5 stays out
    r = labels.evaluate(con, _findings(0.2))
    assert (r["tp"], r["fp"], r["fn"], r["recall"]) == (3, 1, 0, 1.0)


# -- on a generated case: re-runs, report, exports, CLI, pipeline hooks ------------------------------


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("labels")
    sc = generate(tmp / "input", small_scenario_params())
    case = tmp / "case.duckdb"
    ingest(case, sc.files, progress=False)
    steps: list[tuple[str, int, int]] = []
    findings = detect(case, watchlist=sc.watchlist_path, progress=lambda *a: steps.append(a))
    return case, findings, steps


def test_detect_reports_progress_and_builds_the_search_index(scenario):
    case, findings, steps = scenario
    total = steps[0][2]
    assert [s[1] for s in steps] == list(range(total + 1)) and all(s[2] == total for s in steps)
    assert steps[-1][0] == "done" and "search index" in [s[0] for s in steps]
    with Case(case, read_only=True) as db:
        assert search.index_is_current(db.con)
    assert not list(case.parent.glob(".*.tmp"))  # no temporary findings left behind


def test_labels_survive_a_rerun_and_follow_their_campaign(scenario, tmp_path):
    case, findings, _ = scenario
    target = findings["campaigns"][-1]
    members = [(a["platform"], a["account_id"]) for a in target["accounts"]]
    other = findings["campaigns"][0]["accounts"][0]
    with Case(case) as db:
        add(
            db.con,
            target_type="campaign",
            target_id=target["id"],
            platform=None,
            label="confirmed",
            note='=HYPERLINK("http://evil","x") ' + HOSTILE,
            members=members,
        )
        add(db.con, target_id=other["account_id"], platform=other["platform"], label="dismissed", note="-1+1")
        before = labels.all_labels(db.con)
    # a re-run with other parameters: impersonation groups are no campaigns, so the ids move up
    again = detect(case, DetectParams(campaigns=replace(CampaignParams(), min_impersonators=10_000)))
    with Case(case) as db:
        assert labels.all_labels(db.con) == before
        same = [
            c for c in again["campaigns"] if {(a["platform"], a["account_id"]) for a in c["accounts"]} == set(members)
        ]
        assert len(same) == 1
        carried = labels.campaign_label_for(db.con, set(members))
        assert (carried["label"], carried["overlap"], carried["target_id"]) == ("confirmed", 1.0, target["id"])
        assert carried["run_id"] == findings["manifest"]["run_id"] != again["manifest"]["run_id"]
        shrunk = set(members[: len(members) * 6 // 10])  # 60 % of the members: Jaccard 0.6, still this label
        assert labels.campaign_label_for(db.con, shrunk)["overlap"] == round(len(shrunk) / len(members), 4)
        result = labels.evaluate(db.con, again)
    # the dismissed account is in the top campaign: a false positive
    assert (result["tp"], result["fp"], result["judged_accounts"]["dismissed"]) == (len(members), 1, 1)

    # the report shows both labels, escaped
    html = report(case, tmp_path / "r.html").read_text()
    assert "Analyst labels" in html and HOSTILE not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert f"made on campaign {target['id']} of an earlier run" in html

    # CSV neutralises formulas in notes; JSON carries the labels and still validates
    export(case, "csv", tmp_path / "tables")
    with open(tmp_path / "tables" / "labels.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert {r["note"] for r in rows} == {'\'=HYPERLINK("http://evil","x") ' + HOSTILE, "'-1+1"}
    camp = next(r for r in rows if r["target_type"] == "campaign")
    assert (camp["campaign"], camp["overlap"], camp["current"]) == (same[0]["id"], "1", "true")
    export(case, "parquet", tmp_path / "pq")
    import pyarrow.parquet as pq

    assert sorted(pq.read_table(tmp_path / "pq" / "labels.parquet")["note"].to_pylist())[0].startswith("-1+1")
    doc = json.loads(export(case, "json", tmp_path / "f.json").read_text())
    assert [x["label"] for x in doc["labels"]] == ["confirmed", "dismissed"]
    jsonschema = pytest.importorskip("jsonschema")
    jsonschema.validate(doc, json.loads(SCHEMA.read_text()))

    # the CLI
    r = CliRunner().invoke(app, ["evaluate", str(case), "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["tp"] == len(members)
    r = CliRunner().invoke(app, ["evaluate", str(case)])
    assert r.exit_code == 0 and f"precision {len(members) / (len(members) + 1):.2f}, recall 1.00" in r.output


def test_evaluate_cli_errors(tmp_path, scenario):
    r = CliRunner().invoke(app, ["evaluate", str(tmp_path / "missing.duckdb")])
    assert r.exit_code == 2 and "no such case file" in r.output
    with Case(tmp_path / "empty.duckdb"):
        pass
    r = CliRunner().invoke(app, ["evaluate", str(tmp_path / "empty.duckdb")])
    assert r.exit_code == 2 and "swarmscope detect" in r.output
    (tmp_path / "empty.findings.json").write_text(json.dumps(scenario[1]))
    r = CliRunner().invoke(app, ["evaluate", str(tmp_path / "empty.duckdb")])
    assert r.exit_code == 2 and "no labels" in r.output


def test_findings_json_is_replaced_whole_or_not_at_all(tmp_path):
    path = tmp_path / "case.findings.json"
    write_json_atomic({"campaigns": [1]}, path)
    with pytest.raises(ValueError):
        write_json_atomic({"campaigns": [2], "bad": float("nan")}, path)  # fails while writing
    assert json.loads(path.read_text()) == {"campaigns": [1]}
    assert [p.name for p in tmp_path.iterdir()] == ["case.findings.json"]


def test_readers_in_the_same_process_never_see_half_a_replacement(tmp_path):
    """Case.replace_actions (duplicate clusters) and build_index write in one transaction: another connection
    of this process sees the old rows until the commit, then all the new ones."""
    path = tmp_path / "case.duckdb"
    row = {"platform": "x", "account_id": "a", "created_at": dt.datetime(2024, 1, 1)}

    def actions(n: int, oid: str) -> pa.Table:
        return pa.Table.from_pylist(
            [row | {"post_id": str(i), "object_type": "near_dup_cluster", "object_id": oid} for i in range(n)]
        )

    with Case(path) as db:
        db.append_actions(actions(5, "old"))
        reader = connect(path, read_only=True)  # shares the open instance (same process)
        seen = []
        original = db.append_actions

        def spy(table):
            n = original(table)
            seen.append(reader.execute("SELECT object_id, count(*) FROM actions GROUP BY 1").fetchall())
            return n

        db.append_actions = spy
        db.replace_actions(("near_dup_cluster",), actions(3, "new"), actions(4, "newer"))
        assert seen == [[("old", 5)], [("old", 5)]]  # mid-transaction: the old clusters, whole
        assert sorted(reader.execute("SELECT object_id, count(*) FROM actions GROUP BY 1").fetchall()) == [
            ("new", 3),
            ("newer", 4),
        ]
        reader.close()


def test_label_cli_adds_lists_and_refuses_with_the_reason(scenario, tmp_path):
    case, findings, _ = scenario
    copy = tmp_path / "case.duckdb"
    copy.write_bytes(case.read_bytes())
    (tmp_path / "case.findings.json").write_text(json.dumps(findings))
    with Case(copy) as db:
        db.con.execute("DELETE FROM labels")  # those of the tests above
    account = findings["campaigns"][0]["accounts"][0]
    run = CliRunner().invoke
    who = f"{account['platform']}:{account['account_id']}"
    r = run(app, ["label", str(copy), "--account", who, "--label", "unsure", "--note", "[bold]x[/] " + HOSTILE])
    assert r.exit_code == 0, r.output
    assert f"account {who}: unsure by " in r.output and "(label 1 of this target;" in r.output
    r = run(app, ["label", str(copy), "--account", who, "--label", "confirmed", "--author", "bea"])
    assert r.exit_code == 0 and "by bea" in r.output and "(label 2 of this target;" in r.output
    camp = findings["campaigns"][-1]
    r = run(app, ["label", str(copy), "--campaign", camp["id"], "--label", "dismissed", "--json"])
    assert r.exit_code == 0, r.output
    stored = json.loads(r.output)
    assert sorted(map(tuple, stored["members"])) == sorted((a["platform"], a["account_id"]) for a in camp["accounts"])
    r = run(app, ["label", str(copy), "--list", "--json"])
    assert [(x["target_type"], x["label"], x["history"]) for x in json.loads(r.output)] == [
        ("campaign", "dismissed", 1),
        ("account", "confirmed", 2),
    ]
    r = run(app, ["label", str(copy), "--list", "--account", who])  # the history, shown as written (no markup)
    assert r.exit_code == 0 and "[bold]x[/]" in r.output and "confirmed" in r.output and "unsure" in r.output
    assert labels.case_labels(copy, "account", account["account_id"], account["platform"])[0]["author"] == "bea"
    for args, words in (
        (["--account", "x:nobody", "--label", "confirmed"], "no account x:nobody"),
        (["--account", "nocolon", "--label", "confirmed"], "PLATFORM:ACCOUNT_ID"),
        (["--campaign", "C999", "--label", "confirmed"], "no campaign 'C999'"),
        (["--campaign", "C1", "--label", "guilty"], "must be one of confirmed, dismissed, unsure"),
        (["--label", "confirmed"], "needs a target"),
        (["--campaign", "C1", "--account", who, "--label", "unsure"], "not both"),
        (["--campaign", "C1", "--label", "unsure", "--note", "n" * 10_001], "note is 10,001 characters"),
    ):
        r = run(app, ["label", str(copy), *args])
        assert r.exit_code == 2 and words in " ".join(r.output.split()), (args, r.output)
    r = run(app, ["label", str(tmp_path / "none.duckdb"), "--list"])
    assert r.exit_code == 2 and "no such case file" in r.output
