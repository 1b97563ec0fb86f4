"""Demo PKI: OEM root -> supplier CA -> code signer, dealer root -> workstation, empty CRLs.

The demo root carries organization DEMO_ORGANIZATION and is trusted only for the simulator.
Private keys are PKCS#8 encrypted with the passphrase; the per-user demo PKI (created on
first use under user_home()/pki) uses the documented constant DEMO_PASSPHRASE.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from workshop.foundation.paths import atomic_write, user_home
from workshop.trust import certs
from workshop.trust.certs import CLIENT_AUTH, CODE_SIGNING, DEMO_ORGANIZATION, name
from workshop.trust.keys import KeyType, PrivateKey, generate_key, load_key, save_key

DEMO_PASSPHRASE = b"workshop-demo"  # demo only; never use for production keys


@dataclass(frozen=True)
class DemoPki:
    folder: Path

    @property
    def trust_dir(self) -> Path:
        return self.folder / "trust"

    @property
    def signer_key(self) -> Path:
        return self.folder / "keys" / "code-signer.key"

    @property
    def signer_chain(self) -> Path:
        return self.folder / "certs" / "code-signer-chain.pem"

    @property
    def workstation_cert(self) -> Path:
        return self.folder / "certs" / "workstation.pem"


@dataclass(frozen=True)
class Signer:
    key: PrivateKey
    chain: list[x509.Certificate]  # leaf first

    @classmethod
    def load(cls, key_path: Path, chain_path: Path, passphrase: bytes | None) -> Signer:
        return cls(load_key(key_path, passphrase), certs.load_certs(chain_path))

    def chain_pem(self) -> bytes:
        return b"".join(certs.cert_pem(c) for c in self.chain)


def demo_init(folder: Path, passphrase: bytes, *, key_type: KeyType = "p256") -> DemoPki:
    """Create a complete demo PKI in `folder` (overwrites an existing demo PKI there)."""
    folder = Path(folder)
    org = DEMO_ORGANIZATION
    root_key, sup_key, sign_key = generate_key(key_type), generate_key(key_type), \
        generate_key(key_type)
    dealer_key, ws_key = generate_key(key_type), generate_key(key_type)
    root_name = name("Workshop Demo OEM Root CA", org)
    root = certs.issue(root_name, root_key, root_name, root_key, ca=True, path_length=1,
                       days=7300)
    sup_name = name("Workshop Demo Supplier CA", org)
    sup = certs.issue(sup_name, sup_key, root_name, root_key, ca=True, path_length=0)
    signer = certs.issue(name("Workshop Demo Code Signer", org), sign_key, sup_name, sup_key,
                         ca=False, eku=[CODE_SIGNING], days=1825)
    dealer_name = name("Workshop Demo Dealer Root CA", org)
    dealer = certs.issue(dealer_name, dealer_key, dealer_name, dealer_key, ca=True,
                         path_length=0, days=7300)
    ws_name = name(f"workstation-{secrets.token_hex(4)}", org)
    ws = certs.issue(ws_name, ws_key, dealer_name, dealer_key,
                     ca=False, eku=[CLIENT_AUTH], days=1825)
    pki = DemoPki(folder)
    keys = {"oem-root": root_key, "supplier-ca": sup_key, "code-signer": sign_key,
            "dealer-root": dealer_key, "workstation": ws_key}
    for label, key in keys.items():
        save_key(key, folder / "keys" / f"{label}.key", passphrase)
    for label, cert in {"oem-root": root, "supplier-ca": sup, "code-signer": signer,
                        "dealer-root": dealer, "workstation": ws}.items():
        certs.save_cert(cert, folder / "certs" / f"{label}.pem")
    atomic_write(pki.signer_chain, certs.cert_pem(signer) + certs.cert_pem(sup))
    certs.save_cert(root, pki.trust_dir / "oem-root.pem")
    certs.save_cert(dealer, pki.trust_dir / "dealer-root.pem")
    certs.save_crl(certs.make_crl(root, root_key), pki.trust_dir / "oem-root.crl")
    certs.save_crl(certs.make_crl(sup, sup_key), pki.trust_dir / "supplier-ca.crl")
    certs.save_crl(certs.make_crl(dealer, dealer_key), pki.trust_dir / "dealer-root.crl")
    return pki


def user_demo_pki() -> DemoPki:
    """The per-user demo PKI, created on first use under user_home()/pki."""
    pki = DemoPki(user_home() / "pki")
    if not pki.signer_chain.exists():
        demo_init(pki.folder, DEMO_PASSPHRASE)
    return pki


def demo_signer() -> Signer:
    pki = user_demo_pki()
    return Signer.load(pki.signer_key, pki.signer_chain, DEMO_PASSPHRASE)
