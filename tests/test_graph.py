"""Leiden clusters, per-cluster statistics and graph files (graph.py)."""

from __future__ import annotations

import datetime as dt

import igraph as ig
import networkx as nx
import pyarrow as pa
import pytest

from swarmscope.graph import ClusterParams, clusters, select_edges, write_gexf, write_graphml

T0 = dt.datetime(2024, 1, 1)


def edges_table():
    """Two 4-cliques (weight 5) joined by one weak edge; one insignificant edge to an outsider."""
    rows = []
    for group in (["a1", "a2", "a3", "a4"], ["b1", "b2", "b3", "b4"]):
        for i, x in enumerate(group):
            for y in group[i + 1 :]:
                rows.append((x, y, 5, True))
    rows += [("a1", "b1", 1, True), ("a2", "zz", 9, False)]
    return pa.table(
        {
            "from": [r[0] for r in rows],
            "to": [r[1] for r in rows],
            "weight": [r[2] for r in rows],
            "avg_time_delta": [3.0] * len(rows),
            "z": [None] * (len(rows) - 1) + [1.5],
            "from_platform": ["x"] * len(rows),
            "to_platform": ["x"] * len(rows),
            "significant": [r[3] for r in rows],
        }
    )


def pairs_table():
    t = [T0, T0 + dt.timedelta(seconds=2), T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=1, seconds=6)]
    return pa.table(
        {
            "object_type": ["url", "url"],
            "object_id": ["u1", "u2"],
            "platform_a": ["x", "x"],
            "account_a": ["a1", "a3"],
            "post_a": ["p1", "p3"],
            "time_a": pa.array([t[0], t[2]], pa.timestamp("us")),
            "platform_b": ["x", "x"],
            "account_b": ["a2", "a4"],
            "post_b": ["p2", "p4"],
            "time_b": pa.array([t[1], t[3]], pa.timestamp("us")),
            "delta": [2.0, 6.0],
        }
    )


def test_two_cliques_two_clusters_with_stats():
    found = clusters(edges_table(), pairs_table())
    m = {r["account_id"]: r["cluster"] for r in found.membership.to_pylist()}
    assert "zz" not in m  # its only edge is not significant
    assert len({m[a] for a in ("a1", "a2", "a3", "a4")}) == 1 and len({m[b] for b in ("b1", "b2", "b3", "b4")}) == 1
    assert m["a1"] != m["b1"]
    stats = {r["cluster"]: r for r in found.stats.to_pylist()}
    a = stats[m["a1"]]
    assert (a["n_accounts"], a["n_edges"], a["total_weight"], a["density"]) == (4, 6, 30, 1.0)
    assert (a["n_pairs"], a["n_posts"], a["n_objects"], a["platforms"]) == (2, 4, 2, ["x"])
    assert a["time_span_s"] == 3606 and a["median_time_delta"] == 4.0
    b = stats[m["b1"]]
    assert b["n_pairs"] == 0 and b["first_time"] is None


def test_seeded_and_reproducible():
    one = clusters(edges_table(), None, ClusterParams(seed=7))
    two = clusters(edges_table(), None, ClusterParams(seed=7))
    assert one.membership.equals(two.membership) and one.stats.equals(two.stats)


def test_edge_sets():
    assert select_edges(edges_table(), "all").num_rows == 14
    assert select_edges(edges_table(), "significant").num_rows == 13
    with pytest.raises(ValueError, match="weight_threshold"):
        select_edges(edges_table(), "weight_threshold")
    with pytest.raises(ValueError, match="edges_used"):
        ClusterParams(edges_used="best")


def test_graphml_and_gexf(tmp_path):
    edges = edges_table()
    found = clusters(edges)
    write_graphml(edges, tmp_path / "g.graphml", found.membership)
    g = ig.Graph.Read_GraphML(str(tmp_path / "g.graphml"))
    assert (g.vcount(), g.ecount(), g.is_directed()) == (9, 14, False)
    zz = g.vs.find(name="zz")
    assert zz["cluster"] == -1 and zz["platform"] == "x"
    assert sorted(g.es["weight"])[-1] == 9
    write_gexf(edges, tmp_path / "g.gexf", found.membership)
    h = nx.read_gexf(tmp_path / "g.gexf")
    assert (h.number_of_nodes(), h.number_of_edges()) == (9, 14)
    assert h.edges["a2", "zz"]["z"] == 1.5 and "z" not in h.edges["a1", "a2"]  # absent, not invented
    assert h.nodes["a1"]["cluster"] == h.nodes["a2"]["cluster"] >= 0


def test_graph_files_take_node_attributes_and_keep_unlinked_accounts(tmp_path):
    """Handles label the nodes; an account no edge touches is still a node; a repeated account keeps its first row."""
    edges = edges_table()
    accounts = pa.table(
        {
            "platform": ["x", "x", "x", "x"],
            "account_id": ["a1", "lone", "a1", "b2"],
            "handle": ["alpha\x00one", "lonely", "second row", None],
            "score": [0.9, None, 0.1, 0.5],
            "posts": [7, 1, 99, 2],
            "bot": [True, None, False, False],
        }
    )
    write_gexf(edges, tmp_path / "g.gexf", None, accounts)
    h = nx.read_gexf(tmp_path / "g.gexf")
    assert (h.number_of_nodes(), h.number_of_edges()) == (10, 14)
    assert h.nodes["a1"]["label"] == "alpha\\x00one" and h.nodes["a1"]["posts"] == 7 and h.nodes["a1"]["score"] == 0.9
    assert h.nodes["b2"]["label"] == "b2" and h.nodes["a3"]["label"] == "a3"  # no handle: the account id
    assert h.nodes["lone"]["label"] == "lonely" and h.degree("lone") == 0 and "score" not in h.nodes["lone"]
    write_graphml(edges, tmp_path / "g.graphml", None, accounts)
    g = ig.Graph.Read_GraphML(str(tmp_path / "g.graphml"))
    assert g.vcount() == 10 and g.vs.find(name="lone")["label"] == "lonely"
    assert g.vs.find(name="a1")["bot"] == "true" and g.vs.find(name="lone")["bot"] == ""  # no null boolean
    with pytest.raises(ValueError, match="account_id"):
        write_gexf(edges, tmp_path / "x.gexf", None, pa.table({"platform": ["x"]}))
