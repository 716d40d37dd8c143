"""Each kind of campaign evidence on its own, on tables small enough to check by hand."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from swarmscope import model
from swarmscope.campaigns import copies, lead, narratives, reach
from swarmscope.campaigns.coordination import components, periphery
from swarmscope.campaigns.params import CampaignParams
from swarmscope.campaigns.view import AccountRows, CaseView, Evidence
from swarmscope.config import DetectParams
from swarmscope.duck import registered, scratch
from swarmscope.enrich.text import normalise
from swarmscope.findings import SignalLog

T0 = dt.datetime(2024, 11, 4, 9, 0)


def _view(
    posts: list[dict],
    accounts: list[dict],
    actions: list[dict],
    multiplex: pa.Table | None = None,
    params: DetectParams | None = None,
) -> CaseView:
    con = duckdb.connect()
    tables = {}
    for name, rows in (("posts", posts), ("accounts", accounts), ("actions", actions)):
        con.execute(model.ddl(name))
        t = model.conform(pa.Table.from_pylist(rows), name) if rows else model.empty(name)
        with registered(con, _new=t):
            con.execute(f"INSERT INTO {name} SELECT * FROM _new")
        tables[name] = t
    p = tables["posts"]
    return CaseView(con, p, normalise(p["text"]), tables["accounts"], None, {}, multiplex, params or DetectParams())


def _post(
    i: int,
    account: str,
    minutes: float,
    text: str = "",
    kind: str = "post",
    platform: str = "x",
    hashtags: tuple = (),
    parent: str | None = None,
) -> dict:
    return {
        "platform": platform,
        "post_id": f"p{i}",
        "account_id": account,
        "created_at": T0 + dt.timedelta(minutes=minutes),
        "text": text,
        "kind": kind,
        "hashtags": list(hashtags),
        "parent_post_id": parent,
    }


def _act(post: dict, object_type: str, object_id: str) -> dict:
    return {k: post[k] for k in ("platform", "account_id", "post_id", "created_at")} | {
        "object_type": object_type,
        "object_id": object_id,
    }


def test_copies_count_only_members_own_texts_shared_by_two_accounts():
    # a, b and c are members. a and b post text T1 (a copy each); c posts T2 alone (not a copy);
    # c's repost carries T1's text but is a share, not its own text; d (outside) also posts T2.
    posts = [
        _post(1, "a", 0, "Text one"),
        _post(2, "b", 1, "Text one"),
        _post(3, "c", 2, "Text two"),
        _post(4, "c", 3, "Text one", kind="repost", parent="p1"),
        _post(5, "d", 4, "Text two"),
    ]
    actions = [
        _act(posts[0], "text_fingerprint", "T1"),
        _act(posts[1], "text_fingerprint", "T1"),
        _act(posts[2], "text_fingerprint", "T2"),
        _act(posts[4], "text_fingerprint", "T2"),
    ]
    view = _view(posts, [], actions)
    members = view.members([("x", "a"), ("x", "b"), ("x", "c")])
    log = SignalLog()
    messages, ev = copies.copies(view, members, log, CampaignParams(copy_floor=0.25))
    [signal] = log.signals
    # the message is T1 with its own two posts, tied to the signal
    assert [(m["id"], m["posts"], m["accounts"], m["post_ids"], m["signal"]) for m in messages] == [
        ("T1", 2, 2, [["x", "p1"], ["x", "p2"]], signal["id"])
    ]
    # own posts: p1, p2, p3 (the repost is not own text); copies: p1 and p2
    assert signal["figures"]["original_posts"] == 3 and signal["figures"]["copied_posts"] == 2
    assert signal["evidence"]["post_ids"] == [["x", "p1"], ["x", "p2"]]
    assert signal["figures"]["top_messages"][0]["text"] == "Text one"
    # part: (2/3 - 0.25) / 0.5 = 0.8333
    assert ev.parts["copypasta"] == pytest.approx((2 / 3 - 0.25) / 0.5)
    assert ev.sentences[0]["evidence"] == [signal["id"]] and "67%" in ev.sentences[0]["text"]


def test_no_copies_gives_a_zero_part_and_no_signal():
    posts = [_post(1, "a", 0, "alpha"), _post(2, "b", 1, "beta")]
    actions = [_act(posts[0], "text_fingerprint", "A"), _act(posts[1], "text_fingerprint", "B")]
    view = _view(posts, [], actions)
    log = SignalLog()
    messages, ev = copies.copies(view, view.members([("x", "a"), ("x", "b")]), log, CampaignParams())
    assert ev.parts == {"copypasta": 0.0} and not log.signals and not ev.sentences and messages == []


def _weekly_posts(before: tuple[str, ...], after: tuple[str, ...], accounts: int, per_week: int) -> list[dict]:
    posts, i = [], 0
    for week, tags in ((0, before), (1, before), (2, after)):
        for k in range(per_week):
            posts.append(_post(i, f"a{k % accounts}", week * 7 * 24 * 60 + k, "t", hashtags=(tags[k % len(tags)],)))
            i += 1
    return posts


def test_narrative_shift_is_the_week_most_uses_turn_to_new_hashtags():
    posts = _weekly_posts(("Bridge", "Future"), ("Vote", "Polls"), accounts=6, per_week=24)
    view = _view(posts, [], [])
    members = view.members([("x", f"a{k}") for k in range(6)])
    log = SignalLog()
    weekly, ev = narratives.narratives(view, members, log, CampaignParams(), "C1")
    assert [w["keywords"] for w in weekly] == [["bridge", "future"], ["bridge", "future"], ["polls", "vote"]]
    [shift] = log.signals
    assert shift["type"] == "narrative_shift" and shift["campaign"] == "C1"
    assert shift["figures"]["week"] == weekly[2]["period"] and shift["figures"]["new_share"] == 1.0
    assert shift["figures"]["new_hashtags"] == ["polls", "vote"]
    assert shift["figures"]["js_distance"] == 1.0  # no hashtag in common: the largest distance
    assert ev.signal_ids == [shift["id"]]


def test_narrative_shift_in_words_when_the_hashtags_stay_the_same():
    # no hashtag changes; the words do: "bridge/river" for two weeks, then "ballot/fraud"; stop words
    # ("the", "and", "about") and links, mentions and numbers are not words of the narrative
    posts, i = [], 0
    for week, words in ((0, "bridge river"), (1, "bridge river"), (2, "ballot fraud")):
        for k in range(24):
            text = f"the {words} and about @someone https://x.example/{k} 2024 #news"
            posts.append(_post(i, f"a{k % 6}", week * 7 * 24 * 60 + k, text, hashtags=("news",)))
            posts[-1]["lang"] = "en"
            i += 1
    view = _view(posts, [], [])
    log = SignalLog()
    weekly, ev = narratives.narratives(
        view, view.members([("x", f"a{k}") for k in range(6)]), log, CampaignParams(), "C1"
    )
    assert [w["keywords"] for w in weekly] == [["news"]] * 3
    assert [w["terms"] for w in weekly] == [["bridge", "river"], ["bridge", "river"], ["ballot", "fraud"]]
    [shift] = log.signals
    f = shift["figures"]
    assert f["vocabulary"] == "terms" and f["new_terms"] == ["ballot", "fraud"] and "new_hashtags" not in f
    assert f["week"] == weekly[2]["period"] and sorted(f["went"]) == ["bridge", "river"]
    # both vocabularies were tested on the same splits: Bonferroni x 2 (2 splits tested x 2)
    assert f["weeks_tested"] == 2 and f["p_family"] == pytest.approx(min(1.0, f["p_value"] * 4))
    assert "words" in ev.sentences[0]["text"] and "ballot" in ev.sentences[0]["text"]


def test_no_shift_below_the_minimum_uses_or_accounts():
    posts = _weekly_posts(("Bridge",), ("Vote",), accounts=6, per_week=24)
    view = _view(posts, [], [])
    members = view.members([("x", f"a{k}") for k in range(6)])
    for params in (CampaignParams(shift_min_uses=25), CampaignParams(shift_min_accounts=7)):
        log = SignalLog()
        narratives.narratives(view, members, log, params, "C1")
        assert not log.signals, params


def test_js_distance_is_zero_for_equal_and_one_for_disjoint_distributions():
    assert narratives.js_distance({"a": 2, "b": 2}, {"a": 5, "b": 5}) == 0.0
    assert narratives.js_distance({"a": 1}, {"b": 1}) == pytest.approx(1.0)
    assert narratives.js_distance({}, {"b": 1}) == 0.0


def test_cross_platform_lead_names_the_account_first_on_the_texts():
    # a Telegram channel posts 3 texts; X members copy each 5 minutes later
    posts, actions = [], []
    for k in range(3):
        first = _post(10 + k, "chan", k * 60, f"msg {k}", platform="telegram")
        posts.append(first)
        actions.append(_act(first, "text_fingerprint", f"T{k}"))
        for j, member in enumerate(("m1", "m2")):
            copy = _post(20 + 2 * k + j, member, k * 60 + 5 + j, f"msg {k}")
            posts.append(copy)
            actions.append(_act(copy, "text_fingerprint", f"T{k}"))
    view = _view(posts, [{"platform": "telegram", "account_id": "chan", "display_name": "Channel"}], actions)
    members = view.members([("x", "m1"), ("x", "m2")])
    log = SignalLog()
    hubs, ev = lead.cross_platform_lead(view, members, log, CampaignParams(), "C1")
    assert hubs == [("telegram", "chan")]
    [signal] = log.signals
    assert signal["figures"]["texts"] == 3 and signal["figures"]["median_lead_seconds"] == 300
    assert "Channel (telegram) posted 3 of these texts first" in ev.sentences[0]["text"]
    # with a 4-minute limit on the lead, there is no hub
    log = SignalLog()
    assert lead.cross_platform_lead(view, members, log, CampaignParams(max_lead_seconds=240), "C1")[0] == []


def test_reach_splits_reactions_inside_other_campaigns_and_outside():
    posts = [
        _post(1, "a", 0, "original"),
        _post(2, "b", 1, kind="repost", parent="p1"),  # inside
        _post(3, "z", 2, kind="repost", parent="p1"),  # another campaign's account
        _post(4, "o1", 3, kind="reply", parent="p1"),  # outside
        _post(5, "o2", 4, kind="quote", parent="p1"),
    ]  # outside, a notable account
    accounts = [{"platform": "x", "account_id": "o2", "followers": 250_000}]
    view = _view(posts, accounts, [])
    member_set = {("x", "a"), ("x", "b")}
    keys = pa.table({"platform": ["x", "x"], "post_id": ["p1", "p2"]})
    r = reach.reach(view, member_set, keys, {("x", "z")}, CampaignParams())
    assert (r["inside_reactions"], r["other_campaign_reactions"], r["outside_reactions"]) == (1, 1, 2)
    assert r["outside_share"] == 0.5 and r["outside_accounts"] == 2
    assert r["breakout"]["category"] == 5 and r["breakout"]["high_profile_amplifiers"] == [["x", "o2"]]
    assert "100k+" in r["breakout"]["basis"]
    assert (
        reach.reach(view, member_set, keys, {("x", "z")}, CampaignParams(notable_followers=300_000))["breakout"][
            "category"
        ]
        == 1
    )


def test_personas_join_accounts_on_different_platforms_under_one_name():
    accounts = [
        {"platform": "x", "account_id": "1", "handle": "Green_Bridge"},
        {"platform": "tiktok", "account_id": "2", "handle": "greenbridge"},
        {"platform": "x", "account_id": "3", "handle": "greenbridge"},  # same platform: not joined
        {"platform": "youtube", "account_id": "4", "handle": "abc"},
    ]  # too short to match
    view = _view([], accounts, [])
    members = view.members([(a["platform"], a["account_id"]) for a in accounts])
    n, persona = reach.personas(view, members)
    assert n == 3
    assert persona[("x", "1")] == persona[("tiktok", "2")] != persona[("x", "3")]


def test_periphery_needs_two_links_and_skips_earlier_campaigns():
    m = pa.table(
        {"from": ["a", "b", "a", "a"], "to": ["o", "o", "p", "q"], "from_platform": ["x"] * 4, "to_platform": ["x"] * 4}
    )
    view = _view([_post(1, "a", 0, "t")], [], [], multiplex=m)
    members = view.members([("x", "a"), ("x", "b")])
    assert periphery(view, members, set(), CampaignParams()) == {("x", "o"): 2}
    assert periphery(view, members, {("x", "o")}, CampaignParams()) == {}
    assert periphery(view, members, set(), CampaignParams(periphery_min_links=1)) == {
        ("x", "o"): 2,
        ("x", "p"): 1,
        ("x", "q"): 1,
    }


def test_components_root_is_the_smallest_member():
    assert components([3, 1, 2, 5, 4], [(3, 2), (5, 4)]) == {3: 2, 1: 1, 2: 2, 5: 4, 4: 4}


def test_evidence_merges_in_order_and_keeps_each_accounts_signals():
    a, b = Evidence(), Evidence()
    a.cite("S1", "first", [("x", "1")])
    a.parts["one"] = 1.0
    b.cite("S2", None, [("x", "1"), ("x", "2")])
    b.say("plain")
    a.extend(b)
    assert a.signal_ids == ["S1", "S2"] and a.parts == {"one": 1.0}
    assert a.sentences == [{"text": "first", "evidence": ["S1"]}, {"text": "plain", "evidence": []}]
    assert a.account_signals == {("x", "1"): ["S1", "S2"], ("x", "2"): ["S2"]}


def test_registered_tables_are_removed_even_when_the_query_fails():
    with scratch() as con:
        with pytest.raises(duckdb.Error):
            with registered(con, _t=pa.table({"x": [1]})):
                con.execute("SELECT nonsense FROM _t")
        with pytest.raises(duckdb.CatalogException):
            con.execute("SELECT * FROM _t")


def _weeks(*weeks: dict[str, int]) -> tuple[dict, dict]:
    days = [dt.date(2024, 10, 7) + dt.timedelta(weeks=i) for i in range(len(weeks))]
    return dict(zip(days, weeks, strict=True)), {d: 10 for d in days}


def test_a_minor_hashtag_taking_over_before_a_vote_is_a_change_point():
    # "vote" was 5 % of the uses for three weeks, then 70 % in the week before the vote: not new, but a takeover
    weeks, active = _weeks(
        {"bridge": 60, "future": 35, "vote": 5},
        {"bridge": 58, "future": 37, "vote": 5},
        {"bridge": 61, "future": 34, "vote": 5},
        {"vote": 70, "bridge": 20, "future": 10},
    )
    shift = narratives.change_point(weeks, active, CampaignParams())
    assert shift is not None and shift["week"] == "2024-10-28"
    assert shift["came"][0] == "vote" and shift["went"][0] == "bridge" and shift["new_hashtags"] == []
    assert shift["p_family"] < 0.01 and shift["weeks_tested"] == 3 and shift["rising_share"] == 0.7


def test_change_point_takes_the_split_a_pooled_g_test_of_each_split_would_take():
    """The periods before and from each split are running sums over a weeks x terms table; pooled by
    hand for every split (counts, G-test, Jensen-Shannon distance), random campaigns give the same week,
    statistic and distance."""
    from scipy.stats import chi2

    rng = np.random.default_rng(5)
    params, found = CampaignParams(), 0
    for _ in range(60):
        n_weeks, n_terms = int(rng.integers(3, 40)), int(rng.integers(2, 25))
        switch = int(rng.integers(1, n_weeks))
        rates = [
            rng.uniform(0, 20, n_terms) * (1 if i < switch else 3 * (rng.uniform(0, 1, n_terms) < 0.3))
            for i in range(n_weeks)
        ]
        counts = [{f"t{j}": int(c) for j, c in enumerate(rng.poisson(r)) if c} for r in rates]
        weeks, active = _weeks(*counts)
        ordered = sorted(weeks)
        splits = [
            i
            for i in range(1, len(ordered))
            if sum(weeks[ordered[i]].values()) >= params.shift_min_uses
            and active[ordered[i]] >= params.shift_min_accounts
        ]
        best = None
        for i in splits:
            prior, after = Counter(), Counter()
            for w in ordered[:i]:
                prior.update(weeks[w])
            for w in ordered[i:]:
                after.update(weeks[w])
            terms = sorted(set(prior) | set(after))
            obs = np.array([[prior[t] for t in terms], [after[t] for t in terms]], float)
            exp = obs.sum(1, keepdims=True) * obs.sum(0, keepdims=True) / obs.sum()
            g = float(2 * np.sum(obs[obs > 0] * np.log(obs[obs > 0] / exp[obs > 0])))
            n_a, n_p = sum(after.values()), sum(prior.values())
            rising = sum(n for t, n in after.items() if n / n_a >= 2 * prior[t] / n_p) / n_a
            d = narratives.js_distance(dict(prior), dict(after))
            p_family = min(1.0, float(chi2.sf(g, len(terms) - 1)) * len(splits))
            ok = p_family < params.shift_alpha and d >= params.shift_min_distance
            if ok and rising >= params.shift_min_new_share and (best is None or g > best[1]):
                best = (ordered[i].isoformat(), round(g, 2), round(d, 4))
        shift = narratives.change_point(weeks, active, params)
        got = None if shift is None else (shift["week"], shift["g_statistic"], shift["js_distance"])
        assert got == best
        found += got is not None
    assert found >= 20  # most random campaigns switch


def test_weekly_drift_and_a_thin_week_are_not_change_points():
    # the same hashtags in shifting proportions: significant with many uses, but no takeover
    drift, active = _weeks({"a": 500, "b": 300, "c": 200}, {"a": 300, "b": 450, "c": 250})
    assert narratives.change_point(drift, active, CampaignParams()) is None
    # a takeover seen in too few uses
    thin, active = _weeks({"bridge": 60, "future": 35}, {"vote": 12, "bridge": 3})
    assert narratives.change_point(thin, active, CampaignParams()) is None
    assert narratives.change_point(thin, active, CampaignParams(shift_min_uses=10)) is not None


def test_account_rows_are_looked_up_on_demand_as_the_dict_gave_them():
    accounts = pa.table(
        {
            "platform": ["x", "x", "tiktok", "x"],
            "account_id": ["1", "2", "1", "2"],
            "handle": ["one", "two", "tt_one", "two_renamed"],
        }
    )
    rows = AccountRows(accounts)
    rows.fetch([("x", "1"), ("tiktok", "1"), ("x", "9")])
    assert rows.get(("x", "1")) == {"platform": "x", "account_id": "1", "handle": "one"}
    assert rows.get(("tiktok", "1"))["handle"] == "tt_one"  # same id, other platform: its own row
    assert rows.get(("x", "9")) is None and rows.get(("x", "9"), {}) == {}
    assert rows.get(("x", "2"))["handle"] == "two_renamed"  # not fetched: read alone; repeated: the last row
    assert rows.get(("youtube", "1"), {}).get("handle") is None
    whole = {(a["platform"], a["account_id"]): a for a in accounts.to_pylist()}  # what CaseView held before
    assert all(rows.get(k) == v for k, v in whole.items())
