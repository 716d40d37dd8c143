"""Copy-paste and near-duplicate text clusters, in any script.

Stages (each a function below, columnar: numpy and Arrow):

1. normalise (enrich/text.py): one matching key per post, computed once per
   distinct posted text; NULL, empty, emoji- or URL-only and short texts are
   counted and left out;
2. exact groups: posts whose normalised texts are equal are one *variant*;
   every later stage works on variants, so a text posted 10,000 times is
   sketched, paired and verified once;
3. candidate pairs of variants: MinHash over character shingles with LSH
   banding. The signature is one-permutation MinHash with optimal
   densification (Shrivastava 2017): one hash per shingle instead of one per
   shingle and permutation, collision probability still the Jaccard index;
   a bucket over ``max_bucket`` variants gives a star, not all its pairs;
4. verification: the exact Jaccard index of the two shingle sets; only pairs
   at or above ``threshold`` are kept (the evidence of every edge). Variants
   of one copied message are compared through their differences from a
   common reference variant (a few shingles each), not their whole sets;
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
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..enrich.text import codepoints, normalise_repeated, text_array
from ..memory import without_huge_pages
from ..parallel import in_order
from ..progress import detail
from .coaction_kernel import THREADS
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
    embed: Callable[[Sequence[str]], np.ndarray | tuple[np.ndarray, np.ndarray]] | None = None,
    semantic: SemanticParams = SemanticParams(),
    norm: pa.Array | pa.ChunkedArray | None = None,
) -> DuplicateResult:
    """Exact and near-duplicate clusters of ``texts`` (one per post id).

    With ``embed`` (texts -> unit vectors) and ``langs`` (one language code
    per post, None or 'unknown' when not known), translations and rewordings
    found by embeddings join the clusters (detect/semantic.py). ``embed``
    gets the variants' texts as a ``VariantTexts`` (a sequence of str over
    an Arrow array: millions of variants are not made Python strings) and
    returns one vector per text (zero rows take no part), or ``(rows,
    vectors)`` for the texts it embedded, rows ascending, the others left
    out: a case's millions of variants then need no dense matrix.

    ``norm``: each text normalised (``enrich.text.normalise`` with
    ``params.az_latin``), when the caller has it already, best as
    ``normalise_repeated`` gives it (a dictionary array): a 10M-post case
    folded its texts in several places, 40-57 s a pass.
    """
    # the stages allocate and free arrays of hundreds of MB: with transparent huge
    # pages each fresh one can stall on the kernel's compaction (memory.py)
    with without_huge_pages():
        return _find_duplicates(post_ids, texts, params, langs=langs, embed=embed, semantic=semantic, norm=norm)


def _find_duplicates(
    post_ids: pa.Array | pa.ChunkedArray | Sequence[str],
    texts: pa.Array | pa.ChunkedArray | Sequence[str | None],
    params: DuplicateParams,
    *,
    langs: pa.Array | pa.ChunkedArray | Sequence[str | None] | None,
    embed: Callable[[Sequence[str]], np.ndarray | tuple[np.ndarray, np.ndarray]] | None,
    semantic: SemanticParams,
    norm: pa.Array | pa.ChunkedArray | None = None,
) -> DuplicateResult:
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

    # 1. normalise each distinct posted text once (a copy-paste operation posts the
    # same bytes thousands of times; normalisation looks at one text at a time)
    if norm is None:
        posted = normalise_repeated(texts, az_latin=params.az_latin)
    else:
        if len(norm) != len(texts):
            raise ValueError(f"{len(norm)} normalised texts but {len(texts)} texts")
        if isinstance(norm, pa.ChunkedArray):
            norm = norm.combine_chunks() if norm.num_chunks != 1 else norm.chunk(0)
        posted = norm if pa.types.is_dictionary(norm.type) else pc.dictionary_encode(norm.cast(pa.string()))
    norm = posted.dictionary  # one per distinct posted text (or distinct normalised text)
    text_of_row = posted.indices.fill_null(len(norm)).to_numpy(zero_copy_only=False).astype(np.int64)
    length = np.append(pc.utf8_length(norm).fill_null(-1).to_numpy(zero_copy_only=False), -1)[text_of_row]
    null = int(texts.null_count)
    empty = int(np.count_nonzero(length == 0))
    short = int(np.count_nonzero((length > 0) & (length < params.min_chars)))
    eligible_rows = np.flatnonzero(length >= params.min_chars)
    truncated = int(np.count_nonzero(length > params.max_chars))

    # 2. exact groups: one variant per distinct normalised text; every later stage
    # works on variants, so 10,000 copies of a text cost one text
    detail("exact copies")
    key_of_text = pc.dictionary_encode(norm).indices.fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
    detail("exact copies: grouping")
    variant_of, first_row, posts_per_variant = _exact_groups(key_of_text[text_of_row[eligible_rows]], eligible_rows)
    n_var = first_row.size
    detail(f"exact copies: {n_var:,} variants")
    var_text = (
        pc.utf8_slice_codeunits(norm.take(pa.array(text_of_row[first_row])), 0, params.max_chars)
        if n_var
        else pa.array([], pa.string())
    )

    # 3-4. candidates and verification
    keys, fingerprints = _sketch(var_text, params)
    cand_a, cand_b = _lsh_candidates(keys, fingerprints, params)
    del keys, fingerprints
    detail(f"verifying {cand_a.size:,} candidate pairs")
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
        rep = VariantTexts(
            pc.utf8_slice_codeunits(texts.take(pa.array(first_row)), 0, params.max_chars),
            keys=norm.take(pa.array(text_of_row[first_row])),
        )
        detail("embedding the chosen texts")
        rows, vectors = _embedded_rows(embed(rep))
        del rep
        # only the embedded rows take part (semantic_pairs ignores zero rows): a case's millions of
        # variants are not held as a dense matrix of zeros (2.8 GB at 1.8M variants)
        detail(f"cross-lingual pairs among {len(rows):,} texts")
        sa, sb, scos, strans = semantic_pairs(vectors, var_lang[rows], semantic)
        sa, sb = rows[sa], rows[sb]  # rows ascend, so a < b still holds
        sem_pairs, trans_pairs = int(sa.size), int(np.count_nonzero(strans))
        translation_keys = sa[strans] * n_var + sb[strans]
        # character edges first: a pair found by both keeps its Jaccard
        char_keys = np.minimum(a, b) * n_var + np.maximum(a, b)
        new = ~np.isin(sa * n_var + sb, char_keys)
        ea = np.concatenate((a, sa[new]))
        eb = np.concatenate((b, sb[new]))
        escore = np.concatenate((jac, scos[new]))

    # 5. clusters over variants
    detail("clusters")
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


def _exact_groups(key: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(variant id per eligible row, first row of each variant, posts per variant); variants in row order.

    ``key``: a code of each eligible row's normalised text (equal codes, equal texts).
    """
    if rows.size == 0:
        z = np.zeros(0, np.int64)
        return z, z, z
    first_pos = np.full(int(key.max()) + 1, rows.size, np.int64)
    np.minimum.at(first_pos, key, np.arange(rows.size))
    present = np.flatnonzero(first_pos < rows.size)
    present = present[np.argsort(first_pos[present])]  # variant ids follow row order
    variant = np.empty(first_pos.size, np.int64)
    variant[present] = np.arange(present.size)
    variant_of = variant[key]
    return variant_of, rows[first_pos[present]], np.bincount(variant_of, minlength=present.size)


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
    for part in _slices(lengths, chars):
        ids_part = ids[part]
        if rows is None:
            yield ids_part, var_text.slice(int(ids_part[0]), ids_part.size)
        else:
            yield ids_part, var_text.take(pa.array(ids_part))


def _slices(weight: np.ndarray, budget: int):
    """Consecutive slices of ``weight``'s positions, about ``budget`` in total weight each."""
    if weight.size == 0:
        return
    total = np.cumsum(weight)
    bounds = np.searchsorted(total, np.arange(budget, int(total[-1]) + budget, budget), side="right")
    start = 0
    for end in _distinct(np.append(bounds, weight.size)).tolist():
        if end > start:
            yield slice(start, end)
            start = end


class VariantTexts(Sequence[str]):
    """The texts ``find_duplicates`` hands to ``embed``: a read-only sequence of str over an Arrow array.

    An encoder may use it as a list (len, index, iterate); one that works in
    Arrow reads ``.arrow``. On a 3M-post case the 1.83M variants as a Python
    list took about 0.5 GB more at the step's peak, for an encoder that
    embeds at most 2,000 of them (duplicates.py's selective one).
    ``keys``: each variant's whole normalised text, its matching key (an
    encoder that picks texts by key need not normalise millions again).
    """

    def __init__(self, arrow: pa.Array, keys: pa.Array | None = None) -> None:
        self.arrow = arrow
        self.keys = keys

    def __len__(self) -> int:
        return len(self.arrow)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return self.arrow[i].to_pylist()
        return self.arrow[i].as_py()

    def __iter__(self):
        for chunk in range(0, len(self.arrow), 65_536):
            yield from self.arrow.slice(chunk, 65_536).to_pylist()


def _embedded_rows(out) -> tuple[np.ndarray, np.ndarray]:
    """(rows, their vectors) from what an ``embed`` function returned: a (rows, vectors) pair for the
    texts it embedded (ascending rows; the others count as zero), or one vector per text, where the
    rows are the non-zero ones."""
    if isinstance(out, tuple):
        rows, vectors = out
        return np.asarray(rows, np.int64), np.asarray(vectors)
    out = np.asarray(out)
    rows = np.flatnonzero(np.any(out != 0, axis=1)) if out.shape[0] else np.zeros(0, np.int64)
    return rows, out[rows]


def _sketch(var_text: pa.Array, params: DuplicateParams) -> tuple[np.ndarray, np.ndarray]:
    """What LSH needs of the variants' MinHash signatures, chunk by chunk (neither shingles nor whole
    signatures are kept): each band's keys ((bands x variants) uint64, ``band_key``) and each bin's
    low 16 bits ((variants x BINS) uint16) for the pre-filter; 256 bytes a variant, as the signatures."""
    r = bands_for(params.threshold, params.recall)
    keys = np.zeros((BINS // r, len(var_text)), np.uint64)
    fingerprints = np.zeros((len(var_text), BINS), np.uint16)

    def one(item: tuple[np.ndarray, pa.Array]) -> None:  # each chunk writes its own columns and rows
        part, texts = item
        sh, offs = _shingles(texts, params.shingle)
        sig = _signatures(sh, offs, params.seed)
        for band in range(BINS // r):
            keys[band, part] = band_key(sig, band, r)
        fingerprints[part] = sig  # the low 16 bits (numpy casts modulo 2**16)

    chunks = list(_chunks(var_text))
    for done, _ in enumerate(_parallel(one, chunks), 1):
        detail(f"sketching texts {done}/{len(chunks)}")
    return keys, fingerprints


def _parallel(fn: Callable, items: Iterable) -> Iterator:
    """``fn`` over ``items`` on THREADS threads, results in the items' order (``parallel.in_order``; on 2
    cores, 2 threads made the sketch and the LSH bands x1.6 faster at 10M posts)."""
    return in_order(fn, items, THREADS)


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


def _distinct(x: np.ndarray, inplace: bool = False) -> np.ndarray:
    """Sorted distinct values of an integer array (np.unique's hash table is far slower on millions)."""
    if inplace:
        x.sort()
    else:
        x = np.sort(x)
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if x.size else x


def band_key(sig: np.ndarray, band: int, r: int) -> np.ndarray:
    """The LSH key of every signature in band ``band`` (``r`` rows): one 64-bit mix of the band's
    values (the Spark engine buckets by the same keys, engines/spark/neardup.py)."""
    mult = np.uint64(0x9E3779B97F4A7C15)
    cols = sig[:, band * r : (band + 1) * r].astype(np.uint64)
    key = np.zeros(sig.shape[0], np.uint64)
    for c in range(r):
        key = (key ^ cols[:, c]) * mult
        key ^= key >> np.uint64(29)
    return key


def _lsh_candidates(
    keys: np.ndarray, fingerprints: np.ndarray, params: DuplicateParams
) -> tuple[np.ndarray, np.ndarray]:
    """Variant pairs (a < b) sharing at least one LSH band, pre-filtered on the signature estimate.

    ``keys``, ``fingerprints``: what ``_sketch`` gives."""
    n = fingerprints.shape[0]
    if n < 2:
        z = np.zeros(0, np.int64)
        return z, z
    # Drop pairs whose signature estimate is far below the threshold: with 64
    # bins the estimate's standard error is at most 0.0625, so a margin of 0.25
    # (4 standard errors) loses almost no true pair and saves verification.
    # (estimate >= bar  <=>  agreeing bins >= bar * BINS: scaling by 64 is exact)
    # The bins are compared on their low 16 bits (b-bit minwise hashing, Li and
    # Koenig 2010): an agreement is never missed, and a false one has odds 2**-16
    # a bin, so about one pair in 20,000 more passes, which verification (exact
    # Jaccard) rejects. Half the bytes gathered for millions of pairs: at 3M posts
    # (54M bucket pairs) the filter took 13.0 s on whole bins, 5.6 s on 16 bits.
    # The filter runs on each band's pairs as they come: a bucket of short texts
    # from a common vocabulary gives pairs that grow with the square of its size,
    # millions per band at a million posts, of which a few thousand pass; kept
    # whole until the end they grew faster than the case (issue #24: detect's peak
    # went from 2.5 to 20 GiB for 10x the posts). The result is the same set.
    bar = (params.threshold - 0.25) * BINS

    # A near-identical pair shares most bands, so most pairs come from several
    # bands: merge the repeats away as they come (bounded memory)
    def passing(band: int) -> np.ndarray:  # one band's pairs that pass the filter, as codes a * n + b
        kept = [np.zeros(0, np.uint64)]
        for a, b in _bucket_pair_chunks(keys[band], params.max_bucket):
            keep = _agree_at_least(fingerprints, a, b, bar)
            kept.append(a[keep].astype(np.uint64) * np.uint64(n) + b[keep].astype(np.uint64))
            del a, b, keep
        return _distinct(np.concatenate(kept), inplace=True)

    found = np.zeros(0, np.uint64)
    pending: list[np.ndarray] = []
    # two bands at a time on two cores; each band's kept pairs are few (the filter runs as they form)
    for band, codes in enumerate(_parallel(passing, range(keys.shape[0]))):
        detail(f"candidate pairs: band {band + 1}/{keys.shape[0]}")
        pending.append(codes)
        if sum(p.size for p in pending) > max(found.size, 1 << 22) or band == keys.shape[0] - 1:
            found = _distinct(np.concatenate((found, *pending)), inplace=True)
            pending = []
    a = (found // np.uint64(n)).astype(np.int64)
    b = (found % np.uint64(n)).astype(np.int64)
    return a, b


def _agree_at_least(sig: np.ndarray, a: np.ndarray, b: np.ndarray, bar: float) -> np.ndarray:
    """Whether the signatures of each pair (a, b) agree in at least ``bar`` bins (in slices: bounded memory)."""
    keep = np.zeros(a.size, bool)
    step = 1 << 16
    for s in range(0, a.size, step):
        agree = np.count_nonzero(sig[a[s : s + step]] == sig[b[s : s + step]], axis=1)
        keep[s : s + step] = agree >= bar
    return keep


def _pairs_in_buckets(key: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a < b) within each group of equal keys: all pairs in a group of at most
    ``max_bucket``, a star around the lowest id in a larger one (time stays linear)."""
    parts = list(_bucket_pair_chunks(key, max_bucket))
    if not parts:
        z = np.zeros(0, np.int64)
        return z, z
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _bucket_pair_chunks(key: np.ndarray, max_bucket: int, budget: int = 1 << 22):
    """``_pairs_in_buckets``' pairs in chunks of about ``budget`` pairs: the buckets' pairs grow with
    the square of their sizes, so they are formed a slice of the sorted keys at a time."""
    order = np.argsort(key)
    k = key[order]
    starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
    sizes = np.diff(np.append(starts, k.size))
    group_end = np.repeat(starts + sizes, sizes)
    group_size = np.repeat(sizes, sizes)
    pos = np.arange(k.size)
    small = (group_size >= 2) & (group_size <= max_bucket)
    partners = np.where(small, group_end - pos - 1, 0)
    del group_end
    for part in _slices(partners, budget):
        p = partners[part]
        left = np.repeat(pos[part], p)
        right = left + 1 + (np.arange(left.size) - np.repeat(np.cumsum(p) - p, p))
        a, b = order[left], order[right]
        if a.size:
            yield np.minimum(a, b), np.maximum(a, b)
    if sizes.size and sizes.max() > max_bucket:
        big = group_size > max_bucket
        head = np.repeat(np.minimum.reduceat(order, starts), sizes)
        star = big & (order != head)
        a, b = head[star], order[star]
        yield np.minimum(a, b), np.maximum(a, b)


def _verify(
    a: np.ndarray,
    b: np.ndarray,
    var_text: pa.Array,
    params: DuplicateParams,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Exact Jaccard of the shingle sets of each candidate pair; keep those at or above threshold.

    A copy-paste operation's message comes as many variants that each differ
    from a common one by a word or a hashtag, and most candidate pairs are
    pairs of them. So each variant gets a *reference* (``_references``) and
    its difference from it, D_A = A Δ C (a few shingles, ``_differences``);
    the intersection is then exact from the differences alone:
    |A ∩ C| = |C| - |C ∖ A|, and for two variants of one reference
    |A ∩ B| = |C| - |C ∖ A| - |C ∖ B| + |D_A ∩ D_B|. Other pairs, and
    siblings whose differences are not smaller than their sets, intersect
    their whole sets.
    """
    if a.size == 0:
        return a, b, np.zeros(0)
    used = _distinct(np.concatenate((a, b)))
    n_used = used.size
    sets = _shingle_sets(var_text, used, params.shingle)
    set_size = np.diff(sets.indptr)
    # each pair as (q, t), q the smaller set, in (t, q) order: the order of the pairs table
    la, lb = np.searchsorted(used, a), np.searchsorted(used, b)
    swap = set_size[la] > set_size[lb]
    order = np.where(swap, la, lb) * n_used + np.where(swap, lb, la)
    del la, lb, swap
    order.sort()
    q, t = order % n_used, order // n_used
    del order
    size_q, size_t = set_size[q], set_size[t]
    # J <= min/max of the set sizes: a pair far apart in size cannot reach the threshold
    fits = np.minimum(size_q, size_t) >= params.threshold * (1 - 1e-9) * np.maximum(size_q, size_t)
    if not fits.all():
        q, t, size_q, size_t = q[fits], t[fits], size_q[fits], size_t[fits]
    del fits

    ref = _references(q, t, n_used)
    diff, lost = _differences(sets, ref)
    diff_size = np.diff(diff.indptr)
    inter = np.zeros(q.size, np.int64)
    q_is_ref, t_is_ref = ref[t] == q, ref[q] == t
    inter[t_is_ref] = size_t[t_is_ref] - lost[q[t_is_ref]]
    inter[q_is_ref] = size_q[q_is_ref] - lost[t[q_is_ref]]
    siblings = (ref[q] == ref[t]) & ~q_is_ref & ~t_is_ref
    siblings &= diff_size[q] + diff_size[t] < size_q + size_t
    qs, ts = q[siblings], t[siblings]
    inter[siblings] = set_size[ref[qs]] - lost[qs] - lost[ts] + _common(diff, qs, ts)
    del qs, ts
    whole = ~(q_is_ref | t_is_ref | siblings)
    inter[whole] = _common(sets, q[whole], t[whole])

    jac = inter / (size_q + size_t - inter)
    keep = jac >= params.threshold
    a2, b2 = used[q[keep]], used[t[keep]]
    return np.minimum(a2, b2), np.maximum(a2, b2), jac[keep]


def _shingle_sets(var_text: pa.Array, rows: np.ndarray, k: int):
    """The distinct shingle hashes of the variants ``rows`` (ascending): rows of a sparse 0/1 matrix.

    CSR over 2^32 hash columns, each row sorted and distinct, so scipy's
    row operations are sorted merges in C.
    """
    import scipy.sparse as sp

    parts = []
    for part, texts in _chunks(var_text, rows):
        sh, offs = _shingles(texts, k)
        local = np.searchsorted(rows, part).astype(np.uint64)
        parts.append(_distinct((np.repeat(local, np.diff(offs)) << np.uint64(32)) | sh.astype(np.uint64), True))
    keys = np.concatenate(parts) if parts else np.zeros(0, np.uint64)
    del parts
    size = np.bincount((keys >> np.uint64(32)).astype(np.int64), minlength=rows.size)
    columns = (keys & np.uint64(0xFFFFFFFF)).astype(np.int64)
    del keys
    offs = np.concatenate(([0], np.cumsum(size)))
    return sp.csr_matrix((np.ones(columns.size, np.int8), columns, offs), shape=(rows.size, 1 << 32))


def _references(q: np.ndarray, t: np.ndarray, n: int) -> np.ndarray:
    """Each node's reference: of itself and its partners in the pairs (q, t), the one in most pairs, then
    the lowest id. Around a message copied with small edits it is the message itself."""
    score = np.bincount(np.concatenate((q, t)), minlength=n) * n + (n - 1 - np.arange(n))
    best = score.copy()
    np.maximum.at(best, q, score[t])
    np.maximum.at(best, t, score[q])
    return n - 1 - best % n


def _differences(sets, ref: np.ndarray):
    """(A Δ ref(A) for each row A: +1 shingles added, -1 removed; |ref(A) ∖ A| per row). Empty for a
    row that is its own reference."""
    import scipy.sparse as sp

    n = ref.size
    own = np.flatnonzero(ref != np.arange(n))
    size = np.diff(sets.indptr)
    diffs = [sets[own[part]] - sets[ref[own[part]]] for part in _slices(size[own] + size[ref[own]], 1 << 22)]
    d = sp.vstack(diffs, format="csr") if diffs else sp.csr_matrix((0, 1 << 32), dtype=np.int8)
    del diffs
    per_row = np.diff(d.indptr)
    lost = np.zeros(n, np.int64)
    lost[own] = np.bincount(np.repeat(np.arange(own.size), per_row)[d.data < 0], minlength=own.size)
    diff_size = np.zeros(n, np.int64)
    diff_size[own] = per_row
    offs = np.concatenate(([0], np.cumsum(diff_size)))
    return sp.csr_matrix((d.data, d.indices, offs), shape=(n, 1 << 32)), lost


def _common(sets, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Items shared by rows x and y of a sparse matrix of sets, for each pair (sorted merges in C).

    Rows may carry signs (a difference from a reference): a product is
    never zero, so the count of the product's entries is the intersection.
    """
    out = np.zeros(x.size, np.int64)
    size = np.diff(sets.indptr)
    for part in _slices(size[x] + size[y], 1 << 22):  # about 4M items a slice
        out[part] = np.diff(sets[x[part]].multiply(sets[y[part]]).indptr)
    return out


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
