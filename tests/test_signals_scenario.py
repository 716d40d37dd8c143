"""Issue #5's quality criteria, on the scenario generator's data (ground truth from truth.json)."""

from __future__ import annotations

import datetime as dt

import pytest

from swarmscope.ingest import ingest
from swarmscope.signals import signals
from swarmscope.simulate import ScenarioParams, generate


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sig")
    sc = generate(
        tmp / "input",
        ScenarioParams(
            seed=7, n_organic_accounts=800, n_organic_posts=6000, n_fan_accounts=200, tiktok=False, youtube=False
        ),
    )
    case = tmp / "case.duckdb"
    ingest(case, sc.files, progress=False)
    return case, sc


@pytest.mark.scale
def test_planted_signals_are_found_with_their_figures(scenario):
    case, sc = scenario
    op = next(o for o in sc.truth["operations"] if o["type"] == "copy_paste")
    traits = op["traits"]
    r = signals(case, group=op["account_ids"], watchlist=sc.watchlist_path)
    # the 1,000-post burst, inside ten minutes
    burst_ids = set(traits["burst"]["post_ids"])
    best = max(r.bursts.to_pylist(), key=lambda b: len(burst_ids & set(b["post_ids"])))
    assert len(burst_ids & set(best["post_ids"])) >= 990 and best["label"] == "automated-looking"
    assert best["window_end"] - best["window_start"] == dt.timedelta(minutes=10) and best["window_posts"] >= 990
    # the run of exactly 73
    [run] = [x for x in r.runs.to_pylist() if x["account_id"] == traits["run"]["account_id"] and x["n"] >= 50]
    assert run["n"] == 73 and run["post_ids"] == traits["run"]["post_ids"]
    # the operators' offset within an hour, office hours
    assert abs(r.rhythm.utc_offset_hours - traits["utc_offset_hours"]) <= 1 and r.rhythm.pattern == "office-hours"
    # their holiday country first, p < 0.01
    top = r.holidays.ranking.slice(0, 1).to_pylist()[0]
    assert top["country"] == traits["holiday_country"] and top["p_value"] < 0.01


@pytest.mark.scale
def test_organic_population_and_fans_stay_unremarkable(scenario):
    case, sc = scenario
    organic = signals(case, group=sc.truth["organic"]["account_ids"])
    assert all(row["p_family"] > 0.01 for row in organic.holidays.ranking.slice(0, 5).to_pylist())
    fans = signals(case, group=sc.truth["fan_crowd"]["account_ids"])
    fan_tag = sc.truth["fan_crowd"]["hashtag"].lower()
    assert not any(b["label"] == "automated-looking" for b in fans.bursts.to_pylist() if b["object_id"] == fan_tag)
    assert not any(fans.cadence["automated_looking"].to_pylist())


@pytest.mark.scale
def test_impersonators_matched_to_the_right_entity(scenario):
    case, sc = scenario
    r = signals(case, watchlist=sc.watchlist_path)
    found = {(x["account_id"], x["entity_handle"]) for x in r.impersonation.to_pylist()}
    planted = sc.truth["operations"][2]["traits"]["impersonations"]
    hits = sum((p["account_id"], p["imitates"]["handle"]) in found for p in planted)
    assert hits / len(planted) >= 0.9
    genuine = {e["account_id"] for e in sc.truth["organic"]["genuine_entities"]}
    assert not genuine & {a for a, _ in found}
