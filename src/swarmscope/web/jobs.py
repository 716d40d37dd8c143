"""Detection started from the page: ``pipeline.detect`` in a background thread, one run at a time.

The run holds the case read-write for its whole length (``hold``: the
server's access.write) and opens it in this same process; DuckDB shares one
database instance per file and process, so the run writes while the pages
read, and a reader sees either the old or the new rows of a table, never
half of a run (each write is one transaction; findings.json is replaced
atomically). Other processes cannot open the case meanwhile.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("swarmscope.web")
KEEP_JOBS = 20


@dataclass
class Job:
    id: str
    state: str = "running"  # running | ok | failed
    step: str | None = None
    done: int = 0
    total: int = 0
    error: str | None = None
    campaigns: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def progress(self, step: str, done: int, total: int) -> None:
        with self._lock:
            self.step, self.done, self.total = step, int(done), int(total)

    def public(self) -> dict[str, Any]:
        with self._lock:
            return {
                "job_id": self.id,
                "state": self.state,
                "step": self.step,
                "done": self.done,
                "total": self.total,
                "error": self.error,
                "campaigns": self.campaigns,
            }


class Busy(Exception):
    """A detection run is already going."""


class Jobs:
    """The detection runs of this server; at most one runs at a time."""

    def __init__(
        self,
        case: str | Path,
        on_finish: Callable[[], None] | None = None,
        detect: Callable[..., dict] | None = None,
        settings: Callable[[], tuple[Any, Path | None]] | None = None,
        hold: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
    ) -> None:
        self.case = Path(case)
        self.on_finish = on_finish
        self._detect = detect
        self._settings = settings
        self._hold = hold or contextlib.nullcontext
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._running: Job | None = None

    def start(self) -> Job:
        with self._lock:
            if self._running is not None:
                raise Busy(self._running.id)
            job = self._running = Job(uuid.uuid4().hex[:16])
            self._jobs[job.id] = job
            for old in list(self._jobs)[:-KEEP_JOBS]:
                del self._jobs[old]
        threading.Thread(target=self._run, args=(job,), name=f"swarmscope-detect-{job.id}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    @property
    def running(self) -> Job | None:
        return self._running

    def _run(self, job: Job) -> None:
        detect = self._detect
        if detect is None:
            from .. import run_detect as detect
        try:
            with self._hold():
                params, watchlist = self._settings() if self._settings is not None else (None, None)
                findings = detect(self.case, params, watchlist=watchlist, progress=job.progress)
            with job._lock:
                job.state, job.campaigns = "ok", len(findings.get("campaigns", []))
                job.done = max(job.done, job.total)
        except Exception as e:  # the page shows the reason; the log has the traceback
            log.exception("detection run %s failed", job.id)
            with job._lock:
                job.state = "failed"
                job.error = _public_reason(e, self.case)
        finally:
            with self._lock:
                self._running = None
            if self.on_finish is not None:
                self.on_finish()


def _public_reason(e: Exception, case: Path) -> str:
    """The error's message for the page, with the case's folder taken out of it."""
    text = f"{type(e).__name__}: {e}"
    for folder in {str(case.resolve().parent), str(case.parent)} - {"", "."}:
        text = text.replace(folder + "/", "").replace(folder, "")
    return text[:500]


def last_detect_settings(con: Any, case: Path | None = None) -> tuple[Any, Path | None]:
    """The parameters and watchlist of the case's last successful detect run, so a re-run from the page
    repeats it (a run with defaults would, say, drop the impersonation campaigns a watchlist found).

    Falls back to the defaults where the record cannot be read back, and
    drops a watchlist file that is no longer there.
    """
    import json
    from dataclasses import is_dataclass, replace

    from ..config import DetectParams, NetworkSpec

    rows = con.execute(
        "SELECT parameters FROM runs WHERE command = 'detect' AND status = 'ok' ORDER BY started_at DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None, None
    try:
        recorded = json.loads(rows[0][0] or "{}")
    except ValueError:
        return None, None

    def rebuild(default: Any, data: dict) -> Any:
        changes = {}
        for key, value in data.items():
            current = getattr(default, key)  # AttributeError: a field this version does not have
            if key == "networks":
                value = tuple(NetworkSpec(**(n | {"object_types": tuple(n["object_types"])})) for n in value)
            elif is_dataclass(current):
                value = rebuild(current, value)
            elif isinstance(current, tuple) and isinstance(value, list):
                value = tuple(value)
            changes[key] = value
        return replace(default, **changes)

    try:
        params = rebuild(DetectParams(), recorded.get("params") or {})
    except (AttributeError, TypeError, ValueError, KeyError):
        log.warning("the last detect run's parameters cannot be read back; running with the defaults")
        params = None
    watchlist = recorded.get("watchlist")
    if not watchlist:
        return params, None
    path = Path(watchlist)
    # a relative path was relative to where detect ran: try here, then beside the case and above it
    bases = [Path.cwd()] + (list(case.resolve().parents[:3]) if case is not None and not path.is_absolute() else [])
    for base in bases:
        if (base / path).is_file():
            return params, base / path
    log.warning("the last detect run's watchlist %s is gone; running without one", watchlist)
    return params, None
