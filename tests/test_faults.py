"""Kill -9 at random points of ingest, enrichment and detect: the case always opens, and the next command completes it.

For each command, seeded trials start it in a subprocess (the console
entry, ``swarmscope.cli:app``) on a small generated case, kill it with
SIGKILL after a seeded random delay drawn over an uninterrupted run's
duration (from the start of the process to the end of its run: a hook
prints a marker when ``Case.end_run`` returns), and then:

1. open the case read-only: per input of every run, records = inserted +
   duplicates + quarantined; every file a run finished is wholly stored (its
   posts and quarantine rows are all there); nothing is stored that an
   uninterrupted run does not store; ``info`` names the killed run
   ``interrupted``;
2. run the command again to completion (in this process: the library call
   the command line is a shell over) and compare with an uninterrupted
   reference run: the same posts, accounts, actions and quarantine, row for
   row (run ids apart); for detect the same findings.json apart from the run
   id, its time and the input folder (test_golden.normalised).

Enrichment trials kill an ingest during its enrichment phase: the delay
starts when ``enrich_pending`` is called (another marker) and is drawn over
that phase's duration in the reference run, up to the end of the run. The subprocesses enrich in
batches of ``ENRICH_BATCH`` posts so that a kill lands between batches too.
docs/reliability.md ("Kill -9 at random points") records the outcomes.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from swarmscope import model
from swarmscope.enrich import pending_posts
from swarmscope.info import info
from swarmscope.ingest import ingest
from swarmscope.pipeline import detect
from swarmscope.simulate import ScenarioParams, generate
from swarmscope.store import Case

from .test_golden import normalised

pytestmark = pytest.mark.faults

TRIALS = 20
SEED = 2020
ENRICH_BATCH = 1000  # posts per enrichment transaction in the subprocesses (the default is 200,000)

# A small world: 3,757 posts in four formats; the planted operations are still found.
PARAMS = ScenarioParams(
    seed=5,
    n_organic_accounts=200,
    n_organic_posts=1200,
    n_fan_accounts=60,
    n_copypaste_accounts=20,
    n_amplifier_accounts=10,
    n_amplified_posts=15,
    burst_posts=100,
    run_length=20,
    n_tiktok_operation_accounts=6,
    n_tiktok_organic_accounts=40,
    n_tiktok_organic_videos=150,
    n_tiktok_viral_sound_users=20,
    n_youtube_operation_accounts=6,
    n_youtube_organic_accounts=60,
    n_youtube_organic_comments=150,
)

# The command line, with hooks that print markers: when enrichment starts, when a run has ended.
ENTRY = """
import swarmscope.enrich as enrich
import swarmscope.store as store
_pending, _end_run = enrich.enrich_pending, store.Case.end_run
def _marked(*args, **kwargs):
    print("ENRICH-START", flush=True)
    return _pending(*args, **kwargs)
def _ended(*args, **kwargs):
    _end_run(*args, **kwargs)
    print("RUN-END", flush=True)
enrich.enrich_pending, store.Case.end_run = _marked, _ended
from swarmscope.cli import app
app()
"""


@dataclass
class Reference:
    """An uninterrupted run's outcome: its tables (rows as sorted tuples) and durations."""

    tables: dict[str, list[tuple]]
    seconds: float  # from the start to the end of the command's (last) run
    enrich_seconds: float = 0.0  # ingest: from the enrichment marker to the end of the run
    findings: str | None = None  # detect: normalised findings.json


@dataclass
class World:
    root: Path
    input: Path
    watchlist: Path
    ingest: Reference
    detect: Reference
    ingested_case: Path  # the reference ingest's case, copied for each detect trial


# -- running and killing ----------------------------------------------------------------------------


def _command(*args: str | Path) -> list[str]:
    return [sys.executable, "-c", ENTRY, *map(str, args)]


def _env() -> dict[str, str]:
    return {**os.environ, "SWARMSCOPE_ENRICH_BATCH": str(ENRICH_BATCH), "SWARMSCOPE_LOCK_WAIT": "30"}


def _run(*args: str | Path) -> tuple[float, float | None]:
    """Run a command to its end; (seconds until its last run ended, seconds until the enrichment marker or None)."""
    start = time.monotonic()
    proc = subprocess.Popen(_command(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    enrich = end = None
    for line in proc.stdout:
        if line.startswith("ENRICH-START") and enrich is None:
            enrich = time.monotonic() - start
        elif line.startswith("RUN-END"):
            end = time.monotonic() - start
    err = proc.stderr.read()
    assert proc.wait() == 0 and end is not None, err
    return end, enrich


def _kill_after(args: tuple, delay: float, after_marker: bool = False) -> None:
    """Start the command and SIGKILL it ``delay`` seconds after its start (or after the enrichment marker).

    A command that ends by itself before must have succeeded.
    """
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(_command(*args), stdout=subprocess.PIPE, stderr=err, text=True, env=_env())
        try:
            if after_marker:
                for line in proc.stdout:
                    if line.startswith("ENRICH-START"):
                        break
            try:
                code = proc.wait(delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                code = None
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            proc.stdout.close()
        err.seek(0)
        assert code in (None, 0), f"{args[0]} failed by itself (exit {code}): {err.read()[-3000:]}"


# -- the case's contents -----------------------------------------------------------------------------

_ORDER = {
    "posts": "platform, post_id",
    "accounts": "platform, account_id",
    "actions": "platform, post_id, object_type, object_id",
    "quarantine": "source_file, record, reason",
}
_COLUMNS = {t: [c for c in model.TABLES[t].names if c != "run_id"] for t in _ORDER}  # run ids differ by run
ENRICHED = ("lang", "lang_source")  # the posts' columns enrichment fills: a kill may come before


def _rows(db: Case, table: str) -> list[tuple]:
    t = db.con.sql(f"SELECT {', '.join(_COLUMNS[table])} FROM {table} ORDER BY {_ORDER[table]}").to_arrow_table()
    return [tuple(tuple(v) if isinstance(v, list) else v for v in row.values()) for row in t.to_pylist()]


def _tables(case: Path) -> dict[str, list[tuple]]:
    with Case(case, read_only=True) as db:
        return {t: _rows(db, t) for t in _ORDER}


def _same_tables(case: Path, ref: Reference) -> None:
    got = _tables(case)
    for t, rows in ref.tables.items():
        assert got[t] == rows, f"{t}: {len(got[t])} rows, the uninterrupted run {len(rows)}"


def _unenriched(rows: list[tuple]) -> set[tuple]:
    """Posts without the columns enrichment fills."""
    keep = [i for i, c in enumerate(_COLUMNS["posts"]) if c not in ENRICHED]
    return {tuple(r[i] for i in keep) for r in rows}


def _check_killed_case(case: Path, ref: Reference, ref_case: Path | None = None) -> str:
    """The invariants of a case after a kill, opened read-only; returns the phase the kill hit.

    ``ref_case``: the case the command started from (detect trials); its runs are not the killed one's.
    """
    if not case.exists():
        return "before the case was created"
    with Case(case, read_only=True) as db:
        tables = {r[0] for r in db.con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
        if "runs" not in tables:
            return "before the case was created"
        runs = db.con.execute("SELECT run_id, command, status, inputs FROM runs ORDER BY started_at").fetchall()
        got = {t: _rows(db, t) for t in _ORDER}
        pending = pending_posts(db) if "enrichment" in tables else len(got["posts"])
    finished = []
    for _, command, _, raw in runs:
        for i in json.loads(raw or "[]") if command == "ingest" else []:
            assert i["records"] == i["inserted"] + i["duplicates"] + i["quarantined"], i
            finished.append(i["path"])
    # nothing stored that an uninterrupted run does not store, and no post twice
    posts, ref_posts = _unenriched(got["posts"]), _unenriched(ref.tables["posts"])
    assert len(posts) == len(got["posts"]) and posts <= ref_posts, "a post differs from the uninterrupted run's"
    quarantine = set(got["quarantine"])
    assert len(quarantine) == len(got["quarantine"]) and quarantine <= set(ref.tables["quarantine"])
    assert set(got["actions"]) <= set(ref.tables["actions"]), "an action the uninterrupted run does not have"
    assert {r[:2] for r in got["accounts"]} <= {r[:2] for r in ref.tables["accounts"]}
    # every file a run finished is wholly there
    src = [c for c in _COLUMNS["posts"] if c not in ENRICHED].index("source_file")
    for path in finished:
        assert {r for r in ref_posts if r[src] == path} <= posts, f"{path}: posts missing"
        assert {r for r in ref.tables["quarantine"] if r[0] == path} <= quarantine, f"{path}: quarantine missing"
    # the killed command's runs: 'interrupted' as info shows them, unless the command had ended
    before = set()
    if ref_case is not None:
        with Case(ref_case, read_only=True) as db:
            before = {r for (r,) in db.con.execute("SELECT run_id FROM runs").fetchall()}
    shown = dict((r, s) for r, _, s in info(case).runs)
    mine = [r for r in runs if r[0] not in before]
    if not mine:
        return "before its first run began"
    run_id, command, status, raw = mine[-1]
    if status == "ok":  # ended: the whole command, or one of its runs before the next began (detect's duplicates)
        return "after its run ended" if command in ("ingest", "detect") else f"after {command}"
    assert shown[run_id] == "interrupted", shown
    if command == "ingest":
        if len(json.loads(raw or "[]")) < len(finished_in(ref)):
            return "while reading"
        return "while enriching" if pending or len(got["actions"]) < len(ref.tables["actions"]) else "at its end"
    return f"during {command}"


def finished_in(ref: Reference) -> set[str]:
    """The input files of the reference run."""
    return {r[_COLUMNS["posts"].index("source_file")] for r in ref.tables["posts"]} | {
        r[0] for r in ref.tables["quarantine"]
    }


def _after_rerun(case: Path) -> None:
    """Once the case was opened read-write the killed run is 'interrupted' in the table itself; the rerun is ok."""
    with Case(case, read_only=True) as db:
        statuses = [s for (s,) in db.con.execute("SELECT status FROM runs ORDER BY started_at").fetchall()]
    assert statuses[-1] == "ok" and set(statuses) <= {"ok", "interrupted"}, statuses


# -- the world and its reference runs ------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    root = tmp_path_factory.mktemp("faults")
    sc = generate(root / "input", PARAMS)
    # a file with bad records among good ones (and posts that repeat other files'): quarantine and duplicates
    first = (root / "input" / "x_v2_search.jsonl").read_text(encoding="utf-8").splitlines()[:3]
    bad = first + ['{"data": [{"id": "1", "text": "truncated', "not json at all", '{"data": [{"text": "no id"}]}']
    (root / "input" / "zz_bad.jsonl").write_text("\n".join(bad) + "\n", encoding="utf-8")
    inp = root / "input"
    ref_case = root / "reference.duckdb"
    seconds, enrich = _run("ingest", ref_case, inp)
    assert enrich is not None
    ingest_ref = Reference(_tables(ref_case), seconds, seconds - enrich)
    detected = root / "reference-detect.duckdb"
    shutil.copy(ref_case, detected)
    seconds, _ = _run("detect", detected, "--watchlist", sc.watchlist_path)
    found = json.loads(detected.with_name(detected.stem + ".findings.json").read_text(encoding="utf-8"))
    detect_ref = Reference(_tables(detected), seconds, findings=normalised(found, root))
    return World(root, inp, sc.watchlist_path, ingest_ref, detect_ref, ref_case)


def _report(command: str, phases: Counter) -> None:
    print(f"\n{command}: {sum(phases.values())} trials; killed " + ", ".join(f"{n} {p}" for p, n in phases.items()))


def _delays(ref_seconds: float, salt: int) -> list[float]:
    rng = random.Random(SEED + salt)
    return [rng.uniform(0, ref_seconds) for _ in range(TRIALS)]


def test_the_reference_runs(world: World):
    doc = json.loads(world.detect.findings)
    assert len([c for c in doc["campaigns"] if c["likely_inauthentic"]]) >= 2
    bad = [r for r in world.ingest.tables["quarantine"] if r[0].endswith("zz_bad.jsonl")]
    assert len(bad) == 3 and world.ingest.enrich_seconds > 0


def test_kill_ingest_at_random_points(world: World):
    phases: Counter[str] = Counter()
    for trial, delay in enumerate(_delays(world.ingest.seconds, 1)):
        case = world.root / f"ingest-{trial}.duckdb"
        _kill_after(("ingest", case, world.input), delay)
        phases[_check_killed_case(case, world.ingest)] += 1
        results = ingest(case, [world.input], progress=False)
        assert all(r.balanced for r in results)
        _same_tables(case, world.ingest)
        _after_rerun(case)
        case.unlink()
    _report("ingest", phases)
    assert phases["while reading"] + phases["while enriching"] >= TRIALS // 4, phases


def test_kill_ingest_while_enriching(world: World):
    phases: Counter[str] = Counter()
    for trial, delay in enumerate(_delays(world.ingest.enrich_seconds, 2)):
        case = world.root / f"enrich-{trial}.duckdb"
        _kill_after(("ingest", case, world.input), delay, after_marker=True)
        phases[_check_killed_case(case, world.ingest)] += 1
        ingest(case, [world.input], progress=False)
        _same_tables(case, world.ingest)
        _after_rerun(case)
        case.unlink()
    _report("enrich", phases)
    assert phases["while enriching"] >= TRIALS // 2, phases


def test_kill_detect_at_random_points(world: World):
    phases: Counter[str] = Counter()
    for trial, delay in enumerate(_delays(world.detect.seconds, 3)):
        case = world.root / f"detect-{trial}.duckdb"
        shutil.copy(world.ingested_case, case)
        out = case.with_name(case.stem + ".findings.json")
        _kill_after(("detect", case, "--watchlist", world.watchlist), delay)
        phases[_check_killed_case(case, world.detect, world.ingested_case)] += 1
        if out.exists():  # written atomically: the whole findings or none
            assert normalised(json.loads(out.read_text(encoding="utf-8")), world.root) == world.detect.findings
        found = detect(case, watchlist=world.watchlist)
        assert normalised(found, world.root) == world.detect.findings
        _same_tables(case, world.detect)
        _after_rerun(case)
        case.unlink()
        out.unlink()
    _report("detect", phases)
    assert phases["during duplicates"] + phases["during detect"] >= TRIALS // 4, phases


def test_no_enrich_then_ingest_again_enriches_everything(world: World, tmp_path: Path):
    """The issue's reproduction: --no-enrich (or a kill), then ingest again: every post enriched, once."""
    case = tmp_path / "case.duckdb"
    ingest(case, [world.input], progress=False, enrich=False)
    with Case(case, read_only=True) as db:
        assert db.count("actions") < len(world.ingest.tables["actions"]) // 4
    assert info(case).unenriched == len(world.ingest.tables["posts"])
    ingest(case, [world.input], progress=False)
    _same_tables(case, world.ingest)
    assert info(case).unenriched == 0
    ingest(case, [world.input], progress=False)  # idempotent: nothing added, nothing doubled
    _same_tables(case, world.ingest)


def test_posts_left_unenriched_are_enriched_by_detect(world: World, tmp_path: Path):
    case = tmp_path / "case.duckdb"
    ingest(case, [world.input], progress=False, enrich=False)
    found = detect(case, watchlist=world.watchlist)
    assert normalised(found, world.root) == world.detect.findings
    _same_tables(case, world.detect)
