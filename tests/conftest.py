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
