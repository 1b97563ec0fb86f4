from __future__ import annotations

import contextlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.trust.pki_factory import make_root, make_signer, write_store
from workshop.cli import main
from workshop.foundation.paths import resources_dir
from workshop.packages.build import build_package
from workshop.packages.container import write_container
from workshop.packages.errors import BuildSpecError, PackageError
from workshop.packages.firmware import load_firmware
from workshop.packages.verify import open_verified, verify_package
from workshop.trust.store import TrustStore

DATA = Path(__file__).resolve().parents[1] / "data"
HEX = DATA / "microbit-micropython_v1.0.1_2018-12-13.hex"
SREC = DATA / "microbit-micropython_v1.0.1_2018-12-13.s19"
ECUS = ["ENGINE", "TRANSMISSION", "ABS", "AIRBAG", "BODY", "INSTRUMENT", "GATEWAY"]


def test_hex_and_srec_same_regions() -> None:
    a, b = load_firmware(HEX), load_firmware(SREC)
    assert a == b and len(a) >= 1 and a[0].address == 0


def test_universal_hex_rejected() -> None:
    with pytest.raises(BuildSpecError, match=r"record type 0x0A.*Universal Hex"):
        load_firmware(DATA / "universal.hex")


def test_raw_binary_needs_load_address(tmp_path: Path) -> None:
    raw = tmp_path / "a.bin"
    raw.write_bytes(b"\x01\x02")
    with pytest.raises(BuildSpecError, match="load address"):
        load_firmware(raw)
    assert load_firmware(raw, 0x800)[0].address == 0x800


def test_hex_and_srec_packages_hold_same_image(tmp_path: Path) -> None:
    root = make_root()
    signer = make_signer(root)
    store = TrustStore.load(write_store(tmp_path / "t", [root]))
    hashes = []
    for src in (HEX, SREC):
        spec = tmp_path / f"{src.suffix[1:]}.toml"
        spec.write_text(f'[package]\nid = "mb"\nversion = "1"\n[[ecu]]\nname = "BODY"\n'
                        f'address = 0x740\nhardware_part_numbers = []\nfrom_versions = []\n'
                        f'new_version = "1"\nsecurity_version = 1\n'
                        f'[[ecu.region]]\nfile = "{src}"\n')
        out = tmp_path / f"{src.suffix[1:]}.zip"
        build_package(spec, out, signer)
        pkg = open_verified(out, store, allow_demo_root=False)
        hashes.append([(r.address, r.image_sha256) for r in pkg.manifest.ecus[0].regions])
    assert hashes[0] == hashes[1]


def test_shipped_specs_cover_demo_car_and_verify_via_cli(tmp_path: Path, capsys) -> None:
    specs = sorted((resources_dir() / "packages").glob("*.toml"))
    covered: set[str] = set()
    for spec in specs:
        out = tmp_path / (spec.stem + ".zip")
        assert main(["package", "build", str(spec), "--out", str(out)]) == 0
        assert main(["package", "verify", str(out)]) == 0
        covered |= {line.split()[0] for line in capsys.readouterr().out.splitlines()
                    if line.startswith("  ")}
        assert main(["package", "inspect", str(out)]) == 0
        covered |= {w for w in capsys.readouterr().out.split() if w in ECUS}
    assert covered >= set(ECUS)
    # the demo root is refused when the adapter is not the simulator
    assert main(["--adapter", "socketcan", "package", "verify", str(out)]) == 1


def test_cli_verify_tampered_exit_1_and_json(tmp_path: Path, capsys) -> None:
    spec = resources_dir() / "packages" / "engine-1.1.0.toml"
    out = tmp_path / "e.zip"
    assert main(["package", "build", str(spec), "--out", str(out)]) == 0
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0xFF  # inside the 8 KiB payload
    out.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["package", "verify", str(out), "--json"]) == 1
    assert '"ok": false' in capsys.readouterr().out


def test_cli_demo_init(tmp_path: Path) -> None:
    assert main(["pki", "demo-init", str(tmp_path / "p")]) == 0
    assert (tmp_path / "p" / "trust" / "oem-root.pem").exists()


@pytest.fixture(scope="module")
def fuzz_setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, TrustStore, Path]:
    d = tmp_path_factory.mktemp("fuzz")
    root = make_root()
    signer = make_signer(root)
    store = TrustStore.load(write_store(d / "t", [root]))
    spec = d / "s.toml"
    spec.write_text('[package]\nid = "f"\nversion = "1"\n[[ecu]]\nname = "ABS"\n'
                    'address = 1\nhardware_part_numbers = []\nfrom_versions = []\n'
                    'new_version = "1"\nsecurity_version = 1\n'
                    '[[ecu.region]]\naddress = 0\ngenerate_size = 300\n')
    build_package(spec, d / "g.zip", signer)
    return (d / "g.zip").read_bytes(), store, d


def _check(data: bytes, store: TrustStore, folder: Path) -> None:
    path = folder / "fuzz.zip"
    path.write_bytes(data)
    report = verify_package(path, store, allow_demo_root=False, store_images=False)
    assert report.error is None or isinstance(report.error, PackageError)
    with contextlib.suppress(PackageError):
        open_verified(path, store, allow_demo_root=False)


FUZZ = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "150")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(st.binary(max_size=2000))
def test_fuzz_any_bytes(fuzz_setup, data: bytes) -> None:
    _check(data, fuzz_setup[1], fuzz_setup[2])


@FUZZ
@given(st.data())
def test_fuzz_mutated_package(fuzz_setup, data) -> None:
    good = bytearray(fuzz_setup[0])
    for _ in range(data.draw(st.integers(1, 4))):
        pos = data.draw(st.integers(0, len(good) - 1))
        good[pos] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(good)))
    _check(bytes(good[:cut] if data.draw(st.booleans()) else good), fuzz_setup[1],
           fuzz_setup[2])


def test_zip_bomb_is_refused_before_reading(tmp_path: Path, fuzz_setup) -> None:
    # compression is not part of the canonical container: refused before any data is read
    buf = io.BytesIO()
    with zipfile.ZipFile(fuzz_setup[2] / "g.zip") as z:
        items = [(i.filename, z.read(i)) for i in z.infolist()]
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, d in items:
            z.writestr(name, d + (b"\0" * 50_000_000 if name.endswith(".bin") else b""))
    path = tmp_path / "bomb.zip"
    path.write_bytes(buf.getvalue())
    report = verify_package(path, fuzz_setup[1], allow_demo_root=False)
    assert not report.ok
    assert "container check failed" in report.error.message  # type: ignore[union-attr]
    assert [c.name for c in report.checks if c.passed is False] == ["container"]


def test_cli_build_with_key_cert_ed25519_and_delta(tmp_path: Path, monkeypatch) -> None:
    pki_dir = tmp_path / "pki"
    monkeypatch.setenv("WORKSHOP_KEY_PASSPHRASE", "pw")
    assert main(["pki", "demo-init", str(pki_dir), "--key-type", "ed25519"]) == 0
    spec = resources_dir() / "packages" / "gateway-1.1.0.toml"
    full, delta = tmp_path / "full.zip", tmp_path / "delta.zip"
    sign = ["--key", str(pki_dir / "keys/code-signer.key"),
            "--cert", str(pki_dir / "certs/code-signer-chain.pem")]
    assert main(["package", "build", str(spec), "--out", str(full), *sign]) == 0
    assert main(["package", "build", str(spec), "--out", str(delta), "--delta-from",
                 str(full), *sign]) == 0
    trust = ["--trust", str(pki_dir / "trust")]
    assert main(["package", "verify", str(full), *trust]) == 0
    assert main(["package", "verify", str(delta), *trust]) == 0
    assert main(["package", "build", str(spec), "--out", str(tmp_path / "x.zip"),
                 "--key", str(pki_dir / "keys/code-signer.key")]) == 4
    assert not (tmp_path / "x.zip").exists()


@FUZZ
@given(st.data())
def test_fuzz_mutated_certificate(fuzz_setup, data) -> None:
    import base64
    import re
    with zipfile.ZipFile(io.BytesIO(fuzz_setup[0])) as z:
        items = [(i.filename, z.read(i)) for i in z.infolist()]
    chain = dict(items)["chain.pem"]
    body = re.search(rb"-----BEGIN CERTIFICATE-----\n(.*?)-----END", chain, re.S)
    assert body is not None
    der = bytearray(base64.b64decode(body.group(1)))
    for _ in range(data.draw(st.integers(1, 3))):
        der[data.draw(st.integers(0, len(der) - 1))] = data.draw(st.integers(0, 255))
    pem = b"-----BEGIN CERTIFICATE-----\n" + base64.encodebytes(bytes(der)) + \
        b"-----END CERTIFICATE-----\n"
    buf = io.BytesIO()
    write_container(buf, [(name, pem if name == "chain.pem" else d) for name, d in items])
    _check(buf.getvalue(), fuzz_setup[1], fuzz_setup[2])


def test_cli_inspect_and_verify_corrupt_file(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    assert main(["package", "inspect", str(bad)]) == 1
    assert "container check failed" in capsys.readouterr().err
    assert main(["package", "verify", str(bad)]) == 1
    assert "FAIL  container" in capsys.readouterr().out
