"""Command line: a thin shell over library functions of the same names.

A command that finds its case held by another process (``swarmscope serve``
writing a label, an ingest, a detect) waits up to ``$SWARMSCOPE_LOCK_WAIT``
seconds (10), then exits with status 3 and a message naming that process
(store.CaseBusy); read-only commands run beside ``swarmscope serve``.

Why this module is long: it is the command table, one function per command
with its options and help text, each a few lines over a library function
(the printing of results stays here, next to the options it answers); the
commands' work lives in the library modules they call.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from . import __version__

if TYPE_CHECKING:
    from .info import CaseInfo
    from .signals import SignalsResult

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="Find coordinated inauthentic behaviour in social-media data, with evidence.",
    context_settings={"help_option_names": ["-h", "--help"]},
)
err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _fail(msg: str) -> None:
    err.print(f"[bold red]error:[/] {msg}", highlight=False)
    raise typer.Exit(2)


def _parse_map(pairs: list[str]) -> dict[str, str]:
    mapping = {}
    for p in pairs:
        if "=" not in p:
            _fail(f"--map expects canonical=source, got {p!r}")
        k, v = p.split("=", 1)
        mapping[k.strip()] = v.strip()
    return mapping


def _plain() -> bool:
    """Plain output: stdout is a pipe or a file, not a terminal. Tables are then tab-separated values,
    full width (no boxes, no ellipses), numbers without thousands separators, one ``# title`` line each."""
    return not out.is_terminal


def _emit_table(heads: tuple[str, ...] | list[str], rows: list, title: str | None = None) -> None:
    """A table on stdout: Rich in a terminal, TSV otherwise. Cells are shown as written (never markup)."""
    from rich.text import Text

    if _plain():
        if title:
            sys.stdout.write(f"# {title}\n")
        lines = ["\t".join(heads)] + ["\t".join(_tsv(c) for c in row) for row in rows]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    t = Table(*heads, title=title, title_justify="left" if title else "center")
    for row in rows:
        t.add_row(*[Text(f"{c:,}" if isinstance(c, int) and not isinstance(c, bool) else _str(c)) for c in row])
    out.print(t)


def _str(v: Any) -> str:
    return "" if v is None else str(v)


def _tsv(v: Any) -> str:
    return " ".join(_str(v).replace("\t", " ").splitlines())  # one line per row, one tab per column


def _emit_json(obj: Any) -> None:
    """``obj`` as JSON on stdout (``--json``): UTF-8, times as ISO strings, for jq and scripts."""
    import json

    from .jsonable import jsonable

    sys.stdout.write(json.dumps(jsonable(obj), ensure_ascii=False, indent=2, default=str) + "\n")


@app.command()
def version() -> None:
    """Print the version."""
    out.print(__version__)


def _print_version(value: bool) -> None:
    if value:
        print(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", "-V", callback=_print_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Find coordinated inauthentic behaviour in social-media data, with evidence."""


@app.command()
def ingest(
    case: Path = typer.Argument(..., help="case database file (created if absent)"),
    paths: list[Path] = typer.Argument(..., help="input files or folders; .gz, .zst and .zip are read directly"),
    format: str | None = typer.Option(None, "--format", "-f", help="force a format (see `swarmscope formats`)"),
    map: list[str] = typer.Option([], "--map", help="generic_table column map: canonical=source (repeatable)"),
    platform: str | None = typer.Option(None, "--platform", help="platform where the format does not say"),
    timezone: str | None = typer.Option(
        None,
        "--timezone",
        help="IANA zone (e.g. Europe/Moscow) of times written without a zone: Telegram Desktop's old export, "
        "an ambiguous CrowdTangle abbreviation; times with a zone ignore it",
    ),
    no_enrich: bool = typer.Option(
        False, "--no-enrich", help="skip language detection and actions (the next ingest or detect does them)"
    ),
    max_decompressed_bytes: int | None = typer.Option(
        None,
        "--max-decompressed-bytes",
        help="the most one compressed input (.gz, .zst, a .zip member) may decompress to; "
        "default 100x its compressed size, at least 256 MiB",
    ),
) -> None:
    """Read input files into a case; bad records are quarantined, never dropped."""
    from . import api

    try:
        results = api.open_case(case).ingest(
            *paths,
            format=format,
            column_map=_parse_map(map),
            platform=platform,
            timezone=timezone,
            enrich=not no_enrich,
            max_decompressed_bytes=max_decompressed_bytes,
            progress=True,  # drawn only when stderr is a terminal
        )
    except api.IngestError as e:
        _fail(str(e))
    _emit_table(
        ("file", "format", "records", "stored", "duplicates", "quarantined", "accounts"),
        [(r.path, r.format, r.records, r.inserted, r.duplicates, r.quarantined, r.accounts) for r in results],
    )
    for m in [f"warning: {w}" for w in results.warnings] + [f"error: {e}" for e in results.errors]:
        err.print(m, style="red" if m.startswith("error") else "yellow", markup=False, highlight=False)
    if results.errors:  # exit 1: an input of which nothing usable was read
        raise typer.Exit(1)


@app.command()
def formats(json_out: bool = typer.Option(False, "--json", help="print the formats as JSON")) -> None:
    """List the supported input formats."""
    from .api import formats as fmts

    rows = list(fmts().items())
    if json_out:
        _emit_json([{"format": n, "description": d} for n, d in rows])
    elif _plain():
        _emit_table(("format", "description"), rows)
    else:
        for name, description in rows:
            out.print(f"[bold]{name}[/]: {description}", highlight=False)


@app.command()
def info(
    case: Path = typer.Argument(..., help="case database file"),
    json_out: bool = typer.Option(False, "--json", help="print the summary as JSON"),
) -> None:
    """Counts per platform, language and kind, date range, quarantine summary."""
    from .api import open_case

    try:
        i = open_case(case).info()
    except FileNotFoundError as e:
        _fail(str(e))
    if json_out:
        _emit_json(i)
    else:
        print_info(i)


def print_info(i: CaseInfo) -> None:
    out.print(
        f"[bold]{i.path}[/]: {i.posts:,} posts, {i.accounts:,} accounts, {i.actions:,} actions, "
        f"{i.quarantined:,} quarantined",
        highlight=False,
    )
    out.print(f"posts from {i.first_post} to {i.last_post} (UTC)")
    for title, rows, heads in (
        ("platforms", i.per_platform, ("platform", "posts", "accounts")),
        ("languages", i.per_language[:15], ("language", "posts")),
        ("kinds", i.per_kind, ("kind", "posts")),
        ("actions", i.per_object_type, ("object type", "rows")),
        ("quarantine", i.quarantine_reasons, ("reason", "rows")),
    ):
        if rows:
            _emit_table(heads, rows, title=title)
    statuses = [s for _, _, s in i.runs]
    if i.runs:
        out.print("runs: " + ", ".join(f"{statuses.count(s):,} {s}" for s in dict.fromkeys(statuses)))
    for run_id, command, status in i.runs:
        if status == "interrupted":
            hint = "the same ingest again stores what is missing" if command == "ingest" else f"run {command} again"
            out.print(f"interrupted: {command} run {run_id}, stopped or killed before its end ({hint})", style="yellow")
    if i.unenriched:
        out.print(f"{i.unenriched:,} posts not enriched yet: the next ingest or detect enriches them", style="yellow")


@app.command()
def network(
    source: Path = typer.Argument(..., help="CooRTweet-layout or actions CSV/Parquet, or a case .duckdb"),
    output: list[Path] = typer.Option([], "--output", "-o", help="edges .csv/.parquet, .graphml or .gexf (repeatable)"),
    time_window: float = typer.Option(
        10.0, "--time-window", help="seconds between two shares of an object (CooRTweet's default, 10)"
    ),
    min_participation: int = typer.Option(2, "--min-participation", help="CooRTweet's min_participation"),
    edge_weight: float = typer.Option(0.5, "--edge-weight", help="percentile (0-1) for weight_threshold"),
    object_type: list[str] = typer.Option([], "--object-type", help="object types to use (repeatable; default all)"),
    fast_time_window: float | None = typer.Option(None, "--fast-time-window", help="also a faster network (s)"),
    keep_loops: bool = typer.Option(False, "--keep-loops", help="keep shares of one account or one content"),
    no_significance: bool = typer.Option(False, "--no-significance", help="CooRTweet's edges only, no null model"),
    alpha: float = typer.Option(0.01, "--alpha", help="false discovery rate for significant edges"),
    pairs: Path | None = typer.Option(None, "--pairs", help="write the share pairs behind every edge"),
    clusters: Path | None = typer.Option(None, "--clusters", help="write per-cluster statistics"),
) -> None:
    """Co-action network: accounts sharing the same objects within a time window (CooRTweet-compatible)."""
    from .api import build_network

    try:
        r = build_network(
            source,
            output=output,
            time_window=time_window,
            min_participation=min_participation,
            edge_weight=edge_weight,
            object_types=object_type or None,
            fast_time_window=fast_time_window,
            keep_loops=keep_loops,
            significance=not no_significance,
            alpha=alpha,
            pairs=pairs,
            clusters=clusters,
        )
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    n_sig = sum(1 for v in r.edges["significant"].to_pylist() if v) if "significant" in r.edges.column_names else None
    out.print(
        f"{r.n_actions:,} actions -> {r.edges.num_rows:,} edges"
        + (f", {n_sig:,} significant" if n_sig is not None else "")
        + (f", {r.clusters.stats.num_rows:,} clusters" if r.clusters is not None else "")
    )
    for o in r.outputs:
        out.print(f"wrote {o}")


@app.command()
def duplicates(
    case: Path = typer.Argument(..., help="case database file"),
    threshold: float = typer.Option(0.8, "--threshold", help="Jaccard similarity of character shingles (0-1)"),
    output: Path | None = typer.Option(None, "--output", "-o", help="write the clusters as CSV"),
    media_dir: Path | None = typer.Option(None, "--media-dir", help="folder of media files the posts reference"),
    max_image_distance: int = typer.Option(8, "--max-image-distance", help="pHash bits (of 64) for the same image"),
    embedding_model: Path | None = typer.Option(
        None,
        "--embedding-model",
        help="folder of a sentence-transformers model on disk, instead of the built-in multilingual encoder: "
        "translations and rewordings (never downloads)",
    ),
    no_translations: bool = typer.Option(
        False, "--no-translations", help="no cross-lingual clusters: nothing is embedded (characters only)"
    ),
) -> None:
    """Copy-paste, near-duplicate and translated texts, reused images: clusters stored as actions for the networks.

    Translations: the built-in multilingual encoder embeds the texts that can matter (posted by two or more
    accounts, or by accounts that copy or co-act), at most 2,000, each once per case (docs/methods/duplicates.md).
    """
    import json

    from .api import open_case

    try:
        clusters = open_case(case).duplicates(
            threshold=threshold,
            output=output,
            media_dir=media_dir,
            max_image_distance=max_image_distance,
            embedding_model=embedding_model,
            translations=not no_translations,
        )
    except (ValueError, FileNotFoundError, RuntimeError) as e:
        _fail(str(e))
    meta = clusters.schema.metadata or {}
    counts = json.loads(meta.get(b"swarmscope.counts", b"{}"))
    out.print(f"{clusters.num_rows:,} clusters")
    for section, figures in counts.items():
        if isinstance(figures, dict):
            out.print(
                f"{section}: "
                + ", ".join(
                    f"{k} {v:,}" if isinstance(v, int) and not isinstance(v, bool) else f"{k} {v}"
                    for k, v in figures.items()
                )
            )
    if output is not None:
        out.print(f"wrote {output}")


@app.command()
def signals(
    case: Path = typer.Argument(..., help="case database file"),
    group: Path | None = typer.Option(None, "--group", help="account ids: one per line, or CSV with account_id"),
    watchlist: Path | None = typer.Option(None, "--watchlist", help="CSV of genuine entities: name, handle, platform"),
    utc_offset: float | None = typer.Option(
        None, "--utc-offset", help="local days for the holiday test (default: fitted)"
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="write every finding with its evidence to this JSON file"
    ),
    json_out: bool = typer.Option(False, "--json", help="print every finding with its evidence as JSON"),
) -> None:
    """Bursts, runs, automation cadence, operator rhythm and holidays, account patterns, impersonation."""
    from .api import open_case

    try:
        r = open_case(case).behaviour(group=group, watchlist=watchlist, utc_offset=utc_offset)
    except (FileNotFoundError, ValueError) as e:  # signals.SignalsInputError is a ValueError
        _fail(str(e))
    if group is not None and not r.posts:
        _fail(
            f"--group {group}: none of its account ids has a post in {case}. Ids are the platforms' account ids "
            f'(not handles); list them with `duckdb {case} "SELECT platform, account_id, handle FROM accounts"`'
        )
    if output is not None:
        from .jsonable import write_json

        written = write_json(r, output)
    if json_out:
        _emit_json(r)
    else:
        print_signals(r)
    if output is not None:
        err.print(f"findings written to {written}", highlight=False, markup=False)


def print_signals(r: SignalsResult) -> None:
    out.print(f"[bold]signals[/] for {r.group}: {r.posts:,} posts, {r.accounts:,} accounts", highlight=False)
    fit = r.rhythm
    if fit.utc_offset_hours is not None:
        out.print(f"rhythm: {fit.pattern}; {fit.summary} (p={fit.office_p:.2g})", highlight=False)
    else:
        out.print(f"rhythm: {fit.pattern}")
    top = r.holidays.ranking.slice(0, 3).to_pylist()
    if top:
        out.print(
            "holidays (a hint, never an attribution): "
            + "; ".join(f"{h['country']} p={h['p_value']:.3g} (family p={h['p_family']:.3g})" for h in top)
        )
    automated = sum(1 for v in r.cadence["automated_looking"].to_pylist() if v)
    out.print(f"bursts: {r.bursts.num_rows:,}; runs: {r.runs.num_rows:,}; automated-looking accounts: {automated:,}")
    if r.impersonation is not None:
        out.print(f"impersonation suspects: {r.impersonation.num_rows:,}")


@app.command()
def detect(
    case: Path = typer.Argument(..., help="case database file"),
    config: Path | None = typer.Option(None, "--config", help="TOML file of detection parameters"),
    watchlist: Path | None = typer.Option(None, "--watchlist", help="CSV of genuine entities: name, handle, platform"),
    output: Path | None = typer.Option(None, "--output", "-o", help="findings.json path (default: next to the case)"),
    no_translations: bool = typer.Option(
        False, "--no-translations", help="no cross-lingual clusters (as translations = false in a config file)"
    ),
    json_out: bool = typer.Option(
        False, "--json", help="print the campaigns as JSON (the whole findings are in the findings file)"
    ),
    engine: str = typer.Option(
        "duckdb",
        "--engine",
        help="duckdb (one machine), or spark: co-action pairing, bursts and (with --no-translations) "
        "near duplicates on Apache Spark (docs/spark.md)",
    ),
    master: str | None = typer.Option(
        None, "--master", help="with --engine spark: the Spark master URL (default local[*])"
    ),
) -> None:
    """Run the whole pipeline with defaults: duplicates, networks, signals, campaigns -> findings.json."""
    from .api import open_case

    try:
        f = open_case(case).detect(
            config=config,
            watchlist=watchlist,
            output=output,
            translations=False if no_translations else None,
            engine=engine,
            master=master,
            progress=True,  # drawn only when stderr is a terminal
        )
    except (FileNotFoundError, ValueError) as e:  # signals.SignalsInputError is a ValueError
        _fail(str(e))
    if json_out:
        _emit_json({"findings": f["_path"], "run_id": f["manifest"].get("run_id"), "campaigns": campaign_rows(f)})
        return
    print_campaigns(f)
    out.print(f"findings: {f['_path']}")


def campaign_rows(f: dict) -> list[dict]:
    """One summary per campaign of findings ``f``: what ``detect`` prints (and ``--json`` gives)."""
    rows = []
    for c in f["campaigns"]:
        rows.append(
            {
                "campaign": c["id"],
                "score": c["score"],
                "verdict": (c.get("verdict") or {}).get("label", ""),
                "accounts": c["counts"]["accounts"],
                "per_platform": c["counts"]["per_platform"],
                "first_seen": c["first_seen"],
                "last_seen": c["last_seen"],
                "signals": sorted({s["type"] for s in f["signals"] if s["id"] in c["signals"]}),
                "disarm": list(c["disarm"]),
            }
        )
    return rows


def print_campaigns(f: dict) -> None:
    rows = [
        (
            r["campaign"],
            f"{r['score']:.2f}",
            r["verdict"],
            r["accounts"],
            ", ".join(f"{k} {v:,}" for k, v in r["per_platform"].items()),
            str(r["first_seen"])[:16] if not _plain() else r["first_seen"],
            str(r["last_seen"])[:16] if not _plain() else r["last_seen"],
            ", ".join(r["signals"]),
            ", ".join(r["disarm"]),
        )
        for r in campaign_rows(f)
    ]
    heads = ("campaign", "score", "verdict", "accounts", "platforms", "first seen", "last seen", "signals", "DISARM")
    _emit_table(heads, rows, title="campaigns")
    if not f["campaigns"]:
        out.print("no campaign: no cluster of significantly coordinated accounts")


@app.command()
def report(
    case: Path = typer.Argument(..., help="case database file (with findings from `swarmscope detect`)"),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="the HTML file to write (default: CASE.report.html next to the case)"
    ),
) -> None:
    """Write the self-contained HTML report of the case's findings."""
    from .api import open_case

    try:
        path = open_case(case).report(output)
    except FileNotFoundError as e:
        _fail(str(e))
    out.print(f"report: {path}")


@app.command()
def export(
    case: Path = typer.Argument(..., help="case database file (with findings from `swarmscope detect`)"),
    format: str = typer.Option(
        ...,
        "--format",
        "-f",
        help="json, stix, gexf, graphml, csv, parquet, or parquet-dataset (the case's tables for Spark)",
    ),
    output: Path = typer.Option(..., "--output", "-o", help="file (a folder for csv, parquet, parquet-dataset)"),
    intrusion_set: str | None = typer.Option(None, "--intrusion-set", help="STIX: name the actor (only if known)"),
) -> None:
    """Export the findings for Gephi, threat-intelligence platforms or spreadsheets."""
    from .api import open_case

    try:
        path = open_case(case).export(format, output, intrusion_set=intrusion_set)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    out.print(f"wrote {path}")


@app.command()
def demo(
    out_dir: Path = typer.Option(
        Path("demo-out"), "--output", "-o", "--out", help="folder for the scenario, case and report"
    ),
    seed: int = typer.Option(7, "--seed"),
) -> None:
    """Generate a scenario with planted operations, ingest it, and summarise the case."""
    from .api import run_demo

    result = run_demo(out_dir, seed=seed)
    print_info(result.info)
    print_campaigns(result.findings)
    _emit_table(
        ("planted operation", "accounts", "campaign", "precision", "recall"),
        [
            (name, e["accounts"], e["campaign"] or "-", f"{e['precision']:.2f}", f"{e['recall']:.2f}")
            for name, e in result.evaluation["operations"].items()
        ],
        title="against the scenario's ground truth",
    )
    ev = result.evaluation
    out.print(
        f"organic and fan-crowd accounts in a campaign scored >= 0.5: {ev['organic_false_positives']} of "
        f"{ev['organic_accounts']:,} ({ev['organic_false_positive_rate']:.2%})"
    )
    out.print(f"case: {result.case}")
    out.print(f"findings: {result.findings['_path']}")
    out.print(f"report: {result.report}")
    out.print(f"ground truth: {result.truth}")


@app.command()
def serve(
    case: Path = typer.Argument(..., help="case database file"),
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on; off loopback a token is required"),
    port: int = typer.Option(8765, "--port", help="TCP port"),
    token: str | None = typer.Option(
        None, "--token", help="access token (default off loopback: a random one, printed)"
    ),
    analyst: str | None = typer.Option(None, "--analyst", help="author of labels made in the page (default: OS user)"),
) -> None:
    """The investigator's workbench: browse the case, label accounts and campaigns, run detection, export."""
    from .web import serve as run_serve  # the workbench: a shell over the library, like this one

    try:
        run_serve(case, host=host, port=port, token=token, analyst=analyst)
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))


@app.command()
def evaluate(
    case: Path = typer.Argument(..., help="case database file (with findings and analysts' labels)"),
    json_out: bool = typer.Option(False, "--json", help="print the result as JSON"),
) -> None:
    """Precision and recall of the current campaigns against the analysts' confirmed/dismissed labels."""

    from .api import open_case

    try:
        result = open_case(case).evaluate()
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    if json_out:
        _emit_json(result)
        return

    def f(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    j = result["judged_accounts"]
    out.print(
        f"[bold]run {result['run_id']}[/]: campaigns scored >= {result['report_score']:g} against "
        f"{j['confirmed']:,} confirmed and {j['dismissed']:,} dismissed accounts "
        f"({j['unsure']:,} unsure left out)",
        highlight=False,
    )
    out.print(
        f"precision {f(result['precision'])}, recall {f(result['recall'])}, F1 {f(result['f1'])} "
        f"(tp {result['tp']:,}, fp {result['fp']:,}, fn {result['fn']:,}, tn {result['tn']:,})"
    )
    _emit_table(
        (
            "campaign",
            "score",
            "likely",
            "accounts",
            "confirmed",
            "dismissed",
            "unsure",
            "unlabelled",
            "precision",
            "label",
        ),
        [
            (
                str(c["id"]),
                f"{c['score']:.2f}",
                "yes" if c["likely_inauthentic"] else "no",
                c["accounts"],
                c["confirmed"],
                c["dismissed"],
                c["unsure"],
                c["unlabelled"],
                f(c["precision"]),
                "-" if c["label"] is None else f"{c['label']['label']} (overlap {c['label']['overlap']:.0%})",
            )
            for c in result["campaigns"]
        ],
        title="per campaign",
    )


@app.command()
def label(
    case: Path = typer.Argument(..., help="case database file"),
    account: str | None = typer.Option(None, "--account", help="the account as PLATFORM:ACCOUNT_ID, e.g. x:123"),
    campaign: str | None = typer.Option(None, "--campaign", help="a campaign id of the current findings, e.g. C3"),
    value: str | None = typer.Option(None, "--label", help="confirmed (inauthentic), dismissed (not) or unsure"),
    note: str = typer.Option("", "--note", help="why (at most 10,000 characters)"),
    author: str | None = typer.Option(None, "--author", help="who judged (default: the OS user)"),
    list_: bool = typer.Option(False, "--list", help="list the current labels, or the history of the target given"),
    json_out: bool = typer.Option(False, "--json", help="print labels as JSON"),
) -> None:
    """Label an account or a campaign (append-only: a new label keeps the history), or list labels.

    Works while `swarmscope serve` runs on the case (docs/web.md, Concurrent use).
    """

    from .api import LABELS, open_case

    if account is not None and campaign is not None:
        _fail("give --account or --campaign, not both")
    if account is not None:
        platform, sep, target_id = account.partition(":")
        if not (platform and sep and target_id):
            _fail(f"--account is PLATFORM:ACCOUNT_ID (e.g. x:123), got {account!r}")
    try:
        if value is None or list_:
            if value is not None:
                _fail("--list shows labels; drop --label, or drop --list to add one")
            rows = open_case(case).labels(account=account, campaign=campaign)
            if json_out:
                _emit_json(rows)
            else:
                print_labels(rows, history=account is not None or campaign is not None)
            return
        if account is None and campaign is None:
            _fail("--label needs a target: --account PLATFORM:ACCOUNT_ID or --campaign ID")
        if value not in LABELS:
            _fail(f"--label must be one of {', '.join(LABELS)}, got {value!r}")
        saved = open_case(case).label(account=account, campaign=campaign, label=value, note=note, author=author or "")
    except (FileNotFoundError, ValueError) as e:
        _fail(str(e))
    if json_out:
        _emit_json(saved)
        return
    name = f"{saved['platform']}:{saved['target_id']}" if saved["platform"] else saved["target_id"]
    out.print(
        f"{saved['target_type']} {name}: {saved['label']} by {saved['author']} at {saved['created_at']} "
        f"(label {saved['history']} of this target; {saved['label_id']})",
        markup=False,
        highlight=False,
    )


def print_labels(rows: list[dict], history: bool) -> None:
    from rich.text import Text

    if not rows:
        out.print("no labels" + (" on this target" if history else ""))
        return
    t = Table("target", "label", "author", "when (UTC)", "run" if history else "history", "note")
    for r in rows:
        name = f"{r['platform']}:{r['target_id']}" if r["platform"] else f"{r['target_id']} (campaign)"
        note = " ".join((r["note"] or "").split())
        cells = [name, r["label"], r["author"], str(r["created_at"])[:19]]
        cells.append(str(r.get("run_id") or "-") if history else str(r.get("history", "")))
        cells.append(note[:80] + ("..." if len(note) > 80 else ""))
        t.add_row(*[Text(c) for c in cells])  # analysts' text, shown as written (no markup)
    out.print(t)


def _clean_busy(fn: Callable[..., Any]) -> Callable[..., Any]:
    """A case held by another process: the message naming it, and exit status 3 (not a traceback).

    CaseBusy is looked up only when an exception arrives: importing the store
    (duckdb, pyarrow) up front would cost every command, even ``--version``,
    half a second of start-up.
    """

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as e:
            duck = sys.modules.get(f"{__package__}.duck")  # raised only by code that imported it
            if duck is None or not isinstance(e, duck.CaseBusy):
                raise
            from rich.markup import escape

            err.print(f"[bold red]error:[/] {escape(str(e))}", highlight=False)
            raise typer.Exit(3) from None

    return run


for _command in app.registered_commands:
    _command.callback = _clean_busy(_command.callback)


if __name__ == "__main__":
    app()
