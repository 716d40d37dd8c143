"""Progress bars: on stderr when it is a terminal, never on stdout, silent in pipes."""

from __future__ import annotations

import os
import pty
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


def _run(stderr_is_terminal: bool) -> tuple[str, str]:
    if not stderr_is_terminal:
        r = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
        return r.stdout, r.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=follower, env=os.environ | {"COLUMNS": "120"}
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
