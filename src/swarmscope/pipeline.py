"""``swarmscope detect``: the whole pipeline on a case, from actions to findings.json.

1. near-duplicate texts and reused images become actions (duplicates.py);
2. one co-action network per family of object types (``NetworkSpec``), each
   with per-edge significance; their significant edges are joined into one
   multiplex network and clustered (Leiden, graph.py);
3. behavioural signals on the whole case (signals.py), then per cluster;
4. clusters of at least ``min_accounts`` become campaigns, scored and
   explained (campaigns.py), with DISARM techniques (report/disarm.py);
5. the search index of the posts is brought up to date (search.py);
6. findings.json is written next to the case (schema: docs/findings-schema.md),
   atomically, and the run is recorded in the case's ``runs`` table.

The analysts' ``labels`` are never touched: they outlive every re-run.

Only this module and the library functions it calls read the case; the
detectors stay pure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import __version__, graph
from .campaigns import HOW_PARTS, CampaignParams, score
from .detect.bursts import burst_events, find_bursts
from .detect.coaction import CoactionParams, coaction_edges, coaction_pairs, prepare_actions
from .detect.holidays_signal import holiday_fingerprint
from .detect.rhythm import operator_rhythm
from .detect.significance import SignificanceParams
from .enrich.text import normalise
from .export import findings_path  # noqa: F401 - public here too (pipeline.findings_path)
from .jsonable import jsonable
from .signals import POST_COLUMNS, SignalsParams, read_watchlist, signals_from_tables
from .store import Case

SCHEMA_VERSION = "1.0"
EVIDENCE_CAP = 200  # evidence post ids kept per signal in findings.json (counts stay exact)
NETWORK_EDGE_CAP = 5000
MIN_SHIFT_USES, MIN_SHIFT_ACCOUNTS = 20, 5  # a narrative shift needs this many hashtag uses and accounts that week  # edges per campaign kept for pictures and graph exports (the heaviest)


@dataclass(frozen=True)
class NetworkSpec:
    """One co-action network: which objects, within how many seconds, how much repetition.

    Defaults (``DetectParams.networks``) and why:
    - reposts within 60 s (CooRTweet's and CooRnet's common setting; the fast
      amplifier networks of takedown reports act within seconds);
    - the same text (exact fingerprint or near-duplicate cluster) within
      15 minutes: copy-paste crews post a message over minutes, not seconds;
    - the same canonical URL within 5 minutes.
    - the same TikTok sound within 10 minutes.
    Hashtags, domains and mentions are left out by default: a crowd at a match
    co-uses a hashtag within seconds by the thousand, and a domain joins every
    reader of one news site. Add them in a config file when the case needs it.
    """

    name: str
    object_types: tuple[str, ...]
    time_window: float
    min_participation: int = 2
    null: str | None = None  # significance null for this network; None = SignificanceParams.null


DEFAULT_NETWORKS = (
    NetworkSpec("reposts", ("repost_of",), 60.0),
    # Independent authors rarely write the same text at all, and a copy-paste
    # crew is most of a case's duplicate texts, so their pooled timing would
    # be the crew's own: judge text against uniform timing (significance.py).
    NetworkSpec("same_text", ("text_fingerprint", "near_dup_cluster"), 900.0, null="uniform"),
    NetworkSpec("links", ("url",), 300.0),
    # TikTok: the same sound used within minutes by the same accounts, again and
    # again, is a known coordination trace; a viral sound used by many over
    # days is not (pooled null, and repetition is required).
    NetworkSpec("sounds", ("sound",), 600.0),
)


@dataclass(frozen=True)
class DetectParams:
    networks: tuple[NetworkSpec, ...] = DEFAULT_NETWORKS
    significance: SignificanceParams = field(default_factory=SignificanceParams)
    clusters: graph.ClusterParams = field(default_factory=graph.ClusterParams)
    campaigns: CampaignParams = field(default_factory=CampaignParams)
    signals: SignalsParams = field(default_factory=SignalsParams)
    duplicates: bool = True
    duplicate_threshold: float = 0.8


def load_config(path: str | Path) -> DetectParams:
    """DetectParams from a TOML file; unknown keys are errors naming the file and key.

    ``[[networks]]`` tables (name, object_types, time_window, min_participation),
    ``[significance]``, ``[clusters]``, ``[campaigns]`` sections set the
    dataclass fields of the same names; ``duplicates`` and
    ``duplicate_threshold`` are top-level keys.
    """
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise ValueError(f"{path}: cannot read config ({e})") from e
    p = DetectParams()
    changes: dict[str, Any] = {}
    for key, value in data.items():
        if key == "networks":
            try:
                changes["networks"] = tuple(
                    NetworkSpec(n["name"], tuple(n["object_types"]), float(n["time_window"]),
                                int(n.get("min_participation", 2)), n.get("null")) for n in value)
            except (KeyError, TypeError) as e:
                raise ValueError(f"{path}: each [[networks]] needs name, object_types, time_window ({e})") from e
        elif key in ("significance", "clusters", "campaigns"):
            current = getattr(p, key)
            allowed = {f.name for f in fields(current)}
            bad = set(value) - allowed
            if bad:
                raise ValueError(f"{path}: unknown key(s) {sorted(bad)} in [{key}]; allowed: {sorted(allowed)}")
            changes[key] = replace(current, **value)
        elif key in ("duplicates", "duplicate_threshold"):
            changes[key] = value
        else:
            raise ValueError(f"{path}: unknown key {key!r}")
    return replace(p, **changes)


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
    cluster = {(p, a): c for p, a, c in zip(*(membership[k].to_pylist() for k in ("platform", "account_id", "cluster")))}
    size: dict[int, int] = {}
    for c in cluster.values():
        size[c] = size.get(c, 0) + 1
    between: dict[tuple[int, int], int] = {}
    for fp, f, tp, t in zip(*(edges[k].to_pylist() for k in ("from_platform", "from", "to_platform", "to"))):
        a, b = cluster.get((fp, f)), cluster.get((tp, t))
        if a is not None and b is not None and a != b:
            key = (min(a, b), max(a, b))
            between[key] = between.get(key, 0) + 1
    root = _components(list(size), (ab for ab, n in sorted(between.items())
                                    if n >= min_links_per_account * min(size[ab[0]], size[ab[1]])))
    merged = [root[c] for c in membership["cluster"].to_pylist()]
    return membership.set_column(membership.schema.get_field_index("cluster"), "cluster", pa.array(merged, pa.int64()))


def _components(items, pairs) -> dict:
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
    return {x: find(x) for x in items}


Progress = Callable[[str, int, int], None]


def detect(case: str | Path, params: DetectParams | None = None, watchlist: str | Path | None = None,
           output: str | Path | None = None, progress: Progress | None = None) -> dict:
    """Run the pipeline on ``case``; write and return findings (a findings.json dict).

    ``progress(step, done, total)`` is called as each step starts (``done``
    steps finished of ``total``) and once more at the end with done == total.
    The search index is rebuilt in the same run (search.build_index); the
    analysts' labels are never touched. findings.json is written to a
    temporary file in the same folder and renamed over the old one, so a
    reader sees the previous findings or the new ones, never half a file.
    """
    params = params or DetectParams()
    case = Path(case)
    if not case.exists():
        raise FileNotFoundError(f"{case}: no such case file")
    wl = read_watchlist(watchlist) if watchlist is not None else None
    steps = _Steps(progress, 4 + len(params.networks) + (1 if params.duplicates else 0))
    dup_summary = None
    if params.duplicates:
        from .duplicates import duplicates as find_duplicates

        steps("near-duplicate texts and images")
        clusters_found = find_duplicates(case, threshold=params.duplicate_threshold)
        dup_summary = {"clusters": clusters_found.num_rows}
    out = Path(output) if output else findings_path(case)
    with Case(case) as db:
        run_id = db.begin_run("detect", {"params": jsonable(params), "watchlist": str(watchlist) if watchlist else None})
        status = "failed"
        try:
            findings = _detect(db, params, wl, run_id, dup_summary, steps)
            steps("search index")
            from .search import build_index

            build_index(db.con)
            steps("findings.json")
            write_json_atomic(findings, out)
            status = "ok"
        finally:
            db.end_run(run_id, [], status)
    steps.finish()
    findings["_path"] = str(out)
    return findings


class _Steps:
    """Calls ``progress(label, done, total)`` as each step starts; a no-op without a callback."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, -1

    def __call__(self, label: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(label, min(self.done, self.total), self.total)

    def finish(self) -> None:
        self.done = self.total
        if self.progress is not None:
            self.progress("done", self.total, self.total)


def write_json_atomic(document: dict, path: str | Path) -> Path:
    """``document`` as UTF-8 JSON at ``path``, via a temporary file in the same folder and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(document, f, ensure_ascii=False, indent=1, allow_nan=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _cap_edges(edges: pa.Table, cap: int, per_account: int = 3) -> pa.Table:
    """At most ``cap`` edges (heaviest first), but every account keeps its ``per_account`` strongest.

    A plain top-``cap`` by weight drops the small, lighter parts of a campaign (its TikTok
    and YouTube members, say) from the picture; an account shown with no link misleads.
    """
    if edges.num_rows <= cap:
        return edges
    import duckdb

    con = duckdb.connect()
    con.register("e", edges.append_column("_i", pa.array(np.arange(edges.num_rows))))
    keep = con.execute(
        f"""WITH ends AS (SELECT _i, from_platform AS p, "from" AS a, weight FROM e
                         UNION ALL SELECT _i, to_platform, "to", weight FROM e),
                ranked AS (SELECT _i, row_number() OVER (PARTITION BY p, a ORDER BY weight DESC, _i) AS rk FROM ends),
                best AS (SELECT _i, min(rk) AS rk FROM ranked GROUP BY _i)
           SELECT _i FROM best ORDER BY (rk <= {int(per_account)}) DESC, _i LIMIT {int(cap)}"""
    ).fetchall()
    con.close()
    idx = np.sort(np.array([r[0] for r in keep], dtype=np.int64))
    return edges.take(pa.array(idx))


# -- the pipeline ----------------------------------------------------------------


def _detect(db: Case, params: DetectParams, watchlist: pa.Table | None, run_id: str,
            dup_summary: dict | None, steps: _Steps | None = None) -> dict:
    steps = steps or _Steps(None, 0)
    con = db.con
    posts = con.sql(f"SELECT {', '.join(POST_COLUMNS)}, lang FROM posts").to_arrow_table()
    accounts = con.sql("SELECT * FROM accounts").to_arrow_table()
    norm = normalise(posts["text"])

    # 2. networks
    networks: dict[str, dict] = {}
    sig_parts = []
    for spec in params.networks:
        steps(f"network: {spec.name}")
        actions = con.sql(
            "SELECT platform, account_id, post_id, created_at, object_type, object_id FROM actions "
            f"WHERE object_type IN ({', '.join(repr(t) for t in spec.object_types)}) "
            # the stored order depends on the ingest's threads; results must not
            "ORDER BY platform, post_id, object_type, object_id"
        ).to_arrow_table()
        cp = CoactionParams(time_window=spec.time_window, min_participation=spec.min_participation)
        if actions.num_rows == 0:
            networks[spec.name] = {"actions": 0, "edges": 0, "significant": 0}
            continue
        prepared = prepare_actions(actions, cp)
        sp = replace(params.significance, null=spec.null) if spec.null else params.significance
        edges = coaction_edges(prepared, significance=sp)
        sig = edges.filter(pc.equal(edges["significant"], True))
        networks[spec.name] = {"actions": actions.num_rows, "edges": edges.num_rows,
                               "significant": sig.num_rows, "prepared": prepared, "sig_edges": sig, "spec": spec}
        if sig.num_rows:
            sig_parts.append(pa.table({
                "from": sig["from"], "to": sig["to"], "from_platform": sig["from_platform"],
                "to_platform": sig["to_platform"], "weight": sig["weight"].cast(pa.float64()),
                "n_objects": sig["n_objects"], "q_value": sig["q_value"], "avg_time_delta": sig["avg_time_delta"],
                "network": pa.array([spec.name] * sig.num_rows, pa.string()), "significant": sig["significant"],
            }))
    if sig_parts:
        con.register("_sig", pa.concat_tables(sig_parts))
        multiplex = con.sql(
            """SELECT "from", "to", from_platform, to_platform, sum(weight) AS weight, sum(n_objects) AS n_objects,
                      min(q_value) AS q_value, avg(avg_time_delta) AS avg_time_delta,
                      list(DISTINCT network ORDER BY network) AS networks, TRUE AS significant
               FROM _sig GROUP BY ALL ORDER BY weight DESC, "from", "to" """).to_arrow_table()
        con.unregister("_sig")
        found = graph.clusters(multiplex, params=params.clusters)
        membership = merge_linked_clusters(found.membership, multiplex, params.campaigns.merge_links)
    else:
        multiplex = None
        membership = pa.table({"platform": pa.array([], pa.string()), "account_id": pa.array([], pa.string()),
                               "cluster": pa.array([], pa.int64())})

    # 3. signals on the whole case (population references: batches, cadence, runs, impersonation)
    steps("signals")
    whole = signals_from_tables(posts, accounts, watchlist, params.signals, "all")

    # 4. campaigns
    steps("campaigns")
    builder = _Builder(posts, norm, accounts, whole, params, con, multiplex)
    sizes = pc.value_counts(membership["cluster"]).to_pylist() if membership.num_rows else []
    big = sorted(s["values"] for s in sizes if s["counts"] >= params.campaigns.min_accounts)
    small = [s for s in sizes if s["counts"] < params.campaigns.min_accounts]
    for cluster in big:
        rows = membership.filter(pc.equal(membership["cluster"], cluster))
        members = list(zip(rows["platform"].to_pylist(), rows["account_id"].to_pylist()))
        builder.campaign(members, networks, multiplex)
    for members in builder.impersonation_groups(params.campaigns.min_impersonators):
        builder.campaign(members, networks, multiplex, origin="impersonation")
    builder.finish()

    return {
        "schema_version": SCHEMA_VERSION,
        "manifest": _manifest(db, run_id, params),
        "case": _case_summary(con),
        "networks": {k: {kk: vv for kk, vv in v.items() if kk in ("actions", "edges", "significant")} | (
            {"object_types": list(v["spec"].object_types), "time_window": v["spec"].time_window}
            if "spec" in v else {}) for k, v in networks.items()},
        "duplicates": dup_summary,
        "small_clusters": len(small),
        "campaigns": builder.campaigns,
        "signals": builder.signals,
    }


class _Builder:
    """Turns clusters into campaign dicts and signal dicts (ids S1.., C1..)."""

    def __init__(self, posts: pa.Table, norm: pa.Array, accounts: pa.Table, whole, params: DetectParams, con,
                 multiplex: pa.Table | None):
        self.posts, self.norm, self.accounts, self.whole, self.params, self.con = posts, norm, accounts, whole, params, con
        self._multiplex = multiplex
        self._taken: set = set()  # accounts already in a campaign (periphery never takes them)
        self._members: dict[str, tuple[set, pa.Table]] = {}
        self.campaigns: list[dict] = []
        self.signals: list[dict] = []
        self._acc = {(a["platform"], a["account_id"]): a for a in accounts.to_pylist()}
        self._post_key = pc.binary_join_element_wise(posts["platform"], posts["account_id"], "\x1f")
        cad = whole.cadence
        self._automated = {(p, a) for p, a, f in zip(cad["platform"].to_pylist(), cad["account_id"].to_pylist(),
                                                      cad["automated_looking"].to_pylist()) if f}
        ap = whole.account_patterns
        self._batched = {a for ids in ap.batches["account_ids"].to_pylist() for a in ids}
        self._templated = {a for ids in ap.handle_templates["account_ids"].to_pylist() for a in ids}
        self._low = set(ap.low_followers["account_id"].to_pylist())
        self._imp = whole.impersonation.to_pylist() if whole.impersonation is not None else []
        # all uses of each hashtag in the case, for the campaign's share of them
        con.register("_posts_all", posts.select(["platform", "post_id", "account_id", "hashtags"]))
        self._tag_totals = dict(con.sql(
            "SELECT lower(h), count(*) FROM (SELECT unnest(hashtags) AS h FROM _posts_all) GROUP BY 1").fetchall())

    # -- signals ---------------------------------------------------------
    def _signal(self, type_: str, summary: str, figures: dict, test: str, accounts: list, post_ids: list,
                times: list | None = None, campaign: str | None = None) -> str:
        sid = f"S{len(self.signals) + 1}"
        self.signals.append({
            "id": sid, "type": type_, "campaign": campaign, "summary": summary, "figures": jsonable(figures),
            "test": test, "accounts": [list(a) for a in accounts[:EVIDENCE_CAP]],
            "evidence": {"post_ids": [list(p) for p in post_ids[:EVIDENCE_CAP]],
                         "post_count": len(post_ids),
                         "times": jsonable((times or [])[:EVIDENCE_CAP])},
        })
        return sid

    # -- one campaign ----------------------------------------------------
    def impersonation_groups(self, min_accounts: int) -> list[list[tuple[str, str]]]:
        """Impersonators in no campaign yet, grouped by the registered domains they share (any time)."""
        taken = {(a["platform"], a["account_id"]) for c in self.campaigns for a in c["accounts"]}
        imps = sorted({(r["platform"], r["account_id"]) for r in self._imp} - taken)
        if len(imps) < min_accounts:
            return []
        self.con.register("_imp", pa.table({"platform": [m[0] for m in imps], "account_id": [m[1] for m in imps]}))
        links = self.con.sql(
            """SELECT DISTINCT a.platform, a.account_id, b.platform, b.account_id
               FROM actions a JOIN _imp USING (platform, account_id)
               JOIN actions b ON a.object_type = 'domain' AND b.object_type = 'domain' AND a.object_id = b.object_id
               JOIN _imp i2 ON i2.platform = b.platform AND i2.account_id = b.account_id
               WHERE (a.platform, a.account_id) < (b.platform, b.account_id)""").fetchall()
        self.con.unregister("_imp")
        root = _components(imps, (((ap, aa), (bp, ba)) for ap, aa, bp, ba in links))
        groups: dict = {}
        for m in imps:
            groups.setdefault(root[m], []).append(m)
        return [g for g in groups.values() if len(g) >= min_accounts]

    def campaign(self, members: list[tuple[str, str]], networks: dict, multiplex: pa.Table | None,
                 origin: str = "coordination") -> None:
        cid = f"C{len(self.campaigns) + 1}"
        member_set = set(members)
        keys = pa.array([f"{p}\x1f{a}" for p, a in members], pa.string())
        mask = pc.is_in(self._post_key, value_set=keys)
        mposts = self.posts.filter(mask)
        mnorm = self.norm.filter(mask) if isinstance(self.norm, pa.ChunkedArray) else pa.chunked_array([self.norm]).filter(mask)
        account_signals: dict[tuple[str, str], list[str]] = {m: [] for m in members}
        sids: list[str] = []
        parts: dict[str, float] = {}
        sentences: list[dict] = []

        # coordination
        coord_figs, coord_pairs = self._coordination(member_set, networks)
        if origin == "coordination":
            self._coordination_signal(members, coord_figs, coord_pairs, sids, account_signals, parts, sentences)
        else:
            parts["coordination"] = parts["synchrony"] = 0.0
            sentences.append({"text": f"{len(members)} accounts imitating watchlist entities push the same "
                                      f"web domains; they are grouped by those domains, not by timing.",
                              "evidence": []})
        self._rest(cid, members, member_set, mposts, mnorm, account_signals, sids, parts, sentences)

    def _coordination_signal(self, members, coord_figs, coord_pairs, sids, account_signals, parts, sentences) -> None:
        sid = self._signal(
            "coordination",
            f"{len(members)} accounts co-acted repeatedly: {coord_figs['significant_edges']:,} account pairs "
            f"shared the same objects within the window more often than the null model allows",
            coord_figs, "co-action within the network's time window, significant after Benjamini-Hochberg "
            f"(alpha {self.params.significance.alpha:g}, null '{self.params.significance.null}')",
            members, coord_pairs)
        sids.append(sid)
        for m in members:
            account_signals[m].append(sid)
        parts["coordination"] = 1.0
        parts["synchrony"] = coord_figs["synchronous_share"]
        if coord_figs["synchronous_share"] >= 0.5:
            sentences.append({"text": f"{coord_figs['synchronous_share']:.0%} of their links are synchronous: the two "
                                      f"accounts' shares came on average within "
                                      f"{self.params.campaigns.sync_seconds:g} s of each other, again and again.",
                              "evidence": [sid]})
        nets = ", ".join(f"{k} ({v})" for k, v in coord_figs["edges_by_network"].items())
        sentences.append({"text": f"{len(members)} accounts form a coordination cluster: "
                                  f"{coord_figs['significant_edges']:,} significant co-action links ({nets}), "
                                  f"median gap {coord_figs['median_time_delta_seconds']:.0f} s.", "evidence": [sid]})

    def _rest(self, cid, members, member_set, mposts, mnorm, account_signals, sids, parts, sentences) -> None:
        cp = self.params.campaigns

        # copypasta
        copy_share, copies = self._copypasta(members)
        floor = self.params.campaigns.copy_floor
        parts["copypasta"] = float(np.clip((copy_share - floor) / max(1.0 - 2 * floor, 1e-9), 0.0, 1.0))
        if copies["copied_posts"]:
            if copies["top_messages"]:
                copies["text"] = copies["top_messages"][0]["text"]
                copies["cluster_id"] = copies["top_messages"][0]["object_id"]
            sid = self._signal(
                "copypasta",
                f"{copies['copied_posts']:,} of {copies['original_posts']:,} original posts repeat a text another "
                f"member posted ({copy_share:.0%})", copies,
                "same normalised text (exact fingerprint) or near-duplicate cluster posted by >= 2 member accounts",
                members, copies.pop("post_ids"))
            sids.append(sid)
            sentences.append({"text": f"{copy_share:.0%} of their own posts are copies of texts other members "
                                      f"posted; the most repeated message was posted by "
                                      f"{copies['top_messages'][0]['accounts'] if copies['top_messages'] else 0} accounts.",
                              "evidence": [sid]})

        # automation
        automated = [m for m in members if m in self._automated]
        parts["automation"] = len(automated) / len(members)
        if automated:
            sid = self._signal("automation", f"{len(automated)} members post with machine-like cadence",
                               {"accounts": len(automated), "share": round(parts["automation"], 4)},
                               "cadence flags (gap regularity, bursts per minute, automation clients); see docs/methods/signals.md",
                               automated, [])
            sids.append(sid)
            for m in automated:
                account_signals[m].append(sid)

        # rhythm and holidays on the members' posts
        fit = operator_rhythm(mposts["created_at"], self.params.signals.rhythm)
        office = fit.pattern == "office-hours" and fit.office_p < 0.01 and fit.confidence >= 0.8
        parts["rhythm"] = 1.0 if office else 0.0
        sid = self._signal("rhythm", f"activity pattern: {fit.pattern}"
                           + (f", office hours at UTC{fit.utc_offset_hours:+g}" if fit.utc_offset_hours is not None else ""),
                           {"pattern": fit.pattern, "utc_offset_hours": fit.utc_offset_hours,
                            "confidence": fit.confidence, "office_p": fit.office_p, "office_share": fit.office_share,
                            "profile_utc": list(fit.profile_utc), "profile_local": list(fit.profile_local)},
                           fit.test, [], [])
        sids.append(sid)
        if office:
            sentences.append({"text": f"They work office hours: the hour-of-week profile fits a 9-18 weekday "
                                      f"schedule at UTC{fit.utc_offset_hours:+g} (confidence {fit.confidence:.2f}).",
                              "evidence": [sid]})
        offset = fit.utc_offset_hours if fit.utc_offset_hours is not None else 0.0
        hol = holiday_fingerprint(mposts["created_at"], offset, self.params.signals.holidays)
        top = hol.ranking.slice(0, 5).to_pylist()
        if top and top[0]["p_family"] is not None and top[0]["p_family"] < 0.05:
            sid = self._signal("holiday", f"activity drops on {top[0]['country_name']}'s public holidays "
                               f"(a hint, never an attribution)",
                               {"ranking": top, "utc_offset_hours": offset, "note": hol.note},
                               top[0]["test"], [], [])
            sids.append(sid)
            sentences.append({"text": f"Activity falls on {top[0]['country_name']}'s public holidays "
                                      f"(family-wise p = {top[0]['p_family']:.3g}); a hint about the operators' "
                                      f"calendar, not an attribution.", "evidence": [sid]})

        # account patterns
        pattern_members = [m for m in members if m[1] in self._batched or m[1] in self._templated or m[1] in self._low]
        parts["account_patterns"] = len(pattern_members) / len(members)
        for kind, ids, label in (("creation_batch", self._batched, "created in batches"),
                                 ("handle_pattern", self._templated, "given templated handles")):
            hit = [m for m in members if m[1] in ids]
            if hit:
                created = [self._acc.get(m, {}).get("created_at") for m in hit]
                sid = self._signal(kind, f"{len(hit)} members {label}", {"accounts": len(hit),
                                   "handles": [self._acc.get(m, {}).get("handle") for m in hit][:50],
                                   "created": sorted(c for c in created if c is not None)[:50]},
                                   "relative to the case's whole account population; see docs/methods/signals.md", hit, [])
                sids.append(sid)
                for m in hit:
                    account_signals[m].append(sid)
                sentences.append({"text": f"{len(hit)} of the accounts were {label}.", "evidence": [sid]})

        # impersonation
        imp = [r for r in self._imp if (r["platform"], r["account_id"]) in member_set]
        parts["impersonation"] = min(1.0, cp.impersonation_gain * len({(r['platform'], r['account_id']) for r in imp})
                                     / len(members))
        if imp:
            sid = self._signal("impersonation", f"{len(imp)} members imitate watchlist entities",
                               {"matches": imp}, imp[0]["test"], [(r["platform"], r["account_id"]) for r in imp], [])
            sids.append(sid)
            for r in imp:
                account_signals.setdefault((r["platform"], r["account_id"]), []).append(sid)
            sentences.append({"text": f"{len(imp)} accounts imitate " + ", ".join(sorted({r['entity_name'] for r in imp}))
                                      + ".", "evidence": [sid]})

        # runs and bursts by members
        for run in self.whole.runs.to_pylist():
            if (run["platform"], run["account_id"]) in member_set:
                sid = self._signal("run", f"one account posted the same text {run['n']} times in a row",
                                   {k: run[k] for k in ("n", "text", "first_at", "last_at", "span_seconds",
                                                       "median_interval_seconds")}, run["test"],
                                   [(run["platform"], run["account_id"])],
                                   [(run["platform"], p) for p in run["post_ids"]])
                sids.append(sid)
                account_signals[(run["platform"], run["account_id"])].append(sid)
                sentences.append({"text": f"One account posted the same text {run['n']} times in a row.",
                                  "evidence": [sid]})
        bursts = find_bursts(burst_events(mposts, mnorm, group=cid), self.params.signals.bursts).to_pylist()
        auto = [b for b in bursts if b["label"] == "automated-looking"]
        if any(b["object_type"] != "group" for b in auto):  # the group-wide burst repeats an object's
            auto = [b for b in auto if b["object_type"] != "group"]
        seen_objects: set = set()
        auto = [b for b in sorted(auto, key=lambda b: -b["window_posts"])
                if (b["object_type"], b["object_id"]) not in seen_objects
                and not seen_objects.add((b["object_type"], b["object_id"]))]
        for b in auto[:3]:
            sid = self._signal("burst", f"{b['window_posts']:,} posts on {b['object_type']} {b['object_id']} "
                               f"within ten minutes", {k: b[k] for k in b if k not in ("post_ids", "test")},
                               b["test"], [], [(mposts["platform"][0].as_py(), p) for p in b["post_ids"]])
            sids.append(sid)
            sentences.append({"text": f"They flooded {b['object_type']} '{b['object_id']}' with "
                                      f"{b['window_posts']:,} posts in one window ({b['copy_share']:.0%} copies).",
                              "evidence": [sid]})

        # organic look
        organic = [m for m in members if self._established(m, mposts)]
        total, contributions = score(parts, len(organic) / len(members), cp)
        if all(v < 0.05 for k, v in parts.items() if k not in HOW_PARTS):
            sentences.append({"text": "No trace of fake identities was found (no copy-paste across accounts, "
                                      "automated accounts, creation batches, templated handles, tiny audiences or "
                                      "impersonation): this is coordinated behaviour, not shown to be inauthentic.",
                              "evidence": []})
        if organic:
            sentences.append({"text": f"{len(organic)} of the accounts look established (at least "
                                      f"{cp.organic_min_followers:,} followers and {cp.organic_min_age_days} days old), "
                                      f"which lowers the score.", "evidence": []})

        scale = self._scale(members, mposts)
        scale["profiles"], personas = self._personas(members)
        if scale["profiles"] < len(members):
            sentences.append({"text": f"The {len(members)} accounts belong to {scale['profiles']} profiles: "
                                      f"some personas run accounts on several platforms under one name.",
                              "evidence": []})
        periphery = self._periphery(member_set)
        hubs = self._cross_platform_lead(cid, member_set)
        for hub in hubs:
            sids.append(hub["id"])
            sentences.append({"text": hub["sentence"], "evidence": [hub["id"]]})
            account_signals.setdefault(hub["account"], []).append(hub["id"])
            if hub["account"] not in member_set:
                periphery.setdefault(hub["account"], 0)
        hashtags = self._hashtags(mposts)
        narratives, shift = self._narratives(mposts, cid)
        if shift is not None:
            sids.append(shift["id"])
            sentences.append({"text": shift["sentence"], "evidence": [shift["id"]]})
        from .report.disarm import techniques_for

        types = {s["type"] for s in self.signals if s["id"] in sids}
        if parts["copypasta"] < 0.05:
            types.discard("copypasta")
        disarm = [t.id for t in techniques_for(types)]
        for s in self.signals:
            if s["id"] in sids:
                s["campaign"] = cid
        self._taken |= member_set
        self._members[cid] = (member_set, mposts.select(["platform", "post_id"]))
        self.campaigns.append({
            "network": self._network(member_set),
            "id": cid, "score": total, "score_parts": {k: round(v, 4) for k, v in parts.items()},
            "score_contributions": contributions,
            "likely_inauthentic": total >= cp.report_score,
            "explanation": sentences,
            "accounts": [self._account_entry(m, "core", account_signals.get(m, []), personas.get(m)) for m in members]
            + [self._account_entry(m, "periphery", account_signals.get(m, [])) for m in sorted(periphery)],
            "reach": None,  # filled by finish(), once every campaign's members are known
            "counts": scale, "first_seen": _iso(pc.min(mposts["created_at"]).as_py()),
            "last_seen": _iso(pc.max(mposts["created_at"]).as_py()),
            "active_days": len(set(pc.strftime(mposts["created_at"], "%Y-%m-%d").to_pylist())) if mposts.num_rows else 0,
            "timeline": self._timeline(mposts),
            "hashtags": hashtags, "domains": self._domains(members), "narratives": narratives,
            "signals": sids, "disarm": disarm,
        })

    def _network(self, member_set: set) -> dict:
        """The campaign's significant co-action edges (for the report picture and graph exports)."""
        m = self._multiplex
        if m is None or not m.num_rows:
            return {"edges": [], "truncated": 0}
        fp, f, tp, t = (m[c].to_pylist() for c in ("from_platform", "from", "to_platform", "to"))
        inside = pa.array([(a, b) in member_set and (c, d) in member_set for a, b, c, d in zip(fp, f, tp, t)])
        e = m.filter(inside)
        kept = _cap_edges(e, NETWORK_EDGE_CAP)
        return {"edges": [[r["from_platform"], r["from"], r["to_platform"], r["to"], r["weight"], r["networks"]]
                          for r in kept.to_pylist()],
                "truncated": e.num_rows - kept.num_rows}

    def _coordination(self, member_set: set, networks: dict) -> tuple[dict, list]:
        by_net: dict[str, int] = {}
        deltas: list[float] = []
        qs: list[float] = []
        pairs_out: list = []
        for name, net in networks.items():
            sig = net.get("sig_edges")
            if sig is None or not sig.num_rows:
                continue
            fp, f, tp, t = (sig[c].to_pylist() for c in ("from_platform", "from", "to_platform", "to"))
            inside = np.array([(a, b) in member_set and (c, d) in member_set for a, b, c, d in zip(fp, f, tp, t)])
            if not inside.any():
                continue
            edges = sig.filter(pa.array(inside))
            by_net[name] = edges.num_rows
            deltas += edges["avg_time_delta"].to_pylist()
            qs += edges["q_value"].to_pylist()
            if len(pairs_out) < EVIDENCE_CAP:
                pairs = coaction_pairs(net["prepared"], edges=edges.slice(0, 20))
                for r in pairs.slice(0, EVIDENCE_CAP).to_pylist():
                    pairs_out.append((r.get("platform_a", r.get("platform", "x")), r["post_a"]))
                    pairs_out.append((r.get("platform_b", r.get("platform", "x")), r["post_b"]))
        sync = float(np.mean(np.asarray(deltas) <= self.params.campaigns.sync_seconds)) if deltas else 0.0
        figs = {"accounts": len(member_set), "significant_edges": sum(by_net.values()), "edges_by_network": by_net,
                "synchronous_share": round(sync, 4),
                "median_time_delta_seconds": float(np.median(deltas)) if deltas else 0.0,
                "max_q_value": float(max(qs)) if qs else None,
                "density": round(2 * sum(by_net.values()) / max(len(member_set) * (len(member_set) - 1), 1), 4)}
        return figs, pairs_out

    def _copypasta(self, members: list) -> tuple[float, dict]:
        con = self.con
        con.register("_members", pa.table({"platform": [m[0] for m in members], "account_id": [m[1] for m in members]}))
        rows = con.sql(
            """WITH own AS (
                   SELECT p.platform, p.post_id, p.account_id FROM posts p JOIN _members USING (platform, account_id)
                   WHERE p.kind NOT IN ('repost', 'forward')),
               obj AS (
                   SELECT a.object_type, a.object_id, o.platform, o.post_id, o.account_id
                   FROM actions a JOIN own o USING (platform, post_id)
                   WHERE a.object_type IN ('text_fingerprint', 'near_dup_cluster')),
               shared AS (
                   SELECT object_type, object_id FROM obj GROUP BY ALL HAVING count(DISTINCT account_id) >= 2)
               SELECT (SELECT count(*) FROM own) AS original_posts,
                      (SELECT count(DISTINCT (platform, post_id)) FROM obj JOIN shared USING (object_type, object_id)) AS copied,
                      (SELECT list([platform, post_id] ORDER BY platform, post_id) FROM (
                          SELECT DISTINCT platform, post_id FROM obj JOIN shared USING (object_type, object_id)
                          ORDER BY platform, post_id LIMIT 2000)) AS ids
            """).fetchall()[0]
        top = con.sql(
            """WITH own AS (
                   SELECT p.platform, p.post_id, p.account_id, p.text FROM posts p JOIN _members USING (platform, account_id)
                   WHERE p.kind NOT IN ('repost', 'forward'))
               SELECT a.object_type, a.object_id, count(DISTINCT o.account_id) AS accounts, count(*) AS posts,
                      arg_min(o.text, o.post_id) AS text, list(o.post_id ORDER BY o.post_id)[1:20] AS post_ids
               FROM actions a JOIN own o USING (platform, post_id)
               WHERE a.object_type IN ('text_fingerprint', 'near_dup_cluster')
               GROUP BY ALL HAVING count(DISTINCT o.account_id) >= 2
               ORDER BY accounts DESC, posts DESC, a.object_type, a.object_id LIMIT 10""").to_arrow_table().to_pylist()
        con.unregister("_members")
        original, copied, ids = rows
        share = copied / original if original else 0.0
        return share, {"original_posts": int(original), "copied_posts": int(copied), "share": round(share, 4),
                       "top_messages": top, "post_ids": [tuple(x) for x in (ids or [])]}

    def _established(self, m: tuple[str, str], mposts: pa.Table) -> bool:
        a = self._acc.get(m)
        if not a or a.get("followers") is None or a.get("created_at") is None:
            return False
        if a["followers"] < self.params.campaigns.organic_min_followers:
            return False
        first = a.get("snapshot_at") or a["created_at"]
        return (first - a["created_at"]).days >= self.params.campaigns.organic_min_age_days

    def _scale(self, members: list, mposts: pa.Table) -> dict:
        per_platform: dict[str, int] = {}
        for p, _ in members:
            per_platform[p] = per_platform.get(p, 0) + 1
        langs = pc.value_counts(pc.fill_null(mposts["lang"], "unknown")).to_pylist() if mposts.num_rows else []
        return {"accounts": len(members), "posts": mposts.num_rows, "profiles": len(members),
                "per_platform": per_platform,
                "per_language": {x["values"]: x["counts"] for x in sorted(langs, key=lambda x: -x["counts"])}}

    def _timeline(self, mposts: pa.Table) -> list[dict]:
        """Posts per day (UTC), every day of the campaign's posts."""
        if not mposts.num_rows:
            return []
        days = pc.value_counts(pc.strftime(mposts["created_at"], "%Y-%m-%d")).to_pylist()
        return [{"day": d["values"], "posts": d["counts"]} for d in sorted(days, key=lambda d: d["values"])]

    def _hashtags(self, mposts: pa.Table) -> list[dict]:
        tags = pc.list_flatten(mposts["hashtags"]) if mposts.num_rows else pa.array([], pa.string())
        counts = pc.value_counts(pc.utf8_lower(tags)).to_pylist() if len(tags) else []
        counts.sort(key=lambda x: -x["counts"])
        return [{"tag": c["values"], "posts": c["counts"],
                 "share_of_all_uses": round(c["counts"] / max(self._tag_totals.get(c["values"], c["counts"]), 1), 4)}
                for c in counts[:20]]

    def _domains(self, members: list) -> list[dict]:
        self.con.register("_m", pa.table({"platform": [m[0] for m in members], "account_id": [m[1] for m in members]}))
        rows = self.con.sql("""SELECT object_id, count(*) FROM actions JOIN _m USING (platform, account_id)
                               WHERE object_type = 'domain' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10""").fetchall()
        self.con.unregister("_m")
        return [{"domain": d, "posts": int(n)} for d, n in rows]

    def _narratives(self, mposts: pa.Table, cid: str) -> tuple[list[dict], dict | None]:
        """Top hashtags per week, and the week where most members switch to a new set at once."""
        if not mposts.num_rows:
            return [], None
        self.con.register("_mp", mposts.select(["post_id", "account_id", "created_at", "hashtags"]))
        rows = self.con.sql(
            """SELECT date_trunc('week', created_at)::DATE AS week, lower(h) AS tag, count(*) AS n,
                      count(DISTINCT account_id) AS accounts
               FROM (SELECT *, unnest(hashtags) AS h FROM _mp) GROUP BY ALL ORDER BY week, n DESC, tag""").fetchall()
        active = dict(self.con.sql("SELECT date_trunc('week', created_at)::DATE, count(DISTINCT account_id) FROM _mp "
                                   "GROUP BY 1").fetchall())
        self.con.unregister("_mp")
        weeks: dict[dt.date, dict[str, int]] = {}
        for week, tag, n, _ in rows:
            weeks.setdefault(week, {})[tag] = n
        narratives = [{"period": w.isoformat(), "keywords": [t for t, _ in sorted(d.items(), key=lambda x: -x[1])[:8]],
                       "posts": sum(d.values()), "accounts": active.get(w, 0)} for w, d in sorted(weeks.items())]
        shift = None
        ordered = sorted(weeks)
        best = None
        for i in range(1, len(ordered)):
            before: dict[str, int] = {}
            for w in ordered[:i]:
                for t, n in weeks[w].items():
                    before[t] = before.get(t, 0) + n
            after = weeks[ordered[i]]
            d = _js_distance(before, after)
            new_tags = [t for t in after if t not in before]
            new_share = sum(after[t] for t in new_tags) / max(sum(after.values()), 1)
            week_accounts = active.get(ordered[i], 0)
            if (d >= 0.6 and new_share >= 0.5 and sum(after.values()) >= MIN_SHIFT_USES
                    and week_accounts >= MIN_SHIFT_ACCOUNTS and (best is None or d > best[1])):
                best = (ordered[i], d, new_share, new_tags)
        if best is not None:
            week, d, new_share, new_tags = best
            sid = self._signal("narrative_shift", f"the campaign switched to new hashtags in the week of {week}",
                               {"week": week.isoformat(), "js_distance": round(d, 4), "new_share": round(new_share, 4),
                                "new_hashtags": sorted(new_tags)[:20]},
                               "Jensen-Shannon distance between the week's hashtag distribution and all earlier "
                               f"weeks >= 0.6, with >= 50 % of the week's hashtag uses new, >= {MIN_SHIFT_USES} uses "
                               f"and >= {MIN_SHIFT_ACCOUNTS} active accounts that week", [], [], campaign=cid)
            shift = {"id": sid, "sentence": f"In the week of {week} the whole cluster switched to new hashtags "
                                            f"({new_share:.0%} of that week's uses were new: "
                                            f"{', '.join(sorted(new_tags)[:5])})."}
        return narratives, shift

    def _account_entry(self, m: tuple[str, str], role: str, sids: list[str], persona: str | None = None) -> dict:
        a = self._acc.get(m, {})
        return {"platform": m[0], "account_id": m[1], "handle": a.get("handle"), "display_name": a.get("display_name"),
                "created_at": _iso(a.get("created_at")), "followers": a.get("followers"), "role": role,
                "persona": persona, "signals": sids}

    def _personas(self, members: list) -> tuple[int, dict]:
        """Accounts on different platforms with the same handle or display name are one profile (persona)."""
        seen: dict[tuple[str, str], tuple[str, str]] = {}
        same = []
        for m in members:
            a = self._acc.get(m, {})
            for kind in ("handle", "display_name"):
                key = "".join(ch for ch in (a.get(kind) or "").casefold() if ch.isalnum())
                if len(key) < 4:
                    continue
                other = seen.setdefault((kind, key), m)
                if other != m and other[0] != m[0]:  # across platforms only
                    same.append((m, other))
        roots = _components(members, same)
        names = {r: f"P{i + 1}" for i, r in enumerate(sorted(set(roots.values())))}
        return len(names), {m: names[r] for m, r in roots.items()}

    def _periphery(self, member_set: set) -> dict:
        """Accounts outside the cluster with at least two significant co-action links into it."""
        m = self._multiplex
        links: dict[tuple[str, str], int] = {}
        if m is None or not m.num_rows:
            return links
        for fp, f, tp, t in zip(*(m[c].to_pylist() for c in ("from_platform", "from", "to_platform", "to"))):
            a, b = (fp, f), (tp, t)
            if (a in member_set) != (b in member_set):
                out = b if a in member_set else a
                links[out] = links.get(out, 0) + 1
        return {k: v for k, v in links.items() if v >= 2 and k not in self._taken}

    def _cross_platform_lead(self, cid: str, member_set: set) -> list[dict]:
        """Sources (in the cluster or not) that post the campaign's texts first, on another platform, minutes ahead."""
        self.con.register("_m2", pa.table({"platform": [m[0] for m in member_set],
                                           "account_id": [m[1] for m in member_set]}))
        rows = self.con.sql(
            """WITH texts AS (
                   SELECT DISTINCT a.object_type, a.object_id FROM actions a JOIN _m2 USING (platform, account_id)
                   WHERE a.object_type IN ('text_fingerprint', 'near_dup_cluster')),
               uses AS (
                   SELECT a.platform, a.account_id, a.post_id, a.created_at, a.object_type, a.object_id
                   FROM actions a JOIN texts USING (object_type, object_id)),
               first_use AS (
                   SELECT object_type, object_id, arg_min(platform, created_at) AS platform,
                          arg_min(account_id, created_at) AS account_id, arg_min(post_id, created_at) AS post_id,
                          min(created_at) AS at
                   FROM uses GROUP BY ALL),
               follow AS (
                   SELECT f.platform AS hub_platform, f.account_id AS hub, f.post_id, f.object_id,
                          min(u.created_at) - f.at AS lead
                   FROM first_use f JOIN uses u USING (object_type, object_id)
                   WHERE u.platform <> f.platform
                   GROUP BY f.platform, f.account_id, f.post_id, f.object_type, f.object_id, f.at),
               posted AS (
                   SELECT platform, account_id, count(DISTINCT (object_type, object_id)) AS texts_posted
                   FROM uses GROUP BY ALL)
               SELECT hub_platform, hub, count(*) AS texts, median(epoch(lead)) AS median_lead_s,
                      list(post_id ORDER BY post_id)[1:200] AS post_ids, any_value(p.texts_posted) AS texts_posted
               FROM follow f JOIN posted p ON p.platform = f.hub_platform AND p.account_id = f.hub
               GROUP BY hub_platform, hub
               HAVING count(*) >= 3 AND count(*) >= 0.5 * any_value(p.texts_posted)
                  AND median(epoch(lead)) <= ?
               ORDER BY texts DESC, hub_platform, hub LIMIT 5""", params=[self.params.campaigns.max_lead_seconds]).fetchall()
        self.con.unregister("_m2")
        out = []
        for platform, hub, n, lead, post_ids, posted in rows:
            handle = self._acc.get((platform, hub), {}).get("display_name") or hub
            sid = self._signal(
                "cross_platform_lead",
                f"{platform} account {handle} posted {n} of the campaign's texts first, a median "
                f"{lead / 60:.0f} min before they appeared on another platform",
                {"platform": platform, "account_id": hub, "texts": n, "texts_posted": posted,
                 "median_lead_seconds": lead},
                "first post of a campaign text (exact or near-duplicate) followed by copies on another platform; "
                f"from 3 texts, first on at least half of the texts it posted, median lead <= "
                f"{self.params.campaigns.max_lead_seconds / 60:g} min", [(platform, hub)], [(platform, p) for p in post_ids], campaign=cid)
            out.append({"id": sid, "account": (platform, hub),
                        "sentence": f"{handle} ({platform}) posted {n} of these texts first, a median "
                                    f"{lead / 60:.0f} minutes before the cluster repeated them elsewhere: a likely "
                                    f"coordination hub."})
        return out

    def _reach(self, member_set: set, mposts: pa.Table, other_campaigns: set) -> dict:
        """Reactions to the campaign's posts from inside it, other campaigns and everyone else; the Breakout
        Scale (Nimmo 2020) as far as the data shows it. Other campaigns' reactions are not breakout."""
        self.con.register("_cp", mposts.select(["platform", "post_id"]))
        self.con.register("_m3", pa.table({"platform": [m[0] for m in member_set],
                                           "account_id": [m[1] for m in member_set]}))
        rows = self.con.sql(
            """SELECT r.platform, r.account_id, (m.account_id IS NOT NULL) AS inside, r.lang,
                      coalesce(a.verified, FALSE) AS verified, coalesce(a.followers, 0) AS followers
               FROM posts r JOIN _cp c ON r.platform = c.platform AND r.parent_post_id = c.post_id
               LEFT JOIN _m3 m ON m.platform = r.platform AND m.account_id = r.account_id
               LEFT JOIN accounts a ON a.platform = r.platform AND a.account_id = r.account_id
               WHERE r.kind IN ('repost', 'quote', 'reply', 'forward', 'comment')""").fetchall()
        eng = self.con.sql("""SELECT sum(coalesce(like_count, 0)), sum(coalesce(repost_count, 0)),
                                     sum(coalesce(reply_count, 0)), sum(coalesce(view_count, 0))
                              FROM posts JOIN _cp USING (platform, post_id)""").fetchall()[0]
        self.con.unregister("_cp")
        self.con.unregister("_m3")
        other = [r for r in rows if not r[2] and (r[0], r[1]) in other_campaigns]
        outside = [r for r in rows if not r[2] and (r[0], r[1]) not in other_campaigns]
        platforms = {p for p, _ in member_set} | {r[0] for r in outside}
        langs: dict[str, int] = {}
        for r in outside:
            langs[r[3] or "unknown"] = langs.get(r[3] or "unknown", 0) + 1
        communities = [k for k, v in langs.items() if v >= max(5, 0.05 * len(outside))]
        notable = sorted({(r[0], r[1]) for r in outside if r[4] or r[5] >= 100_000})
        many_p, many_c = len(platforms) > 1, len(communities) > 1
        category = 3 if (many_p and many_c) else 2 if (many_p or many_c) else 1
        basis = (f"{len(platforms)} platform(s); {len(communities)} outside language communit"
                 f"{'y' if len(communities) == 1 else 'ies'} with >= 5 % of outside reactions")
        if notable:
            category, basis = 5, basis + f"; amplified by {len(notable)} verified or 100k+ follower account(s)"
        return {"inside_reactions": len(rows) - len(outside) - len(other), "outside_reactions": len(outside),
                "other_campaign_reactions": len(other),
                "outside_share": round(len(outside) / len(rows), 4) if rows else 0.0,
                "outside_accounts": len({(r[0], r[1]) for r in outside}),
                "engagement": {"likes": int(eng[0] or 0), "reposts": int(eng[1] or 0), "replies": int(eng[2] or 0),
                               "views": int(eng[3] or 0)},
                "breakout": {"category": category, "basis": basis,
                             "high_profile_amplifiers": [list(x) for x in notable[:50]],
                             "not_established": "category 4 (mainstream media pickup) and 6 (policy response or "
                                                "call for violence) need sources outside social-media data; "
                                                "communities are approximated by the language of outside reactions"}}

    def finish(self) -> None:
        """Reach (needs every campaign's members), then order campaigns by score and renumber them C1.."""
        for c in self.campaigns:
            member_set, cposts = self._members[c["id"]]
            reach = c["reach"] = self._reach(member_set, cposts, self._taken - member_set)
            parts = []
            if reach["outside_reactions"]:
                parts.append(f"accounts outside any campaign reposted, quoted or replied to its posts "
                             f"{reach['outside_reactions']:,} times ({reach['outside_share']:.0%} of all reactions)")
            else:
                parts.append("no account outside the campaigns reacted to its posts")
            if reach["other_campaign_reactions"]:
                parts.append(f"{reach['other_campaign_reactions']:,} reposts, quotes or replies came from other "
                             f"campaigns' accounts")
            text = "; ".join(parts)
            c["explanation"].append({"text": text[0].upper() + text[1:] + f". Breakout category "
                                     f"{reach['breakout']['category']} ({reach['breakout']['basis']}).",
                                     "evidence": []})
        order = sorted(self.campaigns, key=lambda c: (-c["score"], -c["counts"]["accounts"]))
        rename = {c["id"]: f"C{i + 1}" for i, c in enumerate(order)}
        for c in order:
            c["id"] = rename[c["id"]]
        for s in self.signals:
            if s["campaign"] is not None:
                s["campaign"] = rename.get(s["campaign"], s["campaign"])
        self.campaigns = order


def _js_distance(a: dict[str, int], b: dict[str, int]) -> float:
    keys = sorted(set(a) | set(b))
    p = np.array([a.get(k, 0) for k in keys], float)
    q = np.array([b.get(k, 0) for k in keys], float)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: np.ndarray, y: np.ndarray) -> float:
        nz = x > 0  # where x > 0, y = m > 0 too
        return float(np.sum(x[nz] * np.log2(x[nz] / y[nz])))

    return float(np.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2)))


def _iso(v: Any) -> str | None:
    return v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else None


def _manifest(db: Case, run_id: str, params: DetectParams) -> dict:
    inputs = []
    for (raw,) in db.con.execute("SELECT inputs FROM runs WHERE command = 'ingest' AND status = 'ok' "
                                 "ORDER BY started_at").fetchall():
        for i in json.loads(raw or "[]"):
            inputs.append({"path": i.get("path"), "sha256": i.get("sha256"), "format": i.get("format"),
                           "records": i.get("records"), "quarantined": i.get("quarantined")})
    deps = {}
    for name in ("duckdb", "pyarrow", "numpy", "scipy", "igraph", "leidenalg", "holidays", "lingua-language-detector",
                 "rapidfuzz", "datasketch", "imagehash", "stix2", "tldextract"):
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {"tool": "swarmscope", "tool_version": __version__, "run_id": run_id,
            "created_at": dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0).isoformat(),
            "parameters": jsonable(params), "inputs": inputs, "dependencies": deps}


def _case_summary(con) -> dict:
    n_posts, n_acc = con.execute("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM accounts)").fetchall()[0]
    first, last = con.execute("SELECT min(created_at), max(created_at) FROM posts").fetchall()[0]
    per_platform = dict(con.execute("SELECT platform, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    per_lang = dict(con.execute("SELECT coalesce(lang, 'unknown'), count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    return {"posts": int(n_posts), "accounts": int(n_acc), "first_post": _iso(first), "last_post": _iso(last),
            "per_platform": per_platform, "per_language": per_lang}
