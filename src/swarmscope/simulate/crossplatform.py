"""The TikTok and YouTube shares: the crew's copies of X waves amid organic crowds.

``_wave_copies`` picks, per chosen X wave, crew members who post copies of the
wave's X texts within minutes. ``_tiktok`` builds the TikTok video table: the
crew's videos (mostly over the operation's own sound), the organic TikTok
crowd and the viral sound (a hard negative). ``_youtube`` builds the YouTube
comment table: the crew's comments under a few videos amid organic comments
and replies. The writers turn these tables into API responses.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .params import _DAY, ScenarioParams
from .words import _DIURNAL, _EMOJI_ONLY, _ENDINGS, LANGS
from .world import (
    _by_lang,
    _crew_handles,
    _handles,
    _join,
    _list_of,
    _local_times,
    _people,
    _pick,
    _random_ids,
    _tag_lists,
    _tags_text,
    _texts_by_lang,
    _zipf_p,
)

_TT_TAGS = ("fyp", "foryou", "viral", "trend")
_TT_REGIONS = {
    "en": ("GB", "US", "CA"),
    "ru": ("RU", "KZ"),
    "fa": ("DE", "CA"),
    "az": ("AZ",),
    "fr": ("FR", "BE", "CA"),
    "tr": ("TR", "DE"),
    "ar": ("EG", "JO", "AE"),
}
_TT_TREND_TAG = "AuroraDance"  # the viral sound's dance trend
_YT_CHANNELS = (("Körpü TV", "az"), ("Caspian Talk", "en"), ("Город и люди", "ru"))


def _wave_copies(
    rng: np.random.Generator,
    cpt: dict[str, Any],
    n_crew: int,
    waves: list[int],
    share: tuple[float, float],
    lag: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per chosen X wave, a share of a crew posts copies of the wave's X texts within minutes.

    Returns (UTC seconds, crew member, X post index whose text is copied, wave number). A copy
    comes ``lag`` seconds plus an exponential delay (mean 2 min, capped at 9 min) after the
    wave's start: under 13 minutes, inside the 15-minute same-text window and office hours.
    """
    s_l, who_l, src_l, wave_l = [], [], [], []
    lo, hi = int(np.ceil(share[0] * n_crew)), max(int(np.floor(share[1] * n_crew)), int(np.ceil(share[0] * n_crew)))
    for wi in waves:  # per wave (hundreds)
        w = cpt["waves"][wi]
        if not len(w["posts"]):
            continue
        k = int(rng.integers(lo, hi + 1))
        who_l.append(rng.choice(n_crew, k, replace=False))
        s_l.append(
            w["start"] + rng.integers(lag[0], lag[1], k) + np.minimum(rng.exponential(120, k), 540).astype(np.int64)
        )
        src_l.append(rng.choice(w["posts"], k))
        wave_l.append(np.full(k, wi))
    if not s_l:
        return (np.zeros(0, np.int64),) * 3 + (np.zeros(0, np.int64),)
    return np.concatenate(s_l), np.concatenate(who_l), np.concatenate(src_l), np.concatenate(wave_l)


def _tiktok(
    rng: np.random.Generator, p: ScenarioParams, cpt: dict[str, Any], body: pa.Array, tags: pa.Array, start: int
) -> dict[str, Any]:
    """The TikTok share: the crew's videos on each X wave, the organic crowd, and the viral sound."""
    days = p.days
    sound_pool = np.unique(rng.integers(7_000_000_000_000_000_000, 7_400_000_000_000_000_000, 420))[:400]
    op_sounds = rng.integers(7_400_000_000_000_000_000, 7_450_000_000_000_000_000, 2)  # one per message set
    viral_sound = int(rng.integers(7_450_000_000_000_000_000, 7_500_000_000_000_000_000))
    effects = rng.integers(1_000_000, 9_999_999, 30).astype(str)

    # the crew: videos copying the X wave texts, minutes after the wave starts
    crew = _crew_handles(rng, p.n_tiktok_operation_accounts, ".", 6)
    c_s, c_who, c_src, c_wave = _wave_copies(
        rng, cpt, len(crew), list(range(len(cpt["waves"]))), p.tiktok_wave_share, (30, 240)
    )
    k = len(c_s)
    after = np.array([cpt["waves"][w]["set"] == "after" for w in c_wave.tolist()], bool)
    own = rng.random(k) < p.tiktok_operation_sound_share
    c_sound = np.where(own, op_sounds[after.astype(int)], rng.choice(sound_pool, k, p=_zipf_p(len(sound_pool), 1.0)))
    c_views = rng.lognormal(np.log(300), 0.8, k).astype(np.int64)

    # the organic crowd: every account posts at least once, activity heavy-tailed
    n_acc = p.n_tiktok_organic_accounts
    lang, offset = _people(rng, n_acc)
    handles = _handles(rng, lang, ("", ".", "_"), 0.3)
    activity = rng.lognormal(0.0, 1.2, n_acc)
    who = np.concatenate(
        [np.arange(n_acc), rng.choice(n_acc, p.n_tiktok_organic_videos - n_acc, p=activity / activity.sum())]
    )
    n = len(who)
    s = _local_times(rng, n, start, days, offset[who])
    o_lang = lang[who]
    o_tags = _by_lang(o_lang, lambda code, m: _tag_lists(rng, LANGS[code].hashtags + _TT_TAGS, m, 3, 0.6))
    o_body = _join(_texts_by_lang(rng, o_lang, 2, 12), _pick(rng, _ENDINGS, n))
    o_body = pc.if_else(pa.array(rng.random(n) < 0.02), "", o_body)  # some videos have no description
    o_sound = rng.choice(sound_pool, n, p=_zipf_p(len(sound_pool), 1.0))
    # the viral sound: many organic users, one video each, spread over days from a quarter into the window
    viral = np.sort(rng.choice(n_acc, p.n_tiktok_viral_sound_users, replace=False))
    m = len(viral)
    day0 = days // 4
    v_day = day0 + np.minimum(rng.exponential(4.0, m).astype(np.int64), days - day0 - 1)
    hour = rng.choice(24, m, p=_DIURNAL / _DIURNAL.sum())
    v_s = start + v_day * _DAY + hour * 3600 + rng.integers(0, 3600, m) - (offset[viral] * 3600).astype(np.int64)
    v_s = np.where(v_s < start + day0 * _DAY, v_s + _DAY, v_s)  # zones east of UTC: the trend's first local day
    v_s = np.minimum(v_s, start + days * _DAY - 1)
    v_tags = _list_of(
        [[_TT_TREND_TAG, "fyp"] if x < 0.4 else [_TT_TREND_TAG] if x < 0.7 else [] for x in rng.random(m)]
    )
    v_body = _join(_texts_by_lang(rng, lang[viral], 1, 8), _pick(rng, _ENDINGS, m))

    # all videos: crew, organic, viral (one table; the writer sorts by time)
    o_views = rng.lognormal(np.log(2000), 1.8, n + m).astype(np.int64)
    views = np.concatenate([c_views, o_views])
    total = len(views)
    likes = (views * rng.uniform(0.01, 0.1, total)).astype(np.int64)
    eff = np.where(np.concatenate([np.zeros(k, bool), rng.random(n + m) < 0.2]), rng.integers(0, 30, total), -1)
    all_tags = pa.concat_arrays([tags.take(pa.array(c_src)), o_tags.cast(tags.type), v_tags.cast(tags.type)])
    desc = pa.concat_arrays(
        [body.take(pa.array(c_src)), _join(o_body, _tags_text(o_tags)), _join(v_body, _tags_text(v_tags))]
    )
    region = np.concatenate(
        [
            np.full(k, "AZ"),
            np.array(
                [rng.choice(_TT_REGIONS[x]) for x in lang[who].tolist()]
                + [rng.choice(_TT_REGIONS[x]) for x in lang[viral].tolist()]
            ),
        ]
    )
    table = pa.table(
        {
            "s": np.concatenate([c_s, s, v_s]).astype(np.int64),
            "username": pa.array(
                list(np.array(crew, dtype=object)[c_who])
                + list(np.array(handles, dtype=object)[who])
                + list(np.array(handles, dtype=object)[viral]),
                pa.string(),
            ),
            "description": desc,
            "hashtags": all_tags,
            "music_id": np.concatenate([c_sound, o_sound, np.full(m, viral_sound)]).astype(np.int64),
            "effect": pa.array(np.where(eff >= 0, effects[np.maximum(eff, 0)], None), pa.string()),
            "region": pa.array(region, pa.string()),
            "views": views,
            "likes": likes,
            "shares": (likes * rng.uniform(0, 0.1, total)).astype(np.int64),
            "comments": (likes * rng.uniform(0, 0.06, total)).astype(np.int64),
            "role": np.concatenate([np.full(k, 2), np.zeros(n, np.int64), np.ones(m, np.int64)]).astype(np.int8),
        }
    )
    order = np.lexsort((np.arange(total), table["s"].to_numpy()))
    table = table.take(pa.array(order))
    # TikTok-style ids: creation second in the high 32 bits, a per-video number below
    ids = (table["s"].to_numpy() << 32) | ((np.arange(total, dtype=np.int64) * 2_654_435_761) & 0xFFFFFFFF)
    return {
        "table": table.append_column("id", pa.array(ids)),
        "op_sounds": op_sounds.tolist(),
        "viral_sound": viral_sound,
        "crew": crew,
        "handles": handles,
    }


def _youtube(
    rng: np.random.Generator, p: ScenarioParams, cpt: dict[str, Any], body: pa.Array, start: int, end: int
) -> dict[str, Any]:
    """The YouTube share: a few videos; the crew comments chosen X waves' texts under them within minutes."""
    nv = p.n_youtube_videos
    video_ids = _random_ids(rng, nv, 11)
    owner = np.arange(nv) % len(_YT_CHANNELS)
    owner_ids = _random_ids(rng, len(_YT_CHANNELS), 22, "UC")
    published = start + rng.integers(0, int(p.days * 0.6) * _DAY, nv)
    published[0] = start + int(rng.integers(3600, _DAY))  # a video from the first day: the crew has one early
    published = np.sort(published)

    # the crew: under the latest of the videos already out, copies of a share of the X waves
    n_crew = p.n_youtube_operation_accounts
    crew_handles = _crew_handles(rng, n_crew, "", 8)
    crew_ids = _random_ids(rng, n_crew, 22, "UC")
    eligible = [i for i, w in enumerate(cpt["waves"]) if w["start"] > published[0] + 3600]
    chosen = [i for i, x in zip(eligible, rng.random(len(eligible))) if x < p.youtube_wave_share]
    c_s, c_who, c_src, c_wave = _wave_copies(rng, cpt, n_crew, chosen, (0.4, 0.8), (60, 240))
    wave_start = np.array([cpt["waves"][w]["start"] for w in c_wave.tolist()], np.int64)
    out = np.searchsorted(published, wave_start - 3600, side="right")  # videos out an hour before the wave
    per_wave = {w: int(rng.integers(max(0, o - 2), o)) for w, o in sorted(set(zip(c_wave.tolist(), out.tolist())))}
    c_video = np.array([per_wave[w] for w in c_wave.tolist()], np.int64)
    k = len(c_s)

    # organic commenters: every one comments at least once; comments decay after the video is published
    n_acc = p.n_youtube_organic_accounts
    lang, _ = _people(rng, n_acc)
    handles = _handles(rng, lang, ("", ".", "-", "_"), 0.4)
    acc_ids = _random_ids(rng, n_acc, 22, "UC")
    n_com = p.n_youtube_organic_comments
    n_reply = int(round(0.15 * n_com))
    n_top = n_com - n_reply
    activity = rng.lognormal(0.0, 1.0, n_acc)
    who = np.concatenate([rng.permutation(n_acc), rng.choice(n_acc, n_com - n_acc, p=activity / activity.sum())])
    pop = rng.pareto(1.0, nv) + 0.2
    o_video = rng.choice(nv, n_top, p=pop / pop.sum())
    delay = rng.lognormal(np.log(6 * 3600), 1.5, n_top).astype(np.int64) + 30
    room = np.maximum(end - published[o_video] - 1, 1)
    o_s = published[o_video] + np.where(delay < room, delay, 1 + np.mod(delay, room))
    # replies: to organic threads, at most two per thread, minutes to hours later
    parent = rng.choice(np.repeat(np.arange(n_top), 2), n_reply, replace=False)
    r_delay = rng.lognormal(np.log(3600), 1.2, n_reply).astype(np.int64) + 20
    r_room = np.maximum(end - o_s[parent] - 1, 1)
    r_s = o_s[parent] + np.where(r_delay < r_room, r_delay, 1 + np.mod(r_delay, r_room))
    o_lang = lang[who]
    text = _join(_texts_by_lang(rng, o_lang, 2, 16), _pick(rng, _ENDINGS, n_com))
    text = pc.if_else(pa.array(rng.random(n_com) < 0.01), _pick(rng, _EMOJI_ONLY, n_com), text)

    # all comments: crew (top level), organic top level, organic replies
    top_ids = _random_ids(rng, k + n_top, 19, "Ug", "4AaABAg")
    reply_ids = [f"{top_ids[k + q]}.{x}" for q, x in zip(parent.tolist(), _random_ids(rng, n_reply, 22))]
    vid_all = np.concatenate([c_video, o_video, o_video[parent]])
    author_ids = np.array(crew_ids + acc_ids, dtype=object)[np.concatenate([c_who, n_crew + who])]
    author_h = np.array(crew_handles + handles, dtype=object)[np.concatenate([c_who, n_crew + who])]
    total = k + n_com
    likes = np.where(np.arange(total) < k, rng.integers(0, 3, total), rng.geometric(0.25, total) - 1)
    table = pa.table(
        {
            "cid": pa.array(top_ids + reply_ids, pa.string()),
            "thread": pa.array(top_ids + [top_ids[k + q] for q in parent.tolist()], pa.string()),
            "is_reply": np.arange(total) >= k + n_top,
            "vid": pa.array(np.array(video_ids, dtype=object)[vid_all], pa.string()),
            "vorder": vid_all,
            "vchan": pa.array(np.array(owner_ids, dtype=object)[owner[vid_all]], pa.string()),
            "chan": pa.array(author_ids, pa.string()),
            "handle": pa.array(author_h, pa.string()),
            "text": pa.concat_arrays([body.take(pa.array(c_src)), text.cast(body.type)]),
            "s": np.concatenate([c_s, o_s, r_s]).astype(np.int64),
            "likes": likes.astype(np.int64),
            "img": pa.array(_random_ids(rng, total, 24), pa.string()),
            "role": np.concatenate([np.full(k, 2), np.zeros(n_com, np.int64)]).astype(np.int8),
        }
    )
    return {
        "table": table,
        "video_ids": video_ids,
        "owner_ids": owner_ids,
        "owner": owner,
        "published": published,
        "crew_ids": crew_ids,
        "crew_handles": crew_handles,
        "acc_ids": acc_ids,
        "handles": handles,
        "waves": sorted(set(c_wave.tolist())),
        "k": k,
    }
