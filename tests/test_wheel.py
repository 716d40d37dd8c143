"""The package as users get it: a wheel built from this tree, installed into a clean virtualenv, runs the demo.

Everything comes from the package registry (the build backend, the dependencies); nothing else is
downloaded, and the wheel carries its own data (report templates, the workbench's pages, calendars).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str | Path, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert r.returncode == 0, f"{cmd}: exit {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    pytest.importorskip("build")
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, ROOT, cwd=tmp)
    (built,) = dist.glob("swarmscope-*.whl")
    return built


def _clean_env() -> dict:
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.mark.scale
def test_the_wheel_installs_into_a_clean_venv_and_runs_the_demo(tmp_path, wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("swarmscope/report/templates/", "swarmscope/web/static/", "swarmscope/report/findings.schema.json"):
        assert any(n.startswith(needed) for n in names), needed
    assert not any(n.startswith("tests/") for n in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    env = _clean_env()
    _run(bin_dir / "pip", "install", "--quiet", str(wheel), env=env)
    version = _run(bin_dir / "swarmscope", "--version", env=env).stdout.strip()
    import swarmscope

    assert version == swarmscope.__version__
    out = tmp_path / "demo"
    _run(bin_dir / "swarmscope", "demo", "-o", out, env=env, cwd=tmp_path)
    assert (out / "report.html").stat().st_size > 10_000
    findings = json.loads((out / "case.findings.json").read_text())
    assert len(findings["campaigns"]) >= 3  # the three planted operations
    # the installed package is the wheel's, not this tree's
    where = _run(bin_dir / "python", "-c", "import swarmscope; print(swarmscope.__file__)", env=env, cwd=tmp_path)
    assert str(env_dir) in where.stdout


@pytest.mark.scale
def test_the_spark_extra_alone_runs_detect_on_spark(tmp_path, wheel):
    """``pip install 'swarmscope[spark]'`` is all docs/spark.md asks for: with it alone (no notebook
    extra), ``detect --engine spark`` runs every Spark stage, the near-duplicate and burst stages'
    Arrow batch functions included (pyspark's ``mapInArrow`` needs pandas, which the extra must bring:
    without it the run failed on its first batch function), and gives the local findings."""
    if not os.environ.get("CI") and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        pytest.skip("the Spark engine needs Java 17")
    from swarmscope.ingest import ingest
    from swarmscope.simulate import ScenarioParams, generate

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    env = _clean_env()
    _run(bin_dir / "pip", "install", "--quiet", f"{wheel}[spark]", env=env)
    missing = _run(bin_dir / "python", "-c", "import importlib.util as u; print(u.find_spec('matplotlib'))", env=env)
    assert missing.stdout.strip() == "None"  # only the extra's packages: the notebook extra is not there
    world = generate(tmp_path / "input", ScenarioParams(seed=7))
    case = tmp_path / "case.duckdb"
    ingest(case, world.files, progress=False)
    runs = {}
    for name, opts in (("local", []), ("spark", ["--engine", "spark", "--master", "local[2]"])):
        copy = tmp_path / f"{name}.duckdb"
        shutil.copy(case, copy)
        watch = ["--watchlist", world.watchlist_path]
        _run(bin_dir / "swarmscope", "detect", copy, "--no-translations", *watch, *opts, env=env, cwd=tmp_path)
        findings = json.loads((tmp_path / f"{name}.findings.json").read_text(encoding="utf-8"))
        for key in ("run_id", "created_at"):
            findings["manifest"].pop(key)
        runs[name] = findings
    assert len(runs["local"]["campaigns"]) == 3 and runs["local"]["duplicates"]["clusters"] > 20
    assert runs["spark"] == runs["local"]
