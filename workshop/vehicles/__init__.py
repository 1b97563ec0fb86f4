"""Vehicle definitions: the bus and the ECUs, as data (the simulator adds behaviour data)."""

from workshop.vehicles.definition import (
    DtcDefinition,
    EcuDefinition,
    MemoryRange,
    VehicleDefinition,
    load_vehicle,
)

__all__ = ["DtcDefinition", "EcuDefinition", "MemoryRange", "VehicleDefinition", "load_vehicle"]
