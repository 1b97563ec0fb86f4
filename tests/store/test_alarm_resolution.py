"""Resolving a tamper alarm on a real PostgreSQL: an auditor records a signed resolution; the
workstation role cannot; the workstation's next sync checks it and closes its alarm; `audit
verify` and `store verify` then report the alarm as resolved (by whom, when, why)."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from tests.store.helpers import PASSWORD, role_dsn, workstation, write
from workshop.audit import AuditLog, demo_identity, workstation_chain_verifier
from workshop.audit.head import head_path
from workshop.audit.records import STORE_RESOLVED_ACTION, canonical_json
from workshop.services import fleet
from workshop.services.alarms import DOMAIN, resolve_alarm
from workshop.services.sync import sync_log
from workshop.store import StoreError
from workshop.store.admin import enroll
from workshop.store.migrations import init_store
from workshop.store.session import StoreSession


def _cut_back(dsn: str, ws: object, log: Path) -> int:
    """Push 5 records, restore the copy of 2 with its head, sync: the alarm's seq."""
    write(log, ws, 2)  # type: ignore[arg-type]
    old = log.parent / "old"
    old.mkdir()
    shutil.copy(log, old / "audit.db")
    shutil.copy(head_path(log), old / head_path(log).name)
    write(log, ws, 3)  # type: ignore[arg-type]
    assert sync_log(dsn, log, lambda: ws).server_seq == 5  # type: ignore[arg-type, return-value]
    shutil.copy(old / "audit.db", log)
    shutil.copy(old / head_path(log).name, head_path(log))
    for suffix in ("-wal", "-shm"):
        Path(str(log) + suffix).unlink(missing_ok=True)
    result = sync_log(dsn, log, lambda: ws)  # type: ignore[arg-type, return-value]
    assert result.alarm is not None and "cut back" in result.alarm
    return 3


def test_an_auditors_signed_resolution_closes_the_alarm_everywhere(
        store_db: str, unique: str, tmp_path: Path) -> None:
    init_store(store_db)
    name = f"ws-{unique}"
    ws, dsn = workstation(store_db, name)
    log = tmp_path / "audit.db"
    seq = _cut_back(dsn, ws, log)
    enroll(store_db, "auditor", f"aud-{unique}", password=PASSWORD)
    auditor_dsn = role_dsn(store_db, f"aud-{unique}")
    auditor = demo_identity()  # the auditor's own identity (demo dealer CA here)
    checker = workstation_chain_verifier(None)
    report = fleet.verify_store(auditor_dsn)
    assert not report.ok and [a.seq for a in report.alarms] == [seq]

    # the workstation cannot resolve its own alarm: the database refuses the insert
    with pytest.raises(StoreError, match="refused recording the alarm resolution"):
        resolve_alarm(dsn, name, seq, "nothing to see", ws)
    with psycopg.connect(dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("INSERT INTO workshop.resolutions (body, signature, chain) "
                     "VALUES ('{}', 'aa', 'x')")

    # a forged resolution (the signature is over other text) does not count, and says why
    alarm_id = report.alarms[0].id
    body = canonical_json({"alarm": alarm_id, "auditor": auditor.workstation,
                           "kind": "workshop-alarm-resolution/1", "log": report.alarms[0].log,
                           "reason": "forged", "seq": seq, "workstation": name})
    with StoreSession(auditor_dsn) as store:
        from workshop.audit.signing import chain_pem
        store.resolve(body, auditor.sign(DOMAIN + b"something else"), chain_pem(auditor.chain))
    refused = sync_log(dsn, log, lambda: ws, checker)
    assert refused.alarm is not None and refused.resolved == []
    assert any("signature does not verify" in r for r in refused.refused), refused.refused
    with AuditLog.open(log, None) as opened:
        assert not opened.check().ok

    done = resolve_alarm(auditor_dsn, name, seq, "restored from backup after a disk failure; "
                         "records 3-5 are on the server", auditor)
    assert [a.id for a in done] == [alarm_id]
    with pytest.raises(StoreError, match="no tamper alarm"):
        resolve_alarm(auditor_dsn, name, 99, "no such alarm", auditor)

    closed = sync_log(dsn, log, lambda: ws, checker)
    assert closed.alarm is None and closed.held is not None
    assert len(closed.resolved) == 1 and "disk failure" in closed.resolved[0]
    assert auditor.workstation in closed.resolved[0] and f"aud-{unique}" in closed.resolved[0]
    with AuditLog.open(log, None) as opened:
        checked = opened.check()
        assert checked.ok, checked.problems
        assert any("RESOLVED" in n and "disk failure" in n for n in checked.notes)
        assert [r.action for r in opened.records()][-1] == STORE_RESOLVED_ACTION
    again = sync_log(dsn, log, lambda: ws, checker)  # closed once; still not pushed
    assert again.alarm is None and again.resolved == [] and again.held is not None
    with AuditLog.open(log, None) as opened:
        assert [r.action for r in opened.records()].count(STORE_RESOLVED_ACTION) == 1

    report = fleet.verify_store(auditor_dsn)
    assert report.ok
    resolution = report.resolution(report.alarms[0])
    assert resolution is not None and resolution.resolved_by == f"aud-{unique}"
    assert "disk failure" in resolution.reason
    # the resolution is append-only like every other table
    with psycopg.connect(store_db) as owner, pytest.raises(psycopg.Error, match="append-only"):
        owner.execute("DELETE FROM workshop.resolutions")
