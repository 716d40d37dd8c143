"""Co-action input: actions validated, encoded, sorted and windowed once (``prepare_actions``).

Everything ``coaction_edges``, ``coaction_pairs`` and the significance test
need from the input, computed once and shared (``PreparedActions``): the
checks of the actions table, dense codes for accounts, posts, objects and
types, the eligible shares sorted by (object, time), each share's window
end, and CooRTweet's participation filter. Split from the pairing kernel
(coaction_kernel.py, numpy only) because this is the part that reads Arrow
tables and DuckDB and fixes the semantics of the input (types, nulls, tie
order); the public wrapper (coaction.py) only turns kernel results into
tables.

The participation filter is defined over the candidate pairs, so this
module runs the kernel's pair generation once (twice with a fast window)
to mark the posts that qualify; the pairs themselves are not kept.

Ties (two shares of one object in the same microsecond) are ordered as
CooRTweet orders them: by the account's first appearance in the input, then
by input row. This only decides which side counts as "older" in
``n_content_id`` / ``n_content_id_y``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..duck import registered, scratch
from ..progress import detail
from .coaction_kernel import US, _bounds, _chunk_pairs, _map

if TYPE_CHECKING:  # the parameters are defined with the public functions; only read here
    from .coaction import CoactionParams

REQUIRED = ("platform", "account_id", "post_id", "created_at", "object_type", "object_id")
PROOF_ROWS = 1 << 18  # rows from which post codes try the distinct-rows proof (_row_codes)
# prepare_actions' object lane: type codes, type names, object codes, times (us), post codes,
# number of posts, and the (object, time) order with its packed keys (None when they do not fit)
_ObjectLane = tuple[np.ndarray, pa.Array, np.ndarray, np.ndarray, np.ndarray, int, tuple[np.ndarray, np.ndarray] | None]


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
            raise ValueError(
                f"actions.{name} is missing in row {first} (0-based) and {col.null_count - 1} other row(s)"
            )
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


def _distinct_rows(*cols: pa.ChunkedArray, con: duckdb.DuckDBPyConnection | None = None) -> bool:
    """Whether the rows of the text columns ``cols`` are pairwise distinct.

    Proven, not estimated: equal rows have equal hashes, so when the rows' 64-bit
    hashes (DuckDB's ``hash``) are pairwise distinct, so are the rows. Equal hashes
    (a repeated row, or a collision) answer False. 10M post ids: about 0.5 s, where
    hash-encoding them takes about 4 s. ``con``: a connection to hash on (default: a scratch one).
    """
    n = len(cols[0])
    if n < 2:
        return True
    rows = pa.table({f"c{i}": col for i, col in enumerate(cols)})
    names = ", ".join(f"c{i}" for i in range(len(cols)))
    with scratch(con) as c, registered(c, _rows=rows):
        h = c.sql(f"SELECT hash({names}) AS h FROM _rows").to_arrow_table()["h"]
    h = np.sort(h.combine_chunks().to_numpy(zero_copy_only=False))
    return not bool((h[1:] == h[:-1]).any())


def _row_codes(*cols: pa.ChunkedArray, con: duckdb.DuckDBPyConnection | None = None) -> tuple[np.ndarray, int]:
    """``_codes`` of ``cols`` and the number of distinct values: the row numbers when every row is
    distinct (what the encoding gives then), else the hash encoding. The proof is tried from
    PROOF_ROWS rows on: below, opening DuckDB costs more than the encoding."""
    if len(cols[0]) >= PROOF_ROWS and _distinct_rows(*cols, con=con):
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
    target = t[first : first + n] + window_us
    active = np.flatnonzero(lo < hi)
    while len(active):
        mid = (lo[active] + hi[active]) // 2
        inside = t[mid] <= target[active]
        lo[active] = np.where(inside, mid + 1, lo[active])
        hi[active] = np.where(inside, hi[active], mid)
        active = active[lo[active] < hi[active]]
    return lo


def prepare_actions(
    actions: pa.Table | duckdb.DuckDBPyRelation, params: CoactionParams, *, con: duckdb.DuckDBPyConnection | None = None
) -> PreparedActions:
    """Validate, filter by type, encode, pre-filter accounts, sort, find windows and qualifying accounts.

    ``con``: a DuckDB connection for the one query this needs (hashing post ids
    from PROOF_ROWS rows on); default: a scratch connection of its own.
    """
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

    def object_lane() -> _ObjectLane:
        oid, oid_values = _codes(table["object_id"])
        typ, type_values = _codes(table["object_type"])
        obj = typ * max(len(oid_values), 1) + oid
        t = (
            table["created_at"].combine_chunks().cast(pa.int64()).to_numpy(zero_copy_only=False)
            if n_rows
            else np.zeros(0, np.int64)
        )
        post, n_posts = _row_codes(table["platform"], table["post_id"], con=con)
        return typ, type_values, obj, t, post, n_posts, _packed_order(obj, t)

    detail(f"preparing {n_rows:,} actions: codes and order")
    (acc, account_platform, account_id, account_rank), (typ, type_values, obj, t, post, n_posts, packed) = _map(
        lambda lane: lane(), [account_lane, object_lane]
    )
    detail(f"preparing {n_rows:,} actions: windows")

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
    end_lo, end_hi, s_acc, s_post, s_typ = _map(
        lambda job: job(),
        [
            lambda: window_ends((0, half)),
            lambda: window_ends((half, n)),
            lambda: acc[rows],
            lambda: post[rows],
            lambda: typ[rows],
        ],
    )
    end = np.concatenate([end_lo, end_hi]) if n else np.zeros(0, np.int64)
    del end_lo, end_hi

    base = PreparedActions(
        params=params,
        table=table,
        acc=s_acc,
        post=s_post,
        seg=seg,
        typ=s_typ,
        t=s_t,
        row=rows,
        end=end,
        seg_start=seg_start,
        account_platform=account_platform,
        account_id=account_id,
        account_rank=account_rank,
        type_names=tuple(type_values.to_pylist()),
        n_posts=n_posts,
        keep_post=np.zeros(n_posts, bool),
        keep_post_fast=None,
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
    return replace(p, **changes)
