"""Sync under faults on a real PostgreSQL: the tool killed mid-sync, the server restarted
mid-sync, syncs running at the same time. Nothing is lost, nothing is duplicated, and no
false alarm is raised.

"Mid-sync" is made certain, not hoped for: the test holds a lock on the heads table, so a
sync pushes its records and then waits at its head; the test waits for the records to
arrive (an event it polls the server for) and then strikes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.store.helpers import workstation, write
from tests.store.pgserver import Server
from workshop.services.sync import sync_log
from workshop.store.migrations import init_store

ROOT = Path(__file__).resolve().parents[2]
CHILD = ("import sys; from workshop.services.sync import sync_log\n"
         "def no_alarm(): raise SystemExit('unexpected alarm')\n"
         "r = sync_log(sys.argv[1], __import__('pathlib').Path(sys.argv[2]), no_alarm)\n"
         "print(r.pushed)")


def _count(dsn: str, table: str = "records") -> int:
    with psycopg.connect(dsn) as conn:
        return int(conn.execute(f"SELECT count(*) FROM workshop.{table}").fetchone()[0])


def _until(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _child_sync(dsn: str, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-c", CHILD, dsn, str(log)], text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=dict(os.environ, PYTHONPATH=str(ROOT)))


def _held_at_head(owner_dsn: str) -> psycopg.Connection:
    conn = psycopg.connect(owner_dsn)
    # EXCLUSIVE: reads go on, inserts wait
    conn.execute("LOCK TABLE workshop.heads IN EXCLUSIVE MODE")
    return conn


def test_kill_9_mid_sync_loses_nothing_and_the_retry_duplicates_nothing(
        store_db: str, unique: str, tmp_path: Path) -> None:
    init_store(store_db)
    ws, dsn = workstation(store_db, f"ws-{unique}")
    log = tmp_path / "audit.db"
    write(log, ws, 30)
    lock = _held_at_head(store_db)
    child = _child_sync(dsn, log)
    try:
        _until(lambda: _count(store_db) == 30, "the records to arrive")
        child.kill()  # SIGKILL while it waits to push its head
        child.wait(timeout=30)
    finally:
        lock.close()
    assert _count(store_db, "heads") == 0
    write(log, ws, 5)
    again = sync_log(dsn, log, lambda: ws)
    assert (again.pushed, again.server_seq, again.head_seq, again.alarm) == (5, 35, 35, None)
    assert _count(store_db) == 35


def test_server_restart_mid_sync_is_a_clear_error_and_the_next_sync_completes(
        store_db: str, unique: str, tmp_path: Path, pg_server: Server) -> None:
    init_store(store_db)
    ws, dsn = workstation(store_db, f"ws-{unique}")
    log = tmp_path / "audit.db"
    write(log, ws, 20)
    lock = _held_at_head(store_db)
    child = _child_sync(dsn, log)
    try:
        _until(lambda: _count(store_db) == 20, "the records to arrive")
        pg_server.restart()
        _, err = child.communicate(timeout=60)
    finally:
        lock.close()
    assert child.returncode != 0
    assert "StoreUnavailableError" in err and "nothing is lost" in err
    again = sync_log(dsn, log, lambda: ws)
    assert (again.pushed, again.server_seq, again.head_seq, again.alarm) == (0, 20, 20, None)


def test_concurrent_syncs_two_workstations_and_twice_the_same_log(
        store_db: str, unique: str, tmp_path: Path) -> None:
    init_store(store_db)
    a, a_dsn = workstation(store_db, f"ws-a-{unique}")
    b, b_dsn = workstation(store_db, f"ws-b-{unique}")
    write(tmp_path / "a" / "audit.db", a, 40)  # same vehicle on both
    write(tmp_path / "b" / "audit.db", b, 40)
    jobs = [(a_dsn, tmp_path / "a" / "audit.db", a), (a_dsn, tmp_path / "a" / "audit.db", a),
            (b_dsn, tmp_path / "b" / "audit.db", b), (b_dsn, tmp_path / "b" / "audit.db", b)]
    results: list[object] = []
    start = threading.Barrier(len(jobs))

    def run(dsn: str, path: Path, who: object) -> None:
        start.wait()
        try:
            results.append(sync_log(dsn, path, lambda: who))  # type: ignore[arg-type, return-value]
        except Exception as exc:  # collected and failed on below
            results.append(exc)

    threads = [threading.Thread(target=run, args=job) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert all(getattr(r, "alarm", "error") is None for r in results), results
    assert sum(getattr(r, "pushed", 0) for r in results) == 80
    assert _count(store_db) == 80
