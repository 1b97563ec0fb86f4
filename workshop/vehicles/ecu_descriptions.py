"""Which descriptions decode one ECU's data identifiers: the one place that chooses.

Every ECU shares the definition's `[snapshot_dids]`; an ECU that names an ODX description
(`odx = "file.pdx"`) adds the DIDs of its variant, the definition winning where it names
a DID. Live data and the simulator's live signals follow it without knowing where the
names and units came from.
"""

from __future__ import annotations

from workshop.vehicles.data_ids import DataDescription, TableDescriptions
from workshop.vehicles.definition import EcuDefinition, VehicleDefinition


def ecu_descriptions(vehicle: VehicleDefinition, ecu: str | EcuDefinition,
                     variant: str | None = None) -> TableDescriptions:
    """Names, sizes, scaling and units of `ecu`'s DIDs; ConfigError for an unknown ECU name.
    `variant`: the ODX variant the ECU was identified as (None: the one the definition
    names, else the description's base variant)."""
    definition = vehicle.ecu(ecu) if isinstance(ecu, str) else ecu
    tables = vehicle.descriptions
    if definition.odx is None:
        return tables
    described = definition.odx.data_descriptions(variant)
    return TableDescriptions(_over(described.dids, tables.dids),
                             _over(described.extended, tables.extended))


def _over(described: dict[int, DataDescription], table: dict[int, DataDescription]
          ) -> dict[int, DataDescription]:
    # an entry of the definition that gives only a size names nothing: the description's
    # name and scaling are kept for it (as LayeredDescriptions does for DTC details)
    merged = dict(described)
    merged.update({k: d for k, d in table.items() if d.name or k not in described})
    return merged
