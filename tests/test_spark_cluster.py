"""The Spark engine on ``local-cluster[2,1,1024]``: two executor processes, so every shuffle crosses
a process boundary as on a real cluster. One test, the hot-object case: the same edges as the local engine."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

if not os.environ.get("CI"):  # in CI (.ci/run installs Java and pyspark) a missing piece is a failure, not a skip
    pytest.importorskip("pyspark")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("the Spark engine needs Java 17", allow_module_level=True)

from swarmscope.detect.coaction import CoactionParams
from swarmscope.engines.spark import SplitParams, spark_session

from .test_spark import actions_table, assert_same_edges, both, dataset_of


@pytest.fixture(scope="module")
def cluster():
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()
    if running is not None:  # one session per process: test_spark's local[2] one is stopped by now
        running.stop()
    session = spark_session("local-cluster[2,1,1024]", config={"spark.sql.shuffle.partitions": "4"})
    yield session
    session.stop()


def test_local_cluster_gives_the_local_edges(cluster, tmp_path):
    assert cluster.sparkContext.master == "local-cluster[2,1,1024]"
    rng = np.random.default_rng(2)
    rows = [("x", f"a{i}", f"h{i}", int(rng.integers(0, 1800)), "repost_of", "viral") for i in range(300)]
    rows += [("x", f"a{i}", f"b{i}", 2000, "repost_of", "viral") for i in range(0, 160, 2)]
    rows += [("x", f"a{i}", f"c{i}", int(rng.integers(0, 1800)), "hashtag", f"t{i % 5}") for i in range(200)]
    actions = actions_table(rows)
    ds = dataset_of(tmp_path, actions)
    split = SplitParams(bucket_seconds=600, hot_object_shares=100, salt_shares=30)
    local, ours = both(cluster, ds, actions, CoactionParams(time_window=60), split)
    assert local.num_rows > 1000
    assert_same_edges(local, ours)
    # the work ran on two executor processes besides the driver
    assert cluster.sparkContext._jsc.sc().getExecutorMemoryStatus().size() == 3
