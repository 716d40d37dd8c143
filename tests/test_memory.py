"""Process memory switches: set inside the step, restored after it, also after an error."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from swarmscope.memory import huge_pages_disabled, without_huge_pages

if TYPE_CHECKING:
    from swarmscope.ingest.base import Batch

linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")


@linux
def test_without_huge_pages_sets_the_switch_and_restores_it():
    before = huge_pages_disabled()
    assert before is False  # the test process starts with the kernel's default
    with without_huge_pages():
        assert huge_pages_disabled() is True
        with without_huge_pages():  # nested: the inner exit keeps the outer setting
            pass
        assert huge_pages_disabled() is True
    assert huge_pages_disabled() is False
    with pytest.raises(RuntimeError), without_huge_pages():
        raise RuntimeError("the step failed")
    assert huge_pages_disabled() is False


@linux
def test_an_ingest_runs_without_huge_pages(tmp_path, monkeypatch):
    from swarmscope import ingest as ing
    from swarmscope.ingest import x_v2

    seen = []
    read = x_v2.read

    def spy(*a: object) -> Iterator[Batch]:
        seen.append(huge_pages_disabled())
        return read(*a)

    monkeypatch.setattr(x_v2, "read", spy)
    src = tmp_path / "t.jsonl"
    src.write_text('{"id": "1", "text": "x", "author_id": "9", "created_at": "2024-01-01T00:00:00Z"}\n')
    [res] = ing.ingest(tmp_path / "c.duckdb", [src], format="x_v2", progress=False, enrich=False)
    assert res.inserted == 1 and seen == [True] and huge_pages_disabled() is False
