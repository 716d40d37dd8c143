"""Outputs of a run: findings.json, the HTML report, STIX 2.1, graph files and CSV/Parquet tables."""
