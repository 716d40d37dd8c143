"""Property-based fuzzing of every importer (issue #20): arbitrary bytes and mutated real records.

For every format of ``swarmscope.ingest.formats()``, forced and auto-detected:

- (a) arbitrary bytes (random, and real fixtures with random byte edits);
- (b) real records (tests/fixtures/) mutated structurally: JSON formats at the
  JSON level (keys dropped, types changed, huge/negative/NaN numbers, far
  dates, long strings, control characters and lone surrogates, deep nesting,
  duplicated records), CSV formats at the cell/row level (cells changed,
  rows ragged, duplicated or dropped, columns dropped or renamed), then at
  the byte level (truncated, BOM, CRLF, latin-1 / UTF-16 / cp1251).

The property (docs/reliability.md, Fuzzing):

- ``ingest()`` raises nothing (IngestError is a whole-run usage problem; even
  then the case stays readable);
- no importer raised: no ``reading stopped: ...`` row (ingest's safety net);
- per file ``records = inserted + duplicates + quarantined``; the posts
  stored from the file are the ones counted as inserted, and each is
  canonical (a time, an id, a known platform and kind: a post stored with
  a NULL time is a bad record that escaped its check);
- every quarantine row of the file has a non-empty reason and names its
  record (a number >= 1, or NULL for a whole-file reason);
- ``info()`` works on the case afterwards.

CI-sized and deterministic (``derandomize=True``); ``SWARMSCOPE_FUZZ_EXAMPLES``
multiplies the example counts and ``SWARMSCOPE_FUZZ_RANDOM=1`` draws fresh
examples, for a longer hunt on a workstation.

One case per format is shared by the examples (a fresh file name each): dedupe
across examples only moves counts between inserted and duplicates, and
quarantine rows are kept per file, so the property holds per example.
"""

from __future__ import annotations

import copy
import csv
import datetime as dt
import functools
import io
import itertools
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, currently_in_test_context, event, given, settings
from hypothesis import strategies as st

from swarmscope import model
from swarmscope.info import info
from swarmscope.ingest import IngestError, ReadOptions, formats, ingest
from swarmscope.store import Case

FIX = Path(__file__).parent / "fixtures"

# Every format's real-shaped fixtures (what the mutations start from).
FIXTURES: dict[str, list[str]] = {
    "zeeschuimer": ["zeeschuimer/capture.ndjson"],
    "x_v2": ["x_v2/page.jsonl"],
    "telegram_desktop": [
        "telegram/channel_result.json",
        "telegram/account_result.json",
        "telegram/bad_messages.json",
        "telegram/old_export_result.json",
    ],
    "telethon_json": [
        "telegram/1001500000001_messages.json",
        "telegram/metro_news_messages.json",
        "telegram/todict_dump.json",
        "telegram/todict_lines.jsonl",
    ],
    "tiktok": ["tiktok/research.jsonl", "tiktok/remixes.jsonl", "tiktok/scraper.json", "tiktok/tiktokapi_items.json"],
    "youtube": [
        "youtube/videos.json",
        "youtube/comment_threads.jsonl",
        "youtube/comment_threads_replies.jsonl",
        "youtube/playlist_items_no_owner.json",
    ],
    "bluesky": [
        "bluesky/search_posts.json",
        "bluesky/author_feed.jsonl",
        "bluesky/atproto_sdk_author_feed.json",
        "bluesky/atproto_sdk_posts.jsonl",
    ],
    "vk": ["vk/wall_get.json", "vk/newsfeed.jsonl"],
    "x_archive": ["x_archive/tweets.csv", "x_archive/users.csv"],
    "coortweet_csv": ["coortweet_csv/shares.csv", "coortweet_csv/multi.csv"],
    "cnt_csv": ["cnt_csv/messages.csv"],
    "youtube_tools_csv": [
        "youtube_tools_csv/videolist_channels20_2024_03_05.tab",
        "youtube_tools_csv/videoinfo_vid00000001_2024_03_05-10_00_00_comments.tab",
    ],
    "crowdtangle_csv": [
        "crowdtangle_csv/facebook_pages.csv",
        "crowdtangle_csv/facebook_zones.csv",
        "crowdtangle_csv/instagram_accounts.csv",
        "crowdtangle_csv/mcl_facebook.csv",
        "crowdtangle_csv/mcl_reshares.csv",
    ],
    "fourcat_csv": ["fourcat_csv/twitterv2-search-demo.csv", "fourcat_csv/channel-export.csv"],
    "telethon_csv": [
        "telethon_csv/1001500000001_messages.csv",
        "telethon_csv/-4242_group.csv",
        "telethon_csv/channel.csv",
        "telethon_csv/msgs_dataset.csv",
    ],
    "generic_table": ["generic_table/posts.csv"],
}
FORMATS = list(FIXTURES)
GENERIC_MAP = dict(
    post_id="ID", account_id="Author", created_at="When", text="Message", hashtags="Tags", urls="Links", kind="Type"
)
MINIMAL_MAP = dict(post_id="ID", account_id="Author", created_at="When")

_SCALE = float(os.environ.get("SWARMSCOPE_FUZZ_EXAMPLES", "1"))
_RANDOM = os.environ.get("SWARMSCOPE_FUZZ_RANDOM") == "1"


def _settings(n: int) -> settings:
    return settings(
        max_examples=max(1, int(n * _SCALE)),
        deadline=None,
        derandomize=not _RANDOM,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
        print_blob=True,
    )


def _is_csv(name: str) -> bool:
    return name.endswith((".csv", ".tab"))


def _delimiter(fmt: str, name: str) -> str:
    return "\t" if name.endswith(".tab") else ";" if fmt == "generic_table" else ","


# -- the property ---------------------------------------------------------------------------

_names = itertools.count()


class Cases(dict):
    """One case per format (and one for auto-detection), created on first use."""

    def __repr__(self) -> str:  # keeps Hypothesis's falsifying examples short
        return "cases"


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Cases:
    root = tmp_path_factory.mktemp("fuzz")
    return Cases({name: root / f"{name}.duckdb" for name in [*FORMATS, "auto"]})


def _options(fmt: str | None, small: int, timezone: str | None = None, platform: str | None = None) -> ReadOptions:
    """Options; ``small`` 1 and 2 shrink the record limit and the batch size to reach those paths;
    3 maps only generic_table's required columns."""
    return ReadOptions(
        column_map=(GENERIC_MAP if small != 3 else MINIMAL_MAP) if fmt == "generic_table" else {},
        timezone=timezone,
        platform=platform,
        max_record_bytes=2048 if small == 1 else 16 * 1024 * 1024,
        batch_bytes=512 if small == 2 else 32 * 1024 * 1024,
    )


def _write(case: Path, data: bytes, suffix: str) -> Path:
    folder = case.parent / "inputs"
    folder.mkdir(exist_ok=True)
    path = folder / f"{case.stem}-{next(_names)}{suffix}"
    path.write_bytes(data)
    return path


def check(case: Path, data: bytes, suffix: str, fmt: str | None, options: ReadOptions) -> None:
    """Ingest ``data`` as one file into ``case`` and check the property (module docstring)."""
    path = _write(case, data, suffix)
    try:
        (r,) = ingest(case, [path], format=fmt, options=options, progress=False, enrich=False)
    except IngestError:  # a whole-run problem: the case must still be consistent
        info(case)
        raise
    assert r.records == r.inserted + r.duplicates + r.quarantined, r
    if currently_in_test_context():  # statistics for --hypothesis-show-statistics
        event(f"read as {r.format}", "stored some" if r.inserted + r.duplicates else "stored none")
    with Case(case, read_only=True) as db:
        rows = db.con.execute("SELECT record, reason FROM quarantine WHERE source_file = ?", [str(path)]).fetchall()
        stored = db.con.execute("SELECT count(*) FROM posts WHERE source_file = ?", [str(path)]).fetchall()[0][0]
        odd = db.con.execute(  # canonical posts: every one has a time, an id, a known platform and kind
            "SELECT post_id, created_at, platform, kind FROM posts WHERE source_file = ? AND (created_at IS NULL "
            "OR post_id = '' OR platform NOT IN (SELECT unnest(?)) OR kind NOT IN (SELECT unnest(?))) LIMIT 3",
            [str(path), list(model.PLATFORMS), list(model.POST_KINDS)],
        ).fetchall()
    stopped = [reason for _, reason in rows if reason.startswith("reading stopped")]
    if stopped:  # the importer raised: raise it again here, with its traceback
        mod = formats()[r.format]
        for _ in mod.read(path, options):
            pass
        pytest.fail(f"{r.format} raised on {path.name}: {stopped[0]}")
    assert not odd, f"stored posts that are not canonical: {odd}"
    assert (len(rows) > 0) == (r.quarantined > 0), (r, rows)
    assert len(rows) <= r.quarantined, (r, rows)  # identical rows of one file are stored once
    for record, reason in rows:
        assert reason and reason.strip(), rows
        assert record is None or record >= 1, rows
    users_file = r.format == "x_archive" and not stored  # its records are accounts, not posts
    if not users_file:
        assert stored == r.inserted, (r, stored)
    summary = info(case)
    assert summary.quarantined >= len(rows)


# -- strategies: values -----------------------------------------------------------------------

DEEP = "\x00deep\x00"  # replaced by deeply nested brackets after serialisation

FAR_DATES = [
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "0000-00-00 00:00:00",
    "12345-01-01T00:00:00Z",
    "300000-01-01",
    "2024-02-30T00:00:00Z",
    "2024-01-01T00:00:00+99:00",
    "2024-01-01T25:61:61",
    "1970-01-01",
    "yesterday",
    "2024-03-01 10:00:00 XYZT",
    "2024-03-01T10:00:00.123456789012Z",
    "infinity",
    "-infinity",
    "epoch",
    "infinity IST",
    "2021-07-05 09:00:00 IST",
    "294247-01-10 04:00:54",
    "290309-12-22 (BC) 00:00:00",
    "1709287200",
    "1709287200000",
    "-1709287200",
]
ODD_NUMBERS = [
    0,
    -1,
    2**31,
    2**63 - 1,
    2**63,
    -(2**63),
    10**400,
    -(2**63) - 1,
    2**64,
    10**30,
    -(10**30),
    1e308,
    -1e308,
    1e-300,
    float("nan"),
    float("inf"),
    float("-inf"),
    99999999999,
    99999999999999,
    253402300800,
    -62135596800,
    1.5,
]
ODD_STRINGS = [
    "",
    " ",
    "\ud800",
    "a\udfffb",
    "\x00",
    "a\x00b",
    "\x1b[31m",
    "\x01\x0b\x1f",
    "\u2028\u2029",
    "\ufeff",
    "\ufffe",
    "-1",
    "1e309",
    "NaN",
    "Infinity",
    "-9223372036854775809",
    "99999999999999999999999",
    "null",
    "None",
    "True",
    "[]",
    "{}",
    "[1, 2",
    "['a', 'b']",
    '"',
    "a\nb",
    "a\r\nb",
    "user",
    "channel",
    "user123",
    "-100",
    "#",
    "@",
    "https://",
    "at://did:plc:x/app.bsky.feed.post/",
    "x" * 5000,
    "é" * 70000,
]


def scalars() -> st.SearchStrategy[Any]:
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from(ODD_NUMBERS),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from(ODD_STRINGS),
        st.sampled_from(FAR_DATES),
        st.text(max_size=30),
    )


def hostile() -> st.SearchStrategy[Any]:
    return st.one_of(
        scalars(),
        scalars(),
        st.lists(scalars(), max_size=3),
        st.dictionaries(st.sampled_from(["id", "text", "type", "_", "value", ""]), scalars(), max_size=3),
        st.just(DEEP),
    )


# -- strategies: JSON mutations ---------------------------------------------------------------


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _parent(root: Any, path: tuple) -> Any:
    for k in path[:-1]:
        root = root[k]
    return root


def _retype(value: Any) -> Any:
    """The same value in another JSON type (the shapes exporters disagree on)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            try:
                return float(value)
            except ValueError:
                return [value]
    if isinstance(value, list):
        return value[0] if value else {}
    if isinstance(value, dict):
        return list(value.values())
    return ""


@dataclass(frozen=True)
class Raw:
    """A line of a JSON-lines fixture that is not JSON (the fixtures hold bad records on purpose): kept as is."""

    text: str


@functools.cache
def _parsed(name: str) -> list | None:
    """The fixture's documents (one per line for JSON lines; lines that are not JSON as Raw), or None
    for a document that is not JSON (it is fuzzed at the byte level only)."""
    data = (FIX / name).read_bytes()
    if not name.endswith((".jsonl", ".ndjson")):
        try:
            return [json.loads(data)]
        except ValueError:
            return None
    out: list = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append(Raw(line))
    return out


_JSON_FIXTURES = [n for names in FIXTURES.values() for n in names if not _is_csv(n)]


@st.composite
def json_documents(draw: st.DrawFn, fmt: str) -> tuple[bytes, str]:
    """A fixture of ``fmt``, mutated at the JSON level, then at the byte level."""
    name = draw(st.sampled_from([n for n in FIXTURES[fmt] if _parsed(n) is not None]))
    lines_mode = name.endswith((".jsonl", ".ndjson"))
    root: Any = copy.deepcopy(_parsed(name))  # a fresh copy to mutate
    for _ in range(draw(st.integers(1, 6))):
        paths = [p for p in _paths(root) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, key = _parent(root, path), path[-1]
        op = draw(st.sampled_from(["drop", "set", "set", "set", "retype", "retype", "dup", "dup", "foreign"]))
        if op == "foreign":  # a record of another format's fixture in its place
            other = draw(st.sampled_from([n for n in _JSON_FIXTURES if _parsed(n)]))
            parent[key] = copy.deepcopy(draw(st.sampled_from([d for d in _parsed(other) if not isinstance(d, Raw)])))
        elif op == "drop":
            del parent[key]
        elif op == "set":
            parent[key] = draw(hostile())
        elif op == "retype":
            parent[key] = _retype(parent[key])
        elif isinstance(parent, list):
            parent.insert(key, copy.deepcopy(parent[key]))
        else:
            parent[draw(st.sampled_from(["id", "text", "date", "data", "messages", "items", key + "_"]))] = parent[key]
    ascii_only = draw(st.booleans())
    indent = None if lines_mode else draw(st.sampled_from([None, 1]))
    docs = [
        doc.text if isinstance(doc, Raw) else json.dumps(doc, ensure_ascii=ascii_only, indent=indent, allow_nan=True)
        for doc in root
    ]
    depth = draw(st.sampled_from([40, 200, 5000]))
    docs = [d.replace(json.dumps(DEEP, ensure_ascii=ascii_only), "[" * depth + "]" * depth) for d in docs]
    out = "\n".join(docs) + ("\n" if lines_mode else "")
    if not lines_mode and len(docs) > 1:  # the root element was duplicated: two documents in one file
        out = "\n".join(docs)
    return draw(byte_level(out, name)), Path(name).suffix


@st.composite
def byte_level(draw: st.DrawFn, text: str, name: str) -> bytes:
    """``text`` encoded, possibly wrongly, and possibly damaged: BOM, CRLF, truncation, lines duplicated."""
    encoding = draw(st.sampled_from(["utf-8"] * 6 + ["latin-1", "utf-16", "cp1251"]))
    data = text.encode(encoding, errors="surrogatepass" if encoding.startswith("utf") else "replace")
    if draw(st.booleans()):
        return data
    edits = draw(st.lists(st.sampled_from(["bom", "crlf", "cr", "truncate", "dupline", "nul", "noeol"]), max_size=3))
    for e in edits:
        if e == "bom":
            data = b"\xef\xbb\xbf" + data
        elif e == "crlf":
            data = data.replace(b"\n", b"\r\n")
        elif e == "cr":
            data = data.replace(b"\n", b"\r")
        elif e == "truncate" and len(data) > 1:
            data = data[: draw(st.integers(1, len(data) - 1))]
        elif e == "dupline":
            lines = data.split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = b"\n".join(lines)
        elif e == "nul" and data:
            i = draw(st.integers(0, len(data) - 1))
            data = data[:i] + b"\x00" + data[i:]
        elif e == "noeol":
            data = data.rstrip(b"\r\n")
    return data


# -- strategies: CSV mutations ----------------------------------------------------------------


def cells() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(ODD_STRINGS),
        st.sampled_from(FAR_DATES),
        st.sampled_from([str(x) for x in ODD_NUMBERS]),
        st.integers(min_value=-(2**70), max_value=2**70).map(str),
        st.text(max_size=20),
    )


@st.composite
def csv_documents(draw: st.DrawFn, fmt: str) -> tuple[bytes, str]:
    """A fixture of ``fmt``, mutated at the cell and row level, then at the byte level."""
    name = draw(st.sampled_from(FIXTURES[fmt]))
    delim = _delimiter(fmt, name)
    rows = list(csv.reader(io.StringIO((FIX / name).read_text(encoding="utf-8"), newline=""), delimiter=delim))
    for _ in range(draw(st.integers(1, 6))):
        if not rows:
            break
        r = draw(st.integers(0, len(rows) - 1))
        op = draw(st.sampled_from(["set", "set", "set", "drop_cell", "add_cell", "drop_col", "dup_row", "drop_row"]))
        row = rows[r]
        if op == "set" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(cells())
        elif op == "drop_cell" and row:
            del row[draw(st.integers(0, len(row) - 1))]
        elif op == "add_cell":
            row.append(draw(cells()))
        elif op == "drop_col" and rows[0]:
            c = draw(st.integers(0, len(rows[0]) - 1))
            for x in rows:
                if c < len(x):
                    del x[c]
        elif op == "dup_row":
            rows.insert(r, list(row))
        elif op == "drop_row":
            del rows[r]
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    terminator = draw(st.sampled_from(["\n", "\r\n"]))
    buf = io.StringIO()
    csv.writer(buf, delimiter=delim, quoting=quoting, lineterminator=terminator).writerows(rows)
    text = buf.getvalue()
    if draw(st.booleans()) and text:  # a stray quote: the rest of the file is one cell
        i = draw(st.integers(0, len(text) - 1))
        text = text[:i] + '"' + text[i:]
    return draw(byte_level(text, name)), Path(name).suffix


def utf8_cells() -> st.SearchStrategy[str]:
    """Cells Parquet can hold (a string column is UTF-8: no lone surrogate)."""
    return cells().map(lambda s: s.encode("utf-8", "replace").decode("utf-8"))


@st.composite
def parquet_tables(draw: st.DrawFn) -> tuple[bytes, str]:
    """generic_table's fixture as Parquet, each column of a drawn Arrow type and values."""
    rows = list(csv.reader(io.StringIO((FIX / "generic_table/posts.csv").read_text()), delimiter=";"))
    names, body = rows[0], rows[1:]
    n = draw(st.integers(0, 4))
    columns = {}
    for i, name in enumerate(names):
        kind = draw(
            st.sampled_from(["keep", "keep", "keep", "text", "int", "float", "time", "date", "bool", "list", "struct"])
        )
        if kind == "keep":
            column = pa.array(
                [r[i] for r in body][:n] + [draw(utf8_cells()) for _ in range(n - len(body))], pa.string()
            )
        elif kind == "text":
            column = pa.array([draw(utf8_cells()) for _ in range(n)], pa.string())
        elif kind == "int":
            column = pa.array([draw(st.integers(-(2**63), 2**63 - 1)) for _ in range(n)], pa.int64())
        elif kind == "float":
            column = pa.array([draw(st.floats()) for _ in range(n)], pa.float64())
        elif kind == "time":
            unit = draw(st.sampled_from(["ms", "us", "ns"]))
            typ = pa.timestamp(unit, draw(st.sampled_from([None, "UTC", "Asia/Kolkata"])))
            column = pa.array([draw(st.integers(-(2**63) + 1, 2**63 - 1)) for _ in range(n)], pa.int64()).cast(typ)
        elif kind == "date":
            column = pa.array([draw(st.integers(-(2**31), 2**31 - 1)) for _ in range(n)], pa.int32()).cast(pa.date32())
        elif kind == "bool":
            column = pa.array([draw(st.booleans()) for _ in range(n)], pa.bool_())
        elif kind == "list":
            column = pa.array([draw(st.lists(st.one_of(st.none(), utf8_cells()), max_size=3)) for _ in range(n)])
        else:
            column = pa.array([{"a": draw(utf8_cells())} for _ in range(n)], pa.struct([("a", pa.string())]))
        columns[draw(st.sampled_from([name] * 8 + [name.lower(), name + "_"]))] = column
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue(), ".parquet"


def documents(fmt: str) -> st.SearchStrategy[tuple[bytes, str]]:
    if fmt == "generic_table":
        return st.one_of(csv_documents(fmt), parquet_tables())
    return csv_documents(fmt) if _is_csv(FIXTURES[fmt][0]) else json_documents(fmt)


# -- strategies: arbitrary bytes --------------------------------------------------------------

SUFFIXES = [".json", ".jsonl", ".ndjson", ".csv", ".tab", ".tsv", ".parquet", ".txt", ""]


@st.composite
def edited_fixture(draw: st.DrawFn, fmt: str | None) -> bytes:
    """A real fixture with random bytes replaced, inserted and deleted."""
    names = FIXTURES[fmt] if fmt else [n for v in FIXTURES.values() for n in v]
    data = bytearray((FIX / draw(st.sampled_from(names))).read_bytes())
    for _ in range(draw(st.integers(1, 8))):
        i = draw(st.integers(0, max(0, len(data) - 1)))
        op = draw(st.sampled_from(["replace", "insert", "delete", "cut"]))
        if op == "replace" and data:
            data[i] = draw(st.integers(0, 255))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[i : i + draw(st.integers(1, 16))]
        elif op == "cut":
            del data[i:]
    return bytes(data)


def arbitrary(fmt: str | None) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=2048),
        edited_fixture(fmt),
        st.text(max_size=500).map(lambda s: s.encode("utf-8", "surrogatepass")),
    )


# -- the tests --------------------------------------------------------------------------------


def test_every_format_has_fixtures_to_mutate():
    assert set(FIXTURES) == set(formats())
    for names in FIXTURES.values():
        assert names and all((FIX / n).is_file() for n in names)


@pytest.mark.parametrize("fmt", FORMATS)
@_settings(20)
@given(data=st.data())
def test_arbitrary_bytes_forced(cases, fmt, data):
    raw = data.draw(arbitrary(fmt), label="bytes")
    suffix = data.draw(st.sampled_from(SUFFIXES), label="suffix")
    options = _options(fmt, data.draw(st.integers(0, 3)), None)
    check(cases[fmt], raw, suffix, fmt, options)


@_settings(60)
@given(raw=arbitrary(None), suffix=st.sampled_from(SUFFIXES), small=st.integers(0, 2))
def test_arbitrary_bytes_auto_detected(cases, raw, suffix, small):
    check(cases["auto"], raw, suffix, None, _options(None, small, None))


@pytest.mark.parametrize("fmt", FORMATS)
@_settings(35)
@given(data=st.data())
def test_mutated_real_records(cases, fmt, data):
    raw, suffix = data.draw(documents(fmt), label="document")
    forced = data.draw(st.booleans(), label="forced")
    small = data.draw(st.sampled_from([0, 0, 0, 1, 2, 3]), label="small")
    timezone = data.draw(st.sampled_from([None, "Europe/Moscow"]), label="timezone")
    platform = data.draw(st.sampled_from([None, "x", "telegram"]), label="platform")
    options = _options(fmt, small, timezone, platform)
    check(cases[fmt], raw, suffix, fmt if forced or fmt == "generic_table" else None, options)


# -- regressions: each failure the fuzzer found, as a plain example ---------------------------


def _quarantine(case: Path) -> list[tuple]:
    with Case(case, read_only=True) as db:
        return db.con.execute(
            "SELECT source_file, record, reason FROM quarantine ORDER BY source_file, record"
        ).fetchall()


@pytest.mark.parametrize("fmt", [f for f in FORMATS if _is_csv(FIXTURES[f][0])])
def test_a_csv_header_with_a_bare_cr_is_a_file_problem_not_a_crash(tmp_path, fmt):
    """Found: b"\\r0" forced as cnt_csv raised csv.Error from the header parser (and a sniffer would
    have raised it out of detection: csv.Error is no ValueError)."""
    case = tmp_path / "c.duckdb"
    check(case, b"\r0", ".csv", fmt, _options(fmt, 0))
    check(case, b"message_id,user_id\rx\n1,2\n", ".csv", None, _options(None, 0))
    reasons = [r for _, _, r in _quarantine(case)]
    assert "malformed header row" in reasons[0] and "carriage return" in reasons[0]
    assert reasons[1].startswith("unknown format")


def test_a_nul_or_a_quote_in_a_csv_header_name_is_read(tmp_path):
    """Found: a NUL in a column name (DuckDB cannot name such a column) and a quote in one (it ended
    the SQL string literal of a quarantine reason) raised from the SQL transform."""
    case = tmp_path / "c.duckdb"
    body = b"m1,u1,user,,,text,1577886230,\nm2,u2,user,,,text,soon,\n"
    check(
        case,
        b"\x00essage_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n" + body,
        ".csv",
        "cnt_csv",
        _options("cnt_csv", 0),
    )
    check(
        case,
        b"message_id,user_id,username,repost_id,reply_id,message,time'stamp,urls\n" + body,
        ".csv",
        "cnt_csv",
        _options("cnt_csv", 0),
    )
    reasons = [r for _, _, r in _quarantine(case)]
    assert reasons == [
        "unparseable timestamp timestamp=soon (expected seconds)",
        "unparseable timestamp time'stamp=soon (expected seconds)",
    ]
    table = b"I'D;Author;When\ng1;a1;2024-03-01T10:00:00Z\ng2;a1;soon\n"
    quoted = ReadOptions(column_map=dict(post_id="I'D", account_id="Author", created_at="When"))
    check(case, table, ".csv", "generic_table", quoted)
    check(
        case,
        b"ID;Author;It's\ng1;;2024-03-01T10:00:00Z\n",
        ".csv",
        "generic_table",
        ReadOptions(column_map=dict(post_id="ID", account_id="Author", created_at="It's")),
    )
    assert [r for _, _, r in _quarantine(case)][2:] == [
        "unparseable timestamp When=soon (expected ISO 8601 or POSIX seconds)",
        "missing required field Author",
    ]


def test_telegram_reactions_summing_past_bigint_leave_the_count_unknown(tmp_path):
    """Found: two reactions of count 2**63-1 summed to a HUGEINT the posts table cannot hold; the
    whole file stopped (`reading stopped: ArrowInvalid: Integer value out of bounds`)."""
    message = {"id": 1, "type": "message", "date": "2024-03-01T10:00:00", "date_unixtime": "1709287200", "text": "x"}
    big = dict(message, reactions=[{"type": "emoji", "count": 2**63 - 1}] * 2)
    doc = {"name": "c", "type": "public_channel", "id": 5, "messages": [big, dict(message, id=2)]}
    case = tmp_path / "c.duckdb"
    check(case, json.dumps(doc).encode(), ".json", None, _options(None, 0))
    with Case(case, read_only=True) as db:
        assert db.con.execute("SELECT post_id, like_count FROM posts ORDER BY 1").fetchall() == [
            ("5/1", None),
            ("5/2", None),
        ]


def test_parquet_timestamps_beyond_range_or_in_nanoseconds_are_read(tmp_path):
    """Found: a Parquet created_at of timestamp[ms] in year 300,000 raised DuckDB's internal error,
    and one of timestamp[ns] with nanoseconds did not cast to the store's microseconds."""
    case = tmp_path / "c.duckdb"
    options = ReadOptions(column_map=MINIMAL_MAP)
    for typ, values in [
        (pa.timestamp("ms"), [2**60, 1709287200_000]),
        (pa.timestamp("ns", "UTC"), [1709287200_000_000_123, 1709287200_000_001_999]),
        (pa.date32(), [2**31 - 1, 19783]),
    ]:
        table = pa.table(
            {
                "ID": ["a", "b"],
                "Author": ["u", "u"],
                "When": pa.array(values, pa.int64()).cast(typ)
                if typ != pa.date32()
                else pa.array(values, pa.int32()).cast(typ),
            }
        )
        buf = io.BytesIO()
        pq.write_table(table, buf)
        check(case, buf.getvalue(), ".parquet", "generic_table", options)
    reasons = [r for _, _, r in _quarantine(case)]
    assert (
        reasons[0]
        == "unparseable timestamp When=1152921504606846976 ms since 1970-01-01 (expected ISO 8601 or POSIX seconds)"
    )
    assert reasons[1].startswith("implausible created_at=infinity, outside the time window")  # date 5881580-07-11
    with Case(case, read_only=True) as db:
        assert db.con.execute("SELECT DISTINCT created_at FROM posts").fetchall() == [(dt.datetime(2024, 3, 1, 10),)]


def test_a_telegram_chat_header_nested_deep_or_with_an_odd_id_quarantines_its_messages(tmp_path):
    """Found: a value nested 5,000 deep anywhere in the chat object (before or after its messages)
    raised RecursionError out of the chat header's parse and stopped the file; an id of true or of
    Arabic-Indic digits became chat "True" / "١٢"."""
    message = '{"id": 1, "type": "message", "date": "2024-03-01T10:00:00", "date_unixtime": "1709287200", "text": "x"}'
    deep = "[" * 5000 + "]" * 5000
    case = tmp_path / "c.duckdb"
    for head, tail, why in [
        (f'"name": {deep}, "id": 5', "", "chat id unknown: chat header nested too deeply to read"),
        ('"name": "a", "id": 5', f', "x": {deep}', "chat id unknown: chat header nested too deeply to read"),
        ('"name": "a", "id": true', "", "chat id unknown: the chat object has no numeric id (id=True)"),
        ('"name": "a", "id": "\u0661\u0662"', "", "chat id unknown: the chat object has no numeric id (id='١٢')"),
    ]:
        doc = '{"type": "public_channel", ' + head + ', "messages": [' + message + "]" + tail + "}"
        check(case, doc.encode(), ".json", "telegram_desktop", _options("telegram_desktop", 0))
        assert _quarantine(case)[-1][1:] == (1, why)


def test_crowdtangle_times_at_the_ends_of_the_range_with_a_timezone_are_quarantined(tmp_path):
    """Found: with --timezone, a time of year 290309 BC made ICU raise (the file stopped), and
    "infinity IST" gave a NULL reason, so the post was stored without a time."""
    header = "Page Name,User Name,Facebook Id,Post Created,Type,URL,Message\n"
    case = tmp_path / "c.duckdb"
    for i, when in enumerate(["290309-12-22 (BC) 00:00:00", "infinity IST", "2021-07-05 09:00:00"]):
        row = f"P,p,1,{when},Status,https://www.facebook.com/1/posts/{i}/,hi\n"
        check(case, (header + row).encode(), ".csv", None, _options(None, 0, "Europe/Moscow"))
    assert [r for _, _, r in _quarantine(case)] == [
        "unparseable timestamp Post Created=290309-12-22 (BC) 00:00:00 (expected YYYY-MM-DD HH:MM:SS and a known "
        "zone abbreviation)",
        "unparseable timestamp Post Created=infinity IST (expected YYYY-MM-DD HH:MM:SS and a known zone abbreviation)",
    ]
    with Case(case, read_only=True) as db:
        assert db.con.execute("SELECT post_id, created_at FROM posts").fetchall() == [
            ("https://www.facebook.com/1/posts/2", dt.datetime(2021, 7, 5, 6))
        ]


def test_generic_table_an_empty_kind_cell_is_no_kind(tmp_path):
    """Found: an empty cell of the mapped kind column gave kind NULL, which no check caught and the
    store's NOT NULL constraint refused: ConstraintException out of ingest(), the run aborted."""
    case = tmp_path / "c.duckdb"
    data = (
        b"ID;Author;When;Message;Tags;Links;Type\n"
        b"g1;a1;2024-03-01T10:00:00Z;hi;;;\n"
        b"g2;a1;2024-03-01T10:00:00Z;hi;;;post\n"
    )
    check(case, data, ".csv", "generic_table", _options("generic_table", 0))
    table = pa.table(
        {"ID": ["g3"], "Author": ["a1"], "When": ["2024-03-01T10:00:00Z"], "Type": pa.array([None], pa.string())}
    )
    buf = io.BytesIO()
    pq.write_table(table, buf)
    check(case, buf.getvalue(), ".parquet", "generic_table", ReadOptions(column_map=dict(MINIMAL_MAP, kind="Type")))
    with Case(case, read_only=True) as db:
        assert db.con.execute("SELECT post_id, kind FROM posts ORDER BY 1").fetchall() == [
            ("g1", "post"),
            ("g2", "post"),
            ("g3", "post"),
        ]


def test_a_csv_cell_over_csvs_field_limit_is_read_in_the_fallback_parser(tmp_path):
    """Found with the header fix: Python's csv refuses a field over 131,072 characters, so a long
    text in a chunk read one record at a time (a bare CR elsewhere in it) was quarantined as
    `malformed CSV row: field larger than field limit`, though records may hold 16 MiB."""
    header = "message_id,user_id,username,repost_id,reply_id,message,timestamp,urls\n"
    data = header + f'm1,u1,x,,,"{"x" * 200_000}",1577886230,\nm2,u2,x,,,a\rb,1577886230,\n'
    case = tmp_path / "c.duckdb"
    check(case, data.encode(), ".csv", "cnt_csv", _options("cnt_csv", 0))
    assert [(r, reason[:40]) for _, r, reason in _quarantine(case)] == [(2, "malformed CSV row: new-line character se")]
    with Case(case, read_only=True) as db:
        assert db.con.execute("SELECT post_id, length(text) FROM posts").fetchall() == [("m1", 200_000)]
