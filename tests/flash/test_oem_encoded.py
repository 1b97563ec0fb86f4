"""Payloads the OEM ships already encoded (compressed or encrypted) cross the bus byte for
byte with the dataFormatIdentifier the package declares; the tool never decodes them and
checks the ECU's memory with the plain image's digests the package declares."""

from __future__ import annotations

import hashlib
import zlib
from pathlib import Path

from tests.conftest import open_vehicle
from tests.flash.bus_tap import RequestTap
from workshop.packages.build import build_package
from workshop.packages.compression import compress
from workshop.packages.firmware import generate_image
from workshop.services.flash import prepare_flash, run_flash
from workshop.trust.demo import demo_signer


def encoded_package(folder: Path, ecu: str, address: int, hw: str, start: int, old: str,
                    model: str) -> tuple[Path, bytes, bytes]:
    from workshop.packages.descriptor import embed_descriptor

    image = embed_descriptor(generate_image(f"oem:{ecu}", 12000), "9.9.9", 2)
    encoded = compress(image)  # the OEM's tool did this; the package only carries it
    (folder / "app.oem").write_bytes(encoded)
    spec = folder / "oem.toml"
    spec.write_text(f"""
[package]
id = "oem-{ecu.lower()}"
version = "9.9.9"
vehicle_models = ["{model}"]

[[ecu]]
name = "{ecu}"
address = 0x{address:X}
hardware_part_numbers = ["{hw}"]
from_versions = ["{old}"]
new_version = "9.9.9"
security_version = 2
check_memory = "crc32"

[[ecu.region]]
address = 0x{start:X}
encoded_file = "app.oem"
data_format = 0x10
image_length = {len(image)}
image_sha256 = "{hashlib.sha256(image).hexdigest()}"
image_crc32 = 0x{zlib.crc32(image):08X}
""")
    out = folder / "oem.wspkg"
    build_package(spec, out, demo_signer())
    return out, image, encoded


def test_encoded_payload_is_sent_as_it_is(tmp_path: Path) -> None:
    pkg, image, encoded = encoded_package(tmp_path, "BODY", 0x7E4, "DC-BOD-HW-100",
                                          0x00020000, "1.0.0", "demo-car")
    conn = open_vehicle("demo-car")
    tap = RequestTap(conn, 0x7E4)
    try:
        prep = prepare_flash(conn, pkg, only=["BODY"],
                             overrides={"baseline": "test", "rollback": "test"})
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        o = run_flash(conn, prep).ecus[0]
        assert (o.outcome, o.version_after, o.mode) == ("success", "9.9.9", "oem"), o.detail
        sim = conn.simulator
        assert sim is not None
        assert sim.ecus["BODY"].flash.active_image(0x00020000, len(image)) == image
    finally:
        tap.close()
        conn.close()
    requests = tap.requests
    download = next(r for r in requests if r[:1] == b"\x34")
    assert download == (b"\x34\x10\x44\x00\x02\x00\x00" + len(image).to_bytes(4, "big"))
    sent = b"".join(r[2:] for r in requests if r[:1] == b"\x36")
    assert sent == encoded  # not decoded, not re-encoded
    assert b"\x31\x01\x02\x01\x01" + zlib.crc32(image).to_bytes(4, "big") in requests


def test_encoded_payload_refused_when_the_check_needs_an_undeclared_digest(
        tmp_path: Path) -> None:
    """The van's PSA-like BSI checks with CRC-16/X.25, which an encoded package cannot give:
    the plan says so before anything is sent."""
    pkg, _, _ = encoded_package(tmp_path, "BSI", 0x40, "VN-BSI-HW-100", 0x00100000, "1.0.0",
                                "van")
    conn = open_vehicle("van")
    try:
        prep = prepare_flash(conn, pkg, overrides={"baseline": "test", "rollback": "test"})
        assert not prep.ready
        assert prep.plan is not None
        assert any("crc16_x25" in r for r in prep.plan.blocking_reasons())
    finally:
        conn.close()
