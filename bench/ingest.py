"""Ingest benchmark: posts per second and peak memory for generated X v2 posts.

    python bench/ingest.py [--posts 1000000] [--repeat 3]

Each measurement runs in a fresh process (peak RSS is that process's own).
Target (issue #2): >= 100,000 posts/s and < 2 GiB peak for 1M posts.
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, fresh_case, machine, run_child, table, write_section


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument("--repeat", type=int, default=3, help="fresh-process runs per step; the median is reported")
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    data = OUT / f"x_v2_{args.posts}.jsonl"
    if not data.exists():
        from swarmscope.simulate import generate_x_v2_posts

        print(f"generating {args.posts:,} posts -> {data}", flush=True)
        generate_x_v2_posts(data, args.posts, seed=1)
    size_mb = data.stat().st_size / 2**20
    rows = []
    for label, enrich in (
        ("ingest (parse, validate, store, dedupe)", False),
        ("ingest + enrich (languages, actions)", True),
    ):
        runs = []
        for _ in range(args.repeat):
            case = fresh_case("bench_ingest.duckdb")
            code = (
                "from swarmscope.ingest import ingest\n"
                f"r = ingest({str(case)!r}, [{str(data)!r}], progress=False, enrich={enrich})[0]\n"
                "assert r.balanced and r.quarantined == 0, r\n"
                "print(r.inserted)\n"
            )
            seconds, peak, out = run_child(code)
            runs.append((seconds, peak, int(out.split()[-1])))
            print(label, f"{seconds:.1f} s", f"{peak:,.0f} MiB", flush=True)
        secs = sorted(r[0] for r in runs)
        seconds, n, peak = statistics.median(secs), runs[0][2], max(r[1] for r in runs)
        spread = f"{secs[0]:,.1f}-{secs[-1]:,.1f}" if len(secs) > 1 else f"{secs[0]:,.1f}"
        rows.append(
            [label, f"{n:,}", f"{size_mb:,.0f}", f"{seconds:,.1f} ({spread})", f"{n / seconds:,.0f}", f"{peak:,.0f}"]
        )
        print(rows[-1], flush=True)
    md = (
        "## Ingest (bench/ingest.py)\n\n"
        f"Machine: {machine()}.\n\n"
        f"Input: {args.posts:,} generated X API v2 posts as twarc2 pages (100 tweets and their users per line), "
        f"from `simulate.generate_x_v2_posts`. Whole command in a fresh process, sha256 of the input included; "
        f"median of {args.repeat} runs (range in brackets), posts/s from the median, the highest peak.\n\n"
        + table(["step", "posts", "input MiB", "seconds", "posts/s", "peak RSS MiB"], rows)
        + "\n\nTarget: >= 100,000 posts/s and < 2,048 MiB peak for 1M posts. Peers: none of the coordination tools "
        "(CooRTweet, CooRnet, Coordination Network Toolkit) ingests platform JSON itself; CooRTweet expects a "
        "prepared data frame, the Toolkit a preprocessed CSV (its `preprocess` step is compared in bench/coaction.py "
        "where it runs).\n"
    )
    if not args.no_write:
        write_section("ingest", md)
    print(md)


if __name__ == "__main__":
    main()
