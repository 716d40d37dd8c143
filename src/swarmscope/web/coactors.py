"""An account's strongest co-actors, answered from an in-memory index of the network actions.

A co-actor shared one of the account's objects (a reposted post, a text, a
near-duplicate cluster, a URL, a sound: the object types of the detection
networks) within that network's time window. Joining the account's actions
to the whole actions table in SQL costs two scans of it per page (about a
second on a 1M-post case on two cores); here the network actions are sorted
once by (object, time), and each of the account's actions finds the other
uses within its window by binary search. The work per page is then the
number of pairs found, not the size of the case. The index is built once per
version of the findings (a detection run rewrites the near-duplicate
actions), in numpy arrays: about 40 bytes per network action.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

TIME_BITS = 34  # seconds since the case's first action: 544 years fit
TOP, EXAMPLES = 20, 5


@dataclass
class CoactorIndex:
    accounts: pa.Array  # account code -> "platform\x1faccount_id"
    objects: pa.Array  # object code -> "object_type\x1fobject_id"
    post_ids: pa.Array  # row -> post_id (rows in (object, time) order)
    key: np.ndarray  # row -> object code << TIME_BITS | whole seconds (sorted)
    t: np.ndarray  # row -> seconds (float, exact)
    acc: np.ndarray  # row -> account code
    obj: np.ndarray  # row -> object code
    window: np.ndarray  # row -> the network's window in seconds
    by_account: np.ndarray  # rows grouped by account code
    account_start: np.ndarray  # account code -> first position in by_account (length accounts + 1)
    account_code: dict[tuple[str, str], int]
    t0: float  # the first action's time: ``key`` counts seconds from it

    @classmethod
    def build(cls, con: duckdb.DuckDBPyConnection, windows: dict[str, float]) -> CoactorIndex:
        table = con.sql(
            "SELECT platform, account_id, post_id, epoch(created_at) AS t, object_type, object_id FROM actions "
            "WHERE list_contains($types, object_type) AND created_at IS NOT NULL",
            params={"types": list(windows)},
        ).to_arrow_table()
        acc_enc = (
            pc.binary_join_element_wise(table["platform"], table["account_id"], "\x1f")
            .combine_chunks()
            .dictionary_encode()
        )
        obj_enc = (
            pc.binary_join_element_wise(table["object_type"], table["object_id"], "\x1f")
            .combine_chunks()
            .dictionary_encode()
        )
        acc = acc_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        obj = obj_enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        t = table["t"].to_numpy().astype(np.float64)
        types = table["object_type"].combine_chunks().dictionary_encode()
        type_window = np.array([float(windows[v]) for v in types.dictionary.to_pylist()], dtype=np.float64)
        window = type_window[types.indices.to_numpy(zero_copy_only=False)] if len(t) else np.zeros(0)
        t0 = float(t.min()) if len(t) else 0.0
        whole = np.floor(t - t0).astype(np.int64)
        key = (obj << TIME_BITS) | whole
        order = np.argsort(key, kind="stable")
        acc, obj, t, window, key = acc[order], obj[order], t[order], window[order], key[order]
        by_account = np.argsort(acc, kind="stable")
        n_acc = len(acc_enc.dictionary)
        account_start = np.searchsorted(acc[by_account], np.arange(n_acc + 1))
        names = acc_enc.dictionary.to_pylist()
        index = cls(
            accounts=acc_enc.dictionary,
            objects=obj_enc.dictionary,
            post_ids=table["post_id"].combine_chunks().take(pa.array(order)),
            key=key,
            t=t,
            acc=acc,
            obj=obj,
            window=window,
            by_account=by_account,
            account_start=account_start,
            account_code={tuple(n.split("\x1f", 1)): i for i, n in enumerate(names)},
            t0=t0,
        )
        return index

    def coactors(self, platform: str, account_id: str) -> list[dict]:
        """The TOP accounts sharing the most of this account's objects within the window, with examples."""
        code = self.account_code.get((platform, account_id))
        if code is None:
            return []
        mine = self.by_account[self.account_start[code] : self.account_start[code + 1]]
        if not len(mine):
            return []
        o, tt, w = self.obj[mine], self.t[mine], self.window[mine]
        base = o << TIME_BITS
        lo_s = np.clip(np.floor(tt - self.t0 - w) - 1, 0, None).astype(np.int64)
        hi_s = (np.floor(tt - self.t0 + w) + 1).astype(np.int64)
        lo = np.searchsorted(self.key, base | lo_s, side="left")
        hi = np.searchsorted(self.key, base | hi_s, side="right")
        counts = hi - lo
        total = int(counts.sum())
        if not total:
            return []
        src = np.repeat(np.arange(len(mine)), counts)
        cand = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(lo, counts)
        gap = np.abs(self.t[cand] - tt[src])
        keep = (self.acc[cand] != code) & (self.obj[cand] == o[src]) & (gap <= w[src])
        src, cand, gap = src[keep], cand[keep], gap[keep]
        if not len(cand):
            return []
        other = self.acc[cand]
        # the closest pair per (co-actor, object)
        order = np.lexsort((cand, mine[src], gap, self.obj[cand], other))
        src, cand, gap, other = src[order], cand[order], gap[order], other[order]
        pair = other.astype(np.int64) * (int(self.obj.max()) + 1) + self.obj[cand]
        first = np.r_[True, pair[1:] != pair[:-1]]
        src, cand, gap, other = src[first], cand[first], gap[first], other[first]
        # per co-actor: objects shared and the median gap (gaps sorted within each co-actor)
        order = np.lexsort((gap, other))
        src, cand, gap, other = src[order], cand[order], gap[order], other[order]
        starts = np.flatnonzero(np.r_[True, other[1:] != other[:-1]])
        sizes = np.diff(np.r_[starts, len(other)])
        medians = (gap[starts + (sizes - 1) // 2] + gap[starts + sizes // 2]) / 2
        names = self.accounts.take(pa.array(other[starts])).to_pylist()
        ranked = sorted(range(len(starts)), key=lambda i: (-sizes[i], medians[i], names[i]))[:TOP]
        out = []
        for i in ranked:
            p, a = names[i].split("\x1f", 1)
            s, n = starts[i], min(int(sizes[i]), EXAMPLES)
            ex_src, ex_cand = src[s : s + n], cand[s : s + n]
            objs = self.objects.take(pa.array(self.obj[ex_cand])).to_pylist()
            mine_posts = self.post_ids.take(pa.array(mine[ex_src])).to_pylist()
            other_posts = self.post_ids.take(pa.array(ex_cand)).to_pylist()
            examples = []
            for j in range(n):
                ot, oid = objs[j].split("\x1f", 1)
                examples.append(
                    {
                        "object_type": ot,
                        "object_id": oid,
                        "post_id": mine_posts[j],
                        "other_post_id": other_posts[j],
                        "gap_seconds": float(gap[s + j]),
                    }
                )
            out.append(
                {
                    "platform": p,
                    "account_id": a,
                    "shared": int(sizes[i]),
                    "median_gap_seconds": float(medians[i]),
                    "examples": examples,
                }
            )
        return out


class CoactorIndexes:
    """One index per findings version, built on first use (or ahead, by ``warm``), one build at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: object = None
        self._index: CoactorIndex | None = None

    def get(
        self,
        key: object,
        con_factory: Callable[[], AbstractContextManager[duckdb.DuckDBPyConnection]],
        windows: dict[str, float],
    ) -> CoactorIndex:
        index = self._index
        if index is not None and self._key == key:
            return index
        with self._lock:
            if self._index is None or self._key != key:
                with con_factory() as con:
                    self._index = CoactorIndex.build(con, windows)
                self._key = key
            return self._index
