"""docs/python-api.md runs as written (doctest), and the API's contracts on a hand-checkable table."""

from __future__ import annotations

import doctest
from pathlib import Path

import pyarrow as pa
import pytest

import swarmscope as ss

DOC = Path(__file__).resolve().parents[1] / "docs" / "python-api.md"


def test_the_python_api_page_runs_as_written(tmp_path):
    failures, tried = doctest.testfile(
        str(DOC), module_relative=False, globs={"workdir": tmp_path}, optionflags=doctest.ELLIPSIS, verbose=False
    )
    assert tried > 20 and failures == 0


def test_network_takes_a_path_an_arrow_table_or_a_dataframe_alike(tmp_path):
    rows = {
        "object_id": ["t1", "t1", "t2", "t2"],
        "account_id": ["a", "b", "a", "b"],
        "content_id": ["1", "2", "3", "4"],
        "timestamp_share": [0, 5, 100, 103],
    }
    table = pa.table(rows)
    csv = tmp_path / "shares.csv"
    csv.write_text(
        "object_id,account_id,content_id,timestamp_share\n"
        + "".join(f"{o},{a},{c},{t}\n" for o, a, c, t in zip(*rows.values(), strict=True))
    )
    pd = pytest.importorskip("pandas")
    got = [
        ss.network(x, time_window=10, significance=False).select(["from", "to", "weight"]).to_pylist()
        for x in (csv, table, pd.DataFrame(rows))
    ]
    assert got == [[{"from": "a", "to": "b", "weight": 2}]] * 3
    # the network function stays the function after the network module is imported
    import swarmscope.coaction_network  # noqa: F401

    assert callable(ss.network)
    with pytest.raises(TypeError, match="expected a path"):
        ss.network(42)


def test_reading_before_detect_says_so(tmp_path):
    case = ss.open_case(tmp_path / "none.duckdb")
    with pytest.raises(FileNotFoundError):
        case.campaigns()
    with pytest.raises(ValueError, match="unknown table"):
        case.table("labels; DROP TABLE posts")
