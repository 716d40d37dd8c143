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
cost. Pairs are generated and reduced to partial edge aggregates in chunks of
at most ``max_pairs_per_chunk``; memory follows the output (edges and their
distinct posts), not the candidate pairs.

Ties (two shares of one object in the same microsecond) are ordered as
CooRTweet orders them: by the account's first appearance in the input, then
by input row. This only decides which side counts as "older" in
``n_content_id`` / ``n_content_id_y``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import significance as sig

REQUIRED = ("platform", "account_id", "post_id", "created_at", "object_type", "object_id")
US = 1_000_000


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
    """

    time_window: float = 60.0
    min_participation: int = 2
    remove_loops: bool = True
    edge_weight: float = 0.5
    object_types: tuple[str, ...] | None = None
    fast_time_window: float | None = None
    max_pairs_per_chunk: int = 4_000_000

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


def _first_rows(codes: np.ndarray) -> np.ndarray:
    """Row of each code's first appearance (codes are numbered by first appearance)."""
    if not len(codes):
        return np.zeros(0, np.int64)
    prev_max = np.maximum.accumulate(codes)
    is_first = np.empty(len(codes), bool)
    is_first[0] = True
    is_first[1:] = codes[1:] > prev_max[:-1]
    return np.flatnonzero(is_first)


def _window_ends(t: np.ndarray, seg_end: np.ndarray, window_us: int) -> np.ndarray:
    """For each share i, one past the last share of its object with time <= t[i] + window (bisection)."""
    n = len(t)
    lo = np.arange(1, n + 1, dtype=np.int64)
    hi = seg_end.astype(np.int64, copy=True)
    target = t + window_us
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
    acc, _ = _codes(table["platform"], table["account_id"])
    first = _first_rows(acc)
    account_platform = table["platform"].take(pa.array(first)).combine_chunks()
    account_id = table["account_id"].take(pa.array(first)).combine_chunks()
    post, post_values = _codes(table["platform"], table["post_id"])
    typ, type_values = _codes(table["object_type"])
    oid, oid_values = _codes(table["object_id"])
    obj = typ * max(len(oid_values), 1) + oid
    t = table["created_at"].combine_chunks().cast(pa.int64()).to_numpy(zero_copy_only=False) if n_rows else np.zeros(0, np.int64)

    # CooRTweet's pre-filter counts rows (actions), loops included
    n_acc = len(account_id)
    in_x = np.bincount(acc, minlength=n_acc)[acc] >= params.min_participation if n_rows else np.zeros(0, bool)
    eligible = in_x.copy()
    if params.remove_loops and n_rows:
        eligible &= ~pc.equal(table["post_id"], table["object_id"]).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(eligible)
    order = np.lexsort((acc[rows], t[rows], obj[rows]))  # stable: input row breaks the last tie
    rows = rows[order]
    s_obj = obj[rows]
    n = len(rows)
    change = np.flatnonzero(s_obj[1:] != s_obj[:-1]) + 1 if n else np.zeros(0, np.int64)
    seg_start = np.concatenate([[0], change, [n]]).astype(np.int64) if n else np.zeros(1, np.int64)
    seg = np.repeat(np.arange(len(seg_start) - 1), np.diff(seg_start))
    s_t = t[rows]
    end = _window_ends(s_t, seg_start[1:][seg], round(params.time_window * US)) if n else np.zeros(0, np.int64)

    base = PreparedActions(
        params=params, table=table, acc=acc[rows], post=post[rows], seg=seg, typ=typ[rows], t=s_t, row=rows,
        end=end, seg_start=seg_start, account_platform=account_platform, account_id=account_id,
        type_names=tuple(type_values.to_pylist()), n_posts=len(post_values),
        keep_post=np.zeros(len(post_values), bool), keep_post_fast=None,
    )
    x_acc, x_post = acc[in_x], post[in_x]

    def kept_posts(in_pairs: np.ndarray) -> np.ndarray:
        # CooRTweet's filter_min_participation: count, per account, the pre-filtered rows whose
        # content is in a pair; a pair stays if either content belongs to a row of such an account
        hit = in_pairs[x_post]
        qualifies = np.bincount(x_acc[hit], minlength=n_acc) >= params.min_participation
        keep = np.zeros(len(post_values), bool)
        keep[x_post[hit & qualifies[x_acc]]] = True
        return keep

    in_pairs = np.zeros(len(post_values), bool)
    for a, b in _raw_pairs(base):
        in_pairs[base.post[a]] = True
        in_pairs[base.post[b]] = True
    keep = kept_posts(in_pairs)
    keep_fast = None
    if params.fast_time_window is not None:
        base = _replace(base, keep_post=keep)
        fast_us = round(params.fast_time_window * US)
        in_fast = np.zeros(len(post_values), bool)
        for a, b in _kept_pairs(base):
            quick = (base.t[b] - base.t[a]) <= fast_us
            in_fast[base.post[a[quick]]] = True
            in_fast[base.post[b[quick]]] = True
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


def _all_pairs(p: PreparedActions) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every in-window pair (i older, j newer), chunk by chunk, as indices into the sorted shares."""
    counts = p.end - np.arange(1, len(p.end) + 1)
    for start, stop in _chunk_bounds(counts, p.params.max_pairs_per_chunk):
        c = counts[start:stop]
        total = int(c.sum())
        if not total:
            continue
        a = np.repeat(np.arange(start, stop, dtype=np.int64), c)
        offsets = np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(c) - c, c)
        yield a, a + 1 + offsets


def _raw_pairs(p: PreparedActions) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Pairs after loop removal (CooRTweet's result before the participation filter)."""
    for a, b in _all_pairs(p):
        if p.params.remove_loops:
            keep = (p.acc[a] != p.acc[b]) & (p.post[a] != p.post[b])
            a, b = a[keep], b[keep]
        yield a, b


def _kept_pairs(p: PreparedActions) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    for a, b in _raw_pairs(p):
        keep = p.keep_post[p.post[a]] | p.keep_post[p.post[b]]
        yield a[keep], b[keep]


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
    for a, b in _kept_pairs(p):
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


def _distinct(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values (sort-based: numpy's hash unique is far slower on big int64 arrays)."""
    if not len(x):
        return x
    x = np.sort(x)
    return x[np.concatenate([[True], x[1:] != x[:-1]])]


@dataclass(frozen=True)
class _EdgeAgg:
    key: np.ndarray
    weight: np.ndarray
    delta_sum: np.ndarray  # microseconds
    n_older: np.ndarray
    n_newer: np.ndarray
    by_type: np.ndarray  # (edges, types)
    n_objects: np.ndarray


def _aggregate(p: PreparedActions, pairs: Iterator[tuple[np.ndarray, np.ndarray]]) -> _EdgeAgg:
    """Reduce pairs to edges chunk by chunk; distinct counts are made exact in a final pass."""
    n_types = max(len(p.type_names), 1)
    keys, weights, dsums, types = [], [], [], []
    older, newer, objects = [], [], []
    for a, b in pairs:
        if not len(a):
            continue
        k = _edge_key(p, a, b)
        uk, inv = np.unique(k, return_inverse=True)
        keys.append(uk)
        weights.append(np.bincount(inv, minlength=len(uk)))
        dsums.append(np.bincount(inv, weights=(p.t[b] - p.t[a]).astype(np.float64), minlength=len(uk)))
        types.append(np.bincount(inv * n_types + p.typ[a], minlength=len(uk) * n_types).reshape(-1, n_types))
        for store, vals, size in ((older, p.post[a], p.n_posts), (newer, p.post[b], p.n_posts),
                                  (objects, p.seg[a], p.n_objects)):
            u = _distinct(inv * size + vals)
            store.append((uk[u // size], u % size))
    if not keys:
        z = np.zeros(0, np.int64)
        return _EdgeAgg(z, z, z.astype(float), z, z, np.zeros((0, n_types), np.int64), z)
    all_keys = np.concatenate(keys)
    key, inv = np.unique(all_keys, return_inverse=True)
    m = len(key)
    weight = np.bincount(inv, weights=np.concatenate(weights), minlength=m).astype(np.int64)
    delta_sum = np.bincount(inv, weights=np.concatenate(dsums), minlength=m)
    per_type = np.concatenate(types)
    by_type = np.stack([np.bincount(inv, weights=per_type[:, i], minlength=m) for i in range(n_types)], axis=1)
    by_type = by_type.astype(np.int64)

    def distinct(store: list[tuple[np.ndarray, np.ndarray]], size: int) -> np.ndarray:
        e = np.searchsorted(key, np.concatenate([s[0] for s in store]))
        u = _distinct(e * size + np.concatenate([s[1] for s in store]))
        return np.bincount(u // size, minlength=m)

    return _EdgeAgg(key, weight, delta_sum, distinct(older, p.n_posts), distinct(newer, p.n_posts), by_type,
                    distinct(objects, p.n_objects))


def _threshold(weight: np.ndarray, q: float) -> np.ndarray:
    # R's quantile() default (type 7) is numpy's linear method
    if not len(weight):
        return np.zeros(0, np.int8)
    return (weight > np.quantile(weight, q)).astype(np.int8)


def _edge_columns(agg: _EdgeAgg, q: float) -> dict[str, np.ndarray]:
    with np.errstate(invalid="ignore", divide="ignore"):
        sym = np.minimum(agg.n_older, agg.n_newer) / np.maximum(agg.n_older, agg.n_newer)
    return {
        "weight": agg.weight,
        "avg_time_delta": agg.delta_sum / np.maximum(agg.weight, 1) / US,
        "n_content_id": agg.n_older,
        "n_content_id_y": agg.n_newer,
        "edge_symmetry_score": sym,
        "weight_threshold": _threshold(agg.weight, q),
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
    p = _prepared(actions, params)
    params = p.params
    agg = _aggregate(p, _kept_pairs(p))
    lo, hi = agg.key // max(p.n_accounts, 1), agg.key % max(p.n_accounts, 1)
    # from/to as CooRTweet: pmin/pmax of the account ids
    rank = pc.rank(p.account_id, sort_keys="ascending", tiebreaker="first").to_numpy()
    swap = rank[lo] > rank[hi]
    a_code, b_code = np.where(swap, hi, lo), np.where(swap, lo, hi)
    # numeric columns (values, null mask) in key order; reordered once at the end
    cols: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
        name: (values, None) for name, values in _edge_columns(agg, params.edge_weight).items()
    }
    cols["n_objects"] = (agg.n_objects, None)
    for i, name in enumerate(p.type_names):
        cols[f"weight_{name}"] = (agg.by_type[:, i], None)
    if params.fast_time_window is not None:
        fast = _aggregate(p, ((a[f], b[f]) for a, b in _kept_pairs(p) for f in [_is_fast(p, a, b)]))
        where = np.searchsorted(agg.key, fast.key)
        absent = np.ones(len(agg.key), bool)
        absent[where] = False
        for name, values in _edge_columns(fast, params.edge_weight).items():
            full = np.zeros(len(agg.key), values.dtype)
            full[where] = values
            cols[f"{name}_fast"] = (full, absent)
    if significance is not None:
        null_p = {"pooled_delays": sig.pooled_delay_probability, "uniform": sig.uniform_probability}.get(significance.null)
        p_obj = null_p(p.seg, p.seg_start, p.t, p.typ, round(params.time_window * US)) if null_p else None
        mu, mu_obj, var_obj, n_tests = sig.expected_weights(p.acc, p.seg, p.seg_start, p.end, lo, hi,
                                                            p.n_accounts, significance.max_terms_per_chunk, p_obj)
        for name, values in sig.test_edges(agg.n_objects, mu, mu_obj, var_obj, significance, n_tests).items():
            cols[name] = (values, np.isnan(values) if values.dtype.kind == "f" else None)
    # heaviest first, then by account ids (string order via their ranks)
    order = np.lexsort((rank[b_code], rank[a_code], -agg.weight))
    a_code, b_code = pa.array(a_code[order]), pa.array(b_code[order])
    out: dict[str, pa.Array] = {"from": p.account_id.take(a_code), "to": p.account_id.take(b_code)}
    for name, (values, mask) in cols.items():
        out[name] = pa.array(values[order], mask=None if mask is None or not mask.any() else mask[order])
        if name == "weight_threshold":
            out["from_platform"] = p.account_platform.take(a_code)
            out["to_platform"] = p.account_platform.take(b_code)
    return pa.table(out)
