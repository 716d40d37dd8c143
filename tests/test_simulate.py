"""Scenario generator: deterministic, the planted figures are in the files, the files ingest cleanly."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
from pathlib import Path

import pytest

from swarmscope import store
from swarmscope.ingest import ingest
from swarmscope.simulate import ScenarioParams, generate, generate_x_v2_posts
from swarmscope.store import Case

# Small enough for seconds, same calendar as the demo (holidays, working Saturdays, switch).
SMALL = ScenarioParams(
    seed=11,
    n_organic_accounts=300,
    n_organic_posts=2500,
    n_fan_accounts=100,
    n_copypaste_accounts=60,
    n_amplifier_accounts=30,
    n_amplified_posts=20,
    n_tiktok_organic_accounts=100,
    n_tiktok_organic_videos=500,
    n_tiktok_viral_sound_users=40,
    n_youtube_organic_accounts=100,
    n_youtube_organic_comments=400,
)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("scenario"), SMALL)


@pytest.fixture(scope="module")
def case(scenario, tmp_path_factory):
    """X, TikTok and YouTube in one case (Telegram has its own test)."""
    path = tmp_path_factory.mktemp("case") / "case.duckdb"
    counts = ingest(path, scenario.x_files + scenario.tiktok_files + scenario.youtube_files, progress=False)
    return path, counts


def _q(case_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with Case(case_path, read_only=True) as db:
        return db.con.execute(sql, params or []).fetchall()


def _op(scenario, kind: str) -> dict:
    [op] = [o for o in scenario.truth["operations"] if o["type"] == kind]
    return op


# -- determinism -----------------------------------------------------------


def test_same_seed_same_bytes(scenario, tmp_path):
    again = generate(tmp_path / "again", SMALL)
    root = scenario.truth_path.parent
    assert [f.name for f in scenario.files] == [
        "x_v2_search.jsonl",
        "result.json",
        "tiktok_research_videos.jsonl",
        "youtube_comment_threads.jsonl",
    ]
    for f in [*scenario.files, scenario.truth_path, scenario.watchlist_path]:
        other = tmp_path / "again" / f.relative_to(root)
        assert _sha(f) == _sha(other), f.name
    assert again.truth == scenario.truth


def test_other_seed_other_data(scenario, tmp_path):
    other = generate(tmp_path / "other", ScenarioParams(**{**SMALL.__dict__, "seed": 12}))
    assert _sha(other.x_files[0]) != _sha(scenario.x_files[0])
    assert _sha(other.tiktok_files[0]) != _sha(scenario.tiktok_files[0])
    assert _sha(other.youtube_files[0]) != _sha(scenario.youtube_files[0])


def test_platforms_can_be_left_out(tmp_path):
    sc = generate(tmp_path, ScenarioParams(**{**SMALL.__dict__, "tiktok": False, "youtube": False, "telegram": False}))
    assert sc.files == sc.x_files and not sc.tiktok_files and not sc.youtube_files
    op = _op(sc, "copy_paste")
    assert op["platforms"] == ["x"] and op["accounts_per_platform"] == {"x": SMALL.n_copypaste_accounts}
    assert sc.truth["tiktok_viral_sound"] is None


def test_bad_params_are_named():
    with pytest.raises(ValueError, match="narrative switch"):
        ScenarioParams(election_date=dt.date(2030, 1, 1))
    with pytest.raises(ValueError, match="n_organic_accounts"):
        ScenarioParams(n_organic_accounts=100, n_fan_accounts=400)
    with pytest.raises(ValueError, match="holiday_country 'XX'"):
        ScenarioParams(holiday_country="XX")
    with pytest.raises(ValueError, match="TikTok crew"):
        ScenarioParams(n_tiktok_operation_accounts=2)
    with pytest.raises(ValueError, match="n_tiktok_viral_sound_users"):
        ScenarioParams(n_tiktok_organic_accounts=50, n_tiktok_viral_sound_users=60)
    with pytest.raises(ValueError, match="YouTube crew"):
        ScenarioParams(youtube_wave_share=0)
    ScenarioParams(tiktok=False, n_tiktok_operation_accounts=0, youtube=False, n_youtube_videos=0)  # unused: fine


# -- ingest ------------------------------------------------------------------


def test_ingests_with_zero_quarantine(scenario, case):
    path, results = case
    assert [r.format for r in results] == ["x_v2", "tiktok", "youtube"]
    assert all(r.quarantined == 0 and r.balanced for r in results)
    x, tiktok, youtube = results
    t = scenario.truth
    # every generated tweet stored once; includes.tweets copies are the only duplicates
    assert x.inserted == t["counts"]["x_posts"]
    # rows in = stored: each TikTok video and each YouTube comment or reply is one record and one post
    assert tiktok.records == tiktok.inserted == t["counts"]["tiktok_videos"]
    assert youtube.records == youtube.inserted == t["counts"]["youtube_comments"]
    assert _q(path, "SELECT count(*) FROM quarantine") == [(0,)]
    assert _q(path, "SELECT platform, count(*), count(DISTINCT post_id) FROM posts GROUP BY 1 ORDER BY 1") == [
        (p, r.inserted, r.inserted) for p, r in (("tiktok", tiktok), ("x", x), ("youtube", youtube))
    ]
    # every truth id is a stored post / account, as ingest names it, on its platform
    ids = [t["fan_crowd"]["post_ids"]] + [o["post_ids"] for o in t["operations"][1:]]
    wanted = sorted({i for group in ids for i in group})
    assert _q(path, "SELECT count(*) FROM posts WHERE platform = 'x' AND post_id IN (SELECT unnest(?))", [wanted]) == [
        (len(wanted),)
    ]
    op = _op(scenario, "copy_paste")
    for platform, posts in op["post_ids_by_platform"].items():
        assert _q(
            path, "SELECT count(*) FROM posts WHERE platform = ? AND post_id IN (SELECT unnest(?))", [platform, posts]
        ) == [(len(posts),)]
    viral = t["tiktok_viral_sound"]
    assert _q(
        path,
        "SELECT count(*) FROM posts WHERE platform = 'tiktok' AND post_id IN (SELECT unnest(?))",
        [viral["post_ids"]],
    ) == [(len(viral["post_ids"]),)]
    accs = sorted(set(t["organic"]["account_ids"]).union(*[o["account_ids"] for o in t["operations"]]))
    assert _q(path, "SELECT count(*) FROM accounts WHERE account_id IN (SELECT unnest(?))", [accs]) == [(len(accs),)]
    assert _q(path, "SELECT count(*) FROM accounts") == [(len(accs),)]  # nobody else, nobody twice
    assert _q(path, "SELECT count(DISTINCT (platform, lower(handle))) FROM accounts") == [(len(accs),)]


def test_entities_match_text(scenario):
    """Hashtag, URL and mention offsets point at their text, as in the API (code points)."""
    bad = checked = 0
    for line in scenario.x_files[0].open(encoding="utf-8"):
        page = json.loads(line)
        assert len(page["data"]) <= 100 and page["meta"]["result_count"] == len(page["data"])
        users = {u["id"] for u in page["includes"]["users"]}
        for tw in page["data"]:
            assert tw["author_id"] in users and tw["created_at"].endswith(".000Z")
            ents = tw.get("entities", {})
            for h in ents.get("hashtags", []):
                bad += tw["text"][h["start"] : h["end"]] != "#" + h["tag"]
            for u in ents.get("urls", []):
                bad += tw["text"][u["start"] : u["end"]] != u["url"]
            for m in ents.get("mentions", []):
                bad += tw["text"][m["start"] : m["end"]] != "@" + m["username"]
            checked += len(ents)
    assert checked > 1000 and bad == 0


# -- planted figures -----------------------------------------------------------


def test_run_of_73_identical_posts(scenario, case):
    path, _ = case
    run = _op(scenario, "copy_paste")["traits"]["run"]
    rows = _q(
        path, "SELECT post_id, text FROM posts WHERE account_id = ? ORDER BY created_at, post_id", [run["account_id"]]
    )
    longest, best, cur, start = 0, (0, 0), 1, 0
    for i in range(1, len(rows) + 1):
        if i < len(rows) and rows[i][1] == rows[i - 1][1]:
            cur += 1
            continue
        if cur > longest:
            longest, best = cur, (start, i)
        cur, start = 1, i
    assert longest == 73 == run["count"]
    assert [r[0] for r in rows[best[0] : best[1]]] == run["post_ids"]
    assert len(rows) > 73  # the account also posts other things


def test_burst_of_1000_posts_in_ten_minutes(scenario, case):
    path, _ = case
    b = _op(scenario, "copy_paste")["traits"]["burst"]
    start, end = (dt.datetime.fromisoformat(b[k].replace("Z", "")) for k in ("window_start", "window_end"))
    assert end - start == dt.timedelta(minutes=10)
    rows = _q(path, "SELECT post_id, created_at FROM posts WHERE list_contains(hashtags, ?)", [b["hashtag"]])
    assert len(rows) == 1000 == b["count"]
    assert all(start <= t < end for _, t in rows)
    assert sorted(r[0] for r in rows) == b["post_ids"]


def test_operators_calendar(scenario, case):
    """Office hours at UTC+4, weekdays, off on AZ holidays, at work on transferred Saturdays."""
    path, _ = case
    op = _op(scenario, "copy_paste")
    tr = op["traits"]
    assert (tr["utc_offset_hours"], tr["holiday_country"]) == (4.0, "AZ")
    # what holidays.country_holidays('AZ') says for the window (hand-checked)
    assert tr["holidays_off"] == ["2024-11-08", "2024-11-11", "2024-11-12", "2024-11-13"]
    assert tr["working_weekend_days"] == ["2024-11-16", "2024-11-23"]
    local = _q(
        path, "SELECT created_at + INTERVAL 4 HOUR FROM posts WHERE post_id IN (SELECT unnest(?))", [op["post_ids"]]
    )
    assert len(local) == len(op["post_ids"])
    days = {t.date() for (t,) in local}
    assert all(9 <= t.hour < 18 for (t,) in local)
    assert not days & {dt.date.fromisoformat(d) for d in tr["holidays_off"]}
    assert {dt.date.fromisoformat(d) for d in tr["working_weekend_days"]} <= days
    assert all(d.weekday() < 5 or d.isoformat() in tr["working_weekend_days"] for d in days)


def test_narrative_switch(scenario, case):
    path, _ = case
    op = _op(scenario, "copy_paste")
    sw = op["traits"]["narrative_switch"]
    switch = dt.datetime.fromisoformat(sw["date"]) - dt.timedelta(hours=4)  # local midnight, in UTC
    assert sw["date"] == "2024-11-20" and sw["election_date"] == "2024-11-27"
    run_and_burst = set(op["traits"]["run"]["post_ids"]) | set(op["traits"]["burst"]["post_ids"])
    waves = sorted(set(op["post_ids"]) - run_and_burst)
    rows = _q(path, "SELECT created_at, hashtags FROM posts WHERE post_id IN (SELECT unnest(?))", [waves])

    def low(tag: str) -> str:  # as DuckDB lowers TikTok's hashtag_names: 'İ' -> 'i', no combining dot
        return tag.lower().replace("\u0307", "")

    before = {low(h) for t, tags in rows if t < switch for h in tags}
    after = {low(h) for t, tags in rows if t >= switch for h in tags}
    assert before and after  # TikTok's hashtag_names are lower case, X's are as typed
    assert before <= {low(h) for h in sw["hashtags_before"]} and after <= {low(h) for h in sw["hashtags_after"]}
    assert "seçki2024" in after and "seçki2024" not in before


def test_near_duplicates_with_homoglyphs(scenario, case):
    path, _ = case
    op = _op(scenario, "copy_paste")
    texts = [t for (t,) in _q(path, "SELECT text FROM posts WHERE post_id IN (SELECT unnest(?))", [op["post_ids"]])]
    distinct = set(texts)
    assert 50 < len(distinct) < len(texts) / 4  # copies, with small edits
    assert any(
        re.search("[\u0430\u0435\u043e\u0441\u0440\u0445]", t) and re.search("[a-z]{3}", t) for t in distinct
    )  # Cyrillic look-alikes inside Latin words


def test_accounts_created_in_batches_with_templated_handles(scenario, case):
    path, _ = case
    op = _op(scenario, "copy_paste")
    tr = op["traits"]
    rows = _q(
        path,
        "SELECT account_id, handle, created_at, followers FROM accounts "
        "WHERE platform = 'x' AND account_id IN (SELECT unnest(?))",
        [op["account_ids_by_platform"]["x"]],
    )
    assert len(rows) == SMALL.n_copypaste_accounts
    assert all(re.fullmatch(tr["handle_pattern"], h) and f < 15 for _, h, _, f in rows)
    batch_of = {a: b for b in tr["creation_batches"] for a in b["account_ids"]}
    for a, _, created, _ in rows:
        b = batch_of[a]
        local_day = (created + dt.timedelta(hours=4)).date()
        assert dt.date.fromisoformat(b["first_day"]) <= local_day <= dt.date.fromisoformat(b["last_day"])


def test_amplifier_reposts_within_seconds(scenario, case):
    path, _ = case
    op = _op(scenario, "fast_corepost")
    spans = _q(
        path,
        """SELECT parent_post_id, count(*), date_diff('second', min(created_at), max(created_at))
                        FROM posts WHERE post_id IN (SELECT unnest(?)) GROUP BY 1""",
        [op["post_ids"]],
    )
    assert sorted(p for p, _, _ in spans) == op["traits"]["target_post_ids"]
    assert all(n >= 0.6 * SMALL.n_amplifier_accounts and span < 10 for _, n, span in spans)
    assert _q(path, "SELECT DISTINCT kind FROM posts WHERE post_id IN (SELECT unnest(?))", [op["post_ids"]]) == [
        ("repost",)
    ]


def test_impersonators_and_watchlist(scenario, case):
    path, _ = case
    with scenario.watchlist_path.open(encoding="utf-8") as fh:
        watch = list(csv.DictReader(fh))
    assert {"name", "handle", "platform"} == set(watch[0])
    genuine = {g["handle"]: g["account_id"] for g in scenario.truth["organic"]["genuine_entities"]}
    assert {w["handle"] for w in watch} == set(genuine)
    # the genuine entities are in the data, post, and are organic
    handles = dict(
        _q(path, "SELECT handle, account_id FROM accounts WHERE handle IN (SELECT unnest(?))", [list(genuine)])
    )
    assert handles == genuine and set(genuine.values()) <= set(scenario.truth["organic"]["account_ids"])
    op = _op(scenario, "impersonation")
    for imp in op["traits"]["impersonations"]:
        assert imp["handle"] != imp["imitates"]["handle"] and imp["imitates"]["handle"] in genuine
    domains = _q(
        path,
        """SELECT DISTINCT regexp_extract(u, 'https://([^/]+)/', 1) FROM
                          (SELECT unnest(urls) AS u FROM posts WHERE post_id IN (SELECT unnest(?)))""",
        [op["post_ids"]],
    )
    assert {d for (d,) in domains} == set(op["traits"]["domains"])


def test_fan_crowd_is_organic_and_diverse(scenario, case):
    path, _ = case
    fan = scenario.truth["fan_crowd"]
    start, end = (dt.datetime.fromisoformat(fan[k].replace("Z", "")) for k in ("window_start", "window_end"))
    assert end - start == dt.timedelta(hours=2)
    rows = _q(path, "SELECT kind, text, created_at FROM posts WHERE post_id IN (SELECT unnest(?))", [fan["post_ids"]])
    orig = [t for k, t, _ in rows if k == "post"]
    assert len(orig) > 150 and all("#" + fan["hashtag"] in t for t in orig)
    assert len(set(orig)) > 0.97 * len(orig)
    assert all(start <= c < end for _, _, c in rows)
    accs = _q(
        path,
        "SELECT min(created_at), min(followers) FROM accounts WHERE account_id IN (SELECT unnest(?))",
        [fan["account_ids"]],
    )
    assert accs[0][0] < dt.datetime(2021, 1, 1) and accs[0][1] >= 30
    assert set(fan["account_ids"]) <= set(scenario.truth["organic"]["account_ids"])


def test_organic_texts_diverse_and_multilingual(scenario, case):
    path, _ = case
    planted = {a for o in scenario.truth["operations"] for a in o["account_ids"]}
    rows = _q(
        path,
        "SELECT text, lang, created_at, account_id FROM posts WHERE platform = 'x' AND kind = 'post' "
        "AND NOT list_contains(hashtags, ?)",
        [SMALL.fan_hashtag],
    )
    organic = [r for r in rows if r[3] not in planted]
    long_texts = [t for t, *_ in organic if len(t) > 30]
    assert len(set(long_texts)) == len(long_texts)
    assert {"en", "ru", "fa", "az", "fr", "tr", "ar"} <= {lang for _, lang, *_ in organic}
    scripts = {"cyrillic": "[\u0400-\u04ff]", "arabic": "[\u0600-\u06ff]", "latin-az": "[əğı]"}
    assert all(any(re.search(rx, t) for t, *_ in organic) for rx in scripts.values())


def test_organic_reposts_spread_over_hours(scenario, case):
    path, _ = case
    [(n, median_minutes)] = _q(
        path,
        """
        SELECT count(*), median(date_diff('second', par.created_at, p.created_at)) / 60
        FROM posts p JOIN posts par ON par.post_id = p.parent_post_id
        WHERE p.kind = 'repost' AND p.account_id IN (SELECT unnest(?))""",
        [scenario.truth["organic"]["account_ids"]],
    )
    assert n > 500 and 10 < median_minutes < 240


def test_telegram_channel_posts_before_the_x_wave(scenario):
    [path] = scenario.telegram_files
    export = json.loads(path.read_text(encoding="utf-8"))
    assert export["type"] == "public_channel" and isinstance(export["id"], int)
    msgs = export["messages"]
    tg = _op(scenario, "copy_paste")["traits"]["telegram_channel"]
    assert len(msgs) == len(tg["messages"]) > 20
    assert [m["id"] for m in msgs] == list(range(1, len(msgs) + 1))
    by_id = {}
    for line in scenario.x_files[0].open(encoding="utf-8"):
        for tw in json.loads(line)["data"]:
            by_id[tw["id"]] = dt.datetime.fromisoformat(tw["created_at"].replace("Z", "+00:00"))
    for m, t in zip(msgs, tg["messages"]):
        assert m["type"] == "message" and m["from_id"] == f"channel{export['id']}"
        assert "".join(e["text"] for e in m["text_entities"]) == t["text"]
        sent = dt.datetime.fromtimestamp(int(m["date_unixtime"]), dt.UTC)
        # 'date' is the exporting machine's local time: the operators' UTC+4
        assert dt.datetime.fromisoformat(m["date"]) == sent.replace(tzinfo=None) + dt.timedelta(hours=4)
        lead = min(by_id[i] for i in t["x_posts_after"]) - sent
        assert dt.timedelta(minutes=2) <= lead <= dt.timedelta(minutes=45)


def test_telegram_export_ingests(scenario, tmp_path):
    """Through the Telegram Desktop importer, ids as truth.json names them (platform 'telegram')."""
    [res] = ingest(tmp_path / "tg.duckdb", scenario.telegram_files, progress=False)
    assert res.format == "telegram_desktop" and res.quarantined == 0 and res.balanced
    tg = _op(scenario, "copy_paste")["traits"]["telegram_channel"]
    rows = _q(tmp_path / "tg.duckdb", "SELECT account_id, post_id, created_at FROM posts WHERE platform = 'telegram'")
    assert {a for a, _, _ in rows} == {tg["account_id"]}
    assert {p: c for _, p, c in rows} == {
        m["post_id"]: dt.datetime.fromisoformat(m["date_utc"].replace("Z", "")) for m in tg["messages"]
    }


# -- TikTok and YouTube shares ---------------------------------------------------------

# For each post of the crew on a platform: the X post of the operation with the same text closest in time.
_NEAREST_X_COPY = """
    SELECT o.post_id, min(abs(date_diff('second', x.created_at, o.created_at))) AS gap
    FROM posts o JOIN posts x ON x.platform = 'x' AND x.text = o.text AND x.post_id IN (SELECT unnest(?))
    WHERE o.platform = ? AND o.post_id IN (SELECT unnest(?)) GROUP BY 1"""


def test_tiktok_crew_copies_the_x_waves_over_its_own_sound(scenario, case):
    path, _ = case
    op = _op(scenario, "copy_paste")
    tt = op["traits"]["tiktok"]
    accounts, videos = op["account_ids_by_platform"]["tiktok"], op["post_ids_by_platform"]["tiktok"]
    assert op["accounts_per_platform"]["tiktok"] == len(accounts) == SMALL.n_tiktok_operation_accounts
    assert all(re.fullmatch(tt["handle_pattern"], a) for a in accounts)
    # every crew video copies an X post of the operation, minutes apart (the same-text window is 15 minutes)
    gaps = _q(path, _NEAREST_X_COPY, [op["post_ids_by_platform"]["x"], "tiktok", videos])
    assert len(gaps) == len(videos) == tt["videos"] and max(g for _, g in gaps) < 15 * 60
    # most crew videos use the operation's sounds; one sound per message set, each used by most of the crew
    rows = _q(
        path,
        """SELECT object_id, count(*), count(DISTINCT account_id), min(created_at), max(created_at)
                       FROM actions WHERE object_type = 'sound' AND post_id IN (SELECT unnest(?))
                       GROUP BY 1 ORDER BY 2 DESC""",
        [videos],
    )
    by_sound = {r[0]: r for r in rows}
    assert sum(by_sound[s][1] for s in tt["sound_ids"]) == tt["videos_with_operation_sound"] > 0.6 * len(videos)
    assert all(by_sound[s][2] >= 0.8 * len(accounts) for s in tt["sound_ids"])
    switch = dt.datetime.fromisoformat(op["traits"]["narrative_switch"]["date"]) - dt.timedelta(hours=4)
    before, after = (by_sound[s] for s in tt["sound_ids"])
    assert before[4] < switch <= after[3]
    # nobody outside the crew uses its sounds
    assert _q(
        path,
        "SELECT count(*) FROM actions WHERE object_type = 'sound' AND object_id IN (SELECT unnest(?)) "
        "AND account_id NOT IN (SELECT unnest(?))",
        [tt["sound_ids"], accounts],
    ) == [(0,)]


def test_tiktok_viral_sound_is_an_organic_crowd_over_days(scenario, case):
    path, _ = case
    viral = scenario.truth["tiktok_viral_sound"]
    assert set(viral["account_ids"]) <= set(scenario.truth["organic"]["account_ids"])
    [(videos, accounts, days, texts)] = _q(
        path,
        """
        SELECT count(*), count(DISTINCT a.account_id), date_diff('day', min(a.created_at), max(a.created_at)),
               count(DISTINCT p.text)
        FROM actions a JOIN posts p USING (platform, post_id)
        WHERE a.object_type = 'sound' AND a.object_id = ?""",
        [viral["music_id"]],
    )
    assert videos == accounts == SMALL.n_tiktok_viral_sound_users == len(viral["post_ids"])
    assert days >= 7 and texts >= 0.9 * videos  # spread over days, each in their own words
    # organic videos: many sounds, diverse descriptions, several regions and languages
    organic = sorted(set(scenario.truth["organic"]["account_ids"]))
    [(n, sounds, regions)] = _q(
        path,
        """
        SELECT count(*), count(DISTINCT a.object_id), count(DISTINCT p.account_id)
        FROM posts p JOIN actions a USING (platform, post_id)
        WHERE p.platform = 'tiktok' AND a.object_type = 'sound' AND p.account_id IN (SELECT unnest(?))""",
        [organic],
    )
    assert n == SMALL.n_tiktok_organic_videos + SMALL.n_tiktok_viral_sound_users and sounds > 100
    region_codes = {
        json.loads(line)["data"]["videos"][0]["region_code"] for line in scenario.tiktok_files[0].open(encoding="utf-8")
    }
    assert len(region_codes) > 1


def test_youtube_crew_comments_the_x_waves_within_minutes(scenario, case):
    path, _ = case
    op = _op(scenario, "copy_paste")
    yt = op["traits"]["youtube"]
    accounts, comments = op["account_ids_by_platform"]["youtube"], op["post_ids_by_platform"]["youtube"]
    assert op["accounts_per_platform"]["youtube"] == len(accounts) == SMALL.n_youtube_operation_accounts
    assert all(a.startswith("UC") and len(a) == 24 for a in accounts)
    rows = _q(
        path,
        "SELECT kind, parent_post_id, account_id FROM posts WHERE platform = 'youtube' "
        "AND post_id IN (SELECT unnest(?))",
        [comments],
    )
    assert len(rows) == yt["comments"] == len(comments) and {k for k, _, _ in rows} == {"comment"}
    assert {v for _, v, _ in rows} == set(yt["video_ids"]) and len(yt["video_ids"]) <= SMALL.n_youtube_videos
    handles = dict(
        _q(
            path,
            "SELECT account_id, handle FROM accounts WHERE platform = 'youtube' AND account_id IN (SELECT unnest(?))",
            [accounts],
        )
    )
    assert all(re.fullmatch(yt["handle_pattern"], handles[a]) for a in accounts)
    gaps = _q(path, _NEAREST_X_COPY, [op["post_ids_by_platform"]["x"], "youtube", comments])
    assert len(gaps) == len(comments) and max(g for _, g in gaps) < 15 * 60
    # amid organic comments and replies on the same videos
    [(organic, replies, parents_found)] = _q(
        path,
        """
        SELECT count(*) FILTER (WHERE kind = 'comment'), count(*) FILTER (WHERE kind = 'reply'),
               count(*) FILTER (WHERE kind = 'reply' AND parent_post_id IN (SELECT post_id FROM posts))
        FROM posts WHERE platform = 'youtube' AND post_id NOT IN (SELECT unnest(?))""",
        [comments],
    )
    assert organic + replies == SMALL.n_youtube_organic_comments and replies == parents_found > 0
    amid = _q(
        path,
        "SELECT DISTINCT parent_post_id FROM posts WHERE platform = 'youtube' AND kind = 'comment' "
        "AND post_id NOT IN (SELECT unnest(?))",
        [comments],
    )
    assert set(yt["video_ids"]) <= {v for (v,) in amid}  # every video the crew targets has organic comments


# -- scale ---------------------------------------------------------------------------


@pytest.mark.scale
def test_bulk_x_v2_posts(tmp_path):
    path = generate_x_v2_posts(tmp_path / "bulk.jsonl", 100_000, seed=3)
    con = store.connect()
    [(lines, tweets, distinct)] = con.execute(
        """WITH pages AS (SELECT json FROM read_json_objects(?))
           SELECT count(*), sum(json_array_length(json, '$.data')),
                  (SELECT count(DISTINCT id) FROM (SELECT unnest(json_extract_string(json, '$.data[*].id')) AS id
                                                   FROM pages))
           FROM pages""",
        [str(path)],
    ).fetchall()
    con.close()
    assert (lines, tweets, distinct) == (1000, 100_000, 100_000)


def test_bulk_is_deterministic_and_ingests(tmp_path):
    a = generate_x_v2_posts(tmp_path / "a.jsonl", 3000, seed=5)
    b = generate_x_v2_posts(tmp_path / "b.jsonl", 3000, seed=5)
    assert _sha(a) == _sha(b)
    [res] = ingest(tmp_path / "bulk.duckdb", [a], progress=False, enrich=False)
    assert (res.inserted, res.quarantined) == (3000, 0) and res.balanced


def test_post_ids_stay_unique_past_four_million_posts_in_one_second():
    """Snowflake ids carry a 22-bit sequence: past 4,194,304 posts the index's higher bits move the
    millisecond, so a 10M-post world has no collision; below that the ids are the plain snowflakes."""
    import numpy as np

    from swarmscope.simulate.world import _SNOWFLAKE_EPOCH_MS, _post_ids

    class Posts:
        def __init__(self, seconds):
            self.seconds = seconds

        def col(self, name):
            assert name == "s"
            return self.seconds

    n = (1 << 22) + 1000
    ids = _post_ids(Posts(np.full(n, 1_700_000_000, np.int64)))  # all in one second: the worst case
    assert np.unique(ids).size == n
    assert ids[0] == (1_700_000_000_000 - _SNOWFLAKE_EPOCH_MS) << 22  # the first 2^22 keep their old ids
    assert (ids[1 << 22] >> 22) == (ids[0] >> 22) + 1  # the next ones one millisecond later
