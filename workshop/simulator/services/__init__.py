"""ISO 14229-1 services of a simulated ECU, one module per group; `standard_services()` is
the table an application ECU answers with. A bootloader adds its own (0x34/0x36/0x37)."""

from __future__ import annotations

from workshop.simulator.protocol import ServiceSpec
from workshop.simulator.services import comms, data, dtc, routine, security, session


def standard_services() -> dict[int, ServiceSpec]:
    table: dict[int, ServiceSpec] = {}
    for module in (session, dtc, data, security, comms, routine):
        table.update(module.SERVICES)
    return table
