"""Campaigns against a ground truth: account precision and recall per operation, organic accounts accused.

Used by the demo and the validation on simulated scenarios (truth.json), and
by the analysts' labels (labels.evaluate).
"""

from __future__ import annotations


def evaluate(
    campaign_accounts: dict[str, set[str]],
    truth_ops: dict[str, set[str]],
    organic: set[str],
    min_score_members: dict[str, float] | None = None,
    report_score: float = 0.5,
) -> dict:
    """Account precision/recall of each planted operation against its best-matching campaign.

    ``campaign_accounts``: campaign id -> account ids; ``min_score_members``:
    campaign id -> score. Operations are matched against every campaign (is
    the operation found as one campaign?); the organic false-positive rate
    counts organic accounts inside a campaign scoring at least
    ``report_score`` (an accusation), over all organic accounts.
    """
    reported = {
        c: a
        for c, a in campaign_accounts.items()
        if min_score_members is None or min_score_members.get(c, 0.0) >= report_score
    }
    out = {"operations": {}, "organic_accounts": len(organic)}
    for name, members in truth_ops.items():
        best, best_f1 = None, 0.0
        for c, acc in campaign_accounts.items():
            tp = len(acc & members)
            if not tp:
                continue
            p, r = tp / len(acc), tp / len(members)
            f1 = 2 * p * r / (p + r)
            if f1 > best_f1:
                best, best_f1 = c, f1
        if best is None:
            out["operations"][name] = {"campaign": None, "precision": 0.0, "recall": 0.0, "accounts": len(members)}
        else:
            acc = campaign_accounts[best]
            tp = len(acc & members)
            out["operations"][name] = {
                "campaign": best,
                "precision": round(tp / len(acc), 4),
                "recall": round(tp / len(members), 4),
                "accounts": len(members),
            }
    flagged = set().union(*reported.values()) if reported else set()
    fp = len(flagged & organic)
    out["organic_false_positives"] = fp
    out["organic_false_positive_rate"] = round(fp / len(organic), 6) if organic else 0.0
    return out
