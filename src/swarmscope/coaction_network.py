"""`swarmscope network`: the co-action network of an input, written as edges CSV/Parquet, GraphML or GEXF.

Input: a CooRTweet-layout CSV/Parquet (object_id, account_id, content_id,
timestamp_share in POSIX seconds), an actions-layout CSV/Parquet (the
canonical actions columns; platform optional), or a case database (.duckdb)
whose actions table is used. Everything is validated before any work starts.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import graph
from .detect.coaction import CoactionParams, coaction_edge_batches, coaction_pairs, prepare_actions
from .detect.significance import SignificanceParams
from .duck import registered, scratch
from .store import connect
from .tablefile import write_parquet_batches
from .tablefile import write_table as write_safe

COORTWEET = ("object_id", "account_id", "content_id", "timestamp_share")
ACTIONS = ("account_id", "post_id", "created_at", "object_type", "object_id")  # platform optional
_NUMERIC_EDGE_STATS = [
    "weight",
    "avg_time_delta",
    "n_content_id",
    "n_content_id_y",
    "edge_symmetry_score",
    "weight_threshold",
    "n_objects",
]


def _platform_dictionary(platforms: pa.Array) -> Callable[[pa.RecordBatch], pa.RecordBatch]:
    """A batch with its (single-valued) platform columns as one-entry dictionaries: no hashing to write."""

    def shape(batch: pa.RecordBatch) -> pa.RecordBatch:
        codes = pa.array(np.zeros(batch.num_rows, np.int32))
        col = pa.DictionaryArray.from_arrays(codes, platforms)
        for name in ("from_platform", "to_platform"):
            batch = batch.set_column(batch.schema.get_field_index(name), name, col)
        return batch

    return shape


EDGE_SUFFIXES = (".csv", ".parquet", ".graphml", ".gexf")
TABLE_SUFFIXES = (".csv", ".parquet")
CASE_SUFFIXES = (".duckdb", ".db")


@dataclass(frozen=True)
class NetworkResult:
    edges: pa.Table
    clusters: graph.Clusters | None
    n_actions: int
    outputs: tuple[Path, ...]


def _suffix(path: Path) -> str:
    s = path.suffix.lower()
    return Path(path.stem).suffix.lower() if s == ".gz" else s


def _check_output(path: Path, allowed: tuple[str, ...], what: str) -> None:
    if _suffix(path) not in allowed or path.suffix.lower() == ".gz":
        raise ValueError(f"{what} {path}: unknown file type {path.suffix!r}; use one of {', '.join(allowed)}")
    if not path.parent.exists():
        raise ValueError(f"{what} {path}: folder {path.parent} does not exist")


def _fail_first(con: duckdb.DuckDBPyConnection, source: str, where: str, reason: str, path: Path) -> None:
    rows = con.sql(f"SELECT _rec, * EXCLUDE (_rec) FROM {source} WHERE {where} ORDER BY _rec LIMIT 1").fetchall()
    if rows:
        n = con.sql(f"SELECT count(*) FROM {source} WHERE {where}").fetchall()[0][0]
        raise ValueError(f"{path}: record {rows[0][0]}: {reason} ({n} record(s) in all); first: {rows[0][1:]}")


def _read_table(path: Path) -> pa.Table:
    """CSV with every column as text (ids keep leading zeros), or Parquet as stored."""
    try:
        if _suffix(path) == ".parquet":
            return pq.read_table(path)
        names = pacsv.open_csv(path).schema.names
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}))
    except (pa.ArrowInvalid, OSError) as exc:
        raise ValueError(f"{path}: cannot be read as {_suffix(path).lstrip('.').upper()}: {exc}") from exc


def load_actions(source: str | Path, object_types: Sequence[str] | None = None) -> pa.Table:
    """Read and validate an input into the canonical actions layout (errors name file, record and reason).

    Records are numbered from 1 in file order (for a CSV, record n is on line n + 1 after the header).
    """
    path = Path(source)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    suffix = _suffix(path)
    if suffix in CASE_SUFFIXES:
        return _from_case(path, object_types)
    if suffix not in (".parquet", ".csv", ".tsv", ".txt"):
        raise ValueError(f"{path}: unknown input type; expected CSV, Parquet or a case database (.duckdb)")
    raw = _read_table(path)
    cols = raw.column_names
    if all(c in cols for c in COORTWEET):
        return _from_coortweet(raw, path, object_types)
    if all(c in cols for c in ACTIONS):
        return _from_actions_layout(raw, path, object_types)
    raise ValueError(
        f"{path}: columns {', '.join(cols)} match neither the CooRTweet layout "
        f"({', '.join(COORTWEET)}) nor the actions layout ({', '.join(ACTIONS)}, optional platform)"
    )


def _first_bad(raw: pa.Table, bad: pa.ChunkedArray | pa.Array, reason: str, path: Path) -> None:
    n = pc.sum(bad).as_py() or 0
    if n:
        i = pc.index(bad, True).as_py()
        first = raw.slice(i, 1).to_pylist()[0]
        raise ValueError(f"{path}: record {i + 1}: {reason} ({n} record(s) in all); first: {first}")


def _text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    return col if pa.types.is_string(col.type) else col.cast(pa.string())


def _from_coortweet(raw: pa.Table, path: Path, object_types: Sequence[str] | None) -> pa.Table:
    if object_types is not None and "object" not in object_types:
        raise ValueError(f"{path}: a CooRTweet-layout input has one object type, 'object'; got {list(object_types)}")
    ids = {c: _text(raw[c]) for c in ("object_id", "account_id", "content_id")}
    for c, col in ids.items():
        _first_bad(raw, pc.fill_null(pc.equal(pc.utf8_trim_whitespace(col), ""), True), f"{c} is missing", path)
    ts = raw["timestamp_share"]
    if pa.types.is_string(ts.type):
        number = r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
        ok = pc.fill_null(pc.match_substring_regex(ts, number), False)
        _first_bad(raw, pc.invert(ok), "timestamp_share is not a number of seconds", path)
        ts = pc.cast(pc.utf8_trim_whitespace(ts), pa.float64())
    elif pa.types.is_integer(ts.type) or pa.types.is_floating(ts.type):
        ts = ts.cast(pa.float64())
        _first_bad(
            raw, pc.fill_null(pc.invert(pc.is_finite(ts)), True), "timestamp_share is missing or not finite", path
        )
    else:
        raise ValueError(f"{path}: timestamp_share must be POSIX seconds, got type {ts.type}")
    # POSIX seconds, possibly written as floats: round to the microsecond
    micros = np.round(ts.to_numpy() * 1_000_000).astype(np.int64)
    n = raw.num_rows
    return pa.table(
        {
            "platform": pa.array(np.full(n, "other", object), pa.string()) if n else pa.array([], pa.string()),
            "account_id": ids["account_id"],
            "post_id": ids["content_id"],
            "created_at": pa.array(micros, pa.timestamp("us")),
            "object_type": pa.array(np.full(n, "object", object), pa.string()) if n else pa.array([], pa.string()),
            "object_id": ids["object_id"],
        }
    )


def _typed_actions(raw: pa.Table, object_types: Sequence[str] | None) -> pa.Table | None:
    """The actions of a typed table (text ids, a timestamp column) checked in Arrow, or None.

    What the SQL path below does, for inputs that need no casting (Parquet
    written by the actions layout, a case export): a text id that is missing
    or blank, or a nanosecond or non-timestamp ``created_at``, returns None and
    the SQL path reads the table (and names the first bad record). 10M rows:
    about 1 s instead of 10 s.
    """
    text = (pa.string(), pa.large_string())
    if any(raw.schema.field(c).type not in text for c in ACTIONS if c != "created_at"):
        return None
    if "platform" in raw.column_names and raw.schema.field("platform").type not in text:
        return None
    ts = raw.schema.field("created_at").type
    if not pa.types.is_timestamp(ts) or ts.unit == "ns":
        return None
    for c in ACTIONS:
        col = raw[c]
        if col.null_count:
            return None
        if (
            c != "created_at"
            and len(col)
            and (pc.min(pc.utf8_length(col)).as_py() == 0 or pc.any(pc.utf8_is_space(col)).as_py())
        ):
            return None  # empty or blank: the SQL path says which record
    n = raw.num_rows
    platform = (
        raw["platform"].fill_null("other").cast(pa.string())
        if "platform" in raw.column_names
        else pa.chunked_array([pa.repeat(pa.scalar("other"), n)])
    )
    out = pa.table(
        {
            "platform": platform,
            **{c: raw[c].cast(pa.string()) for c in ("account_id", "post_id")},
            # a zoned timestamp holds UTC instants: dropping the zone gives naive UTC, as the SQL cast does
            "created_at": raw["created_at"].cast(pa.timestamp(ts.unit)).cast(pa.timestamp("us")),
            **{c: raw[c].cast(pa.string()) for c in ("object_type", "object_id")},
        }
    )
    if object_types is not None:
        out = out.filter(pc.is_in(out["object_type"], pa.array(list(object_types), pa.string())))
    return out


def _from_actions_layout(raw: pa.Table, path: Path, object_types: Sequence[str] | None) -> pa.Table:
    typed = _typed_actions(raw, object_types)
    if typed is not None:
        return typed
    with scratch() as con:
        with registered(con, _raw=raw):
            con.execute("CREATE TEMP TABLE _in AS SELECT row_number() OVER () AS _rec, * FROM _raw")
        for c in ACTIONS:
            _fail_first(con, "_in", f'"{c}" IS NULL OR trim(CAST("{c}" AS VARCHAR)) = \'\'', f"{c} is missing", path)
        ts = "TRY_CAST(created_at AS TIMESTAMPTZ) AT TIME ZONE 'UTC'"
        _fail_first(con, "_in", f"{ts} IS NULL", "created_at is not a timestamp", path)
        platform = "CAST(platform AS VARCHAR)" if "platform" in raw.column_names else "'other'"
        where, params = "TRUE", []
        if object_types is not None:
            where, params = "list_contains(?, CAST(object_type AS VARCHAR))", [list(object_types)]
        return con.sql(
            f"""
            SELECT coalesce({platform}, 'other') AS platform, CAST(account_id AS VARCHAR) AS account_id,
                   CAST(post_id AS VARCHAR) AS post_id, {ts} AS created_at,
                   CAST(object_type AS VARCHAR) AS object_type, CAST(object_id AS VARCHAR) AS object_id
            FROM _in WHERE {where} ORDER BY _rec
        """,
            params=params,
        ).to_arrow_table()


def _from_case(path: Path, object_types: Sequence[str] | None) -> pa.Table:
    try:
        con = connect(path, read_only=True)
    except duckdb.Error as exc:
        raise ValueError(f"{path}: not a readable case database: {exc}") from exc
    try:
        tables = {t for (t,) in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "actions" not in tables:
            raise ValueError(f"{path}: case has no actions table; run the enrich step first")
        where, params = "TRUE", []
        if object_types is not None:
            where, params = "list_contains(?, object_type)", [list(object_types)]
        return con.sql(
            "SELECT platform, account_id, post_id, created_at, object_type, object_id FROM actions "
            f"WHERE {where} ORDER BY created_at, platform, post_id, object_type, object_id",
            params=params,
        ).to_arrow_table()
    finally:
        con.close()


def write_table(table: pa.Table, path: str | Path) -> None:
    """CSV (lists joined with ';', spreadsheet formulas neutralised) or Parquet, by suffix."""
    write_safe(table, path, list_sep=";")


@contextmanager
def ordinary_pages() -> Iterator[None]:
    """Ask for ordinary memory pages for numpy's big arrays while the network is built.

    numpy advises the kernel to back big arrays with huge pages. Where the
    kernel then compacts memory on the page fault (transparent huge pages with
    defrag=madvise, a common default) and memory is fragmented (a full page
    cache), the co-action network, which allocates and frees many short-lived
    arrays of hundreds of MiB, spent more time in the kernel than computing:
    1M generated reposts, min_participation 1: 19 s system time of 30 s
    (docs/benchmarks.md). Results do not change; the previous setting is
    restored on exit. A no-op where numpy lacks the switch.
    """
    try:
        from numpy._core.multiarray import _set_madvise_hugepage as advise
    except ImportError:  # numpy < 2
        try:
            from numpy.core.multiarray import _set_madvise_hugepage as advise
        except ImportError:
            advise = None
    if advise is None:
        yield
        return
    before = advise(False)
    try:
        yield
    finally:
        advise(before)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -3, -4, -8  # glibc mallopt parameters
_GLIBC_MMAP_MAX = 65536  # glibc's default M_MMAP_MAX


@contextmanager
def reused_memory() -> Iterator[None]:
    """Keep freed heap memory in the process while the network is built, and give it back after.

    Big arrays are short-lived here (each step allocates and frees columns of
    10M values), and on a virtual machine faulting in fresh, zeroed pages costs
    more than the arithmetic. By default glibc serves big blocks with their own
    mmap and unmaps them on free, returns the top of its heap to the kernel as
    soon as 128 KiB are free there, and pyarrow allocates from its own pool
    (mimalloc). While the network is built:

    - glibc serves big blocks from its heap too (M_MMAP_MAX 0) and keeps up to
      1 GiB free at the top (M_TRIM_THRESHOLD), so a freed column's pages are
      reused by the next one (2 GiB, the most mallopt takes, pushed the peak
      of the 10M significance run to 4.05 GiB);
    - threads started from now on share the main heap (M_ARENA_MAX 1) rather
      than each growing its own, so the worker threads and the Parquet writer
      reuse the same pages;
    - pyarrow allocates from the same heap (its system pool), so Arrow and
      numpy reuse each other's pages.

    10M generated reposts, min_participation 1 (three runs each): 9.6-12 s of
    system time and 19-23 s in all with glibc's and pyarrow's defaults,
    5.6-6.4 s and 16-20 s, with 0.3-1 GiB less peak memory, this way
    (docs/benchmarks.md). On exit the previous Arrow pool, the mmap count and
    the trim threshold are restored and ``malloc_trim`` returns every free
    page. The arena limit stays for the rest of the process (glibc fixes it
    once), as does the 32 MiB mmap threshold, the value glibc's own
    adjustment reaches with arrays this size. Arrays made inside stay valid:
    each Arrow buffer keeps its pool. A no-op where the C library is not glibc.
    """
    previous_pool = pa.default_memory_pool()
    try:
        libc = ctypes.CDLL(None)
        mallopt, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        yield
        return
    mallopt(_M_MMAP_THRESHOLD, 32 << 20)
    mallopt(_M_TRIM_THRESHOLD, 1 << 30)
    mallopt(_M_MMAP_MAX, 0)
    mallopt(_M_ARENA_MAX, 1)
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous_pool)
        mallopt(_M_MMAP_MAX, _GLIBC_MMAP_MAX)
        mallopt(_M_TRIM_THRESHOLD, 128 << 10)
        trim(0)


def _with_object_types(edges: pa.Table, actions: pa.Table) -> pa.Table:
    """The edges with ``object_types``: what the network's co-actions were on (the same for every edge)."""
    kinds = ",".join(sorted(pc.unique(actions["object_type"]).to_pylist())) if actions.num_rows else ""
    return edges.append_column("object_types", pa.array([kinds] * edges.num_rows, pa.string()))


def graph_accounts(source: str | Path, actions: pa.Table, edges: pa.Table) -> pa.Table:
    """Node attributes of the graph files, for the accounts the edges touch: ``posts`` (distinct posts in
    the input's actions), and ``handle`` and ``display_name`` when the input is a case that has them."""
    ends = pa.table(
        {
            "platform": pa.concat_arrays(
                [edges[c].combine_chunks().cast(pa.string()) for c in ("from_platform", "to_platform")]
            ),
            "account_id": pa.concat_arrays([edges[c].combine_chunks().cast(pa.string()) for c in ("from", "to")]),
        }
    )
    with scratch() as con, registered(con, _actions=actions, _ends=ends):
        con.execute("CREATE TEMP TABLE _nodes AS SELECT DISTINCT platform, account_id FROM _ends")
        accounts = con.sql(
            """
            SELECT n.platform, n.account_id, coalesce(c.posts, 0) AS posts FROM _nodes n LEFT JOIN (
                SELECT platform, account_id, count(DISTINCT post_id) AS posts
                FROM _actions a SEMI JOIN _nodes USING (platform, account_id) GROUP BY ALL
            ) c USING (platform, account_id)
            ORDER BY n.platform, n.account_id
            """
        ).to_arrow_table()
    if _suffix(Path(source)) not in CASE_SUFFIXES or not accounts.num_rows:
        return accounts
    case = connect(Path(source), read_only=True)
    try:
        tables = {t for (t,) in case.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "accounts" not in tables:
            return accounts
        with registered(case, _graph_accounts=accounts):
            return case.sql(
                """
                SELECT g.platform, g.account_id, a.handle, a.display_name, g.posts
                FROM _graph_accounts g LEFT JOIN (
                    SELECT platform, account_id, handle, display_name FROM accounts
                    QUALIFY row_number() OVER (PARTITION BY platform, account_id ORDER BY handle) = 1
                ) a USING (platform, account_id)
                ORDER BY g.platform, g.account_id
                """
            ).to_arrow_table()
    finally:
        case.close()


def network(
    source: str | Path,
    output: str | Path | Sequence[str | Path] = (),
    time_window: float = 60.0,
    min_participation: int = 2,
    edge_weight: float = 0.5,
    object_types: Sequence[str] | None = None,
    fast_time_window: float | None = None,
    remove_loops: bool = True,
    significance: bool = True,
    alpha: float = 0.01,
    pairs_output: str | Path | None = None,
    clusters_output: str | Path | None = None,
    seed: int = 42,
) -> NetworkResult:
    """Build the co-action network of ``source`` and write it to each ``output`` (by suffix).

    Outputs: .csv / .parquet (edge table: CooRTweet columns plus ours),
    .graphml, .gexf (nodes carry their Leiden cluster). ``pairs_output``
    (.csv/.parquet) writes the share pairs behind every edge;
    ``clusters_output`` (.csv/.parquet) the per-cluster statistics. With
    ``significance`` off there are no p-values and no clusters, and the edges
    are exactly CooRTweet's.
    """
    params = CoactionParams(
        time_window=time_window,
        min_participation=min_participation,
        remove_loops=remove_loops,
        edge_weight=edge_weight,
        object_types=tuple(object_types) if object_types is not None else None,
        fast_time_window=fast_time_window,
    )
    sig_params = SignificanceParams(alpha=alpha) if significance else None
    outputs = tuple(Path(o) for o in ([output] if isinstance(output, (str, Path)) else output))
    for o in outputs:
        _check_output(o, EDGE_SUFFIXES, "output")
    for extra, what in ((pairs_output, "pairs output"), (clusters_output, "clusters output")):
        if extra is not None:
            _check_output(Path(extra), TABLE_SUFFIXES, what)
    if clusters_output is not None and not significance:
        raise ValueError("clusters are built on significant edges; clusters_output needs significance on")

    # the first Parquet output is written while the edges are built (batch by batch)
    streamed = next((o for o in outputs if _suffix(o) in (".parquet", ".pq")), None)
    with ordinary_pages(), reused_memory():
        actions = load_actions(source, object_types)
        prepared = prepare_actions(actions, params)
        batches = coaction_edge_batches(prepared, significance=sig_params)
        if streamed is not None:
            # What the writer costs (28M edges, 1M generated reposts): min/max statistics of the
            # unsorted id columns (they prune nothing) a fifth of it; dictionary-encoding the ids,
            # hashing 56M strings, a seventh (plain ids: a 20 % larger file); hashing the
            # platform of every edge, a tenth, when one platform is a one-entry dictionary.
            # The file is written without pyarrow's schema note, so every reader, pyarrow too,
            # reads the platforms back as the strings they are.
            platforms = pc.unique(prepared.account_platform)
            batches = write_parquet_batches(
                batches,
                streamed,
                as_written=_platform_dictionary(platforms) if len(platforms) == 1 else None,
                write_statistics=_NUMERIC_EDGE_STATS,
                store_schema=False,
                plain_columns=("from", "to"),
            )
        edges = pa.Table.from_batches(list(batches))
        found = None
        if significance:
            used = graph.select_edges(edges, "significant")
            pairs = coaction_pairs(prepared, edges=used)
            found = graph.clusters(edges, pairs, graph.ClusterParams(seed=seed))
    graph_files = [o for o in outputs if _suffix(o) in (".graphml", ".gexf")]
    if graph_files:
        membership = found.membership if found is not None else None
        graph_edges = _with_object_types(edges, actions)
        accounts = graph_accounts(source, actions, edges)
        for o in graph_files:
            (graph.write_graphml if _suffix(o) == ".graphml" else graph.write_gexf)(
                graph_edges, o, membership, accounts
            )
    for o in outputs:
        if o != streamed and o not in graph_files:
            write_table(edges, o)
    if pairs_output is not None:
        write_table(coaction_pairs(prepared), Path(pairs_output))
    if clusters_output is not None and found is not None:
        write_table(found.stats, Path(clusters_output))
    return NetworkResult(edges, found, actions.num_rows, outputs)
