"""DISARM Red Framework technique ids for swarmscope's signal types.

DISARM (DISARM Foundation, CC BY 4.0) is the shared vocabulary that
threat-intelligence platforms use to tag the behaviour of influence
operations. The technique table comes with the package
(``data/disarm_techniques.csv``, source and licence in
``data/DISARM_SOURCE.md``) and is pinned to one commit of the DISARM
repository, so the same findings always get the same ids.

The mapping is deliberately narrow. A signal maps to a technique only when
the signal shows the behaviour the technique names. Signals that describe the
operators rather than a behaviour (working hours, holidays) map to nothing.
docs/exports.md gives the reason for each row of ``MAPPINGS``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any

DISARM_REPOSITORY = "https://github.com/DISARMFoundation/DISARMframeworks"
DISARM_COMMIT = "5409c8c7148c4a327f4ba41ea2890c6c3bf811c1"
DISARM_LICENCE = "CC-BY-4.0"

# The signal types of findings.json (docs/findings-schema.md); the JSON Schema uses the same list.
SIGNAL_TYPES: tuple[str, ...] = (
    "coordination",
    "copypasta",
    "burst",
    "run",
    "automation",
    "rhythm",
    "holiday",
    "creation_batch",
    "handle_pattern",
    "profile_pattern",
    "impersonation",
    "cross_platform_lead",
    "narrative_shift",
)


@dataclass(frozen=True)
class Technique:
    """One DISARM technique or sub-technique, as published at ``DISARM_COMMIT``."""

    id: str
    name: str
    tactic_id: str
    summary: str  # DISARM's own text; filled for the mapped techniques only

    @property
    def parent_id(self) -> str | None:
        return self.id.split(".")[0] if "." in self.id else None

    @property
    def url(self) -> str:
        return f"{DISARM_REPOSITORY}/blob/{DISARM_COMMIT}/generated_pages/techniques/{self.id}.md"


@dataclass(frozen=True)
class Rule:
    """Findings with all of ``signal_types`` show the behaviour of ``technique_id``."""

    signal_types: frozenset[str]
    technique_id: str
    reason: str


def _rule(types: str, technique_id: str, reason: str) -> Rule:
    return Rule(frozenset(types.split("+")), technique_id, reason)


MAPPINGS: tuple[Rule, ...] = (
    _rule(
        "coordination",
        "T0049.005",
        "accounts act on the same posts, links or hashtags within seconds, far more often than chance: "
        "DISARM's 'coordinated use of accounts to overwhelm the information space'",
    ),
    _rule(
        "copypasta",
        "T0084.001",
        "the same or near-same text posted by many accounts is copypasta by DISARM's definition",
    ),
    _rule("burst", "T0049", "a volume far above the baseline in a short window is a flood of content"),
    _rule("run", "T0049", "one account posting the same text many times in a row floods feeds and hashtags"),
    _rule("automation", "T0146.007", "posting at a rate or regularity no person keeps up is an automated account"),
    _rule(
        "automation+coordination",
        "T0049.003",
        "automated accounts that also re-share the same items in sync are bots amplifying by reposting; "
        "automation alone does not show the amplification",
    ),
    _rule(
        "creation_batch",
        "T0150.008",
        "accounts created together far above the platform's creation rate; DISARM names creation date as an "
        "indicator of bulk creation",
    ),
    _rule(
        "handle_pattern",
        "T0150.008",
        "templated handles; DISARM names 'assets' naming conventions' as an indicator of bulk creation",
    ),
    _rule(
        "impersonation",
        "T0143.003",
        "the account presents itself as an existing person or institution on the user's watchlist",
    ),
    _rule(
        "cross_platform_lead",
        "T0119.002",
        "the same text appears on another platform minutes after the source posted it",
    ),
)

# Signal types with no technique, and why; docs/exports.md repeats these.
UNMAPPED: dict[str, str] = {
    "profile_pattern": "shared bios, names or pictures and bare profiles hint at accounts made in bulk, but "
    "DISARM's indicators of bulk creation are creation dates and naming conventions (creation_batch, "
    "handle_pattern); the hint is reported without a technique",
    "rhythm": "working hours and time zone describe who runs the accounts, not a technique they use",
    "holiday": "a drop on a country's holidays is evidence about the operators' location, not a technique",
    "narrative_shift": "a synchronised switch of messages shows central direction, which DISARM has no "
    "technique for; the messages themselves are tagged through copypasta",
}

# An impersonation whose match rule starts with this copied the look of the handle itself.
_LOOKALIKE_HANDLE_RULE = "handle-"


@cache
def techniques() -> dict[str, Technique]:
    """The packaged technique table, by id."""
    text = files("swarmscope").joinpath("data/disarm_techniques.csv").read_text(encoding="utf-8")
    return {
        row["technique_id"]: Technique(row["technique_id"], row["name"], row["tactic_id"], row["summary"])
        for row in csv.DictReader(io.StringIO(text))
    }


def technique(technique_id: str) -> Technique:
    """One technique; a clear error for an id that this DISARM version does not have."""
    table = techniques()
    if technique_id not in table:
        raise ValueError(
            f"DISARM technique {technique_id!r} is not in the packaged DISARM table "
            f"(commit {DISARM_COMMIT[:12]}); see data/DISARM_SOURCE.md for ids that were retired"
        )
    return table[technique_id]


def _check_types(signal_types: Iterable[str]) -> frozenset[str]:
    types = frozenset(signal_types)
    unknown = sorted(types.difference(SIGNAL_TYPES))
    if unknown:
        raise ValueError(
            f"unknown signal type(s) {', '.join(map(repr, unknown))}; expected some of {', '.join(SIGNAL_TYPES)}"
        )
    return types


def techniques_for(signal_types: Iterable[str]) -> list[Technique]:
    """The DISARM techniques that a set of signal types shows, sorted by id (no duplicates)."""
    types = _check_types(signal_types)
    ids = {r.technique_id for r in MAPPINGS if r.signal_types <= types}
    return [technique(i) for i in sorted(ids)]


def techniques_for_signals(signals: Iterable[Mapping[str, Any]]) -> list[Technique]:
    """Like ``techniques_for`` over findings.json signal objects, refined by their figures.

    An impersonation signal whose ``figures["match"]`` (a rule name, or a list
    of them) starts with ``handle-`` also gets T0146.005 Lookalike Account ID:
    the handle copies the real one's look. A display-name match does not.
    """
    signals = list(signals)
    ids = {t.id for t in techniques_for(s.get("type") for s in signals)}
    for s in signals:
        if s.get("type") != "impersonation":
            continue
        match = (s.get("figures") or {}).get("match")
        rules = [match] if isinstance(match, str) else list(match or [])
        if any(isinstance(r, str) and r.startswith(_LOOKALIKE_HANDLE_RULE) for r in rules):
            ids.add("T0146.005")
    return [technique(i) for i in sorted(ids)]
