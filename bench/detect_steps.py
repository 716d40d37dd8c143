"""Benchmark: where a detect run spends its time, step by step: wall time, CPU time, cores busy, peak memory.

    python bench/detect_steps.py CASE            # detect on a fresh copy of CASE (CASE is not changed)
    python bench/detect_steps.py CASE --in-place # detect on CASE itself

A fresh copy is the ingested case as a new user's first detect sees it: the
tables a detect run makes and reuses (the embeddings cache, the search index)
are dropped from the copy, so the translation stage embeds and the index is
built again. The table says, per step of ``pipeline.detect`` (its progress
labels): seconds, CPU seconds of every thread of the process, the cores they
kept busy (CPU / wall; at most the machine's cores) and the peak resident
memory sampled every 0.2 s while the step ran. A step at one core on a
two-core machine is the place to look for work that could run beside it;
a step at two cores is CPU-bound. Prints markdown; docs/benchmarks.md
quotes it by hand (no section is rewritten).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "bench"))

# tables a detect run makes and reuses on the next run; dropped from a fresh copy
REUSED = ("embeddings", "post_docs", "post_index", "post_objects", "post_terms")
SAMPLE_SECONDS = 0.2


@dataclass
class Step:
    label: str
    seconds: float
    cpu: float
    peak_mib: float

    @property
    def cores(self) -> float:
        return self.cpu / self.seconds if self.seconds > 0 else 0.0


def fresh_copy(case: Path, folder: Path) -> Path:
    """A copy of ``case`` in ``folder`` without the tables detect makes and reuses (``REUSED``)."""
    copy = folder / case.name
    shutil.copyfile(case, copy)
    wal = Path(f"{case}.wal")
    if wal.exists():
        shutil.copyfile(wal, Path(f"{copy}.wal"))
    con = duckdb.connect(str(copy))
    try:
        for table in REUSED:
            con.execute(f"DROP TABLE IF EXISTS {table}")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    return copy


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(case: Path, params=None) -> list[Step]:
    """Run ``pipeline.detect`` on ``case`` in this process; one ``Step`` per progress label, in order."""
    from swarmscope import pipeline

    marks: list[tuple[str, float, float]] = []
    peaks: list[float] = [0.0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            peaks[-1] = max(peaks[-1], _rss_mib())
            stop.wait(SAMPLE_SECONDS)

    def progress(label: str, done: int, total: int) -> None:  # each step's start; the last call: the end
        peaks[-1] = max(peaks[-1], _rss_mib())
        marks.append((label, time.perf_counter(), _cpu()))
        peaks.append(_rss_mib())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        pipeline.detect(case, params, progress=progress)
    finally:
        stop.set()
        sampler.join()
    # peaks[i + 1] belongs to the step that marks[i] started (peaks[0]: before the first step); the
    # last mark is detect's closing call, which starts no step
    pairs = enumerate(zip(marks, marks[1:]))
    return [Step(label, t1 - t0, c1 - c0, peaks[i + 1]) for i, ((label, t0, c0), (_, t1, c1)) in pairs]


def table(steps: list[Step]) -> str:
    total = Step("**detect**", sum(s.seconds for s in steps), sum(s.cpu for s in steps), max(s.peak_mib for s in steps))
    rows = ["| step | seconds | CPU s | cores | peak MiB |", "|---|---|---|---|---|"]
    for s in [*steps, total]:
        rows.append(f"| {s.label} | {s.seconds:.1f} | {s.cpu:.1f} | {s.cores:.2f} | {s.peak_mib:,.0f} |")
    return "\n".join(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("case", type=Path)
    ap.add_argument("--in-place", action="store_true", help="detect on CASE itself, not on a fresh copy")
    args = ap.parse_args()
    from common import machine

    if args.in_place:
        steps = measure(args.case)
    else:
        with tempfile.TemporaryDirectory(prefix="detect-steps-", dir=args.case.parent) as tmp:
            steps = measure(fresh_copy(args.case, Path(tmp)))
    print(f"{args.case}: {machine()}")
    print(table(steps))


if __name__ == "__main__":
    main()
