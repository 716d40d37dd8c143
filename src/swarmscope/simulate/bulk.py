"""Bulk X v2 posts for the ingest benchmark: ``generate_x_v2_posts``.

The organic crowd alone, at any size (one account per 25 posts, 30 days from
2024-01-01, seven languages, reposts, replies, hashtags and links), written as
twarc2 pages by the same X writer as the scenario. bench/ingest.py times the
import of its output.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np

from .organic import _organic_accounts, _organic_posts
from .params import _DAY
from .words import _SHARED_DOMAINS, LANGS
from .world import _Accounts, _post_ids, _Posts, _ts, _user_ids
from .x_v2 import _write_x


def generate_x_v2_posts(path: Path, n_posts: int, seed: int) -> Path:
    """Write ``n_posts`` organic tweets as twarc2 pages (100 tweets, includes.users/tweets).

    The ingest benchmark's input: the organic crowd alone (seven languages,
    reposts, replies, hashtags, links), one account per 25 posts, over 30 days.
    """
    if n_posts < 1:
        raise ValueError("n_posts must be positive")
    path = Path(path)
    rng = np.random.default_rng([seed, 1])
    start = _ts(dt.date(2024, 1, 1))
    acc, posts = _Accounts(), _Posts()
    people = _organic_accounts(rng, acc, max(50, n_posts // 25), before=start)
    domains = list(_SHARED_DOMAINS) + [L.news_domain for L in LANGS.values()]
    _organic_posts(rng, posts, people, n_posts, start, 30, 0.3, 0.08, domains)
    ids = _post_ids(posts)
    _write_x(path, posts, acc, ids, _user_ids(acc), retrieved=start + 31 * _DAY, rng=rng, query="lang:en OR lang:ru")
    return path
