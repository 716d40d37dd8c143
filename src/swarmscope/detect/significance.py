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

Consequences: organic crowds on one viral object get a high p_o and so a
high p-value; pairs that keep landing within seconds of each other on
objects whose other shares are spread out get a tiny one. A group that is
the *entire* audience of its objects cannot be told apart from the objects'
own burst by timing alone (p_o is then 1); such edges are not called
significant and stay visible through CooRTweet's weight percentile.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import poisson


@dataclass(frozen=True)
class SignificanceParams:
    """- ``alpha`` 0.01: false-discovery rate across edges; at most about 1 in
      100 significant edges is expected to be chance. Stricter than the usual
      0.05 because a false accusation is the worst failure.
    - ``min_objects`` 2: one co-shared object is an anecdote however unlikely;
      CooRTweet and Giglietto et al. (2020) define coordination by repetition.
    - ``max_terms_per_chunk``: memory bound for the common-object join.
    """

    alpha: float = 0.01
    min_objects: int = 2
    max_terms_per_chunk: int = 4_000_000

    def __post_init__(self) -> None:
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not 0.0 < self.alpha < 1.0:
            raise ValueError(f"alpha is a false-discovery rate and must be between 0 and 1, got {self.alpha!r}")
        if isinstance(self.min_objects, bool) or not isinstance(self.min_objects, (int, np.integer)) or self.min_objects < 1:
            raise ValueError(f"min_objects must be an integer >= 1, got {self.min_objects!r}")


def window_probability(seg: np.ndarray, seg_start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """p_o for every object: share of its time-slot pairs that fall within the window."""
    n_obj = len(seg_start) - 1
    in_window = np.bincount(seg, weights=(end - np.arange(1, len(end) + 1)).astype(np.float64), minlength=n_obj)
    size = np.diff(seg_start).astype(np.float64)
    slots = size * (size - 1) / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(slots > 0, in_window / slots, 0.0)


def expected_weights(
    acc: np.ndarray,
    seg: np.ndarray,
    seg_start: np.ndarray,
    end: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    n_accounts: int,
    max_terms: int = 4_000_000,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """Null means of each edge's weight and of its object count, the object count's variance bound,
    and the number of account pairs that were candidates at all (bounded above by sum_o C(d_o, 2),
    d_o = distinct accounts sharing o).

    ``acc``/``seg``/``end``: shares sorted by object and time (see coaction.py);
    ``lo``/``hi``: the edges' account codes. Cost: for each edge, the objects
    of its less active account.
    """
    p_obj = window_probability(seg, seg_start, end)
    n_obj = max(len(seg_start) - 1, 1)
    ao_key, ao_n = np.unique(acc * n_obj + seg, return_counts=True)
    ao_acc, ao_seg = ao_key // n_obj, ao_key % n_obj
    degree = np.bincount(ao_acc, minlength=n_accounts)
    first = np.concatenate([[0], np.cumsum(degree)])
    x = np.where(degree[lo] <= degree[hi], lo, hi)
    y = np.where(degree[lo] <= degree[hi], hi, lo)
    mu = np.zeros(len(lo))
    mu_obj = np.zeros(len(lo))
    var_obj = np.zeros(len(lo))
    terms = degree[x]
    csum = np.cumsum(terms)
    start, done = 0, 0
    while start < len(lo):
        stop = max(int(np.searchsorted(csum, done + max_terms, side="right")), start + 1)
        t = terms[start:stop]
        total = int(t.sum())
        edge = np.repeat(np.arange(start, stop), t)
        idx = first[x[edge]] + (np.arange(total) - np.repeat(np.cumsum(t) - t, t))
        s = ao_seg[idx]
        look = y[edge] * n_obj + s
        pos = np.minimum(np.searchsorted(ao_key, look), len(ao_key) - 1)
        n_y = np.where(ao_key[pos] == look, ao_n[pos], 0)
        m = (ao_n[idx] * n_y).astype(np.float64)
        pairs = m * p_obj[s]
        hit = np.minimum(pairs, 1.0)
        mu[start:stop] = np.bincount(edge - start, weights=pairs, minlength=stop - start)
        mu_obj[start:stop] = np.bincount(edge - start, weights=hit, minlength=stop - start)
        var_obj[start:stop] = np.bincount(edge - start, weights=hit * (1 - hit), minlength=stop - start)
        done = int(csum[stop - 1])
        start = stop
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
    n_objects: np.ndarray, mu: np.ndarray, mu_obj: np.ndarray, var_obj: np.ndarray, params: SignificanceParams,
    n_tests: float | None = None,
) -> dict[str, np.ndarray]:
    """expected_weight, expected_objects, z, p_value, q_value and significant for each edge.

    Only observed edges are listed, but every account pair that co-shared an object was a
    test (with p = 1 when it never landed in the window): ``n_tests`` counts them, else
    the q-values of a network with one huge viral object would be wildly optimistic.
    """
    k = np.asarray(n_objects, np.float64)
    p_value = poisson.sf(k - 1, mu_obj)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(var_obj > 0, (k - mu_obj) / np.sqrt(var_obj), np.nan)
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
