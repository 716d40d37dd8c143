"""Reach and scale: how big the campaign is and how far it got.

- ``scale``: accounts and posts, per platform and per language;
- ``personas``: accounts on different platforms under one name are one
  profile ("270 profiles using nearly 600 accounts");
- ``timeline``: posts per day;
- ``reach``: reactions from inside, from other campaigns and from everyone
  else, engagement, and the Breakout Scale (Nimmo 2020) as far as the data
  shows it.
"""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from ..duck import registered
from .coordination import components
from .params import CampaignParams
from .view import Account, CaseView, Members


def scale(members: Members) -> dict:
    per_platform: dict[str, int] = {}
    for p, _ in members.accounts:
        per_platform[p] = per_platform.get(p, 0) + 1
    mposts = members.posts
    langs = pc.value_counts(pc.fill_null(mposts["lang"], "unknown")).to_pylist() if mposts.num_rows else []
    return {
        "accounts": len(members.accounts),
        "posts": mposts.num_rows,
        "profiles": len(members.accounts),
        "per_platform": per_platform,
        "per_language": {x["values"]: x["counts"] for x in sorted(langs, key=lambda x: -x["counts"])},
    }


def personas(view: CaseView, members: Members) -> tuple[int, dict[Account, str]]:
    """Accounts on different platforms with the same handle or display name are one profile (persona)."""
    seen: dict[tuple[str, str], Account] = {}
    same = []
    for m in members.accounts:
        a = view.by_account.get(m, {})
        for kind in ("handle", "display_name"):
            key = "".join(ch for ch in (a.get(kind) or "").casefold() if ch.isalnum())
            if len(key) < 4:
                continue
            other = seen.setdefault((kind, key), m)
            if other != m and other[0] != m[0]:  # across platforms only
                same.append((m, other))
    roots = components(members.accounts, same)
    names = {r: f"P{i + 1}" for i, r in enumerate(sorted(set(roots.values())))}
    return len(names), {m: names[r] for m, r in roots.items()}


def timeline(members: Members) -> list[dict]:
    """Posts per day (UTC), every day of the campaign's posts."""
    mposts = members.posts
    if not mposts.num_rows:
        return []
    days = pc.value_counts(pc.strftime(mposts["created_at"], "%Y-%m-%d")).to_pylist()
    return [{"day": d["values"], "posts": d["counts"]} for d in sorted(days, key=lambda d: d["values"])]


def reach(
    view: CaseView, member_set: set[Account], post_keys: pa.Table, other_campaigns: set[Account], params: CampaignParams
) -> dict:
    """Reactions to the campaign's posts (``post_keys``: platform, post_id) from inside it, other campaigns and
    everyone else; the Breakout Scale as far as the data shows it. Other campaigns' reactions are not breakout."""
    members = pa.table({"platform": [m[0] for m in member_set], "account_id": [m[1] for m in member_set]})
    with registered(view.con, _cp=post_keys, _m3=members) as con:
        rows = con.sql(
            """SELECT r.platform, r.account_id, (m.account_id IS NOT NULL) AS inside, r.lang,
                      coalesce(a.verified, FALSE) AS verified, coalesce(a.followers, 0) AS followers
               FROM posts r JOIN _cp c ON r.platform = c.platform AND r.parent_post_id = c.post_id
               LEFT JOIN _m3 m ON m.platform = r.platform AND m.account_id = r.account_id
               LEFT JOIN accounts a ON a.platform = r.platform AND a.account_id = r.account_id
               WHERE r.kind IN ('repost', 'quote', 'reply', 'forward', 'comment')"""
        ).fetchall()
        eng = con.sql("""SELECT sum(coalesce(like_count, 0)), sum(coalesce(repost_count, 0)),
                                sum(coalesce(reply_count, 0)), sum(coalesce(view_count, 0))
                         FROM posts JOIN _cp USING (platform, post_id)""").fetchall()[0]
    other = [r for r in rows if not r[2] and (r[0], r[1]) in other_campaigns]
    outside = [r for r in rows if not r[2] and (r[0], r[1]) not in other_campaigns]
    platforms = {p for p, _ in member_set} | {r[0] for r in outside}
    langs: dict[str, int] = {}
    for r in outside:
        langs[r[3] or "unknown"] = langs.get(r[3] or "unknown", 0) + 1
    communities = [
        k
        for k, v in langs.items()
        if v >= max(params.community_min_reactions, params.community_min_share * len(outside))
    ]
    notable = sorted({(r[0], r[1]) for r in outside if r[4] or r[5] >= params.notable_followers})
    many_p, many_c = len(platforms) > 1, len(communities) > 1
    category = 3 if (many_p and many_c) else 2 if (many_p or many_c) else 1
    basis = (
        f"{len(platforms)} platform(s); {len(communities)} outside language communit"
        f"{'y' if len(communities) == 1 else 'ies'} with >= {params.community_min_share * 100:g} % "
        f"of outside reactions"
    )
    if notable:
        category, basis = (
            5,
            basis
            + (f"; amplified by {len(notable)} verified or {params.notable_followers // 1000:g}k+ follower account(s)"),
        )
    return {
        "inside_reactions": len(rows) - len(outside) - len(other),
        "outside_reactions": len(outside),
        "other_campaign_reactions": len(other),
        "outside_share": round(len(outside) / len(rows), 4) if rows else 0.0,
        "outside_accounts": len({(r[0], r[1]) for r in outside}),
        "engagement": {
            "likes": int(eng[0] or 0),
            "reposts": int(eng[1] or 0),
            "replies": int(eng[2] or 0),
            "views": int(eng[3] or 0),
        },
        "breakout": {
            "category": category,
            "basis": basis,
            "high_profile_amplifiers": [list(x) for x in notable[:50]],
            "not_established": "category 4 (mainstream media pickup) and 6 (policy response or "
            "call for violence) need sources outside social-media data; "
            "communities are approximated by the language of outside reactions",
        },
    }


def reach_sentence(r: dict) -> dict:
    """The explanation's last sentence: who reacted to the campaign, and its breakout category."""
    parts = []
    if r["outside_reactions"]:
        parts.append(
            f"accounts outside any campaign reposted, quoted or replied to its posts "
            f"{r['outside_reactions']:,} times ({r['outside_share']:.0%} of all reactions)"
        )
    else:
        parts.append("no account outside the campaigns reacted to its posts")
    if r["other_campaign_reactions"]:
        parts.append(
            f"{r['other_campaign_reactions']:,} reposts, quotes or replies came from other campaigns' accounts"
        )
    text = "; ".join(parts)
    return {
        "text": text[0].upper() + text[1:] + f". Breakout category {r['breakout']['category']} "
        f"({r['breakout']['basis']}).",
        "evidence": [],
    }
