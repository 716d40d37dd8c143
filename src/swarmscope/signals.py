"""Behavioural signals for a case: bursts, runs, cadence, rhythm, holidays, accounts, impersonation.

``signals(case_path, group=None, watchlist=None)`` reads the posts and
accounts of a case (or of one account group in it) and runs every detector
in ``detect/``; ``swarmscope signals`` is a thin shell over it. The detectors
themselves are pure; only this module reads files (the case, the group
list, the watchlist CSV).
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from .detect.accounts import AccountParams, AccountPatterns, account_patterns
from .detect.bursts import BurstParams, burst_events, find_bursts
from .detect.cadence import CadenceParams
from .detect.cadence import cadence as account_cadence
from .detect.holidays_signal import HolidayFingerprint, HolidayParams, holiday_fingerprint
from .detect.impersonation import ImpersonationParams, impersonators
from .detect.rhythm import RhythmFit, RhythmParams, operator_rhythm
from .detect.runs import RunParams, find_runs
from .duck import registered, scratch
from .enrich.text import normalise_repeated, plain
from .progress import detail, watching
from .store import Case

# DuckDB's memory for the bursts, runs and cadence (one connection, spilling beyond it). Without a limit
# each detector's connection took what it liked: at 10M posts the signals step rose 4.9 GiB above the
# posts it reads, 2.8 GiB with the limit (docs/benchmarks.md); the posts themselves are Arrow, outside it.
SIGNALS_MEMORY_GIB = 1.0

POST_COLUMNS = ("platform", "post_id", "account_id", "created_at", "text", "kind", "hashtags", "client")


class SignalsInputError(ValueError):
    """A group list or watchlist cannot be used; the message names the file, line and reason."""


@dataclass(frozen=True)
class SignalsParams:
    bursts: BurstParams = field(default_factory=BurstParams)
    runs: RunParams = field(default_factory=RunParams)
    cadence: CadenceParams = field(default_factory=CadenceParams)
    rhythm: RhythmParams = field(default_factory=RhythmParams)
    holidays: HolidayParams = field(default_factory=HolidayParams)
    accounts: AccountParams = field(default_factory=AccountParams)
    impersonation: ImpersonationParams = field(default_factory=ImpersonationParams)
    # Local days for the holiday test: None = the rhythm fit's office offset.
    utc_offset_hours: float | None = None


@dataclass(frozen=True)
class SignalsResult:
    posts: int
    accounts: int
    group: str  # 'all' or the group's name
    bursts: pa.Table
    runs: pa.Table
    cadence: pa.Table
    rhythm: RhythmFit
    holidays: HolidayFingerprint
    account_patterns: AccountPatterns
    impersonation: pa.Table | None  # None without a watchlist
    params: SignalsParams


def signals(
    case_path: str | Path,
    group: Sequence[str] | str | Path | None = None,
    watchlist: str | Path | None = None,
    params: SignalsParams = SignalsParams(),
) -> SignalsResult:
    """Run every behavioural signal on a case, or on one group of its accounts.

    ``group``: account ids, or a file of them (one per line, or a CSV with an
    ``account_id`` column). ``watchlist``: CSV with name, handle, platform.
    """
    ids, group_name = _group(group)
    wl = read_watchlist(watchlist) if watchlist is not None else None
    where, views = "TRUE", {}
    if ids is not None:
        views["_group"] = pa.table({"account_id": pa.array(ids, pa.string())})
        where = "account_id IN (SELECT account_id FROM _group)"
    with Case(case_path, read_only=True) as db, registered(db.con, **views) as con:
        posts = con.sql(f"SELECT {', '.join(POST_COLUMNS)} FROM posts WHERE {where}").to_arrow_table()
        accounts = con.sql(f"SELECT * FROM accounts WHERE {where}").to_arrow_table()
    return signals_from_tables(posts, accounts, wl, params, group_name)


def signals_from_tables(
    posts: pa.Table,
    accounts: pa.Table,
    watchlist: pa.Table | None = None,
    params: SignalsParams = SignalsParams(),
    group_name: str = "all",
    bursts: pa.Table | None = None,
    cadence: pa.Table | None = None,
    norm: pa.Array | pa.ChunkedArray | None = None,
) -> SignalsResult:
    """The same as ``signals`` on canonical tables already in memory (tests, benchmarks).

    ``bursts``: these posts' bursts as another engine found them (``detect.bursts.BURSTS``; Spark,
    engines/spark/detect.py), used instead of computing them here. ``cadence``: likewise their
    accounts' cadence (``detect.cadence.CADENCE``)."""
    if norm is None:  # the posts' normalised texts (the campaigns read them too: detect folds them once)
        norm = plain(normalise_repeated(posts["text"]))
    detail("operator rhythm")
    fit = operator_rhythm(posts["created_at"], params.rhythm)
    offset = params.utc_offset_hours if params.utc_offset_hours is not None else (fit.utc_offset_hours or 0.0)
    seen = (
        pa.table({"platform": posts["platform"], "account_id": posts["account_id"]})
        .group_by(["platform", "account_id"])
        .aggregate([([], "count_all")])
        .rename_columns(["platform", "account_id", "posts"])
    )
    with scratch(memory_gib=SIGNALS_MEMORY_GIB) as con:
        if bursts is None:
            with watching(con, "bursts"):
                bursts = find_bursts(
                    burst_events(posts, norm, group=group_name, params=params.bursts, con=con), params.bursts, con=con
                )
        with watching(con, "runs of one text"):
            runs = find_runs(posts, params.runs, norm=norm, con=con)
        if cadence is None:
            with watching(con, "cadence"):
                cadence = account_cadence(posts, params.cadence, con=con)
    detail("holidays")
    holidays = holiday_fingerprint(posts["created_at"], offset, params.holidays)
    detail("account patterns")
    patterns = account_patterns(accounts, params.accounts, observed_posts=seen)
    return SignalsResult(
        posts=posts.num_rows,
        accounts=accounts.num_rows,
        group=group_name,
        bursts=bursts,
        runs=runs,
        cadence=cadence,
        rhythm=fit,
        holidays=holidays,
        account_patterns=patterns,
        impersonation=impersonators(accounts, watchlist, params.impersonation) if watchlist is not None else None,
        params=params,
    )


def read_watchlist(path: str | Path) -> pa.Table:
    """Watchlist CSV (header: name, handle, platform) as a table; errors name the file and line."""
    path = Path(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            reader = csv.DictReader(f)
            cols = {c.strip().lower(): c for c in (reader.fieldnames or [])}
            missing = {"name", "handle"} - set(cols)
            if missing:
                raise SignalsInputError(
                    f"{path}: watchlist needs columns name, handle (and optionally platform); "
                    f"missing {', '.join(sorted(missing))}"
                )
            rows = []
            for line, r in enumerate(reader, start=2):
                name, handle = (r.get(cols["name"]) or "").strip(), (r.get(cols["handle"]) or "").strip()
                if not handle and not name:
                    raise SignalsInputError(f"{path}, line {line}: neither name nor handle given")
                platform = (r.get(cols["platform"]) or "").strip().lower() if "platform" in cols else ""
                rows.append({"name": name, "handle": handle.lstrip("@"), "platform": platform})
    except UnicodeDecodeError as e:
        raise SignalsInputError(f"{path}: not UTF-8 text ({e.reason} at byte {e.start})") from e
    except OSError as e:
        raise SignalsInputError(f"{path}: cannot read watchlist ({e.strerror})") from e
    return pa.Table.from_pylist(
        rows, schema=pa.schema([("name", pa.string()), ("handle", pa.string()), ("platform", pa.string())])
    )


def _group(group: Sequence[str] | str | Path | None) -> tuple[list[str] | None, str]:
    if group is None:
        return None, "all"
    if isinstance(group, (str, Path)):
        path = Path(group)
        try:
            lines = path.read_text(encoding="utf-8-sig").splitlines()
        except OSError as e:
            raise SignalsInputError(f"{path}: cannot read group file ({e.strerror})") from e
        rows = list(csv.reader(lines))
        col = 0
        if rows and "account_id" in [c.strip().lower() for c in rows[0]]:
            col = [c.strip().lower() for c in rows[0]].index("account_id")
            rows = rows[1:]
        ids = [r[col].strip() for r in rows if len(r) > col and r[col].strip()]
        if not ids:
            raise SignalsInputError(f"{path}: no account ids (one per line, or a CSV with an account_id column)")
        return ids, path.stem
    return [str(g) for g in group], "group"
