"""Near-duplicate text detection: quality against brute force, and speed at scale, on two shapes.

    .venv/bin/python bench/duplicates.py            # 200k quality + 100k/300k/1M scaling, before/after
    .venv/bin/python bench/duplicates.py --quick    # 20k quality + 20k/50k scaling

Corpora (generated, seeded, cached under bench/out/), six languages (English,
Russian, Persian, Azerbaijani, French, Arabic), words from Zipf vocabularies:

- "distinct": mostly distinct texts. About 40% belong to planted families:
  one base text and variants with emoji added, hashtags reordered, mentions
  added, homoglyphs swapped (Latin/Cyrillic, Persian/Arabic letters),
  Azerbaijani rewritten in Cyrillic, letters or a word edited. The rest are
  unrelated posts built from the same vocabularies.
- "copypaste": a copy-paste operation. 3,000 messages (Zipf popularity: the
  top one is posted thousands of times) make 60% of the posts as exact
  copies (emoji, mentions, links and case vary; normalisation removes them)
  and 15% as light variants (a word changed, dropped or added, a hashtag
  added); the other 25% are organic posts.

Quality: pair recall and precision of the verified pairs against exact
brute-force Jaccard at the same threshold, over every pair that touches a
uniform sample of distinct texts (each sampled text against all others).
The brute force uses exact shingles (code point tuples, no hashing) and a
sparse matrix product: independent of the LSH and of the verification code.

Speed: each run in a fresh process; wall and CPU time of the detection and
peak resident memory (VmHWM) of that process, corpus loading included. The
detector as of BEFORE_COMMIT (read with `git show`, never installed) runs on
the same corpora, and a fingerprint of everything each returns must match:
the bench fails otherwise. Results go to stdout and to docs/benchmarks.md
(its "duplicates" section).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"
INTRO = (
    "## Copy-paste and near-duplicate texts (bench/duplicates.py)\n\n"
    "`bench/duplicates.py` (method: docs/methods/duplicates.md). Reproduce with\n\n"
    "```\n"
    ".venv/bin/python bench/duplicates.py          # about 15 minutes on 2 cores (the former detector is slow)\n"
    ".venv/bin/python bench/duplicates.py --quick  # a smoke run, does not touch this page\n"
    "```\n\n"
    "**Corpora.** Generated posts in six languages (English, Russian, Persian,\n"
    "Azerbaijani, French, Arabic), words drawn from Zipf vocabularies per\n"
    "language (real function words plus generated words in each alphabet), so\n"
    "unrelated posts share common words as real ones do. Two shapes:\n\n"
    "- *distinct*, mostly distinct texts: about 40% of posts belong to planted\n"
    "  families, a base post and variants with emoji added, hashtags reordered,\n"
    "  mentions added (Latin, Cyrillic, Persian handles), homoglyphs swapped\n"
    "  (Latin↔Cyrillic, Persian↔Arabic letter forms), Azerbaijani rewritten in\n"
    "  Cyrillic, letters edited, case changed, a tracking link added. Families\n"
    "  are 2 to about 60 posts.\n"
    "- *copypaste*, a copy-paste operation (issue #24): 3,000 messages of 12-30\n"
    "  words, Zipf popularity (the top one is posted thousands of times), make\n"
    "  60% of the posts as exact copies (emoji, mentions, links and case vary,\n"
    "  which normalisation removes) and 15% as light variants (a word changed,\n"
    "  dropped or added, a hashtag added); 25% are organic posts. The large\n"
    "  messages have hundreds to thousands of distinct variants each, which\n"
    "  share most LSH bands and are mostly within the threshold of each other.\n\n"
    "**Quality measure.** Ground truth is the exact Jaccard index at the same\n"
    "threshold (0.8) over exact character 5-shingles (code-point tuples, no\n"
    "hashing), computed by brute force with a sparse matrix product: each of\n"
    "2,000 distinct texts sampled uniformly is compared with **every** other\n"
    "distinct text of the corpus. Recall and precision count the pairs that\n"
    "touch the sample. This brute force is independent of the detector's\n"
    "MinHash, LSH and verification code. Exact copies (equal normalised texts)\n"
    "are one variant and are not counted as pairs: finding them is a group-by.\n\n"
    "**Cluster measures.** Pair metrics judge the edges. Star clusters put\n"
    "members within the threshold of their centre, not of each other, so a\n"
    "co-clustered pair can be below 0.8; the bound is 2·0.8 − 1 = 0.6. The\n"
    "table reports how many co-clustered pairs are at or above the threshold,\n"
    "the lowest Jaccard of any co-clustered pair, and how many clusters mix two\n"
    "planted families (chaining of unrelated texts; it should be 0).\n\n"
    "**Speed measure.** Each run is a fresh process; the time is the\n"
    "`find_duplicates` call on texts already in memory (normalisation\n"
    "included), CPU is that call's user + system time, memory is the\n"
    "process's peak resident set (corpus included). *Before* is the detector\n"
    "as of commit 1f7424a, which the bench reads from git and runs on the same\n"
    "corpus with the same normalisation code; *identical* says whether the two\n"
    "returned exactly the same clusters, members, pairs (with their Jaccard)\n"
    "and counts (a fingerprint of all of them; the bench fails if not). The\n"
    "machine is a 2-core VM shared with other engineers' jobs: wall times vary\n"
    "by up to 2× between runs (see the load average); CPU times vary less. No\n"
    "figure is a best of several runs.\n\n"
    "## Results"
)


def outro(qs: list[dict], runs: dict) -> str:
    """The reading of the figures, from this run's numbers."""
    dist = next(q for q in qs if q["shape"] == "distinct")
    cp = next(q for q in qs if q["shape"] == "copypaste")
    big = max(n for (_, n, before) in runs if before)
    cp_b, cp_a = runs[("copypaste", big, True)], runs[("copypaste", big, False)]
    di_b, di_a = runs[("distinct", big, True)], runs[("distinct", big, False)]
    return (
        "## Reading the figures\n"
        "\n"
        f"- Distinct shape: pair recall {dist['pair_recall']:.4f} and precision {dist['pair_precision']:.4f} "
        "(target ≥ 0.98 and ≥ 0.99).\n"
        f"  With {dist['true_pairs']:,} true pairs in the sample, a recall of 1.0\n"
        f"  bounds the true recall above {1 - 3 / max(1, dist['true_pairs']):.3f} (95%, rule of three). The LSH\n"
        "  is tuned so that a pair exactly at the threshold becomes a candidate\n"
        "  with probability 0.9998 (16 bands × 4 rows), and every edge is an exact\n"
        "  Jaccard, so precision can only fall through a 32-bit shingle-hash\n"
        "  collision.\n"
        f"- Pair recall on the copy-paste shape is low by design ({cp['pair_recall']:.2f}), the same\n"
        "  before and after: a message with thousands of variants fills LSH\n"
        "  buckets of more than 256 variants, which are linked as a star around\n"
        "  their earliest variant instead of all their pairs (time stays linear),\n"
        "  so most variant-to-variant pairs are never candidates. What such an\n"
        "  operation needs is that its variants join their message's cluster:\n"
        f"  {cp['near_variants_in_cluster']:.2%} of the {cp['near_variants']:,} variants within the threshold "
        f"of their\n  message ({cp['near_posts_in_cluster']:.2%} of their posts) are in its cluster; "
        f"clusters mixing two\n  messages: {cp['clusters_mixing_families']}. Precision stays "
        f"{cp['pair_precision']:.4f}.\n"
        f"- Copy-paste shape, {big:,} posts: {cp_b['seconds']:.0f} s → {cp_a['seconds']:.0f} s wall, "
        f"{cp_b['cpu_user'] + cp_b['cpu_system']:.0f} → {cp_a['cpu_user'] + cp_a['cpu_system']:.0f} CPU-s,\n"
        f"  {cp_b['peak_gib']:.2f} → {cp_a['peak_gib']:.2f} GiB, same output. The former detector's time went to\n"
        "  verification (a binary search per shingle of every candidate pair)\n"
        "  and to `np.unique` (a hash table) over the pairs that each LSH band\n"
        "  finds again, and to kernel time zeroing fresh huge pages for those\n"
        "  arrays. Variants of one message are now verified through their\n"
        "  differences from a shared reference, repeated pairs are merged by\n"
        "  sorting, and the detector runs without transparent huge pages\n"
        "  (docs/methods/duplicates.md, section 3).\n"
        f"- Distinct shape, {big:,} posts: {di_b['seconds']:.0f} s → {di_a['seconds']:.0f} s wall, "
        f"{di_b['cpu_user'] + di_b['cpu_system']:.0f} → {di_a['cpu_user'] + di_a['cpu_system']:.0f} CPU-s,\n"
        f"  {di_b['peak_gib']:.2f} → {di_a['peak_gib']:.2f} GiB, same output.\n"
        "- Memory: the texts and their normalised keys are held whole (Arrow),\n"
        "  plus 256 bytes of signature per distinct text. 10M posts would need\n"
        "  about the extrapolated figure above: over the 4 GiB budget of this\n"
        "  machine. Getting there needs the detector to stream: normalise per\n"
        "  chunk, keep only a 64-bit hash of each key for the exact groups and the\n"
        "  LSH band keys, and re-read the few texts that verification and the\n"
        "  report need. Nothing in the method prevents it; it is not built yet. A\n"
        "  single Arrow string column is also limited to 2 GiB, so inputs over\n"
        "  about 15M posts must come in chunks.\n"
        "- D3lta could not be run for comparison here: it needs a sentence\n"
        "  embedding model (it defaults to a TensorFlow Hub universal sentence\n"
        "  encoder) and downloads it at run time; this machine has none on disk and\n"
        "  no internet (docs/methods/duplicates.md)."
    )


ALPHABETS = {
    "en": ("bcdfghklmnprstvw", "aeiou"),
    "fr": ("bcdfglmnprstv", "aeiouéè"),
    "az": ("bcçdfgğhxjkqlmnprsştvyz", "aeəıioöuü"),
    "ru": ("бвгджзклмнпрстфхцчшщ", "аеиоуыэюя"),
    "fa": ("بپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی", "اوی"),
    "ar": ("بتثجحخدذرزسشصضطظعغفقكلمنوهي", "اوي"),
}
COMMON = {
    "en": "the of and to in is that for it on with as was at by this we you not are from".split(),
    "fr": "le la les de des et en un une est pour que qui dans sur pas au avec ne se".split(),
    "az": "və bu bir ki da də ilə üçün olan onun çox var amma kimi həm daha biz siz".split(),
    "ru": "и в не на что я с он как это по но из у за от так же все мы вы".split(),
    "fa": "و در به از که این را با است برای آن یک تا می شود کرد بود هم ما".split(),
    "ar": "في من على إلى أن هذا التي الذي مع كان عن قد لا ما هو هي كل بعد".split(),
}
EMOJI = ["🔥", "😂", "❤️", "👍", "🇺🇦", "🙏", "💯", "😡", "👉", "✅"]
HOMO_LAT_CYR = {"a": "а", "e": "е", "o": "о", "p": "р", "c": "с", "x": "х", "y": "у", "i": "і"}
HOMO_CYR_LAT = {v: k for k, v in HOMO_LAT_CYR.items()}
AZ_TO_CYR = {
    "a": "а",
    "b": "б",
    "c": "ҹ",
    "ç": "ч",
    "d": "д",
    "e": "е",
    "ə": "ә",
    "f": "ф",
    "g": "ҝ",
    "ğ": "ғ",
    "h": "һ",
    "x": "х",
    "ı": "ы",
    "i": "и",
    "j": "ж",
    "k": "к",
    "q": "г",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "ö": "ө",
    "p": "п",
    "r": "р",
    "s": "с",
    "ş": "ш",
    "t": "т",
    "u": "у",
    "ü": "ү",
    "v": "в",
    "y": "ј",
    "z": "з",
}


def vocab(lang: str, rng: random.Random, size: int = 4000) -> list[str]:
    cons, vow = ALPHABETS[lang]
    words = list(COMMON[lang])
    while len(words) < size:
        words.append("".join(rng.choice(cons) + rng.choice(vow) for _ in range(rng.randint(1, 4))))
    return words


class Generator:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.vocab = {lang: vocab(lang, self.rng) for lang in ALPHABETS}
        weights = [1.0 / (r + 1) for r in range(4000)]
        self.cum = np.cumsum(weights) / sum(weights)

    def words(self, lang: str, n: int) -> list[str]:
        idx = np.searchsorted(self.cum, [self.rng.random() for _ in range(n)])
        return [self.vocab[lang][i] for i in idx]

    def base(self, lang: str) -> tuple[str, list[str]]:
        body = " ".join(self.words(lang, self.rng.randint(6, 22)))
        tags = ["#" + w for w in self.words(lang, self.rng.randint(0, 3))]
        if self.rng.random() < 0.3:
            body += f" https://ex{self.rng.randint(1, 999)}.com/{self.rng.randint(1, 99999)}"
        return body, tags

    def variant(self, lang: str, body: str, tags: list[str]) -> str:
        r = self.rng
        tags = list(tags)
        ops = r.sample(["emoji", "tags", "mention", "homoglyph", "edit", "case", "url", "az"], r.randint(1, 3))
        for op in ops:
            if op == "emoji":
                body = body + " " + "".join(r.choice(EMOJI) for _ in range(r.randint(1, 3)))
            elif op == "tags":
                r.shuffle(tags)
            elif op == "mention":
                handle = r.choice(["ivan_petrov", "Алексей_1", "علی۲۳", "jean.dupont", "Əli_M"])
                body = f"@{handle} {body}" if r.random() < 0.5 else f"{body} @{handle}"
            elif op == "homoglyph":
                table = {"ru": HOMO_CYR_LAT, "fa": {"ی": "ي", "ک": "ك"}, "ar": {"ي": "ی", "ك": "ک"}}.get(
                    lang, HOMO_LAT_CYR
                )
                body = "".join(table[ch] if ch in table and r.random() < 0.5 else ch for ch in body)
            elif op == "edit":
                chars = list(body)
                for _ in range(r.randint(1, 2)):
                    i = r.randrange(len(chars))
                    chars[i] = r.choice(ALPHABETS[lang][1])
                body = "".join(chars)
            elif op == "case":
                body = body.upper() if r.random() < 0.3 else body.capitalize()
            elif op == "url":
                body += f" https://t.co/{r.randint(1, 10**9)}"
            elif op == "az" and lang == "az":
                body = "".join(AZ_TO_CYR.get(ch, ch) for ch in body)
        return " ".join([body, *tags]).strip()

    def corpus(self, n: int, family_share: float = 0.4) -> tuple[list[str], list[int]]:
        """n texts and their planted family (-1 for unrelated posts)."""
        texts: list[str] = []
        family: list[int] = []
        langs = list(ALPHABETS)
        fam = 0
        while len(texts) < n:
            lang = self.rng.choice(langs)
            body, tags = self.base(lang)
            if self.rng.random() < family_share / 8:
                size = min(n - len(texts), int(self.rng.expovariate(1 / 10)) + 2)
                texts.append(" ".join([body, *tags]))
                texts.extend(self.variant(lang, body, tags) for _ in range(size - 1))
                family.extend([fam] * size)
                fam += 1
            else:
                texts.append(" ".join([body, *tags]))
                family.append(-1)
        return texts[:n], family[:n]

    def copypaste_corpus(
        self, n: int, templates: int = 3_000, copy_share: float = 0.6, variant_share: float = 0.15
    ) -> tuple[list[str], list[int]]:
        """n texts shaped like a copy-paste operation, and each one's template (-1 for organic posts).

        ``templates`` messages (Zipf popularity: the top one is posted thousands
        of times) make ``copy_share`` of the posts as exact copies (after
        normalisation: emoji, mentions, links and case vary, nothing else) and
        ``variant_share`` as light variants (a word changed, dropped or added,
        a hashtag added, often with the same cosmetic noise); the rest are
        distinct organic posts. Every template is posted at least once as is.
        """
        r = self.rng
        langs = list(ALPHABETS)
        msgs = []
        for _ in range(templates):
            lang = r.choice(langs)
            body = " ".join(self.words(lang, r.randint(12, 30)))
            tags = ["#" + w for w in self.words(lang, r.randint(0, 3))]
            msgs.append((lang, body, tags))
        n_copy, n_var = int(n * copy_share), int(n * variant_share)
        pop = np.cumsum(1.0 / np.arange(1, templates + 1))
        pop /= pop[-1]
        nrng = np.random.default_rng(r.randrange(2**32))
        # the first n_copy picks are copies (each template once, then by popularity), the rest variants
        n_copy = max(n_copy, templates)
        pick = np.concatenate((np.arange(templates), np.searchsorted(pop, nrng.random(n_copy + n_var - templates))))
        texts: list[str] = []
        family: list[int] = []

        def noise(text: str) -> str:  # what normalisation removes
            if r.random() < 0.3:
                text += " " + "".join(r.choice(EMOJI) for _ in range(r.randint(1, 3)))
            if r.random() < 0.2:
                text = "@" + r.choice(["ivan_petrov", "Алексей_1", "علی۲۳", "jean.dupont", "Əli_M"]) + " " + text
            if r.random() < 0.2:
                text += f" https://t.co/{r.randint(1, 10**9)}"
            if r.random() < 0.1:
                text = text.upper()
            return text

        for i, t in enumerate(pick.tolist()):
            lang, body, tags = msgs[t]
            if i < n_copy:
                texts.append(noise(" ".join([body, *tags])))
            else:
                words = body.split()
                op = r.choice(["change", "change", "drop", "add", "hashtag"])
                at = r.randrange(len(words))
                if op == "change":
                    words[at] = self.words(lang, 1)[0]
                elif op == "drop":
                    del words[at]
                elif op == "add":
                    words.insert(at, self.words(lang, 1)[0])
                extra = ["#" + self.words(lang, 1)[0]] if op == "hashtag" else []
                texts.append(noise(" ".join([*words, *tags, *extra])))
            family.append(t)
        while len(texts) < n:
            body, tags = self.base(r.choice(langs))
            texts.append(" ".join([body, *tags]))
            family.append(-1)
        order = nrng.permutation(n)
        return [texts[i] for i in order], [family[i] for i in order]


SHAPES = ("distinct", "copypaste")


def corpus_file(n: int, seed: int = 7, shape: str = "distinct") -> Path:
    """The corpus of ``n`` posts (cached): "distinct" (mostly distinct texts, small families) or "copypaste"."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / (f"dup_corpus_{n}_{seed}.parquet" if shape == "distinct" else f"dup_{shape}_{n}_{seed}.parquet")
    if not path.exists():
        gen = Generator(seed + n)
        texts, family = gen.corpus(n) if shape == "distinct" else gen.copypaste_corpus(n)
        pq.write_table(
            pa.table(
                {
                    "post_id": pa.array([str(i) for i in range(n)]),
                    "text": pa.array(texts, pa.string()),
                    "family": pa.array(family, pa.int64()),
                }
            ),
            path,
        )
    return path


# -- quality -------------------------------------------------------------------
def exact_shingle_matrix(norm: pa.Array, k: int, max_chars: int):
    """Sparse binary (texts × shingles) matrix of exact k-code-point shingles, no hashing."""
    import scipy.sparse as sp

    from swarmscope.enrich.text import codepoints

    cp, offs = codepoints(pc.utf8_slice_codeunits(norm, 0, max_chars))
    lengths = np.diff(offs)
    per = np.maximum(lengths - k + 1, 0)
    starts = np.repeat(offs[:-1], per) + (np.arange(per.sum()) - np.repeat(np.cumsum(per) - per, per))
    tup = np.stack([cp[starts + j] for j in range(k)], axis=1).astype(np.uint32)
    rows = np.repeat(np.arange(len(norm)), per)
    _, col = np.unique(np.ascontiguousarray(tup).view(np.dtype((np.void, 4 * k))).ravel(), return_inverse=True)
    m = sp.csr_matrix((np.ones(rows.size, np.float32), (rows, col.ravel())), shape=(len(norm), col.max() + 1))
    m.data[:] = 1.0  # duplicates summed by csr: back to sets
    return m


def quality(n: int, sample: int, threshold: float, shape: str = "distinct") -> dict:
    from swarmscope.detect.duplicates import DuplicateParams, find_duplicates
    from swarmscope.enrich.text import normalise

    table = pq.read_table(corpus_file(n, shape=shape))
    params = DuplicateParams(threshold=threshold)
    t0 = time.perf_counter()
    res = find_duplicates(table["post_id"], table["text"], params)
    elapsed = time.perf_counter() - t0
    # distinct eligible normalised texts, as the detector defines them
    norm = normalise(table["text"].combine_chunks(), az_latin=params.az_latin)
    length = pc.utf8_length(norm).fill_null(0).to_numpy(zero_copy_only=False)
    rows = np.flatnonzero(length >= params.min_chars)
    enc = pc.dictionary_encode(norm.take(pa.array(rows)))
    codes = enc.indices.to_numpy(zero_copy_only=False)
    first = np.full(len(enc.dictionary), rows.size)
    np.minimum.at(first, codes, np.arange(rows.size))
    first_row = rows[first]
    var_of_row = {int(r): i for i, r in enumerate(first_row)}
    m = exact_shingle_matrix(enc.dictionary, params.shingle, params.max_chars)
    size = np.asarray(m.sum(axis=1)).ravel()
    rng = np.random.default_rng(1)
    picked = np.sort(rng.choice(m.shape[0], min(sample, m.shape[0]), replace=False))
    truth: set[tuple[int, int]] = set()
    co_pairs_jac: list[float] = []
    mt = m.T.tocsc()
    for s in range(0, picked.size, 100):
        q = picked[s : s + 100]
        inter = (m[q] @ mt).tocoo()
        jac = inter.data / (size[q][inter.row] + size[inter.col] - inter.data)
        for qi, c, j in zip(q[inter.row], inter.col, jac):
            if c != qi and j >= threshold - 1e-12:
                truth.add((min(qi, c), max(qi, c)))
    in_sample = np.zeros(m.shape[0], bool)
    in_sample[picked] = True
    found = set()
    pa_ = res.pairs["post_id_a"].to_numpy(zero_copy_only=False).astype(np.int64)
    pb_ = res.pairs["post_id_b"].to_numpy(zero_copy_only=False).astype(np.int64)
    for a, b in zip(pa_, pb_):
        va, vb = var_of_row[int(a)], var_of_row[int(b)]
        if in_sample[va] or in_sample[vb]:
            found.add((min(va, vb), max(va, vb)))
    hit = len(found & truth)
    # clusters: co-clustered variant pairs touching the sample, with their exact Jaccard
    members = res.members.to_pydict()
    cluster_of_var: dict[int, str] = {}
    for pid, cid in zip(members["post_id"], members["cluster_id"]):
        v = var_of_row.get(int(pid))
        if v is not None:
            cluster_of_var[v] = cid
    by_cluster: dict[str, list[int]] = {}
    for v, c in cluster_of_var.items():
        by_cluster.setdefault(c, []).append(v)
    for v in picked:
        c = cluster_of_var.get(int(v))
        if c is None:
            continue
        others = [o for o in by_cluster[c] if o != v]
        if others:
            inter = np.asarray(m[[v]].multiply(m[others]).sum(axis=1)).ravel()
            co_pairs_jac.extend((inter / (size[v] + size[others] - inter)).tolist())
    co = np.array(co_pairs_jac)
    fam = table["family"].to_numpy()
    near, near_found, near_posts, near_posts_found = message_recall(
        m, size, codes, fam[rows], cluster_of_var, threshold
    )
    mixed = 0
    for ids in res.clusters["post_ids"].to_pylist():
        fams = {int(fam[int(p)]) for p in ids}
        if len(fams - {-1}) > 1:
            mixed += 1
    return {
        "texts": n,
        "shape": shape,
        "variants": int(m.shape[0]),
        "sample": int(picked.size),
        "threshold": threshold,
        "true_pairs": len(truth),
        "found_pairs": len(found),
        "pair_recall": hit / max(1, len(truth)),
        "pair_precision": hit / max(1, len(found)),
        "seconds": elapsed,
        "clusters": res.counts.clusters,
        "clustered_posts": res.counts.clustered_posts,
        "co_clustered_pairs": int(co.size),
        "co_clustered_at_threshold": float((co >= threshold - 1e-12).mean()) if co.size else 1.0,
        "co_clustered_min_jaccard": float(co.min()) if co.size else 1.0,
        "clusters_mixing_families": mixed,
        "near_variants": near,
        "near_variants_in_cluster": near_found / max(1, near),
        "near_posts_in_cluster": near_posts_found / max(1, near_posts),
        "counts": res.counts.as_dict(),
    }


def message_recall(
    m, size: np.ndarray, codes: np.ndarray, family: np.ndarray, cluster_of_var: dict[int, str], threshold: float
) -> tuple[int, int, int, int]:
    """Of the variants within the threshold of their planted message (its most posted variant), how many
    share that message's cluster: (variants, of which in it, their posts, of which in it)."""
    n_var = m.shape[0]
    planted = family >= 0
    keys, posts = np.unique(family[planted].astype(np.int64) * n_var + codes[planted], return_counts=True)
    fam, var = keys // n_var, keys % n_var
    by_family = np.lexsort((var, -posts, fam))  # per family: most posts first, then the earliest variant
    first = by_family[np.concatenate(([True], fam[by_family][1:] != fam[by_family][:-1]))]
    message = dict(zip(fam[first].tolist(), var[first].tolist()))
    ref = np.array([message[f] for f in fam.tolist()])
    other = var != ref
    var, ref, posts = var[other], ref[other], posts[other]
    inter = np.asarray(m[var].multiply(m[ref]).sum(axis=1)).ravel()
    near = inter / (size[var] + size[ref] - inter) >= threshold - 1e-12
    found = np.array(
        [
            cluster_of_var.get(v) is not None and cluster_of_var.get(v) == cluster_of_var.get(r)
            for v, r in zip(var.tolist(), ref.tolist())
        ],
        bool,
    )
    return int(near.sum()), int((near & found).sum()), int(posts[near].sum()), int(posts[near & found].sum())


# -- the detector before the copy-paste work, for comparison only ---------------------
BEFORE_COMMIT = "1f7424ad97360e81e97a2be51a43b70732a6b402"  # detect/duplicates.py before issue #24


def detector(before: bool = False):
    """The detector module: as installed, or as of BEFORE_COMMIT (read by `git show`, never installed)."""
    import importlib.util

    import swarmscope.detect
    from swarmscope.detect import duplicates

    if not before:
        return duplicates
    name = "swarmscope.detect._duplicates_before"
    if name not in sys.modules:
        src = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{BEFORE_COMMIT}:src/swarmscope/detect/duplicates.py"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader=None))
        module.__package__ = swarmscope.detect.__name__
        sys.modules[name] = module  # dataclasses look their module up while the source runs
        exec(compile(src, f"{BEFORE_COMMIT[:7]}:src/swarmscope/detect/duplicates.py", "exec"), module.__dict__)
    return sys.modules[name]


# -- speed ---------------------------------------------------------------------
def peak_rss_gib() -> float:
    """High-water resident memory of this process (VmHWM: unlike ru_maxrss, not inherited across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 2**20  # kB → GiB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def digest(res) -> str:
    """A fingerprint of everything the detector returns: clusters, members, pairs and counts."""
    h = hashlib.sha256()
    for table in (res.clusters, res.members, res.pairs):
        h.update(json.dumps(table.to_pydict(), ensure_ascii=False).encode())
    h.update(json.dumps(res.counts.as_dict()).encode())
    return h.hexdigest()[:16]


def speed_child(n: int, shape: str, before: bool = False) -> None:
    find_duplicates = detector(before).find_duplicates
    table = pq.read_table(corpus_file(n, shape=shape))
    t0 = time.perf_counter()
    cpu0 = os.times()
    res = find_duplicates(table["post_id"], table["text"])
    cpu1 = os.times()
    elapsed = time.perf_counter() - t0
    peak = peak_rss_gib()
    out = {"texts": n, "shape": shape, "before": before, "seconds": elapsed, "peak_gib": peak}
    out["cpu_user"], out["cpu_system"] = cpu1.user - cpu0.user, cpu1.system - cpu0.system
    print(json.dumps({**out, "counts": res.counts.as_dict(), "digest": digest(res)}))


def speed(n: int, shape: str = "distinct", before: bool = False) -> dict:
    corpus_file(n, shape=shape)  # generated outside the timed process
    cmd = [sys.executable, __file__, "--child", str(n), "--shape", shape, *(["--before"] if before else [])]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit(points: list[tuple[int, float]], target: int) -> tuple[float, float]:
    """Power law y = a·n^b through the measured points (least squares in log-log); y at target."""
    x = np.log([p[0] for p in points])
    y = np.log([p[1] for p in points])
    b, log_a = np.polyfit(x, y, 1)
    return float(b), float(math.exp(log_a) * target**b)


def quality_table(qs: list[dict]) -> list[str]:
    def row(label: str, key: str, fmt: str = "{:,}") -> str:
        return f"| {label} | " + " | ".join(fmt.format(q[key]) for q in qs) + " |"

    return [
        "| measure | " + " | ".join(f"{q['texts']:,} posts, {q['shape']}" for q in qs) + " |",
        "|---|" + "---:|" * len(qs),
        row("distinct eligible texts (variants)", "variants"),
        row("sampled variants (each against all)", "sample"),
        row("true pairs touching the sample (brute force)", "true_pairs"),
        row("verified pairs touching the sample", "found_pairs"),
        row("**pair recall**", "pair_recall", "**{:.4f}**"),
        row("**pair precision**", "pair_precision", "**{:.4f}**"),
        row("clusters", "clusters"),
        row("clustered posts", "clustered_posts"),
        row("co-clustered pairs touching the sample", "co_clustered_pairs"),
        row("of which Jaccard ≥ threshold", "co_clustered_at_threshold", "{:.4f}"),
        row("lowest Jaccard of a co-clustered pair", "co_clustered_min_jaccard", "{:.3f}"),
        row("clusters mixing two planted families", "clusters_mixing_families"),
        row("variants within the threshold of their planted message", "near_variants"),
        row("of which in that message's cluster (variants)", "near_variants_in_cluster", "{:.4f}"),
        row("of which in that message's cluster (their posts)", "near_posts_in_cluster", "{:.4f}"),
        row("detection time, s", "seconds", "{:.1f}"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", type=int)
    ap.add_argument("--shape", choices=SHAPES, default="distinct")
    ap.add_argument("--before", action="store_true", help="time the detector as of BEFORE_COMMIT")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    if args.child:
        speed_child(args.child, args.shape, args.before)
        return
    q_n, sample, sizes, before_sizes = (
        (20_000, 500, [20_000, 50_000], [50_000])
        if args.quick
        else (200_000, 2_000, [100_000, 300_000, 1_000_000], [300_000, 1_000_000])
    )
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from common import machine, write_section

    load_before = os.getloadavg()[0]
    qs = [quality(q_n, sample, 0.8, shape) for shape in SHAPES]
    runs = {}
    for shape in SHAPES:
        for n in sizes:  # before right after after: the two share the machine's state of the moment
            runs[(shape, n, False)] = speed(n, shape)
            if n in before_sizes:
                runs[(shape, n, True)] = speed(n, shape, before=True)
    load_after = os.getloadavg()[0]
    differ = [key for key in runs if key[2] and runs[key]["digest"] != runs[(key[0], key[1], False)]["digest"]]
    lines = [
        f"Machine: {machine()}; load average {load_before:.1f} before and {load_after:.1f} after "
        f"(2 cores, shared with other work while measured). numpy {np.__version__}, pyarrow {pa.__version__}.",
        "",
        f"### Quality: {q_n:,} generated posts per shape, six languages, threshold 0.8",
        "",
        *quality_table(qs),
        "",
        *[f"Input accounting, {q['shape']}: `{json.dumps(q['counts'])}`" for q in qs],
        "",
        "### Speed and memory (fresh process per run)",
        "",
        f"Before: the detector as of {BEFORE_COMMIT[:7]} (read from git by the bench, same normalisation code); "
        "after: this one. Same corpus, same process set-up; *identical* compares a fingerprint of "
        "everything returned (clusters, members, pairs with their Jaccard, counts).",
        "",
        "| shape | posts | seconds before | seconds after | CPU-s before | CPU-s after | peak GiB before "
        "| peak GiB after | variants | candidate pairs | verified pairs | clusters | identical |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]

    def cpu(r: dict) -> str:
        return f"{r['cpu_user'] + r['cpu_system']:.1f}"

    for shape in SHAPES:
        for n in sizes:
            r, b = runs[(shape, n, False)], runs.get((shape, n, True))
            c = r["counts"]
            was = (f"{b['seconds']:.1f}", cpu(b), f"{b['peak_gib']:.2f}") if b else ("—", "—", "—")
            same = "—" if b is None else ("yes" if b["digest"] == r["digest"] else "**NO**")
            lines.append(
                f"| {shape} | {n:,} | {was[0]} | {r['seconds']:.1f} | {was[1]} | {cpu(r)} | {was[2]} | "
                f"{r['peak_gib']:.2f} | {c['variants']:,} | {c['candidate_pairs']:,} | {c['verified_pairs']:,} | "
                f"{c['clusters']:,} | {same} |"
            )
    for shape in SHAPES:
        after = [runs[(shape, n, False)] for n in sizes]
        b_t, t10 = fit([(r["texts"], r["seconds"]) for r in after], 10_000_000)
        slope, base = np.polyfit([r["texts"] for r in after], [r["peak_gib"] for r in after], 1)
        lines += [
            "",
            f"Scaling fit, {shape} (least squares, after): time ∝ n^{b_t:.2f} (log-log), memory ≈ {base:.2f} GiB "
            f"+ {slope * 1e6:.2f} GiB per million posts (linear). Extrapolated to 10,000,000 posts: about "
            f"{t10:.0f} s and {base + slope * 1e7:.1f} GiB (an extrapolation, not a measurement).",
        ]
    text = "\n".join(lines)
    print(text)
    if differ:
        sys.exit(f"results differ from the detector as of {BEFORE_COMMIT[:7]}: {differ}")
    if not args.no_doc and not args.quick:
        write_section("duplicates", "\n\n".join((INTRO, text, outro(qs, runs))))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
