"""A test dealer CA (not the demo one) that signs workstation CSRs, and its trust store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.trust.pki_factory import CA, make_root, write_store
from workshop.trust import certs
from workshop.trust.purposes import Purpose


def dealer_root(cn: str = "Test Dealer Root") -> CA:
    return make_root(cn, path_length=0, org="Test Dealer")


def dealer_store(folder: Path, root: CA) -> Path:
    # with a CRL, so the store stays valid once a missing CRL counts as a failure
    return write_store(folder, [root], [(root, [])], purpose=Purpose.WORKSTATION)


def sign_csr(csr_pem: bytes, ca: CA, cn: str | None = None) -> bytes:
    """What the dealer CA does with a CSR: issue a client-authentication certificate."""
    csr = x509.load_pem_x509_csr(csr_pem)
    assert csr.is_signature_valid
    subject = csr.subject if cn is None else certs.name(cn, "Test Dealer")
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    key_usage = x509.KeyUsage(digital_signature=True, content_commitment=False,
                              key_encipherment=False, data_encipherment=False,
                              key_agreement=False, key_cert_sign=False, crl_sign=False,
                              encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.cert.subject)
            .public_key(csr.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(key_usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage([certs.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca.key.public_key()), critical=False)  # type: ignore[arg-type]
            .sign(ca.key, hashes.SHA256()))  # type: ignore[arg-type]
    return certs.cert_pem(cert)
