"""The header row of a CSV file: found, decoded and split, for the tabular importers' sniffers and readers.

Split out of tabular.py (the rows and the SQL pieces). A header that cannot be
read is a ``FileProblem``: the whole file is one quarantine row with the reason.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .compressed import open_input

_QUOTE = ord('"')
_NL = ord("\n")
_DELIMITERS = (",", "\t", ";", "|")
# csv's default field limit (131,072 characters) is below a record's (16 MiB): a longer
# field (a header name, or a long text in tabular's one-record-at-a-time fallback) raised
csv.field_size_limit(2**31 - 1)


class FileProblem(Exception):
    """The whole file cannot be read as this format (no header, not UTF-8, columns missing)."""


@dataclass(frozen=True)
class Header:
    names: tuple[str, ...]  # as written (stripped; duplicates suffixed _2, _3...)
    delimiter: str
    data_offset: int  # byte offset of the first data record

    def find(self, name: str) -> str | None:
        """The header's spelling of ``name``, matched exactly, then case-insensitively."""
        if name in self.names:
            return name
        low = name.strip().lower()
        for n in self.names:
            if n.lower() == low:
                return n
        return None

    def has(self, *names: str) -> bool:
        return all(self.find(n) is not None for n in names)


def first_record_end(data: bytes, parity: int = 0) -> int:
    """Index of the newline ending the first record of ``data``, or -1."""
    arr = np.frombuffer(data, np.uint8)
    nl = np.flatnonzero(arr == _NL)
    if not len(nl):
        return -1
    quotes = np.flatnonzero(arr == _QUOTE)
    even = (np.searchsorted(quotes, nl) + parity) % 2 == 0
    hits = nl[even]
    return int(hits[0]) if len(hits) else -1


def _parse_header_line(line: str) -> tuple[list[str], str]:
    counts = {d: line.count(d) for d in _DELIMITERS}
    delim = max(_DELIMITERS, key=lambda d: (counts[d], d == ","))
    if counts[delim] == 0:
        delim = ","
    try:
        names = next(csv.reader([line], delimiter=delim), [])
    except csv.Error as e:  # a CR not followed by LF outside quotes: old Mac line endings, or a stray CR
        hint = (
            ": a carriage return without a line feed (old Mac line endings?); "
            "save the file as UTF-8 CSV with LF or CRLF line endings"
        )
        raise FileProblem(f"malformed header row ({e}){hint if chr(13) in line else ''}") from None
    return [n.strip() for n in names], delim


def header_names(head: bytes) -> list[str] | None:
    """Lower-cased column names of the first record of ``head``; None where it is not CSV-like.

    For ``sniff`` functions: cheap, never raises, and refuses JSON so a JSON
    export is never taken for a CSV with odd column names.
    """
    head = head.removeprefix(b"\xef\xbb\xbf")
    stripped = head.lstrip()
    if not stripped or stripped[:1] in (b"{", b"[") or b"\x00" in head[:1024]:
        return None
    end = first_record_end(head)
    line = head if end < 0 else head[:end]
    try:
        text = line.decode("utf-8").rstrip("\r")
    except UnicodeDecodeError:
        return None
    try:
        names, _ = _parse_header_line(text)
    except FileProblem:
        return None
    return [n.lower() for n in names] if len(names) > 1 else None


def read_header(path: Path, max_record_bytes: int) -> Header:
    """Read and check the header row; FileProblem with a reason a user can act on."""
    with open_input(path) as fh:
        head = fh.read(max(max_record_bytes, 1 << 16) + 1)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileProblem("wrong encoding: the file is UTF-16; save it as UTF-8 CSV")
    bom = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    if not head[bom:].strip():
        raise FileProblem("empty file: no header row")
    end = first_record_end(head[bom:])
    if end < 0:
        if len(head) > max_record_bytes:
            raise FileProblem(f"no header row ends within the first {max_record_bytes:,} bytes")
        end = len(head) - bom  # a header-only file without a final newline
    try:
        text = head[bom : bom + end].decode("utf-8").rstrip("\r")
    except UnicodeDecodeError as e:
        raise FileProblem(f"wrong encoding: header row is not valid UTF-8 ({e.reason} at byte {e.start})") from None
    names, delim = _parse_header_line(text)
    if not names or all(not n for n in names):
        raise FileProblem("empty header row")
    seen: dict[str, int] = {}
    unique = []
    for i, n in enumerate(names):
        n = n.replace("\x00", "\ufffd") or f"column_{i + 1}"  # DuckDB cannot name a column holding NUL
        k = seen.get(n.lower(), 0)
        seen[n.lower()] = k + 1
        unique.append(n if k == 0 else f"{n}_{k + 1}")
    return Header(tuple(unique), delim, bom + end + 1)
