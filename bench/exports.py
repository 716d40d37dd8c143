"""Export timings: every format on one case, and STIX as the findings grow.

    python bench/exports.py [--case CASE] [--copies 1 2 4 8] [--repeat 3]

Without ``--case`` the demo case is built under bench/out (``swarmscope demo``). The copies table runs
``write_stix`` on the case's findings with their campaigns copied k times (new campaign, account and signal
ids), so only the size of the findings changes: the time should grow in step with it, not with its square
(docs/benchmarks.md, "Exports"). Prints JSON lines; the section in docs/benchmarks.md is written by hand from
them, with the machine's load.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import OUT, machine


def median_seconds(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - t)
    return round(statistics.median(runs), 2)


def copied(base: dict, k: int) -> dict:
    """``base``'s campaigns and signals k times over, each copy with its own ids."""
    f = copy.deepcopy(base)
    f["campaigns"], f["signals"] = [], []
    for i in range(k):
        renamed = {}
        for s in base["signals"]:
            s2 = copy.deepcopy(s)
            s2["id"] = renamed[s["id"]] = f"{s['id']}_{i}"
            s2["campaign"] = f"{s['campaign']}_{i}" if s.get("campaign") else None
            s2["accounts"] = [[p, f"{a}_{i}"] for p, a in s.get("accounts") or []]
            f["signals"].append(s2)
        for c in base["campaigns"]:
            c2 = copy.deepcopy(c)
            c2["id"] = f"{c['id']}_{i}"
            c2["signals"] = [renamed[x] for x in c.get("signals") or []]
            for a in c2["accounts"]:
                a["account_id"] += f"_{i}"
                a["signals"] = [renamed[x] for x in a.get("signals") or []]
            f["campaigns"].append(c2)
    return f


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", type=Path)
    ap.add_argument("--copies", type=int, nargs="*", default=[1, 2, 4, 8])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from swarmscope.export import export
    from swarmscope.findings import load_findings
    from swarmscope.report.stix import write_stix

    case = args.case
    if case is None:
        case = OUT / "exports_demo" / "case.duckdb"
        if not case.exists():
            from swarmscope.demo import demo

            demo(case.parent, seed=7)
    findings = load_findings(case)
    print(json.dumps({"machine": machine(), "case": str(case), "campaigns": len(findings["campaigns"])}))
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, name in (("stix", "s.json"), ("gexf", "g.gexf"), ("graphml", "g.graphml"), ("csv", "csv")):
            seconds = median_seconds(lambda fmt=fmt, name=name: export(case, fmt, Path(tmp) / name), args.repeat)
            print(json.dumps({"format": fmt, "seconds": seconds}), flush=True)
        for k in args.copies:
            f = copied(findings, k)
            accounts = sum(len(c["accounts"]) for c in f["campaigns"])
            seconds = median_seconds(lambda f=f: write_stix(f, Path(tmp) / "k.json"), 1)
            size = (Path(tmp) / "k.json").stat().st_size / 2**20
            print(
                json.dumps(
                    {"copies": k, "campaigns": len(f["campaigns"]), "accounts": accounts, "mb": round(size, 1)}
                    | {"stix_seconds": seconds}
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
