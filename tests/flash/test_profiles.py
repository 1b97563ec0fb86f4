"""The executor is generic: an ECU type added only through its flash profile (other routine
ids, security level, fingerprint DID, block length, ALFID, checksum) flashes with no code
change, and so does the truck's 29-bit bootloader."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import open_vehicle
from workshop.packages.build import build_package
from workshop.packages.verify import open_verified
from workshop.services import trust_policy
from workshop.services.flash import prepare_flash, run_flash
from workshop.transport.adapters import AdapterConfig
from workshop.trust.demo import demo_signer

DEMO = Path(__file__).resolve().parents[2] / "resources" / "vehicles" / "demo-car.toml"
NEW_TYPE = """
[[ecus]]
name = "RETROFIT"
request_id = 0x7E7
response_id = 0x7EF
seed_key = "demo-xor"

[[ecus.memory]]
start = 0x00400000
length = 0x10000

[ecus.flash]
banks = "single"
security_level = 0x21
preconditions = { id = 0x0F00, args = "none" }
precondition_answer = "failed_bits"
erase = { id = 0x0E00, args = "region_index" }
check_memory = { id = 0x0E01, args = "checksum" }
check_dependencies = { id = 0x0E02, args = "none" }
rollback = false
fingerprint_did = 0xF1B0
anti_rollback_did = false
data_formats = { plain = 0x00, lz4 = 0x30 }
address_and_length_format = 0x24
max_block_length = 0x0102
sector_size = 1024
erase_ms_per_sector = 5
write_bytes_per_s = 50000

[ecus.identification]
F189 = "7.0.0"
F191 = "RETRO-HW-1"
"""


def spec(folder: Path, ecu: str, address: int, hw: str, start: int, old: str, new: str,
         check: str = "crc32", model: str = "demo-car") -> Path:
    text = f"""
[package]
id = "{ecu.lower()}-{new}"
version = "{new}"
vehicle_models = ["{model}"]

[[ecu]]
name = "{ecu}"
address = 0x{address:X}
hardware_part_numbers = ["{hw}"]
from_versions = ["{old}"]
new_version = "{new}"
security_version = 2
check_memory = "{check}"

[[ecu.region]]
address = 0x{start:X}
generate_size = 6000
"""
    path = folder / f"{ecu}.toml"
    path.write_text(text)
    out = folder / f"{ecu}.wspkg"
    build_package(path, out, demo_signer())
    return out


def test_new_ecu_type_through_its_profile_only(tmp_path: Path) -> None:
    vehicle = tmp_path / "demo-car.toml"
    vehicle.write_text(DEMO.read_text() + NEW_TYPE)
    pkg = spec(tmp_path, "RETROFIT", 0x7E7, "RETRO-HW-1", 0x00400000, "7.0.0", "7.1.0",
               check="sha256")
    conn = open_vehicle(vehicle)
    try:
        prep = prepare_flash(conn, pkg, overrides={"baseline": "retrofit is not in the "
                                                               "baseline yet",
                                                   "rollback": "test"})
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        steps = prep.plan.ecu("RETROFIT").steps  # type: ignore[union-attr]
        assert "preconditions" in steps and "check dependencies" in steps
        result = run_flash(conn, prep)
        o = result.ecus[0]
        assert o.outcome == "success", o.detail
        assert o.version_after == "7.1.0"
        package = open_verified(pkg, trust_policy.trust_store(AdapterConfig(), None))
        image = package.region_image(package.manifest.ecus[0].regions[0])
        sim = conn.simulator
        assert sim is not None
        flash = sim.ecus["RETROFIT"].flash
        assert flash.active_image(0x00400000, len(image)) == image
        assert flash.fingerprint[:2] == b"WS"  # written to 0xF1B0 by the profile's DID
        assert flash.write_count >= 1 + len(image) // (0x102 - 2)  # 256-byte blocks
    finally:
        conn.close()


def test_truck_29bit_bootloader(tmp_path: Path) -> None:
    pkg = spec(tmp_path, "ECU12", 0x12, "TR-ECU-HW-100", 0x00040000, "2.2.0", "2.3.0",
               model="truck")
    conn = open_vehicle("truck")
    try:
        prep = prepare_flash(conn, pkg, overrides={"baseline": "no truck baseline",
                                                   "rollback": "test"})
        assert prep.ready, prep.plan.blocking_reasons() if prep.plan else prep.report.error
        result = run_flash(conn, prep)
        assert result.ok, result.to_json()
        sim = conn.simulator
        assert sim is not None
        assert sim.ecus["ECU12"].flash.version() == "2.3.0"
    finally:
        conn.close()
