"""Validation of the verdicts: simulated scenarios with ground truth, and the real reference sets.

    .venv/bin/python bench/validation.py --label after          # this tree
    PYTHONPATH=OLD/src .venv/bin/python bench/validation.py --label before   # an older tree
    .venv/bin/python bench/validation.py --render               # docs/validation.md from both

Each run writes bench/results/validation-<label>.json; --render writes
docs/validation.md with every label side by side (the README of each real
set in ../shared/data says where it comes from):

- simulated scenarios, seeds 7 (the demo's world), 11 and 13: planted
  operations' account precision and recall, organic and fan-crowd accounts
  at an inauthentic tier, and whether each planted signal is still reported;
- organic_cascades (real organic retweet cascades): accounts per tier;
- ira_english (a real state operation): accounts per tier, per category;
- coortweet (Russian retweets, German election pages), telegram_ru_news
  (newsrooms that openly republish each other): accounts per tier;
- the reliability table: per score bucket, the share of accounts in those
  campaigns that are truly in an operation (simulated truth; IRA accounts
  are all operation, organic-cascade accounts none).

Findings written before the verdict tiers existed have no ``verdict``: their
campaigns count as ``weak`` when ``likely_inauthentic`` and ``inconclusive``
otherwise, which is how they were reported then.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import gzip
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DOC = HERE.parent / "docs" / "validation.md"
SHARED = HERE.parent.parent / "shared" / "data"
TIERS = ("strong", "moderate", "weak", "inconclusive", "organic")
INAUTHENTIC = ("strong", "moderate", "weak")
BUCKETS = ((0.0, 0.3), (0.3, 0.4), (0.4, 0.5), (0.5, 0.65), (0.65, 0.8), (0.8, 1.01))
SEEDS = (7, 11, 13)


def tier(c: dict) -> str:
    v = c.get("verdict")
    if isinstance(v, dict) and v.get("tier") in TIERS:
        return v["tier"]
    return "weak" if c.get("likely_inauthentic") else "inconclusive"


def account_tiers(findings: dict) -> dict[str, str]:
    """Each core account's best tier over the campaigns it is in (inauthentic tiers first)."""
    rank = {t: i for i, t in enumerate(TIERS)}
    out: dict[str, str] = {}
    for c in findings["campaigns"]:
        t = tier(c)
        for a in c["accounts"]:
            if a.get("role", "core") != "core":
                continue
            old = out.get(a["account_id"])
            if old is None or rank[t] < rank[old]:
                out[a["account_id"]] = t
    return out


def account_scores(findings: dict) -> dict[str, float]:
    out: dict[str, float] = {}
    for c in findings["campaigns"]:
        for a in c["accounts"]:
            if a.get("role", "core") == "core":
                out[a["account_id"]] = max(out.get(a["account_id"], 0.0), c["score"])
    return out


def _cli(*args: str) -> None:
    """Run the swarmscope CLI of whatever tree PYTHONPATH points at."""
    subprocess.run(
        [sys.executable, "-c", "from swarmscope.cli import app; app()", *args], check=True, stdout=subprocess.DEVNULL
    )


def _detect(case: Path) -> dict:
    started = time.perf_counter()
    _cli("detect", str(case))
    f = json.loads(case.with_name(case.stem + ".findings.json").read_text())
    f["_seconds"] = round(time.perf_counter() - started, 1)
    return f


def simulated(work: Path) -> dict:
    from swarmscope.ingest import ingest
    from swarmscope.simulate import ScenarioParams, generate

    out = {}
    for seed in SEEDS:
        params = (
            ScenarioParams(seed=seed)
            if seed == 7
            else ScenarioParams(seed=seed, n_organic_accounts=800, n_organic_posts=6000, n_fan_accounts=200)
        )
        sc = generate(work / f"sim{seed}", params)
        case = work / f"sim{seed}.duckdb"
        ingest(case, sc.files, progress=False)
        _cli("detect", str(case), "--watchlist", str(sc.watchlist_path))
        f = json.loads(case.with_name(case.stem + ".findings.json").read_text())
        tiers = account_tiers(f)
        scores = account_scores(f)
        truth = sc.truth
        ops = {op["name"]: set(op["account_ids"]) for op in truth["operations"]}
        organic = set(truth["organic"]["account_ids"])
        fans = set(truth["fan_crowd"]["account_ids"])
        camps = {
            c["id"]: {a["account_id"] for a in c["accounts"] if a.get("role", "core") == "core"} for c in f["campaigns"]
        }
        per_op = {}
        for name, members in ops.items():
            best = max(camps.items(), key=lambda kv: len(kv[1] & members) / len(kv[1] | members), default=None)
            if best is None or not best[1] & members:
                per_op[name] = {"precision": 0.0, "recall": 0.0, "tier": None}
                continue
            cid, acc = best
            tp = len(acc & members)
            c = next(c for c in f["campaigns"] if c["id"] == cid)
            per_op[name] = {
                "precision": round(tp / len(acc), 4),
                "recall": round(tp / len(members), 4),
                "tier": tier(c),
                "score": c["score"],
            }
        types = {s["type"] for s in f["signals"]}
        out[str(seed)] = {
            "operations": per_op,
            "organic_accounts": len(organic),
            "organic_at_inauthentic_tier": sum(1 for a in organic if tiers.get(a) in INAUTHENTIC),
            "fan_accounts": len(fans),
            "fans_at_inauthentic_tier": sum(1 for a in fans if tiers.get(a) in INAUTHENTIC),
            "signals": sorted(types),
            "reliability": _reliability(scores, set().union(*ops.values()), organic | fans),
        }
    return out


def _reliability(scores: dict[str, float], positives: set[str], negatives: set[str] | None = None) -> list[dict]:
    """Per score bucket: accounts in campaigns of that score, and how many are truly in an operation."""
    rows = []
    for lo, hi in BUCKETS:
        accs = [a for a, s in scores.items() if lo <= s < hi]
        known = [a for a in accs if a in positives or negatives is None or a in negatives]
        rows.append(
            {
                "bucket": f"{lo:.2f}-{min(hi, 1.0):.2f}",
                "accounts": len(known),
                "in_operations": sum(1 for a in known if a in positives),
            }
        )
    return rows


def real(work: Path) -> dict:
    out = {}
    # organic_cascades: every account organic
    jsonl = work / "twitter15_x_v2.jsonl"
    with gzip.open(SHARED / "organic_cascades" / "twitter15_x_v2.jsonl.gz", "rb") as src, open(jsonl, "wb") as dst:
        shutil.copyfileobj(src, dst)
    _cli("ingest", str(work / "organic.duckdb"), str(jsonl))
    f = _detect(work / "organic.duckdb")
    out["organic_cascades"] = _tier_counts(f) | {"accounts": _accounts(work / "organic.duckdb")}
    out["organic_cascades"]["reliability"] = _reliability(account_scores(f), set())
    jsonl.unlink()
    # ira_english: every account in the operation; per category
    table = work / "ira_english.csv"
    with gzip.open(SHARED / "ira_english" / "ira_english.csv.gz", "rb") as src, open(table, "wb") as dst:
        shutil.copyfileobj(src, dst)
    _cli(
        "ingest",
        str(work / "ira.duckdb"),
        str(table),
        "--format",
        "generic_table",
        "--platform",
        "x",
        "--map",
        "post_id=post_id",
        "--map",
        "account_id=author_id",
        "--map",
        "handle=author_id",
        "--map",
        "text=content",
        "--map",
        "created_at=publish_date",
        "--map",
        "kind=kind",
    )
    table.unlink()
    f = _detect(work / "ira.duckdb")
    category = {}
    with open(SHARED / "ira_english" / "authors.csv", newline="", encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            category[r["author_id"]] = r["account_category"]
    present = _account_ids(work / "ira.duckdb")
    tiers = account_tiers(f)
    per_cat: dict[str, Counter] = {}
    for a in present:
        per_cat.setdefault(category.get(a, "Unlisted"), Counter())[tiers.get(a, "none")] += 1
    out["ira_english"] = _tier_counts(f) | {
        "accounts": len(present),
        "per_category": {k: dict(v) for k, v in sorted(per_cat.items())},
    }
    out["ira_english"]["reliability"] = _reliability(account_scores(f), present)
    out["ira_english"]["repeated_copiers"] = _repeated_copiers(work / "ira.duckdb", tiers, category)
    # coortweet: Russian retweets, German election pages and accounts
    for name, file in (("coortweet_russian", "russian_coord_tweets.csv"), ("coortweet_german", "german_elections.csv")):
        case = work / f"{name}.duckdb"
        _cli("ingest", str(case), str(SHARED / "coortweet" / file), "--format", "coortweet_csv")
        f = _detect(case)
        out[name] = _tier_counts(f) | {"accounts": _accounts(case)}
        if name == "coortweet_german":  # open campaigning by parties and pages: no operation in it
            out[name]["reliability"] = _reliability(account_scores(f), set())
    # telegram_ru_news: newsrooms that openly republish each other: no operation in it
    case = work / "telegram.duckdb"
    _cli("ingest", str(case), str(SHARED / "telegram_ru_news"))
    f = _detect(case)
    out["telegram_ru_news"] = _tier_counts(f) | {"accounts": _accounts(case)}
    out["telegram_ru_news"]["reliability"] = _reliability(account_scores(f), set())
    return out


def _repeated_copiers(case: Path, tiers: dict[str, str], category: dict[str, str]) -> dict:
    """An independent count, not the detector's: accounts that posted the same text (a copy, or a
    retweet of the same tweet) as another account of the case within 60 s of it, at least twice;
    and how many of them the verdicts put at an inauthentic tier, per category."""
    import duckdb

    con = duckdb.connect(str(case), read_only=True)
    try:
        rows = con.execute(
            """WITH a AS (SELECT account_id, post_id, object_type, object_id, epoch(created_at) AS t FROM actions
                          WHERE object_type IN ('text_fingerprint', 'repost_of'))
               SELECT x.account_id, count(DISTINCT x.post_id) FROM a x JOIN a y
                 ON x.object_type = y.object_type AND x.object_id = y.object_id
                AND x.account_id <> y.account_id AND abs(x.t - y.t) <= 60
               GROUP BY 1 HAVING count(DISTINCT x.post_id) >= 2"""
        ).fetchall()
    finally:
        con.close()
    per_cat: dict[str, Counter] = {}
    missed_posts = Counter()
    for account, n in rows:
        out = tiers.get(account) in INAUTHENTIC
        per_cat.setdefault(category.get(account, "Unlisted"), Counter())["out" if out else "in"] += 1
        if not out:
            missed_posts["2-4" if n < 5 else "5-9" if n < 10 else "10+"] += 1
    return {
        "accounts": len(rows),
        "at_inauthentic_tier": sum(c["out"] for c in per_cat.values()),
        "per_category": {k: {"accounts": v["out"] + v["in"], "out": v["out"]} for k, v in sorted(per_cat.items())},
        "missed_by_posts": dict(missed_posts),
    }


def _tier_counts(f: dict) -> dict:
    tiers = Counter(account_tiers(f).values())
    networks = {
        k: {kk: v.get(kk) for kk in ("actions", "edges", "significant", "null", "reposts_linked_by_text") if kk in v}
        for k, v in f.get("networks", {}).items()
        if v.get("actions")
    }
    return {
        "campaigns": len(f["campaigns"]),
        "tiers": {t: tiers.get(t, 0) for t in TIERS},
        "detect_seconds": f.get("_seconds"),
        "networks": networks,
    }


def _account_ids(case: Path) -> set[str]:
    import duckdb

    con = duckdb.connect(str(case), read_only=True)
    try:
        return {r[0] for r in con.execute("SELECT DISTINCT account_id FROM posts").fetchall()}
    finally:
        con.close()


def _accounts(case: Path) -> int:
    return len(_account_ids(case))


def run(label: str) -> Path:
    import swarmscope

    work = Path(tempfile.mkdtemp(prefix="swarmscope-validation-"))
    try:
        result = {
            "label": label,
            "date": dt.date.today().isoformat(),
            "tool": {
                "version": swarmscope.__version__,
                "source": str(Path(swarmscope.__file__).parent),
                "commit": _commit(Path(swarmscope.__file__).parent),
            },
            "machine": f"{platform.machine()}, {platform.python_version()}",
            "simulated": simulated(work),
            "real": real(work) if SHARED.exists() else {},
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"validation-{label}.json"
    path.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    return path


def _commit(src: Path) -> str | None:
    try:
        return (
            subprocess.run(
                ["git", "-C", str(src), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
            ).stdout.strip()
            or None
        )
    except (OSError, subprocess.CalledProcessError):
        return None


def render() -> Path:
    runs = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("validation-*.json"))]
    runs.sort(key=lambda r: (r["label"] != "before", r["label"]))
    labels = [r["label"] for r in runs]
    lines = [
        "# Validation: verdicts on simulated and real data",
        "",
        "Written by `bench/validation.py --render` from bench/results/validation-*.json "
        "(rerun: see the script's docstring).",
        "",
    ]
    for r in runs:
        lines.append(
            f"- **{r['label']}**: swarmscope {r['tool']['version']} at {r['tool'].get('commit') or '?'}, "
            f"{r['date']}, {r['machine']}"
        )
    lines += [
        "",
        "Tiers (campaigns/verdict.py): strong >= 0.8, moderate >= 0.65, weak >= 0.5 (the three "
        "*inauthentic* tiers), inconclusive, organic. Findings from before the tiers existed count as "
        "weak when they were reported likely inauthentic, else inconclusive.",
        "",
    ]
    lines += [
        "## Simulated scenarios",
        "",
        "| seed | | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for seed in map(str, SEEDS):
        sims = [r["simulated"].get(seed) for r in runs]
        for name in sims[0]["operations"] if sims[0] else []:
            cells = []
            for s in sims:
                o = s["operations"].get(name) if s else None
                cells.append(f"P {o['precision']:.2f} / R {o['recall']:.2f}, {o['tier']}" if o else "")
            lines.append(f"| {seed} | {name} | " + " | ".join(cells) + " |")
        lines.append(
            f"| {seed} | organic accounts at an inauthentic tier | "
            + " | ".join(
                f"{s['organic_at_inauthentic_tier']} of {s['organic_accounts']} "
                f"({s['organic_at_inauthentic_tier'] / max(s['organic_accounts'], 1):.2%})"
                for s in sims
            )
            + " |"
        )
        lines.append(
            f"| {seed} | fan-crowd accounts at an inauthentic tier | "
            + " | ".join(f"{s['fans_at_inauthentic_tier']} of {s['fan_accounts']}" for s in sims)
            + " |"
        )
        lines.append(
            f"| {seed} | planted signals reported | "
            + " | ".join(", ".join(sorted(set(SIM_SIGNALS) & set(s["signals"]))) or "none" for s in sims)
            + " |"
        )
    lines += [
        "",
        "## Real reference sets",
        "",
        "Accounts per tier (an account counts once, at its best tier).",
        "",
        "| set | accounts | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for name in ("organic_cascades", "ira_english", "coortweet_russian", "coortweet_german", "telegram_ru_news"):
        rs = [r["real"].get(name) for r in runs]
        if not any(rs):
            continue
        n = next(x["accounts"] for x in rs if x)
        lines.append(f"| {name} | {n:,} | " + " | ".join(_tier_cell(x) for x in rs) + " |")
    lines += [
        "",
        "Co-action networks on the real sets: actions / edges / significant edges, and the null used.",
        "",
        "| set | network | " + " | ".join(labels) + " |",
        "|---|---|" + "---|" * len(labels),
    ]
    for name in ("organic_cascades", "ira_english", "coortweet_russian", "coortweet_german", "telegram_ru_news"):
        nets = sorted({n for r in runs for n in ((r["real"].get(name) or {}).get("networks") or {})})
        for net in nets:
            cells = []
            for r in runs:
                recorded = (r["real"].get(name) or {}).get("networks")
                x = (recorded or {}).get(net)
                if not x:
                    cells.append("no actions" if recorded is not None else "not recorded")
                    continue
                null = (x.get("null") or {}).get("model", "")
                linked = f", {x['reposts_linked_by_text']:,} linked by text" if x.get("reposts_linked_by_text") else ""
                cells.append(f"{x['actions']:,} / {x['edges']:,} / {x['significant']:,} {null}{linked}")
            lines.append(f"| {name} | {net} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "### ira_english per category",
        "",
        "| category | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    cats = sorted({c for r in runs for c in (r["real"].get("ira_english") or {}).get("per_category", {})})
    for cat in cats:
        cells = []
        for r in runs:
            pc = (r["real"].get("ira_english") or {}).get("per_category", {}).get(cat, {})
            total = sum(pc.values())
            inauth = sum(pc.get(t, 0) for t in INAUTHENTIC)
            in_tiers = ", ".join(f"{t} {pc[t]}" for t in TIERS if pc.get(t)) or "in no campaign"
            cells.append(f"{inauth} of {total} inauthentic ({in_tiers})" if total else "")
        lines.append(f"| {cat} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "An independent count (bench/validation.py `_repeated_copiers`, not the detector): accounts that "
        "posted the same text as another account of the archive within 60 s of it (a copy, or a retweet of "
        "the same tweet), at least twice; and how many of them come out at an inauthentic tier.",
        "",
        "| category | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    rc = [(r["real"].get("ira_english") or {}).get("repeated_copiers") for r in runs]
    for cat in sorted({c for x in rc if x for c in x["per_category"]}) + ["all"]:
        cells = []
        for x in rc:
            if not x:
                cells.append("not counted")
                continue
            whole = {"accounts": x["accounts"], "out": x["at_inauthentic_tier"]}
            v = x["per_category"].get(cat) if cat != "all" else whole
            ok = v and v["accounts"]
            cells.append(f"{v['out']} of {v['accounts']} ({v['out'] / v['accounts']:.0%})" if ok else "")
        lines.append(f"| {cat} | " + " | ".join(cells) + " |")
    missed = [", ".join(f"{k}: {v}" for k, v in sorted(x["missed_by_posts"].items())) for x in rc if x]
    if missed:
        lines += ["", "Left out, by how many such posts they made: " + " | ".join(missed) + "."]
    lines += [
        "",
        "## Reliability",
        "",
        "Accounts in campaigns of each score bucket (an account at its best campaign's score), and the share "
        "truly in an operation: simulated seeds pooled (planted operations vs organic and fan accounts), "
        "plus the real sets whose truth is known (ira_english: all operation; organic_cascades, "
        "coortweet_german and telegram_ru_news: none, the last two open coordination by parties, pages and "
        "newsrooms).",
        "",
        "| score | " + " | ".join(labels) + " |",
        "|---|" + "---|" * len(labels),
    ]
    for i, (lo, hi) in enumerate(BUCKETS):
        cells = []
        for r in runs:
            acc = pos = 0
            for s in r["simulated"].values():
                acc += s["reliability"][i]["accounts"]
                pos += s["reliability"][i]["in_operations"]
            for name in ("ira_english", "organic_cascades", "coortweet_german", "telegram_ru_news"):
                rel = (r["real"].get(name) or {}).get("reliability")
                if rel:
                    acc += rel[i]["accounts"]
                    pos += rel[i]["in_operations"]
            cells.append(f"{pos / acc:.0%} of {acc:,}" if acc else "no account")
        lines.append(f"| {lo:.2f}-{min(hi, 1.0):.2f} | " + " | ".join(cells) + " |")
    lines.append("")
    DOC.write_text("\n".join(lines) + NOTES)
    return DOC


SIM_SIGNALS = (
    "burst",
    "run",
    "rhythm",
    "holiday",
    "narrative_shift",
    "cross_platform_lead",
    "creation_batch",
    "impersonation",
)


def _tier_cell(x: dict | None) -> str:
    if not x:
        return ""
    t = x["tiers"]
    return ", ".join(f"{k} {t[k]:,}" for k in TIERS if t.get(k)) or "no campaign"


NOTES = """
## Notes

What each real set can and cannot show is in its README under ../shared/data.

- organic_cascades: 605,057 real organic retweets, 7 significant repost
  edges, no campaign, before and after: no organic account is accused.
- ira_english: every account is the operation. 914 of its 1,367 accounts
  sit in campaigns at an inauthentic tier, 93 of them moderate, almost all
  through copies (same_text). The independent count above asks the issue's
  question directly: of the 791 accounts that posted the same text as
  another member within a minute of it at least twice, 691 (87 %) come out
  at an inauthentic tier; every category but Unknown is at 81-91 %. What
  stays out: 100 accounts, half of them with 2-4 such posts (too few to
  beat chance in 30 months of timelines), and 27 with 10 or more whose
  co-posts are all co-retweets (none a copy), in the repost network. Its
  retweets carry no id of the original: 715,779 meet by text (5,614 repost
  edges), but only 26 repost edges are significant, because the repeated
  co-sharers are 43 % of the accounts sharing reposts, under the 50 % at
  which a case counts as having no organic background of its own, so the
  case's own pooled delays were used. Judged against the organic reference
  instead (a config run, not the default), 503 repost edges are significant
  and 717 of the 791 (91 %) come out: the retweet rings are the part of the
  IRA that the default leaves out, by a rule chosen from principle (most of
  the sharers are repeat co-sharers), not moved to fit this archive. The
  archive's times are rounded to the minute, which blurs 60-second windows
  too. Commercial (5 accounts, spam without copies across members) and
  most of Unknown (214 accounts, small timelines) stay out.
- coortweet_russian: the CooRTweet layout's objects now have a network
  ('objects', 60 s). It has CooRTweet's own 3,721 edges (its reference
  output for a 60 s window and min participation 2), but only 32 account
  pairs co-shared two or more objects and none beyond chance, under the
  case's pooled delays or the organic reference (co-sharing share 0.6 %):
  no campaign. CooRTweet's edges are mostly one shared retweet each.
- coortweet_german: Facebook pages and Twitter accounts posting the same
  links; telegram_ru_news: newsroom channels republishing each other. Both
  are open coordination: after, their clusters are organic or inconclusive,
  never at an inauthentic tier, and their scores (all under 0.5) fill the
  reliability table's lower rows.
- Reliability: on these sets every account in a campaign scored 0.5 or
  more is truly in an operation, and every account scored under 0.5 is
  not. The table is thin under 0.5 (30 accounts): the sets hold few
  organic clusters that look coordinated at all, so where precision starts
  to fall above 0.5 is still unmeasured.
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--label", help="run the validation and save it under this label (before, after, ...)")
    ap.add_argument("--render", action="store_true", help="write docs/validation.md from the saved runs")
    args = ap.parse_args()
    if args.label:
        print(run(args.label))
    if args.render:
        print(render())


if __name__ == "__main__":
    main()
