"""``detect --engine spark``: the same findings as the local engine, on the demo case.

The near-duplicate texts (translations off), the case-wide bursts, the accounts' cadence and the
co-action pairing run on Spark (``local[2]``); ordering, significance, clusters, the other signals
and campaigns stay local (engines/spark/detect.py). findings.json must be identical except for the
run id and the time of the run. Skips when pyspark or Java is absent, except in CI (CI=true), which
installs both.
"""

from __future__ import annotations

import json
import os
import shutil

import pyarrow as pa
import pytest
from typer.testing import CliRunner

if not os.environ.get("CI"):
    pytest.importorskip("pyspark")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("the Spark engine needs Java 17", allow_module_level=True)

from swarmscope.cli import app
from swarmscope.config import DetectParams
from swarmscope.detect.coaction import CoactionParams, coaction_edges, edges_with_significance, prepare_actions
from swarmscope.detect.significance import SignificanceParams
from swarmscope.duplicates import duplicates
from swarmscope.ingest import ingest
from swarmscope.pipeline import detect, spark_stages
from swarmscope.simulate import ScenarioParams, generate
from swarmscope.store import Case

RUN_FACTS = ("run_id", "created_at")  # what may differ between two runs of the same detection


def _without_run_facts(findings: dict) -> dict:
    out = json.loads(json.dumps(findings, sort_keys=True, default=str))
    out.pop("_path", None)
    for key in RUN_FACTS:
        out["manifest"].pop(key)
    return out


@pytest.fixture(scope="module")
def demo_case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spark_detect")
    world = generate(tmp / "input", ScenarioParams(seed=7))  # the demo's scenario
    case = tmp / "case.duckdb"
    ingest(case, world.files, progress=False)
    return case, world


def test_detect_on_spark_gives_the_local_findings(demo_case, tmp_path):
    case, world = demo_case
    local_case, spark_case = tmp_path / "local.duckdb", tmp_path / "spark.duckdb"
    shutil.copy(case, local_case)
    shutil.copy(case, spark_case)
    local = detect(local_case, DetectParams(translations=False), watchlist=world.watchlist_path)
    r = CliRunner().invoke(
        app,
        ["detect", str(spark_case), "--watchlist", str(world.watchlist_path), "--engine", "spark"]
        + ["--master", "local[2]", "--no-translations", "--json"],
    )
    assert r.exit_code == 0, r.output
    spark = json.loads(spark_case.with_name("spark.findings.json").read_text(encoding="utf-8"))
    assert len(local["campaigns"]) == 3  # the three planted operations, so the comparison has substance
    assert sum(n["edges"] for n in local["networks"].values()) > 1000
    assert local["duplicates"]["clusters"] > 20 and local["duplicates"]["translations"] is None
    assert _without_run_facts(spark) == _without_run_facts(local)
    assert spark["manifest"]["run_id"] != local["manifest"]["run_id"]
    with Case(spark_case, read_only=True) as db:
        (params,) = db.con.execute("SELECT parameters FROM runs WHERE command = 'detect'").fetchone()
    recorded = json.loads(params)
    assert recorded["engine"] == "spark"  # recorded with the run, not in the findings
    assert recorded["spark_stages"] == ["near_duplicates", "bursts", "cadence", "coaction_pairing"]
    with Case(spark_case, read_only=True) as db, Case(local_case, read_only=True) as ldb:
        q = "SELECT * FROM actions WHERE object_type = 'near_dup_cluster' ORDER BY platform, post_id, object_id"
        assert db.con.sql(q).fetchall() == ldb.con.sql(q).fetchall()  # the stored actions, from Spark's clusters


def test_with_translations_the_text_stage_stays_local():
    """Spark has no translation stage: with it on, the near duplicates run here, the rest on Spark."""
    assert spark_stages(DetectParams(), True) == ["bursts", "cadence", "coaction_pairing"]
    assert spark_stages(DetectParams(translations=False), True) == [
        "near_duplicates",
        "bursts",
        "cadence",
        "coaction_pairing",
    ]
    assert spark_stages(DetectParams(translations=False, duplicates=False), True) == [
        "bursts",
        "cadence",
        "coaction_pairing",
    ]
    assert spark_stages(DetectParams(translations=False), False) == []


def test_another_engines_text_stage_needs_translations_off(demo_case):
    case, _ = demo_case

    def finder(con, params):
        raise AssertionError("must not be reached")

    with pytest.raises(ValueError, match="translations=False"):
        duplicates(case, translations=True, finder=finder)


def test_spark_edges_are_ordered_and_tested_as_the_local_engine_does(demo_case):
    """The bridge on its own: the local edges, shuffled and stripped of their significance, come back
    equal to the local table, row for row and column for column."""
    case, _ = demo_case
    with Case(case, read_only=True) as db:
        actions = db.con.sql(
            "SELECT platform, account_id, post_id, created_at, object_type, object_id FROM actions "
            "WHERE object_type = 'repost_of' ORDER BY platform, post_id, object_type, object_id"
        ).to_arrow_table()
    prepared = prepare_actions(actions, CoactionParams(time_window=60))
    sp = SignificanceParams()
    local = coaction_edges(prepared, significance=sp)
    assert local.num_rows > 100
    raw = coaction_edges(prepared)
    shuffled = raw.take(pa.array(list(range(raw.num_rows))[::-1]))
    assert edges_with_significance(prepared, shuffled, significance=sp).equals(local)
    assert edges_with_significance(prepared, shuffled).equals(raw)
    stranger = shuffled.slice(0, 1).set_column(0, "from", pa.array(["nobody"]))
    with pytest.raises(ValueError, match="absent from the actions"):
        edges_with_significance(prepared, stranger, significance=sp)


def test_a_master_needs_the_spark_engine(demo_case, tmp_path):
    case, _ = demo_case
    with pytest.raises(ValueError, match="engine='spark'"):
        detect(case, master="local[2]")
    with pytest.raises(ValueError, match="engine must be one of"):
        detect(case, engine="flink")
