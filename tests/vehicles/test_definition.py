"""Vehicle definitions: the shipped ones load, bad files get clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.foundation.addressing import ADDRESSING_29BIT_FIXED
from workshop.foundation.errors import ConfigError
from workshop.vehicles import load_vehicle


def test_demo_car_has_classic_11bit_ecus_with_vin() -> None:
    v = load_vehicle("demo-car")
    assert 6 <= len(v.ecus) <= 8
    assert v.bitrate == 500_000 and not v.fd
    assert all(e.request_id < 0x800 for e in v.ecus)
    assert len(v.vin) == 17
    assert all(e.identification[0xF190] == v.vin.encode() for e in v.ecus)


def test_truck_has_30_ecus_on_normal_fixed_addressing() -> None:
    v = load_vehicle("truck")
    assert len(v.ecus) == 30
    assert v.addressing == ADDRESSING_29BIT_FIXED
    ecu = v.ecu("ECU10")
    assert ecu.request_id == 0x18DA10F1 and ecu.response_id == 0x18DAF110


def test_a_real_vehicle_needs_only_bus_and_addresses(tmp_path: Path) -> None:
    path = tmp_path / "real.toml"
    path.write_text('[bus]\nbitrate = 250000\n[[ecus]]\nname = "ECM"\n'
                    "request_id = 0x7E0\nresponse_id = 0x7E8\n")
    v = load_vehicle(path)
    assert v.name == "real" and v.bitrate == 250_000 and v.ecu("ecm").identification == {}


def test_unknown_vehicle_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as err:
        load_vehicle("no-such-car")
    assert "demo-car" in str(err.value) and "truck" in str(err.value)


def test_malformed_definition_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[[ecus]]\nname = 'X'\n")  # no addresses
    with pytest.raises(ConfigError) as err:
        load_vehicle(path)
    assert str(path) in str(err.value)


def test_unknown_ecu_lists_known_ecus() -> None:
    with pytest.raises(ConfigError) as err:
        load_vehicle("demo-car").ecu("FOO")
    assert "ENGINE" in str(err.value)
