"""The other writers: Telegram export, TikTok and YouTube API responses, the watchlist.

``_write_telegram`` writes a Telegram Desktop export of the operation's channel
(each wave's text minutes before the X wave; ``date`` in the operators' local
time) and returns its ground truth. ``_write_tiktok`` writes Research API
video-query pages (two 30-day queries for the 42-day window) and
``_write_youtube`` commentThreads pages, both built by DuckDB from the tables
of crossplatform.py. ``_write_watchlist`` writes watchlist.csv.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from .. import store
from .params import ScenarioParams
from .words import _GENUINE
from .world import _iso, _string_bytes

# --------------------------------------------------------------------------
# Telegram
# --------------------------------------------------------------------------


def _write_telegram(path: Path, cpt: dict[str, Any], ids: np.ndarray, p: ScenarioParams, off_s: int) -> dict[str, Any]:
    """A Telegram Desktop export of the operation's channel: each wave's text minutes before the X wave.

    ``date`` is the exporting machine's local time (the operators' zone, as
    Telegram Desktop writes it); ``date_unixtime`` is the UTC instant.
    """
    rng = np.random.default_rng([p.seed, 99])
    channel_id = 1_900_000_000 + int(rng.integers(0, 99_999_999))
    name = "Yaşıl Körpü Xəbərləri"
    msgs: list[tuple[int, str, list[int]]] = []
    for w in cpt["waves"]:  # per wave (hundreds)
        lead = int(rng.integers(120, 900))
        msgs.append((w["start"] - lead, w["canonical"], ids[w["posts"]].astype(str).tolist()))
    b = cpt["burst"]
    msgs.append(
        (
            b["start"] - int(rng.integers(600, 1800)),
            f"Bu gün saat {_local_hm(b['start'], off_s)}-da hamı #{p.burst_hashtag} ilə paylaşım etsin!",
            ids[b["posts"]].astype(str).tolist(),
        )
    )
    msgs.sort(key=lambda m: m[0])
    messages, truth_msgs = [], []
    for i, (t, text, followed) in enumerate(msgs, start=1):
        local = dt.datetime.fromtimestamp(t + off_s, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S")
        ents = _tg_entities(text)
        messages.append(
            {
                "id": i,
                "type": "message",
                "date": local,
                "date_unixtime": str(t),
                "from": name,
                "from_id": f"channel{channel_id}",
                "text": ents[0]["text"]
                if len(ents) == 1 and ents[0]["type"] == "plain"
                else [e["text"] if e["type"] == "plain" else e for e in ents],
                "text_entities": ents,
            }
        )
        truth_msgs.append(
            {
                "message_id": i,
                "post_id": f"{channel_id}/{i}",
                "date_utc": _iso(t),
                "text": text,
                "x_posts_after": followed,
            }
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    export = {"name": name, "type": "public_channel", "id": channel_id, "messages": messages}
    path.write_text(json.dumps(export, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return {
        "channel_id": channel_id,
        "account_id": str(channel_id),
        "from_id": f"channel{channel_id}",
        "name": name,
        "messages": truth_msgs,
    }


def _tg_entities(text: str) -> list[dict[str, str]]:
    """Telegram Desktop's text_entities: plain runs and hashtags, which concatenate to ``text``."""
    pieces = re.split(r"(#\w+)", text)
    return [{"type": "hashtag" if i % 2 else "plain", "text": x} for i, x in enumerate(pieces) if x]


def _local_hm(s: int, off_s: int) -> str:
    return dt.datetime.fromtimestamp(s + off_s, dt.UTC).strftime("%H:%M")


# --------------------------------------------------------------------------
# TikTok
# --------------------------------------------------------------------------


_TT_VIDEO_SQL = """
SELECT s, id, '{"id":' || id || ',"username":' || to_json(username) || ',"create_time":' || s
    || ',"region_code":"' || region || '","video_description":' || to_json(description)
    || ',"hashtag_names":' || to_json(list_transform(hashtags, lambda h: lower(h)))
    || ',"video_mention_list":[],"music_id":' || music_id
    || ',"effect_ids":' || CASE WHEN effect IS NULL THEN '[]' ELSE '["' || effect || '"]' END
    || ',"like_count":' || likes || ',"comment_count":' || comments || ',"share_count":' || shares
    || ',"view_count":' || views || '}' AS j,
    (s - ?) // (30 * 86400) AS query
FROM _tt
"""


def _write_tiktok(path: Path, tt: dict[str, Any], start: int, search_ids: list[str]) -> None:
    """Research API /v2/research/video/query/ responses, one page of 100 videos per line.

    The API takes at most 30 days per query, so a window of 42 days is two
    queries (two search ids), each paged with ``cursor`` and ``has_more``.
    """
    con = store.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("_tt", tt["table"])
    con.execute(f"CREATE TEMP TABLE _v AS {_TT_VIDEO_SQL}", [start])
    lines = con.sql(
        """
        WITH o AS (SELECT *, row_number() OVER (PARTITION BY query ORDER BY s, id) - 1 AS r FROM _v),
        pg AS (SELECT query, r // 100 AS page, string_agg(j, ',' ORDER BY r) AS videos, max(r) + 1 AS upto
               FROM o GROUP BY 1, 2),
        last AS (SELECT query, max(page) AS last_page FROM pg GROUP BY 1)
        SELECT '{"data":{"videos":[' || videos || '],"cursor":' || upto || ',"has_more":'
               || CASE WHEN page < last_page THEN 'true' ELSE 'false' END || ',"search_id":"'
               || list_extract(?, query + 1) || '"},"error":{"code":"ok","message":"","log_id":"'
               || list_extract(?, query + 1) || lpad(page::VARCHAR, 4, '0') || '"}}' || chr(10) AS line
        FROM pg JOIN last USING (query) ORDER BY query, page""",
        params=[search_ids, [x[:16].upper() for x in search_ids]],
    ).to_arrow_table()
    con.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(_string_bytes(lines["line"].combine_chunks()))


# --------------------------------------------------------------------------
# YouTube
# --------------------------------------------------------------------------


_YT_SQL = """
WITH c AS (
    SELECT *, strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS at,
        '{"kind":"youtube#comment","etag":"' || md5(cid) || '","id":"' || cid || '","snippet":{"channelId":"'
        || vchan || '","videoId":"' || vid || '","textDisplay":' || to_json(replace(replace(replace(replace(
            replace(text, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;'))
        || ',"textOriginal":' || to_json(text)
        || CASE WHEN is_reply THEN ',"parentId":"' || thread || '"' ELSE '' END
        || ',"authorDisplayName":' || to_json('@' || handle)
        || ',"authorProfileImageUrl":"https://yt3.ggpht.com/ytc/' || img || '=s48-c-k-c0x00ffffff-no-rj"'
        || ',"authorChannelUrl":' || to_json('http://www.youtube.com/@' || handle)
        || ',"authorChannelId":{"value":"' || chan || '"},"canRate":true,"viewerRating":"none","likeCount":'
        || likes || ',"publishedAt":"' || strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ')
        || '","updatedAt":"' || strftime(to_timestamp(s) AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') || '"}}' AS j
    FROM _yc
), r AS (
    SELECT thread, count(*) AS n, string_agg(j, ',' ORDER BY s, cid) AS js FROM c WHERE is_reply GROUP BY 1
), t AS (
    SELECT c.vorder, c.s, c.cid,
        '{"kind":"youtube#commentThread","etag":"' || md5('t' || c.cid) || '","id":"' || c.cid
        || '","snippet":{"channelId":"' || c.vchan || '","videoId":"' || c.vid || '","topLevelComment":' || c.j
        || ',"canReply":true,"totalReplyCount":' || coalesce(r.n, 0) || ',"isPublic":true}'
        || CASE WHEN r.n > 0 THEN ',"replies":{"comments":[' || r.js || ']}' ELSE '' END || '}' AS j
    FROM c LEFT JOIN r ON r.thread = c.cid WHERE NOT c.is_reply
), o AS (
    SELECT *, row_number() OVER (PARTITION BY vorder ORDER BY s DESC, cid) - 1 AS r,
           count(*) OVER (PARTITION BY vorder) AS threads FROM t
), pg AS (
    SELECT vorder, r // 20 AS page, any_value(threads) AS threads, string_agg(j, ',' ORDER BY r) AS items,
           count(*) AS n FROM o GROUP BY 1, 2
)
SELECT '{"kind":"youtube#commentThreadListResponse","etag":"' || md5(vorder || '/' || page)
       || CASE WHEN (page + 1) * 20 < threads THEN '","nextPageToken":"' || md5('next' || vorder || '/' || page)
          ELSE '' END
       || '","pageInfo":{"totalResults":' || n || ',"resultsPerPage":20},"items":[' || items || ']}' || chr(10)
       AS line
FROM pg ORDER BY vorder, page
"""


def _write_youtube(path: Path, yt: dict[str, Any]) -> None:
    """commentThreads.list responses (part=snippet,replies, order=time): per video, pages of 20 threads per line.

    20 is the API's default ``maxResults``; it also keeps each line well under
    the 64 KiB the JSON importers read to tell JSON lines from one document.
    """
    con = store.connect()
    con.execute("SET enable_progress_bar = false")
    con.register("_yc", yt["table"])
    lines = con.sql(_YT_SQL).to_arrow_table()
    con.close()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(_string_bytes(lines["line"].combine_chunks()))


# --------------------------------------------------------------------------
# Watchlist
# --------------------------------------------------------------------------


def _write_watchlist(path: Path) -> None:
    """watchlist.csv (``name,handle,platform``): the genuine entities the impersonators imitate."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["name", "handle", "platform"])
        for h, name, *_ in _GENUINE:
            w.writerow([name, h, "x"])
