"""The store's schema and roles on a real PostgreSQL: migrations, and what each role may do,
enforced by the database itself (tried, not assumed)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from tests.store.helpers import role_dsn, workstation, write
from workshop.audit.signing import chain_pem
from workshop.services.sync import sync_log
from workshop.store import StoreError
from workshop.store.admin import enroll
from workshop.store.migrations import LATEST, init_store, store_version, upgrade_store


def test_init_then_upgrade_is_a_no_op_and_init_twice_is_refused(store_db: str) -> None:
    assert store_version(store_db) is None
    with pytest.raises(StoreError, match="holds no workshop store"):
        upgrade_store(store_db)
    assert init_store(store_db) == list(range(1, LATEST + 1))
    assert store_version(store_db) == LATEST
    assert upgrade_store(store_db) == (LATEST, [])
    with pytest.raises(StoreError, match="already holds a workshop store"):
        init_store(store_db)


def test_a_workstation_cannot_change_delete_or_write_anothers_rows(
        store_db: str, unique: str, tmp_path: Path) -> None:
    init_store(store_db)
    a, a_dsn = workstation(store_db, f"ws-a-{unique}")
    b, b_dsn = workstation(store_db, f"ws-b-{unique}")
    write(tmp_path / "a" / "audit.db", a, 3)
    write(tmp_path / "b" / "audit.db", b, 2)
    assert sync_log(a_dsn, tmp_path / "a" / "audit.db", lambda: a).pushed == 3
    assert sync_log(b_dsn, tmp_path / "b" / "audit.db", lambda: b).pushed == 2
    with psycopg.connect(store_db) as owner:
        a_log = owner.execute("SELECT log FROM workshop.logs WHERE workstation = %s",
                              (a.workstation,)).fetchone()[0]
        a_body = owner.execute("SELECT body FROM workshop.records WHERE log = %s AND seq = 1",
                               (a_log,)).fetchone()[0]
    refused = (psycopg.errors.InsufficientPrivilege,)
    with psycopg.connect(b_dsn, autocommit=True) as conn:
        # B sees none of A's rows, and cannot touch them
        assert conn.execute("SELECT count(*) FROM workshop.records").fetchone()[0] == 2
        for statement in ("UPDATE workshop.records SET body = body",
                          "DELETE FROM workshop.records",
                          "TRUNCATE workshop.records",
                          "UPDATE workshop.heads SET body = body",
                          "DELETE FROM workshop.logs"):
            with pytest.raises(refused):
                conn.execute(statement)  # type: ignore[arg-type]
        # B cannot put a record into A's log, even A's own signed text
        forged = a_body.replace('"seq":1', '"seq":99')
        with pytest.raises(refused):
            conn.execute("INSERT INTO workshop.records (log, body) VALUES (%s, %s)",
                         (a_log, forged))
        # nor plant a chain under A's fingerprint: the database checks the leaf's SHA-256
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("INSERT INTO workshop.certificates (fingerprint, chain) "
                         "VALUES (%s, %s)", (a.fingerprint, chain_pem(b.chain)))
        # nor label a row as someone else's: who pushed is the server's word
        with pytest.raises(refused):
            conn.execute("INSERT INTO workshop.alarms (workstation, log, seq, reason) "
                         "VALUES (%s, %s, 1, 'x')", (a.workstation, a_log))
        conn.execute("SET ROLE workshop_workstation")  # cannot change session_user
        with pytest.raises(refused):
            conn.execute("INSERT INTO workshop.logs (log, workstation) VALUES (%s, %s)",
                         ("f" * 32, a.workstation))
    with psycopg.connect(a_dsn, autocommit=True) as conn:
        # A itself cannot rewrite its own past either
        with pytest.raises(refused):
            conn.execute("UPDATE workshop.records SET body = body WHERE log = %s", (a_log,))
        with pytest.raises(refused):
            conn.execute("DELETE FROM workshop.records WHERE log = %s", (a_log,))
    with psycopg.connect(store_db, autocommit=True) as owner:
        # even the owner, by mistake: append-only triggers
        with pytest.raises(refused, match="append-only"):
            owner.execute("DELETE FROM workshop.records")
        # record text that looks like SQL is stored verbatim, byte for byte
        assert "DROP TABLE workshop.records" in owner.execute(
            "SELECT body FROM workshop.records WHERE log = %s AND seq = 1",
            (a_log,)).fetchone()[0]
        assert owner.execute("SELECT count(*) FROM workshop.records").fetchone()[0] == 5


def test_auditor_reads_all_and_writes_nothing(store_db: str, unique: str,
                                              tmp_path: Path) -> None:
    init_store(store_db)
    a, a_dsn = workstation(store_db, f"ws-a-{unique}")
    write(tmp_path / "audit.db", a, 2)
    sync_log(a_dsn, tmp_path / "audit.db", lambda: a)
    enroll(store_db, "auditor", f"aud-{unique}", password="ws-secret-Pa55")
    with psycopg.connect(role_dsn(store_db, f"aud-{unique}"), autocommit=True) as conn:
        assert conn.execute("SELECT count(*) FROM workshop.records").fetchone()[0] == 2
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("INSERT INTO workshop.logs (log) VALUES (%s)", ("e" * 32,))
