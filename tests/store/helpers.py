"""Workstation identities and logs for the store tests (real keys, real signed logs)."""

from __future__ import annotations

import datetime
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from workshop.audit import AuditLog, AuditSigner
from workshop.store.admin import enroll

PASSWORD = "ws-secret-Pa55"


def signer(name: str) -> AuditSigner:
    key = ed25519.Ed25519PrivateKey.generate()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, None))
    return AuditSigner(key, cert)


def role_dsn(owner_dsn: str, name: str) -> str:
    parts = dict(p.split("=", 1) for p in owner_dsn.split())
    parts.update(user=name, password=PASSWORD)
    return " ".join(f"{k}={v}" for k, v in parts.items())


def workstation(owner_dsn: str, name: str) -> tuple[AuditSigner, str]:
    enroll(owner_dsn, "workstation", name, password=PASSWORD)
    return signer(name), role_dsn(owner_dsn, name)


def write(log_path: Path, who: AuditSigner, n: int, *, vin: str = "WDEMO000000000001",
          action: str = "dtc.clear") -> None:
    with AuditLog.open(log_path, who) as log:
        for i in range(n):
            log.append(action, vin=vin, ecu="ENGINE", technician="tester",
                       details={"i": i, "note": "'); DROP TABLE workshop.records; --"})
