"""findings.schema.json: a hand-built findings.json validates; broken ones do not.

``small_findings()`` is also the input of test_stix.py and test_tables.py: one
campaign of three accounts, with hostile text where the adversary writes it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from importlib.resources import files
from typing import TYPE_CHECKING, Any

import pytest

from swarmscope.campaigns.disarm import SIGNAL_TYPES

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


def small_findings() -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "manifest": {
            "tool": "swarmscope",
            "tool_version": "0.1.0",
            "run_id": "20261124T031500-ab12cd34",
            "created_at": "2026-11-24T03:15:00",
            "parameters": {"coaction": {"time_window": 10}},
            "inputs": [{"path": "posts.jsonl", "sha256": "0" * 64, "format": "x_v2", "records": 9, "quarantined": 0}],
            "dependencies": {"duckdb": "2.0.0"},
        },
        "case": {
            "posts": 9,
            "accounts": 4,
            "first_post": "2024-03-04T10:00:00",
            "last_post": "2024-03-05T11:00:00",
            "per_platform": {"x": 8, "telegram": 1},
            "per_language": {"en": 9},
        },
        "campaigns": [
            {
                "id": "C1",
                "score": 0.87,
                "score_parts": {"coordination": 0.9, "copypasta": 0.8, "automation": 0.1},
                "explanation": [
                    {"text": "3 accounts reposted the same 2 posts within 10 s.", "evidence": ["S1"]},
                    {"text": "They posted the same text 6 times.", "evidence": ["S2"]},
                ],
                "accounts": [
                    {
                        "platform": "x",
                        "account_id": "101",
                        "handle": '=HYPERLINK("http://evil","x")',
                        "display_name": 'Anna \' \\ "P"',
                        "role": "core",
                        "signals": ["S1", "S2"],
                    },
                    {
                        "platform": "x",
                        "account_id": "102",
                        "handle": "+cmd",
                        "display_name": "Жанна 🌻",
                        "role": "core",
                        "signals": ["S1", "S2"],
                    },
                    {
                        "platform": "x",
                        "account_id": "103",
                        "handle": "b3",
                        "display_name": None,
                        "role": "periphery",
                        "signals": ["S1"],
                    },
                ],
                "counts": {
                    "accounts": 3,
                    "posts": 8,
                    "profiles": 3,
                    "per_platform": {"x": 3},
                    "per_language": {"en": 8},
                },
                "first_seen": "2024-03-04T10:00:00",
                "last_seen": "2024-03-05T11:00:00",
                "active_days": 2,
                "hashtags": [{"tag": "peace", "posts": 6, "share_of_all_uses": 0.75}],
                "domains": [
                    {"domain": "example.com", "posts": 5},
                    {"domain": "evil.example'] OR [x:y = 'z", "posts": 1},
                ],
                "narratives": [{"period": "2024-03-04", "keywords": ["peace"], "messages": ["D1"]}],
                "signals": ["S1", "S2"],
                "disarm": ["T0049.005", "T0084.001"],
            }
        ],
        "signals": [
            {
                "id": "S1",
                "type": "coordination",
                "campaign": "C1",
                "summary": "3 accounts reposted the same 2 posts within 10 s of each other",
                "figures": {"pairs": 3, "shared_objects": 2, "q_value": 0.001},
                "test": "co-repost within 10 s, min_participation 2; circular-shift null, BH q < 0.01",
                "accounts": [["x", "101"], ["x", "102"], ["x", "103"]],
                "evidence": {
                    "post_ids": [["x", "1001"], ["x", "1002"], ["x", "1003"]],
                    "times": ["2024-03-04T10:00:01", "2024-03-04T10:00:04", "2024-03-04T10:00:09"],
                },
            },
            {
                "id": "S2",
                "type": "copypasta",
                "campaign": "C1",
                "summary": "2 accounts posted '-2+3 @SUM(1)' 6 times",
                "figures": {"copies": 6, "accounts": 2},
                "test": "exact normalised text, at least 3 accounts or 5 copies",
                "accounts": [["x", "101"], ["x", "102"]],
                "evidence": {"post_ids": [["x", "2001"], ["x", "2002"]], "times": ["2024-03-05T11:00:00"]},
            },
            {
                "id": "S9",
                "type": "rhythm",
                "campaign": None,
                "summary": "office hours UTC+3",
                "figures": {"utc_offset": 3},
                "test": "hour-of-week fit",
                "evidence": {"post_ids": []},
            },
        ],
    }


def _schema() -> dict[str, Any]:
    return json.loads(files("swarmscope.report").joinpath("findings.schema.json").read_text(encoding="utf-8"))


def test_schema_declares_2020_12_and_names_every_signal_type() -> None:
    schema = _schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    # One list of signal types: the schema's and the DISARM mapping's must not drift apart.
    assert tuple(schema["$defs"]["signal_type"]["enum"]) == SIGNAL_TYPES


def test_schema_keeps_the_documented_field_names() -> None:
    d = _schema()["$defs"]
    assert {
        "id",
        "score",
        "score_parts",
        "verdict",
        "messages",
        "explanation",
        "accounts",
        "counts",
        "first_seen",
        "last_seen",
        "active_days",
        "hashtags",
        "domains",
        "narratives",
        "signals",
        "disarm",
    } == set(d["campaign"]["properties"])
    assert {"id", "type", "campaign", "summary", "figures", "test", "accounts", "evidence"} == set(
        d["signal"]["properties"]
    )
    assert {"tool", "tool_version", "run_id", "created_at", "parameters", "inputs", "dependencies"} == set(
        d["manifest"]["properties"]
    )


@pytest.fixture
def validator() -> Draft202012Validator:
    # jsonschema is not a swarmscope dependency; without it these tests skip (and say so).
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is not installed in this environment")
    jsonschema.Draft202012Validator.check_schema(_schema())
    return jsonschema.Draft202012Validator(_schema())


def _errors(validator: Draft202012Validator, doc: dict[str, Any]) -> list[str]:
    return [e.message for e in validator.iter_errors(doc)]


def test_small_findings_validate(validator: Draft202012Validator) -> None:
    assert _errors(validator, small_findings()) == []


def _broken(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    doc = copy.deepcopy(small_findings())
    edit(doc)
    return doc


@pytest.mark.parametrize(
    "name, edit, expected",
    [
        ("campaign without id", lambda d: d["campaigns"][0].pop("id"), "'id' is a required property"),
        ("signal without id", lambda d: d["signals"][0].pop("id"), "'id' is a required property"),
        ("score above 1", lambda d: d["campaigns"][0].__setitem__("score", 1.2), "greater than the maximum of 1"),
        (
            "share above 1",
            lambda d: d["campaigns"][0]["hashtags"][0].__setitem__("share_of_all_uses", 3),
            "greater than the maximum of 1",
        ),
        ("unknown signal type", lambda d: d["signals"][0].__setitem__("type", "vibes"), "'vibes' is not one of"),
        (
            "unknown role",
            lambda d: d["campaigns"][0]["accounts"][0].__setitem__("role", "boss"),
            "'boss' is not one of",
        ),
        ("malformed DISARM id", lambda d: d["campaigns"][0]["disarm"].append("T49"), "does not match"),
        ("signal without evidence", lambda d: d["signals"][1].pop("evidence"), "'evidence' is a required property"),
        ("post ref of one part", lambda d: d["signals"][0]["evidence"]["post_ids"].append(["x"]), "is too short"),
        (
            "time that is not ISO",
            lambda d: d["campaigns"][0].__setitem__("first_seen", "yesterday"),
            "is not valid under any of the given schemas",
        ),
    ],
)
def test_broken_findings_fail(
    validator: Draft202012Validator, name: str, edit: Callable[[dict[str, Any]], object], expected: str
) -> None:
    errors = _errors(validator, _broken(edit))
    assert any(expected in e for e in errors), (name, errors)
