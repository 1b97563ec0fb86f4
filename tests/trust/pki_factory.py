"""Test PKI factory: real keys, real certificates, configurable defects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from workshop.trust import certs
from workshop.trust.certs import CODE_SIGNING, name
from workshop.trust.demo import Signer
from workshop.trust.keys import KeyType, PrivateKey, generate_key
from workshop.trust.purposes import Purpose


@dataclass
class CA:
    cert: x509.Certificate
    key: PrivateKey


def make_root(cn: str = "Test OEM Root", kind: KeyType = "p256", path_length: int = 1,
              org: str = "Test OEM") -> CA:
    key = generate_key(kind)
    n = name(cn, org)
    return CA(certs.issue(n, key, n, key, ca=True, path_length=path_length), key)


def make_ca(parent: CA, cn: str = "Test Supplier CA", kind: KeyType = "p256",
            path_length: int = 0) -> CA:
    key = generate_key(kind)
    return CA(certs.issue(name(cn, "Test"), key, parent.cert.subject, parent.key, ca=True,
                          path_length=path_length), key)


def make_signer(parent: CA, *intermediates: CA, cn: str = "Test Code Signer",
                kind: KeyType = "p256", eku: list[x509.ObjectIdentifier] | None = None,
                not_before: dt.datetime | None = None, days: int = 365) -> Signer:
    key = generate_key(kind)
    cert = certs.issue(name(cn, "Test"), key, parent.cert.subject, parent.key, ca=False,
                       eku=[CODE_SIGNING] if eku is None else eku, not_before=not_before,
                       days=days)
    return Signer(key, [cert, *(i.cert for i in intermediates)])


def write_store(folder: Path, roots: list[CA],
                crls: Sequence[tuple[CA, list[int]]] | None = None, *,
                purpose: Purpose = Purpose.FIRMWARE) -> Path:
    """A trust store with `roots` serving `purpose`. `crls`: (issuer, revoked serials) each;
    None gives every root an empty CRL (intermediates then need their own, or fail)."""
    folder.mkdir(parents=True, exist_ok=True)
    add_roots(folder, purpose, roots)
    for i, (issuer, serials) in enumerate([(r, []) for r in roots] if crls is None else crls):
        certs.save_crl(certs.make_crl(issuer.cert, issuer.key, serials), folder / f"ca{i}.crl")
    return folder


def add_roots(folder: Path, purpose: Purpose, roots: list[CA]) -> None:
    for root in roots:
        serial = f"{root.cert.serial_number:x}"
        certs.save_cert(root.cert, folder / purpose.folder / f"root-{serial}.pem")


def add_crl(folder: Path, issuer: CA, revoked: Sequence[int] = ()) -> None:
    serial = f"{issuer.cert.serial_number:x}"
    certs.save_crl(certs.make_crl(issuer.cert, issuer.key, revoked), folder / f"{serial}.crl")
