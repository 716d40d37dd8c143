"""Benchmark: the whole `network` computation vs CooRTweet and the Coordination Network Toolkit.

    python bench/coaction.py                      # reference inputs + 1M generated
    python bench/coaction.py --sizes 1000000 10000000
    python bench/coaction.py --cnt-python /tmp/cntvenv/bin/python   # also run CNT co-retweet
    python bench/coaction.py --generators zipf --runs 1,1c,2s    # one generator, chosen runs

Each measurement runs in a fresh process (peak RSS via psutil sampling and
ru_maxrss). Generated data: reposts over 30 days by n/5 accounts on
skewed-popularity objects, plus one object shared by 200,000 accounts within
24 hours ("viral"), and Zipf-popular objects reshared in 6-hour cascades by
heavy-tailed accounts ("zipf"; ``generate``). Runs with min_participation 1 are
the like-for-like comparison with CNT (which has no participation filter);
``c`` runs write CSV, as CNT's users read it. Results print as a markdown table and go to docs/benchmarks-coaction.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "coortweet"
WORK = Path(os.environ.get("SWARMSCOPE_BENCH_DIR", "/tmp/swarmscope-bench"))
VIRAL = 200_000


class PeakRSS:
    """Samples this process's RSS every 20 ms; also reads the kernel's high-water mark at the end.

    The mark is VmHWM of /proc/self/status, which starts afresh with the process's
    memory at exec. Not ru_maxrss: Linux carries that over fork and exec, so a child
    started after the parent had read a large output reported the parent's peak.
    """

    def __enter__(self) -> PeakRSS:
        import psutil

        self.proc, self.peak, self.stop = psutil.Process(), 0, False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.stop:
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.02)

    def __exit__(self, *exc: object) -> None:
        self.stop = True
        self.thread.join()
        self.peak = max(self.peak, high_water_mark())


def high_water_mark() -> int:
    """Peak resident bytes of this process (VmHWM); 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


GENERATORS = {
    "viral": "generated (viral 200k/24h)",
    "zipf": "generated (Zipf objects, 6 h cascades)",
}


def generate(n: int, seed: int = 1, shape: str = "viral") -> Path:
    """n actions (reposts) as Parquet (ours) and CSV (CNT's input layout); cached.

    ``viral``: n/5 accounts share n/10 objects of skewed popularity (a cubed uniform rank) at random
    times over 30 days, plus one object shared by 200,000 accounts within 24 hours.
    ``zipf``: one month per million reposts. In each month n/10 objects whose popularity follows
    Zipf's law (share of the object of rank r proportional to 1/r), each posted at a random time and
    reshared in a cascade that decays exponentially (mean delay 6 hours, as retweet cascades do), by
    accounts drawn from one pool of n/5 whose activity is itself heavy-tailed (rank^-0.7). At 1M
    reposts that gives 15.7M in-window pairs at 60 s, the shape of the issue's own measurement
    (15.5M); months keep the work growing with n instead of with the square of the top object.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    path = WORK / (f"reposts_{n}.parquet" if shape == "viral" else f"reposts_{shape}_{n}.parquet")
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    day = 86_400_000_000
    if shape == "viral":
        n_accounts = max(n // 5, VIRAL)
        n_objects = max(n // 10, 1)
        rest = n - VIRAL
        account = np.concatenate([rng.choice(n_accounts, VIRAL, replace=False), rng.integers(0, n_accounts, rest)])
        obj = np.concatenate([np.full(VIRAL, -1), (n_objects * rng.random(rest) ** 3).astype(np.int64)])
        t = np.concatenate([10 * day + rng.integers(0, day, VIRAL), rng.integers(0, 30 * day, rest)])
    elif shape == "zipf":
        months = max(n // 1_000_000, 1)
        n_accounts = max(n // 5, 1)
        activity = np.arange(1, n_accounts + 1, dtype=np.float64) ** -0.7
        account = rng.permutation(n_accounts)[rng.choice(n_accounts, n, p=activity / activity.sum())]
        per_month = np.diff(np.linspace(0, n, months + 1).astype(np.int64))
        obj_parts, t_parts = [], []
        for m, k in enumerate(per_month):
            n_objects = max(int(k) // 10, 1)
            popularity = np.arange(1, n_objects + 1, dtype=np.float64) ** -1.0
            o = rng.choice(n_objects, int(k), p=popularity / popularity.sum())
            posted = m * 30 * day + rng.integers(0, 30 * day, n_objects)
            t_parts.append(posted[o] + (rng.exponential(6 * 3600, int(k)) * 1e6).astype(np.int64))
            obj_parts.append(o + m * n_objects * 10)  # ids unique across months
        obj, t = np.concatenate(obj_parts), np.concatenate(t_parts)
    else:
        raise ValueError(f"unknown generator {shape!r}; one of {', '.join(GENERATORS)}")
    t = t // 1_000_000 * 1_000_000  # whole seconds: CNT stores integer seconds
    t += 1_700_000_000_000_000
    post = np.arange(n)

    def text(prefix: str, values: np.ndarray) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pa.array(values).cast(pa.string()), "")

    table = pa.table(
        {
            "platform": pa.array(np.full(n, "x", object), pa.string()),
            "account_id": text("u", account),
            "post_id": text("p", post),
            "created_at": pa.array(t, pa.timestamp("us")),
            "object_type": pa.array(np.full(n, "repost_of", object), pa.string()),
            "object_id": text("o", obj),
        }
    )
    pq.write_table(table, path)
    import pyarrow.csv as pacsv

    empty = pa.array(np.full(n, "", object), pa.string())
    cnt = pa.table(
        {
            "message_id": table["post_id"],
            "user_id": table["account_id"],
            "username": table["account_id"],
            "repost_id": table["object_id"],
            "reply_id": empty,
            "message": empty,
            "timestamp": pa.array(t // 1_000_000),
            "urls": empty,
        }
    )
    pacsv.write_csv(cnt, path.with_name(path.stem + "_cnt.csv"), pacsv.WriteOptions(quoting_style="none"))
    return path


# -- one measurement per process ------------------------------------------------


def run_ours(source: str, tw: float, mp: int, significance: bool, out: str) -> dict:
    from swarmscope.coaction_network import network  # import time (~1 s) is not counted

    with PeakRSS() as mem:
        t0 = time.perf_counter()
        res = network(source, out, time_window=tw, min_participation=mp, significance=significance)
        seconds = time.perf_counter() - t0
    return {
        "seconds": seconds,
        "peak_bytes": mem.peak,
        "edges": res.edges.num_rows,
        "actions": res.n_actions,
        "significant": int(sum(res.edges["significant"].to_pylist())) if significance else None,
    }


def run_cnt(csv_path: str, db: str, tw: float) -> dict:
    """Run in the CNT venv: preprocess then co-retweet with 2 processes (this machine's cores)."""
    from coordination_network_toolkit.compute_networks import compute_co_retweet_parallel
    from coordination_network_toolkit.preprocess import preprocess_csv_files

    if os.path.exists(db):
        os.remove(db)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        preprocess_csv_files(db, [csv_path])
        t1 = time.perf_counter()
        compute_co_retweet_parallel(db, tw, n_threads=2, min_edge_weight=1)
        t2 = time.perf_counter()
    return {"preprocess_seconds": t1 - t0, "seconds": t2 - t1, "peak_bytes": mem.peak}


def child(args: list[str], python: str = sys.executable, timeout: float | None = None) -> dict:
    cmd = [python, __file__, "--child", json.dumps(args)]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    except subprocess.TimeoutExpired:
        return {"error": f"did not finish within {timeout:.0f} s"}
    if out.returncode:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"}
    return json.loads(out.stdout.strip().splitlines()[-1])


def same_edges(ours_parquet: str, cnt_db: str) -> dict:
    """Compare our undirected edge set with CNT's directed pairs (self-pairs dropped) as sets."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect()
    con.execute(f'CREATE TABLE ours AS SELECT least("from", "to") a, greatest("from", "to") b FROM \'{ours_parquet}\'')
    lite = sqlite3.connect(cnt_db)
    cur = lite.execute("SELECT user_1, user_2 FROM co_retweet_network WHERE user_1 < user_2")
    con.execute("CREATE TABLE cnt (a VARCHAR, b VARCHAR)")
    while rows := cur.fetchmany(1_000_000):
        batch = pa.table({"a": [r[0] for r in rows], "b": [r[1] for r in rows]})
        con.register("_b", batch)
        con.execute("INSERT INTO cnt SELECT * FROM _b")
        con.unregister("_b")
    n_ours, n_cnt = (con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0] for t in ("ours", "cnt"))
    only_ours = con.execute("SELECT count(*) FROM (SELECT * FROM ours EXCEPT SELECT * FROM cnt)").fetchall()[0][0]
    only_cnt = con.execute("SELECT count(*) FROM (SELECT * FROM cnt EXCEPT SELECT * FROM ours)").fetchall()[0][0]
    return {"ours": n_ours, "cnt": n_cnt, "only_ours": only_ours, "only_cnt": only_cnt}


# -- driver -----------------------------------------------------------------------


def gib(b: float | None) -> str:
    return "—" if not b else f"{b / 2**30:.2f} GiB"


def parity(out_csv: str, ref: Path) -> str:
    import duckdb

    q = """SELECT least("from","to") a, greatest("from","to") b, weight, round(avg_time_delta, 6) d, weight_threshold w
           FROM read_csv('{}', all_varchar=false)"""
    con = duckdb.connect()
    diff = con.execute(
        f"SELECT count(*) FROM (({q.format(out_csv)} EXCEPT {q.format(ref)}) UNION ALL "
        f"({q.format(ref)} EXCEPT {q.format(out_csv)}))"
    ).fetchall()[0][0]
    return "identical" if diff == 0 else f"{diff} rows differ"


def generated(shape: str, n: int, args: argparse.Namespace, row) -> None:
    """Every run of ``args.runs`` on ``n`` generated reposts of ``shape``, then CNT when asked."""
    label = GENERATORS[shape]
    t0 = time.perf_counter()
    path = generate(n, shape=shape)
    print(f"(generated {n:,} {shape} actions in {time.perf_counter() - t0:.0f} s)", file=sys.stderr)
    like_for_like = None  # our pairs-only output with min_participation 1, compared with CNT's
    for token in args.runs.split(","):
        mp, sig, csv = int(token.rstrip("sc")), "s" in token, "c" in token
        out = str(WORK / f"gen_{path.stem}_{mp}_{int(sig)}.{'csv' if csv else 'parquet'}")
        runs = [child(["ours", str(path), args.time_window, mp, sig, out]) for _ in range(args.repeat_generated)]
        r = next((x for x in runs if "error" in x), None) or sorted(runs, key=lambda x: x["seconds"])[len(runs) // 2]
        settings = f"tw={args.time_window:g} mp={mp}" + (", CSV out" if csv else ", Parquet out")
        if "error" in r:
            row(label, f"{n:,}", "swarmscope", settings, "error", "", "", r["error"])
            continue
        if mp == 1 and not sig and (like_for_like is None or csv):  # CSV, as CNT's users read it, if run
            like_for_like = (out, r["seconds"], csv)
        lo, hi = min(x["seconds"] for x in runs), max(x["seconds"] for x in runs)
        row(
            label,
            f"{n:,}",
            "swarmscope network" + (" + significance, clusters" if sig else ""),
            settings,
            f"{r['seconds']:.1f} s" + (f" (median of {len(runs)}: {lo:.1f}-{hi:.1f} s)" if len(runs) > 1 else ""),
            gib(max(x["peak_bytes"] for x in runs)),
            f"{r['edges']:,}",
            f"{r['significant']:,} significant" if sig else "",
        )
    if not args.cnt_python:
        return
    db = str(WORK / f"cnt_{path.stem}.db")
    r = child(
        ["cnt", str(path.with_name(path.stem + "_cnt.csv")), db, args.time_window],
        python=args.cnt_python,
        timeout=args.cnt_timeout,
    )
    tool, settings = "Coordination Network Toolkit 1.5.2 co_retweet", f"tw={args.time_window:g}, 2 processes"
    if "error" in r:
        row(label, f"{n:,}", tool, settings, "—", "—", "—", r["error"])
        return
    cmp = None
    if like_for_like is None:
        result = "(no mp=1 run of ours to compare)"
    else:
        cmp = same_edges(like_for_like[0], db)
        result = (
            "same edge set"
            if not (cmp["only_ours"] or cmp["only_cnt"])
            else f"differ: {cmp['only_ours']:,} only ours, {cmp['only_cnt']:,} only CNT"
        ) + f" (vs ours mp=1{', CSV' if like_for_like[2] else ''}: x{r['seconds'] / like_for_like[1]:.1f})"
    row(
        label,
        f"{n:,}",
        tool,
        settings,
        f"{r['seconds']:.1f} s (+{r['preprocess_seconds']:.0f} s load)",
        gib(r["peak_bytes"]),
        f"{cmp['cnt']:,} undirected" if cmp else "—",
        result,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="*", default=[1_000_000])
    ap.add_argument("--time-window", type=float, default=60)
    ap.add_argument("--repeat", type=int, default=3, help="runs per reference input (best is reported)")
    ap.add_argument(
        "--repeat-generated",
        type=int,
        default=1,
        help="runs per generated-data cell (the median is reported, with the range)",
    )
    ap.add_argument("--cnt-python", help="python of a venv with coordination-network-toolkit installed")
    ap.add_argument("--cnt-timeout", type=float, default=1200)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument(
        "--runs",
        default="2,2s,1,1c",
        help="generated-data runs: min_participation, 's' = with significance and clusters, 'c' = CSV output",
    )
    ap.add_argument("--generators", nargs="*", default=list(GENERATORS), choices=list(GENERATORS))
    ap.add_argument("--child")
    args = ap.parse_args()
    from common import answer_child  # bench/ is the script's folder, on sys.path in every child too

    if answer_child(args.child, {"ours": run_ours, "cnt": run_cnt}):
        return

    WORK.mkdir(parents=True, exist_ok=True)
    lines = [
        "| input | actions | tool | settings | wall time | peak memory | edges | result |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(*cells: object) -> None:
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
        print(lines[-1], flush=True)

    print("\n".join(lines))
    src = SHARED / "russian_coord_tweets.csv"
    for ref, tw, mp, coortweet in (
        ("edges_russian_tw60_mp2_ew0.5.csv", 60, 2, "7–20 s (README)"),
        ("edges_russian_tw10_mp5_ew0.5.csv", 10, 5, "7–20 s (README)"),
    ):
        if not src.exists():
            break
        for sig in (False, True):
            out = str(WORK / f"edges_{tw}_{mp}_{int(sig)}.csv")
            runs = [child(["ours", str(src), tw, mp, sig, out]) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r.get("seconds", 1e9))
            if "error" in best:
                row("russian_coord_tweets", "35,125", "swarmscope", f"tw={tw} mp={mp}", "error", "", "", best["error"])
                continue
            result = parity(out, SHARED / ref) + " vs CooRTweet" if not sig else f"{best['significant']} significant"
            row(
                "russian_coord_tweets",
                f"{best['actions']:,}",
                "swarmscope network" + (" + significance, clusters" if sig else ""),
                f"tw={tw} mp={mp} ew=0.5",
                f"{best['seconds']:.2f} s",
                gib(best["peak_bytes"]),
                f"{best['edges']:,}",
                result,
            )
        row(
            "russian_coord_tweets",
            "35,125",
            "CooRTweet 2.1.3 (R)",
            f"tw={tw} mp={mp} ew=0.5",
            coortweet,
            "—",
            "3,721" if tw == 60 else "20",
            "reference",
        )

    for shape in args.generators:
        for n in args.sizes:
            generated(shape, n, args, row)

    header = [
        "## Co-action network (bench/coaction.py)",
        "",
        f"Machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()}; "
        f"date {dt.date.today().isoformat()}. Reference inputs: best of {args.repeat} runs; generated inputs: "
        + (
            f"the median of {args.repeat_generated} runs with their range; "
            if args.repeat_generated > 1
            else "one run; "
        )
        + "CNT: one run. Wall time of the whole library call `network()` (read input, validate, network, write "
        "output; Python start-up and imports excluded), in a fresh process; peak memory is that process's "
        "high-water mark (VmHWM).",
        "CooRTweet's figures are those measured on this class of machine (../shared/data/coortweet/README.md).",
        "",
    ]
    text = "\n".join(header + lines)
    print(text)
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from common import write_section

        write_section("coaction", text)


if __name__ == "__main__":
    main()
