"""Benchmark: detect's data-parallel stages on a case, the local engine against Spark, stage by stage.

    python bench/spark_stages.py CASE.duckdb [--master 'local[2]' 'local-cluster[2,1,2048]'] [--no-write]
        [--conf spark.driver.memory=8g ...]

The stages ``detect --engine spark`` hands to Spark (engines/spark/detect.py),
timed one by one on the same case, each engine in a fresh process:

- local: near-duplicate texts (detect/duplicates.py, the posts duplicates.py
  reads, no translation stage), the case-wide bursts (signals.py's call), the
  accounts' cadence (detect/cadence.py) and the co-action pairing of every network of the default configuration
  (detect/coaction.py without significance, which is local either way);
- Spark, per master: the posts dataset written, near duplicates, bursts, cadence, the
  actions dataset written with the pairing of every network
  (``SparkDetect``), the session's start apart. Spark's event log gives the
  shuffle each stage wrote (bytes written by the tasks that finished inside
  the stage's wall-clock span) and the executors that ran them.

Each stage's output size (clusters and clustered posts, bursts, edges per
network) is printed for both engines: they must agree (the equality of the
tables themselves is tested in tests/test_spark_*.py). Writes the
"spark-stages" section of docs/benchmarks.md unless ``--no-write``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from common import answer_child, machine, table, write_section  # noqa: E402


def _networks():
    from swarmscope.config import DetectParams
    from swarmscope.detect.coaction import CoactionParams

    return {
        s.name: CoactionParams(
            time_window=s.time_window, min_participation=s.min_participation, object_types=s.object_types
        )
        for s in DetectParams().networks
    }


def run_local(case: str) -> dict:
    import pyarrow.compute as pc

    from swarmscope.detect.bursts import BurstParams, burst_events, find_bursts
    from swarmscope.detect.cadence import CadenceParams, cadence
    from swarmscope.detect.coaction import coaction_edges, prepare_actions
    from swarmscope.detect.duplicates import DuplicateParams, find_duplicates
    from swarmscope.enrich.text import normalise
    from swarmscope.signals import POST_COLUMNS
    from swarmscope.store import Case

    out: dict = {"stages": {}}
    with Case(case, read_only=True) as db:
        t = time.perf_counter()
        posts = db.con.sql(
            """SELECT platform || ':' || post_id AS key, text FROM posts
               WHERE kind NOT IN ('repost', 'forward') ORDER BY platform, post_id"""
        ).to_arrow_table()
        found = find_duplicates(posts["key"], posts["text"], DuplicateParams())
        out["stages"]["near duplicates"] = time.perf_counter() - t
        out["near duplicates"] = f"{found.clusters.num_rows:,} clusters, {found.counts.clustered_posts:,} posts"
        del posts, found
        t = time.perf_counter()
        posts = db.con.sql(f"SELECT {', '.join(POST_COLUMNS)}, lang FROM posts").to_arrow_table()
        bursts = find_bursts(burst_events(posts, normalise(posts["text"]), group="all"), BurstParams())
        out["stages"]["bursts"] = time.perf_counter() - t
        out["bursts"] = f"{bursts.num_rows:,} bursts"
        del posts
        t = time.perf_counter()
        posts = db.con.sql(f"SELECT {', '.join(POST_COLUMNS)} FROM posts").to_arrow_table()
        flagged = cadence(posts, CadenceParams())
        out["stages"]["cadence"] = time.perf_counter() - t
        out["cadence"] = f"{flagged.num_rows:,} accounts, {pc.sum(flagged['automated_looking']).as_py() or 0:,} flagged"
        del posts
        t = time.perf_counter()
        edges = {}
        for name, params in _networks().items():
            actions = db.con.sql(
                "SELECT platform, account_id, post_id, created_at, object_type, object_id FROM actions "
                f"WHERE object_type IN ({', '.join(repr(x) for x in params.object_types)}) "
                "ORDER BY platform, post_id, object_type, object_id"
            ).to_arrow_table()
            edges[name] = coaction_edges(prepare_actions(actions, params)).num_rows
        out["stages"]["co-action pairing"] = time.perf_counter() - t
        out["co-action pairing"] = ", ".join(f"{k} {v:,}" for k, v in edges.items()) + " edges"
    return out


def run_spark(case: str, master: str, workdir: str, extra: dict | None = None) -> dict:
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    import pyarrow.compute as pc

    from swarmscope.detect.bursts import BurstParams
    from swarmscope.detect.cadence import CadenceParams
    from swarmscope.detect.duplicates import DuplicateParams
    from swarmscope.engines.spark.detect import SparkDetect
    from swarmscope.store import Case

    events = Path(workdir) / "events"
    events.mkdir(parents=True, exist_ok=True)
    config = {
        "spark.eventLog.enabled": "true",
        "spark.eventLog.dir": f"file://{events}",
        "spark.eventLog.compress": "false",  # plain JSON lines, one file (Spark 4 compresses and rolls)
        "spark.eventLog.rolling.enabled": "false",
        **(extra or {}),
    }
    spans: dict[str, tuple[float, float]] = {}
    out: dict = {"stages": {}}

    def timed(name: str, fn):
        t, wall = time.perf_counter(), time.time()
        result = fn()
        out["stages"][name] = time.perf_counter() - t
        spans[name] = (wall * 1000, time.time() * 1000)
        print(f"{master}: {name} {out['stages'][name]:.1f} s", file=sys.stderr, flush=True)
        return result

    with Case(case, read_only=True) as db, SparkDetect(master, workdir, config) as run:
        timed("session start", lambda: run.spark)
        timed("posts dataset written", lambda: run.posts_frame(db.con))
        found = timed("near duplicates", lambda: run.near_duplicates(db.con, DuplicateParams()))
        out["near duplicates"] = f"{found.clusters.num_rows:,} clusters, {found.counts.clustered_posts:,} posts"
        bursts = timed("bursts", lambda: run.bursts(db.con, BurstParams()))
        out["bursts"] = f"{bursts.num_rows:,} bursts"
        flagged = timed("cadence", lambda: run.cadence(db.con, CadenceParams()))
        out["cadence"] = f"{flagged.num_rows:,} accounts, {pc.sum(flagged['automated_looking']).as_py() or 0:,} flagged"
        edges = timed("co-action pairing", lambda: run.network_edges(db.con, _networks()))
        out["co-action pairing"] = ", ".join(f"{k} {v.num_rows:,}" for k, v in edges.items()) + " edges"
        sc = run.spark.sparkContext
        out["executors"] = max(sc._jsc.sc().getExecutorMemoryStatus().size() - 1, 1)  # minus the driver
        out["cores"] = sc.defaultParallelism
        run.spark.stop()
    out["shuffle"] = _shuffle(events, spans)
    return out


def _shuffle(events: Path, spans: dict[str, tuple[float, float]]) -> dict[str, int]:
    """Bytes of shuffle written by the tasks that finished inside each span (Spark's event log)."""
    written = dict.fromkeys(spans, 0)
    for log in (p for p in events.rglob("*") if p.is_file() and not p.name.startswith(".")):
        with log.open(errors="replace") as f:
            for line in f:
                if '"SparkListenerTaskEnd"' not in line:
                    continue
                e = json.loads(line)
                done = e["Task Info"]["Finish Time"]
                b = (e.get("Task Metrics") or {}).get("Shuffle Write Metrics", {}).get("Shuffle Bytes Written", 0)
                for name, (lo, hi) in spans.items():
                    if lo <= done <= hi:
                        written[name] += b
    return written


def child(args: list[str]) -> dict:
    t = time.perf_counter()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", sys.executable, __file__, "--child", json.dumps(args)],
        capture_output=True,
        text=True,
    )
    sys.stderr.write("".join(line + "\n" for line in proc.stderr.splitlines() if ": " in line and " s" in line[-4:]))
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["seconds"] = time.perf_counter() - t
    out["peak_mib"] = int(proc.stderr.strip().splitlines()[-1]) / 1024
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", nargs="?")
    ap.add_argument("--master", nargs="+", default=["local[2]", "local-cluster[2,1,2048]"])
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--no-local", action="store_true", help="Spark only (the local engine timed in another run)")
    ap.add_argument("--conf", nargs="+", default=[], help="more Spark settings, key=value (e.g. a larger driver)")
    ap.add_argument("--child")
    args = ap.parse_args()
    if answer_child(args.child, {"local": run_local, "spark": run_spark}):
        return
    from swarmscope.store import Case

    with Case(args.case, read_only=True) as db:
        (posts,) = db.con.execute("SELECT count(*) FROM posts").fetchone()
        (actions,) = db.con.execute("SELECT count(*) FROM actions").fetchone()
    results = {} if args.no_local else {"local (DuckDB + numpy)": child(["local", args.case])}
    print(results, flush=True)
    for master in args.master:
        with tempfile.TemporaryDirectory(prefix="swarmscope-bench-spark-") as work:
            conf = dict(c.split("=", 1) for c in args.conf)
            results[f"Spark {master}"] = child(["spark", args.case, master, work, conf])
        print(results, flush=True)
    stages = ["session start", "posts dataset written", "near duplicates", "bursts", "cadence", "co-action pairing"]
    rows = []
    for stage in stages:
        cells = [stage]
        for r in results.values():
            s = r["stages"].get(stage)
            cell = "—" if s is None else f"{s:,.1f}"
            if "shuffle" in r and stage in r["shuffle"]:
                cell += f" ({r['shuffle'][stage] / 2**20:,.0f} MiB shuffled)"
            cells.append(cell)
        cells.append(next((r[stage] for r in results.values() if stage in r), ""))
        rows.append(cells)
    rows.append(["**process, in all**", *(f"**{r['seconds']:,.1f}**" for r in results.values()), ""])
    rows.append(["peak RSS of the Python process (MiB)", *(f"{r['peak_mib']:,.0f}" for r in results.values()), ""])
    rows.append(
        [
            "executors x cores",
            *(["—"] if not args.no_local else []),
            *(f"{r['executors']} x {r['cores'] // r['executors']}" for r in results.values() if "executors" in r),
            "",
        ]
    )
    agree = all(r.get(s) == list(results.values())[0].get(s) for r in results.values() for s in stages[2:])
    md = (
        "## Spark engine, stage by stage (bench/spark_stages.py)\n\n"
        f"Machine: {machine()}. Case: `{Path(args.case).parent.name}/{Path(args.case).name}`, {posts:,} posts, "
        f"{actions:,} actions. Seconds "
        "per stage; Spark's shuffle is the bytes its tasks wrote in the stage. Outputs "
        + ("agree" if agree else "**differ**")
        + " between the engines (last column).\n\n"
        + table(["stage", *results, "output"], rows)
    )
    print(md)
    if not args.no_write:
        write_section("spark-stages", md)


if __name__ == "__main__":
    main()
