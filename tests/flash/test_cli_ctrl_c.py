"""One Ctrl-C during `workshop flash`, as a technician at a terminal presses it: the CLI says
at once what happens next (the ECU being programmed finishes, the rest is not started), and
the end says it was cancelled, exit 5. Before, the terminal echoed ^C and the run printed
SUCCESS without a word about the cancel.

The progress goes to a pseudo-terminal (it is shown on terminals only); SIGINT is sent when
the progress says GATEWAY is erasing, i.e. while it is being programmed."""

from __future__ import annotations

import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.flash.helpers import Update, build
from tests.integration.test_cli import ROOT

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs a POSIX pty")


def test_one_ctrl_c_says_what_happens_next_and_cancels_at_the_safe_point(
        tmp_path: Path, workshop_home: Path) -> None:
    home = workshop_home  # the demo PKI that signed the package below
    # GATEWAY first, ENGINE after it (a dependency: two waves); GATEWAY big enough that it
    # is still being programmed when the signal arrives
    pkg = build(tmp_path, "two", [Update("GATEWAY", size=200_000),
                                  Update("ENGINE", depends_on=["GATEWAY"])])
    master, slave = pty.openpty()
    env = dict(os.environ, WORKSHOP_HOME=str(home), PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())",
         "flash", str(pkg), "--yes"],
        env=env, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, text=True)
    os.close(slave)
    seen, sent = b"", False
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                seen += chunk
            if not sent and b"GATEWAY" in seen and b"erase region" in seen:
                proc.send_signal(signal.SIGINT)
                sent = True
            if proc.poll() is not None and not ready:
                break
        out = proc.communicate(timeout=120)[0]
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
    err = seen.decode("utf-8", "replace")
    assert sent, err + out
    assert ("cancel at the next safe point: after GATEWAY finishes (stopping in the middle "
            "would leave it in its bootloader)") in err
    assert "Traceback" not in err
    # the simulated bus (no rate model) is faster than a real one: not shown as "of" its limit
    assert "kB/s simulated (a real bus: at most" in err and "kB/s of" not in err
    lines = {line.split()[0]: line for line in out.splitlines() if line[:1].isupper()}
    assert "SUCCESS" in lines["GATEWAY"], out  # it was being programmed: it finished
    assert "REFUSED" in lines["ENGINE"], out  # not started
    assert "cancelled before programming" in out
    assert "cancelled with Ctrl-C at a safe point" in out
    assert proc.returncode == 5, out + err
