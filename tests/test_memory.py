"""Process memory switches: set inside the step, restored after it, also after an error."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pytest

from swarmscope.memory import huge_pages_disabled, reused_memory, without_huge_pages

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


def test_reused_memory_restores_the_arrow_pool_and_keeps_arrays_valid():
    """Inside, Arrow allocates from the C heap (its system pool) so Arrow and numpy reuse each other's
    freed pages; on exit the previous pool is back and arrays made inside still read correctly."""
    before = pa.default_memory_pool()
    with reused_memory():
        assert pa.default_memory_pool().backend_name == "system"
        made = pa.array(np.arange(5_000_000))  # big enough for the heap, not an mmap of its own
        strings = pa.array([f"id{i}" for i in range(100_000)])
        scratch = [np.ones(6_000_000) for _ in range(3)]  # freed inside: its pages stay for reuse
        del scratch
    assert pa.default_memory_pool().backend_name == before.backend_name
    assert made.to_numpy()[-1] == 4_999_999 and made.sum().as_py() == sum(range(5_000_000))
    assert strings[99_999].as_py() == "id99999"
    # nested (a network built inside a detect): the inner exit leaves the outer block's settings
    with reused_memory():
        with reused_memory():
            pass
        assert pa.default_memory_pool().backend_name == "system"
    assert pa.default_memory_pool().backend_name == before.backend_name
    # an error inside restores everything too
    with pytest.raises(RuntimeError), reused_memory():
        raise RuntimeError("boom")
    assert pa.default_memory_pool().backend_name == before.backend_name


def test_a_detect_reuses_freed_memory_and_gives_it_back(tmp_path, monkeypatch):
    """detect's steps run with freed pages kept for reuse (a 10M-post detect spent 215 of 530 s in the kernel
    faulting pages in again); the process's Arrow pool is its own again afterwards."""
    from swarmscope import ingest as ing
    from swarmscope import pipeline

    seen = []
    real = pipeline.signals_from_tables

    def spy(*a: object, **k: object) -> object:
        seen.append(pa.default_memory_pool().backend_name)
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "signals_from_tables", spy)
    src = tmp_path / "t.jsonl"
    src.write_text(
        "".join(
            f'{{"id": "{i}", "text": "w {i % 3}", "author_id": "{i % 4}", "created_at": "2024-01-01T00:0{i}:00Z"}}\n'
            for i in range(8)
        )
    )
    ing.ingest(tmp_path / "c.duckdb", [src], format="x_v2", progress=False)
    before = pa.default_memory_pool().backend_name
    pipeline.detect(tmp_path / "c.duckdb")
    assert seen == ["system"]
    assert pa.default_memory_pool().backend_name == before
