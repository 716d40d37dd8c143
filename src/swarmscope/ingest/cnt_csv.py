"""The Coordination Network Toolkit's CSV input (QUT-Digital-Observatory/coordination-network-toolkit).

Eight columns, with a header row whose names the toolkit ignores: only the
order counts. In order: ``message_id, user_id, username, repost_id,
reply_id, message, timestamp, urls``. ``timestamp`` is seconds (the toolkit
only needs a consistent offset; here it is read as POSIX seconds, UTC);
``urls`` is space-separated. Empty ``repost_id``/``reply_id`` mean none.

Auto-detection needs the documented column names; a file with other names
in that order is read with ``--format cnt_csv``. Kind: ``repost_id`` →
repost of that message; else ``reply_id`` → reply. Platform:
``options.platform``, else ``other``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from . import tabular as t
from .base import Batch, ReadOptions
from .jsonsql import required

NAME = "cnt_csv"
DESCRIPTION = (
    "Coordination Network Toolkit CSV: message_id, user_id, username, repost_id, reply_id, message, timestamp, urls"
)

_SPACES = "\\s+"  # the toolkit splits urls on single spaces; any whitespace here
COLUMNS = ("message_id", "user_id", "username", "repost_id", "reply_id", "message", "timestamp", "urls")


def sniff(path: Path, head: bytes) -> bool:
    return t.header_names(head) == list(COLUMNS)


def _check(header: t.Header) -> None:
    if len(header.names) != len(COLUMNS):
        raise t.FileProblem(
            f"not a Coordination Network Toolkit CSV: expected {len(COLUMNS)} columns in the order "
            f"{', '.join(COLUMNS)}; found {len(header.names)}"
        )


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    platform = options.platform or "other"

    def transform(con, h: t.Header, q) -> dict:
        # by position: the toolkit ignores the header's names
        col = dict(zip(COLUMNS, h.names))

        def f(name: str) -> str:
            return t.field(h, col[name])

        t.stage(
            con,
            q,
            f"""SELECT '{platform}' AS platform, {f("message_id")} AS post_id, {f("user_id")} AS account_id,
                       {f("username")} AS handle,
                       {t.epoch(f("timestamp"))} AS created_at, {f("timestamp")} AS created_raw,
                       {t.text_field(h, col["message"])} AS text,
                       CASE WHEN {f("repost_id")} IS NOT NULL THEN 'repost'
                            WHEN {f("reply_id")} IS NOT NULL THEN 'reply' ELSE 'post' END AS kind,
                       coalesce({f("repost_id")}, {f("reply_id")}) AS parent_post_id,
                       {t.list_of(f("urls"), sep=_SPACES)} AS urls,
                       {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw
                FROM _rows""",
            [
                required({col["message_id"]: "post_id", col["user_id"]: "account_id", col["timestamp"]: "created_raw"}),
                f"CASE WHEN created_at IS NULL THEN {t.literal('unparseable timestamp ' + col['timestamp'] + '=')} "
                f"|| created_raw || ' (expected seconds)' END",
            ],
        )
        posts = con.sql("SELECT *, ? AS source_file FROM _stage", params=[q.source_file]).to_arrow_table()
        accounts = con.sql(
            """SELECT platform, account_id, handle, created_at AS snapshot_at, ? AS source_file FROM _stage
               QUALIFY row_number() OVER (PARTITION BY account_id ORDER BY created_at DESC, record DESC) = 1""",
            params=[q.source_file],
        ).to_arrow_table()
        return {"posts": posts, "accounts": accounts}

    yield from t.drive(path, options, _check, transform)
