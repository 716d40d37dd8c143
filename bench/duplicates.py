"""Near-duplicate text detection: quality against brute force, and speed at scale.

    .venv/bin/python bench/duplicates.py            # 200k quality + 100k/300k/1M scaling
    .venv/bin/python bench/duplicates.py --quick    # 20k quality + 20k/50k scaling

Corpus: generated posts in six languages (English, Russian, Persian,
Azerbaijani, French, Arabic). About 40% belong to planted families: one
base text and variants with emoji added, hashtags reordered, mentions
added, homoglyphs swapped (Latin/Cyrillic, Persian/Arabic letters),
Azerbaijani rewritten in Cyrillic, letters or a word edited. The rest are
unrelated posts built from the same Zipf vocabularies (so they share common
words, as real posts do).

Quality: pair recall and precision of the verified pairs against exact
brute-force Jaccard at the same threshold, over every pair that touches a
uniform sample of distinct texts (each sampled text against all others).
The brute force uses exact shingles (code point tuples, no hashing) and a
sparse matrix product: independent of the LSH and of the verification code.

Speed: each size runs in a fresh process; wall time of the detection and
peak resident memory (VmHWM) of that process, corpus loading included. Results go to stdout and to
docs/benchmarks.md (its "duplicates" section).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
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
    ".venv/bin/python bench/duplicates.py          # about 5 minutes on 2 cores\n"
    ".venv/bin/python bench/duplicates.py --quick  # a smoke run, does not touch this page\n"
    "```\n\n"
    "**Corpus.** Generated posts in six languages (English, Russian, Persian,\n"
    "Azerbaijani, French, Arabic), words drawn from Zipf vocabularies per\n"
    "language (real function words plus generated words in each alphabet), so\n"
    "unrelated posts share common words as real ones do. About 40% of posts\n"
    "belong to planted families: a base post and variants with emoji added,\n"
    "hashtags reordered, mentions added (Latin, Cyrillic, Persian handles),\n"
    "homoglyphs swapped (Latin↔Cyrillic, Persian↔Arabic letter forms),\n"
    "Azerbaijani rewritten in Cyrillic, letters edited, case changed, a\n"
    "tracking link added. Families are 2 to about 60 posts.\n\n"
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
    "**Speed measure.** Each size runs in a fresh process; the time is the\n"
    "`find_duplicates` call on texts already in memory (normalisation\n"
    "included), memory is the process's peak resident set (corpus included).\n"
    "The machine is a 2-core VM shared with other engineers' jobs while these\n"
    "figures were taken: times vary by up to 2× between runs (the 1M run took\n"
    "between 23 s and 43 s over four runs on the final code, depending on the\n"
    "other jobs). No figure is a best of several runs.\n\n"
    "## Results"
)
OUTRO = (
    "## Reading the figures\n"
    "\n"
    "- Recall and precision are both at the target (≥ 0.98 and ≥ 0.99). With\n"
    "  651 true pairs in the sample, a recall of 1.0 bounds the true recall\n"
    "  above 0.995 (95%, rule of three). The LSH is tuned so that a pair exactly\n"
    "  at the threshold becomes a candidate with probability 0.9998 (16 bands ×\n"
    "  4 rows), and every edge is an exact Jaccard, so precision can only fall\n"
    "  through a 32-bit shingle-hash collision.\n"
    "- 1M posts in under 60 s and under 4 GiB on this machine, and time grows\n"
    "  linearly from 300k to 1M. The log-log fit is pulled below 1 by the fixed\n"
    "  start-up cost (the per-code-point tables, about a second), so its 10M\n"
    "  figure is optimistic; a straight line from the 1M point gives about\n"
    "  230 s. Either way it is an extrapolation, not a measurement.\n"
    "- Memory grows about 1.1 GiB per million posts: the texts and their\n"
    "  normalised keys are held whole (Arrow), plus 256 bytes of signature per\n"
    "  distinct text. 10M posts would need about 11 GiB: over the 4 GiB budget\n"
    "  of this machine. Getting there needs the detector to stream: normalise\n"
    "  per chunk, keep only a 64-bit hash of each key for the exact groups and\n"
    "  the LSH band keys, and re-read the few texts that verification and the\n"
    "  report need. Nothing in the method prevents it; it is not built yet.\n"
    "  A single Arrow string column is also limited to 2 GiB, so inputs over\n"
    "  about 15M posts must come in chunks.\n"
    "- D3lta could not be run for comparison here: it needs a sentence\n"
    "  embedding model (it defaults to a TensorFlow Hub universal sentence\n"
    "  encoder) and downloads it at run time; this machine has none on disk and\n"
    "  no internet. Its rewording and translation stages are embedding-based\n"
    "  and have no counterpart here yet (docs/methods/duplicates.md)."
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


def corpus_file(n: int, seed: int = 7) -> Path:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"dup_corpus_{n}_{seed}.parquet"
    if not path.exists():
        texts, family = Generator(seed + n).corpus(n)
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


def quality(n: int, sample: int, threshold: float) -> dict:
    from swarmscope.detect.duplicates import DuplicateParams, find_duplicates
    from swarmscope.enrich.text import normalise

    table = pq.read_table(corpus_file(n))
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
    mixed = 0
    for ids in res.clusters["post_ids"].to_pylist():
        fams = {int(fam[int(p)]) for p in ids}
        if len(fams - {-1}) > 1:
            mixed += 1
    return {
        "texts": n,
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
        "counts": res.counts.as_dict(),
    }


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


def speed_child(n: int) -> None:
    from swarmscope.detect.duplicates import find_duplicates

    table = pq.read_table(corpus_file(n))
    t0 = time.perf_counter()
    res = find_duplicates(table["post_id"], table["text"])
    elapsed = time.perf_counter() - t0
    peak = peak_rss_gib()
    print(json.dumps({"texts": n, "seconds": elapsed, "peak_gib": peak, "counts": res.counts.as_dict()}))


def speed(n: int) -> dict:
    corpus_file(n)  # generated outside the timed process
    out = subprocess.run([sys.executable, __file__, "--child", str(n)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def fit(points: list[tuple[int, float]], target: int) -> tuple[float, float]:
    """Power law y = a·n^b through the measured points (least squares in log-log); y at target."""
    x = np.log([p[0] for p in points])
    y = np.log([p[1] for p in points])
    b, log_a = np.polyfit(x, y, 1)
    return float(b), float(math.exp(log_a) * target**b)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--child", type=int)
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    if args.child:
        speed_child(args.child)
        return
    q_n, sample, sizes = (
        (20_000, 500, [20_000, 50_000]) if args.quick else (200_000, 2_000, [100_000, 300_000, 1_000_000])
    )
    q = quality(q_n, sample, 0.8)
    runs = [speed(n) for n in sizes]
    b_t, t10 = fit([(r["texts"], r["seconds"]) for r in runs], 10_000_000)
    slope, base = np.polyfit([r["texts"] for r in runs], [r["peak_gib"] for r in runs], 1)
    m10 = base + slope * 10_000_000
    lines = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared with other work while measured), "
        f"Python {platform.python_version()}, numpy {np.__version__}, pyarrow {pa.__version__}.",
        "",
        f"### Quality: {q['texts']:,} generated posts, six languages, threshold {q['threshold']}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| distinct eligible texts (variants) | {q['variants']:,} |",
        f"| sampled variants (each against all) | {q['sample']:,} |",
        f"| true pairs touching the sample (brute force) | {q['true_pairs']:,} |",
        f"| verified pairs touching the sample | {q['found_pairs']:,} |",
        f"| **pair recall** | **{q['pair_recall']:.4f}** |",
        f"| **pair precision** | **{q['pair_precision']:.4f}** |",
        f"| clusters / clustered posts | {q['clusters']:,} / {q['clustered_posts']:,} |",
        f"| co-clustered pairs touching the sample | {q['co_clustered_pairs']:,} |",
        f"| of which Jaccard ≥ threshold | {q['co_clustered_at_threshold']:.4f} |",
        f"| lowest Jaccard of a co-clustered pair | {q['co_clustered_min_jaccard']:.3f} |",
        f"| clusters mixing two planted families | {q['clusters_mixing_families']} |",
        f"| detection time | {q['seconds']:.1f} s |",
        "",
        f"Input accounting: `{json.dumps(q['counts'])}`",
        "",
        "### Speed and memory (fresh process per size)",
        "",
        "| posts | seconds | peak RSS GiB | variants | candidate pairs | verified pairs | clusters |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        c = r["counts"]
        lines.append(
            f"| {r['texts']:,} | {r['seconds']:.1f} | {r['peak_gib']:.2f} | {c['variants']:,} | "
            f"{c['candidate_pairs']:,} | {c['verified_pairs']:,} | {c['clusters']:,} |"
        )
    lines += [
        "",
        f"Scaling fit (least squares): time ∝ n^{b_t:.2f} (log-log), memory ≈ {base:.2f} GiB + "
        f"{slope * 1e6:.2f} GiB per million posts (linear). Extrapolated to 10,000,000 posts: about "
        f"{t10:.0f} s and {m10:.1f} GiB (an extrapolation, not a measurement).",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_doc and not args.quick:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from common import write_section

        write_section("duplicates", "\n\n".join(x for x in (INTRO, text, OUTRO) if x))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "src"))
    main()
