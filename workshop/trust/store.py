"""Trust store: a folder whose sub-folders hold the trusted roots of each purpose, plus CRLs.

    trust/
      firmware/      roots for firmware packages (code signing)
      baseline/      roots for approved baselines (baseline signing)
      workstation/   dealer roots for workstation (audit) identities
      doip-gateway/  roots for vehicles' DoIP gateways (TLS server certificates)
      *.crl          CRLs (PEM) of every CA, at the top or in any of the sub-folders

Roots are `*.pem` / `*.crt` (PEM). A root trusted for two purposes is copied into both
folders. A certificate at the top level, or an unknown sub-folder, is refused: it would
otherwise be unclear what that root may vouch for.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography import x509

from workshop.trust.certs import is_demo
from workshop.trust.errors import KeyFileError
from workshop.trust.purposes import Purpose

CERT_SUFFIXES = (".pem", ".crt")
CRL_SUFFIX = ".crl"


@dataclass
class TrustStore:
    roots: dict[Purpose, list[x509.Certificate]] = field(default_factory=dict)
    crls: list[x509.CertificateRevocationList] = field(default_factory=list)
    folder: Path | None = None

    @classmethod
    def load(cls, folder: Path) -> TrustStore:
        if not folder.is_dir():
            raise KeyFileError(f"trust store {folder} is not a folder",
                               hint="pass --trust DIR holding firmware/, baseline/ and "
                                    "workstation/ root folders and CRLs")
        store = cls(folder=folder)
        for path in sorted(folder.iterdir()):
            if path.name.startswith("."):
                continue
            if path.is_dir():
                purpose = Purpose.by_folder(path.name)
                if purpose is None:
                    raise KeyFileError(
                        f"trust store folder {path} is not a purpose",
                        hint="use only the sub-folders " + ", ".join(
                            f"{p.folder}/" for p in Purpose))
                for item in sorted(path.iterdir()):
                    store._load_file(item, purpose)
            elif path.suffix.lower() in CERT_SUFFIXES:
                raise KeyFileError(
                    f"trust store file {path} is a root certificate outside a purpose folder",
                    hint="move it into firmware/, baseline/, workstation/ or doip-gateway/ "
                         "(copy it into each purpose the root may vouch for)")
            else:
                store._load_file(path, None)
        return store

    def _load_file(self, path: Path, purpose: Purpose | None) -> None:
        suffix = path.suffix.lower()
        try:
            if suffix in CERT_SUFFIXES and purpose is not None:
                self.roots.setdefault(purpose, []).extend(
                    x509.load_pem_x509_certificates(path.read_bytes()))
            elif suffix == CRL_SUFFIX:
                self.crls.append(x509.load_pem_x509_crl(path.read_bytes()))
        except (ValueError, x509.InvalidVersion) as exc:
            raise KeyFileError(f"trust store file {path} is not valid PEM",
                               hint="remove or replace the file") from exc
        except OSError as exc:
            raise KeyFileError(f"cannot read trust store file {path}: {exc.strerror}",
                               hint="check the file's permissions") from exc

    def roots_for(self, purpose: Purpose) -> list[x509.Certificate]:
        return list(self.roots.get(purpose, ()))

    def purposes_of(self, root: x509.Certificate) -> list[Purpose]:
        return [p for p in Purpose if root in self.roots.get(p, ())]

    def all_roots(self) -> list[x509.Certificate]:
        out: list[x509.Certificate] = []
        for purpose in Purpose:
            out.extend(c for c in self.roots.get(purpose, ()) if c not in out)
        return out

    def merged(self, other: TrustStore) -> TrustStore:
        """Both stores' roots (per purpose) and CRLs."""
        roots = {p: self.roots_for(p) + [c for c in other.roots_for(p)
                                         if c not in self.roots_for(p)] for p in Purpose}
        return TrustStore(roots, [*self.crls, *other.crls], self.folder or other.folder)

    def without_demo_roots(self) -> TrustStore:
        roots = {p: [c for c in certs if not is_demo(c)] for p, certs in self.roots.items()}
        return replace(self, roots=roots)

    def crl_for(self, issuer: x509.Certificate) -> x509.CertificateRevocationList | None:
        """The newest CRL issued (and correctly signed) by `issuer`, if any; of two issued
        the same second, the one revoking more (a revocation is never lost to a tie)."""
        found = [c for c in self.crls if c.issuer == issuer.subject
                 and c.is_signature_valid(issuer.public_key())]  # type: ignore[arg-type]
        return max(found, key=lambda c: (c.last_update_utc, len(c))) if found else None
