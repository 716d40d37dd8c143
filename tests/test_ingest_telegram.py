"""Telegram importers: Desktop export (result.json) and Telethon dumps, field by field and on bad input."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swarmscope.ingest import detect_format, ingest, jsonstream, x_v2
from swarmscope.ingest import telegram_desktop as desktop
from swarmscope.ingest import telethon_json as telethon
from swarmscope.ingest.base import SNIFF_BYTES, IngestError, Quarantine, ReadOptions
from swarmscope.store import Case

FIX = Path(__file__).parent / "fixtures" / "telegram"
REAL = Path("/work/shared/data/telegram_ru_news")


def run(tmp_path: Path, *paths: Path, format: str | None = None, case: str = "case.duckdb"):
    counts = ingest(tmp_path / case, list(paths), format=format, progress=False, enrich=False)
    for c in counts:
        assert c.balanced, c
    return counts


def rows(tmp_path: Path, sql: str, case: str = "case.duckdb") -> list[tuple]:
    with Case(tmp_path / case, read_only=True) as db:
        return db.con.execute(sql).fetchall()


def posts(tmp_path: Path) -> dict[str, dict]:
    with Case(tmp_path / "case.duckdb", read_only=True) as db:
        return {r["post_id"]: r for r in db.table("posts").to_pylist()}


def quarantine(tmp_path: Path) -> dict[int | None, str]:
    return dict(rows(tmp_path, "SELECT record, reason FROM quarantine"))


# -- Telegram Desktop ------------------------------------------------------------------


def test_desktop_channel_fields(tmp_path):
    (c,) = run(tmp_path, FIX / "channel_result.json")
    # 6 messages; the service message (create_channel) is no record
    assert (c.format, c.records, c.inserted, c.quarantined) == ("telegram_desktop", 5, 5, 0)
    p = posts(tmp_path)
    assert sorted(p) == ["1500000001/2", "1500000001/3", "1500000001/4", "1500000001/5", "1500000001/6"]

    two = p["1500000001/2"]
    assert two["platform"] == "telegram"
    assert two["account_id"] == "1500000001"  # from_id "channel1500000001" → bare id
    # date_unixtime 1704106800, not "date" (the exporter's local clock, 13:00)
    assert two["created_at"] == dt.datetime(2024, 1, 1, 11, 0)
    assert two["text"] == 'Good morning "readers"\\ of the Herald'
    assert two["kind"] == "post" and two["parent_post_id"] is None
    assert two["media"] == ["photos/photo_1@01-01-2024_13-00-00.jpg"]
    assert two["lang"] is None and two["source_record"] == 2

    three = p["1500000001/3"]  # text as a list of parts
    assert three["text"] == "Read this #Elections2024 at example.com/news?id=1 and here via @herald_bot [{]}"
    assert three["hashtags"] == ["Elections2024"]
    assert three["urls"] == ["https://example.com/news?id=1", "https://news.example.org/a/2"]
    assert three["mentions"] == ["herald_bot"]
    assert three["created_at"] == dt.datetime(2024, 1, 1, 12, 30)  # the original time, not "edited"

    four = p["1500000001/4"]  # forward, source known by name only
    assert (four["kind"], four["parent_account_id"], four["parent_post_id"]) == ("forward", None, None)
    assert four["parent_account_name"] == "Wire Service"  # the name is all the export gives

    five = p["1500000001/5"]
    assert (five["kind"], five["parent_post_id"]) == ("reply", "1500000001/2")

    six = p["1500000001/6"]  # channel post with no from_id: the channel is the author
    assert (six["account_id"], six["kind"], six["parent_account_id"]) == ("1500000001", "forward", "1700000007")
    assert six["text"] is None
    assert six["media"] == []  # "(File not included...)" is no path

    accounts = dict(rows(tmp_path, "SELECT account_id, display_name FROM accounts"))
    assert accounts == {"1500000001": "Daily Herald", "1700000007": "Metro News"}


def test_desktop_full_account_export(tmp_path):
    (c,) = run(tmp_path, FIX / "account_result.json")
    # chats.list: a supergroup (1 service + 3 messages) and a personal chat (1); left_chats: 1
    assert (c.records, c.inserted, c.quarantined) == (5, 5, 0)
    p = posts(tmp_path)
    assert {k: (v["account_id"], v["kind"], v["parent_post_id"], v["source_record"]) for k, v in p.items()} == {
        "1600000002/11": ("900000002", "post", None, 2),
        "1600000002/12": ("900000001", "reply", "1600000002/11", 3),
        # a comment replying to a channel post: the parent is in reply_to_peer_id's chat
        "1600000002/13": ("900000001", "reply", "1500000001/2", 4),
        "900000002/3": ("900000002", "post", None, 5),
        "1600000003/7": ("900000002", "post", None, 6),
    }
    assert p["1600000002/11"]["hashtags"] == ["StreetFair"]
    assert p["1600000003/7"]["created_at"] == dt.datetime(2023, 12, 31, 23, 59)
    accounts = dict(rows(tmp_path, "SELECT account_id, display_name FROM accounts"))
    assert accounts == {
        "1600000002": "Neighbourhood Watch",
        "1600000003": "Old Club",
        "900000001": "Ana",
        "900000002": "Bo",
    }


def test_desktop_bad_records_quarantined(tmp_path):
    (c,) = run(tmp_path, FIX / "bad_messages.json")
    assert (c.records, c.inserted, c.quarantined) == (9, 3, 6)
    assert sorted(posts(tmp_path)) == ["1800000004/1", "1800000004/7", "1800000004/9"]
    # Telegram Desktop's invalid \x07 escape is repaired, not lost
    assert posts(tmp_path)["1800000004/7"]["text"] == "bell\x07 ring"
    q = quarantine(tmp_path)
    assert q[2] == "missing required field id"
    # no date_unixtime: its "date" is a local clock, and no --timezone was given
    assert q[3].startswith("time without a zone: rerun with --timezone ZONE (IANA name, e.g. Europe/Moscow)")
    assert "date=2024-03-01T10:02:00 is its local clock" in q[3]
    assert q[4].startswith("unparseable date_unixtime=yesterday")
    assert q[5].startswith("wrong encoding: not valid UTF-8")
    assert q[6].startswith("unsupported message")
    assert q[8] == "not a JSON object (found ubigint)"
    assert rows(tmp_path, "SELECT DISTINCT source_file FROM quarantine") == [(str(FIX / "bad_messages.json"),)]


OLD = FIX / "old_export_result.json"  # Telegram Desktop before 3.0: "date" only, no date_unixtime
ZONE_REASON = (
    "time without a zone: rerun with --timezone ZONE (IANA name, e.g. Europe/Moscow), the zone of the computer "
    "that made the export (date={} is its local clock; an export made before Telegram Desktop 3.0 has no "
    "date_unixtime)"
)


def test_desktop_old_export_without_timezone_says_how_to_read_it(tmp_path):
    (c,) = run(tmp_path, OLD)
    # 6 messages, 1 service: 5 records, none stored, every one quarantined with its reason
    assert (c.format, c.records, c.inserted, c.duplicates, c.quarantined) == ("telegram_desktop", 5, 0, 0, 5)
    assert quarantine(tmp_path) == {
        2: ZONE_REASON.format("2019-05-01T12:34:56"),
        3: ZONE_REASON.format("2019-05-01T12:40:00"),
        4: ZONE_REASON.format("2019-11-20T08:00:00"),
        5: "missing required field date_unixtime (and no date)",
        6: "unparseable timestamp date=yesterday (YYYY-MM-DDTHH:MM:SS between 2013-06 and 2100 expected)",
    }


def test_desktop_old_export_read_in_the_given_zone(tmp_path):
    counts = ingest(
        tmp_path / "case.duckdb", [OLD], progress=False, enrich=False, options=ReadOptions(timezone="Europe/Berlin")
    )
    (c,) = counts
    assert (c.records, c.inserted, c.duplicates, c.quarantined) == (5, 3, 0, 2)
    p = posts(tmp_path)
    assert {k: (v["created_at"], v["account_id"], v["kind"], v["parent_post_id"]) for k, v in p.items()} == {
        # Berlin is UTC+2 in May (summer time), UTC+1 in November
        "1900000005/2": (dt.datetime(2019, 5, 1, 10, 34, 56), "900000011", "post", None),
        "1900000005/3": (dt.datetime(2019, 5, 1, 10, 40), "900000012", "reply", "1900000005/2"),
        "1900000005/4": (dt.datetime(2019, 11, 20, 7, 0), "900000011", "forward", None),
    }
    assert p["1900000005/3"]["urls"] == ["https://example.com/a"]
    assert sorted(quarantine(tmp_path)) == [5, 6]  # no date; not a date: the zone cannot help them
    # the option is kept with the run
    assert rows(tmp_path, "SELECT json_extract_string(parameters, '$.timezone') FROM runs") == [("Europe/Berlin",)]


def test_desktop_zone_in_the_date_wins_over_timezone(tmp_path):
    f = tmp_path / "result.json"
    f.write_text(
        json.dumps(
            {
                "name": "Z",
                "type": "public_channel",
                "id": 1900000006,
                "messages": [
                    {"id": 1, "type": "message", "date": "2019-05-01T12:00:00+03:00", "text": "offset"},
                    {"id": 2, "type": "message", "date": "2019-05-01T12:00:00Z", "text": "utc"},
                    {"id": 3, "type": "message", "date": "2019-05-01T12:00:00", "date_unixtime": "1556712000"},
                ],
            }
        )
    )
    for zone in (None, "Asia/Tokyo"):
        (c,) = ingest(
            tmp_path / f"{zone}.duckdb", [f], progress=False, enrich=False, options=ReadOptions(timezone=zone)
        )
        assert (c.records, c.inserted, c.quarantined) == (3, 3, 0)
        got = rows(tmp_path, "SELECT post_id, created_at FROM posts ORDER BY 1", case=f"{zone}.duckdb")
        assert got == [
            ("1900000006/1", dt.datetime(2019, 5, 1, 9, 0)),
            ("1900000006/2", dt.datetime(2019, 5, 1, 12, 0)),
            ("1900000006/3", dt.datetime(2019, 5, 1, 12, 0)),  # date_unixtime, never "date"
        ]


def test_timezone_option_is_checked(tmp_path):
    with pytest.raises(IngestError, match=r"unknown time zone --timezone 'Mars/Olympus'"):
        ReadOptions(timezone="Mars/Olympus")
    with pytest.raises(IngestError, match="--timezone"):
        ReadOptions(timezone="localtime")
    assert ReadOptions(timezone="America/Sao_Paulo").timezone == "America/Sao_Paulo"


def test_cli_timezone(tmp_path):
    from typer.testing import CliRunner

    from swarmscope.cli import app

    case = tmp_path / "case.duckdb"
    res = CliRunner().invoke(app, ["ingest", str(case), str(OLD), "--timezone", "Nowhere/Land", "--no-enrich"])
    assert res.exit_code == 2 and "--timezone" in res.output
    res = CliRunner().invoke(app, ["ingest", str(case), str(OLD), "--timezone", "Europe/Berlin", "--no-enrich"])
    assert res.exit_code == 0, res.output
    assert rows(tmp_path, "SELECT count(*) FROM posts") == [(3,)]


def _cut(tmp_path: Path, src: Path, marker: bytes, extra: int) -> Path:
    data = src.read_bytes()
    out = tmp_path / f"cut_{src.name}"
    out.write_bytes(data[: data.index(marker) + extra])
    return out


def test_desktop_truncated_inside_a_message_keeps_the_ones_before(tmp_path):
    cut = _cut(tmp_path, FIX / "channel_result.json", b'"id": 4,', 40)
    (c,) = run(tmp_path, cut, format="telegram_desktop")
    assert (c.records, c.inserted, c.quarantined) == (3, 2, 1)
    assert sorted(posts(tmp_path)) == ["1500000001/2", "1500000001/3"]
    (reason,) = quarantine(tmp_path).items()
    assert reason[0] == 4  # the service message is record 1
    assert reason[1].startswith("truncated: the file ends at byte") and "inside record 4" in reason[1]
    assert "the 3 records before it were read" in reason[1]


def test_desktop_truncated_between_messages(tmp_path):
    # cut right after message 3's closing brace: message 3 is complete and kept
    data = (FIX / "channel_result.json").read_bytes()
    end3 = data.index(b'\n  {\n   "id": 4,') - 1
    cut = tmp_path / "cut.json"
    cut.write_bytes(data[:end3])
    (c,) = run(tmp_path, cut, format="telegram_desktop")
    assert (c.records, c.inserted, c.quarantined) == (3, 2, 1)
    assert quarantine(tmp_path)[None].startswith("truncated")


def test_desktop_truncated_header_only(tmp_path):
    cut = _cut(tmp_path, FIX / "channel_result.json", b'"messages"', 0)
    (c,) = run(tmp_path, cut, format="telegram_desktop")
    assert (c.records, c.inserted, c.quarantined) == (1, 0, 1)
    assert "before the JSON document closes" in quarantine(tmp_path)[None]


def test_empty_and_blank_files(tmp_path):
    empty = tmp_path / "empty.json"
    empty.write_bytes(b"")
    blank = tmp_path / "blank.json"
    blank.write_bytes(b"  \n\n ")
    counts = run(tmp_path, empty, blank)
    assert [(c.records, c.quarantined) for c in counts] == [(1, 1), (1, 1)]
    for fmt in ("telegram_desktop", "telethon_json"):
        (c,) = run(tmp_path, empty, format=fmt, case=f"{fmt}.duckdb")
        assert (c.records, c.quarantined) == (1, 1)
        assert rows(tmp_path, "SELECT reason FROM quarantine", case=f"{fmt}.duckdb") == [("empty file",)]


def test_wrong_encoding_whole_file(tmp_path):
    utf16 = tmp_path / "result.json"
    utf16.write_bytes((FIX / "channel_result.json").read_text("utf-8").encode("utf-16"))
    (c,) = run(tmp_path, utf16)
    assert (c.records, c.inserted, c.quarantined) == (1, 0, 1)
    # forced: every message is undecodable, each quarantined by number; nothing crashes
    (c,) = run(tmp_path, utf16, format="telegram_desktop", case="forced.duckdb")
    assert c.inserted == 0 and c.quarantined == c.records >= 1


def test_not_an_export(tmp_path):
    other = tmp_path / "other.json"
    other.write_text('{"name": "x", "items": [1, 2]}')
    (c,) = run(tmp_path, other, format="telegram_desktop")
    assert (c.records, c.quarantined) == (1, 1)
    assert quarantine(tmp_path)[None].startswith("no messages array")


# -- Telethon dumps ---------------------------------------------------------------------


def test_telethon_flat_layout(tmp_path):
    (c,) = run(tmp_path, FIX / "1001500000001_messages.json")
    assert (c.format, c.records, c.inserted, c.quarantined) == ("telethon_json", 3, 3, 0)
    p = posts(tmp_path)
    seven = p["1500000001/7"]
    assert seven["account_id"] == "1500000001"  # sender_id -1001500000001 unmarked
    assert seven["created_at"] == dt.datetime(2024, 1, 1, 17, 0)  # 20:00+03:00
    assert seven["hashtags"] == ["Elections2024"]
    assert seven["urls"] == ["https://news.example.org/a/3"]  # trailing ")." cut
    assert seven["mentions"] == ["herald_bot"]
    assert (seven["kind"], seven["source_record"]) == ("post", 1)
    assert p["1500000001/8"]["text"] is None
    assert rows(tmp_path, "SELECT account_id, display_name FROM accounts") == [("1500000001", "Daily Herald")]


def test_telethon_to_dict_layout(tmp_path):
    (c,) = run(tmp_path, FIX / "todict_dump.json")
    assert (c.records, c.inserted, c.quarantined) == (3, 3, 0)  # the MessageService pin is not a record
    p = posts(tmp_path)
    assert "1900000005/43" not in p
    fwd = p["1900000005/40"]
    assert (fwd["account_id"], fwd["kind"], fwd["parent_post_id"], fwd["parent_account_id"]) == (
        "1900000005",
        "forward",
        "1500000001/3",
        "1500000001",
    )
    assert (fwd["view_count"], fwd["repost_count"]) == (1200, 4)
    assert fwd["created_at"] == dt.datetime(2024, 3, 1, 8, 0)
    reply = p["1900000005/41"]
    assert (reply["kind"], reply["parent_post_id"], reply["reply_count"]) == ("reply", "1900000005/40", 2)
    hidden = p["1900000005/42"]
    assert (hidden["kind"], hidden["parent_account_id"], hidden["parent_post_id"]) == ("forward", None, None)


def test_same_post_in_both_formats_is_one_post(tmp_path):
    first, second = run(tmp_path, FIX / "1001500000001_messages.json", FIX / "channel_result.json")
    assert (first.inserted, second.inserted, second.duplicates) == (3, 4, 1)  # message 2 is in both
    assert rows(tmp_path, "SELECT count(*) FROM posts WHERE post_id = '1500000001/2'") == [(1,)]


def test_telethon_bad_records(tmp_path):
    msgs = [
        {"message_id": 1, "sender_id": 555, "text": "no chat anywhere", "date": "2024-01-01T00:00:00+00:00"},
        {"sender_id": -1002000000006, "text": "no id", "date": "2024-01-01T00:00:00+00:00"},
        {"message_id": 3, "sender_id": -1002000000006, "text": "bad date", "date": "the first of May"},
        {"message_id": 4, "sender_id": -1002000000006, "text": "ok", "date": 1704067200},
        {"message_id": 5, "sender_id": -1002000000006, "text": "no date"},
    ]
    f = tmp_path / "dump.json"
    f.write_text(json.dumps(msgs))
    (c,) = run(tmp_path, f)
    assert (c.records, c.inserted, c.quarantined) == (5, 1, 4)
    assert posts(tmp_path)["2000000006/4"]["created_at"] == dt.datetime(2024, 1, 1)
    q = quarantine(tmp_path)
    assert q[1].startswith("cannot tell the chat")
    assert q[2] == "missing required field message_id"
    assert q[3].startswith("unparseable date=the first of May")
    assert q[5] == "missing required field date"


def test_telethon_group_chat_from_file_name_and_truncation(tmp_path):
    msgs = [{"message_id": i, "sender_id": 700 + i, "text": f"m{i}", "date": "2024-01-01T00:00:00Z"} for i in (1, 2, 3)]
    data = json.dumps(msgs, indent=2).encode()
    f = tmp_path / "-1002000000006_messages.json"
    f.write_bytes(data[: data.index(b'"message_id": 3')])
    (c,) = run(tmp_path, f)
    assert (c.records, c.inserted, c.quarantined) == (3, 2, 1)
    assert {k: v["account_id"] for k, v in posts(tmp_path).items()} == {"2000000006/1": "701", "2000000006/2": "702"}
    assert "inside record 3" in quarantine(tmp_path)[3]


def test_telethon_json_lines_entities_field_by_field(tmp_path):
    (c,) = run(tmp_path, FIX / "todict_lines.jsonl")
    # 6 lines: the MessageService pin (line 2) is no record; line 5 is cut JSON, line 6 has no date
    assert (c.format, c.records, c.inserted, c.quarantined) == ("telethon_json", 5, 3, 2)
    p = posts(tmp_path)
    assert sorted(p) == ["1600000002/77", "1900000005/50", "4242/12"]
    fifty = p["1900000005/50"]
    assert (fifty["account_id"], fifty["kind"], fifty["source_record"]) == ("1900000005", "post", 1)
    assert fifty["created_at"] == dt.datetime(2024, 3, 2, 9, 30)
    # entity offsets are UTF-16 units: the two emoji ahead count twice each
    assert fifty["urls"] == [
        "https://example.org/story",  # MessageEntityUrl; the link preview repeats it
        "https://t.me/wire_desk/99",
    ]  # MessageEntityTextUrl behind the word "here"
    assert (fifty["hashtags"], fifty["mentions"]) == (["Budget2025"], ["wire_desk"])
    assert (fifty["view_count"], fifty["repost_count"], fifty["media"]) == (310, 7, [])
    group = p["4242/12"]  # a basic group: PeerChat, sender from from_id, +02:00 applied
    assert (group["account_id"], group["created_at"]) == ("900000003", dt.datetime(2024, 3, 2, 8, 0))
    # an empty entities array: what the text shows is still read
    assert (group["urls"], group["hashtags"], group["media"]) == (
        ["http://x.example/plan"],
        ["nottagged"],
        ["photo:5550001"],
    )
    comment = p["1600000002/77"]  # a discussion-group comment on a channel post
    assert (comment["kind"], comment["parent_post_id"]) == ("reply", "1500000001/40")
    assert comment["urls"] == ["https://wire.example/a?b=1"]
    assert quarantine(tmp_path) == {5: "invalid JSON (truncated or malformed record)", 6: "missing required field date"}


def test_telethon_entity_actions(tmp_path):
    ingest(tmp_path / "case.duckdb", [FIX / "todict_lines.jsonl"], progress=False, enrich=True)
    got = rows(
        tmp_path,
        "SELECT object_type, object_id FROM actions WHERE post_id = '1900000005/50' "
        "AND object_type IN ('url', 'domain', 'hashtag', 'mention') ORDER BY 1, 2",
    )
    assert got == [
        ("domain", "example.org"),
        ("domain", "t.me"),
        ("hashtag", "budget2025"),
        ("mention", "wire_desk"),
        ("url", "https://example.org/story"),
        ("url", "https://t.me/wire_desk/99"),
    ]


def test_telegram_tracker_messages_object(tmp_path):
    # telegram-tracker writes {"messages": [Message.to_dict()...], "count": n} per channel
    (c,) = run(tmp_path, FIX / "metro_news_messages.json")
    assert (c.format, c.records, c.inserted, c.quarantined) == ("telethon_json", 2, 2, 0)
    fwd = posts(tmp_path)["1700000007/300"]
    assert (fwd["kind"], fwd["parent_post_id"], fwd["parent_account_id"]) == ("forward", "1900000005/50", "1900000005")
    assert (fwd["urls"], fwd["hashtags"], fwd["reply_count"], fwd["source_record"]) == (
        ["https://example.org/story"],
        ["Budget2025"],
        3,
        1,
    )


_DUCK = duckdb.connect()  # one connection for every example


@settings(max_examples=80, deadline=None)
@given(
    before=st.text(alphabet=st.sampled_from(list("ab é") + ["🔥", "😀", "\U0001f1fa", "中"]), max_size=8),
    piece=st.text(alphabet=st.sampled_from(list("#az_09./:") + ["é", "中"]), min_size=1, max_size=8),
    after=st.text(alphabet=st.sampled_from(list("ab ") + ["🔥"]), max_size=4),
)
def test_utf16_offsets_find_the_entity_text(before, piece, after):
    text = before + piece + after
    offset = len(before.encode("utf-16-le")) // 2
    length = len(piece.encode("utf-16-le")) // 2
    got = _DUCK.execute(
        f"SELECT {telethon.utf16_piece(telethon.utf16_units_sql('$t'), str(offset), str(length))}", {"t": text}
    ).fetchall()
    assert got == [(piece,)]


def test_telethon_scale_generated_lines(tmp_path):
    n = 20_000
    data = tmp_path / "1001900000005_messages.jsonl"
    with open(data, "w", encoding="utf-8") as fh:
        for i in range(n):
            text = f"{'🔥' * (i % 3)}news {i} #tag{i % 50} example.org/{i % 100}"
            pre = len(("🔥" * (i % 3)).encode("utf-16-le")) // 2
            tag_at = pre + len(f"news {i} ")
            url_at = tag_at + len(f"#tag{i % 50} ")
            msg = {
                "_": "Message",
                "id": i + 1,
                "peer_id": {"_": "PeerChannel", "channel_id": 1900000005},
                "date": f"2024-03-01 {i % 24:02d}:{i % 60:02d}:00+00:00",
                "message": text,
                "fwd_from": None
                if i % 4
                else {
                    "_": "MessageFwdHeader",
                    "from_id": {"_": "PeerChannel", "channel_id": 1500000001},
                    "channel_post": i,
                },
                "entities": [
                    {"_": "MessageEntityHashtag", "offset": tag_at, "length": len(f"#tag{i % 50}")},
                    {"_": "MessageEntityUrl", "offset": url_at, "length": len(f"example.org/{i % 100}")},
                ],
                "views": i,
            }
            fh.write(json.dumps(msg, ensure_ascii=bool(i % 2)) + "\n")
            if i % 1000 == 0:
                fh.write(
                    json.dumps({"_": "MessageService", "id": 10**6 + i, "date": "2024-03-01 00:00:00+00:00"}) + "\n"
                )
    (c,) = run(tmp_path, data)
    assert (c.format, c.records, c.inserted, c.quarantined) == ("telethon_json", n, n, 0)
    got = rows(
        tmp_path,
        "SELECT count(*) FILTER (WHERE kind = 'forward'), "
        "count(*) FILTER (WHERE hashtags = "
        "['tag' || ((CAST(split_part(post_id, '/', 2) AS INT) - 1) % 50)]), "
        "count(*) FILTER (WHERE urls = "
        "['https://example.org/' || ((CAST(split_part(post_id, '/', 2) AS INT) - 1) % 100)]) "
        "FROM posts",
    )
    assert got == [(n // 4, n, n)]


def test_chat_id_from_file_name():
    assert telethon.chat_id_from_name(Path("1001000724666_messages.json")) == "1000724666"
    assert telethon.chat_id_from_name(Path("-1001000724666.json")) == "1000724666"
    assert telethon.chat_id_from_name(Path("-4242_messages.json")) == "4242"  # a basic group
    assert telethon.chat_id_from_name(Path("1000724666_messages.json")) == "1000724666"  # already bare
    assert telethon.chat_id_from_name(Path("news.json")) is None


# -- detection --------------------------------------------------------------------------


def _head(p: Path) -> bytes:
    return p.read_bytes()[:SNIFF_BYTES]


def test_sniff_tells_formats_apart(tmp_path):
    x_page = Path(__file__).parent / "fixtures" / "x_v2" / "page.jsonl"
    csv = tmp_path / "posts.csv"
    csv.write_text("message_id,sender_id,text,date\n1,2,hi,2024-01-01\n")
    tweets = tmp_path / "tweets.json"
    tweets.write_text('[{"id": "1", "text": "hi", "author_id": "2", "created_at": "2024-01-01T00:00:00Z"}]')
    desktop_files = [FIX / "channel_result.json", FIX / "account_result.json", FIX / "bad_messages.json"]
    telethon_files = [
        FIX / "1001500000001_messages.json",
        FIX / "todict_dump.json",
        FIX / "todict_lines.jsonl",
        FIX / "metro_news_messages.json",
    ]
    for f in desktop_files:
        assert desktop.sniff(f, _head(f)) and not telethon.sniff(f, _head(f)) and not x_v2.sniff(f, _head(f))
        assert detect_format(f).NAME == "telegram_desktop"
    for f in telethon_files:
        assert telethon.sniff(f, _head(f)) and not desktop.sniff(f, _head(f)) and not x_v2.sniff(f, _head(f))
        assert detect_format(f).NAME == "telethon_json"
    for f in (x_page, csv, tweets):
        assert not desktop.sniff(f, _head(f)) and not telethon.sniff(f, _head(f))
    assert detect_format(x_page).NAME == "x_v2"


# -- the streaming scanner, on generated documents -------------------------------------

_tricky = st.text(alphabet=st.sampled_from(list('ab"\\{}[],: é🔥\n\t') + ["\u2028"]), max_size=12)
_message = st.fixed_dictionaries(
    {"id": st.integers(0, 10**6), "text": _tricky},
    optional={"parts": st.lists(st.one_of(_tricky, st.fixed_dictionaries({"t": _tricky})), max_size=3)},
)


@settings(max_examples=60, deadline=None)
@given(
    chats=st.lists(st.lists(_message, max_size=6), min_size=1, max_size=3),
    indent=st.sampled_from([None, 0, 1, 2]),
    block=st.integers(1, 64),
    ascii_only=st.booleans(),
)
def test_scanner_finds_every_message_whatever_the_layout(tmp_path_factory, chats, indent, block, ascii_only):
    doc = {
        "about": "x",
        "contacts": {"list": [{"a": [1, {"b": "]"}]}]},
        "chats": {"about": "[{", "list": [{"name": 'c\\"]', "id": i, "messages": m} for i, m in enumerate(chats)]},
    }
    f = tmp_path_factory.mktemp("scan") / "result.json"
    f.write_text(json.dumps(doc, indent=indent, ensure_ascii=ascii_only), encoding="utf-8")
    scan = jsonstream.scan_arrays(f, lambda keys: keys in {("chats", "list", "[]", "messages")}, 5, block_bytes=block)
    assert scan.problem is None and len(scan.arrays) == len(chats)
    q = Quarantine(str(f))
    got = [json.loads(s) for part in jsonstream.iter_elements(f, scan, q, 50, 1 << 20) for s in part.raws.to_pylist()]
    assert got == [m for chat in chats for m in chat] and not len(q)
    assert [desktop._chat_header(f, a).id for a in scan.arrays] == [str(i) for i in range(len(chats))]


def test_escaped_quotes_across_block_edges():
    quotes = np.array([0, 5, 9])
    backslashes = np.array([3, 4, 8])
    # quote 0 follows 1 backslash carried from the last block; 5 follows two (not escaped); 9 one
    assert jsonstream._escaped(quotes, backslashes, carry=1).tolist() == [True, False, True]


# -- the real corpus --------------------------------------------------------------------

real = pytest.mark.skipif(not REAL.is_dir(), reason="shared Telegram corpus not present")


@pytest.fixture(scope="module")
def real_case(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("real")
    files = sorted(REAL.glob("*_messages.json"))
    counts = ingest(tmp / "case.duckdb", files, progress=False, enrich=False)
    return tmp, files, counts


@real
def test_real_corpus_ingests_without_quarantine(real_case):
    tmp, files, counts = real_case
    expected = {str(f): len(json.loads(f.read_text("utf-8"))) for f in files}
    assert len(files) == 24 and sum(expected.values()) == 22_099
    assert {c.path: c.records for c in counts} == expected
    assert all(c.format == "telethon_json" and c.quarantined == 0 and c.balanced for c in counts)
    with Case(tmp / "case.duckdb", read_only=True) as db:
        n, chats, nulls = db.con.execute(
            "SELECT count(*), count(DISTINCT account_id), count(*) FILTER (WHERE created_at IS NULL) FROM posts"
        ).fetchall()[0]
        assert (n, chats, nulls) == (22_099, 24, 0)
        assert db.count("quarantine") == 0
        (first,) = db.con.execute(
            "SELECT post_id, account_id, created_at FROM posts WHERE post_id = '1000724666/11877'"
        ).fetchall()
        assert first == ("1000724666/11877", "1000724666", dt.datetime(2024, 12, 4, 9, 0, 28))


@real
def test_real_corpus_rerun_stores_nothing_new(real_case, tmp_path):
    tmp, files, first = real_case
    again = ingest(tmp / "case.duckdb", files, progress=False, enrich=False)
    assert sum(c.inserted for c in again) == 0
    assert [c.duplicates for c in again] == [c.records for c in first]
    with Case(tmp / "case.duckdb", read_only=True) as db:
        assert db.count("posts") == 22_099


def test_copy_of_export_is_all_duplicates(tmp_path):
    copy = tmp_path / "again.json"
    shutil.copy(FIX / "channel_result.json", copy)
    first, second = run(tmp_path, FIX / "channel_result.json", copy)
    assert (second.records, second.inserted, second.duplicates) == (first.records, 0, first.records)
