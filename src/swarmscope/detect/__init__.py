"""Detectors: pure functions from canonical tables and frozen parameters to finding tables."""
