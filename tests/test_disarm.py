"""DISARM technique table and the signal-type mapping."""

from __future__ import annotations

import re
from itertools import combinations

import pytest

from swarmscope.campaigns.disarm import (
    DISARM_COMMIT,
    MAPPINGS,
    SIGNAL_TYPES,
    UNMAPPED,
    technique,
    techniques,
    techniques_for,
    techniques_for_signals,
)


def test_table_is_the_pinned_release() -> None:
    table = techniques()
    assert len(table) == 391
    assert all(re.fullmatch(r"T\d{4}(\.\d{3})?", i) for i in table)
    assert all(re.fullmatch(r"TA\d{2}", t.tactic_id) for t in table.values())
    # Spot checks against DISARM's techniques_index.md at the pinned commit.
    assert table["T0049"].name == "Flood Information Space"
    assert table["T0049.002"].name == "Flood Existing Hashtag"
    assert table["T0049.003"].name == "Bots Amplify via Automated Forwarding and Reposting"
    assert table["T0084.001"].name == "Use Copypasta"
    assert table["T0084.003"].name == "Deceptively Labelled or Translated"
    assert table["T0143.003"].name == "Impersonated Persona"
    assert table["T0048.001"].name == 'Boycott/"Cancel" Opponents'  # quotes survive the CSV
    assert (table["T0119.002"].tactic_id, table["T0150.008"].tactic_id) == ("TA17", "TA15")


def test_retired_ids_are_refused_with_a_pointer() -> None:
    for retired in ("T0007", "T0090", "T0099", "T0104"):
        with pytest.raises(ValueError, match="DISARM_SOURCE.md"):
            technique(retired)


def test_every_mapped_technique_exists_and_carries_its_summary() -> None:
    for rule in MAPPINGS:
        t = technique(rule.technique_id)
        assert t.summary, t.id
        assert rule.signal_types <= set(SIGNAL_TYPES)
        assert rule.reason
    assert technique("T0049.003").parent_id == "T0049"
    assert technique("T0049").parent_id is None
    assert DISARM_COMMIT in technique("T0049").url and technique("T0049").url.endswith("/T0049.md")


def test_every_signal_type_is_mapped_or_says_why_not() -> None:
    mapped = set().union(*(r.signal_types for r in MAPPINGS))
    assert mapped | set(UNMAPPED) == set(SIGNAL_TYPES)
    assert not mapped & set(UNMAPPED)


@pytest.mark.parametrize(
    "types, expected",
    [
        ({"coordination"}, ["T0049.005"]),
        ({"copypasta"}, ["T0084.001"]),
        ({"burst", "run"}, ["T0049"]),
        ({"automation"}, ["T0146.007"]),
        ({"automation", "coordination"}, ["T0049.003", "T0049.005", "T0146.007"]),
        ({"creation_batch", "handle_pattern"}, ["T0150.008"]),
        ({"impersonation"}, ["T0143.003"]),
        ({"cross_platform_lead"}, ["T0119.002"]),
        ({"rhythm", "holiday", "narrative_shift"}, []),
        (set(), []),
    ],
)
def test_techniques_for(types: set[str], expected: list[str]) -> None:
    assert [t.id for t in techniques_for(types)] == expected


def test_unknown_signal_type_is_an_error() -> None:
    with pytest.raises(ValueError, match="'vibes'"):
        techniques_for({"coordination", "vibes"})


def test_adding_signals_never_removes_a_technique() -> None:
    # The mapping is monotone: more evidence can add techniques, never take one away.
    for a, b in combinations(SIGNAL_TYPES, 2):
        small = {t.id for t in techniques_for({a})}
        assert small <= {t.id for t in techniques_for({a, b})}


def test_lookalike_handle_only_for_handle_impersonation() -> None:
    by_handle = [{"type": "impersonation", "figures": {"match": "handle-homoglyph"}}]
    by_name = [{"type": "impersonation", "figures": {"match": ["display-name"]}}]
    assert [t.id for t in techniques_for_signals(by_handle)] == ["T0143.003", "T0146.005"]
    assert [t.id for t in techniques_for_signals(by_name)] == ["T0143.003"]
    assert [t.id for t in techniques_for_signals([{"type": "coordination"}, {"type": "rhythm"}])] == ["T0049.005"]
