"""From a vehicle definition (data) to the ISO-TP addresses the transport needs."""

from __future__ import annotations

from workshop.transport.isotp_link import LinkAddress
from workshop.vehicles.definition import EcuDefinition, VehicleDefinition


def link_address(vehicle: VehicleDefinition, ecu: EcuDefinition) -> LinkAddress:
    return LinkAddress(ecu.addressing, ecu.request_id, ecu.response_id, vehicle.functional_id)


def doip_address(vehicle: VehicleDefinition, ecu: EcuDefinition) -> int:
    """The ECU's DoIP logical address behind the vehicle's gateway (its definition's
    `doip_address`, or the default rule of workshop.vehicles.doip_addressing)."""
    return vehicle.doip.address(ecu.name)
