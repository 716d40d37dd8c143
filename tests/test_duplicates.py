"""Copy-paste and near-duplicate clusters (detect/duplicates.py) and the library function."""

from __future__ import annotations

import csv
import datetime as dt
import random

import numpy as np
import pyarrow as pa
import pytest

from swarmscope import model
from swarmscope.detect.duplicates import (
    DuplicateParams,
    _bucket_pair_chunks,
    _pairs_in_buckets,
    _verify,
    bands_for,
    find_duplicates,
)
from swarmscope.duplicates import duplicates
from swarmscope.enrich.text import normalise, normalise_repeated
from swarmscope.report.tables import neutralise_formulas
from swarmscope.store import Case

BASE = "Breaking: the minister resigned today after the scandal about the secret contracts #news #politics"


def jaccard(a: str, b: str, k: int = 5) -> float:
    """Reference Jaccard of exact character shingles of the normalised texts (plain Python)."""
    na, nb = normalise(pa.array([a, b]), az_latin=True).to_pylist()
    sa = {na[i : i + k] for i in range(len(na) - k + 1)}
    sb = {nb[i : i + k] for i in range(len(nb) - k + 1)}
    return len(sa & sb) / len(sa | sb)


def run(texts, **kw):
    return find_duplicates([f"p{i}" for i in range(len(texts))], texts, DuplicateParams(**kw))


def cluster_of(result) -> dict[str, str]:
    m = result.members.to_pydict()
    return dict(zip(m["post_id"], m["cluster_id"]))


def test_copypasta_variants_form_one_cluster():
    texts = [
        BASE,
        BASE.replace("#news #politics", "#politics #news") + " 🔥🔥",  # hashtags reordered, emoji
        "@ivan_petrov " + BASE.upper(),  # mention added, shouting
        BASE.replace("a", "\u0430").replace("o", "\u043e"),  # Cyrillic homoglyphs
        BASE.replace("secret", "secrat"),  # one letter edited
        "A completely different post about cooking pasta at home with friends tonight",
    ]
    res = run(texts)
    cl = cluster_of(res)
    assert {cl.get(f"p{i}") for i in range(5)} == {res.clusters["cluster_id"][0].as_py()}
    assert "p5" not in cl
    row = res.clusters.to_pylist()[0]
    # variants: the original, the reordered hashtags, the edited letter
    assert row["posts"] == 5 and row["variants"] == 3 and row["type"] == "copypasta"
    assert row["representative_post_id"] == "p0"
    members = {m["post_id"]: m for m in res.members.to_pylist()}
    assert members["p3"]["match"] == "exact"  # homoglyphs fold away entirely
    assert members["p4"]["match"] == "copypasta"
    assert members["p4"]["similarity"] == pytest.approx(jaccard(texts[0], texts[4]))
    assert members["p1"]["match"] == "copypasta"
    assert members["p1"]["similarity"] == pytest.approx(jaccard(texts[0], texts[1]))
    assert {tuple(sorted(p)) for p in zip(res.pairs["post_id_a"].to_pylist(), res.pairs["post_id_b"].to_pylist())} >= {
        ("p0", "p1"),
        ("p0", "p4"),
    }


def test_scripts_and_letter_forms_meet():
    persian = "این یک پیام تکراری است که همه حساب‌ها باید همین امروز منتشر کنند"
    arabic = persian.replace("ی", "ي").replace("ک", "ك")
    az_latin = "Azərbaycan xalqı bu gün böyük bayramı qeyd edir, hamı meydana gəlsin"
    az_cyrillic = "Азәрбајҹан халгы бу ҝүн бөјүк бајрамы гејд едир, һамы мејдана ҝәлсин"
    res = run([persian, arabic, az_latin, az_cyrillic])
    cl = cluster_of(res)
    assert cl["p0"] == cl["p1"] and cl["p2"] == cl["p3"] and cl["p0"] != cl["p2"]


def test_no_chaining_of_unrelated_texts():
    rng = random.Random(3)
    words = [f"w{rng.randint(100, 999)}x" for _ in range(40)]
    chain = [words]
    for step in range(6):  # each step replaces two fresh words
        nxt = list(chain[-1])
        for i in (2 * step, 2 * step + 20):
            nxt[i] = f"n{step}{i}q"
        chain.append(nxt)
    texts = [" ".join(w) for w in chain]
    # the premise: neighbours are near duplicates, the ends are not
    assert all(jaccard(texts[i], texts[i + 1]) >= 0.8 for i in range(len(texts) - 1))
    assert jaccard(texts[0], texts[-1]) < 0.5
    res = run(texts)
    cl = cluster_of(res)
    assert cl.get("p0") is None or cl.get("p0") != cl.get(f"p{len(texts) - 1}")
    # every member is within the threshold of its representative
    reps = dict(zip(res.clusters["cluster_id"].to_pylist(), res.clusters["representative_post_id"].to_pylist()))
    for pid, cid in cl.items():
        assert jaccard(texts[int(pid[1:])], texts[int(reps[cid][1:])]) >= 0.8


def test_reordered_sentences_are_a_rewording():
    s1 = "The bridge in the north of the city was closed by the army this morning."
    s2 = "Residents say they were given no warning and no alternative route at all."
    res = run([f"{s1} {s2}", f"{s2} {s1}"], threshold=0.6)
    row = res.clusters.to_pylist()[0]
    assert row["type"] == "rewording" and row["min_edit_similarity"] < 0.693
    assert row["posts"] == 2


def test_bad_input_is_counted_never_fatal():
    texts = [
        None,
        "",
        "🔥🔥🔥",
        "https://example.com/a @someone",
        "too short to count",
        "x" * 100_000,
        "y" * 100_000,
        "a lone surrogate \ud800 inside an otherwise fine post text",
        "a lone surrogate \ud800 inside an otherwise fine post text!",
    ]
    res = run(texts)
    c = res.counts
    assert (c.texts, c.null, c.empty, c.short, c.eligible) == (9, 1, 3, 1, 4)
    assert c.truncated == 2 and c.repaired == 2
    assert c.texts == c.null + c.empty + c.short + c.eligible
    cl = cluster_of(res)
    assert cl["p7"] == cl["p8"]
    assert cl.get("p5") is None or cl["p5"] != cl.get("p6")


def test_same_data_gives_same_cluster_ids():
    texts = [BASE, BASE + " !!", BASE.replace("today", "todey"), "another unrelated but long enough post text"]
    assert run(texts).clusters["cluster_id"].to_pylist() == run(texts).clusters["cluster_id"].to_pylist()


def test_copies_collapse_to_one_variant_and_expand_to_every_post():
    # 60 copies of BASE (emoji, links, mentions and case vary: normalised away), 20 of an
    # edited BASE, 10 of BASE with a hashtag more, 5 of another message, 2 unrelated posts
    def copy(i: int) -> str:
        return [BASE, BASE + " 🔥", f"{BASE} https://t.co/x{i}", f"@user{i} {BASE}", BASE.upper()][i % 5]

    other = "Share this now: the bridge will close on Friday and nobody was told anything #city"
    texts = [copy(i) for i in range(60)]
    texts += [BASE.replace("secret", "secrat") + (" 👍" if i % 2 else "") for i in range(20)]
    texts += [BASE + " #breaking"] * 10 + [other.upper(), other] * 2 + [other]
    texts += ["one more unrelated post about the weather in spring", "and a third one, on cooking pasta"]
    res = run(texts)
    cl = cluster_of(res)
    a, b = cl["p0"], cl["p90"]
    assert {cl.get(f"p{i}") for i in range(90)} == {a} and {cl.get(f"p{i}") for i in range(90, 95)} == {b}
    assert a != b and "p95" not in cl and "p96" not in cl
    assert (res.counts.variants, res.counts.clusters, res.counts.clustered_posts) == (6, 2, 95)
    rows = {r["cluster_id"]: r for r in res.clusters.to_pylist()}
    assert (rows[a]["posts"], rows[a]["variants"], rows[a]["representative_post_id"]) == (90, 3, "p0")
    assert (rows[b]["posts"], rows[b]["variants"], rows[b]["type"]) == (5, 1, "copypasta")
    match = dict(zip(res.members["post_id"].to_pylist(), res.members["match"].to_pylist()))
    assert {match[f"p{i}"] for i in range(60)} == {"exact"}
    assert {match[f"p{i}"] for i in range(60, 90)} == {"copypasta"}
    # the same partition as the computation without collapsing: every pair of posts, plain Python
    norm = normalise(pa.array(texts), az_latin=True).to_pylist()
    sets = [{n[k : k + 5] for k in range(len(n) - 4)} for n in norm]
    group = list(range(len(texts)))
    for i in range(len(texts)):
        for j in range(i):
            if len(sets[i] & sets[j]) >= 0.8 * len(sets[i] | sets[j]):
                group[i] = group[j]
                break
    expected = {}
    for i, g in enumerate(group):
        expected.setdefault(g, set()).add(f"p{i}")
    got = {}
    for pid, cid in cl.items():
        got.setdefault(cid, set()).add(pid)
    assert sorted(map(sorted, got.values())) == sorted(sorted(m) for m in expected.values() if len(m) > 1)
    for pair in res.pairs.to_pylist():
        x, y = texts[int(pair["post_id_a"][1:])], texts[int(pair["post_id_b"][1:])]
        assert pair["jaccard"] == pytest.approx(jaccard(x, y))


def test_a_given_normalisation_gives_the_same_clusters():
    # duplicates() folds the texts once and hands them over (normalise_repeated); a plain column works too
    rng = random.Random(3)
    texts = [BASE, BASE.upper(), "RT @x: " + BASE, BASE + " !!", None, "", "other words entirely here and there"]
    texts += [rng.choice(texts[:4]) + f" {i % 3}" for i in range(40)]
    params = DuplicateParams()
    ids = [f"p{i}" for i in range(len(texts))]
    plain_run = find_duplicates(ids, texts, params)
    arr = pa.array(texts, pa.string())
    for norm in (normalise_repeated(arr), normalise(arr)):
        given = find_duplicates(ids, texts, params, norm=norm)
        assert given.members.equals(plain_run.members)
        assert given.clusters.equals(plain_run.clusters)
        assert given.counts == plain_run.counts
    assert plain_run.counts.variants < len(texts) - 2  # the copies collapsed: the test can tell
    with pytest.raises(ValueError, match="normalised texts"):
        find_duplicates(ids, texts, params, norm=normalise(arr[:3]))


def test_lsh_sees_band_keys_and_the_low_16_bits_of_each_signature():
    from swarmscope.detect.duplicates import BINS, _agree_at_least, _shingles, _signatures, _sketch, band_key

    rng = random.Random(5)
    words = [f"w{i}" for i in range(40)]
    var_text = normalise(pa.array([" ".join(rng.choices(words, k=30)) for _ in range(300)]))
    params = DuplicateParams()
    keys, fp = _sketch(var_text, params)
    sig = _signatures(*_shingles(var_text, params.shingle), params.seed)
    r = bands_for(params.threshold, params.recall)
    assert keys.shape == (BINS // r, 300) and fp.dtype == np.uint16
    assert (fp == (sig & 0xFFFF)).all()
    assert all((keys[band] == band_key(sig, band, r)).all() for band in range(BINS // r))
    # 16 bits never undercount an agreement: every pair whole bins keep, the fingerprints keep
    a, b = np.triu_indices(300, 1)
    whole, low = _agree_at_least(sig, a, b, 20), _agree_at_least(fp, a, b, 20)
    assert whole.any() and not (whole & ~low).any()


def test_a_text_posted_10000_times_is_one_text():
    texts = [BASE if i % 3 else BASE.upper() + " 🔥 https://t.co/abc" for i in range(10_000)]
    res = run(texts)
    # the work counters: one variant, so no pair of posts is ever formed
    assert (res.counts.variants, res.counts.candidate_pairs, res.counts.verified_pairs) == (1, 0, 0)
    assert res.clusters["posts"].to_pylist() == [10_000]
    assert set(res.members["match"].to_pylist()) == {"exact"} and res.members.num_rows == 10_000


def test_a_crowded_bucket_is_a_star_not_all_pairs():
    # 10,000 variants with one band key: a star around the lowest id (9,999 pairs, not 50 million)
    key = np.arange(10_005, dtype=np.uint64) * np.uint64(1_000_003)
    key[5:] = key[7]  # variants 5 to 10,004 share a band; 0-4 are alone
    a, b = _pairs_in_buckets(key, 256)
    assert a.size == 9_999 and set(a.tolist()) == {5} and sorted(b.tolist()) == list(range(6, 10_005))
    # up to the cap every pair is kept
    a, b = _pairs_in_buckets(np.array([3] * 256 + [5] * 3, np.uint64), 256)
    assert a.size == 256 * 255 // 2 + 3 and (a < b).all()


def test_bucket_pairs_in_small_chunks_are_the_same_pairs():
    """The LSH stage forms a band's pairs a slice of the sorted keys at a time (bounded memory): any
    budget gives the same pairs, each once, as forming them all at once."""
    rng = np.random.default_rng(3)
    key = rng.integers(0, 40, 2_000).astype(np.uint64)  # buckets of about 50
    key[:600] = 7  # and one over the cap: a star
    whole = set(zip(*(x.tolist() for x in _pairs_in_buckets(key, 256))))
    for budget in (1, 100, 5_000):
        chunks = list(_bucket_pair_chunks(key, 256, budget))
        pairs = [p for a, b in chunks for p in zip(a.tolist(), b.tolist())]
        assert len(pairs) == len(set(pairs)) and set(pairs) == whole
        assert all(a.size <= budget + 256 for a, _ in chunks[:-1])  # the last chunk is the star
    assert len(whole) > 20_000


def test_verification_through_differences_is_exact():
    # a message and 40 edits of it (a word replaced, dropped or added, a hashtag added):
    # every pair verified, each Jaccard against the plain-Python one
    rng = random.Random(5)
    words = BASE.split()
    texts = [BASE]
    for _ in range(40):
        w = list(words)
        for _ in range(rng.randint(1, 2)):
            op, at = rng.choice(["swap", "drop", "add", "tag"]), rng.randrange(len(w) - 2)
            if op == "swap":
                w[at] = rng.choice(["ministry", "leaked", "quietly", "angry", "report"])
            elif op == "drop":
                del w[at]
            elif op == "add":
                w.insert(at, rng.choice(["really", "finally", "again"]))
            else:
                w.append(rng.choice(["#now", "#scandal", "#vote"]))
        texts.append(" ".join(w))
    texts.append("Unrelated: the city library opens a new reading room for children next week")
    norm = list(dict.fromkeys(normalise(pa.array(texts), az_latin=True).to_pylist()))
    a, b = np.triu_indices(len(norm), 1)
    for threshold in (0.5, 0.8):
        got_a, got_b, jac = _verify(a, b, pa.array(norm), DuplicateParams(threshold=threshold))
        truth = {(i, j): jaccard(norm[i], norm[j]) for i, j in zip(a.tolist(), b.tolist())}
        truth = {k: v for k, v in truth.items() if v >= threshold}
        got = dict(zip(zip(got_a.tolist(), got_b.tolist()), jac.tolist()))
        assert got.keys() == truth.keys() and len(got) > 20
        assert all(got[k] == pytest.approx(truth[k], abs=1e-12) for k in got)


def test_bands_catch_the_threshold_pair():
    for t in (0.5, 0.7, 0.8, 0.9):
        r = bands_for(t, 0.995)
        assert 1 - (1 - t**r) ** (64 // r) >= 0.995
        assert r == 64 or 1 - (1 - t ** (r + 1)) ** (64 // (r + 1)) < 0.995


@pytest.mark.scale
def test_scale_pairs_match_brute_force():
    rng = random.Random(11)
    vocab = [
        f"{rng.choice('bcdfgklmnprst')}{rng.choice('aeiou')}{rng.choice('bcdfgklmnprst')}{rng.choice('aeiou')}"
        for _ in range(300)
    ]
    texts = []
    for _ in range(120):
        base = [rng.choice(vocab) for _ in range(rng.randint(8, 20))]
        texts.append(" ".join(base))
        for _ in range(rng.randint(0, 4)):
            v = list(base)
            v[rng.randrange(len(v))] = rng.choice(vocab)
            texts.append(" ".join(v) + rng.choice(["", " 🔥", " #tag"]))
    res = run(texts)
    norm = normalise(pa.array(texts), az_latin=True).to_pylist()
    sets = [{n[i : i + 5] for i in range(len(n) - 4)} for n in norm]
    truth = set()
    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if (
                norm[i] != norm[j]
                and len(norm[i]) >= 30
                and len(norm[j]) >= 30
                and len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= 0.8
            ):
                truth.add((norm[i], norm[j]) if norm[i] < norm[j] else (norm[j], norm[i]))
    found = set()
    by_id = {f"p{i}": n for i, n in enumerate(norm)}
    for a, b in zip(res.pairs["post_id_a"].to_pylist(), res.pairs["post_id_b"].to_pylist()):
        x, y = by_id[a], by_id[b]
        found.add((x, y) if x < y else (y, x))
    assert len(truth) > 50
    assert len(found & truth) / len(truth) >= 0.98
    assert found <= truth


def test_two_threads_give_the_same_result_as_one(monkeypatch):
    """The sketch runs its chunks and the LSH its bands on THREADS threads: the result must not depend
    on how many, nor on how the texts are cut into chunks."""
    import functools

    from swarmscope.detect import duplicates as dup

    rng = random.Random(5)
    vocab = ["".join(rng.choice("bcdfgklmnprstaeiou") for _ in range(5)) for _ in range(200)]
    texts = []
    for _ in range(300):
        base = [rng.choice(vocab) for _ in range(rng.randint(6, 16))]
        texts += [" ".join(base)] * rng.randint(1, 3)
        for _ in range(rng.randint(0, 3)):
            v = list(base)
            v[rng.randrange(len(v))] = rng.choice(vocab)
            texts.append(" ".join(v))

    def result():
        res = run(texts)
        return res.clusters.to_pydict(), res.members.to_pydict(), res.pairs.to_pydict(), res.counts

    monkeypatch.setattr(dup, "THREADS", 1)
    one = result()
    assert one[3].verified_pairs > 100 and one[3].clusters > 20
    monkeypatch.setattr(dup, "_chunks", functools.partial(dup._chunks, chars=2_000))  # about 70 chunks
    for threads in (2, 3):
        monkeypatch.setattr(dup, "THREADS", threads)
        assert result() == one


# -- the library function ---------------------------------------------------------
def _case(tmp_path, texts: list[str]) -> Case:
    t0 = dt.datetime(2024, 3, 1, 12, 0)
    posts = pa.table(
        {
            "platform": ["x"] * len(texts),
            "post_id": [str(100 + i) for i in range(len(texts))],
            "account_id": [f"a{i % 3}" for i in range(len(texts))],
            "created_at": pa.array([t0 + dt.timedelta(minutes=i) for i in range(len(texts))], model.TS),
            "text": texts,
            "kind": ["post"] * len(texts),
        }
    )
    case = Case(tmp_path / "case.duckdb")
    case.append(posts=posts)
    return case


def test_library_writes_actions_and_safe_csv(tmp_path):
    formula = '=HYPERLINK("http://evil") copy this message to every account you control now'
    texts = [BASE, BASE + " 🔥", "@x " + BASE, formula, formula + " !!", "an unrelated post, long enough to count"]
    _case(tmp_path, texts).close()
    out = tmp_path / "clusters.csv"
    clusters = duplicates(tmp_path / "case.duckdb", threshold=0.8, output=out)
    assert clusters.num_rows == 2
    first = clusters.to_pylist()[0]
    assert first["kind"] == "text" and first["posts"] == 3 and first["accounts"] == 3
    assert first["posts_list"] == ["x:100", "x:101", "x:102"]
    with Case(tmp_path / "case.duckdb") as case:
        rows = case.con.execute(
            "SELECT post_id, object_id FROM actions WHERE object_type = 'near_dup_cluster' ORDER BY post_id"
        ).fetchall()
    assert [r[0] for r in rows] == ["100", "101", "102", "103", "104"]
    assert rows[0][1] == first["cluster_id"]
    with open(out, newline="", encoding="utf-8") as f:
        cells = [c for row in csv.reader(f) for c in row]
    assert not any(c.startswith("=") for c in cells)
    assert any(c.startswith("'=HYPERLINK") for c in cells)
    # a second run replaces, with the same ids
    again = duplicates(tmp_path / "case.duckdb", threshold=0.8)
    assert again["cluster_id"].to_pylist() == clusters["cluster_id"].to_pylist()
    with Case(tmp_path / "case.duckdb") as case:
        n = case.con.execute("SELECT count(*) FROM actions WHERE object_type = 'near_dup_cluster'").fetchall()[0][0]
        runs = case.con.execute("SELECT status FROM runs WHERE command = 'duplicates'").fetchall()
    assert n == 5 and runs == [("ok",), ("ok",)]


def test_neutralise_formulas():
    col = pa.array(["=1+1", "+x", "-y", "@z", "\tq", "fine", None, "a=b"])
    assert neutralise_formulas(col).to_pylist() == ["'=1+1", "'+x", "'-y", "'@z", "'\tq", "fine", None, "a=b"]


def test_neutralise_formulas_after_any_leading_space_and_skips_clean_columns():
    import unicodedata

    spaces = [chr(c) for c in range(0x110000) if unicodedata.category(chr(c)) in ("Zs", "Zl", "Zp")]
    cells = [s + "=HYPERLINK(1)" for s in spaces + ["\t", "\n", "\x0c", "\r", " "]] + ["\uff1d1", "\uff201"]
    assert all(v.startswith("'") for v in neutralise_formulas(pa.array(cells)).to_pylist())
    clean = pa.array(["u1", "a=b", None, "x-1", "é@"])
    assert neutralise_formulas(clean) is clean  # nothing to quote: the column itself, not a copy
