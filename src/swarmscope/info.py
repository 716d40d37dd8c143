"""What a case holds: counts per platform, language and kind, date range, quarantine summary."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .enrich import pending_posts
from .store import Case, live_runs


@dataclass(frozen=True)
class CaseInfo:
    path: str
    posts: int
    accounts: int
    actions: int
    quarantined: int
    first_post: dt.datetime | None
    last_post: dt.datetime | None
    per_platform: list[tuple[str, int, int]]  # platform, posts, accounts
    per_language: list[tuple[str, int]]
    per_kind: list[tuple[str, int]]
    per_object_type: list[tuple[str, int]]
    quarantine_reasons: list[tuple[str, int]]  # reason (first words), rows
    runs: list[tuple[str, str, str]]  # run_id, command, status ('interrupted': its process died or was stopped)
    unenriched: int = 0  # posts an ingest stored whose enrichment the next ingest or detect will do


def info(case: str | Path) -> CaseInfo:
    """Summarise the case at ``case`` (read-only)."""
    path = Path(case)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such case file")
    with Case(path, read_only=True) as db:
        q = db.con.execute
        (first, last) = q("SELECT min(created_at), max(created_at) FROM posts").fetchall()[0]
        per_platform = q(
            """SELECT p.platform, p.n, coalesce(a.n, 0) FROM
                 (SELECT platform, count(*) n FROM posts GROUP BY 1) p
                 FULL JOIN (SELECT platform, count(*) n FROM accounts GROUP BY 1) a USING (platform)
               ORDER BY 2 DESC NULLS LAST"""
        ).fetchall()
        per_platform = [(pl, int(n or 0), int(a)) for pl, n, a in per_platform]
        lang = q("SELECT coalesce(lang, 'unknown'), count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        kind = q("SELECT kind, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        obj = q("SELECT object_type, count(*) FROM actions GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        # group reasons by their stable head (before '=' or '(' details)
        reasons = q(
            """SELECT trim(regexp_extract(reason, '^[^=(:]*')), count(*) FROM quarantine
               GROUP BY 1 ORDER BY 2 DESC, 1"""
        ).fetchall()
        # A run still 'running' that this process did not begin is one whose process died: no other process
        # can hold the case while this one has it open (Case._close_dead_runs marks it on the next write).
        live = live_runs()
        runs = [
            (r, c, "interrupted" if s == "running" and r not in live else s)
            for r, c, s in q("SELECT run_id, command, status FROM runs ORDER BY started_at").fetchall()
        ]
        has_state = q("SELECT count(*) FROM duckdb_tables() WHERE table_name = 'enrichment'").fetchall()[0][0]
        return CaseInfo(
            path=str(path),
            posts=db.count("posts"),
            accounts=db.count("accounts"),
            actions=db.count("actions"),
            quarantined=db.count("quarantine"),
            first_post=first,
            last_post=last,
            per_platform=per_platform,
            per_language=[(a, int(b)) for a, b in lang],
            per_kind=[(a, int(b)) for a, b in kind],
            per_object_type=[(a, int(b)) for a, b in obj],
            quarantine_reasons=[(a, int(b)) for a, b in reasons],
            runs=runs,
            unenriched=pending_posts(db) if has_state else 0,
        )
