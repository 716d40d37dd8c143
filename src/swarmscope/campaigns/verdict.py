"""The verdict: what a campaign's evidence allows one to say, in words, the same everywhere it is shown.

Tiers, from the score (score.py) and which parts carry it:

- ``strong``: score >= ``tier_strong`` (0.8): strong evidence of inauthentic
  coordination;
- ``moderate``: score >= ``tier_moderate`` (0.65): moderate evidence;
- ``weak``: score >= ``report_score`` (0.5): weak evidence;
- ``organic``: no trace of who acts (every part but coordination, synchrony
  and rhythm below ``trace_floor``) and most links slower than
  ``sync_seconds``: organic coordination, a crowd, a fandom or newsrooms
  acting together in the open;
- ``inconclusive``: anything else: coordination, inauthenticity not shown.

A score only reaches 0.5 with a trace of who acts (the parts that say how a
group acts give at most 0.498), so ``organic`` and the inauthentic tiers
never meet. ``likely_inauthentic`` in findings.json is true for the three
inauthentic tiers. The CLI, findings.json, the report and the workbench all
show ``label`` and the tier's colour from this one place.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .score import HOW_PARTS

if TYPE_CHECKING:
    from .params import CampaignParams

INAUTHENTIC = ("strong", "moderate", "weak")
TIERS = (*INAUTHENTIC, "inconclusive", "organic")
LABELS = {
    "strong": "strong evidence of inauthentic coordination",
    "moderate": "moderate evidence of inauthentic coordination",
    "weak": "weak evidence of inauthentic coordination",
    "inconclusive": "coordination; inauthenticity not shown",
    "organic": "organic coordination",
}


def verdict(score: float, parts: dict[str, float], params: CampaignParams) -> dict:
    """The campaign's tier, its label and the reason, from its score and score parts."""
    who = {k: v for k, v in parts.items() if k not in HOW_PARTS}
    traces = sorted(k for k, v in who.items() if v >= params.trace_floor)
    if score >= params.tier_strong:
        tier = "strong"
    elif score >= params.tier_moderate:
        tier = "moderate"
    elif score >= params.report_score:
        tier = "weak"
    elif not traces and parts.get("synchrony", 0.0) < params.sync_sentence_share:
        tier = "organic"
    else:
        tier = "inconclusive"
    if tier in INAUTHENTIC:
        basis = f"score {score:.2f} >= {_threshold(tier, params):g}, with traces of who acts: {', '.join(traces)}"
    elif tier == "organic":
        basis = (
            "the accounts act together, but none of the traces of fake identities was found (copies across "
            "accounts, automation, account patterns, impersonation) and most of their links are slower than "
            f"{params.sync_seconds:g} s: how crowds, fandoms and newsrooms coordinate in the open"
        )
    elif traces:
        basis = f"score {score:.2f} < {params.report_score:g}; traces found ({', '.join(traces)}) are too weak"
    else:
        basis = (
            "no trace of fake identities, but most links are synchronous (within "
            f"{params.sync_seconds:g} s): automation is possible, inauthenticity is not shown"
        )
    return {"tier": tier, "label": LABELS[tier], "basis": basis}


def _threshold(tier: str, params: CampaignParams) -> float:
    return {"strong": params.tier_strong, "moderate": params.tier_moderate, "weak": params.report_score}[tier]
