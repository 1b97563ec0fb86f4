from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.trust.pki_factory import make_ca, make_root, make_signer, write_store
from workshop.trust.chain import verify_chain
from workshop.trust.demo import (
    DEMO_PASSPHRASE,
    Signer,
    demo_baseline_signer,
    demo_init,
    demo_signer,
    user_demo_pki,
)
from workshop.trust.errors import (
    CertificateExpiredError,
    CertificateNotYetValidError,
    CertificateRevokedError,
    KeyFileError,
    KeyUsageError,
    PathLengthError,
    SignatureInvalidError,
    UntrustedRootError,
)
from workshop.trust.keys import sign, verify_signature
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore

NOW = dt.datetime.now(dt.UTC)
FIRMWARE = Purpose.FIRMWARE


@pytest.mark.parametrize("kind", ["p256", "ed25519"])
def test_good_chain_verifies(tmp_path: Path, kind: str) -> None:
    root = make_root(kind=kind)  # type: ignore[arg-type]
    sup = make_ca(root, kind=kind)  # type: ignore[arg-type]
    signer = make_signer(sup, sup, kind=kind)  # type: ignore[arg-type]
    store = TrustStore.load(write_store(tmp_path / "t", [root], [(root, []), (sup, [])]))
    chain = verify_chain(signer.chain, store, purpose=FIRMWARE)
    assert chain.root == root.cert
    sig = sign(signer.key, b"data")
    verify_signature(chain.leaf.public_key(), sig, b"data")
    with pytest.raises(SignatureInvalidError, match="signature check failed"):
        verify_signature(chain.leaf.public_key(), sig, b"datA")


def test_untrusted_root(tmp_path: Path) -> None:
    root, other = make_root(), make_root("Other Root")
    signer = make_signer(make_ca(root), make_ca(root))
    store = TrustStore.load(write_store(tmp_path / "t", [other]))
    with pytest.raises(UntrustedRootError, match="trusted-root check failed"):
        verify_chain(signer.chain, store, purpose=FIRMWARE)


def test_expired_and_not_yet_valid(tmp_path: Path) -> None:
    root = make_root()
    store = TrustStore.load(write_store(tmp_path / "t", [root]))
    old = make_signer(root, not_before=NOW - dt.timedelta(days=30), days=10)
    with pytest.raises(CertificateExpiredError, match=r"validity check failed.*expired"):
        verify_chain(old.chain, store, purpose=FIRMWARE)
    future = make_signer(root, not_before=NOW + dt.timedelta(days=3))
    with pytest.raises(CertificateNotYetValidError, match="not valid before"):
        verify_chain(future.chain, store, purpose=FIRMWARE)


def test_revoked(tmp_path: Path) -> None:
    root = make_root()
    sup = make_ca(root)
    signer = make_signer(sup, sup)
    store = TrustStore.load(write_store(tmp_path / "t", [root],
                                        [(sup, [signer.chain[0].serial_number])]))
    with pytest.raises(CertificateRevokedError, match="revocation check failed"):
        verify_chain(signer.chain, store, purpose=FIRMWARE)


def test_no_code_signing_usage(tmp_path: Path) -> None:
    root = make_root()
    store = TrustStore.load(write_store(tmp_path / "t", [root]))
    signer = make_signer(root, eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    with pytest.raises(KeyUsageError, match=r"extended-key-usage check failed.*code signing"):
        verify_chain(signer.chain, store, purpose=FIRMWARE)


def test_path_length_exceeded(tmp_path: Path) -> None:
    root = make_root(path_length=0)
    sup = make_ca(root)
    signer = make_signer(sup, sup)
    store = TrustStore.load(write_store(tmp_path / "t", [root]))
    with pytest.raises(PathLengthError, match="path-length check failed"):
        verify_chain(signer.chain, store, purpose=FIRMWARE)


def test_demo_pki_serves_each_purpose(workshop_home: Path) -> None:
    signer = demo_signer()
    pki = user_demo_pki()
    assert pki.folder == workshop_home / "pki"
    store = TrustStore.load(pki.trust_dir)
    assert verify_chain(signer.chain, store, purpose=FIRMWARE).root.subject == \
        verify_chain(demo_baseline_signer().chain, store, purpose=Purpose.BASELINE).root.subject
    ws = Signer.load(pki.folder / "keys/workstation.key", pki.workstation_cert, DEMO_PASSPHRASE)
    verify_chain(ws.chain, store, purpose=Purpose.WORKSTATION)
    with pytest.raises(UntrustedRootError, match="not a firmware root"):
        verify_chain(signer.chain, store.without_demo_roots(), purpose=FIRMWARE)


def test_demo_init_keys_encrypted(tmp_path: Path) -> None:
    pki = demo_init(tmp_path / "pki", b"s3cret", key_type="ed25519")
    assert b"ENCRYPTED" in pki.signer_key.read_bytes()
    with pytest.raises(KeyFileError, match="wrong passphrase"):
        Signer.load(pki.signer_key, pki.signer_chain, b"wrong")
    Signer.load(pki.signer_key, pki.signer_chain, b"s3cret")
