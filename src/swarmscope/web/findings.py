"""findings.json as the workbench reads it: loaded once, reloaded when a run rewrites it, indexed by id.

Detection writes findings.json atomically (temp file + rename), so a changed
modification time or size means a complete new document. Everything derived
from one version of the findings (indexes, graph layouts, per-campaign SQL
results) is keyed by that version, so a re-run never mixes old and new.
"""

from __future__ import annotations

import json
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..findings import findings_path


@dataclass
class Findings:
    """One version of findings.json with lookups by campaign id, signal id and account."""

    doc: dict[str, Any]
    version: tuple[int, int]  # (mtime_ns, size) of the file it came from
    campaigns: dict[str, dict] = field(default_factory=dict)
    signals: dict[str, dict] = field(default_factory=dict)
    account_campaigns: dict[tuple[str, str], list[dict]] = field(default_factory=dict)
    account_signals: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    derived: dict[Any, Any] = field(default_factory=dict)  # per-version caches (graph layouts, SQL results)

    @classmethod
    def build(cls, doc: dict[str, Any], version: tuple[int, int]) -> Findings:
        f = cls(doc, version)
        f.campaigns = {c["id"]: c for c in doc.get("campaigns", [])}
        f.signals = {s["id"]: s for s in doc.get("signals", [])}
        for c in doc.get("campaigns", []):
            for a in c.get("accounts", []):
                key = (a["platform"], a["account_id"])
                f.account_campaigns.setdefault(key, []).append(
                    {
                        "id": c["id"],
                        "score": c.get("score"),
                        "role": a.get("role"),
                        "persona": a.get("persona"),
                        "signals": a.get("signals", []),
                    }
                )
                for sid in a.get("signals", []):
                    f.account_signals.setdefault(key, []).append(sid)
        for s in doc.get("signals", []):
            for p, a in s.get("accounts", []):
                f.account_signals.setdefault((p, a), []).append(s["id"])
        for key, sids in f.account_signals.items():
            f.account_signals[key] = sorted(set(sids), key=lambda s: (len(s), s))
        return f

    def members(self, campaign: dict, roles: tuple[str, ...] = ("core",)) -> list[tuple[str, str]]:
        return [(a["platform"], a["account_id"]) for a in campaign.get("accounts", []) if a.get("role") in roles]


_LAYOUT_LOCK = threading.Lock()
INTER_CLUSTER_PULL = 0.2  # an edge between communities pulls this much of one inside a community


class FindingsCache:
    """The current findings of a case; ``get()`` reloads when the file changed, None when there are none yet."""

    def __init__(self, case: str | Path) -> None:
        self.path = findings_path(case)
        self._lock = threading.Lock()
        self._current: Findings | None = None

    def get(self) -> Findings | None:
        try:
            st = self.path.stat()
        except OSError:
            return None
        version = (st.st_mtime_ns, st.st_size)
        current = self._current
        if current is not None and current.version == version:
            return current
        with self._lock:
            if self._current is None or self._current.version != version:
                try:
                    doc = json.loads(self.path.read_text(encoding="utf-8"))
                except (OSError, ValueError):
                    return self._current  # being replaced right now, or unreadable: keep what we had
                self._current = Findings.build(doc, version)
            return self._current


def graph_layout(f: Findings, campaign: dict) -> dict[str, Any]:
    """Nodes (every campaign account) and edges (its significant co-action edges) with an igraph layout in [0, 1]
    and a community per node (``communities``; the page's "cluster" colours).

    Each connected component is laid out on its own (Fruchterman-Reingold,
    DrL above 1,000 nodes, seeded: the same findings give the same picture)
    and the components are packed side by side, largest first, with accounts
    that have no edge in the picture on a small grid below: one layout over
    everything pushes those to a ring and squeezes the core into a blob.
    Edges inside a community pull harder than edges between communities, so
    the clusters stay apart at 400+ accounts. Computed once per findings version.
    """
    key = ("graph", campaign["id"])
    if key in f.derived:
        return f.derived[key]
    import igraph as ig

    accounts = campaign.get("accounts", [])
    index: dict[tuple[str, str], int] = {}
    for a in accounts:
        index.setdefault((a["platform"], a["account_id"]), len(index))
    edges, pairs, weights = [], [], []
    for fp, fa, tp, ta, w, nets in campaign.get("network", {}).get("edges", []):
        i, j = index.get((fp, fa)), index.get((tp, ta))
        if i is None or j is None or i == j:
            continue
        pairs.append((i, j))
        weights.append(float(w))
        edges.append(
            {
                "source": f"{fp}:{fa}",
                "target": f"{tp}:{ta}",
                "weight": float(w),
                "network": ",".join(nets) if isinstance(nets, list) else str(nets),
            }
        )
    n = len(index)
    g = ig.Graph(n=n, edges=pairs)
    cluster = communities(g, weights)
    # the layout pulls an edge inside a community harder than one between communities, so each
    # cluster reads as a group at 400+ accounts instead of one hairball
    pull = [1.0 if cluster[i] is not None and cluster[i] == cluster[j] else INTER_CLUSTER_PULL for i, j in pairs]
    xy = _packed_layout(g, pull) if n else np.zeros((0, 2))
    strength = np.zeros(n)
    for (i, j), w in zip(pairs, weights):
        strength[i] += w
        strength[j] += w
    size = 3 + 9 * np.sqrt(strength / strength.max()) if n and strength.max() > 0 else np.full(n, 3.0)
    nodes = []
    seen: set = set()
    for a in accounts:
        key_a = (a["platform"], a["account_id"])
        if key_a in seen:
            continue
        seen.add(key_a)
        i = index[key_a]
        nodes.append(
            {
                "key": f"{a['platform']}:{a['account_id']}",
                "label": a.get("handle") or a.get("display_name") or a["account_id"],
                "platform": a["platform"],
                "role": a.get("role"),
                "persona": a.get("persona"),
                "x": round(float(xy[i, 0]), 5),
                "y": round(float(xy[i, 1]), 5),
                "size": round(float(size[i]), 2),
                "cluster": cluster[i],
            }
        )
    result = {
        "nodes": nodes,
        "edges": edges,
        "truncated": campaign.get("network", {}).get("truncated", 0),
        "clusters": max((c for c in cluster if c is not None), default=-1) + 1,
    }
    f.derived[key] = result
    return result


def communities(g: Any, weights: list[float]) -> list[int | None]:
    """Each node's community on the weighted co-action graph (Louvain, igraph's community_multilevel,
    seeded: the same findings give the same clusters), numbered by size, largest 0; None for an
    account without an edge (a community of one says nothing)."""
    import igraph as ig

    n = g.vcount()
    if n == 0 or g.ecount() == 0:
        return [None] * n
    simple = g.copy()
    simple.es["weight"] = weights or [1.0] * g.ecount()
    simple.simplify(combine_edges={"weight": "sum"})  # a pair on several networks: one edge, summed
    with _LAYOUT_LOCK:  # igraph's random generator is process-wide: seed it for this call only
        ig.set_random_number_generator(random.Random(42))
        try:
            parts = simple.community_multilevel(weights="weight")
        finally:
            ig.set_random_number_generator(random)
    groups = sorted((sorted(c) for c in parts if len(c) > 1), key=lambda c: (-len(c), c[0]))
    out: list[int | None] = [None] * n
    for k, members in enumerate(groups):
        for v in members:
            out[v] = k
    return out


def _component_layout(g: Any, weights: list[float]) -> np.ndarray:
    """Seeded layout of one connected graph, scaled to a box of side ~sqrt(nodes)."""
    import igraph as ig

    n = g.vcount()
    if n == 1:
        return np.zeros((1, 2))
    start = np.random.default_rng(42).uniform(-1, 1, size=(n, 2)).tolist()
    with _LAYOUT_LOCK:  # igraph's random generator is process-wide: seed it for this layout only
        ig.set_random_number_generator(random.Random(42))
        try:
            if n > 1000:
                layout = g.layout_drl(seed=start, weights=weights or None)
            else:
                layout = g.layout_fruchterman_reingold(seed=start, niter=500, weights=weights or None)
        finally:
            ig.set_random_number_generator(random)
    xy = np.asarray(layout.coords, dtype=float).reshape(n, 2)
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    xy = (xy - lo) / np.where(span > 0, span, 1.0)
    return xy * max(np.sqrt(n), 1.5)


def _packed_layout(g: Any, weights: list[float]) -> np.ndarray:
    """Components laid out apart and packed in shelves; isolated nodes on a grid below; all in [0, 1]."""
    n = g.vcount()
    xy = np.zeros((n, 2))
    comps = sorted((list(c) for c in g.connected_components()), key=lambda c: (-len(c), c[0]))
    groups = [c for c in comps if len(c) > 1]
    singles = [c[0] for c in comps if len(c) == 1]
    eid = {e.tuple: w for e, w in zip(g.es, weights)} if weights else {}
    boxes = []
    for c in groups:  # per component: few
        sub = g.induced_subgraph(c)
        sw = (
            [eid.get((c[e.source], c[e.target]), eid.get((c[e.target], c[e.source]), 1.0)) for e in sub.es]
            if eid
            else []
        )
        boxes.append((c, _component_layout(sub, sw)))
    total = sum(float(np.prod(b[1].max(axis=0) + 1.0)) for b in boxes) + len(singles)
    width = max(np.sqrt(total) * 1.3, max((b[1][:, 0].max() + 1.0 for b in boxes), default=1.0))
    x = y = shelf = 0.0
    for c, local_xy in boxes:
        w, h = local_xy.max(axis=0) + 1.0
        if x > 0 and x + w > width:
            x, y, shelf = 0.0, y + shelf, 0.0
        xy[c] = local_xy + [x, y]
        x += w
        shelf = max(shelf, h)
    y += shelf + (0.5 if boxes else 0.0)
    cols = max(int(width), 1)
    for k, v in enumerate(singles):
        xy[v] = [(k % cols) * 1.0, y + (k // cols) * 1.0]
    lo, span = xy.min(axis=0), np.ptp(xy, axis=0)
    scale = max(float(span.max()), 1e-9)
    return (xy - lo) / scale
