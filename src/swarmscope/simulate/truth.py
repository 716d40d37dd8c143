"""Ground truth: the truth.json dict, with the ids the importers give what was planted.

``_truth`` gathers from the generated accounts, posts and the TikTok and
YouTube tables which accounts and posts belong to the organic crowd, the fan
crowd, the viral TikTok sound and each planted operation, per platform, with
the figures a detector must recover: the operators' UTC offset and holiday
country, creation batches, narrative switch, run, burst, Telegram channel,
amplifier targets and impersonated entities. docs/simulate.md describes it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from typing import Any

import numpy as np

from .crossplatform import _TT_TREND_TAG
from .params import _DAY, ScenarioParams
from .words import _FAKE_DOMAINS, _GENUINE, _IMPERSONATORS, _RUN_TEXT
from .world import _ROLES, _Accounts, _iso, _Posts, _ts


def _truth(
    p: ScenarioParams,
    posts: _Posts,
    acc: _Accounts,
    ids: np.ndarray,
    user_ids: np.ndarray,
    genuine_idx: np.ndarray,
    fan: dict[str, Any],
    cpt: dict[str, Any],
    batches: list[dict[str, Any]],
    work: list[dt.date],
    holidays_off: list[dt.date],
    weekend_work: list[dt.date],
    amp: dict[str, Any],
    imp_idx: np.ndarray,
    imp_posts: np.ndarray,
    tg: dict[str, Any] | None,
    tt: dict[str, Any] | None,
    yt: dict[str, Any] | None,
    files: dict[str, Any],
) -> dict:
    uid = user_ids.astype(str)
    pid = ids.astype(str)
    role = posts.col("role")
    author = posts.col("author")
    usernames = acc.column("username").to_pylist()

    def accounts_of(roles: tuple[str, ...]) -> list[str]:
        """Accounts that authored posts in these roles (an account that never posts is not in the data)."""
        mask = np.isin(role, [_ROLES.index(r) for r in roles])
        return sorted(uid[np.unique(author[mask])].tolist())

    cp_roles = np.isin(role, [_ROLES.index(r) for r in ("copypaste", "run", "burst")])
    cp_accounts = accounts_of(("copypaste", "run", "burst"))
    # the other platforms, with the ids their importers store: TikTok lower-cased handle, YouTube channel id
    by_platform = {"x": cp_accounts}
    posts_by_platform = {"x": sorted(pid[cp_roles].tolist())}
    organic_by_platform = {"x": accounts_of(("organic", "genuine", "fan"))}
    extra_traits: dict[str, Any] = {}
    viral = None
    if tt is not None:
        t = tt["table"]
        r = t["role"].to_numpy()
        user = np.array([u.lower() for u in t["username"].to_pylist()], dtype=object)
        vid = t["id"].to_numpy().astype(str)
        by_platform["tiktok"] = sorted(set(user[r == 2].tolist()))
        posts_by_platform["tiktok"] = sorted(vid[r == 2].tolist())
        organic_by_platform["tiktok"] = sorted(set(user[r < 2].tolist()))
        op_sound = np.isin(t["music_id"].to_numpy(), tt["op_sounds"]) & (r == 2)
        extra_traits["tiktok"] = {
            "sound_ids": [str(x) for x in tt["op_sounds"]],
            "sound_ids_by_set": ["before", "after"],
            "videos": int((r == 2).sum()),
            "videos_with_operation_sound": int(op_sound.sum()),
            "region_code": "AZ",
            "handle_pattern": r"^[a-z]+\.\d{6}$",
        }
        vs = t["s"].to_numpy()[r == 1]
        viral = {
            "platform": "tiktok",
            "kind": "organic_crowd",
            "music_id": str(tt["viral_sound"]),
            "hashtag": _TT_TREND_TAG,
            "window_start": _iso(vs.min()),
            "window_end": _iso(vs.max() + 1),
            "account_ids": sorted(set(user[r == 1].tolist())),
            "post_ids": sorted(vid[r == 1].tolist()),
        }
    if yt is not None:
        t = yt["table"]
        r = t["role"].to_numpy()
        chan = np.array(t["chan"].to_pylist(), dtype=object)
        cid = np.array(t["cid"].to_pylist(), dtype=object)
        by_platform["youtube"] = sorted(set(chan[r == 2].tolist()))
        posts_by_platform["youtube"] = sorted(cid[r == 2].tolist())
        organic_by_platform["youtube"] = sorted(set(chan[r != 2].tolist()))
        used = sorted(set(t["vorder"].to_numpy()[r == 2].tolist()))
        extra_traits["youtube"] = {
            "comments": int((r == 2).sum()),
            "waves": len(yt["waves"]),
            "video_ids": [yt["video_ids"][i] for i in used],
            "handle_pattern": r"^[a-z]+\d{8}$",
        }
    all_accounts = sorted(a for ids in by_platform.values() for a in ids)
    all_posts = sorted(x for ids in posts_by_platform.values() for x in ids)
    run = cpt["run"]
    burst = cpt["burst"]
    params = asdict(p)
    params = {
        k: (v.isoformat() if isinstance(v, dt.date) else list(v) if isinstance(v, tuple) else v)
        for k, v in params.items()
    }
    return {
        "generator": "swarmscope.simulate",
        "params": params,
        "files": files,
        "window": {"start": _iso(_ts(p.start)), "end": _iso(_ts(p.start) + p.days * _DAY)},
        "counts": {
            "x_posts": int(posts.n),
            "x_accounts": int(acc.n),
            "by_role": {r: int((role == i).sum()) for i, r in enumerate(_ROLES)},
            **(
                {}
                if tt is None
                else {
                    "tiktok_videos": tt["table"].num_rows,
                    "tiktok_accounts": len(set(by_platform["tiktok"]) | set(organic_by_platform["tiktok"])),
                }
            ),
            **(
                {}
                if yt is None
                else {
                    "youtube_comments": yt["table"].num_rows,
                    "youtube_accounts": len(set(by_platform["youtube"]) | set(organic_by_platform["youtube"])),
                }
            ),
        },
        "organic": {
            "platform": "x",
            "platforms": sorted(organic_by_platform),
            "account_ids": sorted(a for ids in organic_by_platform.values() for a in ids),
            "accounts_per_platform": {k: len(v) for k, v in organic_by_platform.items()},
            "genuine_entities": [
                {"account_id": uid[i], "handle": usernames[i], "name": _GENUINE[j][1], "domain": _GENUINE[j][3]}
                for j, i in enumerate(genuine_idx)
            ],
        },
        "fan_crowd": {
            "platform": "x",
            "kind": "organic_crowd",
            "hashtag": p.fan_hashtag,
            "window_start": _iso(fan["start"]),
            "window_end": _iso(fan["end"]),
            "account_ids": sorted(set(uid[fan["accounts"]].tolist())),
            "post_ids": sorted(pid[fan["posts"]].tolist()),
        },
        "tiktok_viral_sound": viral,
        "operations": [
            {
                "name": "copy-paste network",
                "type": "copy_paste",
                "platform": "x",
                "platforms": sorted(by_platform),
                "account_ids": all_accounts,
                "accounts_per_platform": {k: len(v) for k, v in by_platform.items()},
                "account_ids_by_platform": by_platform,
                "post_ids": all_posts,
                "posts_per_platform": {k: len(v) for k, v in posts_by_platform.items()},
                "post_ids_by_platform": posts_by_platform,
                "traits": {
                    "near_duplicate_texts": True,
                    "utc_offset_hours": p.operator_utc_offset,
                    "office_hours_local": list(p.office_hours),
                    "weekdays_only": True,
                    "holiday_country": p.holiday_country,
                    "holidays_off": [d.isoformat() for d in holidays_off],
                    "working_weekend_days": [d.isoformat() for d in weekend_work],
                    "working_days": len(work),
                    "creation_batches": [
                        {
                            "first_day": b["first_day"],
                            "last_day": b["last_day"],
                            "account_ids": sorted(uid[b["accounts"]].tolist()),
                        }
                        for b in batches
                    ],
                    "handle_pattern": r"^[a-z]+\d{8}$",
                    "narrative_switch": {
                        "date": cpt["switch"].isoformat(),
                        "election_date": p.election_date.isoformat(),
                        "hashtags_before": cpt["hashtags_before"],
                        "hashtags_after": cpt["hashtags_after"],
                    },
                    "run": {
                        "account_id": uid[run["account"]],
                        "handle": usernames[run["account"]],
                        "count": p.run_length,
                        "text": _RUN_TEXT,
                        "start": _iso(run["start"]),
                        "end": _iso(run["end"]),
                        "post_ids": pid[run["posts"]].tolist(),
                    },
                    "burst": {
                        "hashtag": p.burst_hashtag,
                        "count": p.burst_posts,
                        "window_start": _iso(burst["start"]),
                        "window_end": _iso(burst["end"]),
                        "post_ids": sorted(pid[burst["posts"]].tolist()),
                    },
                    "waves": len(cpt["waves"]),
                    **extra_traits,
                    "telegram_channel": None
                    if tg is None
                    else {
                        "platform": "telegram",
                        "channel_id": tg["channel_id"],
                        "account_id": tg["account_id"],
                        "from_id": tg["from_id"],
                        "name": tg["name"],
                        "messages": tg["messages"],
                    },
                },
            },
            {
                "name": "co-repost amplifier",
                "type": "fast_corepost",
                "platform": "x",
                "platforms": ["x"],
                "account_ids": accounts_of(("amplifier",)),
                "accounts_per_platform": {"x": len(accounts_of(("amplifier",)))},
                "post_ids": sorted(pid[amp["posts"]].tolist()),
                "traits": {
                    "target_post_ids": sorted(pid[amp["targets"]].tolist()),
                    "max_spread_seconds": p.amplifier_spread_seconds,
                    "reposts": int(len(amp["posts"])),
                },
            },
            {
                "name": "impersonators",
                "type": "impersonation",
                "platform": "x",
                "platforms": ["x"],
                "account_ids": sorted(uid[imp_idx].tolist()),
                "accounts_per_platform": {"x": len(imp_idx)},
                "post_ids": sorted(pid[imp_posts].tolist()),
                "traits": {
                    "domains": list(_FAKE_DOMAINS),
                    "impersonations": [
                        {
                            "account_id": uid[imp_idx[i]],
                            "handle": h,
                            "name": nm,
                            "trick": trick,
                            "imitates": {
                                "account_id": uid[genuine_idx[j]],
                                "handle": _GENUINE[j][0],
                                "name": _GENUINE[j][1],
                            },
                        }
                        for i, (h, nm, j, trick) in enumerate(_IMPERSONATORS)
                    ],
                },
            },
        ],
    }
