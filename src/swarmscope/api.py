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

Each CLI command calls exactly one operation here (tests/test_cli_conventions.py).

Why this module is long: it is the whole public surface in one place, one
short delegating method per command and per table; split, a reader would
hunt for the API across files.
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
from .labels import LABELS
from .store import Case as _Store

TABLES = ("posts", "accounts", "actions", "quarantine", "runs")
__all__ = ["LABELS", "TABLES", "Case", "Ingested", "build_network", "formats", "network", "open_case", "run_demo"]
_ERRORS = {"IngestError": "swarmscope.ingest.base", "CaseBusy": "swarmscope.duck"}


def __getattr__(name: str) -> Any:
    """The errors callers catch (``IngestError``: an input that cannot be read at all; ``CaseBusy``: a
    case another process is writing), imported when first asked for."""
    if name in _ERRORS:
        from importlib import import_module

        return getattr(import_module(_ERRORS[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
        The list's ``errors`` name inputs of which nothing usable was read (the CLI exits 1 on them),
        its ``warnings`` entries skipped in a folder that was read.
        Compressed files (.gz, .zst) and .zip archives are read directly (docs/formats.md);
        ``max_decompressed_bytes`` caps what one of them may decompress to (default: 100 times its size,
        at least 256 MiB)."""
        from .ingest import ReadOptions, explain
        from .ingest import ingest as _ingest

        options = ReadOptions(
            column_map=dict(column_map or {}),
            platform=platform,
            timezone=timezone,
            max_decompressed_bytes=max_decompressed_bytes,
        )
        results = _ingest(self.path, list(paths), format=format, options=options, progress=progress, enrich=enrich)
        errors, warnings = explain(results, self.path, named=list(paths))
        return Ingested(results, errors=errors, warnings=warnings)

    def detect(
        self,
        params: DetectParams | None = None,
        *,
        config: str | Path | None = None,
        watchlist: str | Path | None = None,
        output: str | Path | None = None,
        translations: bool | None = None,
        engine: str = "duckdb",
        master: str | None = None,
        progress: bool = False,
    ) -> dict:
        """Run the whole pipeline (``swarmscope detect``); writes and returns findings.json as a dict.

        ``translations=False`` turns cross-lingual clusters off (as ``translations = false`` in a
        config file). ``engine="spark"`` runs the co-action pairing on Apache Spark at ``master``
        (default ``local[*]``; the ``spark`` extra, docs/spark.md); the findings are the same.
        ``progress``: a bar over the steps on stderr, when it is a terminal."""
        from dataclasses import replace

        from .pipeline import detect as _detect
        from .progress import step_bar

        if params is not None and config is not None:
            raise ValueError("give params or config, not both")
        if config is not None:
            params = load_config(config)
        if translations is not None:
            params = replace(params or DetectParams(), translations=translations)
        with step_bar("detect", enabled=progress) as bar:
            return _detect(
                self.path, params, watchlist=watchlist, output=output, engine=engine, master=master, progress=bar
            )

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
            raise ValueError("give account='PLATFORM:ID' or campaign='C3' (one of them)")
        if account is not None:
            platform, target_id = _account(account)
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

    def labels(self, *, account: str | None = None, campaign: str | None = None) -> list[dict]:
        """The current labels, newest first (``swarmscope label --list``); with ``account="x:123"`` or
        ``campaign="C3"``, that target's whole history. Read-only: works beside ``swarmscope serve``."""
        from .labels import case_labels

        if account is not None and campaign is not None:
            raise ValueError("give account='PLATFORM:ID' or campaign='C3', not both")
        if account is not None:
            platform, target_id = _account(account)
            return case_labels(self.path, "account", target_id, platform)
        if campaign is not None:
            return case_labels(self.path, "campaign", campaign)
        return case_labels(self.path)

    def duplicates(
        self,
        *,
        threshold: float = 0.8,
        output: str | Path | None = None,
        media_dir: str | Path | None = None,
        max_image_distance: int = 8,
        embedding_model: str | Path | None = None,
        translations: bool = True,
    ) -> pa.Table:
        """Copy-paste, near-duplicate and translated texts and reused images (``swarmscope duplicates``):
        one row per cluster, stored in the case as actions for the networks; ``output`` also writes the
        clusters as CSV. The schema metadata ``swarmscope.counts`` holds the run's figures (JSON)."""
        from .duplicates import duplicates as _duplicates

        self._exists()
        return _duplicates(
            self.path,
            threshold=threshold,
            output=output,
            media_dir=media_dir,
            max_image_distance=max_image_distance,
            embedding_model=embedding_model,
            translations=translations,
        )

    def behaviour(
        self,
        *,
        group: Sequence[str] | str | Path | None = None,
        watchlist: str | Path | None = None,
        utc_offset: float | None = None,
    ):
        """Every behavioural signal on the case, or on a group of its accounts (``swarmscope signals``):
        bursts, runs, cadence, rhythm and holidays, account patterns, impersonation with a ``watchlist``.
        ``group``: account ids, or a file of them. Returns a ``signals.SignalsResult``; unlike
        ``signals()``, it needs no detect run."""
        from .signals import SignalsParams
        from .signals import signals as _signals

        self._exists()
        return _signals(self.path, group=group, watchlist=watchlist, params=SignalsParams(utc_offset_hours=utc_offset))

    def report(self, output: str | Path | None = None) -> Path:
        """Write the self-contained HTML report of the findings (``swarmscope report``); default
        ``CASE.report.html`` next to the case. Returns its path."""
        from .export import report as _report

        return _report(
            self.path, output if output is not None else self.path.with_name(self.path.stem + ".report.html")
        )

    def export(self, format: str, output: str | Path, *, intrusion_set: str | None = None) -> Path:
        """Export the findings (``swarmscope export``): json, stix, gexf, graphml, csv, parquet or
        parquet-dataset (docs/exports.md). Returns the path written."""
        from .export import export as _export

        return _export(self.path, format, output, intrusion_set=intrusion_set)

    def _exists(self) -> None:
        if not self.path.exists():
            raise FileNotFoundError(f"{self.path}: no such case file")

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

        self._exists()
        findings = self.findings()
        with _Store(self.path, read_only=True) as db:
            return _evaluate(db.con, findings)

    def info(self):
        """Counts, platforms, languages, quarantine reasons and runs (``swarmscope info``)."""
        from .info import info as _info

        return _info(self.path)


class Ingested(list):
    """``Case.ingest``'s per-input counts, with ``errors`` (inputs of which nothing usable was read)
    and ``warnings`` (entries of a folder that were skipped), each naming the file and the fix."""

    def __init__(self, results: Iterable[Any] = (), errors: Sequence[str] = (), warnings: Sequence[str] = ()):
        super().__init__(results)
        self.errors, self.warnings = list(errors), list(warnings)


def _account(account: str) -> tuple[str, str]:
    platform, sep, target_id = account.partition(":")
    if not sep or not platform or not target_id:
        raise ValueError(f"account is PLATFORM:ACCOUNT_ID (e.g. x:123), got {account!r}")
    return platform, target_id


def formats() -> dict[str, str]:
    """The input formats ``ingest`` reads, name -> description (``swarmscope formats``)."""
    from .ingest import formats as _formats

    return {name: module.DESCRIPTION for name, module in _formats().items()}


def run_demo(output: str | Path = "demo-out", *, seed: int = 7, progress: bool = True):
    """Generate a scenario with three planted operations under ``output``, ingest, detect, report, and
    score the campaigns against the scenario's truth (``swarmscope demo``); returns a ``demo.DemoResult``."""
    from .demo import demo as _demo

    return _demo(output, seed=seed, progress=progress)


def open_case(path: str | Path) -> Case:
    """The case at ``path``; the file is created by the first ``ingest``."""
    return Case(Path(path))


def network(source: Any, **options: Any) -> pa.Table:
    """The co-action network (``swarmscope network``) of ``source``: a path (a case, a CooRTweet CSV, an
    actions table in CSV or Parquet), an Arrow table, or a pandas DataFrame with CooRTweet's columns
    (object_id, account_id, content_id, timestamp_share) or swarmscope's actions columns. Returns the edge
    table. The options are ``build_network``'s: ``time_window``, ``min_participation``, ``edge_weight``,
    ``object_types``, ``significance``, ``output`` (also write .csv, .parquet, .graphml, .gexf) and more.
    The defaults are CooRTweet's (``detect_groups``: time_window 10 s, min_participation 2, edge_weight
    0.5), so a network made here and one made there from the same shares compare."""
    return build_network(source, **options).edges


def build_network(
    source: Any,
    *,
    time_window: float = 10.0,
    min_participation: int = 2,
    edge_weight: float = 0.5,
    object_types: Sequence[str] | None = None,
    significance: bool = True,
    output: str | Path | Iterable[str | Path] = (),
    fast_time_window: float | None = None,
    keep_loops: bool = False,
    alpha: float = 0.01,
    pairs: str | Path | None = None,
    clusters: str | Path | None = None,
):
    """``network()`` with everything ``swarmscope network`` has: a faster second window
    (``fast_time_window``), shares of one account or one content kept (``keep_loops``), the false
    discovery rate (``alpha``), and files of the share pairs behind every edge (``pairs``) and of the
    per-cluster statistics (``clusters``). Returns a ``coaction_network.NetworkResult``: edges,
    clusters, the number of actions read, and the files written."""
    from .coaction_network import network as _network

    outputs = [output] if isinstance(output, (str, Path)) else list(output)
    with tempfile.TemporaryDirectory(prefix="swarmscope-network-") as tmp:
        if isinstance(source, (str, Path)):
            path = Path(source)
            if not path.exists():
                raise FileNotFoundError(f"{path}: no such file")
        else:
            path = Path(tmp) / "actions.parquet"
            _write_parquet(_as_arrow(source), path)
        return _network(
            path,
            outputs,
            time_window=time_window,
            min_participation=min_participation,
            edge_weight=edge_weight,
            object_types=object_types,
            fast_time_window=fast_time_window,
            remove_loops=not keep_loops,
            significance=significance,
            alpha=alpha,
            pairs_output=pairs,
            clusters_output=clusters,
        )


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
