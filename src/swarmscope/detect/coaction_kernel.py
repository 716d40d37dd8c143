"""The co-action pairing kernel: candidate pairs generated in chunks and reduced to edges, exactly.

What ``coaction_edges`` costs lives here, apart from the input's encoding
(coaction_prepare.py) and from the table the caller sees and the
significance test (coaction.py), so that the one part tuned for speed and
memory can be read, tested and benchmarked on its own. Everything works on
a ``PreparedActions``: shares sorted by (object, time), each with the end of
its window.

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

Results never depend on THREADS, N_BUCKETS, UNIT_PAIRS or the chunk and
round sizes (tests/test_coaction.py checks it by changing them here).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..parallel import THREADS  # chunks in parallel; results do not depend on it

if TYPE_CHECKING:  # the kernel only reads prepared actions; coaction_prepare imports the kernel
    from .coaction_prepare import PreparedActions

US = 1_000_000
N_BUCKETS = 4096  # key ranges a round's pairs are partitioned into (by the lower account rank)
# Pairs per work unit (a run of buckets) of a round. Small enough that a unit's temporaries (8 MiB
# per column) stay under glibc's 32 MiB mmap threshold and reuse freed heap memory: fresh pages
# cost more here than the arithmetic (1M generated reposts: the reduction took 7.0 s in 7M-pair
# units, 3.6 s in 0.9M-pair ones, most of the difference system time zeroing pages).
UNIT_PAIRS = 1 << 20


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


def _chunk_pairs(
    p: PreparedActions, start: int, stop: int, fast: bool = False, kept: bool = True
) -> tuple[np.ndarray, np.ndarray]:
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


def _partitioned_pairs(
    p: PreparedActions, ctx: _Ctx, start: int, stop: int, fast: bool, n_buckets: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
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
    gen = [
        (start + a, start + b)
        for a, b in _chunk_bounds(counts, max(1, p.params.max_pairs_per_chunk // THREADS))
        if int(counts[a:b].sum())
    ]
    n_buckets = 1 if total <= UNIT_PAIRS else N_BUCKETS
    pieces = [
        x for x in _map(lambda ab: _partitioned_pairs(p, ctx, ab[0], ab[1], fast, n_buckets), gen) if x is not None
    ]
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
        return (
            np.concatenate([getattr(pt, side)[0] for pt in parts]),
            np.concatenate([getattr(pt, side)[1] for pt in parts]),
        )

    return _Part(
        _EdgeAgg(key, store),
        np.concatenate([pt.first_seg for pt in parts]),
        np.concatenate([pt.last_seg for pt in parts]),
        cat("amb_older"),
        cat("amb_newer"),
    )


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

    store = {
        "weight": weight,
        "delta_sum": delta.astype(np.float64),
        "n_older": n_older,
        "n_newer": n_newer,
        "n_objects": n_objects,
    }
    if by_type is not None:
        store["by_type"] = by_type
    return _Part(
        _EdgeAgg(key, store), first_seg, last_seg, ambiguous(ctx.amb_older, post_a), ambiguous(ctx.amb_newer, post_b)
    )


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
    ctx = _Ctx(
        rank_acc[p.acc] if len(p.acc) else np.zeros(0, np.int64),
        key_bits,
        unique_posts,
        amb_older,
        amb_newer,
        merged=len(bounds) > 1,
    )
    parts = [pt for ab in bounds if (pt := _round_agg(p, ctx, ab[0], ab[1], fast)) is not None]
    if not parts:
        z = np.zeros(0, np.int64)
        store = {"weight": z, "delta_sum": z.astype(float), "n_older": z, "n_newer": z, "n_objects": z}
        if n_types > 1:
            store["by_type"] = np.zeros((0, n_types), np.int64)
        return _EdgeAgg(z, store)
    return _merge(parts, key_bits)
