"""The organic side of X: ordinary accounts and posts, the genuine entities, the fan crowd.

``_organic_accounts`` makes the ordinary crowd (language, time zone, handle,
profile); ``_organic_posts`` gives it originals, reposts of popular posts and
replies with heavy-tailed activity and diurnal times. ``_genuine`` adds the
watchlist entities and their daily news posts, which the organic crowd shares;
``_fan_crowd`` is the hard negative: old accounts bursting on one hashtag
during a match. None of this is planted; every detector must leave it alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .params import _DAY, ScenarioParams
from .words import (
    _CLIENT_SHARES,
    _CLIENTS,
    _EMOJI_ONLY,
    _ENDINGS,
    _FAN_EMOJI,
    _GENUINE,
    LANGS,
)
from .world import (
    _Accounts,
    _base36,
    _by_lang,
    _compose,
    _empty_lists,
    _join,
    _list_of,
    _local_times,
    _pick,
    _Posts,
    _random_urls,
    _tag_lists,
    _tags_text,
    _texts_by_lang,
    _ts,
    _url_lists,
)


def _organic_accounts(rng: np.random.Generator, acc: _Accounts, n: int, before: int) -> dict[str, Any]:
    """Ordinary accounts: language, time zone, handle, profile. Returns per-account arrays."""
    codes = list(LANGS)
    lang_i = rng.choice(len(codes), n, p=np.array([LANGS[c].share for c in codes]) / sum(LANGS[c].share for c in codes))
    offset = np.zeros(n)
    username, name, loc = [], [], []
    for li, code in enumerate(codes):  # per language: small loop
        m = lang_i == li
        k = int(m.sum())
        L = LANGS[code]
        offs, shares = zip(*L.utc_offsets)
        offset[m] = rng.choice(offs, k, p=np.array(shares) / sum(shares))
        fi = rng.integers(0, len(L.names), k)
        si = rng.integers(0, len(L.surnames), k)
        style = rng.integers(0, 5, k)
        digits = rng.integers(0, 10_000, k)
        year = rng.integers(1970, 2006, k)
        for j in range(k):  # per account, only for profile strings (accounts are few)
            first, first_n = L.names[fi[j]]
            last, last_n = L.surnames[si[j]]
            st = style[j]
            if st == 0:
                h = f"{first}{last}"
            elif st == 1:
                h = f"{first}_{last}"
            elif st == 2:
                h = f"{first}{digits[j] % 100:02d}"
            elif st == 3:
                h = f"{first[0]}{last}{year[j]}"
            else:
                h = f"{first}.{last[:3]}".replace(".", "_") + str(digits[j] % 1000)
            username.append(h[:15])
            name.append(f"{first_n} {last_n}" if st != 2 else first_n)
        loc_choice = rng.integers(0, len(L.cities) + 2, k)  # some leave it empty
        loc_vals = [L.cities[c] if c < len(L.cities) else None for c in loc_choice]
        loc.append((np.flatnonzero(m), loc_vals))
    # handles must be unique: a repeat gets its index in base 36 (letters and digits, not a digit run)
    order = np.argsort(lang_i, kind="stable")
    uname_sorted = np.empty(n, dtype=object)
    uname_sorted[order] = np.array(username, dtype=object)
    _, first_seen = np.unique(uname_sorted, return_index=True)
    dup = np.ones(n, bool)
    dup[first_seen] = False
    uname_sorted[dup] = [f"{u[:10]}_{_base36(i)}" for u, i in zip(uname_sorted[dup], np.flatnonzero(dup))]
    name_sorted = np.empty(n, dtype=object)
    name_sorted[order] = np.array(name, dtype=object)
    location = np.empty(n, dtype=object)
    for where, vals in loc:
        location[where] = vals
    # account age: most accounts years old, a few recent
    created = before - (rng.gamma(2.0, 2.2, n) * 365 * _DAY).astype(np.int64) - rng.integers(0, _DAY, n)
    created = np.maximum(created, _ts(dt.date(2008, 3, 1)) + rng.integers(0, 365 * _DAY, n))
    followers = np.minimum(rng.lognormal(np.log(180), 1.5, n), 2_000_000).astype(np.int64)
    following = np.minimum(rng.lognormal(np.log(250), 1.0, n), 7_500).astype(np.int64)
    bio_has = rng.random(n) < 0.7
    bio = np.empty(n, dtype=object)
    for li, code in enumerate(codes):
        m = np.flatnonzero((lang_i == li) & bio_has)
        bio[m] = _compose(rng, LANGS[code].words, len(m), 3, 9).to_pylist()
    lang_codes = np.array(codes)[lang_i]
    img_n = rng.integers(10**17, 10**18, n)
    img_h = (
        np.ascontiguousarray(np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))[rng.integers(0, 36, (n, 8))])
        .view("<U8")
        .ravel()
    )
    default_img = rng.random(n) < 0.12
    images = [
        "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
        if d
        else f"https://pbs.twimg.com/profile_images/{a}/{b}_normal.jpg"
        for a, b, d in zip(img_n.tolist(), img_h.tolist(), default_img.tolist())
    ]
    idx = acc.add(
        username=list(uname_sorted),
        name=list(name_sorted),
        description=list(bio),
        created=created,
        followers=followers,
        following=following,
        location=list(location),
        verified=np.zeros(n, bool),
        image=images,
    )
    return {"idx": idx, "lang": lang_codes, "offset": offset, "followers": followers, "created": created}


def _organic_bodies(
    rng: np.random.Generator, langs: np.ndarray, link_domains: list[str]
) -> tuple[pa.Array, pa.Array, pa.Array, pa.Array]:
    """(text, lang, hashtags, urls) of ordinary original posts; emoji-only posts have lang 'und'."""
    n = len(langs)
    body = _texts_by_lang(rng, langs, 5, 20)
    body = _join(body, _pick(rng, _ENDINGS, n))
    emoji_only = rng.random(n) < 0.004
    body = pc.if_else(pa.array(emoji_only), _pick(rng, _EMOJI_ONLY, n), body)
    tags = _by_lang(langs, lambda code, k: _tag_lists(rng, LANGS[code].hashtags, k, 2, 0.25))
    tags = pc.if_else(pa.array(emoji_only), _empty_lists(n, pa.list_(pa.string())), tags)
    has_url = (rng.random(n) < 0.12) & ~emoji_only
    own = _by_lang(langs, lambda code, k: pa.repeat(LANGS[code].news_domain, k))
    shared = _random_urls(rng, link_domains, n)
    # half the links go to a news site in the post's language
    local_news = _join("https://www.", own, "/news/", pa.array(rng.integers(10_000, 999_999, n).astype(str)))
    expanded = pc.if_else(pa.array(rng.random(n) < 0.5), local_news, shared)
    urls, url_text = _url_lists(rng, expanded, has_url)
    text = _join(body, _tags_text(tags), url_text)
    lang = pa.array(np.where(emoji_only, "und", langs.astype(str)), pa.string())
    return text, lang, tags, urls


def _organic_posts(
    rng: np.random.Generator,
    posts: _Posts,
    people: dict[str, Any],
    n_posts: int,
    start: int,
    days: int,
    repost_share: float,
    reply_share: float,
    link_domains: list[str],
    extra_parents: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
    role: str = "organic",
) -> np.ndarray:
    """Originals, reposts of popular posts and replies; returns the indices of the originals."""
    n_acc = len(people["idx"])
    activity = rng.lognormal(0.0, 1.4, n_acc)  # heavy-tailed: a few accounts post most
    activity /= activity.sum()
    n_rep = int(round(n_posts * repost_share))
    n_reply = int(round(n_posts * reply_share))
    n_orig = n_posts - n_rep - n_reply
    who = rng.choice(n_acc, n_orig, p=activity)
    s = _local_times(rng, n_orig, start, days, people["offset"][who])
    text, lang, tags, urls = _organic_bodies(rng, people["lang"][who], link_domains)
    client = _pick(rng, _CLIENTS, n_orig, np.array(_CLIENT_SHARES))
    orig = posts.add(role, s, people["idx"][who], text, lang, tags, urls, client=client)
    # popularity: power law, scaled by the author's audience
    pop = (rng.pareto(1.2, n_orig) + 0.05) * np.sqrt(people["followers"][who] + 10)
    par_idx, par_s, par_author = orig, s, people["idx"][who]
    if extra_parents is not None:  # e.g. the genuine outlets' posts, widely shared
        e_idx, e_s, e_author = extra_parents
        pop = np.concatenate([pop, (rng.pareto(1.2, len(e_idx)) + 2.0) * 300.0])
        par_idx = np.concatenate([orig, e_idx])
        par_s = np.concatenate([s, e_s])
        par_author = np.concatenate([par_author, e_author])
    p = pop / pop.sum()
    end = start + days * _DAY
    for kind, k, median in (("repost", n_rep, 2400.0), ("reply", n_reply, 900.0)):
        if not k:
            continue
        pj = rng.choice(len(par_idx), k, p=p)
        who_r = rng.choice(n_acc, k, p=activity)
        clash = people["idx"][who_r] == par_author[pj]
        who_r[clash] = (who_r[clash] + 1) % n_acc
        delay = rng.lognormal(np.log(median), 1.3, k).astype(np.int64) + 5
        room = np.maximum(end - par_s[pj] - 1, 1)
        t = par_s[pj] + np.where(delay < room, delay, 1 + np.mod(delay, room))
        client = _pick(rng, _CLIENTS, k, np.array(_CLIENT_SHARES))
        lang = people["lang"][who_r]
        if kind == "repost":
            posts.add(
                role,
                t,
                people["idx"][who_r],
                None,
                pa.nulls(k, pa.string()),
                parent=par_idx[pj],
                kind="repost",
                client=client,
            )
        else:
            body = _join(_texts_by_lang(rng, lang, 3, 14), _pick(rng, _ENDINGS, k))
            posts.add(
                role,
                t,
                people["idx"][who_r],
                body,
                pa.array(lang.astype(str), pa.string()),
                parent=par_idx[pj],
                kind="reply",
                client=client,
            )
    return orig


def _genuine(
    rng: np.random.Generator, acc: _Accounts, posts: _Posts, p: ScenarioParams, start: int
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The watchlist entities: old verified accounts posting a news item a day with a link to their site.

    Returns their account indices and (post indices, times, authors) of their posts.
    """
    n = len(_GENUINE)
    idx = acc.add(
        username=[x[0] for x in _GENUINE],
        name=[x[1] for x in _GENUINE],
        description=[x[4] for x in _GENUINE],
        created=start - rng.integers(9 * 365, 15 * 365, n) * _DAY,
        followers=rng.integers(80_000, 600_000, n),
        following=rng.integers(50, 900, n),
        location=["Bakı", "Baku", "London", "Lille", "İstanbul"],
        verified=np.ones(n, bool),
        image=[f"https://pbs.twimg.com/profile_images/{1000 + i}/official_normal.jpg" for i in range(n)],
    )
    k = n * p.days
    who = np.repeat(np.arange(n), p.days)
    lang = np.array([x[2] for x in _GENUINE])[who]
    offset = np.array([x[5] for x in _GENUINE])[who]
    s = (
        start
        + np.tile(np.arange(p.days), n) * _DAY
        + (rng.integers(8, 21, k) - offset) * 3600
        + rng.integers(0, 3600, k)
    )
    url = _join(
        "https://www.",
        pa.array([x[3] for x in _GENUINE]).take(pa.array(who)),
        "/",
        pa.array(rng.integers(1000, 99999, k).astype(str)),
    )
    urls, url_text = _url_lists(rng, url, np.ones(k, bool))
    made = posts.add(
        "genuine",
        s,
        idx[who],
        _join(_texts_by_lang(rng, lang, 8, 16), url_text),
        pa.array(lang, pa.string()),
        urls=urls,
    )
    return idx, (made, s, idx[who])


def _fan_crowd(rng: np.random.Generator, posts: _Posts, people: dict[str, Any], p: ScenarioParams) -> dict[str, Any]:
    """Old accounts with audiences, bursting on one hashtag through a match: diverse texts over ~2 hours."""
    kick = _ts(p.fan_event_date) + p.fan_event_utc_hour * 3600
    win_end = kick + p.fan_event_minutes * 60
    eligible = np.flatnonzero((people["created"] < _ts(dt.date(2021, 1, 1))) & (people["followers"] >= 30))
    if len(eligible) < p.n_fan_accounts:
        eligible = np.argsort(people["created"], kind="stable")[: p.n_fan_accounts * 2]
    fans = np.sort(rng.choice(eligible, p.n_fan_accounts, replace=False))
    per = rng.geometric(0.45, len(fans))
    who = np.repeat(fans, per)
    n = len(who)
    moments = rng.uniform(0.1, 0.95, 4) * p.fan_event_minutes * 60  # goals: everyone posts at once
    at_moment = rng.random(n) < 0.45
    t = np.where(
        at_moment, moments[rng.integers(0, 4, n)] + rng.exponential(120, n), rng.uniform(0, p.fan_event_minutes * 60, n)
    )
    s = kick + np.clip(t, 0, p.fan_event_minutes * 60 - 1).astype(np.int64)
    lang = people["lang"][who]
    words = _texts_by_lang(rng, lang, 2, 6, "fan_words")
    extra = _texts_by_lang(rng, lang, 0, 6)
    body = pc.utf8_capitalize(_join(words, " ", extra, " ", _pick(rng, _FAN_EMOJI, n)))
    body = pc.utf8_trim_whitespace(body)
    second = np.where(rng.random(n) < 0.25, 1, 0)
    tag_lists = _list_of([[p.fan_hashtag, "FinalNight"] if x else [p.fan_hashtag] for x in second])
    text = _join(body, _tags_text(tag_lists))
    client = _pick(rng, _CLIENTS, n, np.array(_CLIENT_SHARES))
    orig = posts.add(
        "fan", s, people["idx"][who], text, pa.array(lang.astype(str), pa.string()), tag_lists, client=client
    )
    # fans repost the popular fan posts, spread over minutes
    n_rep = int(n * 0.3)
    pop = rng.pareto(1.1, n) + 0.05
    pj = rng.choice(n, n_rep, p=pop / pop.sum())
    reposter = rng.choice(fans, n_rep)
    clash = reposter == who[pj]
    reposter[clash] = fans[(np.searchsorted(fans, reposter[clash]) + 1) % len(fans)]
    delay = rng.lognormal(np.log(360), 1.0, n_rep).astype(np.int64) + 3
    room = np.maximum(win_end - s[pj] - 1, 1)
    rs = s[pj] + np.where(delay < room, delay, 1 + np.mod(delay, room))
    reps = posts.add(
        "fan",
        rs,
        people["idx"][reposter],
        None,
        pa.nulls(n_rep, pa.string()),
        parent=orig[pj],
        kind="repost",
        client=_pick(rng, _CLIENTS, n_rep, np.array(_CLIENT_SHARES)),
    )
    return {"accounts": people["idx"][fans], "posts": np.concatenate([orig, reps]), "start": kick, "end": win_end}
