"""The truck: 29-bit normal-fixed addressing over the same stack."""

from __future__ import annotations

from workshop.services.connection import VehicleConnection


def test_truck_functional_and_physical(truck: VehicleConnection) -> None:
    expected = {e.response_id for e in truck.vehicle.ecus}
    assert set(truck.discover()) == expected
    first = truck.vehicle.ecus[0]
    with truck.client(first.name) as ecu:
        assert ecu.read_did(0xF188) == first.identification[0xF188]
