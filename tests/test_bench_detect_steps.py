"""bench/detect_steps.py: a detect run's time, CPU and memory per step (issue #24: the time per stage)."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import detect_steps


def _tables(case: Path) -> set[str]:
    con = duckdb.connect(str(case), read_only=True)
    try:
        return {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    finally:
        con.close()


def test_a_fresh_copy_drops_what_detect_reuses_and_leaves_the_case_alone(small_detected_case, tmp_path):
    case, _ = small_detected_case
    before = _tables(case)
    assert {"post_terms", "post_index"} <= before  # the detected case has its search index
    copy = detect_steps.fresh_copy(case, tmp_path)
    assert copy != case and copy.parent == tmp_path
    assert _tables(copy) == before - set(detect_steps.REUSED)
    assert _tables(case) == before


def test_every_step_of_detect_is_timed_once_in_order(small_detected_case, tmp_path):
    from swarmscope.config import DetectParams

    case, _ = small_detected_case
    copy = detect_steps.fresh_copy(case, tmp_path)
    steps = detect_steps.measure(copy, DetectParams(translations=False))
    labels = [s.label for s in steps]
    assert labels[0] == "enrich posts" and labels[-1] == "findings.json"
    assert "search index" in labels and "campaigns" in labels and "done" not in labels
    assert len(labels) == len(set(labels))
    assert all(s.seconds >= 0 and s.cpu >= 0 and s.peak_mib > 0 for s in steps)
    assert sum(s.cpu for s in steps) > 0
    assert {"post_terms", "post_index"} <= _tables(copy)  # the step list is of a run that rebuilt the index
    out = detect_steps.table(steps)
    assert out.count("\n") == len(steps) + 2  # header, rule, one row a step, the total
    assert "| **detect** |" in out
