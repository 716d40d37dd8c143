"""``swarmscope detect``: the whole pipeline on a case, from actions to findings.json.

    enrich -> load -> detectors -> campaigns -> findings -> manifest

0. posts an ingest left without enrichment (killed, ``--no-enrich``) get
   their languages and actions (enrich.enrich_pending);
1. near-duplicate texts and reused images become actions (duplicates.py);
2. one co-action network per family of object types (``NetworkSpec``), each
   with per-edge significance; their significant edges are joined into one
   multiplex network and clustered (Leiden, graph.py), and clusters linked
   by many edges are merged (campaigns/coordination.py);
3. behavioural signals on the whole case (signals.py): the population
   every account is judged against;
4. campaigns: clusters plus the evidence on their members, scored and
   explained (campaigns/);
5. the search index of the posts is brought up to date (search.py);
6. findings.json is written next to the case (findings.py; schema:
   docs/findings-schema.md), atomically, and the run is recorded in the
   case's ``runs`` table.

The analysts' ``labels`` are never touched: they outlive every re-run.
Only the CLI and the public API import this module.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from . import graph
from .campaigns.assemble import assemble
from .campaigns.coordination import merge_linked_clusters
from .campaigns.view import CaseView
from .config import DetectParams
from .detect.coaction import CoactionParams, coaction_edges, edges_with_significance, prepare_actions
from .detect.significance import coshared_share
from .duck import registered, release_cache
from .enrich import enrich_pending
from .enrich.actions import TEXT_LINK
from .enrich.text import normalise_repeated, plain
from .findings import SCHEMA_VERSION, case_summary, findings_path, manifest, write_json_atomic
from .jsonable import jsonable
from .progress import detail, watching
from .signals import POST_COLUMNS, read_watchlist, signals_from_tables
from .store import Case

Progress = Callable[[str, int, int], None]


def detect(
    case: str | Path,
    params: DetectParams | None = None,
    watchlist: str | Path | None = None,
    output: str | Path | None = None,
    progress: Progress | None = None,
    engine: str = "duckdb",
    master: str | None = None,
) -> dict:
    """Run the pipeline on ``case``; write and return findings (a findings.json dict).

    ``progress(step, done, total)`` is called as each step starts (``done``
    steps finished of ``total``) and once more at the end with done == total.
    The search index is rebuilt in the same run (search.build_index); the
    analysts' labels are never touched. findings.json is written to a
    temporary file in the same folder and renamed over the old one, so a
    reader sees the previous findings or the new ones, never half a file.

    ``engine="spark"`` runs the data-parallel stages on Apache Spark at
    ``master`` (engines/spark/detect.py): the co-action pairing of every
    network, the case-wide bursts, the accounts' cadence and, with
    ``translations`` off, the near-duplicate texts (the translation stage needs the model and every
    text on one machine, so with it on that stage stays here). Everything
    else runs here, and the findings are the same as the default engine's
    (``duckdb``). The run's parameters record which stages ran on Spark.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if master is not None and engine != "spark":
        raise ValueError("a Spark master needs engine='spark' (--engine spark)")
    params = params or DetectParams()
    case = Path(case)
    if not case.exists():
        raise FileNotFoundError(f"{case}: no such case file")
    wl = read_watchlist(watchlist) if watchlist is not None else None
    with ExitStack() as stack:
        spark = None
        if engine == "spark":
            from .engines.spark.detect import SparkDetect

            spark = stack.enter_context(SparkDetect(master))
        return _run(case, params, wl, watchlist, output, progress, engine, master, spark)


ENGINES = ("duckdb", "spark")


def spark_stages(params: DetectParams, spark: bool) -> list[str]:
    """The stages a run with ``params`` hands to Spark (none without it). The near-duplicate texts only
    without the translation stage, which Spark lacks (engines/spark/detect.py)."""
    if not spark:
        return []
    return (["near_duplicates"] if params.duplicates and not params.translations else []) + [
        "bursts",
        "cadence",
        "coaction_pairing",
    ]


def _run(case: Path, params: DetectParams, wl, watchlist, output, progress, engine, master, spark) -> dict:
    on_spark = spark_stages(params, spark is not None)
    steps = _Steps(progress, 5 + len(params.networks) + (1 if params.duplicates else 0) + (spark is not None))
    # posts an ingest left without languages and actions (killed, --no-enrich): enriched first
    steps("enrich posts")
    with Case(case) as db:
        enrich_pending(db, progress=False)
    dup_summary = None
    if params.duplicates:
        from .duplicates import duplicates as find_duplicates
        from .duplicates import findings_summary

        texts_on_spark = "near_duplicates" in on_spark
        steps("near-duplicate texts and images" + (" (texts on Spark)" if texts_on_spark else ""))
        found = find_duplicates(
            case,
            threshold=params.duplicate_threshold,
            translations=params.translations,
            selection=params.translation_selection,
            finder=spark.near_duplicates if texts_on_spark else None,
        )
        dup_summary = findings_summary(found)
    paired = bursts = cadence = None
    if spark is not None:
        steps("bursts, cadence and co-action pairing on Spark")
        with Case(case, read_only=True) as db:
            bursts = spark.bursts(db.con, params.signals.bursts)
            cadence = spark.cadence(db.con, params.signals.cadence)
            paired = spark.network_edges(db.con, _coaction_params(params))
    out = Path(output) if output else findings_path(case)
    with Case(case) as db:
        run_id = db.begin_run(
            "detect",
            {
                "params": jsonable(params),
                "watchlist": str(watchlist) if watchlist else None,
                "engine": engine,
                "master": master,
                "spark_stages": on_spark,
            },
        )
        status = "failed"
        try:
            findings = _detect(db, params, wl, run_id, dup_summary, steps, paired, bursts, cadence)
            steps("search index")
            from .search import build_index

            build_index(db.con)
            steps("findings.json")
            write_json_atomic(findings, out)
            status = "ok"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            db.end_run(run_id, [], status)
    steps.finish()
    findings["_path"] = str(out)
    return findings


def _coaction_params(params: DetectParams) -> dict[str, CoactionParams]:
    """Each network's pairing parameters, as the Spark stage takes them (significance is added here)."""
    return {
        spec.name: CoactionParams(
            time_window=spec.time_window, min_participation=spec.min_participation, object_types=spec.object_types
        )
        for spec in params.networks
    }


class _Steps:
    """Calls ``progress(label, done, total)`` as each step starts; a no-op without a callback."""

    def __init__(self, progress: Progress | None, total: int):
        self.progress, self.total, self.done = progress, total, -1

    def __call__(self, label: str) -> None:
        self.done += 1
        if self.progress is not None:
            self.progress(label, min(self.done, self.total), self.total)

    def finish(self) -> None:
        self.done = self.total
        if self.progress is not None:
            self.progress("done", self.total, self.total)


def _detect(
    db: Case,
    params: DetectParams,
    watchlist: pa.Table | None,
    run_id: str,
    dup_summary: dict | None,
    steps: _Steps,
    paired: dict[str, pa.Table] | None = None,
    bursts: pa.Table | None = None,
    cadence: pa.Table | None = None,
) -> dict:
    con = db.con
    networks = {}
    for spec in params.networks:
        steps(f"network: {spec.name}")
        networks[spec.name] = _network(con, spec, params, None if paired is None else paired[spec.name])
    detail("clusters of the networks")
    multiplex, membership = _clusters(con, networks, params)

    steps("signals")
    # The posts and accounts are read after the networks, which never need them. The signals read the
    # normalised texts only, the campaigns the texts too: the texts (0.9 GiB at 10M posts) are read
    # for the fold, left out while the signals run, and read again for the campaigns. A scan without
    # ORDER BY keeps the table's order (DuckDB's preserve_insertion_order), so the columns line up.
    with watching(con, "reading texts"):
        texts = con.sql("SELECT text FROM posts").to_arrow_table()["text"]
    norm = plain(normalise_repeated(texts))
    del texts
    cols = [*POST_COLUMNS, "lang"]
    with watching(con, "reading posts"):
        posts = con.sql(f"SELECT {', '.join(c for c in cols if c != 'text')} FROM posts").to_arrow_table()
    with watching(con, "reading accounts"):
        accounts = con.sql("SELECT * FROM accounts").to_arrow_table()
    release_cache(con)  # the blocks DuckDB cached for these reads and the networks': 1.3 GiB at 10M posts
    whole = signals_from_tables(
        posts, accounts, watchlist, params.signals, "all", bursts=bursts, cadence=cadence, norm=norm
    )

    steps("campaigns")
    with watching(con, "reading texts"):
        text = con.sql("SELECT text FROM posts").to_arrow_table()["text"]
    release_cache(con)
    posts = posts.add_column(cols.index("text"), "text", text)
    del text
    view = CaseView(con, posts, norm, accounts, whole, networks, multiplex, params)
    found = assemble(view, membership)

    return {
        "schema_version": SCHEMA_VERSION,
        "manifest": manifest(db.con, run_id, params),
        "case": case_summary(con),
        "networks": {
            k: {
                kk: vv
                for kk, vv in v.items()
                if kk in ("actions", "edges", "significant", "null", "reposts_linked_by_text")
            }
            | (
                {"object_types": list(v["spec"].object_types), "time_window": v["spec"].time_window}
                if "spec" in v
                else {}
            )
            for k, v in networks.items()
        },
        "duplicates": dup_summary,
        "small_clusters": found.small_clusters,
        "campaigns": found.campaigns,
        "signals": found.log.signals,
    }


def _network(con, spec, params: DetectParams, paired: pa.Table | None = None) -> dict:
    """One co-action network with per-edge significance; its significant edges kept for the campaigns.

    ``paired``: its edges as another engine paired them (Spark), to be ordered and tested here."""
    with watching(con, "reading actions"):
        actions = con.sql(
            "SELECT platform, account_id, post_id, created_at, object_type, object_id FROM actions "
            f"WHERE object_type IN ({', '.join(repr(t) for t in spec.object_types)}) "
            # the stored order depends on the ingest's threads; results must not
            "ORDER BY platform, post_id, object_type, object_id"
        ).to_arrow_table()
    if actions.num_rows == 0:
        return {"actions": 0, "edges": 0, "significant": 0}
    detail(f"preparing {actions.num_rows:,} actions")
    prepared = prepare_actions(
        actions, CoactionParams(time_window=spec.time_window, min_participation=spec.min_participation)
    )
    sp = replace(params.significance, null=spec.null) if spec.null else params.significance

    def tested(sp):
        if paired is None or not paired.num_rows:  # no edges: nothing to pair, nothing to read back
            return coaction_edges(prepared, significance=sp)
        return edges_with_significance(prepared, paired, significance=sp)

    edges = tested(sp)
    null = {"model": sp.null}
    if sp.null == "pooled_delays" and spec.object_types == ("repost_of",):
        detail("how many accounts co-share")
        share = coshared_share(actions, edges, sp.min_objects)
        null["coshared_share"] = round(share, 4)
        if share > sp.background_min_share:
            sp = replace(sp, null="reference")
            edges = tested(sp)
            null = {
                "model": "reference",
                "coshared_share": round(share, 4),
                "why": f"{share:.0%} of the accounts sharing reposts co-shared {sp.min_objects}+ objects with "
                f"another account (more than {sp.background_min_share:.0%}): the case has no organic background "
                "of its own, so reposts are judged against real organic retweet cascades (Twitter15)",
            }
    sig = edges.filter(pc.equal(edges["significant"], True))
    out = {"actions": actions.num_rows, "edges": edges.num_rows, "significant": sig.num_rows, "null": null}
    linked = 0
    if "repost_of" in spec.object_types:
        linked = pc.sum(pc.match_substring(actions["object_id"], TEXT_LINK)).as_py()
    if linked:
        out["reposts_linked_by_text"] = linked
    return out | {"prepared": prepared, "sig_edges": sig, "spec": spec}


def _clusters(con, networks: dict, params: DetectParams) -> tuple[pa.Table | None, pa.Table]:
    """The multiplex network of all significant edges, and its clusters (merged where linked)."""
    parts = []
    for name, net in networks.items():
        sig = net.get("sig_edges")
        if sig is None or not sig.num_rows:
            continue
        parts.append(
            pa.table(
                {
                    "from": sig["from"],
                    "to": sig["to"],
                    "from_platform": sig["from_platform"],
                    "to_platform": sig["to_platform"],
                    "weight": sig["weight"].cast(pa.float64()),
                    "n_objects": sig["n_objects"],
                    "q_value": sig["q_value"],
                    "avg_time_delta": sig["avg_time_delta"],
                    "network": pa.array([name] * sig.num_rows, pa.string()),
                    "significant": sig["significant"],
                }
            )
        )
    if not parts:
        return None, pa.table(
            {
                "platform": pa.array([], pa.string()),
                "account_id": pa.array([], pa.string()),
                "cluster": pa.array([], pa.int64()),
            }
        )
    with registered(con, _sig=pa.concat_tables(parts)):
        multiplex = con.sql(
            """SELECT "from", "to", from_platform, to_platform, sum(weight) AS weight, sum(n_objects) AS n_objects,
                      min(q_value) AS q_value, avg(avg_time_delta) AS avg_time_delta,
                      list(DISTINCT network ORDER BY network) AS networks, TRUE AS significant
               FROM _sig GROUP BY ALL ORDER BY weight DESC, "from", "to" """
        ).to_arrow_table()
    found = graph.clusters(multiplex, params=params.clusters)
    return multiplex, merge_linked_clusters(found.membership, multiplex, params.campaigns.merge_links)
