"""From a vehicle definition (data) to the ISO-TP addresses the transport needs."""

from __future__ import annotations

from workshop.transport.isotp_link import LinkAddress
from workshop.vehicles.definition import EcuDefinition, VehicleDefinition


def link_address(vehicle: VehicleDefinition, ecu: EcuDefinition) -> LinkAddress:
    return LinkAddress(ecu.addressing, ecu.request_id, ecu.response_id, vehicle.functional_id)


DOIP_FIRST_ECU_ADDRESS = 0x1001


def doip_address(vehicle: VehicleDefinition, ecu: EcuDefinition) -> int:
    """The ECU's DoIP logical address behind the vehicle's gateway: 0x1001 for the first ECU
    of the definition, then one up per ECU (until definitions carry their own)."""
    names = [e.name for e in vehicle.ecus]
    return DOIP_FIRST_ECU_ADDRESS + names.index(ecu.name)
