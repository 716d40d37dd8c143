from __future__ import annotations

import numpy as np
import pyarrow as pa

from swarmscope.detect.impersonation import core, impersonators, skeleton

WATCHLIST = pa.table(
    {
        "name": [
            "BBC News",
            "Ministry of Foreign Affairs",
            "Le Monde",
            "Reuters",
            "Kyiv Independent",
            "Deutsche Welle",
            "Al Jazeera English",
            "Associated Press",
            "Elysee",
            "White House",
        ],
        "handle": [
            "BBCNews",
            "MFA_Official",
            "lemondefr",
            "Reuters",
            "KyivIndependent",
            "dw_news",
            "AJEnglish",
            "AP",
            "Elysee",
            "WhiteHouse",
        ],
        "platform": ["x"] * 10,
    }
)


def accounts(rows):
    return pa.table(
        {
            "platform": [r[0] for r in rows],
            "account_id": [f"a{i}" for i in range(len(rows))],
            "handle": [r[1] for r in rows],
            "display_name": [r[2] for r in rows],
        }
    )


def test_skeleton_and_core():
    assert skeleton("BBСNews") == skeleton("bbcnews") == "bbcnews"  # Cyrillic С
    assert skeleton("rnfa_0fficial") == skeleton("mfa_official")
    assert skeleton("WhiteHouse") == skeleton("WhiteHоuse")  # Cyrillic о
    assert core("The_Real_BBCNews24") == "bbc"  # 'news' is an affix word too
    assert core("BBCNewsOfficial") == "bbc"
    assert skeleton(None) == core("") == ""
    assert skeleton("🙂🙂") == ""


def test_hand_checkable_matches():
    rows = [
        ("x", "BBCNews", "BBC News"),  # genuine: never flagged
        ("x", "bbcnews", "BBC News"),  # genuine, other case
        ("x", "BBСNews", "BBC News"),  # Cyrillic С
        ("x", "BBCNewsOfficial", "BBC News"),
        ("x", "reuters_24", "Reuters"),
        ("x", "KyivIndependant", "Kyiv Independent"),  # one edit
        ("x", "maria_k", "Deutsche Welle"),  # display name only
        ("x", "AP_fan_page", "ap fan page"),  # 'ap' core too short for core-to-core, name too short
        ("telegram", "BBCNews", "BBC News"),  # other platform: watchlist entry is for x
        ("x", "john_smith", "John Smith"),
    ]
    out = {r["handle"]: r for r in impersonators(accounts(rows), WATCHLIST).to_pylist()}
    assert set(out) == {"BBСNews", "BBCNewsOfficial", "reuters_24", "KyivIndependant", "maria_k"}
    assert out["BBСNews"]["match"] == "handle-homoglyph" and out["BBСNews"]["entity_handle"] == "BBCNews"
    assert out["BBCNewsOfficial"]["match"] == "handle-affix"
    assert out["reuters_24"]["match"] == "handle-affix" and out["reuters_24"]["entity_name"] == "Reuters"
    assert out["KyivIndependant"]["match"] == "handle-edit" and out["KyivIndependant"]["distance"] == 1
    assert out["maria_k"]["match"] == "display-name" and out["maria_k"]["entity_handle"] == "dw_news"


def test_planted_impersonators_matched_and_genuine_never_flagged():
    rng = np.random.default_rng(5)
    wl = WATCHLIST.to_pylist()
    cyr = {"a": "а", "e": "е", "o": "о", "c": "с", "p": "р", "x": "х"}
    rows, truth = [], []
    for w in wl:
        rows.append(("x", w["handle"], w["name"]))  # the genuine accounts
        truth.append(None)
    for k in range(200):
        w = wl[k % len(wl)]
        h = w["handle"]
        trick = k % 5
        if trick == 0:  # homoglyph swap of the first swappable letter
            i = next((i for i, ch in enumerate(h.lower()) if ch in cyr), None)
            imp = h if i is None else h[:i] + cyr[h[i].lower()] + h[i + 1 :]
            if imp == h:
                imp = h + "_official"
        elif trick == 1:
            imp = h + "Official"
        elif trick == 2:
            imp = f"{h}{rng.integers(1, 9999)}"
        elif trick == 3:
            imp = "real_" + h + "_news"
        else:
            imp = h.replace("o", "0").replace("l", "1") if any(c in h for c in "ol") else "the" + h
        rows.append(("x", imp, w["name"]))
        truth.append(w["handle"])
    words = ["sun", "river", "cat", "blue", "wolf", "maria", "ivan", "anna", "pixel", "music"]
    for k in range(2000):  # ordinary people
        h = f"{words[k % 10]}_{words[(k * 7) % 10]}{rng.integers(0, 999)}"
        rows.append(("x", h, f"{words[(k * 3) % 10].title()} {words[k % 10].title()}"))
        truth.append(None)
    out = impersonators(accounts(rows), WATCHLIST).to_pylist()
    got = {r["account_id"]: r["entity_handle"] for r in out}
    planted = [(f"a{i}", t) for i, t in enumerate(truth) if t is not None]
    right = sum(got.get(a) == t for a, t in planted)
    assert right / len(planted) >= 0.9
    genuine_ids = {f"a{i}" for i in range(len(wl))}
    assert not genuine_ids & set(got)
    false = [a for a in got if int(a[1:]) >= len(wl) + 200]
    assert len(false) == 0


def test_empty_inputs():
    assert impersonators(accounts([]), WATCHLIST).num_rows == 0
    assert impersonators(accounts([("x", None, None)]), WATCHLIST).num_rows == 0


# -- Unicode TR39 confusables in handles and names (enrich/text.py's table, from disarm) ---------------------


def test_tr39_cases_in_handles():
    assert skeleton("BBСNеws") == skeleton("BBCNews")  # Cyrillic С, е
    assert skeleton("ΒΒCΝews") == skeleton("BBCNews")  # Greek capitals Β, Ν
    assert skeleton("Reսters") == skeleton("Reuters")  # Armenian ս
    assert skeleton("ＢＢＣＮｅｗｓ") == skeleton("BBCNews")  # full-width
    assert skeleton("𝐁𝐁𝐂𝐍𝐞𝐰𝐬") == skeleton("𝔅𝔅ℭ𝔑𝔢𝔴𝔰") == skeleton("BBCNews")  # mathematical bold, fraktur
    assert skeleton("BBC\u200bNe\u200dws\u2060") == skeleton("B\u00adBCNews") == skeleton("BBCNews")  # invisible
    assert skeleton("WhiteHouse") == skeleton("WhiteΗouse")  # Greek capital eta looks like H, not n
    # TR39's identifier classes: I, l, |, 1 and Cyrillic/Greek I-likes are one letter; O and 0 another
    assert skeleton("Elysee") == skeleton("EIysee") == skeleton("E1ysee") == skeleton("EІysee")
    assert skeleton("KyivIndependent") == skeleton("KyivIndependent".replace("o", "0"))


def test_tr39_impersonators_found_whatever_the_trick():
    rows = [
        ("x", "BBСNеws", "BBC News"),  # Cyrillic
        ("x", "ΒΒCΝews", "BBC News"),  # Greek
        ("x", "Reսters", "Reuters"),  # Armenian
        ("x", "ＬｅＭｏｎｄｅｆｒ", "Le Monde"),  # full-width
        ("x", "𝐖𝐡𝐢𝐭𝐞𝐇𝐨𝐮𝐬𝐞", "White House"),  # mathematical bold
        ("x", "Kyiv\u200bIndependent", "Kyiv Independent"),  # zero-width space
        ("x", "E1ysee", "Elysee"),  # digit one for l
    ]
    out = {r["handle"]: r for r in impersonators(accounts(rows), WATCHLIST).to_pylist()}
    assert set(out) == {h for _, h, _ in rows}
    assert {r["match"] for r in out.values()} == {"handle-homoglyph"}
    assert out["Reսters"]["entity_handle"] == "Reuters" and out["𝐖𝐡𝐢𝐭𝐞𝐇𝐨𝐮𝐬𝐞"]["entity_handle"] == "WhiteHouse"
