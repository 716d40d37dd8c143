"""Progress bars: on stderr when it is a terminal, never on stdout, silent in pipes."""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

SCRIPT = """
import time
from swarmscope.progress import step_bar
with step_bar("detect") as bar:
    bar("network: reposts", 1, 4)
    time.sleep(1.5)
    bar("signals", 2, 4)
    time.sleep(1.5)
print("result")
"""


def _run(stderr_is_terminal: bool, script: str = SCRIPT) -> tuple[str, str]:
    if not stderr_is_terminal:
        r = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
        return r.stdout, r.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=follower, env=os.environ | {"COLUMNS": "120"}
    )
    os.close(follower)
    drawn = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed its end
            break
        if not chunk:
            break
        drawn += chunk
    out = proc.stdout.read().decode()
    proc.wait(timeout=60)
    os.close(leader)
    return out, drawn.decode(errors="replace")


def test_the_step_bar_draws_the_step_and_times_on_a_terminal_stderr():
    out, err = _run(stderr_is_terminal=True)
    assert out == "result\n"  # nothing of the bar on stdout, which a script may be reading
    assert "detect: network: reposts" in err and "detect: signals" in err
    assert "1/4 steps" in err and "2/4 steps" in err
    assert "0:00:01" in err  # the elapsed time moves while a step runs: never a frozen line


def test_the_step_bar_is_silent_in_a_pipe():
    out, err = _run(stderr_is_terminal=False)
    assert out == "result\n" and err == ""


NESTED = """
import time
from swarmscope.progress import detail, progress_bar, step_bar
with step_bar("detect") as bar:
    bar("network: reposts", 1, 4)
    detail("band 3/18")
    time.sleep(0.6)
    with progress_bar(30, "embedding texts", unit="texts") as advance:
        for _ in range(3):
            time.sleep(0.3)
            advance(10)
    bar("signals", 2, 4)
    time.sleep(0.6)
"""

# where rich starts a redraw: a carriage return and an erase of the line, then one cursor-up and erase for
# each line above (bench/terminal.py cuts frames the same way)
FRAME = re.compile(r"\r\x1b\[2K(?:\x1b\[1A\x1b\[2K)*")
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _frames(drawn: str) -> list[str]:
    return [ANSI.sub("", f) for f in FRAME.split(drawn)]


def test_a_bar_inside_the_step_bar_draws_beneath_it_not_over_it():
    _, err = _run(stderr_is_terminal=True, script=NESTED)
    frames = _frames(err)
    # one frame shows both: the step above, the embedding bar on the line below (two consoles took turns
    # redrawing the same line, each frame showing one bar or the other)
    both = [f for f in frames if "detect: network: reposts" in f and "embedding texts" in f]
    assert both, frames[:20]
    assert all(f.index("detect:") < f.index("embedding texts") for f in both)


def test_the_step_bar_shows_what_the_step_does_now_until_the_next_step():
    _, err = _run(stderr_is_terminal=True, script=NESTED)
    frames = _frames(err)
    assert any("detect: network: reposts · band 3/18" in f for f in frames)
    later = [f for f in frames if "detect: signals" in f]
    assert later and not any("band 3/18" in f or "·" in f for f in later)  # a new step clears the detail


WATCHED = """
import swarmscope.progress as progress
from swarmscope.progress import step_bar, watching
from swarmscope.store import connect
progress.WATCH_SECONDS = 0.05
con = connect()
with step_bar("detect") as bar:
    bar("search index", 1, 2)
    with watching(con, "terms"):
        con.execute("SELECT count(DISTINCT md5(i::VARCHAR)) FROM range(4000000) t(i)").fetchall()
print("result")
"""


def test_a_long_statement_shows_duckdbs_progress_on_the_step_bar_and_nothing_on_stdout():
    out, err = _run(stderr_is_terminal=True, script=WATCHED)
    assert out == "result\n"  # DuckDB's own bar (on stdout) never printed
    assert re.search(r"detect: search index · terms \d+ %", "".join(_frames(err))), _frames(err)[-5:]


QUIET = """
import sys
import duckdb
from swarmscope.store import connect
con = duckdb.connect() if sys.argv[1] == "plain" else connect()
con.execute("SET progress_bar_time = 0")
con.execute("SELECT count(DISTINCT md5(i::VARCHAR)) FROM range(2000000) t(i)").fetchall()
"""


def test_duckdbs_own_progress_bar_never_reaches_stdout():
    """A plain connection prints DuckDB's bar on stdout for any statement over progress_bar_time (2 s by
    default), into a pipe or a redirect (``detect > out.tsv``); the case's connections do not."""
    plain = subprocess.run([sys.executable, "-c", QUIET, "plain"], capture_output=True, text=True, timeout=60)
    ours = subprocess.run([sys.executable, "-c", QUIET, "ours"], capture_output=True, text=True, timeout=60)
    assert "%" in plain.stdout  # the check can fail: DuckDB does print here
    assert ours.returncode == 0 and ours.stdout == ""
