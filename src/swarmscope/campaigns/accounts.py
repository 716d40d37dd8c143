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

from ..detect.accounts import bare_profiles
from ..duck import registered
from ..findings import SignalLog
from .coordination import components
from .params import CampaignParams
from .view import Account, CaseView, Evidence, Members


@dataclass(frozen=True)
class AccountFlags:
    """Account ids flagged on the whole case, the watchlist matches, and the case's number of accounts."""

    batched: frozenset[str]
    templated: frozenset[str]  # templated handles and the default-handle shape
    low_followers: frozenset[str]
    impersonation: tuple[dict, ...]
    case_accounts: int = 0
    shared_profile: frozenset[str] = frozenset()  # a bio, display name or picture shared with other accounts
    bare_profile: frozenset[str] = frozenset()  # default picture, no bio

    @classmethod
    def of(cls, view: CaseView) -> AccountFlags:
        ap = view.whole.account_patterns
        imp = view.whole.impersonation.to_pylist() if view.whole.impersonation is not None else []
        return cls(
            frozenset(a for ids in ap.batches["account_ids"].to_pylist() for a in ids),
            frozenset(a for ids in ap.handle_templates["account_ids"].to_pylist() for a in ids)
            | frozenset(ap.default_handles["account_id"].to_pylist()),
            frozenset(ap.low_followers["account_id"].to_pylist()),
            tuple(imp),
            view.accounts.num_rows,
            frozenset(a for ids in ap.shared_profiles["account_ids"].to_pylist() for a in ids),
            frozenset(bare_profiles(view.accounts)["account_id"].to_pylist()),
        )

    @property
    def any(self) -> frozenset[str]:
        return self.batched | self.templated | self.low_followers | self.shared_profile | self.bare_profile

    def base_rate(self, ids: frozenset[str]) -> float:
        """The share of the case's accounts that carry the flag."""
        return min(1.0, len(ids) / self.case_accounts) if self.case_accounts else 0.0


def wilson_lower(hits: int, n: int, z: float = 1.96) -> float:
    """The lower end of the Wilson score interval (95 %) for a share of ``hits`` in ``n``.

    A cluster of five whose members all share a trait is weak evidence that
    the trait is over-represented; one of 150 is strong. The lower bound says
    how high the members' share is at least, given how few they are.
    """
    if n <= 0:
        return 0.0
    p = hits / n
    centre = p + z * z / (2 * n)
    spread = z * ((p * (1 - p) + z * z / (4 * n)) / n) ** 0.5
    return max(0.0, (centre - spread) / (1 + z * z / n))


def excess_over_base(hits: int, n: int, base: float) -> float:
    """How far the members' share (its Wilson lower bound) rises above the case's base rate, in 0..1.

    0 when the members carry the trait no more often than the case's accounts
    at large (a handle shape most accounts share is no evidence); 1 when all
    of many members carry a trait that is rare in the case.
    """
    if base >= 1.0:
        return 0.0
    return max(0.0, (wilson_lower(hits, n) - base) / (1.0 - base))


def account_patterns(view: CaseView, members: Members, log: SignalLog, flags: AccountFlags) -> Evidence:
    """Creation batches, templated handles and tiny audiences among the members, weighed by their base rates.

    The part is the excess of the members' flagged share over the case's
    flagged share (``excess_over_base``): a trait counts in proportion to how
    rare it is among the case's accounts, and a handful of members cannot
    saturate it. Each kind's signal states its base rate.
    """
    ev = Evidence()
    accounts = members.accounts
    n = len(accounts)
    any_flag = flags.any
    flagged = [m for m in accounts if m[1] in any_flag]
    ev.parts["account_patterns"] = excess_over_base(len(flagged), n, flags.base_rate(any_flag))
    for kind, ids, label in (
        ("creation_batch", flags.batched, "were created in batches"),
        ("handle_pattern", flags.templated, "have templated or default-shaped handles"),
        (
            "profile_pattern",
            flags.shared_profile | flags.bare_profile,
            "share a bio, name or picture with other accounts, or have a bare profile (default picture, no bio)",
        ),
    ):
        hit = [m for m in accounts if m[1] in ids]
        if hit:
            base = flags.base_rate(ids)
            created = [view.by_account.get(m, {}).get("created_at") for m in hit]
            sid = log.add(
                kind,
                f"{len(hit)} members {label}",
                {
                    "accounts": len(hit),
                    "member_share": round(len(hit) / n, 4),
                    "base_rate": round(base, 4),
                    "excess": round(excess_over_base(len(hit), n, base), 4),
                    "handles": [view.by_account.get(m, {}).get("handle") for m in hit][:50],
                    "created": sorted(c for c in created if c is not None)[:50],
                },
                "relative to the case's whole account population: the members' share (95 % Wilson lower bound) "
                "against the share of all the case's accounts with the trait; see docs/methods/signals.md",
                hit,
                [],
            )
            ev.cite(
                sid,
                f"{len(hit)} of the accounts {label} ({len(hit) / n:.0%} of the members, "
                f"{base:.0%} of all accounts in the case).",
                hit,
            )
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
