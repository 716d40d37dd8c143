"""Post search: multilingual terms, AND semantics, BM25 order, every filter, pages, bad parameters,
and the stored index giving exactly what a scan gives."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from swarmscope import search
from swarmscope.duck import memory_at_most
from swarmscope.enrich.actions import build_actions
from swarmscope.store import Case

T0 = dt.datetime(2024, 11, 1, 10, 0)

# (platform, post_id, account_id, hours after T0, lang, text, hashtags, urls)
POSTS = [
    ("x", "1", "a1", 0, "az", "Yaşıl körpü bu gün", ["YaşılKörpü"], []),
    ("x", "2", "a2", 29, "ru", "Привет мир", [], []),
    ("telegram", "c/3", "t1", 50, "fa", "سلام دنیا", [], []),
    ("x", "4", "a1", 72, "en", "peace peace peace talks", [], ["https://www.example.com/a?utm_source=x"]),
    ("x", "5", "a2", 96, "en", "peace talks today and more words here to make it long", [], []),
    ("x", "6", "a3", 120, "en", "talks only", [], []),
    ("x", "7", "a3", 144, "tr", "YAŞIL KÖRPÜ", [], []),
    ("x", "8", "a3", 168, None, "🌻🌻", [], []),
]
ACCOUNTS = [("x", "a1", "Ana_Az"), ("x", "a2", "boris"), ("x", "a3", "cem"), ("telegram", "t1", "kanal")]


def _posts_table(rows: list[tuple]) -> pa.Table:
    return pa.table(
        {
            "platform": [r[0] for r in rows],
            "post_id": [r[1] for r in rows],
            "account_id": [r[2] for r in rows],
            "created_at": pa.array([T0 + dt.timedelta(hours=r[3]) for r in rows], pa.timestamp("us")),
            "lang": [r[4] for r in rows],
            "text": [r[5] for r in rows],
            "kind": ["post"] * len(rows),
            "hashtags": pa.array([r[6] for r in rows], pa.list_(pa.string())),
            "urls": pa.array([r[7] for r in rows], pa.list_(pa.string())),
        }
    )


@pytest.fixture
def db(tmp_path: Path):
    case = Case(tmp_path / "case.duckdb")
    case.append(
        posts=_posts_table(POSTS),
        accounts=pa.table(
            {
                "platform": [a[0] for a in ACCOUNTS],
                "account_id": [a[1] for a in ACCOUNTS],
                "handle": [a[2] for a in ACCOUNTS],
            }
        ),
    )
    build_actions(case)
    search.build_index(case.con)
    yield case
    case.close()


def ids(con, **kw) -> list[str]:
    return search.search_posts(con, **kw)[1]["post_id"].to_pylist()


def test_terms_are_unicode_words_folded_for_search(db):
    got = [
        db.con.execute(f"SELECT {search.terms_sql('$t')}", {"t": t}).fetchall()[0][0]
        for t in ("Yaşıl körpü", "Привет мир", "سلام دنیا", "YAŞIL İstanbul", "سَلامـ يك", "🌻 only!", None)
    ]
    assert got == [
        ["yasil", "korpu"],
        ["привет", "мир"],
        ["سلام", "دنیا"],
        ["yasil", "istanbul"],
        ["سلام", "یک"],
        ["only"],
        [],
    ]


def test_multilingual_queries_find_their_posts(db):
    assert sorted(ids(db.con, q="yaşıl")) == ["1", "7"]  # "YAŞIL" and "Yaşıl" are one word
    assert sorted(ids(db.con, q="yasil")) == ["1", "7"]  # typed without Azerbaijani letters
    assert ids(db.con, q="korpu") == ids(db.con, q="körpü") != []
    assert ids(db.con, q="ПРИВЕТ") == ["2"]
    assert ids(db.con, q="دنیا") == ["c/3"]


def test_every_term_is_required(db):
    assert sorted(ids(db.con, q="talks")) == ["4", "5", "6"]
    assert sorted(ids(db.con, q="peace talks")) == ["4", "5"]
    assert ids(db.con, q="peace nowhere") == []


def test_bm25_order_and_scores_by_hand(db):
    total, page = search.search_posts(db.con, q="peace")
    # N = 8 posts, 'peace' in 2; lengths 4, 2, 2, 4, 11, 2, 2, 0 terms -> avgdl 27/8
    n, df, avgdl = 8, 2, 27 / 8
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))

    def bm25(tf: int, length: int) -> float:
        return idf * tf * 2.2 / (tf + 1.2 * (1 - 0.75 + 0.75 * length / avgdl))

    assert total == 2 and page["post_id"].to_pylist() == ["4", "5"]
    assert page["score"].to_pylist() == pytest.approx([bm25(3, 4), bm25(1, 11)], abs=1e-6)
    row = page.slice(0, 1).to_pylist()[0]
    assert (row["handle"], row["kind"], row["url"]) == ("Ana_Az", "post", "https://x.com/i/status/4")


@pytest.mark.parametrize(
    "kw, expected",
    [
        ({"hashtag": "#yaşılkörpü"}, ["1"]),
        ({"hashtag": "YAŞILKÖRPÜ"}, ["1"]),
        ({"url": "https://www.example.com/a?utm_source=other"}, ["4"]),  # canonical: tracking dropped
        ({"domain": "www.EXAMPLE.com"}, ["4"]),
        ({"account": "@ana_az"}, ["1", "4"]),
        ({"account": "A3"}, ["6", "7", "8"]),
        ({"date_from": "2024-11-02", "date_to": "2024-11-03"}, ["2", "c/3"]),  # 11-02 15:00 and 11-03 12:00
        ({"date_from": "2024-11-02T15:00:00Z", "date_to": "2024-11-03T12:00:00+00:00"}, ["2", "c/3"]),
        ({"date_to": "2024-11-03T14:59:59+03:00"}, ["1", "2"]),  # 11:59:59 UTC: before the Telegram post
        ({"platform": "telegram"}, ["c/3"]),
        ({"lang": "RU"}, ["2"]),
        ({"lang": "unknown"}, ["8"]),
        ({"q": "talks", "account": "cem"}, ["6"]),
        ({"q": "", "platform": " "}, ["1", "2", "c/3", "4", "5", "6", "7", "8"]),  # blanks are "not given"
    ],
)
def test_filters(db, kw, expected):
    total, page = search.search_posts(db.con, **kw)
    assert page["post_id"].to_pylist() == expected and total == len(expected)


def test_hashtag_finds_reposts_of_tagged_posts(db):
    repost = _posts_table([("x", "r1", "a2", 10, "az", "RT @Ana_Az: Yaşıl körpü bu gün", ["YaşılKörpü"], [])])
    repost = repost.set_column(repost.schema.get_field_index("kind"), "kind", pa.array(["repost"]))
    db.append(posts=repost.append_column("parent_post_id", pa.array(["1"])), run_id="r")
    build_actions(db, "run_id = 'r'")
    assert ids(db.con, hashtag="YAŞILKÖRPÜ") == ["1", "r1"]  # the index is stale: a scan
    assert ids(db.con, account="boris", date_to="2024-11-01") == ["r1"]
    search.build_index(db.con)
    for kw in ({"hashtag": "yaşılkörpü"}, {"hashtag": "#YASILKORPU"}, {"hashtag": "yaşılkörpü", "q": "gün"}):
        assert ids(db.con, use_index=True, **kw) == ["1", "r1"]
        assert search.search_posts(db.con, use_index=True, **kw) == search.search_posts(db.con, use_index=False, **kw)
    assert db.con.execute("SELECT count(*) FROM post_objects WHERE object_type = 'hashtag'").fetchall() == [(2,)]


def test_the_index_reads_posts_by_rowid_and_covers_urls_and_domains(db):
    docs = db.con.execute(
        "SELECT d.doc, d.post_id, p.post_id FROM post_docs d JOIN posts p ON p.rowid = d.doc ORDER BY d.doc"
    ).fetchall()
    assert [r[1] for r in docs] == [r[2] for r in docs] == [p[1] for p in POSTS]
    objects = db.con.execute("SELECT object_type, key, doc FROM post_objects ORDER BY ALL").fetchall()
    accounts = [("account", p[2], i) for i, p in enumerate(POSTS)]
    assert objects == sorted(accounts) + [
        ("domain", "example.com", 3),
        ("hashtag", "yasilkorpu", 0),
        ("url", "https://www.example.com/a", 3),
    ]
    for kw in (
        {"url": "https://www.example.com/a?utm_source=x"},
        {"domain": "www.example.com"},
        {"domain": "example.com", "q": "peace"},
        {"domain": "example.com", "q": "today"},
        {"domain": "example.com", "hashtag": "yaşılkörpü"},
        {"account": "ANA_AZ", "q": "peace"},
        {"account": "a3", "date_from": "2024-11-06"},
        {"account": "t1", "platform": "x"},
    ):
        assert search.search_posts(db.con, use_index=True, **kw) == search.search_posts(db.con, use_index=False, **kw)
    assert ids(db.con, domain="example.com", q="peace", use_index=True) == ["4"]
    assert ids(db.con, domain="example.com", q="today", use_index=True) == []
    assert ids(db.con, account="@cem", q="talks", use_index=True) == ["6"]


def test_pages_and_exact_total(db):
    seen = []
    for offset in (0, 3, 6):
        total, page = search.search_posts(db.con, limit=3, offset=offset)
        assert total == 8
        seen += page["post_id"].to_pylist()
    assert seen == ["1", "2", "c/3", "4", "5", "6", "7", "8"]  # time order without q
    total, page = search.search_posts(db.con, q="talks", limit=2, offset=10)
    assert total == 3 and page.num_rows == 0 and page.schema == search.RESULT


@pytest.mark.parametrize(
    "kw, message",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 1001}, "limit"),
        ({"limit": True}, "limit"),
        ({"offset": -1}, "offset"),
        ({"platform": "myspace"}, "platform"),
        ({"lang": "english"}, "lang"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"date_to": "2024-13-01"}, "date_to"),
        ({"date_from": "2024-11-05", "date_to": "2024-11-01"}, "date_from"),
        ({"q": "🌻 !!!"}, "q: no words"),
        ({"q": "a " * 600}, "q is"),
        ({"url": "not a url"}, "url"),
        ({"domain": "a b"}, "domain"),
        ({"hashtag": "#"}, "hashtag"),
        ({"account": 5}, "account"),
    ],
)
def test_bad_parameters_are_named(db, kw, message):
    with pytest.raises(ValueError, match=message):
        search.search_posts(db.con, **kw)


def test_scan_gives_what_the_index_gives_and_a_stale_index_is_not_used(db):
    for kw in ({"q": "peace"}, {"q": "talks", "limit": 2, "offset": 1}, {"q": "yaşıl körpü"}, {"q": "dünya"}):
        assert search.search_posts(db.con, use_index=True, **kw) == search.search_posts(db.con, use_index=False, **kw)
    built = search.index_state(db.con)["built_at"]
    assert search.build_index(db.con) == 8 and search.index_state(db.con)["built_at"] == built  # nothing to do
    db.append(posts=_posts_table([("x", "9", "a1", 200, "en", "peace at last", [], [])]))
    assert not search.index_is_current(db.con)
    assert ids(db.con, q="peace") == ["4", "9", "5"]  # found by the scan
    with pytest.raises(ValueError, match="use_index"):
        search.search_posts(db.con, q="peace", use_index=True)
    assert search.build_index(db.con) == 9 and search.index_is_current(db.con)
    assert ids(db.con, q="peace", use_index=True) == ["4", "9", "5"]


def test_an_index_keyed_by_another_duckdbs_hash_is_stale_and_rebuilt(db):
    # post_terms holds hash(term): an index built where hash() differs (another DuckDB release) would
    # look up other keys and silently find nothing, so it must count as stale
    assert search.build_index(db.con) == 8 and search.index_is_current(db.con)
    assert ids(db.con, q="peace", use_index=True) == ["4", "5"]
    db.con.execute("UPDATE post_index SET hash_probe = hash_probe + 1")
    assert not search.index_is_current(db.con)
    assert ids(db.con, q="peace") == ["4", "5"]  # by the scan
    built = search.index_state(db.con)["built_at"]
    assert search.build_index(db.con) == 8 and search.index_state(db.con)["built_at"] > built
    assert search.index_is_current(db.con) and ids(db.con, q="peace", use_index=True) == ["4", "5"]


def test_an_accounts_posts_through_the_index_are_the_scans(db):
    """The index keys an account's posts by account id alone: the platform must still tell apart two
    accounts of one id on two platforms. A stale index is not used: the scan finds the new post."""
    extra = [("telegram", "c/9", "a1", 10, "ru", "другая платформа", [], [])]
    db.append(posts=_posts_table(extra))
    scan = search.account_posts_sql(db.con)
    assert "post_objects" not in scan  # the index does not cover c/9 yet
    search.build_index(db.con)
    indexed = search.account_posts_sql(db.con)
    assert "post_objects" in indexed
    for platform, account in [
        ("x", "a1"),
        ("telegram", "a1"),
        ("x", "a3"),
        ("telegram", "t1"),
        ("x", "t1"),
        ("x", "zz"),
    ]:
        who = {"platform": platform, "account_id": account}
        by_hand = sorted(r[1] for r in POSTS + extra if r[0] == platform and r[2] == account)
        for sql in (scan, indexed):
            got = db.con.execute(f"SELECT p.post_id FROM {sql} ORDER BY p.post_id", who).fetchall()
            assert [r[0] for r in got] == by_hand, (platform, account, sql)


def test_case_without_index_falls_back_to_a_scan(tmp_path: Path):
    with Case(tmp_path / "bare.duckdb") as case:
        case.append(posts=_posts_table(POSTS))
        assert search.index_state(case.con) is None
        assert ids(case.con, q="peace") == ["4", "5"]


def test_generated_posts_index_equals_scan_equals_brute_force(tmp_path: Path):
    rng = np.random.default_rng(3)
    vocab = ["alma", "körpü", "мир", "дом", "سلام", "news", "Peace", "ÇAY", "x1", "ev", "su", "gün"]
    rows = []
    tags, links = ["Çay", "su", "GÜN"], ["https://a.example/1", "https://b.example.org/2"]
    for i in range(3000):
        words = rng.choice(vocab, size=int(rng.integers(0, 9)))
        tagged = [str(t) for t in rng.choice(tags, size=int(rng.integers(0, 3)), replace=False)]
        linked = [str(u) for u in rng.choice(links, size=int(rng.integers(0, 2)))]
        rows.append(("x", str(i), f"u{i % 97}", i, "en", " ".join(words) + ("!" if i % 5 else ""), tagged, linked))
    with Case(tmp_path / "gen.duckdb") as case:
        case.append(
            posts=_posts_table(rows),
            accounts=pa.table(
                {
                    "platform": ["x"] * 97,
                    "account_id": [f"u{i}" for i in range(97)],
                    "handle": [f"H{i}" for i in range(97)],
                }
            ),
        )
        build_actions(case)
        search.build_index(case.con)
        for kw in (
            {"hashtag": "çay"},
            {"hashtag": "gun", "q": "alma"},
            {"url": links[0], "hashtag": "su"},
            {"domain": "example.org", "q": "мир дом", "account": "h5"},
            {"domain": "a.example", "account": "u3", "date_from": "2024-11-02"},
            {"q": "news", "account": "H7"},
        ):
            total, page = search.search_posts(case.con, limit=1000, use_index=True, **kw)
            assert page.num_rows == min(total, 1000) and (total > 0 or "account" in kw)
            assert (total, page) == search.search_posts(case.con, limit=1000, use_index=False, **kw)
            assert search.search_posts(case.con, limit=9, offset=4, **kw) == search.search_posts(
                case.con, limit=9, offset=4, use_index=False, **kw
            )
        folded = [set(search_terms(case.con, r[5])) for r in rows]
        for q in ("alma", "körpü мир", "PEACE çay", "su ev gün", "سلام news x1"):
            want = set(search_terms(case.con, q))
            expected = {r[1] for r, terms in zip(rows, folded) if want <= terms}
            total, page = search.search_posts(case.con, q=q, limit=1000)
            assert total == len(expected) and set(page["post_id"].to_pylist()) == expected
            for limit, offset in ((50, 7), (1, 0), (3, 5), (2, 40)):  # cuts through runs of equal scores
                assert search.search_posts(case.con, q=q, limit=limit, offset=offset) == search.search_posts(
                    case.con, q=q, limit=limit, offset=offset, use_index=False
                )
            scores = page["score"].to_pylist()
            assert scores == sorted(scores, reverse=True)


def search_terms(con, text: str) -> list[str]:
    return con.execute(f"SELECT {search.terms_sql('$t')}", {"t": text}).fetchall()[0][0]


def test_the_build_caps_duckdb_memory_and_puts_the_limit_back(db):
    setting = "SELECT current_setting('memory_limit')"
    seen = []
    db.con.execute("SET memory_limit = '12GiB'")
    with memory_at_most(db.con, 4.0):
        seen.append(db.con.execute(setting).fetchall()[0][0])
    assert seen == ["4.0 GiB"] and db.con.execute(setting).fetchall()[0][0] == "12.0 GiB"
    db.con.execute("SET memory_limit = '512MiB'")  # lower already: left alone
    assert search.build_index(db.con, force=True) == 8
    assert db.con.execute(setting).fetchall()[0][0] == "512.0 MiB"
    db.con.execute("SET memory_limit = '12GiB'")
    with pytest.raises(duckdb.Error), memory_at_most(db.con, 4.0):
        db.con.execute("SELECT no_such_column FROM posts")
    assert db.con.execute(setting).fetchall()[0][0] == "12.0 GiB"
