"""Certificate chain verification: path to a trusted root, validity, usages, path length, CRLs.

Layer 1 is cryptography's X.509 verifier (signatures, names, basic constraints); layer 2 is
our own explicit checks, each raising a TrustError leaf that names the failed check.
The demo root (organization DEMO_ORGANIZATION) is trusted only with `allow_demo_root=True`,
which callers pass only when the target adapter is the simulator.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509 import verification as xv
from cryptography.x509.oid import ExtendedKeyUsageOID

from workshop.trust.certs import CODE_SIGNING, common_name, is_demo, utcnow
from workshop.trust.errors import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    ChainError,
    KeyUsageError,
    PathLengthError,
    TrustError,
    UntrustedRootError,
)
from workshop.trust.store import TrustStore

MAX_DEPTH = 5


@dataclass(frozen=True)
class VerifiedChain:
    path: tuple[x509.Certificate, ...]  # leaf first, trusted root last

    @property
    def leaf(self) -> x509.Certificate:
        return self.path[0]

    @property
    def root(self) -> x509.Certificate:
        return self.path[-1]

    def describe(self) -> str:
        return " <- ".join(common_name(c) for c in self.path)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, Exception):
        return False
    return True


def build_path(leaf: x509.Certificate, intermediates: Sequence[x509.Certificate],
               store: TrustStore) -> list[x509.Certificate]:
    path = [leaf]
    current = leaf
    for _ in range(MAX_DEPTH):
        for root in store.roots:
            if _issued_by(current, root):
                if current != root:
                    path.append(root)
                return path
        nxt = next((c for c in intermediates if c not in path and _issued_by(current, c)), None)
        if nxt is None:
            break
        path.append(nxt)
        current = nxt
    raise UntrustedRootError(
        f"trusted-root check failed: chain of '{common_name(leaf)}' ends at "
        f"'{current.issuer.rfc4514_string()}', which is not in the trust store",
        hint="the signer is not trusted here; add its OEM root to the trust store (--trust)")


def _library_verify(path: list[x509.Certificate], store: TrustStore, at: dt.datetime) -> None:
    """Cross-check with cryptography's verifier (signatures, names, CA constraints).

    Its web-PKI profile forbids Ed25519 keys, so Ed25519 chains rely on our own checks
    (issuer name + `verify_directly_issued_by` per link, CA, path length, usages, CRLs).
    """
    if any(isinstance(c.public_key(), ed25519.Ed25519PublicKey) for c in path):
        return
    policy = (xv.PolicyBuilder().store(xv.Store([path[-1]])).time(at)
              .max_chain_depth(MAX_DEPTH)
              .extension_policies(ca_policy=xv.ExtensionPolicy.webpki_defaults_ca(),
                                  ee_policy=xv.ExtensionPolicy.permit_all()))
    try:
        policy.build_client_verifier().verify(path[0], path[1:-1])
    except xv.VerificationError as exc:
        raise ChainError(f"chain check failed: {exc}",
                         hint="the certificate chain is malformed") from exc


def _check_validity(cert: x509.Certificate, at: dt.datetime) -> None:
    if at < cert.not_valid_before_utc:
        raise CertificateNotYetValidError(
            f"validity check failed: certificate '{common_name(cert)}' is not valid before "
            f"{cert.not_valid_before_utc:%Y-%m-%d %H:%M} UTC",
            hint="check the workstation clock, or wait until the certificate becomes valid")
    if at > cert.not_valid_after_utc:
        raise CertificateExpiredError(
            f"validity check failed: certificate '{common_name(cert)}' expired on "
            f"{cert.not_valid_after_utc:%Y-%m-%d %H:%M} UTC",
            hint="obtain a package signed with a current certificate")


def _ext(cert: x509.Certificate, kind: type) -> object | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _check_ca(cert: x509.Certificate, below: int) -> None:
    bc = _ext(cert, x509.BasicConstraints)
    if not isinstance(bc, x509.BasicConstraints) or not bc.ca:
        raise ChainError(f"CA check failed: '{common_name(cert)}' is not a CA certificate",
                         hint="only CA certificates may issue certificates")
    ku = _ext(cert, x509.KeyUsage)
    if isinstance(ku, x509.KeyUsage) and not ku.key_cert_sign:
        raise KeyUsageError(f"key-usage check failed: CA '{common_name(cert)}' lacks "
                            "keyCertSign", hint="the CA may not sign certificates")
    if bc.path_length is not None and below > bc.path_length:
        raise PathLengthError(f"path-length check failed: '{common_name(cert)}' allows "
                              f"{bc.path_length} intermediate CA(s) below it, chain has {below}",
                              hint="the chain is longer than its CA permits")


def _check_leaf_usage(cert: x509.Certificate, eku: x509.ObjectIdentifier) -> None:
    ku = _ext(cert, x509.KeyUsage)
    if not isinstance(ku, x509.KeyUsage) or not ku.digital_signature:
        raise KeyUsageError(f"key-usage check failed: '{common_name(cert)}' lacks "
                            "digitalSignature", hint="use a code-signing certificate")
    ext = _ext(cert, x509.ExtendedKeyUsage)
    if not isinstance(ext, x509.ExtendedKeyUsage) or eku not in ext:
        label = "code signing" if eku == CODE_SIGNING else eku.dotted_string
        raise KeyUsageError(f"extended-key-usage check failed: '{common_name(cert)}' is not "
                            f"allowed for {label} ({eku.dotted_string})",
                            hint="sign with a certificate that has the right extended key usage")


def _check_revocation(path: list[x509.Certificate], store: TrustStore, at: dt.datetime) -> None:
    for cert, issuer in itertools.pairwise(path):
        crl = store.crl_for(issuer)
        if crl is None:
            continue
        if crl.next_update_utc is not None and at > crl.next_update_utc:
            raise TrustError(f"revocation check failed: CRL of '{common_name(issuer)}' is out "
                             f"of date (next update {crl.next_update_utc:%Y-%m-%d})",
                             hint="install a current CRL into the trust store")
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            raise CertificateRevokedError(
                f"revocation check failed: certificate '{common_name(cert)}' (serial "
                f"{cert.serial_number:x}) was revoked on {entry.revocation_date_utc:%Y-%m-%d}",
                hint="the signer's certificate is revoked; do not install this file")


def verify_chain(chain: Sequence[x509.Certificate], store: TrustStore, *,
                 allow_demo_root: bool, at: dt.datetime | None = None,
                 eku: x509.ObjectIdentifier = CODE_SIGNING) -> VerifiedChain:
    """Verify `chain` (leaf first) for `eku`; raise a TrustError leaf naming the failed check."""
    try:
        return _verify_chain(chain, store, allow_demo_root=allow_demo_root, at=at, eku=eku)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        raise ChainError(f"chain check failed: a certificate is malformed ({exc})",
                         hint="the certificate chain is corrupt; obtain a new copy") from exc


def _verify_chain(chain: Sequence[x509.Certificate], store: TrustStore, *,
                  allow_demo_root: bool, at: dt.datetime | None,
                  eku: x509.ObjectIdentifier) -> VerifiedChain:
    if not chain:
        raise ChainError("chain check failed: no certificate given",
                         hint="the signer certificate is missing")
    when = at or utcnow()
    path = build_path(chain[0], chain[1:], store)
    if is_demo(path[-1]) and not allow_demo_root:
        raise UntrustedRootError(
            f"trusted-root check failed: '{common_name(path[-1])}' is the demo root, trusted "
            "only for the simulator", hint="use a package signed by a production OEM root")
    for cert in path:
        _check_validity(cert, when)
    for index, cert in enumerate(path[1:], start=1):
        _check_ca(cert, below=max(0, index - 1))
    _library_verify(path, store, when)
    _check_leaf_usage(path[0], eku)
    _check_revocation(path, store, when)
    return VerifiedChain(tuple(path))


WORKSTATION = ExtendedKeyUsageOID.CLIENT_AUTH
