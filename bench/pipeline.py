"""The whole job a user runs, stage by stage: ingest -> detect -> report -> export (json, stix).

    python bench/pipeline.py [--posts 1000000 3000000 10000000] [--ira] [--no-write] [--terminal]

Simulated cases (several platforms, the three planted operations among an
organic crowd and a fan crowd; src/swarmscope/simulate) of each size, and
with ``--ira`` the real IRA archive in ../shared/data/ira_english (1.67M
tweets, no language tags, a gzipped generic CSV). Each stage runs in a fresh
process, through the CLI a user types, so its time includes start-up and its
peak RSS is its own. Target (issue #24): 10M posts under 10 minutes and 8 GiB
on 2 cores, each stage growing close to linearly from 1M to 10M; the IRA
archive under 60 s.

``--terminal``: each stage's stderr is a pseudo-terminal, so its progress bars draw as for a user, and
the longest time its display stood still (clocks excluded; bench/terminal.py) is a column of the table
(target: 10 s); each stage's changes of display are kept in ``<stage>.progress`` beside the case.

Writes the "pipeline" section of docs/benchmarks.md (unless ``--no-write``).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, machine, table, write_section

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CLI = [sys.executable, "-m", "swarmscope"]


ENGINE: list[str] = []  # detect's engine options (--spark-master)
TERMINAL: list[bool] = []  # [True] with --terminal


def scenario_params(posts: int):
    """Demo-like scenario scaled to about ``posts`` posts: the organic crowd grows, the operations keep their
    size (a real operation is a small part of a large case), one account per 8 organic posts."""
    from swarmscope.simulate import ScenarioParams

    organic = max(posts - 10_000, 5_000)
    return ScenarioParams(
        seed=7,
        n_organic_posts=organic,
        n_organic_accounts=max(organic // 8, 1_500),
        n_tiktok_organic_videos=max(organic // 100, 1_500),
    )


def stage(name: str, args: list[str], log: Path) -> dict:
    """Run one CLI stage in a fresh process under /usr/bin/time: wall seconds and the process's own peak RSS."""
    timing = log.with_suffix(".time")
    with log.open("a") as f:
        f.write(f"$ swarmscope {' '.join(args)}\n")
        f.flush()
        t = time.perf_counter()
        cmd = ["/usr/bin/time", "-f", "%M", "-o", str(timing), *CLI, *args]
        quiet = None
        if TERMINAL:
            import terminal

            code, _, quiet = terminal.run(cmd, stdout=f, record=log.with_name(f"{name.replace(' ', '_')}.progress"))
        else:
            code = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT).returncode
        seconds = time.perf_counter() - t
    if code:
        raise RuntimeError(f"{name} exited {code}; see {log}")
    peak = int(timing.read_text().split()[-1]) / 1024  # KiB -> MiB
    row = {"stage": name, "seconds": seconds, "peak": f"{peak:,.0f}"}
    said = ""
    if quiet:
        row["silence"] = f"{quiet[0].seconds:.1f}"
        said = f", longest silence {quiet[0].seconds:.1f} s from {quiet[0].start:.1f} s: {quiet[0].shown[:100]!r}"
    print(f"  {name}: {seconds:,.1f} s, peak {peak:,.0f} MiB{said}", flush=True)
    return row


def run_case(label: str, inputs: list[Path], ingest_opts: list[str], work: Path) -> list[dict]:
    if ENGINE:
        label += f" (detect on {' '.join(ENGINE[1::2])})"
    case = work / "case.duckdb"
    for f in work.glob("case*"):
        f.unlink() if f.is_file() else shutil.rmtree(f)
    log = work / "pipeline.log"
    log.unlink(missing_ok=True)
    print(f"{label}:", flush=True)
    rows = [
        stage("ingest", ["ingest", str(case), *map(str, inputs), *ingest_opts], log),
        stage("detect", ["detect", str(case), *ENGINE], log),
        stage("report", ["report", str(case), "-o", str(work / "case.report.html")], log),
        stage("export json", ["export", str(case), "-f", "json", "-o", str(work / "case.export.json")], log),
        stage("export stix", ["export", str(case), "-f", "stix", "-o", str(work / "case.stix.json")], log),
    ]
    info = json.loads(subprocess.run([*CLI, "info", str(case), "--json"], capture_output=True, text=True).stdout)
    findings = json.loads((work / "case.findings.json").read_text())
    for r in rows:
        r |= {"case": label, "posts": info["posts"], "campaigns": len(findings["campaigns"])}
    return rows


def simulated(posts: int) -> list[dict]:
    from swarmscope.simulate import generate

    work = OUT / f"pipeline_{posts}"
    data = work / "input"
    if not (data / "truth.json").exists():
        print(f"generating about {posts:,} posts -> {data}", flush=True)
        shutil.rmtree(data, ignore_errors=True)
        generate(data, scenario_params(posts))
    inputs = sorted(p for p in data.iterdir() if p.is_file() and p.name not in ("truth.json", "watchlist.csv"))
    return run_case(f"simulated {posts:,}", inputs, [], work)


def ira() -> list[dict]:
    src = SHARED / "ira_english" / "ira_english.csv.gz"
    if not src.exists():
        print(f"skipped: {src} not found")
        return []
    work = OUT / "pipeline_ira"
    work.mkdir(parents=True, exist_ok=True)
    opts = ["--format", "generic_table", "--platform", "x"]
    for m in ("post_id=post_id", "account_id=author_id", "handle=author_id", "text=content"):
        opts += ["--map", m]
    opts += ["--map", "created_at=publish_date", "--map", "kind=kind"]
    return run_case("IRA English (real, 1.67M)", [src], opts, work)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, nargs="*", default=[1_000_000, 3_000_000, 10_000_000])
    ap.add_argument("--ira", action="store_true", help="also the real IRA archive (../shared/data/ira_english)")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/benchmarks.md alone")
    ap.add_argument(
        "--spark-master", help="detect with --engine spark on this master (e.g. local[2]); use with --no-write"
    )
    ap.add_argument("--terminal", action="store_true", help="stderr on a pseudo-terminal: the bars' longest silence")
    args = ap.parse_args()
    if args.terminal:
        TERMINAL.append(True)
    if args.spark_master:
        ENGINE.extend(["--engine", "spark", "--master", args.spark_master])
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in args.posts:
        rows += simulated(n)
    if args.ira:
        rows += ira()
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["case"]] = totals.get(r["case"], 0.0) + r["seconds"]
    body = [
        [r["case"], f"{r['posts']:,}", r["stage"], f"{r['seconds']:,.1f}", r["peak"], f"{r['campaigns']:,}"]
        + ([r.get("silence", "")] if TERMINAL else [])
        for r in rows
    ]
    blank = [""] if TERMINAL else []
    body += [[case, "", "**total**", f"**{s:,.1f}**", "", "", *blank] for case, s in totals.items()]
    headers = ["case", "posts", "stage", "seconds", "peak MiB", "campaigns"]
    headers += ["longest silence s (bench/terminal.py)"] if TERMINAL else []
    md = (
        "## Whole pipeline (bench/pipeline.py)\n\n"
        f"Machine: {machine()}.\n\n"
        "Each stage is the CLI command a user types, in a fresh process (start-up included); peak: that "
        "process's maximum resident set size (/usr/bin/time).\n\n" + table(headers, body)
    )
    print(md)
    if not args.no_write:
        write_section("pipeline", md)


if __name__ == "__main__":
    main()
