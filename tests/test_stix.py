"""STIX 2.1 export: valid for the stix2 parser, deterministic, hostile text kept as data."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import stix2
from stix2patterns.v21.pattern import Pattern

from swarmscope.report.stix import StixExportError, domain_pattern, stix_bundle, write_stix
from tests.test_findings_schema import small_findings


def _objects(bundle: stix2.Bundle, kind: str) -> list:
    return [o for o in bundle.objects if o.type == kind]


def _roundtrip(bundle: stix2.Bundle) -> stix2.Bundle:
    return stix2.parse(bundle.serialize(), allow_custom=False)


def test_bundle_round_trips_through_the_strict_parser() -> None:
    bundle = stix_bundle(small_findings())
    parsed = _roundtrip(bundle)
    assert parsed.id == bundle.id
    assert sorted(o.id for o in parsed.objects) == sorted(o.id for o in bundle.objects)


def test_campaign_attack_patterns_and_relationships() -> None:
    bundle = stix_bundle(small_findings())
    [campaign] = _objects(bundle, "campaign")
    assert campaign.name == "swarmscope campaign C1"
    assert "3 accounts reposted the same 2 posts within 10 s. [S1]" in campaign.description
    assert campaign.confidence == 87
    assert campaign.first_seen.isoformat() == "2024-03-04T10:00:00+00:00"
    patterns = {p.external_references[0].external_id: p for p in _objects(bundle, "attack-pattern")}
    assert set(patterns) == {"T0049.005", "T0084.001"}  # the campaign's own "disarm" list
    ref = patterns["T0084.001"].external_references[0]
    assert (ref.source_name, patterns["T0084.001"].name) == ("DISARM", "Use Copypasta")
    uses = {(r.source_ref, r.target_ref) for r in _objects(bundle, "relationship") if r.relationship_type == "uses"}
    assert uses == {(campaign.id, p.id) for p in patterns.values()}
    assert not _objects(bundle, "intrusion-set")
    [identity] = _objects(bundle, "identity")
    assert all(o.created_by_ref == identity.id for o in bundle.objects if o.type in ("campaign", "note", "indicator"))


def test_without_a_disarm_list_techniques_come_from_the_signals() -> None:
    findings = small_findings()
    del findings["campaigns"][0]["disarm"]
    ids = {p.external_references[0].external_id for p in _objects(stix_bundle(findings), "attack-pattern")}
    assert ids == {"T0049.005", "T0084.001"}  # coordination + copypasta; S9 (rhythm) is not C1's


def test_user_accounts_keep_adversary_text_as_data() -> None:
    bundle = _roundtrip(stix_bundle(small_findings()))
    accounts = {a.user_id: a for a in _objects(bundle, "user-account")}
    assert set(accounts) == {"101", "102", "103"}
    assert accounts["101"].account_login == '=HYPERLINK("http://evil","x")'
    assert accounts["101"].display_name == 'Anna \' \\ "P"'
    assert accounts["102"].display_name == "Жанна 🌻"
    assert accounts["103"].account_type == "x" and "display_name" not in accounts["103"]
    [observed] = _objects(bundle, "observed-data")
    assert sorted(observed.object_refs) == sorted(a.id for a in accounts.values())
    notes = {n.abstract.split()[0]: n for n in _objects(bundle, "note")}
    assert "Test: co-repost within 10 s" in notes["S1"].content
    assert "- x:1003 at 2024-03-04T10:00:09" in notes["S1"].content
    assert set(notes["S2"].object_refs) >= {accounts["101"].id, accounts["102"].id}
    assert "S9" not in notes


def test_domain_indicators_escape_quotes_and_backslashes() -> None:
    bundle = _roundtrip(stix_bundle(small_findings()))
    indicators = _objects(bundle, "indicator")
    assert sorted(i.pattern for i in indicators) == [
        "[domain-name:value = 'evil.example\\'] or [x:y = \\'z']",  # lower-cased, escaped
        "[domain-name:value = 'example.com']",
    ]
    assert all(i.indicator_types == ["attribution"] for i in indicators)
    indicates = [r for r in _objects(bundle, "relationship") if r.relationship_type == "indicates"]
    assert len(indicates) == 2


@pytest.mark.parametrize("value", ["example.com", "a'b", "a\\b", "\\'", "'] OR [x:y = '", "x\\", "ы.рф", "a\nb"])
def test_domain_pattern_holds_exactly_one_comparison_of_the_value(value: str) -> None:
    comparisons = Pattern(domain_pattern(value)).inspect().comparisons
    assert list(comparisons) == ["domain-name"]
    [(path, op, literal)] = comparisons["domain-name"]
    assert (path, op) == (["value"], "=")
    # The parser hands back the literal still escaped; unescaping it gives the value again.
    assert literal[1:-1].replace("\\'", "'").replace("\\\\", "\\") == value


def test_intrusion_set_only_when_named() -> None:
    bundle = stix_bundle(small_findings(), intrusion_set_name="  Analyst's Set X ")
    [intrusion] = _objects(bundle, "intrusion-set")
    assert intrusion.name == "Analyst's Set X"
    [attributed] = [r for r in _objects(bundle, "relationship") if r.relationship_type == "attributed-to"]
    assert (attributed.source_ref, attributed.target_ref) == (_objects(bundle, "campaign")[0].id, intrusion.id)
    assert not _objects(stix_bundle(small_findings(), intrusion_set_name="  "), "intrusion-set")


def test_re_export_is_byte_identical(tmp_path: Path) -> None:
    a = write_stix(small_findings(), tmp_path / "a.json").read_bytes()
    b = write_stix(copy.deepcopy(small_findings()), tmp_path / "b.json").read_bytes()
    assert a == b
    other_run = small_findings()
    other_run["manifest"]["run_id"] = "another-run"
    ids = {o["id"] for o in json.loads(a)["objects"]}
    other_ids = {o.id for o in stix_bundle(other_run).objects}
    # Campaigns are per run; DISARM techniques and accounts are the same things in every run.
    assert {i for i in ids if i.startswith("campaign--")}.isdisjoint(other_ids)
    assert {i for i in ids if i.startswith(("attack-pattern--", "user-account--"))} <= other_ids


def test_broken_text_and_bad_input() -> None:
    findings = small_findings()
    findings["campaigns"][0]["accounts"][2]["handle"] = "bad\ud800surrogate"
    findings["signals"][0]["summary"] = "\ud83d"
    bundle = _roundtrip(stix_bundle(findings))
    assert {a.account_login for a in _objects(bundle, "user-account")} >= {"bad\ufffdsurrogate"}

    no_time = small_findings()
    del no_time["manifest"]["created_at"]
    with pytest.raises(StixExportError, match="created_at"):
        stix_bundle(no_time)
    backwards = small_findings()
    backwards["campaigns"][0]["last_seen"] = "2024-01-01"
    with pytest.raises(StixExportError, match="campaign C1: last_seen"):
        stix_bundle(backwards)
    retired = small_findings()
    retired["campaigns"][0]["disarm"] = ["T0090"]
    with pytest.raises(StixExportError, match="campaign C1: DISARM technique 'T0090'"):
        stix_bundle(retired)


@pytest.mark.scale
def test_scale_many_accounts_and_evidence() -> None:
    findings = small_findings()
    c = findings["campaigns"][0]
    c["accounts"] = [
        {"platform": "x", "account_id": str(i), "handle": f"h{i}", "role": "core", "signals": ["S1"]}
        for i in range(1000)
    ]
    findings["signals"][0]["accounts"] = [["x", str(i)] for i in range(1000)]
    findings["signals"][0]["evidence"] = {"post_ids": [["x", str(i)] for i in range(5000)]}
    bundle = _roundtrip(stix_bundle(findings))
    assert len(_objects(bundle, "user-account")) == 1000
    note = next(n for n in _objects(bundle, "note") if n.abstract.startswith("S1"))
    assert "... and 4500 more in findings.json" in note.content


def test_fast_serializer_writes_stix2_pretty_bytes() -> None:
    """write_stix's one-pass key order is stix2's own pretty order, also where values repeat across objects."""
    from swarmscope.report.stix import serialize

    findings = small_findings()
    second = copy.deepcopy(findings["campaigns"][0])
    second["id"], second["score"] = "C2", 0.5
    second["accounts"][0]["handle"] = "other"
    findings["campaigns"].append(second)
    for intrusion_set in (None, "Set X"):
        bundle = stix_bundle(findings, intrusion_set_name=intrusion_set)
        assert serialize(bundle) == bundle.serialize(pretty=True)


@pytest.mark.scale
def test_many_campaigns_are_written_whole(tmp_path: Path) -> None:
    """60 campaigns x 20 accounts, written with the one-pass key order: every object is there."""
    findings = small_findings()
    base = findings["campaigns"][0]
    findings["campaigns"] = []
    for i in range(60):
        c = copy.deepcopy(base)
        c["id"] = f"C{i}"
        c["accounts"] = [
            {"platform": "x", "account_id": f"{i}-{j}", "handle": f"h{i}_{j}", "role": "core"} for j in range(20)
        ]
        findings["campaigns"].append(c)
    path = write_stix(findings, tmp_path / "b.json")
    objects = json.loads(path.read_text(encoding="utf-8"))["objects"]
    assert sum(o["type"] == "campaign" for o in objects) == 60
    assert sum(o["type"] == "user-account" for o in objects) == 1200 + 3  # and the 3 the signals name
    assert list(objects[0]) == ["type", "spec_version", "id", "created", "modified", "name", "description"] + [
        "identity_class"
    ]  # the specification's order, as stix2's pretty output
