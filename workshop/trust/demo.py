"""Demo PKI, one root per purpose as a real OEM and dealer network would have it:

    OEM root -> supplier CA -> code signer        (firmware packages, EKU codeSigning; the
                                                   supplier CA is restricted to it)
    OEM root -> OEM baseline signer               (baselines, EKU BASELINE_SIGNING)
    dealer root -> workstation                    (audit identity, EKU clientAuth)
    OEM root -> DoIP gateway                      (the simulated gateway's TLS server
                                                   certificate, EKU serverAuth)

trust/firmware/, trust/baseline/ and trust/doip-gateway/ hold the OEM root,
trust/workstation/ the dealer root, trust/*.crl one empty CRL per CA. Every certificate
carries organization DEMO_ORGANIZATION, which the services' trust policy admits only for
the simulator. Private keys are PKCS#8 encrypted with the passphrase; the per-user demo PKI
(created on first use under user_home()/pki) uses the documented constant DEMO_PASSPHRASE.

Creation runs under a file lock and ends by writing the COMPLETE marker, so processes
started together on a fresh home all end up with one and the same PKI.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from workshop.foundation.paths import atomic_write, file_lock, user_home
from workshop.trust import certs
from workshop.trust.certs import (
    CLIENT_AUTH,
    CODE_SIGNING,
    DEMO_ORGANIZATION,
    SERVER_AUTH,
    name,
)
from workshop.trust.keys import KeyType, PrivateKey, generate_key, load_key, save_key
from workshop.trust.purposes import BASELINE_SIGNING, Purpose

DEMO_PASSPHRASE = b"workshop-demo"  # demo only; never use for production keys
LAYOUT = b"3\n"  # 2: purpose folders and a baseline signer; 3: a DoIP gateway certificate


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
    def baseline_signer_key(self) -> Path:
        return self.folder / "keys" / "baseline-signer.key"

    @property
    def baseline_signer_chain(self) -> Path:
        return self.folder / "certs" / "baseline-signer-chain.pem"

    @property
    def workstation_cert(self) -> Path:
        return self.folder / "certs" / "workstation.pem"

    @property
    def gateway_key(self) -> Path:
        return self.folder / "keys" / "doip-gateway.key"

    @property
    def gateway_cert(self) -> Path:
        return self.folder / "certs" / "doip-gateway.pem"

    @property
    def complete_marker(self) -> Path:
        return self.folder / "COMPLETE"

    @property
    def lock_file(self) -> Path:
        folder = self.folder.resolve()
        return folder.parent / f".{folder.name}.lock"

    def is_complete(self) -> bool:
        try:
            return self.complete_marker.read_bytes() == LAYOUT
        except OSError:
            return False


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
    pki = DemoPki(Path(folder))
    with file_lock(pki.lock_file):
        _create(pki, passphrase, key_type)
    return pki


def _create(pki: DemoPki, passphrase: bytes, key_type: KeyType) -> None:
    folder, org = pki.folder, DEMO_ORGANIZATION
    pki.complete_marker.unlink(missing_ok=True)
    if pki.trust_dir.is_dir():  # layout 1 kept its roots at the top, which no longer loads
        for stale in pki.trust_dir.iterdir():
            if stale.is_file() and stale.suffix.lower() in (".pem", ".crt"):
                stale.unlink()
    keys = {label: generate_key(key_type) for label in (
        "oem-root", "supplier-ca", "code-signer", "baseline-signer", "dealer-root",
        "workstation", "doip-gateway")}
    root_name = name("Workshop Demo OEM Root CA", org)
    root = certs.issue(root_name, keys["oem-root"], root_name, keys["oem-root"], ca=True,
                       path_length=1, days=7300)
    sup_name = name("Workshop Demo Supplier CA", org)
    # The supplier CA may issue code signers only, never a baseline signer (EKU chaining).
    sup = certs.issue(sup_name, keys["supplier-ca"], root_name, keys["oem-root"], ca=True,
                      path_length=0, eku=[CODE_SIGNING])
    signer = certs.issue(name("Workshop Demo Code Signer", org), keys["code-signer"],
                         sup_name, keys["supplier-ca"], ca=False, eku=[CODE_SIGNING],
                         days=1825)
    baseline = certs.issue(name("Workshop Demo OEM Baseline Signer", org),
                           keys["baseline-signer"], root_name, keys["oem-root"], ca=False,
                           eku=[BASELINE_SIGNING], days=1825)
    dealer_name = name("Workshop Demo Dealer Root CA", org)
    dealer = certs.issue(dealer_name, keys["dealer-root"], dealer_name, keys["dealer-root"],
                         ca=True, path_length=0, days=7300)
    ws = certs.issue(name(f"workstation-{secrets.token_hex(4)}", org), keys["workstation"],
                     dealer_name, keys["dealer-root"], ca=False, eku=[CLIENT_AUTH], days=1825)
    gateway = certs.issue(name("Workshop Demo DoIP Gateway", org), keys["doip-gateway"],
                          root_name, keys["oem-root"], ca=False, eku=[SERVER_AUTH], days=1825)
    for label, key in keys.items():
        save_key(key, folder / "keys" / f"{label}.key", passphrase)
    for label, cert in {"oem-root": root, "supplier-ca": sup, "code-signer": signer,
                        "baseline-signer": baseline, "dealer-root": dealer,
                        "workstation": ws, "doip-gateway": gateway}.items():
        certs.save_cert(cert, folder / "certs" / f"{label}.pem")
    atomic_write(pki.signer_chain, certs.cert_pem(signer) + certs.cert_pem(sup))
    atomic_write(pki.baseline_signer_chain, certs.cert_pem(baseline))
    trust = pki.trust_dir
    certs.save_cert(root, trust / Purpose.FIRMWARE.folder / "oem-root.pem")
    certs.save_cert(root, trust / Purpose.BASELINE.folder / "oem-root.pem")
    certs.save_cert(dealer, trust / Purpose.WORKSTATION.folder / "dealer-root.pem")
    certs.save_cert(root, trust / Purpose.DOIP_GATEWAY.folder / "oem-root.pem")
    certs.save_crl(certs.make_crl(root, keys["oem-root"]), trust / "oem-root.crl")
    certs.save_crl(certs.make_crl(sup, keys["supplier-ca"]), trust / "supplier-ca.crl")
    certs.save_crl(certs.make_crl(dealer, keys["dealer-root"]), trust / "dealer-root.crl")
    atomic_write(pki.complete_marker, LAYOUT)  # last: the PKI is whole from here on


def user_demo_pki() -> DemoPki:
    """The per-user demo PKI, created on first use under user_home()/pki.

    Processes racing on a fresh home wait on the lock; the first creates the PKI, the
    others find it complete. A PKI left half-made (crash) or of an older layout is redone.
    """
    pki = DemoPki(user_home() / "pki")
    if pki.is_complete():
        return pki
    with file_lock(pki.lock_file):
        if not pki.is_complete():
            _create(pki, DEMO_PASSPHRASE, "p256")
    return pki


def demo_signer() -> Signer:
    """The demo code signer (firmware packages)."""
    pki = user_demo_pki()
    return Signer.load(pki.signer_key, pki.signer_chain, DEMO_PASSPHRASE)


def demo_baseline_signer() -> Signer:
    """The demo OEM baseline signer (baselines)."""
    pki = user_demo_pki()
    return Signer.load(pki.baseline_signer_key, pki.baseline_signer_chain, DEMO_PASSPHRASE)


def demo_gateway_identity() -> Signer:
    """The simulated DoIP gateway's TLS server key and certificate (OEM demo root)."""
    pki = user_demo_pki()
    return Signer.load(pki.gateway_key, pki.gateway_cert, DEMO_PASSPHRASE)
