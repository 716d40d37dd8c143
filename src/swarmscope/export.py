"""Files from a case's findings: the HTML report and the exports (JSON, STIX, GEXF, GraphML, CSV/Parquet).

Everything here reads ``findings.json`` (written by ``swarmscope detect``)
and, for the report's evidence tables, the posts it cites from the case.
Nothing here detects anything.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from .findings import load_findings, post_url, write_json_atomic

if TYPE_CHECKING:
    import duckdb


FORMATS = ("json", "stix", "gexf", "graphml", "csv", "parquet", "parquet-dataset")


def export(case: str | Path, format: str, output: str | Path, intrusion_set: str | None = None) -> Path:
    """Write the case's findings as ``format`` to ``output`` (a file; a folder for csv/parquet).

    ``parquet-dataset`` is not findings: the case's posts, accounts and actions as Parquet partitioned by
    platform and day, the input of the Spark engine (engines/dataset.py, docs/spark.md).

    The JSON export is findings.json plus a top-level ``labels`` list (the
    analysts' labels, history included); csv/parquet add a ``labels`` table.
    """
    if format not in FORMATS:
        raise ValueError(f"unknown export format {format!r}; formats: {', '.join(FORMATS)}")
    from .store import Case

    if format == "parquet-dataset":  # the case's tables for the Spark engine (docs/spark.md); needs no findings
        from .engines.dataset import write_dataset

        if not Path(case).is_file():
            raise FileNotFoundError(f"{case}: no such case file")
        with Case(case, read_only=True) as db:
            return write_dataset(db.con, output).directory
    findings = load_findings(case)
    output = Path(output)
    if format == "json":
        return write_json_atomic(findings | {"labels": [_json_label(r) for r in read_labels(case, findings)]}, output)
    if format == "stix":
        from .report.stix import write_stix

        return write_stix(findings, output, intrusion_set_name=intrusion_set)
    if format in ("gexf", "graphml"):
        from . import graph

        edges, membership = network_tables(findings)
        accounts = network_accounts(findings)
        with Case(case, read_only=True) as db:
            accounts = with_post_counts(db.con, accounts)
        (graph.write_gexf if format == "gexf" else graph.write_graphml)(edges, output, membership, accounts)
        return output
    from .report.tables import write_campaign_tables

    output.mkdir(parents=True, exist_ok=True)
    from .labels import label_rows

    with Case(case, read_only=True) as db:
        write_campaign_tables(findings, output, fmt=format, labels=label_rows(db.con, findings), con=db.con)
    return output


def read_labels(case: str | Path, findings: dict | None = None) -> list[dict]:
    """The case's labels (labels.label_rows: history, current flag, the campaign each applies to)."""
    from .labels import label_rows
    from .store import Case

    with Case(case, read_only=True) as db:
        return label_rows(db.con, findings)


def _json_label(row: dict) -> dict:
    keys = (
        "label_id",
        "target_type",
        "platform",
        "target_id",
        "label",
        "note",
        "author",
        "created_at",
        "members",
        "run_id",
        "current",
        "campaign",
        "overlap",
    )
    return {k: row.get(k) for k in keys}


def network_tables(findings: dict) -> tuple[pa.Table, pa.Table]:
    """The campaigns' significant edges and each account's campaign, as graph.py expects them."""
    rows, members = [], []
    for i, c in enumerate(findings.get("campaigns", [])):
        for fp, f, tp, t, w, nets in c.get("network", {}).get("edges", []):
            rows.append(
                {
                    "from": f,
                    "to": t,
                    "from_platform": fp,
                    "to_platform": tp,
                    "weight": float(w),
                    "networks": ",".join(nets),
                    "significant": True,  # a campaign's network holds its significant edges only
                    "campaign": c["id"],
                }
            )
        members += [
            {"platform": a["platform"], "account_id": a["account_id"], "cluster": i} for a in c.get("accounts", [])
        ]
    schema = pa.schema(
        [
            ("from", pa.string()),
            ("to", pa.string()),
            ("from_platform", pa.string()),
            ("to_platform", pa.string()),
            ("weight", pa.float64()),
            ("networks", pa.string()),
            ("significant", pa.bool_()),
            ("campaign", pa.string()),
        ]
    )
    mschema = pa.schema([("platform", pa.string()), ("account_id", pa.string()), ("cluster", pa.int64())])
    return pa.Table.from_pylist(rows, schema=schema), pa.Table.from_pylist(members, schema=mschema)


ACCOUNT_NODES = pa.schema(
    [
        ("platform", pa.string()),
        ("account_id", pa.string()),
        ("handle", pa.string()),
        ("display_name", pa.string()),
        ("campaign", pa.string()),
        ("role", pa.string()),
        ("tier", pa.string()),
        ("score", pa.float64()),
        ("followers", pa.int64()),
    ]
)


def network_accounts(findings: dict) -> pa.Table:
    """One row per campaign member, the node attributes of the graph exports (ACCOUNT_NODES).

    An account in two campaigns keeps its first (findings list campaigns
    strongest first); ``tier`` is the campaign's verdict tier, ``score`` its score.
    """
    rows, seen = [], set()
    for c in findings.get("campaigns", []):
        tier = (c.get("verdict") or {}).get("tier")
        for a in c.get("accounts", []):
            key = (str(a["platform"]), str(a["account_id"]))
            if key in seen:
                continue
            seen.add(key)
            followers = a.get("followers")
            rows.append(
                {
                    "platform": key[0],
                    "account_id": key[1],
                    "handle": a.get("handle"),
                    "display_name": a.get("display_name"),
                    "campaign": c.get("id"),
                    "role": a.get("role"),
                    "tier": tier,
                    "score": c.get("score"),
                    "followers": followers if isinstance(followers, int) else None,
                }
            )
    return pa.Table.from_pylist(rows, schema=ACCOUNT_NODES)


def with_post_counts(con: duckdb.DuckDBPyConnection, accounts: pa.Table) -> pa.Table:
    """``accounts`` with ``posts``: how many posts each has in the case (one join on the cited accounts)."""
    from .duck import registered

    with registered(con, _graph_accounts=accounts.append_column("_row", pa.array(range(accounts.num_rows)))):
        return con.sql(
            """
            SELECT a.* EXCLUDE (_row), coalesce(n.posts, 0) AS posts
            FROM _graph_accounts a LEFT JOIN (
                SELECT p.platform, p.account_id, count(*) AS posts
                FROM posts p SEMI JOIN _graph_accounts g ON p.platform = g.platform AND p.account_id = g.account_id
                GROUP BY ALL
            ) n USING (platform, account_id)
            ORDER BY a._row
            """
        ).to_arrow_table()


def report(case: str | Path, output: str | Path) -> Path:
    """The self-contained HTML report of the case's findings, with the analysts' labels."""
    from .labels import current_labels
    from .report.html import write_html
    from .store import Case

    findings = load_findings(case)
    wanted = sorted(
        {(p, i) for s in findings.get("signals", []) for p, i in s.get("evidence", {}).get("post_ids", [])}
        | {(p, i) for c in findings.get("campaigns", []) for m in c.get("messages") or [] for p, i in m["post_ids"]}
    )
    posts: dict[str, dict] = {}
    with Case(case, read_only=True) as db:
        labels = current_labels(db.con)
        rows = []
        if wanted:
            db.con.register("_want", pa.table({"platform": [w[0] for w in wanted], "post_id": [w[1] for w in wanted]}))
            rows = (
                db.con.sql(
                    """SELECT p.platform, p.post_id, p.text, p.created_at, p.account_id, a.handle
                   FROM posts p JOIN _want USING (platform, post_id)
                   LEFT JOIN accounts a USING (platform, account_id)"""
                )
                .to_arrow_table()
                .to_pylist()
            )
            db.con.unregister("_want")
        if labels:
            _label_handles(db.con, labels)
    for r in rows:
        posts[f"{r['platform']}:{r['post_id']}"] = {
            "text": r["text"],
            "created_at": r["created_at"].isoformat() if r["created_at"] else None,
            "account_id": r["account_id"],
            "handle": r["handle"],
            "url": post_url(r["platform"], r["post_id"]),
        }
    info = {"title": f"swarmscope report: {Path(case).name}", "case": str(case)}
    return write_html(findings, output, case_info=info, posts=posts, labels=labels)


def _label_handles(con: duckdb.DuckDBPyConnection, labels: list[dict]) -> None:
    """Add each labelled account's handle (a few rows: labels are made by hand)."""
    accounts = [(x["platform"], x["target_id"]) for x in labels if x["target_type"] == "account"]
    if not accounts:
        return
    con.register("_lab", pa.table({"platform": [a[0] for a in accounts], "account_id": [a[1] for a in accounts]}))
    handles = {
        (p, a): h
        for p, a, h in con.execute(
            "SELECT platform, account_id, handle FROM accounts JOIN _lab USING (platform, account_id)"
        ).fetchall()
    }
    con.unregister("_lab")
    for x in labels:
        if x["target_type"] == "account":
            x["handle"] = handles.get((x["platform"], x["target_id"]))
