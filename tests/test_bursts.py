from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from swarmscope.detect.bursts import burst_events, find_bursts

T0 = dt.datetime(2024, 3, 1)


def events(times, accounts, texts, obj="h", kind="hashtag", prefix="p"):
    n = len(times)
    return pa.table(
        {
            "object_type": [kind] * n,
            "object_id": [obj] * n,
            "post_id": [f"{prefix}{i}" for i in range(n)],
            "account_id": list(accounts),
            "created_at": pa.array(list(times), pa.timestamp("us")),
            "norm_text": list(texts),
        }
    )


def background(rng, hours=48, per_hour=6, obj="h", prefix="b"):
    n = hours * per_hour
    secs = np.sort(rng.uniform(0, hours * 3600, n))
    times = [T0 + dt.timedelta(seconds=float(s)) for s in secs]
    accs = [f"u{rng.integers(0, 5000)}" for _ in range(n)]
    texts = [f"ordinary remark number {i} about things" for i in range(n)]
    return events(times, accs, texts, obj=obj, prefix=prefix)


def test_hand_checkable_burst():
    # 40 posts of one text by 2 accounts between 10:00:00 and 10:03:15, on a quiet hashtag
    quiet = [T0 + dt.timedelta(hours=h) for h in range(0, 24)]
    loud = [T0 + dt.timedelta(hours=10, seconds=5 * i) for i in range(40)]
    t = pa.concat_tables(
        [
            events(quiet, ["q"] * 24, [f"quiet post number {i} with words" for i in range(24)], prefix="q"),
            events(loud, ["a", "b"] * 20, ["vote for the great leader today!!"] * 40, prefix="l"),
        ]
    )
    b = find_bursts(t).to_pylist()
    assert len(b) == 1
    (row,) = b
    # the quiet hashtag's own 10:00:00 post falls inside the window too
    assert row["posts"] == row["window_posts"] == 41
    assert row["start"] == row["window_start"] == T0 + dt.timedelta(hours=10)
    assert row["end"] == T0 + dt.timedelta(hours=10, seconds=195)
    assert row["accounts"] == 3
    assert row["distinct_texts"] == 2
    assert row["copy_share"] == 1 - 2 / 41
    assert row["baseline_per_window"] == 1.0  # median 0 of 144 ten-minute bins, floored
    assert row["label"] == "automated-looking"
    assert sorted(row["post_ids"]) == sorted([f"l{i}" for i in range(40)] + ["q10"])


def test_quiet_object_has_no_burst():
    rng = np.random.default_rng(1)
    assert find_bursts(background(rng)).num_rows == 0


def test_planted_burst_found_with_its_ten_minute_window_and_fans_not_automated():
    rng = np.random.default_rng(7)
    bg = background(rng)
    # planted: 1,000 posts in ten minutes from 25 accounts, 4 texts
    start = T0 + dt.timedelta(hours=30, minutes=20)
    secs = np.sort(rng.uniform(0, 600, 1000))
    planted = events(
        [start + dt.timedelta(seconds=float(s)) for s in secs],
        [f"bot{i % 25}" for i in range(1000)],
        [f"the election was stolen, share now {i % 4}" for i in range(1000)],
        prefix="x",
    )
    # fan crowd: 3,000 posts over an evening (19:00-22:00) peaking at two goals,
    # 2,500 accounts, diverse (or short) texts
    fan_secs = np.concatenate([rng.uniform(0, 3 * 3600, 1200), rng.normal(3600, 120, 900), rng.normal(7200, 150, 900)])
    fan_start = T0 + dt.timedelta(hours=19)
    fan_texts = [("GOAL!!!" if i % 3 == 0 else f"what a match, the keeper made save number {i}") for i in range(3000)]
    fans = events(
        [fan_start + dt.timedelta(seconds=float(s)) for s in np.sort(fan_secs)],
        [f"fan{rng.integers(0, 2500)}" for _ in range(3000)],
        fan_texts,
        prefix="f",
    )
    b = find_bursts(pa.concat_tables([bg, planted, fans])).to_pylist()
    auto = [r for r in b if r["label"] == "automated-looking"]
    assert len(auto) == 1
    (r,) = auto
    assert abs((r["window_start"] - start).total_seconds()) <= 60
    assert r["window_end"] - r["window_start"] == dt.timedelta(minutes=10)
    assert r["window_posts"] >= 995
    assert r["accounts"] <= 40  # 25 bots plus background posters inside the merged windows
    fan_bursts = [
        x
        for x in b
        if x["start"] >= fan_start - dt.timedelta(minutes=30)
        and x["end"] <= fan_start + dt.timedelta(hours=3, minutes=30)
    ]
    assert fan_bursts, "the fan crowd is a genuine burst and must be reported"
    assert all(x["label"] == "organic-looking" for x in fan_bursts)


def test_burst_events_from_posts():
    posts = pa.table(
        {
            "post_id": ["1", "2"],
            "account_id": ["a", "b"],
            "created_at": pa.array([T0, T0], pa.timestamp("us")),
            "text": ["Hello #Tag", None],
            "hashtags": [["Tag", "#other"], None],
        }
    )
    ev = burst_events(posts, group="g1")
    rows = sorted((r["object_type"], r["object_id"], r["post_id"]) for r in ev.to_pylist())
    assert rows == [("group", "g1", "1"), ("group", "g1", "2"), ("hashtag", "other", "1"), ("hashtag", "tag", "1")]


def test_burst_events_key_the_texts_instead_of_copying_them():
    # a quiet day on #x (24 hourly posts), then 40 posts of one long text and 40 of one short text within minutes
    n = 80
    quiet = [f"quiet post number {i} with words x" for i in range(24)]
    norm = pa.array(quiet + ["vote for the great leader today x"] * 40 + ["goal x"] * 40)
    times = [T0 + dt.timedelta(hours=h) for h in range(24)]
    times += [T0 + dt.timedelta(hours=10, seconds=5 * i + 1) for i in range(n)]
    posts = pa.table(
        {
            "post_id": [f"q{i}" for i in range(24)] + [f"p{i}" for i in range(n)],
            "account_id": ["q"] * 24 + ["a", "b"] * (n // 2),
            "created_at": pa.array(times, pa.timestamp("us")),
            "text": norm,  # the raw text is not read when norm is given
            "hashtags": [["x"]] * (24 + n),
        }
    )
    ev = burst_events(posts, norm, group=None)
    assert "norm_text" not in ev.column_names and ev.schema.field("text_key").type == pa.uint64()
    keys = ev["text_key"].to_pylist()
    assert len(set(keys[:24])) == 24 and len(set(keys[24:64])) == 1 and None not in keys[:64]
    assert keys[64:] == [None] * 40  # 6 characters: shorter than min_copy_chars, never a copy
    by_key = find_bursts(ev).to_pylist()
    by_text = find_bursts(ev.drop(["text_key"]).append_column("norm_text", norm)).to_pylist()
    assert by_key == by_text and len(by_key) == 1
    # the 40 copies are one text; the 40 short ones and the quiet 10:00 post count as distinct
    assert by_key[0]["posts"] == 81 and by_key[0]["distinct_texts"] == 42


def test_objects_in_several_search_passes_give_the_same_bursts(monkeypatch):
    """The sliding-window counts search one sorted key per pass, as many objects as fit in int64; a
    case spanning decades needs several passes. Forced to one object a pass, the bursts are the same."""
    from swarmscope.detect import bursts as b

    rng = np.random.default_rng(11)
    parts = []
    for j, obj in enumerate(["a", "b", "c", "d"]):
        bg = background(rng, hours=24, per_hour=6, obj=obj, prefix=f"{obj}bg")
        start = T0 + dt.timedelta(hours=6 + 3 * j)
        secs = np.sort(rng.uniform(0, 300, 60 + 20 * j))
        burst = events(
            [start + dt.timedelta(seconds=float(s)) for s in secs],
            [f"bot{i % 7}" for i in range(len(secs))],
            ["same message for everyone to share"] * len(secs),
            obj=obj,
            prefix=f"{obj}x",
        )
        parts += [bg, burst]
    ev = pa.concat_tables(parts)
    whole = find_bursts(ev)
    assert sorted(set(whole["object_id"].to_pylist())) == ["a", "b", "c", "d"]
    monkeypatch.setattr(b, "_KEY_RANGE", 1)  # per_chunk = 1: one object a pass
    assert find_bursts(ev).equals(whole)


def test_posts_at_the_same_minute_give_disjoint_bursts_whatever_the_row_order():
    """Archives stamped to the minute (IRA) put many posts at one time. Two bursts 30 minutes
    apart, each 40 posts at one minute on a quiet hashtag (hourly posts): two bursts, each with its own 40 posts.
    With one anchor per post, the islands' running sum could order the tied posts differently
    from the break that opened the second burst, put one of them in the first island, stretch
    it over the second and count posts twice; the result changed with the row order."""
    quiet = [T0 + dt.timedelta(hours=h) for h in range(0, 24)]
    first = [T0 + dt.timedelta(hours=10, minutes=20)] * 40
    second = [T0 + dt.timedelta(hours=10, minutes=50)] * 40
    t = pa.concat_tables(
        [
            events(quiet, ["q"] * 24, [f"quiet post number {i} with words" for i in range(24)], prefix="q"),
            events(first, [f"a{i % 4}" for i in range(40)], ["the first message to share now"] * 40, prefix="f"),
            events(second, [f"b{i % 4}" for i in range(40)], ["the second message to share now"] * 40, prefix="s"),
        ]
    )
    rng = np.random.default_rng(3)
    results = []
    for _ in range(8):
        got = find_bursts(t.take(rng.permutation(t.num_rows))).to_pylist()
        assert [(r["window_start"], r["posts"], r["window_posts"]) for r in got] == [
            (T0 + dt.timedelta(hours=10, minutes=20), 40, 40),
            (T0 + dt.timedelta(hours=10, minutes=50), 40, 40),
        ]
        assert sorted(got[0]["post_ids"]) == sorted(f"f{i}" for i in range(40))
        assert sorted(got[1]["post_ids"]) == sorted(f"s{i}" for i in range(40))
        assert got[0]["end"] == got[0]["start"]
        results.append(got)
    assert all(r == results[0] for r in results)


def test_one_anchor_per_object_and_time_with_its_whole_window(monkeypatch):
    """The islands are cut on the anchors' times; with one anchor per post, posts at the same time
    gave several anchors whose order DuckDB's sorts may not keep (on the IRA archive, two of 5,598
    bursts changed from run to run). Each (object, time) is one anchor, counting its whole window."""
    from swarmscope.detect import bursts as b

    seen = []
    real = b._anchors

    def spy(con, w_us, params):
        out = real(con, w_us, params)
        seen.append(out)
        return out

    monkeypatch.setattr(b, "_anchors", spy)
    quiet = [T0 + dt.timedelta(hours=h) for h in range(0, 24)]
    tied = [T0 + dt.timedelta(hours=10, minutes=20)] * 35 + [T0 + dt.timedelta(hours=10, minutes=22)] * 5
    t = pa.concat_tables(
        [
            events(quiet, ["q"] * 24, [f"quiet post number {i} with words" for i in range(24)], prefix="q"),
            events(tied, [f"a{i % 4}" for i in range(40)], ["the first message to share now"] * 40, prefix="f"),
        ]
    )
    (burst,) = find_bursts(t).to_pylist()
    assert (burst["posts"], burst["window_posts"]) == (40, 40)
    (anchors,) = seen
    # 10:20 opens a window of 40 posts; 10:22 one of 5, too few: one anchor
    assert [(r["t"], r["c"]) for r in anchors.to_pylist()] == [(T0 + dt.timedelta(hours=10, minutes=20), 40)]
