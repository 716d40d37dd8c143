"""Normalisation for matching copies (enrich/text.py): hand-checkable cases."""

from __future__ import annotations

import unicodedata

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmscope.enrich.text import normalise, text_array


def norm(*texts: str | None, az_latin: bool = False) -> list[str | None]:
    return normalise(pa.array(list(texts), pa.string()), az_latin=az_latin).to_pylist()


def test_latin_cyrillic_homoglyphs_match():
    # "paypal" with Cyrillic р, а (U+0440, U+0430); "world" with Cyrillic о
    assert norm("Log in to \u0440\u0430ypal w\u043erld") == norm("Log in to paypal world") == ["log in to paypal world"]


def test_homoglyphs_in_cyrillic_text_fold_to_cyrillic():
    # Latin o, p, e inside a Russian sentence: the dominant script is Cyrillic
    assert norm("Пpивeт, мир! Это тecт") == norm("Привет, мир! Это тест") == ["привет мир это тест"]


def test_persian_and_arabic_letter_forms_fold():
    persian = "سلام علی، کتاب خانه"  # Persian yeh U+06CC, keheh U+06A9
    arabic = "سلام علي، كتاب خانة"  # Arabic yeh U+064A, kaf U+0643, teh marbuta
    maksura = "سلام على، كتاب خانه"  # alef maksura U+0649
    out = norm(persian, arabic, maksura)
    assert out[0] == out[1] == out[2]
    assert "\u064a" in out[0] and "\u06cc" not in out[0]


def test_persian_and_arabic_digits_fold_to_ascii():
    assert norm("قیمت ۱۲۳ و ٤٥٦ تومان") == ["قيمت 123 و 456 تومان"]


def test_azerbaijani_cyrillic_matches_latin_when_asked():
    cyrillic = "Азәрбајҹан Республикасы ҝүнәшли өлкәдир"
    latin = "Azərbaycan Respublikası günəşli ölkədir"
    assert norm(cyrillic, latin, az_latin=True) == ["azerbaycan respublikasi gunesli olkedir"] * 2
    # off by default: the fingerprint definition does not change under a stored case
    plain = norm(cyrillic, latin)
    assert plain[0] != plain[1]


def test_mentions_with_non_ascii_letters_removed():
    assert norm("@Алексей_1 привет @علی۲۳ и @jean.dupont !") == ["привет и"]
    # an e-mail address is not a mention: its parts stay as words
    assert norm("write to anna@example.org") == ["write to anna example org"]


def test_hashtags_kept_as_words_urls_removed():
    assert norm("Free them #FreeIran https://t.co/abc www.x.com/y t.me/chan") == ["free them freeiran"]
    assert norm("Свобода #НетВойне http://x.ru") == ["свобода нетвоине"]


def test_emoji_punctuation_and_invisible_characters_removed():
    assert norm("Stop!!! 🔥🔥 the — war… 🇺🇦👍🏽") == ["stop the war"]
    # zero-width space and soft hyphen inside a word are an evasion: deleted, not a word break
    assert norm("dis\u200binfor\u00admation") == ["disinformation"]


def test_case_width_and_accents_fold():
    assert norm("ＢＲＥＡＫＩＮＧ Été Straße İstanbul") == ["breaking ete strasse istanbul"]


def test_retweet_prefix_removed():
    assert norm("RT @someone: the text") == ["the text"]


def test_odd_input_never_crashes():
    out = norm(None, "", "🔥🔥🔥", "https://a.b/c", "   ", "a" * 100_000)
    assert out[:5] == [None, "", "", "", ""]
    assert out[5] == "a" * 100_000


def test_chunked_arrays_keep_chunking_and_order():
    arr = pa.chunked_array([["Hello World", None], ["Привет"]])
    out = normalise(arr)
    assert isinstance(out, pa.ChunkedArray)
    assert out.to_pylist() == ["hello world", None, "привет"]


def test_slices_on_several_threads_give_the_rows_of_one_pass(monkeypatch):
    """normalise folds slices of the column on THREADS threads: any slicing and any number of threads
    gives the same rows in the same order."""
    import swarmscope.enrich.text as text

    rows = ["Hello @bob http://x.y/z", None, "RT: Привет мир", "ﬁrst  ВОТ", "", "Azərbaycan!", "x" * 50]
    arr = pa.chunked_array([rows * 3, rows[::-1] * 2])
    monkeypatch.setattr(text, "THREADS", 1)
    one = normalise(arr)
    assert one.chunks[0].to_pylist()[:6] == ["hello", None, "привет мир", "ﬁrst bot", "", "azerbaycan"]
    for threads, chars, least in ((1, 10**9, 10**6), (2, 40, 1), (3, 1, 1), (2, 10**9, 2)):
        monkeypatch.setattr(text, "THREADS", threads)
        monkeypatch.setattr(text, "NORMALISE_CHARS", chars)
        monkeypatch.setattr(text, "MIN_SLICE", least)
        got = normalise(arr)
        assert isinstance(got, pa.ChunkedArray)
        assert got.to_pylist() == one.to_pylist(), (threads, chars)


def test_text_array_repairs_lone_surrogates_and_counts_them():
    arr, repaired = text_array(["ok", "bad \ud800 text", "\ud83d\ude00 pair", None])
    assert repaired == 2
    assert arr.to_pylist() == ["ok", "bad \ufffd text", "😀 pair", None]
    clean, n = text_array(["a", None])
    assert n == 0 and clean.to_pylist() == ["a", None]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=60)), max_size=20))
def test_property_idempotent_and_only_words(texts):
    arr, _ = text_array(texts)
    once = normalise(arr)
    assert normalise(once).to_pylist() == once.to_pylist()
    for s in once.to_pylist():
        if s is None:
            continue
        assert s == s.strip() and "  " not in s
        assert all(unicodedata.category(c)[0] in "LN" or c == " " for c in s)


@pytest.mark.scale
def test_scale_many_texts_one_call():
    base = ["Copy this text to every account now #campaign", "Другой текст про погоду"]
    arr = pa.array([base[i % 2] + f" {i}" for i in range(50_000)])
    out = normalise(arr).to_pylist()
    assert out[0] == "copy this text to every account now campaign 0"
    assert out[49_999] == "другои текст про погоду 49999"


# -- Unicode TR39 confusables (disarm's tables of confusables.txt) and the scripts the operations use --------


def test_tr39_version_is_the_pinned_one():
    import disarm

    assert disarm.CONFUSABLES_VERSION == "17.0.0"  # a new table changes fingerprints: pin, then re-read the docs


@pytest.mark.parametrize(
    "swapped",
    [
        "Log in to раураӏ wоrld today and claim your prize",  # Cyrillic а, р, у, ӏ, о
        "Log in to ΡΑΥΡΑL wοrld today and claim your prize",  # Greek capitals and ο
        "Log in to pαypαl wοrld today and claim your prize",  # Greek α, ο
        "Log in to paypal wօrld tօday and claim yօսr prize",  # Armenian օ, ս
        "Log in to ｐａｙｐａｌ ｗｏｒｌｄ today and claim your prize",  # full-width
        "Log in to 𝐩𝐚𝐲𝐩𝐚𝐥 𝔴𝔬𝔯𝔩𝔡 today and claim your prize",  # mathematical bold and fraktur
        "Log in to 𝓅𝒶𝓎𝓅𝒶𝓁 world today and claim your prize",  # mathematical script
        "Log in to pay\u200bpal wor\u200dld to\u2060day and cl\ufeffaim your pr\u00adize",  # zero-width, soft hyphen
        "Log in to pay\u034fpal world to\u180eday and claim your\u2063 prize",  # CGJ, Mongolian vowel separator
    ],
)
def test_tr39_homoglyph_copies_meet_their_original(swapped):
    assert norm(swapped) == norm("Log in to paypal world today and claim your prize")


def test_tr39_every_swappable_letter_swapped_still_meets():
    # a tool that swaps every letter with a Cyrillic twin: most letters are now Cyrillic, but only
    # letters without a twin decide the dominant script, so the text still folds to Latin
    original = "The bridge closes tomorrow, tell your friends and family"
    twins = str.maketrans("aceopxyijshdqwlABCEHIJKMOPSTXY", "асеорхуіјѕһԁԛԝӏАВСЕНІЈКМОРЅТХУ")
    swapped = original.translate(twins)
    assert sum(c.isascii() for c in swapped if c.isalpha()) < sum(not c.isascii() for c in swapped if c.isalpha())
    assert norm(swapped) == norm(original)
    # and the other way: Latin twins in a Russian text fold to Cyrillic, so Russian stays Russian
    assert norm("Мoсквa — стoлицa Рoссии, этo знaют все") == norm("Москва — столица России, это знают все")
    assert norm("Москва — столица России")[0].startswith("москва")


def test_hangul_filler_is_a_blank_not_a_letter():
    assert norm("free\u3164them now") == norm("free them now") == ["free them now"]


def test_tatweel_and_arabic_diacritics_removed():
    plain = "الحرية للمعتقلين السياسيين الآن"
    stretched = "الحـــرية للمعتـــقلين السيـاسيين الآن"  # tatweel U+0640
    voweled = "الْحُرِّيَّةُ لِلْمُعْتَقَلِينَ السِّيَاسِيِّينَ الْآنَ"  # fatha, damma, kasra, shadda, sukun
    assert norm(stretched) == norm(voweled) == norm(plain)


def test_persian_zwnj_and_letter_forms():
    # ZWNJ (U+200C) joins the Persian prefix mi- to its verb; typed without it, or with a space, by others
    with_zwnj = "ما می\u200cخواهیم آزادی را ببینیم"
    without = "ما میخواهیم آزادی را ببینیم"
    arabic_forms = "ما ميخواهيم آزادي را ببينيم"  # Arabic yeh U+064A for Persian yeh U+06CC
    assert norm(with_zwnj) == norm(without) == norm(arabic_forms)
    assert norm("کتاب") == norm("كتاب")  # keheh / kaf


def test_azerbaijani_latin_cyrillic_with_homoglyphs():
    latin = "Azərbaycan xalqı gələcəyə inamla baxır"
    cyrillic = "Азәрбајҹан халгы ҝәләҹәјә инамла бахыр"
    # a Latin o and a Latin a inside the Cyrillic text: Latin twins fold to Cyrillic, then to Latin
    mixed = "Азәрбајҹан хaлгы ҝәләҹәјә инaмла бaхыр"
    out = norm(latin, cyrillic, mixed, az_latin=True)
    assert out[0] == out[1] == out[2]
