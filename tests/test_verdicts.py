"""Verdicts on hand-made cases: shares are shares, crowds stay organic, evidence grows with evidence.

Each case is small enough to read: a fan crowd that retweets popular fans
in the old "RT @handle: text" form, reposts whose original's id the export
withholds, and a handful of ordinary accounts that happen to co-retweet.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from swarmscope import model
from swarmscope.campaigns.accounts import excess_over_base, wilson_lower
from swarmscope.campaigns.coordination import coordination_strength
from swarmscope.campaigns.params import CampaignParams
from swarmscope.campaigns.verdict import verdict
from swarmscope.ingest import ReadOptions, ingest
from swarmscope.ingest.base import classic_retweets
from swarmscope.pipeline import detect

T0 = dt.datetime(2024, 5, 25, 19, 0)
COLUMNS = {"post_id": "id", "account_id": "user", "handle": "user", "created_at": "time", "text": "text"}


def _write(path: Path, rows: list[dict]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "user", "time", "text"])
        w.writeheader()
        w.writerows(rows)
    return path


def _case(tmp_path: Path, rows: list[dict]) -> Path:
    case = tmp_path / "case.duckdb"
    ingest(
        case,
        [_write(tmp_path / "posts.csv", rows)],
        format="generic_table",
        options=ReadOptions(column_map=COLUMNS, platform="x"),
        progress=False,
    )
    return case


def _fan_crowd(seed: int = 3, fans: int = 5, crowd: int = 120) -> list[dict]:
    """A cup final: five popular fans post; a crowd retweets them 20-900 s later, in the classic RT form.

    Every crowd member also writes a few posts of their own, in their own words.
    """
    rng = random.Random(seed)
    rows, n = [], 0
    originals = []
    words = [
        "goal",
        "save",
        "keeper",
        "striker",
        "corner",
        "header",
        "penalty",
        "tackle",
        "chant",
        "derby",
        "trophy",
        "captain",
        "whistle",
        "crossbar",
        "volley",
        "tifo",
        "anthem",
        "banner",
        "coach",
        "extra",
    ]
    for f in range(fans):
        for k in range(4):
            t = T0 + dt.timedelta(minutes=25 * k + 3 * f)
            picked = rng.sample(words, 6)
            text = f"{' '.join(picked)} {rng.random():.8f} #CupFinal"
            rows.append({"id": f"o{n}", "user": f"fan{f}", "time": t.isoformat(), "text": text})
            originals.append((f"fan{f}", t, text))
            n += 1
    for c in range(crowd):
        for fan, t, text in rng.sample(originals, 5):
            delay = dt.timedelta(seconds=rng.randint(20, 900))
            rows.append(
                {"id": f"r{n}", "user": f"crowd{c}", "time": (t + delay).isoformat(), "text": f"RT @{fan}: {text}"}
            )
            n += 1
        for k in range(3):
            t = T0 + dt.timedelta(minutes=rng.randint(0, 120))
            own = (
                f"crowd{c} says: {rng.choice(['come on', 'what a save', 'referee!', 'unreal'])} {k} {rng.random():.6f}"
            )
            rows.append({"id": f"p{n}", "user": f"crowd{c}", "time": t.isoformat(), "text": own})
            n += 1
    return rows


def test_classic_retweets_are_reposts_of_the_named_account():
    posts = model.conform(
        pa.table(
            {
                "platform": ["x", "x", "x", "telegram"],
                "post_id": ["1", "2", "3", "4"],
                "kind": ["post", "post", "quote", "post"],
                "text": ["RT @fan_1: what a goal", "RT this if you agree", "RT @fan_1: quoted", "RT @x: not X"],
            }
        ),
        "posts",
    )
    out = classic_retweets(posts)
    assert out["kind"].to_pylist() == ["repost", "post", "quote", "post"]
    assert out["parent_account_name"].to_pylist() == ["fan_1", None, None, None]


def test_a_fan_crowds_retweets_are_shares_not_copies(tmp_path):
    case = _case(tmp_path, _fan_crowd())
    con = duckdb.connect(str(case), read_only=True)
    kinds = dict(con.sql("SELECT kind, count(*) FROM posts GROUP BY 1").fetchall())
    assert kinds["repost"] == 120 * 5
    # no retweet is a text fingerprint; every retweet meets its original's other retweets on one object
    fp = con.sql("""SELECT count(*) FROM actions a JOIN posts p USING (platform, post_id)
                    WHERE p.kind = 'repost' AND a.object_type = 'text_fingerprint'""").fetchall()[0][0]
    linked = con.sql("SELECT count(DISTINCT object_id) FROM actions WHERE object_type = 'repost_of'").fetchall()[0][0]
    con.close()
    assert fp == 0 and linked == 20
    findings = detect(case)
    assert not [s for s in findings["signals"] if s["type"] == "copypasta"]
    assert findings["networks"]["same_text"]["edges"] == 0
    assert findings["networks"]["reposts"]["reposts_linked_by_text"] == 600
    # the crowd is never called inauthentic
    assert all(c["verdict"]["tier"] in ("organic", "inconclusive") for c in findings["campaigns"])
    assert not any(c["likely_inauthentic"] for c in findings["campaigns"])


def test_reposts_without_ids_meet_their_original_by_text(tmp_path):
    """An archive that marks retweets but gives no original id: eight accounts retweet the same ten
    posts within seconds of each other; the co-repost network is found through the texts."""
    rng = random.Random(5)
    rows = []
    for k in range(10):
        t = T0 + dt.timedelta(hours=k)
        text = f"Breaking: statement number {k} on the bridge project, share before it is deleted"
        rows.append({"id": f"o{k}", "user": "source", "time": t.isoformat(), "text": text})
        for m in range(8):
            rows.append(
                {
                    "id": f"r{k}-{m}",
                    "user": f"ring{m}",
                    "time": (t + dt.timedelta(seconds=30 + m)).isoformat(),
                    "text": f"RT @source: {text}",
                }
            )
        # the organic background: readers who retweet the same posts over the following hours
        for m in range(40):
            if rng.random() < 0.5:
                later = t + dt.timedelta(seconds=rng.randint(60, 6 * 3600))
                rows.append(
                    {"id": f"b{k}-{m}", "user": f"reader{m}", "time": later.isoformat(), "text": f"RT @source: {text}"}
                )
    case = _case(tmp_path, rows)
    findings = detect(case)
    net = findings["networks"]["reposts"]
    ring_reposts = 80
    assert net["reposts_linked_by_text"] == ring_reposts + sum(r["id"].startswith("b") for r in rows)
    [c] = [
        c for c in findings["campaigns"] if {a["account_id"] for a in c["accounts"]} >= {f"ring{m}" for m in range(8)}
    ]
    coord = next(s for s in findings["signals"] if s["id"] in c["signals"] and s["type"] == "coordination")
    linked = coord["figures"]["reposts_linked_by_text"]
    assert linked["reposts"] == ring_reposts
    # the original named in the evidence is the source's own post
    assert {tuple(x["original"]) for x in linked["top"]} <= {("x", f"o{k}") for k in range(10)}
    assert "linked to it by their normalised text" in coord["test"]


def test_coordination_grows_with_evidence_and_does_not_saturate_on_a_handful_of_links():
    full = CampaignParams().coordination_full
    small, medium, large = (coordination_strength(x, full) for x in (8, 100, 5000))
    assert 0 < small < 0.35 < medium < 0.7 < large == 1.0
    assert coordination_strength(0, full) == 0.0


def test_a_common_trait_is_no_evidence_and_a_few_members_cannot_saturate_a_rare_one():
    # most of the case's accounts share the handle shape: members sharing it is no evidence
    assert excess_over_base(5, 5, 0.7) == 0.0
    # five of five members with a trait 2 % of accounts have: some evidence, far from full
    assert 0.3 < excess_over_base(5, 5, 0.02) < 0.6
    # 150 of 150 members with a rare trait: nearly full
    assert excess_over_base(150, 150, 0.02) > 0.95
    assert wilson_lower(0, 10) == 0.0 and wilson_lower(10, 10) == pytest.approx(0.7225, abs=1e-3)


@pytest.mark.parametrize(
    "score, parts, tier",
    [
        (0.88, {"coordination": 1.0, "copypasta": 1.0, "synchrony": 0.0}, "strong"),
        (0.7, {"coordination": 1.0, "account_patterns": 0.8, "synchrony": 1.0}, "moderate"),
        (0.52, {"coordination": 1.0, "copypasta": 0.1}, "weak"),
        (0.45, {"coordination": 1.0, "copypasta": 0.0, "synchrony": 0.1, "rhythm": 1.0}, "organic"),
        (0.49, {"coordination": 1.0, "copypasta": 0.0, "synchrony": 0.9}, "inconclusive"),
        (0.45, {"coordination": 1.0, "copypasta": 0.2, "synchrony": 0.0}, "inconclusive"),
    ],
)
def test_verdict_tiers(score, parts, tier):
    v = verdict(score, parts, CampaignParams())
    assert v["tier"] == tier and v["label"] and v["basis"]


def test_tiers_must_rise():
    with pytest.raises(ValueError, match="tiers must rise"):
        CampaignParams(tier_moderate=0.9, tier_strong=0.8)


def _operation(seed: int, readers: int = 0) -> list[dict]:
    """Fifteen accounts retweet each of twelve statements within two minutes of each other; ``readers``
    ordinary accounts each retweet a statement now and then over the following twelve hours."""
    rng = random.Random(seed)
    rows = []
    for k in range(12):
        t = T0 + dt.timedelta(hours=3 * k)
        text = f"RT @hq: Statement {k}: the bridge will be built, whatever they say, read and share {rng.random():.6f}"
        for m in range(15):
            later = t + dt.timedelta(seconds=rng.randint(0, 120))
            rows.append({"id": f"r{k}-{m}", "user": f"op{m}", "time": later.isoformat(), "text": text})
        for m in range(readers):
            if rng.random() < 0.08:
                later = t + dt.timedelta(seconds=rng.randint(60, 12 * 3600))
                rows.append({"id": f"b{k}-{m}", "user": f"reader{m}", "time": later.isoformat(), "text": text})
    return rows


def test_a_takedown_archive_without_organic_background_is_judged_against_real_organic_cascades(tmp_path):
    """Only the network's own accounts: the case's own delays would call their rush normal; the
    reference null (Twitter15's organic cascades) does not."""
    findings = detect(_case(tmp_path, _operation(9)))
    null = findings["networks"]["reposts"]["null"]
    assert null["model"] == "reference" and null["coshared_share"] > 0.5 and "Twitter15" in null["why"]
    ops = {f"op{m}" for m in range(15)}
    [c] = [c for c in findings["campaigns"] if {a["account_id"] for a in c["accounts"]} >= ops]
    coord = next(s for s in findings["signals"] if s["id"] in c["signals"] and s["type"] == "coordination")
    assert "reposts 'reference'" in coord["test"] and "no organic background" in coord["test"]


def test_with_an_organic_background_the_case_sets_its_own_null(tmp_path):
    findings = detect(_case(tmp_path, _operation(4, readers=200)))
    assert findings["networks"]["reposts"]["null"]["model"] == "pooled_delays"
