"""B4: revocation cannot be skipped: a missing CRL is a failure that names the issuer."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from tests.trust.pki_factory import CA, add_crl, make_ca, make_root, make_signer, write_store
from workshop.cli import main
from workshop.foundation.paths import resources_dir
from workshop.trust import certs
from workshop.trust.chain import verify_chain
from workshop.trust.demo import user_demo_pki
from workshop.trust.errors import RevocationUnavailableError
from workshop.trust.purposes import Purpose
from workshop.trust.store import TrustStore


def test_package_verify_fails_without_the_supplier_crl(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "engine.wspkg"
    spec = resources_dir() / "packages" / "engine-1.1.0.toml"
    assert main(["package", "build", str(spec), "--out", str(out)]) == 0
    trust = tmp_path / "trust"
    shutil.copytree(user_demo_pki().trust_dir, trust)
    (trust / "supplier-ca.crl").unlink()
    capsys.readouterr()
    assert main(["package", "verify", str(out), "--trust", str(trust), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    chain = next(c for c in report["checks"] if c["check"] == "chain")
    assert chain["passed"] is False
    assert chain["detail"].startswith("revocation check failed: no CRL from "
                                      "'Workshop Demo Supplier CA' in the trust store")


def _chain(tmp_path: Path) -> tuple[CA, CA, list, Path]:  # type: ignore[type-arg]
    root = make_root()
    sup = make_ca(root)
    signer = make_signer(sup, sup)
    return root, sup, signer.chain, write_store(tmp_path / "t", [root], crls=[])


def test_every_issuer_needs_its_crl(tmp_path: Path) -> None:
    root, sup, chain, folder = _chain(tmp_path)
    with pytest.raises(RevocationUnavailableError, match="no CRL from 'Test Supplier CA'"):
        verify_chain(chain, TrustStore.load(folder), purpose=Purpose.FIRMWARE)
    add_crl(folder, sup)
    with pytest.raises(RevocationUnavailableError, match="no CRL from 'Test OEM Root'"):
        verify_chain(chain, TrustStore.load(folder), purpose=Purpose.FIRMWARE)
    add_crl(folder, root)
    verify_chain(chain, TrustStore.load(folder), purpose=Purpose.FIRMWARE)


def test_a_crl_not_signed_by_the_issuer_counts_as_missing(tmp_path: Path) -> None:
    root, sup, chain, folder = _chain(tmp_path)
    add_crl(folder, root)
    impostor = CA(sup.cert, make_ca(root).key)  # right name, wrong key
    certs.save_crl(certs.make_crl(impostor.cert, impostor.key), folder / "forged.crl")
    with pytest.raises(RevocationUnavailableError, match="no CRL from 'Test Supplier CA'"):
        verify_chain(chain, TrustStore.load(folder), purpose=Purpose.FIRMWARE)


def test_an_out_of_date_crl_fails(tmp_path: Path) -> None:
    root, sup, chain, folder = _chain(tmp_path)
    add_crl(folder, root)
    certs.save_crl(certs.make_crl(sup.cert, sup.key, days=1), folder / "short.crl")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    with pytest.raises(RevocationUnavailableError, match="out of date"):
        verify_chain(chain, TrustStore.load(folder), purpose=Purpose.FIRMWARE, at=later)
