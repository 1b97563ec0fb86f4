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


def run_together(script: str, argv: list[list[str]]) -> list[tuple[int, str, str]]:
    """Start one interpreter per argv, release them at once when all are ready (a barrier on
    stdin), and return each one's (exit code, stdout, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    children = [subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 env=env) for args in argv]
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
    return [(c.returncode, out, err) for c, (out, err) in zip(children, results, strict=True)]


@pytest.mark.slow  # 20 interpretersstart at once: ~25 s on a loaded 2-core machine
def test_first_run_under_concurrency(workshop_home: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert not workshop_home.exists() or not any(workshop_home.iterdir())
    results = run_together(CHILD, [[str(i)] for i in range(PROCESSES)])
    failed = [(code, err[-600:]) for code, _, err in results if code != 0]
    assert not failed, failed
    assert main(["audit", "verify", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["ok"] and result["records"] == 2 * PROCESSES
    assert result["head_seq"] == 2 * PROCESSES
    assert [s["status"] for s in result["signers"]] == ["simulator (demo identity)"]


INIT = """
import sys
from workshop.cli import main
print("ready", flush=True)
sys.stdin.readline()
sys.exit(main(["identity", "init"]))
"""


@pytest.mark.slow  # six interpreters start at once
def test_concurrent_identity_init_creates_one_identity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKSHOP_AUDIT_PASSPHRASE", "correct horse battery")
    results = run_together(INIT, [[] for _ in range(6)])
    errors = [err for _, _, err in results]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 4, 4, 4, 4, 4], errors
    assert sum("already has a workstation identity" in e for e in errors) == 5
    from workshop.audit import load_installation
    from workshop.services.audit_trail import open_audit_log, verify_log
    identity = load_installation()
    assert identity is not None
    with open_audit_log(simulated=False) as log:  # the one key on disk matches its cert
        assert log.signer is not None and log.signer.fingerprint == identity.fingerprint
    result = verify_log()
    assert result.ok and result.records == 1  # exactly one identity.created
