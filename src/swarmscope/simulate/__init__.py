"""Synthetic scenarios with ground truth: an organic crowd, a fan crowd, planted operations.

Used by ``swarmscope demo``, by the tests of every detector and by the
benchmarks. The data is written in real formats (X API v2 twarc2 pages,
a Telegram Desktop channel export, TikTok Research API video-query pages,
YouTube Data API commentThreads pages) so the importers are exercised too,
the copy-paste crew working across platforms, and
``truth.json`` says which accounts and posts were planted, by which
operation, with which figures (burst window, the 73-post run, the operators'
UTC offset and holiday country, creation batches, narrative switch,
impersonated entities). docs/simulate.md describes the scenario.

Behaviour, not viewpoint: every name, outlet, topic and hashtag is invented.
Deterministic for a seed: the same parameters give byte-identical files.
Columnar: texts are composed from word lists with pyarrow, times and ids
with numpy, and the JSON is written by DuckDB; Python loops only over small
things (languages, waves of the operation, template variants).

The package, bottom up: params.py (``ScenarioParams``, ``Scenario``),
words.py (word lists and fixed casts), world.py (columnar helpers, account and
post accumulators, ids, handles), organic.py, operations.py and
crossplatform.py (what is generated), x_v2.py, writers.py and truth.py (what is
written), scenario.py (``generate``) and bulk.py (``generate_x_v2_posts``).
"""

from __future__ import annotations

from .bulk import generate_x_v2_posts
from .params import Scenario, ScenarioParams
from .scenario import generate
from .words import LANGS

__all__ = ["LANGS", "Scenario", "ScenarioParams", "generate", "generate_x_v2_posts"]
