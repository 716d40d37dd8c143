"""The data-parallel stages on Apache Spark (optional extra ``swarmscope[spark]``; docs/spark.md).

Reads the partitioned dataset (engines/dataset.py) and writes compact Parquet
outputs equal, as sets of rows, to the local (DuckDB/numpy) engine's:

- ``actions.py``: enrichment into actions (the local enrichment's own SQL
  on each Arrow batch of posts);
- ``coaction.py``: co-action edges (CooRTweet's columns), with hot objects
  split by time range and salted;
- ``series.py``: per-account post counts per UTC day and half hour, the
  raw material of the hour-of-week profile and the daily series;
- ``neardup.py``: near-duplicate text clusters and their verified pairs
  (exact copies collapsed first; MinHash LSH banding as detect/duplicates.py);
- ``bursts.py``: bursts per hashtag and for all posts (detect/bursts.py);
- ``cadence.py``: per-account posting cadence, from the gaps between an
  account's posts (detect/cadence.py);
- ``stages.py``: run the stages on a dataset and write their outputs.
"""

from __future__ import annotations

try:
    import pyspark  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "the Spark engine needs pyspark and Java 17: pip install 'swarmscope[spark]' (docs/spark.md)"
    ) from exc

from .actions import enrich_actions
from .bursts import find_bursts
from .cadence import cadence
from .coaction import SplitParams, coaction_edges, quantile_of_histogram, split_shares
from .neardup import NearDupResult, near_duplicates
from .session import read_table, spark_session, use_utc
from .stages import run_stages

__all__ = [
    "NearDupResult",
    "SplitParams",
    "cadence",
    "coaction_edges",
    "enrich_actions",
    "find_bursts",
    "near_duplicates",
    "quantile_of_histogram",
    "read_table",
    "run_stages",
    "spark_session",
    "split_shares",
    "use_utc",
]
