"""`store verify` and the VIN history from the server's copy alone: what a DBA (or anyone
with the database's files) changes behind the workstations' backs is found; a workstation's
skewed clock does not make its records fail, and shows beside the server's clock."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from tests.store.helpers import workstation, write
from workshop.services import fleet
from workshop.services.sync import sync_log
from workshop.store.migrations import init_store


def _synced(store_db: str, unique: str, tmp_path: Path, n: int = 4) -> str:
    init_store(store_db)
    ws, dsn = workstation(store_db, f"ws-{unique}")
    write(tmp_path / "audit.db", ws, n)
    assert sync_log(dsn, tmp_path / "audit.db", lambda: ws).alarm is None
    return dsn


def test_a_clean_store_verifies(store_db: str, unique: str, tmp_path: Path) -> None:
    _synced(store_db, unique, tmp_path)
    report = fleet.verify_store(store_db)
    assert report.ok and [r.result.records for r in report.logs] == [4]


def test_a_record_deleted_or_forged_on_the_server_is_found(store_db: str, unique: str,
                                                           tmp_path: Path) -> None:
    _synced(store_db, unique, tmp_path)
    with psycopg.connect(store_db, autocommit=True) as owner:
        log = owner.execute("SELECT log FROM workshop.logs").fetchone()[0]
        owner.execute("ALTER TABLE workshop.records DISABLE TRIGGER append_only")
        owner.execute("DELETE FROM workshop.records WHERE seq = 2")
        body = owner.execute("SELECT body FROM workshop.records WHERE seq = 3").fetchone()[0]
        owner.execute("DELETE FROM workshop.records WHERE seq = 3")
        owner.execute("INSERT INTO workshop.records (log, body) VALUES (%s, %s)",
                      (log, body.replace('"ENGINE"', '"BRAKES"')))
    problems = fleet.verify_store(store_db).logs[0].problems
    assert any("seq 2: record missing" in p for p in problems), problems
    assert any(p.startswith("seq 3: content does not match its hash") for p in problems)


def test_skewed_clock_shows_and_still_verifies(store_db: str, unique: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import workshop.audit.store as audit_store
    year_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=365)).strftime(
        "%Y-%m-%dT%H:%M:%S.%fZ")
    monkeypatch.setattr(audit_store, "utc_now", lambda: year_ago)
    _synced(store_db, unique, tmp_path, n=2)
    history = fleet.vin_history(store_db, "WDEMO000000000001")
    assert len(history) == 2 and all(e.verified for e in history)
    for e in history:
        received = dt.datetime.fromisoformat(e.received_at)
        claimed = dt.datetime.fromisoformat(e.time.replace("Z", "+00:00"))
        assert received - claimed > dt.timedelta(days=300)


def test_a_workstation_pushing_records_in_anothers_name_is_found(
        store_db: str, unique: str, tmp_path: Path) -> None:
    from tests.store.helpers import signer

    init_store(store_db)
    _, liar_dsn = workstation(store_db, f"ws-a-{unique}")
    workstation(store_db, f"ws-b-{unique}")
    as_b = signer(f"ws-b-{unique}")  # A's own key, a certificate naming B
    write(tmp_path / "audit.db", as_b, 2)
    assert sync_log(liar_dsn, tmp_path / "audit.db", lambda: as_b).pushed == 2
    report = fleet.verify_store(store_db)
    assert not report.ok
    assert any(f"signed as 'ws-b-{unique}' were pushed by 'ws-a-{unique}'" in p
               for p in report.logs[0].problems)


def test_a_fleet_summary_changed_behind_the_records_is_found(store_db: str, unique: str,
                                                             tmp_path: Path) -> None:
    """The summary `fleet deviations` reads is the database's own (migration 4); an owner who
    writes to it directly makes it disagree with the records, and verify says where."""
    _synced(store_db, unique, tmp_path)
    assert fleet.verify_store(store_db).summary == []
    with psycopg.connect(store_db, autocommit=True) as owner:
        log = owner.execute("SELECT log FROM workshop.logs").fetchone()[0]
        owner.execute("INSERT INTO workshop.fleet_software VALUES ('WDEMO000000000001', "
                      "'ENGINE', '1.1.0', '2026-01-01', 'ws-x', %s, 1, 'flash', now())", (log,))
    report = fleet.verify_store(store_db)
    assert not report.ok and all(r.ok for r in report.logs)
    assert report.summary == ["fleet summary for WDEMO000000000001 ENGINE: holds 1.1.0 (flash "
                              f"2026-01-01 by ws-x, log {log} seq 1), the records say nothing"]
