"""Cross-platform lead: the account that posts the campaign's texts first, minutes before copies elsewhere.

For every text the members posted (exact fingerprint or near-duplicate
cluster), the first post anywhere in the case is found; an account (member
or not) that was first on several texts, on at least half of the texts it
posted, with copies appearing on another platform a median of minutes
later, is named as a likely coordination hub.
"""

from __future__ import annotations

from ..duck import registered
from ..findings import SignalLog
from .params import CampaignParams
from .view import CaseView, Evidence, Members


def cross_platform_lead(
    view: CaseView, members: Members, log: SignalLog, params: CampaignParams, campaign: str
) -> tuple[list[tuple[str, str]], Evidence]:
    """The hubs found (accounts), and their signals."""
    ev = Evidence()
    with registered(view.con, _m2=members.table()) as con:
        rows = con.sql(
            f"""WITH texts AS (
                   SELECT DISTINCT a.object_type, a.object_id FROM actions a JOIN _m2 USING (platform, account_id)
                   WHERE a.object_type IN ('text_fingerprint', 'near_dup_cluster')),
               uses AS (
                   SELECT a.platform, a.account_id, a.post_id, a.created_at, a.object_type, a.object_id
                   FROM actions a JOIN texts USING (object_type, object_id)),
               first_use AS (
                   SELECT object_type, object_id,
                          arg_min(platform, (created_at, platform, account_id, post_id)) AS platform,
                          arg_min(account_id, (created_at, platform, account_id, post_id)) AS account_id,
                          arg_min(post_id, (created_at, platform, account_id, post_id)) AS post_id,
                          min(created_at) AS at
                   FROM uses GROUP BY ALL),
               follow AS (
                   SELECT f.platform AS hub_platform, f.account_id AS hub, f.post_id, f.object_id,
                          min(u.created_at) - f.at AS lead
                   FROM first_use f JOIN uses u USING (object_type, object_id)
                   WHERE u.platform <> f.platform
                   GROUP BY f.platform, f.account_id, f.post_id, f.object_type, f.object_id, f.at),
               posted AS (
                   SELECT platform, account_id, count(DISTINCT (object_type, object_id)) AS texts_posted
                   FROM uses GROUP BY ALL)
               SELECT hub_platform, hub, count(*) AS texts, median(epoch(lead)) AS median_lead_s,
                      list(post_id ORDER BY post_id)[1:200] AS post_ids, any_value(p.texts_posted) AS texts_posted
               FROM follow f JOIN posted p ON p.platform = f.hub_platform AND p.account_id = f.hub
               GROUP BY hub_platform, hub
               HAVING count(*) >= ? AND count(*) >= ? * any_value(p.texts_posted)
                  AND median(epoch(lead)) <= ?
               ORDER BY texts DESC, hub_platform, hub LIMIT {int(params.max_hubs)}""",
            params=[params.hub_min_texts, params.hub_min_first_share, params.max_lead_seconds],
        ).fetchall()
    hubs = []
    for platform, hub, n, lead, post_ids, posted in rows:
        handle = view.by_account.get((platform, hub), {}).get("display_name") or hub
        sid = log.add(
            "cross_platform_lead",
            f"{platform} account {handle} posted {n} of the campaign's texts first, a median "
            f"{lead / 60:.0f} min before they appeared on another platform",
            {"platform": platform, "account_id": hub, "texts": n, "texts_posted": posted, "median_lead_seconds": lead},
            f"first post of a campaign text (exact or near-duplicate) followed by copies on another platform; "
            f"from {params.hub_min_texts} texts, first on at least {_share(params.hub_min_first_share)} of the texts "
            f"it posted, median lead <= "
            f"{params.max_lead_seconds / 60:g} min",
            [(platform, hub)],
            [(platform, p) for p in post_ids],
            campaign=campaign,
        )
        hubs.append((platform, hub))
        ev.cite(
            sid,
            f"{handle} ({platform}) posted {n} of these texts first, a median {lead / 60:.0f} minutes "
            f"before the cluster repeated them elsewhere: a likely coordination hub.",
            [(platform, hub)],
        )
    return hubs, ev


def _share(x: float) -> str:
    return "half" if x == 0.5 else f"{x:.0%}"
