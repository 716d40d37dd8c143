"""Analyst labels: confirmed / dismissed / unsure judgements of accounts and campaigns, and evaluation.

An analyst marks an account or a campaign with a label and a note. Labels
live in the case's ``labels`` table (model.LABELS), append-only: a new label
on the same target is a new row, so the history (who said what, when, why)
is kept, and the latest row per target is the current label.

Campaign ids (C1, C2...) are renumbered by every detection run, so a campaign
label also stores the campaign's member accounts. After a re-run, the label
applies to the campaign whose members overlap the labelled members best:
Jaccard similarity >= ``CARRY_JACCARD`` (0.5: more than half of the union is
shared, so one group can carry a label to at most one campaign of a run that
does not split it). The overlap is reported with the label, never hidden.

Labels are ground truth for ``evaluate``: precision and recall of the
campaigns a run calls likely inauthentic, on the accounts analysts judged.
Detection never writes or deletes labels. ``label_case`` and ``case_labels``
do the same on a case file (``swarmscope label``), beside a running workbench.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from pathlib import Path
from typing import Any

import duckdb

from . import model

LABELS = ("confirmed", "dismissed", "unsure")
TARGETS = ("account", "campaign")
MAX_NOTE_CHARS = 10_000
MAX_ID_CHARS = 500
MAX_AUTHOR_CHARS = 200
CARRY_JACCARD = 0.5
LIST_CAP = 200  # tp/fp/fn account lists in evaluate(); the counts stay exact
_BROKEN = re.compile("[\ud800-\udfff\x00]")  # lone surrogates (broken UTF-16 from a client) and NUL


# -- writing -------------------------------------------------------------------------------


def add_label(
    con: duckdb.DuckDBPyConnection,
    *,
    target_type: str,
    target_id: str,
    platform: str | None,
    label: str,
    note: str,
    author: str,
    members: list[tuple[str, str]] | None = None,
    run_id: str | None = None,
) -> dict:
    """Append a label and return it (as ``current_labels`` shows it).

    ``members``: the campaign's accounts as (platform, account_id), required
    for a campaign label (it is how the label follows the campaign across
    re-runs), refused for an account label. ``run_id``: the detect run whose
    findings the analyst looked at; default the latest successful one.
    Raises ValueError naming the bad field.
    """
    if target_type not in TARGETS:
        raise ValueError(f"target_type must be one of {', '.join(TARGETS)}, got {target_type!r}")
    if label not in LABELS:
        raise ValueError(f"label must be one of {', '.join(LABELS)}, got {label!r}")
    target_id = _text(target_id, "target_id", MAX_ID_CHARS).strip()
    if not target_id:
        raise ValueError("target_id is empty")
    author = _text(author, "author", MAX_AUTHOR_CHARS).strip()
    if not author:
        raise ValueError("author is empty")
    note = _text("" if note is None else note, "note", MAX_NOTE_CHARS)
    _ensure_table(con)
    if target_type == "account":
        if platform not in model.PLATFORMS:
            raise ValueError(
                f"platform must be one of {', '.join(model.PLATFORMS)} for an account label, got {platform!r}"
            )
        if members is not None:
            raise ValueError("members: only a campaign label stores member accounts")
        if not _account_exists(con, platform, target_id):
            raise ValueError(f"target_id: no account {platform}:{target_id} in the case")
        members_json = None
    else:
        if platform not in (None, ""):
            raise ValueError(f"platform: a campaign label has no platform, got {platform!r}")
        platform = None
        members_json = json.dumps(_members(members), ensure_ascii=False)
    if run_id is None:
        run_id = latest_detect_run(con)
    row = con.execute(
        """INSERT INTO labels
           SELECT ?, ?, ?, ?, ?, ?, ?,
                  -- strictly after every stored label, so "latest" is never a tie
                  greatest(?::TIMESTAMP, (SELECT max(created_at) + INTERVAL 1 MICROSECOND FROM labels)),
                  ?, ?
           RETURNING label_id""",
        [uuid.uuid4().hex, target_type, platform, target_id, label, note, author, _utcnow(), members_json, run_id],
    ).fetchall()
    label_id = row[0][0]
    [out] = [r for r in _rows(con, "WHERE label_id = ?", [label_id])]
    out["history"] = len(
        label_history(con, target_type, target_id, platform, run_id if target_type == "campaign" else None)
    )
    return out


def _text(value: Any, name: str, cap: int) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be text, got {type(value).__name__}")
    if len(value) > cap:
        raise ValueError(f"{name} is {len(value):,} characters; at most {cap:,} are allowed")
    return _BROKEN.sub("\ufffd", value)


def _members(members: Any) -> list[list[str]]:
    if not members:
        raise ValueError("members: a campaign label needs the campaign's member accounts [(platform, account_id)]")
    out = set()
    for m in members:
        if not (isinstance(m, (list, tuple)) and len(m) == 2 and all(isinstance(x, str) and x for x in m)):
            raise ValueError(f"members: each member is (platform, account_id), got {m!r}")
        out.add((m[0], m[1]))
    return [list(m) for m in sorted(out)]


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _ensure_table(con: duckdb.DuckDBPyConnection) -> None:
    if not _has_table(con, "labels"):
        con.execute(model.ddl("labels"))


def _has_table(con: duckdb.DuckDBPyConnection, name: str) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = ? AND schema_name = 'main'"
            " AND database_name = current_database()",
            [name],
        ).fetchall()[0][0]
    )


def _account_exists(con: duckdb.DuckDBPyConnection, platform: str, account_id: str) -> bool:
    checks = [
        f"EXISTS (SELECT 1 FROM {t} WHERE platform = $1 AND account_id = $2)"
        for t in ("accounts", "posts")
        if _has_table(con, t)
    ]
    if not checks:
        return False
    return bool(con.execute(f"SELECT {' OR '.join(checks)}", [platform, account_id]).fetchall()[0][0])


def latest_detect_run(con: duckdb.DuckDBPyConnection) -> str | None:
    """The run id of the latest successful ``detect`` run, or None."""
    if not _has_table(con, "runs"):
        return None
    rows = con.execute(
        "SELECT run_id FROM runs WHERE command = 'detect' AND status = 'ok' "
        "ORDER BY started_at DESC, run_id DESC LIMIT 1"
    ).fetchall()
    return rows[0][0] if rows else None


# -- reading -------------------------------------------------------------------------------

# A campaign label's target is its campaign id in its run: C1 of another run is another group.
_KEY = "target_type, platform, target_id, CASE WHEN target_type = 'campaign' THEN run_id END"


def _rows(con: duckdb.DuckDBPyConnection, where: str = "", params: list | None = None, extra: str = "") -> list[dict]:
    if not _has_table(con, "labels"):
        return []
    rel = con.execute(f"SELECT *{extra} FROM labels {where}", params or [])
    names = [d[0] for d in rel.description]
    out = []
    for values in rel.fetchall():
        r = dict(zip(names, values))
        r["created_at"] = r["created_at"].isoformat() if r["created_at"] is not None else None
        r["members"] = json.loads(r["members"]) if r["members"] else None
        out.append(r)
    return out


def current_labels(con: duckdb.DuckDBPyConnection, target_type: str | None = None) -> list[dict]:
    """The current label of every labelled target (newest first), with ``history``: how many labels it has had."""
    if target_type is not None and target_type not in TARGETS:
        raise ValueError(f"target_type must be one of {', '.join(TARGETS)}, got {target_type!r}")
    rows = _rows(
        con,
        f"""WHERE ? IS NULL OR target_type = ?
                          QUALIFY row_number() OVER (PARTITION BY {_KEY} ORDER BY created_at DESC, label_id DESC) = 1
                          ORDER BY created_at DESC, label_id DESC""",
        [target_type, target_type],
        extra=f", count(*) OVER (PARTITION BY {_KEY}) AS history",
    )
    for r in rows:
        r["history"] = int(r["history"])
    return rows


def all_labels(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every label row, oldest first, with ``current``: whether it is its target's current label."""
    rows = _rows(
        con,
        "ORDER BY created_at, label_id",
        extra=f", row_number() OVER (PARTITION BY {_KEY} ORDER BY created_at DESC, label_id DESC) = 1 AS current",
    )
    return rows


def label_history(
    con: duckdb.DuckDBPyConnection, target_type: str, target_id: str, platform: str | None, run_id: str | None = None
) -> list[dict]:
    """Every label of one target, newest first (the first is the current one).

    A campaign id names a different group in every run: ``run_id`` narrows a
    campaign's history to one run (without it, every run's labels on that id).
    """
    if target_type not in TARGETS:
        raise ValueError(f"target_type must be one of {', '.join(TARGETS)}, got {target_type!r}")
    return _rows(
        con,
        """WHERE target_type = ? AND platform IS NOT DISTINCT FROM ? AND target_id = ?
                         AND (? IS NULL OR run_id = ?)
                         ORDER BY created_at DESC, label_id DESC""",
        [target_type, platform or None, target_id, run_id, run_id],
    )


def match_campaign_label(campaign_labels: list[dict], members: set[tuple[str, str]]) -> dict | None:
    """The label that applies to a campaign with ``members``, among current campaign labels (pure).

    A label applies when its stored members and ``members`` have Jaccard
    similarity >= CARRY_JACCARD; among those, the newest wins (the analyst's
    latest judgement of that group). The result adds ``overlap`` (Jaccard,
    4 decimals) and ``shared`` (accounts in both).
    """
    members = {(str(p), str(a)) for p, a in members}
    if not members:
        return None
    best = None
    for lab in campaign_labels:
        if lab.get("target_type") != "campaign" or not lab.get("members"):
            continue
        stored = {(p, a) for p, a in lab["members"]}
        shared = len(stored & members)
        jaccard = shared / len(stored | members)
        if jaccard >= CARRY_JACCARD and (
            best is None or (lab["created_at"], lab["label_id"]) > (best["created_at"], best["label_id"])
        ):
            best = {**lab, "overlap": round(jaccard, 4), "shared": shared}
    return best


def campaign_label_for(con: duckdb.DuckDBPyConnection, members: set[tuple[str, str]]) -> dict | None:
    """The current label of the campaign with these member accounts, carried across re-runs by overlap."""
    return match_campaign_label(current_labels(con, "campaign"), members)


# -- evaluation ----------------------------------------------------------------------------


def account_truth(labels: list[dict]) -> dict[tuple[str, str], dict]:
    """Each judged account's label from current labels: campaign labels expand to their members
    (the newest campaign label wins), and an account's own label overrides them."""
    truth: dict[tuple[str, str], dict] = {}
    for lab in sorted(
        (x for x in labels if x["target_type"] == "campaign"), key=lambda x: (x["created_at"], x["label_id"])
    ):
        for p, a in lab.get("members") or []:
            truth[(p, a)] = {"label": lab["label"], "source": "campaign", "label_id": lab["label_id"]}
    for lab in labels:
        if lab["target_type"] == "account":
            truth[(lab["platform"], lab["target_id"])] = {
                "label": lab["label"],
                "source": "account",
                "label_id": lab["label_id"],
            }
    return truth


def evaluate(con: duckdb.DuckDBPyConnection, findings: dict) -> dict:
    """Precision, recall and F1 of a run's likely-inauthentic campaigns against the analysts' labels.

    Positive prediction: an account in a campaign scored >= the run's
    ``campaigns.report_score`` (0.5). Truth: ``confirmed`` is positive,
    ``dismissed`` negative, ``unsure`` and unlabelled accounts are left out.
    Campaign labels count for each member they stored; an account label
    overrides its campaign's. Raises ValueError when the case has no labels.
    """
    labels = current_labels(con)
    if not labels:
        raise ValueError("no labels in the case: label accounts or campaigns as confirmed or dismissed first")
    if not isinstance(findings, dict) or not isinstance(findings.get("campaigns"), list):
        raise ValueError("findings: not a findings.json document (no campaigns list)")
    params = ((findings.get("manifest") or {}).get("parameters") or {}).get("campaigns") or {}
    report_score = float(params.get("report_score", 0.5))
    truth = account_truth(labels)
    flagged: set[tuple[str, str]] = set()
    rows = []
    camp_labels = [x for x in labels if x["target_type"] == "campaign"]
    for c in findings["campaigns"]:
        members = {(a["platform"], a["account_id"]) for a in c.get("accounts") or []}
        likely = float(c.get("score", 0)) >= report_score
        if likely:
            flagged |= members
        judged = [truth[m]["label"] for m in members if m in truth]
        conf, dism = judged.count("confirmed"), judged.count("dismissed")
        lab = match_campaign_label(camp_labels, members)
        rows.append(
            {
                "id": c.get("id"),
                "score": c.get("score"),
                "likely_inauthentic": likely,
                "accounts": len(members),
                "confirmed": conf,
                "dismissed": dism,
                "unsure": judged.count("unsure"),
                "unlabelled": len(members) - len(judged),
                "precision": _ratio(conf, conf + dism),
                "label": None
                if lab is None
                else {
                    k: lab[k] for k in ("label", "label_id", "target_id", "run_id", "author", "created_at", "overlap")
                },
            }
        )
    positives = {m for m, t in truth.items() if t["label"] == "confirmed"}
    negatives = {m for m, t in truth.items() if t["label"] == "dismissed"}
    tp, fp, fn = sorted(positives & flagged), sorted(negatives & flagged), sorted(positives - flagged)
    tn = negatives - flagged
    precision, recall = _ratio(len(tp), len(tp) + len(fp)), _ratio(len(tp), len(tp) + len(fn))
    f1 = (
        None
        if precision is None or recall is None or precision + recall == 0
        else round(2 * precision * recall / (precision + recall), 4)
    )
    return {
        "run_id": (findings.get("manifest") or {}).get("run_id"),
        "report_score": report_score,
        "judged_accounts": {
            "confirmed": len(positives),
            "dismissed": len(negatives),
            "unsure": sum(1 for t in truth.values() if t["label"] == "unsure"),
            "from_account_labels": sum(1 for t in truth.values() if t["source"] == "account"),
            "from_campaign_labels": sum(1 for t in truth.values() if t["source"] == "campaign"),
        },
        "labels": {"accounts": sum(1 for x in labels if x["target_type"] == "account"), "campaigns": len(camp_labels)},
        "tp": len(tp),
        "fp": len(fp),
        "fn": len(fn),
        "tn": len(tn),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "true_positives": [list(m) for m in tp[:LIST_CAP]],
        "false_positives": [list(m) for m in fp[:LIST_CAP]],
        "false_negatives": [list(m) for m in fn[:LIST_CAP]],
        "campaigns": rows,
        "note": "accounts: positive = in a campaign scored >= report_score; truth = confirmed (positive) or "
        "dismissed (negative) labels, unsure and unlabelled accounts left out",
    }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


# -- for reports and exports ---------------------------------------------------------------


def applied_to(labels: list[dict], findings: dict | None) -> dict[str, dict]:
    """For current campaign labels that apply to a campaign of ``findings``: label_id -> {campaign, overlap}."""
    camp_labels = [x for x in labels if x.get("target_type") == "campaign" and x.get("current", True)]
    out: dict[str, dict] = {}
    for c in (findings or {}).get("campaigns") or []:
        members = {(a.get("platform"), a.get("account_id")) for a in c.get("accounts") or []}
        lab = match_campaign_label(camp_labels, members)
        if lab is not None and (lab["label_id"] not in out or lab["overlap"] > out[lab["label_id"]]["overlap"]):
            out[lab["label_id"]] = {"campaign": c.get("id"), "overlap": lab["overlap"]}
    return out


def label_rows(con: duckdb.DuckDBPyConnection, findings: dict | None = None) -> list[dict]:
    """Every label (history included, oldest first) with ``current`` and, for a current campaign label,
    the campaign of ``findings`` it applies to and the overlap (else None): what exports write."""
    rows = all_labels(con)
    applied = applied_to(rows, findings)
    for r in rows:
        hit = applied.get(r["label_id"]) if r["current"] else None
        r["campaign"], r["overlap"] = (hit["campaign"], hit["overlap"]) if hit else (None, None)
    return rows


# -- on a case file (the command line) -------------------------------------------------------

CAMPAIGN_ROLES = ("core", "periphery")  # a campaign label stores every account listed (the workbench does the same)


def label_case(
    case: str | Path,
    *,
    target_type: str,
    target_id: str,
    platform: str | None,
    label: str,
    note: str = "",
    author: str | None = None,
    wait: float | None = None,
) -> dict:
    """``add_label`` on the case at ``case``: a campaign by its id in the case's current findings (its
    accounts are stored with the label); ``author`` defaults to the OS user.

    The case is open read-write only for the insert, so this works while ``swarmscope serve`` runs on it
    (it waits up to ``wait`` seconds for a moment the server is not reading, then store.CaseBusy).
    ValueError naming the bad field; FileNotFoundError for a missing case, or for a campaign label
    before the first detection.
    """
    from .findings import load_findings
    from .store import Case

    path = Path(case)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such case file")
    members = None
    if target_type == "campaign":
        campaigns = load_findings(path).get("campaigns") or []
        found = next((c for c in campaigns if c.get("id") == target_id), None)
        if found is None:
            ids = ", ".join(str(c.get("id")) for c in campaigns[:20]) or "none"
            raise ValueError(f"target_id: no campaign {target_id!r} in the current findings (campaigns: {ids})")
        accounts = found.get("accounts") or []
        members = [(a["platform"], a["account_id"]) for a in accounts if a.get("role") in CAMPAIGN_ROLES]
    with Case(path, wait=wait) as db:
        return add_label(
            db.con,
            target_type=target_type,
            target_id=target_id,
            platform=platform,
            label=label,
            note=note,
            author=author or default_author(),
            members=members,
        )


def default_author() -> str:
    """The OS user, the author of a label when none is named ("analyst" where there is no login name)."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no login name (containers)
        return "analyst"


def case_labels(
    case: str | Path,
    target_type: str | None = None,
    target_id: str | None = None,
    platform: str | None = None,
    wait: float | None = None,
) -> list[dict]:
    """The case's current labels (newest first; ``target_type`` narrows them), or with ``target_id`` that
    target's whole history, newest first. Opens the case read-only: works beside ``swarmscope serve``."""
    from .store import Case

    path = Path(case)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such case file")
    with Case(path, read_only=True, wait=wait) as db:
        if target_id is not None:
            if target_type is None:
                raise ValueError("target_id needs target_type (account or campaign)")
            return label_history(db.con, target_type, target_id, platform)
        return current_labels(db.con, target_type)
