"""Trust failures; each message names the check that failed."""

from __future__ import annotations

from workshop.foundation.errors import WorkshopError


class TrustError(WorkshopError):
    """A certificate, chain, key or signature could not be trusted."""


class UntrustedRootError(TrustError):
    """The chain does not end at a root in the trust store for the purpose at hand."""


class ChainError(TrustError):
    """The chain is malformed: a certificate is not issued by the next one, or is not a CA."""


class CertificateExpiredError(TrustError):
    """A certificate is outside its validity window (expired or not yet valid)."""


class CertificateNotYetValidError(CertificateExpiredError):
    """A certificate's notBefore lies in the future."""


class CertificateRevokedError(TrustError):
    """A certificate is listed on its issuer's CRL."""


class RevocationUnavailableError(TrustError):
    """The revocation status cannot be established: no CRL from the issuer, or an old one."""


class KeyUsageError(TrustError):
    """A certificate lacks the key usage / extended key usage the operation needs."""


class PathLengthError(TrustError):
    """A CA's basicConstraints path length is exceeded."""


class SignatureInvalidError(TrustError):
    """A signature does not verify against the signer's public key."""


class KeyFileError(TrustError):
    """A private key or certificate file is missing, malformed or the passphrase is wrong."""
