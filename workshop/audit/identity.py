"""Where the audit log lives, the demo workstation identity (simulator actions only) and the
chain check of workstation certificates against the trust store.

The installation's own identity (key protected by the OS credential store or a passphrase,
certificate from the dealer CA) is in installation.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cryptography import x509

from workshop.audit.errors import AuditError
from workshop.audit.signing import AuditSigner
from workshop.audit.verification import ChainVerifier, SignerStatus
from workshop.foundation.errors import WorkshopError
from workshop.foundation.paths import file_lock, user_home
from workshop.foundation.settings import load_settings
from workshop.trust.certs import is_demo
from workshop.trust.chain import verify_chain
from workshop.trust.demo import DEMO_PASSPHRASE, user_demo_pki
from workshop.trust.keys import load_key
from workshop.trust.location import configured_trust_dir
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

LOG_FILE = "audit.sqlite3"
IDENTITY_LOCK = "identity.lock"


def audit_dir() -> Path:
    """Settings' audit folder, else the per-user default."""
    return load_settings().folder("audit_dir", "audit")


def default_log_path() -> Path:
    return audit_dir() / LOG_FILE


def identity_lock() -> Path:
    return audit_dir() / IDENTITY_LOCK


def demo_identity() -> AuditSigner:
    """The demo PKI's workstation (dealer demo root): may sign simulator actions only."""
    # serialise first-run creation of the demo PKI between processes that start together
    with file_lock(identity_lock()):
        pki = user_demo_pki()
    key_path = pki.folder / "keys" / "workstation.key"
    try:
        key = load_key(key_path, DEMO_PASSPHRASE)
        cert = x509.load_pem_x509_certificate(pki.workstation_cert.read_bytes())
    except (WorkshopError, ValueError, TypeError, OSError) as exc:
        raise AuditError(f"cannot load the demo workstation identity from {pki.folder}: {exc}",
                         hint="delete that folder; it is recreated on the next simulator action"
                         ) from exc
    return AuditSigner(key, cert)  # type: ignore[arg-type]


def default_trust_dir() -> Path | None:
    """The installation's trust store (dealer root for workstation certificates), if set up."""
    return configured_trust_dir()


def _stores(trust_dir: Path | None) -> list[TrustStore]:
    stores = []
    folder = trust_dir or default_trust_dir()
    if folder is not None:
        stores.append(TrustStore.load(folder))
    # the local demo root only ever yields DEMO, which verification labels as simulator
    demo = user_home() / "pki" / "trust"
    if demo.is_dir() and demo != folder:
        stores.append(TrustStore.load(demo))
    return stores


def workstation_chain_verifier(trust_dir: Path | None) -> ChainVerifier:
    """`verify_chain_fn(chain)` for audit verification: the workstation certificate must chain
    to a trusted dealer root with client-authentication usage. Returns DEMO for the demo
    dealer root, CERTIFIED for any other; raises when there is no valid chain."""
    stores = _stores(trust_dir)

    def check(chain: Sequence[x509.Certificate]) -> SignerStatus:
        first: Exception | None = None
        for store in stores:
            try:
                verified = verify_chain(list(chain), store, purpose=Purpose.WORKSTATION)
            except WorkshopError as exc:
                first = first or exc
                continue
            return SignerStatus.DEMO if is_demo(verified.root) else SignerStatus.CERTIFIED
        raise first or AuditError("no trust store with a dealer root is set up",
                                  hint="pass --trust DIR holding the dealer root certificate")
    return check
