"""Ingest benchmark for the platform importers: posts per second and peak memory per format.

    python bench/ingest_platforms.py [--records 200000] [--no-write] [--formats telethon_json,telethon_csv]

Generates ``--records`` records per format (bench/out, reused when present),
then ingests each file in a fresh process without enrichment (parse,
validate, store, dedupe, plus the TikTok sound/effect actions). Figures go to
the ``ingest_platforms`` section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, fresh_case, machine, run_child, table, write_section

T0 = 1_700_000_000


def _pages(path: Path, n: int, per_page: int, page: Callable[[list], dict], item: Callable[[int], dict]) -> None:
    with open(path, "w") as fh:
        for start in range(0, n, per_page):
            fh.write(json.dumps(page([item(i) for i in range(start, min(n, start + per_page))])) + "\n")


def gen_tiktok(path: Path, n: int) -> None:
    _pages(
        path,
        n,
        100,
        lambda v: {"data": {"videos": v, "cursor": 0, "has_more": True}},
        lambda i: {
            "id": 7_000_000_000_000_000_000 + i,
            "video_description": f"video {i} #tag{i % 50} @u{i % 97}",
            "create_time": T0 + i,
            "username": f"user{i % 5000}",
            "hashtag_names": [f"tag{i % 50}"],
            "video_mention_list": [f"u{i % 97}"],
            "music_id": 10_000 + i % 3000,
            "effect_ids": [str(i % 7)],
            "like_count": i % 13,
            "share_count": 1,
            "comment_count": 2,
            "view_count": i,
        },
    )


def gen_zeeschuimer(path: Path, n: int) -> None:
    with open(path, "w") as fh:
        for i in range(n):
            item = {
                "id": str(7_000_000 + i),
                "desc": f"v {i} #t{i % 9}",
                "createTime": T0 + i,
                "author": {"id": str(i % 5000), "uniqueId": f"t{i % 5000}", "nickname": f"T {i % 5000}"},
                "authorStats": {"followerCount": i % 1000},
                "stats": {"diggCount": i % 7, "playCount": i},
                "music": {"id": str(i % 3000)},
                "challenges": [{"title": f"t{i % 9}"}],
                "duetInfo": {"duetFromId": "0"},
            }
            fh.write(
                json.dumps(
                    {
                        "id": i,
                        "item_id": item["id"],
                        "timestamp_collected": (T0 + n) * 1000,
                        "source_platform": "tiktok.com",
                        "data": item,
                    }
                )
                + "\n"
            )


def gen_youtube(path: Path, n: int) -> None:
    def thread(i: int) -> dict:
        top = {
            "kind": "youtube#comment",
            "id": f"c{i}",
            "snippet": {
                "authorDisplayName": f"@a{i % 5000}",
                "authorChannelId": {"value": f"UC{i % 5000}"},
                "videoId": f"v{i % 300}",
                "textOriginal": f"comment {i} #t{i % 9}",
                "likeCount": i % 5,
                "publishedAt": "2024-03-01T10:00:00Z",
            },
        }
        return {
            "kind": "youtube#commentThread",
            "id": f"t{i}",
            "snippet": {"videoId": f"v{i % 300}", "channelId": "UCowner", "totalReplyCount": 0, "topLevelComment": top},
        }

    _pages(path, n, 100, lambda items: {"kind": "youtube#commentThreadListResponse", "items": items}, thread)


def gen_youtube_tools(path: Path, n: int) -> None:
    with open(path, "w") as fh:
        fh.write("id\treplyCount\tlikeCount\tpublishedAt\tauthorName\ttext\tauthorChannelId\tisReply\tisReplyTo\n")
        for i in range(n):
            reply = i % 2
            fh.write(
                f"c{i}\t0\t{i % 5}\t2024-03-01T10:00:00Z\tname{i % 5000}\tcomment {i} #t{i % 9}\tUC{i % 5000}\t"
                f"{reply}\t{f'c{i - 1}' if reply else ''}\n"
            )


def gen_bluesky(path: Path, n: int) -> None:
    def post(i: int) -> dict:
        text = f"#t{i % 9} post {i} https://example.com/{i % 100}"
        return {
            "uri": f"at://did:plc:u{i % 5000}/app.bsky.feed.post/p{i}",
            "cid": "c",
            "author": {"did": f"did:plc:u{i % 5000}", "handle": f"u{i % 5000}.bsky.social"},
            "record": {
                "$type": "app.bsky.feed.post",
                "text": text,
                "createdAt": "2024-03-01T10:00:00.000Z",
                "langs": ["en"],
                "facets": [
                    {
                        "index": {"byteStart": 0, "byteEnd": 3},
                        "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": f"t{i % 9}"}],
                    }
                ],
            },
            "likeCount": i % 5,
            "repostCount": 0,
            "replyCount": 0,
            "quoteCount": 0,
            "indexedAt": "2024-03-01T10:00:01.000Z",
        }

    _pages(path, n, 100, lambda posts: {"posts": posts, "cursor": "x"}, post)


def gen_vk(path: Path, n: int) -> None:
    _pages(
        path,
        n,
        100,
        lambda items: {"response": {"count": n, "items": items}},
        lambda i: {
            "id": i,
            "owner_id": -(i % 5000) - 1,
            "from_id": -(i % 5000) - 1,
            "date": T0 + i,
            "text": "" if i % 3 else f"post {i} #t{i % 9}",
            "copy_history": [{"id": 1, "owner_id": -1, "from_id": -1}] if i % 3 else [],
            "likes": {"count": i % 7},
            "reposts": {"count": 0},
            "views": {"count": i},
        },
    )


def gen_crowdtangle(path: Path, n: int) -> None:
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "Page Name",
                "User Name",
                "Facebook Id",
                "Followers at Posting",
                "Post Created",
                "Type",
                "Likes",
                "Comments",
                "Shares",
                "URL",
                "Message",
                "Link",
            ]
        )
        for i in range(n):
            w.writerow(
                [
                    f"Page {i % 5000}",
                    f"page{i % 5000}",
                    str(1000 + i % 5000),
                    "100",
                    f"2021-01-05 {i % 24:02d}:{i % 60:02d}:00 EST",
                    "Link",
                    str(i % 9),
                    "1",
                    "2",
                    f"https://www.facebook.com/{1000 + i % 5000}/posts/{i}",
                    f"msg {i} #t{i % 3}",
                    f"https://news.example/{i % 50}",
                ]
            )


def gen_telethon_json(path: Path, n: int) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            lead = "🔥" * (i % 3)  # astral characters shift Telegram's UTF-16 entity offsets
            text = f"{lead}news {i} #t{i % 50} example.org/{i % 100}"
            tag_at = (len(lead.encode("utf-16-le")) // 2) + len(f"news {i} ")
            url_at = tag_at + len(f"#t{i % 50} ")
            fh.write(
                json.dumps(
                    {
                        "_": "Message",
                        "id": i + 1,
                        "peer_id": {"_": "PeerChannel", "channel_id": 1_900_000_000 + i % 500},
                        "date": "2024-03-01 10:00:00+00:00",
                        "message": text,
                        "from_id": None,
                        "reply_to": None,
                        "views": i,
                        "forwards": i % 9,
                        "fwd_from": None
                        if i % 4
                        else {
                            "_": "MessageFwdHeader",
                            "channel_post": i,
                            "from_id": {"_": "PeerChannel", "channel_id": 1_500_000_001},
                        },
                        "entities": [
                            {"_": "MessageEntityHashtag", "offset": tag_at, "length": len(f"#t{i % 50}")},
                            {"_": "MessageEntityUrl", "offset": url_at, "length": len(f"example.org/{i % 100}")},
                        ],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )


def gen_telethon_csv(path: Path, n: int) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(
            [
                "channel_id",
                "msg_id",
                "message",
                "date",
                "msg_from_id",
                "views",
                "number_replies",
                "number_forwards",
                "is_forward",
                "forward_msg_from_peer_id",
                "forward_msg_link",
                "is_reply",
                "reply_to_msg_id",
                "url",
            ]
        )
        for i in range(n):
            fwd = i % 4 == 0
            w.writerow(
                [
                    1_900_000_000 + i % 500,
                    i + 1,
                    f"news {i} #t{i % 50}\nhttps://example.org/{i % 100}",
                    f"2024-03-01 {i % 24:02d}:{i % 60:02d}:00",
                    "",
                    i,
                    0,
                    i % 9,
                    int(fwd),
                    1_500_000_001 if fwd else "",
                    f"https://t.me/wire/{i}" if fwd else "",
                    int(i % 7 == 0),
                    i if i % 7 == 0 else "",
                    f"https://example.org/{i % 100}",
                ]
            )


FORMATS: dict[str, tuple[str, Callable[[Path, int], None], str]] = {
    "tiktok": ("jsonl", gen_tiktok, "Research API video pages, 100 per line"),
    "zeeschuimer": ("ndjson", gen_zeeschuimer, "TikTok item captures, one per line"),
    "youtube": ("jsonl", gen_youtube, "commentThreads pages, 100 per line"),
    "youtube_tools_csv": ("tab", gen_youtube_tools, "comments table (tab-separated)"),
    "bluesky": ("jsonl", gen_bluesky, "searchPosts pages, 100 per line"),
    "vk": ("jsonl", gen_vk, "wall.get responses, 100 per line"),
    "crowdtangle_csv": ("csv", gen_crowdtangle, "Facebook pages CSV"),
    "telethon_json": ("jsonl", gen_telethon_json, "Message.to_dict() lines with entities"),
    "telethon_csv": ("csv", gen_telethon_csv, "telegram-tracker msgs_dataset layout"),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument(
        "--formats", default=",".join(FORMATS), help="comma-separated subset to run (a subset is never written to docs)"
    )
    args = ap.parse_args()
    chosen = [f.strip() for f in args.formats.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown:
        ap.error(f"unknown format(s) {', '.join(unknown)}; choose from {', '.join(FORMATS)}")
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for fmt in chosen:
        ext, gen, what = FORMATS[fmt]
        data = OUT / f"platform_{fmt}_{args.records}.{ext}"
        if not data.exists():
            print(f"generating {args.records:,} {fmt} records -> {data}", flush=True)
            gen(data, args.records)
        case = fresh_case("bench_platforms.duckdb")
        code = (
            "import swarmscope.ingest as reg\n"
            f"reg._MODULES = tuple(dict.fromkeys(reg._MODULES + ({fmt!r},)))\n"
            f"r = reg.ingest({str(case)!r}, [{str(data)!r}], format={fmt!r}, progress=False, enrich=False)[0]\n"
            "assert r.balanced and r.quarantined == 0, r\n"
            "print(r.inserted)\n"
        )
        seconds, peak, out = run_child(code)
        n = int(out.split()[-1])
        size = data.stat().st_size / 2**20
        rows.append([fmt, what, f"{n:,}", f"{size:,.0f}", f"{seconds:,.1f}", f"{n / seconds:,.0f}", f"{peak:,.0f}"])
        print(rows[-1], flush=True)
    md = (
        "## Ingest, platform formats (bench/ingest_platforms.py)\n\n"
        f"Machine: {machine()}.\n\n"
        f"Input: {args.records:,} generated records per format. Whole `ingest` (format forced, no enrichment) in a "
        "fresh process, sha256 of the input included. Peak RSS is the highest of the child processes so far "
        "(ru_maxrss), so it never falls from one row to the next.\n\n"
        + table(["format", "input", "posts", "input MiB", "seconds", "posts/s", "peak RSS MiB"], rows)
        + "\n"
    )
    if not args.no_write and len(chosen) == len(FORMATS):
        write_section("ingest_platforms", md)
    print(md)


if __name__ == "__main__":
    main()
