"""How surprising is an edge's weight if the same accounts had shared the same objects at independent times?

Null model (docs/methods/coordination.md): within each object, the share
times are kept but randomly permuted among the shares. This keeps every
account's activity (which objects it shared, how often) and every object's
popularity *and its time profile* (a viral burst stays a burst); it breaks
only the alignment of particular accounts with particular moments.

Under it, any two distinct shares of object o land on a uniformly random pair
of the object's time slots, so they fall within the window with probability

    p_o = (in-window pairs of o) / (n_o choose 2).

The test statistic of edge (A, B) is the number of distinct objects on which
A and B co-shared within the window (``n_objects``): repeated shares of one
object by the same two accounts are strongly dependent and count once. Per
common object, the chance of at least one in-window pair is at most
min(1, n_Ao * n_Bo * p_o) (union bound), and objects are independent under
the null, so the statistic is dominated by a Poisson-binomial with those
probabilities. The p-value is the Poisson upper tail with their sum as mean,
which bounds the Poisson-binomial tail from above whenever the statistic
exceeds the mean by at least one (Hoeffding 1956; Anderson & Samuels 1967):
conservative exactly where an edge could be called significant. p-values are
adjusted with Benjamini–Hochberg over every account pair that co-shared an
object at all (unobserved ones have p = 1), not just the observed edges,
whose p-values are small by selection. ``expected_weight`` (the
null mean of CooRTweet's pair-count weight, sum_o n_Ao * n_Bo * p_o) is
reported alongside for comparison with ``weight``.

Two ways to get p_o (``SignificanceParams.null``):

- ``object_times``: from the object's own share times, as above. Organic
  crowds on one viral object get a high p_o; pairs that keep landing within
  seconds of each other on objects whose other shares are spread out get a
  tiny one. But a group that is the *entire* audience of its objects (an
  amplifier network reposting its own targets) cannot be told apart from
  the objects' own burst: p_o is then 1.
- ``pooled_delays`` (default): the object's time profile is replaced by the
  pooled profile of its stratum, objects of the same type and popularity
  (log2 of the share count). Each share's delay after its object's first
  share is pooled per stratum, and p_o is the chance that two draws from the
  stratum's delays fall within the window. A viral object is judged against
  other viral objects (whose shares also come in a rush), so a viral crowd
  still gets a high p_o; fifty reposts landing within eight seconds, where
  objects of that popularity normally collect their fifty shares over hours,
  get a small one. Coordinated objects in a stratum pull its profile
  towards theirs, which makes the test more conservative, never less.
- ``uniform``: two shares of an object are independent and uniform over the
  observation span of their object type: p_o = min(1, 2 w / span). For
  objects that organic users rarely share at all, where the object's
  existence is already the anomaly (the same 100-character text posted by
  several accounts): there the campaign is most of the data for that object
  type, so the pooled profile is the campaign's own and hides it. Not for
  reposts, URLs or hashtags, where organic rushes are the norm.
- ``reference``: p_o from real organic retweet cascades, shipped as an
  aggregate (``reference_probability``; bench/reference_null.py derives it
  from Twitter15's 1,490 cascades). For reposts in a case with no organic
  background of its own (a takedown archive that is the operation, a pull
  dominated by one network), where the case's own pooled delays would be the
  suspects' rush: judged against how real organic crowds retweet instead.
  The pipeline switches to it by itself when the accounts that co-shared
  repeatedly are most of the accounts sharing (config.NetworkSpec).
"""

from __future__ import annotations

import functools
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.resources import files

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.special import pdtrc  # Poisson upper tail; scipy.stats.poisson.sf calls it, at 1/5 the import time

from ..progress import detail
from .coaction_kernel import THREADS

NULL_MODELS = ("pooled_delays", "object_times", "uniform", "reference")
REFERENCE_TABLE = "data/reference_repost_null.json"


@dataclass(frozen=True)
class SignificanceParams:
    """- ``alpha`` 0.01: false-discovery rate across edges; at most about 1 in
      100 significant edges is expected to be chance. Stricter than the usual
      0.05 because a false accusation is the worst failure.
    - ``min_objects`` 2: one co-shared object is an anecdote however unlikely;
      CooRTweet and Giglietto et al. (2020) define coordination by repetition.
    - ``null`` "pooled_delays": each object's timing is judged against
      objects of the same type and popularity, so a network that is the
      whole audience of its targets is still visible; "object_times" keeps
      each object's own time profile (blind to such networks). See the
      module docstring.
    - ``max_terms_per_chunk``: memory bound for the common-object join.
    - ``background_min_share`` 0.5: the case's own pooled delays are a fair
      null only while most accounts that share objects of the type are not
      themselves repeated co-sharers (an edge of ``min_objects`` or more).
      Where the repeated co-sharers are more than half of the sharing
      accounts, the case has no organic background for the type, and reposts
      are judged against the ``reference`` null instead (pipeline.py; the
      findings say which null was used and why). Half: below it the
      background still outnumbers the suspects, so their rush cannot set
      what is normal.
    """

    alpha: float = 0.01
    min_objects: int = 2
    null: str = "pooled_delays"
    max_terms_per_chunk: int = 4_000_000
    background_min_share: float = 0.5

    def __post_init__(self) -> None:
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha is a false-discovery rate and must be between 0 and 1, got {self.alpha!r}")
        if (
            isinstance(self.min_objects, bool)
            or not isinstance(self.min_objects, (int, np.integer))
            or self.min_objects < 1
        ):
            raise ValueError(f"min_objects must be an integer >= 1, got {self.min_objects!r}")
        if self.null not in NULL_MODELS:
            raise ValueError(f"null must be one of {', '.join(NULL_MODELS)}, got {self.null!r}")


def window_probability(seg: np.ndarray, seg_start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """p_o for every object: share of its time-slot pairs that fall within the window."""
    n_obj = len(seg_start) - 1
    in_window = np.bincount(seg, weights=(end - np.arange(1, len(end) + 1)).astype(np.float64), minlength=n_obj)
    size = np.diff(seg_start).astype(np.float64)
    slots = size * (size - 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(slots > 0, in_window / slots, 0.0)


def pooled_delay_probability(
    seg: np.ndarray, seg_start: np.ndarray, t: np.ndarray, typ: np.ndarray, window_us: int
) -> np.ndarray:
    """p_o for every object from the pooled delays of its object type, every object weighted equally.

    ``t`` microseconds sorted by object then time, so an object's first share
    opens its run. Each share's delay after its object's first share goes
    into its type's pool with weight 1/size, so that each object (of two
    shares or more) counts once whatever its size: a few huge cascades do
    not set the reference, and neither does a campaign's many small ones
    unless they are most of the data. p = the weighted share of pairs of
    pooled delays within the window (sorted pool, one binary search per
    share, cumulative weights).
    """
    n_obj = len(seg_start) - 1
    if n_obj == 0:
        return np.zeros(0)
    size = np.diff(seg_start)
    first_t = t[seg_start[:-1]]
    delay = t - first_t[seg]
    obj_type = typ[seg_start[:-1]].astype(np.int64)
    pooled = size[seg] > 1  # a lone share makes no pair: it says nothing of timing
    types, type_idx = np.unique(obj_type, return_inverse=True)
    share_type = type_idx[seg]
    span = int(delay.max()) + int(window_us) + 1
    key = share_type[pooled].astype(np.int64) * span + delay[pooled]
    w = 1.0 / size[seg][pooled]
    order = np.argsort(key, kind="stable")
    key, w = key[order], w[order]
    cum = np.concatenate([[0.0], np.cumsum(w)])
    end = np.searchsorted(key, key + int(window_us), side="right")
    ahead = cum[end] - cum[np.arange(1, len(key) + 1)]  # weight of later delays within the window
    key_type = key // span
    pairs_in = np.bincount(key_type, weights=w * ahead, minlength=len(types))
    total_w = np.bincount(key_type, weights=w, minlength=len(types))
    total_w2 = np.bincount(key_type, weights=w * w, minlength=len(types))
    all_pairs = (total_w * total_w - total_w2) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        p_type = np.where(all_pairs > 0, pairs_in / all_pairs, 1.0)
    return p_type[type_idx]


def reference_probability(window_seconds: float) -> float:
    """The reference null's p for a window: log-log interpolation in the shipped table, clipped to its ends."""
    rows = _reference_rows()
    w = np.array([r[0] for r in rows], float)
    p = np.array([r[1] for r in rows], float)
    x = np.log(max(float(window_seconds), w[0]))
    if x >= np.log(w[-1]):
        return float(p[-1])
    return float(np.exp(np.interp(x, np.log(w), np.log(p))))


@functools.cache
def _reference_rows() -> list[list[float]]:
    doc = json.loads(files("swarmscope").joinpath(REFERENCE_TABLE).read_text(encoding="utf-8"))
    return doc["window_seconds_probability"]


def uniform_probability(
    seg: np.ndarray, seg_start: np.ndarray, t: np.ndarray, typ: np.ndarray, window_us: int
) -> np.ndarray:
    """p_o = min(1, 2 w / span of the object's type): shares at independent uniform times."""
    n_obj = len(seg_start) - 1
    if n_obj == 0:
        return np.zeros(0)
    types, type_idx = np.unique(typ[seg_start[:-1]], return_inverse=True)
    share_type = type_idx[seg]
    lo = np.full(len(types), np.iinfo(np.int64).max)
    hi = np.full(len(types), np.iinfo(np.int64).min)
    np.minimum.at(lo, share_type, t)
    np.maximum.at(hi, share_type, t)
    span = np.maximum(hi - lo, 1).astype(np.float64)
    return np.minimum(1.0, 2.0 * window_us / span)[type_idx]


def expected_weights(
    acc: np.ndarray,
    seg: np.ndarray,
    seg_start: np.ndarray,
    end: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    n_accounts: int,
    max_terms: int = 4_000_000,
    p_obj: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Null means of each edge's weight and of its object count, the object count's variance bound,
    and the number of account pairs that were candidates at all (bounded above by sum_o C(d_o, 2),
    d_o = distinct accounts sharing o).

    ``acc``/``seg``/``end``: shares sorted by object and time (see coaction.py);
    ``lo``/``hi``: the edges' account codes. Cost: for each edge, the objects
    of its less active account, each looked up among the other's (a binary
    search over the sorted (account, object) keys: 110M lookups, most of the
    time, for 14.7M edges of 1M Zipf-popular reposts). Edges are worked on in
    chunks of about ``max_terms`` lookups in all, THREADS chunks at once (numpy
    releases the GIL in the searches and gathers); each chunk writes its own
    edges' slice, so the results do not depend on the threads. ``p_obj``:
    per-object in-window probability (default: the object's own times,
    ``window_probability``).
    """
    if p_obj is None:
        p_obj = window_probability(seg, seg_start, end)
    n_obj = max(len(seg_start) - 1, 1)
    ao_key, ao_n = np.unique(acc * n_obj + seg, return_counts=True)
    ao_seg = ao_key % n_obj
    degree = np.bincount(ao_key // n_obj, minlength=n_accounts)
    first = np.concatenate([[0], np.cumsum(degree)])
    d_lo, d_hi = degree[lo], degree[hi]
    swap = d_lo > d_hi
    x = np.where(swap, hi, lo)  # the less active account of each edge (lo on a tie)
    y = np.where(swap, lo, hi)
    terms = np.minimum(d_lo, d_hi)  # >= 1: both accounts shared an object
    del swap, d_lo, d_hi
    mu = np.zeros(len(lo))
    mu_obj = np.zeros(len(lo))
    var_obj = np.zeros(len(lo))
    last = len(ao_key) - 1

    def chunk(span: tuple[int, int]) -> None:
        start, stop = span
        t = terms[start:stop]
        offs = np.cumsum(t)
        total = int(offs[-1])
        offs -= t  # where each edge's run of lookups starts
        idx = np.repeat(first[x[start:stop]] - offs, t)
        idx += np.arange(total)  # x's (account, object) rows, edge after edge
        s = ao_seg[idx]
        look = np.repeat(y[start:stop] * n_obj, t)
        look += s
        pos = np.searchsorted(ao_key, look)
        np.minimum(pos, last, out=pos)
        hit = np.flatnonzero(ao_key[pos] == look)  # the objects y shared too; the others add nothing
        del look
        edge = np.searchsorted(offs, hit, side="right") - 1
        pairs = (ao_n[idx[hit]] * ao_n[pos[hit]]).astype(np.float64) * p_obj[s[hit]]
        h = np.minimum(pairs, 1.0)
        n = stop - start
        mu[start:stop] = np.bincount(edge, weights=pairs, minlength=n)
        mu_obj[start:stop] = np.bincount(edge, weights=h, minlength=n)
        var_obj[start:stop] = np.bincount(edge, weights=h * (1 - h), minlength=n)

    csum = np.cumsum(terms)
    per_chunk = max(1, max_terms // THREADS)  # THREADS chunks in memory at once
    spans, start = [], 0
    while start < len(lo):
        done = int(csum[start - 1]) if start else 0
        stop = max(int(np.searchsorted(csum, done + per_chunk, side="right")), start + 1)
        spans.append((start, stop))
        start = stop
    if THREADS < 2 or len(spans) < 2:
        for done, span in enumerate(spans, 1):
            chunk(span)
            detail(f"expected weights {done}/{len(spans)}")
    else:
        with ThreadPoolExecutor(THREADS) as ex:
            for done, _ in enumerate(ex.map(chunk, spans), 1):
                detail(f"expected weights {done}/{len(spans)}")
    d = np.bincount(ao_seg, minlength=n_obj).astype(np.float64)
    return mu, mu_obj, var_obj, float(np.sum(d * (d - 1) / 2))


def benjamini_hochberg(p: np.ndarray, n_tests: float | None = None) -> np.ndarray:
    """q-values (BH step-up adjusted p-values), in the input order.

    ``n_tests``: the size of the whole family when ``p`` holds only some of
    its tests and the others have p = 1 (they only add to the denominator).
    """
    n = len(p)
    if not n:
        return np.zeros(0)
    m = max(float(n_tests or n), n)
    order = np.argsort(p, kind="stable")
    ranked = p[order] * m / np.arange(1, n + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(n)
    out[order] = np.minimum(q, 1.0)
    return out


def test_edges(
    n_objects: np.ndarray,
    mu: np.ndarray,
    mu_obj: np.ndarray,
    var_obj: np.ndarray,
    params: SignificanceParams,
    n_tests: float | None = None,
) -> dict[str, np.ndarray]:
    """expected_weight, expected_objects, z, p_value, q_value and significant for each edge.

    Only observed edges are listed, but every account pair that co-shared an object was a
    test (with p = 1 when it never landed in the window): ``n_tests`` counts them, else
    the q-values of a network with one huge viral object would be wildly optimistic.
    """
    k = np.asarray(n_objects, np.float64)
    detail(f"p-values of {len(k):,} edges")
    # P(X >= k) = poisson.sf(k - 1); k >= 1 here, so never a negative count. In THREADS slices (a ufunc
    # releases the GIL): 14.7M edges take 1.3 s on one thread.
    p_value = np.empty(len(k))

    def tail(part: slice) -> None:
        p_value[part] = pdtrc(k[part] - 1, mu_obj[part])

    step = -(-len(k) // THREADS) if len(k) >= 1_000_000 else max(len(k), 1)
    parts = [slice(i, i + step) for i in range(0, len(k), step)]
    if len(parts) > 1:
        with ThreadPoolExecutor(len(parts)) as ex:
            list(ex.map(tail, parts))
    else:
        for part in parts:
            tail(part)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var_obj > 0, (k - mu_obj) / np.sqrt(var_obj), np.nan)
    detail(f"q-values of {len(k):,} edges")
    q_value = benjamini_hochberg(p_value, n_tests)
    return {
        "expected_weight": mu,
        "expected_objects": mu_obj,
        "z": z,
        "p_value": p_value,
        "q_value": q_value,
        "significant": (q_value <= params.alpha) & (k >= params.min_objects),
    }


test_edges.__test__ = False  # type: ignore[attr-defined]  # not a pytest test


def coshared_share(actions: pa.Table, edges: pa.Table, min_objects: int) -> float:
    """The share of the accounts sharing these objects that co-shared ``min_objects``+ objects with another.

    How much of the case is repeated co-sharing: near 0 for organic cascades
    (0.008 on Twitter15), 1 for an archive that is one network. Above
    ``SignificanceParams.background_min_share`` the case has no organic
    background of its own for the object type.
    """
    repeated = edges.filter(pc.greater_equal(edges["n_objects"], min_objects))
    keys = [pc.binary_join_element_wise(repeated[f"{s}_platform"], repeated[s], "\x1f") for s in ("from", "to")]
    coshared = pc.count_distinct(pa.chunked_array(keys[0].chunks + keys[1].chunks)).as_py() if repeated.num_rows else 0
    sharing = pc.count_distinct(pc.binary_join_element_wise(actions["platform"], actions["account_id"], "\x1f"))
    return coshared / max(sharing.as_py(), 1)
