"""Importers, one module per input format, auto-detected; ``ingest()`` runs them into a case.

Only this package knows platform formats. See base.py for the importer
contract and docs/formats.md for each format's fields and rules.

Why this module is long: detection and the per-file loop (hashing, the
time window, the store's counts, the per-file safety nets, compressed
inputs' shares and copies) read as one story; the nets themselves are in
guard.py, compressed inputs in compressed.py, folder walking in inputs.py.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import mmap
import os
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

from .. import model
from ..memory import without_huge_pages
from ..progress import progress_bar, step_bar
from ..store import Case
from .base import (
    FIRST_STORE_POSTS,
    MAX_RECORD_BYTES,
    SNIFF_BYTES,
    Batch,
    IngestError,
    ReadOptions,
    as_dict,
    classic_retweets,
    coalesce,
    make_batch,
    read_ahead,
)
from .bounds import bound_times, describe_notes
from .compressed import Packed, expand, nested_reason, open_input
from .guard import guarded, refused
from .inputs import Input, walk
from .unpacked import materialise, release, sweep

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


_BOM = b"\xef\xbb\xbf"


def detect_format(path: Path | Packed, max_record_bytes: int = MAX_RECORD_BYTES) -> ModuleType:
    """The importer for ``path``, or IngestError naming the file and listing supported formats.

    The file's first ``SNIFF_BYTES`` decide. Where no format claims them, two
    second looks: a first record longer than the head is read whole (up to
    ``max_record_bytes``: its keys may come after a long text), and the head
    after the first line is tried (a first record too broken or too deeply
    nested to tell; the reader then quarantines it). A sniffer that fails
    (e.g. RecursionError on a record nested thousands deep) does not claim
    the file. Bounded: at most the longest record plus ``SNIFF_BYTES`` is read.
    A compressed input is sniffed on its decompressed head; one that is
    itself an archive (nested) is not read; one damaged where no format
    could be told says so.
    """
    try:
        return _detect(path, max_record_bytes)
    except IngestError as e:
        problem = path.problem if isinstance(path, Packed) else None
        if problem is None or problem in str(e):
            raise
        raise IngestError(f"{problem}; what could be read matches no format") from None


def _detect(path: Path | Packed, max_record_bytes: int) -> ModuleType:
    with open_input(path) as fh:
        head = fh.read(SNIFF_BYTES)
        if not head.strip():
            raise IngestError(f"{path}: empty file")
        nested = nested_reason(path, head)
        if nested is not None:
            raise IngestError(f"{path}: {nested}")
        mod = _sniff(path, head)
        if mod is not None:
            return mod
        too_long = False
        if b"\n" not in head and len(head) == SNIFF_BYTES:  # the first record goes on past the head
            rest = fh.readline(max_record_bytes)
            too_long = len(head) + len(rest) > max_record_bytes and not rest.endswith(b"\n")
            if not too_long:
                head += rest + fh.read(SNIFF_BYTES)
                mod = _sniff(path, head)
                if mod is not None:
                    return mod
    after_first = head.removeprefix(_BOM).lstrip().partition(b"\n")[2]
    if after_first.strip():
        mod = _sniff(path, after_first)
        if mod is not None:
            return mod
    if too_long:
        raise IngestError(
            f"{path}: unknown format: the first record is longer than {max_record_bytes:,} bytes (the maximum "
            "record size) and its start matches no format. Force one with --format NAME "
            "(`swarmscope formats` lists them)."
        )
    raise IngestError(
        f"{path}: unknown format. Supported formats: {supported()}. "
        "Force one with --format NAME (and --map for a generic CSV/Parquet)."
    )


def _sniff(path: Path, head: bytes) -> ModuleType | None:
    for mod in formats().values():
        try:
            if mod.sniff(path, head):
                return mod
        except (ValueError, RecursionError, UnicodeError, MemoryError):  # the sniffer cannot tell: not claimed
            continue
    return None


def sha256_file(path: Path | Packed) -> str:
    """The sha256 of the file as given (of the compressed file or the archive, for a Packed input)."""
    if isinstance(path, Packed):
        path = path.container
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
    """The regular files ``paths`` name (folders walked); what is not read is in ``inputs.walk``."""
    return [i.path for i in walk(paths) if i.skip is None]


@dataclass(frozen=True)
class IngestResult(model.IngestCounts):
    """One input's counts, and what the analyst should know about it.

    ``reasons``: the most frequent quarantine reasons of this input (at most 3,
    with counts); ``notes``: fields set to NULL and other changes that are not
    records (e.g. account times outside the plausible window).
    """

    reasons: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = ()
    forced: bool = False  # the format was forced with --format

    @property
    def failed(self) -> bool:
        """Nothing usable read: not read at all, or every record quarantined."""
        return self.format in ("unknown", "skipped") or (self.records > 0 and self.inserted + self.duplicates == 0)


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
    inputs = walk(paths)
    files = [i.path for i in inputs if i.skip is None]
    fmts = formats()
    if format is not None and format not in fmts:
        raise IngestError(f"unknown format {format!r}. Supported formats: {supported()}")
    results: list[IngestResult] = []
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with ExitStack() as archives, Case(case) as db:
        items: list[Input] = []  # a compressed file is one input, an archive one per member
        for i in inputs:
            if i.skip is not None:
                items.append(i)
                continue
            entries, archive = expand(i.path, options)
            if archive is not None:
                archives.callback(archive.close)
            items.extend(Input(e.path, e.skip) for e in entries)  # type: ignore[arg-type]
        skipped = [{"path": str(i.path), "reason": i.skip} for i in items if i.skip is not None]
        sweep(db.path.parent)  # unpacked copies an ingest killed earlier left behind
        digests: dict[Path, str] = {}
        params = {"paths": [str(p) for p in files], "format": format, **as_dict(options)}
        run_id = db.begin_run("ingest", {**params, "skipped": skipped} if skipped else params)
        status = "failed"
        # languages are detected as each batch is stored, and enrich_pending reads none of those texts again
        known: dict[str, str | None] | None = {} if enrich else None
        try:
            total = sum(f.stat().st_size for f in files)
            noted = time.monotonic()
            with progress_bar(total, "ingest", enabled=progress) as advance, db.bulk_load(), without_huge_pages():
                for item in items:
                    if item.skip is not None:
                        results.append(_skip(db, run_id, item))
                    else:
                        results.append(
                            _ingest_one(db, run_id, item.path, format, fmts, options, advance, now, digests, known)
                        )
                    # each finished file's counts, so a run killed later still shows them (at most every 2 s
                    # once there are many: the list is rewritten whole)
                    if len(results) <= 100 or time.monotonic() - noted >= 2:
                        db.record_inputs(run_id, [asdict(r) for r in results if r.format != "skipped"])
                        noted = time.monotonic()
            if enrich:  # this run's posts, and any an earlier run left without enrichment (killed, --no-enrich)
                from ..enrich import enrich_pending

                enrich_pending(db, progress=progress, known=known)
            # what closing the case would write (DuckDB's checkpoint: 12 s after 10M posts), said on the bar
            with step_bar("ingest", enabled=progress) as bar:
                bar("writing the case to disk", 0, 1)
                db.con.execute("CHECKPOINT")
            status = "ok"
        except KeyboardInterrupt:
            status = "interrupted"
            raise
        finally:
            # an input never opened has no content hash: it is in the run's parameters ("skipped")
            db.end_run(run_id, [asdict(r) for r in results if r.format != "skipped"], status)
    return results


def explain(
    results: list[IngestResult], case: str | Path, named: list[str | Path] | None = None
) -> tuple[list[str], list[str]]:
    """(errors, warnings) about an ingest's inputs, each naming the file, the reason and the fix.

    An error is an input opened of which nothing usable was read (unknown
    format, every record quarantined), or a command that read no input at
    all: the command should exit non-zero. An entry of a folder that was not
    opened (a symlink out of it, a FIFO), or a file of a folder in no known
    format (a README next to the exports), is a warning when something else
    was read: the folder was read. ``named``: the paths given on the command
    line (a file named there and not understood is always an error).
    """
    errors: list[str] = []
    warnings: list[str] = []
    nothing_read = all(r.format == "skipped" for r in results)
    anything_read = any(not r.failed for r in results)
    named_files = {str(Path(p)) for p in named} if named is not None else None
    for r in results:
        top = "; ".join(f"{n:,} x {reason}" for reason, n in r.reasons)
        look = (
            f"Inspect them with `swarmscope info {case}` or, in DuckDB, "
            f"SELECT record, reason, excerpt FROM quarantine WHERE source_file = '{r.path}'"
        )
        if r.format == "skipped":
            (errors if nothing_read else warnings).append(f"{r.path}: {r.reasons[0][0]}")
        elif r.format == "unknown" and named_files is not None and r.path not in named_files and anything_read:
            warnings.append(
                f"{r.path}: not read, in no known format (`swarmscope formats` lists them; --format forces one)"
            )
        elif r.format == "unknown":
            errors.append(f"{r.path}: {r.reasons[0][0]}")
        elif r.failed:
            hint = ""
            if r.forced and r.format == "generic_table":
                hint = " Check each --map source column against the file's columns."
            elif r.forced:
                hint = (
                    f" The file may not be in format {r.format}: run without --format to detect it "
                    "(`swarmscope formats` lists them)."
                )
            errors.append(
                f"{r.path}: nothing stored: all {r.quarantined:,} record(s) quarantined ({top}).{hint} {look}"
            )
        elif r.quarantined:
            warnings.append(f"{r.path}: {r.quarantined:,} of {r.records:,} records quarantined ({top}). {look}")
        warnings.extend(f"{r.path}: {note}" for note in r.notes)
    return errors, warnings


def _skip(db: Case, run_id: str, item: Input) -> IngestResult:
    """An input not read (a symlink out of the folder, a FIFO...): one quarantine row saying why; never opened."""
    q = pa.table(
        {
            "source_file": [str(item.path)],
            "record": pa.array([None], pa.int64()),
            "reason": [f"skipped: {item.skip}"],
            "excerpt": [""],
        }
    )
    db.append(quarantine=model.conform(q, "quarantine"), run_id=run_id)
    return IngestResult(str(item.path), "skipped", "", 1, 0, 0, 1, 0, reasons=((f"skipped: {item.skip}", 1),))


def _ingest_one(
    db: Case,
    run_id: str,
    path: Path | Packed,
    format: str | None,
    fmts: dict[str, ModuleType],
    options: ReadOptions,
    advance: Any,
    now: dt.datetime | None = None,
    digests: dict[Path, str] | None = None,
    known: dict[str, str | None] | None = None,
) -> IngestResult:
    packed = path if isinstance(path, Packed) else None
    real = packed.container if packed is not None else path
    digests = {} if digests is None else digests
    # the bar counts the bytes of the files as given: a compressed input advances it by the compressed
    # bytes its reader has consumed (its reader counts decompressed bytes), up to its share of its file
    step = advance if packed is None else (lambda n: None)
    try:
        try:
            mod = fmts[format] if format else detect_format(path, options.max_record_bytes)
            if packed is not None and _needs_file(mod, path):
                materialise(packed, db.path.parent)
        except OSError as e:
            raise IngestError(f"{path}: cannot read ({e.strerror or e})") from e
    except IngestError as e:
        reason = str(e).removeprefix(f"{path}: ")
        try:
            digest, excerpt = _digest(real, digests), _head_excerpt(path)
        except OSError:
            return _skip(db, run_id, Input(path, reason))  # type: ignore[arg-type]
        q = pa.table(
            {
                "source_file": [str(path)],
                "record": pa.array([None], pa.int64()),
                "reason": [reason],
                "excerpt": [excerpt],
            }
        )
        db.append(quarantine=model.conform(q, "quarantine"), run_id=run_id)
        if packed is not None:
            release(packed)
        advance(packed.share if packed is not None else path.stat().st_size)
        return IngestResult(str(path), "unknown", digest, 1, 0, 0, 1, 0, reasons=((reason, 1),))
    records = inserted = duplicates = quarantined = accounts = 0
    seen = shown = 0
    reasons: Counter[str] = Counter()
    bounded: Counter[str] = Counter()
    # The reader runs one batch ahead in its own thread (read_ahead), and the hash in
    # another (hashlib releases the GIL) from the start: the first segment's parse (x_v2)
    # leaves part of the second core idle, and the hash fills it (1M X posts: 0.1-0.4 s).
    # An ingest that enriches detects the missing languages in a third, one batch behind the
    # reader and one ahead of the store (_with_languages).
    batches = read_ahead(coalesce(mod.read(path, options), first_posts=FIRST_STORE_POSTS))
    if known is not None:
        batches = read_ahead(_with_languages(batches, known))
    try:
        with ThreadPoolExecutor(1, thread_name_prefix="sha256") as pool:
            hashing = pool.submit(_digest, real, digests)
            for batch in guarded(batches, path):
                before = records
                records += batch.records  # counted by the reader; the store counts the rest
                try:
                    res, stored = _store(db, run_id, mod, batch, bounded, now)
                except (KeyboardInterrupt, MemoryError):
                    raise
                except Exception as e:  # the store refused the batch (rolled back): quarantine it, end the file
                    q = refused(path, batch, e, before)
                    db.append(quarantine=q, run_id=run_id)  # a store that refuses this too is broken: raise
                    records += 1
                    quarantined += q.num_rows
                    reasons.update(q["reason"].to_pylist())
                    break
                if stored.quarantine.num_rows and len(reasons) < 1000:
                    for row in stored.quarantine["reason"].value_counts().to_pylist():
                        reasons[row["values"]] += row["counts"]
                if batch.record_kind == "posts":
                    inserted += res.inserted
                    duplicates += res.duplicates
                else:  # an accounts file: an account row is stored (merged) or a repeat within the batch
                    inserted += res.accounts
                    duplicates += res.account_rows - res.accounts
                quarantined += res.quarantined
                accounts += res.accounts
                if batch.bytes_done > seen:
                    step(batch.bytes_done - seen)
                    seen = batch.bytes_done
                if packed is not None and packed.progress() > shown:
                    advance(packed.progress() - shown)  # a 100 MB gzip stood still for 29 s, then jumped
                    shown = packed.progress()
                if stored.extra_actions is not None and stored.extra_actions.num_rows:
                    try:
                        db.append_actions(stored.extra_actions)
                    except (KeyboardInterrupt, MemoryError):
                        raise
                    except Exception as e:  # the posts are stored; their stated actions are not
                        q = refused(path, make_batch(None, None, None), e, records)
                        db.append(quarantine=q, run_id=run_id)
                        records += 1
                        quarantined += 1
                        reasons.update(q["reason"].to_pylist())
                        break
            digest = hashing.result()
        if packed is not None and packed.problem is not None:  # damaged compressed data, or over the cap
            q = pa.table(
                {
                    "source_file": [str(path)],
                    "record": pa.array([None], pa.int64()),
                    "reason": [packed.problem],  # it names the file (and the member) itself
                    "excerpt": [""],
                }
            )
            res = db.append(quarantine=model.conform(q, "quarantine"), run_id=run_id)
            records += 1
            quarantined += 1
            reasons[packed.problem] += 1
    finally:
        if packed is not None:
            release(packed)
    advance(packed.share - shown if packed is not None else path.stat().st_size - seen)
    return IngestResult(
        str(path),
        mod.NAME,
        digest,
        records,
        inserted,
        duplicates,
        quarantined,
        accounts,
        reasons=tuple(reasons.most_common(3)),
        notes=tuple(describe_notes(bounded)),
        forced=format is not None,
    )


def _store(
    db: Case,
    run_id: str,
    mod: ModuleType,
    batch: Batch,
    bounded: Counter[str],
    now: dt.datetime | None,
) -> tuple[Any, Batch]:
    """Check one batch's times and append it (one transaction): the store's counts, the batch as checked."""
    batch, notes = bound_times(batch, now)  # posts dated outside the plausible window: quarantined
    # formats without a retweet field mark retweets only by their "RT @handle:" text
    posts = classic_retweets(batch.posts) if getattr(mod, "CLASSIC_RETWEETS", False) else batch.posts
    res = db.append(posts, batch.account_tables, batch.quarantine, run_id=run_id)
    bounded.update(notes)
    return res, batch


def _with_languages(batches: Iterator[Batch], known: dict[str, str | None]) -> Iterator[Batch]:
    """The batches with their posts' missing languages detected (enrich.detect_batch_languages).

    Each post is then stored with its language: filling it after the ingest read every text back
    from the case and rewrote the stored rows. Its own in-memory DuckDB connection: it runs in a
    thread of its own (CLD2 and DuckDB release the GIL), beside the reader and the store.
    """
    from ..enrich import detect_batch_languages
    from ..store import connect

    con = connect()
    try:
        for batch in batches:
            if batch.posts.num_rows:
                batch = replace(batch, posts=detect_batch_languages(con, batch.posts, known))
            yield batch
    finally:
        con.close()
        batches.close()  # the reader's thread stops too when the store stops early


def _needs_file(mod: ModuleType, path: Packed) -> bool:
    """Formats read at random offsets get a real (temporary) file: Parquet, Telegram Desktop's result.json."""
    if getattr(mod, "NEEDS_FILE", False):
        return True
    if mod.NAME == "generic_table":
        with open_input(path) as fh:
            return fh.read(4) == b"PAR1"
    return False


def _digest(path: Path, digests: dict[Path, str]) -> str:
    """sha256 of the file as given, once per file (an archive's members share it)."""
    if path not in digests:
        digests[path] = sha256_file(path)
    return digests[path]


def _head_excerpt(path: Path | Packed) -> str:
    with open_input(path) as fh:
        return fh.read(model.EXCERPT_CHARS).decode("utf-8", errors="replace")


__all__ = [
    "IngestError",
    "IngestResult",
    "ReadOptions",
    "detect_format",
    "explain",
    "formats",
    "ingest",
    "read_ahead",
    "supported",
]
