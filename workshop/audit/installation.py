"""The installation's own workstation identity: its key, the CSR for the dealer CA and the
certificate that comes back.

Files in the audit folder: `workstation-key.pem` (PKCS#8, always encrypted: with a random secret
kept in the OS credential store, or with the technician's passphrase), `workstation-cert.pem`
(self-signed until the dealer's certificate is imported; then the issued certificate and its
intermediates) and `workstation.json` (written last: its presence means the identity is
complete). An identity imported by hand (key + certificate, no json) is passphrase-protected.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from workshop.audit import credential_store
from workshop.audit.errors import AuditError
from workshop.audit.identity import audit_dir, identity_lock
from workshop.audit.records import utc_now
from workshop.audit.signing import AuditSigner, chain_pem, fingerprint
from workshop.audit.verification import ChainVerifier, SignerStatus
from workshop.foundation.errors import WorkshopError
from workshop.foundation.paths import atomic_write, file_lock
from workshop.trust import certs
from workshop.trust.certs import CLIENT_AUTH
from workshop.trust.keys import KeyType, PrivateKey, generate_key, load_key, save_key

KEY_FILE = "workstation-key.pem"
CERT_FILE = "workstation-cert.pem"
META_FILE = "workstation.json"
UNCERTIFIED_ORG = "Workshop workstation (not certified)"
MIN_PASSPHRASE = 8
Protection = Literal["keyring", "passphrase"]


@dataclass(frozen=True)
class Installation:
    """A complete installation identity (locked: the key is not loaded)."""

    folder: Path
    workstation: str
    protection: Protection
    keyring_user: str | None
    chain: list[x509.Certificate]  # current certificate first, then intermediates

    @property
    def certificate(self) -> x509.Certificate:
        return self.chain[0]

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.certificate)

    @property
    def self_signed(self) -> bool:
        return self.certificate.issuer == self.certificate.subject


def _paths(folder: Path) -> tuple[Path, Path, Path]:
    return folder / KEY_FILE, folder / CERT_FILE, folder / META_FILE


def load_installation(folder: Path | None = None) -> Installation | None:
    """The installation identity, or None if there is none (or only a half-created one)."""
    folder = folder or audit_dir()
    key_path, cert_path, meta_path = _paths(folder)
    if not (key_path.exists() and cert_path.exists()):
        return None
    try:
        chain = certs.load_certs(cert_path)
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
    except (WorkshopError, ValueError, OSError) as exc:
        raise AuditError(f"workstation identity in {folder} is unreadable: {exc}",
                         hint="restore the files, or run `workshop identity init --rotate`"
                         ) from exc
    if not chain:
        raise AuditError(f"{cert_path} holds no certificate",
                         hint="import the certificate again: `workshop identity import-cert`")
    protection: Protection = "keyring" if meta.get("protection") == "keyring" else "passphrase"
    return Installation(folder, certs.common_name(chain[0]), protection,
                        meta.get("keyring_user"), chain)


def _self_signed(key: PrivateKey, workstation: str) -> x509.Certificate:
    subject = certs.name(workstation, UNCERTIFIED_ORG)
    return certs.issue(subject, key, subject, key, ca=False, eku=[CLIENT_AUTH], days=3650)


def create_installation(*, protection: Protection, passphrase: bytes | None,
                        workstation: str | None = None, key_type: KeyType = "p256",
                        rotate: bool = False, folder: Path | None = None) -> Installation:
    """Create the key (and its self-signed placeholder certificate) under the identity lock."""
    folder = folder or audit_dir()
    name = workstation or f"workstation-{secrets.token_hex(4)}"
    with file_lock(identity_lock()):
        existing = load_installation(folder)
        if existing is not None and not rotate:
            raise AuditError(f"this installation already has a workstation identity "
                             f"({existing.workstation})",
                             hint="use `workshop identity init --rotate` to replace it")
        if protection == "passphrase":
            if passphrase is None or len(passphrase) < MIN_PASSPHRASE:
                raise AuditError(f"a passphrase of at least {MIN_PASSPHRASE} characters is "
                                 "needed to protect the workstation key",
                                 hint="set $WORKSHOP_AUDIT_PASSPHRASE or run the command in a "
                                 "terminal to be asked for one")
            secret, keyring_user = passphrase, None
        else:
            keyring_user = f"{name}-{secrets.token_hex(8)}"
            token = secrets.token_urlsafe(32)
            if not credential_store.store(keyring_user, token):
                raise AuditError("the OS credential store refused to keep the workstation key "
                                 "secret", hint="use `workshop identity init --protect "
                                 "passphrase`")
            secret = token.encode()
        if existing is not None:
            _retire(existing)
        key = generate_key(key_type)
        key_path, cert_path, meta_path = _paths(folder)
        meta_path.unlink(missing_ok=True)  # incomplete until the json is back
        save_key(key, key_path, secret)
        atomic_write(cert_path, certs.cert_pem(_self_signed(key, name)))
        atomic_write(meta_path, json.dumps({
            "format": 1, "workstation": name, "protection": protection,
            "keyring_user": keyring_user, "created": utc_now()}, indent=2).encode())
    created = load_installation(folder)
    assert created is not None
    return created


def _retire(old: Installation) -> None:
    """Keep the replaced identity (still encrypted) beside the log, out of the way."""
    target = old.folder / "retired" / f"{utc_now()[:19].replace(':', '')}-{old.fingerprint[:12]}"
    target.mkdir(parents=True, exist_ok=True)
    for path in _paths(old.folder):
        if path.exists():
            shutil.move(str(path), target / path.name)


def unlock(identity: Installation, passphrase: bytes | None) -> AuditSigner:
    """The signer for this identity: the secret from the credential store, or `passphrase`."""
    if identity.protection == "keyring":
        token = credential_store.load(identity.keyring_user or "")
        if token is None:
            raise AuditError("the workstation key's secret is not in the OS credential store "
                             f"({credential_store.describe()})",
                             hint="unlock the desktop keyring, or create a new identity with "
                             "`workshop identity init --rotate`")
        secret: bytes | None = token.encode()
    else:
        if not passphrase:
            raise AuditError("the workstation key is protected by a passphrase and none was "
                             "given", hint="set $WORKSHOP_AUDIT_PASSPHRASE or run the command "
                             "in a terminal")
        secret = passphrase
    key_path = _paths(identity.folder)[0]
    try:
        key = load_key(key_path, secret)
    except WorkshopError as exc:
        raise AuditError(f"cannot unlock the workstation key {key_path}: wrong passphrase or "
                         "damaged file", hint="check $WORKSHOP_AUDIT_PASSPHRASE") from exc
    return AuditSigner(key, identity.certificate, identity.chain[1:])


def make_csr(signer: AuditSigner, organization: str | None = None) -> bytes:
    """A PKCS#10 request for a workstation (client-authentication) certificate."""
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, signer.workstation)]
    if organization:
        attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    builder = (x509.CertificateSigningRequestBuilder().subject_name(x509.Name(attrs))
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                            key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, key_cert_sign=False,
                                            crl_sign=False, encipher_only=False,
                                            decipher_only=False), critical=True)
               .add_extension(x509.ExtendedKeyUsage([CLIENT_AUTH]), critical=False))
    key = signer.private_key
    algorithm = None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)


def _spki(cert: x509.Certificate) -> bytes:
    return cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)


def import_certificate(identity: Installation, chain: Sequence[x509.Certificate],
                       verify_chain_fn: ChainVerifier) -> Installation:
    """Install the dealer CA's certificate: it must be for this key and chain to a dealer
    (workstation) root of the trust store that is not the demo root."""
    if not chain:
        raise AuditError("the file holds no certificate",
                         hint="import the PEM certificate the dealer CA issued for your CSR")
    # the file may carry the root too; the trust store, not the file, supplies roots
    leaf, rest = chain[0], [c for c in chain[1:] if c.issuer != c.subject]
    if _spki(leaf) != _spki(identity.certificate):
        raise AuditError("the certificate is not for this workstation's key",
                         hint="import the certificate issued for the CSR of "
                         "`workshop identity csr` (after a rotation, send the new CSR)")
    try:
        status = verify_chain_fn([leaf, *rest])
    except Exception as exc:
        raise AuditError(f"the certificate does not chain to a dealer root of the trust store: "
                         f"{exc}", hint="put the dealer root in the trust store (--trust DIR) "
                         "or ask the dealer CA for the right certificate") from exc
    if status is not SignerStatus.CERTIFIED:
        raise AuditError("the certificate was issued under the demo dealer root, which is "
                         "trusted for the simulator only",
                         hint="have the CSR signed by your dealer CA")
    with file_lock(identity_lock()):
        atomic_write(_paths(identity.folder)[1], chain_pem([leaf, *rest]).encode())
    imported = load_installation(identity.folder)
    assert imported is not None
    return imported
