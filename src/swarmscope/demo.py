"""The demo: generate a scenario with ground truth, ingest it, detect, report, and score against the truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .campaigns.evaluate import evaluate
from .info import CaseInfo, info
from .ingest import ingest


@dataclass(frozen=True)
class DemoResult:
    case: Path
    truth: Path
    info: CaseInfo
    findings: dict
    report: Path
    evaluation: dict


def demo(out_dir: str | Path = "demo-out", seed: int = 7, progress: bool = True) -> DemoResult:
    """Write a fresh scenario under ``out_dir``, ingest it into ``out_dir/case.duckdb``, detect, report."""
    from . import run_detect as detect
    from .export import report
    from .simulate import ScenarioParams, generate

    out = Path(out_dir)
    case = out / "case.duckdb"
    for stale in (case, case.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)  # a demo is a fresh case each time
    scenario = generate(out / "input", ScenarioParams(seed=seed))
    ingest(case, scenario.files, progress=progress)
    findings = detect(case, watchlist=scenario.watchlist_path)
    html = report(case, out / "report.html")
    return DemoResult(
        case=case,
        truth=scenario.truth_path,
        info=info(case),
        findings=findings,
        report=html,
        evaluation=score_against_truth(findings, scenario.truth),
    )


def score_against_truth(findings: dict, truth: dict) -> dict:
    """Precision/recall of each planted operation, and organic accounts wrongly in a campaign."""
    ops = {op["name"]: set(op["account_ids"]) for op in truth["operations"]}
    innocent = set(truth["organic"]["account_ids"]) | set(truth["fan_crowd"]["account_ids"])
    camps = {c["id"]: {a["account_id"] for a in c["accounts"]} for c in findings["campaigns"]}
    scores = {c["id"]: c["score"] for c in findings["campaigns"]}
    return evaluate(camps, ops, innocent, scores)
