"""The workbench's HTTP API (docs/web.md): JSON over the case store and its findings, plus the static pages.

The server holds no connection between requests (access.py): each request
works on its own cursor, in the threadpool, of a read-only open of the case
shared by the requests of the moment; a label write or a detection run opens
it read-write for as long as it writes. So the command line can read the
case, and write to it, while the server runs. The API writes only labels
(``swarmscope.labels``) and, through a detection run started from the page,
what ``detect`` writes. Bad input of any kind is a 4xx with ``{"error":
"..."}``; a case another process is writing is a 503 naming that process; a
500 means a bug, and its details go to the log, never to the page.

Why this module is long: it is the route table of one ASGI app. Each
handler is a few lines over queries.py, findings.py and labels.py; the
routes stay together so that the guard, the CSRF check and the error
handling visibly cover every one of them.
"""

from __future__ import annotations

import contextlib
import getpass
import json
import logging
import re
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import duckdb
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..jsonable import jsonable
from ..store import CaseBusy
from . import queries
from .access import for_case
from .coactors import CoactorIndex, CoactorIndexes
from .findings import Findings, FindingsCache, graph_layout
from .jobs import Busy, Jobs, last_detect_settings
from .security import CSRF_COOKIE, MAX_BODY, Guard, check_token, csrf_cookie_header, new_secret

log = logging.getLogger("swarmscope.web")
STATIC = Path(__file__).parent / "static"
MAX_IDS, MAX_LIMIT, MAX_CSV_ROWS, MAX_MESSAGES = 500, 500, 10_000, 50
MAX_JSON_DEPTH = 32  # a label body is one flat object; deeper is a mistake or an attack (RecursionError)
SIGNAL_POSTS = 200
WARM_GRAPHS = 10  # campaigns whose graph layout is computed at start, before anyone asks
SEARCH_PAGE = 1000  # search.search_posts' largest page; a CSV download is several pages
LABEL_ROLES = ("core", "periphery")  # a campaign label stores every account listed, as labels.evaluate reads them
SEARCH_PARAMS = (
    "q",
    "hashtag",
    "url",
    "domain",
    "account",
    "from",
    "to",
    "platform",
    "lang",
    "limit",
    "offset",
    "format",
)
PLACEHOLDER = (
    "<!doctype html><html><head><meta charset=utf-8><title>swarmscope</title></head><body>"
    "<p>The workbench pages are not installed; the API is at <code>/api/case</code>.</p></body></html>"
)


class ApiError(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status, self.message, self.extra = status, message, extra


def _render(content: Any) -> bytes:
    return json.dumps(jsonable(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode()


class JSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return _render(content)


def _json(content: Any, status: int = 200) -> JSON:
    return JSON(content, status_code=status, headers={"cache-control": "no-store"})


def _error(status: int, message: str, **extra: Any) -> JSON:
    return _json({"error": message, **extra}, status)


class Workbench:
    """The state behind the routes: the case, its access, the findings cache and the detection runs."""

    def __init__(self, case: str | Path, *, analyst: str | None = None) -> None:
        self.case = Path(case)
        if not self.case.is_file():
            raise FileNotFoundError(f"{case}: no such case file")
        self.access = for_case(self.case)
        try:
            with self.access.read() as con:
                con.execute("SELECT count(*) FROM posts").fetchall()
        except CaseBusy as e:  # an ingest or detect of another process is writing it
            raise ValueError(e.message(str(case))) from None
        except duckdb.Error as e:  # not a DuckDB file, or not a case
            raise ValueError(f"{case}: not a swarmscope case ({str(e).splitlines()[0]})") from e
        self.findings = FindingsCache(self.case)
        self.jobs = Jobs(self.case, on_finish=self._after_run, settings=self._detect_settings, hold=self.access.write)
        self.analyst = analyst or _os_user()
        self._runs_done = 0
        self._overview: tuple[Any, dict] | None = None
        self._label_lock = threading.Lock()
        self._coactors = CoactorIndexes()

    def _detect_settings(self) -> tuple[Any, Path | None]:
        with self.cursor() as con:
            return last_detect_settings(con, self.case)

    def _after_run(self) -> None:
        self._runs_done += 1
        self.warm()  # the run rewrote the near-duplicate actions: index the new ones

    def cursor(self) -> contextlib.AbstractContextManager[duckdb.DuckDBPyConnection]:
        """A cursor for reading, for the block (access.py: the case is open only while someone uses it)."""
        return self.access.read()

    def case_version(self) -> tuple[int, int, int, int]:
        """The case file's and its WAL's (mtime, size): a command-line ingest changes them between requests."""
        out: list[int] = []
        for p in (self.case, self.case.with_name(self.case.name + ".wal")):
            try:
                st = p.stat()
                out += [st.st_mtime_ns, st.st_size]
            except OSError:
                out += [0, 0]
        return out[0], out[1], out[2], out[3]

    def current(self) -> Findings | None:
        return self.findings.get()

    def require(self) -> Findings:
        f = self.current()
        if f is None:
            raise ApiError(
                404,
                "this case has no findings yet: start a detection run (POST /api/run) or run `swarmscope detect` on it",
            )
        return f

    def campaign(self, cid: str) -> tuple[Findings, dict]:
        f = self.require()
        c = f.campaigns.get(cid)
        if c is None:
            raise ApiError(404, f"no campaign {cid[:80]!r} in the current findings")
        return f, c

    # -- labels (LAB's swarmscope.labels) ------------------------------------
    def account_label(self, con: duckdb.DuckDBPyConnection, platform: str, account_id: str) -> dict | None:
        from ..labels import current_labels

        for lab in current_labels(con, "account"):
            if lab.get("platform") == platform and lab.get("target_id") == account_id:
                return lab
        return None

    def campaign_label(self, con: duckdb.DuckDBPyConnection, f: Findings, c: dict) -> dict | None:
        from ..labels import campaign_label_for

        return _brief(campaign_label_for(con, set(f.members(c, LABEL_ROLES))))

    def coactor_index(self, f: Findings | None) -> CoactorIndex:
        return self._coactors.get(f.version if f else None, self.cursor, self.windows(f))

    def warm(self) -> None:
        """Build the co-actor index and the top campaigns' graphs ahead of the first pages (a background thread)."""

        def build() -> None:
            try:
                f = self.current()
                self.coactor_index(f)
                for c in (f.doc.get("campaigns", []) if f else [])[:WARM_GRAPHS]:
                    self.campaign_graph(c["id"])
            except Exception:  # the first page that needs it will build it (and report)
                log.exception("warming the caches")

        threading.Thread(target=build, name="swarmscope-coactors", daemon=True).start()

    def windows(self, f: Findings | None) -> dict[str, float]:
        """Object type -> the co-action time window of the network that uses it (the widest, if several)."""
        nets = (f.doc.get("networks") or {}) if f is not None else {}
        out: dict[str, float] = {}
        for n in nets.values():
            for t in n.get("object_types") or []:
                out[t] = max(out.get(t, 0.0), float(n.get("time_window") or 0.0))
        if not out:
            from ..config import DEFAULT_NETWORKS

            for spec in DEFAULT_NETWORKS:
                for t in spec.object_types:
                    out[t] = max(out.get(t, 0.0), spec.time_window)
        return out

    # -- handlers (sync; run in the threadpool) --------------------------------
    def case_info(self) -> dict:
        f = self.current()
        key = (f.version if f else None, self._runs_done, self.case_version())
        if self._overview is None or self._overview[0] != key:
            from ..report import svg

            with self.cursor() as con:
                overview = queries.case_overview(con)
            # the posts-per-day chart, drawn by the report's chart code (report/svg.py)
            rows = [(svg.parse_day(r["day"]), r["platform"], r["posts"]) for r in overview.get("timeline") or []]
            overview["timeline_svg"] = str(svg.stacked_timeline(rows))
            self._overview = (key, overview)
        summary = None
        if f is not None:
            m = f.doc.get("manifest") or {}
            summary = {"run_id": m.get("run_id"), "created_at": m.get("created_at"), "campaigns": len(f.campaigns)}
        return {"name": self.case.name, **self._overview[1], "findings": summary}

    def campaign_list(self) -> dict:
        f = self.current()
        if f is None:
            return {"campaigns": [], "findings": None}
        from ..labels import current_labels, match_campaign_label

        out = []
        with self.cursor() as con:
            campaign_labels = current_labels(con, "campaign")
            for c in f.doc.get("campaigns", []):
                types = list(dict.fromkeys(f.signals[s]["type"] for s in c.get("signals", []) if s in f.signals))
                counts = c.get("counts") or {}
                out.append(
                    {
                        "id": c["id"],
                        "score": c.get("score"),
                        "likely_inauthentic": c.get("likely_inauthentic"),
                        "verdict": c.get("verdict"),
                        "accounts": counts.get("accounts"),
                        "posts": counts.get("posts"),
                        "per_platform": counts.get("per_platform"),
                        "per_language": counts.get("per_language"),
                        "first_seen": c.get("first_seen"),
                        "last_seen": c.get("last_seen"),
                        "top_signals": types,
                        "disarm": c.get("disarm", []),
                        "label": _brief(match_campaign_label(campaign_labels, set(f.members(c, LABEL_ROLES)))),
                    }
                )
        return {"campaigns": out}

    def campaign_page(self, cid: str) -> dict:
        f, c = self.campaign(cid)
        signals = [f.signals[s] for s in c.get("signals", []) if s in f.signals]
        with self.cursor() as con:
            key = ("hour_of_week", cid)
            if key not in f.derived:
                f.derived[key] = queries.hour_of_week(con, f.members(c))
            label = self.campaign_label(con, f, c)
        bursts = [
            {
                "start": s["figures"].get("start"),
                "end": s["figures"].get("end"),
                "posts": s["figures"].get("posts", s["figures"].get("window_posts")),
                "signal": s["id"],
                "object_type": s["figures"].get("object_type"),
                "object_id": s["figures"].get("object_id"),
            }
            for s in signals
            if s["type"] == "burst"
        ]
        holidays = next((s["figures"] | {"signal": s["id"]} for s in signals if s["type"] == "holiday"), None)
        page = {k: v for k, v in c.items() if k != "network"}
        return page | {
            "signals": signals,
            "hour_of_week": f.derived[("hour_of_week", cid)],
            "bursts": bursts,
            "holidays": holidays,
            "label": label,
            "utc_offset_hours": self.campaign_offset(f, c),
        }

    def campaign_offset(self, f: Findings, c: dict) -> float | None:
        """The operators' UTC offset the campaign's rhythm signal infers (report.html.inferred_offset), or None."""
        from ..report.html import inferred_offset

        return inferred_offset(f.signals[s] for s in c.get("signals", []) if s in f.signals)

    def campaign_charts(self, cid: str) -> dict:
        """The campaign's charts as SVG text, drawn by the functions the HTML report calls (report/html.py,
        report/svg.py) from the same findings, so the page and the report show the same pictures.

        Once per findings version. A campaign without a rhythm signal (the
        report then has no heatmap) gets its core accounts' posts per UTC
        hour counted in the case, drawn by the same heatmap function.
        """
        f, c = self.campaign(cid)
        key = ("charts", cid)
        if key not in f.derived:
            from ..report import html as report
            from ..report import svg

            by_id = {svg.clean(s.get("id")): s for s in f.doc.get("signals", []) if isinstance(s, dict)}
            sigs = report.campaign_signals(by_id, c)
            timeline, source = report.campaign_timeline(c, sigs)
            rhythm = next((s for s in sigs if s.get("type") == "rhythm"), None)
            holiday = next((s for s in sigs if s.get("type") == "holiday"), None)
            heat, heat_caption = report.signal_chart(rhythm) if rhythm else (None, "")
            if heat is None:
                if ("hour_of_week", cid) not in f.derived:
                    with self.cursor() as con:
                        f.derived[("hour_of_week", cid)] = queries.hour_of_week(con, f.members(c))
                grid = f.derived[("hour_of_week", cid)]
                heat = svg.heatmap([v for row in grid for v in row], None)
                heat_caption = "No rhythm signal: the core accounts' posts per UTC hour, counted in the case."
            bars, bars_caption = (
                report.signal_chart(holiday, report.ReportLimits().holiday_countries) if holiday else (None, "")
            )
            f.derived[key] = {
                "timeline": str(timeline),
                "timeline_source": source,
                "heatmap": str(heat),
                "heatmap_caption": heat_caption,
                "heatmap_signal": rhythm["id"] if rhythm else None,
                "holidays": str(bars) if bars is not None else None,
                "holidays_caption": bars_caption,
                "holidays_signal": holiday["id"] if holiday else None,
                "utc_offset_hours": report.inferred_offset(sigs),
            }
        return f.derived[key]

    def campaign_graph(self, cid: str) -> bytes:
        """The graph as JSON bytes, rendered once per findings version (it is the largest answer)."""
        f, c = self.campaign(cid)
        key = ("graph.json", cid)
        if key not in f.derived:
            f.derived[key] = _render(graph_layout(f, c))
        return f.derived[key]

    def campaign_messages(self, cid: str, limit: int) -> dict:
        f, c = self.campaign(cid)
        key = ("messages", cid, limit)
        if key not in f.derived:
            with self.cursor() as con:
                f.derived[key] = queries.message_posts(con, (c.get("messages") or [])[:limit])
        return {"messages": f.derived[key]}

    def account_page(self, platform: str, account_id: str) -> dict:
        f = self.current()
        with self.cursor() as con:
            row = queries.account_row(con, platform, account_id)
            activity = queries.account_activity(con, platform, account_id)
            if row is None and not activity["posts_count"]:
                raise ApiError(404, f"no account {account_id[:80]!r} on platform {platform[:40]!r} in this case")
        co = self.coactor_index(f).coactors(platform, account_id)
        with self.cursor() as con:
            handles = queries.handles(con, [(c["platform"], c["account_id"]) for c in co])
            label = self.account_label(con, platform, account_id)
        co = [
            {
                "platform": c["platform"],
                "account_id": c["account_id"],
                "handle": handles.get((c["platform"], c["account_id"])),
            }
            | c
            for c in co
        ]
        key = (platform, account_id)
        campaigns = f.account_campaigns.get(key, []) if f else []
        signals = [f.signals[s] for s in f.account_signals.get(key, []) if s in f.signals] if f else []
        return {
            "account": row or {"platform": platform, "account_id": account_id},
            **activity,
            "campaigns": campaigns,
            "signals": signals,
            "coactors": co,
            "label": label,
        }

    def account_posts(self, platform: str, account_id: str, offset: int, limit: int) -> dict:
        with self.cursor() as con:
            total, rows = queries.account_posts(con, platform, account_id, offset, limit)
            if not total and queries.account_row(con, platform, account_id) is None:
                raise ApiError(404, f"no account {account_id[:80]!r} on platform {platform[:40]!r} in this case")
        return {"total": total, "offset": offset, "limit": limit, "rows": rows}

    def posts(self, ids: list[tuple[str, str]]) -> dict:
        with self.cursor() as con:
            return {"rows": queries.posts_by_ids(con, ids)}

    def signal(self, sid: str) -> dict:
        f = self.require()
        s = f.signals.get(sid)
        if s is None:
            raise ApiError(404, f"no signal {sid[:80]!r} in the current findings")
        ids = [(p, i) for p, i in (s.get("evidence") or {}).get("post_ids", [])][:SIGNAL_POSTS]
        with self.cursor() as con:
            posts = queries.posts_by_ids(con, ids)
        c = f.campaigns.get(s.get("campaign")) or next(
            (c for c in f.doc.get("campaigns", []) if sid in c.get("signals", [])), None
        )
        return s | {"posts": posts, "utc_offset_hours": self.campaign_offset(f, c) if c else None}

    def search(self, params: dict[str, Any]) -> tuple[int, Any]:
        """(total, Arrow table) of one page; a limit over one search page is fetched page by page."""
        import pyarrow as pa

        from ..search import search_posts

        want, offset = params["limit"], params["offset"]
        pages = []
        with self.cursor() as con:
            try:
                while True:
                    n = min(SEARCH_PAGE, want - sum(p.num_rows for p in pages))
                    total, page = search_posts(con, **(params | {"limit": n, "offset": offset}))
                    pages.append(page)
                    offset += page.num_rows
                    if page.num_rows < n or sum(p.num_rows for p in pages) >= want:
                        break
            except ValueError as e:
                msg = str(e).replace("date_from", "from").replace("date_to", "to")
                raise ApiError(400, msg) from e
        return total, pa.concat_tables(pages)

    def labels(self, target_type: str | None, target_id: str | None = None, platform: str | None = None) -> dict:
        """Current labels; with ``target_id``, that target's whole history, newest first."""
        from ..labels import current_labels, label_history

        with self.cursor() as con:
            try:
                if target_id is not None:
                    if target_type is None:
                        raise ValueError("target_id needs target_type (account or campaign)")
                    return {"labels": label_history(con, target_type, target_id, platform)}
                return {"labels": current_labels(con, target_type)}
            except ValueError as e:
                raise ApiError(400, str(e)) from e

    def add_label(self, body: dict[str, Any]) -> dict:
        from ..labels import LABELS, TARGETS, add_label

        target_type, target_id = body.get("target_type"), body.get("target_id")
        platform, label, note = body.get("platform"), body.get("label"), body.get("note", "")
        if target_type not in TARGETS:
            raise ApiError(400, f"target_type must be one of {', '.join(TARGETS)}")
        if label not in LABELS:
            raise ApiError(400, f"label must be one of {', '.join(LABELS)}")
        if not isinstance(target_id, str) or not target_id or len(target_id) > 500:
            raise ApiError(400, "target_id must be a non-empty string (an account id or a campaign id)")
        if note is None:
            note = ""
        if not isinstance(note, str):
            raise ApiError(400, "note must be a string")
        for name, value in (("target_id", target_id), ("platform", platform)):
            if isinstance(value, str) and _SURROGATE.search(value):
                raise ApiError(400, f"{name} is not valid Unicode (it holds a lone surrogate, e.g. \\ud800)")
        members = None
        if target_type == "campaign":
            f, c = self.campaign(target_id)
            members, platform = f.members(c, LABEL_ROLES), None
        else:
            if not isinstance(platform, str) or not platform:
                raise ApiError(400, "an account label needs its platform")
            with self.cursor() as con:
                if (
                    queries.account_row(con, platform, target_id) is None
                    and not queries.account_activity(con, platform, target_id)["posts_count"]
                ):
                    raise ApiError(404, f"no account {target_id[:80]!r} on platform {platform[:40]!r} in this case")
        # the case is open read-write only for the insert (access.py)
        with self._label_lock, self.access.write() as con:
            try:
                saved = add_label(
                    con,
                    target_type=target_type,
                    target_id=target_id,
                    platform=platform,
                    label=label,
                    note=note,
                    author=self.analyst,
                    members=members,
                )
            except ValueError as e:
                raise ApiError(400, str(e)) from e
        return {"label": saved}

    def evaluate(self) -> dict:
        from ..labels import evaluate

        f = self.require()
        with self.cursor() as con:
            try:
                return evaluate(con, f.doc)
            except ValueError as e:
                raise ApiError(400, str(e)) from e

    def export(self, fmt: str) -> tuple[bytes, str, str]:
        from .exports import download

        self.require()
        with self.access.read():  # the export opens the case itself: keep this process's open read-only
            return download(self.case, fmt)


def _brief(label: dict | None) -> dict | None:
    """A campaign label without its member list (thousands of accounts on a big campaign), with its size."""
    if label is None:
        return None
    return {k: v for k, v in label.items() if k != "members"} | {"member_count": len(label.get("members") or [])}


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name (containers): still a usable author
        return "analyst"


# -- request parsing ----------------------------------------------------------------


def _int(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        v = int(raw)
    except ValueError:
        raise ApiError(400, f"{name} must be a whole number, got {raw[:40]!r}") from None
    if not lo <= v <= hi:
        raise ApiError(400, f"{name} must be between {lo:,} and {hi:,}, got {v:,}")
    return v


def _post_ids(raw: str | None) -> list[tuple[str, str]]:
    if not raw:
        raise ApiError(400, "ids is required: platform:post_id pairs separated by commas")
    parts = [p.strip() for p in raw.split(",") if p.strip()]
    if len(parts) > MAX_IDS:
        raise ApiError(400, f"at most {MAX_IDS} ids per request, got {len(parts):,}")
    ids = []
    for p in parts:
        platform, sep, post_id = p.partition(":")
        if not sep or not platform or not post_id:
            raise ApiError(400, f"each id is platform:post_id, got {p[:80]!r}")
        ids.append((platform, post_id))
    if not ids:
        raise ApiError(400, "ids is required: platform:post_id pairs separated by commas")
    return ids


async def _json_body(request: Request) -> dict[str, Any]:
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise ApiError(413, f"request body over {MAX_BODY // 1024} KiB")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(400, "the body must be a JSON object (UTF-8)") from None
    if _json_depth(text) > MAX_JSON_DEPTH:
        raise ApiError(400, f"the body is nested more than {MAX_JSON_DEPTH} levels deep; a label is one flat object")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise ApiError(400, "the body must be a JSON object (UTF-8)") from None
    if not isinstance(data, dict):
        raise ApiError(400, "the body must be a JSON object")
    return data


_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_MARKS = re.compile(r'[\[\]{}"\\]')


def _json_depth(text: str) -> int:
    """How deep brackets nest in a JSON text, brackets inside strings left out: one pass, no recursion."""
    depth = deepest = 0
    in_string, escaped_at = False, -1
    for m in _JSON_MARKS.finditer(text):
        ch, at = m.group(), m.start()
        if at == escaped_at:  # the character after a backslash
            continue
        if in_string:
            if ch == "\\":
                escaped_at = at + 1
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


# -- the app ------------------------------------------------------------------------


Handler = Callable[[Request], Awaitable[Response]]


def _guarded(fn: Handler) -> Handler:
    """ApiError -> its 4xx; any other exception is a bug: logged, and a 500 without details."""

    async def endpoint(request: Request) -> Response:
        try:
            return await fn(request)
        except ApiError as e:
            return _error(e.status, e.message, **e.extra)
        except CaseBusy as e:  # another process writes the case (an ingest, a detect from the command line)
            return _error(503, e.message(e.path.name, hint=False))
        except Exception:  # a bug: the log has the traceback, the page a 500 without details
            log.exception("error answering %s %s", request.method, request.url.path)
            return _error(500, "internal error; the server log has the details")

    return endpoint


def create_app(
    case: str | Path, *, token: str | None = None, analyst: str | None = None, host: str = "127.0.0.1"
) -> Starlette:
    """The workbench ASGI app over ``case`` (a .duckdb file; findings.json next to it, if detected).

    ``host`` is where the server is bound: off loopback a ``token`` is
    required (ValueError otherwise). ``analyst`` names the author of labels
    (default: the OS user). FileNotFoundError when the case does not exist.
    """
    check_token(token, host)
    wb = Workbench(case, analyst=analyst)
    wb.warm()

    def threaded(fn: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any) -> Any:
            return await run_in_threadpool(fn, *args)

        return call

    async def index(request: Request) -> Response:
        page = STATIC / "index.html"
        resp: Response = (
            FileResponse(page, headers={"cache-control": "no-store"})
            if page.is_file()
            else HTMLResponse(PLACEHOLDER, headers={"cache-control": "no-store"})
        )
        if not request.cookies.get(CSRF_COOKIE):
            resp.headers.append("set-cookie", csrf_cookie_header(new_secret()))
        return resp

    async def case_info(request: Request) -> Response:
        return _json(await threaded(wb.case_info)())

    async def campaigns(request: Request) -> Response:
        return _json(await threaded(wb.campaign_list)())

    async def campaign(request: Request) -> Response:
        return _json(await threaded(wb.campaign_page)(request.path_params["cid"]))

    async def graph(request: Request) -> Response:
        body = await threaded(wb.campaign_graph)(request.path_params["cid"])
        return Response(body, media_type="application/json", headers={"cache-control": "no-store"})

    async def charts(request: Request) -> Response:
        return _json(await threaded(wb.campaign_charts)(request.path_params["cid"]))

    async def messages(request: Request) -> Response:
        limit = _int(request, "limit", 10, 1, MAX_MESSAGES)
        return _json(await threaded(wb.campaign_messages)(request.path_params["cid"], limit))

    async def account(request: Request) -> Response:
        p = request.path_params
        return _json(await threaded(wb.account_page)(p["platform"], p["account_id"]))

    async def account_posts(request: Request) -> Response:
        p = request.path_params
        offset = _int(request, "offset", 0, 0, 10**9)
        limit = _int(request, "limit", 50, 1, MAX_LIMIT)
        return _json(await threaded(wb.account_posts)(p["platform"], p["account_id"], offset, limit))

    async def posts(request: Request) -> Response:
        return _json(await threaded(wb.posts)(_post_ids(request.query_params.get("ids"))))

    async def signal(request: Request) -> Response:
        return _json(await threaded(wb.signal)(request.path_params["sid"]))

    async def search(request: Request) -> Response:
        qp = request.query_params
        unknown = sorted(set(qp.keys()) - set(SEARCH_PARAMS))
        if unknown:
            raise ApiError(
                400, f"unknown search parameter(s) {', '.join(unknown)[:200]}; known: {', '.join(SEARCH_PARAMS)}"
            )
        fmt = qp.get("format") or "json"
        if fmt not in ("json", "csv"):
            raise ApiError(400, f"format must be json or csv, got {fmt[:40]!r}")
        csv = fmt == "csv"
        params: dict[str, Any] = {}
        for name, arg in (
            ("q", "q"),
            ("hashtag", "hashtag"),
            ("url", "url"),
            ("domain", "domain"),
            ("account", "account"),
            ("from", "date_from"),
            ("to", "date_to"),
            ("platform", "platform"),
            ("lang", "lang"),
        ):
            v = qp.get(name)
            if v:
                if len(v) > 1000:
                    raise ApiError(400, f"{name} is over 1,000 characters")
                params[arg] = v
        cap = MAX_CSV_ROWS if csv else MAX_LIMIT
        params["limit"] = _int(request, "limit", cap if csv else 50, 1, cap)
        params["offset"] = _int(request, "offset", 0, 0, 10**9)
        total, table = await threaded(wb.search)(params)
        if csv:
            return await threaded(_csv_response)(table)
        rows = [{**{k: queries.iso(v) for k, v in r.items()}} for r in table.to_pylist()]
        return _json({"total": total, "offset": params["offset"], "limit": params["limit"], "rows": rows})

    async def labels(request: Request) -> Response:
        if request.method == "POST":
            body = await _json_body(request)
            return _json(await threaded(wb.add_label)(body), 201)
        q = request.query_params
        return _json(
            await threaded(wb.labels)(
                q.get("target_type") or None, q.get("target_id") or None, q.get("platform") or None
            )
        )

    async def evaluate(request: Request) -> Response:
        return _json(await threaded(wb.evaluate)())

    async def run(request: Request) -> Response:
        if request.method == "POST":
            try:
                job = wb.jobs.start()
            except Busy as e:
                raise ApiError(409, "a detection run is already going; wait for it to finish", job_id=str(e)) from None
            return _json({"job_id": job.id}, 202)
        job = wb.jobs.running
        return _json({"running": job.public() if job else None})

    async def run_state(request: Request) -> Response:
        job = wb.jobs.get(request.path_params["job_id"])
        if job is None:
            raise ApiError(404, "no such detection run (runs are kept while the server runs)")
        return _json(job.public())

    async def export(request: Request) -> Response:
        from .exports import DOWNLOADS

        fmt = request.path_params["fmt"]
        if fmt not in DOWNLOADS:
            raise ApiError(404, f"unknown export format {fmt[:40]!r}; formats: {', '.join(DOWNLOADS)}")
        try:
            content, name, media = await threaded(wb.export)(fmt)
        except FileNotFoundError:
            raise ApiError(404, "this case has no findings yet: nothing to export") from None
        return Response(
            content,
            media_type=media,
            headers={"content-disposition": f'attachment; filename="{_ascii_name(name)}"', "cache-control": "no-store"},
        )

    async def not_found(request: Request) -> Response:
        raise ApiError(404, f"no such endpoint: {request.url.path[:200]}")

    routes = [
        Route("/", _guarded(index)),
        Route("/api/case", _guarded(case_info)),
        Route("/api/campaigns", _guarded(campaigns)),
        Route("/api/campaigns/{cid}", _guarded(campaign)),
        Route("/api/campaigns/{cid}/graph", _guarded(graph)),
        Route("/api/campaigns/{cid}/charts", _guarded(charts)),
        Route("/api/campaigns/{cid}/messages", _guarded(messages)),
        Route("/api/accounts/{platform}/{account_id:path}/posts", _guarded(account_posts)),
        Route("/api/accounts/{platform}/{account_id:path}", _guarded(account)),
        Route("/api/posts", _guarded(posts)),
        Route("/api/signals/{sid}", _guarded(signal)),
        Route("/api/search", _guarded(search)),
        Route("/api/labels", _guarded(labels), methods=["GET", "POST"]),
        Route("/api/evaluate", _guarded(evaluate)),
        Route("/api/run", _guarded(run), methods=["GET", "POST"]),
        Route("/api/run/{job_id}", _guarded(run_state)),
        Route("/api/export/{fmt}", _guarded(export)),
        Route("/api/{rest:path}", _guarded(not_found)),
        Mount("/static", app=StaticFiles(directory=STATIC, check_dir=False), name="static"),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        reason = {404: "not found", 405: "method not allowed"}.get(status, "bad request")
        return _error(status, f"{reason}: {request.method} {request.url.path[:200]}")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        wb.access.close()

    app = Starlette(
        routes=routes,
        middleware=[Middleware(Guard, host=host, token=token)],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )
    app.state.workbench = wb
    return app


def _csv_response(table: Any) -> Response:
    import io

    import pyarrow.csv as pacsv

    from ..report.tables import csv_safe

    buf = io.BytesIO()
    pacsv.write_csv(csv_safe(table), buf)
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": 'attachment; filename="search.csv"', "cache-control": "no-store"},
    )


def _ascii_name(name: str) -> str:
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch in "._-") else "_" for ch in name) or "download"
