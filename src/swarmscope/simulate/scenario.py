"""``generate``: the whole scenario, from accounts to files, in a fixed order of random streams.

Each part draws from its own seeded stream (accounts, organic, genuine, fan,
copy-paste, amplifier, impersonator, write; TikTok, YouTube and Telegram have
theirs), so the same parameters give byte-identical files. ``generate`` makes
the accounts, the organic and fan crowds, the three operations and the TikTok
and YouTube shares, then writes the X pages, the Telegram export, the TikTok
and YouTube responses, watchlist.csv and truth.json, and returns a ``Scenario``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .crossplatform import _tiktok, _youtube
from .operations import (
    _amplifier,
    _amplifier_accounts,
    _copypaste_accounts,
    _copypaste_posts,
    _impersonators,
    _workdays,
)
from .organic import _fan_crowd, _genuine, _organic_accounts, _organic_posts
from .params import _DAY, Scenario, ScenarioParams
from .truth import _truth
from .words import _GENUINE, _SHARED_DOMAINS, LANGS
from .world import _Accounts, _post_ids, _Posts, _ts, _user_ids
from .writers import _write_telegram, _write_tiktok, _write_watchlist, _write_youtube
from .x_v2 import _write_x

_RETRIEVED_AFTER_DAYS = 1  # the collection ran one day after the window
_DEFAULT_PARAMS = ScenarioParams()  # the demo scenario


def generate(out_dir: Path, params: ScenarioParams = _DEFAULT_PARAMS) -> Scenario:
    """Write the scenario's input files, watchlist.csv and truth.json into ``out_dir``."""
    p = params
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    start = _ts(p.start)
    end = start + p.days * _DAY
    off_s = int(round(p.operator_utc_offset * 3600))
    rngs = {
        k: np.random.default_rng([p.seed, i])
        for i, k in enumerate(
            ("accounts", "organic", "genuine", "fan", "copypaste", "amplifier", "impersonator", "write")
        )
    }
    acc, posts = _Accounts(), _Posts()

    # -- accounts ------------------------------------------------------------
    people = _organic_accounts(rngs["accounts"], acc, p.n_organic_accounts, before=start)
    genuine_idx, genuine_posts = _genuine(rngs["genuine"], acc, posts, p, start)
    work, holidays_off, weekend_work = _workdays(p)
    cp_idx, batches = _copypaste_accounts(rngs["copypaste"], acc, p, off_s)
    amp_idx = _amplifier_accounts(rngs["amplifier"], acc, p.n_amplifier_accounts, start)

    # -- organic crowd, sharing the genuine entities' posts too -----------------
    domains = list(_SHARED_DOMAINS) + [L.news_domain for L in LANGS.values()] + [x[3] for x in _GENUINE]
    _organic_posts(
        rngs["organic"],
        posts,
        people,
        p.n_organic_posts,
        start,
        p.days,
        p.repost_share,
        p.reply_share,
        domains,
        extra_parents=genuine_posts,
    )

    # -- fan crowd -------------------------------------------------------------
    fan = _fan_crowd(rngs["fan"], posts, people, p)

    # -- a) copy-paste network, c) impersonators, b) amplifier of both ------------
    cpt = _copypaste_posts(rngs["copypaste"], posts, cp_idx, p, work, off_s)
    imp_idx, imp_posts, imp_s = _impersonators(rngs["impersonator"], acc, posts, p, start, off_s)
    amp = _amplifier(rngs["amplifier"], posts, amp_idx, p, cpt, imp_posts, imp_s, end)

    # -- write -------------------------------------------------------------------
    ids = _post_ids(posts)
    user_ids = _user_ids(acc)
    x_path = out_dir / "x_v2_search.jsonl"
    _write_x(
        x_path,
        posts,
        acc,
        ids,
        user_ids,
        retrieved=end + _RETRIEVED_AFTER_DAYS * _DAY,
        rng=rngs["write"],
        query=f"#{p.fan_hashtag} OR #YaşılKörpü OR lang:az",
    )
    files, x_files, tg_files = [x_path], [x_path], []
    tg_truth = None
    if p.telegram:
        tg_path = out_dir / "telegram_export" / "result.json"
        tg_truth = _write_telegram(tg_path, cpt, ids, p, off_s)
        files.append(tg_path)
        tg_files.append(tg_path)
    tt = yt = None
    tt_files: list[Path] = []
    yt_files: list[Path] = []
    if p.tiktok or p.youtube:
        x_body, x_tags = posts.col("body"), posts.col("tags")
    if p.tiktok:
        trng = np.random.default_rng([p.seed, 100])
        tt = _tiktok(trng, p, cpt, x_body, x_tags, start)
        n_queries = (p.days - 1) // 30 + 1  # the Research API's 30-day limit per query
        search_ids = ["{:016x}{:016x}".format(*trng.integers(0, 2**62, 2)) for _ in range(n_queries)]
        tt_path = out_dir / "tiktok_research_videos.jsonl"
        _write_tiktok(tt_path, tt, start, search_ids)
        tt_files.append(tt_path)
    if p.youtube:
        yt = _youtube(np.random.default_rng([p.seed, 101]), p, cpt, x_body, start, end)
        yt_path = out_dir / "youtube_comment_threads.jsonl"
        _write_youtube(yt_path, yt)
        yt_files.append(yt_path)
    files += tt_files + yt_files
    watch = out_dir / "watchlist.csv"
    _write_watchlist(watch)

    truth = _truth(
        p,
        posts,
        acc,
        ids,
        user_ids,
        genuine_idx,
        fan,
        cpt,
        batches,
        work,
        holidays_off,
        weekend_work,
        amp,
        imp_idx,
        imp_posts,
        tg_truth,
        tt,
        yt,
        {
            "x": [x_path.name],
            "telegram": [str(f.relative_to(out_dir)) for f in tg_files],
            "tiktok": [f.name for f in tt_files],
            "youtube": [f.name for f in yt_files],
            "watchlist": watch.name,
        },
    )
    truth_path = out_dir / "truth.json"
    truth_path.write_text(json.dumps(truth, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return Scenario(
        files=files,
        truth_path=truth_path,
        truth=truth,
        watchlist_path=watch,
        x_files=x_files,
        telegram_files=tg_files,
        tiktok_files=tt_files,
        youtube_files=yt_files,
    )
