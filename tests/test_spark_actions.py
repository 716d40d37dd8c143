"""Enrichment into actions on Spark (engines/spark/actions.py) against the local enrichment.

The local engine's actions are what ingest stored in the case; Spark derives them again from the
dataset's posts. They must be the same rows, as multisets. Runs on ``local[2]``; skips when pyspark or
Java is absent, except in CI (CI=true), which installs both.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

if not os.environ.get("CI"):
    pytest.importorskip("pyspark")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("the Spark engine needs Java 17", allow_module_level=True)

from swarmscope import model
from swarmscope.engines.dataset import write_dataset
from swarmscope.engines.spark import enrich_actions, read_table, run_stages, spark_session
from swarmscope.enrich import build_actions
from swarmscope.enrich.actions import DERIVED
from swarmscope.enrich.text import normalise
from swarmscope.store import Case

T0 = dt.datetime(2024, 5, 1, 12, 0, 0)
COLS = ["platform", "account_id", "post_id", "created_at", "object_type", "object_id"]


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def _posts(rows: list[dict]) -> pa.Table:
    full = []
    for i, r in enumerate(rows):
        full.append(
            {
                "platform": "x",
                "post_id": str(i),
                "account_id": "a",
                "created_at": T0 + dt.timedelta(minutes=i),
                "kind": "post",
            }
            | r
        )
    keys = {k: None for r in full for k in r}  # every row with every key: from_pylist reads the first row's
    return model.conform(pa.Table.from_pylist([keys | r for r in full]), "posts")


LONG = "A message long enough to be fingerprinted, posted by several accounts"
HAND = [
    {"kind": "repost", "parent_post_id": "100", "text": LONG, "hashtags": ["Tag"], "urls": ["https://e.com/a"]},
    {"kind": "repost", "text": "RT @someone: " + LONG},  # the original's id withheld: linked by its text
    {"kind": "repost", "text": "RT @x: too short"},  # too short to link
    {"kind": "reply", "parent_post_id": "101", "text": "@Someone I disagree with this, strongly and at length"},
    {"kind": "quote", "parent_post_id": "102", "text": LONG},
    {"kind": "forward", "parent_post_id": "103", "mentions": ["@Ignored"]},
    {
        "text": LONG + " #Ｓｅｌｅｃｔ",
        "hashtags": ["#Ｓｅｌｅｃｔ", "＃Ünïcode", "", None, "select"],  # two tags fold to one action
        "mentions": ["@MinistryOfX", "@", "plain"],
        "urls": [
            "HTTPS://WWW.BBC.co.uk:443/News/Item?utm_source=tw&id=7&fbclid=z#frag",
            "http://10.0.0.1:8080/x?si=1",
            "not a url",
            None,
        ],
    },
    {"text": "short"},  # no fingerprint: under 20 characters once normalised
    {"text": None, "hashtags": [], "urls": None},
    {"account_id": None, "text": LONG, "hashtags": ["orphan"]},  # no account: no action
    {"created_at": None, "text": LONG},  # no time: no action
    {"platform": "telegram", "post_id": "0", "text": LONG, "urls": ["https://t.me/s/chan?feature=share"]},
]


def _case_and_dataset(tmp: Path, posts: pa.Table) -> tuple[list[tuple], Path]:
    with Case(tmp / "case.duckdb") as c:
        c.con.register("_in", posts)
        c.con.execute("INSERT INTO posts SELECT * FROM _in")
        c.con.unregister("_in")
        build_actions(c)
        local = c.con.sql(f"SELECT {', '.join(COLS)} FROM actions").fetchall()
        write_dataset(c.con, tmp / "ds")
    return local, tmp / "ds"


def _spark_rows(spark, ds: Path) -> list[tuple]:
    table = enrich_actions(read_table(spark, ds, "posts")).toArrow()
    return [tuple(r[c] for c in COLS) for r in table.to_pylist()]


def test_hand_checked_actions_equal_the_local_enrichment(spark, tmp_path):
    local, ds = _case_and_dataset(tmp_path, _posts(HAND))
    ours = _spark_rows(spark, ds)
    assert Counter(ours) == Counter(local)
    got = {(r[2], r[4], r[5]) for r in ours if r[0] == "x"}
    sha = hashlib.sha1(normalise(pa.array([LONG]))[0].as_py().encode()).hexdigest()
    # by hand: the parents, the text link, the folded tag, the canonical URL and its registered domain
    assert ("0", "repost_of", "x:100") in got and not {r for r in got if r[0] == "0" and r[1] != "repost_of"}
    assert ("1", "repost_of", f"x:text:{sha}") in got
    assert not {r for r in got if r[0] == "2"}
    assert {r[1:] for r in got if r[0] == "3"} >= {("reply_to", "x:101")}
    assert ("4", "quote_of", "x:102") in got and ("4", "text_fingerprint", sha) in got
    assert {r[1:] for r in got if r[0] == "5"} == {("repost_of", "x:103")}
    six = {r[1:] for r in got if r[0] == "6"}
    assert {("hashtag", "select"), ("hashtag", "ünïcode"), ("mention", "ministryofx"), ("mention", "plain")} <= six
    assert ("url", "https://www.bbc.co.uk/News/Item?id=7") in six and ("domain", "bbc.co.uk") in six
    assert ("url", "http://10.0.0.1:8080/x") in six and ("domain", "10.0.0.1") in six
    assert not {r for r in got if r[0] in {"7", "8", "9", "10"}}
    assert {r[4:] for r in ours if r[0] == "telegram"} >= {("url", "https://t.me/s/chan"), ("domain", "t.me")}


def test_demo_case_actions_equal_the_local_enrichment(spark, tmp_path):
    from swarmscope.ingest import ingest
    from swarmscope.simulate import ScenarioParams, generate

    world = generate(tmp_path / "input", ScenarioParams(seed=7))
    case = tmp_path / "case.duckdb"
    ingest(case, world.files, progress=False)
    with Case(case, read_only=True) as c:
        derived = ", ".join(f"'{t}'" for t in DERIVED)  # not TikTok's sounds: the importer stores those
        local = c.con.sql(f"SELECT {', '.join(COLS)} FROM actions WHERE object_type IN ({derived})").fetchall()
        kinds = dict(c.con.sql("SELECT object_type, count(*) FROM actions GROUP BY ALL").fetchall())
        write_dataset(c.con, tmp_path / "ds")
    assert len(local) > 40_000 and {"repost_of", "hashtag", "url", "domain", "text_fingerprint"} <= set(kinds)
    assert kinds["sound"] > 1000  # stored by the TikTok importer, left out above
    assert Counter(_spark_rows(spark, tmp_path / "ds")) == Counter(local)
    # the stage runner writes them too
    doc = run_stages(spark, tmp_path / "ds", tmp_path / "out", {}, actions=True)
    written = duckdb.sql(f"SELECT {', '.join(COLS)} FROM read_parquet('{tmp_path}/out/actions/*.parquet')").fetchall()
    assert doc["rows"]["actions"] == len(local) and Counter(written) == Counter(local)
