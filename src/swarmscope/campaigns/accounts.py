"""Account evidence: creation batches, templated handles, tiny audiences, impersonation, established accounts.

Batches, handle templates and low-follower accounts are found on the whole
case's account population (detect/accounts.py via signals.py), so a member
is judged against every account in the case, not only its cluster.
Impersonators come from the watchlist match (detect/impersonation.py).
An established account (many followers, years old) lowers the score.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from ..duck import registered
from ..findings import SignalLog
from .coordination import components
from .params import CampaignParams
from .view import Account, CaseView, Evidence, Members


@dataclass(frozen=True)
class AccountFlags:
    """Account ids flagged on the whole case, and the watchlist matches."""

    batched: frozenset[str]
    templated: frozenset[str]
    low_followers: frozenset[str]
    impersonation: tuple[dict, ...]

    @classmethod
    def of(cls, view: CaseView) -> AccountFlags:
        ap = view.whole.account_patterns
        imp = view.whole.impersonation.to_pylist() if view.whole.impersonation is not None else []
        return cls(
            frozenset(a for ids in ap.batches["account_ids"].to_pylist() for a in ids),
            frozenset(a for ids in ap.handle_templates["account_ids"].to_pylist() for a in ids),
            frozenset(ap.low_followers["account_id"].to_pylist()),
            tuple(imp),
        )


def account_patterns(view: CaseView, members: Members, log: SignalLog, flags: AccountFlags) -> Evidence:
    """The share of members in creation batches, with templated handles or tiny audiences; a signal per kind."""
    ev = Evidence()
    accounts = members.accounts
    flagged = [m for m in accounts if m[1] in flags.batched or m[1] in flags.templated or m[1] in flags.low_followers]
    ev.parts["account_patterns"] = len(flagged) / len(accounts)
    for kind, ids, label in (
        ("creation_batch", flags.batched, "created in batches"),
        ("handle_pattern", flags.templated, "given templated handles"),
    ):
        hit = [m for m in accounts if m[1] in ids]
        if hit:
            created = [view.by_account.get(m, {}).get("created_at") for m in hit]
            sid = log.add(
                kind,
                f"{len(hit)} members {label}",
                {
                    "accounts": len(hit),
                    "handles": [view.by_account.get(m, {}).get("handle") for m in hit][:50],
                    "created": sorted(c for c in created if c is not None)[:50],
                },
                "relative to the case's whole account population; see docs/methods/signals.md",
                hit,
                [],
            )
            ev.cite(sid, f"{len(hit)} of the accounts were {label}.", hit)
    return ev


def impersonation(
    view: CaseView, members: Members, log: SignalLog, params: CampaignParams, flags: AccountFlags
) -> Evidence:
    """Members imitating watchlist entities; a few already weigh (``impersonation_gain``)."""
    ev = Evidence()
    imp = [r for r in flags.impersonation if (r["platform"], r["account_id"]) in members.account_set]
    impostors = [(r["platform"], r["account_id"]) for r in imp]
    ev.parts["impersonation"] = min(1.0, params.impersonation_gain * len(set(impostors)) / len(members.accounts))
    if imp:
        sid = log.add(
            "impersonation",
            f"{len(imp)} members imitate watchlist entities",
            {"matches": imp},
            imp[0]["test"],
            impostors,
            [],
        )
        ev.cite(
            sid, f"{len(imp)} accounts imitate " + ", ".join(sorted({r["entity_name"] for r in imp})) + ".", impostors
        )
    return ev


def impersonation_groups(
    view: CaseView, flags: AccountFlags, taken: set[Account], min_accounts: int
) -> list[list[Account]]:
    """Impersonators in no campaign yet, grouped by the registered domains they share (any time)."""
    imps = sorted({(r["platform"], r["account_id"]) for r in flags.impersonation} - taken)
    if len(imps) < min_accounts:
        return []
    table = pa.table({"platform": [m[0] for m in imps], "account_id": [m[1] for m in imps]})
    with registered(view.con, _imp=table) as con:
        links = con.sql(
            """SELECT DISTINCT a.platform, a.account_id, b.platform, b.account_id
               FROM actions a JOIN _imp USING (platform, account_id)
               JOIN actions b ON a.object_type = 'domain' AND b.object_type = 'domain' AND a.object_id = b.object_id
               JOIN _imp i2 ON i2.platform = b.platform AND i2.account_id = b.account_id
               WHERE (a.platform, a.account_id) < (b.platform, b.account_id)"""
        ).fetchall()
    root = components(imps, (((ap, aa), (bp, ba)) for ap, aa, bp, ba in links))
    groups: dict = {}
    for m in imps:
        groups.setdefault(root[m], []).append(m)
    return [g for g in groups.values() if len(g) >= min_accounts]


def established(view: CaseView, account: Account, params: CampaignParams) -> bool:
    """An account with ``organic_min_followers`` followers, ``organic_min_age_days`` old when first seen."""
    a = view.by_account.get(account)
    if not a or a.get("followers") is None or a.get("created_at") is None:
        return False
    if a["followers"] < params.organic_min_followers:
        return False
    first = a.get("snapshot_at") or a["created_at"]
    return (first - a["created_at"]).days >= params.organic_min_age_days
