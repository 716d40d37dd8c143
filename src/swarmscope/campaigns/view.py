"""What every kind of campaign evidence reads, and what it gives back.

- ``CaseView``: the whole case as the evidence modules see it, built once
  per detection run: the posts and their normalised texts, the accounts, the
  whole-case signals (population references), the significant multiplex
  network, the per-network edges, and a DuckDB connection on which the
  tables ``posts``, ``accounts`` and ``actions`` can be queried.
- ``Members``: one cluster's accounts and their posts.
- ``Evidence``: what one module adds to a campaign: score parts, sentences
  of the explanation (each citing signal ids), the signal ids and which
  accounts each signal names.

Evidence modules are functions ``(view, members, log, params) -> Evidence``.
They read only what they are given and write only signals into ``log``
(findings.SignalLog), so each can be tested on small tables.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..signals import SignalsResult
from .params import CampaignParams

Account = tuple[str, str]  # (platform, account_id)


@dataclass
class CaseView:
    """The case, read once per run; the evidence modules never read the store themselves."""

    con: duckdb.DuckDBPyConnection  # with tables posts, accounts, actions
    posts: pa.Table  # signals.POST_COLUMNS + lang
    norm: pa.ChunkedArray | pa.Array  # normalised text of each post
    accounts: pa.Table
    whole: SignalsResult  # signals on the whole case
    networks: dict[str, dict]  # name -> {actions, edges, significant, prepared, sig_edges, spec}
    multiplex: pa.Table | None  # significant edges of all networks, one row per account pair
    params: Any  # config.DetectParams (significance and signal parameters are cited in tests)
    by_account: AccountRows = field(init=False)  # .get((platform, account_id)) -> the account's row
    post_key: pa.ChunkedArray = field(init=False)

    def __post_init__(self) -> None:
        self.by_account = AccountRows(self.accounts)
        self.post_key = pc.binary_join_element_wise(self.posts["platform"], self.posts["account_id"], "\x1f")

    @property
    def campaign_params(self) -> CampaignParams:
        return self.params.campaigns

    def members(self, accounts: list[Account]) -> Members:
        """The cluster ``accounts`` with their posts (in the case's post order)."""
        self.by_account.fetch(accounts)  # their rows in one pass, for the modules' lookups
        keys = pa.array([f"{p}\x1f{a}" for p, a in accounts], pa.string())
        mask = pc.is_in(self.post_key, value_set=keys)
        norm = self.norm if isinstance(self.norm, pa.ChunkedArray) else pa.chunked_array([self.norm])
        return Members(accounts, set(accounts), self.posts.filter(mask), norm.filter(mask))


class AccountRows:
    """The accounts' rows as dicts, looked up by (platform, account_id), made on demand.

    A dict of every account was about 1.3 GiB and 6 s at 10M posts (1.0M accounts), for the few hundred
    accounts the campaigns name. ``fetch`` reads a cluster's rows in one pass over the accounts;
    ``get`` reads a single one it was not given (a pass of its own)."""

    def __init__(self, accounts: pa.Table) -> None:
        self._table = accounts
        self._key = pc.binary_join_element_wise(accounts["platform"], accounts["account_id"], "\x1f")
        self._rows: dict[Account, dict | None] = {}

    def fetch(self, keys) -> None:
        want = list(dict.fromkeys(k for k in keys if k not in self._rows))
        if not want:
            return
        value_set = pa.array([f"{p}\x1f{a}" for p, a in want], pa.string())
        for row in self._table.filter(pc.is_in(self._key, value_set=value_set)).to_pylist():
            self._rows[(row["platform"], row["account_id"])] = row  # a repeated account: the last row, as before
        for k in want:
            self._rows.setdefault(k, None)

    def get(self, key: Account, default: Any = None) -> Any:
        if key not in self._rows:
            self.fetch([key])
        row = self._rows[key]
        return default if row is None else row


@dataclass
class Members:
    accounts: list[Account]
    account_set: set[Account]
    posts: pa.Table
    norm: pa.ChunkedArray

    def table(self) -> pa.Table:
        """(platform, account_id) of every member, to join in SQL."""
        return pa.table({"platform": [m[0] for m in self.accounts], "account_id": [m[1] for m in self.accounts]})


@dataclass
class Evidence:
    """One module's contribution to a campaign, merged by the assembler in a fixed order."""

    parts: dict[str, float] = field(default_factory=dict)
    sentences: list[dict] = field(default_factory=list)
    signal_ids: list[str] = field(default_factory=list)
    account_signals: dict[Account, list[str]] = field(default_factory=dict)

    def cite(self, sid: str, text: str | None = None, accounts: list[Account] | tuple = ()) -> None:
        """Record signal ``sid``: a sentence citing it (if ``text``), and the accounts it names."""
        self.signal_ids.append(sid)
        if text is not None:
            self.sentences.append({"text": text, "evidence": [sid]})
        for a in accounts:
            self.account_signals.setdefault(a, []).append(sid)

    def say(self, text: str) -> None:
        """A sentence that cites no signal."""
        self.sentences.append({"text": text, "evidence": []})

    def extend(self, other: Evidence) -> None:
        self.parts.update(other.parts)
        self.sentences += other.sentences
        self.signal_ids += other.signal_ids
        for a, sids in other.account_signals.items():
            self.account_signals.setdefault(a, []).extend(sids)
