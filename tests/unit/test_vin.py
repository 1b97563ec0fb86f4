"""VIN validation (ISO 3779 characters, 49 CFR 565 check digit) and the shipped vehicles."""

from __future__ import annotations

import pytest

from workshop.diagnostics.vin import check_digit, vin_problem
from workshop.vehicles import load_vehicle
from workshop.vehicles.definition import builtin_vehicles

VALID = [
    "1M8GDM9AXKP042788",  # 49 CFR 565 worked example: check digit X
    "11111111111111111",  # all ones: check digit 1
    "1HGCM82633A004352",  # Honda Accord 2003
    "JH4KA7561PC008269",  # Acura Legend 1993
]


@pytest.mark.parametrize("vin", VALID)
def test_known_valid_vins(vin: str) -> None:
    assert vin_problem(vin) is None
    assert check_digit(vin) == vin[8]


@pytest.mark.parametrize(("vin", "words"), [
    ("WDEMO000000000001", ["O", "not allowed"]),
    ("1M8GDM9AXKP04278", ["17 characters", "16"]),
    ("1M8GDM9AXKP0427888", ["17 characters", "18"]),
    ("1M8GDM9A1KP042788", ["check digit", "X"]),
    ("1M8GDM9AXKP04278Q", ["Q"]),
    ("1M8GDM9AXKP04278I", ["I"]),
    ("1M8GDM9AXKP04-788", ["-"]),
    ("1m8gdm9axkp042788", ["upper-case"]),
    ("", ["17 characters"]),
])
def test_invalid_vins_name_the_reason(vin: str, words: list[str]) -> None:
    problem = vin_problem(vin)
    assert problem is not None
    for word in words:
        assert word in problem


@pytest.mark.parametrize("name", builtin_vehicles())
def test_builtin_vehicles_have_valid_vins(name: str) -> None:
    vehicle = load_vehicle(name)
    assert vin_problem(vehicle.vin) is None, vehicle.vin
    assert all(vin_problem(e.identification[0xF190].decode()) is None
               for e in vehicle.ecus if 0xF190 in e.identification)
