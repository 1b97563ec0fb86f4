"""B2: each purpose trusts only its own roots and its own extended key usage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from workshop.cli import main
from workshop.foundation.paths import resources_dir
from workshop.trust import certs
from workshop.trust.chain import verify_chain
from workshop.trust.demo import DEMO_PASSPHRASE, DemoPki, Signer, user_demo_pki
from workshop.trust.errors import KeyUsageError, TrustError, UntrustedRootError
from workshop.trust.keys import generate_key, load_key, save_key
from workshop.trust.purposes import BASELINE_SIGNING, Purpose
from workshop.trust.store import TrustStore

CODE, CLIENT = ExtendedKeyUsageOID.CODE_SIGNING, ExtendedKeyUsageOID.CLIENT_AUTH
PACKAGE_SPEC = resources_dir() / "packages" / "engine-1.1.0.toml"
BASELINE_SPEC = resources_dir() / "baselines" / "demo-car-2026.11.toml"


def _ca(pki: DemoPki, label: str) -> tuple[x509.Certificate, object]:
    cert = certs.load_certs(pki.folder / "certs" / f"{label}.pem")[0]
    return cert, load_key(pki.folder / "keys" / f"{label}.key", DEMO_PASSPHRASE)


def mint(pki: DemoPki, issuer: str, eku: list[x509.ObjectIdentifier]) -> Signer:
    """A leaf certificate issued by one of the demo PKI's CAs (an attacker holding that key)."""
    cert, key = _ca(pki, issuer)
    chain = [] if issuer.endswith("root") else [cert]
    leaf_key = generate_key()
    leaf = certs.issue(certs.name(f"minted by {issuer}", certs.DEMO_ORGANIZATION), leaf_key,
                       cert.subject, key, ca=False, eku=eku)  # type: ignore[arg-type]
    return Signer(leaf_key, [leaf, *chain])


def _demo(pki: DemoPki, label: str) -> Signer:
    paths = {"code-signer": (pki.signer_key, pki.signer_chain),
             "baseline-signer": (pki.baseline_signer_key, pki.baseline_signer_chain),
             "workstation": (pki.folder / "keys/workstation.key", pki.workstation_cert)}
    return Signer.load(*paths[label], DEMO_PASSPHRASE)


SIGNERS = {
    # name: (how to get it, purposes that must accept it)
    "oem-code-signer": (lambda p: _demo(p, "code-signer"), {Purpose.FIRMWARE}),
    "oem-root-code-signer": (lambda p: mint(p, "oem-root", [CODE]), {Purpose.FIRMWARE}),
    "oem-baseline-signer": (lambda p: _demo(p, "baseline-signer"), {Purpose.BASELINE}),
    "dealer-workstation": (lambda p: _demo(p, "workstation"), {Purpose.WORKSTATION}),
    "dealer-root-code-signer": (lambda p: mint(p, "dealer-root", [CODE]), set()),
    "dealer-root-baseline-signer": (lambda p: mint(p, "dealer-root", [BASELINE_SIGNING]),
                                    set()),
    "oem-root-workstation": (lambda p: mint(p, "oem-root", [CLIENT]), set()),
    "supplier-ca-baseline-signer": (lambda p: mint(p, "supplier-ca", [BASELINE_SIGNING]),
                                    set()),
    "supplier-ca-workstation": (lambda p: mint(p, "supplier-ca", [CLIENT]), set()),
    "oem-root-every-usage": (lambda p: mint(p, "oem-root", [CODE, BASELINE_SIGNING, CLIENT]),
                             {Purpose.FIRMWARE, Purpose.BASELINE}),
}


def test_purpose_knows_its_folder_and_eku() -> None:
    assert [(p.folder, p.eku) for p in Purpose] == [
        ("firmware", CODE), ("baseline", BASELINE_SIGNING), ("workstation", CLIENT),
        ("doip-gateway", ExtendedKeyUsageOID.SERVER_AUTH)]
    assert BASELINE_SIGNING.dotted_string.startswith("2.25.")  # UUID OID, ITU-T X.667


@pytest.mark.parametrize("purpose", list(Purpose), ids=lambda p: p.folder)
@pytest.mark.parametrize("signer_name", sorted(SIGNERS))
def test_every_signer_against_every_purpose(signer_name: str, purpose: Purpose) -> None:
    pki = user_demo_pki()
    make, accepted_for = SIGNERS[signer_name]
    signer = make(pki)
    store = TrustStore.load(pki.trust_dir)
    if purpose in accepted_for:
        assert verify_chain(signer.chain, store, purpose=purpose).purpose is purpose
    else:
        with pytest.raises((UntrustedRootError, KeyUsageError)):
            verify_chain(signer.chain, store, purpose=purpose)


def test_wrong_root_names_the_purpose_it_serves() -> None:
    pki = user_demo_pki()
    store = TrustStore.load(pki.trust_dir)
    with pytest.raises(UntrustedRootError, match=r"trusted for workstation only, not for "
                                                 r"firmware \(code signing\)"):
        verify_chain(mint(pki, "dealer-root", [CODE]).chain, store, purpose=Purpose.FIRMWARE)


def _write_signer(signer: Signer, folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    save_key(signer.key, folder / "key.pem", b"pw")
    (folder / "chain.pem").write_bytes(signer.chain_pem())
    return ["--key", str(folder / "key.pem"), "--cert", str(folder / "chain.pem")]


def _package_verdict(signer_args: list[str], out: Path,
                     capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    assert main(["package", "build", str(PACKAGE_SPEC), "--out", str(out), *signer_args]) == 0
    capsys.readouterr()
    code = main(["package", "verify", str(out), "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_dealer_root_code_signer_cannot_sign_firmware(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WORKSHOP_KEY_PASSPHRASE", "pw")
    signer = mint(user_demo_pki(), "dealer-root", [CODE])
    code, report = _package_verdict(_write_signer(signer, tmp_path / "k"), tmp_path / "p.wspkg",
                                    capsys)
    assert code == 1 and not report["ok"]
    chain_check = next(c for c in report["checks"] if c["check"] == "chain")  # type: ignore[union-attr]
    assert chain_check["passed"] is False and "not for firmware" in chain_check["detail"]


def test_baseline_signer_cannot_sign_firmware(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WORKSHOP_KEY_PASSPHRASE", DEMO_PASSPHRASE.decode())
    pki = user_demo_pki()
    args = ["--key", str(pki.baseline_signer_key), "--cert", str(pki.baseline_signer_chain)]
    code, report = _package_verdict(args, tmp_path / "p.wspkg", capsys)
    assert code == 1
    chain_check = next(c for c in report["checks"] if c["check"] == "chain")  # type: ignore[union-attr]
    assert "not allowed for code signing" in chain_check["detail"]


def test_code_signing_certificate_cannot_sign_a_baseline(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("WORKSHOP_KEY_PASSPHRASE", DEMO_PASSPHRASE.decode())
    pki = user_demo_pki()
    out = tmp_path / "b.baseline"
    assert main(["baseline", "sign", str(BASELINE_SPEC), "--out", str(out), "--key",
                 str(pki.signer_key), "--cert", str(pki.signer_chain)]) == 0
    capsys.readouterr()
    code = main(["--channel", f"purpose-{tmp_path.name}", "baseline", "check", "--baseline",
                 str(out), "--json"])
    answer = json.loads(capsys.readouterr().out)
    assert code == 1 and "ecus" not in answer
    assert "extended-key-usage check failed" in answer["message"]
    assert "baseline signing" in answer["message"]


def test_demo_workstation_is_no_firmware_or_baseline_signer() -> None:
    pki = user_demo_pki()
    store = TrustStore.load(pki.trust_dir)
    for purpose in (Purpose.FIRMWARE, Purpose.BASELINE):
        with pytest.raises(TrustError):
            verify_chain(_demo(pki, "workstation").chain, store, purpose=purpose)
