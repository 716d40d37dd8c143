"""The planted operations on X: copy-paste network, run and burst, amplifier, impersonators.

a) The copy-paste network: the operators' working calendar (``_workdays``),
templated message variants (``_variants``), accounts created in batches, and
their posts: waves in office hours, the 73-post run and the 1,000-post burst.
b) The fast co-repost amplifier: throwaway accounts reposting targets within
seconds. c) Impersonators of the watchlist entities posting look-alike news.
Each returns the indices its ground truth needs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import holidays
import numpy as np
import pyarrow as pa

from .params import _DAY, ScenarioParams
from .words import (
    _AMP_WORDS,
    _BURST,
    _FAKE_DOMAINS,
    _GENUINE,
    _HOMOGLYPHS,
    _IMPERSONATORS,
    _MONTHS,
    _NEWS_PREFIX,
    _OP_BIOS,
    _OP_EMOJI,
    _OP_FILLERS,
    _OP_FULLNAMES,
    _RUN_TEXT,
    _SET_AFTER,
    _SET_BEFORE,
    LANGS,
)
from .world import (
    _Accounts,
    _join,
    _list_of,
    _pick,
    _Posts,
    _texts_by_lang,
    _ts,
    _url_lists,
)

# --------------------------------------------------------------------------
# a) Copy-paste network: calendar, message variants, accounts, waves, run, burst
# --------------------------------------------------------------------------


def _workdays(p: ScenarioParams) -> tuple[list[dt.date], list[dt.date], list[dt.date]]:
    """(operator working days, weekday holidays, transferred working Saturdays/Sundays) in the window."""
    days = [p.start + dt.timedelta(days=i) for i in range(p.days)]
    cal = holidays.country_holidays(p.holiday_country, years=sorted({d.year for d in days}))
    weekend_work = {d for d in getattr(cal, "weekend_workdays", set()) if p.start <= d < days[-1] + dt.timedelta(1)}
    work = [d for d in days if (d.weekday() < 5 and d not in cal) or d in weekend_work]
    off = [d for d in days if d.weekday() < 5 and d in cal and d not in weekend_work]
    return work, off, sorted(weekend_work)


def _variants(
    rng: np.random.Generator,
    messages: tuple[tuple[str, str, tuple[str, ...]], ...],
    n_variants: int,
    fmt: dict[str, str],
    extra_tag: str | None = None,
) -> list[dict[str, Any]]:
    """Per template, ``n_variants`` small edits: emoji, fillers, reordered hashtags, homoglyphs.

    The first variant of each template is the canonical text (what the
    Telegram channel posts). Loops over templates x variants (hundreds), not posts.
    """
    out = []
    for ti, (lang, body, tags) in enumerate(messages):
        body = body.format(**fmt)
        tags = tuple(tags) + ((extra_tag,) if extra_tag else ())
        variants = []
        for v in range(n_variants):
            b, t = body, list(tags)
            if v:
                if rng.random() < 0.35:
                    letters = [i for i, ch in enumerate(b) if ch in _HOMOGLYPHS]
                    for i in rng.choice(letters, min(len(letters), int(rng.integers(1, 4))), replace=False):
                        b = b[:i] + _HOMOGLYPHS[b[i]] + b[i + 1 :]
                if rng.random() < 0.5:
                    b = f"{b} {_OP_EMOJI[rng.integers(len(_OP_EMOJI))]}"
                if rng.random() < 0.2:
                    b = f"{_OP_EMOJI[rng.integers(len(_OP_EMOJI))]} {b}"
                if rng.random() < 0.2:
                    b = f"{b} {_OP_FILLERS[rng.integers(len(_OP_FILLERS))]}"
                if rng.random() < 0.3:
                    b = b.rstrip("!.") + rng.choice(["!", "!!", ".", ""])
                rng.shuffle(t)
                if len(t) > 1 and rng.random() < 0.15:
                    t = t[:-1]
            text = b + "".join(f" #{x}" for x in t)
            variants.append({"text": text, "tags": list(t), "lang": lang, "template": ti})
        out.append(variants)
    return out


def _copypaste_accounts(
    rng: np.random.Generator, acc: _Accounts, p: ScenarioParams, off_s: int
) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """Accounts created in three batches, templated handles (name + 8 digits), tiny audiences."""
    n = p.n_copypaste_accounts
    batch_days = [p.start - dt.timedelta(days=d) for d in (143, 98, 47)]
    batch = np.sort(rng.integers(0, 3, n))
    day_in = rng.integers(0, 2, n)
    created = (
        np.array([_ts(batch_days[b]) for b in batch]) + day_in * _DAY + rng.integers(9 * 3600, 18 * 3600, n) - off_s
    )
    full = [_OP_FULLNAMES[i] for i in rng.integers(0, len(_OP_FULLNAMES), n)]
    digits = rng.integers(10_000_000, 99_999_999, n)
    shared_imgs = [f"https://pbs.twimg.com/profile_images/77{i}000/stock{i}_normal.jpg" for i in range(5)]
    img_i = rng.integers(0, 7, n)
    images = [
        shared_imgs[i] if i < 5 else "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"
        for i in img_i
    ]
    idx = acc.add(
        username=[f"{h}{d}" for (h, _), d in zip(full, digits)],
        name=[nm for _, nm in full],
        description=[_OP_BIOS[i] for i in rng.integers(0, len(_OP_BIOS), n)],
        created=created,
        followers=rng.integers(0, 15, n),
        following=rng.integers(20, 400, n),
        location=["Bakı" if x else None for x in rng.random(n) < 0.5],
        verified=np.zeros(n, bool),
        image=images,
    )
    batches = []
    for b, day in enumerate(batch_days):
        m = batch == b
        batches.append(
            {"first_day": day.isoformat(), "last_day": (day + dt.timedelta(days=1)).isoformat(), "accounts": idx[m]}
        )
    return idx, batches


def _copypaste_posts(
    rng: np.random.Generator, posts: _Posts, cp_idx: np.ndarray, p: ScenarioParams, work: list[dt.date], off_s: int
) -> dict[str, Any]:
    """Waves of near-identical posts in office hours, the 73-post run, the 1,000-post burst."""
    n = len(cp_idx)
    switch = p.election_date - dt.timedelta(days=7)
    fmt = {
        "day": str(p.election_date.day),
        "month_az": _MONTHS["az"][p.election_date.month - 1],
        "month_ru": _MONTHS["ru"][p.election_date.month - 1],
        "month_en": _MONTHS["en"][p.election_date.month - 1],
    }
    sets = {"before": _variants(rng, _SET_BEFORE, 40, fmt), "after": _variants(rng, _SET_AFTER, 40, fmt)}
    burst_vars = _variants(rng, _BURST, 40, fmt, extra_tag=p.burst_hashtag)
    h0, h1 = p.office_hours
    # the run and the burst happen on two working days before the switch
    before_days = [d for d in work if d < switch]
    run_day = before_days[len(before_days) // 3]
    burst_day = before_days[(2 * len(before_days)) // 3]
    run_account = int(rng.integers(0, n))
    run_start = _ts(run_day) - off_s + (h0 + 1) * 3600 + int(rng.integers(0, 1800))
    run_s = run_start + np.concatenate([[0], np.cumsum(rng.integers(25, 60, p.run_length - 1))])
    burst_start = _ts(burst_day) - off_s + (h0 + 2) * 3600 + int(rng.integers(0, 1800))

    s_l, who_l, text_l, tag_l, lang_l = [], [], [], [], []
    waves = []  # per wave: start, template, message set, its posts
    for day in work:  # a few waves per working day: per-day, per-wave loops (small)
        phase = "before" if day < switch else "after"
        starts = np.sort(
            _ts(day) - off_s + rng.integers(int((h0 + 1 / 3) * 3600), int((h1 - 0.5) * 3600), p.waves_per_workday)
        )
        for w0 in starts:
            ti = int(rng.integers(0, len(sets[phase])))
            k = int(rng.integers(int(0.3 * n), int(0.6 * n) + 1))
            members = rng.choice(n, k, replace=False)
            t = w0 + np.minimum(rng.exponential(90, k), 600).astype(np.int64)
            keep = ~((members == run_account) & (t > run_start - 7200) & (t < run_s[-1] + 7200))
            members, t = members[keep], t[keep]
            vi = rng.integers(0, 40, len(members))
            var = [sets[phase][ti][v] for v in vi]
            waves.append(
                {
                    "start": int(w0),
                    "template": ti,
                    "set": phase,
                    "n": len(members),
                    "canonical": sets[phase][ti][0]["text"],
                }
            )
            s_l.append(t)
            who_l.append(members)
            text_l += [v["text"] for v in var]
            tag_l += [v["tags"] for v in var]
            lang_l += [v["lang"] for v in var]
    s = np.concatenate(s_l)
    who = np.concatenate(who_l)
    wave_posts = posts.add(
        "copypaste", s, cp_idx[who], pa.array(text_l, pa.string()), pa.array(lang_l, pa.string()), _list_of(tag_l)
    )
    bounds = np.concatenate([[0], np.cumsum([w["n"] for w in waves])])
    for w, a, b in zip(waves, bounds[:-1], bounds[1:]):
        w["posts"], w["times"] = wave_posts[a:b], s[a:b]
    # the run: one account, the same text, 73 times in a row
    run_posts = posts.add(
        "run",
        run_s,
        np.full(p.run_length, cp_idx[run_account]),
        pa.array([_RUN_TEXT] * p.run_length),
        pa.array(["az"] * p.run_length),
        _list_of([["YaşılKörpü"]] * p.run_length),
    )
    # the burst: burst_posts on one hashtag inside burst_minutes
    b_who = rng.permutation(np.arange(p.burst_posts) % n)
    b_s = burst_start + np.sort(rng.integers(0, p.burst_minutes * 60, p.burst_posts))
    bt, bv = rng.integers(0, len(burst_vars), p.burst_posts), rng.integers(0, 40, p.burst_posts)
    bvar = [burst_vars[a][b] for a, b in zip(bt, bv)]
    burst_posts = posts.add(
        "burst",
        b_s,
        cp_idx[b_who],
        pa.array([v["text"] for v in bvar], pa.string()),
        pa.array([v["lang"] for v in bvar]),
        _list_of([v["tags"] for v in bvar]),
    )
    return {
        "waves": waves,
        "switch": switch,
        "run": {"account": cp_idx[run_account], "posts": run_posts, "start": int(run_s[0]), "end": int(run_s[-1])},
        "burst": {
            "posts": burst_posts,
            "start": burst_start,
            "end": burst_start + p.burst_minutes * 60,
            "canonical": [v[0]["text"] for v in burst_vars],
        },
        "hashtags_before": sorted({t for _, _, tags in _SET_BEFORE for t in tags}),
        "hashtags_after": sorted({t for _, _, tags in _SET_AFTER for t in tags}),
    }


# --------------------------------------------------------------------------
# b) Fast co-repost amplifier
# --------------------------------------------------------------------------


def _amplifier_accounts(rng: np.random.Generator, acc: _Accounts, n: int, start: int) -> np.ndarray:
    """Throwaway-looking accounts: generic handles, default pictures, few followers, no bio."""
    names = LANGS["en"].names + LANGS["tr"].names + LANGS["az"].names
    return acc.add(
        username=_amp_handles(rng, n),
        name=[names[i][1] for i in rng.integers(0, len(names), n)],
        description=[""] * n,
        created=start - rng.integers(20, 500, n) * _DAY - rng.integers(0, _DAY, n),
        followers=rng.integers(0, 40, n),
        following=rng.integers(100, 1200, n),
        location=[None] * n,
        verified=np.zeros(n, bool),
        image=["https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png"] * n,
    )


def _amp_handles(rng: np.random.Generator, n: int) -> list[str]:
    """word + word + 4 digits; the digits are a bijection of the index, so unique below 9,000 accounts."""
    w1, w2 = rng.integers(0, len(_AMP_WORDS), n), rng.integers(0, len(_AMP_WORDS), n)
    shift = int(rng.integers(0, 9000))
    return [f"{_AMP_WORDS[a]}{_AMP_WORDS[b]}{1000 + (i * 7919 + shift) % 9000}" for i, (a, b) in enumerate(zip(w1, w2))]


def _amplifier(
    rng: np.random.Generator,
    posts: _Posts,
    amp_idx: np.ndarray,
    p: ScenarioParams,
    cpt: dict[str, Any],
    imp_posts: np.ndarray,
    imp_s: np.ndarray,
    end: int,
) -> dict[str, Any]:
    """Each target post reposted by most of the network, all within a few seconds."""
    n = len(amp_idx)
    n_cp = int(round(p.n_amplified_posts * 0.7))
    waves = cpt["waves"]
    wi = np.sort(rng.choice(len(waves), min(n_cp, len(waves)), replace=False))
    # the wave's earliest post, the one the others appear to copy
    targets = [int(waves[i]["posts"][np.argmin(waves[i]["times"])]) for i in wi]
    t_s = [int(waves[i]["times"].min()) for i in wi]
    ii = np.sort(rng.choice(len(imp_posts), p.n_amplified_posts - len(targets), replace=False))
    targets += imp_posts[ii].tolist()
    t_s += imp_s[ii].tolist()
    s_l, who_l, par_l = [], [], []
    for tgt, ts in zip(targets, t_s):  # per target (tens)
        k = int(rng.integers(int(0.6 * n), n + 1))
        members = rng.choice(n, k, replace=False)
        first = ts + int(rng.integers(20, 300))
        offs = rng.integers(0, p.amplifier_spread_seconds + 1, k)
        offs[0] = 0
        s_l.append(np.minimum(first + offs, end - 1))
        who_l.append(members)
        par_l.append(np.full(k, tgt))
    s = np.concatenate(s_l)
    reps = posts.add(
        "amplifier",
        s,
        amp_idx[np.concatenate(who_l)],
        None,
        pa.nulls(len(s), pa.string()),
        parent=np.concatenate(par_l),
        kind="repost",
        client=pa.array(["Twitter Web App"] * len(s)),
    )
    return {"targets": np.array(targets), "posts": reps}


# --------------------------------------------------------------------------
# c) Impersonators
# --------------------------------------------------------------------------


def _impersonators(
    rng: np.random.Generator, acc: _Accounts, posts: _Posts, p: ScenarioParams, start: int, off_s: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Look-alikes of watchlist entities posting "news" with links to look-alike domains, in the operators' day."""
    n = len(_IMPERSONATORS)
    idx = acc.add(
        username=[x[0] for x in _IMPERSONATORS],
        name=[x[1] for x in _IMPERSONATORS],
        description=[_GENUINE[x[2]][4] for x in _IMPERSONATORS],
        created=start - rng.integers(15, 70, n) * _DAY - rng.integers(0, _DAY, n),
        followers=rng.integers(5, 300, n),
        following=rng.integers(100, 2000, n),
        location=[None] * n,
        verified=np.zeros(n, bool),
        image=[f"https://pbs.twimg.com/profile_images/{2000 + i}/logo_normal.jpg" for i in range(n)],
    )
    k = n * p.posts_per_impersonator
    who = np.repeat(np.arange(n), p.posts_per_impersonator)
    lang = np.array([_GENUINE[x[2]][2] for x in _IMPERSONATORS])[who]
    s = start + rng.integers(0, p.days, k) * _DAY + rng.integers(8, 22, k) * 3600 - off_s + rng.integers(0, 3600, k)
    body = _join(pa.array([_NEWS_PREFIX[x] for x in lang.tolist()]), " ", _texts_by_lang(rng, lang, 7, 14))
    own_domain = np.arange(n) % len(_FAKE_DOMAINS)  # each mostly pushes one domain
    dom = np.where(rng.random(k) < 0.75, own_domain[who], rng.integers(0, len(_FAKE_DOMAINS), k))
    url = _join(
        "https://",
        pa.array(list(_FAKE_DOMAINS)).take(pa.array(dom)),
        "/",
        _pick(rng, ("news", "politics", "exclusive", "video"), k),
        "/",
        pa.array(rng.integers(10_000, 999_999, k).astype(str)),
    )
    urls, url_text = _url_lists(rng, url, np.ones(k, bool))
    made = posts.add("impersonator", s, idx[who], _join(body, url_text), pa.array(lang, pa.string()), urls=urls)
    return idx, made, s
