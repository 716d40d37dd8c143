"""Near duplicates on ``local-cluster[2,1,1024]``: two executor processes, so the Arrow batch functions
run in the executors' Python workers and every shuffle crosses a process boundary. One test, the
copied-text case: the same clusters, members, pairs and counts as the local engine."""

from __future__ import annotations

import os
import shutil
import sys

import numpy as np
import pytest

if not os.environ.get("CI"):  # in CI (.ci/run installs Java and pyspark) a missing piece is a failure, not a skip
    pytest.importorskip("pyspark")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("the Spark engine needs Java 17", allow_module_level=True)
os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # the workers import swarmscope

from swarmscope.detect.duplicates import DuplicateParams
from swarmscope.engines.spark import spark_session

from .test_spark_neardup import assert_same_duplicates, case_of, edited, posts_table


@pytest.fixture(scope="module")
def cluster():
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    if running is not None:  # one session per process: another module's is stopped by now
        running.stop()
    session = spark_session("local-cluster[2,1,1024]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def test_local_cluster_gives_the_local_duplicates(cluster, tmp_path):
    assert cluster.sparkContext.master == "local-cluster[2,1,1024]"
    rng = np.random.default_rng(12)
    message = "Vote for the green bridge project on Sunday, the future of our city is in your hands #Körpü"
    rows_ = [
        ("x", f"c{i}", f"a{i}", 7200 + int(rng.integers(0, 600)), message, "post", ["#Körpü"]) for i in range(2000)
    ]
    rows_ += [
        (
            "x",
            f"o{i}",
            f"o{i % 40}",
            int(rng.integers(0, 86400)),
            edited(rng, message, int(rng.integers(1, 5))),
            "post",
            ["#körpü"],
        )
        for i in range(300)
    ]
    ds, case = case_of(tmp_path, posts_table(rows_))
    counts = assert_same_duplicates(cluster, ds, case, DuplicateParams())
    assert counts["clusters"] >= 1 and counts["verified_pairs"] > 10
