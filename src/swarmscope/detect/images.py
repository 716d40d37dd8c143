"""Reused images: perceptual hashes and clusters of near-identical pictures.

A 64-bit pHash (imagehash: DCT of the 32×32 grey image, low 8×8
frequencies against their median) survives JPEG recompression, resizing,
small crops and a caption strip, and changes for a different picture. Two
images are near-identical when their hashes differ in at most
``max_distance`` bits (default 8 of 64, 12.5%: the pHash authors' "same
image" range; PDQ's 31 of 256 is the same fraction). Measured on generated
pictures (tests/test_images.py, docs/methods/duplicates.md): JPEG
recompression, resizing and text drawn over the picture move 0-2 bits, a
1% crop up to 6, a 2% crop up to 12; a caption *band* added below the
picture (5-8% of its height) moves 9-16 bits and is not matched at 8;
unrelated pictures are 18 or more bits apart (median 32). pHash is not
crop-robust: heavier crops need another hash (PDQ, a crop-resistant hash).

Candidates come from the pigeonhole principle: split the 64 bits into
``max_distance + 1`` blocks; two hashes within ``max_distance`` bits agree
exactly on at least one block. Each block's buckets are compared by
broadcasting (exact, no missed pair); cost about n²/(8·(d+1)) pair checks
for n distinct hashes, fine to a few hundred thousand images.

Clusters use the same star clustering as texts (no chaining: every member
is within ``max_distance`` of its centre).

Hashing the files (reading images, video key frames with ffmpeg) is
enrichment and lives in enrich/media.py; this module only clusters hashes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from .duplicates import star_clusters


@dataclass(frozen=True)
class ImageParams:
    """``max_distance`` 8 of 64 bits: see the module docstring.
    ``min_posts`` 2: one post's picture alone is no reuse."""

    max_distance: int = 8
    min_posts: int = 2

    def __post_init__(self) -> None:
        if not 0 <= self.max_distance < 32:
            raise ValueError(f"max_distance must be in [0, 32), got {self.max_distance}")


def hex_to_uint64(phash: pa.Array | Sequence[str | None]) -> np.ndarray:
    """16-hex-digit hashes → uint64 (NULL or malformed → 0 with ``valid`` False: see cluster_images)."""
    values = phash.to_pylist() if isinstance(phash, (pa.Array, pa.ChunkedArray)) else list(phash)
    return np.array([int(v, 16) if v and len(v) == 16 else 0 for v in values], dtype=np.uint64)


def cluster_images(
    keys: pa.Array | Sequence[str], phashes: pa.Array | Sequence[str | None], params: ImageParams = ImageParams()
) -> tuple[pa.Table, pa.Table]:
    """Clusters of near-identical images.

    ``keys`` name what carries each image (a post id); ``phashes`` are the
    16-hex-digit hashes (NULL rows are skipped). Returns (clusters,
    members): clusters(cluster_id, images, distinct_hashes,
    representative_phash, representative_key, max_distance, keys);
    members(key, phash, cluster_id, distance) with distance in bits to the
    cluster's representative.
    """
    keys = keys if isinstance(keys, (pa.Array, pa.ChunkedArray)) else pa.array(list(keys), pa.string())
    ph = phashes if isinstance(phashes, (pa.Array, pa.ChunkedArray)) else pa.array(list(phashes), pa.string())
    raw = ph.to_pylist()
    valid = np.array([bool(v) and len(v) == 16 for v in raw], dtype=bool)
    values = hex_to_uint64(ph)
    rows = np.flatnonzero(valid)
    distinct, inverse, counts = np.unique(values[rows], return_inverse=True, return_counts=True)
    a, b, dist = _near_pairs(distinct, params.max_distance)
    centre, score = star_clusters(distinct.size, a, b, 1.0 - dist / 64.0, counts)
    per_cluster = np.bincount(centre, weights=counts, minlength=distinct.size)
    kept = per_cluster[centre[inverse]] >= params.min_posts
    m_rows, m_hash = rows[kept], inverse[kept]
    m_centre = centre[m_hash]
    m_dist = np.rint((1.0 - score[m_hash]) * 64).astype(np.int64)
    centres = np.unique(m_centre)
    cid = np.array([f"img-{int(distinct[c]):016x}" for c in centres.tolist()], dtype=object)
    slot = np.searchsorted(centres, m_centre)
    order = np.lexsort((m_rows, slot))
    m_rows, m_hash, slot, m_dist = m_rows[order], m_hash[order], slot[order], m_dist[order]
    members = pa.table(
        {
            "key": keys.take(pa.array(m_rows, pa.int64())),
            "phash": pa.array([f"{int(v):016x}" for v in distinct[m_hash].tolist()], pa.string()),
            "cluster_id": pa.array(cid[slot] if slot.size else [], pa.string()),
            "distance": pa.array(m_dist, pa.int64()),
        }
    )
    n_c = centres.size
    size = np.bincount(slot, minlength=n_c)
    pairs = np.unique(slot.astype(np.int64) * max(1, distinct.size) + m_hash)
    distinct_per = np.bincount(pairs // max(1, distinct.size), minlength=n_c).astype(np.int64)
    max_d = np.zeros(n_c, np.int64)
    np.maximum.at(max_d, slot, m_dist)
    at_centre = np.flatnonzero(m_hash == centres[slot])  # members sorted by (cluster, row)
    _, first = np.unique(slot[at_centre], return_index=True)
    rep_rows = m_rows[at_centre[first]]
    clusters = pa.table(
        {
            "cluster_id": pa.array(cid, pa.string()),
            "images": pa.array(size, pa.int64()),
            "distinct_hashes": pa.array(distinct_per, pa.int64()),
            "representative_phash": pa.array([f"{int(distinct[c]):016x}" for c in centres.tolist()], pa.string()),
            "representative_key": keys.take(pa.array(rep_rows, pa.int64())),
            "max_distance": pa.array(max_d, pa.int64()),
            "keys": pa.ListArray.from_arrays(
                pa.array(np.concatenate(([0], np.cumsum(size))).astype(np.int32)), members["key"].combine_chunks()
            ),
        }
    )
    return clusters, members


def _near_pairs(h: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs of distinct hashes within ``d`` bits (pigeonhole blocks, exact)."""
    n = h.size
    found: list[np.ndarray] = []
    if n >= 2:
        edges = np.linspace(0, 64, d + 2).astype(int)
        for lo, hi in zip(edges[:-1], edges[1:]):
            block = (h >> np.uint64(lo)) & np.uint64((1 << (hi - lo)) - 1)
            order = np.argsort(block, kind="stable")
            sb = block[order]
            starts = np.flatnonzero(np.concatenate(([True], sb[1:] != sb[:-1])))
            ends = np.append(starts[1:], n)
            for s, e in zip(starts.tolist(), ends.tolist()):  # per bucket: small, exact
                if e - s < 2:
                    continue
                idx = order[s:e]
                x = h[idx]
                dist = np.bitwise_count(x[:, None] ^ x[None, :])
                i, j = np.nonzero(np.triu(dist <= d, 1))
                if i.size:
                    a, b = idx[i], idx[j]
                    found.append(np.minimum(a, b).astype(np.uint64) * np.uint64(n) + np.maximum(a, b))
    if not found:
        z = np.zeros(0, np.int64)
        return z, z, np.zeros(0)
    keys = np.unique(np.concatenate(found))
    a = (keys // np.uint64(n)).astype(np.int64)
    b = (keys % np.uint64(n)).astype(np.int64)
    return a, b, np.bitwise_count(h[a] ^ h[b]).astype(np.float64)
