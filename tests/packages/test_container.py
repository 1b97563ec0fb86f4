"""B7: the package container is canonical byte for byte; any other byte sequence is refused,
so the file's SHA-256 identifies the package."""

from __future__ import annotations

import hashlib
import io
import struct
import time
import zipfile
from pathlib import Path

import pytest

from tests.packages.helpers import entries
from tests.trust.pki_factory import make_root, make_signer, write_store
from workshop.packages.build import build_manifest, build_package, write_package
from workshop.packages.container import canonical_order, write_container
from workshop.packages.verify import verify_package
from workshop.trust.demo import Signer
from workshop.trust.keys import sign
from workshop.trust.store import TrustStore

SPEC = """
[package]
id = "tiny"
version = "1"
[[ecu]]
name = "ABS"
address = 0x7B0
hardware_part_numbers = []
from_versions = []
new_version = "1"
security_version = 1
[[ecu.region]]
address = 0
generate_size = 300
[[ecu.region]]
address = 0x1000
generate_size = 40
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, TrustStore, Path, Signer]:
    folder = tmp_path_factory.mktemp("flip")
    root = make_root()
    signer = make_signer(root)
    store = TrustStore.load(write_store(folder / "trust", [root]))
    spec = folder / "tiny.toml"
    spec.write_text(SPEC)
    build_package(spec, folder / "tiny.wspkg", signer)
    return (folder / "tiny.wspkg").read_bytes(), store, folder, signer


def refused(data: bytes, store: TrustStore, path: Path) -> bool:
    path.write_bytes(data)
    return not verify_package(path, store, allow_demo_root=False, store_images=False).ok


def test_good_package_verifies(small, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, store, _, _ = small
    assert not refused(data, store, tmp_path / "p.wspkg")


def test_every_flipped_byte_is_refused(small, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    data, store, _, _ = small
    path = tmp_path / "p.wspkg"
    started = time.perf_counter()
    accepted = []
    for pos in range(len(data)):
        for bit in (0x01, 0x80):
            variant = bytearray(data)
            variant[pos] ^= bit
            if not refused(bytes(variant), store, path):
                accepted.append((pos, bit))
    assert accepted == [], f"accepted flips (offset, bit): {accepted[:20]}"
    assert len(data) > 2000  # headers, manifest, signature, chain and two payloads
    print(f"{2 * len(data)} variants of {len(data)} bytes in "
          f"{time.perf_counter() - started:.1f} s")


@pytest.mark.parametrize("change", ["prefix", "suffix", "comment", "extra", "descriptor",
                                    "deflated", "order", "date"])
def test_other_layouts_of_the_same_entries_are_refused(small, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       change: str) -> None:
    data, store, folder, _ = small
    items = entries(folder / "tiny.wspkg")
    if change == "prefix":
        variant = b"\0" + data
    elif change == "suffix":
        variant = data + b"\0"
    elif change == "comment":
        variant = data[:-2] + struct.pack("<H", 2) + b"hi"
    elif change == "order":
        buf = io.BytesIO()
        write_container(buf, list(reversed(items)))
        variant = buf.getvalue()
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name, content in items:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                if change == "extra":
                    info.extra = b"\xfe\xca\x00\x00"
                if change == "date":
                    info.date_time = (2026, 1, 1, 0, 0, 0)
                if change == "deflated":
                    info.compress_type = zipfile.ZIP_DEFLATED
                if change == "descriptor":
                    with z.open(info, "w") as fh:  # streamed: sizes in a data descriptor
                        fh.write(content)
                else:
                    z.writestr(info, content)
        variant = buf.getvalue()
    assert refused(variant, store, tmp_path / "v.wspkg")


def test_same_content_gives_the_same_bytes(small, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, _, folder, signer = small
    manifest, payloads = build_manifest(folder / "tiny.toml")
    data = manifest.to_json()
    signature = sign(signer.key, data)
    a, b = tmp_path / "a", tmp_path / "b"
    write_package(a, data, signature, signer.chain_pem(), payloads)
    write_package(b, data, signature, signer.chain_pem(), list(reversed(payloads)))
    assert hashlib.sha256(a.read_bytes()).digest() == hashlib.sha256(b.read_bytes()).digest()
    with zipfile.ZipFile(a) as z:  # still an ordinary zip for any tool
        assert z.testzip() is None
        assert [i.filename for i in z.infolist()] == canonical_order(z.namelist())
        assert all(i.compress_type == zipfile.ZIP_STORED and not i.extra and not i.comment
                   for i in z.infolist())
