"""Records inside saved API responses, shared by the platform JSON importers (TikTok, YouTube, Bluesky, VK).

Researchers save API responses three ways, and each importer accepts all
three without being told which:

- one response per file, pretty-printed or not (``{"items": [...]}``);
- a JSON array of responses, or of bare records (``[{...}, {...}]``);
- JSON lines: one response or one bare record per line.

A response ("page") is an object holding one of the format's *containers*
(``$.items``, ``$.data.videos``...); anything else is a bare record. The
importer's ``parse`` sees one table ``_items(record, pos, src, j)``: ``j``
the record's JSON, ``src`` the container it came from ('' for a bare
record), ``pos`` its 1-based position in that container (0 for a bare
record), ``record`` the number a user can find it by: the line (JSON lines),
the array element (an array of responses or records), or the element of the
container (a one-response document). Records of one page share the page's
number; a quarantine reason names the position (``note_sql``). A page whose
containers are all empty holds no record.

Documents stream through jsonstream.read_arrays (bounded memory, a cut file
keeps every record before the cut); lines through lines.iter_lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pyarrow as pa

from .. import store
from .base import SNIFF_BYTES, Batch, Quarantine, ReadOptions, make_batch
from .compressed import open_input
from .jsonsql import quarantine_invalid_json, register_records
from .jsonstream import _BOM, Elements, read_arrays
from .lines import iter_lines

Parse = Callable[[duckdb.DuckDBPyConnection, Quarantine], "tuple[pa.Table, pa.Table, pa.Table | None]"]


FIRST_LINE_BYTES = 16 * 1024 * 1024  # the longest first line read to judge the layout


def layout(path: Path) -> str:
    """'empty', 'lines' (JSON lines) or 'document' (one JSON document), judged from the file's first line.

    The first line is read whole (up to ``FIRST_LINE_BYTES``): a saved API page
    on one line is often longer than the sniffing head (a commentThreads page
    of 100 threads is about 105 KB).
    """
    with open_input(path) as fh:
        head = fh.read(SNIFF_BYTES)
        body = head.removeprefix(_BOM).lstrip()
        if not body.strip():
            return "empty"
        if body.startswith(b"["):
            return "document"
        if not body.startswith(b"{"):
            return "lines"  # not JSON at all: each line is quarantined with its reason
        if b"\n" not in body:  # the first line goes on past the head: read the rest of it
            body += fh.readline(FIRST_LINE_BYTES)
        rest_head = fh.read(256) if b"\n" not in body[:-1] else b""
    first, _, rest = body.partition(b"\n")
    rest = rest or rest_head
    try:
        json.loads(first)
        return "lines"
    except (ValueError, RecursionError):
        pass
    # a first line cut or broken, followed by more objects: still lines
    return "lines" if first.rstrip().endswith(b"}") and rest.lstrip().startswith(b"{") else "document"


def _spec(containers: dict[str, str]) -> str:
    """from_json type that reads every container of a page as a list of JSON texts, in one parse."""
    tree: dict = {}
    for path in containers.values():
        node = tree
        keys = path.removeprefix("$.").split(".")
        for k in keys[:-1]:
            node = node.setdefault(k, {})
        node[keys[-1]] = ["JSON"]
    return json.dumps(tree)


def _explode(con: duckdb.DuckDBPyConnection, containers: dict[str, str], src: str | None) -> None:
    """Build ``_items`` from ``_json``: records of a known container as they are, pages unnested."""
    if src is not None:  # elements of a container array found by the scanner: records
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _items AS SELECT record, 0::BIGINT AS pos, '{src}' AS src, j FROM _json"
        )
        return
    names = list(containers)
    cols = ", ".join(f"p.{'.'.join(containers[n].removeprefix('$.').split('.'))} AS c{k}" for k, n in enumerate(names))
    any_page = " OR ".join(f"c{k} IS NOT NULL" for k in range(len(names)))
    # Materialised: an expression left inline next to an unnest is re-evaluated per unnested row.
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE _pages AS SELECT record, j, {cols}, ({any_page}) AS is_page "
        f"FROM (SELECT record, j, TRY(from_json(j, '{_spec(containers)}')) AS p FROM _json)"
    )
    parts = ["SELECT record, 0::BIGINT AS pos, '' AS src, j FROM _pages WHERE NOT is_page"]
    parts += [
        f"SELECT record, unnest(generate_series(1, len(c{k}))) AS pos, '{n}' AS src, unnest(c{k}) AS j "
        f"FROM _pages WHERE is_page AND len(c{k}) > 0"
        for k, n in enumerate(names)
    ]
    con.execute("CREATE OR REPLACE TEMP TABLE _items AS " + " UNION ALL ".join(parts))


def note_sql(src: str = "src", pos: str = "pos") -> str:
    """SQL suffix for a quarantine reason naming a record's place in its page, e.g. ' (items[3])'."""
    return f"(CASE WHEN {pos} > 0 THEN ' (' || {src} || '[' || ({pos} - 1) || '])' ELSE '' END)"


def read_records(
    path: Path, options: ReadOptions, containers: dict[str, str], parse: Parse, not_found: str
) -> Iterator[Batch]:
    """Stream ``path`` (document or JSON lines); ``parse(con, q)`` turns ``_items`` into
    (posts, accounts, extra_actions) after quarantining what it cannot use."""
    mode = layout(path)
    q = Quarantine(str(path))
    if mode == "empty":
        q.add(None, "empty file", None)
        yield make_batch(None, None, q, path.stat().st_size)
        return
    if mode == "lines":
        con = store.connect()
        try:
            for chunk in iter_lines(path, q, options.batch_bytes, options.max_record_bytes):
                register_records(con, chunk.numbers, chunk.lines)
                quarantine_invalid_json(con, q)
                _explode(con, containers, None)
                posts, accounts, actions = parse(con, q)
                yield make_batch(posts, accounts, q, chunk.bytes_done, extra_actions=actions)
        finally:
            con.close()
        if len(q):
            yield make_batch(None, None, q, path.stat().st_size)
        return
    by_path = {tuple(p.removeprefix("$.").split(".")): name for name, p in containers.items()}
    pending: list[pa.Table | None] = []

    def on_part(con: duckdb.DuckDBPyConnection, q: Quarantine, part: Elements) -> tuple[pa.Table, pa.Table]:
        _explode(con, containers, by_path.get(part.array.path))
        posts, accounts, actions = parse(con, q)
        pending.append(actions)
        return posts, accounts

    def wanted(keys: tuple[str, ...]) -> bool:
        return keys == () or keys in by_path

    depth = 1 + max(len(k) for k in by_path)
    # read_arrays makes the batch right after on_part; the actions ride along with it
    for batch in read_arrays(path, options, wanted, depth, on_part, not_found):
        batch.extra_actions = pending.pop() if pending else None
        yield batch


def collapse_accounts(con: duckdb.DuckDBPyConnection, select_sql: str, params: list | None = None) -> pa.Table:
    """One row per account from ``select_sql``: each field's latest non-NULL value.

    A page can describe one account several times (its posts, a profile
    object without a time); the store keeps one row per account and batch,
    so the pieces are merged here rather than one snapshot dropping another.
    """
    raw = con.sql(select_sql, params=params or []).to_arrow_table()
    con.register("_acc_raw", raw)
    when = "coalesce(snapshot_at, TIMESTAMP '0001-01-01')"
    aggs = ", ".join(
        f"arg_max({c}, {when}) FILTER (WHERE {c} IS NOT NULL) AS {c}"
        for c in raw.column_names
        if c not in ("platform", "account_id", "snapshot_at")
    )
    out = con.sql(
        f"SELECT platform, account_id, {aggs}, max(snapshot_at) AS snapshot_at FROM _acc_raw "
        f"WHERE account_id IS NOT NULL GROUP BY platform, account_id"
    ).to_arrow_table()
    con.unregister("_acc_raw")
    return out
