"""Clusters of coordinating accounts, their statistics, and graph files for Gephi and friends.

Leiden (Traag, Waltman & van Eck 2019; igraph + leidenalg) runs on the
significant co-action edges only, so clusters are built from evidence that
survived the null model, not from every chance co-share. The partition is
seeded: the same edges and parameters give the same clusters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb
import igraph as ig
import leidenalg
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .duck import registered, scratch

EDGE_SETS = ("significant", "weight_threshold", "all")


@dataclass(frozen=True)
class ClusterParams:
    """- ``edges_used`` "significant": clusters rest on edges that beat the
      null model (significance.py); "weight_threshold" is CooRTweet's
      percentile subgraph; "all" every edge.
    - ``resolution`` 1.0: plain modularity (RB configuration model at 1);
      higher splits clusters finer.
    - ``seed`` 42: Leiden is randomised; a fixed seed makes runs reproducible.
    - ``min_size`` 2: a pair is the smallest group that can coordinate.
    """

    edges_used: str = "significant"
    resolution: float = 1.0
    seed: int = 42
    min_size: int = 2

    def __post_init__(self) -> None:
        if self.edges_used not in EDGE_SETS:
            raise ValueError(f"edges_used must be one of {', '.join(EDGE_SETS)}, got {self.edges_used!r}")
        if not self.resolution > 0:
            raise ValueError(f"resolution must be > 0, got {self.resolution!r}")
        if self.min_size < 2:
            raise ValueError(f"min_size must be >= 2, got {self.min_size!r}")


@dataclass(frozen=True)
class Clusters:
    membership: pa.Table  # platform, account_id, cluster
    stats: pa.Table  # one row per cluster


def _platforms(edges: pa.Table) -> tuple[pa.ChunkedArray | pa.Array, pa.ChunkedArray | pa.Array]:
    n = edges.num_rows
    if "from_platform" in edges.column_names:
        return edges["from_platform"], edges["to_platform"]
    other = pa.array(["other"] * n, pa.string())
    return other, other


def select_edges(edges: pa.Table, edges_used: str) -> pa.Table:
    """The edges clusters are built on."""
    if edges_used == "all":
        return edges
    if edges_used not in edges.column_names:
        hint = " (compute edges with significance)" if edges_used == "significant" else ""
        raise ValueError(f"edges have no {edges_used!r} column{hint}; use edges_used='all' or another edge set")
    return edges.filter(pc.equal(edges[edges_used].cast(pa.int8()), 1))


def _node_index(edges: pa.Table) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Distinct (platform, account_id) nodes, and each edge's endpoint indices."""
    fp, tp = _platforms(edges)

    def flat(col: pa.ChunkedArray | pa.Array) -> pa.Array:
        col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        return col.cast(pa.string())

    both = pa.table(
        {
            "platform": pa.concat_arrays([flat(fp), flat(tp)]),
            "account_id": pa.concat_arrays([flat(edges["from"]), flat(edges["to"])]),
        }
    )
    key = pc.binary_join_element_wise(both["platform"], both["account_id"], "\x1f").combine_chunks().dictionary_encode()
    idx = key.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    n = edges.num_rows
    first = np.unique(idx, return_index=True)[1]
    nodes = both.take(pa.array(first))
    return nodes, idx[:n], idx[n:]


def clusters(
    edges: pa.Table,
    pairs: pa.Table | None = None,
    params: ClusterParams | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Clusters:
    """Leiden communities on the chosen edges, with per-cluster statistics.

    ``pairs`` (coaction_pairs for the same edges) adds what only the evidence
    knows: posts, objects, time span and median time delta inside each cluster.
    ``con``: a DuckDB connection for the statistics; default: a scratch connection.
    """
    params = params or ClusterParams()
    used = select_edges(edges, params.edges_used)
    nodes, src, dst = _node_index(used)
    g = ig.Graph(n=nodes.num_rows, edges=list(zip(src.tolist(), dst.tolist())), directed=False)
    weights = used["weight"].to_numpy().astype(float) if used.num_rows else np.zeros(0)
    g.es["weight"] = weights.tolist()
    if used.num_rows:
        part = leidenalg.find_partition(
            g,
            leidenalg.RBConfigurationVertexPartition,
            weights="weight",
            resolution_parameter=params.resolution,
            seed=params.seed,
            n_iterations=-1,
        )
        raw = np.asarray(part.membership, np.int64)
    else:
        raw = np.zeros(0, np.int64)
    # number clusters by size (largest first), then by their first node, for stable ids
    sizes = np.bincount(raw) if len(raw) else np.zeros(0, np.int64)
    first_node = np.full(len(sizes), len(raw))
    np.minimum.at(first_node, raw, np.arange(len(raw)))
    keep = sizes >= params.min_size
    order = np.lexsort((first_node, -sizes))
    order = order[keep[order]]
    new_id = np.full(len(sizes), -1, np.int64)
    new_id[order] = np.arange(len(order))
    cluster = new_id[raw] if len(raw) else raw
    in_cluster = cluster >= 0
    membership = pa.table(
        {
            "platform": nodes["platform"].filter(pa.array(in_cluster)),
            "account_id": nodes["account_id"].filter(pa.array(in_cluster)),
            "cluster": pa.array(cluster[in_cluster], pa.int64()),
        }
    ).sort_by([("cluster", "ascending"), ("account_id", "ascending")])
    return Clusters(membership, _stats(used, src, dst, cluster, membership, pairs, con))


def _stats(
    used: pa.Table,
    src: np.ndarray,
    dst: np.ndarray,
    cluster: np.ndarray,
    membership: pa.Table,
    pairs: pa.Table | None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> pa.Table:
    intra = (cluster[src] == cluster[dst]) & (cluster[src] >= 0) if len(src) else np.zeros(0, bool)
    intra_edges = pa.table(
        {
            "cluster": pa.array(cluster[src][intra] if len(src) else np.zeros(0, np.int64), pa.int64()),
            "weight": pa.array(used["weight"].to_numpy()[intra] if len(src) else np.zeros(0, np.int64), pa.int64()),
        }
    )
    base = """
        SELECT m.cluster, count(*) AS n_accounts, list(DISTINCT m.platform ORDER BY m.platform) AS platforms,
               coalesce(e.n_edges, 0) AS n_edges, coalesce(e.total_weight, 0) AS total_weight,
               CASE WHEN count(*) > 1 THEN 2.0 * coalesce(e.n_edges, 0) / (count(*) * (count(*) - 1)) END AS density
        FROM _members m
        LEFT JOIN (SELECT cluster, count(*) AS n_edges, sum(weight) AS total_weight FROM _edges GROUP BY cluster) e
          USING (cluster)
        GROUP BY m.cluster, e.n_edges, e.total_weight
    """
    with scratch(con) as c, registered(c, _members=membership, _edges=intra_edges):
        if pairs is None:
            return c.sql(base + " ORDER BY cluster").to_arrow_table()
        evidence = pairs.select(
            [
                "object_type",
                "object_id",
                "platform_a",
                "account_a",
                "post_a",
                "time_a",
                "platform_b",
                "account_b",
                "post_b",
                "time_b",
                "delta",
            ]
        )
        with registered(c, _pairs=evidence):
            return c.sql(_with_evidence(base)).to_arrow_table()


def _with_evidence(base: str) -> str:
    """``base`` (per-cluster figures from the edges) with what the pairs registered as _pairs add."""
    return f"""
        WITH p AS (
            SELECT ma.cluster, p.* FROM _pairs p
            JOIN _members ma ON ma.platform = p.platform_a AND ma.account_id = p.account_a
            JOIN _members mb ON mb.platform = p.platform_b AND mb.account_id = p.account_b
            WHERE ma.cluster = mb.cluster
        ), posts AS (
            SELECT cluster, count(DISTINCT (platform, post)) AS n_posts FROM (
                SELECT cluster, platform_a AS platform, post_a AS post FROM p
                UNION ALL SELECT cluster, platform_b, post_b FROM p) GROUP BY cluster
        ), ev AS (
            SELECT cluster, count(*) AS n_pairs, count(DISTINCT (object_type, object_id)) AS n_objects,
                   list(DISTINCT object_type ORDER BY object_type) AS object_types,
                   least(min(time_a), min(time_b)) AS first_time, greatest(max(time_a), max(time_b)) AS last_time,
                   median(delta) AS median_time_delta
            FROM p GROUP BY cluster
        )
        SELECT b.*, coalesce(ev.n_pairs, 0) AS n_pairs, coalesce(posts.n_posts, 0) AS n_posts,
               coalesce(ev.n_objects, 0) AS n_objects, ev.object_types, ev.first_time, ev.last_time,
               epoch(ev.last_time) - epoch(ev.first_time) AS time_span_s, ev.median_time_delta
        FROM ({base}) b LEFT JOIN ev USING (cluster) LEFT JOIN posts USING (cluster)
        ORDER BY cluster
    """


# -- graph files -------------------------------------------------------------


# XML 1.0 carries tab, newline, carriage return and U+0020 up, except surrogates, U+FFFE and U+FFFF.
# Anything else in an id or a text (a control character in a handle) would make the file unreadable
# (GEXF) or fail the writer (GraphML): it is written as a visible escape, \x01 or \ufffe.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_XML_ESCAPES = {c: f"\\x{c:02x}" for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {
    c: f"\\u{c:04x}" for c in (*range(0xD800, 0xE000), 0xFFFE, 0xFFFF)
}


def _xml_text(values: list) -> list:
    """``values`` with the characters XML 1.0 forbids escaped (one C-speed scan when there are none)."""
    strings = [v for v in values if isinstance(v, str)]
    if not _XML_FORBIDDEN.search("".join(strings)):
        return values
    return [v.translate(_XML_ESCAPES) if isinstance(v, str) and _XML_FORBIDDEN.search(v) else v for v in values]


def _node_ids(nodes: pa.Table) -> list[str]:
    plats = nodes["platform"].to_pylist()
    accs = nodes["account_id"].to_pylist()
    ids = accs if len(set(plats)) <= 1 else [f"{p}:{a}" for p, a in zip(plats, accs)]
    safe = _xml_text(ids)
    if safe is not ids and len(set(safe)) < len(safe):  # an escape met an id written that way: keep them apart
        seen: dict[str, int] = {}
        for i, v in enumerate(safe):
            seen[v] = seen.get(v, 0) + 1
            if seen[v] > 1:
                safe[i] = f"{v} #{seen[v]}"
    return safe


def _edge_attrs(edges: pa.Table) -> dict[str, list[object]]:
    skip = {"from", "to", "from_platform", "to_platform"}
    attrs = {}
    for name in edges.column_names:
        col = edges[name]
        if name in skip or not (
            pa.types.is_integer(col.type)
            or pa.types.is_floating(col.type)
            or pa.types.is_boolean(col.type)
            or pa.types.is_string(col.type)
        ):
            continue
        attrs[name] = _xml_text(col.to_pylist()) if pa.types.is_string(col.type) else col.to_pylist()
    return attrs


def _cluster_of(nodes: pa.Table, membership: pa.Table | None) -> list[int]:
    if membership is None:
        return [-1] * nodes.num_rows
    found = {
        (p, a): c
        for p, a, c in zip(
            membership["platform"].to_pylist(), membership["account_id"].to_pylist(), membership["cluster"].to_pylist()
        )
    }
    return [found.get((p, a), -1) for p, a in zip(nodes["platform"].to_pylist(), nodes["account_id"].to_pylist())]


NODE_KEYS = ("platform", "account_id")
_WRITTEN_NODE_ATTRS = {*NODE_KEYS, "name", "label", "cluster"}  # every graph file's own node attributes


def _graph_nodes(edges: pa.Table, accounts: pa.Table | None) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """The nodes of a graph file and each edge's endpoint indices.

    The edges' endpoints come first, in ``_node_index`` order; then the
    ``accounts`` rows no edge touches (a campaign member without a link is
    still a node). Every other column of ``accounts`` (handle, display_name,
    campaign, role, ...) joins its row by (platform, account_id); an account
    listed twice keeps its first row.
    """
    nodes, src, dst = _node_index(edges)
    if accounts is None:
        return nodes, src, dst
    missing = [k for k in NODE_KEYS if k not in accounts.column_names]
    if missing:
        raise ValueError(f"node attributes need columns {', '.join(NODE_KEYS)}; missing {', '.join(missing)}")
    extra = accounts.append_column("_row", pa.array(np.arange(accounts.num_rows, dtype=np.int64)))
    nodes = nodes.append_column("_i", pa.array(np.arange(nodes.num_rows, dtype=np.int64)))
    with scratch() as c, registered(c, _nodes=nodes, _accounts=extra):
        joined = c.sql(
            """
            WITH acc AS (
                SELECT * EXCLUDE (platform, account_id), CAST(platform AS VARCHAR) AS platform,
                       CAST(account_id AS VARCHAR) AS account_id
                FROM _accounts QUALIFY row_number() OVER (PARTITION BY platform, account_id ORDER BY _row) = 1
            )
            SELECT platform, account_id, acc.* EXCLUDE (platform, account_id, _row)
            FROM _nodes n FULL JOIN acc USING (platform, account_id)
            ORDER BY n._i NULLS LAST, acc._row
            """
        ).to_arrow_table()
    return joined, src, dst


def _node_label(nodes: pa.Table) -> list[str]:
    """What Gephi shows: the handle where there is one, else the account id (control characters escaped)."""
    labels = nodes["account_id"]
    if "handle" in nodes.column_names:
        handle = nodes["handle"].cast(pa.string())
        labels = pc.if_else(
            pc.greater(pc.fill_null(pc.utf8_length(pc.utf8_trim_whitespace(handle)), 0), 0), handle, labels
        )
    return _xml_text(labels.to_pylist())


def _node_attrs(nodes: pa.Table) -> dict[str, tuple[str, list[object]]]:
    """Each attribute column of ``nodes`` (beyond the keys) as (kind, values): kind "str", "int", "float" or "bool"."""
    attrs: dict[str, tuple[str, list[object]]] = {}
    for name in nodes.column_names:
        col = nodes[name]
        if name in _WRITTEN_NODE_ATTRS:
            continue
        if pa.types.is_dictionary(col.type):
            col = col.cast(col.type.value_type)
        if pa.types.is_boolean(col.type):
            kind = "bool"
        elif pa.types.is_integer(col.type):
            kind = "int"
        elif pa.types.is_floating(col.type) or pa.types.is_decimal(col.type):
            kind, col = "float", col.cast(pa.float64())
        elif pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
            kind = "str"
        elif pa.types.is_timestamp(col.type) or pa.types.is_date(col.type):
            kind, col = "str", col.cast(pa.string())
        else:
            continue  # lists and structs have no place in a graph file
        values = col.to_pylist()
        attrs[name] = (kind, _xml_text(values) if kind == "str" else values)
    return attrs


def _present(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value))


def write_graphml(
    edges: pa.Table, path: str | Path, membership: pa.Table | None = None, accounts: pa.Table | None = None
) -> None:
    """Undirected GraphML for Gephi, Cytoscape and igraph.

    Nodes carry ``label`` (the handle, else the account id: Gephi's label),
    account_id, platform, cluster (-1 = none) and every column of ``accounts``
    (platform, account_id and attributes such as handle, display_name,
    campaign, role, tier, score, posts); edges every numeric, boolean and text
    column. GraphML has no null: an absent number is NaN, an absent text "".
    """
    nodes, src, dst = _graph_nodes(edges, accounts)
    g = ig.Graph(n=nodes.num_rows, edges=list(zip(src.tolist(), dst.tolist())), directed=False)
    g.vs["name"] = _node_ids(nodes)
    g.vs["label"] = _node_label(nodes)
    g.vs["account_id"] = _xml_text(nodes["account_id"].to_pylist())
    g.vs["platform"] = _xml_text(nodes["platform"].to_pylist())
    g.vs["cluster"] = _cluster_of(nodes, membership)
    for name, (kind, values) in _node_attrs(nodes).items():
        if any(v is None for v in values):
            blank = {"str": "", "bool": None}.get(kind, float("nan"))
            if kind == "bool":  # no null boolean in GraphML: write it as text
                values = ["" if v is None else str(v).lower() for v in values]
            else:
                values = [blank if v is None else v for v in values]
        g.vs[name] = values
    for name, values in _edge_attrs(edges).items():
        if any(v is None for v in values):  # GraphML has no null; NaN for numbers, "" for text
            values = [("" if edges[name].type == pa.string() else float("nan")) if v is None else v for v in values]
        g.es[name] = values
    g.write_graphml(str(path))


def write_gexf(
    edges: pa.Table, path: str | Path, membership: pa.Table | None = None, accounts: pa.Table | None = None
) -> None:
    """GEXF 1.2 for Gephi (networkx writer); absent values are left out rather than invented.

    Node ``label`` is the handle (else the account id); nodes and edges carry
    the same attributes as in ``write_graphml``.
    """
    import networkx as nx

    nodes, src, dst = _graph_nodes(edges, accounts)
    ids = _node_ids(nodes)
    g = nx.Graph()
    node_attrs = _node_attrs(nodes)
    for i, (node, label, acc, plat, c) in enumerate(
        zip(
            ids,
            _node_label(nodes),
            _xml_text(nodes["account_id"].to_pylist()),
            _xml_text(nodes["platform"].to_pylist()),
            _cluster_of(nodes, membership),
        )
    ):
        data = {n: values[i] for n, (_, values) in node_attrs.items() if _present(values[i])}
        g.add_node(node, label=label, account_id=acc, platform=plat, cluster=c, **data)
    attrs = _edge_attrs(edges)
    names = list(attrs)
    for i, (s, d) in enumerate(zip(src.tolist(), dst.tolist())):
        data = {n: attrs[n][i] for n in names if _present(attrs[n][i])}
        g.add_edge(ids[s], ids[d], **data)
    nx.write_gexf(g, str(path))
