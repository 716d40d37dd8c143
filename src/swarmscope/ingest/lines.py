"""Streaming line reader for line-delimited formats (JSONL, twarc2 pages, NDJSON).

Reads the file in large binary chunks and splits them in C (``bytes.split``),
so memory stays at about two chunks whatever the file size. Two kinds of bad
line never reach a parser:

- a line longer than ``max_record_bytes`` is skipped as it streams by and
  quarantined with its first bytes as excerpt (it is never held whole);
- a line that is not valid UTF-8 is quarantined as "wrong encoding". The
  whole chunk is decoded at once (fast path); only a chunk that fails to
  decode is decoded line by line (exact path).

Blank lines are not records and are not counted.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .base import Quarantine
from .compressed import open_input


@dataclass
class LineChunk:
    lines: pa.StringArray  # decoded, CR stripped, blank lines dropped
    numbers: np.ndarray  # 1-based line numbers, int64, same length as lines
    bytes_done: int


def iter_lines(
    path: Path,
    quarantine: Quarantine,
    chunk_bytes: int,
    max_record_bytes: int,
    start: int = 0,
    stop: int | None = None,
    first_line: int = 0,
) -> Iterator[LineChunk]:
    """The lines of ``path`` in chunks; with ``start``/``stop`` (byte offsets of line starts),
    only that segment, its lines numbered after ``first_line``. ``bytes_done`` counts from 0."""
    chunk_bytes = max(1024, min(chunk_bytes, max_record_bytes)) if max_record_bytes else chunk_bytes
    carry = b""
    line_no = first_line  # number of the last complete line handed out
    skipping = False  # inside an oversized line, dropping bytes until its newline
    done = start
    with open_input(path) as fh:
        fh.seek(start)
        while True:
            block = fh.read(chunk_bytes if stop is None else max(0, min(chunk_bytes, stop - done)))
            if done == 0 and block.startswith(b"\xef\xbb\xbf"):  # a UTF-8 byte-order mark: not part of line 1
                block = block[3:]
                done = 3
            done += len(block)
            if not block:
                break
            if skipping:
                nl = block.find(b"\n")
                if nl < 0:
                    continue
                block = block[nl + 1 :]
                skipping = False
                line_no += 1
            data = carry + block
            last_nl = data.rfind(b"\n")
            if last_nl < 0:
                carry = data
            else:
                carry = data[last_nl + 1 :]
                parts = data[:last_nl].split(b"\n")
                chunk = _decode(parts, line_no, quarantine, path, max_record_bytes)
                line_no += len(parts)
                chunk.bytes_done = done
                if len(chunk.lines):
                    yield chunk
            if len(carry) > max_record_bytes:
                quarantine.add(
                    line_no + 1,
                    f"record longer than the maximum record size ({max_record_bytes:,} bytes); skipped",
                    carry[:2000],
                )
                carry = b""
                skipping = True
    if carry and not skipping:
        chunk = _decode([carry], line_no, quarantine, path, max_record_bytes)
        chunk.bytes_done = done
        if len(chunk.lines):
            yield chunk


def _decode(parts: list[bytes], first: int, quarantine: Quarantine, path: Path, max_record_bytes: int) -> LineChunk:
    numbers = np.arange(first + 1, first + 1 + len(parts), dtype=np.int64)
    joined = b"\n".join(parts)
    try:
        lines = joined.decode("utf-8").split("\n")
        if len(lines) != len(parts):  # a decoded U+2028 etc. never splits here; \n only
            raise UnicodeDecodeError("utf-8", b"", 0, 1, "line count changed")
    except UnicodeDecodeError:
        lines = []
        keep = []
        for i, p in enumerate(parts):  # exact path, only for a chunk with bad bytes
            try:
                lines.append(p.decode("utf-8"))
                keep.append(i)
            except UnicodeDecodeError as e:
                quarantine.add(int(numbers[i]), f"wrong encoding: not valid UTF-8 ({e.reason} at byte {e.start})", p)
        numbers = numbers[keep]
    arr = pa.array(lines, pa.string())
    arr = pc.utf8_rtrim(arr, characters="\r")  # CRLF files
    keep_mask = pc.greater(pc.utf8_length(pc.utf8_trim_whitespace(arr)), 0)  # blank lines are not records
    arr = arr.filter(keep_mask)
    numbers = numbers[keep_mask.to_numpy(zero_copy_only=False)]
    return LineChunk(lines=arr, numbers=numbers, bytes_done=0)
