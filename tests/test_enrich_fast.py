"""The fast paths of enrichment give what the general ones give (issue #24).

- ``text._fold_ascii``: pure-ASCII texts folded byte-wise, against the per-code-point tables;
- ``fill_languages(known=...)``: a cleaned text read in an earlier batch is not read again.
"""

from __future__ import annotations

import datetime as dt
import string

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmscope.enrich import fill_languages, lang
from swarmscope.enrich import text as T
from swarmscope.store import Case

ASCII = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=40)


def _tables_fold(texts: list[str | None]) -> list[str | None]:
    arr = pa.array(texts, pa.string())
    return pa.concat_arrays(T._fold_tables(arr, False)).to_pylist()


def test_every_ascii_character_folds_as_the_tables_do():
    chars = [chr(b) for b in range(128)]
    texts = chars + [f"a{c}b" for c in chars] + [f"  {c}{c}  x {c} " for c in chars] + ["", None, " ", "A  B"]
    got = T._fold_ascii(pa.array(texts, pa.string())).to_pylist()
    assert got == _tables_fold(texts)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), ASCII), max_size=30))
def test_ascii_fold_matches_tables(texts):
    assert T._fold_ascii(pa.array(texts, pa.string())).to_pylist() == _tables_fold(texts)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), ASCII, st.text(max_size=20)), max_size=30))
def test_mixed_ascii_and_other_texts_keep_their_order(texts):
    got = T.skeleton(pa.array(texts, pa.string())).to_pylist()
    assert got == _tables_fold(texts)


def test_ascii_fold_over_chunks(monkeypatch):
    monkeypatch.setattr(T, "CHUNK_CHARS", 16)  # many chunks
    texts = [f"{w} ,{w.upper()}!" for w in string.ascii_letters] * 3 + [None, ""]
    assert T._fold_ascii(pa.array(texts, pa.string())).to_pylist() == _tables_fold(texts)


def _post(pid: str, text: str) -> dict:
    return {
        "platform": "x",
        "post_id": pid,
        "account_id": "a",
        "created_at": dt.datetime(2024, 1, 1),
        "kind": "post",
        "text": text,
        "lang": None,
    }


def test_fill_languages_remembers_texts_across_calls(case_path, monkeypatch):
    calls: list[str] = []
    real = lang.detect_languages

    def spy(texts):
        calls.extend(texts)
        return real(texts)

    import swarmscope.enrich as enrich

    monkeypatch.setattr(enrich, "detect_languages", spy)
    en = "Polling stations stay open until 8 pm on Sunday"
    ru = "Выборы пройдут в воскресенье, приходите на участки"
    known: dict[str, str | None] = {}
    with Case(case_path) as db:
        db.append(pa.Table.from_pylist([_post("1", en), _post("2", ru)]))
        fill_languages(db, "post_id IN ('1', '2')", progress=False, known=known)
        db.append(pa.Table.from_pylist([_post("3", f"RT @x: {en}"), _post("4", "Seçkilər bazar günü keçiriləcək")]))
        fill_languages(db, "post_id IN ('3', '4')", progress=False, known=known)
        got = dict(db.con.execute("SELECT post_id, lang FROM posts").fetchall())
    assert sorted(calls) == sorted([en, ru, "Seçkilər bazar günü keçiriləcək"])  # en read once
    assert got == {"1": "en", "2": "ru", "3": "en", "4": "az"}


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.sampled_from(["RT @a: Hi there", "hi  THERE!", "Привет мир"]), st.text(max_size=20)),
        max_size=30,
    )
)
def test_repeated_texts_fold_once_to_what_normalise_gives(texts):
    arr = pa.array(texts, pa.string())
    folded = T.normalise_repeated(arr)
    assert pa.types.is_dictionary(folded.type)
    assert len(folded.dictionary) == len(set(t for t in texts if t is not None))  # each distinct text once
    assert T.plain(folded).to_pylist() == T.normalise(arr).to_pylist()
    assert (
        T.plain(T.normalise_repeated(pa.chunked_array([arr[:3], arr[3:]]))).to_pylist() == T.normalise(arr).to_pylist()
    )


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["a", "b", "", "Привет"]), st.text(max_size=8)), max_size=40))
def test_distinct_texts_are_what_dictionary_encode_gives(texts):
    arr = pa.array(texts, pa.string())
    want = pc.dictionary_encode(arr)
    for given_ in (arr, pa.chunked_array([arr[:5], arr[5:17], arr[17:]], pa.string())):
        ids, distinct = T.distinct_texts(given_)
        assert distinct.to_pylist() == want.dictionary.to_pylist()  # in order of first appearance
        assert ids.to_pylist() == want.indices.to_pylist()  # NULL for NULL


def test_texts_sharing_a_hash_are_told_apart(monkeypatch):
    # every text hashes alike: the byte comparison sees the collision and exact hashing takes over
    monkeypatch.setattr(T, "_hashes", lambda texts: np.zeros(len(texts), np.uint64))
    arr = pa.chunked_array([["x", "y", None], ["x", "z", "y"]], pa.string())
    ids, distinct = T.distinct_texts(arr)
    assert distinct.to_pylist() == ["x", "y", "z"]
    assert ids.to_pylist() == [0, 1, None, 0, 2, 1]
    # the same when they are all equal: nothing to tell apart, no fallback needed
    ids, distinct = T.distinct_texts(pa.array(["same", "same", None, "same"]))
    assert (distinct.to_pylist(), ids.to_pylist()) == (["same"], [0, 0, None, 0])
