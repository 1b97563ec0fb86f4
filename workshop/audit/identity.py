"""Per-user workstation identity (key + certificate) that signs the audit log.

An imported identity (`workstation-key.pem` + `workstation-cert.pem`, the key encrypted with
$WORKSHOP_AUDIT_PASSPHRASE) in the audit folder wins; otherwise the workstation certificate
of the per-user demo PKI is used (dealer demo root -> workstation, created on first run).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from cryptography import x509

from workshop.audit.errors import AuditError
from workshop.audit.signing import AuditSigner
from workshop.foundation.errors import WorkshopError
from workshop.foundation.paths import user_dir
from workshop.trust.chain import verify_chain
from workshop.trust.demo import DEMO_PASSPHRASE, user_demo_pki
from workshop.trust.keys import load_key
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

KEY_FILE = "workstation-key.pem"
CERT_FILE = "workstation-cert.pem"
LOG_FILE = "audit.sqlite3"


def audit_dir() -> Path:
    return user_dir("audit")


def default_log_path() -> Path:
    return audit_dir() / LOG_FILE


def _identity_files() -> tuple[Path, Path, bytes]:
    folder = audit_dir()
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if key_path.exists() and cert_path.exists():
        return key_path, cert_path, os.environ.get("WORKSHOP_AUDIT_PASSPHRASE", "").encode()
    pki = user_demo_pki()
    return pki.folder / "keys" / "workstation.key", pki.workstation_cert, DEMO_PASSPHRASE


def load_or_create_workstation_identity() -> AuditSigner:
    """The workstation's signer: the imported identity, or the demo PKI's workstation."""
    key_path, cert_path, passphrase = _identity_files()
    try:
        key = load_key(key_path, passphrase or None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (WorkshopError, ValueError, TypeError, OSError) as exc:
        raise AuditError(f"cannot load workstation identity from {key_path.parent}: {exc}",
                         hint="check $WORKSHOP_AUDIT_PASSPHRASE matches the key's passphrase"
                         ) from exc
    return AuditSigner(key, cert)  # type: ignore[arg-type]


def trust_store_dir() -> Path:
    return user_demo_pki().trust_dir


def workstation_chain_verifier(trust_dir: Path | None, *, allow_demo_root: bool
                               ) -> Callable[[x509.Certificate], None]:
    """`verify_chain_fn(cert)` for audit verification: the workstation cert must chain to a
    trusted (dealer) root with client-authentication usage."""
    store = TrustStore.load(trust_dir or trust_store_dir())

    def check(cert: x509.Certificate) -> None:
        verify_chain([cert], store if allow_demo_root else store.without_demo_roots(),
                     purpose=Purpose.WORKSTATION)
    return check
