from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from workshop.audit import AuditLog, AuditSigner


@pytest.fixture(autouse=True)
def workshop_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("WORKSHOP_HOME", str(home))
    return home


def make_signer(kind: str, cn: str = "ws-test") -> AuditSigner:
    key: ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ecdsa" else \
        ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
            .sign(key, None if kind == "ed25519" else hashes.SHA256()))
    return AuditSigner(key, cert)


@pytest.fixture(params=["ecdsa", "ed25519"])
def signer(request: pytest.FixtureRequest) -> AuditSigner:
    return make_signer(request.param)


@pytest.fixture
def filled_log(tmp_path: Path, signer: AuditSigner) -> AuditLog:
    log = AuditLog.open(tmp_path / "audit.sqlite3", signer)
    for i in range(6):
        log.append("read_dtc", vin="WVWZZZ1JZXW000001", ecu="ECM", technician="alice",
                   details={"i": i})
    return log
