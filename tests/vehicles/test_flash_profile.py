"""Flash profiles are data: defaults, vehicle-wide values, per-ECU overrides, strict checks."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from workshop.foundation.errors import ConfigError
from workshop.vehicles import load_vehicle
from workshop.vehicles.flash_profile import FlashProfile, RoutineSpec, parse_profile

VEHICLE = tomllib.loads("""
[flash]
security_level = 0x11
data_formats = { plain = 0x00, lz4 = 0x10 }
banks = "ab"

[[ecus]]
name = "OTHER"
[ecus.flash]
security_level = 0x05
erase = { id = 0x0301, args = "region_index" }
check_dependencies = false
max_block_length = 0x402
""")


def test_defaults_then_vehicle_then_ecu() -> None:
    vehicle = parse_profile(VEHICLE["flash"])
    ecu = parse_profile(VEHICLE["ecus"][0]["flash"], vehicle, "ecus[0].flash")
    assert vehicle.supports("lz4") and not vehicle.supports("bsdiff4")
    assert vehicle.erase == RoutineSpec(0xFF00, "address_length")
    assert ecu.security_level == 0x05
    assert ecu.erase == RoutineSpec(0x0301, "region_index")
    assert ecu.check_dependencies is None
    assert ecu.max_block_length == 0x402
    assert ecu.banks == "ab" and ecu.data_formats == {"plain": 0x00, "lz4": 0x10}
    assert parse_profile(None) == FlashProfile()


@pytest.mark.parametrize(("raw", "message"), [
    ({"erase_routine": 1}, "not a flash profile key"),
    ({"security_level": 0x100}, "security_level must be an integer"),
    ({"security_level": True}, "security_level must be an integer"),
    ({"erase": {"args": "none"}}, "erase must be"),
    ({"erase": {"id": 1, "args": "zip"}}, "erase.args: .zip. is not an argument field"),
    ({"erase": False}, "erase must be"),
    ({"data_formats": {"lz4": 0x10}}, "include plain"),
    ({"data_formats": {"plain": 0, "zstd": 0x30}}, "unknown transfer mode 'zstd'"),
    ({"banks": "triple"}, "banks must be one of"),
    ({"address_and_length_format": 0x46}, "not a valid addressAndLengthFormatIdentifier"),
    ({"write_bytes_per_s": 0}, "positive number"),
])
def test_bad_values_are_named(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_profile(raw, where="ecus[3].flash")


DEFINITION = """
name = "bench"
vin = "1M8GDM9AXKP042788"

[bus]
bitrate = 500000

[flash]
data_formats = { plain = 0x00, lz4 = 0x10 }

[[ecus]]
name = "ENGINE"
request_id = 0x7E0
response_id = 0x7E8

[[ecus]]
name = "BRAKES"
request_id = 0x7E1
response_id = 0x7E9
[ecus.flash]
security_level = 0x05
banks = "ab"
"""


def test_vehicle_definition_carries_each_ecus_profile(tmp_path: Path) -> None:
    path = tmp_path / "bench.toml"
    path.write_text(DEFINITION)
    vehicle = load_vehicle(path)
    engine, brakes = vehicle.ecu("ENGINE").flash, vehicle.ecu("BRAKES").flash
    assert engine.supports("lz4") and engine.security_level == 0x11 and engine.banks == "single"
    assert brakes.supports("lz4") and brakes.security_level == 0x05 and brakes.banks == "ab"
    demo = load_vehicle("demo-car")
    ab, single = demo.ecu("ENGINE").flash, demo.ecu("BODY").flash
    assert (ab.banks, ab.security_level, ab.check_memory.id) == ("ab", 0x11, 0x0202)
    assert (single.banks, single.security_level, single.check_memory.id) == (
        "single", 0x05, 0x0201)
    assert ab.supports("bsdiff4") and not single.supports("bsdiff4")


def test_bad_profile_in_a_definition_names_file_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bench.toml"
    path.write_text(DEFINITION.replace('banks = "ab"', 'banks = "abc"'))
    with pytest.raises(ConfigError, match=r"bench\.toml: ecus\[1\]\.flash\.banks must be one of"):
        load_vehicle(path)
