from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography.x509.oid import ExtendedKeyUsageOID

from tests.packages.helpers import entries, resign, rewrite, write_spec
from tests.trust.pki_factory import CA, make_ca, make_root, make_signer, write_store
from workshop.packages import images
from workshop.packages.build import build_package
from workshop.packages.errors import (
    DeltaBaseMissingError,
    DuplicateEntryError,
    EcuMismatchError,
    PathEscapeError,
    PayloadSizeError,
)
from workshop.packages.verify import VerifiedPackage, check_ecus, open_verified, verify_package
from workshop.trust.demo import Signer
from workshop.trust.store import TrustStore

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[CA, CA, Signer, TrustStore]:
    root = make_root()
    sup = make_ca(root)
    signer = make_signer(sup, sup)
    folder = write_store(tmp_path_factory.mktemp("trust"), [root], [(root, []), (sup, [])])
    return root, sup, signer, TrustStore.load(folder)


@pytest.fixture
def good(tmp_path: Path, pki: tuple[CA, CA, Signer, TrustStore]) -> Path:
    out = tmp_path / "good.zip"
    build_package(write_spec(tmp_path), out, pki[2])
    return out


def failed(pkg: Path, store: TrustStore, check: str, text: str, home: Path) -> None:
    report = verify_package(pkg, store, allow_demo_root=False)
    assert not report.ok and report.package is None
    failing = [c for c in report.checks if c.passed is False]
    assert [c.name for c in failing] == [check], report.checks
    assert text in failing[0].detail
    assert not (home / "images").exists() or not any((home / "images").iterdir())


def test_good_package_verifies_and_fills_image_store(good: Path, pki, workshop_home) -> None:
    report = verify_package(good, pki[3], allow_demo_root=False)
    assert report.ok, report.checks
    assert [c.name for c in report.checks] == ["container", "chain", "signature", "manifest",
                                               "expiry", "payloads"]
    pkg = report.package
    assert pkg is not None
    region = pkg.manifest.ecus[0].regions[0]
    image = pkg.region_image(region)
    assert len(image) == 5000
    assert (workshop_home / "images" / region.image_sha256).read_bytes() == image


def test_verified_package_not_constructible_directly(good: Path) -> None:
    with pytest.raises(TypeError):
        VerifiedPackage(object(), good, None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize("entry,check,text", [
    ("manifest.json", "signature", "signature check failed"),
    ("signature.bin", "signature", "signature check failed"),
    ("payloads/ENGINE/region0.bin", "payloads", "SHA-256"),
])
def test_flipped_byte(tmp_path: Path, good: Path, pki, workshop_home, entry, check,
                      text) -> None:
    items = entries(good)
    out = []
    for name, data in items:
        if name == entry:
            pos = 30 if name == "manifest.json" else len(data) // 2
            data = data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1:]
        out.append((name, data))
    pkg = rewrite(good, tmp_path / "bad.zip", out)
    failed(pkg, pki[3], check, text, workshop_home)


def test_flipped_manifest_value_signature_fails(tmp_path, good, pki, workshop_home) -> None:
    items = [(n, d.replace(b'"1.1.0"', b'"1.1.1"', 1) if n == "manifest.json" else d)
             for n, d in entries(good)]
    failed(rewrite(good, tmp_path / "b.zip", items), pki[3], "signature",
           "signature check failed", workshop_home)


def _signed_by(tmp_path: Path, signer: Signer) -> Path:
    out = tmp_path / "x.zip"
    build_package(write_spec(tmp_path / "s"), out, signer)
    return out


def test_untrusted_root(tmp_path, pki, workshop_home) -> None:
    other = make_root("Rogue Root")
    failed(_signed_by(tmp_path, make_signer(other)), pki[3], "chain",
           "trusted-root check failed", workshop_home)


def test_expired_and_future_cert(tmp_path, pki, workshop_home) -> None:
    old = make_signer(pki[1], pki[1], not_before=NOW - dt.timedelta(days=30), days=10)
    failed(_signed_by(tmp_path, old), pki[3], "chain", "expired", workshop_home)
    new = make_signer(pki[1], pki[1], not_before=NOW + dt.timedelta(days=2))
    failed(_signed_by(tmp_path / "n", new), pki[3], "chain", "not valid before",
           workshop_home)


def test_revoked_cert(tmp_path, pki, workshop_home) -> None:
    root, sup, signer, _ = pki
    store = TrustStore.load(write_store(tmp_path / "t", [root],
                                        [(sup, [signer.chain[0].serial_number])]))
    failed(_signed_by(tmp_path, signer), store, "chain", "revocation check failed",
           workshop_home)


def test_no_code_signing(tmp_path, pki, workshop_home) -> None:
    s = make_signer(pki[1], pki[1], eku=[ExtendedKeyUsageOID.CLIENT_AUTH])
    failed(_signed_by(tmp_path, s), pki[3], "chain", "extended-key-usage", workshop_home)


def test_truncated_zip(tmp_path, good, pki, workshop_home) -> None:
    data = good.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 10):
        bad = tmp_path / f"t{cut}.zip"
        bad.write_bytes(data[:cut])
        failed(bad, pki[3], "container", "container check failed", workshop_home)


def test_path_escape(tmp_path, good, pki, workshop_home) -> None:
    for evil in ("../evil.bin", "/etc/passwd", "a\\..\\b"):
        bad = rewrite(good, tmp_path / "e.zip", [*entries(good), (evil, b"x")])
        failed(bad, pki[3], "container", "escapes", workshop_home)
    with pytest.raises(PathEscapeError):
        open_verified(bad, pki[3], allow_demo_root=False)


def test_duplicate_entries(tmp_path, good, pki, workshop_home) -> None:
    items = entries(good)
    bad = rewrite(good, tmp_path / "d.zip", [*items, items[-1]])
    failed(bad, pki[3], "container", "duplicate entry", workshop_home)
    with pytest.raises(DuplicateEntryError):
        open_verified(bad, pki[3], allow_demo_root=False)


def test_payload_larger_than_declared(tmp_path, good, pki, workshop_home) -> None:
    def shrink(doc: dict) -> None:
        doc["ecus"][0]["regions"][0]["payload"]["size"] = 100
        doc["ecus"][0]["regions"][0]["length"] = 100
    bad = resign(good, tmp_path / "z.zip", pki[2], shrink)
    failed(bad, pki[3], "payloads", "size check failed", workshop_home)
    with pytest.raises(PayloadSizeError):
        open_verified(bad, pki[3], allow_demo_root=False)


def test_unknown_schema(tmp_path, good, pki, workshop_home) -> None:
    bad = resign(good, tmp_path / "s.zip", pki[2], lambda d: d.update(schema=2))
    failed(bad, pki[3], "manifest", "schema 2 is not supported", workshop_home)


def test_unlisted_entry(tmp_path, good, pki, workshop_home) -> None:
    bad = rewrite(good, tmp_path / "u.zip", [*entries(good), ("payloads/extra.bin", b"x")])
    failed(bad, pki[3], "manifest", "not listed", workshop_home)


def test_expired_package(tmp_path, pki, workshop_home) -> None:
    out = tmp_path / "exp.zip"
    build_package(write_spec(tmp_path, expires='expires = "2020-01-01T00:00:00+00:00"'), out,
                  pki[2], now=dt.datetime(2019, 6, 1, tzinfo=dt.UTC))
    failed(out, pki[3], "expiry", "expired", workshop_home)


def test_check_ecus(good, pki) -> None:
    pkg = open_verified(good, pki[3], allow_demo_root=False)
    check_ecus(pkg.manifest, ["ENGINE", "ABS"])
    with pytest.raises(EcuMismatchError, match="ENGINE"):
        check_ecus(pkg.manifest, ["ABS"])


def test_delta_roundtrip_and_missing_base(tmp_path, pki, workshop_home) -> None:
    old, new = tmp_path / "old.zip", tmp_path / "new.zip"
    build_package(write_spec(tmp_path, "1.0.0", 6000), old, pki[2])
    build_package(write_spec(tmp_path, "1.1.0", 6000), new, pki[2], delta_from=old)
    pkg = open_verified(new, pki[3], allow_demo_root=False)
    region = pkg.manifest.ecus[0].regions[0]
    assert region.payload is None and region.delta is not None
    with pytest.raises(DeltaBaseMissingError, match=region.delta.base_sha256):
        pkg.region_image(region)
    open_verified(old, pki[3], allow_demo_root=False)  # fills the image store
    image = pkg.region_image(region)
    import hashlib
    assert hashlib.sha256(image).hexdigest() == region.image_sha256
    assert images.get_image(region.delta.base_sha256)


def test_manifest_json_is_exact_signed_bytes(good) -> None:
    doc = json.loads(dict(entries(good))["manifest.json"])
    assert doc["schema"] == 1
    assert doc["ecus"][0]["regions"][0]["payload"]["size"] == 5000


def test_region_outside_erase_region(tmp_path, good, pki, workshop_home) -> None:
    def move(doc: dict) -> None:
        doc["ecus"][0]["regions"][0]["erase_address"] = 0x2000
    bad = resign(good, tmp_path / "r.zip", pki[2], move)
    failed(bad, pki[3], "manifest", "outside its erase region", workshop_home)
