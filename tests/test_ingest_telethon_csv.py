"""Telethon scraper CSVs: four real column layouts field by field, bad rows, detection, one post across formats,
scale."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from swarmscope.ingest import detect_format, formats, ingest
from swarmscope.store import Case

from .conftest import FIXTURES

DIR = FIXTURES / "telethon_csv"
TELEGRAM = FIXTURES / "telegram"


def run(case: Path, *paths: Path, fmt: str | None = None) -> list:
    res = ingest(case, list(paths), format=fmt, progress=False, enrich=False)
    for r in res:
        assert r.balanced, r
    return res


def posts(case: Path) -> dict[str, dict]:
    with Case(case, read_only=True) as db:
        return {r["post_id"]: r for r in db.table("posts").to_pylist()}


def quarantine(case: Path) -> dict[int | None, str]:
    with Case(case, read_only=True) as db:
        return {r["record"]: r["reason"] for r in db.table("quarantine").to_pylist()}


def accounts(case: Path) -> dict[str, tuple]:
    with Case(case, read_only=True) as db:
        return {r["account_id"]: (r["handle"], r["display_name"]) for r in db.table("accounts").to_pylist()}


def test_basic_layout_chat_from_file_name(case_path):
    # message_id, date, sender_id, text, reply_to_msg_id, views, forwards, reactions
    (r,) = run(case_path, DIR / "1001500000001_messages.csv")
    assert (r.format, r.records, r.inserted, r.quarantined) == ("telethon_csv", 7, 3, 4)
    p = posts(case_path)
    two = p["1500000001/2"]
    assert (two["platform"], two["account_id"], two["kind"], two["source_record"]) == (
        "telegram",
        "1500000001",
        "post",
        1,
    )
    assert two["created_at"] == dt.datetime(2024, 1, 1, 11, 0)
    assert two["text"] == 'Good morning "readers"\\ of the Herald'
    assert (two["view_count"], two["repost_count"]) == (10, 1)
    nine = p["1500000001/9"]
    assert nine["created_at"] == dt.datetime(2024, 1, 3, 5, 15)  # 08:15+03:00
    assert nine["text"] == "Two lines\nwith #Tag and https://a.example/x, ok 🔥"
    assert (nine["hashtags"], nine["urls"], nine["view_count"]) == (["Tag"], ["https://a.example/x"], 5)  # "5.0"
    ten = p["1500000001/10"]  # reply_to_msg_id "9.0": pandas wrote the int column as float
    assert (ten["kind"], ten["parent_post_id"], ten["view_count"]) == ("reply", "1500000001/9", None)
    q = quarantine(case_path)
    assert q[4].startswith("date without a time of day: 2024-01-04")
    assert q[5].startswith("unparseable date=soon")
    assert q[6] == "missing required field message_id"
    assert q[7] == "malformed CSV row: expected 8 fields, found 6"


def test_telegram_tracker_msgs_dataset(case_path):
    (r,) = run(case_path, DIR / "msgs_dataset.csv")
    assert (r.records, r.inserted, r.quarantined) == (3, 3, 0)
    p = posts(case_path)
    fwd = p["1700000007/300"]
    assert fwd["created_at"] == dt.datetime(2024, 4, 1, 6, 0)  # strftime dropped the zone; Telethon's UTC
    assert (fwd["kind"], fwd["parent_post_id"], fwd["parent_account_id"], fwd["parent_account_name"]) == (
        "forward",
        "1900000005/50",
        "1900000005",
        "wire_desk",
    )  # post number from forward_msg_link
    assert (fwd["urls"], fwd["hashtags"]) == (["https://example.org/story"], ["Budget2025"])  # url column = text's
    assert (fwd["view_count"], fwd["repost_count"], fwd["reply_count"]) == (90, 1, 3)
    reply = p["1700000007/303"]
    assert (reply["account_id"], reply["kind"], reply["parent_post_id"], reply["mentions"]) == (
        "900000009",
        "reply",
        "1700000007/301",
        ["wire_desk"],
    )
    doc = p["1700000007/304"]
    assert (doc["text"], doc["media"], doc["kind"]) == (None, ["document:777"], "post")
    assert accounts(case_path)["1700000007"] == (None, "metro_news")


def test_date_time_columns_and_repr_fields(case_path):
    (r,) = run(case_path, DIR / "-4242_group.csv")
    assert (r.records, r.inserted, r.quarantined) == (3, 2, 1)
    p = posts(case_path)
    five = p["4242/5"]  # a basic group: chat from the file name's marked id
    assert (five["account_id"], five["created_at"]) == ("900000002", dt.datetime(2024, 5, 1, 10, 0))
    assert (five["kind"], five["parent_account_id"], five["parent_account_name"], five["parent_post_id"]) == (
        "forward",
        "1900000005",
        "Wire Desk",
        None,
    )  # marked -100 id unmarked; no post number given
    assert five["reply_count"] == 4  # MessageReplies(replies=4, ...)
    six = p["4242/6"]
    assert (six["kind"], six["parent_post_id"], six["created_at"]) == (
        "reply",
        "4242/5",
        dt.datetime(2024, 5, 1, 10, 5, 30),
    )
    assert quarantine(case_path)[3].startswith("date without a time of day: 2024-05-01")
    acc = accounts(case_path)
    assert acc["900000002"] == ("bo_b", "Bo B") and acc["900000001"] == (None, "Ana")


def test_pandas_frame_with_fwd_from_repr(case_path):
    # Date, Sender_ID, Message_ID, Text (capitalised) plus str(msg.fwd_from)
    (r,) = run(case_path, DIR / "channel.csv")
    assert (r.records, r.inserted, r.quarantined) == (3, 2, 1)
    p = posts(case_path)
    forty = p["1900000005/40"]
    assert (forty["kind"], forty["parent_post_id"], forty["parent_account_id"]) == (
        "forward",
        "1500000001/3",
        "1500000001",
    )
    hidden = p["1900000005/42"]
    assert (hidden["parent_account_id"], hidden["parent_account_name"], hidden["parent_post_id"]) == (
        None,
        "Private Person",
        None,
    )
    assert quarantine(case_path)[3].startswith("cannot tell the chat")


def test_same_message_in_csv_and_json_is_one_post(case_path):
    csv_file, dump = run(case_path, DIR / "channel.csv", TELEGRAM / "todict_dump.json")
    assert (csv_file.inserted, dump.records, dump.inserted, dump.duplicates) == (2, 3, 1, 2)
    tracker_csv, tracker_json = run(case_path, DIR / "msgs_dataset.csv", TELEGRAM / "metro_news_messages.json")
    assert (tracker_json.inserted, tracker_json.duplicates) == (1, 1)  # message 300 is in both


def test_detection_leaves_other_csv_formats_alone(tmp_path):
    for f in sorted(DIR.glob("*.csv")):
        assert detect_format(f).NAME == "telethon_csv", f
    mod = formats()["telethon_csv"]
    for d in (
        "cnt_csv",
        "coortweet_csv",
        "fourcat_csv",
        "crowdtangle_csv",
        "youtube_tools_csv",
        "x_archive",
        "generic_table",
        "telegram",
        "tiktok",
        "x_v2",
    ):
        for f in sorted((FIXTURES / d).glob("*")):
            if f.is_file():
                assert not mod.sniff(f, f.read_bytes()[:65536]), f
    fourcat_telegram = tmp_path / "telegram-export.csv"
    fourcat_telegram.write_text("id,thread_id,chat,author,body,timestamp,unix_timestamp,views,forwards,date\n")
    assert detect_format(fourcat_telegram).NAME == "fourcat_csv"
    no_marker = tmp_path / "dates.csv"
    no_marker.write_text("id,date,text\n1,2024-01-01T00:00:00Z,hi\n")
    assert not mod.sniff(no_marker, no_marker.read_bytes())


def test_not_a_telethon_csv_when_forced(case_path, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    (r,) = run(case_path, other, fmt="telethon_csv")
    assert (r.records, r.quarantined) == (1, 1)
    assert quarantine(case_path)[None].startswith("not a Telethon scraper CSV: no one of message_id, msg_id, id")


def test_scale_generated(case_path, tmp_path):
    n = 20_000
    data = tmp_path / "1001900000005_messages.csv"
    with open(data, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["message_id", "date", "sender_id", "text", "reply_to_msg_id", "views", "forwards", "fwd_from"])
        for i in range(1, n + 1):
            fwd = (
                f"MessageFwdHeader(from_id=PeerChannel(channel_id={1500000000 + i % 7}), channel_post={i})"
                if i % 5 == 0
                else ""
            )
            w.writerow(
                [
                    i,
                    f"2024-03-01 {i % 24:02d}:{i % 60:02d}:{i % 59:02d}+00:00",
                    -1001900000005,
                    f"post {i} #t{i % 9}\nhttps://example.org/{i % 40}",
                    f"{i - 1}.0" if i % 3 == 0 else "",
                    i,
                    i % 4,
                    fwd,
                ]
            )
    (r,) = run(case_path, data)
    assert (r.format, r.records, r.inserted, r.quarantined) == ("telethon_csv", n, n, 0)
    with Case(case_path, read_only=True) as db:
        kinds = dict(db.con.execute("SELECT kind, count(*) FROM posts GROUP BY 1").fetchall())
        linked = db.con.execute("SELECT count(*) FROM posts WHERE len(urls) = 1 AND len(hashtags) = 1").fetchall()
    forwards = n // 5
    replies = sum(1 for i in range(1, n + 1) if i % 3 == 0 and i % 5)
    assert kinds == {"forward": forwards, "reply": replies, "post": n - forwards - replies}
    assert linked == [(n,)]
