"""Coordination evidence: the significant co-action links inside a cluster, and the clusters themselves.

- ``merge_linked_clusters``: Leiden clusters joined into one campaign when
  many significant edges run between them;
- ``coordination``: the figures and the signal of a cluster's links (how
  many, in which networks, how fast), with example co-action pairs;
- ``network``: the campaign's edges for pictures and graph exports;
- ``periphery``: accounts outside the cluster with several links into it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..detect.coaction import coaction_pairs
from ..duck import registered, scratch
from ..enrich.actions import TEXT_LINK
from ..findings import EVIDENCE_CAP, SignalLog
from .params import CampaignParams
from .view import Account, CaseView, Evidence, Members


def components(items: Iterable[Hashable], pairs: Iterable[tuple]) -> dict:
    """Each item's component root (the smallest member) after joining ``pairs``: union-find, path halving."""
    parent = {x: x for x in items}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def merge_linked_clusters(membership: pa.Table, edges: pa.Table, min_links_per_account: float) -> pa.Table:
    """Join Leiden clusters that share many significant edges: one operation, not two.

    Leiden splits an operation whose sub-crews are densely knit inside and
    less between (the X crew and its TikTok and YouTube copies). Two clusters
    are merged when the significant edges between them number at least
    ``min_links_per_account`` times the smaller cluster's size, so a stray
    chance edge between two real operations never joins them.
    """
    if not membership.num_rows or not edges.num_rows:
        return membership
    cluster = {
        (p, a): c for p, a, c in zip(*(membership[k].to_pylist() for k in ("platform", "account_id", "cluster")))
    }
    size: dict[int, int] = {}
    for c in cluster.values():
        size[c] = size.get(c, 0) + 1
    between: dict[tuple[int, int], int] = {}
    for fp, f, tp, t in zip(*(edges[k].to_pylist() for k in ("from_platform", "from", "to_platform", "to"))):
        a, b = cluster.get((fp, f)), cluster.get((tp, t))
        if a is not None and b is not None and a != b:
            key = (min(a, b), max(a, b))
            between[key] = between.get(key, 0) + 1
    root = components(
        list(size),
        (ab for ab, n in sorted(between.items()) if n >= min_links_per_account * min(size[ab[0]], size[ab[1]])),
    )
    merged = [root[c] for c in membership["cluster"].to_pylist()]
    return membership.set_column(membership.schema.get_field_index("cluster"), "cluster", pa.array(merged, pa.int64()))


def _inside(edges: pa.Table, member_set: set[Account]) -> np.ndarray:
    fp, f, tp, t = (edges[c].to_pylist() for c in ("from_platform", "from", "to_platform", "to"))
    return np.array([(a, b) in member_set and (c, d) in member_set for a, b, c, d in zip(fp, f, tp, t)], dtype=bool)


def coordination_figures(view: CaseView, members: Members) -> tuple[dict, list]:
    """The cluster's significant links per network, their timing, and example co-action post pairs."""
    by_net: dict[str, int] = {}
    deltas: list[float] = []
    qs: list[float] = []
    excess = 0.0
    pairs_out: list = []
    for name, net in view.networks.items():
        sig = net.get("sig_edges")
        if sig is None or not sig.num_rows:
            continue
        inside = _inside(sig, members.account_set)
        if not inside.any():
            continue
        edges = sig.filter(pa.array(inside))
        by_net[name] = edges.num_rows
        deltas += edges["avg_time_delta"].to_pylist()
        qs += edges["q_value"].to_pylist()
        if "expected_objects" in edges.column_names:
            beyond = pc.subtract(edges["n_objects"].cast(pa.float64()), edges["expected_objects"])
            excess += float(pc.sum(pc.max_element_wise(beyond, 0.0)).as_py() or 0.0)
        if len(pairs_out) < EVIDENCE_CAP:
            pairs = coaction_pairs(net["prepared"], edges=edges.slice(0, 20))
            for r in pairs.slice(0, EVIDENCE_CAP).to_pylist():
                pairs_out.append((r.get("platform_a", r.get("platform", "x")), r["post_a"]))
                pairs_out.append((r.get("platform_b", r.get("platform", "x")), r["post_b"]))
    n = len(members.account_set)
    sync = float(np.mean(np.asarray(deltas) <= view.campaign_params.sync_seconds)) if deltas else 0.0
    figs = {
        "accounts": n,
        "significant_edges": sum(by_net.values()),
        "edges_by_network": by_net,
        "synchronous_share": round(sync, 4),
        "median_time_delta_seconds": float(np.median(deltas)) if deltas else 0.0,
        "max_q_value": float(max(qs)) if qs else None,
        "density": round(2 * sum(by_net.values()) / max(n * (n - 1), 1), 4),
        "coactions_beyond_chance": round(excess, 2),
    }
    return figs, pairs_out


def coordination_strength(coactions_beyond_chance: float, full: float) -> float:
    """The coordination part: grows with the co-actions beyond chance, on a log scale, 1 from ``full``.

    Summed over the cluster's significant links: each link's distinct
    co-shared objects less the number its null model expects. Five accounts
    with four links and a handful of co-actions stay low; hundreds of
    accounts with thousands of co-actions reach 1.
    """
    if coactions_beyond_chance <= 0:
        return 0.0
    return float(min(1.0, np.log1p(coactions_beyond_chance) / np.log1p(full)))


def coordination(
    view: CaseView, members: Members, log: SignalLog, params: CampaignParams, origin: str = "coordination"
) -> Evidence:
    """The coordination signal of a cluster (or, for an impersonation group, why it has none)."""
    ev = Evidence()
    accounts = members.accounts
    if origin != "coordination":
        ev.parts["coordination"] = ev.parts["synchrony"] = 0.0
        ev.say(
            f"{len(accounts)} accounts imitating watchlist entities push the same "
            f"web domains; they are grouped by those domains, not by timing."
        )
        return ev
    figs, pairs = coordination_figures(view, members)
    sig = view.params.significance
    nulls = {
        name: (view.networks.get(name, {}).get("null") or {}).get("model", sig.null)
        for name in figs["edges_by_network"]
    }
    test = (
        "co-action within the network's time window, significant after Benjamini-Hochberg "
        f"(alpha {sig.alpha:g}, null '{sig.null}')"
    )
    if any(m != sig.null for m in nulls.values()):
        test += "; nulls per network: " + ", ".join(f"{k} '{m}'" for k, m in nulls.items())
    for name, m in nulls.items():
        why = (view.networks.get(name, {}).get("null") or {}).get("why")
        if m == "reference" and why:
            test += f"; {name}: {why}"
    originals = text_linked_originals(view, members)
    if originals is not None:
        figs["reposts_linked_by_text"] = originals
        test += (
            "; reposts whose original's id the source withheld are linked to it by their normalised text "
            "(the original: the earliest post with that text in the case, where there is one)"
        )
    sid = log.add(
        "coordination",
        f"{len(accounts)} accounts co-acted repeatedly: {figs['significant_edges']:,} account pairs "
        f"shared the same objects within the window more often than the null model allows",
        figs,
        test,
        accounts,
        pairs,
    )
    ev.cite(sid, accounts=accounts)
    ev.parts["coordination"] = round(
        coordination_strength(figs["coactions_beyond_chance"], params.coordination_full), 4
    )
    ev.parts["synchrony"] = figs["synchronous_share"]
    if figs["synchronous_share"] >= params.sync_sentence_share:
        ev.sentences.append(
            {
                "text": f"{figs['synchronous_share']:.0%} of their links are synchronous: the two "
                f"accounts' shares came on average within {params.sync_seconds:g} s of each "
                f"other, again and again.",
                "evidence": [sid],
            }
        )
    nets = ", ".join(f"{k} ({v})" for k, v in figs["edges_by_network"].items())
    ev.sentences.append(
        {
            "text": f"{len(accounts)} accounts form a coordination cluster: "
            f"{figs['significant_edges']:,} significant co-action links ({nets}), "
            f"median gap {figs['median_time_delta_seconds']:.0f} s.",
            "evidence": [sid],
        }
    )
    return ev


def text_linked_originals(view: CaseView, members: Members, limit: int = 10) -> dict | None:
    """The members' reposts that were linked to their original by text (enrich/actions.py), if any.

    Figures: how many such reposts, and for the most reposted texts the
    original (the earliest non-repost post with that normalised text in the
    case) where the case holds it.
    """
    if not any(net.get("reposts_linked_by_text") for net in view.networks.values()):
        return None
    with registered(view.con, _tl_members=members.table()) as con:
        n = con.sql(
            f"""SELECT count(*) FROM actions JOIN _tl_members USING (platform, account_id)
                WHERE object_type = 'repost_of' AND contains(object_id, '{TEXT_LINK}')"""
        ).fetchall()[0][0]
        if not n:
            return None
        rows = con.sql(
            f"""WITH linked AS (
                    SELECT object_id, split_part(object_id, '{TEXT_LINK}', 2) AS fingerprint, count(*) AS reposts
                    FROM actions JOIN _tl_members USING (platform, account_id)
                    WHERE object_type = 'repost_of' AND contains(object_id, '{TEXT_LINK}')
                    GROUP BY ALL ORDER BY reposts DESC, object_id LIMIT {int(limit)}),
                first AS (
                    SELECT object_id AS fingerprint, arg_min([platform, post_id], (created_at, platform, post_id))
                               AS original, min(created_at) AS at
                    FROM actions WHERE object_type = 'text_fingerprint'
                      AND object_id IN (SELECT fingerprint FROM linked)
                    GROUP BY ALL)
                SELECT l.object_id, l.reposts, f.original, f.at
                FROM linked l LEFT JOIN first f USING (fingerprint) ORDER BY l.reposts DESC, l.object_id"""
        ).fetchall()
    return {
        "reposts": int(n),
        "top": [
            {"object_id": o, "member_reposts": int(k), "original": orig, "original_at": at} for o, k, orig, at in rows
        ],
    }


def cap_edges(edges: pa.Table, cap: int, per_account: int = 3) -> pa.Table:
    """At most ``cap`` edges (heaviest first), but every account keeps its ``per_account`` strongest.

    A plain top-``cap`` by weight drops the small, lighter parts of a campaign (its TikTok
    and YouTube members, say) from the picture; an account shown with no link misleads.
    """
    if edges.num_rows <= cap:
        return edges
    with scratch() as con, registered(con, e=edges.append_column("_i", pa.array(np.arange(edges.num_rows)))):
        keep = con.execute(
            f"""WITH ends AS (SELECT _i, from_platform AS p, "from" AS a, weight FROM e
                             UNION ALL SELECT _i, to_platform, "to", weight FROM e),
                    ranked AS (SELECT _i, row_number() OVER (PARTITION BY p, a ORDER BY weight DESC, _i) AS rk
                               FROM ends),
                    best AS (SELECT _i, min(rk) AS rk FROM ranked GROUP BY _i)
               SELECT _i FROM best ORDER BY (rk <= {int(per_account)}) DESC, _i LIMIT {int(cap)}"""
        ).fetchall()
    idx = np.sort(np.array([r[0] for r in keep], dtype=np.int64))
    return edges.take(pa.array(idx))


def network(view: CaseView, members: Members, params: CampaignParams) -> dict:
    """The campaign's significant co-action edges (for the report picture and graph exports)."""
    m = view.multiplex
    if m is None or not m.num_rows:
        return {"edges": [], "truncated": 0}
    e = m.filter(pa.array(_inside(m, members.account_set)))
    kept = cap_edges(e, params.network_edge_cap, params.network_edges_per_account)
    return {
        "edges": [
            [r["from_platform"], r["from"], r["to_platform"], r["to"], r["weight"], r["networks"]]
            for r in kept.to_pylist()
        ],
        "truncated": e.num_rows - kept.num_rows,
    }


def periphery(view: CaseView, members: Members, taken: set[Account], params: CampaignParams) -> dict[Account, int]:
    """Accounts outside the cluster (and every earlier campaign) with several significant links into it."""
    m = view.multiplex
    links: dict[Account, int] = {}
    if m is None or not m.num_rows:
        return links
    member_set = members.account_set
    for fp, f, tp, t in zip(*(m[c].to_pylist() for c in ("from_platform", "from", "to_platform", "to"))):
        a, b = (fp, f), (tp, t)
        if (a in member_set) != (b in member_set):
            out = b if a in member_set else a
            links[out] = links.get(out, 0) + 1
    return {k: v for k, v in links.items() if v >= params.periphery_min_links and k not in taken}
