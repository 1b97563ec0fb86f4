"""Certificate and CRL builders for roots, intermediate CAs, code signers and workstations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from workshop.foundation.paths import atomic_write
from workshop.trust.errors import KeyFileError
from workshop.trust.keys import PrivateKey

CODE_SIGNING = ExtendedKeyUsageOID.CODE_SIGNING  # 1.3.6.1.5.5.7.3.3
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
DEMO_ORGANIZATION = "Workshop DEMO PKI (simulator only)"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def name(common_name: str, organization: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _hash_for(key: PrivateKey) -> hashes.SHA256 | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def _key_usage(*, ca: bool, signing: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=signing, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=ca, crl_sign=ca, encipher_only=False,
                         decipher_only=False)


def issue(subject: x509.Name, subject_key: PrivateKey, issuer: x509.Name,
          issuer_key: PrivateKey, *, ca: bool, path_length: int | None = None,
          eku: list[x509.ObjectIdentifier] | None = None, not_before: dt.datetime | None = None,
          days: int = 3650) -> x509.Certificate:
    """Issue one certificate. `issuer_key is subject_key` makes a self-signed root."""
    start = not_before or (utcnow() - dt.timedelta(minutes=5))
    pub = subject_key.public_key()
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(pub).serial_number(x509.random_serial_number())
               .not_valid_before(start).not_valid_after(start + dt.timedelta(days=days))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca
                                                    else None), critical=True)
               .add_extension(_key_usage(ca=ca, signing=not ca), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                   issuer_key.public_key()), critical=False))
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
    return builder.sign(issuer_key, _hash_for(issuer_key))


def make_crl(issuer: x509.Certificate, issuer_key: PrivateKey,
             revoked_serials: Sequence[int] = (), days: int = 365
             ) -> x509.CertificateRevocationList:
    now = utcnow() - dt.timedelta(minutes=5)
    builder = (x509.CertificateRevocationListBuilder().issuer_name(issuer.subject)
               .last_update(now).next_update(now + dt.timedelta(days=days)))
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(now).build())
    return builder.sign(issuer_key, _hash_for(issuer_key))


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def save_cert(cert: x509.Certificate, path: Path) -> None:
    atomic_write(path, cert_pem(cert))


def save_crl(crl: x509.CertificateRevocationList, path: Path) -> None:
    atomic_write(path, crl.public_bytes(serialization.Encoding.PEM))


def load_certs(path: Path) -> list[x509.Certificate]:
    """All certificates in a PEM file (leaf first, then intermediates)."""
    try:
        return load_certs_pem(path.read_bytes())
    except OSError as exc:
        raise KeyFileError(f"cannot read certificate file {path}: {exc.strerror}",
                           hint="check the --cert path") from exc


def load_certs_pem(data: bytes) -> list[x509.Certificate]:
    try:
        certs = x509.load_pem_x509_certificates(data)
    except (ValueError, x509.InvalidVersion) as exc:
        raise KeyFileError("certificate data is not valid PEM",
                           hint="provide PEM certificates (BEGIN CERTIFICATE)") from exc
    return certs


def common_name(cert: x509.Certificate) -> str:
    attrs = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else cert.subject.rfc4514_string()


def is_demo(cert: x509.Certificate) -> bool:
    attrs = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    return any(a.value == DEMO_ORGANIZATION for a in attrs)
