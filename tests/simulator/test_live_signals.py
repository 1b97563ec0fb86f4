"""The simulator's live signals: named in the definition, refused in words when unknown,
encoded by the DID's description so that decoding gives the signal back."""

from __future__ import annotations

from pathlib import Path

import pytest

from workshop.foundation.errors import ConfigError
from workshop.simulator.live_signals import SIGNALS, encode, live_dids
from workshop.vehicles import load_vehicle
from workshop.vehicles.data_ids import DataDescription
from workshop.vehicles.definition import SIM_SIGNALS
from workshop.vehicles.ecu_descriptions import ecu_descriptions

ECU = 'name = "ENGINE"\nrequest_id = 0x7E0\nresponse_id = 0x7E8\n'


def test_every_signal_a_definition_may_name_exists() -> None:
    assert set(SIM_SIGNALS) == set(SIGNALS)


def test_an_unknown_signal_is_refused_naming_the_key(tmp_path: Path) -> None:
    path = tmp_path / "car.toml"
    path.write_text(f'[[ecus]]\n{ECU}sim_live = {{ F40C = "warp_drive" }}\n')
    with pytest.raises(ConfigError, match=r"ecus\[0\]\.sim_live\.F40C must be one of"):
        load_vehicle(path)


@pytest.mark.parametrize("description", [
    DataDescription(2, "Engine RPM", "rpm", scale=0.25),
    DataDescription(1, "Coolant", "°C", offset=-40),
    DataDescription(2, "Voltage", "V", scale=0.001),
])
def test_encoded_values_decode_back_within_one_step(description: DataDescription) -> None:
    for value in (0.0, 13.9, 90.0, 2980.0):
        raw = encode(description, value)
        low = description.offset
        high = description.offset + description.scale * (256 ** description.size - 1)
        decoded = description.value(raw)
        assert decoded is not None
        assert abs(decoded - min(max(value, low), high)) <= description.scale


def test_values_follow_the_clock_and_repeat_for_the_same_time() -> None:
    v = load_vehicle("demo-car")
    served = live_dids(v.ecu("ENGINE").sim_live, ecu_descriptions(v, "ENGINE"))
    rpm = served[0xF40C]
    assert rpm(3.0) == rpm(3.0)  # deterministic from time
    assert rpm(0.0) != rpm(10.0)  # idle, then the top of a run-up
    decode = ecu_descriptions(v, "ENGINE").did(0xF40C)
    assert decode is not None
    assert 700 < (decode.value(rpm(0.0)) or 0) < 900 < 2500 < (decode.value(rpm(10.0)) or 0)
