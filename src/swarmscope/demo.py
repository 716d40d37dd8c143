"""The demo: generate a scenario with ground truth, ingest it into a case, summarise it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .info import CaseInfo, info
from .ingest import ingest


@dataclass(frozen=True)
class DemoResult:
    case: Path
    truth: Path
    info: CaseInfo


def demo(out_dir: str | Path = "demo-out", seed: int = 7, progress: bool = True) -> DemoResult:
    """Write a fresh scenario under ``out_dir``, ingest it into ``out_dir/case.duckdb``."""
    from .simulate import ScenarioParams, generate

    out = Path(out_dir)
    case = out / "case.duckdb"
    for stale in (case, case.with_suffix(".duckdb.wal")):
        stale.unlink(missing_ok=True)  # a demo is a fresh case each time
    scenario = generate(out / "input", ScenarioParams(seed=seed))
    ingest(case, scenario.files, progress=progress)
    return DemoResult(case=case, truth=scenario.truth_path, info=info(case))
