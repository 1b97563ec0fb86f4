"""B6: 20 processes started together on a fresh WORKSHOP_HOME each record one audited action;
all succeed and the log verifies with exactly their records."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workshop.cli import main

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 20

# the audit side of `dtc clear` on the simulator, without starting 20 simulated vehicles
CHILD = """
import sys
from workshop.audit import intent_and_outcome
from workshop.services.audit_trail import open_audit_log
print("ready", flush=True)
sys.stdin.readline()  # everyone starts the first run at once
with open_audit_log(simulated=True) as log:
    with intent_and_outcome(log, "dtc.clear", vin=None, ecu="ENGINE", technician="t",
                            details={"process": sys.argv[1]}) as intent:
        intent.result = {"cleared": ["ENGINE"]}
print("done", flush=True)
"""


@pytest.mark.slow  # 20 interpreters start at once: ~25 s on a loaded 2-core machine
def test_first_run_under_concurrency(workshop_home: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert not workshop_home.exists() or not any(workshop_home.iterdir())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", CHILD, str(i)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env) for i in range(PROCESSES)]
    try:
        for child in children:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=100) for child in children]
    finally:
        for child in children:
            child.kill()
            child.wait()
    failed = [(c.returncode, err[-600:]) for c, (_, err) in zip(children, results, strict=True)
              if c.returncode != 0]
    assert not failed, failed
    assert main(["audit", "verify", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and result["records"] == 2 * PROCESSES
    assert result["head_seq"] == 2 * PROCESSES
    assert [s["status"] for s in result["signers"]] == ["simulator (demo identity)"]
