"""The canonical model and its documentation stay in step."""

from __future__ import annotations

import re
from pathlib import Path

from swarmscope import model

DOC = Path(__file__).resolve().parents[1] / "docs" / "data-model.md"


def _documented(table: str) -> set[str]:
    text = DOC.read_text()
    section = text.split(f"\n## {table}\n", 1)[1].split("\n## ", 1)[0]
    section = section.split("| column |", 1)[1].split("\n\n", 1)[0]  # the first table only
    names: set[str] = set()
    for cell in re.findall(r"^\| ([a-z_, ]+) \|", section, flags=re.M):
        names.update(n.strip() for n in cell.split(","))
    return names - {"column"}


def test_every_column_is_documented():
    for name, schema in model.TABLES.items():
        assert set(schema.names) == _documented(name), name


def test_every_object_type_is_documented():
    text = DOC.read_text()
    for t in model.OBJECT_TYPES:
        assert f"| {t} " in text or f", {t} " in text or f"| {t}," in text, t


def test_conform_casts_and_fills():
    import pyarrow as pa

    t = pa.table({"post_id": ["1"], "platform": ["x"], "kind": ["post"], "followers": [3]})
    out = model.conform(t, "posts")
    assert out.schema == model.POSTS and out["text"].to_pylist() == [None]
