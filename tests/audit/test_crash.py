"""kill -9 at random moments loses no committed record and leaves a log that verifies."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from workshop.audit import AuditLog, default_log_path, demo_identity

CHILD = """
import sys
from workshop.audit import AuditLog, default_log_path, demo_identity
log = AuditLog.open(default_log_path(), demo_identity())
print("ready", flush=True)
i = 0
while True:
    rec = log.append("flash_block", vin="VIN0000000000001", ecu="ECM", technician="crash",
                     details={"block": i, "pad": "x" * (i % 50)})
    print(rec.seq, flush=True)
    i += 1
"""

ROOT = Path(__file__).resolve().parents[2]


def _run_and_kill(stop_after: int) -> list[int]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True,
                             env=env)
    assert child.stdout is not None
    committed: list[int] = []
    try:
        assert child.stdout.readline().strip() == "ready"
        while len(committed) < stop_after:
            line = child.stdout.readline()
            assert line, "child died early"
            committed.append(int(line))
        child.send_signal(signal.SIGKILL)  # lands somewhere inside the next append
    finally:
        child.kill()
        child.wait(timeout=30)
    # anything printed before the kill was committed too
    committed += [int(x) for x in child.stdout.read().split() if x.isdigit()]
    return committed


def test_sigkill_loses_no_committed_record() -> None:
    signer = demo_identity()  # created once, before the children
    rng = random.Random(1234)
    reported: list[int] = []
    for _ in range(6):
        reported += _run_and_kill(rng.randint(1, 25))
        with AuditLog.open(default_log_path(), None) as log:
            result = log.check()
            assert result.ok, result.problems
            present = {r.seq for r in log.records()}
        assert set(reported) <= present
    # the log stays appendable after the crashes
    with AuditLog.open(default_log_path(), signer) as log:
        log.append("after_crash", vin=None, ecu=None, technician="t")
        assert log.verify().ok
