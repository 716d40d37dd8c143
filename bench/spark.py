"""Benchmark: co-action edges on the local engine (DuckDB + numpy) vs the Spark engine on ``local[*]``.

    python bench/spark.py                          # 100k and 1M generated reposts
    python bench/spark.py --sizes 100000 --viral 20000 --master 'local[4]'

Generated data: reposts over 30 days by n/5 accounts on skewed-popularity
objects, plus one object shared by ``--viral`` accounts within 24 hours (the
hot object Spark splits). Each size is written once as the partitioned
dataset (engines/dataset.py). The local engine reads the actions in the
pipeline's order; Spark reads the dataset. Both edge tables are compared as
sets (``equal``). Spark's session start is timed apart from the stage.

Results print as a markdown table and go to bench/out/spark.md with the
machine's description. Note the machine: on a shared, loaded one, Spark's
fixed cost per stage (tens of stages) dominates small inputs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from common import OUT, machine, table  # noqa: E402
from swarmscope import model  # noqa: E402
from swarmscope.detect.coaction import CoactionParams  # noqa: E402
from swarmscope.detect.coaction import coaction_edges as local_edges  # noqa: E402
from swarmscope.engines.dataset import write_dataset  # noqa: E402

ORDER = "ORDER BY platform, post_id, object_type, object_id"


def generate(n: int, viral: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    viral = min(viral, n)
    n_accounts = max(n // 5, viral)
    n_objects = max(n // 10, 1)
    rest = n - viral
    account = np.concatenate([rng.choice(n_accounts, viral, replace=False), rng.integers(0, n_accounts, rest)])
    obj = np.concatenate([np.full(viral, -1), (n_objects * rng.random(rest) ** 3).astype(np.int64)])
    day = 86_400_000_000
    t = np.concatenate([10 * day + rng.integers(0, day, viral), rng.integers(0, 30 * day, rest)])
    t += 1_700_000_000_000_000
    return pa.table(
        {
            "platform": pa.array(["x"] * n, pa.string()),
            "account_id": pa.array([f"u{a}" for a in account], pa.string()),
            "post_id": pa.array([f"p{i}" for i in range(n)], pa.string()),
            "created_at": pa.array(t, model.TS),
            "object_type": pa.array(["repost_of"] * n, pa.string()),
            "object_id": pa.array([f"o{o}" for o in obj], pa.string()),
        }
    )


def dataset(n: int, viral: int, work: Path) -> tuple[Path, pa.Table]:
    actions = generate(n, viral)
    ds = work / f"reposts_{n}_{viral}"
    con = duckdb.connect()
    con.execute(model.ddl("actions"))
    for name in ("posts", "accounts"):
        con.execute(model.ddl(name))
    con.register("_in", actions)
    con.execute("INSERT INTO actions SELECT * FROM _in")
    write_dataset(con, ds)
    return ds, con.sql(f"SELECT * FROM actions {ORDER}").to_arrow_table()


def as_set(t: pa.Table) -> set[tuple]:
    cols = sorted(t.column_names)
    return {tuple(r[c] for c in cols) for r in t.select(cols).to_pylist()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--viral", type=int, default=20_000)
    ap.add_argument("--window", type=float, default=60.0)
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--work", type=Path, default=Path("/tmp/swarmscope-bench-spark"))
    args = ap.parse_args()

    from swarmscope.engines.spark import coaction_edges, read_table, spark_session

    t = time.perf_counter()
    spark = spark_session(args.master)
    start = time.perf_counter() - t
    params = CoactionParams(time_window=args.window)
    rows = []
    for n in args.sizes:
        ds, actions = dataset(n, args.viral, args.work)
        t = time.perf_counter()
        local = local_edges(actions, params)
        t_local = time.perf_counter() - t
        t = time.perf_counter()
        edges = coaction_edges(read_table(spark, ds, "actions"), params)
        ours = edges.toArrow()
        edges.unpersist()
        t_spark = time.perf_counter() - t
        rows.append([f"{n:,}", f"{args.viral:,}", f"{local.num_rows:,}", f"{t_local:.1f}", f"{t_spark:.1f}",
                     as_set(local) == as_set(ours)])  # fmt: skip
        print(rows[-1], flush=True)
    spark.stop()
    md = (
        f"Co-action edges, reposts, window {args.window:g} s; Spark on `{args.master}` (session start "
        f"{start:.1f} s, not included). {machine()}\n\n"
        + table(["actions", "viral object", "edges", "local s", "spark s", "equal"], rows)
    )
    print(md)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "spark.md").write_text(md + "\n")


if __name__ == "__main__":
    main()
