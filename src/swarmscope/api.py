"""The Python API: a case as an object, its tables as Arrow, and the co-action network of any table.

    >>> import swarmscope as ss
    >>> case = ss.open_case("case.duckdb")                      # doctest: +SKIP
    >>> case.ingest("exports/")                                  # doctest: +SKIP
    >>> findings = case.detect()                                 # doctest: +SKIP
    >>> case.campaigns().to_pandas()                             # doctest: +SKIP

Every method returns a plain value: a list of per-file counts, the findings
dict, or a ``pyarrow.Table`` (``.to_pandas()`` with the ``notebook`` extra,
which ``make demo`` installs). Reads open the case read-only, so they work
while ``swarmscope serve`` or another reader holds it; ``ingest``,
``detect`` and ``label`` write, and wait for a writer that holds the case
(``$SWARMSCOPE_LOCK_WAIT`` seconds, then ``CaseBusy`` naming it).

``network()`` takes a path (a case, a CooRTweet or actions table), an Arrow
table or a pandas DataFrame, with the CLI's option names. docs/python-api.md
has runnable examples.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from .config import DetectParams, load_config
from .findings import findings_path, load_findings
from .store import Case as _Store

TABLES = ("posts", "accounts", "actions", "quarantine", "runs")


@dataclass(frozen=True)
class Case:
    """A case file. Create it with ``open_case``; nothing is held open between calls."""

    path: Path

    def __repr__(self) -> str:
        return f"swarmscope.Case({str(self.path)!r})"

    # -- writing -------------------------------------------------------------------------------

    def ingest(
        self,
        *paths: str | Path,
        format: str | None = None,
        column_map: dict[str, str] | None = None,
        platform: str | None = None,
        timezone: str | None = None,
        enrich: bool = True,
        progress: bool = False,
        max_decompressed_bytes: int | None = None,
    ) -> list:
        """Read files or folders into the case (``swarmscope ingest``); returns one count per input
        (records, inserted, duplicates, quarantined, ...). Bad records are quarantined, never dropped.
        Compressed files (.gz, .zst) and .zip archives are read directly (docs/formats.md);
        ``max_decompressed_bytes`` caps what one of them may decompress to (default: 100 times its size,
        at least 256 MiB)."""
        from .ingest import ReadOptions
        from .ingest import ingest as _ingest

        options = ReadOptions(
            column_map=dict(column_map or {}),
            platform=platform,
            timezone=timezone,
            max_decompressed_bytes=max_decompressed_bytes,
        )
        return _ingest(self.path, list(paths), format=format, options=options, progress=progress, enrich=enrich)

    def detect(
        self,
        params: DetectParams | None = None,
        *,
        config: str | Path | None = None,
        watchlist: str | Path | None = None,
        output: str | Path | None = None,
    ) -> dict:
        """Run the whole pipeline (``swarmscope detect``); writes and returns findings.json as a dict."""
        from .pipeline import detect as _detect

        if params is not None and config is not None:
            raise ValueError("give params or config, not both")
        if config is not None:
            params = load_config(config)
        return _detect(self.path, params, watchlist=watchlist, output=output)

    def label(
        self,
        *,
        account: str | None = None,
        campaign: str | None = None,
        label: str,
        note: str = "",
        author: str = "",
    ) -> dict:
        """An analyst's label (``swarmscope label``): ``account="x:123"`` or ``campaign="C3"``,
        ``label`` one of confirmed, dismissed, unsure. Labels are append-only."""
        from .labels import label_case

        if (account is None) == (campaign is None):
            raise ValueError("give account='PLATFORM:ID' or campaign='C3'")
        if account is not None:
            platform, sep, target_id = account.partition(":")
            if not sep or not platform or not target_id:
                raise ValueError(f"account is PLATFORM:ACCOUNT_ID (e.g. x:123), got {account!r}")
            return label_case(
                self.path,
                target_type="account",
                target_id=target_id,
                platform=platform,
                label=label,
                note=note,
                author=author or None,
            )
        return label_case(
            self.path,
            target_type="campaign",
            target_id=campaign,
            platform=None,
            label=label,
            note=note,
            author=author or None,
        )

    # -- reading -------------------------------------------------------------------------------

    def table(self, name: str, where: str | None = None, limit: int | None = None) -> pa.Table:
        """A stored table (posts, accounts, actions, quarantine, runs) as Arrow, optionally filtered by a
        SQL condition you write (it runs on your own case file: never pass text from a post)."""
        if name not in TABLES:
            raise ValueError(f"unknown table {name!r}; tables: {', '.join(TABLES)}")
        sql = f"SELECT * FROM {name}"
        if where:
            sql += f" WHERE {where}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with _Store(self.path, read_only=True) as db:
            return db.con.sql(sql).to_arrow_table()

    def posts(self, where: str | None = None, limit: int | None = None) -> pa.Table:
        return self.table("posts", where, limit)

    def accounts(self, where: str | None = None, limit: int | None = None) -> pa.Table:
        return self.table("accounts", where, limit)

    def actions(self, where: str | None = None, limit: int | None = None) -> pa.Table:
        return self.table("actions", where, limit)

    def sql(self, query: str) -> pa.Table:
        """Any read-only SQL on the case (tables: posts, accounts, actions, quarantine, runs, labels...)."""
        with _Store(self.path, read_only=True) as db:
            return db.con.sql(query).to_arrow_table()

    def findings(self) -> dict:
        """The last detect run's findings.json (FileNotFoundError before the first ``detect``)."""
        return load_findings(self.path)

    def campaigns(self) -> pa.Table:
        """One row per campaign of the last detect run: id, verdict tier and wording, score, core accounts,
        posts, platforms, first and last post (the findings' own figures, the same the report shows)."""
        rows = []
        for c in self.findings()["campaigns"]:
            verdict = c.get("verdict") or {}
            core = [a for a in c.get("accounts", []) if a.get("role", "core") == "core"]
            rows.append(
                {
                    "campaign": c["id"],
                    "tier": verdict.get("tier"),
                    "verdict": verdict.get("label"),
                    "score": c.get("score"),
                    "accounts": len(core),
                    "posts": (c.get("counts") or {}).get("posts"),
                    "platforms": sorted({a.get("platform") for a in core if a.get("platform")}),
                    "first_seen": c.get("first_seen"),
                    "last_seen": c.get("last_seen"),
                }
            )
        return _table(rows, CAMPAIGNS)

    def members(self, campaign: str | None = None) -> pa.Table:
        """(campaign, platform, account_id, handle, role, signals) of every campaign, or of one."""
        rows = []
        for c in self.findings()["campaigns"]:
            if campaign is not None and c["id"] != campaign:
                continue
            for a in c.get("accounts", []):
                rows.append(
                    {
                        "campaign": c["id"],
                        "platform": a.get("platform"),
                        "account_id": a.get("account_id"),
                        "handle": a.get("handle"),
                        "role": a.get("role", "core"),
                        "signals": [str(s) for s in a.get("signals", [])],
                    }
                )
        if campaign is not None and not rows:
            raise KeyError(f"no campaign {campaign!r} in {findings_path(self.path)}")
        return _table(rows, MEMBERS)

    def signals(self, type: str | None = None) -> pa.Table:
        """Every signal of the last detect run: id, type, campaign, summary, test, evidence counts, and the
        figures as JSON text (``json.loads`` them; their keys depend on the type: docs/findings-schema.md)."""
        rows = []
        for s in self.findings()["signals"]:
            if type is not None and s.get("type") != type:
                continue
            rows.append(
                {
                    "signal": s.get("id"),
                    "type": s.get("type"),
                    "campaign": s.get("campaign"),
                    "summary": s.get("summary"),
                    "test": s.get("test"),
                    "evidence_posts": (s.get("evidence") or {}).get("post_count"),
                    "figures": json.dumps(s.get("figures"), ensure_ascii=False, sort_keys=True),
                }
            )
        return _table(rows, SIGNALS)

    def edges(
        self,
        object_types: Sequence[str] = ("repost_of",),
        *,
        time_window: float = 10.0,
        min_participation: int = 2,
        edge_weight: float = 0.5,
        significance: bool = True,
    ) -> pa.Table:
        """The co-action network of this case's actions of ``object_types`` (``network()`` on the case, with
        its CooRTweet defaults; ``detect``'s networks have their own windows, docs/methods)."""
        return network(
            self.path,
            object_types=object_types,
            time_window=time_window,
            min_participation=min_participation,
            edge_weight=edge_weight,
            significance=significance,
        )

    def evaluate(self) -> dict:
        """Precision and recall of the current campaigns against the analysts' labels
        (``swarmscope evaluate``; labels.evaluate). ValueError when the case has no labels."""
        from .labels import evaluate as _evaluate

        findings = self.findings()
        with _Store(self.path, read_only=True) as db:
            return _evaluate(db.con, findings)

    def info(self):
        """Counts, platforms, languages, quarantine reasons and runs (``swarmscope info``)."""
        from .info import info as _info

        return _info(self.path)


def open_case(path: str | Path) -> Case:
    """The case at ``path``; the file is created by the first ``ingest``."""
    return Case(Path(path))


def network(
    source: Any,
    *,
    time_window: float = 10.0,
    min_participation: int = 2,
    edge_weight: float = 0.5,
    object_types: Sequence[str] | None = None,
    significance: bool = True,
    output: str | Path | Iterable[str | Path] = (),
) -> pa.Table:
    """The co-action network (``swarmscope network``) of ``source``: a path (a case, a CooRTweet CSV, an
    actions table in CSV or Parquet), an Arrow table, or a pandas DataFrame with CooRTweet's columns
    (object_id, account_id, content_id, timestamp_share) or swarmscope's actions columns. Returns the edge
    table; ``output`` also writes it (.csv, .parquet, .graphml, .gexf). The defaults are CooRTweet's
    (``detect_groups``: time_window 10 s, min_participation 2, edge_weight 0.5), so a network made here and one
    made there from the same shares compare."""
    from .coaction_network import network as _network

    outputs = [output] if isinstance(output, (str, Path)) else list(output)
    with tempfile.TemporaryDirectory(prefix="swarmscope-network-") as tmp:
        if isinstance(source, (str, Path)):
            path = Path(source)
        else:
            path = Path(tmp) / "actions.parquet"
            _write_parquet(_as_arrow(source), path)
        result = _network(
            path,
            outputs,
            time_window=time_window,
            min_participation=min_participation,
            edge_weight=edge_weight,
            object_types=object_types,
            significance=significance,
        )
        return result.edges


def _as_arrow(data: Any) -> pa.Table:
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatchReader):
        return data.read_all()
    if type(data).__module__.startswith("pandas"):
        return pa.Table.from_pandas(data, preserve_index=False)
    if hasattr(data, "to_arrow_table"):  # a DuckDB relation
        return data.to_arrow_table()
    raise TypeError(f"expected a path, a pyarrow Table or a pandas DataFrame, got {type(data).__name__}")


def _write_parquet(table: pa.Table, path: Path) -> None:
    import pyarrow.parquet as pq

    pq.write_table(table, path)


def _table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema) if rows else schema.empty_table()


CAMPAIGNS = pa.schema(
    [
        ("campaign", pa.string()),
        ("tier", pa.string()),
        ("verdict", pa.string()),
        ("score", pa.float64()),
        ("accounts", pa.int64()),
        ("posts", pa.int64()),
        ("platforms", pa.list_(pa.string())),
        ("first_seen", pa.string()),
        ("last_seen", pa.string()),
    ]
)
MEMBERS = pa.schema(
    [
        ("campaign", pa.string()),
        ("platform", pa.string()),
        ("account_id", pa.string()),
        ("handle", pa.string()),
        ("role", pa.string()),
        ("signals", pa.list_(pa.string())),
    ]
)
SIGNALS = pa.schema(
    [
        ("signal", pa.string()),
        ("type", pa.string()),
        ("campaign", pa.string()),
        ("summary", pa.string()),
        ("test", pa.string()),
        ("evidence_posts", pa.int64()),
        ("figures", pa.string()),
    ]
)
