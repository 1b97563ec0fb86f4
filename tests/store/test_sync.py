"""Sync against a real PostgreSQL: idempotent, offline first, and the witness that catches a
cut-back or rewritten log."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest

from tests.store.helpers import PASSWORD, workstation, write
from tests.store.pgserver import Server
from workshop.audit import AuditLog
from workshop.audit.head import head_path
from workshop.audit.records import STORE_ALARM_ACTION
from workshop.services.sync import last_state, sync_log
from workshop.store import StoreUnavailableError
from workshop.store.migrations import init_store


def _count(dsn: str) -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute("SELECT count(*) FROM workshop.records").fetchone()[0])


def test_sync_pushes_new_records_once_and_the_head(store_db: str, unique: str,
                                                   tmp_path: Path) -> None:
    init_store(store_db)
    ws, dsn = workstation(store_db, f"ws-{unique}")
    log = tmp_path / "audit.db"
    write(log, ws, 4)
    first = sync_log(dsn, log, lambda: ws)
    assert (first.pushed, first.server_seq, first.head_seq, first.alarm) == (4, 4, 4, None)
    again = sync_log(dsn, log, lambda: ws)
    assert (again.pushed, again.server_seq, again.alarm) == (0, 4, None)
    write(log, ws, 2)
    third = sync_log(dsn, log, lambda: ws)
    assert (third.pushed, third.server_seq, third.head_seq) == (2, 6, 6)
    assert _count(store_db) == 6
    state = last_state(log)
    assert state is not None and state.waiting == 0 and PASSWORD not in state.store


def test_server_down_loses_nothing_and_a_later_sync_sends_it(
        store_db: str, unique: str, tmp_path: Path, pg_server: Server) -> None:
    init_store(store_db)
    ws, dsn = workstation(store_db, f"ws-{unique}")
    log = tmp_path / "audit.db"
    write(log, ws, 3)
    dead = dsn.replace(f"port={pg_server.port}", f"port={_closed_port()}")
    with pytest.raises(StoreUnavailableError) as err:
        sync_log(dead, log, lambda: ws)
    assert "nothing is lost" in str(err.value) and PASSWORD not in str(err.value)
    write(log, ws, 1)  # work goes on offline
    assert sync_log(dsn, log, lambda: ws).pushed == 4
    assert _count(store_db) == 4


def _closed_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when this returns: nothing listens


def test_a_log_cut_back_to_an_older_copy_is_a_tamper_alarm(store_db: str, unique: str,
                                                           tmp_path: Path) -> None:
    init_store(store_db)
    ws, dsn = workstation(store_db, f"ws-{unique}")
    log = tmp_path / "audit.db"
    write(log, ws, 2)
    # the attacker's old copy: database and its head, consistent with each other
    old = tmp_path / "old"
    old.mkdir()
    with AuditLog.open(log, None) as opened:
        opened.snapshot()
    shutil.copy(log, old / "audit.db")
    shutil.copy(head_path(log), old / head_path(log).name)
    write(log, ws, 3)
    assert sync_log(dsn, log, lambda: ws).server_seq == 5
    shutil.copy(old / "audit.db", log)
    shutil.copy(old / head_path(log).name, head_path(log))
    for suffix in ("-wal", "-shm"):
        Path(str(log) + suffix).unlink(missing_ok=True)
    with AuditLog.open(log, None) as opened:
        assert opened.check().ok  # locally it looks fine: the log is its own only witness
    result = sync_log(dsn, log, lambda: ws)
    assert result.alarm is not None and "cut back" in result.alarm
    with AuditLog.open(log, None) as opened:
        checked = opened.check()
        assert not checked.ok
        assert any("tamper alarm" in p.reason for p in checked.problems)
        assert [r.action for r in opened.records()][-1] == STORE_ALARM_ACTION
    with psycopg.connect(store_db) as conn:
        reasons = [r[0] for r in conn.execute("SELECT reason FROM workshop.alarms")]
    assert len(reasons) == 1 and "cut back" in reasons[0]
    # the next sync does not push the alarmed log again, and says so
    again = sync_log(dsn, log, lambda: ws)
    assert again.alarm is not None and "holds a tamper alarm" in again.alarm
    assert _count(store_db) == 5


def test_a_rewritten_log_differs_at_the_same_seq(store_db: str, unique: str,
                                                 tmp_path: Path) -> None:
    init_store(store_db)
    ws, dsn = workstation(store_db, f"ws-{unique}")
    log = tmp_path / "audit.db"
    write(log, ws, 2)
    old = tmp_path / "old"
    old.mkdir()
    shutil.copy(log, old / "audit.db")
    shutil.copy(head_path(log), old / head_path(log).name)
    write(log, ws, 1, vin="WTRUTH00000000001")
    sync_log(dsn, log, lambda: ws)
    # roll back and write a different seq 3 (and more), re-signed with the workstation key
    shutil.copy(old / "audit.db", log)
    shutil.copy(old / head_path(log).name, head_path(log))
    write(log, ws, 2, vin="WLIE0000000000001")
    result = sync_log(dsn, log, lambda: ws)
    assert result.alarm is not None and "rewritten" in result.alarm
    with psycopg.connect(store_db) as conn:
        vins = {r[0] for r in conn.execute("SELECT vin FROM workshop.records")}
    assert "WLIE0000000000001" not in vins and "WTRUTH00000000001" in vins
