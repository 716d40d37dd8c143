"""The Spark stages as a ``spark-submit`` application: a dataset in, the stages' outputs out
(engines/spark/stages.py). An entry point, beside cli.py: it reads a detect config (config.py), which
the engines layer below may not import.

    spark-submit --master URL --py-files swarmscope.zip \\
        JOB.py DATASET OUT [--config detect.toml] [--duplicates] [--bursts] [--actions] [--files N] [--where]

``swarmscope.zip``: the wheel (``pip wheel --no-deps .``) copied under a
``.zip`` name: Spark puts ``.zip``, ``.egg`` and ``.py`` files of
``--py-files`` on the executors' Python path, not ``.whl`` ones (a wheel is
a zip). ``JOB.py`` is this file: ``python -m swarmscope.spark_job --path``
prints where it is installed (or ``unzip -p`` it out of the wheel). The
session is the one spark-submit configures (master, executors, memory);
nothing here overrides it. The networks are ``detect``'s (config.py), or
those of ``--config``, a ``detect`` config file, so a cluster run pairs
what a local run would. ``--duplicates``: also the near-duplicate clusters
(``DuplicateParams`` at the config's ``duplicate_threshold``); ``--bursts``:
also the bursts (the signals stage's parameters); ``--actions``: also the
posts' actions as enrichment derives them. ``--where``: the driver
and one task on the executors report which swarmscope they imported (the
shipped wheel, or an install) and the Python they run.

Prints the manifest (``_swarmscope_spark.json``) as one line of JSON.
``OUT`` is written by the driver and the executors alike: a URI on a file
system of Hadoop's (``s3a://bucket/out``, ``hdfs://...``), or a folder both
see (client mode on one machine, a shared mount), as stages.py writes it.
Exit status 2 for bad arguments or an unusable dataset, with the reason.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _where(spark) -> dict:
    """Which swarmscope and Python the executors run (one task)."""

    def probe(_):
        import platform

        import swarmscope

        yield {"swarmscope": swarmscope.__file__, "python": platform.python_version()}

    return spark.sparkContext.parallelize([0], 1).mapPartitions(probe).collect()[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="swarmscope-spark-job", description=__doc__.splitlines()[0])
    ap.add_argument("--path", action="store_true", help="print this file's path (the JOB.py to submit) and exit")
    ap.add_argument("dataset", nargs="?", help="a partitioned dataset (export --format parquet-dataset), path or URI")
    ap.add_argument("out", nargs="?", help="the output folder, path or URI (absent, empty, or a previous output)")
    ap.add_argument("--config", help="a detect config file (TOML): its networks and duplicate threshold")
    ap.add_argument("--duplicates", action="store_true", help="also the near-duplicate clusters")
    ap.add_argument("--bursts", action="store_true", help="also the bursts (hashtags and all posts)")
    ap.add_argument("--actions", action="store_true", help="also the posts' actions (enrichment)")
    ap.add_argument("--files", type=int, default=1, help="Parquet files per output (0: one per partition)")
    ap.add_argument("--where", action="store_true", help="report the executors' swarmscope and Python")
    args = ap.parse_args(argv)
    if args.path:
        print(Path(__file__).resolve())
        return 0
    if not args.dataset or not args.out:
        ap.error("DATASET and OUT are required")
    from pyspark.sql import SparkSession

    from swarmscope.config import ConfigError, DetectParams, load_config
    from swarmscope.detect.coaction import CoactionParams
    from swarmscope.detect.duplicates import DuplicateParams
    from swarmscope.engines.dataset import DatasetError
    from swarmscope.engines.spark.stages import run_stages

    try:
        params = load_config(args.config) if args.config else DetectParams()
    except ConfigError as e:
        print(f"swarmscope-spark-job: {e}", file=sys.stderr)
        return 2
    networks = {
        s.name: CoactionParams(
            time_window=s.time_window, min_participation=s.min_participation, object_types=s.object_types
        )
        for s in params.networks
    }
    spark = SparkSession.builder.appName("swarmscope").getOrCreate()
    try:
        where = _where(spark) if args.where else None
        doc = run_stages(
            spark,
            args.dataset,
            args.out,
            networks,
            files=args.files or None,
            duplicates=DuplicateParams(threshold=params.duplicate_threshold) if args.duplicates else None,
            bursts=params.signals.bursts if args.bursts else None,
            actions=args.actions,
        )
    except (DatasetError, ValueError) as e:
        print(f"swarmscope-spark-job: {e}", file=sys.stderr)
        return 2
    finally:
        spark.stop()
    if where is not None:
        import platform

        import swarmscope

        doc["executors"] = where
        doc["driver"] = {"swarmscope": swarmscope.__file__, "python": platform.python_version()}
    print(json.dumps(doc, sort_keys=True, default=list))
    return 0


if __name__ == "__main__":
    sys.exit(main())
