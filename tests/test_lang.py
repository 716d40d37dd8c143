"""Language identification (enrich/lang.py): the cascade script -> CLD2 -> lingua, and fill_languages.

Hand-checkable texts only; accuracy and speed on real data are bench/langid.py's
(docs/methods/language.md).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from swarmscope.enrich import fill_languages, lang
from swarmscope.enrich.lang import by_cld2, by_script, detect_languages
from swarmscope.store import Case

FIXTURE = Path(__file__).parent / "fixtures" / "translations" / "messages.jsonl"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Καλημέρα σε όλους, η ψηφοφορία ξεκινά", "el"),
        ("투표소는 일요일 오후 8시까지 운영됩니다", "ko"),
        ("投票所は日曜日の午後8時まで開いています", "ja"),  # kana beside Han
        ("ประชาชนออกไปเลือกตั้งวันอาทิตย์", "th"),
        ("Ընտրատեղամասերը բաց կլինեն մինչև ժամը 20-ը", "hy"),
        ("საარჩევნო უბნები კვირას 20 საათამდე იქნება ღია", "ka"),
        ("OK 안녕하세요 여러분", "ko"),  # more than half the letters
    ],
)
def test_a_script_one_language_writes_decides(text, code):
    assert by_script(text) == code


@pytest.mark.parametrize(
    "text",
    [
        "Выборы пройдут в воскресенье",  # Cyrillic: ru, uk, bg, kk, be, mk, sr, mn...
        "Выбары пройдуць у нядзелю",
        "انتخابات روز یکشنبه برگزار می‌شود",  # Arabic script: ar, fa, ur, ps...
        "الانتخابات يوم الأحد",
        "选举将于星期日举行",  # Han alone: zh or ja
        "चुनाव रविवार को होंगे",  # Devanagari: hi, mr, ne
        "שלום לכולם",  # Hebrew script: he, yi
        "Seçkilər bazar günü keçiriləcək",  # Latin
        "Hello 안녕",  # Hangul is not more than half the letters
        "",
    ],
)
def test_a_shared_script_is_left_to_the_models(text):
    assert by_script(text) is None


def test_cld2_reads_the_languages_our_users_need():
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    first = {}
    for r in rows:  # the first message in each language
        first.setdefault(r["lang"], r["text"])
    assert sorted(first) == ["ar", "az", "en", "fa", "fr", "ru", "tr"]
    assert {code: by_cld2(text) for code, text in first.items()} == {code: code for code in first}


def test_cld2_codes_are_those_lingua_gives():
    assert by_cld2("שלום לכולם, הבחירות ייערכו ביום ראשון בכל רחבי הארץ והקלפיות ייפתחו בבוקר") == "he"  # not iw
    assert by_cld2("Valglokalene er åpne til klokken åtte på søndag, og alle må ta med legitimasjon") == "nb"  # not no


def test_cld2_refuses_rather_than_guesses():
    assert by_cld2("lol") is None
    assert by_cld2("") is None
    assert by_cld2("\x00\x01 control bytes") in (None, "en")  # bytes CLD2 may refuse do not raise
    assert by_cld2("\ud800 lone surrogate and then some plain English words") is None


def test_the_cascade_names_each_language_of_the_translation_set():
    rows = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
    got = detect_languages([r["text"] for r in rows])
    wrong = [(r["lang"], g, r["text"][:40]) for r, g in zip(rows, got) if g != r["lang"]]
    assert wrong == []


def test_short_leftovers_stay_unknown_and_long_ones_go_to_lingua(monkeypatch):
    seen: list[list[str]] = []
    real = lang.by_lingua

    def spy(texts):
        seen.append(list(texts))
        return real(texts)

    monkeypatch.setattr(lang, "by_lingua", spy)
    assert detect_languages(["lol", "🔥🔥🔥", "ok ok"]) == [None, None, None]
    assert seen == [[]]  # nothing for lingua: under FALLBACK_BYTES
    # CLD2 declines a long text that mixes a Russian sentence with English words; lingua reads it
    mixed = "Когда случайно cat’нул бинарный файл ➡️ ctrl+c ctrl+c ctrl… и терминал сломался"
    assert by_cld2(mixed) is None
    assert detect_languages([mixed]) == ["ru"]
    assert seen[-1] == [mixed]


def test_texts_are_read_on_their_opening():
    long_then_other = "Выборы пройдут в воскресенье, приходите на участки. " * 10 + "Hello world. " * 200
    assert detect_languages([long_then_other]) == ["ru"]


def _post(pid: str, text: str, lang_: str | None = None) -> dict:
    import datetime as dt

    return {
        "platform": "x",
        "post_id": pid,
        "account_id": "a",
        "created_at": dt.datetime(2024, 1, 1),
        "kind": "post",
        "text": text,
        "lang": lang_,
    }


def test_fill_languages_reads_each_cleaned_text_once(case_path, monkeypatch):
    calls: list[list[str]] = []
    real = lang.detect_languages

    def spy(texts):
        calls.append(list(texts))
        return real(texts)

    import swarmscope.enrich as enrich

    monkeypatch.setattr(enrich, "detect_languages", spy)
    ru = "Выборы пройдут в воскресенье, приходите на участки"
    texts = {
        "1": ru,
        "2": f"RT @news: {ru}",  # a retweet: same cleaned text
        "3": f"{ru} https://t.co/abc",  # the same with a link
        "4": "Seçkilər bazar günü keçiriləcək, hamını seçki məntəqələrinə dəvət edirik",
        "5": "https://t.co/xyz",  # nothing to read
        "6": "Polling stations stay open until 8 pm on Sunday",
    }
    rows = [_post(k, v) for k, v in texts.items()]
    rows.append(_post("7", "Polling stations stay open until 8 pm on Sunday", "fr"))  # the platform's tag stays
    with Case(case_path) as db:
        db.append(pa.Table.from_pylist(rows))
        n = fill_languages(db, "TRUE", progress=False)
        got = dict(db.con.execute("SELECT post_id, lang FROM posts").fetchall())
        source = dict(db.con.execute("SELECT post_id, lang_source FROM posts").fetchall())
    assert n == 3
    assert sorted(t for c in calls for t in c) == sorted([ru, texts["4"], texts["6"]])
    assert got == {"1": "ru", "2": "ru", "3": "ru", "4": "az", "5": None, "6": "en", "7": "fr"}
    assert source["1"] == "detected" and source["5"] is None


def test_a_batch_gets_the_languages_fill_languages_gives(case_path, monkeypatch):
    """detect_batch_languages (an ingest's batch, before it is stored) answers as fill_languages does
    on the stored posts, in the batch's row order, and a shared ``known`` reads no text twice."""
    import duckdb

    import swarmscope.enrich as enrich
    from swarmscope import model
    from swarmscope.enrich import detect_batch_languages

    ru = "Выборы пройдут в воскресенье, приходите на участки"
    texts = [
        ("1", ru, None),
        ("2", "Seçkilər bazar günü keçiriləcək, hamını seçki məntəqələrinə dəvət edirik", None),
        ("3", f"RT @news: {ru}", "und"),  # 'und' is no language
        ("4", "https://t.co/xyz", None),  # nothing to read
        ("5", "Polling stations stay open until 8 pm on Sunday", "fr"),  # the platform's tag stays
        ("6", None, None),
        ("7", "Polling stations stay open until 8 pm on Sunday", None),
    ]
    posts = model.conform(pa.Table.from_pylist([_post(k, v, lg) for k, v, lg in texts]), "posts")
    posts = posts.set_column(
        posts.schema.get_field_index("lang_source"),
        "lang_source",
        pa.array(["platform" if lg and lg != "und" else None for _, _, lg in texts], pa.string()),
    )
    with Case(case_path) as db:
        db.append(posts)
        fill_languages(db, "TRUE", progress=False)
        stored = {r[0]: r[1:] for r in db.con.execute("SELECT post_id, lang, lang_source FROM posts").fetchall()}

    calls: list[list[str]] = []
    real = enrich.detect_languages
    monkeypatch.setattr(enrich, "detect_languages", lambda t: calls.append(list(t)) or real(t))
    known: dict[str, str | None] = {}
    con = duckdb.connect()
    got = detect_batch_languages(con, posts, known)
    assert got["post_id"].to_pylist() == [k for k, _, _ in texts]
    assert {r["post_id"]: (r["lang"], r["lang_source"]) for r in got.to_pylist()} == stored
    assert stored["1"] == ("ru", "detected") and stored["3"] == ("ru", "detected") and stored["4"] == (None, None)
    assert stored["5"] == ("fr", "platform") and stored["7"] == ("en", "detected")
    assert len(calls) == 1 and sorted(calls[0]) == sorted([ru, texts[1][1], texts[4][1]])
    again = detect_batch_languages(con, posts, known)  # a later batch of the same texts
    assert again.equals(got) and len(calls) == 1
    untouched = model.conform(pa.Table.from_pylist([_post("9", "Hello there, how are you today", "en")]), "posts")
    assert detect_batch_languages(con, untouched, known) is untouched


def test_an_ingest_stores_languages_and_its_enrichment_reads_no_text_again(tmp_path, monkeypatch):
    import swarmscope.enrich as enrich
    from swarmscope.ingest import ReadOptions, ingest

    calls: list[list[str]] = []
    real = enrich.detect_languages
    monkeypatch.setattr(enrich, "detect_languages", lambda t: calls.append(list(t)) or real(t))
    at_enrichment: list[int] = []
    enrich_pending = enrich.enrich_pending
    monkeypatch.setattr(
        enrich, "enrich_pending", lambda *a, **k: at_enrichment.append(len(calls)) or enrich_pending(*a, **k)
    )
    f = tmp_path / "posts.csv"
    f.write_text(
        "id,author,time,text\n"
        "1,a,2024-01-01T00:00:00,Выборы пройдут в воскресенье приходите на участки\n"
        "2,b,2024-01-01T00:01:00,Polling stations stay open until 8 pm on Sunday\n"
        "3,c,2024-01-01T00:02:00,https://t.co/xyz\n"
        "4,d,2024-01-01T00:03:00,hmm ok\n",  # letters, but no language found
        encoding="utf-8",
    )
    cmap = {"post_id": "id", "account_id": "author", "created_at": "time", "text": "text"}
    case = tmp_path / "case.duckdb"
    (c,) = ingest(case, [f], "generic_table", ReadOptions(column_map=cmap, platform="x"), progress=False)
    assert (c.records, c.inserted) == (4, 4)
    with Case(case, read_only=True) as db:
        got = dict(db.con.execute("SELECT post_id, lang FROM posts").fetchall())
    assert got == {"1": "ru", "2": "en", "3": None, "4": None}
    assert at_enrichment == [1]  # detected as the batch was stored, before the enrichment
    assert len(calls) == 1 and "hmm ok" in calls[0]  # which read no text again, not even the undecided one
