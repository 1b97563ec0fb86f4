"""Which descriptions decode one ECU's data identifiers: the one place that chooses.

Today every ECU of a vehicle shares the definition's `[snapshot_dids]`; a per-ECU source
(an ODX variant named for the ECU) is chosen here, so live data, DTC details and the
report all follow it without knowing where the names and units came from.
"""

from __future__ import annotations

from workshop.vehicles.data_ids import TableDescriptions
from workshop.vehicles.definition import EcuDefinition, VehicleDefinition


def ecu_descriptions(vehicle: VehicleDefinition, ecu: str | EcuDefinition) -> TableDescriptions:
    """Names, sizes, scaling and units of `ecu`'s DIDs; ConfigError for an unknown ECU name."""
    if isinstance(ecu, str):
        vehicle.ecu(ecu)
    return vehicle.descriptions
