"""What every importer shares: the batch it yields, options, and bad-record handling.

An importer is a module in ``ingest/`` with:

- ``NAME``: the format name users pass to ``--format``;
- ``DESCRIPTION``: one line for ``--help`` and for unknown-format errors;
- ``sniff(path, head) -> bool``: does this file look like the format?
  ``head`` is the file's first bytes (``SNIFF_BYTES``);
- ``read(path, options) -> Iterator[Batch]``: canonical batches, streaming.

Every record an importer reads ends in exactly one place: a row of
``Batch.posts`` or a row of ``Batch.quarantine``. The store then counts each
post row as inserted or duplicate, so per input
``records == inserted + duplicates + quarantined``.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.compute as pc

from .. import model

SNIFF_BYTES = 64 * 1024
# A record (a line, an array element, a CSV row) larger than this is
# quarantined without being held whole in memory.
MAX_RECORD_BYTES = 16 * 1024 * 1024
BATCH_BYTES = 32 * 1024 * 1024


class IngestError(Exception):
    """A whole input cannot be read (unknown format, unreadable file). Message names the file."""


@dataclass(frozen=True)
class ReadOptions:
    batch_bytes: int = BATCH_BYTES
    max_record_bytes: int = MAX_RECORD_BYTES
    # Generic CSV/Parquet: canonical column -> source column.
    column_map: dict[str, str] = field(default_factory=dict)
    # Platform to use where the format does not say (generic CSV, CooRTweet layout).
    platform: str | None = None
    # IANA zone of times the source writes without a zone (Telegram Desktop's old export,
    # an ambiguous CrowdTangle abbreviation; docs/formats.md). Times with a zone ignore it.
    timezone: str | None = None
    # The most a compressed input (.gz, .zst, a .zip member) may decompress to; None: 100 times
    # its compressed size, at least 256 MiB (ingest/compressed.py, docs/formats.md).
    max_decompressed_bytes: int | None = None

    def __post_init__(self) -> None:
        if self.max_decompressed_bytes is not None and self.max_decompressed_bytes < 1:
            raise IngestError(f"max_decompressed_bytes must be positive, not {self.max_decompressed_bytes}")
        if self.platform is not None and self.platform not in model.PLATFORMS:
            raise IngestError(f"unknown platform {self.platform!r}; platforms: {', '.join(model.PLATFORMS)}")
        if self.timezone is not None and not _known_zone(self.timezone):
            raise IngestError(
                f"unknown time zone --timezone {self.timezone!r}: expected an IANA zone name such as "
                "Europe/Moscow, America/Sao_Paulo or UTC"
            )


def _known_zone(name: str) -> bool:
    import zoneinfo

    # "localtime" is the system's link, not an IANA name (and DuckDB's ICU does not know it)
    return name not in ("localtime", "posixrules") and name in zoneinfo.available_timezones()


@dataclass
class Batch:
    posts: pa.Table
    accounts: pa.Table
    quarantine: pa.Table
    bytes_done: int = 0  # bytes of the input consumed so far, for progress
    extra_actions: pa.Table | None = None  # actions the format states directly (CooRTweet layout)
    # What one record of this input is: a post (most formats) or an account
    # (profile-only inputs such as the X archive users file).
    record_kind: str = "posts"
    # A batch joined from several (``coalesce``): how many rows of ``accounts`` each brought, in order.
    # The store merges each part in turn, as it merged the batches one by one (empty: one part).
    account_parts: tuple[int, ...] = ()

    @property
    def account_tables(self) -> list[pa.Table]:
        """``accounts`` in the parts the store merges one after the other."""
        if not self.account_parts:
            return [self.accounts]
        starts = [0]
        for n in self.account_parts[:-1]:
            starts.append(starts[-1] + n)
        return [self.accounts.slice(s, n) for s, n in zip(starts, self.account_parts)]

    @property
    def records(self) -> int:
        main = self.posts if self.record_kind == "posts" else self.accounts
        return main.num_rows + self.quarantine.num_rows


class Quarantine:
    """Collects bad records of one input while reading; excerpt is cut, never the whole record."""

    def __init__(self, source_file: str):
        self.source_file = source_file
        self.records: list[int | None] = []
        self.reasons: list[str] = []
        self.excerpts: list[str] = []

    def add(self, record: int | None, reason: str, raw: str | bytes | None) -> None:
        if isinstance(raw, bytes):
            raw = raw[: model.EXCERPT_CHARS * 4].decode("utf-8", errors="replace")
        self.records.append(record)
        self.reasons.append(reason)
        self.excerpts.append((raw or "")[: model.EXCERPT_CHARS])

    def add_many(self, records: list[int], reasons: list[str], excerpts: list[str]) -> None:
        self.records.extend(records)
        self.reasons.extend(reasons)
        self.excerpts.extend(e[: model.EXCERPT_CHARS] if e else "" for e in excerpts)

    def __len__(self) -> int:
        return len(self.records)

    def take(self) -> pa.Table:
        """The collected rows as a quarantine table; the collector is emptied."""
        n = len(self.records)
        t = pa.table(
            {
                "source_file": pa.array([self.source_file] * n, pa.string()),
                "record": pa.array(self.records, pa.int64()),
                "reason": pa.array(self.reasons, pa.string()),
                "excerpt": pa.array(self.excerpts, pa.string()),
            }
        )
        self.records, self.reasons, self.excerpts = [], [], []
        return model.conform(t, "quarantine")


def make_batch(
    posts: pa.Table | None,
    accounts: pa.Table | None,
    quarantine: Quarantine | pa.Table | None,
    bytes_done: int = 0,
    extra_actions: pa.Table | None = None,
    record_kind: str = "posts",
) -> Batch:
    if isinstance(quarantine, Quarantine):
        quarantine = quarantine.take()
    return Batch(
        posts=model.conform(posts, "posts") if posts is not None else model.empty("posts"),
        accounts=model.conform(accounts, "accounts") if accounts is not None else model.empty("accounts"),
        quarantine=quarantine if quarantine is not None else model.empty("quarantine"),
        bytes_done=bytes_done,
        extra_actions=extra_actions,
        record_kind=record_kind,
    )


CLASSIC_RETWEET = r"^RT @([A-Za-z0-9_]{1,15}):"


def classic_retweets(posts: pa.Table) -> pa.Table:
    """X posts written as classic retweets ("RT @handle: text") become reposts of @handle.

    Applied to the formats that declare ``CLASSIC_RETWEETS`` (no retweet
    field of their own: generic tables, 4CAT). Formats with a retweet field
    (X API v2, archives' ``is_retweet``) are left alone: reading every text
    again cost the X v2 ingest 240 MiB of peak memory for nothing.
    Exports without a retweet field (CSV dumps, the IRA release)
    keep the old convention: the text of a retweet starts with "RT @handle:".
    Such a post shares someone else's text; stored as a post, it would count
    as its author writing the text and look like copy-paste (a crowd that
    retweets one post would look like a copy-paste crew). The handle goes to
    ``parent_account_name`` where that is empty; the original's id stays
    unknown (enrich links it by text, enrich/actions.py).
    """
    if not posts.num_rows:
        return posts
    text = posts["text"]
    hit = pc.and_(
        pc.and_(pc.equal(posts["platform"], "x"), pc.equal(posts["kind"], "post")),
        pc.starts_with(text, "RT @"),
    )
    hit = pc.and_(pc.fill_null(hit, False), pc.fill_null(pc.match_substring_regex(text, CLASSIC_RETWEET), False))
    if not pc.any(hit).as_py():
        return posts
    handle = pc.replace_substring_regex(
        pc.utf8_slice_codeunits(text, 0, 24), r"(?s)^RT @([A-Za-z0-9_]{1,15}):.*$", r"\1"
    )
    kind = pc.if_else(hit, "repost", posts["kind"])
    name = posts["parent_account_name"]
    name = pc.if_else(pc.and_(hit, pc.is_null(name)), handle, name)
    posts = posts.set_column(posts.schema.get_field_index("kind"), "kind", kind)
    return posts.set_column(posts.schema.get_field_index("parent_account_name"), "parent_account_name", name)


def describe(path: Path, record: int | None = None) -> str:
    return f"{path}" + (f", record {record}" if record is not None else "")


def as_dict(options: ReadOptions) -> dict[str, Any]:
    return {
        "batch_bytes": options.batch_bytes,
        "max_record_bytes": options.max_record_bytes,
        "column_map": dict(options.column_map),
        "platform": options.platform,
        "timezone": options.timezone,
        "max_decompressed_bytes": options.max_decompressed_bytes,
    }


# The store's unit of work. DuckDB (2.0) rewrites the rows a small transaction appended at its next
# commits or at the checkpoint; from about 200,000 rows a transaction its rows go into the table as
# they are. IRA's 1.67M posts appended in one thread (the rows of its posts table): in transactions
# of 80,000 rows (its CSV reader's batches) 10.5 s, of 130,000-184,320 rows 8.4-8.7 s, of 200,000,
# 220,000, 245,760, 500,000 or 2M rows 4.3-4.6 s. The X v2 reader's batches (about 220,000 posts)
# pass as they are (docs/benchmarks.md, "The store's transactions").
STORE_POSTS = 200_000
STORE_ARROW_BYTES = 256 << 20  # ... or about this much Arrow data, whichever comes first (memory bound)
# A file's first transactions: from this many posts, doubling up to STORE_POSTS. The progress bar moves
# as batches are stored; at 10M posts the first whole transaction stood it still for 10.8 s. The few
# smaller transactions cost DuckDB a rewrite of their rows (above): a fraction of a second.
FIRST_STORE_POSTS = STORE_POSTS // 8


def coalesce(
    batches: Iterator[Batch],
    min_posts: int = STORE_POSTS,
    max_bytes: int = STORE_ARROW_BYTES,
    first_posts: int | None = None,
) -> Iterator[Batch]:
    """The reader's batches joined, in order, into batches of at least ``min_posts`` posts (or ``max_bytes``).

    Every record stays in exactly one batch, so the counts are unchanged; each
    batch is still one store transaction. Batches of a different kind (an
    accounts file's) are not joined to posts. When the reader fails, what it
    read before is handed on first (then the error), as it was batch by batch.
    ``first_posts``: the first batch needs only this many posts, each next one
    twice as many as the one before, up to ``min_posts`` (the first batches of a
    file are stored sooner).
    """
    held: list[Batch] = []
    posts = size = 0
    goal = min_posts if first_posts is None else min(first_posts, min_posts)

    def joined() -> Batch:
        if len(held) == 1:
            return held[0]
        extras = [b.extra_actions for b in held if b.extra_actions is not None]
        return Batch(
            posts=pa.concat_tables([b.posts for b in held]),
            accounts=pa.concat_tables([b.accounts for b in held]),
            quarantine=pa.concat_tables([b.quarantine for b in held]),
            bytes_done=held[-1].bytes_done,
            extra_actions=pa.concat_tables([model.conform(a, "actions") for a in extras]) if extras else None,
            record_kind=held[0].record_kind,
            account_parts=tuple(t.num_rows for b in held for t in b.account_tables),
        )

    try:
        for batch in batches:
            if held and batch.record_kind != held[0].record_kind:
                yield joined()
                held, posts, size = [], 0, 0
            held.append(batch)
            posts += batch.posts.num_rows
            size += batch.posts.nbytes + batch.accounts.nbytes
            if posts >= goal or size >= max_bytes:
                yield joined()
                held, posts, size = [], 0, 0
                goal = min(goal * 2, min_posts)
    except Exception:
        if held:
            yield joined()
        raise
    if held:
        yield joined()


T = TypeVar("T")


def read_ahead(batches: Iterator[T], depth: int = 1) -> Iterator[T]:
    """The reader's batches (or any items), read ``depth`` ahead in a thread of their own.

    The store appends one batch (DuckDB, GIL released) while the reader parses
    and transforms the next (pyarrow, DuckDB, numpy: GIL released in their
    kernels), so both cores work through the whole file instead of taking
    turns. Batches come out in the reader's order; an exception in the reader
    is raised here, at the batch where it happened. When the consumer stops
    early (an error in the store, an interrupt), the reader is told to stop
    and closes itself in its own thread at its next batch.
    """
    slots: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    done = object()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                slots.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(done)
        except BaseException as e:  # handed to the consumer, raised there
            put(_Failed(e))
        finally:
            close = getattr(batches, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="ingest-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is done:
                break
            if isinstance(item, _Failed):
                raise item.error
            yield item
        worker.join()
    finally:
        stop.set()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error
