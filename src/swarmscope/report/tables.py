"""CSV and Parquet tables of a run's campaigns, safe to open in a spreadsheet (tablefile.py writes them)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from ..duck import registered

if TYPE_CHECKING:
    import duckdb

from ..tablefile import (  # re-exported: the report's table API
    CSV_SUFFIXES,
    FORMULA_START,
    PARQUET_SUFFIXES,
    csv_safe,
    join_lists,
    neutralise_formulas,
    write_parquet_batches,
    write_table,
)

__all__ = [
    "CSV_SUFFIXES",
    "FORMULA_START",
    "PARQUET_SUFFIXES",
    "campaign_tables",
    "evidence_times",
    "explanation_sentences",
    "csv_safe",
    "join_lists",
    "labels_table",
    "neutralise_formulas",
    "write_campaign_tables",
    "write_parquet_batches",
    "write_table",
]


CAMPAIGNS = pa.schema(
    [
        pa.field("campaign_id", pa.string()),
        pa.field("score", pa.float64()),
        pa.field("tier", pa.string()),
        pa.field("verdict", pa.string()),
        pa.field("likely_inauthentic", pa.bool_()),
        pa.field("accounts", pa.int64()),
        pa.field("posts", pa.int64()),
        pa.field("platforms", pa.string()),  # platform:accounts, ';'-joined
        pa.field("languages", pa.string()),  # language:posts, ';'-joined
        pa.field("first_seen", pa.string()),
        pa.field("last_seen", pa.string()),
        pa.field("active_days", pa.int64()),
        pa.field("signals", pa.string()),  # signal ids, ';'-joined
        pa.field("disarm", pa.string()),  # DISARM technique ids, ';'-joined
        pa.field("hashtags", pa.string()),  # the campaign's top hashtags, ';'-joined
        pa.field("domains", pa.string()),  # the domains it linked to, ';'-joined
        pa.field("explanation", pa.string()),  # the explanation's sentences, each with its signal ids
    ]
)
ACCOUNTS = pa.schema(
    [
        pa.field("campaign_id", pa.string()),
        pa.field("campaign_score", pa.float64()),
        pa.field("platform", pa.string()),
        pa.field("account_id", pa.string()),
        pa.field("handle", pa.string()),
        pa.field("display_name", pa.string()),
        pa.field("role", pa.string()),
        pa.field("signals", pa.string()),  # signal ids, ';'-joined
    ]
)
SIGNALS = pa.schema(
    [
        pa.field("campaign_id", pa.string()),
        pa.field("signal_id", pa.string()),
        pa.field("type", pa.string()),
        pa.field("summary", pa.string()),
        pa.field("test", pa.string()),
        pa.field("accounts", pa.int64()),
        pa.field("evidence_posts", pa.int64()),
        pa.field("figures", pa.string()),  # JSON text: the figures differ by signal type
    ]
)
EVIDENCE = pa.schema(
    [
        pa.field("campaign_id", pa.string()),
        pa.field("signal_id", pa.string()),
        pa.field("platform", pa.string()),
        pa.field("post_id", pa.string()),
        pa.field("time", pa.string()),
    ]
)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _joined(values: Any) -> str:
    return ";".join(map(str, values or []))


def _counts(counts: Any) -> str:
    return ";".join(f"{k}:{v}" for k, v in (counts or {}).items()) if isinstance(counts, Mapping) else ""


def explanation_sentences(campaign: Mapping[str, Any]) -> list[str]:
    """The campaign's explanation, each sentence followed by the signal ids it cites: "... [S1, S2]"."""
    sentences = []
    for sentence in campaign.get("explanation") or []:
        if isinstance(sentence, Mapping):
            cited = ", ".join(map(str, sentence.get("evidence") or []))
            sentences.append(str(sentence.get("text", "")) + (f" [{cited}]" if cited else ""))
        else:
            sentences.append(str(sentence))
    return sentences


def _campaign_row(campaign: Mapping[str, Any]) -> dict[str, Any]:
    verdict = campaign.get("verdict") or {}
    counts = campaign.get("counts") or {}
    active = campaign.get("active_days")
    return {
        "campaign_id": _str(campaign.get("id")),
        "score": campaign.get("score"),
        "tier": _str(verdict.get("tier")),
        "verdict": _str(verdict.get("label")),
        "likely_inauthentic": campaign.get("likely_inauthentic"),
        "accounts": counts.get("accounts", len(campaign.get("accounts") or [])),
        "posts": counts.get("posts"),
        "platforms": _counts(counts.get("per_platform")),
        "languages": _counts(counts.get("per_language")),
        "first_seen": _str(campaign.get("first_seen")),
        "last_seen": _str(campaign.get("last_seen")),
        "active_days": active if isinstance(active, int) else None,
        "signals": _joined(campaign.get("signals")),
        "disarm": _joined(campaign.get("disarm")),
        "hashtags": _joined(h.get("tag") for h in campaign.get("hashtags") or [] if isinstance(h, Mapping)),
        "domains": _joined(d.get("domain") for d in campaign.get("domains") or [] if isinstance(d, Mapping)),
        "explanation": " ".join(explanation_sentences(campaign)),
    }


def _signals_of(campaign: Mapping[str, Any], signals: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    wanted = set(campaign.get("signals") or [])
    cid = campaign.get("id")
    return [s for s in signals if s.get("id") in wanted or (cid is not None and s.get("campaign") == cid)]


def campaign_tables(findings: Mapping[str, Any], con: duckdb.DuckDBPyConnection | None = None) -> dict[str, pa.Table]:
    """Per-campaign tables from a findings.json dict: ``campaigns``, ``accounts``, ``signals`` and ``evidence``.

    ``campaigns`` has one row per campaign (score, tier, counts, signal and
    DISARM ids, explanation); every other row carries its ``campaign_id``. A
    signal that two campaigns cite is listed under each, so one campaign's
    rows are the whole story. ``evidence`` has one row per evidence post, with
    its time when the signal gives one time per post; ``con`` (a connection
    to the case) fills the other times from the posts table, reading only
    the evidence posts.
    """
    signals = list(findings.get("signals") or [])
    camp: dict[str, list] = {f.name: [] for f in CAMPAIGNS}
    acc: dict[str, list] = {f.name: [] for f in ACCOUNTS}
    sig: dict[str, list] = {f.name: [] for f in SIGNALS}
    ev: dict[str, list] = {f.name: [] for f in EVIDENCE}
    for campaign in findings.get("campaigns") or []:
        cid = _str(campaign.get("id"))
        for k, v in _campaign_row(campaign).items():
            camp[k].append(v)
        for a in campaign.get("accounts") or []:
            row = {
                "campaign_id": cid,
                "campaign_score": campaign.get("score"),
                "platform": _str(a.get("platform")),
                "account_id": _str(a.get("account_id")),
                "handle": _str(a.get("handle")),
                "display_name": _str(a.get("display_name")),
                "role": _str(a.get("role")),
                "signals": ";".join(map(str, a.get("signals") or [])),
            }
            for k, v in row.items():
                acc[k].append(v)
        for s in _signals_of(campaign, signals):
            evidence = s.get("evidence") or {}
            post_ids = evidence.get("post_ids") or []
            times = evidence.get("times") or []
            paired = len(times) == len(post_ids)
            row = {
                "campaign_id": cid,
                "signal_id": _str(s.get("id")),
                "type": _str(s.get("type")),
                "summary": _str(s.get("summary")),
                "test": _str(s.get("test")),
                "accounts": len(s.get("accounts") or []),
                "evidence_posts": len(post_ids),
                "figures": json.dumps(s.get("figures") or {}, ensure_ascii=False, sort_keys=True),
            }
            for k, v in row.items():
                sig[k].append(v)
            for i, (platform, post_id) in enumerate(post_ids):
                ev["campaign_id"].append(cid)
                ev["signal_id"].append(row["signal_id"])
                ev["platform"].append(_str(platform))
                ev["post_id"].append(_str(post_id))
                ev["time"].append(_str(times[i]) if paired else None)
    evidence = pa.table(ev, schema=EVIDENCE)
    return {
        "campaigns": pa.table(camp, schema=CAMPAIGNS),
        "accounts": pa.table(acc, schema=ACCOUNTS),
        "signals": pa.table(sig, schema=SIGNALS),
        "evidence": evidence if con is None else evidence_times(con, evidence),
    }


def evidence_times(con: duckdb.DuckDBPyConnection, evidence: pa.Table) -> pa.Table:
    """``evidence`` with each empty ``time`` read from the case's posts (ISO 8601, as findings.json writes
    times); rows keep their order. One join on the evidence posts' keys: the cost follows the findings."""
    if not evidence.num_rows or evidence["time"].null_count == 0:
        return evidence
    numbered = evidence.append_column("_row", pa.array(range(evidence.num_rows), pa.int64()))
    with registered(con, _evidence=numbered):
        return (
            con.sql(
                """
            WITH wanted AS (SELECT DISTINCT platform, post_id FROM _evidence WHERE time IS NULL),
            found AS (
                SELECT p.platform, p.post_id, min(p.created_at) AS created_at
                FROM posts p SEMI JOIN wanted w ON p.platform = w.platform AND p.post_id = w.post_id
                GROUP BY ALL
            )
            SELECT e.campaign_id, e.signal_id, e.platform, e.post_id,
                   coalesce(e.time, CASE WHEN epoch_us(f.created_at) % 1000000 = 0
                       THEN strftime(f.created_at, '%Y-%m-%dT%H:%M:%S')
                       ELSE strftime(f.created_at, '%Y-%m-%dT%H:%M:%S.%f') END) AS time
            FROM _evidence e LEFT JOIN found f USING (platform, post_id)
            ORDER BY e._row
            """
            )
            .to_arrow_table()
            .cast(EVIDENCE)
        )


LABELS = pa.schema(
    [
        pa.field("label_id", pa.string()),
        pa.field("target_type", pa.string()),
        pa.field("platform", pa.string()),
        pa.field("target_id", pa.string()),
        pa.field("label", pa.string()),
        pa.field("note", pa.string()),
        pa.field("author", pa.string()),
        pa.field("created_at", pa.timestamp("us")),
        pa.field("members", pa.string()),  # campaign label: JSON list of [platform, account_id]
        pa.field("run_id", pa.string()),
        pa.field("current", pa.bool_()),
        pa.field("campaign", pa.string()),  # the campaign of these findings a current campaign label applies to
        pa.field("overlap", pa.float64()),  # Jaccard overlap of its members with that campaign's
    ]
)


def labels_table(rows: list[Mapping[str, Any]]) -> pa.Table:
    """Analyst labels (labels.label_rows) as a flat table, one row per label, history included."""
    cols: dict[str, list] = {f.name: [] for f in LABELS}
    for r in rows:
        for name in cols:
            v = r.get(name)
            if name == "members":
                v = None if v is None else json.dumps(v, ensure_ascii=False)
            elif name == "created_at" and isinstance(v, str):
                v = dt.datetime.fromisoformat(v)
            cols[name].append(v)
    return pa.table(cols, schema=LABELS)


def write_campaign_tables(
    findings: Mapping[str, Any],
    directory: str | Path,
    fmt: str = "csv",
    labels: list[Mapping[str, Any]] | None = None,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, Path]:
    """``campaign_tables`` written as ``campaigns.<fmt>``, ``accounts.<fmt>``, ``signals.<fmt>``,
    ``evidence.<fmt>`` in ``directory``; with ``labels`` (labels.label_rows) also ``labels.<fmt>``;
    with ``con`` (the case) evidence times the findings leave out come from its posts."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"table format must be 'csv' or 'parquet', got {fmt!r}")
    directory = Path(directory)
    tables = campaign_tables(findings, con)
    if labels is not None:
        tables["labels"] = labels_table(labels)
    return {name: write_table(t, directory / f"{name}.{fmt}") for name, t in tables.items()}
