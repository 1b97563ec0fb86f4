"""The issue's "done when", as technicians and an auditor run it, one process per command,
on a real PostgreSQL: two workstations flash and clear the simulated vehicle and sync; the
auditor sees both in the VIN history and verifies the store; a log cut back on one
workstation is flagged at its next sync, and `audit verify` fails on it until an auditor
resolves the alarm and the workstation's next sync closes it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.store.helpers import PASSWORD, role_dsn
from tests.store.pgserver import Server
from workshop.store.migrations import LATEST

ROOT = Path(__file__).resolve().parents[2]
VIN = "WDXDEMC12RA000001"  # the simulated demo car's


def cli(home: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, WORKSHOP_HOME=str(home), PYTHONPATH=str(ROOT),
               WORKSHOP_AUDIT_PASSPHRASE="a long enough passphrase")
    return subprocess.run(
        [sys.executable, "-c", "from workshop.cli import main; raise SystemExit(main())", *args],
        env=env, capture_output=True, text=True, timeout=300, check=False, input=stdin)


def ok(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


@pytest.mark.timeout(600)  # ~25 processes, two flashes: 75 s here, more on 2 busy cores
def test_two_workstations_an_auditor_and_a_cut_back_log(store_db: str, unique: str,
                                                        tmp_path: Path,
                                                        pg_server: Server) -> None:
    admin = tmp_path / "admin"
    out = ok(cli(admin, "store", "init", "--dsn", store_db))
    assert f"schema version {LATEST}" in out and "test-superuser-secret" not in out
    names = {"a": f"ws-a-{unique}", "b": f"ws-b-{unique}"}
    for name in names.values():
        ok(cli(admin, "store", "enroll", "workstation", name, "--dsn", store_db,
               "--password-stdin", stdin=PASSWORD + "\n"))
    ok(cli(admin, "store", "enroll", "auditor", f"aud-{unique}", "--dsn", store_db,
           "--password-stdin", stdin=PASSWORD + "\n"))

    homes = {k: tmp_path / k for k in names}
    for key, name in names.items():
        home = homes[key]
        ok(cli(home, "identity", "init", "--protect", "passphrase", "--name", name))
        ok(cli(home, "settings", "set", "store", role_dsn(store_db, name)))
        shown = ok(cli(home, "settings", "show"))
        assert PASSWORD not in shown and "password=***" in shown
        ok(cli(home, "flash", "engine-1.1.0", "--yes"))
        ok(cli(home, "dtc", "clear", "--all", "--yes"))
        if key == "b":  # with a store configured, a scan records what it identified
            assert "identification recorded in the audit log" in ok(cli(home, "scan"))
        synced = ok(cli(home, "sync"))
        assert "record(s) sent" in synced and PASSWORD not in synced

    history = json.loads(ok(cli(admin, "fleet", "history", VIN, "--json",
                                "--dsn", role_dsn(store_db, f"aud-{unique}"))))
    flashes = [e for e in history if e["action"] == "flash.ecu"]
    clears = [e for e in history if e["action"] == "dtc.clear"]
    assert {e["workstation"] for e in flashes} == set(names.values())
    assert {e["workstation"] for e in clears} == set(names.values())
    assert all(e["verified"] for e in history)
    scans = [e for e in history if e["action"] == "scan.identification"]
    assert [e["workstation"] for e in scans] == [names["b"]]
    assert scans[0]["details"]["ecus"]["ENGINE"]["software_version"]
    text = ok(cli(admin, "fleet", "history", VIN, "--dsn", role_dsn(store_db, f"aud-{unique}")))
    assert names["a"] in text and "flash.ecu" in text
    verified = ok(cli(admin, "store", "verify", "--dsn", role_dsn(store_db, f"aud-{unique}")))
    assert "central store OK: 2 log(s)" in verified

    # workstation A: keep an old copy, work on, sync, then put the old copy back
    a = homes["a"]
    audit = a / "audit"
    old = tmp_path / "old-a"
    shutil.copytree(audit, old, ignore=shutil.ignore_patterns("*.lock"))
    ok(cli(a, "dtc", "clear", "--all", "--yes"))
    ok(cli(a, "sync"))
    shutil.rmtree(audit)
    shutil.copytree(old, audit)
    assert cli(a, "audit", "verify").returncode == 0  # alone, the log cannot tell
    alarm = cli(a, "sync")
    assert alarm.returncode == 1
    assert "TAMPER ALARM" in alarm.stderr and "cut back" in alarm.stderr
    failed = cli(a, "audit", "verify")
    assert failed.returncode == 1 and "tamper alarm from the central store" in failed.stdout
    status = cli(a, "sync", "--status")
    assert status.returncode == 1 and "TAMPER ALARM" in status.stdout
    report = cli(admin, "store", "verify", "--dsn", role_dsn(store_db, f"aud-{unique}"))
    assert report.returncode == 1 and f"ALARM from {names['a']}" in report.stdout

    # the auditor inspects and resolves it, signed with an identity from the group's dealer
    # CA (here: one demo PKI shared by the group); A's next sync closes the alarm
    auditor = role_dsn(store_db, f"aud-{unique}")
    shutil.rmtree(admin / "pki", ignore_errors=True)
    shutil.copytree(a / "pki", admin / "pki")
    alarms = json.loads(cli(admin, "store", "verify", "--json", "--dsn", auditor).stdout)
    seq = alarms["alarms"][0]["seq"]
    refused = cli(a, "store", "resolve-alarm", names["a"], str(seq), "--reason", "mine")
    assert refused.returncode != 0 and "refused recording the alarm resolution" in refused.stderr
    ok(cli(admin, "store", "resolve-alarm", names["a"], str(seq), "--dsn", auditor,
           "--reason", "old copy restored by IT after a disk failure; records are on the server"))
    closed = ok(cli(a, "sync"))
    assert "closed:" in closed and "disk failure" in closed and "not pushed" in closed
    verified_a = ok(cli(a, "audit", "verify"))
    assert "RESOLVED" in verified_a and "disk failure" in verified_a
    resolved = ok(cli(admin, "store", "verify", "--dsn", auditor))
    assert f"RESOLVED alarm from {names['a']}" in resolved and f"aud-{unique}" in resolved


def test_unreachable_store_and_bad_dsn_are_clear_errors(tmp_path: Path) -> None:
    home = tmp_path / "home"
    none = cli(home, "sync")
    assert none.returncode == 4 and "no central store is configured" in none.stderr
    bad = cli(home, "settings", "set", "store", "host=127.0.0.1 port=")
    assert bad.returncode in (0, 4) and "Traceback" not in bad.stderr
    ok(cli(home, "dtc", "clear", "--all", "--yes"))
    dead = "host=127.0.0.1 port=1 dbname=x user=ws password=" + PASSWORD
    ok(cli(home, "settings", "set", "store", dead))
    down = cli(home, "sync")
    assert down.returncode == 3, down.stderr
    assert "cannot be reached" in down.stderr and "nothing is lost" in down.stderr
    assert PASSWORD not in down.stderr and "Traceback" not in down.stderr
    status = ok(cli(home, "sync", "--status"))
    assert "unreachable" in status and "record(s) waiting" in status
