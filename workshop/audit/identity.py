"""Per-user workstation identity (key + certificate) used to sign the audit log.

PLACEHOLDER FOR THE LEAD: `load_or_create_workstation_identity()` creates a self-signed
certificate. Rewire it to the demo PKI (workshop.trust) so the certificate is issued by the
workshop CA; callers only use the returned AuditSigner, so nothing else changes.

The private key is stored PKCS#8-encrypted (BestAvailableEncryption). Demo passphrase:
"workshop-demo-audit", overridable with $WORKSHOP_AUDIT_PASSPHRASE.
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from workshop.audit.errors import AuditError
from workshop.audit.signing import AuditSigner
from workshop.foundation.paths import atomic_write, user_home

DEMO_PASSPHRASE = "workshop-demo-audit"
KEY_FILE = "workstation-key.pem"
CERT_FILE = "workstation-cert.pem"
LOG_FILE = "audit.sqlite3"


def audit_dir() -> Path:
    path = user_home() / "audit"
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_log_path() -> Path:
    return audit_dir() / LOG_FILE


def _passphrase() -> bytes:
    return os.environ.get("WORKSHOP_AUDIT_PASSPHRASE", DEMO_PASSPHRASE).encode()


def _create(key_path: Path, cert_path: Path) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "workshop (self-signed placeholder)"),
        x509.NameAttribute(NameOID.COMMON_NAME, f"workstation-{secrets.token_hex(4)}"),
    ])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.BestAvailableEncryption(_passphrase()))
    atomic_write(key_path, pem_key)
    os.chmod(key_path, 0o600)
    atomic_write(cert_path, cert.public_bytes(serialization.Encoding.PEM))


def load_or_create_workstation_identity() -> AuditSigner:
    """LEAD: rewire to the demo PKI. Loads (or on first run creates) the workstation identity."""
    folder = audit_dir()
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if not key_path.exists() or not cert_path.exists():
        _create(key_path, cert_path)
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), _passphrase())
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (ValueError, TypeError, OSError) as exc:
        raise AuditError(f"cannot load workstation identity from {folder}: {exc}",
                         hint="check $WORKSHOP_AUDIT_PASSPHRASE matches the key's passphrase"
                         ) from exc
    return AuditSigner(key, cert)  # type: ignore[arg-type]
