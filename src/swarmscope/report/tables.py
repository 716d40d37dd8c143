"""CSV and Parquet tables of a run's campaigns, safe to open in a spreadsheet (tablefile.py writes them)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa

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
    "csv_safe",
    "join_lists",
    "labels_table",
    "neutralise_formulas",
    "write_campaign_tables",
    "write_parquet_batches",
    "write_table",
]


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


def _signals_of(campaign: Mapping[str, Any], signals: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    wanted = set(campaign.get("signals") or [])
    cid = campaign.get("id")
    return [s for s in signals if s.get("id") in wanted or (cid is not None and s.get("campaign") == cid)]


def campaign_tables(findings: Mapping[str, Any]) -> dict[str, pa.Table]:
    """Per-campaign tables from a findings.json dict: ``accounts``, ``signals`` and ``evidence``.

    Every row carries its ``campaign_id``. A signal that two campaigns cite is
    listed under each, so one campaign's rows are the whole story. ``evidence``
    has one row per evidence post, with its time when the signal gives one
    time per post.
    """
    signals = list(findings.get("signals") or [])
    acc: dict[str, list] = {f.name: [] for f in ACCOUNTS}
    sig: dict[str, list] = {f.name: [] for f in SIGNALS}
    ev: dict[str, list] = {f.name: [] for f in EVIDENCE}
    for campaign in findings.get("campaigns") or []:
        cid = _str(campaign.get("id"))
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
    return {
        "accounts": pa.table(acc, schema=ACCOUNTS),
        "signals": pa.table(sig, schema=SIGNALS),
        "evidence": pa.table(ev, schema=EVIDENCE),
    }


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
    findings: Mapping[str, Any], directory: str | Path, fmt: str = "csv", labels: list[Mapping[str, Any]] | None = None
) -> dict[str, Path]:
    """``campaign_tables`` written as ``accounts.<fmt>``, ``signals.<fmt>``, ``evidence.<fmt>`` in ``directory``;
    with ``labels`` (labels.label_rows) also ``labels.<fmt>``."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"table format must be 'csv' or 'parquet', got {fmt!r}")
    directory = Path(directory)
    tables = campaign_tables(findings)
    if labels is not None:
        tables["labels"] = labels_table(labels)
    return {name: write_table(t, directory / f"{name}.{fmt}") for name, t in tables.items()}
