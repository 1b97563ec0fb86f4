"""An ECU on the vehicle's Ethernet: served by the DoIP gateway directly, with no CAN hop.

It is the same simulated ECU (UDS server, bootloader, flash memory, faults) as the CAN ECUs;
only its transport differs: an in-memory pipe to the gateway instead of ISO-TP, so one UDS
message is one DoIP diagnostic message of up to 64 KiB. Its flash profile offers
maxNumberOfBlockLength 0xFFFF in the 0x34 answer, as Ethernet ECUs do, so a flash goes at
the link's speed instead of in 4 KiB ISO-TP blocks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from workshop.simulator.ecu import SimulatedEcu
from workshop.simulator.state import VehicleStore
from workshop.transport.router import BusEndpoint
from workshop.vehicles import EcuDefinition
from workshop.vehicles.flash_profile import ETHERNET_BLOCK_LENGTH

__all__ = ["ETHERNET_BLOCK_LENGTH", "DoipNativeEcu", "PipeEnd", "ethernet_definition", "pipe"]


class PipeEnd:
    """One end of an in-memory message pipe, with the link calls both sides use: each
    message is handed to the other end's `deliver_to` callback by the sender's thread."""

    def __init__(self) -> None:
        self.peer: PipeEnd | None = None
        self._deliver: Callable[[bytes], None] | None = None

    def deliver_to(self, deliver: Callable[[bytes], None]) -> None:
        self._deliver = deliver

    def start(self) -> None:
        pass

    def close(self) -> None:
        pass

    def send(self, data: bytes) -> None:
        deliver = self.peer._deliver if self.peer is not None else None
        if deliver is not None:  # else nobody listens yet: lost, as on an unplugged cable
            deliver(bytes(data))


def pipe() -> tuple[PipeEnd, PipeEnd]:
    a, b = PipeEnd(), PipeEnd()
    a.peer, b.peer = b, a
    return a, b


def ethernet_definition(base: EcuDefinition, name: str) -> EcuDefinition:
    """`base` as an Ethernet ECU: its flash profile allows 64 KiB blocks."""
    return dataclasses.replace(base, name=name, ethernet=True, flash=dataclasses.replace(
        base.flash, max_block_length=ETHERNET_BLOCK_LENGTH))


class DoipNativeEcu(SimulatedEcu):
    """Start it and attach `gateway_end` to a DoipGateway (`gateway.attach`)."""

    def __init__(self, definition: EcuDefinition, store: VehicleStore) -> None:
        self.gateway_end, self._ecu_end = pipe()
        super().__init__(definition, None, None, store)

    def _open_link(self, endpoint: BusEndpoint | None, deliver: Callable[[bytes], None]
                   ) -> PipeEnd:
        self._ecu_end.deliver_to(deliver)
        return self._ecu_end
