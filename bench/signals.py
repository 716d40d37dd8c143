"""Benchmark: every behavioural signal on generated posts.

    python bench/signals.py --posts 1000000 [--write docs/benchmarks-signals.md]

Posts are generated in DuckDB (accounts with a Zipf-like activity, hashtags,
a text vocabulary with copies, one year of times), handed over as Arrow, and
each detector is timed on its own. Prints a table; ``--write`` saves it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import psutil
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, write_section
from swarmscope.detect.accounts import account_patterns
from swarmscope.detect.bursts import burst_events, find_bursts
from swarmscope.detect.cadence import cadence
from swarmscope.detect.holidays_signal import holiday_fingerprint
from swarmscope.detect.impersonation import impersonators
from swarmscope.detect.rhythm import operator_rhythm
from swarmscope.detect.runs import find_runs
from swarmscope.enrich.text import normalise
from swarmscope.store import connect


def generate(n_posts: int, seed: int = 1) -> tuple[pa.Table, pa.Table]:
    con = connect()
    n_acc = max(n_posts // 100, 100)
    con.execute(f"SELECT setseed({1 / (seed + 1)})").fetchall()
    posts = con.sql(
        f"""SELECT 'x' AS platform, i::VARCHAR AS post_id,
                   'a' || (floor(pow(random(), 3) * {n_acc}))::BIGINT AS account_id,
                   TIMESTAMP '2023-01-01' + to_microseconds((random() * 365 * 86400e6)::BIGINT) AS created_at,
                   CASE WHEN random() < 0.3
                        THEN 'Copied slogan number ' || (floor(random() * 500))::BIGINT || ' share it https://t.co/x'
                        ELSE 'an ordinary remark ' || i || ' about topic ' || (floor(random() * 1000))::BIGINT
                        END AS text,
                   'post' AS kind,
                   CASE WHEN random() < 0.4 THEN ['tag' || (floor(pow(random(), 2) * 5000))::BIGINT] ELSE []
                        END AS hashtags,
                   CASE WHEN random() < 0.05 THEN 'dlvr.it' ELSE 'Twitter for Android' END AS client
            FROM range({n_posts}) t(i)"""
    ).to_arrow_table()
    accounts = con.sql(
        f"""SELECT 'x' AS platform, 'a' || i AS account_id, 'user_' || (i % 9973) || '_' || i AS handle,
                   'Person ' || i AS display_name, 'bio text number ' || (i % 50000) AS description,
                   TIMESTAMP '2010-01-01' + to_microseconds((random() * 13 * 365 * 86400e6)::BIGINT) AS created_at,
                   (random() * 1000)::BIGINT AS followers, (random() * 5000)::BIGINT AS posts_count,
                   NULL::VARCHAR AS profile_image_url
            FROM range({n_acc}) t(i)"""
    ).to_arrow_table()
    con.close()
    return posts, accounts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    a = ap.parse_args()
    proc = psutil.Process()
    t = time.perf_counter()
    posts, accounts = generate(a.posts)
    gen = time.perf_counter() - t
    wl = pa.table(
        {
            "name": ["BBC News", "Reuters", "Le Monde"],
            "handle": ["BBCNews", "Reuters", "lemondefr"],
            "platform": ["x", "x", "x"],
        }
    )
    steps: list[tuple[str, float, str]] = []

    def timed(name, fn):
        t0 = time.perf_counter()
        out = fn()
        steps.append((name, time.perf_counter() - t0, _size(out)))
        return out

    norm = timed("normalise text", lambda: normalise(posts["text"]))
    timed("bursts (hashtags + group)", lambda: find_bursts(burst_events(posts, norm)))
    timed("runs", lambda: find_runs(posts, norm=norm))
    timed("cadence", lambda: cadence(posts))
    fit = timed("rhythm", lambda: operator_rhythm(posts["created_at"]))
    timed("holidays (all countries)", lambda: holiday_fingerprint(posts["created_at"], fit.utc_offset_hours or 0))
    timed("account patterns", lambda: account_patterns(accounts))
    timed("impersonation (3 entities)", lambda: impersonators(accounts, wl))
    total = sum(s[1] for s in steps)
    lines = [
        f"## Behavioural signals (bench/signals.py): {a.posts:,} posts, {accounts.num_rows:,} accounts",
        "",
        f"Machine: {machine()}. Generated in {gen:.1f} s (not counted): Zipf-like account activity, 30 % copied "
        "slogans, 40 % with a hashtag, one year of times; uniform noise, so no findings is the right answer.",
        "",
        "| step | seconds | findings |",
        "|---|---:|---|",
        *[f"| {n} | {s:.1f} | {o} |" for n, s, o in steps],
        f"| **total** | **{total:.1f}** | |",
        "",
        f"Peak resident memory: {proc.memory_info().rss / 2**30:.1f} GiB (max RSS {_max_rss_gib():.1f} GiB).",
    ]
    text = "\n".join(lines)
    print(text)
    if not a.no_write:
        write_section("signals", text)


def _size(out) -> str:
    if isinstance(out, pa.Table):
        return f"{out.num_rows:,} rows"
    if hasattr(out, "ranking"):
        top = out.ranking.slice(0, 1).to_pylist()
        return f"top {top[0]['country']} p_family={top[0]['p_family']:.2f}" if top else "none"
    if hasattr(out, "pattern"):
        return f"{out.pattern}, UTC{out.utc_offset_hours:+g}"
    if hasattr(out, "batches"):
        return f"{out.batches.num_rows} batches, {out.handle_templates.num_rows} templates"
    return ""


def _max_rss_gib() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


if __name__ == "__main__":
    main()
