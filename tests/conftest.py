from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def case_path(tmp_path: Path) -> Path:
    return tmp_path / "case.duckdb"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the real reference data skip only where ../shared is absent (never in CI)."""
    import os

    if SHARED.exists() or os.environ.get("CI"):
        return
    skip = pytest.mark.skip(reason=f"reference data not found at {SHARED}")
    for item in items:
        if "shared_data" in item.keywords:
            item.add_marker(skip)


def small_scenario_params():
    """A small generated scenario: a copy-paste network, amplifiers, organic users and a fan crowd, X only."""
    from swarmscope.simulate import ScenarioParams

    return ScenarioParams(
        seed=7,
        n_organic_accounts=200,
        n_organic_posts=1500,
        n_fan_accounts=60,
        n_copypaste_accounts=20,
        n_amplifier_accounts=10,
        tiktok=False,
        youtube=False,
        telegram=False,
        burst_posts=100,
        run_length=20,
    )


@pytest.fixture(scope="session")
def small_detected_case(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """``small_scenario_params``, ingested and detected once per session: (case path, findings). Copy the case
    before writing to it."""
    from swarmscope.ingest import ingest
    from swarmscope.pipeline import detect
    from swarmscope.simulate import generate

    tmp = tmp_path_factory.mktemp("small_detected_case")
    sc = generate(tmp / "input", small_scenario_params())
    case = tmp / "case.duckdb"
    ingest(case, sc.files, progress=False)
    return case, detect(case, progress=None)
