"""STIX 2.1 bundles of a run's campaigns, for threat-intelligence platforms (OpenCTI, MISP and others).

What goes into the bundle, per campaign of findings.json:

- a Campaign (name, description from the explanation, first/last seen; the
  campaign score x 100 as ``confidence``);
- an AttackPattern for each DISARM technique, with an external reference
  (``source_name`` "DISARM", ``external_id``, a link to the pinned DISARM page),
  and a Campaign ``uses`` AttackPattern relationship;
- a ``user-account`` for each member account (``account_type`` = platform,
  ``user_id``, ``account_login`` = handle). An ObservedData groups them, and
  it is ``related-to`` the Campaign. A Note lists each account's role;
- a Note for each signal: its summary, test, figures and evidence post ids;
- an Indicator ``[domain-name:value = '...']`` for each domain the campaign
  linked to. Its type is "attribution": the campaign linked there, which does
  not make the site malicious;
- an IntrusionSet only when the analyst names one (``intrusion_set_name``),
  with Campaign ``attributed-to`` IntrusionSet. swarmscope itself never
  attributes.

Ids are UUIDv5 of a fixed namespace and a stable key (run id, campaign id,
technique id...). Every timestamp is the run's ``manifest.created_at``, so
exporting the same findings twice gives the same bytes. Account ids are
the STIX deterministic ids that stix2 derives from the account's properties.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import stix2
from stix2.serialization import find_property_index

from ..campaigns.disarm import Technique, technique, techniques_for_signals
from .tables import explanation_sentences

# The namespace for swarmscope's STIX ids; never change it, or re-exports get new ids.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/swarmscope/swarmscope/stix")
# Evidence post ids written into one signal's Note; the rest stay in findings.json.
NOTE_EVIDENCE_CAP = 500


class StixExportError(ValueError):
    """The findings cannot be exported; the message says which object and why."""


def _sid(kind: str, *key: object) -> str:
    return f"{kind}--{uuid.uuid5(NAMESPACE, '|'.join([kind, *map(str, key)]))}"


def _text(value: Any) -> str:
    """Text safe to serialise: lone surrogates (broken input) become U+FFFD."""
    return str(value).encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _ts(value: Any, what: str) -> dt.datetime:
    try:
        t = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise StixExportError(f"{what}: {value!r} is not an ISO 8601 time") from None
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def pattern_literal(value: str) -> str:
    """``value`` as a quoted STIX pattern string: backslash and quote escaped, so text cannot end the literal."""
    return "'" + _text(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def domain_pattern(domain: str) -> str:
    return f"[domain-name:value = {pattern_literal(domain)}]"


def _explanation(campaign: Mapping[str, Any], run_id: str) -> str:
    cid = campaign.get("id")
    head = f"Campaign {cid} found by swarmscope" + (f" in run {run_id}" if run_id else "")
    if campaign.get("score") is not None:
        head += f", score {campaign['score']}"
    return "\n".join([head + ".", *map(_text, explanation_sentences(campaign))])


def _techniques(campaign: Mapping[str, Any], signals: list[Mapping[str, Any]]) -> list[Technique]:
    if campaign.get("disarm") is not None:  # the assembler's choice, even an empty one
        try:
            return [technique(str(t)) for t in sorted(set(campaign["disarm"]))]
        except ValueError as e:
            raise StixExportError(f"campaign {campaign.get('id')}: {e}") from None
    return techniques_for_signals(signals)


def _signal_note_content(s: Mapping[str, Any]) -> str:
    evidence = s.get("evidence") or {}
    post_ids = evidence.get("post_ids") or []
    times = evidence.get("times") or []
    paired = len(times) == len(post_ids)
    lines = [
        _text(s.get("summary", "")),
        f"Type: {_text(s.get('type'))}",
        f"Test: {_text(s.get('test', ''))}",
        "Figures: " + _text(json.dumps(s.get("figures") or {}, ensure_ascii=False, sort_keys=True)),
        f"Evidence posts ({len(post_ids)}):",
    ]
    for i, (platform, post_id) in enumerate(post_ids[:NOTE_EVIDENCE_CAP]):
        lines.append(f"- {_text(platform)}:{_text(post_id)}" + (f" at {_text(times[i])}" if paired else ""))
    if len(post_ids) > NOTE_EVIDENCE_CAP:
        lines.append(f"... and {len(post_ids) - NOTE_EVIDENCE_CAP} more in findings.json")
    return "\n".join(lines)


def stix_bundle(findings: Mapping[str, Any], intrusion_set_name: str | None = None) -> stix2.Bundle:
    """A STIX 2.1 bundle of every campaign in ``findings`` (a findings.json dict); deterministic."""
    manifest = findings.get("manifest") or {}
    if not manifest.get("created_at"):
        raise StixExportError(
            "findings.manifest.created_at is missing: STIX objects need a creation time, "
            "and the run's own time keeps re-exports identical"
        )
    created = _ts(manifest["created_at"], "manifest.created_at")
    run_id = _text(manifest.get("run_id") or "")
    stamp = {"created": created, "modified": created}

    producer = stix2.v21.Identity(
        id=_sid("identity", "swarmscope"),
        name="swarmscope",
        identity_class="system",
        description="swarmscope: coordinated inauthentic behaviour detection",
        **stamp,
    )
    common = {"created_by_ref": producer.id, **stamp}
    by_id: dict[str, Any] = {producer.id: producer}
    relationships: dict[str, stix2.v21.Relationship] = {}

    def relate(source: str, kind: str, target: str) -> None:
        rid = _sid("relationship", source, kind, target)
        relationships[rid] = stix2.v21.Relationship(
            id=rid, relationship_type=kind, source_ref=source, target_ref=target, **common
        )

    intrusion_set = None
    if intrusion_set_name is not None and intrusion_set_name.strip():
        name = _text(intrusion_set_name.strip())
        intrusion_set = stix2.v21.IntrusionSet(
            id=_sid("intrusion-set", name),
            name=name,
            description="Placeholder named by the analyst at export time. swarmscope does not attribute "
            "campaigns; this records the analyst's hypothesis.",
            **common,
        )
        by_id[intrusion_set.id] = intrusion_set

    signals = list(findings.get("signals") or [])
    accounts_seen: dict[tuple[str, str], stix2.v21.UserAccount] = {}

    def user_account(platform: Any, account_id: Any, handle: Any = None, display_name: Any = None) -> str:
        key = (_text(platform), _text(account_id))
        if key not in accounts_seen:
            props = {"account_type": key[0], "user_id": key[1]}
            if handle:
                props["account_login"] = _text(handle)
            if display_name:
                props["display_name"] = _text(display_name)
            accounts_seen[key] = stix2.v21.UserAccount(**props)
            by_id[accounts_seen[key].id] = accounts_seen[key]
        return accounts_seen[key].id

    domains: dict[str, list[tuple[str, str, int]]] = {}  # domain -> (campaign stix id, campaign id, posts)
    for campaign in findings.get("campaigns") or []:
        cid = _text(campaign.get("id") or "")
        if not cid:
            raise StixExportError("a campaign has no id")
        wanted = set(campaign.get("signals") or [])
        own = [s for s in signals if s.get("id") in wanted or s.get("campaign") == campaign.get("id")]
        props: dict[str, Any] = {"name": f"swarmscope campaign {cid}", "description": _explanation(campaign, run_id)}
        first, last = campaign.get("first_seen"), campaign.get("last_seen")
        if first:
            props["first_seen"] = _ts(first, f"campaign {cid} first_seen")
        if last:
            props["last_seen"] = _ts(last, f"campaign {cid} last_seen")
        if first and last and props["last_seen"] < props["first_seen"]:
            raise StixExportError(f"campaign {cid}: last_seen {last} is before first_seen {first}")
        score = campaign.get("score")
        if isinstance(score, (int, float)) and 0 <= score <= 1:
            props["confidence"] = round(score * 100)
        camp = stix2.v21.Campaign(id=_sid("campaign", run_id, cid), **props, **common)
        by_id[camp.id] = camp
        if intrusion_set is not None:
            relate(camp.id, "attributed-to", intrusion_set.id)

        for t in _techniques(campaign, own):
            ap_id = _sid("attack-pattern", "DISARM", t.id)
            if ap_id not in by_id:
                ref = {"source_name": "DISARM", "external_id": t.id, "url": t.url}
                by_id[ap_id] = stix2.v21.AttackPattern(
                    id=ap_id, name=t.name, description=t.summary or None, external_references=[ref], **common
                )
            relate(camp.id, "uses", ap_id)

        members = campaign.get("accounts") or []
        handles = {(_text(a.get("platform")), _text(a.get("account_id"))): a for a in members}
        member_ids = [
            user_account(a.get("platform"), a.get("account_id"), a.get("handle"), a.get("display_name"))
            for a in members
        ]
        if member_ids:
            observed = stix2.v21.ObservedData(
                id=_sid("observed-data", run_id, cid),
                first_observed=props.get("first_seen", created),
                last_observed=props.get("last_seen", props.get("first_seen", created)),
                number_observed=1,
                object_refs=sorted(set(member_ids)),
                **common,
            )
            by_id[observed.id] = observed
            relate(observed.id, "related-to", camp.id)
            roles = [
                f"- {_text(a.get('platform'))}:{_text(a.get('account_id'))} @{_text(a.get('handle') or '')} "
                f"role={_text(a.get('role') or 'unknown')} signals={','.join(map(_text, a.get('signals') or []))}"
                for a in members
            ]
            note = stix2.v21.Note(
                id=_sid("note", run_id, cid, "members"),
                abstract=f"Accounts of campaign {cid}",
                content="\n".join([f"{len(members)} accounts (platform:account_id @handle):", *roles]),
                authors=["swarmscope"],
                object_refs=[camp.id, observed.id],
                **common,
            )
            by_id[note.id] = note

        for s in own:
            sid = _text(s.get("id") or "")
            refs = [camp.id]
            for pair in s.get("accounts") or []:
                platform, account_id = pair[0], pair[1]
                a = handles.get((_text(platform), _text(account_id)), {})
                refs.append(user_account(platform, account_id, a.get("handle"), a.get("display_name")))
            note = stix2.v21.Note(
                id=_sid("note", run_id, cid, sid),
                abstract=f"{sid} {_text(s.get('type'))}: {_text(s.get('summary', ''))}"[:500],
                content=_signal_note_content(s),
                authors=["swarmscope"],
                object_refs=list(dict.fromkeys(refs)),
                **common,
            )
            by_id[note.id] = note

        for d in campaign.get("domains") or []:
            domain = _text(d.get("domain") or "").strip().lower()
            if domain:
                domains.setdefault(domain, []).append((camp.id, cid, int(d.get("posts") or 0)))

    for domain, uses in sorted(domains.items()):
        linked = ", ".join(f"{cid} ({posts} posts)" for _, cid, posts in uses)
        indicator = stix2.v21.Indicator(
            id=_sid("indicator", run_id, "domain", domain),
            name=f"Domain linked by campaign {uses[0][1]}" + (" and others" if len(uses) > 1 else ""),
            pattern=domain_pattern(domain),
            pattern_type="stix",
            valid_from=created,
            indicator_types=["attribution"],
            description=f"Linked by swarmscope campaign(s) {linked}. That a campaign linked to a domain does "
            "not make the site malicious.",
            **common,
        )
        by_id[indicator.id] = indicator
        for camp_id, _, _ in uses:
            relate(indicator.id, "indicates", camp_id)

    order = [
        "identity",
        "intrusion-set",
        "attack-pattern",
        "campaign",
        "user-account",
        "observed-data",
        "note",
        "indicator",
    ]
    objects = sorted(by_id.values(), key=lambda o: (order.index(o.type), o.id))
    objects += [relationships[k] for k in sorted(relationships)]
    return stix2.v21.Bundle(objects=objects, id=_sid("bundle", run_id, intrusion_set_name or ""), allow_custom=False)


def _frozen(value: Any) -> Any:
    """``value`` as a hashable key that is equal where the values are equal (lists, mappings, STIX objects)."""
    if isinstance(value, list):
        return ("list", tuple(_frozen(v) for v in value))
    if isinstance(value, (Mapping, stix2.base._STIXBase)):
        return ("map", tuple(sorted((k, _frozen(v)) for k, v in value.items())))
    hash(value)  # anything else must be hashable; the caller falls back to stix2's own search
    return value


def _property_order(bundle: stix2.Bundle) -> Callable[[tuple[str, Any]], int]:
    """The key order of stix2's ``serialize(pretty=True)``, computed in one pass over the bundle.

    stix2 sorts each (key, value) of every object it writes by the key's
    position in the first object of the bundle, depth first, that holds the
    same key with an equal value (``serialization.find_property_index``). It
    searches the whole bundle for every property it writes, so the time grows
    with the square of the bundle: 28 s for one of a few thousand objects.
    One pre-order walk records each (key, value)'s first position; the sort
    then looks it up, and the bytes written are the same.
    """
    first: dict[tuple[str, Any], int] = {}

    def walk(node: Any) -> None:
        if isinstance(node, (stix2.base._STIXBase, dict)):
            keys = list(node) if isinstance(node, stix2.base._STIXBase) else sorted(node)
            at = {k: i for i, k in enumerate(keys)}
            for k, v in node.items():
                try:
                    first.setdefault((k, _frozen(v)), at[k])
                except TypeError:  # an unhashable value: stix2 finds its position itself
                    pass
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(bundle)

    def position(item: tuple[str, Any]) -> int:
        key, value = item
        if key.isdigit():  # as stix2: numbered keys (observable maps) sort by their number
            return int(key)
        try:
            return first[(key, _frozen(value))]
        except (KeyError, TypeError):
            return find_property_index(bundle, key, value)

    return position


def serialize(bundle: stix2.Bundle) -> str:
    """``bundle.serialize(pretty=True)``, byte for byte, in time proportional to the bundle (_property_order)."""
    return bundle.serialize(indent=4, separators=(",", ": "), item_sort_key=_property_order(bundle))


def write_stix(findings: Mapping[str, Any], path: str | Path, intrusion_set_name: str | None = None) -> Path:
    """Write ``stix_bundle(findings)`` as pretty JSON (UTF-8) to ``path``."""
    path = Path(path)
    text = serialize(stix_bundle(findings, intrusion_set_name))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text + "\n", encoding="utf-8")
    return path
