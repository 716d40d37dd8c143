"""bench/terminal.py: how long a command's progress display stood still (issue #24: no stage silent > 10 s)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))

import terminal

REDRAW = b"\r\x1b[2K"
UP = b"\x1b[1A\x1b[2K"


def _bar(text: str, clock: str) -> bytes:
    return REDRAW + f"\x1b[32m\u280b\x1b[0m \x1b[1m{text}\x1b[0m \x1b[33m{clock}\x1b[0m".encode()


def test_a_ticking_clock_and_spinner_are_not_progress_a_new_step_is():
    chunks = [
        (0.5, b"\x1b[?25l" + _bar("detect: signals", "0:00:00")),
        (1.5, _bar("detect: signals", "0:00:01")),
        (9.0, _bar("detect: signals", "0:00:09")),
        (12.0, _bar("detect: campaigns", "0:00:12")),
        (13.0, _bar("detect: campaigns", "0:00:13")),
    ]
    drawn = list(terminal.frames(chunks))
    assert [t for t, _ in drawn] == [0.5, 1.5, 9.0, 12.0, 13.0]
    assert drawn[0][1] == drawn[2][1] == "detect: signals"  # escapes, spinner and clock gone
    quiet = terminal.silences(drawn, end=20.0)
    # 0 -> 0.5 before anything, 0.5 -> 12.0 on signals, 12.0 -> 20.0 (the exit) on campaigns
    assert [(s.seconds, s.start, s.shown) for s in quiet] == [
        (11.5, 0.5, "detect: signals"),
        (8.0, 12.0, "detect: campaigns"),
        (0.5, 0.0, ""),
    ]


def test_a_frame_split_between_two_reads_is_one_frame_dated_by_its_first_bytes():
    frame = _bar("detect: near duplicates · band 3/18", "0:01:00") + b"\n" + b"embedding texts 64/2,000"
    chunks = [(1.0, _bar("detect: near duplicates", "0:00:59")), (2.0, frame[:20]), (2.1, frame[20:] + REDRAW + UP)]
    drawn = list(terminal.frames(chunks))
    texts = [text for _, text in drawn]
    assert "detect: near duplicates · band 3/18 | embedding texts 64/2,000" in texts
    assert dict((text, t) for t, text in drawn)["detect: near duplicates · band 3/18 | embedding texts 64/2,000"] == 2.0


def test_run_measures_a_real_command_on_a_terminal(tmp_path):
    script = (
        "import time\n"
        "from swarmscope.progress import step_bar\n"
        "with step_bar('detect') as bar:\n"
        "    bar('one', 1, 2)\n"
        "    time.sleep(1.2)\n"
        "    bar('two', 2, 2)\n"
        "    time.sleep(0.3)\n"
    )
    record = tmp_path / "detect.progress"
    code, wall, quiet = terminal.run([sys.executable, "-c", script], record=record)
    assert code == 0 and wall >= 1.5
    assert quiet[0].shown.startswith("detect: one") and 1.0 <= quiet[0].seconds <= wall
    assert "detect: two" in record.read_text()
