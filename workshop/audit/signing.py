"""Workstation signing key (ECDSA P-256 or Ed25519) and signature checks against its certificate."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import NameOID

from workshop.audit.errors import AuditError

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def workstation_id(certificate: x509.Certificate) -> str:
    """The workstation id recorded in every record: the certificate subject's common name."""
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names:
        raise AuditError("workstation certificate has no common name",
                         hint="issue the workstation certificate with CN=<workstation id>")
    return str(names[0].value)


def fingerprint(certificate: x509.Certificate) -> str:
    """SHA-256 over the certificate's DER encoding (hex): how a record names its signer."""
    return certificate.fingerprint(hashes.SHA256()).hex()


def chain_pem(chain: Sequence[x509.Certificate]) -> str:
    return "".join(c.public_bytes(serialization.Encoding.PEM).decode() for c in chain)


def certificate_key(certificate: x509.Certificate) -> PublicKey:
    key = certificate.public_key()
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return key
    raise AuditError("workstation certificate key is not ECDSA P-256 or Ed25519",
                     hint="audit signing supports only ECDSA P-256 and Ed25519 keys")


def _raw_public(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


class AuditSigner:
    """Signs audit hashes with the workstation private key matching `certificate`.

    `intermediates` (issuing CAs below the trust-store root) travel with the certificate in
    the log so that another machine can check the chain.
    """

    def __init__(self, private_key: PrivateKey, certificate: x509.Certificate,
                 intermediates: Sequence[x509.Certificate] = ()) -> None:
        if not isinstance(private_key, ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
            raise AuditError("unsupported workstation key type",
                             hint="use an ECDSA P-256 or Ed25519 key")
        public = certificate_key(certificate)
        if _raw_public(private_key.public_key()) != _raw_public(public):
            raise AuditError("workstation private key does not match its certificate",
                             hint="re-issue the workstation certificate for this key")
        self.private_key = private_key
        self.certificate = certificate
        self.chain = [certificate, *intermediates]
        self.fingerprint = fingerprint(certificate)
        self.workstation = workstation_id(certificate)

    def sign(self, data: bytes) -> str:
        if isinstance(self.private_key, ed25519.Ed25519PrivateKey):
            return self.private_key.sign(data).hex()
        return self.private_key.sign(data, ec.ECDSA(hashes.SHA256())).hex()


def signature_valid(public_key: PublicKey, signature_hex: object, data: bytes) -> bool:
    if not isinstance(signature_hex, str):
        return False
    try:
        signature = bytes.fromhex(signature_hex)
        if isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, data)
        else:
            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, ValueError):
        return False
    return True
