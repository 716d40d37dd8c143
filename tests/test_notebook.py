"""examples/campaign.ipynb runs from top to bottom on a detected case, and draws its two pictures."""

from __future__ import annotations

from pathlib import Path

import pytest

from swarmscope.info import info as ss_info

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "campaign.ipynb"


def test_the_example_notebook_runs_on_a_detected_case(small_detected_case, tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    case, findings = small_detected_case
    assert findings["campaigns"]
    monkeypatch.setenv("SWARMSCOPE_CASE", str(case))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code"), "commit the notebook without outputs"
    nbclient.NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    posts = ss_info(case).posts
    assert f"{posts:,} posts" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the timeline and the network
    tables = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    first = findings["campaigns"][0]["id"]
    assert first in tables  # the campaigns table, and the first campaign's signals
    n_listed = len(
        {tuple(e[:2]) for e in findings["campaigns"][0]["network"]["edges"]}
        | {tuple(e[2:4]) for e in findings["campaigns"][0]["network"]["edges"]}
    )
    assert f"{n_listed:,} accounts" in text
