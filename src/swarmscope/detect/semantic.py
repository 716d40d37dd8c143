"""Cross-lingual and reworded duplicates from sentence embeddings.

Input: one unit-length vector per text variant (enrich/embed.py) and each
variant's language. Output: pairs whose cosine similarity passes the
encoder's thresholds, typed by whether the languages differ:

- ``translation``: different languages, cosine > ``translation_cosine``;
- ``rewording``: same language, cosine > ``rewording_cosine`` (None: off).

Neighbours: an exact search in numpy, blocks of rows against all vectors
(one matrix product each, float32); each vector keeps its ``neighbours``
nearest above the lower bar. Zero rows (blank texts, texts not embedded)
take no part. Above ``exact_limit`` vectors faiss's inverted-file index
(IVF, k-means cells) is used instead when faiss is installed (the
``embeddings`` extra); the built-in encoder's selection keeps its vectors
under the limit, so the default install needs no faiss. A pair is kept once
(a < b). Texts whose language is unknown never form a ``translation`` pair:
"different language" must be known, not guessed, before a cross-lingual
copy is claimed; such a pair must pass the rewording bar.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SemanticParams:
    """Defaults (a sentence-transformers model the user gives) and why:

    - ``translation_cosine`` 0.715 and ``rewording_cosine`` 0.85: D3lta's
      published thresholds (VIGINUM, 2024), tuned for the multilingual
      Universal Sentence Encoder, kept so results compare. The rewording bar
      is higher because same-language texts on one topic are close without
      being copies. The built-in encoder has its own (``for_encoder``).
    - ``neighbours`` 32: nearest neighbours kept per text. A message copied
      into more than 32 variants still forms one cluster, because star
      clustering links every variant to some centre.
    - ``exact_limit`` 20,000 vectors: exact search up to it; above, faiss IVF
      where installed (4·√n cells, ``nprobe`` 8 searched per query; on planted
      groups of near vectors, bench/embeddings.py, IVF finds 99.3 % of the
      exact pairs), else exact search still (quadratic: minutes at 100,000).
    - ``min_chars`` 30: as the character stage, short texts are no evidence.
    - ``translation_margin`` (None here; 1.03 for the built-in encoder): a
      translation must also stand out from the texts around it, by the ratio
      margin of bitext mining (Artetxe and Schwenk, ACL 2019): its cosine over
      the mean of the ``margin_k`` (4) best cosines of each side in the other
      side's language. Texts of one language within ``same_message_cosine``
      (0.97) of each other are one message for this (a message's variants
      are not its neighbours); a language with fewer than ``margin_k``
      messages has the missing neighbours counted at ``margin_background``
      (0.80, e5's median cosine between different messages on one topic), so
      a small case is judged on the cosine. ``translation_pairs`` explains why.
    """

    translation_cosine: float = 0.715
    rewording_cosine: float | None = 0.85
    neighbours: int = 32
    exact_limit: int = 20_000
    nprobe: int = 8
    min_chars: int = 30
    translation_margin: float | None = None
    margin_k: int = 4
    margin_background: float = 0.80
    same_message_cosine: float = 0.97

    def __post_init__(self) -> None:
        for name in ("translation_cosine", "rewording_cosine"):
            v = getattr(self, name)
            if v is not None and not 0.0 < v <= 1.0:
                raise ValueError(f"{name} must be in (0, 1], got {v}")
        if self.neighbours < 1:
            raise ValueError(f"neighbours must be >= 1, got {self.neighbours}")

    @classmethod
    def for_encoder(cls, builtin: bool) -> SemanticParams:
        """The thresholds of the built-in encoder (``builtin``) or D3lta's (a model the user gives).

        Built in (multilingual-e5-small): translation cosine 0.865, chosen on
        held-out halves of the labelled translations (enrich/embed.py
        ``DEFAULT_TRANSLATION_COSINE``, docs/benchmarks.md); rewording off.
        e5's cosines are compressed: different messages in one language score
        up to 0.933 on that set (15 % over 0.85), and there are no labelled
        rewordings to set a bar on, so a same-language claim would rest on an
        untested number. Same-language copies come from the character stage.
        """
        if not builtin:
            return cls()
        from ..enrich.embed import DEFAULT_TRANSLATION_COSINE, DEFAULT_TRANSLATION_MARGIN

        return cls(
            translation_cosine=DEFAULT_TRANSLATION_COSINE,
            rewording_cosine=None,
            exact_limit=10**9,
            translation_margin=DEFAULT_TRANSLATION_MARGIN,
        )


def _faiss():
    return importlib.import_module("faiss") if importlib.util.find_spec("faiss") else None


def semantic_pairs(
    vectors: np.ndarray, langs: np.ndarray, params: SemanticParams = SemanticParams()
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (a, b, cosine, is_translation) of rows of ``vectors`` above the thresholds, a < b."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    n = vectors.shape[0]
    if len(langs) != n:
        raise ValueError(f"{n} vectors but {len(langs)} languages")
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    rows = np.flatnonzero(np.any(x != 0, axis=1)) if n else np.zeros(0, np.int64)  # zero rows take no part
    if rows.size < 2:
        return empty
    if params.translation_margin is not None and params.rewording_cosine is None:
        return translation_pairs(x, np.asarray(langs, dtype=object), params)
    bars = [b for b in (params.translation_cosine, params.rewording_cosine) if b is not None]
    k = min(params.neighbours + 1, rows.size)
    faiss = _faiss() if rows.size > params.exact_limit else None
    if faiss is not None:
        sims, nbrs = _ivf(faiss, x[rows], k, params)
    else:
        sims, nbrs = exact_neighbours(x[rows], k, min(bars))
    a = np.repeat(rows, k)
    b_local = nbrs.ravel()
    keep = b_local >= 0
    a, s = a[keep], sims.ravel()[keep].astype(np.float64)
    b = rows[b_local[keep]]
    keep = a != b
    a, b, s = a[keep], b[keep], s[keep]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    langs = np.asarray(langs, dtype=object)
    la, lb = langs[lo], langs[hi]
    # elementwise over the object arrays: None and "unknown" are languages not known
    known = np.not_equal(la, None) & np.not_equal(lb, None) & (la != "unknown") & (lb != "unknown")
    translation = known & (la != lb)
    # same language, or a language unknown: only the rewording bar (when there is one)
    ok = translation & (s > params.translation_cosine)
    if params.rewording_cosine is not None:
        ok |= ~translation & (s > params.rewording_cosine)
    lo, hi, s, translation = lo[ok], hi[ok], s[ok], translation[ok]
    if lo.size == 0:
        return empty
    # one row per pair (both directions of a k-NN hit collapse)
    key = lo * n + hi
    _, first = np.unique(key, return_index=True)
    return lo[first], hi[first], np.minimum(s[first], 1.0), translation[first]


def exact_neighbours(x: np.ndarray, k: int, floor: float, block_bytes: int = 1 << 27) -> tuple[np.ndarray, np.ndarray]:
    """Each row's ``k`` most similar rows (itself included) by dot product, exact; -1 where under ``floor``.

    Blocks of rows against all rows (a float32 matrix product each, about
    ``block_bytes`` of scores at a time), then a partial sort per row: memory
    stays bounded, time is n² · dim multiply-adds (BLAS, all cores).
    """
    n = x.shape[0]
    sims = np.full((n, k), -np.inf, np.float32)
    nbrs = np.full((n, k), -1, np.int64)
    step = max(1, block_bytes // (4 * max(n, 1)))
    for start in range(0, n, step):
        s = x[start : start + step] @ x.T
        part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < n else np.broadcast_to(np.arange(n), s.shape)
        top = np.take_along_axis(s, part, axis=1)
        good = top >= floor
        sims[start : start + step] = np.where(good, top, -np.inf)
        nbrs[start : start + step] = np.where(good, part, -1)
    return sims, nbrs


def _ivf(faiss, x: np.ndarray, k: int, params: SemanticParams) -> tuple[np.ndarray, np.ndarray]:
    n, dim = x.shape
    cells = int(4 * np.sqrt(n))
    index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, cells, faiss.METRIC_INNER_PRODUCT)
    train = np.random.default_rng(0).choice(n, min(n, 40 * cells), replace=False)  # seeded: reproducible
    index.train(x[np.sort(train)])
    index.nprobe = params.nprobe
    index.add(x)
    sims, nbrs = index.search(x, k)
    return sims, nbrs.astype(np.int64)


def translation_pairs(
    x: np.ndarray, langs: np.ndarray, params: SemanticParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Translation pairs by cosine and margin (the built-in encoder's rule); every pair is a translation.

    Why a margin: e5's cosines are compressed, and short, generic posts in
    two languages (chat about the weather, the match, the city) score as
    high as translations do (0.87-0.94 on the demo's organic posts, where
    0.865 let through 72,000 cross-language pairs among 1,197 texts). What
    sets a translation apart is that it is closer to its source than the
    source's other neighbours in that language are: the ratio margin
    ``cos(x, y) / ((r_x + r_y) / 2)``, ``r_x`` the mean of x's ``margin_k``
    best cosines to messages in y's language (and r_y likewise), the
    standard score for mining translations from embeddings.

    1. texts of one known language within ``same_message_cosine`` of each
       other are grouped (connected components over the exact neighbours):
       a message and its near-copies; each group is one unit-length mean;
    2. for every group and every other language, its ``margin_k`` best
       groups there (exact, blocked matrix products);
    3. a pair of groups of different languages is a translation when its
       cosine passes ``translation_cosine`` and its margin
       ``translation_margin``;
    4. each such pair becomes edges from every text of one group to the
       first text of the other and back, with the texts' own cosines
       (those under ``translation_cosine`` are dropped).
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, bool))
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    known = np.not_equal(langs, None) & (langs != "unknown")
    rows = np.flatnonzero(np.any(x != 0, axis=1) & known)
    if rows.size < 2:
        return empty
    xr, lr = x[rows], langs[rows]
    # 1. messages: near-copies in one language
    k = min(params.neighbours + 1, rows.size)
    sims, nbrs = exact_neighbours(xr, k, params.same_message_cosine)
    a = np.repeat(np.arange(rows.size), k)
    b = nbrs.ravel()
    ok = (b >= 0) & (lr[a] == lr[np.maximum(b, 0)])
    graph = coo_matrix((np.ones(int(ok.sum())), (a[ok], b[ok])), shape=(rows.size, rows.size))
    n_groups, group = connected_components(graph, directed=False)
    g = np.zeros((n_groups, x.shape[1]), np.float64)
    np.add.at(g, group, xr)
    g = (g / np.linalg.norm(g, axis=1, keepdims=True)).astype(np.float32)
    first = np.full(n_groups, rows.size)
    np.minimum.at(first, group, np.arange(rows.size))
    glang = lr[first]
    # 2. each group's best groups in every language
    codes = {la: i for i, la in enumerate(sorted(set(glang.tolist())))}
    gcode = np.array([codes[la] for la in glang.tolist()])
    mk = params.margin_k
    r = np.zeros((n_groups, len(codes)), np.float32)
    cand_a, cand_b = [], []
    for c in codes.values():
        cols = np.flatnonzero(gcode == c)
        kk = min(mk, cols.size)
        s_top, i_top = _top_in(g, g[cols], kk)
        r[:, c] = (s_top.sum(axis=1) + (mk - kk) * params.margin_background) / mk
        other = np.flatnonzero(gcode != c)
        best = cols[i_top[other, 0]]  # each group's nearest message in this language
        keep = s_top[other, 0] > params.translation_cosine
        cand_a.append(other[keep])
        cand_b.append(best[keep])
    ga, gb = np.concatenate(cand_a), np.concatenate(cand_b)
    if ga.size == 0:
        return empty
    ga, gb = np.minimum(ga, gb), np.maximum(ga, gb)
    key = np.unique(ga.astype(np.int64) * n_groups + gb)
    ga, gb = key // n_groups, key % n_groups
    # 3. cosine and margin
    cos = np.einsum("ij,ij->i", g[ga], g[gb])
    margin = cos / ((r[ga, gcode[gb]] + r[gb, gcode[ga]]) / 2)
    keep = (cos > params.translation_cosine) & (margin >= params.translation_margin)
    ga, gb = ga[keep], gb[keep]
    if ga.size == 0:
        return empty
    # 4. text edges: every text of one group to the first text of the other
    members = np.argsort(group, kind="stable")
    starts = np.concatenate(([0], np.cumsum(np.bincount(group, minlength=n_groups))))
    ea, eb = [], []
    for x_g, y_g in zip(ga.tolist(), gb.tolist()):  # per translated message pair, not per text
        mx, my = members[starts[x_g] : starts[x_g + 1]], members[starts[y_g] : starts[y_g + 1]]
        ea.append(np.concatenate((mx, np.full(my.size, first[x_g]))))
        eb.append(np.concatenate((np.full(mx.size, first[y_g]), my)))
    ea, eb = rows[np.concatenate(ea)], rows[np.concatenate(eb)]
    lo, hi = np.minimum(ea, eb), np.maximum(ea, eb)
    key, idx = np.unique(lo * x.shape[0] + hi, return_index=True)
    lo, hi = lo[idx], hi[idx]
    s = np.einsum("ij,ij->i", x[lo], x[hi]).astype(np.float64)
    keep = s > params.translation_cosine
    return lo[keep], hi[keep], np.minimum(s[keep], 1.0), np.ones(int(keep.sum()), bool)


def _top_in(q: np.ndarray, t: np.ndarray, k: int, block_bytes: int = 1 << 27) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``q``, its ``k`` most similar rows of ``t`` (cosines descending, indices into ``t``)."""
    n = q.shape[0]
    sims = np.zeros((n, k), np.float32)
    idx = np.zeros((n, k), np.int64)
    step = max(1, block_bytes // (4 * max(t.shape[0], 1)))
    for start in range(0, n, step):
        s = q[start : start + step] @ t.T
        part = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < t.shape[0] else np.broadcast_to(np.arange(k), s.shape)
        top = np.take_along_axis(s, part, axis=1)
        order = np.argsort(-top, axis=1, kind="stable")
        sims[start : start + step] = np.take_along_axis(top, order, axis=1)
        idx[start : start + step] = np.take_along_axis(part, order, axis=1)
    return sims, idx
