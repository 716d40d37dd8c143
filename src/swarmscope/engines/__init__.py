"""Engines: the data-parallel stages of detection on something bigger than one DuckDB process.

- ``dataset.py``: the partitioned Parquet dataset (posts, accounts, actions by
  platform and day) a case is exported to; the contract every engine reads.
- ``spark/``: the stages on Apache Spark (optional extra ``swarmscope[spark]``),
  writing compact Parquet outputs equal, as sets, to the local engine's.

This package imports no engine on its own: ``import swarmscope.engines`` never needs pyspark.
See docs/spark.md.
"""
