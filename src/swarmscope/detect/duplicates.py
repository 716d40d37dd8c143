"""Copy-paste and near-duplicate text clusters, in any script.

Stages (each a function below, columnar: numpy and Arrow):

1. normalise (enrich/text.py): one matching key per post; NULL, empty,
   emoji- or URL-only and short texts are counted and left out;
2. exact groups: posts whose normalised texts are equal are one *variant*;
3. candidate pairs of variants: MinHash over character shingles with LSH
   banding. The signature is one-permutation MinHash with optimal
   densification (Shrivastava 2017): one hash per shingle instead of one per
   shingle and permutation, collision probability still the Jaccard index;
4. verification: the exact Jaccard index of the two shingle sets; only pairs
   at or above ``threshold`` are kept (the evidence of every edge);
5. clustering without chaining: greedy star clustering. The variant with
   most verified neighbours becomes a centre and takes its unassigned
   neighbours; repeat. Every member is within ``threshold`` of its centre,
   so A~B~C~D never puts unrelated A and D together;
6. typing: a member whose Levenshtein similarity to the centre is at least
   ``copypasta_similarity`` (D3lta's 0.693) is ``copypasta``, else
   ``rewording`` (same shingles, moved around: reordered sentences or
   hashtags, inserted words). A cluster is ``copypasta`` when all its
   members are.

Optional stage 4b, cross-lingual and reworded duplicates: with an ``embed``
function (a sentence-embedding model on disk, enrich/embed.py) and each
post's language, detect/semantic.py adds edges between variants whose
embeddings are close (D3lta's cosine thresholds). ``star_clusters`` takes
edges from both stages; a member joined to its centre by a cross-language
edge is typed ``translation``, and so is its cluster.

Parameters and their research reasons: ``DuplicateParams``; the method and
its departures from D3lta: docs/methods/duplicates.md.

Why this module is long: it is one pipeline, read top to bottom in the order
of the stages above, and its stages pass the same variant arrays (codes,
shingle offsets, signatures) from one to the next; the parameters, counts
and output schemas they share are most of the rest. The one stage that
stands on its own, the embedding edges, is already detect/semantic.py.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..enrich.text import codepoints, normalise, text_array
from .semantic import SemanticParams, semantic_pairs

BINS = 64  # one-permutation MinHash bins: the signature length
_EMPTY = np.uint32(0xFFFFFFFF)


@dataclass(frozen=True)
class DuplicateParams:
    """What counts as a near duplicate. Defaults and why:

    - ``threshold`` 0.8: Jaccard index of the character-shingle sets. Two
      100-character posts at 0.8 differ by about one edited word; organic
      posts on one topic score below 0.3 (docs/benchmarks-duplicates.md).
    - ``shingle`` 5 characters: long enough that unrelated texts in one
      language share few shingles (3-grams are mostly common syllables),
      short enough that one edited letter costs only 5 shingles.
    - ``min_chars`` 30 (after normalisation): D3lta skips texts under 30
      characters; "thank you" posted by thousands is no evidence of copying.
    - ``max_chars`` 5,000: longer texts are matched on their first 5,000
      normalised characters (bounded time on 100 kB posts); counted.
    - ``copypasta_similarity`` 0.693: D3lta's Levenshtein threshold for
      copy-pasta, kept so results compare.
    - ``recall`` 0.995: the LSH banding is chosen so that a pair exactly at
      ``threshold`` becomes a candidate with at least this probability.
    - ``max_bucket`` 256: an LSH bucket larger than this (a campaign with
      thousands of variants) is linked as a star around its first variant
      instead of all pairs: clusters still form, time stays linear.
    - ``az_latin`` True: Azerbaijani Cyrillic meets its Latin spelling
      (enrich/text.py); harmless to other Cyrillic texts, whose copies are
      transliterated alike.
    - ``min_posts`` 2: a cluster needs two posts to be a copy of anything.
    """

    threshold: float = 0.8
    shingle: int = 5
    min_chars: int = 30
    max_chars: int = 5_000
    copypasta_similarity: float = 0.693
    recall: float = 0.995
    max_bucket: int = 256
    az_latin: bool = True
    min_posts: int = 2
    seed: int = 20240604

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.shingle < 1 or self.min_chars < self.shingle:
            raise ValueError("need 1 <= shingle <= min_chars")


@dataclass(frozen=True)
class DuplicateCounts:
    """Where every input text went. texts == null + empty + short + eligible."""

    texts: int
    null: int  # no text at all
    empty: int  # nothing left after normalisation (emoji, URLs, mentions only)
    short: int  # under min_chars after normalisation
    eligible: int
    truncated: int  # over max_chars: matched on the first max_chars
    repaired: int  # unencodable code points (lone surrogates) replaced on input
    variants: int  # distinct normalised texts among the eligible
    candidate_pairs: int
    verified_pairs: int
    clusters: int
    clustered_posts: int
    semantic_pairs: int = 0  # embedding pairs over the cosine bars (0 without a model)
    translation_pairs: int = 0  # of which across known, different languages

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class DuplicateResult:
    """clusters: one row per cluster; members: one row per clustered post;
    pairs: verified variant pairs (post ids of each variant's first post)."""

    clusters: pa.Table
    members: pa.Table
    pairs: pa.Table
    counts: DuplicateCounts
    params: DuplicateParams


CLUSTERS = pa.schema(
    [
        ("cluster_id", pa.string()),
        ("type", pa.string()),  # copypasta | rewording | translation
        ("posts", pa.int64()),
        ("variants", pa.int64()),  # distinct normalised texts
        ("representative_post_id", pa.string()),
        ("representative_text", pa.string()),  # as posted
        ("min_similarity", pa.float64()),  # lowest member Jaccard to the representative
        ("min_edit_similarity", pa.float64()),  # lowest member Levenshtein similarity
        ("post_ids", pa.list_(pa.string())),
    ]
)
MEMBERS = pa.schema(
    [
        ("post_id", pa.string()),
        ("cluster_id", pa.string()),
        ("match", pa.string()),  # exact | copypasta | rewording | translation
        ("similarity", pa.float64()),  # score of the edge to the centre: Jaccard, or cosine for an embedding edge
        ("edit_similarity", pa.float64()),
    ]
)
PAIRS = pa.schema([("post_id_a", pa.string()), ("post_id_b", pa.string()), ("jaccard", pa.float64())])


def find_duplicates(
    post_ids: pa.Array | pa.ChunkedArray | Sequence[str],
    texts: pa.Array | pa.ChunkedArray | Sequence[str | None],
    params: DuplicateParams = DuplicateParams(),
    *,
    langs: pa.Array | pa.ChunkedArray | Sequence[str | None] | None = None,
    embed: Callable[[list[str]], np.ndarray] | None = None,
    semantic: SemanticParams = SemanticParams(),
) -> DuplicateResult:
    """Exact and near-duplicate clusters of ``texts`` (one per post id).

    With ``embed`` (texts -> unit vectors) and ``langs`` (one language code
    per post, None or 'unknown' when not known), translations and rewordings
    found by embeddings join the clusters (detect/semantic.py).
    """
    repaired = 0
    if not isinstance(texts, (pa.Array, pa.ChunkedArray)):
        texts, repaired = text_array(list(texts))
    if isinstance(texts, pa.ChunkedArray):
        texts = texts.combine_chunks()
    ids = post_ids if isinstance(post_ids, (pa.Array, pa.ChunkedArray)) else pa.array(list(post_ids), pa.string())
    if isinstance(ids, pa.ChunkedArray):
        ids = ids.combine_chunks()
    ids = ids.cast(pa.string())
    if len(ids) != len(texts):
        raise ValueError(f"{len(ids)} post ids but {len(texts)} texts")

    norm = normalise(texts, az_latin=params.az_latin)
    length = pc.utf8_length(norm).fill_null(-1).to_numpy(zero_copy_only=False)
    null = int(texts.null_count)
    empty = int(np.count_nonzero(length == 0))
    short = int(np.count_nonzero((length > 0) & (length < params.min_chars)))
    eligible_rows = np.flatnonzero(length >= params.min_chars)
    truncated = int(np.count_nonzero(length > params.max_chars))

    # 2. exact groups: one variant per distinct normalised text
    variant_of, first_row, posts_per_variant = _exact_groups(norm, eligible_rows)
    n_var = first_row.size
    var_text = (
        pc.utf8_slice_codeunits(norm.take(pa.array(first_row)), 0, params.max_chars)
        if n_var
        else pa.array([], pa.string())
    )

    # 3-4. candidates and verification
    signatures = _sketch(var_text, params)
    cand_a, cand_b = _lsh_candidates(signatures, params)
    a, b, jac = _verify(cand_a, cand_b, var_text, params)

    # 4b. embedding edges (optional)
    ea, eb, escore = a, b, jac
    translation_var = np.zeros(n_var, bool)
    sem_pairs = trans_pairs = 0
    translation_keys = np.zeros(0, np.int64)
    if embed is not None and n_var > 1:
        if langs is None:
            raise ValueError("cross-lingual duplicates need each post's language (langs)")
        lang_arr = langs if isinstance(langs, (pa.Array, pa.ChunkedArray)) else pa.array(list(langs), pa.string())
        if len(lang_arr) != len(texts):
            raise ValueError(f"{len(lang_arr)} languages but {len(texts)} texts")
        var_lang = np.asarray(lang_arr.take(pa.array(first_row)).to_pylist(), dtype=object)
        rep = pc.utf8_slice_codeunits(texts.take(pa.array(first_row)), 0, params.max_chars).to_pylist()
        vectors = embed(rep)
        sa, sb, scos, strans = semantic_pairs(vectors, var_lang, semantic)
        sem_pairs, trans_pairs = int(sa.size), int(np.count_nonzero(strans))
        translation_keys = sa[strans] * n_var + sb[strans]
        # character edges first: a pair found by both keeps its Jaccard
        char_keys = np.minimum(a, b) * n_var + np.maximum(a, b)
        new = ~np.isin(sa * n_var + sb, char_keys)
        ea = np.concatenate((a, sa[new]))
        eb = np.concatenate((b, sb[new]))
        escore = np.concatenate((jac, scos[new]))

    # 5. clusters over variants
    centre, sim = star_clusters(n_var, ea, eb, escore, posts_per_variant)
    if translation_keys.size:
        v = np.arange(n_var)
        key = np.minimum(v, centre) * n_var + np.maximum(v, centre)
        translation_var = (centre != v) & np.isin(key, translation_keys)
    clusters, members = _tables(
        ids,
        texts,
        var_text,
        variant_of,
        eligible_rows,
        first_row,
        posts_per_variant,
        centre,
        sim,
        params,
        translation_var,
    )
    pairs = pa.table(
        {
            "post_id_a": ids.take(pa.array(first_row[a])) if a.size else pa.array([], pa.string()),
            "post_id_b": ids.take(pa.array(first_row[b])) if b.size else pa.array([], pa.string()),
            "jaccard": pa.array(jac, pa.float64()),
        },
        schema=PAIRS,
    )
    counts = DuplicateCounts(
        texts=len(texts),
        null=null,
        empty=empty,
        short=short,
        eligible=int(eligible_rows.size),
        truncated=truncated,
        repaired=repaired,
        variants=int(n_var),
        candidate_pairs=int(cand_a.size),
        verified_pairs=int(a.size),
        clusters=clusters.num_rows,
        clustered_posts=members.num_rows,
        semantic_pairs=sem_pairs,
        translation_pairs=trans_pairs,
    )
    return DuplicateResult(clusters, members, pairs, counts, params)


def _exact_groups(norm: pa.Array, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(variant id per eligible row, first row of each variant, posts per variant); variants in row order."""
    if rows.size == 0:
        z = np.zeros(0, np.int64)
        return z, z, z
    enc = pc.dictionary_encode(norm.take(pa.array(rows)))
    codes = enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
    # dictionary order is first appearance, so variant ids follow row order
    first_pos = np.full(len(enc.dictionary), rows.size, np.int64)
    np.minimum.at(first_pos, codes, np.arange(rows.size))
    counts = np.bincount(codes, minlength=len(enc.dictionary))
    return codes, rows[first_pos], counts


def _shingles(texts: pa.Array, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashes (uint32) of every k-character window of every text, CSR by text."""
    cp, offs = codepoints(texts)
    n = len(texts)
    lengths = np.diff(offs)
    per_text = np.maximum(lengths - k + 1, 0)
    m = cp.size - k + 1
    if m <= 0:
        return np.zeros(0, np.uint32), np.zeros(n + 1, np.int64)
    # a polynomial hash of each window over contiguous slices (no gathers),
    # then windows crossing a text's end are dropped
    c = cp.astype(np.uint64)
    h = c[:m].copy()
    for j in range(1, k):
        h *= np.uint64(0x100000001B3)
        h += c[j : j + m]
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    valid = np.ones(m, bool)
    ends = offs[1:]
    for j in range(1, k):
        at = ends - j
        at = at[(at >= offs[:-1]) & (at < m)]
        valid[at] = False
    return (h[valid] >> np.uint64(32)).astype(np.uint32), np.concatenate(([0], np.cumsum(per_text)))


def _chunks(var_text: pa.Array, rows: np.ndarray | None = None, chars: int = 4_000_000):
    """(variant ids, their texts) in slices of about ``chars`` characters: bounded memory."""
    ids = np.arange(len(var_text)) if rows is None else rows
    if ids.size == 0:
        return
    lengths = pc.utf8_length(var_text).to_numpy(zero_copy_only=False)[ids]
    bounds = np.searchsorted(np.cumsum(lengths), np.arange(chars, lengths.sum() + chars, chars), side="right")
    start = 0
    for end in np.unique(np.append(bounds, ids.size)).tolist():
        if end > start:
            part = ids[start:end]
            yield part, (var_text.slice(int(part[0]), part.size) if rows is None else var_text.take(pa.array(part)))
            start = end


def _sketch(var_text: pa.Array, params: DuplicateParams) -> np.ndarray:
    """MinHash signatures of all variants, chunk by chunk; shingles are not kept."""
    sig = np.full((len(var_text), BINS), _EMPTY, np.uint32)
    for part, texts in _chunks(var_text):
        sh, offs = _shingles(texts, params.shingle)
        sig[part] = _signatures(sh, offs, params.seed)
    return sig


def _signatures(shingles: np.ndarray, offs: np.ndarray, seed: int) -> np.ndarray:
    """One-permutation MinHash with optimal densification: (variants × BINS) uint32."""
    n = offs.size - 1
    sig = np.full(n * BINS, _EMPTY, np.uint32)
    if shingles.size:
        text = np.repeat(np.arange(n, dtype=np.int64), np.diff(offs))
        bins = (shingles >> np.uint32(26)).astype(np.int64)  # top 6 bits choose the bin
        np.minimum.at(sig, text * BINS + bins, shingles & np.uint32((1 << 26) - 1))
    sig = sig.reshape(n, BINS)
    # Densify: an empty bin copies the bin that a fixed sequence of hashes of
    # (bin, attempt) first lands on in this text; the same for every text, so
    # two equal sets stay equal and collisions keep probability J.
    rng = np.random.default_rng(seed)
    filled = sig != _EMPTY
    empty_r, empty_c = np.nonzero(~filled & filled.any(axis=1, keepdims=True))
    for attempt in range(1, BINS):  # the attempt number marks the value: 6 bits
        if empty_r.size == 0:
            break
        probe = rng.integers(0, BINS, BINS)  # attempt-specific: bin j probes probe[j]
        src = probe[empty_c]
        ok = filled[empty_r, src]
        sig[empty_r[ok], empty_c[ok]] = sig[empty_r[ok], src[ok]] ^ np.uint32(attempt << 26)
        empty_r, empty_c = empty_r[~ok], empty_c[~ok]
    return sig


def bands_for(threshold: float, recall: float) -> int:
    """Rows per LSH band: the most that still catch a pair at ``threshold`` with ``recall``."""
    best = 1
    for r in range(1, BINS + 1):
        b = BINS // r
        if 1.0 - (1.0 - threshold**r) ** b >= recall:
            best = r
    return best


def _lsh_candidates(sig: np.ndarray, params: DuplicateParams) -> tuple[np.ndarray, np.ndarray]:
    """Variant pairs (a < b) sharing at least one LSH band, pre-filtered on the signature estimate."""
    n = sig.shape[0]
    if n < 2:
        z = np.zeros(0, np.int64)
        return z, z
    r = bands_for(params.threshold, params.recall)
    keys_found: list[np.ndarray] = []
    mult = np.uint64(0x9E3779B97F4A7C15)
    for band in range(BINS // r):
        cols = sig[:, band * r : (band + 1) * r].astype(np.uint64)
        key = np.zeros(n, np.uint64)
        for c in range(r):
            key = (key ^ cols[:, c]) * mult
            key ^= key >> np.uint64(29)
        a, b = _pairs_in_buckets(key, params.max_bucket)
        keys_found.append(a.astype(np.uint64) * np.uint64(n) + b.astype(np.uint64))
    keys = np.unique(np.concatenate(keys_found))
    a = (keys // np.uint64(n)).astype(np.int64)
    b = (keys % np.uint64(n)).astype(np.int64)
    # Drop pairs whose signature estimate is far below the threshold: with 64
    # bins the estimate's standard error is at most 0.0625, so a margin of 0.25
    # (4 standard errors) loses almost no true pair and saves verification.
    keep = np.zeros(a.size, bool)
    step = 1 << 18
    for s in range(0, a.size, step):
        est = (sig[a[s : s + step]] == sig[b[s : s + step]]).mean(axis=1)
        keep[s : s + step] = est >= params.threshold - 0.25
    return a[keep], b[keep]


def _pairs_in_buckets(key: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """All pairs within each group of equal keys (a star for groups over ``max_bucket``)."""
    order = np.argsort(key, kind="stable")
    k = key[order]
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    sizes = np.diff(np.append(starts, k.size))
    group_end = np.repeat(starts + sizes, sizes)
    group_size = np.repeat(sizes, sizes)
    pos = np.arange(k.size)
    small = (group_size >= 2) & (group_size <= max_bucket)
    partners = np.where(small, group_end - pos - 1, 0)
    left = np.repeat(pos, partners)
    right = left + 1 + (np.arange(left.size) - np.repeat(np.cumsum(partners) - partners, partners))
    big_members = pos[(group_size > max_bucket) & (pos != np.repeat(starts, sizes))]
    big_head = np.repeat(starts, sizes)[big_members] if big_members.size else big_members
    a = np.concatenate((order[left], order[big_head]))
    b = np.concatenate((order[right], order[big_members]))
    return np.minimum(a, b), np.maximum(a, b)


def _verify(
    a: np.ndarray,
    b: np.ndarray,
    var_text: pa.Array,
    params: DuplicateParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact Jaccard of the shingle sets of each candidate pair; keep those at or above threshold."""
    if a.size == 0:
        return a, b, np.zeros(0)
    used = np.unique(np.concatenate((a, b)))
    local = np.full(len(var_text), -1, np.int64)
    local[used] = np.arange(used.size)
    # sorted unique shingles of every variant in a candidate pair, keyed (local id, hash)
    parts = []
    for part, texts in _chunks(var_text, used):
        sh, offs = _shingles(texts, params.shingle)
        key = (np.repeat(local[part].astype(np.uint64), np.diff(offs)) << np.uint64(32)) | sh.astype(np.uint64)
        key.sort()
        parts.append(key[np.concatenate(([True], key[1:] != key[:-1]))])
    keys = np.concatenate(parts)
    owner = (keys >> np.uint64(32)).astype(np.int64)
    set_size = np.bincount(owner, minlength=used.size)
    set_offs = np.concatenate(([0], np.cumsum(set_size)))
    values = keys & np.uint64(0xFFFFFFFF)
    la, lb = local[a], local[b]
    # query the smaller set of each pair against the larger one
    swap = set_size[la] > set_size[lb]
    q, t = np.where(swap, lb, la), np.where(swap, la, lb)
    order = np.lexsort((q, t))
    q, t = q[order], t[order]
    inter = np.zeros(q.size, np.int64)
    step = 1 << 16
    for s in range(0, q.size, step):
        qs, ts = q[s : s + step], t[s : s + step]
        n_q = set_size[qs]
        pair = np.repeat(np.arange(qs.size), n_q)
        at = np.repeat(set_offs[qs], n_q) + (np.arange(n_q.sum()) - np.repeat(np.cumsum(n_q) - n_q, n_q))
        query = (np.repeat(ts.astype(np.uint64), n_q) << np.uint64(32)) | values[at]
        pos = np.minimum(np.searchsorted(keys, query), keys.size - 1)
        inter[s : s + step] = np.bincount(pair[keys[pos] == query], minlength=qs.size)
    jac = inter / (set_size[q] + set_size[t] - inter)
    keep = jac >= params.threshold
    a2, b2 = used[q[keep]], used[t[keep]]
    return np.minimum(a2, b2), np.maximum(a2, b2), jac[keep]


def star_clusters(
    n: int, a: np.ndarray, b: np.ndarray, score: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy star clustering of ``n`` nodes over edges (a, b, score).

    Centres are taken by degree, then weight (posts), then index; each takes
    its unassigned neighbours. Returns (centre per node, score to its centre);
    a node without edges is its own centre with score 1.
    """
    centre = np.arange(n)
    sim = np.ones(n)
    if a.size == 0:
        return centre, sim
    src = np.concatenate((a, b))
    dst = np.concatenate((b, a))
    w = np.concatenate((score, score))
    order = np.argsort(src, kind="stable")
    src, dst, w = src[order], dst[order], w[order]
    adj_offs = np.concatenate(([0], np.cumsum(np.bincount(src, minlength=n))))
    degree = np.diff(adj_offs)
    nodes = np.flatnonzero(degree)
    nodes = nodes[np.lexsort((nodes, -weight[nodes], -degree[nodes]))]
    assigned = np.zeros(n, bool)
    for node in nodes.tolist():  # per cluster, not per post: assigned nodes are skipped
        if assigned[node]:
            continue
        assigned[node] = True
        nb = dst[adj_offs[node] : adj_offs[node + 1]]
        free = ~assigned[nb]
        take = nb[free]
        assigned[take] = True
        centre[take] = node
        sim[take] = w[adj_offs[node] : adj_offs[node + 1]][free]
    return centre, sim


def _tables(
    ids: pa.Array,
    texts: pa.Array,
    var_text: pa.Array,
    variant_of: np.ndarray,
    rows: np.ndarray,
    first_row: np.ndarray,
    posts: np.ndarray,
    centre: np.ndarray,
    sim: np.ndarray,
    params: DuplicateParams,
    translation_var: np.ndarray | None = None,
) -> tuple[pa.Table, pa.Table]:
    from rapidfuzz import process
    from rapidfuzz.distance import Levenshtein

    n_var = first_row.size
    cluster_posts = np.bincount(centre, weights=posts, minlength=n_var) if n_var else np.zeros(0)
    is_kept = cluster_posts[centre] >= params.min_posts if n_var else np.zeros(0, bool)
    kept_var = np.flatnonzero(is_kept)
    if kept_var.size == 0:
        return CLUSTERS.empty_table(), MEMBERS.empty_table()
    # edit similarity of each variant to its centre (C++, all cores)
    non_centre = kept_var[centre[kept_var] != kept_var]
    edit = np.ones(n_var)
    if non_centre.size:
        edit[non_centre] = process.cpdist(
            var_text.take(pa.array(non_centre)).to_pylist(),
            var_text.take(pa.array(centre[non_centre])).to_pylist(),
            scorer=Levenshtein.normalized_similarity,
            workers=-1,
        )
    centres = np.unique(centre[kept_var])
    cid = {
        int(c): "dup-" + hashlib.sha1(s.encode("utf-8")).hexdigest()[:16]
        for c, s in zip(centres.tolist(), var_text.take(pa.array(centres)).to_pylist())
    }
    # members: one row per post of a kept variant
    member_mask = is_kept[variant_of]
    m_rows = rows[member_mask]
    m_var = variant_of[member_mask]
    m_centre = centre[m_var]
    match = np.where(
        m_var == m_centre, "exact", np.where(edit[m_var] >= params.copypasta_similarity, "copypasta", "rewording")
    )
    if translation_var is not None and translation_var.any():
        match = np.where(translation_var[m_var], "translation", match)
    cluster_ids = np.array([cid[int(c)] for c in centres.tolist()], dtype=object)
    slot = np.searchsorted(centres, m_centre)
    members = pa.table(
        {
            "post_id": ids.take(pa.array(m_rows)),
            "cluster_id": pa.array(cluster_ids[slot], pa.string()),
            "match": pa.array(match, pa.string()),
            "similarity": pa.array(sim[m_var], pa.float64()),
            "edit_similarity": pa.array(edit[m_var], pa.float64()),
        },
        schema=MEMBERS,
    )
    order = np.lexsort((m_rows, slot))
    members = members.take(pa.array(order))
    # clusters: per-cluster figures from the members
    n_c = centres.size
    size = np.bincount(slot, minlength=n_c)
    v_slot = np.searchsorted(centres, centre[kept_var])
    variants = np.bincount(v_slot, minlength=n_c)
    min_sim = np.ones(n_c)
    np.minimum.at(min_sim, v_slot, sim[kept_var])
    min_edit = np.ones(n_c)
    np.minimum.at(min_edit, v_slot, edit[kept_var])
    rewording = np.zeros(n_c, bool)
    rewording[slot[match == "rewording"]] = True
    translated = np.zeros(n_c, bool)
    translated[slot[match == "translation"]] = True
    list_offs = np.concatenate(([0], np.cumsum(size))).astype(np.int32)
    post_ids = pa.ListArray.from_arrays(pa.array(list_offs), members["post_id"].combine_chunks())
    rep_rows = first_row[centres]
    clusters = pa.table(
        {
            "cluster_id": pa.array(cluster_ids, pa.string()),
            "type": pa.array(
                np.where(translated, "translation", np.where(rewording, "rewording", "copypasta")), pa.string()
            ),
            "posts": pa.array(size, pa.int64()),
            "variants": pa.array(variants, pa.int64()),
            "representative_post_id": ids.take(pa.array(rep_rows)),
            "representative_text": texts.take(pa.array(rep_rows)),
            "min_similarity": pa.array(min_sim, pa.float64()),
            "min_edit_similarity": pa.array(min_edit, pa.float64()),
            "post_ids": post_ids,
        },
        schema=CLUSTERS,
    )
    by_size = np.lexsort((np.arange(n_c), -size))
    return clusters.take(pa.array(by_size)), members
