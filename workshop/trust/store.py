"""Trust store: a folder of trusted root certificates (*.pem, *.crt) and CRLs (*.crl, PEM)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from workshop.trust.errors import KeyFileError


@dataclass
class TrustStore:
    roots: list[x509.Certificate] = field(default_factory=list)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    folder: Path | None = None

    @classmethod
    def load(cls, folder: Path) -> TrustStore:
        if not folder.is_dir():
            raise KeyFileError(f"trust store {folder} is not a folder",
                               hint="pass --trust DIR holding root certificates and CRLs")
        store = cls(folder=folder)
        for path in sorted(folder.iterdir()):
            suffix = path.suffix.lower()
            try:
                if suffix in (".pem", ".crt"):
                    store.roots.extend(x509.load_pem_x509_certificates(path.read_bytes()))
                elif suffix == ".crl":
                    store.crls.append(x509.load_pem_x509_crl(path.read_bytes()))
            except (ValueError, x509.InvalidVersion) as exc:
                raise KeyFileError(f"trust store file {path} is not valid PEM",
                                   hint="remove or replace the file") from exc
        return store

    def crl_for(self, issuer: x509.Certificate) -> x509.CertificateRevocationList | None:
        """The newest CRL issued (and correctly signed) by `issuer`, if any."""
        found = [c for c in self.crls if c.issuer == issuer.subject
                 and c.is_signature_valid(issuer.public_key())]  # type: ignore[arg-type]
        return max(found, key=lambda c: c.last_update_utc) if found else None
