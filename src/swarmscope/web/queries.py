"""The workbench's reads of the case: DuckDB SQL, each bounded (LIMIT) so a page stays fast on a big case.

Every function takes a cursor of the server's one connection (a cursor per
request: DuckDB connections are not shared between threads) and returns
plain JSON-ready values. Times are ISO 8601 strings in UTC without a zone
suffix, as in findings.json.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import duckdb
import pyarrow as pa

from ..findings import post_url
from ..search import account_posts_sql

POST_COLUMNS = ("platform", "post_id", "account_id", "handle", "created_at", "kind", "lang", "text")
POST_SELECT = "p.platform, p.post_id, p.account_id, p.created_at, p.kind, p.lang, p.text"


def with_handles(posts_sql: str, order_by: str) -> str:
    """SQL: the posts of ``posts_sql`` (selecting POST_SELECT and any extras) with their author's handle.

    The posts are picked first and only they are joined to accounts: joining
    before filtering builds a hash table of every account on each request.
    """
    return (
        f"WITH p AS MATERIALIZED ({posts_sql}) SELECT p.*, a.handle FROM p "
        f"LEFT JOIN accounts a ON a.platform = p.platform AND a.account_id = p.account_id ORDER BY {order_by}"
    )


def iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, (dt.datetime, dt.date)) else v


def post_objects(rows: list[dict]) -> list[dict]:
    """Post rows as the API's post objects (with the public address where the id makes one)."""
    return [{**{k: iso(r.get(k)) for k in POST_COLUMNS}, "url": post_url(r["platform"], r["post_id"])} for r in rows]


def members_table(members: list[tuple[str, str]] | set[tuple[str, str]]) -> pa.Table:
    ms = sorted(members)
    return pa.table(
        {"platform": pa.array([m[0] for m in ms], pa.string()), "account_id": pa.array([m[1] for m in ms], pa.string())}
    )


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list | dict | None = None) -> list[dict]:
    return con.sql(sql, params=params or None).to_arrow_table().to_pylist()


# -- case overview -------------------------------------------------------------


def case_overview(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    posts, accounts = con.execute("SELECT (SELECT count(*) FROM posts), (SELECT count(*) FROM accounts)").fetchall()[0]
    per_platform: dict[str, dict[str, int]] = {}
    for p, n in con.execute("SELECT platform, count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall():
        per_platform[p] = {"posts": int(n), "accounts": 0}
    for p, n in con.execute("SELECT platform, count(*) FROM accounts GROUP BY 1 ORDER BY 2 DESC, 1").fetchall():
        per_platform.setdefault(p, {"posts": 0, "accounts": 0})["accounts"] = int(n)
    per_language = {
        lang: int(n)
        for lang, n in con.execute(
            "SELECT coalesce(lang, 'unknown'), count(*) FROM posts GROUP BY 1 ORDER BY 2 DESC, 1"
        ).fetchall()
    }
    timeline = [
        {"day": d.isoformat(), "platform": p, "posts": int(n)}
        for d, p, n in con.execute(
            "SELECT created_at::DATE AS day, platform, count(*) FROM posts WHERE created_at IS NOT NULL "
            "GROUP BY ALL ORDER BY day, platform"
        ).fetchall()
    ]
    runs = []
    for r in _rows(
        con, "SELECT run_id, command, parameters, started_at, ended_at, status FROM runs ORDER BY started_at"
    ):
        try:
            r["parameters"] = json.loads(r["parameters"]) if r["parameters"] else None
        except ValueError:
            pass
        runs.append({k: iso(v) for k, v in r.items()})
    q_rows = [
        {"source": s, "reason": reason, "rows": int(n)}
        for s, reason, n in con.execute(
            "SELECT source_file, reason, count(*) FROM quarantine GROUP BY ALL ORDER BY 3 DESC, 1, 2 LIMIT 200"
        ).fetchall()
    ]
    q_total = con.execute("SELECT count(*) FROM quarantine").fetchall()[0][0]
    return {
        "posts": int(posts),
        "accounts": int(accounts),
        "per_platform": per_platform,
        "per_language": per_language,
        "timeline": timeline,
        "runs": runs,
        "quarantine": {"total": int(q_total), "rows": q_rows},
    }


# -- posts -----------------------------------------------------------------------


def posts_by_ids(con: duckdb.DuckDBPyConnection, ids: list[tuple[str, str]]) -> list[dict]:
    """The posts named by (platform, post_id), in the order asked; unknown ids are left out."""
    ids = list(dict.fromkeys(ids))
    if not ids:
        return []
    con.register(
        "_want",
        pa.table({"platform": [i[0] for i in ids], "post_id": [i[1] for i in ids], "ord": list(range(len(ids)))}),
    )
    try:
        rows = _rows(
            con,
            with_handles(f"SELECT {POST_SELECT}, w.ord FROM _want w JOIN posts p USING (platform, post_id)", "p.ord"),
        )
    finally:
        con.unregister("_want")
    return post_objects(rows)


def account_row(con: duckdb.DuckDBPyConnection, platform: str, account_id: str) -> dict | None:
    rows = _rows(con, "SELECT * FROM accounts WHERE platform = ? AND account_id = ?", [platform, account_id])
    return {k: iso(v) for k, v in rows[0].items()} if rows else None


def handles(con: duckdb.DuckDBPyConnection, accounts: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
    """The accounts' handles, by a lookup of their ids: a join with the accounts table hashes all of it
    (an account page's 20 co-actors on the 10M case: 45 -> 20 ms)."""
    if not accounts:
        return {}
    wanted = set(accounts)
    rows = con.execute(
        "SELECT platform, account_id, handle FROM accounts WHERE account_id IN (SELECT unnest($ids))",
        {"ids": sorted({a for _, a in wanted})},
    ).fetchall()
    return {(p, i): h for p, i, h in rows if (p, i) in wanted}


def account_activity(con: duckdb.DuckDBPyConnection, platform: str, account_id: str) -> dict[str, Any]:
    n, first, last = con.execute(
        f"SELECT count(*), min(p.created_at), max(p.created_at) FROM {account_posts_sql(con)}",
        {"platform": platform, "account_id": account_id},
    ).fetchall()[0]
    return {"posts_count": int(n), "first_post": iso(first), "last_post": iso(last)}


def account_posts(
    con: duckdb.DuckDBPyConnection, platform: str, account_id: str, offset: int, limit: int
) -> tuple[int, list[dict]]:
    """One page of the account's posts, newest first, and their total.

    Two statements: a count(*) OVER () in the page query would sort every
    post of the account instead of keeping the top ``limit`` (5x slower).
    Both read the posts through the search index's account doc set when it
    is current (search.account_posts_sql).
    """
    posts = account_posts_sql(con)
    who = {"platform": platform, "account_id": account_id}
    total = con.execute(f"SELECT count(*) FROM {posts}", who).fetchall()[0][0]
    rows = _rows(
        con,
        with_handles(
            f"""SELECT {POST_SELECT} FROM {posts}
                ORDER BY p.created_at DESC NULLS LAST, p.post_id LIMIT {int(limit)} OFFSET {int(offset)}""",
            "p.created_at DESC NULLS LAST, p.post_id",
        ),
        who,
    )
    return int(total), post_objects(rows)


# -- campaign pages ----------------------------------------------------------------


def hour_of_week(con: duckdb.DuckDBPyConnection, members: list[tuple[str, str]]) -> list[list[int]]:
    """Posts of the accounts per (weekday, hour), UTC, Monday first: 7 rows of 24."""
    grid = [[0] * 24 for _ in range(7)]
    if not members:
        return grid
    con.register("_m", members_table(members))
    try:
        rows = con.execute("""SELECT isodow(p.created_at) - 1, hour(p.created_at), count(*)
                              FROM posts p JOIN _m USING (platform, account_id)
                              WHERE p.created_at IS NOT NULL GROUP BY ALL""").fetchall()
    finally:
        con.unregister("_m")
    for d, h, n in rows:
        grid[int(d)][int(h)] = int(n)
    return grid


def message_posts(con: duckdb.DuckDBPyConnection, messages: list[dict]) -> list[dict]:
    """The campaign's messages as findings.json gives them (campaigns/copies.py), with their posts read from the case.

    The counts are the findings' own, so the page, the report and the exports
    say the same; only the posts' text, handle and address are looked up.
    """
    refs = sorted({(p, i) for m in messages for p, i in m.get("post_ids") or []})
    rows: list[dict] = []
    if refs:
        con.register("_refs", pa.table({"platform": [r[0] for r in refs], "post_id": [r[1] for r in refs]}))
        try:
            chosen = f"SELECT {POST_SELECT} FROM posts p JOIN _refs USING (platform, post_id)"
            rows = _rows(con, with_handles(chosen, "p.created_at, p.platform, p.post_id"))
        finally:
            con.unregister("_refs")
    by_ref = {(r["platform"], r["post_id"]): r for r in post_objects(rows)}
    out = []
    for m in messages:
        posts = [by_ref[(p, i)] for p, i in m.get("post_ids") or [] if (p, i) in by_ref]
        out.append(
            {
                "text": m.get("text") or (posts[0]["text"] if posts else None),
                "copies": int(m.get("posts") or 0),
                "accounts": int(m.get("accounts") or 0),
                "first": m.get("first_at"),
                "last": m.get("last_at"),
                "posts": [
                    {k: p[k] for k in ("platform", "post_id", "account_id", "handle", "created_at", "text", "url")}
                    for p in posts
                ],
            }
        )
    return out
