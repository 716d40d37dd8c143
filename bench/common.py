"""Shared by the benchmarks: machine facts, peak memory of a child run, writing docs/benchmarks.md."""

from __future__ import annotations

import datetime as dt
import os
import platform
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "benchmarks.md"
OUT = ROOT / "bench" / "out"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{os.cpu_count()} cores ({cpu}), {mem_gib:.0f} GiB RAM, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}; run {dt.date.today().isoformat()}"
    )


def fresh_case(name: str) -> Path:
    """A case path under OUT with no database (nor WAL) left from an earlier run."""
    case = OUT / name
    for f in (case, Path(str(case) + ".wal")):
        f.unlink(missing_ok=True)
    return case


def answer_child(child: str | None, handlers: dict) -> bool:
    """In a bench's child process (``--child '["kind", args...]'``): run ``handlers[kind](*args)`` and print
    its result as the last line of JSON. False when this process is not a child."""
    if not child:
        return False
    import json

    kind, *rest = json.loads(child)
    print(json.dumps(handlers[kind](*rest)))
    return True


def run_child(code: str) -> tuple[float, float, str]:
    """Run Python ``code`` in a fresh process; returns (seconds, peak RSS in MiB, stdout)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - t
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of children is the max over all children so far: run each measurement in order
    return seconds, max(peak, before) / 1024, proc.stdout


def write_section(name: str, markdown: str) -> None:
    """Replace (or append) the section between ``<!-- bench:name -->`` markers in docs/benchmarks.md."""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n\nFigures written by `bench/*.py` (`make bench`).\n"
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    if start in text:
        text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda m: block, text, flags=re.S)
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    DOC.write_text(text)


def table(headers: list[str], rows: list[list[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)
