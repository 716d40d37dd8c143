"""CSV/Parquet exports: formulas neutralised in CSV, values exact in Parquet."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmscope.report.tables import (
    campaign_tables,
    csv_safe,
    write_campaign_tables,
    write_parquet_batches,
    write_table,
)
from tests.test_findings_schema import small_findings

HOSTILE = ['=HYPERLINK("http://evil","x")', "+cmd", "-2+3", "@SUM(1)", "\t=1", "\r=1", "  =1+1", "\u00a0@x", "＝1"]
HARMLESS = ["ok", "a=b", "2-3", "e-mail@x", "Жанна 🌻", "", "'already"]


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_csv_neutralises_formulas_and_leaves_the_rest(tmp_path: Path) -> None:
    texts = HOSTILE + HARMLESS
    table = pa.table(
        {"text": texts, "delta": pa.array(range(-len(texts), 0), pa.int64()), "ratio": pa.array([-0.5] * len(texts))}
    )
    rows = _csv_rows(write_table(table, tmp_path / "t.csv"))
    assert [r["text"] for r in rows] == ["'" + t for t in HOSTILE] + HARMLESS
    # Numbers are not strings: negative values stay numbers a spreadsheet can sum.
    assert [r["delta"] for r in rows] == [str(i) for i in range(-len(texts), 0)]
    assert {r["ratio"] for r in rows} == {"-0.5"}


def test_csv_keeps_nulls_and_neutralises_dictionary_columns_and_headers(tmp_path: Path) -> None:
    table = pa.table({"=name": pa.array(["=1", None, "x"]).dictionary_encode()})
    raw = (write_table(table, tmp_path / "t.csv")).read_text(encoding="utf-8").splitlines()
    assert raw == ['"\'=name"', '"\'=1"', "", '"x"']


def test_parquet_is_unchanged(tmp_path: Path) -> None:
    table = pa.table({"text": HOSTILE + HARMLESS + [None], "n": list(range(-8, len(HOSTILE) + len(HARMLESS) - 7))})
    assert pq.read_table(write_table(table, tmp_path / "t.parquet")).equals(table)


def test_bad_suffix_and_nested_columns_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.xlsx"):
        write_table(pa.table({"a": [1]}), tmp_path / "t.xlsx")
    with pytest.raises(ValueError, match="'tags'"):
        write_table(pa.table({"tags": [["a", "b"]]}), tmp_path / "t.csv")
    assert not list(tmp_path.iterdir())  # nothing half-written


def test_campaign_tables_from_findings(tmp_path: Path) -> None:
    tables = campaign_tables(small_findings())
    acc, sig, ev = tables["accounts"], tables["signals"], tables["evidence"]
    assert acc.column("account_id").to_pylist() == ["101", "102", "103"]
    assert acc.column("role").to_pylist() == ["core", "core", "periphery"]
    assert acc.column("signals").to_pylist() == ["S1;S2", "S1;S2", "S1"]
    # S9 belongs to no campaign; S1 and S2 are C1's.
    assert sig.column("signal_id").to_pylist() == ["S1", "S2"]
    assert sig.column("evidence_posts").to_pylist() == [3, 2]
    assert ev.column("post_id").to_pylist() == ["1001", "1002", "1003", "2001", "2002"]
    # S1 gives a time per post; S2 gives one time for two posts, so its times are unknown.
    assert ev.column("time").to_pylist() == [
        "2024-03-04T10:00:01",
        "2024-03-04T10:00:04",
        "2024-03-04T10:00:09",
        None,
        None,
    ]

    paths = write_campaign_tables(small_findings(), tmp_path / "csv")
    rows = _csv_rows(paths["accounts"])
    assert rows[0]["handle"] == '\'=HYPERLINK("http://evil","x")'
    assert rows[1]["handle"] == "'+cmd" and rows[1]["display_name"] == "Жанна 🌻"
    assert rows[0]["display_name"] == 'Anna \' \\ "P"'
    assert _csv_rows(paths["signals"])[1]["summary"] == "2 accounts posted '-2+3 @SUM(1)' 6 times"

    parquet = write_campaign_tables(small_findings(), tmp_path / "pq", fmt="parquet")
    assert pq.read_table(parquet["accounts"]).equals(acc)


def test_campaign_tables_of_empty_findings_have_their_columns() -> None:
    tables = campaign_tables({"campaigns": [], "signals": []})
    assert list(tables) == ["campaigns", "accounts", "signals", "evidence"]
    assert tables["accounts"].num_rows == 0 and tables["campaigns"].num_rows == 0
    assert "campaign_id" in tables["evidence"].column_names


def test_campaigns_table_from_findings() -> None:
    [row] = campaign_tables(small_findings())["campaigns"].to_pylist()
    assert (row["campaign_id"], row["score"], row["accounts"], row["posts"]) == ("C1", 0.87, 3, 8)
    assert (row["platforms"], row["languages"], row["active_days"]) == ("x:3", "en:8", 2)
    assert (row["signals"], row["disarm"], row["domains"]) == (
        "S1;S2",
        "T0049.005;T0084.001",
        "example.com;evil.example'] OR [x:y = 'z",
    )
    assert row["tier"] is None and row["likely_inauthentic"] is None  # not in these findings: empty, not invented


def test_evidence_times_come_from_the_cited_posts_only() -> None:
    import duckdb

    ev = campaign_tables(small_findings())["evidence"]
    con = duckdb.connect()
    con.execute("CREATE TABLE posts (platform VARCHAR, post_id VARCHAR, created_at TIMESTAMP)")
    con.execute(
        "INSERT INTO posts VALUES ('x', '2001', '2024-03-04 11:00:00'), ('x', '1001', '2020-01-01'),"
        " ('telegram', '2002', '2024-01-01')"  # same post id on another platform: not this post
    )
    filled = campaign_tables(small_findings(), con)["evidence"]
    assert filled.schema == ev.schema and filled["post_id"].to_pylist() == ev["post_id"].to_pylist()
    times = filled["time"].to_pylist()
    assert times[:3] == ev["time"].to_pylist()[:3]  # the signal's own times win
    assert times[3:] == ["2024-03-04T11:00:00", None]  # 2002 is not in the case on platform x


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=20))
def test_no_csv_cell_starts_a_formula(texts: list[str]) -> None:
    out = csv_safe(pa.table({"t": texts})).column("t").to_pylist()
    for before, after in zip(texts, out):
        assert after in (before, "'" + before)
        assert after.lstrip(" \t\r\n\u00a0\u3000")[:1] not in ("=", "+", "-", "@", "\t", "\r")


@pytest.mark.scale
def test_scale_neutralisation_is_exact(tmp_path: Path) -> None:
    rng = random.Random(7)
    pool = HOSTILE + HARMLESS
    texts = [rng.choice(pool) for _ in range(200_000)]
    out = csv_safe(pa.table({"t": texts})).column("t").to_pylist()
    hostile = set(HOSTILE)
    assert out == [("'" + t) if t in hostile else t for t in texts]


@pytest.mark.parametrize("kind", ["string", "large_string", "sliced", "chunked"])
def test_the_first_byte_test_sees_formulas_in_every_layout(kind: str) -> None:
    """The cheap test reads offsets and bytes itself: a slice's offset, 64-bit offsets and several
    chunks must not hide a hostile cell, nor make a harmless column look hostile."""
    from swarmscope.tablefile import _may_start_formula

    def layout(cells: list[str | None]) -> pa.Array | pa.ChunkedArray:
        if kind == "large_string":
            return pa.array(cells, pa.large_string())
        if kind == "sliced":  # harmless cells before the slice, hostile ones after it
            return pa.array(["ok", "fine", *cells, "=1", "+1"]).slice(2, len(cells))
        if kind == "chunked":
            return pa.chunked_array([pa.array(cells[:3]), pa.array(cells[3:])])
        return pa.array(cells)

    assert not _may_start_formula(layout(["ok", "", None, "x-y", "a=b", "z"]))
    assert not _may_start_formula(pa.array(["=1", "+1", "ok"]).slice(2))
    for hostile in HOSTILE:
        column = layout(["ok", "", None, "x-y", "z", hostile])
        assert _may_start_formula(column), (kind, hostile)
        out = csv_safe(pa.table({"t": column})).column("t").to_pylist()
        assert out == ["ok", "", None, "x-y", "z", "'" + hostile], (kind, hostile)


@pytest.mark.parametrize("rows", [0, 1, 5_000, 60_000])
def test_csv_in_parallel_slices_is_one_pass_of_the_whole_table(tmp_path: Path, monkeypatch, rows: int) -> None:
    """Slices formatted on several threads and written in order give the bytes of one ``write_csv``
    of the neutralised table: one header, every row once, in order."""
    import io

    import pyarrow.csv as pacsv

    from swarmscope import tablefile

    rng = random.Random(rows)
    pool = HOSTILE + HARMLESS
    table = pa.table(
        {
            "id": [str(i) for i in range(rows)],
            "text": [rng.choice(pool) for _ in range(rows)],
            "n": pa.array([rng.randint(-9, 9) for _ in range(rows)], pa.int64()),
            "x": [rng.random() for _ in range(rows)],
        }
    )
    monkeypatch.setattr(tablefile, "CSV_SLICE_BYTES", 20_000)  # many slices, even for small tables
    got = write_table(table, tmp_path / "t.csv").read_bytes()
    expected = io.BytesIO()
    pacsv.write_csv(csv_safe(table), expected)
    assert got == expected.getvalue()
    assert got.count(b"\n") == rows + 1


def test_parquet_batches_are_written_as_they_come(tmp_path: Path) -> None:
    """One row group per batch, the same rows as a whole-table write, the batches handed back."""
    batches = [
        pa.record_batch({"a": pa.array(range(i, i + n)), "s": pa.array([f"=x{j}" for j in range(n)])})
        for i, n in ((0, 3), (3, 5), (8, 1))
    ]
    got = write_parquet_batches(iter(batches), tmp_path / "e.parquet")
    assert got == batches
    f = pq.ParquetFile(tmp_path / "e.parquet")
    assert f.metadata.num_row_groups == 3
    assert f.read().equals(pa.Table.from_batches(batches))  # exact: Parquet is not formula-neutralised
    assert [p.name for p in tmp_path.iterdir()] == ["e.parquet"]


def test_parquet_batches_leave_no_file_when_the_producer_fails(tmp_path: Path) -> None:
    def produce():
        yield pa.record_batch({"a": pa.array([1, 2])})
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_parquet_batches(produce(), tmp_path / "e.parquet")
    assert list(tmp_path.iterdir()) == []


def test_parquet_batches_report_a_writer_failure(tmp_path: Path) -> None:
    """A batch whose schema differs from the first fails in the writer thread; the error reaches the caller."""
    batches = [
        pa.record_batch({"a": pa.array([1])}),
        pa.record_batch({"b": pa.array(["x"])}),
        pa.record_batch({"a": pa.array([2])}),
    ]
    with pytest.raises(Exception, match="schema|Schema"):
        write_parquet_batches(iter(batches), tmp_path / "e.parquet")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ValueError, match="Parquet"):
        write_parquet_batches(iter(batches), tmp_path / "e.csv")
