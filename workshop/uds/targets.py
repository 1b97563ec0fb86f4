"""From a vehicle definition (data) to the ISO-TP addresses the transport needs."""

from __future__ import annotations

from workshop.transport.isotp_link import LinkAddress
from workshop.vehicles.definition import EcuDefinition, VehicleDefinition


def link_address(vehicle: VehicleDefinition, ecu: EcuDefinition) -> LinkAddress:
    return LinkAddress(ecu.addressing, ecu.request_id, ecu.response_id, vehicle.functional_id)
