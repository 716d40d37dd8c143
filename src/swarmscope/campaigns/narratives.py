"""Narrative evidence: what the campaign pushes (hashtags, words, domains) and when it switched.

- ``hashtags``: the members' top hashtags, with their share of all uses in the case;
- ``domains``: the web domains they link to most;
- ``narratives``: top hashtags and content words per week, and the week the
  whole cluster switched to new hashtags or new words (a narrative shift),
  if any.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy.stats import chi2

from ..duck import registered
from ..enrich.terms import content_terms_sql, stopwords_table
from ..findings import SignalLog
from .params import CampaignParams
from .view import CaseView, Evidence, Members

TOP_HASHTAGS, TOP_DOMAINS, WEEK_KEYWORDS = 20, 10, 8
# The change point on words compares the campaign's most used content words: the rest are rare
# words whose counts add degrees of freedom, not evidence.
TOP_TERMS = 300


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
    return _js(p, q)


def _js(p: np.ndarray, q: np.ndarray) -> float:
    """``js_distance`` of two count vectors over the same terms."""
    if p.sum() == 0 or q.sum() == 0:
        return 0.0
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2

    def kl(x: np.ndarray, y: np.ndarray) -> float:
        nz = x > 0  # where x > 0, y = m > 0 too
        return float(np.sum(x[nz] * np.log2(x[nz] / y[nz])))

    return float(np.sqrt(max(0.0, (kl(p, m) + kl(q, m)) / 2)))


def weekly_terms(view: CaseView, mposts: pa.Table) -> dict[dt.date, dict[str, int]]:
    """Content words per week of the members' posts (stop words of each post's language removed, of the
    campaign's commonest language where a post's language was not decided); only the ``TOP_TERMS`` most
    used words of the campaign, so the test compares what it talks about."""
    cols = ["created_at", "text"] + (["lang"] if "lang" in mposts.column_names else [])
    mp = mposts.select(cols)
    if "lang" not in cols:
        mp = mp.append_column("lang", pa.nulls(mp.num_rows, pa.string()))
    with registered(view.con, _mt=mp, _stop=stopwords_table()) as con:
        rows = con.sql(
            f"""WITH main AS (SELECT mode(lang) AS lang FROM _mt),
                    toks AS (SELECT date_trunc('week', created_at)::DATE AS week,
                                    coalesce(_mt.lang, main.lang) AS lang,
                                    unnest({content_terms_sql("text")}) AS term FROM _mt, main),
                    kept AS (SELECT week, term FROM toks ANTI JOIN _stop ON toks.lang = _stop.lang
                                                                     AND toks.term = _stop.term),
                    top AS (SELECT term FROM kept GROUP BY term ORDER BY count(*) DESC, term LIMIT {TOP_TERMS})
               SELECT week, term, count(*) FROM kept SEMI JOIN top USING (term) GROUP BY ALL ORDER BY ALL"""
        ).fetchall()
    weeks: dict[dt.date, dict[str, int]] = {}
    for week, term, n in rows:
        weeks.setdefault(week, {})[term] = int(n)
    return weeks


def narratives(
    view: CaseView, members: Members, log: SignalLog, params: CampaignParams, campaign: str
) -> tuple[list[dict], Evidence]:
    """Top hashtags and words per week, and the week where most members switch to a new set at once.

    The change point is tested on two vocabularies, the hashtags and the
    content words; the family-wise p counts both (Bonferroni, x 2), and the
    vocabulary with the stronger evidence is reported."""
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
    words = weekly_terms(view, mposts)

    def top(d: dict[str, int]) -> list[str]:
        return [t for t, _ in sorted(d.items(), key=lambda x: (-x[1], x[0]))[:WEEK_KEYWORDS]]

    found = [
        {
            "period": w.isoformat(),
            "keywords": top(weeks.get(w, {})),
            "terms": top(words.get(w, {})),
            "posts": sum(weeks.get(w, {}).values()),
            "accounts": active.get(w, 0),
        }
        for w in sorted(set(weeks) | set(words))
    ]
    shifts = [
        s
        for s in (
            change_point(weeks, active, params, vocabularies=2, vocabulary="hashtags"),
            change_point(words, active, params, vocabularies=2, vocabulary="terms"),
        )
        if s is not None
    ]
    # the stronger evidence first; on a tie (both p underflow to 0) hashtags, the labels operators choose
    shifts.sort(key=lambda s: (s["p_family"], s["vocabulary"] != "hashtags", -s["g_statistic"]))
    shift = shifts[0] if shifts else None
    if shift is not None and len(shifts) > 1:
        other = shifts[1]
        shift = shift | {
            "also": {k: other[k] for k in ("vocabulary", "week", "p_family", "js_distance", "rising_share")}
            | {"came": other["came"][:5], "went": other["went"][:5]}
        }
    if shift is not None:
        what = "hashtags" if shift["vocabulary"] == "hashtags" else "words"
        sid = log.add(
            "narrative_shift",
            f"the campaign switched {what} in the week of {shift['week']}",
            shift,
            "change point on the weekly hashtags and, separately, the weekly content words (stop words removed, "
            f"the campaign's {TOP_TERMS} most used): for each week that could start a new period, a G-test of "
            "homogeneity of the counts before it against those from it on (binary segmentation; Bonferroni over "
            f"the {shift['weeks_tested']} splits tested and the 2 vocabularies, family-wise p < "
            f"{params.shift_alpha:g}), with Jensen-Shannon distance >= {params.shift_min_distance:g}, "
            f">= {params.shift_min_new_share * 100:g} % of the later uses on terms whose share at least "
            f"doubled, >= {params.shift_min_uses} uses and >= {params.shift_min_accounts} active accounts in the "
            "first week; of such splits, the one with the largest G",
            [],
            [],
            campaign=campaign,
        )
        came = ", ".join(shift["came"][:5])
        went = ", ".join(shift["went"][:5])
        ev.cite(
            sid,
            f"From the week of {shift['week']} the whole cluster switched {what} ({shift['rising_share']:.0%} of "
            f"its uses from then on are on {what} that rose: {came}; fell: {went or 'none'}; "
            f"family-wise p = {shift['p_family']:.2g}).",
        )
    return found, ev


def change_point(
    weeks: dict[dt.date, dict[str, int]],
    active: dict[dt.date, int],
    params: CampaignParams,
    *,
    vocabularies: int = 1,
    vocabulary: str = "hashtags",
) -> dict | None:
    """The week where the campaign's hashtags changed, if the change is real and large: a binary split.

    For each week that could start a new period (enough uses and active
    accounts that week), the hashtag counts of all earlier weeks are compared
    with those of that week and all later ones by a G-test of homogeneity;
    Bonferroni over the splits tested (times ``vocabularies``, the number of
    vocabularies tested on the same weeks) gives the family-wise p. A split is a
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
    if not splits:
        return None
    # Weeks x terms counts; the periods before and from each split are running sums, not pooled again
    # for every split (IRA's five years: 300 weeks, quadratic in dictionaries, 6 s per campaign).
    terms = sorted(set().union(*(weeks[w] for w in ordered)))
    column = {t: j for j, t in enumerate(terms)}
    counts = np.zeros((len(ordered), len(terms)))
    for i, w in enumerate(ordered):
        for t, n in weeks[w].items():
            counts[i, column[t]] = n
    before = np.cumsum(counts, axis=0)
    del counts
    total = before[-1]
    best = None  # (split, G rounded as reported, its figures); the details are built for the best only
    for i in splits:
        prior = before[i - 1]
        after = total - prior
        g, df = _g_test(prior, after)
        p = float(chi2.sf(g, df)) if df > 0 else 1.0
        p_family = min(1.0, p * len(splits) * vocabularies)
        d = _js(prior, after)
        n_prior, n_after = prior.sum(), after.sum()
        rising = (after > 0) & (after / n_after >= 2 * prior / n_prior)
        rising_share = float(after[rising].sum() / n_after)
        if (
            p_family < params.shift_alpha
            and d >= params.shift_min_distance
            and rising_share >= params.shift_min_new_share
            and (best is None or g > best[1])
        ):
            best = (i, round(g, 2), df, p, p_family, d, rising_share)
    if best is None:
        return None
    i, g, df, p, p_family, d, rising_share = best
    prior = before[i - 1]
    after = total - prior
    n_prior, n_after = prior.sum(), after.sum()
    change = after / n_after - prior / n_prior
    new = [terms[j] for j in np.flatnonzero((after > 0) & (prior == 0))][:20]
    return {
        "vocabulary": vocabulary,
        "week": ordered[i].isoformat(),
        "weeks_after": len(ordered) - i,
        "g_statistic": g,
        "df": df,
        "p_value": p,
        "p_family": p_family,
        "weeks_tested": len(splits),
        "js_distance": round(d, 4),
        "rising_share": round(rising_share, 4),
        "new_share": round(float(after[(after > 0) & (prior == 0)].sum() / n_after), 4),
        "new_terms": new,
        **({"new_hashtags": new} if vocabulary == "hashtags" else {}),
        "came": [t for _, t in sorted((-change[j], terms[j]) for j in np.flatnonzero(change > 0))][:10],
        "went": [t for _, t in sorted((change[j], terms[j]) for j in np.flatnonzero(change < 0))][:10],
    }


def _g_test(prior: np.ndarray, after: np.ndarray) -> tuple[float, int]:
    """G statistic and degrees of freedom of the 2 x k table (the weeks before the split, the weeks from it
    on) over the terms, every one of which is used in one of them."""
    obs = np.vstack([prior, after])
    expected = obs.sum(axis=1, keepdims=True) * obs.sum(axis=0, keepdims=True) / obs.sum()
    nz = obs > 0
    return float(2.0 * np.sum(obs[nz] * np.log(obs[nz] / expected[nz]))), obs.shape[1] - 1
