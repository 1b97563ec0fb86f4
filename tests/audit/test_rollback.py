"""B5: a database rolled back (old copy restored, WAL deleted) is caught by the signed head kept
outside it; each record names its signer certificate, so a rotated identity verifies."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.audit.identity_helpers import dealer_root, dealer_store
from workshop.audit import (
    AuditLog,
    AuditSigner,
    AuditTamperedError,
    SignerStatus,
    default_log_path,
    demo_identity,
    export_log,
    verify_export,
    workstation_chain_verifier,
)
from workshop.audit.head import head_path
from workshop.trust import certs
from workshop.trust.keys import generate_key
from workshop.trust.purposes import Purpose

ROOT = Path(__file__).resolve().parents[2]


def _append(log: AuditLog, n: int) -> None:
    for i in range(n):
        log.append("dtc.clear", vin="WVWZZZ1JZXW000001", ecu="ENGINE", technician="t",
                   details={"i": i})


def _drop_wal(path: Path) -> None:
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def test_restored_old_copy_is_reported(filled_log: AuditLog, tmp_path: Path) -> None:
    old = tmp_path / "at-seq-6.sqlite3"
    with sqlite3.connect(old) as backup:
        filled_log._conn.backup(backup)  # an online copy, as a backup tool would take it
    _append(filled_log, 4)
    filled_log.close()
    _drop_wal(filled_log.path)
    os.replace(old, filled_log.path)
    with AuditLog.open(filled_log.path, None) as log:
        found = [(p.seq, p.reason) for p in log.check().problems]
    assert found == [(7, "4 committed record(s) missing after seq 6: the database was rolled "
                         "back or its WAL deleted (the signed head counts 10)")]
    # appending would overwrite the evidence: refused
    with pytest.raises(AuditTamperedError, match="4 committed record"):
        AuditLog.open(filled_log.path, filled_log.signer).append(
            "x", vin=None, ecu=None, technician="t")


CHILD = """
import sys
from workshop.audit import AuditLog, default_log_path, demo_identity
log = AuditLog.open(default_log_path(), demo_identity())
log._conn.execute("PRAGMA wal_autocheckpoint=0")  # keep every commit in the WAL
for i in range(5):
    log.append("dtc.clear", vin=None, ecu="ENGINE", technician="child", details={"i": i})
print("committed", flush=True)
sys.stdin.readline()  # hold the connection open until killed
"""


def test_deleted_wal_is_reported() -> None:
    signer = demo_identity()
    with AuditLog.open(default_log_path(), signer) as log:
        _append(log, 2)  # closing the last connection checkpoints these into the database
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "committed"
        child.send_signal(signal.SIGKILL)  # a crash: no checkpoint on close
    finally:
        child.kill()
        child.wait(timeout=30)
    wal = Path(f"{default_log_path()}-wal")
    assert wal.stat().st_size > 0  # the five committed records live only there
    _drop_wal(default_log_path())
    with AuditLog.open(default_log_path(), None) as log:
        assert [r.seq for r in log.records()] == [1, 2]
        found = [(p.seq, p.reason) for p in log.check().problems]
    assert found == [(3, "5 committed record(s) missing after seq 2: the database was rolled "
                         "back or its WAL deleted (the signed head counts 7)")]


def test_deleted_head_is_reported(filled_log: AuditLog) -> None:
    head_path(filled_log.path).unlink()
    found = [(p.seq, p.reason) for p in filled_log.check().problems]
    assert found == [(7, "signed head file audit.head.json missing: a rollback of the "
                         "database cannot be ruled out")]
    with pytest.raises(AuditTamperedError):
        filled_log.append("x", vin=None, ecu=None, technician="t")


def test_export_carries_the_head(filled_log: AuditLog, tmp_path: Path) -> None:
    out = tmp_path / "e.jsonl"
    export_log(filled_log, out)
    assert verify_export(out).ok
    lines = out.read_text().splitlines()
    # records 5 and 6 cut out together with the checkpoint that covered them
    out.write_text("\n".join(lines[:5] + lines[-1:]) + "\n")
    reasons = [p.reason for p in verify_export(out).problems]
    assert "2 committed record(s) missing after seq 4: the database was rolled back or its " \
           "WAL deleted (the signed head counts 6)" in reasons


def _issued_signer(root_cn: str, cn: str, trust: Path) -> tuple[AuditSigner, Path]:
    root = dealer_root(root_cn)
    key = generate_key("p256")
    cert = certs.issue(certs.name(cn, "Test Dealer"), key, root.cert.subject, root.key,
                       ca=False, eku=[certs.CLIENT_AUTH])
    return AuditSigner(key, cert), dealer_store(trust, root)


def test_rotated_identity_keeps_old_records_valid(tmp_path: Path) -> None:
    old, trust = _issued_signer("Dealer Root", "bench-1", tmp_path / "trust")
    with AuditLog.open(default_log_path(), old) as log:
        _append(log, 3)
    root = dealer_root("Dealer Root 2")
    certs.save_cert(root.cert, trust / Purpose.WORKSTATION.folder / "dealer-2.pem")  # joins
    certs.save_crl(certs.make_crl(root.cert, root.key), trust / "dealer-2.crl")
    key = generate_key("ed25519")
    new = AuditSigner(key, certs.issue(certs.name("bench-1b", "Test Dealer"), key,
                                       root.cert.subject, root.key, ca=False,
                                       eku=[certs.CLIENT_AUTH]))
    with AuditLog.open(default_log_path(), new) as log:
        _append(log, 3)
        result = log.check(workstation_chain_verifier(trust))
    assert result.ok, result.problems
    assert result.records == 6 and result.head_seq == 6
    assert [(s.workstation, s.status, s.records) for s in result.signers.values()] == [
        ("bench-1", SignerStatus.CERTIFIED, 3), ("bench-1b", SignerStatus.CERTIFIED, 3)]


def test_demo_signed_head_cannot_vouch_for_installation_records() -> None:
    key = generate_key("p256")
    subject = certs.name("bench-2", "Workshop workstation (not certified)")
    own = AuditSigner(key, certs.issue(subject, key, subject, key, ca=False,
                                       eku=[certs.CLIENT_AUTH]))
    with AuditLog.open(default_log_path(), own) as log:
        _append(log, 2)
    with AuditLog.open(default_log_path(), demo_identity()) as log:
        _append(log, 1)  # whoever has the demo key (its passphrase is public) moves the head
        reasons = [p.reason for p in log.check(workstation_chain_verifier(None)).problems]
    assert any(r.startswith("signed head is signed by the demo identity") for r in reasons)
