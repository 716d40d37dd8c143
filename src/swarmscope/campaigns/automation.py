"""Automation evidence: machine-like cadence, runs of one text, automated-looking bursts.

Cadence and runs come from the whole-case signals (signals.py: each account
is judged against the whole population); bursts are found on the members'
own posts (detect/bursts.py), keeping the largest few on distinct objects.
"""

from __future__ import annotations

from ..detect.bursts import burst_events, find_bursts
from ..findings import EVIDENCE_CAP, SignalLog
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


CADENCE_FIGURES = ("posts", "gap_median_seconds", "gap_cv", "gap_entropy", "peak_per_minute", "top_client", "flags")
RUN_FIGURES = ("n", "text", "first_at", "last_at", "span_seconds", "median_interval_seconds")


def automation(
    view: CaseView, members: Members, log: SignalLog, params: CampaignParams, automated: set[tuple[str, str]]
) -> Evidence:
    """The share of members whose cadence looks automated (the automation part), one signal with a row each."""
    ev = Evidence()
    hit = [m for m in members.accounts if m in automated]
    ev.parts["automation"] = len(hit) / len(members.accounts)
    if hit:
        cad = view.whole.cadence
        rows = {
            (r["platform"], r["account_id"]): r
            for r in cad.to_pylist()
            if (r["platform"], r["account_id"]) in automated
        }
        table = [
            {"platform": m[0], "account_id": m[1], "handle": view.by_account.get(m, {}).get("handle")}
            | {k: rows[m][k] for k in CADENCE_FIGURES}
            for m in sorted(hit, key=lambda m: (-(rows[m]["posts"] or 0), m))
        ][:EVIDENCE_CAP]
        sid = log.add(
            "automation",
            f"{len(hit)} members post with machine-like cadence",
            {"accounts": len(hit), "share": round(ev.parts["automation"], 4), "table": table},
            "cadence flags (gap regularity, bursts per minute, automation clients); see docs/methods/signals.md",
            hit,
            [],
        )
        ev.cite(sid, accounts=hit)
    return ev


def runs(view: CaseView, members: Members, log: SignalLog) -> Evidence:
    """The members' runs of one text posted again and again, as one signal with a row per run.

    Runs are found account by account on the whole case (detect/runs.py); a
    campaign of 500 spamming accounts gets one signal with a table, not 500
    signals. Evidence posts are listed longest run first.
    """
    ev = Evidence()
    found = [r for r in view.whole.runs.to_pylist() if (r["platform"], r["account_id"]) in members.account_set]
    if not found:
        return ev
    found.sort(key=lambda r: (-r["n"], r["platform"], r["account_id"], r["first_at"]))
    accounts = list(dict.fromkeys((r["platform"], r["account_id"]) for r in found))
    longest = found[0]
    table = [
        {
            "platform": r["platform"],
            "account_id": r["account_id"],
            "handle": view.by_account.get((r["platform"], r["account_id"]), {}).get("handle"),
        }
        | {k: r[k] for k in RUN_FIGURES}
        for r in found[:EVIDENCE_CAP]
    ]
    figures = {
        "accounts": len(accounts),
        "runs": len(found),
        "longest": longest["n"],
        "posts": sum(r["n"] for r in found),
        "table": table,
    }
    if len(accounts) == 1:
        summary = f"one account posted the same text {longest['n']} times in a row"
        sentence = f"One account posted the same text {longest['n']} times in a row."
        if len(found) > 1:
            summary += f" ({len(found)} runs)"
            sentence = f"One account posted the same text {longest['n']} times in a row ({len(found)} such runs)."
    else:
        summary = (
            f"{len(accounts)} members posted one text again and again: {len(found)} runs, "
            f"the longest {longest['n']} posts in a row"
        )
        sentence = (
            f"{len(accounts)} accounts posted the same text again and again ({len(found)} runs; "
            f"the longest, {longest['n']} posts in a row)."
        )
    sid = log.add(
        "run", summary, figures, longest["test"], accounts, [(r["platform"], p) for r in found for p in r["post_ids"]]
    )
    ev.cite(sid, sentence, accounts)
    return ev


def bursts(view: CaseView, members: Members, log: SignalLog, params: CampaignParams, group: str) -> Evidence:
    """The largest automated-looking bursts in the members' posts, one per object."""
    ev = Evidence()
    mposts, bp = members.posts, view.params.signals.bursts
    found = find_bursts(burst_events(mposts, members.norm, group=group, params=bp), bp).to_pylist()
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
