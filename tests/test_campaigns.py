"""Campaign scores and the evaluation against ground truth, by hand."""

from __future__ import annotations

import pytest

from swarmscope.campaigns import CampaignParams, evaluate, score


def test_score_is_a_weighted_noisy_or():
    p = CampaignParams()
    total, contrib = score({"coordination": 1.0, "copypasta": 0.5}, organic_share=0.0, params=p)
    # 1 - (1 - 0.4)(1 - 0.6 * 0.5) = 1 - 0.6 * 0.7 = 0.58
    assert total == pytest.approx(0.58)
    assert sum(contrib.values()) == pytest.approx(0.58, abs=1e-3)
    assert contrib["copypasta"] == pytest.approx(0.58 * 0.3 / 0.7, abs=1e-3)


def test_open_coordination_of_established_accounts_stays_low():
    p = CampaignParams()
    alone, _ = score({"coordination": 1.0}, organic_share=0.0, params=p)
    assert alone == pytest.approx(0.4) and alone < p.report_score  # coordination alone never accuses
    how, _ = score({"coordination": 1.0, "synchrony": 1.0, "rhythm": 1.0}, organic_share=0.0, params=p)
    # how a group acts never accuses by itself: 1 - 0.6 * 0.9 * 0.93 = 0.4978
    assert how == pytest.approx(0.4978) and how < p.report_score
    established, _ = score({"coordination": 1.0, "rhythm": 1.0}, organic_share=1.0, params=p)
    # (1 - 0.6 * 0.93) * (1 - 0.5) = 0.221
    assert established == pytest.approx(0.221)


def test_parts_are_clipped_and_unknown_weights_refused():
    total, _ = score({"coordination": 3.0, "automation": -1.0}, organic_share=0.0, params=CampaignParams())
    assert total == pytest.approx(0.4)
    with pytest.raises(ValueError, match="unknown score parts"):
        CampaignParams(weights={"vibes": 1.0})


def test_evaluate_by_hand():
    camps = {"C1": {"a", "b", "c", "x"}, "C2": {"d", "e"}, "C3": {"o1", "o2"}}
    truth = {"op1": {"a", "b", "c"}, "op2": {"d", "e", "f", "g"}}
    organic = {"x", "o1", "o2", "o3"}
    ev = evaluate(camps, truth, organic, {"C1": 0.9, "C2": 0.3, "C3": 0.3})
    assert ev["operations"]["op1"] == {"campaign": "C1", "precision": 0.75, "recall": 1.0, "accounts": 3}
    # an operation is found as a campaign whatever its score
    assert ev["operations"]["op2"] == {"campaign": "C2", "precision": 1.0, "recall": 0.5, "accounts": 4}
    # C3 scores under 0.5: not an accusation; x in C1 is
    assert ev["organic_false_positives"] == 1 and ev["organic_false_positive_rate"] == 0.25


def test_clusters_merge_only_when_strongly_linked():
    import pyarrow as pa

    from swarmscope.campaigns.coordination import merge_linked_clusters

    members = (
        [("x", f"a{i}", 0) for i in range(4)]
        + [("x", f"b{i}", 1) for i in range(3)]
        + [("x", f"c{i}", 2) for i in range(3)]
    )
    membership = pa.table(
        {
            "platform": [m[0] for m in members],
            "account_id": [m[1] for m in members],
            "cluster": pa.array([m[2] for m in members], pa.int64()),
        }
    )
    # a-b: 3 edges between them (>= 1 per account of the smaller, 3); a-c: one stray edge
    edges = [("a0", "b0"), ("a1", "b1"), ("a2", "b2"), ("a3", "c0")]
    e = pa.table(
        {
            "from": [x for x, _ in edges],
            "to": [y for _, y in edges],
            "from_platform": ["x"] * 4,
            "to_platform": ["x"] * 4,
        }
    )
    got = dict(
        zip(
            merge_linked_clusters(membership, e, 1.0)["account_id"].to_pylist(),
            merge_linked_clusters(membership, e, 1.0)["cluster"].to_pylist(),
        )
    )
    assert {got[f"b{i}"] for i in range(3)} == {0} and {got[f"c{i}"] for i in range(3)} == {2}
    # a stricter rule keeps all three apart
    assert set(merge_linked_clusters(membership, e, 1.5)["cluster"].to_pylist()) == {0, 1, 2}
