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
from scipy.stats import chi2

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
    shift = change_point(weeks, active, params)
    if shift is not None:
        sid = log.add(
            "narrative_shift",
            f"the campaign switched hashtags in the week of {shift['week']}",
            shift,
            "change point: for each week that could start a new period, a G-test of homogeneity of the hashtag "
            "counts before it against those from it on (binary segmentation; Bonferroni over the "
            f"{shift['weeks_tested']} splits tested, family-wise p < "
            f"{params.shift_alpha:g}), with Jensen-Shannon distance >= {params.shift_min_distance:g}, "
            f">= {params.shift_min_new_share * 100:g} % of the later uses on hashtags whose share at least "
            f"doubled, >= {params.shift_min_uses} uses and >= {params.shift_min_accounts} active accounts in the "
            "first week; of such splits, the one with the largest G",
            [],
            [],
            campaign=campaign,
        )
        came = ", ".join(shift["came"][:5])
        ev.cite(
            sid,
            f"From the week of {shift['week']} the whole cluster switched hashtags ({shift['rising_share']:.0%} of "
            f"its uses from then on are on hashtags that rose: {came}; family-wise p = {shift['p_family']:.2g}).",
        )
    return found, ev


def change_point(
    weeks: dict[dt.date, dict[str, int]], active: dict[dt.date, int], params: CampaignParams
) -> dict | None:
    """The week where the campaign's hashtags changed, if the change is real and large: a binary split.

    For each week that could start a new period (enough uses and active
    accounts that week), the hashtag counts of all earlier weeks are compared
    with those of that week and all later ones by a G-test of homogeneity;
    Bonferroni over the splits tested gives the family-wise p. A split is a
    shift when that p is below ``shift_alpha``, the Jensen-Shannon distance
    between the two periods is at least ``shift_min_distance`` (0.45: about
    the smallest takeover, a hashtag going from 5 % to half of the uses), and
    most of the later period's uses are on hashtags whose share at least
    doubled (new ones included). The split with the largest G is the change
    point (a likelihood-ratio binary segmentation). Returns the week, the
    statistic, both p-values, and the hashtags that came and went (largest
    changes in share first).
    """
    ordered = sorted(weeks)
    splits = [
        i
        for i in range(1, len(ordered))
        if sum(weeks[ordered[i]].values()) >= params.shift_min_uses
        and active.get(ordered[i], 0) >= params.shift_min_accounts
    ]
    best = None
    for i in splits:
        prior, after = _pooled(weeks, ordered[:i]), _pooled(weeks, ordered[i:])
        g, df = _g_test(prior, after)
        p = float(chi2.sf(g, df)) if df > 0 else 1.0
        p_family = min(1.0, p * len(splits))
        d = js_distance(prior, after)
        n_prior, n_after = sum(prior.values()), sum(after.values())
        change = {t: after.get(t, 0) / n_after - prior.get(t, 0) / n_prior for t in set(prior) | set(after)}
        rising = [t for t in after if after[t] / n_after >= 2 * prior.get(t, 0) / n_prior]
        rising_share = sum(after[t] for t in rising) / n_after
        if (
            p_family < params.shift_alpha
            and d >= params.shift_min_distance
            and rising_share >= params.shift_min_new_share
            and (best is None or g > best["g_statistic"])
        ):
            best = {
                "week": ordered[i].isoformat(),
                "weeks_after": len(ordered) - i,
                "g_statistic": round(g, 2),
                "df": df,
                "p_value": p,
                "p_family": p_family,
                "weeks_tested": len(splits),
                "js_distance": round(d, 4),
                "rising_share": round(rising_share, 4),
                "new_share": round(sum(n for t, n in after.items() if t not in prior) / n_after, 4),
                "new_hashtags": sorted(t for t in after if t not in prior)[:20],
                "came": [t for t, c in sorted(change.items(), key=lambda x: (-x[1], x[0])) if c > 0][:10],
                "went": [t for t, c in sorted(change.items(), key=lambda x: (x[1], x[0])) if c < 0][:10],
            }
    return best


def _pooled(weeks: dict[dt.date, dict[str, int]], keys: list[dt.date]) -> dict[str, int]:
    out: dict[str, int] = {}
    for w in keys:
        for t, n in weeks[w].items():
            out[t] = out.get(t, 0) + n
    return out


def _g_test(prior: dict[str, int], after: dict[str, int]) -> tuple[float, int]:
    """G statistic and degrees of freedom of the 2 x k table (earlier weeks, the week) over the hashtags."""
    tags = sorted(set(prior) | set(after))
    obs = np.array([[prior.get(t, 0) for t in tags], [after.get(t, 0) for t in tags]], float)
    expected = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
    nz = obs > 0
    return float(2.0 * np.sum(obs[nz] * np.log(obs[nz] / expected[nz]))), len(tags) - 1
