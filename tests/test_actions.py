"""Posts → actions (enrich/actions.py), on a small case built by hand."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from swarmscope.enrich import build_actions
from swarmscope.store import Case

T0 = dt.datetime(2024, 5, 1, 12, 0)


def _post(pid, acc, kind="post", text=None, parent=None, hashtags=(), urls=(), mentions=()):
    return {
        "platform": "x",
        "post_id": pid,
        "account_id": acc,
        "created_at": T0,
        "kind": kind,
        "text": text,
        "parent_post_id": parent,
        "hashtags": list(hashtags),
        "urls": list(urls),
        "mentions": list(mentions),
    }


def test_actions_by_object_type(case_path):
    posts = pa.Table.from_pylist(
        [
            _post(
                "1",
                "a",
                text="Ｂig NEWS today: read   https://t.co/x  @Someone now!",
                hashtags=["ＶＯＴＥ", "#Peace"],
                urls=["https://WWW.news.example.co.uk/a?utm_source=x"],
                mentions=["Someone"],
            ),
            _post(
                "2",
                "b",
                kind="repost",
                text="RT @a: Big news today",
                parent="1",
                hashtags=["VOTE"],
                urls=["https://www.news.example.co.uk/a"],
                mentions=["a"],
            ),
            _post("3", "c", text="big news today: read @other now!"),  # same normalised text as post 1
            _post("4", "d", kind="reply", text="short", parent="1"),
            _post("5", "e", kind="forward", text="Big news today: read now!", parent="1"),
        ]
    )
    with Case(case_path) as db:
        db.append(posts)
        n = build_actions(db)
        rows = db.con.execute(
            "SELECT post_id, object_type, object_id FROM actions ORDER BY post_id, object_type, object_id"
        ).fetchall()
    got = {(p, t): o for p, t, o in rows}
    assert got[("1", "url")] == "https://www.news.example.co.uk/a"
    assert got[("1", "domain")] == "example.co.uk"
    tags = sorted(o for p, t, o in rows if p == "1" and t == "hashtag")
    assert tags == ["peace", "vote"]  # NFKC folds full-width letters, '#' dropped, lower-cased
    assert got[("1", "mention")] == "someone"
    assert got[("2", "repost_of")] == "x:1" and got[("4", "reply_to")] == "x:1" and got[("5", "repost_of")] == "x:1"
    # same normalised text → same fingerprint; reposts/forwards and short texts get none
    assert got[("1", "text_fingerprint")] == got[("3", "text_fingerprint")]
    assert not any(t == "text_fingerprint" for p, t, o in rows if p in ("2", "4", "5"))
    # a repost's entities are the original's: its only action is repost_of
    assert [t for p, t, o in rows if p == "2"] == ["repost_of"]
    assert n == len(rows)
    with Case(case_path) as db:
        assert build_actions(db) == 0  # idempotent


def test_language_detection_ignores_hashtags_and_refuses_to_guess(case_path):
    from swarmscope.enrich import fill_languages
    from swarmscope.enrich.lang import detect_languages

    texts = [
        "Every vote counts on 27 November, see you at the polls #Election2024 #SəsVer",
        "#SəsVer",
        "🔥🔥🔥",
        "Выборы пройдут в воскресенье, приходите на участки",
    ]
    rows = [_post(str(i), "a", text=t) for i, t in enumerate(texts)]
    with Case(case_path) as db:
        db.append(pa.Table.from_pylist(rows))
        fill_languages(db, "TRUE", progress=False)
        got = dict(db.con.execute("SELECT post_id, lang FROM posts").fetchall())
    assert got["0"] == "en"  # one Azerbaijani letter in a hashtag made it Tagalog
    assert got["2"] is None  # nothing to read
    assert got["3"] == "ru"
    assert detect_languages(["ok lol", "Idiots loooool"]) == [None, None]  # too unsure: unknown, not a guess
