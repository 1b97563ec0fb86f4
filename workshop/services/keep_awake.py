"""Keep the laptop from sleeping while a flash runs: a suspended laptop stops talking to an
ECU that is in the middle of being programmed.

- Windows: SetThreadExecutionState on the thread that runs the flash (the request belongs to
  that thread and ends with it).
- Linux: a logind inhibitor lock taken with `systemd-inhibit` (sleep, idle and, where the
  account may, the lid switch), held by a child process that lives until we close its stdin,
  so the lock goes with us even if the tool is killed.
- macOS: `caffeinate -i`, held the same way.

Whether the lock was really taken is known, not guessed: the child announces itself only
once the tool has the lock, and when it cannot get one its error is what we report.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from types import TracebackType

from workshop.foundation.events import Event

HELD_LINE = b"held\n"
# The child command announces that the inhibitor runs it (so holds the lock), then waits for
# EOF on stdin: our end of that pipe closes when we finish or die.
_HOLDER = ["/bin/sh", "-c", "echo held; exec cat >/dev/null"]
_WHY = "an ECU is being reprogrammed; sleeping now would interrupt it"


@dataclass(frozen=True)
class SleepInhibit(Event):
    """Whether the OS was asked, successfully, to stay awake for this work."""

    held: bool
    how: str
    problem: str = ""

    def describe(self) -> str:
        if self.held:
            return f"the laptop is kept awake while flashing ({self.how})"
        return (f"the laptop could NOT be kept awake ({self.problem}): set its power plan to "
                "never sleep and keep the lid open until the flash is done")


class KeepAwake:
    """Context manager; `state` says what was obtained (an event to show the technician)."""

    def __init__(self, task: str = "flash") -> None:
        self.task = task
        self.state = SleepInhibit(task, False, "", "not started")
        self._proc: subprocess.Popen[bytes] | None = None
        self._windows = False

    def __enter__(self) -> KeepAwake:
        if sys.platform == "win32":
            self.state = self._windows_request()
        elif sys.platform == "darwin":
            self.state = self._hold(["caffeinate", "-i", *_HOLDER], "caffeinate")
        else:
            self.state = self._linux()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()

    def release(self) -> None:
        if self._windows:
            import ctypes

            ctypes.windll.kernel32.SetThreadExecutionState(ES_CONTINUOUS)  # type: ignore[attr-defined]
            self._windows = False
        proc, self._proc = self._proc, None
        if proc is not None:
            assert proc.stdin is not None
            proc.stdin.close()  # the holder sees EOF, exits, and the lock goes with it
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    # -- per OS ------------------------------------------------------------------------------

    def _linux(self) -> SleepInhibit:
        base = ["systemd-inhibit", "--who=workshop", f"--why={_WHY}", "--mode=block"]
        first = self._hold([*base, "--what=sleep:idle:handle-lid-switch", *_HOLDER],
                           "systemd-inhibit: sleep, idle, lid switch")
        if first.held:
            return first
        # an account that may not block the lid switch may still block sleep
        second = self._hold([*base, "--what=sleep:idle", *_HOLDER],
                            "systemd-inhibit: sleep, idle")
        return second if second.held else first

    def _hold(self, command: list[str], how: str) -> SleepInhibit:
        if shutil.which(command[0]) is None:
            return SleepInhibit(self.task, False, how, f"{command[0]} is not installed")
        try:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE)
        except OSError as exc:
            return SleepInhibit(self.task, False, how, f"{command[0]}: {exc.strerror}")
        assert proc.stdout is not None and proc.stderr is not None
        if proc.stdout.readline() == HELD_LINE:
            self._proc = proc
            return SleepInhibit(self.task, True, how)
        proc.wait()
        error = proc.stderr.read().decode(errors="replace").strip().splitlines()
        return SleepInhibit(self.task, False, how,
                            error[-1] if error else f"{command[0]} exited {proc.returncode}")

    def _windows_request(self) -> SleepInhibit:
        import ctypes

        flags = ES_CONTINUOUS | ES_SYSTEM_REQUIRED | ES_AWAYMODE_REQUIRED
        set_state = ctypes.windll.kernel32.SetThreadExecutionState  # type: ignore[attr-defined]
        if set_state(flags) == 0 and set_state(ES_CONTINUOUS | ES_SYSTEM_REQUIRED) == 0:
            return SleepInhibit(self.task, False, "SetThreadExecutionState",
                                "Windows refused the request")
        self._windows = True
        return SleepInhibit(self.task, True, "SetThreadExecutionState")


ES_CONTINUOUS, ES_SYSTEM_REQUIRED, ES_AWAYMODE_REQUIRED = 0x80000000, 0x00000001, 0x00000040
