"""Golden findings: the demo case and a seeded simulation give the committed findings.json.

Any change to what ``detect`` finds or says shows up here as a diff to review.
Only what differs between two identical runs is masked: the run id, the
run's timestamp and the temporary folder the inputs were written to.

After an intended change, rewrite the golden files and review their diff:

    SWARMSCOPE_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
    git diff tests/golden/
"""

from __future__ import annotations

import difflib
import json
import os
from pathlib import Path

import pytest

from swarmscope.ingest import ingest
from swarmscope.pipeline import detect
from swarmscope.simulate import ScenarioParams, generate

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("SWARMSCOPE_UPDATE_GOLDEN") == "1"

CASES = {
    # the demo: `swarmscope demo`'s own scenario (seed 7, default sizes)
    "demo": ScenarioParams(seed=7),
    # a second, smaller world with another seed
    "sim-seed11": ScenarioParams(seed=11, n_organic_accounts=800, n_organic_posts=6000, n_fan_accounts=200),
}


def normalised(findings: dict, root: Path) -> str:
    """findings.json as text, with run id, run time and the temporary input folder masked."""
    doc = json.loads(json.dumps(findings))
    doc.pop("_path", None)
    manifest = doc["manifest"]
    manifest["run_id"] = "<run id>"
    manifest["created_at"] = "<time>"
    for i in manifest["inputs"]:
        i["path"] = Path(i["path"]).resolve().relative_to(root.resolve()).as_posix()
    return json.dumps(doc, ensure_ascii=False, indent=1) + "\n"


@pytest.mark.parametrize("name", sorted(CASES))
def test_findings_equal_the_golden_file(tmp_path, name):
    sc = generate(tmp_path / "input", CASES[name])
    case = tmp_path / "case.duckdb"
    ingest(case, sc.files, progress=False)
    got = normalised(detect(case, watchlist=sc.watchlist_path), tmp_path)
    path = GOLDEN / f"{name}.findings.json"
    if UPDATE:
        path.parent.mkdir(exist_ok=True)
        path.write_text(got, encoding="utf-8")
    want = path.read_text(encoding="utf-8")
    if got != want:
        diff = "".join(
            list(
                difflib.unified_diff(
                    want.splitlines(True), got.splitlines(True), f"golden/{path.name}", "this run", n=2
                )
            )[:80]
        )
        pytest.fail(
            f"findings differ from {path.name} (rerun with SWARMSCOPE_UPDATE_GOLDEN=1 "
            f"if the change is intended, and review the diff):\n{diff}"
        )


def test_normalised_masks_only_what_changes_between_runs(tmp_path):
    findings = {
        "_path": "/x/case.findings.json",
        "schema_version": "1.0",
        "manifest": {
            "run_id": "abc",
            "created_at": "2026-01-01T00:00:00",
            "inputs": [{"path": str(tmp_path / "input" / "x.jsonl"), "sha256": "00"}],
        },
        "campaigns": [{"id": "C1", "score": 0.5}],
    }
    doc = json.loads(normalised(findings, tmp_path))
    assert doc["manifest"] == {
        "run_id": "<run id>",
        "created_at": "<time>",
        "inputs": [{"path": "input/x.jsonl", "sha256": "00"}],
    }
    assert doc["campaigns"] == [{"id": "C1", "score": 0.5}] and "_path" not in doc
    changed = dict(findings, campaigns=[{"id": "C1", "score": 0.51}])
    assert normalised(changed, tmp_path) != normalised(findings, tmp_path)
