"""The null model (detect/significance.py): organic crowds stay insignificant, repeated tight
co-sharing does not; the pieces are checked by hand."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from scipy.stats import poisson

from swarmscope.detect.coaction import CoactionParams, coaction_edges, prepare_actions
from swarmscope.detect.significance import SignificanceParams, benjamini_hochberg, window_probability

T0 = dt.datetime(2024, 3, 1)
DAY = 86_400


def table(rows):
    """rows: (account, seconds, object); post ids are generated."""
    return pa.table(
        {
            "platform": ["x"] * len(rows),
            "account_id": [r[0] for r in rows],
            "post_id": [f"p{i}" for i in range(len(rows))],
            "created_at": pa.array([T0 + dt.timedelta(seconds=float(r[1])) for r in rows], pa.timestamp("us")),
            "object_type": ["repost_of"] * len(rows),
            "object_id": [r[2] for r in rows],
        }
    )


def test_window_probability_by_hand():
    rows = [("a", 0, "o"), ("b", 5, "o"), ("c", 100, "o"), ("a", 0, "q"), ("b", 1, "q")]
    p = prepare_actions(table(rows), CoactionParams(time_window=10, min_participation=1))
    probs = window_probability(p.seg, p.seg_start, p.end)
    assert sorted(probs.tolist()) == pytest.approx([1 / 3, 1.0])  # o: 1 of 3 slot pairs; q: its only pair


def test_benjamini_hochberg_by_hand():
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))
    assert q == pytest.approx([0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.5])


def test_poisson_tail_is_conservative():
    rng = np.random.default_rng(1)
    for _ in range(200):
        p = rng.uniform(0, rng.uniform(0.01, 1), rng.integers(1, 30))
        exact = np.zeros(len(p) + 1)
        exact[0] = 1.0
        for pi in p:  # Poisson-binomial by dynamic programming
            exact[1:] = exact[1:] * (1 - pi) + exact[:-1] * pi
            exact[0] *= 1 - pi
        mu = p.sum()
        for k in range(int(np.floor(mu)) + 1, len(p) + 1):
            if k >= mu + 1:
                assert poisson.sf(k - 1, mu) >= exact[k:].sum() - 1e-12


def scenario(seed=3):
    """Organic: 300 accounts each on two viral posts (within 5 min) plus background shares.
    Coordinated: 8 accounts hitting 15 posts within 5 s, each post also shared by 30 organic
    accounts spread over 12 hours."""
    rng = np.random.default_rng(seed)
    rows = []
    crowd = [f"fan{i}" for i in range(300)]
    for viral, start in (("viral1", DAY), ("viral2", 2 * DAY)):
        for acc in crowd:
            if rng.random() < 0.8:
                rows.append((acc, start + rng.uniform(0, 300), viral))
    for acc in crowd:
        for _ in range(2):
            rows.append((acc, rng.uniform(0, 4 * DAY), f"bg{rng.integers(0, 150)}"))
    ring = [f"bot{i}" for i in range(8)]
    for k in range(15):
        start = 3 * DAY + rng.uniform(0, DAY)
        for acc in ring:
            rows.append((acc, start + rng.uniform(0, 5), f"target{k}"))
        for acc in rng.choice(crowd, 30, replace=False):
            rows.append((str(acc), start - 6 * 3600 + rng.uniform(0, 12 * 3600), f"target{k}"))
    return table(rows)


@pytest.mark.scale
@pytest.mark.parametrize("null", ["pooled_delays", "object_times"])
def test_organic_crowd_low_coordinated_ring_high(null):
    edges = coaction_edges(scenario(), CoactionParams(time_window=60), SignificanceParams(null=null))
    rows = edges.to_pylist()
    ring = [r for r in rows if r["from"].startswith("bot") and r["to"].startswith("bot")]
    crowd = [r for r in rows if not (r["from"].startswith("bot") and r["to"].startswith("bot"))]
    assert len(ring) == 28
    assert all(r["significant"] for r in ring)
    assert max(r["p_value"] for r in ring) < 1e-6
    assert all(r["expected_weight"] < 1 for r in ring)
    # the crowd co-shares within a minute, often twice, and is never called coordinated
    assert len(crowd) > 5_000 and any(r["weight"] >= 2 for r in crowd)
    assert not any(r["significant"] for r in crowd)
    assert min(r["q_value"] for r in crowd) > 0.1  # not even close
    viral_pairs = [r for r in crowd if r["n_objects"] == 2]
    if null == "object_times":  # each viral post judged by its own rush
        assert min(r["p_value"] for r in viral_pairs) > 0.01
        assert np.median([r["expected_objects"] for r in viral_pairs]) > 0.2
    else:  # judged by the pool of all posts: a rush is less expected, yet no pair is near significance
        assert min(r["p_value"] for r in viral_pairs) > 0.001
        assert np.median([r["expected_objects"] for r in viral_pairs]) > 0.05


@pytest.mark.parametrize("null", ["pooled_delays", "object_times"])
def test_group_that_is_all_of_the_data_is_not_called_significant(null):
    # nobody else shares anything: timing alone cannot separate the group from the bursts
    rows = [(f"a{j}", k * 3600 + j, f"o{k}") for k in range(10) for j in range(5)]
    edges = coaction_edges(table(rows), CoactionParams(time_window=60), SignificanceParams(null=null))
    assert edges.num_rows == 10
    assert edges["expected_objects"].to_pylist() == pytest.approx([10.0] * 10)
    assert not any(edges["significant"].to_pylist())


def amplifier_scenario(seed=5):
    """12 amplifiers are the whole audience of 20 targets (all within 8 s), among 400 organic
    posts each reposted by 2-40 of 500 organic accounts over hours."""
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(20):
        start = rng.uniform(0, 20 * DAY)
        rows += [(f"amp{j}", start + rng.uniform(0, 8), f"target{k}") for j in range(12)]
    for k in range(400):
        start = rng.uniform(0, 20 * DAY)
        n = int(rng.integers(2, 41))
        for acc in rng.choice(500, n, replace=False):
            rows.append((f"org{acc}", start + rng.exponential(3 * 3600), f"post{k}"))
    return table(rows)


def test_pooled_null_sees_a_network_that_is_the_whole_audience_of_its_targets():
    pooled = coaction_edges(amplifier_scenario(), CoactionParams(time_window=10), SignificanceParams()).to_pylist()
    amp = [r for r in pooled if r["from"].startswith("amp") and r["to"].startswith("amp")]
    assert len(amp) == 66 and all(r["significant"] for r in amp)
    assert not any(r["significant"] for r in pooled if r["from"].startswith("org") or r["to"].startswith("org"))
    own = coaction_edges(
        amplifier_scenario(), CoactionParams(time_window=10), SignificanceParams(null="object_times")
    ).to_pylist()
    assert not any(r["significant"] for r in own)  # the blind spot the pooled null removes


def test_pooled_probability_by_hand():
    from swarmscope.detect.significance import pooled_delay_probability

    # one type; object A: delays 0, 5 s; object B: delays 0, 100 s; object C: a lone share
    t = np.array([0, 5, 1000, 1100, 5000]) * 1_000_000
    seg = np.array([0, 0, 1, 1, 2])
    seg_start = np.array([0, 2, 4, 5])
    typ = np.zeros(5, np.int64)
    p = pooled_delay_probability(seg, seg_start, t, typ, 10_000_000)
    # pool {0, 5, 0, 100}, each weight 1/2: pairs within 10 s are (0,5), (0,0), (5,0) -> 3 * 1/4;
    # all pairs: ((4 * 1/2)^2 - 4 * 1/4) / 2 = 1.5 -> p = 0.75 / 1.5 = 0.5 for every object
    assert p.tolist() == pytest.approx([0.5, 0.5, 0.5])


def test_single_co_share_is_never_significant():
    rows = [("a", 0, "o1"), ("b", 2, "o1"), ("a", 5000, "z1"), ("b", 9000, "z2")]
    rows += [(f"c{i}", 100 * i + 50, "o1") for i in range(1, 40)] + [(f"c{i}", 99999, f"y{i}") for i in range(1, 40)]
    params = CoactionParams(time_window=10, min_participation=1)

    def ab(min_objects):  # unlikely, yet only repetition makes it a finding
        edges = coaction_edges(table(rows), params, SignificanceParams(min_objects=min_objects))
        return next(r for r in edges.to_pylist() if {r["from"], r["to"]} == {"a", "b"})

    one = ab(2)
    assert one["n_objects"] == 1 and one["p_value"] < 0.01 and one["significant"] is False


@pytest.mark.parametrize("change", [dict(alpha=0), dict(alpha=1.2), dict(min_objects=0)])
def test_bad_significance_parameters(change):
    with pytest.raises(ValueError):
        SignificanceParams(**change)


def test_family_includes_pairs_that_never_met_in_the_window():
    q = benjamini_hochberg(np.array([0.001, 0.002]), n_tests=1000)
    assert q == pytest.approx([1.0, 1.0])  # 0.002 * 1000 / 2 = 1
    assert benjamini_hochberg(np.array([0.001, 0.002]), n_tests=1) == pytest.approx([0.002, 0.002])


def test_the_reference_null_interpolates_the_shipped_organic_table():
    from swarmscope.detect.significance import _reference_rows, reference_probability

    rows = _reference_rows()
    # the table's own points come back exactly, and p grows with the window
    for w, p in rows:
        assert reference_probability(w) == pytest.approx(p)
    assert reference_probability(60) < reference_probability(75) < reference_probability(90)
    # clipped at both ends: below the first window, the first point; beyond the last, the last
    assert reference_probability(0.1) == pytest.approx(rows[0][1])
    assert reference_probability(10**7) == pytest.approx(rows[-1][1])
    # two organic retweets of one post land within a minute of each other about once in fifty
    assert 0.01 < reference_probability(60) < 0.03


def test_coshared_share_counts_accounts_that_co_shared_repeatedly():
    import pyarrow as pa

    from swarmscope.detect.significance import coshared_share

    actions = pa.table({"platform": ["x"] * 6, "account_id": ["a", "b", "c", "d", "e", "f"]})
    edges = pa.table(
        {
            "from": ["a", "b", "c"],
            "to": ["b", "c", "d"],
            "from_platform": ["x"] * 3,
            "to_platform": ["x"] * 3,
            "n_objects": [3, 2, 1],
        }
    )
    # a-b and b-c co-shared 2+ objects: a, b, c of the six sharing accounts; c-d only once
    assert coshared_share(actions, edges, 2) == pytest.approx(3 / 6)
    assert coshared_share(actions, edges, 1) == pytest.approx(4 / 6)
    assert coshared_share(actions, edges.slice(0, 0), 2) == 0.0
