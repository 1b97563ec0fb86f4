"""Pulling CRLs and trust-store updates: each is checked against the trust store in use before
it joins it; a pulled CRL that revokes a signer makes that signer's files refused locally; a
forged, corrupt or older CRL, or a forged trust update, is refused and the old stays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509

from tests.store.helpers import PASSWORD, role_dsn, workstation
from workshop.packages.baseline import load_baseline
from workshop.packages.errors import PackageSignatureError
from workshop.services.baseline_check import baseline_store, ensure_demo_material
from workshop.services.sync import pull_now
from workshop.services.trust_policy import trust_store
from workshop.store.admin import enroll
from workshop.store.migrations import init_store
from workshop.store.session import StoreSession
from workshop.transport.adapters import AdapterConfig
from workshop.trust import certs
from workshop.trust.demo import DEMO_PASSPHRASE, user_demo_pki
from workshop.trust.keys import generate_key, load_key
from workshop.trust.location import pulled_trust_dir
from workshop.trust.purposes import Purpose


def _oem_root() -> tuple[x509.Certificate, object]:
    pki = user_demo_pki()
    root = x509.load_pem_x509_certificate((pki.folder / "certs" / "oem-root.pem").read_bytes())
    return root, load_key(pki.folder / "keys" / "oem-root.key", DEMO_PASSPHRASE)


def _crl_pem(crl: x509.CertificateRevocationList) -> bytes:
    from cryptography.hazmat.primitives import serialization
    return crl.public_bytes(serialization.Encoding.PEM)


@pytest.fixture
def stores(store_db: str, unique: str) -> tuple[str, str]:
    init_store(store_db)
    enroll(store_db, "publisher", f"pub-{unique}", password=PASSWORD)
    _, ws_dsn = workstation(store_db, f"ws-{unique}")
    return role_dsn(store_db, f"pub-{unique}"), ws_dsn


def _publish(pub_dsn: str, kind: str, name: str, content: bytes) -> None:
    with StoreSession(pub_dsn) as publisher:
        publisher.publish(kind, name, content)


def test_a_pulled_crl_revokes_a_signer_and_a_bad_crl_is_refused(
        stores: tuple[str, str]) -> None:
    pub_dsn, ws_dsn = stores
    ensure_demo_material("demo-car")
    baseline = next(baseline_store().glob("*.baseline"))
    load_baseline(baseline, trust_store(AdapterConfig()))  # verifies before
    root, root_key = _oem_root()
    signer = certs.load_certs(user_demo_pki().baseline_signer_chain)[0]
    stranger = generate_key("p256")
    forged = certs.make_crl(root, stranger, [signer.serial_number])  # root's name, other key
    _publish(pub_dsn, "crl", "oem-root.crl", _crl_pem(forged))
    _publish(pub_dsn, "crl", "broken.crl", b"-----BEGIN X509 CRL-----\nAAAA\n")
    first = pull_now(ws_dsn)
    assert first.pulled == [] and len(first.refused) == 2
    assert any("broken.crl: the file is not a valid PEM CRL" in r for r in first.refused)
    assert any("oem-root.crl: CRL check failed" in r and "not signed by a CA" in r
               for r in first.refused)
    assert not list(pulled_trust_dir().glob("*.crl"))
    load_baseline(baseline, trust_store(AdapterConfig()))  # still trusted

    older = (x509.CertificateRevocationListBuilder().issuer_name(root.subject)
             .last_update(certs.utcnow() - dt.timedelta(days=30))
             .next_update(certs.utcnow() + dt.timedelta(days=30))
             .sign(root_key, certs._hash_for(root_key)))  # type: ignore[arg-type]
    revoking = certs.make_crl(root, root_key, [signer.serial_number])  # type: ignore[arg-type]
    _publish(pub_dsn, "crl", "oem-root.crl", _crl_pem(revoking))
    second = pull_now(ws_dsn)
    assert "oem-root.crl" in second.pulled
    with pytest.raises(PackageSignatureError, match=r"revocation check failed.*was revoked"):
        load_baseline(baseline, trust_store(AdapterConfig()))
    # a replay of an older CRL (without the revocation) is refused: the revocation stays
    _publish(pub_dsn, "crl", "oem-root.crl", _crl_pem(older))
    third = pull_now(ws_dsn)
    assert any("oem-root.crl" in r and "before the one in use" in r for r in third.refused)
    assert (pulled_trust_dir() / "oem-root.crl").read_bytes() == _crl_pem(revoking)
    with pytest.raises(PackageSignatureError, match="revoked"):
        load_baseline(baseline, trust_store(AdapterConfig()))


def test_a_trust_update_joins_only_with_a_cross_certificate_from_a_trusted_root(
        stores: tuple[str, str]) -> None:
    pub_dsn, ws_dsn = stores
    root, root_key = _oem_root()
    new_key = generate_key("p256")
    new_name = certs.name("Workshop Demo OEM Root CA 2", certs.DEMO_ORGANIZATION)
    new_root = certs.issue(new_name, new_key, new_name, new_key, ca=True, path_length=1)
    cross = certs.issue(new_name, new_key, root.subject, root_key, ca=True,  # type: ignore[arg-type]
                        path_length=1)
    stranger = generate_key("p256")
    forged_cross = certs.issue(new_name, new_key, root.subject, stranger, ca=True)
    _publish(pub_dsn, "trust", "baseline.forged-root.pem",
             certs.cert_pem(new_root) + certs.cert_pem(forged_cross))
    _publish(pub_dsn, "trust", "baseline.bare-root.pem", certs.cert_pem(new_root))
    _publish(pub_dsn, "trust", "elsewhere.root.pem",
             certs.cert_pem(new_root) + certs.cert_pem(cross))
    refused = pull_now(ws_dsn)
    assert refused.pulled == [] and len(refused.refused) == 3, refused.refused
    assert any("forged-root" in r and "trusted-root check failed" in r for r in refused.refused)
    assert any("bare-root" in r and "cross-certificate" in r for r in refused.refused)
    assert any("elsewhere.root.pem: a trust update is named" in r for r in refused.refused)
    assert new_root not in trust_store(AdapterConfig()).roots_for(Purpose.BASELINE)

    _publish(pub_dsn, "trust", "baseline.oem-root-2.pem",
             certs.cert_pem(new_root) + certs.cert_pem(cross))
    pulled = pull_now(ws_dsn)
    assert pulled.pulled == ["baseline.oem-root-2.pem"]
    trust = trust_store(AdapterConfig())
    assert new_root in trust.roots_for(Purpose.BASELINE)
    assert new_root not in trust.roots_for(Purpose.FIRMWARE)
    again = pull_now(ws_dsn)
    assert again.pulled == [] and again.unchanged >= 1
    assert Path(pulled_trust_dir() / "baseline" / "baseline.oem-root-2.pem").exists()
