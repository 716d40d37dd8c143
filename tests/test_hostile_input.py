"""Poison and malformed input (issue #20): each case reproduced, with its exact outcome.

docs/reliability.md lists these cases in a table (fault or bad input | how tried | outcome).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest
from typer.testing import CliRunner

from swarmscope import graph
from swarmscope.cli import app
from swarmscope.ingest import IngestError, detect_format, formats, ingest
from swarmscope.ingest.base import make_batch
from swarmscope.ingest.bounds import PLATFORM_SINCE, bound_times

runner = CliRunner()


def _tweet(i: int | str, when: str, text: str | None = None, author: str = "1") -> dict:
    return {"id": str(i), "text": text or f"post {i}", "author_id": author, "created_at": when}


def _jsonl(path: Path, rows: list, prefix: bytes = b"") -> Path:
    path.write_bytes(prefix + b"".join(json.dumps(r).encode() + b"\n" for r in rows))
    return path


def _rows(case: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(case), read_only=True) as con:
        return con.execute(sql).fetchall()


def _balanced(c) -> bool:
    return c.records == c.inserted + c.duplicates + c.quarantined


# -- timestamps outside the plausible window ------------------------------------------------

FAR = [
    ("2024-01-01T00:00:00Z", "stored"),
    ("9999-01-01T00:00:00Z", "implausible created_at=9999-01-01 00:00:00, outside the time window of x posts"),
    ("0001-01-01T00:00:00Z", "before 2006-01-01"),
    ("12345-01-01T00:00:00Z", "implausible created_at=12345-01-01 00:00:00"),
    ("2024-01-01T00:00:00+99:00", "unparseable timestamp created_at=2024-01-01T00:00:00+99:00"),
    ("2005-12-31T23:59:59Z", "before 2006-01-01"),
    ("2024-01-02T00:00:00.000Z", "stored"),
]


@pytest.mark.parametrize("exact_path", [False, True], ids=["fast path", "exact path"])
def test_far_away_post_times_are_quarantined_with_the_reason(tmp_path, exact_path):
    rows = [_tweet(i, when) for i, (when, _) in enumerate(FAR)]
    f = _jsonl(tmp_path / "far.jsonl", rows + (["a bare string: forces the exact path"] if exact_path else []))
    case = tmp_path / "case.duckdb"
    (c,) = ingest(case, [f], progress=False, enrich=False)
    assert c.format == "x_v2" and _balanced(c)
    assert (c.records, c.inserted, c.quarantined) == (len(FAR) + exact_path, 2, len(FAR) - 2 + exact_path)
    assert sorted(r[0] for r in _rows(case, "SELECT post_id FROM posts")) == ["0", "6"]
    reasons = dict(_rows(case, "SELECT record, reason FROM quarantine"))
    for i, (_, want) in enumerate(FAR):
        if want != "stored":
            assert want in reasons[i + 1], reasons
            assert "+99:00" in want or "see docs/formats.md, Time window" in reasons[i + 1]
    first, last = _rows(case, "SELECT min(created_at), max(created_at) FROM posts")[0]
    assert (first, last) == (dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2))


def test_a_post_dated_in_the_future_is_quarantined_but_two_days_of_skew_are_not(tmp_path):
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    soon, later = now + dt.timedelta(days=1), now + dt.timedelta(days=3)
    iso = "%Y-%m-%dT%H:%M:%SZ"
    f = _jsonl(tmp_path / "t.jsonl", [_tweet(1, soon.strftime(iso)), _tweet(2, later.strftime(iso))])
    (c,) = ingest(tmp_path / "c.duckdb", [f], progress=False, enrich=False)
    assert (c.inserted, c.quarantined) == (1, 1)
    (reason,) = _rows(tmp_path / "c.duckdb", "SELECT reason FROM quarantine")[0]
    assert "more than 2 days after the ingest" in reason


def test_every_importer_is_bounded_csv_epoch_and_its_action(tmp_path):
    """The check is central: a CooRTweet row from year 5138 is quarantined, and so is its action."""
    f = tmp_path / "shares.csv"
    f.write_text(
        "object_id,account_id,content_id,timestamp_share\no1,a1,c1,1623881091\no1,a2,c2,99999999999\no1,a3,c3,1\n"
    )
    case = tmp_path / "c.duckdb"
    (c,) = ingest(case, [f], progress=False, enrich=False)
    assert c.format == "coortweet_csv" and _balanced(c)
    assert (c.records, c.inserted, c.quarantined) == (3, 1, 2)
    assert _rows(case, "SELECT post_id FROM actions") == [("c1",)]
    reasons = [r for (r,) in _rows(case, "SELECT reason FROM quarantine ORDER BY record")]
    assert "5138-" in reasons[0] and "before 1990-01-01" in reasons[1]


def test_account_times_outside_the_window_are_nulled_and_noted(tmp_path):
    page = {
        "data": [_tweet(1, "2024-01-01T00:00:00Z", author="7")],
        "includes": {"users": [{"id": "7", "username": "bob", "created_at": "99999-01-01T00:00:00Z"}]},
        "__twarc": {"retrieved_at": "9999-01-01T00:00:00Z"},
    }
    case = tmp_path / "c.duckdb"
    (c,) = ingest(case, [_jsonl(tmp_path / "p.jsonl", [page])], progress=False, enrich=False)
    assert (c.inserted, c.quarantined, c.accounts) == (1, 0, 1)
    assert _rows(case, "SELECT account_id, created_at, snapshot_at FROM accounts") == [("7", None, None)]
    assert any("1 account creation time(s) outside the plausible time window set to NULL" in n for n in c.notes)
    assert any("account snapshot" in n for n in c.notes)


def test_bound_times_is_columnar_and_keeps_the_record_count():
    posts = pa.table(
        {
            "platform": ["x", "telegram", "other", "tiktok"],
            "post_id": ["1", "2", "3", "4"],
            "kind": ["post"] * 4,
            "created_at": pa.array(
                [dt.datetime(2010, 1, 1), dt.datetime(2012, 1, 1), dt.datetime(1995, 1, 1), dt.datetime(2015, 1, 1)],
                pa.timestamp("us"),
            ),
            "source_record": [1, 2, 3, 4],
            "source_file": ["f"] * 4,
        }
    )
    batch = make_batch(posts, None, None)
    out, notes = bound_times(batch)
    assert out.records == batch.records == 4
    assert out.posts["post_id"].to_pylist() == ["1", "3", "4"]
    assert out.quarantine["record"].to_pylist() == [2]
    assert "before 2013-01-01" in out.quarantine["reason"][0].as_py() and notes == {"posts": 1}
    assert set(PLATFORM_SINCE) >= {"x", "telegram", "tiktok", "youtube", "facebook", "instagram", "bluesky", "vk"}


# -- sniffing: deep nesting, a huge first record, a byte-order mark ----------------------------

DEEP = '{"a":' * 10_000 + "1" + "}" * 10_000


def test_a_record_nested_10000_deep_neither_crashes_nor_aborts_the_folder(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    deep = folder / "a_deep.jsonl"
    deep.write_text(DEEP + "\n" + json.dumps(_tweet(5, "2024-01-01T00:00:00Z")) + "\n")
    only_deep = folder / "b_only_deep.jsonl"
    only_deep.write_text(DEEP + "\n")
    _jsonl(folder / "c_good.jsonl", [_tweet(9, "2024-01-01T00:00:00Z")])
    case = tmp_path / "c.duckdb"
    a, b, c = ingest(case, [folder], progress=False, enrich=False)
    assert (a.format, a.records, a.inserted, a.quarantined) == ("x_v2", 2, 1, 1)  # line 1 quarantined, line 2 read
    assert (b.format, b.records, b.quarantined) == ("unknown", 1, 1)
    assert (c.format, c.inserted) == ("x_v2", 1)
    assert all(_balanced(r) for r in (a, b, c))
    with pytest.raises(IngestError, match="unknown format"):
        detect_format(only_deep)


def test_every_sniffer_survives_a_deep_first_line(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text(DEEP + "\n")
    head = f.read_bytes()[:65536]
    for mod in formats().values():
        try:
            mod.sniff(f, head)
        except RecursionError:  # detect_format would catch it; record which sniffer still raises
            pytest.fail(f"{mod.NAME} sniffer raises RecursionError")
        except ValueError:
            pass


@pytest.mark.parametrize("page", [True, False], ids=["page", "bare tweet"])
def test_a_15_mb_first_record_is_recognised(tmp_path, page):
    tweet = _tweet(1, "2024-01-01T00:00:00Z", text="x" * 15_000_000)
    f = _jsonl(tmp_path / "big.jsonl", [{"data": [tweet], "includes": {"users": []}} if page else tweet])
    assert detect_format(f).NAME == "x_v2"
    case = tmp_path / "c.duckdb"
    (c,) = ingest(case, [f], progress=False, enrich=False)
    assert (c.records, c.inserted) == (1, 1)
    assert _rows(case, "SELECT length(text) FROM posts") == [(15_000_000,)]


def test_a_first_record_over_the_record_limit_says_so(tmp_path):
    f = _jsonl(tmp_path / "huge.jsonl", [{"z": "x" * 2_000_000}])
    with pytest.raises(IngestError, match="first record is longer than 1,048,576 bytes"):
        detect_format(f, max_record_bytes=1 << 20)


@pytest.mark.parametrize("exact_path", [False, True], ids=["fast path", "exact path"])
def test_a_utf8_bom_does_not_defeat_x_v2(tmp_path, exact_path):
    rows = [_tweet(1, "2024-01-01T00:00:00Z", "bom")] + ([[1, 2]] if exact_path else [])
    f = _jsonl(tmp_path / "bom.jsonl", rows, prefix=b"\xef\xbb\xbf")
    assert detect_format(f).NAME == "x_v2"
    case = tmp_path / "c.duckdb"
    (c,) = ingest(case, [f], progress=False, enrich=False)
    assert (c.records, c.inserted, c.quarantined) == (1 + exact_path, 1, exact_path)
    assert _rows(case, "SELECT post_id, text, source_record FROM posts") == [("1", "bom", 1)]


def test_a_reader_that_fails_ends_its_file_not_the_folder(tmp_path, monkeypatch):
    from swarmscope.ingest import x_v2

    folder = tmp_path / "in"
    folder.mkdir()
    _jsonl(folder / "a.jsonl", [_tweet(1, "2024-01-01T00:00:00Z")])
    _jsonl(folder / "b.jsonl", [_tweet(2, "2024-01-01T00:00:00Z")])
    real = x_v2.read

    def flaky(path, options):
        if path.name == "a.jsonl":
            raise RecursionError("maximum recursion depth exceeded")
        yield from real(path, options)

    monkeypatch.setattr(x_v2, "read", flaky)
    a, b = ingest(tmp_path / "c.duckdb", [folder], progress=False, enrich=False)
    assert (a.records, a.quarantined, b.inserted) == (1, 1, 1) and _balanced(a)
    assert "reading stopped: RecursionError" in a.reasons[0][0]


# -- folders: symlinks out of the folder, FIFOs ---------------------------------------------------


def test_a_symlink_out_of_the_folder_is_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    secret = _jsonl(outside / "secret.jsonl", [_tweet(666, "2024-01-01T00:00:00Z", "SECRET-MARKER")])
    (outside / "passwd").write_text("root:x:0:0:SECRET-MARKER:/root:/bin/bash\n")
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    good = _jsonl(folder / "good.jsonl", [_tweet(1, "2024-01-01T00:00:00Z")])
    os.symlink(secret, folder / "secret.jsonl")
    os.symlink(outside / "passwd", folder / "sub" / "passwd.csv")
    os.symlink(outside, folder / "outside_dir")
    os.symlink(good, folder / "sub" / "alias.jsonl")  # inside the folder: read
    case = tmp_path / "c.duckdb"
    r = runner.invoke(app, ["ingest", str(case), str(folder), "--no-enrich"])
    assert r.exit_code == 0, r.output  # the folder was read; what was not followed is a warning
    assert f"symlink to {secret}, outside the input folder {folder}: not followed" in r.output
    with duckdb.connect(str(case), read_only=True) as con:
        dump = " ".join(str(v) for t in ("posts", "accounts", "quarantine", "runs") for v in con.table(t).fetchall())
    assert "SECRET-MARKER" not in dump and "root:x:0:0" not in dump
    q = _rows(case, "SELECT source_file, reason FROM quarantine ORDER BY source_file")
    assert [Path(s).name for s, _ in q] == ["outside_dir", "secret.jsonl", "passwd.csv"]
    assert all(reason.startswith("skipped: symlink to ") for _, reason in q)
    assert _rows(case, "SELECT post_id, source_file FROM posts") == [("1", str(folder / "good.jsonl"))]
    # the alias inside the folder was read: its post is the same post, a duplicate
    (run,) = _rows(case, "SELECT inputs, parameters FROM runs")
    assert [i["duplicates"] for i in json.loads(run[0]) if i["path"].endswith("alias.jsonl")] == [1]
    assert len(json.loads(run[1])["skipped"]) == 3


def test_a_fifo_is_skipped_not_opened(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    _jsonl(folder / "good.jsonl", [_tweet(1, "2024-01-01T00:00:00Z")])
    os.mkfifo(folder / "pipe.jsonl")
    done: list = []
    t = threading.Thread(target=lambda: done.append(ingest(tmp_path / "c.duckdb", [folder], progress=False)))
    t.daemon = True
    t.start()
    t.join(120)
    assert not t.is_alive(), "ingest hangs on a FIFO"
    (good, pipe) = done[0]
    assert (good.inserted, pipe.format, pipe.quarantined) == (1, "skipped", 1)
    assert "a FIFO (named pipe), not a regular file: not read" in pipe.reasons[0][0]
    # named alone, nothing is read at all: an error
    r = runner.invoke(app, ["ingest", str(tmp_path / "d.duckdb"), str(folder / "pipe.jsonl")])
    assert r.exit_code == 1 and "pipe.jsonl: skipped: a FIFO" in r.output


# -- graph files from hostile text ----------------------------------------------------------------


def test_network_with_control_characters_writes_valid_gexf_and_graphml(tmp_path):
    accounts = ["a\x01b", "c\x0bd", "e\x1ff", "g\ufffeh"]
    lines = ["object_id,account_id,content_id,timestamp_share"]
    lines += [f"o{o},{a},c{o}_{i},{1623881091 + o * 1000 + i}" for o in range(6) for i, a in enumerate(accounts)]
    src = tmp_path / "ctl.csv"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    gexf, graphml = tmp_path / "n.gexf", tmp_path / "n.graphml"
    r = runner.invoke(app, ["network", str(src), "-o", str(gexf), "-o", str(graphml), "--no-significance"])
    assert r.exit_code == 0, r.output
    for path in (gexf, graphml):
        root = ET.parse(path).getroot()  # raises on an invalid XML character
        texts = {v for el in root.iter() for v in [*el.attrib.values(), el.text or ""]}
        assert {"a\\x01b", "c\\x0bd", "e\\x1ff", "g\\ufffeh"} <= texts, path
        assert len([el for el in root.iter() if el.tag.endswith("}node")]) == 4


def test_escaped_ids_never_merge_two_nodes():
    assert graph._xml_text(["ok", None, 3]) == ["ok", None, 3]
    nodes = pa.table({"platform": ["x", "x"], "account_id": ["a\x01", "a\\x01"]})
    assert graph._node_ids(nodes) == ["a\\x01", "a\\x01 #2"]


# -- exit codes and messages ---------------------------------------------------------------------


def test_unknown_format_exits_non_zero_and_lists_every_format(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("hello world\n")
    r = runner.invoke(app, ["ingest", str(tmp_path / "c.duckdb"), str(f)])
    assert r.exit_code == 1
    assert f"error: {f}: unknown format. Supported formats:" in r.output
    assert all(name in r.output for name in formats())
    assert "Force one with --format NAME" in r.output


def test_a_readme_beside_the_exports_in_a_folder_is_a_warning_but_named_alone_an_error(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    _jsonl(folder / "tweets.jsonl", [_tweet(1, "2024-01-01T00:00:00Z")])
    readme = folder / "README.md"
    readme.write_text("# what these files are\n")
    r = runner.invoke(app, ["ingest", str(tmp_path / "c.duckdb"), str(folder), "--no-enrich"])
    assert r.exit_code == 0, r.output
    assert f"warning: {readme}: not read, in no known format" in r.output and "error:" not in r.output
    # quarantined all the same (rows in = stored + duplicates + quarantined), with the long reason
    assert _rows(tmp_path / "c.duckdb", "SELECT count(*) FROM quarantine WHERE reason LIKE 'unknown format%'") == [(1,)]
    # the same README named on the command line is what the user asked for: an error
    r = runner.invoke(app, ["ingest", str(tmp_path / "d.duckdb"), str(folder / "tweets.jsonl"), str(readme)])
    assert r.exit_code == 1 and f"error: {readme}: unknown format" in r.output


def test_everything_quarantined_exits_non_zero_with_the_count_and_where_to_look(tmp_path):
    f = _jsonl(tmp_path / "bad.jsonl", [_tweet(i, "9999-01-01T00:00:00Z") for i in range(3)])
    case = tmp_path / "c.duckdb"
    r = runner.invoke(app, ["ingest", str(case), str(f), "--no-enrich"])
    assert r.exit_code == 1
    assert f"error: {f}: nothing stored: all 3 record(s) quarantined (3 x implausible created_at" in r.output
    assert f"swarmscope info {case}" in r.output
    assert f"SELECT record, reason, excerpt FROM quarantine WHERE source_file = '{f}'" in r.output


def test_a_forced_wrong_format_exits_non_zero_with_a_hint(tmp_path):
    f = _jsonl(tmp_path / "tweets.jsonl", [_tweet(1, "2024-01-01T00:00:00Z")])
    r = runner.invoke(app, ["ingest", str(tmp_path / "c.duckdb"), str(f), "--format", "x_archive"])
    assert r.exit_code == 1
    assert "not a X archive tweets or users file" in r.output
    assert "The file may not be in format x_archive: run without --format to detect it" in r.output


def test_a_bad_map_exits_non_zero_naming_the_column_and_the_columns_present(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("ID,Author,When,Message\n1,a,2024-01-01 00:00:00,hi\n")
    args = [
        "--format",
        "generic_table",
        "--map",
        "post_id=ID",
        "--map",
        "account_id=Nobody",
        "--map",
        "created_at=When",
    ]
    r = runner.invoke(app, ["ingest", str(tmp_path / "c.duckdb"), str(f), *args])
    assert r.exit_code == 1
    assert "Nobody (for account_id); found ID, Author, When, Message" in r.output
    assert "Check each --map source column" in r.output


def test_signals_group_matching_nothing_exits_non_zero(tmp_path):
    case = tmp_path / "c.duckdb"
    ingest(case, [_jsonl(tmp_path / "t.jsonl", [_tweet(1, "2024-01-01T00:00:00Z")])], progress=False)
    group = tmp_path / "group.txt"
    group.write_text("nobody\n")
    r = runner.invoke(app, ["signals", str(case), "--group", str(group)])
    assert r.exit_code == 2
    assert f"--group {group}: none of its account ids has a post in {case}" in r.output
    assert "SELECT platform, account_id, handle FROM accounts" in r.output


def test_partly_quarantined_input_is_a_warning_and_exit_zero(tmp_path):
    f = _jsonl(tmp_path / "t.jsonl", [_tweet(1, "2024-01-01T00:00:00Z"), _tweet(2, "0001-01-01T00:00:00Z")])
    r = runner.invoke(app, ["ingest", str(tmp_path / "c.duckdb"), str(f), "--no-enrich"])
    assert r.exit_code == 0
    assert f"warning: {f}: 1 of 2 records quarantined" in r.output


# -- re-ingest ------------------------------------------------------------------------------------


def test_reingesting_a_file_does_not_double_its_quarantine(tmp_path):
    rows = [_tweet(i, "2024-01-01T00:00:00Z") for i in range(3)]
    rows += ["junk", [1], {"data": 1}, _tweet(7, "nonsense"), {"id": "8"}, _tweet(9, "9999-01-01T00:00:00Z")]
    rows += [_tweet(10, "2024-01-01T00:00:00Z")]
    f = _jsonl(tmp_path / "mixed.jsonl", rows)
    f.write_bytes(f.read_bytes() + b"\xff\xfe not utf-8\n")
    case = tmp_path / "c.duckdb"
    (first,) = ingest(case, [f], progress=False, enrich=False)
    (again,) = ingest(case, [f, f], progress=False, enrich=False)[:1]
    assert (first.records, first.inserted, first.quarantined) == (11, 4, 7)
    assert (again.records, again.inserted, again.duplicates, again.quarantined) == (11, 0, 4, 7)
    assert _balanced(first) and _balanced(again)
    assert _rows(case, "SELECT count(*) FROM quarantine") == [(7,)]
    assert _rows(case, "SELECT count(*) FROM posts") == [(4,)]
