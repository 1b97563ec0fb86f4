"""Trust material that arrives from outside (pulled from the central store): a CRL, or a new
root for one purpose. Each is checked against the trust store in use before it may join it,
with the store's own checks (`TrustStore.crl_for`, `chain.verify_cross_certificate`).

- A CRL must be signed by a CA the store knows (a root, or a CA certificate that comes with
  the CRL and chains to a root), and must not be older than the CRL of that CA in use: an
  older one would hide a revocation (replay).
- A new root comes with its cross-certificate: the same subject and key, issued by a root
  the store already trusts for that purpose (a rollover); a bare self-signed root is refused,
  because nothing here can vouch for it.
"""

from __future__ import annotations

from cryptography import x509

from workshop.trust.certs import common_name
from workshop.trust.chain import build_path, verify_cross_certificate
from workshop.trust.errors import ChainError, TrustError, UntrustedRootError
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore


def _parse_certs(pem: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        return []
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise ChainError("the file's certificates are not valid PEM",
                         hint="the publication is corrupt; ask the publisher") from exc


def check_crl(pem: bytes, store: TrustStore) -> x509.CertificateRevocationList:
    """The CRL in `pem` if it may join `store`; a TrustError in words if not."""
    try:
        crl = x509.load_pem_x509_crl(pem)
    except ValueError as exc:
        raise ChainError("the file is not a valid PEM CRL",
                         hint="the publication is corrupt; ask the publisher") from exc
    extra = _parse_certs(pem)
    issuers = list(store.all_roots())
    for ca in extra:  # an intermediate CA's certificate, trusted only through a root
        for purpose in Purpose:
            try:
                build_path(ca, extra, store, purpose)
            except TrustError:
                continue
            issuers.append(ca)
            break
    alone = TrustStore(crls=[crl])
    issuer = next((ca for ca in issuers if alone.crl_for(ca) is not None), None)
    if issuer is None:
        raise UntrustedRootError(
            f"CRL check failed: the CRL of '{crl.issuer.rfc4514_string()}' is not signed by a "
            "CA this trust store knows", hint="a forged or corrupt CRL; ask the publisher")
    current = store.crl_for(issuer)
    if current is not None and crl.last_update_utc < current.last_update_utc:
        raise ChainError(
            f"CRL check failed: the CRL of '{common_name(issuer)}' was issued "
            f"{crl.last_update_utc:%Y-%m-%d %H:%M} UTC, before the one in use "
            f"({current.last_update_utc:%Y-%m-%d %H:%M} UTC): an older CRL could hide a "
            "revocation", hint="publish the CA's current CRL")
    return crl


def check_root_update(pem: bytes, store: TrustStore, purpose: Purpose) -> x509.Certificate:
    """The new root in `pem` (self-signed root, then its cross-certificate) if it may join
    `store` for `purpose`; a TrustError in words if not."""
    certs = _parse_certs(pem)
    root = next((c for c in certs if c.issuer == c.subject), None)
    cross = next((c for c in certs if c.issuer != c.subject), None)
    if root is None or cross is None:
        raise ChainError("a trust update holds a new root and its cross-certificate (PEM)",
                         hint="the publication is incomplete; ask the publisher")
    if cross.subject != root.subject or cross.public_key() != root.public_key():
        raise ChainError(
            f"trust update check failed: the cross-certificate is for "
            f"'{common_name(cross)}', not for the new root '{common_name(root)}'",
            hint="a forged or corrupt trust update; ask the publisher")
    try:
        root.verify_directly_issued_by(root)
    except Exception as exc:  # any parse or signature failure: not a self-signed root
        raise ChainError(f"trust update check failed: '{common_name(root)}' is not a valid "
                         "self-signed root", hint="a forged or corrupt trust update") from exc
    verify_cross_certificate(cross, store, purpose=purpose)
    return root
