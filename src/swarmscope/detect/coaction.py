"""Co-action networks: accounts that share the same object within seconds of each other.

CooRTweet's model (Righetti & Balluff; Giglietto et al. 2020), generalised to
every object type of the actions table and computed output-sensitively:

1. keep accounts with at least ``min_participation`` actions;
2. every pair of shares of one object whose times differ by at most
   ``time_window`` seconds is a co-action pair (the older share is side a);
3. with ``remove_loops``: drop shares whose post *is* the object, and pairs of
   the same account or the same post;
4. keep pairs where at least one side's post belongs to an account with
   ``min_participation`` actions whose post is in a kept pair;
5. an undirected edge per account pair: weight = number of pairs.

Instead of CooRTweet's per-object cartesian product, shares are sorted by
(object, time) once and each share's partners are found by binary search for
the end of its window, so a viral object costs what its in-window pairs
cost. Pairs are generated in chunks (``max_pairs_per_chunk`` pairs in flight
in all; chunks run on THREADS threads), keyed by edge and grouped by key range.
A round of chunks (``max_pairs_per_round``) is reduced one key range at a time:
one packed sort of (edge key, pair) per range, then every figure is a reduction
over the sorted groups (distinct objects and older posts by counting changes,
distinct newer posts by one more sort of the edges with several pairs). Key
ranges are disjoint, so a round needs no merge. Rounds merge exactly: distinct
counts add up, less what two rounds can both have counted (an object cut by a
round boundary, a post seen from two rounds), which is known in advance. Memory
follows the output plus one round of pairs, not all candidate pairs. Edges are
keyed by the accounts' ranks in id order, so the final order (heaviest first,
then by ids) is one pass over the weights.

Ties (two shares of one object in the same microsecond) are ordered as
CooRTweet orders them: by the account's first appearance in the input, then
by input row. This only decides which side counts as "older" in
``n_content_id`` / ``n_content_id_y``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import significance as sig

REQUIRED = ("platform", "account_id", "post_id", "created_at", "object_type", "object_id")
US = 1_000_000
THREADS = max(1, min(4, os.cpu_count() or 1))  # chunks in parallel; results do not depend on it
N_BUCKETS = 4096  # key ranges a round's pairs are partitioned into (by the lower account rank)
# Pairs per work unit (a run of buckets) of a round. Small enough that a unit's temporaries (8 MiB
# per column) stay under glibc's 32 MiB mmap threshold and reuse freed heap memory: fresh pages
# cost more here than the arithmetic (1M generated reposts: the reduction took 7.0 s in 7M-pair
# units, 3.6 s in 0.9M-pair ones, most of the difference system time zeroing pages).
UNIT_PAIRS = 1 << 20
PROOF_ROWS = 1 << 18  # rows from which post codes try the distinct-rows proof (_row_codes)


@dataclass(frozen=True)
class CoactionParams:
    """Parameters of the co-action network (names and meaning as in CooRTweet).

    - ``time_window`` 60 s: long enough to include human-operated networks
      acting on a shared cue ("retweet rooms", chat-group raids take tens of
      seconds), short enough that unrelated users rarely hit the same
      non-viral object by chance; scripted networks show up in the faster
      sub-network (``fast_time_window``), and chance is measured by the
      significance test rather than assumed away.
    - ``min_participation`` 2: CooRTweet's default; one co-share is an
      anecdote, coordination is repeated behaviour (Giglietto et al. 2020).
    - ``remove_loops`` True: an account echoing itself is not coordination
      between accounts (CooRTweet default).
    - ``edge_weight`` 0.5: CooRTweet's default percentile; ``weight_threshold``
      marks edges strictly above the median weight.
    - ``object_types``: None = every type in the input; otherwise only these.
      Types share one network, and each edge carries a per-type breakdown.
    - ``fast_time_window``: CooRTweet's flag_speed_share. None = off;
      e.g. 10 (CooRTweet's default window) marks the sub-network of shares
      made within seconds, typical of automation.
    - ``max_pairs_per_chunk``: pairs generated at once (memory bound only;
      results do not depend on it).
    - ``max_pairs_per_round``: pairs held at once (16 bytes each) and reduced
      to edges without a merge; None = 8 x ``max_pairs_per_chunk``. Rounds
      merge exactly (memory bound only; results do not depend on it).
    """

    time_window: float = 60.0
    min_participation: int = 2
    remove_loops: bool = True
    edge_weight: float = 0.5
    object_types: tuple[str, ...] | None = None
    fast_time_window: float | None = None
    max_pairs_per_chunk: int = 4_000_000
    max_pairs_per_round: int | None = None

    @property
    def pairs_per_round(self) -> int:
        return self.max_pairs_per_round if self.max_pairs_per_round is not None else 8 * self.max_pairs_per_chunk

    def __post_init__(self) -> None:
        _finite_nonneg("time_window", self.time_window)
        if isinstance(self.min_participation, bool) or not isinstance(self.min_participation, (int, np.integer)):
            raise ValueError(f"min_participation must be an integer >= 1, got {self.min_participation!r}")
        if self.min_participation < 1:
            raise ValueError(f"min_participation must be >= 1, got {self.min_participation}")
        if not isinstance(self.edge_weight, (int, float)) or not 0.0 <= float(self.edge_weight) <= 1.0:
            raise ValueError(f"edge_weight is a percentile and must be between 0 and 1, got {self.edge_weight!r}")
        if self.fast_time_window is not None:
            _finite_nonneg("fast_time_window", self.fast_time_window)
            if self.fast_time_window > self.time_window:
                raise ValueError(
                    f"fast_time_window ({self.fast_time_window} s) must not exceed time_window ({self.time_window} s)"
                )
        if self.object_types is not None:
            if isinstance(self.object_types, str) or not all(isinstance(t, str) for t in self.object_types):
                raise ValueError(f"object_types must be a tuple of strings, got {self.object_types!r}")
            if not self.object_types:
                raise ValueError("object_types is empty; use None for all types")
        if self.max_pairs_per_chunk < 1:
            raise ValueError("max_pairs_per_chunk must be >= 1")
        if self.max_pairs_per_round is not None and self.max_pairs_per_round < 1:
            raise ValueError("max_pairs_per_round must be >= 1")


def _finite_nonneg(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")


@dataclass(frozen=True, eq=False)
class PreparedActions:
    """Actions encoded, filtered and sorted once, reusable by edges, pairs and significance.

    Arrays of length n (eligible shares, sorted by object, time, tie order):
    ``acc`` account code, ``post`` post code, ``seg`` object index, ``typ``
    object-type code, ``t`` microseconds, ``row`` row in ``table``, ``end``
    one past the last in-window partner. ``keep_post`` (and ``keep_post_fast``),
    per post code: posts that pass CooRTweet's participation filter.
    """

    params: CoactionParams
    table: pa.Table  # the filtered input actions (only the types asked for)
    acc: np.ndarray
    post: np.ndarray
    seg: np.ndarray
    typ: np.ndarray
    t: np.ndarray
    row: np.ndarray
    end: np.ndarray
    seg_start: np.ndarray  # start of each object's run; len = n_objects + 1
    account_platform: pa.Array  # per account code
    account_id: pa.Array  # per account code
    account_rank: np.ndarray  # per account code: its rank in account id order (0-based)
    type_names: tuple[str, ...]
    n_posts: int
    keep_post: np.ndarray
    keep_post_fast: np.ndarray | None

    @property
    def n_accounts(self) -> int:
        return len(self.account_id)

    @property
    def n_objects(self) -> int:
        return len(self.seg_start) - 1


# -- input -------------------------------------------------------------------


def _to_arrow(actions: pa.Table | duckdb.DuckDBPyRelation) -> pa.Table:
    if isinstance(actions, duckdb.DuckDBPyRelation):
        missing = [c for c in REQUIRED if c not in actions.columns]
        if missing:
            raise ValueError(f"actions relation lacks column(s) {', '.join(missing)}; needs {', '.join(REQUIRED)}")
        return actions.select(*REQUIRED).to_arrow_table()
    if isinstance(actions, pa.RecordBatch):
        actions = pa.Table.from_batches([actions])
    if not isinstance(actions, pa.Table):
        raise TypeError(f"actions must be a pyarrow Table or DuckDB relation, got {type(actions).__name__}")
    missing = [c for c in REQUIRED if c not in actions.column_names]
    if missing:
        raise ValueError(f"actions table lacks column(s) {', '.join(missing)}; needs {', '.join(REQUIRED)}")
    return actions.select(list(REQUIRED))


def validate_actions(table: pa.Table) -> pa.Table:
    """Check types and nulls; return the table with string ids and ``created_at`` as timestamp[us]."""
    cols = {}
    for name in REQUIRED:
        col = table[name]
        if name == "created_at":
            if not pa.types.is_timestamp(col.type):
                raise ValueError(f"actions.created_at must be a timestamp, got {col.type}")
            col = col.cast(pa.timestamp("us", tz=col.type.tz))
        elif not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            try:
                col = col.cast(pa.string())
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise ValueError(f"actions.{name} must be text, got {col.type}") from exc
        if col.null_count:
            first = int(pc.index(pc.is_null(col), True).as_py())
            raise ValueError(f"actions.{name} is missing in row {first} (0-based) and {col.null_count - 1} other row(s)")
        cols[name] = col
    return pa.table(cols)


def _codes(*cols: pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Dense int codes in order of first appearance, and the distinct values."""
    if len(cols) == 1 or all(pc.count_distinct(c).as_py() <= 1 for c in cols[:-1]):
        key = cols[-1]
    else:
        key = pc.binary_join_element_wise(*cols, "\x1f")
    enc = key.combine_chunks().dictionary_encode() if isinstance(key, pa.ChunkedArray) else key.dictionary_encode()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64), enc.dictionary


def _distinct_rows(*cols: pa.ChunkedArray) -> bool:
    """Whether the rows of the text columns ``cols`` are pairwise distinct.

    Proven, not estimated: equal rows have equal hashes, so when the rows' 64-bit
    hashes (DuckDB's ``hash``) are pairwise distinct, so are the rows. Equal hashes
    (a repeated row, or a collision) answer False. 10M post ids: about 0.5 s, where
    hash-encoding them takes about 4 s.
    """
    n = len(cols[0])
    if n < 2:
        return True
    con = duckdb.connect()
    try:
        con.register("_rows", pa.table({f"c{i}": c for i, c in enumerate(cols)}))
        names = ", ".join(f"c{i}" for i in range(len(cols)))
        h = con.sql(f"SELECT hash({names}) AS h FROM _rows").to_arrow_table()["h"]
    finally:
        con.close()
    h = np.sort(h.combine_chunks().to_numpy(zero_copy_only=False))
    return not bool((h[1:] == h[:-1]).any())


def _row_codes(*cols: pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """``_codes`` of ``cols`` and the number of distinct values: the row numbers when every row is
    distinct (what the encoding gives then), else the hash encoding. The proof is tried from
    PROOF_ROWS rows on: below, opening DuckDB costs more than the encoding."""
    if len(cols[0]) >= PROOF_ROWS and _distinct_rows(*cols):
        return np.arange(len(cols[0]), dtype=np.int64), len(cols[0])
    codes, values = _codes(*cols)
    return codes, len(values)


def _id_ranks(ids: pa.Array) -> np.ndarray:
    """Each id's rank in ascending order (0-based; equal ids by position)."""
    if not len(ids):
        return np.zeros(0, np.int64)
    return pc.rank(ids, sort_keys="ascending", tiebreaker="first").to_numpy().astype(np.int64) - 1


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Row of each code's first appearance (codes are numbered by first appearance)."""
    if not len(codes):
        return np.zeros(0, np.int64)
    prev_max = np.maximum.accumulate(codes)
    is_first = np.empty(len(codes), bool)
    is_first[0] = True
    is_first[1:] = codes[1:] > prev_max[:-1]
    return np.flatnonzero(is_first)


def _packed_order(obj: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Rows by (object, time), equal keys in any order, and the sorted keys packed in an int64; None
    when object and time do not fit in 62 bits together (2 bits are left to add a window)."""
    n = len(obj)
    if not n:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    t_min = int(t.min())
    t_bits = max(int(int(t.max()) - t_min).bit_length(), 1)
    if t_bits + max(int(obj.max()).bit_length(), 1) > 62:
        return None
    key = obj << t_bits
    key |= t - t_min
    order = np.argsort(key)
    return order, key[order]


def _break_ties(order: np.ndarray, key: np.ndarray, acc: np.ndarray) -> np.ndarray:
    """``order`` (sorted by ``key``) with each run of equal keys ordered by account, then row (in place).
    ``acc`` is indexed by the rows in ``order``."""
    tie = np.flatnonzero(key[1:] == key[:-1])
    if len(tie):
        in_run = np.zeros(len(order), bool)
        in_run[tie] = True
        in_run[tie + 1] = True
        pos = np.flatnonzero(in_run)
        rows = order[pos]
        order[pos] = rows[np.lexsort((rows, acc[rows], key[pos]))]
    return order


def _object_time_order(obj: np.ndarray, t: np.ndarray, acc: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """``np.lexsort((acc, t, obj))`` (stable), and the sorted (object, time) keys packed in an int64
    when they fit (else None). One unstable value sort of the packed keys, then only the runs of
    equal (object, time) are ordered by account and row: 1.8 s instead of 8.5 s on 10M shares."""
    packed = _packed_order(obj, t)
    if packed is None:
        return np.lexsort((acc, t, obj)), None
    order, key = packed
    return _break_ties(order, key, acc), key


def _window_ends(t: np.ndarray, seg_end: np.ndarray, window_us: int, first: int = 0) -> np.ndarray:
    """For each share i of ``first``, ``first + 1``, ... (``len(seg_end)`` shares), one past the last
    share of its object with time <= t[i] + window (bisection)."""
    n = len(seg_end)
    lo = np.arange(first + 1, first + n + 1, dtype=np.int64)
    hi = seg_end.astype(np.int64, copy=True)
    target = t[first:first + n] + window_us
    active = np.flatnonzero(lo < hi)
    while len(active):
        mid = (lo[active] + hi[active]) // 2
        inside = t[mid] <= target[active]
        lo[active] = np.where(inside, mid + 1, lo[active])
        hi[active] = np.where(inside, hi[active], mid)
        active = active[lo[active] < hi[active]]
    return lo


def prepare_actions(actions: pa.Table | duckdb.DuckDBPyRelation, params: CoactionParams) -> PreparedActions:
    """Validate, filter by type, encode, pre-filter accounts, sort, find windows and qualifying accounts."""
    table = validate_actions(_to_arrow(actions))
    if params.object_types is not None:
        table = table.filter(pc.is_in(table["object_type"], pa.array(list(params.object_types), pa.string())))
    n_rows = table.num_rows
    # Two lanes on two threads (pyarrow, DuckDB and numpy's sorts release the GIL): the accounts
    # (hash codes, then their rank in id order, a string sort), and the objects and posts (codes,
    # then every row sorted by (object, time)). Posts are usually one row each (one action per
    # post), and then their codes are the row numbers.
    def account_lane() -> tuple[np.ndarray, pa.Array, pa.Array, np.ndarray]:
        acc, _ = _codes(table["platform"], table["account_id"])
        first = pa.array(_first_rows(acc))
        account_id = table["account_id"].take(first).combine_chunks()
        return acc, table["platform"].take(first).combine_chunks(), account_id, _id_ranks(account_id)

    def object_lane() -> tuple:  # noqa: ANN202 (a lane's several results)
        oid, oid_values = _codes(table["object_id"])
        typ, type_values = _codes(table["object_type"])
        obj = typ * max(len(oid_values), 1) + oid
        t = (table["created_at"].combine_chunks().cast(pa.int64()).to_numpy(zero_copy_only=False) if n_rows
             else np.zeros(0, np.int64))
        post, n_posts = _row_codes(table["platform"], table["post_id"])
        return typ, type_values, obj, t, post, n_posts, _packed_order(obj, t)

    (acc, account_platform, account_id, account_rank), (typ, type_values, obj, t, post, n_posts, packed) = _map(
        lambda lane: lane(), [account_lane, object_lane])

    # CooRTweet's pre-filter counts rows (actions), loops included
    n_acc = len(account_id)
    in_x = np.bincount(acc, minlength=n_acc)[acc] >= params.min_participation if n_rows else np.zeros(0, bool)
    eligible = in_x.copy()
    if params.remove_loops and n_rows:
        eligible &= ~pc.equal(table["post_id"], table["object_id"]).to_numpy(zero_copy_only=False)
    # the eligible rows by (object, time, account's first appearance, input row)
    if packed is None:
        rows = np.flatnonzero(eligible)
        rows = rows[np.lexsort((acc[rows], t[rows], obj[rows]))]
    else:
        rows, packed = packed
        keep = eligible[rows]
        if not keep.all():
            rows, packed = rows[keep], packed[keep]
        del keep
        rows = _break_ties(rows, packed, acc)
    s_obj = obj[rows]
    n = len(rows)
    change = np.flatnonzero(s_obj[1:] != s_obj[:-1]) + 1 if n else np.zeros(0, np.int64)
    del s_obj
    seg_start = np.concatenate([[0], change, [n]]).astype(np.int64) if n else np.zeros(1, np.int64)
    seg = np.repeat(np.arange(len(seg_start) - 1), np.diff(seg_start))
    window_us = round(params.time_window * US)

    def window_ends(lo_hi: tuple[int, int]) -> np.ndarray:
        lo, hi = lo_hi
        cap = seg_start[1:][seg[lo:hi]]
        if packed is not None:  # (object, time) in one sorted int64: one search per share, capped at its object
            return np.minimum(np.searchsorted(packed, packed[lo:hi] + window_us, side="right"), cap)
        return _window_ends(s_t, cap, window_us, lo)

    s_t = t[rows]
    # the window ends, and the other columns in sorted order, on two threads
    half = n // 2
    end_lo, end_hi, s_acc, s_post, s_typ = _map(lambda job: job(), [
        lambda: window_ends((0, half)), lambda: window_ends((half, n)),
        lambda: acc[rows], lambda: post[rows], lambda: typ[rows],
    ])
    end = np.concatenate([end_lo, end_hi]) if n else np.zeros(0, np.int64)
    del end_lo, end_hi

    base = PreparedActions(
        params=params, table=table, acc=s_acc, post=s_post, seg=seg, typ=s_typ, t=s_t, row=rows,
        end=end, seg_start=seg_start, account_platform=account_platform, account_id=account_id,
        account_rank=account_rank,
        type_names=tuple(type_values.to_pylist()), n_posts=n_posts,
        keep_post=np.zeros(n_posts, bool), keep_post_fast=None,
    )
    x_acc, x_post = acc[in_x], post[in_x]

    def kept_posts(in_pairs: np.ndarray) -> np.ndarray:
        # CooRTweet's filter_min_participation: count, per account, the pre-filtered rows whose
        # content is in a pair; a pair stays if either content belongs to a row of such an account
        hit = in_pairs[x_post]
        qualifies = np.bincount(x_acc[hit], minlength=n_acc) >= params.min_participation
        keep = np.zeros(n_posts, bool)
        keep[x_post[hit & qualifies[x_acc]]] = True
        return keep

    bounds = _bounds(base)

    def mark(into: np.ndarray, kept: bool, fast_us: int | None = None) -> Callable[[tuple[int, int]], None]:
        def run(ab: tuple[int, int]) -> None:
            a, b = _chunk_pairs(base, ab[0], ab[1], kept=kept)
            if fast_us is not None:
                quick = (base.t[b] - base.t[a]) <= fast_us
                a, b = a[quick], b[quick]
            into[base.post[a]] = True  # same value from every thread: order does not matter
            into[base.post[b]] = True
        return run

    if params.min_participation <= 1:
        # every account with a share in a pair qualifies, so every pair stays (fast ones too):
        # the marking passes over all candidate pairs would keep everything
        every = np.ones(n_posts, bool)
        return _replace(base, keep_post=every, keep_post_fast=every if params.fast_time_window is not None else None)
    in_pairs = np.zeros(n_posts, bool)
    _map(mark(in_pairs, kept=False), bounds)
    keep = kept_posts(in_pairs)
    keep_fast = None
    if params.fast_time_window is not None:
        base = _replace(base, keep_post=keep)
        in_fast = np.zeros(n_posts, bool)
        _map(mark(in_fast, kept=True, fast_us=round(params.fast_time_window * US)), bounds)
        keep_fast = kept_posts(in_fast)
    return _replace(base, keep_post=keep, keep_post_fast=keep_fast)


def _replace(p: PreparedActions, **changes: object) -> PreparedActions:
    from dataclasses import replace

    return replace(p, **changes)


# -- pairs -------------------------------------------------------------------


def _chunk_bounds(counts: np.ndarray, max_pairs: int) -> Iterator[tuple[int, int]]:
    csum = np.cumsum(counts)
    start, n, done = 0, len(counts), 0
    while start < n:
        stop = int(np.searchsorted(csum, done + max_pairs, side="right"))
        stop = max(stop, start + 1)
        yield start, stop
        done = int(csum[stop - 1])
        start = stop


def _is_fast(p: PreparedActions, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    assert p.params.fast_time_window is not None and p.keep_post_fast is not None
    quick = (p.t[b] - p.t[a]) <= round(p.params.fast_time_window * US)
    return quick & (p.keep_post_fast[p.post[a]] | p.keep_post_fast[p.post[b]])


def _edge_key(p: PreparedActions, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    x, y = p.acc[a], p.acc[b]
    return np.minimum(x, y) * p.n_accounts + np.maximum(x, y)


def coaction_pairs(
    actions: pa.Table | duckdb.DuckDBPyRelation | PreparedActions,
    params: CoactionParams | None = None,
    edges: pa.Table | None = None,
) -> pa.Table:
    """The evidence: every co-action pair behind the network, optionally only for the given edges.

    ``edges`` (from/to account ids, and from_platform/to_platform where
    accounts span platforms) restricts the output to those account pairs.
    Side a is the older share; ``delta`` is seconds between the shares.
    """
    p = _prepared(actions, params)
    wanted = None if edges is None else _edge_keys_of(p, edges)
    parts: list[pa.Table] = []
    for start, stop in _bounds(p) if wanted is None or len(wanted) else ():  # no edges: no pairs to look for
        a, b = _chunk_pairs(p, start, stop)
        if wanted is not None:
            keep = np.isin(_edge_key(p, a, b), wanted)
            a, b = a[keep], b[keep]
        if len(a):
            parts.append(_pair_table(p, a, b))
    if not parts:
        return _pair_table(p, np.zeros(0, np.int64), np.zeros(0, np.int64))
    return pa.concat_tables(parts)


def _pair_table(p: PreparedActions, a: np.ndarray, b: np.ndarray) -> pa.Table:
    ra, rb = pa.array(p.row[a]), pa.array(p.row[b])
    tbl = p.table
    cols = {
        "object_type": tbl["object_type"].take(ra),
        "object_id": tbl["object_id"].take(ra),
        "platform_a": tbl["platform"].take(ra),
        "account_a": tbl["account_id"].take(ra),
        "post_a": tbl["post_id"].take(ra),
        "time_a": pa.array(p.t[a], pa.timestamp("us")),
        "platform_b": tbl["platform"].take(rb),
        "account_b": tbl["account_id"].take(rb),
        "post_b": tbl["post_id"].take(rb),
        "time_b": pa.array(p.t[b], pa.timestamp("us")),
        "delta": pa.array((p.t[b] - p.t[a]) / US, pa.float64()),
    }
    if p.params.fast_time_window is not None:
        cols["fast"] = pa.array(_is_fast(p, a, b))
    return pa.table(cols)


def _edge_keys_of(p: PreparedActions, edges: pa.Table) -> np.ndarray:
    lookup = {}
    for code, (plat, aid) in enumerate(zip(p.account_platform.to_pylist(), p.account_id.to_pylist())):
        lookup[(plat, aid)] = code
        lookup.setdefault((None, aid), code)
    cols = edges.column_names
    plat_from = edges["from_platform"].to_pylist() if "from_platform" in cols else [None] * edges.num_rows
    plat_to = edges["to_platform"].to_pylist() if "to_platform" in cols else [None] * edges.num_rows
    keys = []
    for f, t, pf, pt in zip(edges["from"].to_pylist(), edges["to"].to_pylist(), plat_from, plat_to):
        x, y = lookup.get((pf, f)), lookup.get((pt, t))
        if x is not None and y is not None:
            keys.append(min(x, y) * p.n_accounts + max(x, y))
    return np.unique(np.array(keys, np.int64))


def _prepared(actions: object, params: CoactionParams | None) -> PreparedActions:
    if isinstance(actions, PreparedActions):
        if params is not None and params != actions.params:
            raise ValueError("prepared actions were built with other parameters")
        return actions
    return prepare_actions(actions, params or CoactionParams())  # type: ignore[arg-type]


# -- edges -------------------------------------------------------------------


def _sort_with_order(k: np.ndarray, key_bits: int, runs: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Stably sorted ``k`` and its order. One value sort of (key, position) packed in an int64
    when it fits: several times faster than an argsort; otherwise a stable argsort. ``runs``:
    ``k`` is a few sorted runs (timsort merges them)."""
    n = len(k)
    pos_bits = max(int(n - 1).bit_length(), 1)
    if key_bits + pos_bits <= 63:
        packed = k << pos_bits
        packed |= np.arange(n, dtype=np.int64)
        packed.sort(kind="stable" if runs else None)
        order = packed & ((1 << pos_bits) - 1)
        packed >>= pos_bits
        return packed, order
    order = np.argsort(k, kind="stable")
    return k[order], order


def _group_runs(values: np.ndarray, first: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Distinct values per group, for values non-decreasing within each group: count the changes."""
    new = first.copy()
    np.logical_or(new[1:], values[1:] != values[:-1], out=new[1:])
    cs = np.cumsum(new)
    return cs[ends - 1] - cs[starts] + 1


def _group_distinct(values: np.ndarray, first: np.ndarray, weight: np.ndarray, size: int) -> np.ndarray:
    """Distinct values per group (any order): groups of one pair count 1; the others sort (group, value) once."""
    counts = np.ones(len(weight), np.int64)
    multi = weight > 1
    if multi.any():
        gid = np.cumsum(first) - 1
        sel = multi[gid]
        comp = gid[sel] * size + values[sel]
        comp.sort()
        keep = np.empty(len(comp), bool)
        keep[0] = True
        np.not_equal(comp[1:], comp[:-1], out=keep[1:])
        counts[multi] = np.bincount(comp[keep] // size, minlength=len(weight))[multi]
    return counts


_Rows = tuple[np.ndarray | None, np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class _EdgeAgg:
    """Edges in key order (rank(lo) * n_accounts + rank(hi): CooRTweet's from/to order).

    Values (``weight``, ``delta_sum`` in microseconds, ``n_older``, ``n_newer``,
    ``n_objects``, and ``by_type`` (edges, types) when there are several types)
    sit in ``store`` rows: one chunk's, or all chunks' one after another. Edge i
    is row ``src[i]`` (row i when ``src`` is None), except the edges in
    ``fix_edges`` (met in several chunks), whose exact values are in ``fixed``.
    Columns are read in the final row order directly: one gather per column.
    """

    key: np.ndarray
    store: dict[str, np.ndarray]
    src: np.ndarray | None = None
    fix_edges: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    fixed: dict[str, np.ndarray] | None = None

    def rows(self, order: np.ndarray | None = None) -> _Rows:
        """Where to read the edges ``order`` (default: all, in key order)."""
        if order is None:
            idx = self.src
        else:
            idx = order if self.src is None else self.src[order]
        if not len(self.fix_edges):
            return idx, np.zeros(0, np.int64), np.zeros(0, np.int64)
        if order is None:
            return idx, self.fix_edges, np.arange(len(self.fix_edges))
        hit = np.zeros(len(self.key), bool)
        hit[self.fix_edges] = True
        pos = np.flatnonzero(hit[order])
        return idx, pos, np.searchsorted(self.fix_edges, order[pos])

    def col(self, name: str, rows: _Rows) -> np.ndarray:
        """Column ``name`` for ``rows``: a new array (the caller may change it)."""
        idx, pos, which = rows
        values = self.store[name].copy() if idx is None else self.store[name][idx]
        if len(pos):
            assert self.fixed is not None
            values[pos] = self.fixed[name][which]
        return values


@dataclass(frozen=True)
class _Part:
    """One chunk's edges (sorted by key) with chunk-local distinct counts, and what an exact merge needs."""

    agg: _EdgeAgg
    first_seg: np.ndarray  # each edge's first and last object in this chunk
    last_seg: np.ndarray
    amb_older: tuple[np.ndarray, np.ndarray]  # (key, post) entries whose post also occurs in other chunks
    amb_newer: tuple[np.ndarray, np.ndarray]


@dataclass(frozen=True, eq=False)
class _Ctx:
    rank_acc: np.ndarray  # per share: rank of its account id
    key_bits: int
    unique_posts: bool  # every post has one share: distinct posts = distinct shares
    amb_older: np.ndarray | None  # per post: may occur as side a in more than one chunk
    amb_newer: np.ndarray | None
    merged: bool = True  # several rounds: keep what their merge needs (objects at the edges, posts)


def _bounds(p: PreparedActions) -> list[tuple[int, int]]:
    """Chunks of candidate pairs, empty ones left out: THREADS chunks are worked on at once, so each
    has at most ``max_pairs_per_chunk`` / THREADS pairs (the memory bound holds for all together)."""
    counts = p.end - np.arange(1, len(p.end) + 1)
    size = max(1, p.params.max_pairs_per_chunk // THREADS)
    return [(a, b) for a, b in _chunk_bounds(counts, size) if int(counts[a:b].sum())]


def _rounds(p: PreparedActions) -> list[tuple[int, int]]:
    """Rounds of shares whose candidate pairs are held at once (``max_pairs_per_round``), empty ones left out."""
    counts = p.end - np.arange(1, len(p.end) + 1)
    return [(a, b) for a, b in _chunk_bounds(counts, max(1, p.params.pairs_per_round)) if int(counts[a:b].sum())]


def _ambiguous(p: PreparedActions, bounds: list[tuple[int, int]], unique_posts: bool) -> tuple[np.ndarray, np.ndarray]:
    """Posts that may occur in pairs of more than one chunk, as side a and as side b (conservative).

    A share is side a only in the chunk holding it; side b in every chunk c with
    start_c < share < end of chunk c's last window. Only such posts can be counted
    twice when chunk-local distinct counts are added up.
    """
    n = len(p.post)
    s = np.arange(n)
    starts = np.array([a for a, _ in bounds], np.int64)
    reach = np.array([p.end[b - 1] for _, b in bounds], np.int64)
    c_a = np.searchsorted(starts, s, side="right") - 1
    c_lo = np.searchsorted(reach, s, side="right")
    c_hi = np.searchsorted(starts, s, side="left") - 1
    if unique_posts:
        older = np.zeros(p.n_posts, bool)
        newer = np.zeros(p.n_posts, bool)
        newer[p.post[c_hi > c_lo]] = True
        return older, newer
    big = len(bounds) + 1
    lo_a, hi_a = np.full(p.n_posts, big), np.full(p.n_posts, -1)
    np.minimum.at(lo_a, p.post, c_a)
    np.maximum.at(hi_a, p.post, c_a)
    valid = c_lo <= c_hi
    lo_b, hi_b = np.full(p.n_posts, big), np.full(p.n_posts, -1)
    np.minimum.at(lo_b, p.post[valid], c_lo[valid])
    np.maximum.at(hi_b, p.post[valid], c_hi[valid])
    return (hi_a >= 0) & (lo_a < hi_a), (hi_b >= 0) & (lo_b < hi_b)


def _chunk_pairs(p: PreparedActions, start: int, stop: int, fast: bool = False,
                 kept: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The pairs whose older share is in [start, stop), in (a, b) order: after loop removal, and
    with ``kept`` the participation filter; with ``fast``, only the fast ones."""
    c = p.end[start:stop] - np.arange(start + 1, stop + 1)
    total = int(c.sum())
    a = np.repeat(np.arange(start, stop, dtype=np.int64), c)
    b = a + 1 + (np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(c) - c, c))
    keep = None
    if kept or p.params.remove_loops:
        pa_, pb = p.post[a], p.post[b]
        if kept:
            keep = p.keep_post[pa_] | p.keep_post[pb]
        if p.params.remove_loops:
            loops = (p.acc[a] != p.acc[b]) & (pa_ != pb)
            keep = loops if keep is None else keep & loops
    if keep is not None:
        a, b = a[keep], b[keep]
    if fast:
        f = _is_fast(p, a, b)
        a, b = a[f], b[f]
    return a, b


def _partitioned_pairs(p: PreparedActions, ctx: _Ctx, start: int, stop: int, fast: bool,
                       n_buckets: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """One generation chunk's pairs as (edge key, a, b), grouped by key bucket (the lower account
    rank's range; stable, so each bucket stays a-major), with the buckets' offsets."""
    a, b = _chunk_pairs(p, start, stop, fast)
    if not len(a):
        return None
    n_acc = max(p.n_accounts, 1)
    x, y = ctx.rank_acc[a], ctx.rank_acc[b]
    lo = np.minimum(x, y)
    key = lo * n_acc
    key += np.maximum(x, y)
    del x, y
    if n_buckets == 1:
        return key, a, b, np.array([0, len(key)], np.int64)
    lo *= n_buckets
    lo //= n_acc
    bucket = lo.astype(np.uint16)
    del lo
    order = np.argsort(bucket, kind="stable")  # a radix sort for 16-bit keys
    offsets = np.zeros(n_buckets + 1, np.int64)
    np.cumsum(np.bincount(bucket, minlength=n_buckets), out=offsets[1:])
    del bucket
    small = np.int32 if len(p.post) < 2**31 else np.int64
    return key[order], a[order].astype(small), b[order].astype(small), offsets


def _round_agg(p: PreparedActions, ctx: _Ctx, start: int, stop: int, fast: bool) -> _Part | None:
    """Edges of one round of shares, exactly, with no merge: its pairs are generated in chunks
    (on THREADS threads), partitioned by key range, and each key range is reduced on its own."""
    counts = p.end[start:stop] - np.arange(start + 1, stop + 1)
    total = int(counts.sum())
    gen = [(start + a, start + b) for a, b in _chunk_bounds(counts, max(1, p.params.max_pairs_per_chunk // THREADS))
           if int(counts[a:b].sum())]
    n_buckets = 1 if total <= UNIT_PAIRS else N_BUCKETS
    pieces = [x for x in _map(lambda ab: _partitioned_pairs(p, ctx, ab[0], ab[1], fast, n_buckets), gen)
              if x is not None]
    if not pieces:
        return None
    # work units: consecutive buckets holding about the same number of pairs
    per_bucket = np.sum([x[3][1:] - x[3][:-1] for x in pieces], axis=0)
    n_units = 1 if n_buckets == 1 else max(THREADS, -(-total // UNIT_PAIRS))
    cuts = np.searchsorted(np.cumsum(per_bucket), np.arange(1, n_units) * (per_bucket.sum() / n_units), side="right")
    edges = np.unique(np.concatenate([[0], cuts, [n_buckets]]))

    def unit(lo_hi: tuple[int, int]) -> _Part | None:
        lo, hi = lo_hi
        sl = [(x, int(x[3][lo]), int(x[3][hi])) for x in pieces]
        sl = [(x, i, j) for x, i, j in sl if j > i]
        if not sl:
            return None
        key = np.concatenate([x[0][i:j] for x, i, j in sl])
        a = np.concatenate([x[1][i:j] for x, i, j in sl]).astype(np.int64)
        b = np.concatenate([x[2][i:j] for x, i, j in sl]).astype(np.int64)
        return _reduce(p, ctx, key, a, b)

    parts = [x for x in _map(unit, list(zip(edges[:-1].tolist(), edges[1:].tolist()))) if x is not None]
    pieces.clear()  # the round's pairs: freed before the parts are joined
    return _concat_parts(parts)


def _concat_parts(parts: list[_Part]) -> _Part:
    """Parts over ascending, disjoint key ranges, as one part (no edge is in two of them)."""
    if len(parts) == 1:
        return parts[0]
    key = np.concatenate([pt.agg.key for pt in parts])
    store = {name: np.concatenate([pt.agg.store.pop(name) for pt in parts]) for name in list(parts[0].agg.store)}

    def cat(side: str) -> tuple[np.ndarray, np.ndarray]:
        return (np.concatenate([getattr(pt, side)[0] for pt in parts]),
                np.concatenate([getattr(pt, side)[1] for pt in parts]))

    return _Part(_EdgeAgg(key, store), np.concatenate([pt.first_seg for pt in parts]),
                 np.concatenate([pt.last_seg for pt in parts]), cat("amb_older"), cat("amb_newer"))


def _reduce(p: PreparedActions, ctx: _Ctx, k: np.ndarray, a: np.ndarray, b: np.ndarray) -> _Part:
    """Edges of pairs (a-major, edge keys ``k``): one sort by edge key, then every reduction over the
    sorted groups."""
    ks, order = _sort_with_order(k, ctx.key_bits)
    del k
    a, b = a[order], b[order]  # within an edge: a ascending (the sort is stable, pairs come a-major)
    del order
    m = len(ks)
    first = np.empty(m, bool)
    first[0] = True
    np.not_equal(ks[1:], ks[:-1], out=first[1:])
    starts = np.flatnonzero(first)
    ends = np.append(starts[1:], m)
    key = ks[starts]
    del ks
    weight = ends - starts
    delta = np.add.reduceat(p.t[b] - p.t[a], starts)
    n_types = max(len(p.type_names), 1)
    by_type = None  # one type: its weight is the weight
    if n_types > 1:
        gid = np.cumsum(first) - 1
        by_type = np.bincount(gid * n_types + p.typ[a], minlength=len(key) * n_types).reshape(-1, n_types)
    seg_a = p.seg[a]
    n_objects = _group_runs(seg_a, first, starts, ends)
    none = np.zeros(0, np.int64)
    first_seg, last_seg = (seg_a[starts], seg_a[ends - 1]) if ctx.merged else (none, none)
    del seg_a
    post_a, post_b = p.post[a], p.post[b]
    if ctx.unique_posts:
        n_older = _group_runs(a, first, starts, ends)
    else:
        n_older = _group_distinct(post_a, first, weight, p.n_posts)
    n_newer = _group_distinct(post_b, first, weight, p.n_posts)

    def ambiguous(mask: np.ndarray | None, posts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if mask is None:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        sel = np.flatnonzero(mask[posts])
        gid = np.searchsorted(starts, sel, side="right") - 1
        return key[gid], posts[sel]

    store = {"weight": weight, "delta_sum": delta.astype(np.float64), "n_older": n_older, "n_newer": n_newer,
             "n_objects": n_objects}
    if by_type is not None:
        store["by_type"] = by_type
    return _Part(_EdgeAgg(key, store), first_seg, last_seg, ambiguous(ctx.amb_older, post_a),
                 ambiguous(ctx.amb_newer, post_b))


def _overcount(parts: list[_Part], side: str, key: np.ndarray) -> np.ndarray:
    """Edges (indices into ``key``, once per excess) whose (edge, post) was counted in more than one chunk."""
    ek = [getattr(pt, side)[0] for pt in parts]
    if not sum(len(e) for e in ek):
        return np.zeros(0, np.int64)
    e = np.searchsorted(key, np.concatenate(ek))
    v = np.concatenate([getattr(pt, side)[1] for pt in parts])
    c = np.repeat(np.arange(len(parts)), [len(x) for x in ek])
    o = np.lexsort((c, v, e))
    e, v, c = e[o], v[o], c[o]
    new = np.ones(len(e), bool)
    new[1:] = (e[1:] != e[:-1]) | (v[1:] != v[:-1]) | (c[1:] != c[:-1])
    e, v = e[new], v[new]
    again = (e[1:] == e[:-1]) & (v[1:] == v[:-1])
    return e[1:][again]


def _merge(parts: list[_Part], key_bits: int) -> _EdgeAgg:
    """Exact merge of chunk parts: sums add up; distinct counts add up less what two chunks both counted.

    Nothing is gathered here: edges point at their row in the chunks' stores;
    only edges met in several chunks get their values computed."""
    if len(parts) == 1:
        return parts[0].agg
    keys, order = _sort_with_order(np.concatenate([pt.agg.key for pt in parts]), key_bits, runs=True)
    m = len(keys)
    first = np.empty(m, bool)
    first[0] = True
    np.not_equal(keys[1:], keys[:-1], out=first[1:])
    # one column at a time, each chunk's copy dropped as soon as it is copied
    store = {name: np.concatenate([pt.agg.store.pop(name) for pt in parts]) for name in list(parts[0].agg.store)}
    if first.all():  # no edge in two chunks
        return _EdgeAgg(keys, store, order)
    starts = np.flatnonzero(first)
    key = keys[starts]
    del keys
    src = order[starts]
    dup = np.flatnonzero(~first)
    del first
    dup_edge = np.searchsorted(starts, dup, side="right") - 1
    fix_edges = np.unique(dup_edge)
    loc = np.searchsorted(fix_edges, dup_edge)
    fixed = {}
    for name, values in store.items():
        exact = values[src[fix_edges]]
        np.add.at(exact, loc, values[order[dup]])
        fixed[name] = exact
    # an object met at the end of one chunk and the start of the next is the same object, counted twice
    last = np.concatenate([pt.last_seg for pt in parts])
    firsts = np.concatenate([pt.first_seg for pt in parts])
    twice = last[order[dup - 1]] == firsts[order[dup]]
    np.subtract.at(fixed["n_objects"], loc[twice], 1)
    for name, side in (("n_older", "amb_older"), ("n_newer", "amb_newer")):
        np.subtract.at(fixed[name], np.searchsorted(fix_edges, _overcount(parts, side, key)), 1)
    return _EdgeAgg(key, store, src, fix_edges, fixed)


def _map(fn: Callable[[Any], Any], items: list) -> list:
    """Work items on THREADS threads (numpy and pyarrow release the GIL in sorts, gathers, hashing)."""
    if THREADS < 2 or len(items) < 2:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(min(THREADS, len(items))) as ex:
        return list(ex.map(fn, items))


def _aggregate(p: PreparedActions, rank_acc: np.ndarray, fast: bool = False) -> _EdgeAgg:
    """Reduce the kept pairs (with ``fast``, the fast ones) to edges, chunk by chunk, exactly."""
    n_types = max(len(p.type_names), 1)
    n_acc = max(p.n_accounts, 1)
    key_bits = int(n_acc * n_acc - 1).bit_length()
    bounds = _rounds(p)
    unique_posts = bool(len(p.post) == 0 or np.bincount(p.post).max() <= 1)
    amb_older = amb_newer = None
    if len(bounds) > 1:
        amb_older, amb_newer = _ambiguous(p, bounds, unique_posts)
        amb_older = amb_older if amb_older.any() else None
        amb_newer = amb_newer if amb_newer.any() else None
    ctx = _Ctx(rank_acc[p.acc] if len(p.acc) else np.zeros(0, np.int64), key_bits, unique_posts, amb_older, amb_newer,
               merged=len(bounds) > 1)
    parts = [pt for ab in bounds if (pt := _round_agg(p, ctx, ab[0], ab[1], fast)) is not None]
    if not parts:
        z = np.zeros(0, np.int64)
        store = {"weight": z, "delta_sum": z.astype(float), "n_older": z, "n_newer": z, "n_objects": z}
        if n_types > 1:
            store["by_type"] = np.zeros((0, n_types), np.int64)
        return _EdgeAgg(z, store)
    return _merge(parts, key_bits)


def _heaviest_first(weight: np.ndarray) -> np.ndarray:
    """Stable order by descending weight (rows are already in account-id order).

    Few distinct weights (the usual case): one pass per weight; otherwise one
    packed (weight, position) sort."""
    n = len(weight)
    if not n:
        return np.zeros(0, np.int64)
    top = int(weight.max())
    if top <= 4 * n:
        present = np.flatnonzero(np.bincount(weight, minlength=top + 1))[::-1]
        if len(present) <= 16:
            return np.concatenate([np.flatnonzero(weight == w) for w in present])
    inv = top - weight
    _, order = _sort_with_order(inv, int(top).bit_length())
    return order


def _threshold(weight: np.ndarray, q: float, cut: float | None = None) -> np.ndarray:
    # R's quantile() default (type 7) is numpy's linear method; ``cut``: that quantile, computed already
    if not len(weight):
        return np.zeros(0, np.int8)
    return (weight > (np.quantile(weight, q) if cut is None else cut)).astype(np.int8)


def _edge_columns(agg: _EdgeAgg, rows: _Rows, q: float, weight: np.ndarray | None = None,
                  cut: float | None = None) -> dict[str, np.ndarray]:
    if weight is None:
        weight = agg.col("weight", rows)
    n_older, n_newer = agg.col("n_older", rows), agg.col("n_newer", rows)
    with np.errstate(invalid="ignore", divide="ignore"):
        sym = np.minimum(n_older, n_newer) / np.maximum(n_older, n_newer)
    avg = agg.col("delta_sum", rows)  # a fresh array: divided in place
    avg /= np.maximum(weight, 1)
    avg /= US
    return {
        "weight": weight,
        "avg_time_delta": avg,
        "n_content_id": n_older,
        "n_content_id_y": n_newer,
        "edge_symmetry_score": sym,
        "weight_threshold": _threshold(weight, q, cut),
    }


def coaction_edges(
    actions: pa.Table | duckdb.DuckDBPyRelation | PreparedActions,
    params: CoactionParams | None = None,
    significance: sig.SignificanceParams | None = None,
) -> pa.Table:
    """The undirected co-action network, one row per account pair.

    CooRTweet columns: from, to, weight, avg_time_delta (s), n_content_id,
    n_content_id_y, edge_symmetry_score, weight_threshold. Ours: from_platform,
    to_platform, n_objects (distinct objects co-shared in the window),
    weight_<object_type> per type; *_fast columns when ``fast_time_window`` is
    set (null for edges outside the fast network); expected_weight,
    expected_objects, z, p_value, q_value, significant when ``significance``
    is given (see significance.py).
    """
    return pa.Table.from_batches(list(coaction_edge_batches(actions, params, significance)))


BATCH_ROWS = 1 << 20  # edges per record batch of coaction_edge_batches (one Parquet row group each)


def coaction_edge_batches(
    actions: pa.Table | duckdb.DuckDBPyRelation | PreparedActions,
    params: CoactionParams | None = None,
    significance: sig.SignificanceParams | None = None,
    rows_per_batch: int | None = None,
) -> Iterator[pa.RecordBatch]:
    """``coaction_edges`` as record batches of ``rows_per_batch`` (default BATCH_ROWS) edges in the final
    row order (at least one batch, maybe empty).

    The edges are aggregated first; then each batch's columns are gathered
    when it is asked for, so a caller can write one batch while the next is
    built (network() overlaps its Parquet output this way).
    """
    rows_per_batch = max(1, rows_per_batch or BATCH_ROWS)
    p = _prepared(actions, params)
    params = p.params
    # edges are keyed by the accounts' ranks in id order: from/to are CooRTweet's pmin/pmax of
    # the account ids, and key order is the final order's tie-break
    rank = p.account_rank
    code_of_rank = np.empty(len(rank), np.int64)
    code_of_rank[rank] = np.arange(len(rank))
    agg = _aggregate(p, rank)
    n_acc = max(p.n_accounts, 1)
    # heaviest first, then by account ids (key order); every column is read in that order once
    weight_by_key = agg.col("weight", agg.rows())
    order = _heaviest_first(weight_by_key)
    weight = weight_by_key[order]
    del weight_by_key
    cut = float(np.quantile(weight, params.edge_weight)) if len(weight) else None
    a_code, b_code = np.divmod(agg.key[order], n_acc)
    np.take(code_of_rank, a_code, out=a_code, mode="clip")  # in place: element i reads before it writes
    np.take(code_of_rank, b_code, out=b_code, mode="clip")
    # columns computed over all edges at once (fast network, significance), in output order
    whole: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    if params.fast_time_window is not None:
        fast = _aggregate(p, rank, fast=True)
        at = np.empty(len(order), np.int64)
        at[order] = np.arange(len(order))
        where = at[np.searchsorted(agg.key, fast.key)]
        del at
        absent = np.ones(len(order), bool)
        absent[where] = False
        for name, values in _edge_columns(fast, fast.rows(), params.edge_weight).items():
            full = np.zeros(len(order), values.dtype)
            full[where] = values
            whole[f"{name}_fast"] = (full, absent)
        del fast
    if significance is not None:
        null_p = {"pooled_delays": sig.pooled_delay_probability, "uniform": sig.uniform_probability}.get(significance.null)
        p_obj = null_p(p.seg, p.seg_start, p.t, p.typ, round(params.time_window * US)) if null_p else None
        # per-edge figures do not depend on the edges' order
        lo, hi = np.minimum(a_code, b_code), np.maximum(a_code, b_code)
        mu, mu_obj, var_obj, n_tests = sig.expected_weights(p.acc, p.seg, p.seg_start, p.end, lo, hi,
                                                            p.n_accounts, significance.max_terms_per_chunk, p_obj)
        del lo, hi
        n_objects = agg.col("n_objects", agg.rows(order))
        for name, values in sig.test_edges(n_objects, mu, mu_obj, var_obj, significance, n_tests).items():
            whole[name] = (values, np.isnan(values) if values.dtype.kind == "f" else None)
        del n_objects, mu, mu_obj, var_obj
    one_platform = len(p.account_platform) > 0 and pc.count_distinct(p.account_platform).as_py() == 1
    n = len(order)
    for i in range(0, max(n, 1), rows_per_batch):
        j = min(n, i + rows_per_batch)
        rows = agg.rows(order[i:j])
        w = weight[i:j]
        cols: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
            name: (values, None) for name, values in _edge_columns(agg, rows, params.edge_weight, w, cut).items()
        }
        cols["n_objects"] = (agg.col("n_objects", rows), None)
        if len(p.type_names) == 1:
            cols[f"weight_{p.type_names[0]}"] = (w, None)
        elif p.type_names:
            by_type = agg.col("by_type", rows)
            for k, name in enumerate(p.type_names):
                cols[f"weight_{name}"] = (np.ascontiguousarray(by_type[:, k]), None)
        for name, (values, mask) in whole.items():
            cols[name] = (values[i:j], None if mask is None else mask[i:j])
        a_idx, b_idx = pa.array(a_code[i:j]), pa.array(b_code[i:j])
        out: dict[str, pa.Array] = {"from": p.account_id.take(a_idx), "to": p.account_id.take(b_idx)}
        for name, (values, mask) in cols.items():
            out[name] = pa.array(values, mask=None if mask is None or not mask.any() else mask)
            if name == "weight_threshold":
                if one_platform:  # one platform (the usual case): a constant column, no gather
                    out["from_platform"] = out["to_platform"] = pa.repeat(p.account_platform[0], j - i)
                else:
                    out["from_platform"] = p.account_platform.take(a_idx)
                    out["to_platform"] = p.account_platform.take(b_idx)
        yield pa.RecordBatch.from_pydict(out)