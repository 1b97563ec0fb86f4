"""B8: manifest sanity: overlapping regions, address size, memory map, names that would be
paths, dates, and a CA certificate as signer are all refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.packages.helpers import resign, write_spec
from tests.trust.pki_factory import CA, make_ca, make_root, make_signer, write_store
from workshop.foundation.errors import ConfigError
from workshop.packages.build import build_package
from workshop.packages.errors import BuildSpecError, MemoryMapError
from workshop.packages.verify import check_vehicle, open_verified, verify_package
from workshop.trust.certs import CODE_SIGNING, name
from workshop.trust.demo import Signer
from workshop.trust.keys import KeyType, generate_key
from workshop.trust.store import TrustStore
from workshop.vehicles import load_vehicle

Pki = tuple[CA, CA, Signer, TrustStore]


@pytest.fixture(scope="module", params=["p256", "ed25519"])
def pki(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Pki:
    kind: KeyType = request.param
    root = make_root(kind=kind)
    sup = make_ca(root, kind=kind)
    signer = make_signer(sup, sup, kind=kind)
    folder = write_store(tmp_path_factory.mktemp("trust"), [root], [(root, []), (sup, [])])
    return root, sup, signer, TrustStore.load(folder)


@pytest.fixture
def good(tmp_path: Path, pki: Pki) -> Path:
    out = tmp_path / "good.wspkg"
    build_package(write_spec(tmp_path), out, pki[2])
    return out


def rejected_at_manifest(pkg: Path, store: TrustStore, text: str) -> None:
    report = verify_package(pkg, store, allow_demo_root=False, store_images=False)
    failing = [c for c in report.checks if c.passed is False]
    assert not report.ok and [c.name for c in failing] == ["manifest"], report.checks
    assert text in failing[0].detail


def region(doc: dict) -> dict:  # type: ignore[type-arg]
    return doc["ecus"][0]["regions"][0]  # type: ignore[no-any-return]


def test_good_package_passes_and_fits_a_memory_map(good: Path, pki: Pki, tmp_path: Path
                                                   ) -> None:
    pkg = open_verified(good, pki[3], allow_demo_root=False)
    vehicle = vehicle_with_memory(tmp_path, "{ start = 0x0, length = 0x10000 }")
    check_vehicle(pkg.manifest, vehicle)


def test_overlapping_regions(tmp_path: Path, good: Path, pki: Pki) -> None:
    def overlap(doc: dict) -> None:  # type: ignore[type-arg]
        second = dict(region(doc))
        second["address"] = second["erase_address"] = region(doc)["address"] + 4096
        doc["ecus"][0]["regions"].append(second)
    rejected_at_manifest(resign(good, tmp_path / "o.wspkg", pki[2], overlap), pki[3],
                         "regions[0] 0x1000..0x2388 overlaps regions[1]")


def test_overlapping_regions_refused_at_build(tmp_path: Path, pki: Pki) -> None:
    spec = write_spec(tmp_path)
    spec.write_text(spec.read_text() + "\n[[ecu.region]]\naddress = 0x2000\n"
                    "generate_size = 16\n")
    with pytest.raises(BuildSpecError, match="overlaps"):
        build_package(spec, tmp_path / "x.wspkg", pki[2])


@pytest.mark.parametrize("fmt,address", [(None, 0xFFFFF000), (0x22, 0xF000)])
def test_region_beyond_the_address_size(tmp_path: Path, good: Path, pki: Pki, fmt: int | None,
                                        address: int) -> None:
    def move(doc: dict) -> None:  # type: ignore[type-arg]
        region(doc)["address"] = region(doc)["erase_address"] = address
        if fmt is not None:
            doc["ecus"][0]["address_and_length_format"] = fmt
    rejected_at_manifest(resign(good, tmp_path / "a.wspkg", pki[2], move), pki[3],
                         "does not fit")


def vehicle_with_memory(folder: Path, memory: str):  # type: ignore[no-untyped-def]
    path = folder / "mapped.toml"
    path.write_text('[[ecus]]\nname = "ENGINE"\nrequest_id = 0x7E0\nresponse_id = 0x7E8\n'
                    f"memory = [{memory}]\n")
    return load_vehicle(path)


def test_region_beyond_the_ecu_memory_map(good: Path, pki: Pki, tmp_path: Path) -> None:
    pkg = open_verified(good, pki[3], allow_demo_root=False)
    vehicle = vehicle_with_memory(tmp_path, "{ start = 0x0, length = 0x2000 }, "
                                            "{ start = 0x2000, length = 0x1000 }")
    with pytest.raises(MemoryMapError, match=r"ENGINE regions\[0\] region 0x1000..0x2388"):
        check_vehicle(pkg.manifest, vehicle)


def test_memory_map_in_definition_is_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"ecus\[0\].memory\[0\].length is missing"):
        vehicle_with_memory(tmp_path, "{ start = 0 }")
    with pytest.raises(ConfigError, match="overlap"):
        vehicle_with_memory(tmp_path, "{ start = 0, length = 16 }, { start = 8, length = 16 }")


@pytest.mark.parametrize("field,value,text", [
    ("ecu", "../ENGINE", "is not allowed"),
    ("ecu", "a/b", "is not allowed"),
    ("ecu", "ABS", "is not in payloads/ABS/"),
    ("id", "../../pkg", "manifest.id '../../pkg' is not allowed"),
    ("file", "payloads/ENGINE/../../x.bin", "is not in payloads/ENGINE/"),
])
def test_names_that_would_be_paths(tmp_path: Path, good: Path, pki: Pki, field: str,
                                   value: str, text: str) -> None:
    def rename(doc: dict) -> None:  # type: ignore[type-arg]
        if field == "ecu":
            doc["ecus"][0]["name"] = value
            doc["order"] = [value]
        elif field == "id":
            doc["id"] = value
        else:
            region(doc)["payload"]["file"] = value
    rejected_at_manifest(resign(good, tmp_path / "n.wspkg", pki[2], rename), pki[3], text)


def test_created_after_expires(tmp_path: Path, good: Path, pki: Pki) -> None:
    def dates(doc: dict) -> None:  # type: ignore[type-arg]
        doc["created"] = "2031-01-01T00:00:00+00:00"
        doc["expires"] = "2030-01-01T00:00:00+00:00"
    rejected_at_manifest(resign(good, tmp_path / "d.wspkg", pki[2], dates), pki[3],
                         "is after expires")


def test_created_must_be_a_date(tmp_path: Path, good: Path, pki: Pki) -> None:
    bad = resign(good, tmp_path / "c.wspkg", pki[2], lambda d: d.update(created="yesterday"))
    rejected_at_manifest(bad, pki[3], "manifest.created is not an ISO date")


def _ca_signer(parent: CA) -> Signer:
    """An intermediate CA that can also sign data: digitalSignature, code signing EKU."""
    key = generate_key("ed25519" if "ED25519" in str(parent.cert.signature_algorithm_oid)
                       .upper() else "p256")
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    pub = key.public_key()
    cert = (x509.CertificateBuilder().subject_name(name("Rogue Sub CA", "Test"))
            .issuer_name(parent.cert.subject).public_key(pub)
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False,
                                         False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([CODE_SIGNING]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                parent.key.public_key()), critical=False))
    algorithm = None if "ED25519" in str(parent.cert.signature_algorithm_oid).upper() \
        else hashes.SHA256()
    return Signer(key, [cert.sign(parent.key, algorithm), parent.cert])  # type: ignore[arg-type]


def test_ca_certificate_as_signer_refused(tmp_path: Path, pki: Pki) -> None:
    root, sup, _, _ = pki
    store = TrustStore.load(write_store(tmp_path / "t", [root], [(root, []), (sup, [])]))
    out = tmp_path / "ca.wspkg"
    build_package(write_spec(tmp_path), out, _ca_signer(sup))
    report = verify_package(out, store, allow_demo_root=False, store_images=False)
    failing = [c for c in report.checks if c.passed is False]
    assert not report.ok and [c.name for c in failing] == ["chain"], report.checks
    assert "is a CA certificate (basicConstraints CA=true)" in failing[0].detail
