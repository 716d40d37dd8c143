"""network(): inputs, outputs and the errors a user sees (network.py)."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swarmscope.coaction_network import load_actions, network
from swarmscope.store import Case

HEADER = "object_id,account_id,content_id,timestamp_share\n"
ROWS = [  # a ring of three accounts on three objects, 1-3 s apart; an outsider an hour later
    ("o1", "a", "c1", 1700000000.0),
    ("o1", "b", "c2", 1700000001.5),
    ("o1", "c", "c3", 1700000003.0),
    ("o2", "a", "c4", 1700001000.0),
    ("o2", "b", "c5", 1700001002.0),
    ("o2", "c", "c6", 1700001001.0),
    ("o3", "a", "c7", 1700002000.0),
    ("o3", "b", "c8", 1700002001.0),
    ("o3", "c", "c9", 1700002002.0),
    ("o1", "d", "c10", 1700003600.0),
    ("o4", "d", "c11", 1700009000.0),
]


def write_csv(path, rows=ROWS, header=HEADER):
    path.write_text(header + "".join(",".join(map(str, r)) + "\n" for r in rows))
    return path


def test_csv_to_all_outputs(tmp_path):
    src = write_csv(tmp_path / "in.csv")
    outs = [tmp_path / "e.csv", tmp_path / "e.graphml", tmp_path / "e.gexf", tmp_path / "e.parquet"]
    res = network(
        src,
        outs,
        time_window=10,
        pairs_output=tmp_path / "p.csv",
        clusters_output=tmp_path / "c.csv",
        fast_time_window=1.5,
    )
    assert all(o.exists() for o in outs)
    edges = duckdb.sql(f'SELECT * FROM \'{tmp_path / "e.csv"}\' ORDER BY "from", "to"').fetchall()
    assert [(r[0], r[1], r[2]) for r in edges] == [("a", "b", 3), ("a", "c", 3), ("b", "c", 3)]
    assert pq.read_table(tmp_path / "e.parquet").num_rows == 3
    fast = {(r["from"], r["to"]): r["weight_fast"] for r in res.edges.to_pylist()}
    assert fast == {("a", "b"): 2, ("a", "c"): 1, ("b", "c"): 3}  # pairs at most 1.5 s apart
    # the three accounts are the whole audience of their objects: no significant edge, no cluster
    assert res.clusters is not None and res.clusters.stats.num_rows == 0
    pairs = duckdb.sql(f"SELECT * FROM '{tmp_path / 'p.csv'}'").fetchall()
    assert len(pairs) == 9
    assert res.n_actions == len(ROWS)


def test_fractional_seconds_keep_microseconds(tmp_path):
    rows = [
        ("o1", "a", "c1", 1700000000.25),
        ("o1", "b", "c2", 1700000010.25),  # exactly 10 s
        ("o2", "a", "c3", 1700000100.000001),
        ("o2", "b", "c4", 1700000110.000002),
    ]  # 10.000001 s
    res = network(write_csv(tmp_path / "f.csv", rows), time_window=10, min_participation=1, significance=False)
    assert res.edges["weight"].to_pylist() == [1]


def test_case_and_parquet_inputs(tmp_path):
    actions = load_actions(write_csv(tmp_path / "in.csv"))
    pq.write_table(actions, tmp_path / "a.parquet")
    from_parquet = network(tmp_path / "a.parquet", time_window=10, significance=False)
    with Case(tmp_path / "case.duckdb") as db:
        db.append_actions(actions.set_column(0, "platform", pa.array(["x"] * actions.num_rows)))
    from_case = network(tmp_path / "case.duckdb", time_window=10, significance=False)
    assert from_parquet.edges["weight"].to_pylist() == from_case.edges["weight"].to_pylist() == [3, 3, 3]
    assert set(from_case.edges["from_platform"].to_pylist()) == {"x"}


@pytest.mark.parametrize(
    "header, rows, kwargs, message",
    [
        ("object_id,account_id,timestamp_share\n", [("o", "a", 1)], {}, "match neither the CooRTweet layout"),
        (HEADER, [("o", "a", "c", "yesterday")], {}, "record 1: timestamp_share is not a number"),
        (HEADER, ROWS[:2] + [("o", "", "c", 1.0)], {}, "record 3: account_id is missing"),
        (HEADER, ROWS, {"time_window": -5}, "time_window must be"),
        (HEADER, ROWS, {"edge_weight": 2}, "between 0 and 1"),
        (HEADER, ROWS, {"output": "edges.xlsx"}, "unknown file type"),
    ],
)
def test_bad_input_fails_before_work(tmp_path, header, rows, kwargs, message):
    src = write_csv(tmp_path / "bad.csv", rows, header)
    if "output" in kwargs:
        kwargs["output"] = tmp_path / kwargs["output"]
    with pytest.raises(ValueError, match=message):
        network(src, **kwargs)


def test_missing_file_names_it(tmp_path):
    with pytest.raises(ValueError, match="nope.csv: no such file"):
        network(tmp_path / "nope.csv")


def test_streamed_parquet_equals_the_edges(tmp_path, monkeypatch):
    """The Parquet output is written batch by batch while the edges are built: same rows, same order."""
    from swarmscope.detect import coaction

    monkeypatch.setattr(coaction, "BATCH_ROWS", 2)
    rows = [(f"o{i % 4}", f"u{(i * 7) % 9}", f"c{i}", 1_700_000_000 + (i * 13) % 50) for i in range(60)]
    src = write_csv(tmp_path / "in.csv", rows)
    res = network(
        src, [tmp_path / "e.parquet", tmp_path / "e.csv"], time_window=20, min_participation=1, significance=True
    )
    written = pq.read_table(tmp_path / "e.parquet")
    assert res.edges.num_rows > 6 and pq.ParquetFile(tmp_path / "e.parquet").metadata.num_row_groups > 3
    assert written.equals(res.edges)
    csv_rows = duckdb.sql(f'SELECT "from", "to", weight FROM \'{tmp_path / "e.csv"}\'').fetchall()
    assert csv_rows == [(r["from"], r["to"], r["weight"]) for r in res.edges.to_pylist()]


@pytest.mark.parametrize("tz", [None, "Asia/Baku"])
def test_typed_parquet_is_read_in_arrow_as_the_sql_path_reads_it(tmp_path, monkeypatch, tz):
    import datetime as dt

    from swarmscope import coaction_network as net

    raw = pa.table(
        {
            "platform": ["x", None, "tiktok", "x"],
            "account_id": ["a", "b", "c", "d"],
            "post_id": ["1", "2", "3", "4"],
            "created_at": pa.array(
                [
                    dt.datetime(2024, 1, 1, 12),
                    dt.datetime(2024, 1, 1, 13, 0, 1),
                    dt.datetime(2024, 1, 2),
                    dt.datetime(2024, 1, 2, 0, 0, 5),
                ],
                pa.timestamp("ms", tz=tz),
            ),
            "object_type": ["url", "url", "hashtag", "url"],
            "object_id": ["o", "o", "h", "o"],
        }
    )
    pq.write_table(raw, tmp_path / "a.parquet")
    for types in (None, ["url"]):
        fast = load_actions(tmp_path / "a.parquet", types)
        with monkeypatch.context() as m:
            m.setattr(net, "_typed_actions", lambda *a: None)
            slow = load_actions(tmp_path / "a.parquet", types)
        assert fast.equals(slow) and fast.num_rows == (4 if types is None else 3)
    # a blank id is left to the SQL path, which names the record
    pq.write_table(raw.set_column(1, "account_id", pa.array(["a", "  ", "c", "d"])), tmp_path / "b.parquet")
    with pytest.raises(ValueError, match="record 2: account_id is missing"):
        load_actions(tmp_path / "b.parquet")


def test_reused_memory_restores_the_arrow_pool_and_keeps_arrays_valid():
    """Inside, Arrow allocates from the C heap (its system pool) so Arrow and numpy reuse each other's
    freed pages; on exit the previous pool is back and arrays made inside still read correctly."""
    import numpy as np

    from swarmscope.coaction_network import reused_memory

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
    # an error inside restores everything too
    with pytest.raises(RuntimeError), reused_memory():
        raise RuntimeError("boom")
    assert pa.default_memory_pool().backend_name == before.backend_name


def test_graph_files_label_nodes_by_handle_from_a_case(tmp_path):
    """A case input gives Gephi the handles; every input gives posts per account and the network's object types."""
    import igraph as ig
    import networkx as nx

    rows = [(f"o{o}", a, f"c{o}{a}", 1700000000.0 + o * 1000 + i) for o in range(6) for i, a in enumerate("abc")]
    actions = load_actions(write_csv(tmp_path / "in.csv", rows))
    with Case(tmp_path / "case.duckdb") as db:
        db.append_actions(actions.set_column(0, "platform", pa.array(["x"] * actions.num_rows)))
        db.append(
            accounts=pa.table(
                {
                    "platform": ["x", "x"],
                    "account_id": ["a", "b"],
                    "handle": ["alice\x02", "=bob"],
                    "display_name": ["Alice", None],
                }
            )
        )
    gexf, graphml = tmp_path / "n.gexf", tmp_path / "n.graphml"
    network(tmp_path / "case.duckdb", [gexf, graphml], time_window=10, significance=False)
    g = nx.read_gexf(gexf)
    assert {n: d["label"] for n, d in g.nodes(data=True)} == {"a": "alice\\x02", "b": "=bob", "c": "c"}
    assert g.nodes["a"]["display_name"] == "Alice" and "display_name" not in g.nodes["b"]
    assert {d["posts"] for _, d in g.nodes(data=True)} == {6}
    assert {d["object_types"] for *_, d in g.edges(data=True)} == {"object"}
    assert {d["weight"] for *_, d in g.edges(data=True)} == {6}
    h = ig.Graph.Read_GraphML(str(graphml))
    assert dict(zip(h.vs["name"], h.vs["label"])) == {"a": "alice\\x02", "b": "=bob", "c": "c"}
    assert h.vs["posts"] == [6, 6, 6]

    network(write_csv(tmp_path / "in2.csv", rows), [tmp_path / "m.gexf"], time_window=10, significance=False)
    m = nx.read_gexf(tmp_path / "m.gexf")  # no handles in a CSV: the account id is the label
    assert {n: d["label"] for n, d in m.nodes(data=True)} == {"a": "a", "b": "b", "c": "c"}
    assert {d["posts"] for _, d in m.nodes(data=True)} == {6}
