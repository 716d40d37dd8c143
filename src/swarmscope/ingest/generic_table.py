"""Any CSV or Parquet table, read through a user-given column map.

Never auto-detected (``sniff`` is always False): a table of unknown meaning
must not be guessed into posts. Use ``--format generic_table`` with
``options.column_map`` (canonical posts column → source column; required
``post_id``, ``account_id``, ``created_at``) and ``options.platform`` (else
``other``; a mapped ``platform`` column wins row by row).

Mappable: every posts column (model.POSTS) except the bookkeeping ones
(``source_file``, ``source_record``, ``run_id``, ``platform`` is allowed),
plus account fields ``handle``, ``display_name``, ``description``,
``followers``, ``following``, ``location``, ``account_lang``, which give an
account row per author.

- ``created_at``: ISO 8601 (an offset or 'Z' is converted to UTC; no zone
  means UTC) or POSIX seconds; a number of 1e11 or more is milliseconds.
  In Parquet a timestamp column is used as it is (a zone-aware one in UTC).
- list columns (``hashtags``, ``urls``, ``mentions``, ``media``): a list
  literal (``["a", "b"]``, ``['a', 'b']``, ``[a, b]``) or items separated by
  commas and/or whitespace; a Parquet list column is used as it is.
  Without a ``hashtags`` column the hashtags are read from the text (``#``
  then letters, digits or underscores, not inside a word or URL: the rule of
  the Telegram and YouTube importers), so bursts and narratives see them.
  URLs and mentions are not (yet): URLs would feed the links network, whose
  effect on such archives is not checked, and a handle's syntax depends on
  the platform.
- ``kind``: one of model.POST_KINDS (``retweet`` is read as repost);
  another value is quarantined. Without a kind column (or where its cell
  is empty): ``post``, or ``reply`` where ``parent_post_id`` is mapped and set.

Records are data rows (CSV: header excluded; Parquet: row number from 1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .. import model, store
from . import tabular as t
from .base import Batch, IngestError, Quarantine, ReadOptions, make_batch
from .compressed import local_path, open_input
from .jsonsql import required
from .telethon_json import HASHTAG_RE

NAME = "generic_table"
DESCRIPTION = "any CSV or Parquet table with --map canonical=source columns (never auto-detected)"
# No retweet field: "RT @handle: text" rows are reposts (base.classic_retweets).
CLASSIC_RETWEETS = True

LIST_SEPARATOR = "[,\\s]+"  # commas and/or whitespace between list items
REQUIRED = ("post_id", "account_id", "created_at")
LISTS = ("hashtags", "urls", "mentions", "media")
COUNTS = ("like_count", "repost_count", "reply_count", "quote_count", "view_count")
ACCOUNT_FIELDS = ("handle", "display_name", "description", "followers", "following", "location", "account_lang")
MAPPABLE = (
    tuple(f.name for f in model.POSTS if f.name not in ("source_file", "source_record", "run_id")) + ACCOUNT_FIELDS
)


def sniff(path: Path, head: bytes) -> bool:
    return False


def _check_options(options: ReadOptions) -> None:
    cmap = options.column_map
    if not cmap:
        raise IngestError(
            "generic_table needs a column map: --map post_id=COL --map account_id=COL "
            "--map created_at=COL (and any of: " + ", ".join(MAPPABLE) + ")"
        )
    missing = [c for c in REQUIRED if c not in cmap]
    if missing:
        raise IngestError(f"generic_table column map lacks required {', '.join(missing)}")
    unknown = [c for c in cmap if c not in MAPPABLE]
    if unknown:
        raise IngestError(f"generic_table cannot map {', '.join(unknown)}; mappable: {', '.join(MAPPABLE)}")


def _source(cmap: dict[str, str], header: t.Header) -> dict[str, str]:
    """canonical -> source column as the file spells it; FileProblem naming what is missing."""
    out, missing = {}, []
    for canon, src in cmap.items():
        actual = header.find(src)
        if actual is None:
            missing.append(f"{src} (for {canon})")
        else:
            out[canon] = actual
    if missing:
        raise t.FileProblem(
            f"column(s) named in the column map not in the file: {', '.join(missing)}; "
            f"found {', '.join(header.names[:20])}"
        )
    return out


def _select(
    src: dict[str, str], types: dict[str, pa.DataType], platform: str, source_file: str, rows: str = "_rows"
) -> str:
    """The staging SELECT over ``rows``; ``types`` are the source columns' Arrow types."""

    def col(canon: str) -> str:
        if canon not in src:
            return "CAST(NULL AS VARCHAR)"
        return f"nullif(trim(CAST({t.ident(src[canon])} AS VARCHAR)), '')"

    def created() -> str:
        typ = types.get(src["created_at"], pa.string())
        if pa.types.is_timestamp(typ):  # its counts since 1970 (UTC, or the naive clock), see _plain_times
            expr = t.ident(src["created_at"])
            if typ.unit == "ns":
                return f"make_timestamp({expr} // 1000)"
            return f"try(make_timestamp({expr} * {_MICROS[typ.unit]}))"  # NULL beyond what a timestamp holds
        if pa.types.is_date(typ):
            return f"TRY_CAST({t.ident(src['created_at'])} AS TIMESTAMP)"
        return t.any_time(col("created_at"), millis_heuristic=True)

    def created_raw() -> str:
        typ = types.get(src["created_at"], pa.string())
        if pa.types.is_timestamp(typ):
            return f"(CAST({t.ident(src['created_at'])} AS VARCHAR) || ' {typ.unit} since 1970-01-01')"
        return col("created_at")

    def listed(canon: str) -> str:
        if canon == "hashtags" and canon not in src and "text" in src:  # as in the text, like Telegram's
            return (
                f"regexp_extract_all(coalesce(CAST({t.ident(src['text'])} AS VARCHAR), ''), {t.literal(HASHTAG_RE)}, 1)"
            )
        if canon not in src:
            return "CAST(NULL AS VARCHAR[])"
        typ = types.get(src[canon], pa.string())
        strip = {"hashtags": "#", "mentions": "@"}.get(canon, "")
        if pa.types.is_list(typ) or pa.types.is_large_list(typ):
            clean = f"ltrim(trim(x), '{strip}')" if strip else "trim(x)"
            return (
                f"list_filter(list_transform(CAST({t.ident(src[canon])} AS VARCHAR[]), lambda x: {clean}),"
                f" lambda x: x <> '')"
            )
        return t.list_of(col(canon), sep=LIST_SEPARATOR, strip=strip)

    kind_raw = col("kind")
    implied = f"CASE WHEN {col('parent_post_id')} IS NOT NULL THEN 'reply' ELSE 'post' END"
    kind = (  # an empty kind cell is no kind: as without the column (NULL would fail the store's NOT NULL)
        f"coalesce(CASE lower({kind_raw}) WHEN 'retweet' THEN 'repost' ELSE lower({kind_raw}) END, {implied})"
        if "kind" in src
        else implied
    )
    return f"""
        SELECT coalesce(lower({col("platform")}), '{platform}') AS platform,
               {col("post_id")} AS post_id, {col("account_id")} AS account_id,
               {created()} AS created_at, {created_raw()} AS created_raw,
               {f"nullif(CAST({t.ident(src['text'])} AS VARCHAR), '')" if "text" in src else "CAST(NULL AS VARCHAR)"}
                   AS text,
               {col("lang")} AS lang, CASE WHEN {col("lang")} IS NOT NULL THEN 'platform' END AS lang_source,
               {kind} AS kind, {kind_raw} AS kind_raw,
               {col("parent_post_id")} AS parent_post_id, {col("parent_account_id")} AS parent_account_id,
               {", ".join(f"{listed(c)} AS {c}" for c in LISTS)},
               {col("client")} AS client,
               {", ".join(f"{t.integer(col(c))} AS {c}" for c in COUNTS)},
               {", ".join(f"{col(c)} AS {c}" for c in ACCOUNT_FIELDS if c not in ("followers", "following"))},
               {t.integer(col("followers"))} AS followers, {t.integer(col("following"))} AS following,
               {t.RECORD} AS record, {t.RECORD} AS source_record, {t.RAW} AS raw,
               '{source_file.replace("'", "''")}' AS source_file
        FROM {rows}"""


def _checks(src: dict[str, str]) -> list[str]:
    kinds = ", ".join(f"'{k}'" for k in model.POST_KINDS)
    plats = ", ".join(f"'{p}'" for p in model.PLATFORMS)
    return [
        required({src["post_id"]: "post_id", src["account_id"]: "account_id", src["created_at"]: "created_raw"}),
        f"CASE WHEN created_at IS NULL THEN {t.literal('unparseable timestamp ' + src['created_at'] + '=')} "
        f"|| created_raw || ' (expected ISO 8601 or POSIX seconds)' END",
        f"CASE WHEN kind NOT IN ({kinds}) THEN 'unknown kind ' || kind_raw || "
        f"' (expected one of {', '.join(model.POST_KINDS)})' END",
        f"CASE WHEN platform NOT IN ({plats}) THEN 'unknown platform ' || platform END",
    ]


def _transform(
    con, src: dict[str, str], types: dict[str, pa.DataType], platform: str, q: Quarantine, rows: str = "_rows"
) -> dict:
    t.stage(con, q, _select(src, types, platform, q.source_file, rows), _checks(src))
    posts = con.sql("SELECT * FROM _stage").to_arrow_table()
    accounts = None
    if any(c in src for c in ACCOUNT_FIELDS):
        accounts = con.sql(
            f"""SELECT platform, account_id, {", ".join(ACCOUNT_FIELDS)}, created_at AS snapshot_at, source_file
                FROM _stage
                QUALIFY row_number() OVER (PARTITION BY platform, account_id
                                           ORDER BY created_at DESC, record DESC) = 1"""
        ).to_arrow_table()
    return {"posts": posts, "accounts": accounts}


def read(path: Path, options: ReadOptions) -> Iterator[Batch]:
    _check_options(options)
    platform = options.platform or "other"
    if path.suffix.lower() in (".parquet", ".pq") or _is_parquet(path):
        yield from _read_parquet(path, options, platform)
        return

    def check(header: t.Header) -> None:
        _source(options.column_map, header)

    def transform(con, header: t.Header, q: Quarantine) -> dict:
        return _transform(con, _source(options.column_map, header), {}, platform, q)

    yield from t.drive(path, options, check, transform)


_MICROS = {"s": 1_000_000, "ms": 1_000, "us": 1}


def _plain_times(rows: pa.Table) -> pa.Table:
    """Timestamp columns as their int64 counts since 1970 (``_select`` turns them into times).

    DuckDB fails on a stored timestamp beyond its range (seconds in year 300,000: an internal
    error, not NULL), and nanoseconds would not cast to the store's microseconds.
    """
    for i, f in enumerate(rows.schema):
        if pa.types.is_timestamp(f.type):
            rows = rows.set_column(i, f.name, rows[f.name].cast(pa.int64()))
    return rows


def _is_parquet(path: Path) -> bool:
    with open_input(path) as fh:
        return fh.read(4) == b"PAR1"


def _read_parquet(path: Path, options: ReadOptions, platform: str) -> Iterator[Batch]:
    try:
        pf = pq.ParquetFile(local_path(path))  # read at random offsets: a compressed one is unpacked first
    except (pa.ArrowInvalid, OSError, IngestError) as e:
        yield t.problem_batch(path, f"unreadable Parquet file: {e}")
        return
    schema = pf.schema_arrow
    header = t.Header(tuple(schema.names), ",", 0)
    try:
        src = _source(options.column_map, header)
    except t.FileProblem as e:
        yield t.problem_batch(path, str(e))
        return
    types = {name: schema.field(name).type for name in schema.names}
    columns = sorted(set(src.values()))
    row_bytes = max(1, pf.metadata.serialized_size // max(pf.metadata.num_rows, 1)) if pf.metadata.num_rows else 1
    batch_rows = max(1024, min(1_000_000, options.batch_bytes // max(row_bytes, 256)))
    q = Quarantine(str(path))
    con = store.connect()
    first, size = 1, path.stat().st_size
    total = max(pf.metadata.num_rows, 1)
    try:
        for rb in pf.iter_batches(batch_size=batch_rows, columns=columns):
            n = rb.num_rows
            rows = _plain_times(pa.Table.from_batches([rb]))
            rows = rows.append_column(t.RECORD, pa.array(range(first, first + n), pa.int64()))
            con.register("_rows", rows)
            # the raw record of a Parquet row is its mapped values, for the quarantine excerpt
            raw = "concat_ws(', ', " + ", ".join(f"CAST({t.ident(c)} AS VARCHAR)" for c in columns) + ")"
            con.execute(f"CREATE OR REPLACE TEMP VIEW _rows_raw AS SELECT *, {raw} AS {t.RAW} FROM _rows")
            parts = _transform(con, src, types, platform, q, rows="_rows_raw")
            con.unregister("_rows")
            first += n
            yield make_batch(parts["posts"], parts["accounts"], q, int(size * (first - 1) / total))
        if len(q):
            yield make_batch(None, None, q, size)
    finally:
        con.close()
