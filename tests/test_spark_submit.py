"""``spark-submit`` against a Spark standalone cluster (a master and a worker process on this machine),
with swarmscope shipped as a wheel (``--py-files``): the way docs/spark.md runs it on a cluster.

What it checks: the job (spark_job.py) runs on a cluster manager, not only on ``local`` masters;
the driver and the executors import swarmscope from the shipped wheel (not from the test's install); the
outputs equal the local engine's (co-action edges of a detect config's networks, near-duplicate clusters
and pairs, bursts); a missing dataset exits 2 with its reason.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import numpy as np
import pytest

if not os.environ.get("CI"):  # in CI (.ci/run installs Java and pyspark) a missing piece is a failure, not a skip
    pytest.importorskip("pyspark")
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("the Spark engine needs Java 17", allow_module_level=True)

from swarmscope.config import DetectParams, load_config
from swarmscope.detect.coaction import CoactionParams
from swarmscope.detect.duplicates import DuplicateParams

from .test_spark import HAND, actions_table, assert_same_edges, local_edges, local_ordered
from .test_spark_neardup import case_of, edited, local_bursts, local_duplicates, posts_table, rows

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


@pytest.fixture(scope="module")
def standalone(tmp_path_factory):
    """A standalone master and one worker (2 cores, 1 GiB) on 127.0.0.1; yields the master URL."""
    tmp = tmp_path_factory.mktemp("standalone")
    home = _spark_home()
    env = {**os.environ, "SPARK_HOME": str(home), "SPARK_LOG_DIR": str(tmp), "SPARK_LOCAL_IP": "127.0.0.1"}
    port, ui = _free_port(), _free_port()
    url = f"spark://127.0.0.1:{port}"
    spark_class = str(home / "bin" / "spark-class")
    procs = [
        subprocess.Popen(
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1", "--port", str(port)]
            + ["--webui-port", str(ui)],
            env=env,
            stdout=(tmp / "master.log").open("w"),
            stderr=subprocess.STDOUT,
        )
    ]
    try:
        _wait(lambda: _state(ui) is not None, 90, "the master did not start", tmp / "master.log")
        procs.append(
            subprocess.Popen(
                [spark_class, "org.apache.spark.deploy.worker.Worker", "--host", "127.0.0.1", "--cores", "2"]
                + ["--memory", "1g", "--webui-port", str(_free_port()), "--work-dir", str(tmp / "work"), url],
                env=env,
                stdout=(tmp / "worker.log").open("w"),
                stderr=subprocess.STDOUT,
            )
        )
        _wait(lambda: bool((_state(ui) or {}).get("aliveworkers")), 90, "no worker joined", tmp / "worker.log")
        yield url
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def _state(ui: int) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as r:
            return json.loads(r.read())
    except OSError:
        return None


def _wait(ready, seconds: float, what: str, log: Path) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if ready():
            return
        time.sleep(1)
    raise AssertionError(f"{what} in {seconds} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """swarmscope built as a wheel from this checkout (offline: no build isolation, no index), named .zip."""
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "src", src / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q"]
        + ["-w", str(tmp / "dist"), str(src)],
        check=True,
        capture_output=True,
    )
    (whl,) = (tmp / "dist").glob("swarmscope-*.whl")
    # Spark puts .zip, .egg and .py files of --py-files on the executors' path, not .whl: a wheel is a zip
    shipped = tmp / "swarmscope.zip"
    shutil.copy(whl, shipped)
    return shipped


def _submit(master: str, whl: Path, args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    job = subprocess.run(
        [sys.executable, "-m", "swarmscope.spark_job", "--path"], capture_output=True, text=True, check=True
    ).stdout.strip()
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "SPARK_LOCAL_IP": "127.0.0.1"}
    env.pop("PYTHONPATH", None)
    cmd = [str(_spark_home() / "bin" / "spark-submit"), "--master", master, "--py-files", str(whl)]
    cmd += ["--conf", "spark.sql.shuffle.partitions=4", "--conf", "spark.executor.memory=768m", job, *args]
    return subprocess.run(cmd, env=env, cwd=tmp, capture_output=True, text=True, timeout=600)


def test_spark_submit_on_a_standalone_cluster_gives_the_local_outputs(standalone, wheel, tmp_path):
    rng = np.random.default_rng(3)
    message = "The minister lied about the bridge contract, share before they delete it #KorpuGate now"
    posts = [
        ("x", f"c{i}", f"a{i}", 3600 + int(rng.integers(0, 600)), message, "post", ["#KorpuGate"]) for i in range(300)
    ]
    posts += [
        ("x", f"e{i}", f"e{i % 30}", int(rng.integers(0, 86400)), edited(rng, message, 2), "post", ["#korpugate"])
        for i in range(120)
    ]
    ds, case = case_of(tmp_path, posts_table(posts))
    out = tmp_path / "out"
    config = tmp_path / "detect.toml"  # the job pairs a detect config's networks
    config.write_text(
        '[[networks]]\nname = "tags"\nobject_types = ["hashtag"]\ntime_window = 60\nmin_participation = 1\n'
        '[[networks]]\nname = "links"\nobject_types = ["url"]\ntime_window = 300\nmin_participation = 1\n'
    )
    args = [str(ds), str(out), "--config", str(config), "--duplicates", "--bursts", "--where"]
    done = _submit(standalone, wheel, args, tmp_path)
    assert done.returncode == 0, done.stderr[-4000:]
    doc = json.loads(done.stdout.strip().splitlines()[-1])
    # a cluster run: the standalone master, and executors that imported swarmscope from the shipped wheel
    assert doc["master"] == standalone
    assert f"{wheel.name}/swarmscope/__init__.py" in doc["executors"]["swarmscope"]
    assert not doc["executors"]["swarmscope"].startswith(str(ROOT / "src"))
    assert doc["driver"]["swarmscope"].endswith(f"{wheel.name}/swarmscope/__init__.py")
    # every network's edges equal the local engine's (HAND's actions)
    actions = local_ordered(actions_table(HAND))
    assert [spec.name for spec in load_config(config).networks] == ["tags", "links"]
    for spec in load_config(config).networks:
        params = CoactionParams(
            time_window=spec.time_window, min_participation=spec.min_participation, object_types=spec.object_types
        )
        files = f"{out}/coaction_edges/network={spec.name}/*.parquet"
        got = duckdb.sql(f"SELECT * FROM read_parquet('{files}', hive_partitioning = false)").to_arrow_table()
        assert_same_edges(local_edges(actions, params), got)
        assert doc["rows"][f"coaction_edges/{spec.name}"] == got.num_rows
    assert doc["rows"]["coaction_edges/tags"] > 0 and doc["rows"]["coaction_edges/links"] > 0
    local = local_duplicates(case, DuplicateParams())
    clusters = duckdb.sql(f"SELECT * FROM read_parquet('{out}/duplicate_clusters/*.parquet')").to_arrow_table()
    assert local.clusters.num_rows >= 1 and rows(local.clusters) == rows(clusters, local.clusters.column_names)
    pairs = duckdb.sql(f"SELECT * FROM read_parquet('{out}/duplicate_pairs/*.parquet')").to_arrow_table()
    assert local.pairs.num_rows > 0 and rows(local.pairs) == rows(pairs)
    bursts = duckdb.sql(f"SELECT * FROM read_parquet('{out}/bursts/*.parquet')").to_arrow_table()
    assert bursts.num_rows > 0 and rows(local_bursts(case, DetectParams().signals.bursts)) == rows(bursts)


def test_spark_submit_refuses_a_missing_dataset_with_its_reason(standalone, wheel, tmp_path):
    done = _submit(standalone, wheel, [str(tmp_path / "nothing"), str(tmp_path / "out")], tmp_path)
    assert done.returncode == 2
    # the job writes the reason to its stderr; spark-submit's Python runner merges that into its stdout
    reason = next(line for line in done.stdout.splitlines() if line.startswith("swarmscope-spark-job:"))
    assert "nothing: not a swarmscope dataset" in reason
