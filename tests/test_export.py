"""export(): graph files that open in Gephi with handles as labels, campaigns.csv, evidence times (export.py)."""

from __future__ import annotations

import csv
import datetime as dt
import math
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import igraph as ig
import networkx as nx
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from swarmscope.export import export, network_accounts, network_tables
from swarmscope.findings import findings_path, write_json_atomic
from swarmscope.store import Case
from tests.test_findings_schema import small_findings

T0 = dt.datetime(2024, 3, 4, 10, 0)


def findings() -> dict[str, Any]:
    """small_findings with a verdict, followers, a co-action network, a member without links and a handle
    holding a control character."""
    f = small_findings()
    c = f["campaigns"][0]
    c["verdict"] = {"tier": "strong", "label": "strong evidence of inauthentic coordination", "basis": "score"}
    c["likely_inauthentic"] = True
    c["accounts"][0]["followers"] = 12
    c["accounts"][2]["handle"] = "b3\x01bell"
    c["accounts"].append(
        {"platform": "telegram", "account_id": "901", "handle": None, "display_name": "Канал", "role": "core"}
    )
    c["network"] = {
        "edges": [
            ["x", "101", "x", "102", 4.0, ["reposts", "same_text"]],
            ["x", "101", "x", "103", 2.0, ["reposts"]],
        ],
        "truncated": 0,
    }
    return f


@pytest.fixture
def case(case_path: Path) -> Path:
    """A case holding the posts and accounts the findings cite: 101 posted 3 times, 102 twice, 103 once."""
    posts = pa.table(
        {
            "platform": ["x"] * 6,
            "post_id": ["1001", "1002", "1003", "2001", "2002", "3001"],
            "account_id": ["101", "102", "103", "101", "102", "101"],
            "created_at": pa.array(
                [T0, T0, T0, T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=1, microseconds=250), T0],
                pa.timestamp("us"),
            ),
            "text": ["a", "b", "c", "=1+1", "=1+1", "d"],
            "kind": ["post"] * 6,
        }
    )
    with Case(case_path) as db:
        db.append(posts=posts)
    write_json_atomic(findings(), findings_path(case_path))
    return case_path


# -- a Gephi-style GEXF reader: independent of networkx, the rules of Gephi's ImporterGEXF ----------------


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _typed(kind: str, value: str) -> object:
    if kind in ("integer", "long", "short", "byte"):
        return int(value)
    if kind in ("float", "double"):
        return float(value)
    if kind == "boolean":
        assert value in ("true", "false"), value
        return value == "true"
    assert kind == "string", kind
    return value


def read_gexf_like_gephi(path: Path) -> tuple[dict[str, dict], list[dict]]:
    """Nodes by id ({label, attribute title: typed value}) and edges, checked as Gephi's importer reads them:
    every attvalue names a declared attribute of its class and parses as its type, node ids are unique,
    every edge joins two declared nodes, weights are numbers."""
    root = ET.parse(path).getroot()  # raises on characters XML forbids
    assert _local(root.tag) == "gexf" and root.get("version") in ("1.2", "1.3")
    [graph] = [el for el in root if _local(el.tag) == "graph"]
    declared: dict[str, dict[str, tuple[str, str]]] = {"node": {}, "edge": {}}
    for attrs in (el for el in graph if _local(el.tag) == "attributes"):
        for a in attrs:
            declared[attrs.get("class")][a.get("id")] = (a.get("title"), a.get("type"))

    def values(el: ET.Element, cls: str) -> dict[str, object]:
        out = {}
        for holder in (c for c in el if _local(c.tag) == "attvalues"):
            for v in holder:
                title, kind = declared[cls][v.get("for")]  # KeyError: an undeclared attribute
                out[title] = _typed(kind, v.get("value"))
        return out

    nodes: dict[str, dict] = {}
    edges: list[dict] = []
    for part in graph:
        for el in part:
            if _local(el.tag) == "node":
                assert el.get("id") not in nodes, f"duplicate node id {el.get('id')}"
                nodes[el.get("id")] = {"label": el.get("label"), **values(el, "node")}
            elif _local(el.tag) == "edge":
                assert el.get("source") in nodes and el.get("target") in nodes
                edges.append(
                    {"source": el.get("source"), "target": el.get("target"), "weight": float(el.get("weight", 1))}
                    | values(el, "edge")
                )
    return nodes, edges


def test_gexf_export_labels_nodes_by_handle_with_their_attributes(case: Path, tmp_path: Path) -> None:
    out = export(case, "gexf", tmp_path / "c.gexf")
    nodes, edges = read_gexf_like_gephi(out)
    # two platforms: ids are platform:account_id; labels the handles (control character escaped)
    assert {n: a["label"] for n, a in nodes.items()} == {
        "x:101": '=HYPERLINK("http://evil","x")',
        "x:102": "+cmd",
        "x:103": "b3\\x01bell",
        "telegram:901": "901",  # no handle: the account id, never an empty label
    }
    a = nodes["x:101"]
    assert (a["platform"], a["account_id"], a["display_name"], a["campaign"], a["role"]) == (
        "x",
        "101",
        'Anna \' \\ "P"',
        "C1",
        "core",
    )
    assert (a["tier"], a["score"], a["posts"], a["followers"]) == ("strong", 0.87, 3, 12)
    assert nodes["x:102"]["posts"] == 2 and "followers" not in nodes["x:102"]  # absent, not invented
    assert nodes["telegram:901"]["posts"] == 0 and "handle" not in nodes["telegram:901"]
    by_pair = {(e["source"], e["target"]): e for e in edges}
    assert set(by_pair) == {("x:101", "x:102"), ("x:101", "x:103")}
    e = by_pair[("x:101", "x:102")]
    assert (e["weight"], e["networks"], e["significant"], e["campaign"]) == (4.0, "reposts,same_text", True, "C1")

    g = nx.read_gexf(out)  # the second reader agrees
    assert g.nodes["x:102"]["label"] == "+cmd" and g.nodes["x:101"]["posts"] == 3
    assert g.edges["x:101", "x:103"]["weight"] == 2.0 and g.edges["x:101", "x:103"]["networks"] == "reposts"
    assert g.number_of_nodes() == 4 and g.number_of_edges() == 2


def test_graphml_export_reads_back_in_igraph_and_networkx(case: Path, tmp_path: Path) -> None:
    out = export(case, "graphml", tmp_path / "c.graphml")
    g = ig.Graph.Read_GraphML(str(out))
    labels = dict(zip(g.vs["name"], g.vs["label"]))
    assert labels == {
        "x:101": '=HYPERLINK("http://evil","x")',
        "x:102": "+cmd",
        "x:103": "b3\\x01bell",
        "telegram:901": "901",
    }
    v = g.vs.find(name="x:101")
    assert (v["handle"], v["campaign"], v["role"], v["tier"], v["score"], v["posts"]) == (
        '=HYPERLINK("http://evil","x")',
        "C1",
        "core",
        "strong",
        0.87,
        3,
    )
    assert math.isnan(g.vs.find(name="x:102")["followers"])  # GraphML has no null
    e = g.es[g.get_eid(v.index, g.vs.find(name="x:102").index)]
    assert (e["weight"], e["networks"], e["significant"], e["campaign"]) == (4.0, "reposts,same_text", True, "C1")

    h = nx.read_graphml(out)
    by_name = {d["name"]: d for _, d in h.nodes(data=True)}
    assert by_name["x:103"]["label"] == "b3\\x01bell" and by_name["telegram:901"]["display_name"] == "Канал"
    assert sorted(d["weight"] for *_, d in h.edges(data=True)) == [2.0, 4.0]


def test_network_tables_and_accounts_from_findings() -> None:
    edges, membership = network_tables(findings())
    assert edges["significant"].to_pylist() == [True, True]
    assert membership.num_rows == 4
    accounts = network_accounts(findings())
    assert accounts["account_id"].to_pylist() == ["101", "102", "103", "901"]
    assert set(accounts["campaign"].to_pylist()) == {"C1"}


def test_csv_export_adds_campaigns_and_fills_evidence_times(case: Path, tmp_path: Path) -> None:
    folder = export(case, "csv", tmp_path / "csv")
    assert sorted(p.name for p in folder.iterdir()) == [
        "accounts.csv",
        "campaigns.csv",
        "evidence.csv",
        "labels.csv",
        "signals.csv",
    ]
    with (folder / "campaigns.csv").open(encoding="utf-8", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert (row["campaign_id"], row["score"], row["tier"], row["likely_inauthentic"]) == (
        "C1",
        "0.87",
        "strong",
        "true",
    )
    assert (row["accounts"], row["posts"], row["platforms"], row["signals"]) == ("3", "8", "x:3", "S1;S2")
    assert row["disarm"] == "T0049.005;T0084.001" and row["hashtags"] == "peace"
    assert row["explanation"].startswith("3 accounts reposted the same 2 posts within 10 s. [S1]")
    with (folder / "evidence.csv").open(encoding="utf-8", newline="") as f:
        times = {(r["signal_id"], r["post_id"]): r["time"] for r in csv.DictReader(f)}
    # S1 gives its own times; S2 gives none per post: they come from the case's posts
    assert times[("S1", "1003")] == "2024-03-04T10:00:09"
    assert times[("S2", "2001")] == "2024-03-04T11:00:00"
    assert times[("S2", "2002")] == "2024-03-04T11:00:00.000250"


def test_campaigns_csv_neutralises_formulas(case: Path, tmp_path: Path) -> None:
    hostile = findings()
    hostile["campaigns"][0]["hashtags"] = [{"tag": "=cmd|' /C calc'!A0", "posts": 1}]
    hostile["campaigns"][0]["explanation"] = ["@SUM(1) said it"]
    write_json_atomic(hostile, findings_path(case))
    folder = export(case, "csv", tmp_path / "csv")
    with (folder / "campaigns.csv").open(encoding="utf-8", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["hashtags"] == "'=cmd|' /C calc'!A0" and row["explanation"] == "'@SUM(1) said it"
    parquet = export(case, "parquet", tmp_path / "pq")
    assert pq.read_table(parquet / "campaigns.parquet")["hashtags"].to_pylist() == ["=cmd|' /C calc'!A0"]


# -- a generated case: every campaign member is a node labelled by its handle ------------------------------


def test_generated_case_graph_files_open_with_handles(small_detected_case: tuple[Path, dict], tmp_path: Path) -> None:
    case, f = small_detected_case
    members = {(a["platform"], a["account_id"]): a for c in f["campaigns"] for a in c["accounts"]}
    assert len(members) >= 20
    nodes, edges = read_gexf_like_gephi(export(case, "gexf", tmp_path / "g.gexf"))
    assert len(edges) == sum(len(c["network"]["edges"]) for c in f["campaigns"])
    for (platform, account_id), a in members.items():
        node = nodes[account_id]  # one platform: the account id is the node id
        assert node["label"] == (a.get("handle") or account_id) and node["platform"] == platform
        assert node["campaign"] and node["role"] == a["role"] and node["posts"] >= 1
    assert any(n["label"] != n["account_id"] for n in nodes.values())  # handles, not numeric ids
    g = ig.Graph.Read_GraphML(str(export(case, "graphml", tmp_path / "g.graphml")))
    assert g.vcount() == len(nodes) and g.ecount() == len(edges)
    assert dict(zip(g.vs["name"], g.vs["label"])) == {n: d["label"] for n, d in nodes.items()}
    assert set(g.es["significant"]) == {True}
