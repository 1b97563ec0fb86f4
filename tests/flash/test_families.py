"""Three bootloader families the simulator implements to their own conventions (VAG-like,
PSA-like, 31 03 result polling on CAN FD), each flashed by the tester through its profile in
resources/vehicles/van.toml alone: the exact requests on the bus, the outcome, the ECU's
memory and the audit records."""

from __future__ import annotations

import datetime as dt
import hashlib
import zlib
from pathlib import Path

import pytest

from tests.conftest import open_vehicle
from tests.flash.bus_tap import RequestTap
from workshop.packages.build import build_package
from workshop.packages.verify import open_verified
from workshop.services import trust_policy
from workshop.services.audit_trail import open_audit_log
from workshop.services.connection import VehicleConnection
from workshop.services.flash import prepare_flash, run_flash
from workshop.transport.adapters import AdapterConfig
from workshop.trust.demo import demo_signer

# ECU -> (logical address, hardware, region address)
VAN = {"ECM": (0x01, "VN-ECM-HW-100", 0x00020000), "BSI": (0x40, "VN-BSI-HW-100", 0x00100000),
       "ADAS": (0x60, "VN-ADAS-HW-100", 0x08000000)}
SIZE = 9000


def package(folder: Path, ecu: str, check: str = "crc32", size: int = SIZE) -> Path:
    """A signed package updating the van's `ecu` from 1.0.0 (also benchmarks/families.py)."""
    address, hw, start = VAN[ecu]
    spec = folder / f"{ecu}.toml"
    spec.write_text(f"""
[package]
id = "van-{ecu.lower()}-1.1.0"
version = "1.1.0"
vehicle_models = ["van"]

[[ecu]]
name = "{ecu}"
address = 0x{address:X}
hardware_part_numbers = ["{hw}"]
from_versions = ["1.0.0"]
new_version = "1.1.0"
security_version = 2
check_memory = "{check}"

[[ecu.region]]
address = 0x{start:X}
generate_size = {size}
""")
    out = folder / f"{ecu}.wspkg"
    build_package(spec, out, demo_signer())
    return out


@pytest.fixture
def van() -> VehicleConnection:
    conn = open_vehicle("van")
    yield conn  # type: ignore[misc]
    conn.close()


def flash(conn: VehicleConnection, pkg: Path, ecu: str) -> tuple[list[bytes], bytes, str]:
    """Flash `ecu`; its requests on the bus, the image and the package hash."""
    tap = RequestTap(conn, 0x18DA00F1 | VAN[ecu][0] << 8)
    try:
        prep = prepare_flash(conn, pkg, overrides={"baseline": "test", "rollback": "test"})
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        result = run_flash(conn, prep)
    finally:
        tap.close()
    o = result.ecus[0]
    assert (o.outcome, o.version_after) == ("success", "1.1.0"), o.detail
    p = open_verified(pkg, trust_policy.trust_store(AdapterConfig(), None))
    image = p.region_image(p.manifest.ecus[0].regions[0])
    sim = conn.simulator
    assert sim is not None
    assert sim.ecus[ecu].flash.active_image(VAN[ecu][2], len(image)) == image
    assert sim.ecus[ecu].flash.version() == "1.1.0"
    return tap.sequence(), image, prep.package_sha256


def programming(seq: list[bytes]) -> list[bytes]:
    """From the programming session to the reset."""
    start = seq.index(b"\x10\x02")
    return seq[start:seq.index(b"\x11\x01", start) + 1]


def steps(ecu: str) -> list[tuple[str, bool]]:
    with open_audit_log(simulated=True) as log:
        return [(r.details["step"], bool(r.details.get("ok"))) for r in log.records()
                if r.action == "flash.step" and r.ecu == ecu
                and r.details.get("phase") == "outcome"]


def bcd_today() -> bytes:
    now = dt.datetime.now(dt.UTC)
    return bytes.fromhex(f"{now.year % 100:02d}{now.month:02d}{now.day:02d}")


def technician() -> str:
    with open_audit_log(simulated=True) as log:
        return next(r.technician for r in log.records() if r.action == "flash.step")


def test_vag_logical_blocks_crc32_and_f15a(van: VehicleConnection, tmp_path: Path) -> None:
    seq, image, sha = flash(van, package(tmp_path, "ECM"), "ECM")
    who = hashlib.sha256(technician().encode()).digest()
    code = bytes.fromhex(f"{int.from_bytes(who[4:8], 'big') % 1_000_000:06d}")
    assert programming(seq) == [
        b"\x10\x02", b"\x27\x11", b"\x27\x12",
        b"\x2e\xf1\x5a" + bcd_today() + code + bytes.fromhex(sha)[:3],
        b"\x31\x01\xff\x00\x01\x01",  # erase logical block 1
        b"\x34\x00\x41\x01" + SIZE.to_bytes(4, "big"),  # the block number as the address
        b"\x36\x01", b"\x36\x02", b"\x36\x03", b"\x37",
        b"\x31\x01\x02\x02" + zlib.crc32(image).to_bytes(4, "big"),
        b"\x31\x01\xff\x01",
        b"\x11\x01"]
    assert b"\x10\x03" in seq[:seq.index(b"\x10\x02")]  # programming through extended
    names = [s for s, ok in steps("ECM") if ok]
    assert names[:4] == ["extended session", "programming session", "security access",
                         "fingerprint"]
    assert "erase region 0" in names and "check memory region 0" in names


def test_psa_zones_polled_erase_and_crc16(van: VehicleConnection, tmp_path: Path) -> None:
    seq, image, sha = flash(van, package(tmp_path, "BSI"), "BSI")
    from crc import Calculator, Crc16

    x25 = int(Calculator(Crc16.X25.value).checksum(image)).to_bytes(2, "big")
    who = hashlib.sha256(technician().encode()).digest()[:4]
    erase = b"\x31\x01\xff\x00\x10"  # zone 0x10, started and repeated until status 02
    assert programming(seq) == [
        b"\x10\x02", b"\x27\x03", b"\x27\x04",
        erase,
        b"\x34\x00\x44\x00\x10\x00\x00" + SIZE.to_bytes(4, "big"),
        b"\x36\x01", b"\x36\x02", b"\x36\x03", b"\x36\x04", b"\x36\x05", b"\x37",
        b"\x31\x01\x02\x03\x10" + x25,
        # fingerprint after the download: date, tester, CRC-32 of the package hash
        b"\x2e\xf1\x84" + bcd_today() + who
        + zlib.crc32(bytes.fromhex(sha)).to_bytes(4, "big"),
        b"\x11\x01"]
    names = [s for s, ok in steps("BSI") if ok]
    assert names.index("check memory region 0") < names.index("fingerprint") \
        < names.index("reset")
    assert "check dependencies" not in names


def test_psa_erase_is_repeated_until_done(van: VehicleConnection, tmp_path: Path) -> None:
    tap = RequestTap(van, 0x18DA40F1)
    try:
        prep = prepare_flash(van, package(tmp_path, "BSI"),
                             overrides={"baseline": "test", "rollback": "test"})
        result = run_flash(van, prep)
    finally:
        tap.close()
    assert result.ok, result.to_json()
    erases = [r for r in tap.requests if r == b"\x31\x01\xff\x00\x10"]
    # 64 KiB at 40 ms per 4 KiB: the first start answers 01 (erasing), later ones 02.
    assert len(erases) >= 2


def test_polling_results_levels_delay_on_can_fd(van: VehicleConnection,
                                                tmp_path: Path) -> None:
    sim = van.simulator
    assert sim is not None
    running = sim.ecus["ADAS"].flash.active_image(0x08000000, 0x3000)
    seq, image, _ = flash(van, package(tmp_path, "ADAS", "sha256"), "ADAS")
    tester = technician().encode("ascii", "replace")[:8].ljust(8, b" ")
    erase_span = b"\x44\x08\x00\x00\x00\x00\x00\x30\x00"
    span = b"\x44\x08\x00\x00\x00" + SIZE.to_bytes(4, "big")
    assert programming(seq) == [
        b"\x10\x02", b"\x27\x01", b"\x27\x02",
        # the running image read out (no image of 1.0.0 yet) and checked by the ECU
        b"\x35\x00" + erase_span, b"\x36\x01", b"\x36\x02", b"\x36\x03", b"\x36\x04",
        b"\x37", b"\x31\x01\x02\x02" + erase_span + hashlib.sha256(running).digest(),
        b"\x31\x03\x02\x02",
        b"\x2e\xf1\x98" + tester, b"\x2e\xf1\x99" + bcd_today(),
        b"\x27\x09", b"\x27\x0a",  # another level before the erase
        # erase 0x3000 (the package's erase range: 9000 bytes in 4 KiB sectors)
        b"\x31\x01\xff\x00" + b"\x44\x08\x00\x00\x00\x00\x00\x30\x00",
        b"\x31\x03\xff\x00",  # results polled until status 00
        b"\x27\x01", b"\x27\x02",  # back to the download level
        b"\x34\x00\x44\x08\x00\x00\x00" + SIZE.to_bytes(4, "big"),
        b"\x36\x01", b"\x37",  # one 16 KiB block on CAN FD
        b"\x31\x01\x02\x02" + span + hashlib.sha256(image).digest(),
        b"\x31\x03\x02\x02",
        b"\x31\x01\xff\x01",
        b"\x11\x01"]
    names = [s for s, ok in steps("ADAS")]
    assert names.count("security access") == 3


def test_polling_security_delay_after_power_on_is_waited(van: VehicleConnection,
                                                         tmp_path: Path) -> None:
    """Right after power-on the ECU answers 27 01 with NRC 0x37: the tester waits and asks
    again, and the step's record says it waited."""
    sim = van.simulator
    assert sim is not None
    tap = RequestTap(van, 0x18DA60F1)
    try:
        prep = prepare_flash(van, package(tmp_path, "ADAS", "sha256"),
                             overrides={"baseline": "test", "rollback": "test"})
        sim.ecus["ADAS"].server.booted_at = sim.ecus["ADAS"].server.now()  # power-on now
        result = run_flash(van, prep)
    finally:
        tap.close()
    assert result.ok, result.to_json()
    seeds = [r for r in tap.requests if r == b"\x27\x01"]
    assert len(seeds) >= 3  # refused (0x37) at least once, then twice granted
    with open_audit_log(simulated=True) as log:
        waited = [r for r in log.records() if r.action == "flash.step" and r.ecu == "ADAS"
                  and r.details.get("waited")]
    assert waited and "0x37" in str(waited[0].details["waited"])


def test_single_bank_read_out_becomes_the_rollback_image(van: VehicleConnection,
                                                         tmp_path: Path) -> None:
    """On a fresh install there is no image of ADAS 1.0.0: its profile allows a read-out, so
    the plan's rollback check passes; the tool reads the range out with 0x35, has the ECU's
    own check routine confirm it, records it and keeps it. When the new image then fails to
    start, the read-out is flashed back and the ECU runs 1.0.0 again."""
    from workshop.packages import images

    sim = van.simulator
    assert sim is not None
    before = sim.ecus["ADAS"].flash.active_image(0x08000000, 0x3000)
    pkg = package(tmp_path, "ADAS", "sha256")
    tap = RequestTap(van, 0x18DA60F1)
    try:
        prep = prepare_flash(van, pkg, overrides={"baseline": "test"})  # no rollback override
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        assert prep.plan is not None
        assert prep.plan.ecu("ADAS").rollback == "read out before writing"
        sim.ecus["ADAS"].faults.fail_next_boot()
        o = run_flash(van, prep).ecus[0]
    finally:
        tap.close()
    assert (o.outcome, o.version_after) == ("rolled_back", "1.0.0"), o.detail
    assert sim.ecus["ADAS"].flash.active_image(0x08000000, 0x3000) == before
    sha = hashlib.sha256(before).hexdigest()
    upload = b"\x35\x00\x44\x08\x00\x00\x00\x00\x00\x30\x00"
    seq = tap.sequence()
    assert upload in seq
    check = b"\x31\x01\x02\x02\x44\x08\x00\x00\x00\x00\x00\x30\x00" + bytes.fromhex(sha)
    assert seq.index(upload) < seq.index(check) < seq.index(b"\x31\x01\xff\x00"
                                                             + upload[2:])
    with open_audit_log(simulated=True) as log:
        readouts = [r for r in log.records() if r.action == "flash.readout"]
    assert [(r.ecu, r.details) for r in readouts] == [("ADAS", {
        "version": "1.0.0",
        "regions": [{"address": 0x08000000, "length": 0x3000, "sha256": sha}],
        "verified": "ECU checksum routine 0x0202 sha256"})]
    stored = images.version_images("ADAS", "1.0.0")
    assert stored is not None and [s.sha256 for s in stored] == [sha]


@pytest.mark.parametrize("ecu", ["ECM", "BSI", "ADAS"])
def test_power_loss_mid_download_then_resume(van: VehicleConnection, tmp_path: Path,
                                             ecu: str) -> None:
    """Each family loses its power half-way through the download: the ECU waits in its
    bootloader (ADAS says so with NRC 0x22, as its profile's boot_detect knows), the tool
    says resumable, and `flash resume` finishes it through the same profile."""
    from workshop.services.flash import prepare_resume

    sim = van.simulator
    assert sim is not None
    pkg = package(tmp_path, ecu, "sha256" if ecu == "ADAS" else "crc32")
    prep = prepare_flash(van, pkg, overrides={"baseline": "test", "rollback": "test"})
    assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
    sim.ecus[ecu].faults.lose_power_after_bytes(SIZE // 2, 0.3)
    o = run_flash(van, prep).ecus[0]
    assert o.outcome == "resumable", o.detail
    assert sim.ecus[ecu].flash.in_boot_mode
    preps = prepare_resume(van)
    assert [p.plan.ecus[0].ecu for p in preps if p.plan] == [ecu]
    assert preps[0].ready, preps[0].plan.blocking_reasons() if preps[0].plan else None
    o = run_flash(van, preps[0]).ecus[0]
    assert (o.outcome, o.version_after) == ("success", "1.1.0"), o.detail
    assert sim.ecus[ecu].flash.version() == "1.1.0"


def test_erase_by_logical_block_is_timed_for_the_whole_block(van: VehicleConnection,
                                                             tmp_path: Path) -> None:
    """ECM erases logical block 1 whole (128 KiB, 32 sectors of 15 ms) however short the
    image: the erase's time limit follows the block, not the 9000 bytes of the package
    (with a 4 MiB block and a 32 KiB image the erase outlasted the limit)."""
    prep = prepare_flash(van, package(tmp_path, "ECM"),
                         overrides={"baseline": "test", "rollback": "test"})
    assert prep.plan is not None
    assert prep.plan.ecu("ECM").transfers[0].erase_s == pytest.approx(32 * 15 / 1000)
