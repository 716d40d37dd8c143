"""The whole pipeline on generated scenarios: planted operations found, organic users left alone."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from swarmscope.cli import app
from swarmscope.config import load_config
from swarmscope.demo import score_against_truth
from swarmscope.ingest import ingest
from swarmscope.pipeline import detect
from swarmscope.simulate import ScenarioParams, generate

SCHEMA = Path(__file__).resolve().parents[1] / "src" / "swarmscope" / "report" / "findings.schema.json"


def _run(tmp: Path, seed: int) -> tuple[Path, dict, dict]:
    sc = generate(
        tmp / "input", ScenarioParams(seed=seed, n_organic_accounts=800, n_organic_posts=6000, n_fan_accounts=200)
    )
    case = tmp / "case.duckdb"
    ingest(case, sc.files, progress=False)
    findings = detect(case, watchlist=sc.watchlist_path)
    ev = score_against_truth(findings, sc.truth)
    ev["fan_hashtag"] = sc.truth["fan_crowd"]["hashtag"].lower()
    return case, findings, ev


@pytest.mark.scale
@pytest.mark.parametrize("seed", [7, 11, 13])
def test_planted_operations_are_campaigns_and_organic_users_are_not(tmp_path, seed):
    case, findings, ev = _run(tmp_path, seed)
    for name, e in ev["operations"].items():
        assert e["precision"] >= 0.95 and e["recall"] >= 0.95, (name, e)
    assert ev["organic_false_positive_rate"] <= 0.005, ev
    # the fan crowd's hashtag never makes a likely-inauthentic campaign's hashtag list
    likely = [c for c in findings["campaigns"] if c["likely_inauthentic"]]
    assert likely and all(ev["fan_hashtag"] not in {h["tag"] for h in c["hashtags"]} for c in likely)
    # every cited signal exists, every signal cited by a campaign names it
    by_id = {s["id"]: s for s in findings["signals"]}
    for c in findings["campaigns"]:
        for sentence in c["explanation"]:
            assert all(e in by_id for e in sentence["evidence"])
        assert all(by_id[s]["campaign"] == c["id"] for s in c["signals"])


def test_findings_validate_and_exports_work(tmp_path):
    jsonschema = pytest.importorskip("jsonschema")
    case, findings, _ = _run(tmp_path, 7)
    stored = json.loads(Path(findings["_path"]).read_text())
    jsonschema.validate(stored, json.loads(SCHEMA.read_text()))
    planted = {s["type"] for s in stored["signals"]}
    assert {
        "coordination",
        "copypasta",
        "run",
        "burst",
        "rhythm",
        "holiday",
        "creation_batch",
        "impersonation",
        "narrative_shift",
    } <= planted
    # one run signal per campaign, a row per run: the planted 73-post run is its longest, cited first
    runs = [s for s in stored["signals"] if s["type"] == "run"]
    assert len({s["campaign"] for s in runs}) == len(runs)
    run = next(s for s in runs if s["figures"]["longest"] == 73)
    assert run["figures"]["table"][0]["n"] == 73 and run["figures"]["runs"] == len(run["figures"]["table"])
    assert run["evidence"]["post_count"] == sum(r["n"] for r in run["figures"]["table"])
    # the Telegram channel that posts each message first is named as the hub, minutes ahead
    leads = [s for s in stored["signals"] if s["type"] == "cross_platform_lead"]
    [lead] = [s for s in leads if s["figures"]["platform"] == "telegram"]
    assert 60 <= lead["figures"]["median_lead_seconds"] <= 20 * 60
    copy = next(c for c in stored["campaigns"] if lead["id"] in c["signals"])
    # one operation across platforms is one campaign: "N accounts on TikTok"
    per_platform = copy["counts"]["per_platform"]
    assert set(per_platform) == {"x", "telegram", "tiktok", "youtube"}
    assert (per_platform["tiktok"], per_platform["youtube"]) == (30, 20)
    # the amplifier's reposts of the copy-paste posts are another campaign's, not breakout
    assert copy["reach"]["other_campaign_reactions"] > 0 and copy["reach"]["breakout"]["category"] in (1, 2, 3, 5)
    r = CliRunner()
    for fmt, out in (
        ("stix", "b.json"),
        ("gexf", "n.gexf"),
        ("graphml", "n.graphml"),
        ("csv", "tables"),
        ("json", "f.json"),
    ):
        res = r.invoke(app, ["export", str(case), "--format", fmt, "-o", str(tmp_path / out)])
        assert res.exit_code == 0, res.output
        assert (tmp_path / out).exists()
    res = r.invoke(app, ["report", str(case), "-o", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    html = (tmp_path / "r.html").read_text()
    assert "C1" in html and "never an attribution" in html

    class Scripts(HTMLParser):
        found = 0

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            self.found += tag == "script" or any(k.startswith("on") for k, _ in attrs)

    p = Scripts()
    p.feed(html)
    assert p.found == 0


def test_detect_needs_a_case_and_reads_a_config(tmp_path):
    r = CliRunner().invoke(app, ["detect", str(tmp_path / "missing.duckdb")])
    assert r.exit_code == 2 and "no such case file" in r.output
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        'duplicate_threshold = 0.9\n[[networks]]\nname = "tags"\nobject_types = ["hashtag"]\n'
        "time_window = 30\n[campaigns]\nmin_accounts = 8\n"
    )
    p = load_config(cfg)
    assert p.duplicate_threshold == 0.9 and p.campaigns.min_accounts == 8
    assert [n.name for n in p.networks] == ["tags"] and p.networks[0].time_window == 30
    cfg.write_text("[campaigns]\nmin_acounts = 8\n")
    with pytest.raises(ValueError, match="unknown key"):
        load_config(cfg)
    r = CliRunner().invoke(app, ["report", str(tmp_path / "none.duckdb")])
    assert r.exit_code == 2 and "swarmscope detect" in r.output


@pytest.mark.shared_data
def test_open_newsroom_families_are_not_called_inauthentic(tmp_path):
    """Real hard negative: 24 Russian news channels whose newsroom families republish each other openly."""
    from .conftest import SHARED

    case = tmp_path / "tg.duckdb"
    ingest(case, [SHARED / "telegram_ru_news"], progress=False)
    findings = detect(case)
    assert findings["campaigns"], "the cross-posting families are coordination, and should be found as such"
    assert not [c["id"] for c in findings["campaigns"] if c["likely_inauthentic"]]
    assert max(c["score"] for c in findings["campaigns"]) < 0.5


def test_network_cap_keeps_every_accounts_strongest_links() -> None:
    """A campaign picture capped at N edges still links each member by its strongest edges."""
    import pyarrow as pa

    from swarmscope.campaigns.coordination import cap_edges

    # a dense core a0..a4 (10 heavy edges) and a light spoke t0 - a0 (weight 1), heaviest first
    rows = [("x", f"a{i}", "x", f"a{j}", 100 - i - j) for i in range(5) for j in range(i + 1, 5)]
    rows.append(("tiktok", "t0", "x", "a0", 1))
    e = pa.table(
        {k: [r[n] for r in rows] for n, k in enumerate(("from_platform", "from", "to_platform", "to", "weight"))}
    )
    kept = cap_edges(e, cap=5, per_account=1)
    pairs = list(zip(kept["from"].to_pylist(), kept["to"].to_pylist()))
    assert kept.num_rows == 5
    assert ("t0", "a0") in pairs  # the light spoke survives: it is t0's strongest edge
    assert kept["weight"].to_pylist() == sorted(kept["weight"].to_pylist(), reverse=True)  # order kept
    assert cap_edges(e, cap=50).num_rows == e.num_rows  # under the cap: untouched
