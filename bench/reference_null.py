"""Derive the shipped reference null for reposts from real organic retweet cascades.

    .venv/bin/python bench/reference_null.py     # writes src/swarmscope/data/reference_repost_null.json

Source: ../shared/data/organic_cascades (Twitter15, Ma, Gao & Wong 2017:
1,490 real retweet cascades of news and rumours, 2012-2015; see its README).
Only an aggregate is shipped: for each time window w, the probability that
two retweets drawn from the pooled delay profile (each retweet's delay after
the first share of its object, every cascade weighted equally, exactly as
significance.pooled_delay_probability pools a case's own delays) fall within
w of each other. The raw data stay in shared/.

significance.py uses the table as the ``reference`` null: for reposts in a
case that has no organic background of its own (a takedown archive, a pull
dominated by one network), where the case's own pooled delays would be the
suspects' rush.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from swarmscope.detect.significance import pooled_delay_probability

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent.parent / "shared" / "data" / "organic_cascades" / "twitter15_x_v2.jsonl.gz"
OUT = HERE.parent / "src" / "swarmscope" / "data" / "reference_repost_null.json"
WINDOWS = (1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)
US = 1_000_000


def retweet_times(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(object code, time in microseconds) of every retweet, from the X v2 pages."""
    objects, times = [], []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            page = json.loads(line)
            tweets = page.get("data") or []
            tweets = tweets if isinstance(tweets, list) else [tweets]
            for t in tweets:
                for ref in t.get("referenced_tweets") or []:
                    if ref.get("type") == "retweeted":
                        objects.append(ref["id"])
                        times.append(t["created_at"])
    ts = pc.cast(pc.strptime(pa.array(times), "%Y-%m-%dT%H:%M:%S.000Z", "us"), pa.int64()).to_numpy()
    codes = pa.array(objects).dictionary_encode().indices.to_numpy().astype(np.int64)
    return codes, ts


def table(codes: np.ndarray, ts: np.ndarray) -> list[list[float]]:
    order = np.lexsort((ts, codes))
    codes, ts = codes[order], ts[order]
    starts = np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]])
    seg_start = np.r_[starts, len(codes)]
    seg = np.repeat(np.arange(len(starts)), np.diff(seg_start))
    typ = np.zeros(len(codes), np.int64)
    rows = []
    for w in WINDOWS:
        p = pooled_delay_probability(seg, seg_start, ts, typ, w * US)
        rows.append([w, float(p[0]) if len(p) else 1.0])
    return rows


def main() -> None:
    codes, ts = retweet_times(SOURCE)
    rows = table(codes, ts)
    sizes = np.bincount(codes)
    doc = {
        "what": "probability that two retweets drawn from real organic cascades' pooled delays (each cascade "
        "weighted equally) fall within w seconds of each other",
        "source": "Twitter15 (Ma, Gao & Wong 2017, ACL): ../shared/data/organic_cascades, "
        "twitter15_x_v2.jsonl.gz, sha256 " + hashlib.sha256(SOURCE.read_bytes()).hexdigest(),
        "made_by": "bench/reference_null.py",
        "retweets": int(len(ts)),
        "cascades": int((sizes > 1).sum()),
        "window_seconds_probability": rows,
    }
    OUT.write_text(json.dumps(doc, indent=1) + "\n")
    for w, p in rows:
        print(f"{w:>7} s  {p:.6f}")
    print(OUT)


if __name__ == "__main__":
    main()
