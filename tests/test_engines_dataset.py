"""The partitioned dataset (engines/dataset.py): layout, round trip, and which directories it writes into."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pyarrow as pa
import pytest

from swarmscope import model
from swarmscope.engines.dataset import MANIFEST, DatasetError, read_manifest, write_dataset
from swarmscope.store import Case

T0 = dt.datetime(2024, 5, 1, 23, 59, 30)


def _fill(con: duckdb.DuckDBPyConnection) -> None:
    posts = model.conform(
        pa.table(
            {
                "platform": ["x", "x", "telegram", "x"],
                "post_id": ["1", "2", "3", "4"],
                "account_id": ["a", "b", "c", "a"],
                "created_at": [T0, T0 + dt.timedelta(seconds=40), T0, None],
                "kind": ["post", "repost", "post", "post"],
                "hashtags": [["h"], None, [], ["h", "k"]],
            }
        ),
        "posts",
    )
    accounts = model.conform(
        pa.table({"platform": ["x", "x", "telegram"], "account_id": ["a", "b", "c"], "followers": [1, 2, 3]}),
        "accounts",
    )
    actions = model.conform(
        pa.table(
            {
                "platform": ["x", "x", "telegram"],
                "account_id": ["a", "b", "c"],
                "post_id": ["1", "2", "3"],
                "created_at": [T0, T0 + dt.timedelta(seconds=40), T0],
                "object_type": ["hashtag", "hashtag", "url"],
                "object_id": ["h", "h", "https://e.org/"],
            }
        ),
        "actions",
    )
    for name, table in (("posts", posts), ("accounts", accounts), ("actions", actions)):
        con.register("_in", table)
        con.execute(f"INSERT INTO {name} SELECT * FROM _in")
        con.unregister("_in")


@pytest.fixture
def case(case_path):
    with Case(case_path) as c:
        _fill(c.con)
        yield c


def _read(path, name):
    return duckdb.sql(f"SELECT * FROM read_parquet('{path}/{name}/**/*.parquet', hive_partitioning = true)")


def test_tables_round_trip_partitioned_by_platform_and_day(case, tmp_path):
    out = tmp_path / "ds"
    info = write_dataset(case.con, out)
    assert info.rows == {"posts": 4, "accounts": 3, "actions": 3}
    # the day is the UTC date of created_at: 23:59:30 and 00:00:10 fall on two days
    assert sorted(p.relative_to(out / "posts").as_posix() for p in (out / "posts").glob("*/*")) == [
        "platform=telegram/day=2024-05-01",
        "platform=x/day=2024-05-01",
        "platform=x/day=2024-05-02",
        "platform=x/day=__HIVE_DEFAULT_PARTITION__",
    ]
    assert sorted(p.name for p in (out / "accounts").iterdir()) == ["platform=telegram", "platform=x"]
    for name in ("posts", "accounts", "actions"):
        cols = [f.name for f in model.TABLES[name]]
        back = _read(out, name).select(*cols).fetchall()
        orig = case.con.sql(f"SELECT {', '.join(cols)} FROM {name}").fetchall()
        assert sorted(back, key=repr) == sorted(orig, key=repr)
    # the partition columns come back with the case's types (day: the DATE of created_at)
    day = _read(out, "actions").select("post_id, day, CAST(created_at AS DATE) = day AS ok").fetchall()
    assert all(ok for _, _, ok in day) and len(day) == 3
    doc = read_manifest(out)
    assert doc["complete"] and doc["tables"]["posts"]["partition_by"] == ["platform", "day"]
    assert [c["name"] for c in doc["tables"]["actions"]["columns"]] == [*model.ACTIONS.names, "day"]


def test_refuses_a_foreign_directory_and_replaces_its_own(case, tmp_path):
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not a swarmscope dataset"):
        write_dataset(case.con, foreign)
    assert (foreign / "notes.txt").read_text() == "mine"

    out = tmp_path / "ds"
    write_dataset(case.con, out)
    case.con.execute("DELETE FROM actions WHERE platform = 'telegram'")
    assert write_dataset(case.con, out).rows["actions"] == 2  # a dataset written before: replaced
    assert not (out / "actions" / "platform=telegram").exists()
    (out / "extra.txt").write_text("someone else's")  # a dataset plus foreign files: refused
    with pytest.raises(DatasetError):
        write_dataset(case.con, out)


def test_an_unfinished_dataset_is_not_read(case, tmp_path):
    out = tmp_path / "ds"
    write_dataset(case.con, out)
    doc = json.loads((out / MANIFEST).read_text())
    doc["complete"] = False
    (out / MANIFEST).write_text(json.dumps(doc))
    with pytest.raises(DatasetError, match="not written to the end"):
        read_manifest(out)
    write_dataset(case.con, out)  # and it may be written again
    assert read_manifest(out)["complete"]


def test_empty_tables_give_empty_folders(tmp_path):
    with Case(tmp_path / "empty.duckdb") as c:
        info = write_dataset(c.con, tmp_path / "ds")
    assert info.rows == {"posts": 0, "accounts": 0, "actions": 0}
    assert (tmp_path / "ds" / "actions").is_dir() and not any((tmp_path / "ds" / "actions").iterdir())


def test_export_parquet_dataset_from_the_command_line(small_detected_case, tmp_path):
    import duckdb
    from typer.testing import CliRunner

    from swarmscope.cli import app
    from swarmscope.store import Case as Store

    case, _ = small_detected_case
    out = tmp_path / "dataset"
    r = CliRunner().invoke(app, ["export", str(case), "-f", "parquet-dataset", "-o", str(out)])
    assert r.exit_code == 0, r.output
    with Store(case, read_only=True) as db:
        expected = {t: db.con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("posts", "actions")}
    query = "SELECT count(*) FROM read_parquet('{}/{}/**/*.parquet', hive_partitioning=true)"
    got = {t: duckdb.sql(query.format(out, t)).fetchall()[0][0] for t in ("posts", "actions")}
    assert got == expected and expected["posts"] > 0
    # a folder of other files is refused, not overwritten
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    r = CliRunner().invoke(app, ["export", str(case), "-f", "parquet-dataset", "-o", str(other)])
    assert r.exit_code == 2 and (other / "notes.txt").read_text() == "mine"
