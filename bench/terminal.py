"""A command run as a user runs it in a terminal, and how long its progress display stood still.

Issue #24: "a progress bar with an ETA on every stage that runs longer than a few seconds; no stage
silent for more than 10 s". The bars draw only when stderr is a terminal, so the command's stderr is a
pseudo-terminal here (160 columns). What it draws is cut into frames (rich redraws the whole display
about ten times a second, each frame starting with a carriage return and an erase of the line, and
cursor-ups for the lines above), and a frame counts as a change when its text differs from the one
before once the clocks (elapsed time, ETA) and the spinner are taken out: a clock that ticks is not
progress, a new step, detail, count or bar length is.

    python bench/terminal.py swarmscope detect case.duckdb      # prints the longest silences
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

FRAME = re.compile(rb"\r\x1b\[2K(?:\x1b\[1A\x1b\[2K)*")  # where rich starts redrawing its display
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CLOCK = re.compile(r"-:--:--|\d+:\d\d:\d\d")  # rich's elapsed and remaining times
SPINNER = re.compile(r"[\u2800-\u28ff]")  # the braille dots of rich's default spinner
COLUMNS = 160


def frames(chunks: Iterable[tuple[float, bytes]]) -> Iterator[tuple[float, str]]:
    """(time, text) of each frame drawn, from (time read, bytes read) chunks of the terminal's output.

    A frame split across two reads is joined; it is dated when its first bytes came. The text is
    without escape codes, clocks and spinner, lines joined by " | ", blanks collapsed. What shows no
    text (a bar cleared, the cursor hidden) is no frame: a display left blank is silent too."""
    buf, since = b"", 0.0
    for t, chunk in chunks:
        if not buf:
            since = t
        buf += chunk
        pieces = FRAME.split(buf)
        for i, piece in enumerate(pieces[:-1]):
            if text := _text(piece):
                yield (since if i == 0 else t), text
        if len(pieces) > 1:
            buf, since = pieces[-1], t
    if buf and (text := _text(buf)):
        yield since, text


def _text(raw: bytes) -> str:
    text = ANSI.sub("", raw.decode("utf-8", "replace"))
    text = SPINNER.sub("", CLOCK.sub("", text))
    lines = (" ".join(line.split()) for line in re.split(r"[\r\n]+", text))
    return " | ".join(line for line in lines if line)


@dataclass(frozen=True)
class Silence:
    seconds: float
    start: float  # seconds after the command started
    shown: str  # what the display showed all that time ("" before anything was drawn)


def silences(drawn: Iterable[tuple[float, str]], end: float) -> list[Silence]:
    """The times between changes of the display, longest first; from the start to the first frame drawn,
    and from the last change to ``end`` (the command's exit), too."""
    out, last_t, last_text = [], 0.0, None
    for t, text in drawn:
        if text != last_text:
            out.append(Silence(t - last_t, last_t, last_text or ""))
            last_t, last_text = t, text
    out.append(Silence(end - last_t, last_t, last_text or ""))
    return sorted(out, key=lambda s: -s.seconds)


def run(cmd: list[str], stdout: IO | int = subprocess.DEVNULL, record: Path | None = None) -> tuple[int, float, list]:
    """Run ``cmd`` with its stderr on a pseudo-terminal: (exit code, wall seconds, silences longest first).

    ``record``: a file to write each change of the display to ("seconds<TAB>text")."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, COLUMNS, 0, 0))
    env = os.environ | {"COLUMNS": str(COLUMNS), "TERM": os.environ.get("TERM", "xterm-256color")}
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=follower, stdin=subprocess.DEVNULL, env=env)
    os.close(follower)

    def reads() -> Iterator[tuple[float, bytes]]:
        while True:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # the command closed its end
                return
            if not chunk:
                return
            yield time.perf_counter() - start, chunk

    drawn = list(frames(reads()))
    code = proc.wait()
    wall = time.perf_counter() - start
    os.close(leader)
    if record is not None:
        with record.open("w") as f:
            last = None
            for t, text in drawn:
                if text != last:
                    f.write(f"{t:.1f}\t{text}\n")
                    last = text
    return code, wall, silences(drawn, wall)


def main() -> None:
    code, wall, quiet = run(sys.argv[1:], stdout=sys.stdout)
    print(f"exit {code}, {wall:.1f} s; longest silences:", file=sys.stderr)
    for s in quiet[:5]:
        print(f"  {s.seconds:6.1f} s from {s.start:.1f} s: {s.shown[:140]!r}", file=sys.stderr)
    sys.exit(code)


if __name__ == "__main__":
    main()
