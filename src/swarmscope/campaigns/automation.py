"""Automation evidence: machine-like cadence, runs of one text, automated-looking bursts.

Cadence and runs come from the whole-case signals (signals.py: each account
is judged against the whole population); bursts are found on the members'
own posts (detect/bursts.py), keeping the largest few on distinct objects.
"""

from __future__ import annotations

from ..detect.bursts import burst_events, find_bursts
from ..findings import SignalLog
from .params import CampaignParams
from .view import CaseView, Evidence, Members


def automated_accounts(view: CaseView) -> set[tuple[str, str]]:
    cad = view.whole.cadence
    return {
        (p, a)
        for p, a, f in zip(
            cad["platform"].to_pylist(), cad["account_id"].to_pylist(), cad["automated_looking"].to_pylist()
        )
        if f
    }


def automation(
    view: CaseView, members: Members, log: SignalLog, params: CampaignParams, automated: set[tuple[str, str]]
) -> Evidence:
    """The share of members whose cadence looks automated (the automation part)."""
    ev = Evidence()
    hit = [m for m in members.accounts if m in automated]
    ev.parts["automation"] = len(hit) / len(members.accounts)
    if hit:
        sid = log.add(
            "automation",
            f"{len(hit)} members post with machine-like cadence",
            {"accounts": len(hit), "share": round(ev.parts["automation"], 4)},
            "cadence flags (gap regularity, bursts per minute, automation clients); see docs/methods/signals.md",
            hit,
            [],
        )
        ev.cite(sid, accounts=hit)
    return ev


def runs(view: CaseView, members: Members, log: SignalLog) -> Evidence:
    """Each member's runs of one text posted again and again (whole-case run detection)."""
    ev = Evidence()
    for run in view.whole.runs.to_pylist():
        account = (run["platform"], run["account_id"])
        if account in members.account_set:
            sid = log.add(
                "run",
                f"one account posted the same text {run['n']} times in a row",
                {k: run[k] for k in ("n", "text", "first_at", "last_at", "span_seconds", "median_interval_seconds")},
                run["test"],
                [account],
                [(run["platform"], p) for p in run["post_ids"]],
            )
            ev.cite(sid, f"One account posted the same text {run['n']} times in a row.", [account])
    return ev


def bursts(view: CaseView, members: Members, log: SignalLog, params: CampaignParams, group: str) -> Evidence:
    """The largest automated-looking bursts in the members' posts, one per object."""
    ev = Evidence()
    mposts = members.posts
    found = find_bursts(burst_events(mposts, members.norm, group=group), view.params.signals.bursts).to_pylist()
    auto = [b for b in found if b["label"] == "automated-looking"]
    if any(b["object_type"] != "group" for b in auto):  # the group-wide burst repeats an object's
        auto = [b for b in auto if b["object_type"] != "group"]
    seen: set = set()
    auto = [
        b
        for b in sorted(auto, key=lambda b: -b["window_posts"])
        if (b["object_type"], b["object_id"]) not in seen and not seen.add((b["object_type"], b["object_id"]))
    ]
    for b in auto[: params.max_bursts]:
        sid = log.add(
            "burst",
            f"{b['window_posts']:,} posts on {b['object_type']} {b['object_id']} within ten minutes",
            {k: b[k] for k in b if k not in ("post_ids", "test")},
            b["test"],
            [],
            [(mposts["platform"][0].as_py(), p) for p in b["post_ids"]],
        )
        ev.cite(
            sid,
            f"They flooded {b['object_type']} '{b['object_id']}' with "
            f"{b['window_posts']:,} posts in one window ({b['copy_share']:.0%} copies).",
        )
    return ev
