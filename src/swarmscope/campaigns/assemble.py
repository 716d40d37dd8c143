"""The assembler: clusters in, campaigns out.

For each cluster of at least ``min_accounts`` (then for each group of
impersonators left over), the evidence modules run in a fixed order, each
adding score parts, explanation sentences and signals:

    coordination -> copies -> automation -> rhythm -> account patterns ->
    impersonation -> runs -> bursts -> (score) -> scale and personas ->
    periphery -> cross-platform lead -> hashtags, domains, narratives

Once every campaign's members are known, reach is measured (other
campaigns' reactions are not breakout), campaigns are ordered by score and
numbered C1, C2, ...

A new kind of campaign evidence is one new module in this package with a
function ``(view, members, log, params) -> Evidence``, called here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from ..duck import release_cache
from ..findings import SignalLog, iso
from ..jsonable import jsonable
from ..progress import detail
from . import accounts as acc
from . import automation, coordination, copies, lead, narratives, reach, rhythm
from .disarm import techniques_for
from .score import HOW_PARTS, score
from .verdict import verdict
from .view import Account, CaseView, Evidence, Members


@dataclass
class Assembly:
    """The campaigns and signals of one run, built cluster by cluster."""

    view: CaseView
    log: SignalLog = field(default_factory=SignalLog)
    campaigns: list[dict] = field(default_factory=list)
    taken: set[Account] = field(default_factory=set)  # core members of campaigns so far
    small_clusters: int = 0  # clusters below min_accounts (not campaigns)
    _posts: dict[str, tuple[set[Account], pa.Table]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.automated = automation.automated_accounts(self.view)
        self.flags = acc.AccountFlags.of(self.view)
        self.tag_totals = narratives.hashtag_totals(self.view)

    def add(self, accounts: list[Account], origin: str = "coordination") -> None:
        """One campaign from the cluster ``accounts``."""
        view, log, p = self.view, self.log, self.view.campaign_params
        cid = f"C{len(self.campaigns) + 1}"
        members = view.members(accounts)
        ev = Evidence(account_signals={m: [] for m in accounts})
        doing = f"cluster {len(self.campaigns) + 1} ({len(accounts):,} accounts):"  # its id comes with its rank
        detail(f"{doing} coordination")
        ev.extend(coordination.coordination(view, members, log, p, origin))
        detail(f"{doing} copied messages")
        messages, copy_ev = copies.copies(view, members, log, p)
        ev.extend(copy_ev)
        detail(f"{doing} automation and rhythm")
        ev.extend(automation.automation(view, members, log, p, self.automated))
        ev.extend(rhythm.rhythm(view, members, log, p))
        detail(f"{doing} accounts")
        ev.extend(acc.account_patterns(view, members, log, self.flags))
        ev.extend(acc.impersonation(view, members, log, p, self.flags))
        ev.extend(automation.runs(view, members, log))
        ev.extend(automation.bursts(view, members, log, p, cid))

        organic = [m for m in accounts if acc.established(view, m, p)]
        total, contributions = score(ev.parts, len(organic) / len(accounts), p)
        if all(v < p.trace_floor for k, v in ev.parts.items() if k not in HOW_PARTS):
            ev.say(
                "No trace of fake identities was found (no copy-paste across accounts, "
                "automated accounts, creation batches, templated handles, tiny audiences or "
                "impersonation): this is coordinated behaviour, not shown to be inauthentic."
            )
        if organic:
            ev.say(
                f"{len(organic)} of the accounts look established (at least "
                f"{p.organic_min_followers:,} followers and {p.organic_min_age_days} days old), "
                f"which lowers the score."
            )

        detail(f"{doing} reach and leads")
        counts = reach.scale(members)
        counts["profiles"], persona = reach.personas(view, members)
        if counts["profiles"] < len(accounts):
            ev.say(
                f"The {len(accounts)} accounts belong to {counts['profiles']} profiles: "
                f"some personas run accounts on several platforms under one name."
            )
        periphery = coordination.periphery(view, members, self.taken, p)
        hubs, hub_ev = lead.cross_platform_lead(view, members, log, p, cid)
        ev.extend(hub_ev)
        for hub in hubs:
            if hub not in members.account_set:
                periphery.setdefault(hub, 0)
        detail(f"{doing} narratives")
        tags = narratives.hashtags(members, self.tag_totals)
        weekly, shift_ev = narratives.narratives(view, members, log, p, cid)
        ev.extend(shift_ev)
        self._record(cid, members, ev, total, contributions, counts, persona, periphery, tags, weekly, messages)
        # the modules' queries scan the actions (copies, domains, narratives): their blocks stay cached in
        # DuckDB, about 0.5 GiB at 10M posts, and no later campaign reuses much of them
        release_cache(view.con)

    def _record(
        self,
        cid: str,
        members: Members,
        ev: Evidence,
        total: float,
        contributions: dict,
        counts: dict,
        persona: dict,
        periphery: dict,
        tags: list,
        weekly: list,
        messages: list,
    ) -> None:
        view, p = self.view, self.view.campaign_params
        types = self.log.types(ev.signal_ids)
        if ev.parts["copypasta"] < p.trace_floor:
            types.discard("copypasta")
        self.log.assign(ev.signal_ids, cid)
        self.taken |= members.account_set
        mposts = members.posts
        self._posts[cid] = (members.account_set, mposts.select(["platform", "post_id"]))
        self.campaigns.append(
            {
                "network": coordination.network(view, members, p),
                "id": cid,
                "score": total,
                "score_parts": {k: round(v, 4) for k, v in ev.parts.items()},
                "score_contributions": contributions,
                "verdict": verdict(total, ev.parts, p),
                "likely_inauthentic": total >= p.report_score,
                "explanation": ev.sentences,
                "accounts": [
                    self._account(m, "core", ev.account_signals.get(m, []), persona.get(m)) for m in members.accounts
                ]
                + [self._account(m, "periphery", ev.account_signals.get(m, [])) for m in sorted(periphery)],
                "reach": None,  # filled by finish(), once every campaign's members are known
                "counts": counts,
                "first_seen": iso(pc.min(mposts["created_at"]).as_py()),
                "last_seen": iso(pc.max(mposts["created_at"]).as_py()),
                "active_days": len(set(pc.strftime(mposts["created_at"], "%Y-%m-%d").to_pylist()))
                if mposts.num_rows
                else 0,
                "timeline": reach.timeline(members),
                "messages": jsonable(messages),
                "hashtags": tags,
                "domains": narratives.domains(view, members),
                "narratives": weekly,
                "signals": ev.signal_ids,
                "disarm": [t.id for t in techniques_for(types)],
            }
        )

    def _account(self, m: Account, role: str, sids: list[str], persona: str | None = None) -> dict:
        a = self.view.by_account.get(m, {})
        return {
            "platform": m[0],
            "account_id": m[1],
            "handle": a.get("handle"),
            "display_name": a.get("display_name"),
            "created_at": iso(a.get("created_at")),
            "followers": a.get("followers"),
            "role": role,
            "persona": persona,
            "signals": sids,
        }

    def impersonation_groups(self) -> list[list[Account]]:
        """Impersonators in no campaign yet (core or periphery), grouped by shared web domains."""
        listed = {(a["platform"], a["account_id"]) for c in self.campaigns for a in c["accounts"]}
        return acc.impersonation_groups(self.view, self.flags, listed, self.view.campaign_params.min_impersonators)

    def finish(self) -> None:
        """Reach (needs every campaign's members), then order campaigns by score and renumber them C1.."""
        for c in self.campaigns:
            member_set, post_keys = self._posts[c["id"]]
            r = c["reach"] = reach.reach(
                self.view, member_set, post_keys, self.taken - member_set, self.view.campaign_params
            )
            c["explanation"].append(reach.reach_sentence(r))
        order = sorted(self.campaigns, key=lambda c: (-c["score"], -c["counts"]["accounts"]))
        rename = {c["id"]: f"C{i + 1}" for i, c in enumerate(order)}
        for c in order:
            c["id"] = rename[c["id"]]
        self.log.rename_campaigns(rename)
        self.campaigns = order


def assemble(view: CaseView, membership: pa.Table) -> Assembly:
    """Campaigns from the cluster ``membership`` (platform, account_id, cluster) and the leftover impersonators."""
    p = view.campaign_params
    out = Assembly(view)
    sizes = pc.value_counts(membership["cluster"]).to_pylist() if membership.num_rows else []
    out.small_clusters = sum(1 for s in sizes if s["counts"] < p.min_accounts)
    clusters = sorted(s["values"] for s in sizes if s["counts"] >= p.min_accounts)
    for done, cluster in enumerate(clusters):
        detail(f"cluster {done + 1}/{len(clusters)}")
        rows = membership.filter(pc.equal(membership["cluster"], cluster))
        out.add(list(zip(rows["platform"].to_pylist(), rows["account_id"].to_pylist())))
    detail("impersonators")
    for group in out.impersonation_groups():
        out.add(group, origin="impersonation")
    detail("scores and verdicts")
    out.finish()
    return out
