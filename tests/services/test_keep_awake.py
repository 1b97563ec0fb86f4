"""A flash keeps the laptop awake for exactly as long as it runs, says so, and says plainly
when the OS would not promise it. `systemd-inhibit` is replaced here by a script on PATH that
logs what it was asked and runs the holder command just as the real one does once it holds
the lock (the real one needs logind, which a CI container does not run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.flash.helpers import Update, build
from workshop.cli import main
from workshop.flash.events import FlashProgress
from workshop.foundation.events import Event
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.services.keep_awake import KeepAwake, SleepInhibit

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="systemd-inhibit is Linux's")

FAKE = """#!/bin/sh
echo "args $*" >> "{log}"
echo "pid $$" >> "{log}"
{body}
"""
HOLDS = """while [ "${{1#--}}" != "$1" ]; do shift; done
"$@"
echo released >> "{log}"
"""
REFUSES = """echo "Failed to connect to bus: No such file or directory" >&2
exit 1
"""


def fake_inhibitor(folder: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    log = folder / "inhibit.log"
    script = folder / "bin" / "systemd-inhibit"
    script.parent.mkdir()
    script.write_text(FAKE.format(log=log, body=body.format(log=log)))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{script.parent}{os.pathsep}{os.environ['PATH']}")
    return log


def test_the_flash_holds_the_lock_while_it_programs_and_releases_it_after(
        demo: VehicleConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = fake_inhibitor(tmp_path, monkeypatch, HOLDS)
    pkg = build(tmp_path / "pkg", "engine-update", [Update("ENGINE", size=8192)])
    prep = prepare_flash(demo, pkg, overrides={"rollback": "test"})
    seen: list[Event] = []
    during: list[str] = []

    def events(event: Event) -> None:
        seen.append(event)
        if isinstance(event, FlashProgress) and not during:
            during.append(log.read_text())

    result = run_flash(demo, prep, events=events)
    assert [o.outcome for o in result.ecus] == ["success"]
    inhibit = [e for e in seen if isinstance(e, SleepInhibit)]
    assert len(inhibit) == 1 and inhibit[0].held
    assert seen.index(inhibit[0]) < next(i for i, e in enumerate(seen)
                                         if isinstance(e, FlashProgress))
    assert "--what=sleep:idle:handle-lid-switch" in during[0]
    assert "--mode=block" in during[0] and "released" not in during[0]
    assert log.read_text().count("released") == 1  # gone once run_flash returned


def test_a_refused_inhibitor_is_a_warning_and_the_flash_still_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    log = fake_inhibitor(tmp_path, monkeypatch, REFUSES)
    pkg = build(tmp_path / "pkg", "engine-update", [Update("ENGINE")])
    assert main(["flash", str(pkg), "--yes", "--override", "rollback=test"]) == 0
    err = capsys.readouterr().err
    assert "could NOT be kept awake (Failed to connect to bus" in err
    assert "never sleep" in err
    # asked twice: with the lid switch, then without it
    assert log.read_text().count("args") == 2


def test_the_lock_goes_when_the_tool_is_killed(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    log = fake_inhibitor(tmp_path, monkeypatch, HOLDS)
    tool = subprocess.Popen(
        [sys.executable, "-c", "import sys, time\n"
         "from workshop.services.keep_awake import KeepAwake\n"
         "with KeepAwake() as k:\n"
         "    print(k.state.held, flush=True)\n"
         "    time.sleep(600)\n"], stdout=subprocess.PIPE, text=True)
    assert tool.stdout is not None
    assert tool.stdout.readline().strip() == "True"
    tool.send_signal(signal.SIGKILL)
    tool.wait()
    deadline = time.monotonic() + 60  # an event (the holder exits), with a generous bound
    while "released" not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "released" in log.read_text()


def test_without_any_inhibitor_tool_the_state_says_so(monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with KeepAwake() as awake:
        assert not awake.state.held
        assert "systemd-inhibit is not installed" in awake.state.describe()
