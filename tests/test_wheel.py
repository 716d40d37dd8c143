"""The package as users get it: a wheel built from this tree, installed into a clean virtualenv, runs the demo.

Everything comes from the package registry (the build backend, the dependencies); nothing else is
downloaded, and the wheel carries its own data (report templates, the workbench's pages, calendars).
"""

from __future__ import annotations

import json
import os
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


@pytest.mark.scale
def test_the_wheel_installs_into_a_clean_venv_and_runs_the_demo(tmp_path):
    pytest.importorskip("build")
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, ROOT, cwd=tmp_path)
    (wheel,) = dist.glob("swarmscope-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("swarmscope/report/templates/", "swarmscope/web/static/", "swarmscope/report/findings.schema.json"):
        assert any(n.startswith(needed) for n in names), needed
    assert not any(n.startswith("tests/") for n in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
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
