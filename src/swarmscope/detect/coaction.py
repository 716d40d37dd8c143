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

This module is the public face: the parameters, the pairs table, the edge
table and its columns, and the only call into the significance test
(significance.py). The work sits in two modules beneath it, split by what
they are about rather than by size alone:

- coaction_prepare.py: validation, encoding, the (object, time) sort, the
  windows and the participation filter (steps 1-4 above, ``prepare_actions``);
- coaction_kernel.py: the output-sensitive pairing kernel, chunks and rounds
  of candidate pairs reduced to exact per-edge aggregates (step 5).

Clusters are built in graph.py; reading inputs and writing files for the
``network`` command is network.py's job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..progress import detail
from . import significance as sig
from .coaction_kernel import (
    US,
    _aggregate,
    _bounds,
    _chunk_pairs,
    _edge_key,
    _EdgeAgg,
    _is_fast,
    _Rows,
    _sort_with_order,
)
from .coaction_prepare import REQUIRED, PreparedActions, prepare_actions, validate_actions

__all__ = [
    "BATCH_ROWS",
    "REQUIRED",
    "CoactionParams",
    "PreparedActions",
    "coaction_edge_batches",
    "coaction_edges",
    "coaction_pairs",
    "prepare_actions",
    "edges_with_significance",
    "validate_actions",
]


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


# -- pairs -------------------------------------------------------------------


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


def _edge_columns(
    agg: _EdgeAgg, rows: _Rows, q: float, weight: np.ndarray | None = None, cut: float | None = None
) -> dict[str, np.ndarray]:
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


def _significance(
    p: PreparedActions, significance: sig.SignificanceParams, a_code: np.ndarray, b_code: np.ndarray, n_objects
) -> dict[str, np.ndarray]:
    """The significance columns of edges between account codes ``a_code`` and ``b_code`` (any order:
    per-edge figures do not depend on it; the q-values' family is every candidate pair)."""
    params = p.params
    null_p = {"pooled_delays": sig.pooled_delay_probability, "uniform": sig.uniform_probability}.get(significance.null)
    p_obj = null_p(p.seg, p.seg_start, p.t, p.typ, round(params.time_window * US)) if null_p else None
    if significance.null == "reference":
        p_obj = np.full(len(p.seg_start) - 1, sig.reference_probability(params.time_window))
    lo, hi = np.minimum(a_code, b_code), np.maximum(a_code, b_code)
    mu, mu_obj, var_obj, n_tests = sig.expected_weights(
        p.acc, p.seg, p.seg_start, p.end, lo, hi, p.n_accounts, significance.max_terms_per_chunk, p_obj
    )
    return sig.test_edges(n_objects, mu, mu_obj, var_obj, significance, n_tests)


def edges_with_significance(
    actions: pa.Table | PreparedActions,
    edges: pa.Table,
    params: CoactionParams | None = None,
    significance: sig.SignificanceParams | None = None,
) -> pa.Table:
    """Edges built elsewhere from these actions (the Spark engine's, engines/spark/coaction.py) as
    ``coaction_edges`` gives them: in its row order (heaviest first, then by account ids) with the
    significance columns added, so the campaign layer cannot tell the engines apart.

    ``edges`` has ``coaction_edges``' columns without significance (from, to, from_platform,
    to_platform, weight, n_objects, ...); every account in it must be in ``actions``.
    """
    p = _prepared(actions, params)
    n = edges.num_rows
    keys = pc.binary_join_element_wise(p.account_platform, p.account_id, "\x1f")
    code = {}
    for side in ("from", "to"):
        wanted = pc.binary_join_element_wise(edges[f"{side}_platform"], edges[side], "\x1f")
        found = pc.index_in(wanted, value_set=keys)
        if found.null_count:
            raise ValueError(f"{found.null_count:,} edges name an account ({side}) absent from the actions")
        code[side] = found.to_numpy(zero_copy_only=False).astype(np.int64)
    rank_a, rank_b = p.account_rank[code["from"]], p.account_rank[code["to"]]
    key = np.minimum(rank_a, rank_b) * max(p.n_accounts, 1) + np.maximum(rank_a, rank_b)
    weight = edges["weight"].to_numpy().astype(np.int64)
    order = np.lexsort((key, -weight)) if n else np.zeros(0, np.int64)
    out = edges.take(pa.array(order))
    if significance is not None:
        a_code, b_code = code["from"][order], code["to"][order]
        n_objects = out["n_objects"].to_numpy().astype(np.int64)
        for name, values in _significance(p, significance, a_code, b_code, n_objects).items():
            mask = np.isnan(values) if values.dtype.kind == "f" else None
            out = out.append_column(name, pa.array(values, mask=None if mask is None or not mask.any() else mask))
    return out


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
    detail("pairing accounts")
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
        detail(f"testing {len(order):,} edges ({significance.null} null)")
        n_objects = agg.col("n_objects", agg.rows(order))
        for name, values in _significance(p, significance, a_code, b_code, n_objects).items():
            whole[name] = (values, np.isnan(values) if values.dtype.kind == "f" else None)
        del n_objects
    detail("edge table")
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
