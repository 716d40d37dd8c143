"""Importers, one module per input format, auto-detected; ``ingest()`` runs them into a case.

Only this package knows platform formats. See base.py for the importer
contract and docs/formats.md for each format's fields and rules.
"""

from __future__ import annotations

import hashlib
import importlib
import mmap
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

from .. import model
from ..memory import without_huge_pages
from ..progress import progress_bar
from ..store import Case
from .base import SNIFF_BYTES, IngestError, ReadOptions, as_dict, classic_retweets, read_ahead

# Order matters for detection: the more specific formats first.
_MODULES = (
    "zeeschuimer",  # its lines wrap other platforms' items: it must see them first
    "x_v2",
    "telegram_desktop",
    "telethon_json",
    "tiktok",
    "youtube",
    "bluesky",
    "vk",
    "x_archive",
    "coortweet_csv",
    "cnt_csv",
    "youtube_tools_csv",
    "crowdtangle_csv",
    "fourcat_csv",
    "telethon_csv",  # its columns vary by scraper: only files no specific CSV format claims
    "generic_table",
)


def formats() -> dict[str, ModuleType]:
    """The importers available, by format name, in detection order."""
    out = {}
    for name in _MODULES:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue  # not built yet
            raise
        out[mod.NAME] = mod
    return out


def supported() -> str:
    return "; ".join(f"{n} ({m.DESCRIPTION})" for n, m in formats().items())


def detect_format(path: Path) -> ModuleType:
    """The importer for ``path``, or IngestError naming the file and listing supported formats."""
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    if not head.strip():
        raise IngestError(f"{path}: empty file")
    for mod in formats().values():
        if mod.sniff(path, head):
            return mod
    raise IngestError(
        f"{path}: unknown format. Supported formats: {supported()}. "
        "Force one with --format NAME (and --map for a generic CSV/Parquet)."
    )


def sha256_file(path: Path) -> str:
    # The file's pages hashed where they are: no copy, no fresh buffer pages. One 16 MiB map
    # at a time, so the mapped file never counts whole in the process's memory. hashlib
    # releases the GIL on big buffers, so this runs beside the reader.
    h = hashlib.sha256()
    step = 1 << 24  # a multiple of mmap.ALLOCATIONGRANULARITY
    with open(path, "rb", buffering=0) as fh:
        size = os.fstat(fh.fileno()).st_size
        try:
            for at in range(0, size, step):
                with mmap.mmap(fh.fileno(), min(step, size - at), access=mmap.ACCESS_READ, offset=at) as mm:
                    h.update(mm)
        except (ValueError, OSError):  # not a regular file, or one that changed under us: read it
            h = hashlib.sha256()
            fh.seek(0)
            buf = bytearray(1 << 20)
            view = memoryview(buf)
            while n := fh.readinto(buf):
                h.update(view[:n])
    return h.hexdigest()


def expand_paths(paths: list[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and not f.name.startswith(".")))
        elif p.exists():
            out.append(p)
        else:
            raise IngestError(f"{p}: no such file or directory")
    return out


def ingest(
    case: str | Path,
    paths: list[str | Path],
    format: str | None = None,
    options: ReadOptions | None = None,
    progress: bool = True,
    enrich: bool = True,
) -> list[model.IngestCounts]:
    """Read ``paths`` into the case at ``case``; returns per-input counts.

    Each batch is one transaction. A file whose format cannot be read is not
    fatal: it gets a quarantine row with the reason, and the others go on.
    """
    options = options or ReadOptions()
    files = expand_paths(paths)
    fmts = formats()
    if format is not None and format not in fmts:
        raise IngestError(f"unknown format {format!r}. Supported formats: {supported()}")
    results: list[model.IngestCounts] = []
    with Case(case) as db:
        run_id = db.begin_run("ingest", {"paths": [str(p) for p in files], "format": format, **as_dict(options)})
        status = "failed"
        try:
            total = sum(f.stat().st_size for f in files)
            with progress_bar(total, "ingest", enabled=progress) as advance, db.bulk_load(), without_huge_pages():
                for path in files:
                    results.append(_ingest_one(db, run_id, path, format, fmts, options, advance))
            if enrich:
                from ..enrich import enrich_run

                enrich_run(db, run_id, progress=progress)
            status = "ok"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            db.end_run(run_id, [asdict(r) for r in results], status)
    return results


def _ingest_one(
    db: Case,
    run_id: str,
    path: Path,
    format: str | None,
    fmts: dict[str, ModuleType],
    options: ReadOptions,
    advance: Any,
) -> model.IngestCounts:
    try:
        mod = fmts[format] if format else detect_format(path)
    except IngestError as e:
        digest = sha256_file(path)
        q = model.conform(
            pa.table(
                {
                    "source_file": [str(path)],
                    "record": pa.array([None], pa.int64()),
                    "reason": [str(e).removeprefix(f"{path}: ")],
                    "excerpt": [_head_excerpt(path)],
                }
            ),
            "quarantine",
        )
        db.append(quarantine=q, run_id=run_id)
        advance(path.stat().st_size)
        return model.IngestCounts(str(path), "unknown", digest, 1, 0, 0, 1, 0)
    records = inserted = duplicates = quarantined = accounts = 0
    seen = 0
    # The reader runs one batch ahead in its own thread (read_ahead), and the hash in
    # another (hashlib releases the GIL) from the start: the first segment's parse (x_v2)
    # leaves part of the second core idle, and the hash fills it (1M X posts: 0.1-0.4 s).
    with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
        hashing = pool.submit(sha256_file, path)
        for batch in read_ahead(mod.read(path, options)):
            records += batch.records  # counted by the reader; the store counts the rest
            # formats without a retweet field mark retweets only by their "RT @handle:" text
            posts = classic_retweets(batch.posts) if getattr(mod, "CLASSIC_RETWEETS", False) else batch.posts
            res = db.append(posts, batch.accounts, batch.quarantine, run_id=run_id)
            if batch.extra_actions is not None and batch.extra_actions.num_rows:
                db.append_actions(batch.extra_actions)
            if batch.record_kind == "posts":
                inserted += res.inserted
                duplicates += res.duplicates
            else:  # an accounts file: an account row is stored (merged) or a repeat within the batch
                inserted += res.accounts
                duplicates += res.account_rows - res.accounts
            quarantined += res.quarantined
            accounts += res.accounts
            advance(batch.bytes_done - seen)
            seen = batch.bytes_done
        digest = hashing.result()
    advance(path.stat().st_size - seen)
    return model.IngestCounts(str(path), mod.NAME, digest, records, inserted, duplicates, quarantined, accounts)


def _head_excerpt(path: Path) -> str:
    with open(path, "rb") as fh:
        return fh.read(model.EXCERPT_CHARS).decode("utf-8", errors="replace")


__all__ = ["IngestError", "ReadOptions", "detect_format", "formats", "ingest", "read_ahead", "supported"]
