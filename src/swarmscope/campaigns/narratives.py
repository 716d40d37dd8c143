"""Narrative evidence: what the campaign pushes (hashtags, domains) and when it switched.

- ``hashtags``: the members' top hashtags, with their share of all uses in the case;
- ``domains``: the web domains they link to most;
- ``narratives``: top hashtags per week, and the week the whole cluster
  switched to new hashtags (a narrative shift), if any.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..duck import registered
from ..findings import SignalLog
from .params import CampaignParams
from .view import CaseView, Evidence, Members

TOP_HASHTAGS, TOP_DOMAINS, WEEK_KEYWORDS = 20, 10, 8


def hashtag_totals(view: CaseView) -> dict[str, int]:
    """All uses of each hashtag in the case (lower case), for a campaign's share of them."""
    with registered(view.con, _posts_all=view.posts.select(["platform", "post_id", "account_id", "hashtags"])) as con:
        return dict(
            con.sql(
                "SELECT lower(h), count(*) FROM (SELECT unnest(hashtags) AS h FROM _posts_all) GROUP BY 1"
            ).fetchall()
        )


def hashtags(members: Members, totals: dict[str, int]) -> list[dict]:
    mposts = members.posts
    tags = pc.list_flatten(mposts["hashtags"]) if mposts.num_rows else pa.array([], pa.string())
    counts = pc.value_counts(pc.utf8_lower(tags)).to_pylist() if len(tags) else []
    counts.sort(key=lambda x: -x["counts"])
    return [
        {
            "tag": c["values"],
            "posts": c["counts"],
            "share_of_all_uses": round(c["counts"] / max(totals.get(c["values"], c["counts"]), 1), 4),
        }
        for c in counts[:TOP_HASHTAGS]
    ]


def domains(view: CaseView, members: Members) -> list[dict]:
    with registered(view.con, _m=members.table()) as con:
        rows = con.sql(f"""SELECT object_id, count(*) FROM actions JOIN _m USING (platform, account_id)
                           WHERE object_type = 'domain' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT {TOP_DOMAINS}""").fetchall()
    return [{"domain": d, "posts": int(n)} for d, n in rows]


def js_distance(a: dict[str, int], b: dict[str, int]) -> float:
    """Jensen-Shannon distance (base 2, in 0..1) between two count distributions."""
    keys = sorted(set(a) | set(b))
    p = np.array([a.get(k, 0) for k in keys], float)
    q = np.array([b.get(k, 0) for k in keys], float)
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: np.ndarray, y: np.ndarray) -> float:
        nz = x > 0  # where x > 0, y = m > 0 too
        return float(np.sum(x[nz] * np.log2(x[nz] / y[nz])))

    return float(np.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2)))


def narratives(
    view: CaseView, members: Members, log: SignalLog, params: CampaignParams, campaign: str
) -> tuple[list[dict], Evidence]:
    """Top hashtags per week, and the week where most members switch to a new set at once."""
    ev = Evidence()
    mposts = members.posts
    if not mposts.num_rows:
        return [], ev
    with registered(view.con, _mp=mposts.select(["post_id", "account_id", "created_at", "hashtags"])) as con:
        rows = con.sql(
            """SELECT date_trunc('week', created_at)::DATE AS week, lower(h) AS tag, count(*) AS n,
                      count(DISTINCT account_id) AS accounts
               FROM (SELECT *, unnest(hashtags) AS h FROM _mp) GROUP BY ALL ORDER BY week, n DESC, tag"""
        ).fetchall()
        active = dict(
            con.sql(
                "SELECT date_trunc('week', created_at)::DATE, count(DISTINCT account_id) FROM _mp GROUP BY 1"
            ).fetchall()
        )
    weeks: dict[dt.date, dict[str, int]] = {}
    for week, tag, n, _ in rows:
        weeks.setdefault(week, {})[tag] = n
    found = [
        {
            "period": w.isoformat(),
            "keywords": [t for t, _ in sorted(d.items(), key=lambda x: -x[1])[:WEEK_KEYWORDS]],
            "posts": sum(d.values()),
            "accounts": active.get(w, 0),
        }
        for w, d in sorted(weeks.items())
    ]
    ordered = sorted(weeks)
    best = None
    for i in range(1, len(ordered)):
        before: dict[str, int] = {}
        for w in ordered[:i]:
            for t, n in weeks[w].items():
                before[t] = before.get(t, 0) + n
        after = weeks[ordered[i]]
        d = js_distance(before, after)
        new_tags = [t for t in after if t not in before]
        new_share = sum(after[t] for t in new_tags) / max(sum(after.values()), 1)
        week_accounts = active.get(ordered[i], 0)
        if (
            d >= params.shift_min_distance
            and new_share >= params.shift_min_new_share
            and sum(after.values()) >= params.shift_min_uses
            and week_accounts >= params.shift_min_accounts
            and (best is None or d > best[1])
        ):
            best = (ordered[i], d, new_share, new_tags)
    if best is not None:
        week, d, new_share, new_tags = best
        sid = log.add(
            "narrative_shift",
            f"the campaign switched to new hashtags in the week of {week}",
            {
                "week": week.isoformat(),
                "js_distance": round(d, 4),
                "new_share": round(new_share, 4),
                "new_hashtags": sorted(new_tags)[:20],
            },
            f"Jensen-Shannon distance between the week's hashtag distribution and all earlier "
            f"weeks >= {params.shift_min_distance:g}, with >= {params.shift_min_new_share * 100:g} % of the "
            f"week's hashtag uses new, >= {params.shift_min_uses} uses "
            f"and >= {params.shift_min_accounts} active accounts that week",
            [],
            [],
            campaign=campaign,
        )
        ev.cite(
            sid,
            f"In the week of {week} the whole cluster switched to new hashtags "
            f"({new_share:.0%} of that week's uses were new: {', '.join(sorted(new_tags)[:5])}).",
        )
    return found, ev
