"""Certificate chain verification for one purpose: path to a root the trust store holds for
that purpose, validity, CA constraints, usages, extensions, revocation (a CRL is required).

Layer 1 is cryptography's X.509 verifier (signatures, names, basic constraints). Its web-PKI
profile refuses Ed25519 keys (cryptography 50 offers no way to allow them), so layer 1 runs
for ECDSA chains only; layer 2, our own checks, runs for every chain and covers what layer 1
checks (tests/trust/test_key_types.py holds both to the same defects for both key types).
Every failure raises a TrustError leaf naming the check.

Which roots are present (e.g. the demo roots only for the simulator) is the caller's policy
(workshop.services.trust_policy); this module verifies against the store it is given.
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

from workshop.trust.certs import common_name, utcnow
from workshop.trust.errors import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    ChainError,
    KeyUsageError,
    PathLengthError,
    RevocationUnavailableError,
    UntrustedRootError,
)
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

MAX_DEPTH = 5
# Extensions whose meaning layer 2 enforces; any other extension marked critical is refused
# (RFC 5280 4.2: a verifier must reject a critical extension it does not process).
UNDERSTOOD_CRITICAL = frozenset({x509.BasicConstraints.oid, x509.KeyUsage.oid,
                                 x509.ExtendedKeyUsage.oid})


@dataclass(frozen=True)
class VerifiedChain:
    path: tuple[x509.Certificate, ...]  # leaf first, trusted root last
    purpose: Purpose

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
    except Exception:  # any parse or signature failure means "not this issuer"
        return False
    return True


def _path_to(leaf: x509.Certificate, intermediates: Sequence[x509.Certificate],
             roots: Sequence[x509.Certificate]) -> tuple[list[x509.Certificate], bool]:
    """(path, reached a root): follow issuers through `intermediates` up to one of `roots`."""
    path = [leaf]
    current = leaf
    for _ in range(MAX_DEPTH):
        for root in roots:
            if _issued_by(current, root):
                if current != root:
                    path.append(root)
                return path, True
        nxt = next((c for c in intermediates if c not in path and _issued_by(current, c)), None)
        if nxt is None:
            break
        path.append(nxt)
        current = nxt
    return path, False


def build_path(leaf: x509.Certificate, intermediates: Sequence[x509.Certificate],
               store: TrustStore, purpose: Purpose) -> list[x509.Certificate]:
    path, ok = _path_to(leaf, intermediates, store.roots_for(purpose))
    if ok:
        return path
    other, found = _path_to(leaf, intermediates, store.all_roots())
    if found:
        served = ", ".join(p.folder for p in store.purposes_of(other[-1]))
        raise UntrustedRootError(
            f"trusted-root check failed: chain of '{common_name(leaf)}' ends at "
            f"'{common_name(other[-1])}', a root trusted for {served} only, not for "
            f"{purpose.folder} ({purpose.usage})",
            hint=f"a {purpose.folder} signature must chain to a root in the trust store's "
                 f"{purpose.folder}/ folder")
    raise UntrustedRootError(
        f"trusted-root check failed: chain of '{common_name(leaf)}' ends at "
        f"'{path[-1].issuer.rfc4514_string()}', which is not a {purpose.folder} root in the "
        "trust store",
        hint=f"the signer is not trusted here; add its root to the trust store's "
             f"{purpose.folder}/ folder (--trust)")


def _library_verify(path: list[x509.Certificate], at: dt.datetime) -> None:
    """Layer 1, ECDSA chains only (see the module docstring for Ed25519)."""
    if any(isinstance(c.public_key(), ed25519.Ed25519PublicKey) for c in path):
        return
    # The web-PKI CA profile would demand clientAuth in a CA's EKU; a CA restricted to code
    # signing is legitimate here, and layer 2 checks a CA's EKU against the purpose.
    ca_policy = xv.ExtensionPolicy.webpki_defaults_ca().may_be_present(
        x509.ExtendedKeyUsage, xv.Criticality.NON_CRITICAL, None)
    policy = (xv.PolicyBuilder().store(xv.Store([path[-1]])).time(at)
              .max_chain_depth(MAX_DEPTH)
              .extension_policies(ca_policy=ca_policy,
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
            hint="obtain a file signed with a current certificate")


def _ext(cert: x509.Certificate, kind: type) -> x509.Extension[x509.ExtensionType] | None:
    try:
        return cert.extensions.get_extension_for_class(kind)
    except x509.ExtensionNotFound:
        return None


def _check_extensions(cert: x509.Certificate) -> None:
    unknown = [e.oid.dotted_string for e in cert.extensions
               if e.critical and e.oid not in UNDERSTOOD_CRITICAL]
    if unknown:
        raise ChainError(f"extension check failed: '{common_name(cert)}' has critical "
                         f"extension(s) this tool does not process: {', '.join(unknown)}",
                         hint="the certificate cannot be verified safely here")


def _check_ca(cert: x509.Certificate, below: int, purpose: Purpose) -> None:
    bc = _ext(cert, x509.BasicConstraints)
    if bc is None or not isinstance(bc.value, x509.BasicConstraints) or not bc.value.ca:
        raise ChainError(f"CA check failed: '{common_name(cert)}' is not a CA certificate",
                         hint="only CA certificates may issue certificates")
    if not bc.critical:
        raise ChainError(f"CA check failed: basicConstraints of CA '{common_name(cert)}' is "
                         "not critical", hint="the CA certificate is malformed (RFC 5280)")
    ku = _ext(cert, x509.KeyUsage)
    if ku is None or not isinstance(ku.value, x509.KeyUsage) or not ku.value.key_cert_sign:
        raise KeyUsageError(f"key-usage check failed: CA '{common_name(cert)}' lacks "
                            "keyCertSign", hint="the CA may not sign certificates")
    if bc.value.path_length is not None and below > bc.value.path_length:
        raise PathLengthError(f"path-length check failed: '{common_name(cert)}' allows "
                              f"{bc.value.path_length} intermediate CA(s) below it, chain has "
                              f"{below}", hint="the chain is longer than its CA permits")
    eku = _ext(cert, x509.ExtendedKeyUsage)
    # A CA restricted to some usages may not vouch for others (the common EKU-chaining rule).
    if eku is not None and isinstance(eku.value, x509.ExtendedKeyUsage) \
            and purpose.eku not in eku.value:
        raise KeyUsageError(f"extended-key-usage check failed: CA '{common_name(cert)}' is "
                            f"restricted to other usages than {purpose.usage}",
                            hint="the CA may not issue certificates for this purpose")


def _check_leaf(cert: x509.Certificate, purpose: Purpose) -> None:
    bc = _ext(cert, x509.BasicConstraints)
    if bc is not None and isinstance(bc.value, x509.BasicConstraints) and bc.value.ca:
        raise KeyUsageError(f"signer check failed: '{common_name(cert)}' is a CA certificate "
                            "(basicConstraints CA=true)",
                            hint="files are signed by an end-entity certificate, not a CA")
    ku = _ext(cert, x509.KeyUsage)
    if ku is None or not isinstance(ku.value, x509.KeyUsage) or not ku.value.digital_signature:
        raise KeyUsageError(f"key-usage check failed: '{common_name(cert)}' lacks "
                            "digitalSignature", hint=f"use a {purpose.usage} certificate")
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if eku is None or not isinstance(eku.value, x509.ExtendedKeyUsage) \
            or purpose.eku not in eku.value:
        raise KeyUsageError(f"extended-key-usage check failed: '{common_name(cert)}' is not "
                            f"allowed for {purpose.usage} ({purpose.eku.dotted_string})",
                            hint=f"sign with a certificate that has the {purpose.usage} "
                                 "extended key usage")


def _check_revocation(path: list[x509.Certificate], store: TrustStore, at: dt.datetime) -> None:
    for cert, issuer in itertools.pairwise(path):
        crl = store.crl_for(issuer)
        if crl is None:
            raise RevocationUnavailableError(
                f"revocation check failed: no CRL from '{common_name(issuer)}' in the trust "
                f"store (needed for '{common_name(cert)}')",
                hint="install the issuer's current CRL (*.crl) into the trust store")
        if crl.next_update_utc is None or at > crl.next_update_utc:
            until = f"{crl.next_update_utc:%Y-%m-%d}" if crl.next_update_utc else "not given"
            raise RevocationUnavailableError(
                f"revocation check failed: CRL of '{common_name(issuer)}' is out of date "
                f"(next update {until})", hint="install a current CRL into the trust store")
        entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if entry is not None:
            raise CertificateRevokedError(
                f"revocation check failed: certificate '{common_name(cert)}' (serial "
                f"{cert.serial_number:x}) was revoked on {entry.revocation_date_utc:%Y-%m-%d}",
                hint="the signer's certificate is revoked; do not trust this file")


def verify_chain(chain: Sequence[x509.Certificate], store: TrustStore, *, purpose: Purpose,
                 at: dt.datetime | None = None) -> VerifiedChain:
    """Verify `chain` (leaf first) for `purpose`; raise a TrustError leaf naming the check."""
    try:
        return _verify_chain(chain, store, purpose, at or utcnow())
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        raise ChainError(f"chain check failed: a certificate is malformed ({exc})",
                         hint="the certificate chain is corrupt; obtain a new copy") from exc


def _verify_chain(chain: Sequence[x509.Certificate], store: TrustStore, purpose: Purpose,
                  at: dt.datetime) -> VerifiedChain:
    if not chain:
        raise ChainError("chain check failed: no certificate given",
                         hint="the signer certificate is missing")
    path = build_path(chain[0], chain[1:], store, purpose)
    for cert in path:
        _check_validity(cert, at)
        _check_extensions(cert)
    for index, cert in enumerate(path[1:], start=1):
        _check_ca(cert, below=max(0, index - 1), purpose=purpose)
    _library_verify(path, at)
    _check_leaf(path[0], purpose)
    _check_revocation(path, store, at)
    return VerifiedChain(tuple(path), purpose)


def verify_cross_certificate(cert: x509.Certificate, store: TrustStore, *,
                             purpose: Purpose, at: dt.datetime | None = None) -> VerifiedChain:
    """Verify a CA certificate issued by a root the store already trusts for `purpose` (a
    root rollover's cross-certificate): the same checks as `verify_chain`, except that the
    first certificate must be a CA, not a signer."""
    when = at or utcnow()
    try:
        path = build_path(cert, [], store, purpose)
        if len(path) < 2:
            raise UntrustedRootError(
                f"trusted-root check failed: '{common_name(cert)}' is already a root here, "
                "not a certificate issued by one", hint="publish a cross-certificate")
        for c in path:
            _check_validity(c, when)
            _check_extensions(c)
        for c in path:  # the cross-certificate is never part of a signer's path: no length
            _check_ca(c, below=0, purpose=purpose)
        _check_revocation(path, store, when)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        raise ChainError(f"chain check failed: a certificate is malformed ({exc})",
                         hint="the certificate chain is corrupt; obtain a new copy") from exc
    return VerifiedChain(tuple(path), purpose)
